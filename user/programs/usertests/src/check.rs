//! check: what the tests are made of: outcomes, assertions, children, wild pointers.
//!
//! A test is a `fn(&Ctx) -> Outcome`. It stops at the first failed check with
//! `Err(Stop::Fail(why))`, where `why` names the system call and what it did wrong, so
//! that `test pipe: FAILED: write to a pipe without readers: expected EPIPE, got Ok(4)`
//! is enough to start debugging.

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Debug;

use vkrt::fs::{cstring, join};
use vkrt::sys::{self, Errno, WaitStatus};

/// Why a test stopped early.
#[derive(Debug)]
pub enum Stop {
    /// A check failed; the text says which and how.
    Fail(String),
    /// The test does not apply here (it needs the vkernel).
    Skip(&'static str),
}

/// What a test returns.
pub type Outcome = Result<(), Stop>;

/// What every test gets.
#[derive(Debug)]
pub struct Ctx {
    /// A directory of its own for this run's files (removed at the end).
    pub dir: Vec<u8>,
    /// The path of this program, for the `execve` tests.
    pub me: Vec<u8>,
    /// True on the vkernel (its `uname` says so), false natively on Linux.
    pub vkernel: bool,
}

impl Ctx {
    /// `name` inside the run's directory.
    pub fn path(&self, name: &str) -> Vec<u8> {
        join(&self.dir, name.as_bytes())
    }

    /// The same, NUL-terminated for a system call.
    pub fn cpath(&self, name: &str) -> CString {
        cstring(&self.path(name)).unwrap_or_default()
    }

    /// Skips the test unless running on the vkernel.
    pub fn vkernel_only(&self) -> Outcome {
        if self.vkernel {
            Ok(())
        } else {
            Err(Stop::Skip("not on vkernel"))
        }
    }
}

/// Fails with `why` unless `cond` holds.
pub fn ensure(cond: bool, why: impl Into<String>) -> Outcome {
    if cond {
        Ok(())
    } else {
        Err(Stop::Fail(why.into()))
    }
}

/// The value of a system call that must succeed; a failure names `what`.
pub fn call<T>(what: &str, r: Result<T, Errno>) -> Result<T, Stop> {
    r.map_err(|e| Stop::Fail(format!("{what}: {} ({e})", e.name())))
}

/// Checks that a system call succeeded with the value `want`.
pub fn expect_eq<T: PartialEq + Debug>(what: &str, got: Result<T, Errno>, want: T) -> Outcome {
    match got {
        Ok(v) if v == want => Ok(()),
        Ok(v) => Err(Stop::Fail(format!("{what}: expected {want:?}, got {v:?}"))),
        Err(e) => Err(Stop::Fail(format!("{what}: {} ({e})", e.name()))),
    }
}

/// Checks that a system call failed with exactly `expected`.
pub fn expect_err<T: Debug>(what: &str, r: Result<T, Errno>, expected: Errno) -> Outcome {
    match r {
        Err(e) if e == expected => Ok(()),
        Err(e) => Err(Stop::Fail(format!(
            "{what}: expected {}, got {}",
            expected.name(),
            e.name()
        ))),
        Ok(v) => Err(Stop::Fail(format!(
            "{what}: expected {}, got Ok({v:?})",
            expected.name()
        ))),
    }
}

/// Forks a child that runs `body` and exits with what it returns; returns the pid.
pub fn child(body: impl FnOnce() -> i32) -> Result<i32, Stop> {
    match call("fork", sys::fork())? {
        0 => sys::exit_group(body()),
        pid => Ok(pid as i32),
    }
}

/// Waits for child `pid`; returns its raw status word.
pub fn reap(pid: i32) -> Result<i32, Stop> {
    let mut status = 0;
    let got = call("wait4", sys::wait4(pid, Some(&mut status), 0))?;
    ensure(got as i32 == pid, format!("wait4({pid}) returned {got}"))?;
    Ok(status)
}

/// Waits for child `pid` and checks that it exited with `code`.
pub fn expect_exit(pid: i32, code: i32, what: &str) -> Outcome {
    let status = WaitStatus::decode(reap(pid)?);
    ensure(
        status == WaitStatus::Exited(code),
        format!("{what}: expected exit {code}, got {status:?}"),
    )
}

/// Makes a pipe (with `O_CLOEXEC`); returns (read end, write end).
pub fn pipe() -> Result<(i32, i32), Stop> {
    let mut fds = [-1; 2];
    call("pipe2", sys::pipe2(&mut fds, sys::O_CLOEXEC))?;
    Ok((fds[0], fds[1]))
}

/// Closes `fd`, which must be open.
pub fn close(fd: i32) -> Outcome {
    call("close", sys::close(fd)).map(drop)
}

/// An address in the kernel's half of the address space: never a user pointer.
pub const KERNEL_ADDRESS: usize = 0xffff_8000_0000_0000;

/// Addresses that no system call may read or write: the null page, a page that was just
/// unmapped, and a kernel address. Any call given one must fail with `EFAULT`.
pub fn wild_pointers() -> Result<[usize; 3], Stop> {
    let (prot, flags) = (sys::PROT_READ, sys::MAP_PRIVATE | sys::MAP_ANONYMOUS);
    // SAFETY: a fresh anonymous page where the kernel chooses, unmapped at once: no Rust
    // object ever lives there.
    let gone = unsafe {
        let page = call("mmap", sys::mmap(0, 4096, prot, flags, -1, 0))?;
        call("munmap", sys::munmap(page, 4096))?;
        page
    };
    Ok([0, gone, KERNEL_ADDRESS])
}

/// The same without the null pointer, for arguments where NULL means "none" (the status
/// of `wait4`, the `argv` of `execve`).
pub fn wild_non_null() -> Result<[usize; 2], Stop> {
    let [_, gone, kernel] = wild_pointers()?;
    Ok([gone, kernel])
}

/// A raw system call with up to four arguments, for passing bad pointers on purpose.
///
/// # Safety
/// The arguments must not let the kernel write to memory that Rust code uses: pointers
/// are wild (see [`wild_pointers`]) or point at buffers the caller owns.
pub unsafe fn raw(nr: usize, args: [usize; 4]) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    sys::check(unsafe { sys::syscall4(nr, args[0], args[1], args[2], args[3]) })
}

/// A pseudo-random sequence (xorshift64), the same for the same seed.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Fills `buf` with the next bytes of the sequence.
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// A checksum of `bytes` (FNV-1a), continuing from `hash` (start with [`FNV_START`]).
pub fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    hash
}

/// Where an FNV-1a checksum starts.
pub const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
