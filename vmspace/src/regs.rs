//! A guest thread's CPU state: general registers, `rip`, `rflags`, `fs_base`/`gs_base`.
//!
//! The kernel keeps one [`Regs`] per guest thread and passes it to
//! [`Vmspace::run`](crate::Vmspace::run), which loads it into the CPU, runs the guest and
//! stores the state back. After `Trap::Syscall`, `rax` holds the system call number and
//! `rdi, rsi, rdx, r10, r8, r9` the arguments; the kernel writes the result into `rax`.
//!
//! The FPU/SSE state belongs to a thread too, but it is large and rarely looked at, so the
//! machine keeps it lazily in the address space and swaps it only when another thread runs
//! there ([`Vmspace::fpu_state`](crate::Vmspace::fpu_state) reads it). A `Regs` has a thread
//! identity for that purpose: `clone()` copies it (same thread, e.g. a saved context), while
//! [`Regs::new_thread`] makes a copy that is a new thread (e.g. the child of `fork`).

use std::sync::atomic::{AtomicU64, Ordering};

static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

/// The identity of a guest thread, for FPU bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThreadId(u64);

impl ThreadId {
    fn fresh() -> Self {
        ThreadId(NEXT_THREAD.fetch_add(1, Ordering::Relaxed))
    }
}

/// The registers of one guest thread.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Regs {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub rflags: u64,
    pub fs_base: u64,
    pub gs_base: u64,
    thread: ThreadId,
}

/// `rflags` of a fresh thread: only the reserved bit 1 and IF.
pub const RFLAGS_DEFAULT: u64 = 0x202;

impl Default for Regs {
    fn default() -> Self {
        Self::new()
    }
}

impl Regs {
    /// All-zero registers (with `rflags` = [`RFLAGS_DEFAULT`]) for a new thread.
    pub fn new() -> Self {
        Regs {
            rax: 0,
            rbx: 0,
            rcx: 0,
            rdx: 0,
            rsi: 0,
            rdi: 0,
            rbp: 0,
            rsp: 0,
            r8: 0,
            r9: 0,
            r10: 0,
            r11: 0,
            r12: 0,
            r13: 0,
            r14: 0,
            r15: 0,
            rip: 0,
            rflags: RFLAGS_DEFAULT,
            fs_base: 0,
            gs_base: 0,
            thread: ThreadId::fresh(),
        }
    }

    /// A copy of these registers that is a different thread (its FPU state starts fresh
    /// unless the kernel sets it with [`Vmspace::set_fpu_state`](crate::Vmspace::set_fpu_state)).
    pub fn new_thread(&self) -> Regs {
        Regs {
            thread: ThreadId::fresh(),
            ..self.clone()
        }
    }

    /// This thread's identity.
    pub fn thread(&self) -> ThreadId {
        self.thread
    }

    /// The six system call arguments in ABI order (`rdi, rsi, rdx, r10, r8, r9`).
    pub fn syscall_args(&self) -> [u64; 6] {
        [self.rdi, self.rsi, self.rdx, self.r10, self.r8, self.r9]
    }

    /// Fill from the host's view, keeping our thread identity.
    pub(crate) fn load_from(&mut self, h: &libc::user_regs_struct) {
        self.rax = h.rax;
        self.rbx = h.rbx;
        self.rcx = h.rcx;
        self.rdx = h.rdx;
        self.rsi = h.rsi;
        self.rdi = h.rdi;
        self.rbp = h.rbp;
        self.rsp = h.rsp;
        self.r8 = h.r8;
        self.r9 = h.r9;
        self.r10 = h.r10;
        self.r11 = h.r11;
        self.r12 = h.r12;
        self.r13 = h.r13;
        self.r14 = h.r14;
        self.r15 = h.r15;
        self.rip = h.rip;
        self.rflags = h.eflags;
        self.fs_base = h.fs_base;
        self.gs_base = h.gs_base;
    }

    /// Write into the host's view (segment registers and `orig_rax` are left to the caller).
    pub(crate) fn store_into(&self, h: &mut libc::user_regs_struct) {
        h.rax = self.rax;
        h.rbx = self.rbx;
        h.rcx = self.rcx;
        h.rdx = self.rdx;
        h.rsi = self.rsi;
        h.rdi = self.rdi;
        h.rbp = self.rbp;
        h.rsp = self.rsp;
        h.r8 = self.r8;
        h.r9 = self.r9;
        h.r10 = self.r10;
        h.r11 = self.r11;
        h.r12 = self.r12;
        h.r13 = self.r13;
        h.r14 = self.r14;
        h.r15 = self.r15;
        h.rip = self.rip;
        h.eflags = self.rflags;
        h.fs_base = self.fs_base;
        h.gs_base = self.gs_base;
    }
}

/// A thread's saved FPU/SSE/AVX state (the host's XSAVE image, or the 512-byte FXSAVE
/// area on hosts without XSAVE). Opaque except for the accessors below.
#[derive(Clone, PartialEq, Eq)]
pub struct FpuState {
    pub(crate) bytes: Vec<u8>,
}

impl std::fmt::Debug for FpuState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FpuState")
            .field("len", &self.bytes.len())
            .field("mxcsr", &self.mxcsr())
            .finish()
    }
}

impl FpuState {
    /// The low 128 bits of vector register `xmm{i}` (`i < 16`).
    ///
    /// # Panics
    /// When `i >= 16`.
    pub fn xmm(&self, i: usize) -> u128 {
        assert!(i < 16, "FpuState::xmm: there are 16 xmm registers");
        let off = 160 + 16 * i;
        u128::from_le_bytes(self.bytes[off..off + 16].try_into().expect("16 bytes"))
    }

    /// Set `xmm{i}`.
    ///
    /// # Panics
    /// When `i >= 16`.
    pub fn set_xmm(&mut self, i: usize, value: u128) {
        assert!(i < 16, "FpuState::set_xmm: there are 16 xmm registers");
        let off = 160 + 16 * i;
        self.bytes[off..off + 16].copy_from_slice(&value.to_le_bytes());
    }

    /// The SSE control/status register.
    pub fn mxcsr(&self) -> u32 {
        u32::from_le_bytes(self.bytes[24..28].try_into().expect("4 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_keeps_the_thread_and_new_thread_does_not() {
        let a = Regs::new();
        assert_eq!(a.clone().thread(), a.thread());
        let b = a.new_thread();
        assert_ne!(b.thread(), a.thread());
        assert_eq!(b.rflags, RFLAGS_DEFAULT);
    }
}
