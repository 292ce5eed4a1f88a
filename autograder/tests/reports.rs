//! Report formats against literal expectations.

use std::path::PathBuf;
use std::time::Duration;

use autograder::check::Failure;
use autograder::grade::LabReport;
use autograder::report::{csv, gradescope, json, junit, terminal};
use autograder::run::{Outcome, TestResult};

fn result(name: &str, points: f64, hidden: bool) -> TestResult {
    TestResult {
        name: name.into(),
        points,
        score: points,
        hidden,
        seed: 42,
        command: vec![
            "/k/vkernel".into(),
            "-m".into(),
            "64M".into(),
            "--".into(),
            "/bin/hello".into(),
        ],
        outcome: Outcome::Exited(0),
        duration: Duration::from_millis(250),
        stdout: "hello\n".into(),
        stderr: "vkernel: leaks: frames=0 procs=0 files=0\n".into(),
        failures: vec![],
        log: Some(PathBuf::from(format!("/logs/{name}.log"))),
        hint: None,
        notes: vec![],
        sandbox: "test".into(),
    }
}

fn sample() -> LabReport {
    let mut cow = result("cow", 20.0, true);
    cow.score = 0.0;
    cow.outcome = Outcome::Timeout(Duration::from_secs(2));
    cow.duration = Duration::from_secs(2);
    cow.stdout = "booting <ok> & \"on\"\n".into();
    cow.stderr = String::new();
    cow.hint = Some("labs/vm.md#cow".into());
    cow.failures = vec![Failure {
        summary: "timeout: still running after 2s".into(),
        expected: "the vkernel to finish within 2s".into(),
        got: "it was still running and was killed; the end of its stdout:".into(),
        context: vec!["    1 | booting <ok> & \"on\"".into()],
    }];
    LabReport {
        lab: "vm".into(),
        title: "Address spaces".into(),
        seed: 42,
        kernel: PathBuf::from("/k/vkernel"),
        log_dir: PathBuf::from("/logs"),
        tests: vec![result("hello_runs", 10.0, false), cow],
        duration: Duration::from_millis(2600),
        error: None,
    }
}

#[test]
fn gradescope_results_json() {
    let expected = r#"{
  "score": 10.0,
  "max_score": 30.0,
  "execution_time": 3,
  "output": "Lab vm (Address spaces): 1 of 2 tests passed, 10 of 30 points. Seed 42.\n",
  "tests": [
    {
      "name": "hello_runs",
      "score": 10.0,
      "max_score": 10.0,
      "status": "passed",
      "output": "Passed (exit status 0).\n",
      "visibility": "visible"
    },
    {
      "name": "cow",
      "score": 0.0,
      "max_score": 20.0,
      "status": "failed",
      "output": "timeout: still running after 2s\n  expected: the vkernel to finish within 2s\n  got:      it was still running and was killed; the end of its stdout:\n      1 | booting <ok> & \"on\"\n  log:  /logs/cow.log\n  hint: labs/vm.md#cow\n",
      "visibility": "after_published"
    }
  ]
}
"#;
    assert_eq!(gradescope::to_string(&sample()), expected);
}

#[test]
fn junit_xml() {
    let expected = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="autograder" tests="2" failures="1" errors="0" time="2.600">
  <testsuite name="vm" tests="2" failures="1" errors="0" skipped="0" time="2.600">
    <properties>
      <property name="seed" value="42"/>
      <property name="score" value="10/30"/>
    </properties>
    <testcase classname="vm" name="hello_runs" time="0.250">
      <system-out>hello
</system-out>
      <system-err>vkernel: leaks: frames=0 procs=0 files=0
</system-err>
    </testcase>
    <testcase classname="vm" name="cow" time="2.000">
      <failure message="timeout: still running after 2s" type="failed">timeout: still running after 2s
  expected: the vkernel to finish within 2s
  got:      it was still running and was killed; the end of its stdout:
      1 | booting &lt;ok&gt; &amp; &quot;on&quot;
  log:  /logs/cow.log
  hint: labs/vm.md#cow
</failure>
      <system-out>booting &lt;ok&gt; &amp; &quot;on&quot;
</system-out>
    </testcase>
  </testsuite>
</testsuites>
"#;
    assert_eq!(junit::to_string(&[sample()]), expected);
    assert_eq!(junit::escape("a\u{1}b<'"), "ab&lt;&apos;");
}

#[test]
fn own_json_schema() {
    let v = json::to_value(&sample());
    assert_eq!(v["lab"], "vm");
    assert_eq!(v["seed"], 42);
    assert_eq!(v["score"], 10.0);
    assert_eq!(v["max_score"], 30.0);
    assert_eq!(v["passed"], 1);
    assert_eq!(v["failed"], 1);
    assert_eq!(
        v["tests"][0]["outcome"],
        serde_json::json!({"kind": "exited", "code": 0})
    );
    assert_eq!(
        v["tests"][1]["outcome"],
        serde_json::json!({"kind": "timeout", "after_secs": 2.0})
    );
    assert_eq!(v["tests"][1]["reason"], "timeout: still running after 2s");
    assert_eq!(v["tests"][1]["hidden"], true);
    assert_eq!(
        v["tests"][1]["failures"][0]["expected"],
        "the vkernel to finish within 2s"
    );
    assert_eq!(v["tests"][1]["log"], "/logs/cow.log");
    let flood = serde_json::to_value(Outcome::OutputFlood {
        stream: autograder::lab::Stream::Stdout,
        cap: 1024,
    })
    .unwrap();
    assert_eq!(
        flood,
        serde_json::json!({"kind": "output_flood", "stream": "stdout", "cap": 1024})
    );
    let sig = serde_json::to_value(Outcome::Signaled(9)).unwrap();
    assert_eq!(
        sig,
        serde_json::json!({"kind": "signaled", "signal": 9, "name": "SIGKILL"})
    );
}

#[test]
fn csv_grade_book() {
    let mut book = csv::GradeBook::new(vec!["hello_runs".into(), "cow".into()]);
    book.add("bob", &sample(), "");
    let mut failed = sample();
    for t in &mut failed.tests {
        t.score = 0.0;
    }
    book.add("alice, a.", &failed, "build failed");
    assert_eq!(
        book.to_csv(),
        "id,total,hello_runs,cow,note\n\"alice, a.\",0,0,0,build failed\nbob,10,10,0,\n"
    );
}

#[test]
fn terminal_report_has_scoreboard_failures_and_total() {
    let text = terminal::render(&sample());
    let plain = strip(&text);
    assert!(plain.contains("lab vm: Address spaces"), "{plain}");
    assert!(plain.contains("hello_runs      10/10  PASS"), "{plain}");
    assert!(plain.contains("cow              0/20  FAIL"), "{plain}");
    assert!(
        plain.contains("total           10/30  1 of 2 tests passed"),
        "{plain}"
    );
    assert!(plain.contains("FAILED cow (0 of 20 points)"), "{plain}");
    assert!(
        plain.contains("expected: the vkernel to finish within 2s"),
        "{plain}"
    );
    assert!(plain.contains("log:  /logs/cow.log"), "{plain}");
    assert!(plain.contains("hint: labs/vm.md#cow"), "{plain}");
    assert!(plain.contains("score: 10/30"), "{plain}");
    assert!(text.contains("\u{1b}["), "the report is coloured");
}

fn strip(s: &str) -> String {
    let re = regex::Regex::new("\u{1b}\\[[0-9;]*m").unwrap();
    re.replace_all(s, "").into_owned()
}
