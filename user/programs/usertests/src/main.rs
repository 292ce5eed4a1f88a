//! usertests: tests the kernel's system calls from user space, error paths included.
//!
//! In the spirit of xv6's `usertests`: one function per test, each exercising a system
//! call (or a few) the vkernel serves, checking results *and* errors: `EFAULT` for wild
//! pointers, `EBADF`, `ENOENT`, `EEXIST`, `ENOTDIR`, `EISDIR`, `ENOTEMPTY`, `EPIPE`,
//! `ECHILD`, `EINVAL`, `EMFILE`, `ESPIPE`, ...; wait statuses; exec with argv and envp;
//! pipes across fork; a big file; directories; brk, mmap, mprotect; the clocks.
//!
//! Usage: `usertests [-d DIR] [TEST...]`: runs the named tests (default all) in order,
//! with their files in a new directory `DIR/usertests-<pid>` (`DIR` defaults to `/tmp`),
//! removed at the end. Prints one line per test:
//!
//! ```text
//! test pipes: ok
//! test kill: FAILED: kill(9): status 0x0, expected 0x9
//! test vk_procs: skipped (not on vkernel)
//! ```
//!
//! then `usertests: ALL PASSED` (exit 0) or `usertests: N of M FAILED` (exit 1). Each
//! test runs in a child process of its own, so a test that crashes ("killed by signal
//! 11") or leaks descriptors harms no other. A few tests need the vkernel and are skipped
//! on Linux, where everything else passes too (that is how the tests themselves are
//! tested). Natively, and only there, two calls outside the vkernel's set are used:
//! `rt_sigaction` to ignore `SIGPIPE`, `prlimit64` to make `EMFILE` quick to reach.
//!
//! The exec test runs this program again as `usertests --exec-child ...` and
//! `usertests --check-fds A B`.

#![no_std]
#![no_main]

extern crate alloc;

mod check;
mod files;
mod mem;
mod misc;
mod procs;

use alloc::format;
use alloc::vec::Vec;

use check::{Ctx, Outcome, Stop};
use vkrt::fs::{self, join};
use vkrt::io::Lossy;
use vkrt::sys::{self, Errno, Timespec, WaitStatus};
use vkrt::{env, eprintln, println, process, time, Args};

vkrt::entry!(main);

/// A test: its name and its function.
type Test = (&'static str, fn(&Ctx) -> Outcome);

/// Every test, in the order they run.
const TESTS: &[Test] = &[
    ("write_read", files::write_read),
    ("open_errors", files::open_errors),
    ("bad_fds", files::bad_fds),
    ("open_flags", files::open_flags),
    ("lseek", files::lseek),
    ("stat", files::stat),
    ("dup", files::dup),
    ("vectored", files::vectored),
    ("big_file", files::big_file),
    ("unlink_open", files::unlink_open),
    ("directories", files::directories),
    ("cwd", files::cwd),
    ("ioctl", files::ioctl),
    ("emfile", files::emfile),
    ("fork_wait", procs::fork_wait),
    ("wait_any", procs::wait_any),
    ("wait_errors", procs::wait_errors),
    ("kill", procs::kill),
    ("pipes", procs::pipes),
    ("pipe_big", procs::pipe_big),
    ("pingpong", procs::pingpong),
    ("fork_memory", procs::fork_memory),
    ("many_children", procs::many_children),
    ("orphans", procs::orphans),
    ("exec", procs::exec),
    ("vk_procs", procs::vk_procs),
    ("brk", mem::brk),
    ("mmap", mem::mmap),
    ("mmap_big", mem::mmap_big),
    ("heap", mem::heap),
    ("stack", mem::stack),
    ("sleep", misc::sleep),
    ("clock", misc::clock),
    ("sched_yield", misc::sched_yield),
    ("ids", misc::ids),
    ("efault", misc::efault),
];

/// How long a test may take.
const TIMEOUT_SECONDS: i64 = 120;

/// Exit statuses of a test's child: it printed its own line.
const PASSED: i32 = 0;
const FAILED: i32 = 1;
const SKIPPED: i32 = 3;

/// How one test went.
#[derive(PartialEq, Eq)]
enum Verdict {
    Passed,
    Failed,
    Skipped,
}

/// In the test's child: runs it, prints its line, returns the exit status.
fn run_in_child(name: &str, test: fn(&Ctx) -> Outcome, ctx: &Ctx) -> i32 {
    match test(ctx) {
        Ok(()) => {
            println!("test {name}: ok");
            PASSED
        }
        Err(Stop::Fail(why)) => {
            println!("test {name}: FAILED: {why}");
            FAILED
        }
        Err(Stop::Skip(why)) => {
            println!("test {name}: skipped ({why})");
            SKIPPED
        }
    }
}

/// Runs one test in a child process and reports how it went (the line is printed by
/// the child, or here if the child died without printing one).
fn run(name: &str, test: fn(&Ctx) -> Outcome, ctx: &Ctx) -> Verdict {
    let pid = match sys::fork() {
        Ok(0) => sys::exit_group(run_in_child(name, test, ctx)),
        Ok(pid) => pid as i32,
        Err(e) => {
            println!("test {name}: FAILED: fork: {}", e.name());
            return Verdict::Failed;
        }
    };
    let why = match wait_with_timeout(pid) {
        Ok(None) => format!("timed out after {TIMEOUT_SECONDS} s"),
        Ok(Some(WaitStatus::Exited(PASSED))) => return Verdict::Passed,
        Ok(Some(WaitStatus::Exited(FAILED))) => return Verdict::Failed,
        Ok(Some(WaitStatus::Exited(SKIPPED))) => return Verdict::Skipped,
        Ok(Some(WaitStatus::Signaled(sig))) => format!("killed by signal {sig}"),
        Ok(Some(status)) => format!("ended with {status:?}"),
        Err(e) => format!("wait4: {}", e.name()),
    };
    println!("test {name}: FAILED: {why}");
    Verdict::Failed
}

/// Waits for the test's child `pid`, but kills it if it has not ended after
/// [`TIMEOUT_SECONDS`] (a test that hangs must not hang the whole run); `None` then.
/// It polls with `WNOHANG`, sleeping 1 ms, then longer, up to 20 ms, in between.
fn wait_with_timeout(pid: i32) -> Result<Option<WaitStatus>, Errno> {
    let deadline = time::monotonic().tv_sec + TIMEOUT_SECONDS;
    let mut nap = 1;
    loop {
        if let Some((_, status)) = process::try_wait(pid)? {
            return Ok(Some(status));
        }
        if time::monotonic().tv_sec >= deadline {
            sys::kill(pid, sys::SIGKILL)?;
            process::wait(pid)?;
            return Ok(None);
        }
        time::sleep(Timespec::from_millis(nap))?;
        nap = (nap * 2).min(20);
    }
}

/// The path of this program, for `execve`: `argv[0]` if it has a `/`, else the first
/// file by that name in `PATH` (the shell found us there).
fn find_self(argv0: &[u8]) -> Vec<u8> {
    if argv0.contains(&b'/') {
        return argv0.to_vec();
    }
    env::search_path()
        .split(|&b| b == b':')
        .map(|dir| join(dir, argv0))
        .find(|path| fs::stat(path).is_ok_and(|st| st.is_file()))
        .unwrap_or_else(|| join(b"/bin", argv0))
}

/// Removes the run's directory and whatever a failed test left in it.
fn remove_tree(dir: &[u8]) {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            let path = join(dir, &entry.name);
            if fs::remove_file(&path).is_err() {
                remove_tree(&path);
            }
        }
    }
    let _ = fs::remove_dir(dir);
}

/// Parses `[-d DIR] [TEST...]`; returns the base directory and the tests to run.
fn parse_args(args: &Args) -> Result<(Vec<u8>, Vec<Test>), ()> {
    let mut base = b"/tmp".to_vec();
    let mut rest = args.iter().skip(1).peekable();
    if rest.next_if(|a| *a == b"-d").is_some() {
        base = rest.next().ok_or(())?.to_vec();
    }
    let names: Vec<&[u8]> = rest.collect();
    if names.is_empty() {
        return Ok((base, TESTS.to_vec()));
    }
    let mut tests = Vec::new();
    for name in names {
        match TESTS.iter().find(|(n, _)| n.as_bytes() == name) {
            Some(test) => tests.push(*test),
            None => {
                eprintln!("usertests: no test called {}", Lossy(name));
                return Err(());
            }
        }
    }
    Ok((base, tests))
}

fn main(args: Args) -> i32 {
    match args.get(1) {
        // Without argv (a broken execve could start us so), do nothing.
        _ if args.is_empty() => return 2,
        Some(b"--exec-child") => return procs::exec_child(&args),
        Some(b"--check-fds") => return procs::check_fds(&args),
        _ => {}
    }
    let Ok((base, tests)) = parse_args(&args) else {
        eprintln!("usage: usertests [-d DIR] [TEST...]");
        return 2;
    };
    let pid = sys::getpid().unwrap_or(0);
    let ctx = Ctx {
        dir: join(&base, format!("usertests-{pid}").as_bytes()),
        me: find_self(args.get(0).unwrap_or(b"usertests")),
        vkernel: process::on_vkernel(),
    };
    if let Err(e) = fs::mkdir(&ctx.dir, 0o755) {
        eprintln!("usertests: cannot make {}: {e}", Lossy(&ctx.dir));
        return 1;
    }
    let results: Vec<Verdict> = tests
        .iter()
        .map(|&(name, test)| run(name, test, &ctx))
        .collect();
    remove_tree(&ctx.dir);
    let failed = results.iter().filter(|r| **r == Verdict::Failed).count();
    if failed == 0 {
        println!("usertests: ALL PASSED");
        0
    } else {
        println!("usertests: {failed} of {} FAILED", results.len());
        1
    }
}
