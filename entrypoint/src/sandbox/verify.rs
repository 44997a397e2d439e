//! Running the probe checks as the sandbox uid and comparing what it saw with what the fence
//! should allow.

use std::fmt;
use std::process::{Command, Stdio};

use serde::Serialize;

use super::probe::{Check, Expect, Observation, Subjects, checks};
use super::{ProbeProgram, SandboxError, SandboxUid, privileges};

/// One check and what the probe saw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    pub target: String,
    pub what: String,
    pub expect: Expect,
    pub reached: bool,
    pub detail: String,
}

impl Checked {
    fn agrees(&self) -> bool {
        self.reached == (self.expect == Expect::Reached)
    }
}

/// A check whose result differs from what the fence should give.
pub type Disagreement = Checked;

/// Every check the probe ran.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verification {
    pub checked: Vec<Checked>,
}

impl Verification {
    /// Whether there were checks and every one came out as expected.
    pub fn holds(&self) -> bool {
        !self.checked.is_empty() && self.checked.iter().all(Checked::agrees)
    }

    pub fn disagreements(&self) -> impl Iterator<Item = &Disagreement> {
        self.checked.iter().filter(|c| !c.agrees())
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.checked.is_empty() {
            return f.write_str("the probe reported nothing");
        }
        let wrong: Vec<String> = self
            .disagreements()
            .map(|c| {
                let saw = if c.reached {
                    "was reached"
                } else {
                    "was refused"
                };
                format!("{} ({}) {saw}: {}", c.what, c.target, c.detail)
            })
            .collect();
        if wrong.is_empty() {
            write!(f, "all {} checks passed", self.checked.len())
        } else {
            f.write_str(&wrong.join("; "))
        }
    }
}

/// Runs `PROGRAM sandbox probe TARGET…` as `uid` and compares its observations with `subjects`'
/// checks. A check the probe did not report counts as a disagreement.
pub(super) fn run(
    probe: &ProbeProgram,
    uid: SandboxUid,
    subjects: &Subjects,
) -> Result<Verification, SandboxError> {
    let checks = checks(subjects);
    let mut command = Command::new(&probe.0);
    command
        .arg("sandbox")
        .arg("probe")
        .args(checks.iter().map(|c| c.target.to_string()))
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    privileges::confine(&mut command, uid);
    let output = command.output().map_err(SandboxError::Verify)?;
    if !output.status.success() {
        tracing::warn!(status = %output.status, stderr = %String::from_utf8_lossy(&output.stderr), "the sandbox probe failed");
    }
    let observations: Vec<Observation> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    Ok(compare(&checks, &observations))
}

fn compare(checks: &[Check], observations: &[Observation]) -> Verification {
    let checked = checks
        .iter()
        .map(|check| {
            let target = check.target.to_string();
            let seen = observations.iter().find(|o| o.target == target);
            Checked {
                what: check.what.clone(),
                expect: check.expect,
                // A missing report must fail both ways: as "reached" for a refusal check and as
                // "refused" for the proxy check.
                reached: seen.map_or(check.expect == Expect::Refused, |o| o.reached),
                detail: seen.map_or_else(
                    || "not reported by the probe".to_owned(),
                    |o| o.detail.clone(),
                ),
                target,
            }
        })
        .collect();
    Verification { checked }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::probe::Target;

    fn check(target: &str, expect: Expect) -> Check {
        Check {
            target: target.parse::<Target>().unwrap(),
            expect,
            what: target.to_owned(),
        }
    }

    fn seen(target: &str, reached: bool) -> Observation {
        Observation {
            target: target.to_owned(),
            reached,
            detail: String::new(),
        }
    }

    #[test]
    fn any_disagreement_or_silence_breaks_the_fence() {
        let checks = [
            check("http:127.0.0.1:4000", Expect::Reached),
            check("tcp:10.0.0.1:443", Expect::Refused),
        ];
        let good = compare(
            &checks,
            &[
                seen("http:127.0.0.1:4000", true),
                seen("tcp:10.0.0.1:443", false),
            ],
        );
        assert!(good.holds(), "{good}");
        let leak = compare(
            &checks,
            &[
                seen("http:127.0.0.1:4000", true),
                seen("tcp:10.0.0.1:443", true),
            ],
        );
        assert!(!leak.holds());
        assert!(leak.to_string().contains("tcp:10.0.0.1:443"), "{leak}");
        let no_proxy = compare(&checks, &[seen("tcp:10.0.0.1:443", false)]);
        assert!(!no_proxy.holds());
        let silent = compare(&checks, &[]);
        assert!(!silent.holds());
        assert_eq!(silent.disagreements().count(), 2);
        assert!(!compare(&[], &[]).holds());
    }
}
