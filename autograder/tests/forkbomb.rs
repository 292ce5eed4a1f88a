//! A fork bomb is stopped and reported, the grader survives, and no process of it remains
//! (its own test binary, so that zombie children of this process can be counted).

mod common;

use std::time::{Duration, Instant};

use autograder::grade::grade;
use common::*;

#[test]
fn a_fork_bomb_is_stopped_and_leaves_nothing_behind() {
    fork_bomb(true);
    // Without cgroups (the fallback: RLIMIT_NPROC when not root, and always the process
    // group, the run tag and the subreaper), nothing may remain either.
    fork_bomb(false);
}

fn fork_bomb(cgroups: bool) {
    let dir = tempfile::tempdir().unwrap();
    let marker = if cgroups { "987004" } else { "987014" };
    // Sleepers forever, ignoring failed forks: in the kernel's group, orphaned by a
    // double fork, and in new sessions.
    let k = compile(
        if cgroups { "forkbomb" } else { "forkbomb-nocg" },
        &r#"
use std::process::{Command, Stdio};
fn main() {
    loop {
        for args in [
            vec!["sleep", "MARKER"],
            vec!["sh", "-c", "sleep MARKER &"],
            vec!["setsid", "sleep", "MARKER"],
        ] {
            let _ = Command::new(args[0]).args(&args[1..]).stderr(Stdio::null()).spawn();
        }
    }
}
"#
        .replace("MARKER", marker),
    );
    let lab = lab(
        dir.path(),
        "bomb",
        r#"
[lab]
name = "bomb"
[[test]]
name = "bomb"
points = 10
timeout = "2s"
[test.expect]
exit = 0
"#,
    );
    let mut o = opts(dir.path(), 1);
    o.run.pids_max = 64;
    o.run.cgroups = cgroups;
    let start = Instant::now();
    let r = grade(&k, &lab, &o);
    let t = &r.tests[0];
    eprintln!("sandbox: {}\nnotes: {:?}", t.sandbox, t.notes);
    assert_eq!(t.score, 0.0);
    assert!(
        t.reason().unwrap().starts_with("timeout"),
        "{:?}",
        t.reason()
    );
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    // Nothing of it remains: no sleeper anywhere, no zombie child of ours.
    assert!(procs_with(marker).is_empty(), "{:?}", procs_with(marker));
    assert!(zombie_children().is_empty(), "{:?}", zombie_children());
    // Where a pids cgroup is in force, the report says the limit was hit.
    if t.sandbox.contains("pids.max") {
        assert!(
            t.notes.iter().any(|n| n.contains("process limit")),
            "{:?}",
            t.notes
        );
    }
    // The grader is unharmed: it still grades.
    let good = lab_after(dir.path());
    let r2 = grade(&good_kernel(), &good, &opts(dir.path(), 3));
    assert_eq!(
        r2.score(),
        40.0,
        "{}",
        r2.tests
            .iter()
            .map(|t| t.failure_text())
            .collect::<String>()
    );
}

fn lab_after(dir: &std::path::Path) -> autograder::Lab {
    lab(dir, "fixture", FIXTURE_LAB)
}
