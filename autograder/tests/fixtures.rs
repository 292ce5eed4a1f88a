//! Fixture "kernels" graded end to end: a hang, a panic, an output flood, a cheat that
//! ignores the seed, a good one, and one that leaves processes behind. Each is graded with
//! a clear reason, and nothing of it remains afterwards.

mod common;

use std::time::{Duration, Instant};

use autograder::grade::grade;
use autograder::run::Outcome;
use common::*;

fn one_test_lab(dir: &std::path::Path, timeout: &str) -> autograder::Lab {
    lab(
        dir,
        "one",
        &format!(
            r#"
[lab]
name = "one"
title = "One test"
[[test]]
name = "boot"
points = 10
timeout = "{timeout}"
hint = "read the boot chapter"
init = ["/bin/init"]
[test.expect]
exit = 0
stdout_contains = ["hello"]
"#
        ),
    )
}

#[test]
fn a_kernel_that_hangs_times_out_and_scores_zero() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "987001";
    let k = script(
        dir.path(),
        "hang",
        &format!("#!/bin/sh\necho booting\nsleep {marker}\n"),
    );
    let lab = one_test_lab(dir.path(), "1s");
    let start = Instant::now();
    let r = grade(&k, &lab, &opts(dir.path(), 7));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "the grader did not wait for the sleep"
    );
    let t = &r.tests[0];
    assert_eq!(t.score, 0.0);
    assert_eq!(t.outcome, Outcome::Timeout(Duration::from_secs(1)));
    assert!(
        t.reason().unwrap().starts_with("timeout"),
        "{:?}",
        t.reason()
    );
    assert!(t.failures[0].context.iter().any(|l| l.contains("booting")));
    assert_eq!(t.hint.as_deref(), Some("read the boot chapter"));
    let log = std::fs::read_to_string(t.log.as_ref().unwrap()).unwrap();
    assert!(
        log.contains("timeout after 1s") && log.contains("booting"),
        "{log}"
    );
    assert!(procs_with(marker).is_empty(), "{:?}", procs_with(marker));
}

#[test]
fn a_kernel_that_panics_scores_zero_and_the_reason_names_the_panic() {
    let dir = tempfile::tempdir().unwrap();
    let k = script(
        dir.path(),
        "panic",
        "#!/bin/sh\necho booting\necho hello\n\
         echo 'panic: lab vm: walk() is not written yet' >&2\n\
         echo '   0: vkernel::mm::pagetable::walk' >&2\nexit 70\n",
    );
    let lab = one_test_lab(dir.path(), "5s");
    let r = grade(&k, &lab, &opts(dir.path(), 7));
    let t = &r.tests[0];
    assert_eq!(t.score, 0.0);
    assert_eq!(t.outcome, Outcome::Exited(70));
    let reason = t.reason().unwrap();
    assert!(
        reason.contains("panic: lab vm: walk() is not written yet"),
        "{reason}"
    );
    // Exit status and leak report fail too, after the panic.
    assert!(t
        .failures
        .iter()
        .any(|f| f.summary.contains("exit status 70 (kernel panic)")));
    assert!(t
        .failures
        .iter()
        .any(|f| f.summary.contains("no leak report")));
    // The panic's context shows the backtrace line after it.
    assert!(t.failures[0]
        .context
        .iter()
        .any(|l| l.contains("pagetable::walk")));
}

#[test]
fn a_kernel_that_floods_is_killed_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let k = script(dir.path(), "flood", "#!/bin/sh\nexec yes 987002-flood\n");
    let lab = one_test_lab(dir.path(), "20s");
    let mut o = opts(dir.path(), 7);
    o.run.output_cap = 256 * 1024;
    let start = Instant::now();
    let r = grade(&k, &lab, &o);
    let t = &r.tests[0];
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(t.score, 0.0);
    assert!(
        matches!(t.outcome, Outcome::OutputFlood { cap: 262144, .. }),
        "{:?}",
        t.outcome
    );
    assert!(
        t.reason().unwrap().starts_with("output flood"),
        "{:?}",
        t.reason()
    );
    assert_eq!(t.stdout.len(), 256 * 1024);
    assert!(procs_with("987002-flood").is_empty());
}

#[test]
fn a_cheating_kernel_scores_only_where_the_seed_does_not_matter() {
    let dir = tempfile::tempdir().unwrap();
    // The checksum an earlier run printed (seed 42), hard-coded.
    let k = script(
        dir.path(),
        "cheat",
        "#!/bin/sh\necho 'hello, world'\necho 'all tests passed'\n\
         echo 'checksum 7f620cf6a15169cb'\necho 'vkernel: leaks: frames=0 procs=0 files=0' >&2\n",
    );
    let lab = lab(dir.path(), "fixture", FIXTURE_LAB);
    let r = grade(&k, &lab, &opts(dir.path(), 1234));
    let by = |n: &str| r.tests.iter().find(|t| t.name == n).unwrap();
    assert_eq!(by("greeting").score, 10.0);
    let c = by("checksum");
    assert_eq!(c.score, 0.0);
    let want = autograder::seed::checksum(1234, 4096);
    assert_eq!(
        c.reason().unwrap(),
        format!("stdout lacks `checksum {want}`")
    );
    assert!(c.failures[0]
        .context
        .iter()
        .any(|l| l.contains("7f620cf6a15169cb")));
    assert_eq!(by("share").score, 0.0);
    assert_eq!(
        by("share").reason().unwrap(),
        "no number matching /share ([0-9.]+)/ on stdout"
    );
    assert_eq!(by("stdin").score, 0.0);
    assert_eq!(r.score(), 10.0);
    assert_eq!(r.max_score(), 40.0);
}

#[test]
fn a_good_kernel_scores_full_points_with_any_seed() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(dir.path(), "fixture", FIXTURE_LAB);
    for seed in [1, 42, 987_654_321] {
        let r = grade(&good_kernel(), &lab, &opts(dir.path(), seed));
        for t in &r.tests {
            assert!(
                t.passed(),
                "{} with seed {seed}: {}",
                t.name,
                t.failure_text()
            );
        }
        assert_eq!(r.score(), 40.0);
        // Deterministic order: the lab's.
        let names: Vec<&str> = r.tests.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["greeting", "checksum", "share", "stdin"]);
        assert_eq!(r.tests[3].stdout, format!("line {seed}\n"));
    }
}

#[test]
fn numbers_out_of_range_and_wrong_exit_codes_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let k = script(
        dir.path(),
        "numbers",
        "#!/bin/sh\necho 'share 0.25'\necho 'share 0.45'\necho 'vkernel: leaks: frames=2 procs=0 files=0' >&2\nexit 3\n",
    );
    let lab = lab(
        dir.path(),
        "n",
        r#"
[lab]
name = "n"
[[test]]
name = "fair"
points = 1
[test.expect]
exit = 0
[[test.expect.number]]
regex = "share ([0-9.]+)"
min = 0.2
max = 0.3
"#,
    );
    let r = grade(&k, &lab, &opts(dir.path(), 1));
    let f: Vec<&str> = r.tests[0]
        .failures
        .iter()
        .map(|f| f.summary.as_str())
        .collect();
    assert_eq!(
        f,
        [
            "exit status 3, expected 0",
            "/share ([0-9.]+)/ on stdout line 2: 0.45 is out of range (want between 0.2 and 0.3)",
            "resources leaked: vkernel: leaks: frames=2 procs=0 files=0",
        ]
    );
    assert_eq!(
        r.tests[0].failures[1].context,
        ["    1 | share 0.25", "    2 > share 0.45"]
    );
}

#[test]
fn processes_left_behind_by_a_kernel_that_exited_are_killed() {
    let dir = tempfile::tempdir().unwrap();
    let marker = "987005";
    // One sleeper in the kernel's group, one orphaned (double fork), one in a new session.
    let k = script(
        dir.path(),
        "leaver",
        &format!(
            "#!/bin/sh\nsleep {marker} &\n(sleep {marker} &)\nsetsid sleep {marker} &\n\
             sleep 0.2\necho hello\necho 'vkernel: leaks: frames=0 procs=0 files=0' >&2\n"
        ),
    );
    let lab = one_test_lab(dir.path(), "5s");
    let r = grade(&k, &lab, &opts(dir.path(), 1));
    let t = &r.tests[0];
    assert!(t.passed(), "{}", t.failure_text());
    assert!(
        t.notes.iter().any(|n| n.contains("were still running")),
        "{:?}",
        t.notes
    );
    assert!(procs_with(marker).is_empty(), "{:?}", procs_with(marker));
}

#[test]
fn a_missing_kernel_is_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let lab = one_test_lab(dir.path(), "1s");
    let r = grade(
        &dir.path().join("no-such-kernel"),
        &lab,
        &opts(dir.path(), 1),
    );
    assert_eq!(r.tests[0].score, 0.0);
    assert!(r.tests[0]
        .reason()
        .unwrap()
        .starts_with("could not start the kernel"));
}

#[test]
fn the_test_filter_and_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let lab = lab(dir.path(), "fixture", FIXTURE_LAB);
    let mut o = opts(dir.path(), 5);
    o.tests = vec!["checksum".into()];
    let r = grade(&good_kernel(), &lab, &o);
    assert_eq!(r.tests.len(), 1);
    assert_eq!(r.max_score(), 20.0);
    let cmd = &r.tests[0].command;
    assert_eq!(&cmd[1..], ["-m", "64M", "--", "checksum", "5", "4096"]);
    assert!(lab.select(&["nope".into()]).is_err());
}
