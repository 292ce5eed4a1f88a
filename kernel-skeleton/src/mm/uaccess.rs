//! Copying between the kernel and guest memory: `copyin`, `copyout`, `copyinstr`.
//!
//! A pointer a guest passes to a system call is only a claim. These functions check every
//! page against the guest's page table (present, user-accessible, and writable for
//! `copyout`) and return [`Efault`] instead of touching anything they should not, so a
//! wild pointer becomes `EFAULT` for the guest and never a kernel panic.

use vmspace::{pte, PhysAddr, PhysMem};

use super::addr::{user_range_ok, VirtAddr};
use super::pagetable::PageTable;

/// A bad user address (becomes `-EFAULT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Efault;

/// Physical address of `va` if the page allows a user access (`write` for stores).
fn user_phys(ram: &PhysMem, pt: &PageTable, va: VirtAddr, write: bool) -> Result<PhysAddr, Efault> {
    let entry = pt.translate(ram, va).ok_or(Efault)?;
    if entry & pte::USER == 0 || (write && entry & pte::WRITABLE == 0) {
        return Err(Efault);
    }
    Ok(PhysAddr((entry & pte::ADDR_MASK) + va.page_offset()))
}

/// Walk `[va, va + len)` page by page, calling `f(phys, offset, chunk_len)`.
fn each_chunk(
    ram: &PhysMem,
    pt: &PageTable,
    va: u64,
    len: usize,
    write: bool,
    mut f: impl FnMut(PhysAddr, usize, usize),
) -> Result<(), Efault> {
    if !user_range_ok(va, len as u64) {
        return Err(Efault);
    }
    let mut done = 0usize;
    while done < len {
        let at = VirtAddr(va + done as u64);
        let chunk = ((4096 - at.page_offset()) as usize).min(len - done);
        let pa = user_phys(ram, pt, at, write)?;
        f(pa, done, chunk);
        done += chunk;
    }
    Ok(())
}

/// Copy `buf.len()` bytes from guest address `va` into `buf`.
///
/// # Errors
/// [`Efault`] if any byte is not readable user memory (`buf` may be partly filled).
pub fn copyin(ram: &PhysMem, pt: &PageTable, va: u64, buf: &mut [u8]) -> Result<(), Efault> {
    let len = buf.len();
    each_chunk(ram, pt, va, len, false, |pa, off, n| {
        ram.read(pa, &mut buf[off..off + n])
    })
}

/// Copy `data` to guest address `va`.
///
/// # Errors
/// [`Efault`] if any byte is not writable user memory; nothing is written then.
pub fn copyout(ram: &PhysMem, pt: &PageTable, va: u64, data: &[u8]) -> Result<(), Efault> {
    // Check first, so a failing copy writes nothing.
    each_chunk(ram, pt, va, data.len(), true, |_, _, _| {})?;
    each_chunk(ram, pt, va, data.len(), true, |pa, off, n| {
        ram.write(pa, &data[off..off + n])
    })
}

/// Copy a NUL-terminated string of at most `max` bytes (NUL excluded) from `va`.
///
/// # Errors
/// [`Efault`] for bad memory, or when no NUL comes within `max` bytes.
pub fn copyinstr(ram: &PhysMem, pt: &PageTable, va: u64, max: usize) -> Result<Vec<u8>, Efault> {
    let mut out = Vec::new();
    let mut at = va;
    loop {
        let page_left = 4096 - (at & 4095) as usize;
        let mut chunk = vec![0u8; page_left.min(max + 1 - out.len())];
        copyin(ram, pt, at, &mut chunk)?;
        if let Some(nul) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..nul]);
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
        if out.len() > max {
            return Err(Efault);
        }
        at += chunk.len() as u64;
    }
}

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
        copyout(&ram, &pt, 0x1ffe, b"ab").unwrap();
        let mut b = [0u8; 2];
        copyin(&ram, &pt, 0x1ffe, &mut b).unwrap();
        assert_eq!(&b, b"ab");
        assert_eq!(
            copyout(&ram, &pt, 0x2000, b"x"),
            Err(Efault),
            "read-only page"
        );
        assert_eq!(
            copyout(&ram, &pt, 0x1fff, b"xy"),
            Err(Efault),
            "spills into read-only"
        );
        assert_eq!(
            copyin(&ram, &pt, 0x3000, &mut b),
            Err(Efault),
            "kernel-only page"
        );
        assert_eq!(copyin(&ram, &pt, 0x9000, &mut b), Err(Efault), "unmapped");
        assert_eq!(
            copyin(&ram, &pt, u64::MAX - 1, &mut b),
            Err(Efault),
            "wraps"
        );
        let mut one = [0u8; 1];
        copyin(&ram, &pt, 0x1fff, &mut one).unwrap();
        assert_eq!(one, [b'b'], "nothing written by the failed copyout");
    }

    #[test]
    fn strings_stop_at_nul_or_limit() {
        let (ram, _f, pt) = setup();
        copyout(&ram, &pt, 0x1ffc, b"hi\0").unwrap();
        assert_eq!(copyinstr(&ram, &pt, 0x1ffc, 10).unwrap(), b"hi");
        copyout(&ram, &pt, 0x1000, &[b'x'; 64]).unwrap();
        assert_eq!(copyinstr(&ram, &pt, 0x1000, 16), Err(Efault), "too long");
        copyout(&ram, &pt, 0x1ff0, &[b'y'; 16]).unwrap();
        let s = copyinstr(&ram, &pt, 0x1ff0, 100);
        assert!(s.is_ok(), "continues into the next (zeroed) page: {s:?}");
    }
}
