//! usertests passes natively (its vkernel-only tests are skipped), and forkbomb refuses
//! to run anywhere but on the vkernel.

mod common;

use common::{expect, run_in, scratch, stderr, stdout};

#[test]
fn usertests_all_pass_natively() {
    let dir = scratch("usertests");
    let out = run_in(&dir, "usertests", &["-d", dir.to_str().unwrap()], "");
    let text = stdout(&out);
    assert!(!text.contains("FAILED"), "{text}{}", stderr(&out));
    assert!(text.ends_with("usertests: ALL PASSED\n"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() > 30, "only {} lines:\n{text}", lines.len());
    for line in &lines[..lines.len() - 1] {
        let ok = line.starts_with("test ")
            && (line.ends_with(": ok") || line.ends_with(": skipped (not on vkernel)"));
        assert!(ok, "unexpected line {line:?}");
    }
    assert!(text.contains("test vk_procs: skipped (not on vkernel)\n"));
    assert!(text.contains("test efault: ok\n"));
    // It cleaned up after itself.
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
}

#[test]
fn usertests_runs_chosen_tests_and_finds_itself_in_path() {
    let dir = scratch("usertests-some");
    let d = dir.to_str().unwrap();
    // Started by the shell as `usertests` (no '/'): the exec test must find its own file.
    let out = run_in(
        &dir,
        "sh",
        &["-c", &format!("usertests -d {d} exec pipes")],
        "",
    );
    expect(
        &out,
        0,
        "test exec: ok\ntest pipes: ok\nusertests: ALL PASSED\n",
        "",
    );
    let out = run_in(&dir, "usertests", &["-d", d, "no_such_test"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("usertests: no test called no_such_test\n"));
}

#[test]
fn forkbomb_refuses_to_run_natively() {
    let out = run_in(&scratch("forkbomb"), "forkbomb", &[], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out)
            .starts_with("forkbomb: refusing to run: the kernel is \"Linux\", not the vkernel"),
        "{}",
        stderr(&out)
    );
}
