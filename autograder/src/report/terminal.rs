//! The terminal report: a scoreboard, then each failure with expected/got/log/hint, then
//! the total. The text holds ANSI styles; print it through `anstream`, which drops them
//! when the output is not a terminal (or `NO_COLOR` is set).

use anstyle::{AnsiColor, Style};

use crate::grade::LabReport;
use crate::run::TestResult;
use crate::units::{human_duration, points};

const PASS: Style = AnsiColor::Green.on_default().bold();
const FAIL: Style = AnsiColor::Red.on_default().bold();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();
const HINT: Style = AnsiColor::Cyan.on_default();

fn paint(style: Style, text: &str) -> String {
    format!("{style}{text}{style:#}")
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        s.chars().take(n - 1).chain("…".chars()).collect()
    } else {
        s.to_string()
    }
}

/// One line for a finished test (used while tests run).
pub fn test_line(t: &TestResult) -> String {
    let (mark, style) = if t.passed() {
        ("PASS", PASS)
    } else {
        ("FAIL", FAIL)
    };
    let mut s = format!(
        "{} {} {}",
        paint(style, mark),
        t.name,
        paint(DIM, &format!("({})", human_duration(t.duration)))
    );
    if let Some(r) = t.reason() {
        s += &format!(": {}", clip(r, 100));
    }
    s
}

/// The whole report.
pub fn render(r: &LabReport) -> String {
    let mut s = String::new();
    s += &format!(
        "{} {}  {}\n\n",
        paint(BOLD, &format!("lab {}:", r.lab)),
        r.title,
        paint(
            DIM,
            &format!("seed {}, kernel {}", r.seed, r.kernel.display())
        )
    );
    if let Some(e) = &r.error {
        s += &format!("{} {e}\n\n", paint(FAIL, "error:"));
    }
    let width = r
        .tests
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    s += &paint(
        DIM,
        &format!(
            "  {:<width$}  {:>9}  {:<6} {:>8}  {}\n",
            "test", "points", "result", "time", "reason"
        ),
    );
    for t in &r.tests {
        let (mark, style) = if t.passed() {
            ("PASS", PASS)
        } else {
            ("FAIL", FAIL)
        };
        let pts = format!("{}/{}", points(t.score), points(t.points));
        let hidden = if t.hidden { " (hidden)" } else { "" };
        let row = format!(
            "  {:<width$}  {:>9}  {} {:>8}  {}{}",
            t.name,
            pts,
            paint(style, &format!("{mark:<6}")),
            human_duration(t.duration),
            clip(t.reason().unwrap_or(""), 70),
            hidden
        );
        s += row.trim_end();
        s.push('\n');
    }
    let total = format!("{}/{}", points(r.score()), points(r.max_score()));
    s += &format!(
        "  {}  {}  {} of {} tests passed\n",
        paint(BOLD, &format!("{:<width$}", "total")),
        paint(BOLD, &format!("{total:>9}")),
        r.passed(),
        r.tests.len()
    );

    for t in r.tests.iter().filter(|t| !t.passed()) {
        s += &format!(
            "\n{} {} ({} of {} points)\n",
            paint(FAIL, "FAILED"),
            paint(BOLD, &t.name),
            points(t.score),
            points(t.points)
        );
        for f in &t.failures {
            s += &format!("  {}\n", paint(BOLD, &f.summary));
            s += &format!("    {} {}\n", paint(DIM, "expected:"), f.expected);
            s += &format!("    {} {}\n", paint(DIM, "got:     "), f.got);
            for c in &f.context {
                s += &format!("    {}\n", paint(DIM, c));
            }
        }
        if let Some(log) = &t.log {
            s += &format!("  {} {}\n", paint(DIM, "log: "), log.display());
        }
        if let Some(h) = &t.hint {
            s += &format!("  {} {}\n", paint(HINT, "hint:"), h);
        }
        for n in &t.notes {
            s += &format!("  {} {n}\n", paint(DIM, "note:"));
        }
    }
    let style = if r.all_passed() { PASS } else { FAIL };
    s += &format!(
        "\n{} {}   {}\n",
        paint(BOLD, "score:"),
        paint(style, &total),
        paint(
            DIM,
            &format!(
                "(seed {}; `--seed {}` repeats these runs; logs in {})",
                r.seed,
                r.seed,
                r.log_dir.display()
            )
        )
    );
    s
}
