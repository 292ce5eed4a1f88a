//! proc: system calls on processes, signals and time (fork, execve, wait4, exit, clocks).
//!
//! Same conventions as the rest of [`crate::sys`] (which re-exports all of this):
//! `Result<usize, Errno>`, safe unless a raw pointer is involved. Guests are
//! single-threaded, which is what makes [`fork`] safe here. The wait-status helpers
//! ([`wifexited`] and friends) decode what [`wait4`] stores.
//!
//! ```ignore
//! match sys::fork()? {
//!     0 => sys::exit_group(7),
//!     child => {
//!         let mut status = 0;
//!         sys::wait4(child as i32, Some(&mut status), 0)?;
//!         assert!(sys::wifexited(status) && sys::wexitstatus(status) == 7);
//!     }
//! }
//! ```

use core::ffi::CStr;

use super::{check, nr, syscall0, syscall1, syscall2, syscall4, Errno};

/// Ends the whole process (every thread) with `status` (the parent sees `status & 0xff`).
pub fn exit_group(status: i32) -> ! {
    // SAFETY: ending the process is always sound; nothing runs afterwards.
    unsafe { syscall1(nr::EXIT_GROUP, status as usize) };
    // The kernel does not return from exit_group; if a broken one does, stop here.
    loop {
        core::hint::spin_loop();
    }
}

/// Ends the calling thread with `status` (the whole process when it is the only one).
pub fn exit(status: i32) -> ! {
    // SAFETY: as for `exit_group`.
    unsafe { syscall1(nr::EXIT, status as usize) };
    loop {
        core::hint::spin_loop();
    }
}

/// The caller's process id.
pub fn getpid() -> Result<usize, Errno> {
    // SAFETY: touches no memory.
    check(unsafe { syscall0(nr::GETPID) })
}

/// The parent's process id.
pub fn getppid() -> Result<usize, Errno> {
    // SAFETY: touches no memory.
    check(unsafe { syscall0(nr::GETPPID) })
}

/// Creates a child process, a copy of this one: returns the child's pid in the parent
/// and 0 in the child.
///
/// Safe because guests are single-threaded: the child is a complete copy, including the
/// heap's state (see [`crate::heap`]), and no other thread can hold a lock.
pub fn fork() -> Result<usize, Errno> {
    // SAFETY: see above; the calling thread continues in both processes.
    check(unsafe { syscall0(nr::FORK) })
}

/// Replaces the program with `path`; returns only on failure.
///
/// # Safety
/// `argv` and `envp` must point at NULL-terminated arrays of pointers to NUL-terminated
/// strings (the C `char *const[]` convention), all valid until the call returns.
pub unsafe fn execve(
    path: &CStr,
    argv: *const *const u8,
    envp: *const *const u8,
) -> Result<usize, Errno> {
    // SAFETY: the kernel reads `path` and the arrays, which the caller vouches for.
    check(unsafe {
        super::syscall3(
            nr::EXECVE,
            path.as_ptr() as usize,
            argv as usize,
            envp as usize,
        )
    })
}

/// [`wait4`] option: return 0 instead of blocking when no child has changed state.
pub const WNOHANG: i32 = 1;
/// [`wait4`] option: also report stopped children.
pub const WUNTRACED: i32 = 2;

/// Waits for child `pid` (-1: any child) to change state; returns its pid. The status
/// word goes to `status` (decode with [`wifexited`] etc.); resource usage is not asked for.
pub fn wait4(pid: i32, status: Option<&mut i32>, options: i32) -> Result<usize, Errno> {
    let status = status.map_or(0, |s| s as *mut i32 as usize);
    // SAFETY: the kernel writes one `int` to `status` when it is not null.
    check(unsafe { syscall4(nr::WAIT4, pid as usize, status, options as usize, 0) })
}

/// True if the child exited normally (through `exit`/`exit_group`).
pub fn wifexited(status: i32) -> bool {
    status & 0x7f == 0
}

/// The exit status of a child for which [`wifexited`] is true.
pub fn wexitstatus(status: i32) -> i32 {
    (status >> 8) & 0xff
}

/// True if the child was killed by a signal.
pub fn wifsignaled(status: i32) -> bool {
    let sig = status & 0x7f;
    sig != 0 && sig != 0x7f
}

/// The signal that killed a child for which [`wifsignaled`] is true.
pub fn wtermsig(status: i32) -> i32 {
    status & 0x7f
}

/// How a child ended, decoded from the status word of [`wait4`].
///
/// Linux (and the vkernel) encode "exited with `code`" as `code << 8` and "killed by
/// signal `sig`" as `sig` (plus 0x80 if it dumped core); anything else is a stop or a
/// continue, which only `WUNTRACED`/`WCONTINUED` report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitStatus {
    /// Exited normally with this code (0..=255).
    Exited(i32),
    /// Killed by this signal.
    Signaled(i32),
    /// Stopped or continued: the raw status word.
    Other(i32),
}

impl WaitStatus {
    /// Decodes a status word stored by [`wait4`].
    pub fn decode(status: i32) -> WaitStatus {
        if wifexited(status) {
            WaitStatus::Exited(wexitstatus(status))
        } else if wifsignaled(status) {
            WaitStatus::Signaled(wtermsig(status))
        } else {
            WaitStatus::Other(status)
        }
    }

    /// The status as a shell reports it in `$?`: the exit code, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            WaitStatus::Exited(code) => code,
            WaitStatus::Signaled(sig) => 128 + sig,
            WaitStatus::Other(raw) => 128 + ((raw >> 8) & 0x7f),
        }
    }

    /// True for `Exited(0)`.
    pub fn success(self) -> bool {
        self == WaitStatus::Exited(0)
    }
}

/// Signal: hangup.
pub const SIGHUP: i32 = 1;
/// Signal: interrupt (Ctrl-C).
pub const SIGINT: i32 = 2;
/// Signal: illegal instruction.
pub const SIGILL: i32 = 4;
/// Signal: trace/breakpoint trap.
pub const SIGTRAP: i32 = 5;
/// Signal: abort.
pub const SIGABRT: i32 = 6;
/// Signal: arithmetic exception.
pub const SIGFPE: i32 = 8;
/// Signal: kill (cannot be caught).
pub const SIGKILL: i32 = 9;
/// Signal: invalid memory reference.
pub const SIGSEGV: i32 = 11;
/// Signal: write to a pipe with no reader.
pub const SIGPIPE: i32 = 13;
/// Signal: termination request.
pub const SIGTERM: i32 = 15;
/// Signal: a child stopped or exited.
pub const SIGCHLD: i32 = 17;

/// Sends signal `sig` to process `pid`.
pub fn kill(pid: i32, sig: i32) -> Result<usize, Errno> {
    // SAFETY: touches no memory of ours (it may end this process, which is sound).
    check(unsafe { syscall2(nr::KILL, pid as usize, sig as usize) })
}

/// A time as seconds and nanoseconds (`struct timespec`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timespec {
    /// Seconds.
    pub tv_sec: i64,
    /// Nanoseconds, `0..1_000_000_000`.
    pub tv_nsec: i64,
}

/// Wall-clock time, for [`clock_gettime`].
pub const CLOCK_REALTIME: i32 = 0;
/// Time since some fixed point (boot), never going backwards.
pub const CLOCK_MONOTONIC: i32 = 1;

/// Sleeps for `req`; if interrupted (`EINTR`), the time left goes to `rem`.
pub fn nanosleep(req: &Timespec, rem: Option<&mut Timespec>) -> Result<usize, Errno> {
    let rem = rem.map_or(0, |r| r as *mut Timespec as usize);
    // SAFETY: the kernel reads `req` and writes `rem` when it is not null.
    check(unsafe { syscall2(nr::NANOSLEEP, req as *const Timespec as usize, rem) })
}

/// Reads clock `clock` (`CLOCK_*`) into `ts`.
pub fn clock_gettime(clock: i32, ts: &mut Timespec) -> Result<usize, Errno> {
    // SAFETY: the kernel writes one `struct timespec` into `ts`.
    check(unsafe {
        syscall2(
            nr::CLOCK_GETTIME,
            clock as usize,
            ts as *mut Timespec as usize,
        )
    })
}

/// Gives up the CPU to another runnable process.
pub fn sched_yield() -> Result<usize, Errno> {
    // SAFETY: touches no memory.
    check(unsafe { syscall0(nr::SCHED_YIELD) })
}

/// [`arch_prctl`]: set the `gs` base.
pub const ARCH_SET_GS: i32 = 0x1001;
/// [`arch_prctl`]: set the `fs` base (thread-local storage).
pub const ARCH_SET_FS: i32 = 0x1002;
/// [`arch_prctl`]: store the `fs` base at address `addr`.
pub const ARCH_GET_FS: i32 = 0x1003;
/// [`arch_prctl`]: store the `gs` base at address `addr`.
pub const ARCH_GET_GS: i32 = 0x1004;

/// x86-64 specific thread state: `code` is an `ARCH_*` constant.
///
/// # Safety
/// For the `SET` codes, `addr` becomes a segment base that code may use for
/// thread-local storage; for the `GET` codes, `addr` must point at a writable `u64`.
pub unsafe fn arch_prctl(code: i32, addr: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    check(unsafe { syscall2(nr::ARCH_PRCTL, code as usize, addr) })
}

/// Length of each field of [`Utsname`], NUL included.
pub const UTSNAME_LEN: usize = 65;

/// The kernel's `struct utsname`, filled by [`uname`]: six NUL-terminated strings.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Utsname {
    /// Kernel name: `"Linux"`, or `"vkernel"` under the vkernel.
    pub sysname: [u8; UTSNAME_LEN],
    /// Host name.
    pub nodename: [u8; UTSNAME_LEN],
    /// Kernel release.
    pub release: [u8; UTSNAME_LEN],
    /// Kernel version.
    pub version: [u8; UTSNAME_LEN],
    /// Hardware: `"x86_64"`.
    pub machine: [u8; UTSNAME_LEN],
    /// NIS domain name (a GNU extension).
    pub domainname: [u8; UTSNAME_LEN],
}

impl Default for Utsname {
    fn default() -> Utsname {
        let empty = [0; UTSNAME_LEN];
        Utsname {
            sysname: empty,
            nodename: empty,
            release: empty,
            version: empty,
            machine: empty,
            domainname: empty,
        }
    }
}

impl Utsname {
    /// A field without its NUL and what follows: `Utsname::field(&u.sysname)`.
    pub fn field(bytes: &[u8; UTSNAME_LEN]) -> &[u8] {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(UTSNAME_LEN);
        &bytes[..end]
    }
}

/// Fills `buf` with the names of the kernel and the machine.
pub fn uname(buf: &mut Utsname) -> Result<usize, Errno> {
    // SAFETY: the kernel writes one `struct utsname`, which `Utsname` mirrors exactly.
    check(unsafe { syscall1(nr::UNAME, buf as *mut Utsname as usize) })
}

// ANCHOR: vk-procs
/// The vkernel's process list (call 1000): writes lines `<pid> <ppid> <state> <name>\n`
/// into `buf` and returns the number of bytes written. Linux answers `ENOSYS`.
pub fn vk_procs(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    check(unsafe { syscall2(nr::VK_PROCS, buf.as_mut_ptr() as usize, buf.len()) })
}
// ANCHOR_END: vk-procs
