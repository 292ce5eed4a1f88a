//! Helpers shared by the tests that run the guest programs natively.

#![allow(dead_code)] // each test file uses its own share of these

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The directory holding every guest program: the `PATH` for the shell and init.
pub fn bin_dir() -> &'static Path {
    userland::program("sh")
        .and_then(Path::parent)
        .expect("the guest programs are built")
}

/// A command running guest program `name` with `args`, in `dir`, with an environment of
/// only `PATH` = [`bin_dir`] (so that names resolve to the guest programs, not the host's).
pub fn command(name: &str, args: &[&str], dir: &Path) -> Command {
    let path = userland::program(name).unwrap_or_else(|| panic!("no program {name}"));
    let mut cmd = Command::new(path);
    cmd.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", bin_dir());
    cmd
}

/// Runs guest program `name` with `args` in `dir`, feeding it `stdin`.
pub fn run_in(dir: &Path, name: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = command(name, args, dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    // A program that does not read its input may exit first: ignore EPIPE.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().expect("wait for the program")
}

/// A new empty directory for test `name` under cargo's scratch directory.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("userland-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Standard output as text.
pub fn stdout(out: &Output) -> &str {
    std::str::from_utf8(&out.stdout).expect("UTF-8 output")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> &str {
    std::str::from_utf8(&out.stderr).expect("UTF-8 errors")
}

/// Checks the exit code and the two outputs of `out`.
#[track_caller]
pub fn expect(out: &Output, code: i32, want_stdout: &str, want_stderr: &str) {
    assert_eq!(
        (out.status.code(), stdout(out), stderr(out)),
        (Some(code), want_stdout, want_stderr)
    );
}
