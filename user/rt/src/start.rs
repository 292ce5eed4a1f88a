//! start: the process entry point `_start`, from the kernel's initial stack to `main`.
//!
//! The kernel (Linux, or the vkernel's `execve`) starts a new program at the ELF entry
//! point, `_start`, with `rsp` pointing at the System V initial stack:
//!
//! ```text
//! rsp ->  argc
//!         argv[0] .. argv[argc-1], NULL
//!         envp[0] .. envp[n-1],    NULL
//!         (key, value) auxv pairs, ending with (AT_NULL, 0)
//!         ... the strings and the 16 AT_RANDOM bytes, higher up
//! ```
//!
//! No register other than `rsp` carries anything we use (`rdx` may hold a function to
//! register with `atexit`, which a static program ignores). `_start` is a few
//! instructions of assembly: clear `rbp` (so a debugger's frame walk stops here), hand the
//! initial `rsp` to [`start_rust`] in `rdi`, and align the stack to 16 bytes as the ABI
//! requires at a `call`. [`start_rust`] records the stack for [`crate::args`], calls the
//! program's `main` (declared with [`crate::entry!`]) and exits with its result.
//! Programs never call anything here; the module is public for its documentation.

use crate::{args, sys, Args};

core::arch::global_asm!(
    // Its own section, so that `--gc-sections` keeps it as the entry point.
    ".pushsection .text._start,\"ax\",@progbits",
    ".globl _start",
    ".type _start,@function",
    "_start:",
    ".cfi_startproc",
    // There is no caller: tell unwinders and debuggers the return address is undefined.
    ".cfi_undefined rip",
    "xor ebp, ebp",
    "mov rdi, rsp",
    "and rsp, -16",
    "call {start_rust}",
    // start_rust never returns; trap if it somehow does.
    "ud2",
    ".cfi_endproc",
    ".size _start, . - _start",
    ".popsection",
    start_rust = sym start_rust,
);

unsafe extern "Rust" {
    /// Defined by the program through [`crate::entry!`].
    fn __vkrt_main(args: Args) -> i32;
}

// ANCHOR: start-rust
/// The Rust half of `_start`: parse the initial stack at `sp`, run `main`, exit.
///
/// # Safety
/// Only `_start` may call this, exactly once, with the stack pointer the kernel gave the
/// process: `sp` must point at a well-formed System V initial stack that stays mapped
/// and unchanged for the life of the process.
pub unsafe extern "C" fn start_rust(sp: *const usize) -> ! {
    // SAFETY: our caller, `_start`, passes the kernel's initial stack pointer, which is
    // exactly what `install` requires; nothing has run before us that could read it.
    let args = unsafe { args::install(sp) };
    // SAFETY: `__vkrt_main` is defined by `vkrt::entry!` with exactly this signature;
    // it is an ordinary safe Rust function.
    let status = unsafe { __vkrt_main(args) };
    sys::exit_group(status)
}
// ANCHOR_END: start-rust
