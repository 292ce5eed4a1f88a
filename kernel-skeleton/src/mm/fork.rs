//! Forking memory (lab fault): the child's copy of a process's address space.
//!
//! `fork` calls [`Mm::fork_copy`]. The finished version shares every page copy-on-write:
//! both entries become read-only with the COW bit, the frame gets one more reference, and
//! the first write on either side copies it (`fault.rs`). Pages in `eager` (the stack under
//! the stack pointer) are copied at once instead, and the parent's TLB entries of pages
//! that became read-only are invalidated.
#![allow(
    unused_imports,
    dead_code,
    reason = "lab fault: the code you write here uses these"
)]

use vmspace::{pte, Frame, PhysMem, Vmspace};

use super::addr::VirtAddr;
use super::frame::FrameAllocator;
use super::memory::{Mm, COW};
use super::space::AddressSpace;

impl Mm {
    // ANCHOR: fork-copy-hole
    /// A copy-on-write copy of this memory for a forked child running in `vm`; the
    /// writable pages in `eager` are copied at once instead.
    ///
    /// # Errors
    /// `None` when RAM runs out (nothing is left allocated).
    #[doc(alias = "uvmcopy")]
    pub fn fork_copy(
        &mut self,
        ram: &PhysMem,
        frames: &mut FrameAllocator,
        vm: Vmspace,
        eager: &[VirtAddr],
    ) -> Option<Mm> {
        // Lab fault: share instead of copying. For every present user page: a writable
        // (or already COW) entry becomes read-only with the COW bit in the parent and the
        // child, and the frame gets one more reference (FrameAllocator::share); read-only
        // pages are simply shared. Copy the pages in `eager` at once instead. Then
        // invalidate the parent's translations of the pages that became read-only.
        // Naive until you write it: copy every page now (a big process cannot fork).
        // ANCHOR_END: fork-copy-hole
        // ANCHOR: naive-copy
        let _ = eager;
        let child = AddressSpace::new(ram, frames)?;
        let mut leaves: Vec<(VirtAddr, u64)> = Vec::new();
        self.space
            .pt
            .for_each_leaf(ram, |va, e| leaves.push((va, e)));
        for (va, entry) in leaves {
            let Some(copy) = frames.alloc(ram) else {
                child.teardown(ram, frames);
                return None;
            };
            ram.copy_frame(Frame((entry & pte::ADDR_MASK) >> 12), copy);
            let flags = entry & !pte::ADDR_MASK & !pte::PRESENT;
            if child.pt.map(ram, frames, va, copy, flags).is_err() {
                frames.release(copy);
                child.teardown(ram, frames);
                return None;
            }
        }
        // ANCHOR_END: naive-copy
        // ANCHOR: child-mm
        let mut child_mm = Mm {
            space: child,
            regions: self.regions.clone(),
            brk_start: self.brk_start,
            brk: self.brk,
            vm,
        };
        child_mm.vm.set_root(child_mm.space.pt.root());
        Some(child_mm)
        // ANCHOR_END: child-mm
    }
}
