//! A process's memory: its page table, its regions, its heap break and its `Vmspace`.
//!
//! [`Mm`] ties the kernel's description of an address space (page table + regions) to the
//! machine's address space that runs it (`vmspace::Vmspace`). Everything that changes a
//! present page-table entry goes through here, so the TLB is invalidated where it must be.
//! [`Faulting`] is the [`UserMemory`] that system calls use: it runs the page-fault
//! handler for pages that are not there yet, like a CPU touching them would.

use vmspace::{pte, Access, Frame, PhysAddr, PhysMem, Vmspace};

use super::addr::VirtAddr;
use super::fault;
use super::frame::FrameAllocator;
use super::space::AddressSpace;
use super::uaccess::{user_phys, Efault, UserMemory};
use super::vma::{Prot, Regions};

// ANCHOR: cow-bit
/// Software bit of a leaf entry: the page is shared copy-on-write.
pub const COW: u64 = 1 << 9;
// ANCHOR_END: cow-bit

// ANCHOR: mm-struct
/// A process's memory.
#[derive(Debug)]
pub struct Mm {
    /// The page table and the pages it owns.
    pub space: AddressSpace,
    /// What may be mapped.
    pub regions: Regions,
    /// Where the heap starts.
    pub brk_start: u64,
    /// The current break.
    pub brk: u64,
    /// The machine address space running it.
    pub vm: Vmspace,
}
// ANCHOR_END: mm-struct

impl Mm {
    /// The memory of a freshly loaded program, running in `vm`: installs its page table
    /// and preloads its translations.
    pub fn install(image: crate::exec::Image, vm: Vmspace) -> Mm {
        let mut mm = Mm {
            space: image.space,
            regions: image.regions,
            brk_start: image.brk,
            brk: image.brk,
            vm,
        };
        mm.vm.set_root(mm.space.pt.root());
        mm.preload();
        mm
    }

    /// Release every page and table frame (the `Vmspace` is dropped with `self`).
    pub fn teardown(self, ram: &PhysMem, frames: &mut FrameAllocator) {
        self.space.teardown(ram, frames);
    }

    /// Load the translations of every present page into the machine's TLB ahead of use
    /// (after exec every page of the program is present: this saves one host fault per
    /// page touched).
    pub fn preload(&mut self) {
        let spans: Vec<(u64, u64)> = self.regions.iter().map(|r| (r.start, r.end)).collect();
        for (start, end) in spans {
            self.vm
                .prefault(start, end)
                .expect("Mm::preload: the kernel's own page table is well formed");
        }
    }

    // ANCHOR: flags-for
    /// Leaf flags for a page of a region with `prot`.
    pub fn flags_for(prot: Prot) -> u64 {
        let mut f = pte::USER;
        if prot.write {
            f |= pte::WRITABLE;
        }
        if !prot.exec {
            f |= pte::NO_EXECUTE;
        }
        f
    }
    // ANCHOR_END: flags-for

    // ANCHOR: unmap-pages
    /// Unmap every present page of `[start, end)`, releasing the frames.
    pub fn unmap_pages(
        &mut self,
        ram: &PhysMem,
        frames: &mut FrameAllocator,
        start: u64,
        end: u64,
    ) {
        let mut present: Vec<(VirtAddr, u64)> = Vec::new();
        self.space.pt.for_each_leaf(ram, |va, e| {
            if va.0 >= start && va.0 < end {
                present.push((va, e));
            }
        });
        for (va, entry) in present {
            self.space.pt.unmap(ram, va);
            self.vm.invalidate(va.0);
            frames.release(Frame((entry & pte::ADDR_MASK) >> 12));
        }
    }
    // ANCHOR_END: unmap-pages

    // ANCHOR: protect-pages
    /// Apply `prot` to the present pages of `[start, end)`. Copy-on-write pages stay
    /// read-only until they are copied, and a page whose frame other entries share (a
    /// read-only page fork shared) becomes copy-on-write instead of writable: making it
    /// writable in place would let this process write into another's memory.
    pub fn protect_pages(
        &mut self,
        ram: &PhysMem,
        frames: &FrameAllocator,
        start: u64,
        end: u64,
        prot: Prot,
    ) {
        let mut present: Vec<(VirtAddr, u64)> = Vec::new();
        self.space.pt.for_each_leaf(ram, |va, e| {
            if va.0 >= start && va.0 < end {
                present.push((va, e));
            }
        });
        for (va, entry) in present {
            let shared = frames.refs(Frame((entry & pte::ADDR_MASK) >> 12)) > 1;
            self.space.pt.update(ram, va, |e| {
                let mut e = e & !(pte::WRITABLE | pte::NO_EXECUTE);
                if prot.write && e & COW == 0 {
                    e |= if shared { COW } else { pte::WRITABLE };
                }
                if !prot.exec {
                    e |= pte::NO_EXECUTE;
                }
                e
            });
            self.vm.invalidate(va.0);
        }
    }
    // ANCHOR_END: protect-pages
}

/// User memory of a process, faulting pages in as needed (for system call arguments).
#[derive(Debug)]
pub struct Faulting<'a> {
    /// RAM.
    pub ram: &'a PhysMem,
    /// The frame allocator.
    pub frames: &'a mut FrameAllocator,
    /// The process's memory.
    pub mm: &'a mut Mm,
}

impl UserMemory for Faulting<'_> {
    fn ram(&self) -> &PhysMem {
        self.ram
    }

    // ANCHOR: faulting-phys
    fn phys(&mut self, va: VirtAddr, write: bool) -> Result<PhysAddr, Efault> {
        if let Some(pa) = user_phys(self.ram, &self.mm.space.pt, va, write) {
            return Ok(pa);
        }
        let access = if write { Access::Write } else { Access::Read };
        // A system call is not the stack: no growth on behalf of a pointer argument.
        fault::handle(self.ram, self.frames, self.mm, va.0, access, None).map_err(|_| Efault)?;
        user_phys(self.ram, &self.mm.space.pt, va, write).ok_or(Efault)
    }
    // ANCHOR_END: faulting-phys
}
