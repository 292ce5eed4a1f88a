//! Why [`Vmspace::run`](crate::Vmspace::run) returned: the machine's trap kinds.
//!
//! A trap is what a real CPU would deliver to the kernel through its interrupt descriptor
//! table. The kernel's trap loop matches on it; every kind leaves the guest's registers in
//! the `Regs` given to `run`, with `rip` where the guest resumes (after the `syscall` or
//! `int3`, at the faulting instruction for faults).

// ANCHOR: trap_kinds
/// The kind of memory access that faulted, taken from the x86 page-fault error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Access {
    /// A data read.
    Read,
    /// A data write.
    Write,
    /// An instruction fetch.
    Exec,
}

/// A trap from guest user mode to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trap {
    /// The guest executed `syscall`: number in `rax`, arguments in `rdi, rsi, rdx, r10,
    /// r8, r9`; put the result in `rax` and run again.
    Syscall,
    /// The MMU could not translate `addr` for `access`. `present` says whether the page
    /// table had a present leaf entry for it (a protection fault: wrong permissions, the
    /// user bit included) or not.
    PageFault {
        /// The faulting virtual address (CR2).
        addr: u64,
        /// What the guest tried to do.
        access: Access,
        /// Whether a present leaf entry existed (error code bit P).
        present: bool,
    },
    /// `int3` (or a single-step trap): `rip` is after the instruction.
    Breakpoint,
    /// `ud2` or any other invalid or privileged-only instruction encoding.
    InvalidOpcode,
    /// Integer division by zero or overflow.
    DivideError,
    /// A general protection fault: a privileged instruction, a non-canonical address.
    GeneralProtection,
    /// The periodic timer fired while the guest ran (or before it could run).
    Timer,
    /// Device interrupt line `irq` was raised.
    Interrupt(u8),
}
// ANCHOR_END: trap_kinds
