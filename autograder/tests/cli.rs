//! The `autograder` command on fixture kernels.

mod common;

use std::process::Command;

use common::*;

fn autograder() -> Command {
    Command::new(env!("CARGO_BIN_EXE_autograder"))
}

#[test]
fn json_gradescope_and_junit_outputs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lab.toml"), FIXTURE_LAB).unwrap();
    let out = autograder()
        .arg("--lab")
        .arg(dir.path().join("lab.toml"))
        .arg("--kernel")
        .arg(good_kernel())
        .args(["--seed", "42", "--json", "--jobs", "2"])
        .arg("--gradescope")
        .arg(dir.path().join("results.json"))
        .arg("--junit")
        .arg(dir.path().join("junit.xml"))
        .arg("--log-dir")
        .arg(dir.path().join("logs"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("seed 42"), "the seed is printed: {stderr}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["score"], 40.0);
    assert_eq!(v["seed"], 42);
    assert_eq!(v["tests"].as_array().unwrap().len(), 4);
    let gs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    assert_eq!(gs["max_score"], 40.0);
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    assert!(
        xml.contains("<testsuite name=\"fixture\" tests=\"4\" failures=\"0\""),
        "{xml}"
    );
    assert!(dir.path().join("logs/checksum.log").is_file());
}

#[test]
fn failing_tests_exit_1_with_a_terminal_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lab.toml"), FIXTURE_LAB).unwrap();
    let k = script(dir.path(), "cheat", "#!/bin/sh\necho hello\n");
    let out = autograder()
        .arg("--lab")
        .arg(dir.path().join("lab.toml"))
        .arg("--kernel")
        .arg(&k)
        .args(["--test", "greeting", "--test", "share", "--color", "never"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("FAILED greeting (0 of 10 points)"),
        "{stdout}"
    );
    assert!(stdout.contains("no leak report on stderr"), "{stdout}");
    assert!(
        stdout.contains("hint: Greetings: book/fixture.md#hello"),
        "{stdout}"
    );
    assert!(stdout.contains("score: 0/15"), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "no colour with --color never");
    // Default log dir: autograder-logs/<lab> (no ./target here).
    assert!(dir
        .path()
        .join("autograder-logs/fixture/greeting.log")
        .is_file());
}

#[test]
fn errors_exit_2_and_say_where() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[lab]\nname = \"x\"\n[[test]]\nname = \"t\"\npoints = 1\ntimeout = \"soon\"\n",
    )
    .unwrap();
    let out = autograder()
        .arg("--lab")
        .arg(dir.path().join("bad.toml"))
        .args(["--kernel", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("bad.toml: test `t` (test #1): timeout: `soon` is not a duration"),
        "{e}"
    );

    std::fs::write(dir.path().join("lab.toml"), FIXTURE_LAB).unwrap();
    let out = autograder()
        .arg("--lab")
        .arg(dir.path().join("lab.toml"))
        .args(["--kernel", "/bin/true", "--test", "nope"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no test `nope`"));

    let out = autograder()
        .args(["--kernel", "/bin/true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap: --lab is required");
}

#[test]
fn checksum_command() {
    let out = autograder()
        .args(["checksum", "--seed", "42", "--bytes", "16"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "f2e8e555445f3d76\n");
}
