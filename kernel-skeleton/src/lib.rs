//! The vkernel: a kernel that runs as an ordinary Linux process.
//!
//! Its hardware is the `vmspace` crate: RAM, an MMU that walks this kernel's page tables,
//! traps, a timer. Everything here is safe Rust (`#![forbid(unsafe_code)]`); the kernel
//! talks to the machine only through `vmspace`'s API.
//!
//! - `mm`: frames, page tables, address spaces, copying to and from guests.
//! - `exec`: loading ELF programs and their initial stack.
//! - `syscall`: the system call table.
//! - `kernel`: boot and the trap loop.
#![forbid(unsafe_code)]

pub mod errno;
pub mod exec;
pub mod fs;
pub mod kernel;
pub mod mm;
pub mod syscall;

/// The exit status of the vkernel process after a kernel panic.
pub const PANIC_EXIT_STATUS: i32 = 70;
