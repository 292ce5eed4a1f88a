//! vm: system calls on the address space (mmap, munmap, mprotect, brk).
//!
//! All are `unsafe`: mapping over, unmapping or protecting memory can pull it out from
//! under live Rust references. Anonymous memory for Rust objects should come from the
//! allocator ([`crate::heap`], which uses [`mmap`]) rather than from here. Part of
//! [`crate::sys`], which re-exports everything.
//!
//! ```ignore
//! let len = 1 << 20;
//! let addr = unsafe { sys::mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) }?;
//! // ... use [addr, addr + len) ...
//! unsafe { sys::munmap(addr, len) }?;
//! ```

use super::{check, nr, syscall0, syscall1, syscall2, syscall3, syscall6, Errno};

/// Pages may not be accessed.
pub const PROT_NONE: i32 = 0;
/// Pages may be read.
pub const PROT_READ: i32 = 1;
/// Pages may be written.
pub const PROT_WRITE: i32 = 2;
/// Pages may be executed.
pub const PROT_EXEC: i32 = 4;

/// Changes are shared with other mappings of the same object.
pub const MAP_SHARED: i32 = 0x01;
/// Changes are private (copy on write).
pub const MAP_PRIVATE: i32 = 0x02;
/// Map exactly at `addr`, replacing whatever is there.
pub const MAP_FIXED: i32 = 0x10;
/// Not backed by a file: zero-filled memory (`fd` is -1).
pub const MAP_ANONYMOUS: i32 = 0x20;
/// Like [`MAP_FIXED`], but fail with `EEXIST` instead of replacing a mapping.
pub const MAP_FIXED_NOREPLACE: i32 = 0x100000;

/// Maps `len` bytes; returns the address. `addr` 0 lets the kernel choose.
///
/// # Safety
/// With [`MAP_FIXED`], the range must not hold anything Rust code still uses. The
/// returned memory belongs to the caller, who decides what lives there.
pub unsafe fn mmap(
    addr: usize,
    len: usize,
    prot: i32,
    flags: i32,
    fd: i32,
    offset: i64,
) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    check(unsafe {
        syscall6(
            nr::MMAP,
            addr,
            len,
            prot as usize,
            flags as usize,
            fd as usize,
            offset as usize,
        )
    })
}

/// Unmaps `[addr, addr + len)`.
///
/// # Safety
/// Nothing may use that memory afterwards.
pub unsafe fn munmap(addr: usize, len: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    check(unsafe { syscall2(nr::MUNMAP, addr, len) })
}

/// Changes the protection of `[addr, addr + len)` to `prot` (`PROT_*`).
///
/// # Safety
/// Live Rust references into the range must stay usable as they are used (no `PROT_NONE`
/// under a `&T`, no read-only under a `&mut T` that is written).
pub unsafe fn mprotect(addr: usize, len: usize, prot: i32) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    check(unsafe { syscall3(nr::MPROTECT, addr, len, prot as usize) })
}

/// Moves the program break (the end of the data segment) to `addr`; returns the new
/// break. `brk(0)` asks for the current one. Linux reports failure by returning the old
/// break, not an error, so compare the result with `addr`.
///
/// # Safety
/// Lowering the break unmaps memory: nothing may still use it.
pub unsafe fn brk(addr: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    check(unsafe { syscall1(nr::BRK, addr) })
}

// ANCHOR: vk-allocs
/// How many frames the vkernel has allocated since boot (call 1002; a count that only
/// grows). Linux answers `ENOSYS`.
pub fn vk_allocs() -> Result<usize, Errno> {
    // SAFETY: the call takes no arguments and touches no memory of ours.
    check(unsafe { syscall0(nr::VK_ALLOCS) })
}
// ANCHOR_END: vk-allocs
