//! The vkernel: a kernel that runs as an ordinary Linux process.
//!
//! Its hardware is the `vmspace` crate: RAM, an MMU that walks this kernel's page tables,
//! traps, a timer. Everything here is safe Rust (`#![forbid(unsafe_code)]`); the kernel
//! talks to the machine only through `vmspace`'s API.
//!
//! - `kernel`: boot, the scheduler loop, sleep/wakeup, exit, shutdown.
//! - `trap`: a process's trap loop and the context its system calls run in.
//! - `proc`: the process table.
//! - `sched`: scheduling policies, wait channels, kernel threads.
//! - `mm`: frames, page tables, regions, page faults, copying to and from guests.
//! - `exec`: loading ELF programs and their initial stack.
//! - `fs`: the RAM file system, pipes, open files.
//! - `syscall`: the system call table.
#![forbid(unsafe_code)]

pub mod cli;
pub mod errno;
pub mod exec;
pub mod fs;
pub mod kernel;
pub mod mm;
pub mod proc;
pub mod sched;
pub mod syscall;
pub mod trap;

/// The exit status of the vkernel process after a kernel panic.
pub const PANIC_EXIT_STATUS: i32 = 70;
