//! The autograder's own JSON report (schema in the README).

use serde::Serialize;

use crate::check::Failure;
use crate::grade::LabReport;
use crate::run::Outcome;

#[derive(Serialize)]
struct Report<'a> {
    lab: &'a str,
    title: &'a str,
    seed: u64,
    kernel: String,
    score: f64,
    max_score: f64,
    passed: usize,
    failed: usize,
    duration_secs: f64,
    log_dir: String,
    error: Option<&'a str>,
    tests: Vec<Test<'a>>,
}

#[derive(Serialize)]
struct Test<'a> {
    name: &'a str,
    points: f64,
    score: f64,
    passed: bool,
    hidden: bool,
    reason: Option<&'a str>,
    outcome: &'a Outcome,
    duration_secs: f64,
    command: &'a [String],
    failures: &'a [Failure],
    log: Option<String>,
    hint: Option<&'a str>,
    notes: &'a [String],
}

fn secs(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

fn build(r: &LabReport) -> Report<'_> {
    Report {
        lab: &r.lab,
        title: &r.title,
        seed: r.seed,
        kernel: r.kernel.display().to_string(),
        score: r.score(),
        max_score: r.max_score(),
        passed: r.passed(),
        failed: r.tests.len() - r.passed(),
        duration_secs: secs(r.duration),
        log_dir: r.log_dir.display().to_string(),
        error: r.error.as_deref(),
        tests: r
            .tests
            .iter()
            .map(|t| Test {
                name: &t.name,
                points: t.points,
                score: t.score,
                passed: t.passed(),
                hidden: t.hidden,
                reason: t.reason(),
                outcome: &t.outcome,
                duration_secs: secs(t.duration),
                command: &t.command,
                failures: &t.failures,
                log: t.log.as_ref().map(|p| p.display().to_string()),
                hint: t.hint.as_deref(),
                notes: &t.notes,
            })
            .collect(),
    }
}

/// The report as a JSON value.
pub fn to_value(r: &LabReport) -> serde_json::Value {
    serde_json::to_value(build(r)).expect("a report serializes")
}

/// The report as pretty JSON text (fields in schema order).
pub fn to_string(r: &LabReport) -> String {
    serde_json::to_string_pretty(&build(r)).expect("a report serializes") + "\n"
}
