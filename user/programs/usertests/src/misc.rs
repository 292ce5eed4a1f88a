//! misc: tests of time, identity, and bad pointers everywhere.
//!
//! System calls: `nanosleep`, `clock_gettime`, `sched_yield`, `getpid`, `getppid`,
//! `uname`, and for `EFAULT`: `read`, `write`, `openat`, `pipe2`, `wait4`, `getcwd`,
//! `execve`, `fstat`, `uname`, `clock_gettime`, `nanosleep`.

use alloc::format;

use crate::check::*;
use vkrt::sys::{self, nr, Errno, Timespec, Utsname};
use vkrt::time;

/// nanosleep sleeps at least as long as asked; bad times are EINVAL.
pub fn sleep(_ctx: &Ctx) -> Outcome {
    let before = time::monotonic();
    call(
        "nanosleep",
        sys::nanosleep(&Timespec::from_millis(50), None),
    )?;
    let slept = time::monotonic().as_nanos() - before.as_nanos();
    ensure(
        slept >= 50_000_000,
        format!("slept {slept} ns, asked for 50 ms"),
    )?;
    call("nanosleep(0)", sys::nanosleep(&Timespec::default(), None))?;
    let bad_nsec = Timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000_000,
    };
    expect_err(
        "nanosleep with tv_nsec = 1e9",
        sys::nanosleep(&bad_nsec, None),
        Errno::EINVAL,
    )?;
    let negative = Timespec {
        tv_sec: -1,
        tv_nsec: 0,
    };
    expect_err(
        "nanosleep with tv_sec = -1",
        sys::nanosleep(&negative, None),
        Errno::EINVAL,
    )
}

/// The monotonic clock never goes back; the wall clock is after 2020; bad clocks.
pub fn clock(_ctx: &Ctx) -> Outcome {
    let mut last = time::monotonic();
    for _ in 0..10_000 {
        let now = time::monotonic();
        ensure(now >= last, "the monotonic clock went backwards")?;
        ensure(
            (0..1_000_000_000).contains(&now.tv_nsec),
            "tv_nsec out of range",
        )?;
        last = now;
    }
    let mut wall = Timespec::default();
    call(
        "clock_gettime(REALTIME)",
        sys::clock_gettime(sys::CLOCK_REALTIME, &mut wall),
    )?;
    ensure(wall.tv_sec > 1_577_836_800, "the wall clock is before 2020")?;
    expect_err(
        "clock_gettime(12345)",
        sys::clock_gettime(12345, &mut wall),
        Errno::EINVAL,
    )
}

/// sched_yield succeeds, alone and with a child yielding too.
pub fn sched_yield(_ctx: &Ctx) -> Outcome {
    let pid = child(|| {
        for _ in 0..100 {
            if sys::sched_yield().is_err() {
                return 1;
            }
        }
        0
    })?;
    for _ in 0..100 {
        call("sched_yield", sys::sched_yield())?;
    }
    expect_exit(pid, 0, "the yielding child")
}

/// getpid and getppid; uname names the kernel and the machine.
pub fn ids(_ctx: &Ctx) -> Outcome {
    let pid = call("getpid", sys::getpid())?;
    ensure(pid > 0, "pid 0")?;
    ensure(
        call("getppid", sys::getppid())? != pid,
        "we are our own parent",
    )?;
    let mut u = Utsname::default();
    call("uname", sys::uname(&mut u))?;
    let sysname = Utsname::field(&u.sysname);
    ensure(!sysname.is_empty(), "uname: empty sysname")?;
    ensure(
        !Utsname::field(&u.machine).is_empty(),
        "uname: empty machine",
    )
}

/// The calls [`efault`] makes, with `bad` as their pointer: (what, number, arguments).
fn pointer_calls(
    bad: usize,
    file: usize,
    r: usize,
    w: usize,
) -> [(&'static str, usize, [usize; 3]); 12] {
    let (at, monotonic) = (sys::AT_FDCWD as usize, sys::CLOCK_MONOTONIC as usize);
    [
        ("read from a file", nr::READ, [file, bad, 16]),
        ("read from a pipe", nr::READ, [r, bad, 4]),
        ("write to a file", nr::WRITE, [file, bad, 16]),
        ("write to a pipe", nr::WRITE, [w, bad, 16]),
        ("openat", nr::OPENAT, [at, bad, 0]),
        ("pipe2", nr::PIPE2, [bad, 0, 0]),
        ("getcwd", nr::GETCWD, [bad, 256, 0]),
        ("fstat", nr::FSTAT, [file, bad, 0]),
        ("uname", nr::UNAME, [bad, 0, 0]),
        ("clock_gettime", nr::CLOCK_GETTIME, [monotonic, bad, 0]),
        ("nanosleep", nr::NANOSLEEP, [bad, 0, 0]),
        ("execve (path)", nr::EXECVE, [bad, 0, 0]),
    ]
}

/// Every call that takes a pointer rejects wild ones with EFAULT (and does nothing).
pub fn efault(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("efault");
    let flags = sys::O_RDWR | sys::O_CREAT | sys::O_TRUNC;
    let fd = call("openat", sys::openat(sys::AT_FDCWD, &path, flags, 0o644))?;
    call("write", sys::write(fd as i32, b"some data to read"))?;
    let (r, w) = pipe()?;
    call("write", sys::write(w, b"data"))?;
    for bad in wild_pointers()? {
        call("lseek", sys::lseek(fd as i32, 0, sys::SEEK_SET))?;
        for (what, n, [a, b, c]) in pointer_calls(bad, fd, r as usize, w as usize) {
            // SAFETY: `bad` points at nothing of ours, so the kernel can only refuse it;
            // the other arguments are descriptors, sizes or flags.
            let result = unsafe { raw(n, [a, b, c, 0]) };
            expect_err(
                &format!("{what} with pointer {bad:#x}"),
                result,
                Errno::EFAULT,
            )?;
        }
    }
    efault_non_null(ctx)?;
    close(fd as i32)?;
    close(r)?;
    close(w)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// EFAULT where NULL is allowed and means "none": wait4's status, execve's argv.
fn efault_non_null(ctx: &Ctx) -> Outcome {
    // A real program, so that the kernel gets as far as reading argv. (Should it run
    // it anyway, usertests exits at once when it has no arguments.)
    let me = vkrt::fs::cstring(&ctx.me).unwrap_or_default();
    for bad in wild_non_null()? {
        let pid = child(|| 3)?;
        // SAFETY: `bad` points at nothing of ours.
        let r = unsafe { raw(nr::WAIT4, [pid as usize, bad, 0, 0]) };
        expect_err(&format!("wait4 status {bad:#x}"), r, Errno::EFAULT)?;
        // Linux reaps the child anyway; a kernel that checks first leaves it: both fine.
        match sys::wait4(pid, None, 0) {
            Ok(_) | Err(Errno::ECHILD) => {}
            Err(e) => return Err(Stop::Fail(format!("wait4 after EFAULT: {}", e.name()))),
        }
        // SAFETY: `me` is a valid string; `bad` points at nothing of ours.
        let r = unsafe { raw(nr::EXECVE, [me.as_ptr() as usize, bad, 0, 0]) };
        expect_err(&format!("execve argv {bad:#x}"), r, Errno::EFAULT)?;
    }
    Ok(())
}
