//! JUnit XML: one `<testsuite>` per lab, one `<testcase>` per test; a failed test has a
//! `<failure message="REASON" type="failed">` with the failure text; the console output
//! goes in `<system-out>`/`<system-err>` (capped).

use crate::grade::LabReport;

const MAX_OUTPUT: usize = 64 * 1024;

/// Escape text for XML content and attributes; characters XML cannot hold are dropped.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {}
            c => out.push(c),
        }
    }
    out
}

fn tail(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut start = s.len() - max;
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// The XML document for one or more labs.
pub fn to_string(reports: &[LabReport]) -> String {
    let tests: usize = reports.iter().map(|r| r.tests.len()).sum();
    let failures: usize = reports.iter().map(|r| r.tests.len() - r.passed()).sum();
    let time: f64 = reports.iter().map(|r| r.duration.as_secs_f64()).sum();
    let mut x = String::new();
    x += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    x += &format!(
        "<testsuites name=\"autograder\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">\n"
    );
    for r in reports {
        x += &format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{}\">\n",
            escape(&r.lab),
            r.tests.len(),
            r.tests.len() - r.passed(),
            secs(r.duration)
        );
        x += "    <properties>\n";
        x += &format!("      <property name=\"seed\" value=\"{}\"/>\n", r.seed);
        x += &format!(
            "      <property name=\"score\" value=\"{}/{}\"/>\n",
            crate::units::points(r.score()),
            crate::units::points(r.max_score())
        );
        x += "    </properties>\n";
        for t in &r.tests {
            x += &format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{}\"",
                escape(&r.lab),
                escape(&t.name),
                secs(t.duration)
            );
            if t.passed() && t.stdout.is_empty() && t.stderr.is_empty() {
                x += "/>\n";
                continue;
            }
            x += ">\n";
            if let Some(reason) = t.reason() {
                x += &format!(
                    "      <failure message=\"{}\" type=\"failed\">{}</failure>\n",
                    escape(reason),
                    escape(&t.failure_text())
                );
            }
            if !t.stdout.is_empty() {
                x += &format!(
                    "      <system-out>{}</system-out>\n",
                    escape(tail(&t.stdout, MAX_OUTPUT))
                );
            }
            if !t.stderr.is_empty() {
                x += &format!(
                    "      <system-err>{}</system-err>\n",
                    escape(tail(&t.stderr, MAX_OUTPUT))
                );
            }
            x += "    </testcase>\n";
        }
        x += "  </testsuite>\n";
    }
    x += "</testsuites>\n";
    x
}
