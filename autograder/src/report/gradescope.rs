//! Gradescope's `results.json`.
//!
//! Fields: `score`, `max_score`, `execution_time` (whole seconds), `output` (a summary),
//! and `tests[]` with `name`, `score`, `max_score`, `status` (`passed`/`failed`),
//! `output` (why it failed: expected, got, context, hint) and `visibility` (`visible`, or
//! `after_published` for hidden tests).

use serde::Serialize;

use crate::grade::LabReport;
use crate::units::points;

#[derive(Debug, Serialize, PartialEq)]
struct Results {
    score: f64,
    max_score: f64,
    execution_time: u64,
    output: String,
    tests: Vec<Test>,
}

#[derive(Debug, Serialize, PartialEq)]
struct Test {
    name: String,
    score: f64,
    max_score: f64,
    status: &'static str,
    output: String,
    visibility: &'static str,
}

fn build(r: &LabReport) -> Results {
    let mut output = format!(
        "Lab {} ({}): {} of {} tests passed, {} of {} points. Seed {}.\n",
        r.lab,
        r.title,
        r.passed(),
        r.tests.len(),
        points(r.score()),
        points(r.max_score()),
        r.seed
    );
    if let Some(e) = &r.error {
        output += &format!("\n{e}\n");
    }
    Results {
        score: r.score(),
        max_score: r.max_score(),
        execution_time: r.duration.as_secs_f64().round() as u64,
        output,
        tests: r
            .tests
            .iter()
            .map(|t| Test {
                name: t.name.clone(),
                score: t.score,
                max_score: t.points,
                status: if t.passed() { "passed" } else { "failed" },
                output: if t.passed() {
                    format!("Passed ({}).\n", t.outcome.describe())
                } else {
                    t.failure_text()
                },
                visibility: if t.hidden {
                    "after_published"
                } else {
                    "visible"
                },
            })
            .collect(),
    }
}

/// `results.json` as a JSON value.
pub fn to_value(r: &LabReport) -> serde_json::Value {
    serde_json::to_value(build(r)).expect("results serialize")
}

/// `results.json` as pretty JSON text (fields in the order of Gradescope's docs).
pub fn to_string(r: &LabReport) -> String {
    serde_json::to_string_pretty(&build(r)).expect("results serialize") + "\n"
}
