//! What the doctor stories share: reading one check's finding out of a report.

use entrypoint::doctor::{Check, Finding, Report};

/// The report's finding of `check`, whatever its status; the report's lines if it has none.
pub fn finding(report: &Report, check: Check) -> Finding {
    report
        .findings
        .iter()
        .find(|f| f.check == check)
        .cloned()
        .unwrap_or_else(|| panic!("no {check} finding:\n{}", report.lines().join("\n")))
}
