//! `labs boot` boots the kernel: one command with its status, or a shell reading stdin.

use assert_cmd::Command;
use predicates::prelude::*;

#[test]
fn boot_runs_one_command_and_returns_its_status() {
    Command::cargo_bin("labs")
        .unwrap()
        .args(["boot", "--", "/bin/sh", "-c", "echo hi | cat; exit 4"])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(4)
        .stdout("hi\n")
        .stderr(predicate::str::contains("leaks: frames=0 procs=0 files=0"));
}

#[test]
fn boot_without_a_command_is_a_shell_on_stdin() {
    Command::cargo_bin("labs")
        .unwrap()
        .arg("boot")
        .write_stdin("echo from the shell\nls /etc\nexit 0\n")
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .success()
        .stdout(predicate::str::contains("from the shell\nmotd\n"));
}

#[test]
fn list_shows_the_labs_with_their_points() {
    Command::cargo_bin("labs")
        .unwrap()
        .arg("list")
        .assert()
        .success()
        .stdout(predicate::str::is_match(r"(?m)^vm\s+100 points\s+10 tests").unwrap());
}

#[test]
fn an_unknown_lab_is_refused_with_the_known_ones() {
    Command::cargo_bin("labs")
        .unwrap()
        .args(["--lab", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no lab `nope`").and(predicate::str::contains("vm")));
}

#[test]
fn a_handout_has_everything_but_the_reference_solution() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("copy");
    Command::cargo_bin("labs")
        .unwrap()
        .args(["handout", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("no reference solution"));
    assert!(out.join("kernel-skeleton/src/mm/pagetable.rs").is_file());
    assert!(out.join("labs/vm/lab.toml").is_file());
    assert!(out.join("Cargo.toml").is_file());
    assert!(!out.join("reference-solution").exists());
    assert!(!out.join("target").exists());
    // A second handout into the same, now full, directory is refused.
    Command::cargo_bin("labs")
        .unwrap()
        .args(["handout", "--out"])
        .arg(&out)
        .assert()
        .code(2);
}

#[test]
fn boot_reference_builds_and_boots_the_finished_kernel() {
    Command::cargo_bin("labs")
        .unwrap()
        .args([
            "boot",
            "--reference",
            "--",
            "/bin/sh",
            "-c",
            "echo ref; exit 6",
        ])
        .timeout(std::time::Duration::from_secs(600))
        .assert()
        .code(6)
        .stdout("ref\n");
}
