//! Boot tests: the `vkernel` binary runs guest programs and refuses bad ones cleanly.

use assert_cmd::Command;
use predicates::prelude::*;
use vkernel::exec::elf::fixture;

fn vkernel() -> Command {
    let mut c = Command::cargo_bin("vkernel").unwrap();
    c.timeout(std::time::Duration::from_secs(20));
    c
}

fn no_panic() -> impl Predicate<str> {
    predicate::str::contains("panic:").not()
}

#[test]
fn hello_prints_its_greeting_and_arguments() {
    vkernel()
        .args(["hello", "one", "two"])
        .assert()
        .success()
        .stdout("hello from the guest\nargv[0] = /bin/hello\nargv[1] = one\nargv[2] = two\n")
        .stderr(no_panic());
}

#[test]
fn the_guest_exit_status_is_the_kernel_exit_status() {
    vkernel().args(["hello", "7"]).assert().code(7);
    vkernel()
        .args(["exitcode", "42"])
        .assert()
        .code(42)
        .stdout("");
}

#[test]
fn the_initial_stack_carries_argv_envp_and_auxv() {
    vkernel()
        .args(["-e", "A=1", "-e", "B=two", "args", "x"])
        .assert()
        .success()
        .stdout(predicate::str::contains("argc=2"))
        .stdout(predicate::str::contains("argv[1]=x"))
        .stdout(predicate::str::contains("envp[1]=B=two"))
        .stdout(predicate::str::contains("AT_PAGESZ=4096"))
        .stdout(predicate::str::contains("AT_RANDOM=0x7ffe"));
}

#[test]
fn cpu_faults_kill_the_program_with_a_signal_status() {
    for (how, code, what) in [
        ("segv", 139, "segmentation fault at 0x0"),
        ("ud2", 132, "illegal instruction"),
        ("int3", 133, "breakpoint"),
        ("div0", 136, "divide error"),
    ] {
        vkernel()
            .args(["oops", how])
            .assert()
            .code(code)
            .stdout(predicate::str::contains(what))
            .stderr(no_panic());
    }
}

/// Machine code that ends with `neg rax; mov rdi, rax; mov eax, 231; syscall`: the
/// negated result of the preceding system call becomes the exit status.
fn exit_with_negated_rax(prefix: &[u8]) -> Vec<u8> {
    let mut code = prefix.to_vec();
    code.extend_from_slice(&[
        0x48, 0xf7, 0xd8, 0x48, 0x89, 0xc7, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05,
    ]);
    code
}

fn run_code(dir: &tempfile::TempDir, name: &str, code: &[u8]) -> assert_cmd::assert::Assert {
    let path = dir.path().join(name);
    std::fs::write(&path, fixture::elf(0x40_0000, code, 2, true)).unwrap();
    vkernel()
        .arg("--file")
        .arg(&path)
        .arg("--")
        .arg(format!("/bin/{name}"))
        .assert()
}

#[test]
fn a_wild_pointer_gets_efault_and_an_unknown_call_enosys() {
    let dir = tempfile::tempdir().unwrap();
    // write(1, 0xdead0000, 5)
    let wild = exit_with_negated_rax(&[
        0xbf, 1, 0, 0, 0, 0xbe, 0, 0, 0xad, 0xde, 0xba, 5, 0, 0, 0, 0xb8, 1, 0, 0, 0, 0x0f, 0x05,
    ]);
    run_code(&dir, "wild", &wild).code(14).stderr(no_panic());
    // syscall 999
    let unknown = exit_with_negated_rax(&[0xb8, 0xe7, 3, 0, 0, 0x0f, 0x05]);
    run_code(&dir, "unknown", &unknown).code(38);
    vkernel()
        .args(["--trace", "syscall", "--file"])
        .arg(dir.path().join("unknown"))
        .args(["--", "/bin/unknown"])
        .assert()
        .code(38)
        .stderr(predicate::str::contains(
            "unknown system call 999 -> ENOSYS",
        ));
}

#[test]
fn bad_programs_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let exit3 = [0xbf, 3, 0, 0, 0, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05];
    let mut truncated = fixture::elf(0x40_0000, &exit3, 2, true);
    truncated.truncate(4098);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "script",
            b"#!/bin/sh\necho hi\n".to_vec(),
            "not an ELF executable",
        ),
        ("empty", Vec::new(), "not an ELF executable"),
        ("elf32", fixture::elf(0x40_0000, &exit3, 2, false), "32-bit"),
        ("pie", fixture::elf(0x40_0000, &exit3, 3, true), "PIE"),
        (
            "high",
            fixture::elf(0x7fff_f000_0000, &exit3, 2, true),
            "outside user space",
        ),
        ("truncated", truncated, "past the end of the file"),
    ];
    for (name, bytes, why) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        vkernel()
            .arg("--file")
            .arg(&path)
            .args(["--", &format!("/bin/{name}")])
            .assert()
            .code(126)
            .stderr(predicate::str::contains(why))
            .stderr(no_panic());
    }
    vkernel()
        .args(["--file", "/bin/true:/bin/hosttrue", "--", "/bin/hosttrue"])
        .assert()
        .code(126)
        .stderr(predicate::str::contains("PIE").or(predicate::str::contains("dynamically linked")));
    vkernel()
        .arg("/nonexistent/prog")
        .assert()
        .code(127)
        .stderr(no_panic());
    vkernel().arg("no-such-guest").assert().code(127);
    // The good version of the same file runs.
    run_code(&dir, "good", &exit3).code(3);
}

#[test]
fn bad_options_are_refused_by_the_command_line() {
    vkernel()
        .args(["-m", "12Q", "hello"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("size"));
    vkernel().args(["--hz", "0", "hello"]).assert().code(2);
}
