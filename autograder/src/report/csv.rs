//! The CSV grade book of a batch: `id,total,<test>...,note`, one row per submission.

use crate::grade::LabReport;
use crate::units::points;

/// Quote a CSV field when needed (RFC 4180).
pub fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A grade book: a column per test, a row per submission.
#[derive(Debug, Clone, Default)]
pub struct GradeBook {
    /// Test names, in column order.
    pub tests: Vec<String>,
    /// The rows.
    pub rows: Vec<Row>,
}

/// One submission's grades.
#[derive(Debug, Clone)]
pub struct Row {
    /// The submission's id (its directory name).
    pub id: String,
    /// Total points.
    pub total: f64,
    /// Points per test, in the book's column order (`None`: the test did not run).
    pub scores: Vec<Option<f64>>,
    /// Empty, or why the submission was not graded normally (e.g. `build failed`).
    pub note: String,
}

impl GradeBook {
    /// A book with a column for each of `tests`.
    pub fn new(tests: Vec<String>) -> Self {
        GradeBook {
            tests,
            rows: Vec::new(),
        }
    }

    /// Add a submission's report.
    pub fn add(&mut self, id: &str, r: &LabReport, note: &str) {
        let scores = self
            .tests
            .iter()
            .map(|name| r.tests.iter().find(|t| &t.name == name).map(|t| t.score))
            .collect();
        self.rows.push(Row {
            id: id.to_string(),
            total: r.score(),
            scores,
            note: note.to_string(),
        });
    }

    /// The CSV text (rows sorted by id).
    pub fn to_csv(&self) -> String {
        let mut rows: Vec<&Row> = self.rows.iter().collect();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        let mut s = String::from("id,total");
        for t in &self.tests {
            s.push(',');
            s += &field(t);
        }
        s += ",note\n";
        for r in rows {
            s += &field(&r.id);
            s.push(',');
            s += &points(r.total);
            for v in &r.scores {
                s.push(',');
                if let Some(v) = v {
                    s += &points(*v);
                }
            }
            s.push(',');
            s += &field(&r.note);
            s.push('\n');
        }
        s
    }
}
