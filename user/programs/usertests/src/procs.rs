//! procs: tests of processes and pipes: fork, wait4, exit statuses, kill, execve.
//!
//! System calls: `fork`, `wait4`, `exit_group`, `exit`, `getpid`, `getppid`, `kill`,
//! `execve`, `pipe2`, `read`, `write`, `close`, `nanosleep`, `vk_procs` (vkernel only),
//! and natively `rt_sigaction` (to ignore `SIGPIPE`, which the vkernel never sends).

use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use crate::check::*;
use vkrt::sys::{self, nr, Errno, Timespec, WaitStatus};
use vkrt::{fs, process};

/// In a child: closes its copy of the write end `w` of a pipe, then blocks reading the
/// read end `r` until the parent closes its copy too (or writes).
fn block_on((r, w): (i32, i32)) -> i32 {
    let _ = sys::close(w);
    let _ = sys::read(r, &mut [0u8; 1]);
    0
}

/// Children exit with 0, 1, 42 and 255; wait4 stores `code << 8`; the child's parent is us.
pub fn fork_wait(_ctx: &Ctx) -> Outcome {
    let me = call("getpid", sys::getpid())?;
    for code in [0, 1, 42, 255] {
        let pid = child(|| {
            let parent_ok = sys::getppid() == Ok(me);
            let new_pid = sys::getpid().is_ok_and(|p| p != me);
            if parent_ok && new_pid {
                code
            } else {
                7
            }
        })?;
        ensure(pid as usize != me, "fork returned our own pid")?;
        let status = reap(pid)?;
        ensure(
            status == code << 8,
            format!("exit({code}) gave status {status:#x}, not {:#x}", code << 8),
        )?;
    }
    // `exit` (60) ends a single-threaded process just as `exit_group` does.
    let pid = child(|| sys::exit(9))?;
    expect_exit(pid, 9, "exit(9)")
}

/// wait4(-1) collects any child: ten children, ten statuses, then ECHILD.
pub fn wait_any(_ctx: &Ctx) -> Outcome {
    let mut pids = Vec::new();
    for i in 0..10 {
        pids.push(child(move || i)?);
    }
    let mut seen = [false; 10];
    for _ in 0..10 {
        let mut status = 0;
        let pid = call("wait4(-1)", sys::wait4(-1, Some(&mut status), 0))? as i32;
        let Some(i) = pids.iter().position(|&p| p == pid) else {
            return Err(Stop::Fail(format!("wait4(-1) returned a stranger, {pid}")));
        };
        ensure(
            status == (i as i32) << 8 && !seen[i],
            format!("child {i}: status {status:#x}"),
        )?;
        seen[i] = true;
    }
    expect_err(
        "wait4(-1) with no children left",
        sys::wait4(-1, None, 0),
        Errno::ECHILD,
    )
}

/// ECHILD, WNOHANG while a child runs, EINVAL for unknown options.
pub fn wait_errors(_ctx: &Ctx) -> Outcome {
    expect_err(
        "wait4 without children",
        sys::wait4(-1, None, 0),
        Errno::ECHILD,
    )?;
    let (r, w) = pipe()?;
    let pid = child(|| block_on((r, w)))?;
    let parent = call("getppid", sys::getppid())? as i32;
    expect_err(
        "wait4 for a non-child",
        sys::wait4(parent, None, 0),
        Errno::ECHILD,
    )?;
    let now = sys::wait4(pid, None, sys::WNOHANG);
    ensure(
        now == Ok(0),
        format!("WNOHANG on a running child: {now:?}, not Ok(0)"),
    )?;
    expect_err(
        "wait4 with options 0x100",
        sys::wait4(pid, None, 0x100),
        Errno::EINVAL,
    )?;
    close(w)?;
    close(r)?;
    expect_exit(pid, 0, "the blocked child")
}

/// SIGKILL and SIGTERM end a child blocked in read or in nanosleep; wait4 reports the
/// signal number; ESRCH and EINVAL.
pub fn kill(_ctx: &Ctx) -> Outcome {
    let (r, w) = pipe()?;
    let sleep = || {
        let _ = sys::nanosleep(&Timespec::from_millis(20_000), None);
        0
    };
    for (sig, sleeper) in [
        (sys::SIGKILL, false),
        (sys::SIGTERM, false),
        (sys::SIGKILL, true),
    ] {
        let pid = if sleeper {
            child(sleep)?
        } else {
            child(|| block_on((r, w)))?
        };
        call("kill", sys::kill(pid, sig))?;
        let status = reap(pid)?;
        ensure(
            WaitStatus::decode(status) == WaitStatus::Signaled(sig),
            format!("kill({sig}): status {status:#x}, expected {sig:#x}"),
        )?;
        expect_err("kill a reaped child", sys::kill(pid, sig), Errno::ESRCH)?;
    }
    expect_err(
        "kill with signal 1000",
        sys::kill(call("getpid", sys::getpid())? as i32, 1000),
        Errno::EINVAL,
    )?;
    close(r)?;
    close(w)
}

/// Natively, ignores SIGPIPE so that a write to a pipe without readers returns EPIPE
/// instead of killing us; the vkernel sends no signals, so there is nothing to do.
fn ignore_sigpipe(ctx: &Ctx) -> Outcome {
    if ctx.vkernel {
        return Ok(());
    }
    // `struct sigaction` for rt_sigaction: handler, flags, restorer, mask.
    let action: [usize; 4] = [1 /* SIG_IGN */, 0, 0, 0];
    // SAFETY: rt_sigaction reads the 32-byte `action`; the old action is not asked for.
    let r = unsafe {
        raw(
            nr::RT_SIGACTION,
            [sys::SIGPIPE as usize, action.as_ptr() as usize, 0, 8],
        )
    };
    call("rt_sigaction", r).map(drop)
}

/// Data goes through; end of file once the writers close; a reader sleeps until data
/// comes; EPIPE without readers; EINVAL for unknown flags.
pub fn pipes(ctx: &Ctx) -> Outcome {
    let (r, w) = pipe()?;
    expect_eq("write", sys::write(w, b"through"), 7)?;
    let mut buf = [0u8; 16];
    let n = call("read", sys::read(r, &mut buf))?;
    ensure(&buf[..n] == b"through", "read other data")?;
    let pid = child(|| {
        let _ = sys::nanosleep(&Timespec::from_millis(30), None);
        i32::from(sys::write(w, b"late") != Ok(4))
    })?;
    let n = call("read (waiting for the child)", sys::read(r, &mut buf))?;
    ensure(&buf[..n] == b"late", "the sleeping reader got other data")?;
    expect_exit(pid, 0, "the writing child")?;
    close(w)?;
    expect_eq("read after the writers closed", sys::read(r, &mut buf), 0)?;
    close(r)?;
    ignore_sigpipe(ctx)?;
    let (r, w) = pipe()?;
    close(r)?;
    expect_err(
        "write to a pipe without readers",
        sys::write(w, b"x"),
        Errno::EPIPE,
    )?;
    close(w)?;
    let mut fds = [-1; 2];
    expect_err(
        "pipe2 with flags 0x1",
        sys::pipe2(&mut fds, 0x1),
        Errno::EINVAL,
    )
}

/// 1 MiB goes from a child to its parent through a pipe, unchanged.
pub fn pipe_big(_ctx: &Ctx) -> Outcome {
    const SIZE: usize = 1 << 20;
    let (r, w) = pipe()?;
    let pid = child(|| {
        let _ = sys::close(r);
        let (mut rng, mut chunk) = (Rng::new(7), vec![0u8; 7000]);
        let mut left = SIZE;
        while left > 0 {
            let n = left.min(chunk.len());
            rng.fill(&mut chunk[..n]);
            if vkrt::io::write_all(w, &chunk[..n]).is_err() {
                return 1;
            }
            left -= n;
        }
        0
    })?;
    close(w)?;
    let mut expected = FNV_START;
    let (mut rng, mut chunk) = (Rng::new(7), vec![0u8; 7000]);
    for start in (0..SIZE).step_by(chunk.len()) {
        let n = (SIZE - start).min(chunk.len());
        rng.fill(&mut chunk[..n]);
        expected = fnv(expected, &chunk[..n]);
    }
    let (mut got, mut total, mut buf) = (FNV_START, 0, vec![0u8; 4096]);
    loop {
        let n = call("read", sys::read(r, &mut buf))?;
        if n == 0 {
            break;
        }
        got = fnv(got, &buf[..n]);
        total += n;
    }
    close(r)?;
    ensure(total == SIZE, format!("got {total} bytes, not {SIZE}"))?;
    ensure(got == expected, "the data changed on the way")?;
    expect_exit(pid, 0, "the writer")
}

/// Parent and child take turns through two pipes, 200 times: each read must wake up.
pub fn pingpong(_ctx: &Ctx) -> Outcome {
    let (to_child, from_parent) = {
        let (r, w) = pipe()?;
        (w, r)
    };
    let (to_parent, from_child) = {
        let (r, w) = pipe()?;
        (w, r)
    };
    let pid = child(|| {
        // Our copies of the parent's ends would keep our input open forever.
        let _ = (sys::close(to_child), sys::close(from_child));
        let mut byte = [0u8; 1];
        while sys::read(from_parent, &mut byte) == Ok(1) {
            byte[0] = byte[0].wrapping_add(1);
            if sys::write(to_parent, &byte) != Ok(1) {
                return 1;
            }
        }
        0
    })?;
    close(from_parent)?;
    close(to_parent)?;
    let mut byte = [0u8; 1];
    for round in 0..200u32 {
        call("write", sys::write(to_child, &[round as u8]))?;
        expect_eq("read the answer", sys::read(from_child, &mut byte), 1)?;
        ensure(
            byte[0] == (round as u8).wrapping_add(1),
            format!("round {round}: wrong answer"),
        )?;
    }
    close(to_child)?;
    close(from_child)?;
    expect_exit(pid, 0, "the ponging child")
}

/// A child's memory is its own: its writes to a static, the stack and the heap do not
/// reach the parent.
pub fn fork_memory(_ctx: &Ctx) -> Outcome {
    static mut GLOBAL: u64 = 1;
    let mut on_stack = [1u8; 256];
    let mut on_heap = vec![1u32; 10_000];
    let pid = child(|| {
        // SAFETY: single-threaded; nothing else touches GLOBAL in this process.
        unsafe { GLOBAL = 2 };
        on_stack.fill(2);
        on_heap.fill(2);
        let written = core::hint::black_box((&on_stack, &on_heap));
        i32::from(written.0[0] != 2 || written.1[0] != 2)
    })?;
    expect_exit(pid, 0, "the writing child")?;
    // SAFETY: as above; the child wrote to its own copy.
    let global = unsafe { GLOBAL };
    ensure(global == 1, "the child's write to a static reached us")?;
    ensure(
        on_stack.iter().all(|&b| b == 1),
        "the child's write to the stack reached us",
    )?;
    ensure(
        on_heap.iter().all(|&v| v == 1),
        "the child's write to the heap reached us",
    )
}

/// 300 children, one after the other, each reaped: nothing leaks.
pub fn many_children(_ctx: &Ctx) -> Outcome {
    for i in 0..300 {
        let pid = child(move || i & 0xff)?;
        expect_exit(pid, i & 0xff, "a short-lived child")?;
    }
    Ok(())
}

/// An orphan gets a new parent (init, on the vkernel) once its parent exits.
pub fn orphans(ctx: &Ctx) -> Outcome {
    let (r, w) = pipe()?;
    let middle = child(|| {
        let me = sys::getpid().unwrap_or(0);
        let grandchild = child(|| {
            // Wait (at most 2 s) for the middle process to exit.
            for _ in 0..2000 {
                if sys::getppid() != Ok(me) {
                    let parent = sys::getppid().unwrap_or(0);
                    let _ = sys::write(w, &(parent as u32).to_le_bytes());
                    return 0;
                }
                let _ = sys::nanosleep(&Timespec::from_millis(1), None);
            }
            1
        });
        i32::from(grandchild.is_err())
    })?;
    expect_exit(middle, 0, "the middle process")?;
    close(w)?;
    let mut parent = [0u8; 4];
    let n = call("read", sys::read(r, &mut parent))?;
    close(r)?;
    ensure(n == 4, "the orphan never saw its parent change")?;
    let parent = u32::from_le_bytes(parent);
    ensure(
        !ctx.vkernel || parent == 1,
        format!("the orphan's new parent is {parent}, not 1"),
    )
}

/// The argv and environment `exec` passes, which `--exec-child` checks.
pub const EXEC_ARGS: [&[u8]; 4] = [b"--exec-child", b"a", b"b c", b""];
/// The environment passed.
pub const EXEC_ENV: [&[u8]; 2] = [b"X=1", b"EMPTY="];

/// execve passes argv and envp; O_CLOEXEC descriptors close, others stay; errors.
pub fn exec(ctx: &Ctx) -> Outcome {
    let me = ctx.me.clone();
    let pid = child(|| {
        let mut argv: Vec<&[u8]> = vec![&me];
        argv.extend(EXEC_ARGS);
        process::exec(&me, &argv, &EXEC_ENV);
        99
    })?;
    expect_exit(pid, 0, "usertests --exec-child (argv and envp arrive)")?;
    let path = ctx.cpath("exec_fds");
    let (flags, at) = (sys::O_WRONLY | sys::O_CREAT, sys::AT_FDCWD);
    let closing = call(
        "openat",
        sys::openat(at, &path, flags | sys::O_CLOEXEC, 0o644),
    )?;
    let staying = call("openat", sys::openat(at, &path, flags, 0o644))?;
    let pid = child(|| {
        let (a, b) = (format!("{closing}"), format!("{staying}"));
        let argv: [&[u8]; 4] = [&me, b"--check-fds", a.as_bytes(), b.as_bytes()];
        let no_env: [&[u8]; 0] = [];
        process::exec(&me, &argv, &no_env);
        99
    })?;
    expect_exit(
        pid,
        0,
        "usertests --check-fds (O_CLOEXEC closes, others stay)",
    )?;
    close(closing as i32)?;
    close(staying as i32)?;
    exec_errors(ctx)?;
    call("unlinkat", sys::unlinkat(at, &path, 0)).map(drop)
}

/// execve of nothing, of a directory, of a file that is not a program.
fn exec_errors(ctx: &Ctx) -> Outcome {
    let argv: [&[u8]; 1] = [b"x"];
    let fails = |what: &str, path: &[u8], expected: Errno| {
        let e = process::exec(path, &argv, &argv);
        ensure(
            e == expected,
            format!("{what}: expected {}, got {}", expected.name(), e.name()),
        )
    };
    fails(
        "execve a missing file",
        &ctx.path("exec_missing"),
        Errno::ENOENT,
    )?;
    fails("execve a directory", &ctx.dir, Errno::EACCES)?;
    let junk = ctx.path("exec_junk");
    let flags = sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC;
    let file = call("create", fs::File::open(&junk, flags, 0o755))?;
    call(
        "write",
        file.write_all(b"this is not an ELF file, just text\n"),
    )?;
    drop(file);
    fails("execve a text file (mode 755)", &junk, Errno::ENOEXEC)?;
    call("unlink", fs::remove_file(&junk))
}

/// `usertests --exec-child ...`: exits 0 if argv and envp are what [`exec`] passed.
pub fn exec_child(args: &vkrt::Args) -> i32 {
    let argv_ok = args.iter().skip(1).eq(EXEC_ARGS.iter().copied());
    let env_ok = args.envs().eq(EXEC_ENV.iter().copied());
    i32::from(!(argv_ok && env_ok))
}

/// `usertests --check-fds A B`: exits 0 if `A` is closed and `B` open.
pub fn check_fds(args: &vkrt::Args) -> i32 {
    let fd = |i| {
        args.get_str(i)
            .and_then(|s| s.parse::<i32>().ok())
            .unwrap_or(-1)
    };
    let mut st = sys::Stat::default();
    let closed = sys::fstat(fd(2), &mut st) == Err(Errno::EBADF);
    let open = sys::fstat(fd(3), &mut st).is_ok();
    i32::from(!(closed && open))
}

/// vk_procs lists this process, running, under its name (vkernel only).
pub fn vk_procs(ctx: &Ctx) -> Outcome {
    ctx.vkernel_only()?;
    let mut buf = vec![0u8; 8192];
    let n = call("vk_procs", sys::vk_procs(&mut buf))?;
    let me = call("getpid", sys::getpid())?;
    let prefix = format!("{me} ");
    let line = buf[..n]
        .split(|&b| b == b'\n')
        .find(|l| l.starts_with(prefix.as_bytes()));
    let Some(line) = line else {
        return Err(Stop::Fail(format!("our pid {me} is not in the list")));
    };
    let fields: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    ensure(
        fields.len() >= 4 && fields[2] == b"R",
        "we are not listed as running (R)",
    )?;
    ensure(
        fields[3].windows(9).any(|w| w == b"usertests"),
        "we are not listed as usertests",
    )
}
