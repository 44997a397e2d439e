//! The firewall rules as text: pure data in, `iptables-restore` input out, so the exact ruleset
//! is pinned by golden tests and `status` can compare what the kernel holds with what `apply`
//! would write.
//!
//! Everything is spelled the way `iptables-save` prints it (`-d 127.0.0.1/32 -o lo -p tcp -m tcp
//! --dport N`), so the saved chain and the generated one compare line by line.

use std::fmt::Write as _;

use super::SandboxUid;

/// Our own chain in the `filter` table, jumped to from `OUTPUT` for the sandbox uid only.
pub(crate) const CHAIN: &str = crate::env::AI_SANDBOX.name();

/// The address family a ruleset is for; each has its own tool and its own tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

impl Family {
    pub(crate) const BOTH: [Family; 2] = [Family::V4, Family::V6];

    /// The tool that loads a ruleset atomically.
    pub(crate) fn restore_tool(self) -> &'static str {
        match self {
            Self::V4 => "iptables-restore",
            Self::V6 => "ip6tables-restore",
        }
    }

    /// The tool that prints the current ruleset.
    pub(crate) fn save_tool(self) -> &'static str {
        match self {
            Self::V4 => "iptables-save",
            Self::V6 => "ip6tables-save",
        }
    }

    fn reject_other(self) -> &'static str {
        match self {
            Self::V4 => "icmp-port-unreachable",
            Self::V6 => "icmp6-port-unreachable",
        }
    }
}

/// Where the sandbox uid may connect: the key proxy's TCP port on `127.0.0.1`, and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub uid: SandboxUid,
    pub proxy_port: u16,
}

/// Where the jump to [`CHAIN`] is in `OUTPUT` now. It must be the first rule: an `ACCEPT`
/// someone put before it (Docker adds its own) would let the sandbox uid past the fence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hook {
    Absent,
    First,
    Elsewhere,
}

impl Fence {
    /// The chain's rules, in order, as `iptables-save` prints them. IPv6 has no `ACCEPT` at all:
    /// the proxy listens on `127.0.0.1` only.
    pub fn chain_rules(&self, family: Family) -> Vec<String> {
        let mut rules = Vec::new();
        if family == Family::V4 {
            rules.push(format!(
                "-A {CHAIN} -d 127.0.0.1/32 -o lo -p tcp -m tcp --dport {} -j ACCEPT",
                self.proxy_port
            ));
        }
        // A reset answers at once (`ECONNREFUSED`) instead of leaving a connect hanging.
        rules.push(format!(
            "-A {CHAIN} -p tcp -j REJECT --reject-with tcp-reset"
        ));
        rules.push(format!(
            "-A {CHAIN} -j REJECT --reject-with {}",
            family.reject_other()
        ));
        rules
    }

    /// The jump from `OUTPUT`, as `iptables-save` prints it.
    pub fn hook_rule(&self) -> String {
        format!("-A OUTPUT -m owner --uid-owner {} -j {CHAIN}", self.uid)
    }

    fn hook_match(&self) -> String {
        format!("OUTPUT -m owner --uid-owner {} -j {CHAIN}", self.uid)
    }

    /// Input for `iptables-restore --noflush`: declaring the chain empties it, so loading this
    /// twice leaves the same ruleset; the jump is added only when it is not already first.
    pub(crate) fn apply_script(&self, family: Family, hook: Hook) -> String {
        let mut script = format!("*filter\n:{CHAIN} - [0:0]\n");
        for rule in self.chain_rules(family) {
            script.push_str(&rule);
            script.push('\n');
        }
        let hook_match = self.hook_match();
        match hook {
            Hook::First => {}
            Hook::Absent => {
                let _ = writeln!(script, "-I {}", insert_first(&hook_match));
            }
            Hook::Elsewhere => {
                let _ = writeln!(script, "-D {hook_match}");
                let _ = writeln!(script, "-I {}", insert_first(&hook_match));
            }
        }
        script.push_str("COMMIT\n");
        script
    }
}

/// `OUTPUT …` → `OUTPUT 1 …`: insert as the first rule.
fn insert_first(hook_match: &str) -> String {
    hook_match.replacen("OUTPUT", "OUTPUT 1", 1)
}

/// What is there now for one family, read from `iptables-save -t filter`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Installed {
    /// Whether [`CHAIN`] exists.
    pub chain: bool,
    /// The rules of [`CHAIN`], in order.
    pub rules: Vec<String>,
    /// Every `OUTPUT` rule that jumps to [`CHAIN`], in order.
    pub hooks: Vec<String>,
    /// Whether the first `OUTPUT` rule jumps to [`CHAIN`].
    pub hook_first: bool,
}

impl Installed {
    /// Reads the `filter` table as `iptables-save` prints it.
    pub fn parse(saved: &str) -> Self {
        let mut installed = Self::default();
        let mut in_filter = false;
        let mut first_output = true;
        let chain_prefix = format!("-A {CHAIN} ");
        let jump = format!("-j {CHAIN}");
        for line in saved.lines().map(str::trim) {
            if let Some(table) = line.strip_prefix('*') {
                in_filter = table == "filter";
                continue;
            }
            if !in_filter {
                continue;
            }
            if line == "COMMIT" {
                in_filter = false;
            } else if line.starts_with(&format!(":{CHAIN} ")) {
                installed.chain = true;
            } else if line.starts_with(&chain_prefix) {
                installed.rules.push(line.to_owned());
            } else if line.starts_with("-A OUTPUT ") {
                let ours = line.ends_with(&jump);
                if ours {
                    installed.hook_first |= first_output;
                    installed.hooks.push(line.to_owned());
                }
                first_output = false;
            }
        }
        installed
    }

    /// Where `fence`'s jump is.
    pub fn hook(&self, fence: &Fence) -> Hook {
        let wanted = fence.hook_rule();
        if !self.hooks.contains(&wanted) {
            Hook::Absent
        } else if self.hook_first && self.hooks.first() == Some(&wanted) {
            Hook::First
        } else {
            Hook::Elsewhere
        }
    }

    /// Whether this is exactly what applying `fence` leaves.
    pub fn matches(&self, fence: &Fence, family: Family) -> bool {
        self.chain
            && self.rules == fence.chain_rules(family)
            && self.hooks == [fence.hook_rule()]
            && self.hook_first
    }

    /// Input for `iptables-restore --noflush` that removes every jump to [`CHAIN`] and the chain
    /// itself; `None` when there is nothing to remove.
    pub(crate) fn remove_script(&self) -> Option<String> {
        if !self.chain && self.hooks.is_empty() {
            return None;
        }
        let mut script = String::from("*filter\n");
        for hook in &self.hooks {
            if let Some(rule) = hook.strip_prefix("-A ") {
                let _ = writeln!(script, "-D {rule}");
            }
        }
        if self.chain {
            let _ = writeln!(script, "-F {CHAIN}\n-X {CHAIN}");
        }
        script.push_str("COMMIT\n");
        Some(script)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fence() -> Fence {
        Fence {
            uid: SandboxUid::new(64123).unwrap(),
            proxy_port: 41234,
        }
    }

    /// The whole script that creates the chain with `rules` and hooks it into `OUTPUT` for
    /// the sandbox uid.
    fn new_chain(rules: &[&str]) -> String {
        let rules: String = rules.iter().map(|rule| format!("{rule}\n")).collect();
        format!(
            "*filter\n:AI_SANDBOX - [0:0]\n{rules}\
             -I OUTPUT 1 -m owner --uid-owner 64123 -j AI_SANDBOX\nCOMMIT\n"
        )
    }

    #[test]
    fn ipv4_allows_only_the_proxy_port_on_loopback() {
        assert_eq!(
            fence().apply_script(Family::V4, Hook::Absent),
            new_chain(&[
                "-A AI_SANDBOX -d 127.0.0.1/32 -o lo -p tcp -m tcp --dport 41234 -j ACCEPT",
                "-A AI_SANDBOX -p tcp -j REJECT --reject-with tcp-reset",
                "-A AI_SANDBOX -j REJECT --reject-with icmp-port-unreachable",
            ])
        );
    }

    #[test]
    fn ipv6_allows_nothing() {
        assert_eq!(
            fence().apply_script(Family::V6, Hook::Absent),
            new_chain(&[
                "-A AI_SANDBOX -p tcp -j REJECT --reject-with tcp-reset",
                "-A AI_SANDBOX -j REJECT --reject-with icmp6-port-unreachable",
            ])
        );
    }

    #[test]
    fn reapplying_keeps_a_first_hook_and_moves_a_displaced_one_to_the_top() {
        let first = fence().apply_script(Family::V4, Hook::First);
        assert!(!first.contains("OUTPUT"), "{first}");
        let moved = fence().apply_script(Family::V6, Hook::Elsewhere);
        assert!(moved.ends_with(
            "-D OUTPUT -m owner --uid-owner 64123 -j AI_SANDBOX\n\
             -I OUTPUT 1 -m owner --uid-owner 64123 -j AI_SANDBOX\n\
             COMMIT\n"
        ));
    }

    const SAVED: &str = "# Generated by iptables-save v1.8.9 (nf_tables)\n\
        *nat\n:OUTPUT ACCEPT [0:0]\n-A OUTPUT -j AI_SANDBOX_NOT_OURS\nCOMMIT\n\
        *filter\n\
        :INPUT ACCEPT [0:0]\n\
        :FORWARD ACCEPT [0:0]\n\
        :OUTPUT ACCEPT [0:0]\n\
        :AI_SANDBOX - [0:0]\n\
        -A OUTPUT -m owner --uid-owner 64123 -j AI_SANDBOX\n\
        -A OUTPUT -o eth0 -j ACCEPT\n\
        -A AI_SANDBOX -d 127.0.0.1/32 -o lo -p tcp -m tcp --dport 41234 -j ACCEPT\n\
        -A AI_SANDBOX -p tcp -j REJECT --reject-with tcp-reset\n\
        -A AI_SANDBOX -j REJECT --reject-with icmp-port-unreachable\n\
        COMMIT\n";

    #[test]
    fn a_saved_table_matches_what_apply_writes() {
        let installed = Installed::parse(SAVED);
        assert!(installed.matches(&fence(), Family::V4));
        assert_eq!(installed.hook(&fence()), Hook::First);
        assert!(!installed.matches(&fence(), Family::V6));
        let other_port = Fence {
            proxy_port: 1,
            ..fence()
        };
        assert!(!installed.matches(&other_port, Family::V4));
        assert_eq!(
            installed.remove_script().unwrap(),
            "*filter\n\
             -D OUTPUT -m owner --uid-owner 64123 -j AI_SANDBOX\n\
             -F AI_SANDBOX\n\
             -X AI_SANDBOX\n\
             COMMIT\n"
        );
    }

    #[test]
    fn a_hook_behind_another_rule_does_not_match() {
        let saved = SAVED.replace(
            "-A OUTPUT -m owner --uid-owner 64123 -j AI_SANDBOX\n-A OUTPUT -o eth0 -j ACCEPT\n",
            "-A OUTPUT -o eth0 -j ACCEPT\n-A OUTPUT -m owner --uid-owner 64123 -j AI_SANDBOX\n",
        );
        let installed = Installed::parse(&saved);
        assert_eq!(installed.hook(&fence()), Hook::Elsewhere);
        assert!(!installed.matches(&fence(), Family::V4));
    }

    #[test]
    fn nothing_installed_means_nothing_to_remove() {
        let installed = Installed::parse("*filter\n:OUTPUT ACCEPT [0:0]\nCOMMIT\n");
        assert_eq!(installed, Installed::default());
        assert_eq!(installed.hook(&fence()), Hook::Absent);
        assert_eq!(installed.remove_script(), None);
    }
}
