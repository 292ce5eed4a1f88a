//! sys: Linux x86-64 system calls, raw and typed; the only way a guest talks to its kernel.
//!
//! The ABI (the same under Linux and under the vkernel): the call number goes in `rax`,
//! up to six arguments in `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9`; the `syscall`
//! instruction clobbers `rcx` (return address) and `r11` (flags); the result comes back
//! in `rax`, where `-4095..=-1` means failure with that negated error number.
//!
//! Two layers:
//! * [`syscall0`] .. [`syscall6`]: the instruction itself, `unsafe`, returning the raw
//!   `rax`. Numbers are in [`nr`]. Use these for calls without a wrapper.
//! * Typed wrappers, re-exported here from [`fs`] (files and descriptors), [`proc`]
//!   (processes, time) and [`vm`] (memory): each returns `Result<usize, Errno>`, the
//!   kernel's non-negative result or its [`Errno`]. A wrapper is safe when the kernel can
//!   only touch memory the Rust types lend it (`read` into a `&mut [u8]`); it is `unsafe`
//!   when the call can break Rust's view of memory (`munmap`, `execve`'s raw arrays).
//!
//! ```ignore
//! use vkrt::sys;
//! match sys::write(1, b"hi\n") { Ok(n) => {}, Err(e) => vkrt::eprintln!("write: {e}") }
//! let pid = unsafe { sys::syscall0(sys::nr::GETPID) };
//! ```
//!
//! [`crate::io`] builds printing on [`write()`]; [`crate::heap`] grows with [`mmap`];
//! [`crate::start`] ends the process with [`exit_group`].

use core::arch::asm;

mod errno;
pub mod fs;
pub mod nr;
pub mod proc;
pub mod vm;

pub use errno::Errno;
pub use fs::*;
pub use proc::*;
pub use vm::*;

// ANCHOR: check
/// Turns a raw `rax` into a `Result`: `-4095..=-1` is an error number, anything else a
/// value.
#[inline]
pub fn check(ret: usize) -> Result<usize, Errno> {
    if ret > -4096isize as usize {
        Err(Errno::new(ret.wrapping_neg() as i32))
    } else {
        Ok(ret)
    }
}
// ANCHOR_END: check

/// System call `n` with no arguments; returns the raw `rax`.
///
/// # Safety
/// The call must be one whose effects Rust code can tolerate: every raw-call function
/// here is exactly as safe as the system call it makes (see the typed wrappers for which
/// ones are harmless).
#[inline]
pub unsafe fn syscall0(n: usize) -> usize {
    let ret;
    // SAFETY: the `syscall` instruction clobbers only rcx and r11 (declared) besides rax;
    // what the call itself does is the caller's responsibility (see # Safety).
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, lateout("rcx") _, lateout("r11") _,
             options(nostack));
    }
    ret
}

/// System call `n` with one argument; returns the raw `rax`.
///
/// # Safety
/// As for [`syscall0`], for call `n` with this argument.
#[inline]
pub unsafe fn syscall1(n: usize, a1: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a1,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call `n` with two arguments; returns the raw `rax`.
///
/// # Safety
/// As for [`syscall0`], for call `n` with these arguments.
#[inline]
pub unsafe fn syscall2(n: usize, a1: usize, a2: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

// ANCHOR: syscall3
/// System call `n` with three arguments; returns the raw `rax`.
///
/// # Safety
/// As for [`syscall0`], for call `n` with these arguments.
#[inline]
pub unsafe fn syscall3(n: usize, a1: usize, a2: usize, a3: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
             lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}
// ANCHOR_END: syscall3

/// System call `n` with four arguments (the fourth goes in `r10`, not `rcx`).
///
/// # Safety
/// As for [`syscall0`], for call `n` with these arguments.
#[inline]
pub unsafe fn syscall4(n: usize, a1: usize, a2: usize, a3: usize, a4: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
             in("r10") a4, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call `n` with five arguments; returns the raw `rax`.
///
/// # Safety
/// As for [`syscall0`], for call `n` with these arguments.
#[inline]
pub unsafe fn syscall5(n: usize, a1: usize, a2: usize, a3: usize, a4: usize, a5: usize) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
             in("r10") a4, in("r8") a5, lateout("rcx") _, lateout("r11") _, options(nostack));
    }
    ret
}

/// System call `n` with six arguments; returns the raw `rax`.
///
/// # Safety
/// As for [`syscall0`], for call `n` with these arguments.
#[inline]
pub unsafe fn syscall6(
    n: usize,
    a1: usize,
    a2: usize,
    a3: usize,
    a4: usize,
    a5: usize,
    a6: usize,
) -> usize {
    let ret;
    // SAFETY: as in `syscall0`.
    unsafe {
        asm!("syscall", inlateout("rax") n => ret, in("rdi") a1, in("rsi") a2, in("rdx") a3,
             in("r10") a4, in("r8") a5, in("r9") a6, lateout("rcx") _, lateout("r11") _,
             options(nostack));
    }
    ret
}
