//! Thin, safe wrappers around the host system calls the machine needs.
//!
//! Every `unsafe` call into `libc` in the crate that does not need to share state with a
//! signal handler lives here, each with its `// SAFETY:` argument, so that the rest of the
//! crate is ordinary safe Rust. Errors come back as [`std::io::Error`] with the OS errno.
//! Neighbours: `child.rs` (the pre-exec child code, which must stay async-signal-safe),
//! `kick.rs` (the signal handler).

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Turn a `-1` result into the current `errno`.
fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Attach a context string to an OS error, keeping its kind.
pub fn context(err: io::Error, what: &str) -> io::Error {
    io::Error::new(err.kind(), format!("{what}: {err}"))
}

/// `memfd_create(name, MFD_CLOEXEC | extra)`.
pub fn memfd_create(name: &CStr, extra: libc::c_uint) -> io::Result<OwnedFd> {
    // SAFETY: `name` is a valid NUL-terminated string; the call has no memory effects.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC | extra) };
    check(fd as libc::c_long)?;
    // SAFETY: the kernel just returned this descriptor to us and nobody else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `ftruncate(fd, len)`.
pub fn ftruncate(fd: &OwnedFd, len: u64) -> io::Result<()> {
    let len = libc::off_t::try_from(len).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: plain system call on a descriptor we own.
    check(unsafe { libc::ftruncate(fd.as_raw_fd(), len) } as libc::c_long).map(drop)
}

/// Add `F_SEAL_*` seals to a memfd.
pub fn add_seals(fd: &OwnedFd, seals: libc::c_int) -> io::Result<()> {
    // SAFETY: plain fcntl on a descriptor we own.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_ADD_SEALS, seals) } as libc::c_long)
        .map(drop)
}

/// Write all of `data` at offset `off` of `fd`.
pub fn pwrite_all(fd: &OwnedFd, mut data: &[u8], mut off: u64) -> io::Result<()> {
    while !data.is_empty() {
        // SAFETY: `data` is a valid readable buffer of `data.len()` bytes.
        let n = unsafe {
            libc::pwrite(
                fd.as_raw_fd(),
                data.as_ptr().cast(),
                data.len(),
                off as libc::off_t,
            )
        };
        let n = check(n as libc::c_long)? as usize;
        data = &data[n..];
        off += n as u64;
    }
    Ok(())
}

/// A shared read-write mapping of a whole file descriptor into the tracer.
///
/// The memory is foreign: guests and device threads change it behind our back, so it is
/// only ever accessed through raw pointers (never through Rust references).
#[derive(Debug)]
pub struct SharedMapping {
    base: *mut u8,
    len: usize,
}

impl SharedMapping {
    /// Map `len` bytes of `fd` read-write and shared.
    pub fn new(fd: &OwnedFd, len: usize) -> io::Result<Self> {
        // SAFETY: a fresh mapping chosen by the kernel; it aliases no Rust object.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(Self {
            base: base.cast(),
            len,
        })
    }

    /// The first byte of the mapping.
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }
}

impl Drop for SharedMapping {
    fn drop(&mut self) {
        // SAFETY: we own this mapping and nothing refers into it after drop (all access
        // goes through raw pointers derived from `self`).
        unsafe { libc::munmap(self.base.cast(), self.len) };
    }
}

/// The thread id of the calling thread.
pub fn gettid() -> libc::pid_t {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// `kill(pid, sig)`.
pub fn kill(pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: sending a signal has no memory effects in this process.
    check(unsafe { libc::kill(pid, sig) } as libc::c_long).map(drop)
}

/// `tgkill(tgid, tid, sig)`.
pub fn tgkill(tgid: libc::pid_t, tid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    // SAFETY: sending a signal has no memory effects in this process.
    check(unsafe { libc::syscall(libc::SYS_tgkill, tgid, tid, sig) }).map(drop)
}

/// The result of `waitpid` on a traced child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitStatus {
    /// Stopped: the stop signal and the ptrace event (status >> 16).
    Stopped {
        sig: libc::c_int,
        event: libc::c_int,
    },
    /// Exited with a status code.
    Exited(libc::c_int),
    /// Killed by a signal.
    Signaled(libc::c_int),
}

/// `waitpid(pid, __WALL)`, retried on `EINTR`.
pub fn waitpid(pid: libc::pid_t) -> io::Result<WaitStatus> {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
        if r == -1 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(err);
        }
        return Ok(if libc::WIFSTOPPED(status) {
            WaitStatus::Stopped {
                sig: libc::WSTOPSIG(status),
                event: status >> 16,
            }
        } else if libc::WIFSIGNALED(status) {
            WaitStatus::Signaled(libc::WTERMSIG(status))
        } else {
            WaitStatus::Exited(libc::WEXITSTATUS(status))
        });
    }
}

/// Raw ptrace with integer arguments.
fn ptrace(
    req: libc::c_uint,
    pid: libc::pid_t,
    addr: usize,
    data: usize,
) -> io::Result<libc::c_long> {
    // SAFETY: callers of this private helper pass requests whose `addr`/`data` are plain
    // integers (no pointers into our memory), so the call cannot write into this process.
    check(unsafe { libc::ptrace(req, pid, addr, data) })
}

/// `PTRACE_SEIZE` with options.
pub fn ptrace_seize(pid: libc::pid_t, options: libc::c_int) -> io::Result<()> {
    ptrace(libc::PTRACE_SEIZE, pid, 0, options as usize).map(drop)
}

/// Resume a stopped tracee with `req` (`PTRACE_CONT`, `PTRACE_SYSEMU`, ...) and a signal.
pub fn ptrace_resume(req: libc::c_uint, pid: libc::pid_t, sig: libc::c_int) -> io::Result<()> {
    ptrace(req, pid, 0, sig as usize).map(drop)
}

/// `PTRACE_INTERRUPT`: make a running tracee stop with `PTRACE_EVENT_STOP`.
pub fn ptrace_interrupt(pid: libc::pid_t) -> io::Result<()> {
    ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0).map(drop)
}

/// `PTRACE_GETREGS`.
pub fn getregs(pid: libc::pid_t) -> io::Result<libc::user_regs_struct> {
    let mut regs = std::mem::MaybeUninit::<libc::user_regs_struct>::zeroed();
    // SAFETY: the kernel writes exactly one `user_regs_struct` to the pointer.
    check(unsafe { libc::ptrace(libc::PTRACE_GETREGS, pid, 0, regs.as_mut_ptr()) })?;
    // SAFETY: zero-initialised and then filled by the kernel; all-integer struct.
    Ok(unsafe { regs.assume_init() })
}

/// `PTRACE_SETREGS`.
pub fn setregs(pid: libc::pid_t, regs: &libc::user_regs_struct) -> io::Result<()> {
    // SAFETY: the kernel only reads one `user_regs_struct` from the pointer.
    check(unsafe { libc::ptrace(libc::PTRACE_SETREGS, pid, 0, regs as *const _) }).map(drop)
}

/// `PTRACE_GETSIGINFO`: the signal that caused the current signal-delivery-stop.
pub fn getsiginfo(pid: libc::pid_t) -> io::Result<libc::siginfo_t> {
    let mut info = std::mem::MaybeUninit::<libc::siginfo_t>::zeroed();
    // SAFETY: the kernel writes one `siginfo_t` to the pointer.
    check(unsafe { libc::ptrace(libc::PTRACE_GETSIGINFO, pid, 0, info.as_mut_ptr()) })?;
    // SAFETY: zero-initialised and filled by the kernel.
    Ok(unsafe { info.assume_init() })
}

/// The fault address of a SIGSEGV/SIGBUS/SIGILL/SIGFPE `siginfo`.
pub fn siginfo_addr(info: &libc::siginfo_t) -> u64 {
    // SAFETY: for these signals the kernel fills the `_sigfault` member, which is what
    // `si_addr` reads; for others it reads whatever integer is there, which is harmless.
    unsafe { info.si_addr() as u64 }
}

/// `PTRACE_GETREGSET` for `note` into `buf`; returns the number of bytes the kernel wrote.
pub fn getregset(pid: libc::pid_t, note: libc::c_int, buf: &mut [u8]) -> io::Result<usize> {
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: the kernel writes at most `iov_len` bytes into `buf` and updates `iov_len`.
    check(unsafe {
        libc::ptrace(
            libc::PTRACE_GETREGSET,
            pid,
            note as usize,
            &mut iov as *mut _,
        )
    })?;
    Ok(iov.iov_len)
}

/// `PTRACE_SETREGSET` for `note` from `buf`.
pub fn setregset(pid: libc::pid_t, note: libc::c_int, buf: &[u8]) -> io::Result<()> {
    let iov = libc::iovec {
        iov_base: buf.as_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // SAFETY: the kernel only reads `iov_len` bytes from `buf`.
    check(unsafe { libc::ptrace(libc::PTRACE_SETREGSET, pid, note as usize, &iov as *const _) })
        .map(drop)
}

/// The calling thread's CPU affinity mask.
pub fn get_affinity() -> io::Result<libc::cpu_set_t> {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the kernel writes at most `size_of::<cpu_set_t>()` bytes into `set`.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    check(r as libc::c_long)?;
    Ok(set)
}

/// Set the calling thread's CPU affinity mask.
pub fn set_affinity(set: &libc::cpu_set_t) -> io::Result<()> {
    // SAFETY: the kernel reads the mask from `set`.
    let r = unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), set) };
    check(r as libc::c_long).map(drop)
}

/// A mask with exactly one CPU.
pub fn single_cpu(cpu: usize) -> libc::cpu_set_t {
    // SAFETY: cpu_set_t is plain data; all-zero is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET only writes inside `set`; out-of-range CPUs are ignored by libc.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    set
}

/// Is `cpu` in `set`?
pub fn cpu_in(set: &libc::cpu_set_t, cpu: usize) -> bool {
    // SAFETY: CPU_ISSET only reads inside `set`.
    unsafe { libc::CPU_ISSET(cpu, set) }
}

/// The CPU the calling thread runs on now.
pub fn current_cpu() -> Option<usize> {
    // SAFETY: sched_getcpu has no preconditions.
    let c = unsafe { libc::sched_getcpu() };
    usize::try_from(c).ok()
}

/// Read a clock (`CLOCK_MONOTONIC`, a process CPU clock, ...) in nanoseconds.
pub fn clock_ns(clock: libc::clockid_t) -> io::Result<u64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    check(unsafe { libc::clock_gettime(clock, &mut ts) } as libc::c_long)?;
    Ok(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64)
}

/// The CPU-time clock of another process.
pub fn process_cpu_clock(pid: libc::pid_t) -> io::Result<libc::clockid_t> {
    let mut clock: libc::clockid_t = 0;
    // SAFETY: `clock` is a valid out-pointer.
    let r = unsafe { libc::clock_getcpuclockid(pid, &mut clock) };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    Ok(clock)
}

/// A POSIX timer that sends `signo` to one thread of this process.
#[derive(Debug)]
pub struct ThreadTimer {
    id: libc::timer_t,
}

impl ThreadTimer {
    /// `timer_create(clock, SIGEV_THREAD_ID → tid, signo)`.
    pub fn new(clock: libc::clockid_t, tid: libc::pid_t, signo: libc::c_int) -> io::Result<Self> {
        // SAFETY: sigevent is plain data; all-zero is a valid starting point.
        let mut ev: libc::sigevent = unsafe { std::mem::zeroed() };
        ev.sigev_notify = libc::SIGEV_THREAD_ID;
        ev.sigev_signo = signo;
        ev.sigev_notify_thread_id = tid;
        let mut id: libc::timer_t = std::ptr::null_mut();
        // SAFETY: `ev` and `id` are valid pointers for the duration of the call.
        let r = unsafe { libc::timer_create(clock, &mut ev, &mut id) };
        check(r as libc::c_long)?;
        Ok(Self { id })
    }

    /// Arm the timer: first expiry after `first_ns` (relative), then every `period_ns`
    /// (0 = one-shot). `first_ns == 0` disarms it.
    pub fn arm(&self, first_ns: u64, period_ns: u64) -> io::Result<()> {
        let ts = |ns: u64| libc::timespec {
            tv_sec: (ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (ns % 1_000_000_000) as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: ts(period_ns),
            it_value: ts(first_ns),
        };
        // SAFETY: `spec` is valid for reading; we do not ask for the old value.
        let r = unsafe { libc::timer_settime(self.id, 0, &spec, std::ptr::null_mut()) };
        check(r as libc::c_long).map(drop)
    }
}

impl Drop for ThreadTimer {
    fn drop(&mut self) {
        // SAFETY: the id came from timer_create and is deleted once.
        unsafe { libc::timer_delete(self.id) };
    }
}
