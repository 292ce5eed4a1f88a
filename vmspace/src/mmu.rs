//! The MMU: walks the kernel's page tables on a host fault and fills the "TLB".
//!
//! A guest address space starts with no guest pages mapped in the host. When the guest
//! touches a page, the host raises `SIGSEGV`; [`walk`] reads the kernel's x86-64 table in
//! RAM like the hardware page walker would, and when the entry allows the access the page
//! is mapped into the child from the RAM memfd (that host mapping *is* the TLB entry) and
//! the guest resumes without the kernel hearing of it. Like hardware, the walk sets the
//! accessed bit in every entry it used, and the dirty bit in the leaf on a write: a clean
//! writable page is mapped read-only first, so that the first write faults once more and
//! can be recorded.
//!
//! The TLB is not coherent with RAM: a changed or removed entry keeps working through the
//! old host mapping until the kernel calls `invalidate` (`invlpg`) or `invalidate_all`
//! (a CR3 reload). [`Tlb`] remembers what is mapped so invalidation costs one `munmap`.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::layout::{page_floor, PAGE_SIZE, USER_TOP};
use crate::physmem::{Frame, PhysAddr, PhysMem};
use crate::pte;

/// What a walk found for one virtual address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Walk {
    /// Physical addresses of the entries used, root first (only `depth` are valid).
    pub entries: [PhysAddr; 4],
    /// How many levels were read.
    pub depth: usize,
    /// The leaf entry, when every level was present.
    pub leaf: Option<u64>,
    /// `USER` set at every level.
    pub user: bool,
    /// `WRITABLE` set at every level.
    pub write: bool,
    /// `NO_EXECUTE` clear at every level.
    pub exec: bool,
}

impl Walk {
    /// A present translation that user mode may use at all.
    pub fn user_present(&self) -> bool {
        self.leaf.is_some() && self.user
    }

    /// The frame the leaf points to.
    pub fn frame(&self) -> Option<Frame> {
        self.leaf.map(|e| Frame((e & pte::ADDR_MASK) >> 12))
    }
}

/// Walk the table rooted at `root` for `va`, as the hardware would.
///
/// # Errors
/// [`Error::BadPageTable`] when an entry points outside RAM or uses a large page.
pub fn walk(ram: &PhysMem, root: Frame, va: u64) -> Result<Walk> {
    let mut w = Walk {
        entries: [PhysAddr(0); 4],
        depth: 0,
        leaf: None,
        user: true,
        write: true,
        exec: true,
    };
    if va >= USER_TOP {
        w.user = false;
        return Ok(w);
    }
    let mut table = root.addr();
    if table.0 >= ram.size() {
        return Err(Error::BadPageTable(format!(
            "root frame {:#x} is outside RAM",
            root.0
        )));
    }
    // ANCHOR: walk_loop
    for level in (1..=4u32).rev() {
        let slot = PhysAddr(table.0 + 8 * pte::index(va, level) as u64);
        let entry = ram.read_u64(slot);
        w.entries[w.depth] = slot;
        w.depth += 1;
        if entry & pte::PRESENT == 0 {
            return Ok(w);
        }
        w.user &= entry & pte::USER != 0;
        w.write &= entry & pte::WRITABLE != 0;
        w.exec &= entry & pte::NO_EXECUTE == 0;
        if level > 1 && entry & pte::HUGE != 0 {
            return Err(Error::BadPageTable(format!(
                "large page at level {level} for {va:#x} (entry {entry:#x}): this machine has 4 KiB pages only"
            )));
        }
        let next = entry & pte::ADDR_MASK;
        if next >= ram.size() {
            return Err(Error::BadPageTable(format!(
                "entry {entry:#x} at level {level} for {va:#x} points outside RAM ({:#x} bytes)",
                ram.size()
            )));
        }
        if level == 1 {
            w.leaf = Some(entry);
        }
        table = PhysAddr(next);
    }
    // ANCHOR_END: walk_loop
    Ok(w)
}

/// Set the accessed bit in every entry of `w`, and the dirty bit in the leaf if `dirty`.
pub fn mark_used(ram: &PhysMem, w: &Walk, dirty: bool) {
    for (i, slot) in w.entries[..w.depth].iter().enumerate() {
        let entry = ram.read_u64(*slot);
        let mut set = pte::ACCESSED;
        if dirty && i == w.depth - 1 {
            set |= pte::DIRTY;
        }
        if entry & set != set {
            ram.write_u64(*slot, entry | set);
        }
    }
}

/// Host protection bits.
pub const PROT_R: i32 = libc::PROT_READ;
/// Host write permission.
pub const PROT_W: i32 = libc::PROT_WRITE;
/// Host execute permission.
pub const PROT_X: i32 = libc::PROT_EXEC;

// ANCHOR: host_prot
/// The host protection a walk allows right now: readable, writable only once dirty,
/// executable unless NX.
pub fn host_prot(w: &Walk) -> i32 {
    let leaf = w.leaf.unwrap_or(0);
    let mut prot = PROT_R;
    if w.write && leaf & pte::DIRTY != 0 {
        prot |= PROT_W;
    }
    if w.exec {
        prot |= PROT_X;
    }
    prot
}
// ANCHOR_END: host_prot

/// One host memory operation to run in the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOp {
    /// `mmap(va, len, prot, MAP_SHARED|MAP_FIXED, ram, offset)`.
    Map {
        /// Virtual address.
        va: u64,
        /// Length in bytes.
        len: u64,
        /// Host protection.
        prot: i32,
        /// Offset into RAM.
        offset: u64,
    },
    /// `munmap(va, len)`.
    Unmap {
        /// Virtual address.
        va: u64,
        /// Length in bytes.
        len: u64,
    },
}

/// What is mapped in the host for one guest page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlbEntry {
    /// The frame mapped.
    pub frame: Frame,
    /// The host protection.
    pub prot: i32,
}

/// The software view of the host mappings of one address space, plus the queue of host
/// operations that bring the child in line with it.
#[derive(Debug, Default)]
pub struct Tlb {
    entries: HashMap<u64, TlbEntry>,
    ops: Vec<HostOp>,
}

/// At most this many guest pages are mapped in one child (each may be a host VMA and
/// the host allows 65530 per process); past it the TLB is flushed, like a full TLB.
pub const TLB_CAPACITY: usize = 16 * 1024;

impl Tlb {
    /// What is mapped for the page holding `va`.
    pub fn get(&self, va: u64) -> Option<TlbEntry> {
        self.entries.get(&(va >> 12)).copied()
    }

    /// Number of pages mapped.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Map the page holding `va` to `frame` with `prot` (replacing what was there).
    pub fn fill(&mut self, va: u64, frame: Frame, prot: i32) {
        if self.entries.len() >= TLB_CAPACITY {
            self.flush_all();
        }
        let va = page_floor(va);
        self.entries.insert(va >> 12, TlbEntry { frame, prot });
        let offset = frame.addr().0;
        if let Some(HostOp::Map {
            va: last_va,
            len,
            prot: last_prot,
            offset: last_off,
        }) = self.ops.last_mut()
        {
            if *last_va + *len == va && *last_off + *len == offset && *last_prot == prot {
                *len += PAGE_SIZE;
                return;
            }
        }
        self.ops.push(HostOp::Map {
            va,
            len: PAGE_SIZE,
            prot,
            offset,
        });
    }

    /// Drop the mapping of the page holding `va`, if any.
    pub fn flush_page(&mut self, va: u64) {
        if self.entries.remove(&(va >> 12)).is_some() {
            self.ops.push(HostOp::Unmap {
                va: page_floor(va),
                len: PAGE_SIZE,
            });
        }
    }

    /// Drop every mapping.
    pub fn flush_all(&mut self) {
        if !self.entries.is_empty() {
            self.entries.clear();
            // Earlier queued operations are now moot.
            self.ops.clear();
            self.ops.push(HostOp::Unmap {
                va: 0,
                len: USER_TOP,
            });
        }
    }

    /// Queue the removal of every host mapping, known or not (for a recycled child).
    pub fn forget_host_mappings(&mut self) {
        self.entries.clear();
        self.ops.clear();
        self.ops.push(HostOp::Unmap {
            va: 0,
            len: USER_TOP,
        });
    }

    /// Take the queued host operations.
    pub fn take_ops(&mut self) -> Vec<HostOp> {
        std::mem::take(&mut self.ops)
    }

    /// Are host operations waiting?
    pub fn has_ops(&self) -> bool {
        !self.ops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build root → l3 → l2 → l1 in frames 1..=4 mapping `va` to frame 9.
    fn table(ram: &PhysMem, va: u64, leaf_flags: u64, upper: u64) {
        for (level, frame) in [(4u32, 1u64), (3, 2), (2, 3)] {
            let slot = PhysAddr(frame * 4096 + 8 * pte::index(va, level) as u64);
            ram.write_u64(slot, ((frame + 1) << 12) | upper);
        }
        let slot = PhysAddr(4 * 4096 + 8 * pte::index(va, 1) as u64);
        ram.write_u64(slot, (9 << 12) | leaf_flags);
    }

    #[test]
    fn walk_combines_permissions_and_marks_bits() {
        let ram = PhysMem::new(16 * 4096).unwrap();
        let va = 0x40_1234;
        let all = pte::PRESENT | pte::WRITABLE | pte::USER;
        table(&ram, va, all | pte::NO_EXECUTE, all);
        let w = walk(&ram, Frame(1), va).unwrap();
        assert_eq!(w.frame(), Some(Frame(9)));
        assert!(w.user && w.write && !w.exec);
        assert_eq!(host_prot(&w), PROT_R, "clean writable page maps read-only");
        mark_used(&ram, &w, true);
        let w = walk(&ram, Frame(1), va).unwrap();
        assert_eq!(host_prot(&w), PROT_R | PROT_W);
        assert!(w.leaf.unwrap() & pte::ACCESSED != 0);
        let root_entry = ram.read_u64(w.entries[0]);
        assert!(root_entry & pte::ACCESSED != 0 && root_entry & pte::DIRTY == 0);
    }

    #[test]
    fn walk_stops_at_missing_levels_and_refuses_broken_tables() {
        let ram = PhysMem::new(16 * 4096).unwrap();
        let w = walk(&ram, Frame(1), 0x1000).unwrap();
        assert_eq!((w.depth, w.leaf), (1, None));
        let all = pte::PRESENT | pte::WRITABLE | pte::USER;
        table(&ram, 0x1000, all, all | pte::HUGE);
        assert!(matches!(
            walk(&ram, Frame(1), 0x1000),
            Err(Error::BadPageTable(_))
        ));
        ram.write_u64(PhysAddr(4096), (1 << 40) | all);
        let e = walk(&ram, Frame(1), 0x1000).unwrap_err().to_string();
        assert!(e.contains("outside RAM"), "{e}");
        assert!(walk(&ram, Frame(99), 0).is_err());
        assert!(!walk(&ram, Frame(1), USER_TOP).unwrap().user);
    }

    #[test]
    fn tlb_merges_contiguous_maps_and_flushes() {
        let mut t = Tlb::default();
        t.fill(0x1000, Frame(5), PROT_R);
        t.fill(0x2000, Frame(6), PROT_R);
        t.fill(0x3000, Frame(9), PROT_R);
        assert_eq!(t.len(), 3);
        let ops = t.take_ops();
        assert_eq!(ops.len(), 2);
        assert_eq!(
            ops[0],
            HostOp::Map {
                va: 0x1000,
                len: 0x2000,
                prot: PROT_R,
                offset: 5 * 4096
            }
        );
        t.flush_page(0x2fff);
        assert_eq!(
            t.take_ops(),
            vec![HostOp::Unmap {
                va: 0x2000,
                len: 4096
            }]
        );
        t.flush_page(0x2000);
        assert!(!t.has_ops(), "flushing an unmapped page queues nothing");
        t.flush_all();
        assert_eq!(t.len(), 0);
        assert_eq!(
            t.take_ops(),
            vec![HostOp::Unmap {
                va: 0,
                len: USER_TOP
            }]
        );
    }
}
