//! An address space: a page table plus the user pages it owns.
//!
//! [`AddressSpace::map_zeroed`] allocates and maps fresh pages, [`AddressSpace::teardown`]
//! releases every user page and every table frame, so a process that exits leaves no
//! frame behind. The machine side (the `Vmspace` that runs it) is separate: the space
//! only describes memory; the kernel installs its root with `Vmspace::set_root`.

use vmspace::{pte, Frame, PhysMem};

use super::addr::VirtAddr;
use super::frame::FrameAllocator;
use super::pagetable::{MapError, PageTable};

/// A guest address space.
#[derive(Debug)]
pub struct AddressSpace {
    /// The page table.
    pub pt: PageTable,
}

impl AddressSpace {
    /// An empty address space.
    pub fn new(ram: &PhysMem, frames: &mut FrameAllocator) -> Option<Self> {
        Some(AddressSpace {
            pt: PageTable::new(ram, frames)?,
        })
    }

    // ANCHOR: map-zeroed
    /// Map fresh zeroed pages over `[start, end)` with leaf `flags`; pages already mapped
    /// get the union of their flags and `flags` (two segments may share a page).
    ///
    /// # Errors
    /// [`MapError::NoMemory`] when RAM runs out (what was mapped stays mapped and is freed
    /// by `teardown`).
    pub fn map_zeroed(
        &mut self,
        ram: &PhysMem,
        frames: &mut FrameAllocator,
        start: VirtAddr,
        end: VirtAddr,
        flags: u64,
    ) -> Result<(), MapError> {
        let mut va = start.page_floor();
        while va < end {
            if self.pt.translate(ram, va).is_some() {
                self.pt.update(ram, va, |e| merge_flags(e, flags));
            } else {
                let f = frames.alloc(ram).ok_or(MapError::NoMemory)?;
                if let Err(e) = self.pt.map(ram, frames, va, f, flags | pte::USER) {
                    frames.release(f);
                    return Err(e);
                }
            }
            va = VirtAddr(va.0 + 4096);
        }
        Ok(())
    }
    // ANCHOR_END: map-zeroed

    // ANCHOR: teardown
    /// Release every user page and the table itself.
    pub fn teardown(self, ram: &PhysMem, frames: &mut FrameAllocator) {
        let mut pages: Vec<Frame> = Vec::new();
        self.pt
            .for_each_leaf(ram, |_, e| pages.push(Frame((e & pte::ADDR_MASK) >> 12)));
        for f in pages {
            frames.release(f);
        }
        self.pt.destroy(ram, frames);
    }
    // ANCHOR_END: teardown
}

/// Combine two leaf entries' permissions: writable if either is, executable if either is.
fn merge_flags(entry: u64, flags: u64) -> u64 {
    let mut e = entry | (flags & pte::WRITABLE);
    if flags & pte::NO_EXECUTE == 0 {
        e &= !pte::NO_EXECUTE;
    }
    e
}
