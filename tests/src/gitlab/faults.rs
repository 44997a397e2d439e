//! Scriptable faults per route, so tests can show how the product copes with a GitLab that is slow,
//! failing, rate limiting or hanging up.
//!
//! A [`Faults`] table is shared (cheaply cloned) between the test and the server: the test adds
//! [`FaultRule`]s, the server asks [`Faults::decide`] for every request before routing it.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// The shared table of fault rules.
///
/// Rules are tried in the order they were added; the first rule that matches the request and whose
/// schedule fires decides the fault. Every matching rule that is tried counts the request towards
/// its own schedule, so `Times` and `EveryNth` count the requests they saw, not all requests.
#[derive(Clone, Default)]
pub struct Faults {
    table: Arc<Mutex<Table>>,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    injected: u64,
    rules: Vec<ActiveRule>,
}

struct ActiveRule {
    id: FaultId,
    rule: FaultRule,
    pattern: PathPattern,
    /// Requests this rule matched (method and path) so far.
    seen: u64,
    /// Times this rule fired so far.
    fired: u64,
    /// Present for `Schedule::Fraction`: seeded once so a seed gives the same sequence every run.
    rng: Option<StdRng>,
}

/// Identifies a rule added with [`Faults::add`], to remove it later.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FaultId(pub u64);

impl std::fmt::Display for FaultId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// One scripted fault: which requests it applies to, what happens, and how often.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// HTTP method to match (case-insensitive); `None` matches every method.
    #[serde(default)]
    pub method: Option<String>,
    /// Glob on the raw (still percent-encoded) request path: `*` matches within one segment,
    /// `**` as a whole segment matches any number of segments (including none). So
    /// `/api/v4/projects/*/issues/**` matches `/api/v4/projects/group%2Fproj/issues/3/notes`.
    pub path: String,
    pub action: FaultAction,
    pub schedule: Schedule,
}

impl FaultRule {
    /// `action` on `method` requests to paths matching `path`, as often as `schedule` says: the
    /// rule tests and benchmarks add most (a rule for every method is spelled out with
    /// `method: None`).
    pub fn on(method: &str, path: &str, action: FaultAction, schedule: Schedule) -> FaultRule {
        FaultRule {
            method: Some(method.to_owned()),
            path: path.to_owned(),
            action,
            schedule,
        }
    }
}

/// What a fault does to the request.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultAction {
    /// Wait this long, then let the request through to the router.
    Latency { ms: u64 },
    /// Answer with this status and GitLab's JSON error shape, e.g. `{"message":"500 Internal Server
    /// Error"}` (<https://docs.gitlab.com/api/rest/troubleshooting/#status-codes>). A code outside
    /// 100..=999 is answered as 500.
    Status { code: u16 },
    /// Answer `429` the way GitLab's `Rack::Attack` throttles do: plain-text body `Retry later` and
    /// the `RateLimit-*` and `Retry-After` headers
    /// (<https://docs.gitlab.com/administration/settings/user_and_ip_rate_limits/#response-headers>).
    RateLimited { retry_after_secs: u64 },
    /// Close the TCP connection without sending any response.
    Drop,
}

/// How often a matching rule fires.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// On every matching request.
    Always,
    /// On the first `n` matching requests, then never again.
    Times { n: u64 },
    /// On the `n`-th, `2n`-th, … matching request; `n == 0` never fires.
    EveryNth { n: u64 },
    /// On each matching request with probability `ratio`, drawn from a generator seeded with
    /// `seed` when the rule is added, so the same seed gives the same sequence of decisions.
    Fraction { ratio: f64, seed: u64 },
}

impl Faults {
    /// Adds a rule after the existing ones and returns its id.
    pub fn add(&self, rule: FaultRule) -> FaultId {
        let mut table = self.lock();
        table.next_id += 1;
        let id = FaultId(table.next_id);
        let rng = match rule.schedule {
            Schedule::Fraction { seed, .. } => Some(StdRng::seed_from_u64(seed)),
            Schedule::Always | Schedule::Times { .. } | Schedule::EveryNth { .. } => None,
        };
        let pattern = PathPattern::new(&rule.path);
        table.rules.push(ActiveRule {
            id,
            rule,
            pattern,
            seen: 0,
            fired: 0,
            rng,
        });
        id
    }

    /// Removes a rule; unknown ids are ignored so removing twice is harmless.
    pub fn remove(&self, id: FaultId) {
        self.lock().rules.retain(|active| active.id != id);
    }

    /// Removes every rule (the injected count is kept: it is a history, not configuration).
    pub fn clear(&self) {
        self.lock().rules.clear();
    }

    /// The rules currently installed, in the order they are tried.
    pub fn rules(&self) -> Vec<(FaultId, FaultRule)> {
        self.lock()
            .rules
            .iter()
            .map(|active| (active.id, active.rule.clone()))
            .collect()
    }

    /// How many faults fired so far, over all rules ever installed.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    /// Decides the fault for one request and counts it; `None` lets the request through untouched.
    pub fn decide(&self, method: &http::Method, path: &str) -> Option<FaultAction> {
        let mut table = self.lock();
        let action = table
            .rules
            .iter_mut()
            .find_map(|active| active.try_fire(method, path));
        if action.is_some() {
            table.injected += 1;
        }
        action
    }

    fn lock(&self) -> MutexGuard<'_, Table> {
        // The table holds plain counters; a panic elsewhere cannot leave it half-updated in a way
        // that matters to a test double, so a poisoned lock is still usable.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ActiveRule {
    fn try_fire(&mut self, method: &http::Method, path: &str) -> Option<FaultAction> {
        if let Some(wanted) = &self.rule.method
            && !wanted.eq_ignore_ascii_case(method.as_str())
        {
            return None;
        }
        if !self.pattern.matches(path) {
            return None;
        }
        self.seen += 1;
        let fires = match self.rule.schedule {
            Schedule::Always => true,
            Schedule::Times { n } => self.fired < n,
            Schedule::EveryNth { n } => n != 0 && self.seen.is_multiple_of(n),
            Schedule::Fraction { ratio, .. } => {
                let draw: f64 = self.rng.as_mut().map_or(1.0, |rng| rng.random());
                draw < ratio
            }
        };
        if fires {
            self.fired += 1;
            Some(self.rule.action)
        } else {
            None
        }
    }
}

/// A path glob split into `/`-separated segments.
#[derive(Clone, Debug)]
struct PathPattern {
    segments: Vec<Segment>,
}

#[derive(Clone, Debug)]
enum Segment {
    /// `**`: any number of whole segments.
    Any,
    /// Literal text with `*` wildcards that stay within the segment.
    Glob(String),
}

impl PathPattern {
    fn new(pattern: &str) -> PathPattern {
        let segments = pattern
            .split('/')
            .map(|segment| match segment {
                "**" => Segment::Any,
                other => Segment::Glob(other.to_owned()),
            })
            .collect();
        PathPattern { segments }
    }

    fn matches(&self, path: &str) -> bool {
        let parts: Vec<&str> = path.split('/').collect();
        segments_match(&self.segments, &parts)
    }
}

fn segments_match(pattern: &[Segment], parts: &[&str]) -> bool {
    match pattern.split_first() {
        None => parts.is_empty(),
        Some((Segment::Any, rest)) => {
            (0..=parts.len()).any(|skip| segments_match(rest, &parts[skip..]))
        }
        Some((Segment::Glob(glob), rest)) => match parts.split_first() {
            Some((part, remaining)) => {
                segment_matches(glob.as_bytes(), part.as_bytes()) && segments_match(rest, remaining)
            }
            None => false,
        },
    }
}

/// Wildcard match of one segment where `*` stands for any run of characters.
fn segment_matches(glob: &[u8], text: &[u8]) -> bool {
    match glob.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| segment_matches(rest, &text[skip..])),
        Some((literal, rest)) => text.first() == Some(literal) && segment_matches(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn rule(method: Option<&str>, path: &str, schedule: Schedule) -> FaultRule {
        FaultRule {
            method: method.map(str::to_owned),
            path: path.to_owned(),
            action: FaultAction::Status { code: 500 },
            schedule,
        }
    }

    fn fired(faults: &Faults, method: &Method, path: &str, requests: usize) -> Vec<bool> {
        (0..requests)
            .map(|_| faults.decide(method, path).is_some())
            .collect()
    }

    #[test]
    fn glob_star_stays_within_one_segment() {
        let pattern = PathPattern::new("/api/v4/projects/*/issues");
        assert!(pattern.matches("/api/v4/projects/7/issues"));
        assert!(pattern.matches("/api/v4/projects/group%2Fproj/issues"));
        assert!(!pattern.matches("/api/v4/projects/group/proj/issues"));
        assert!(!pattern.matches("/api/v4/projects/7/issues/1"));
    }

    #[test]
    fn glob_double_star_spans_any_number_of_segments() {
        let pattern = PathPattern::new("/api/v4/projects/*/issues/**");
        assert!(pattern.matches("/api/v4/projects/7/issues"));
        assert!(pattern.matches("/api/v4/projects/7/issues/3"));
        assert!(pattern.matches("/api/v4/projects/7/issues/3/notes/9"));
        assert!(!pattern.matches("/api/v4/projects/7/merge_requests/3"));
        let middle = PathPattern::new("/**/notes");
        assert!(middle.matches("/api/v4/projects/7/issues/3/notes"));
        assert!(!middle.matches("/api/v4/projects/7/issues/3/notes/1"));
    }

    #[test]
    fn glob_star_inside_a_segment() {
        let pattern = PathPattern::new("/*/*.git/**");
        assert!(pattern.matches("/group/proj.git/info/refs"));
        assert!(!pattern.matches("/group/proj/info/refs"));
    }

    #[test]
    fn method_filter_is_case_insensitive_and_exclusive() {
        let faults = Faults::default();
        faults.add(rule(Some("post"), "/api/**", Schedule::Always));
        assert!(faults.decide(&Method::POST, "/api/v4/x").is_some());
        assert!(faults.decide(&Method::GET, "/api/v4/x").is_none());
        assert_eq!(faults.injected(), 1);
    }

    #[test]
    fn times_fires_for_the_first_n_matches_only() {
        let faults = Faults::default();
        faults.add(rule(None, "/a", Schedule::Times { n: 2 }));
        assert_eq!(
            fired(&faults, &Method::GET, "/a", 4),
            [true, true, false, false]
        );
        assert!(faults.decide(&Method::GET, "/b").is_none());
        assert_eq!(faults.injected(), 2);
    }

    #[test]
    fn every_nth_fires_on_multiples_of_n() {
        let faults = Faults::default();
        faults.add(rule(None, "/a", Schedule::EveryNth { n: 3 }));
        let got = fired(&faults, &Method::GET, "/a", 7);
        assert_eq!(got, [false, false, true, false, false, true, false]);
        let never = Faults::default();
        never.add(rule(None, "/a", Schedule::EveryNth { n: 0 }));
        assert!(fired(&never, &Method::GET, "/a", 5).iter().all(|f| !f));
    }

    #[test]
    fn fraction_is_deterministic_per_seed() {
        let sequence = |seed| {
            let faults = Faults::default();
            faults.add(rule(None, "/a", Schedule::Fraction { ratio: 0.5, seed }));
            fired(&faults, &Method::GET, "/a", 200)
        };
        let first = sequence(7);
        assert_eq!(first, sequence(7));
        assert_ne!(first, sequence(8));
        let hits = first.iter().filter(|f| **f).count();
        assert!((60..=140).contains(&hits), "ratio 0.5 fired {hits} of 200");
    }

    #[test]
    fn fraction_bounds_never_and_always() {
        let faults = Faults::default();
        faults.add(rule(
            None,
            "/never",
            Schedule::Fraction {
                ratio: 0.0,
                seed: 1,
            },
        ));
        faults.add(rule(
            None,
            "/always",
            Schedule::Fraction {
                ratio: 1.0,
                seed: 1,
            },
        ));
        assert!(
            fired(&faults, &Method::GET, "/never", 50)
                .iter()
                .all(|f| !f)
        );
        assert!(
            fired(&faults, &Method::GET, "/always", 50)
                .iter()
                .all(|f| *f)
        );
    }

    #[test]
    fn first_firing_rule_wins_and_remove_and_clear_work() {
        let faults = Faults::default();
        let latency = faults.add(FaultRule {
            action: FaultAction::Latency { ms: 5 },
            ..rule(None, "/a", Schedule::Times { n: 1 })
        });
        let status = faults.add(rule(None, "/a", Schedule::Always));
        assert_eq!(
            faults.decide(&Method::GET, "/a"),
            Some(FaultAction::Latency { ms: 5 })
        );
        assert_eq!(
            faults.decide(&Method::GET, "/a"),
            Some(FaultAction::Status { code: 500 })
        );
        faults.remove(latency);
        assert_eq!(
            faults.rules().iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            [status]
        );
        faults.clear();
        assert!(faults.decide(&Method::GET, "/a").is_none());
        assert_eq!(faults.injected(), 2);
    }

    #[test]
    fn rules_round_trip_through_json() {
        let json = r#"{"method":"GET","path":"/api/**","action":{"kind":"rate_limited","retry_after_secs":3},"schedule":{"kind":"fraction","ratio":0.25,"seed":9}}"#;
        let parsed: FaultRule = serde_json::from_str(json).expect("valid rule JSON");
        assert_eq!(
            parsed.action,
            FaultAction::RateLimited {
                retry_after_secs: 3
            }
        );
        assert_eq!(
            parsed.schedule,
            Schedule::Fraction {
                ratio: 0.25,
                seed: 9
            }
        );
        let back = serde_json::to_value(&parsed).expect("serializable");
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(json).expect("valid JSON")
        );
        let drop: FaultAction = serde_json::from_str(r#"{"kind":"drop"}"#).expect("valid action");
        assert_eq!(drop, FaultAction::Drop);
    }
}
