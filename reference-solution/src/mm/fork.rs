//! Forking memory (lab fault): the child's copy of a process's address space.
//!
//! `fork` calls [`Mm::fork_copy`]. The finished version shares every page copy-on-write:
//! both entries become read-only with the COW bit, the frame gets one more reference, and
//! the first write on either side copies it (`fault.rs`). Pages in `eager` (the stack under
//! the stack pointer) are copied at once instead, and the parent's TLB entries of pages
//! that became read-only are invalidated.

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
        // ANCHOR_END: fork-copy-hole
        let child = AddressSpace::new(ram, frames)?;
        let mut leaves: Vec<(VirtAddr, u64)> = Vec::new();
        self.space
            .pt
            .for_each_leaf(ram, |va, e| leaves.push((va, e)));
        let mut downgraded = Vec::new();
        for (va, entry) in leaves {
            // Pages both sides are about to write (the stack under the stack pointer):
            // copy them now rather than take two copy-on-write faults right away.
            if entry & pte::WRITABLE != 0 && eager.contains(&va) {
                if let Some(copy) = frames.alloc(ram) {
                    ram.copy_frame(Frame((entry & pte::ADDR_MASK) >> 12), copy);
                    let flags = entry & !pte::ADDR_MASK & !pte::PRESENT;
                    if child.pt.map(ram, frames, va, copy, flags).is_ok() {
                        continue;
                    }
                    frames.release(copy);
                }
            }
            let shared = if entry & (pte::WRITABLE | COW) != 0 {
                let e = (entry & !pte::WRITABLE) | COW;
                self.space.pt.update(ram, va, |_| e);
                if entry & pte::WRITABLE != 0 {
                    downgraded.push(va);
                }
                e
            } else {
                entry
            };
            let frame = Frame((shared & pte::ADDR_MASK) >> 12);
            let flags = shared & !pte::ADDR_MASK & !pte::PRESENT;
            if child.pt.map(ram, frames, va, frame, flags).is_err() {
                child.teardown(ram, frames);
                self.vm.invalidate_all();
                return None;
            }
            frames.share(frame);
        }
        // Writable pages just became read-only in the parent: drop their cached
        // translations (all of them at once when there are many).
        if downgraded.len() > 256 {
            self.vm.invalidate_all();
        } else {
            for va in downgraded {
                self.vm.invalidate(va.0);
            }
        }
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
