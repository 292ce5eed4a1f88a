//! Copying between the kernel and guest memory: `copyin`, `copyout`, `copyinstr`.
//!
//! A pointer a guest passes to a system call is only a claim. These functions ask a
//! [`UserMemory`] for the physical address of every page they touch; it answers only for
//! user pages that allow the access (present, user, and writable for `copyout`) and gives
//! [`Efault`] otherwise, so a wild pointer becomes `EFAULT` for the guest and never a
//! kernel panic. [`Strict`] looks at the page table only; a process's memory (`memory.rs`)
//! also runs the page-fault handler first, so lazily allocated and copy-on-write pages work.
#![allow(
    unused_imports,
    dead_code,
    reason = "lab vm: the code you write here uses these"
)]

use vmspace::{pte, PhysAddr, PhysMem};

use super::addr::{user_range_ok, VirtAddr};
use super::pagetable::PageTable;

// ANCHOR: efault
/// A bad user address (becomes `-EFAULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Efault;
// ANCHOR_END: efault

// ANCHOR: user-memory
/// Where user pages are, for the copy functions.
pub trait UserMemory {
    /// RAM.
    fn ram(&self) -> &PhysMem;
    /// The physical address of user address `va`, if it may be read (or written).
    fn phys(&mut self, va: VirtAddr, write: bool) -> Result<PhysAddr, Efault>;
}
// ANCHOR_END: user-memory

// ANCHOR: strict
/// User memory as the page table says right now (no fault handling).
#[derive(Debug)]
pub struct Strict<'a> {
    /// RAM.
    pub ram: &'a PhysMem,
    /// The page table.
    pub pt: &'a PageTable,
}
// ANCHOR_END: strict

// ANCHOR: user-phys
/// The physical address of `va` if its leaf entry allows a user access.
pub fn user_phys(ram: &PhysMem, pt: &PageTable, va: VirtAddr, write: bool) -> Option<PhysAddr> {
    // Lab vm: the physical address of `va` when its leaf entry is present and USER (and
    // WRITABLE if `write`): the entry's frame address plus the page offset; else None.
    let _ = (ram, pt, va, write);
    todo!("lab vm: user_phys")
}
// ANCHOR_END: user-phys

impl UserMemory for Strict<'_> {
    fn ram(&self) -> &PhysMem {
        self.ram
    }

    fn phys(&mut self, va: VirtAddr, write: bool) -> Result<PhysAddr, Efault> {
        user_phys(self.ram, self.pt, va, write).ok_or(Efault)
    }
}

// ANCHOR: each-chunk
/// Walk `[va, va + len)` page by page, calling `f(phys, offset, chunk_len)`.
fn each_chunk(
    mem: &mut dyn UserMemory,
    va: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(&PhysMem, PhysAddr, usize, usize),
) -> Result<(), Efault> {
    // Lab vm: refuse ranges that leave user space or wrap (user_range_ok), then go page
    // by page: for each piece that stays inside one page, ask `mem.phys` for its
    // physical address (it fails with Efault for a bad page) and call
    // f(mem.ram(), phys, offset_in_the_copy, piece_len).
    let _ = (mem, va, len, write, &mut f, user_range_ok);
    todo!("lab vm: each_chunk")
}
// ANCHOR_END: each-chunk

// ANCHOR: copyin-copyout
/// Copy `buf.len()` bytes from guest address `va` into `buf`.
///
/// # Errors
/// [`Efault`] if any byte is not readable user memory (`buf` may be partly filled).
pub fn copyin(mem: &mut dyn UserMemory, va: u64, buf: &mut [u8]) -> Result<(), Efault> {
    let len = buf.len();
    each_chunk(mem, va, len, false, |ram, pa, off, n| {
        ram.read(pa, &mut buf[off..off + n])
    })
}

/// Copy `data` to guest address `va`.
///
/// # Errors
/// [`Efault`] if any byte is not writable user memory; nothing is written then.
pub fn copyout(mem: &mut dyn UserMemory, va: u64, data: &[u8]) -> Result<(), Efault> {
    // Check first, so a failing copy writes nothing.
    each_chunk(mem, va, data.len(), true, |_, _, _, _| {})?;
    each_chunk(mem, va, data.len(), true, |ram, pa, off, n| {
        ram.write(pa, &data[off..off + n])
    })
}
// ANCHOR_END: copyin-copyout

/// Check that `[va, va + len)` is accessible user memory (writable if `write`), faulting
/// pages in as needed, without copying anything.
///
/// # Errors
/// [`Efault`] for a bad range.
pub fn check(mem: &mut dyn UserMemory, va: u64, len: usize, write: bool) -> Result<(), Efault> {
    each_chunk(mem, va, len, write, |_, _, _, _| {})
}

/// Read a little-endian `u64` from guest address `va`.
///
/// # Errors
/// [`Efault`] for a bad address.
pub fn read_u64(mem: &mut dyn UserMemory, va: u64) -> Result<u64, Efault> {
    let mut b = [0u8; 8];
    copyin(mem, va, &mut b)?;
    Ok(u64::from_le_bytes(b))
}

// ANCHOR: copyinstr
/// Copy a NUL-terminated string of at most `max` bytes (NUL excluded) from `va`.
///
/// # Errors
/// [`Efault`] for bad memory, or when no NUL comes within `max` bytes.
pub fn copyinstr(mem: &mut dyn UserMemory, va: u64, max: usize) -> Result<Vec<u8>, Efault> {
    // Lab vm: copy byte by byte (or page by page) from `va` until a NUL, which is not
    // part of the result. More than `max` bytes without a NUL, or a bad page: Err(Efault).
    let _ = (mem, va, max);
    todo!("lab vm: copyinstr")
}
// ANCHOR_END: copyinstr

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mm::frame::FrameAllocator;

    fn setup() -> (PhysMem, FrameAllocator, PageTable) {
        let ram = PhysMem::new(64 * 4096).unwrap();
        let mut frames = FrameAllocator::new(ram.frames());
        let pt = PageTable::new(&ram, &mut frames).unwrap();
        for (i, flags) in [
            (0u64, pte::USER | pte::WRITABLE),
            (1, pte::USER),
            (2, pte::WRITABLE),
        ] {
            let f = frames.alloc(&ram).unwrap();
            pt.map(&ram, &mut frames, VirtAddr(0x1000 * (i + 1)), f, flags)
                .unwrap();
        }
        (ram, frames, pt)
    }

    #[test]
    fn copies_across_pages_and_refuses_bad_pointers() {
        let (ram, _f, pt) = setup();
        let mut m = Strict { ram: &ram, pt: &pt };
        copyout(&mut m, 0x1ffe, b"ab").unwrap();
        let mut b = [0u8; 2];
        copyin(&mut m, 0x1ffe, &mut b).unwrap();
        assert_eq!(&b, b"ab");
        assert_eq!(copyout(&mut m, 0x2000, b"x"), Err(Efault), "read-only page");
        assert_eq!(
            copyout(&mut m, 0x1fff, b"xy"),
            Err(Efault),
            "spills into read-only"
        );
        assert_eq!(
            copyin(&mut m, 0x3000, &mut b),
            Err(Efault),
            "kernel-only page"
        );
        assert_eq!(copyin(&mut m, 0x9000, &mut b), Err(Efault), "unmapped");
        assert_eq!(copyin(&mut m, u64::MAX - 1, &mut b), Err(Efault), "wraps");
        let mut one = [0u8; 1];
        copyin(&mut m, 0x1fff, &mut one).unwrap();
        assert_eq!(one, [b'b'], "nothing written by the failed copyout");
    }

    #[test]
    fn strings_stop_at_nul_or_limit() {
        let (ram, _f, pt) = setup();
        let mut m = Strict { ram: &ram, pt: &pt };
        copyout(&mut m, 0x1ffc, b"hi\0").unwrap();
        assert_eq!(copyinstr(&mut m, 0x1ffc, 10).unwrap(), b"hi");
        copyout(&mut m, 0x1000, &[b'x'; 64]).unwrap();
        assert_eq!(copyinstr(&mut m, 0x1000, 16), Err(Efault), "too long");
        copyout(&mut m, 0x1ff0, &[b'y'; 16]).unwrap();
        let s = copyinstr(&mut m, 0x1ff0, 100);
        assert!(s.is_ok(), "continues into the next (zeroed) page: {s:?}");
        assert_eq!(
            read_u64(&mut m, 0x1ff0).unwrap(),
            u64::from_le_bytes([b'y'; 8])
        );
    }
}
