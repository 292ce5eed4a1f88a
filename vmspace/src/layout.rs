//! The machine's fixed numbers: page size, where guest user space ends, where the stub lives.
//!
//! Use these constants instead of literals. Guest user space is `[0, USER_TOP)`; the kernel
//! must map nothing at or above `USER_TOP`, because that is where the machine keeps the
//! small stub that runs inside every guest address space (see `stub.rs`).

/// Size of a page and of a physical frame, in bytes.
pub const PAGE_SIZE: u64 = 4096;

/// log2 of [`PAGE_SIZE`].
pub const PAGE_SHIFT: u32 = 12;

// ANCHOR: user_top
/// First address that is *not* guest user space. Guest mappings live in `[0, USER_TOP)`.
///
/// The MMU never serves an address at or above it: a guest access there is a page fault
/// with `present: false` (or, inside the stub's own pages, a read of machine code).
pub const USER_TOP: u64 = 0x7fff_0000_0000;

/// Base of the stub region inside every guest address space (code first).
pub const STUB_BASE: u64 = 0x7fff_8000_0000;
// ANCHOR_END: user_top

/// Where the stub's signal stack lives (read-write, from the stub ELF's bss).
pub const STUB_ALTSTACK: u64 = STUB_BASE + 0x1_0000;

/// Size of the stub's signal stack.
pub const STUB_ALTSTACK_SIZE: u64 = 0x1_0000;

/// Where the host-operation queue is mapped (shared with the tracer).
pub const STUB_QUEUE: u64 = STUB_BASE + 0x2_0000;

/// Size of the host-operation queue mapping.
pub const STUB_QUEUE_SIZE: u64 = 0x4000;

/// End of the stub region.
pub const STUB_END: u64 = STUB_QUEUE + STUB_QUEUE_SIZE;

/// The highest user address the host allows (x86-64, 4-level paging).
pub const HOST_TASK_TOP: u64 = 0x7fff_ffff_f000;

/// The vsyscall page that the host keeps in every process and that cannot be unmapped.
pub const VSYSCALL_PAGE: u64 = 0xffff_ffff_ff60_0000;

/// Round `addr` down to a page boundary.
pub const fn page_floor(addr: u64) -> u64 {
    addr & !(PAGE_SIZE - 1)
}

// The regions must not overlap; checked when the crate compiles.
const _: () = {
    assert!(USER_TOP <= STUB_BASE);
    assert!(STUB_ALTSTACK + STUB_ALTSTACK_SIZE <= STUB_QUEUE);
    assert!(STUB_END <= HOST_TASK_TOP);
    assert!(page_floor(0x1fff) == 0x1000);
};
