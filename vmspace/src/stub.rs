//! The stub: the only code of the host's that lives inside a guest address space.
//!
//! Every [`Vmspace`](crate::Vmspace) is a host child process that exec'd this stub from a
//! sealed memfd (the way User-Mode Linux starts its children). The stub is a handful of
//! position-independent instructions written in assembly below and copied, at run time,
//! into a tiny ELF image built by [`image`]. After start-up the tracer unmaps everything
//! else, so a guest address space holds the guest's pages and these few stub pages only.
//!
//! The stub's entry points, all ending in `int3` so that the tracer regains control:
//! - `entry`: the first instruction after exec; the tracer's first stop.
//! - `syscall`: one system call whose registers the tracer set (used during set-up).
//! - `batch`: runs a queue of host `mmap`/`munmap`/`mprotect` calls that the tracer wrote
//!   into the shared queue page (`rbx` = queue, `r12` = count); results go back into it.
//! - `segv`: a `SIGSEGV` handler that copies the real x86 error code, trap number and
//!   faulting address out of the signal frame into `rax`, `rcx` and `r8`.
//!
//! Guest code runs only under `PTRACE_SYSEMU`, so a guest that jumps into the stub gains
//! nothing: its system calls are still trapped. Host system calls run for real only when
//! the tracer starts `batch` itself with `PTRACE_CONT`, and the seccomp filter (`seccomp.rs`)
//! lets through only that one `syscall` instruction and only the memory calls.

use crate::layout::{STUB_ALTSTACK, STUB_ALTSTACK_SIZE, STUB_BASE};

// The offsets of `REG_ERR`, `REG_TRAPNO` and `REG_CR2` in a `ucontext_t`: the general
// registers (`gregs[23]`) start at byte 40 (uc_flags 8, uc_link 8, stack_t 24).
std::arch::global_asm!(
    ".pushsection .text.vmspace_stub,\"ax\",@progbits",
    ".balign 4096",
    ".globl vmspace_stub_start",
    "vmspace_stub_start:",
    "    int3",
    "    jmp vmspace_stub_start",
    ".balign 16",
    ".globl vmspace_stub_syscall",
    "vmspace_stub_syscall:",
    "    syscall",
    "    int3",
    ".balign 16",
    // ANCHOR: stub_batch
    ".globl vmspace_stub_batch",
    "vmspace_stub_batch:",
    ".Lvmspace_batch_next:",
    "    test r12, r12",
    "    jz .Lvmspace_batch_done",
    "    mov rax, [rbx]",
    "    mov rdi, [rbx + 8]",
    "    mov rsi, [rbx + 16]",
    "    mov rdx, [rbx + 24]",
    "    mov r10, [rbx + 32]",
    "    mov r8,  [rbx + 40]",
    "    mov r9,  [rbx + 48]",
    ".globl vmspace_stub_batch_syscall",
    "vmspace_stub_batch_syscall:",
    "    syscall",
    "    mov [rbx + 56], rax",
    "    add rbx, 64",
    "    dec r12",
    "    jmp .Lvmspace_batch_next",
    ".Lvmspace_batch_done:",
    "    int3",
    // ANCHOR_END: stub_batch
    ".balign 16",
    // ANCHOR: stub_segv
    ".globl vmspace_stub_segv",
    "vmspace_stub_segv:",
    "    mov rax, [rdx + 40 + 19 * 8]",
    "    mov rcx, [rdx + 40 + 20 * 8]",
    "    mov r8,  [rdx + 40 + 22 * 8]",
    "    int3",
    // ANCHOR_END: stub_segv
    ".balign 16",
    ".globl vmspace_stub_restorer",
    "vmspace_stub_restorer:",
    "    mov eax, 15",
    "    syscall",
    "    int3",
    ".globl vmspace_stub_end",
    "vmspace_stub_end:",
    ".popsection",
);

extern "C" {
    static vmspace_stub_start: u8;
    static vmspace_stub_syscall: u8;
    static vmspace_stub_batch: u8;
    static vmspace_stub_batch_syscall: u8;
    static vmspace_stub_segv: u8;
    static vmspace_stub_restorer: u8;
    static vmspace_stub_end: u8;
}

/// Addresses of the stub's entry points *inside the child* (the stub is loaded at
/// [`STUB_BASE`]).
#[derive(Debug, Clone, Copy)]
pub struct StubAddrs {
    /// `syscall; int3` for one injected call.
    pub syscall: u64,
    /// The batch runner.
    pub batch: u64,
    /// The address just after the batch runner's `syscall` instruction (what seccomp sees).
    pub batch_syscall_return: u64,
    /// The SIGSEGV handler.
    pub segv: u64,
    /// The signal restorer (required by `SA_RESTORER`; never used).
    pub restorer: u64,
}

/// The stub's machine code as it sits in this binary.
fn code() -> &'static [u8] {
    let start = std::ptr::addr_of!(vmspace_stub_start);
    let end = std::ptr::addr_of!(vmspace_stub_end);
    let len = end as usize - start as usize;
    // SAFETY: `vmspace_stub_start..vmspace_stub_end` is one contiguous run of read-only
    // instructions emitted by the `global_asm!` above; code is never written at run time.
    unsafe { std::slice::from_raw_parts(start, len) }
}

/// The entry points of the stub, relocated to [`STUB_BASE`].
pub fn addrs() -> StubAddrs {
    let base = std::ptr::addr_of!(vmspace_stub_start) as u64;
    let at = |p: *const u8| STUB_BASE + (p as u64 - base);
    StubAddrs {
        syscall: at(std::ptr::addr_of!(vmspace_stub_syscall)),
        batch: at(std::ptr::addr_of!(vmspace_stub_batch)),
        batch_syscall_return: at(std::ptr::addr_of!(vmspace_stub_batch_syscall)) + 2,
        segv: at(std::ptr::addr_of!(vmspace_stub_segv)),
        restorer: at(std::ptr::addr_of!(vmspace_stub_restorer)),
    }
}

/// A static ELF executable whose text is the stub at [`STUB_BASE`] and whose bss is the
/// signal stack at [`STUB_ALTSTACK`].
pub fn image() -> Vec<u8> {
    const EHDR: usize = 64;
    const PHDR: usize = 56;
    const TEXT_OFFSET: u64 = 4096;
    let code = code();
    let mut out = Vec::with_capacity(TEXT_OFFSET as usize + code.len());
    // ELF header.
    out.extend_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]); // 64-bit, LE, v1, SysV
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    out.extend_from_slice(&62u16.to_le_bytes()); // EM_X86_64
    out.extend_from_slice(&1u32.to_le_bytes()); // EV_CURRENT
    out.extend_from_slice(&STUB_BASE.to_le_bytes()); // e_entry
    out.extend_from_slice(&(EHDR as u64).to_le_bytes()); // e_phoff
    out.extend_from_slice(&0u64.to_le_bytes()); // e_shoff
    out.extend_from_slice(&0u32.to_le_bytes()); // e_flags
    out.extend_from_slice(&(EHDR as u16).to_le_bytes());
    out.extend_from_slice(&(PHDR as u16).to_le_bytes());
    out.extend_from_slice(&3u16.to_le_bytes()); // e_phnum
    out.extend_from_slice(&64u16.to_le_bytes()); // e_shentsize
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shnum
    out.extend_from_slice(&0u16.to_le_bytes()); // e_shstrndx
    let mut phdr = |kind: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64| {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&vaddr.to_le_bytes());
        out.extend_from_slice(&vaddr.to_le_bytes());
        out.extend_from_slice(&filesz.to_le_bytes());
        out.extend_from_slice(&memsz.to_le_bytes());
        out.extend_from_slice(&4096u64.to_le_bytes());
    };
    const PT_LOAD: u32 = 1;
    const PT_GNU_STACK: u32 = 0x6474_e551;
    let (r, w, x) = (4, 2, 1);
    let len = code.len() as u64;
    phdr(PT_LOAD, r | x, TEXT_OFFSET, STUB_BASE, len, len);
    phdr(PT_LOAD, r | w, 0, STUB_ALTSTACK, 0, STUB_ALTSTACK_SIZE);
    phdr(PT_GNU_STACK, r | w, 0, 0, 0, 0);
    out.resize(TEXT_OFFSET as usize, 0);
    out.extend_from_slice(code);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stub_starts_with_int3_and_fits_below_its_stack() {
        let code = code();
        assert_eq!(code[0], 0xcc, "the entry must be an int3");
        assert!(STUB_BASE + code.len() as u64 <= STUB_ALTSTACK);
        let a = addrs();
        assert!(STUB_BASE < a.syscall && a.syscall < a.batch && a.batch < a.segv);
        let img = image();
        assert_eq!(&img[..4], b"\x7fELF");
        assert_eq!(img.len(), 4096 + code.len());
    }
}
