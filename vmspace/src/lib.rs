//! `vmspace`: the vkernel's hardware, DragonFly BSD's vmspace API built on Linux.
//!
//! A virtual kernel is an ordinary host process whose "CPU" runs guest programs natively
//! and whose "MMU" follows page tables the kernel keeps in "RAM". This crate provides that
//! machine and nothing else; the kernel (`kernel-skeleton`, package `vkernel`) is written
//! against it in safe Rust. The contract, like a processor manual:
//!
//! - [`Machine`]: RAM ([`PhysMem`], a memfd accessed only by copying), the clock
//!   ([`Machine::now`]), a periodic timer, interrupt lines ([`IrqLine`]) and
//!   [`Machine::wait_for_interrupt`] (`hlt`).
//! - [`Vmspace`]: one guest address space (a traced, emptied host child). Install a page
//!   table with [`Vmspace::set_root`], run a thread with [`Vmspace::run`], and after
//!   changing page-table entries call [`Vmspace::invalidate`] — the TLB is not coherent.
//! - [`Trap`]: why `run` returned. [`Regs`]: a guest thread's registers.
//! - [`pte`]: the x86-64 page-table entry format the MMU understands; [`layout`]: where
//!   user space ends and the stub lives.
//!
//! All `unsafe` code of the project lives in this crate, in small wrappers (`sys.rs`, the
//! stub, the signal handler), each block with a `// SAFETY:` argument.
//!
//! ```no_run
//! use vmspace::{Machine, MachineConfig, Regs, Trap};
//! let machine = Machine::new(MachineConfig::default())?;
//! let mut space = machine.create_vmspace()?;
//! // ... build a page table in machine.ram(), load code, then:
//! let mut regs = Regs::new();
//! loop {
//!     match space.run(&mut regs)? {
//!         Trap::Syscall => { /* serve regs.rax with regs.syscall_args() */ }
//!         Trap::Timer => { /* maybe schedule another thread */ }
//!         other => { /* page fault, breakpoint, ... */ break; }
//!     }
//! }
//! # Ok::<(), vmspace::Error>(())
//! ```

mod child;
pub mod devices;
mod error;
mod kick;
pub mod layout;
mod machine;
mod mmu;
mod physmem;
pub mod pte;
mod regs;
mod seccomp;
mod stub;
mod sys;
mod trap;
mod vmspace;

pub use error::{Error, Result};
pub use machine::{irq, IrqLine, Machine, MachineConfig, Pin};
pub use physmem::{Frame, PhysAddr, PhysMem};
pub use regs::{FpuState, Regs, ThreadId, RFLAGS_DEFAULT};
pub use trap::{Access, Trap};
pub use vmspace::Vmspace;

/// Counters of what a machine did, for tests, benchmarks and `--trace`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Address spaces created.
    pub vmspaces_created: u64,
    /// Host children started (address spaces not served from the pool).
    pub host_children_spawned: u64,
    /// `Trap::Syscall` returned.
    pub syscalls: u64,
    /// Host faults the MMU served without the kernel.
    pub faults_served: u64,
    /// `Trap::PageFault` returned.
    pub faults_to_kernel: u64,
    /// Faults whose access type needed the stub's handler (the real error code).
    pub error_code_fetches: u64,
    /// `Trap::Timer` and `Trap::Interrupt` returned.
    pub interrupts: u64,
    /// Other traps returned.
    pub other_traps: u64,
    /// Batches of host memory operations run in children.
    pub host_batches: u64,
    /// Host memory operations run.
    pub host_ops: u64,
}
