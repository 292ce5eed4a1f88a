//! syscheck: runs every typed system call wrapper of `vkrt::sys` against the kernel.
//!
//! Usage: `syscheck [SCRATCH_DIR]` (default `/tmp`). Prints `ok <check>` or
//! `FAIL <check>: <why>` per check, then `syscheck: <p> passed, <f> failed`, and exits
//! with the number of failures. On Linux everything passes, which is how the wrappers are
//! tested; on the vkernel it is a conformance test of the system calls it implements.
//! The directory check creates and removes `SCRATCH_DIR/syscheck-<pid>`.
//! `syscheck --exit N` exits with N at once (the `execve` check runs itself that way).

#![no_std]
#![no_main]

extern crate alloc;

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::CStr;

use vkrt::sys::{self, Errno, IoSlice, IoSliceMut, Stat, Timespec};
use vkrt::{println, Args};

vkrt::entry!(main);

/// What a check returns: `Err` carries the reason it failed.
type Check = Result<(), String>;

/// Turns a system call error into a failure message naming the call.
fn call<T>(what: &str, r: Result<T, Errno>) -> Result<T, String> {
    r.map_err(|e| format!("{what}: {} ({e})", e.name()))
}

/// Fails with `why` unless `cond` holds.
fn ensure(cond: bool, why: &str) -> Check {
    if cond {
        Ok(())
    } else {
        Err(String::from(why))
    }
}

fn main(args: Args) -> i32 {
    if args.get_str(1) == Some("--exit") {
        return args.get_str(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    }
    let me = CString::new(args.get(0).unwrap_or(b"")).unwrap_or_default();
    let scratch = args.get_str(1).unwrap_or("/tmp");
    let checks: [(&str, &dyn Fn() -> Check); 14] = [
        ("ids", &ids),
        ("errors", &errors),
        ("pipe", &pipe),
        ("dup", &dup),
        ("vectored", &vectored),
        ("file", &|| file(&me)),
        ("mmap", &mmap),
        ("brk", &brk),
        ("fork-wait", &fork_wait),
        ("kill", &kill),
        ("execve", &|| execve(&me)),
        ("time", &time),
        ("arch_prctl", &arch_prctl),
        ("directory", &|| directory(scratch)),
    ];
    let mut failed = 0;
    for (name, check) in checks {
        match check() {
            Ok(()) => println!("ok {name}"),
            Err(why) => {
                failed += 1;
                println!("FAIL {name}: {why}");
            }
        }
    }
    println!(
        "syscheck: {} passed, {failed} failed",
        checks.len() - failed
    );
    failed as i32
}

fn ids() -> Check {
    ensure(call("getpid", sys::getpid())? > 0, "pid is 0")?;
    call("getppid", sys::getppid())?;
    call("sched_yield", sys::sched_yield()).map(drop)
}

fn errors() -> Check {
    ensure(
        sys::close(-1) == Err(Errno::EBADF),
        "close(-1) is not EBADF",
    )?;
    let missing = sys::openat(sys::AT_FDCWD, c"/no/such/file", sys::O_RDONLY, 0);
    ensure(
        missing == Err(Errno::ENOENT),
        "opening a missing file is not ENOENT",
    )?;
    // SAFETY: an unknown system call number does nothing but fail.
    let unknown = sys::check(unsafe { sys::syscall0(100_000) });
    ensure(
        unknown == Err(Errno::ENOSYS),
        "an unknown system call is not ENOSYS",
    )
}

/// Makes a pipe, returning (read end, write end).
fn new_pipe() -> Result<(i32, i32), String> {
    let mut fds = [-1; 2];
    call("pipe2", sys::pipe2(&mut fds, sys::O_CLOEXEC))?;
    Ok((fds[0], fds[1]))
}

fn pipe() -> Check {
    let (r, w) = new_pipe()?;
    ensure(call("write", sys::write(w, b"ping"))? == 4, "short write")?;
    let mut buf = [0; 8];
    let n = call("read", sys::read(r, &mut buf))?;
    ensure(&buf[..n] == b"ping", "read back something else")?;
    let mut termios = [0u8; 64];
    // SAFETY: TCGETS writes a `struct termios` (60 bytes) into `termios` at most; a pipe
    // is no terminal, so it should write nothing and fail.
    let tty = unsafe { sys::ioctl(r, 0x5401, termios.as_mut_ptr() as usize) };
    ensure(tty == Err(Errno::ENOTTY), "TCGETS on a pipe is not ENOTTY")?;
    call("close", sys::close(w))?;
    ensure(call("read", sys::read(r, &mut buf))? == 0, "no end of file")?;
    call("close", sys::close(r)).map(drop)
}

fn dup() -> Check {
    let (r, w) = new_pipe()?;
    let w2 = call("dup", sys::dup(w))? as i32;
    let w3 = call("dup2", sys::dup2(w, w2 + 1))? as i32;
    ensure(w3 == w2 + 1, "dup2 returned another descriptor")?;
    ensure(
        sys::dup3(w, w, 0) == Err(Errno::EINVAL),
        "dup3(fd, fd) is not EINVAL",
    )?;
    let w4 = call("dup3", sys::dup3(w, w3 + 1, sys::O_CLOEXEC))? as i32;
    for (fd, byte) in [(w2, b"a"), (w3, b"b"), (w4, b"c")] {
        call("write", sys::write(fd, byte))?;
        call("close", sys::close(fd))?;
    }
    call("close", sys::close(w))?;
    let mut buf = [0; 4];
    let n = call("read", sys::read(r, &mut buf))?;
    ensure(
        &buf[..n] == b"abc",
        "the copies do not write to the same pipe",
    )?;
    call("close", sys::close(r)).map(drop)
}

fn vectored() -> Check {
    let (r, w) = new_pipe()?;
    let out = [IoSlice::new(b"hello, "), IoSlice::new(b"world")];
    ensure(call("writev", sys::writev(w, &out))? == 12, "short writev")?;
    let (mut a, mut b) = ([0u8; 5], [0u8; 7]);
    let n = call(
        "readv",
        sys::readv(r, &mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)]),
    )?;
    ensure(
        n == 12 && &a == b"hello" && &b == b", world",
        "readv scattered wrongly",
    )?;
    call("close", sys::close(w))?;
    call("close", sys::close(r)).map(drop)
}

fn file(me: &CStr) -> Check {
    let fd = call(
        "openat",
        sys::openat(sys::AT_FDCWD, me, sys::O_RDONLY | sys::O_CLOEXEC, 0),
    )? as i32;
    let mut st = Stat::default();
    call("fstat", sys::fstat(fd, &mut st))?;
    ensure(
        st.is_file() && st.st_size > 64,
        "my own program is not a regular file",
    )?;
    let mut magic = [0; 4];
    call("read", sys::read(fd, &mut magic))?;
    ensure(
        &magic == b"\x7fELF",
        "my own program does not start with the ELF magic",
    )?;
    let end = call("lseek", sys::lseek(fd, 0, sys::SEEK_END))?;
    ensure(end as i64 == st.st_size, "lseek(SEEK_END) is not the size")?;
    call("close", sys::close(fd)).map(drop)
}

fn mmap() -> Check {
    let len = 2 * 4096;
    let (prot, flags) = (
        sys::PROT_READ | sys::PROT_WRITE,
        sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
    );
    // SAFETY: a new anonymous mapping where the kernel chooses overlaps nothing of ours.
    let addr = call("mmap", unsafe { sys::mmap(0, len, prot, flags, -1, 0) })?;
    let p = addr as *mut u8;
    // SAFETY: [addr, addr + len) is our fresh read-write mapping; nothing else uses it.
    unsafe {
        ensure(*p.add(len - 1) == 0, "anonymous memory is not zeroed")?;
        p.add(4096).write(0x5a);
        call("mprotect", sys::mprotect(addr, len, sys::PROT_READ))?;
        ensure(p.add(4096).read() == 0x5a, "mprotect lost the data")?;
        call("munmap", sys::munmap(addr, len)).map(drop)
    }
}

fn brk() -> Check {
    // SAFETY: brk(0) only asks; the runtime's heap does not use brk, so moving the break
    // up and back down again touches memory that only this check uses.
    unsafe {
        let start = call("brk", sys::brk(0))?;
        let grown = call("brk", sys::brk(start + 4096))?;
        ensure(grown == start + 4096, "brk did not move the break")?;
        (start as *mut u8).write(1);
        ensure(
            call("brk", sys::brk(start))? == start,
            "brk did not move back",
        )
    }
}

/// Waits for `pid`, returning its raw wait status.
fn reap(pid: usize) -> Result<i32, String> {
    let mut status = 0;
    let got = call("wait4", sys::wait4(pid as i32, Some(&mut status), 0))?;
    ensure(got == pid, "wait4 returned another child")?;
    Ok(status)
}

fn fork_wait() -> Check {
    let none = sys::wait4(-1, None, sys::WNOHANG);
    ensure(
        none == Err(Errno::ECHILD),
        "wait4 without children is not ECHILD",
    )?;
    match call("fork", sys::fork())? {
        0 => sys::exit_group(42),
        child => {
            let status = reap(child)?;
            ensure(
                sys::wifexited(status) && sys::wexitstatus(status) == 42,
                "bad exit status",
            )
        }
    }
}

fn kill() -> Check {
    match call("fork", sys::fork())? {
        0 => {
            let _ = sys::nanosleep(
                &Timespec {
                    tv_sec: 10,
                    tv_nsec: 0,
                },
                None,
            );
            sys::exit_group(0)
        }
        child => {
            call("kill", sys::kill(child as i32, sys::SIGKILL))?;
            let status = reap(child)?;
            ensure(
                sys::wifsignaled(status) && sys::wtermsig(status) == sys::SIGKILL,
                "not killed",
            )
        }
    }
}

fn execve(me: &CStr) -> Check {
    match call("fork", sys::fork())? {
        0 => {
            let argv = [
                me.as_ptr().cast(),
                c"--exit".as_ptr().cast(),
                c"7".as_ptr().cast(),
                core::ptr::null(),
            ];
            let envp = [core::ptr::null()];
            // SAFETY: both arrays are NULL-terminated and point at NUL-terminated strings.
            let _ = unsafe { sys::execve(me, argv.as_ptr(), envp.as_ptr()) };
            sys::exit_group(99)
        }
        child => {
            let status = reap(child)?;
            ensure(
                sys::wifexited(status) && sys::wexitstatus(status) == 7,
                "exec'd program did not run",
            )
        }
    }
}

fn time() -> Check {
    let (mut before, mut after, mut wall) = (
        Timespec::default(),
        Timespec::default(),
        Timespec::default(),
    );
    call(
        "clock_gettime",
        sys::clock_gettime(sys::CLOCK_MONOTONIC, &mut before),
    )?;
    call(
        "nanosleep",
        sys::nanosleep(
            &Timespec {
                tv_sec: 0,
                tv_nsec: 2_000_000,
            },
            None,
        ),
    )?;
    call(
        "clock_gettime",
        sys::clock_gettime(sys::CLOCK_MONOTONIC, &mut after),
    )?;
    let slept = (after.tv_sec - before.tv_sec) * 1_000_000_000 + (after.tv_nsec - before.tv_nsec);
    ensure(
        slept >= 2_000_000,
        "the monotonic clock moved less than the sleep",
    )?;
    call(
        "clock_gettime",
        sys::clock_gettime(sys::CLOCK_REALTIME, &mut wall),
    )?;
    ensure(wall.tv_sec > 1_600_000_000, "the wall clock is before 2020")
}

fn arch_prctl() -> Check {
    let mut old: u64 = 0;
    // SAFETY: the runtime uses no thread-local storage, so the fs base is ours to change
    // and restore; GET_FS writes one u64 to `old`.
    unsafe {
        call(
            "arch_prctl",
            sys::arch_prctl(sys::ARCH_GET_FS, &mut old as *mut u64 as usize),
        )?;
        call("arch_prctl", sys::arch_prctl(sys::ARCH_SET_FS, 0x1234_5000))?;
        let mut now: u64 = 0;
        call(
            "arch_prctl",
            sys::arch_prctl(sys::ARCH_GET_FS, &mut now as *mut u64 as usize),
        )?;
        call(
            "arch_prctl",
            sys::arch_prctl(sys::ARCH_SET_FS, old as usize),
        )?;
        ensure(
            now == 0x1234_5000,
            "ARCH_GET_FS did not return what ARCH_SET_FS set",
        )
    }
}

/// The names in the directory `fd`, read with getdents64.
fn list(fd: i32) -> Result<Vec<Vec<u8>>, String> {
    let (mut names, mut buf) = (Vec::new(), [0u8; 1024]);
    loop {
        let n = call("getdents64", sys::getdents64(fd, &mut buf))?;
        if n == 0 {
            return Ok(names);
        }
        names.extend(sys::Dirents::new(&buf[..n]).map(|d| d.name.to_vec()));
    }
}

fn directory(scratch: &str) -> Check {
    let scratch = CString::new(scratch).map_err(|_| "bad scratch directory")?;
    call("chdir", sys::chdir(&scratch))?;
    let mut cwd = [0u8; 4096];
    let n = call("getcwd", sys::getcwd(&mut cwd))?;
    ensure(
        n > 1 && cwd[0] == b'/' && cwd[n - 1] == 0,
        "getcwd is not an absolute path",
    )?;

    let name = format!("syscheck-{}", call("getpid", sys::getpid())?);
    let dir = CString::new(name.as_str()).unwrap_or_default();
    let file = CString::new(format!("{name}/file")).unwrap_or_default();
    call("mkdirat", sys::mkdirat(sys::AT_FDCWD, &dir, 0o755))?;
    let made = sys::mkdirat(sys::AT_FDCWD, &dir, 0o755);
    ensure(made == Err(Errno::EEXIST), "making it twice is not EEXIST")?;
    let flags = sys::O_WRONLY | sys::O_CREAT | sys::O_EXCL | sys::O_CLOEXEC;
    let fd = call("openat", sys::openat(sys::AT_FDCWD, &file, flags, 0o644))? as i32;
    call("close", sys::close(fd))?;
    call("chdir", sys::chdir(&dir))?;
    let fd = call(
        "openat",
        sys::openat(sys::AT_FDCWD, c".", sys::O_RDONLY | sys::O_DIRECTORY, 0),
    )? as i32;
    let mut names = list(fd)?;
    call("close", sys::close(fd))?;
    names.sort();
    ensure(
        names == [&b"."[..], b"..", b"file"],
        "getdents64 does not list . .. file",
    )?;
    call("chdir", sys::chdir(c".."))?;
    let busy = sys::unlinkat(sys::AT_FDCWD, &dir, sys::AT_REMOVEDIR);
    ensure(
        busy == Err(Errno::ENOTEMPTY),
        "removing a full directory is not ENOTEMPTY",
    )?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &file, 0))?;
    call(
        "unlinkat",
        sys::unlinkat(sys::AT_FDCWD, &dir, sys::AT_REMOVEDIR),
    )
    .map(drop)
}
