//! Whole-system tests: boot the kernel with the default initrd and run real programs.

use assert_cmd::Command;
use predicates::prelude::*;

const CLEAN: &str = "vkernel: leaks: frames=0 procs=0 files=0";

fn vkernel() -> Command {
    let mut c = Command::cargo_bin("vkernel").unwrap();
    c.timeout(std::time::Duration::from_secs(60));
    c
}

fn sh(script: &str) -> assert_cmd::assert::Assert {
    vkernel().args(["--", "/bin/sh", "-c", script]).assert()
}

#[test]
fn usertests_pass_and_nothing_leaks() {
    vkernel()
        .args(["--", "/bin/usertests"])
        .assert()
        .success()
        .stdout(predicate::str::contains("usertests: ALL PASSED"))
        .stdout(predicate::str::contains("FAILED").not())
        .stderr(predicate::str::contains(CLEAN))
        .stderr(predicate::str::contains("panic:").not());
}

#[test]
fn shell_pipelines_and_redirections() {
    sh("echo one two three | wc")
        .success()
        .stdout(predicate::str::is_match(r"^\s*1\s+3\s+14\s*\n$").unwrap())
        .stderr(predicate::str::contains(CLEAN));
    sh("echo alpha > /tmp/f; echo beta >> /tmp/f; grep -c a /tmp/f; cat < /tmp/f | grep bet")
        .success()
        .stdout("2\nbeta\n");
    sh("ls / | grep -v tmp | grep bin")
        .success()
        .stdout("bin\n");
}

#[test]
fn shell_scripts_run_from_a_file_with_their_status() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("s.sh");
    std::fs::write(
        &script,
        "# a script\nmkdir /tmp/d\necho x > /tmp/d/f\nls /tmp/d\nexit 5\n",
    )
    .unwrap();
    vkernel()
        .arg("--file")
        .arg(format!("{}:/tmp/s.sh", script.display()))
        .args(["--", "/bin/sh", "/tmp/s.sh"])
        .assert()
        .code(5)
        .stdout("f\n")
        .stderr(predicate::str::contains(CLEAN));
}

#[test]
fn init_runs_a_command_and_exits_with_its_status() {
    vkernel()
        .args(["--", "/bin/init", "/bin/sh", "-c", "exit 3"])
        .assert()
        .code(3);
    vkernel()
        .args(["--", "/bin/init", "/bin/true"])
        .assert()
        .success();
}

#[test]
fn a_null_dereference_kills_only_that_process() {
    sh("oops segv; echo status $?")
        .success()
        .stdout(predicate::str::contains("segmentation fault at 0x0"))
        .stdout(predicate::str::contains("status 139"))
        .stderr(predicate::str::contains(CLEAN));
}

#[test]
fn a_fork_bomb_meets_the_process_limit() {
    vkernel()
        .args(["--max-procs", "32", "--", "/bin/forkbomb"])
        .assert()
        .success()
        .stdout(predicate::str::contains("then EAGAIN"))
        .stderr(predicate::str::contains(CLEAN));
}

#[test]
fn forking_a_process_that_holds_two_thirds_of_ram_shares_pages() {
    // 64 MiB of RAM; the process fills 40 MiB, then forks twice: only copy-on-write fits.
    vkernel()
        .args(["-m", "64M", "--", "/bin/cowtest", "40"])
        .assert()
        .success()
        .stdout(predicate::str::contains("cowtest ok"))
        .stderr(predicate::str::contains(CLEAN));
}

#[test]
fn mprotect_cannot_make_a_page_shared_at_fork_writable_in_place() {
    // A read-only page is shared by fork; the child's mprotect(RW) and write must copy it.
    vkernel()
        .args(["--", "/bin/faulttest", "protshare", "7"])
        .assert()
        .success()
        .stdout(predicate::str::contains("protshare ok"))
        .stderr(predicate::str::contains(CLEAN));
}

#[test]
fn background_jobs_sleep_and_kill() {
    sh("sleep 0.05 & sleep 0.01; wait; echo done")
        .success()
        .stdout("done\n");
    // The background sleep must have exec'd before ps looks; kill must end it early.
    let start = std::time::Instant::now();
    sh("sleep 5 & sleep 0.3; ps | grep -c sleep; kill $!; wait; echo reaped")
        .success()
        .stdout(predicate::str::contains("1\nreaped"));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(4),
        "kill ended the sleeper"
    );
}

#[test]
fn random_system_calls_never_bring_the_kernel_down() {
    // 20000 calls with random numbers and arguments (wild pointers included), seed fixed.
    vkernel()
        .args(["--", "/bin/sysfuzz", "7", "20000"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "sysfuzz: 20000 calls in 40 workers",
        ))
        .stderr(predicate::str::contains(CLEAN))
        .stderr(predicate::str::contains("panic:").not());
}

#[test]
fn with_virtual_time_an_idle_sleep_takes_no_wall_clock_time() {
    let start = std::time::Instant::now();
    vkernel()
        .args([
            "--virtual-time",
            "--",
            "/bin/sh",
            "-c",
            "sleep 5; echo slept",
        ])
        .assert()
        .success()
        .stdout("slept\n");
    let took = start.elapsed();
    assert!(
        took < std::time::Duration::from_secs(4),
        "5 s of virtual sleep took {took:?}"
    );
}

#[test]
fn init_exiting_tears_down_sleeping_processes_cleanly() {
    sh("sleep 5 & cat & echo bye")
        .success()
        .stdout("bye\n")
        .stderr(predicate::str::contains(CLEAN))
        .stderr(predicate::str::contains("panic:").not());
}
