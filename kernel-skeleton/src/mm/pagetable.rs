//! Page tables: the x86-64 4-level tree the machine's MMU walks, kept in RAM.
//!
//! A [`PageTable`] is its root frame. [`PageTable::map`] installs a leaf entry (creating
//! the tables on the way), [`PageTable::unmap`] removes one and hands back what it pointed
//! to, [`PageTable::translate`] reads one. None of them touch the TLB: after changing or
//! removing an entry of a running address space, call `Vmspace::invalidate`.
//! Leaf frames belong to the caller (the address space); the table frames belong to the
//! `PageTable` and [`PageTable::destroy`] frees them.
#![allow(
    unused_imports,
    dead_code,
    reason = "lab vm: the code you write here uses these"
)]

use vmspace::{pte, Frame, PhysAddr, PhysMem};

use super::addr::VirtAddr;
use super::frame::FrameAllocator;

// ANCHOR: table-flags
/// Flags of the intermediate (non-leaf) entries: permissions are decided at the leaf.
const TABLE_FLAGS: u64 = pte::PRESENT | pte::WRITABLE | pte::USER;
// ANCHOR_END: table-flags

// ANCHOR: map-error
/// Why a mapping could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No frame for a page-table page.
    NoMemory,
    /// A present entry is already there.
    AlreadyMapped(VirtAddr),
}
// ANCHOR_END: map-error

// ANCHOR: pagetable-struct
/// A 4-level page table rooted at one frame.
#[derive(Debug, PartialEq, Eq)]
pub struct PageTable {
    root: Frame,
}
// ANCHOR_END: pagetable-struct

// ANCHOR: helpers
fn slot(table: Frame, va: VirtAddr, level: u32) -> PhysAddr {
    PhysAddr(table.addr().0 + 8 * pte::index(va.0, level) as u64)
}

fn entry_frame(entry: u64) -> Frame {
    Frame((entry & pte::ADDR_MASK) >> 12)
}
// ANCHOR_END: helpers

impl PageTable {
    /// An empty table (one zeroed root frame).
    pub fn new(ram: &PhysMem, frames: &mut FrameAllocator) -> Option<Self> {
        Some(PageTable {
            root: frames.alloc(ram)?,
        })
    }

    /// The root frame, for `Vmspace::set_root`.
    pub fn root(&self) -> Frame {
        self.root
    }

    // ANCHOR: leaf-slot
    /// The physical address of the leaf entry for `va`. With `create`, missing tables are
    /// allocated; without it, `Ok(None)` means a table on the way is missing.
    #[doc(alias = "walk")]
    pub fn leaf_slot(
        &self,
        ram: &PhysMem,
        frames: &mut FrameAllocator,
        va: VirtAddr,
        create: bool,
    ) -> Result<Option<PhysAddr>, MapError> {
        // Lab vm: walk the tree from self.root down to the level-1 table for `va`.
        // At levels 4, 3 and 2 read the entry `pte::index(va, level)` of the current table:
        // present → go down to the frame it points to; missing → if `create`, allocate a zeroed
        // frame, point the entry at it with TABLE_FLAGS and go down; else return Ok(None).
        // Return the physical address of the level-1 entry (helpers: `slot`, `entry_frame`).
        let _ = (ram, frames, va, create);
        todo!("lab vm: leaf_slot")
    }
    // ANCHOR_END: leaf-slot

    // ANCHOR: map
    /// Map the page holding `va` to `frame` with `flags` (`PRESENT` is added).
    ///
    /// # Errors
    /// [`MapError::AlreadyMapped`] if a present entry exists (it is left alone);
    /// [`MapError::NoMemory`] if a table frame could not be allocated.
    pub fn map(
        &self,
        ram: &PhysMem,
        frames: &mut FrameAllocator,
        va: VirtAddr,
        frame: Frame,
        flags: u64,
    ) -> Result<(), MapError> {
        // Lab vm: find (creating) the leaf slot for `va`; refuse a present entry with
        // AlreadyMapped; otherwise write frame's address | flags | PRESENT.
        let _ = (ram, frames, va, frame, flags);
        todo!("lab vm: map")
    }
    // ANCHOR_END: map

    // ANCHOR: translate
    /// The present leaf entry for `va`, if any.
    pub fn translate(&self, ram: &PhysMem, va: VirtAddr) -> Option<u64> {
        // Lab vm: walk all four levels without creating anything; the present leaf entry,
        // or None as soon as a level is not present.
        let _ = (ram, va);
        todo!("lab vm: translate")
    }
    // ANCHOR_END: translate

    /// The frame a present leaf entry for `va` points to.
    pub fn frame_of(&self, ram: &PhysMem, va: VirtAddr) -> Option<Frame> {
        self.translate(ram, va).map(entry_frame)
    }

    // ANCHOR: update
    /// Rewrite the present leaf entry for `va` with `f(entry)`; returns the new entry.
    pub fn update(&self, ram: &PhysMem, va: VirtAddr, f: impl FnOnce(u64) -> u64) -> Option<u64> {
        // Lab vm: like translate, but replace the present leaf entry with f(entry) and
        // return the new value.
        let _ = (ram, va, f);
        todo!("lab vm: update")
    }
    // ANCHOR_END: update

    // ANCHOR: unmap
    /// Remove the leaf entry for `va`; returns the old entry (the caller releases its
    /// frame and invalidates the TLB).
    pub fn unmap(&self, ram: &PhysMem, va: VirtAddr) -> Option<u64> {
        let old = self.translate(ram, va)?;
        self.update(ram, va, |_| 0);
        Some(old)
    }
    // ANCHOR_END: unmap

    /// Call `f(va, entry)` for every present leaf entry, in address order.
    pub fn for_each_leaf(&self, ram: &PhysMem, mut f: impl FnMut(VirtAddr, u64)) {
        self.visit(ram, self.root, 4, 0, &mut f);
    }

    fn visit(
        &self,
        ram: &PhysMem,
        table: Frame,
        level: u32,
        base: u64,
        f: &mut impl FnMut(VirtAddr, u64),
    ) {
        for i in 0..pte::ENTRIES as u64 {
            let entry = ram.read_u64(PhysAddr(table.addr().0 + 8 * i));
            if entry & pte::PRESENT == 0 {
                continue;
            }
            let va = base | (i << (12 + 9 * (level - 1)));
            if level == 1 {
                f(VirtAddr(va), entry);
            } else {
                self.visit(ram, entry_frame(entry), level - 1, va, f);
            }
        }
    }

    // ANCHOR: destroy
    /// Free every table frame (not the leaf frames: release those first).
    pub fn destroy(self, ram: &PhysMem, frames: &mut FrameAllocator) {
        // Lab vm: release every table frame of the tree (the root included), walking the
        // present entries of levels 4, 3 and 2 recursively; leaf frames are not yours to free.
        let _ = (ram, frames);
        todo!("lab vm: destroy")
    }
    // ANCHOR_END: destroy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_translate_unmap_destroy() {
        let ram = PhysMem::new(64 * 4096).unwrap();
        let mut frames = FrameAllocator::new(ram.frames());
        let pt = PageTable::new(&ram, &mut frames).unwrap();
        let page = frames.alloc(&ram).unwrap();
        let va = VirtAddr(0x40_1000);
        pt.map(&ram, &mut frames, va, page, pte::USER | pte::WRITABLE)
            .unwrap();
        assert_eq!(frames.in_use(), 5, "root, 3 tables, the page");
        assert_eq!(pt.frame_of(&ram, VirtAddr(0x40_1fff)), Some(page));
        assert_eq!(pt.translate(&ram, VirtAddr(0x40_2000)), None);
        assert_eq!(
            pt.map(&ram, &mut frames, va, page, pte::USER),
            Err(MapError::AlreadyMapped(va))
        );
        let mut seen = Vec::new();
        pt.for_each_leaf(&ram, |v, e| seen.push((v, e & pte::ADDR_MASK)));
        assert_eq!(seen, vec![(va, page.addr().0)]);
        let old = pt.unmap(&ram, va).unwrap();
        assert_eq!(old & pte::ADDR_MASK, page.addr().0);
        assert_eq!(pt.translate(&ram, va), None);
        frames.release(page);
        pt.destroy(&ram, &mut frames);
        assert_eq!(frames.in_use(), 0, "nothing leaks");
    }
}
