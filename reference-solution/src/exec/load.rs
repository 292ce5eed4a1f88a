//! Loading one ELF segment into an address space (lab vm).
//!
//! `exec` (`mod.rs`) calls [`load_segment`] for every checked segment of the program, then
//! sets each page's final permissions itself. A segment occupies `[vaddr, vaddr + mem_len)`;
//! its first `file_len` bytes come from the file at `offset`, the rest (the bss) is zero.

use vmspace::{pte, PhysMem};

use super::elf::{ExecError, Segment};
use crate::mm::addr::VirtAddr;
use crate::mm::frame::FrameAllocator;
use crate::mm::space::AddressSpace;
use crate::mm::uaccess::{self, Strict};

// ANCHOR: written
/// Flags of pages exec fills itself: writable while loading, and already accessed and
/// dirty (the kernel wrote them), so the MMU maps writable ones writable at once.
pub const WRITTEN: u64 = pte::WRITABLE | pte::ACCESSED | pte::DIRTY;
// ANCHOR_END: written

// ANCHOR: load-segment
/// Map fresh pages for `seg` in `space` (flags [`WRITTEN`]) and copy the segment's file
/// bytes from `bytes` into them; the rest of the segment stays zero.
///
/// # Errors
/// [`ExecError::NoMemory`] when frames run out (what was mapped is freed by the caller's
/// teardown of `space`).
pub fn load_segment(
    ram: &PhysMem,
    frames: &mut FrameAllocator,
    space: &mut AddressSpace,
    bytes: &[u8],
    seg: &Segment,
) -> Result<(), ExecError> {
    let start = VirtAddr(seg.vaddr);
    let end = VirtAddr(seg.vaddr + seg.mem_len);
    space
        .map_zeroed(ram, frames, start, end, WRITTEN)
        .map_err(|_| ExecError::NoMemory)?;
    let data = &bytes[seg.offset as usize..(seg.offset + seg.file_len) as usize];
    uaccess::copyout(&mut Strict { ram, pt: &space.pt }, seg.vaddr, data)
        .expect("load_segment: the pages were just mapped");
    Ok(())
}
// ANCHOR_END: load-segment
