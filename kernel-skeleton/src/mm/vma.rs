//! Memory regions (VMAs): which parts of an address space exist and what they allow.
//!
//! The page table says what is mapped *now*; the regions say what *may* be mapped. The
//! page-fault handler (`fault.rs`) consults them: a fault inside a region that allows the
//! access is lazy allocation or copy-on-write; anywhere else it is a segmentation fault.
//! `mmap`, `munmap`, `mprotect` and `brk` edit regions with [`Regions::insert`],
//! [`Regions::remove`] and [`Regions::protect`], which split regions at the edges.

/// What a region is for (shown by page-table dumps and `--trace fault`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Program text and read-only data (from the ELF file).
    Text,
    /// Initialised data and bss (from the ELF file).
    Data,
    /// The `brk` heap.
    Heap,
    /// The stack (grows down).
    Stack,
    /// An anonymous `mmap`.
    Anon,
}

/// Access rights of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prot {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl Prot {
    /// Read and write.
    pub const RW: Prot = Prot {
        read: true,
        write: true,
        exec: false,
    };
    /// Read and execute.
    pub const RX: Prot = Prot {
        read: true,
        write: false,
        exec: true,
    };
    /// From Linux `PROT_*` bits.
    pub fn from_bits(bits: u64) -> Prot {
        Prot {
            read: bits & 1 != 0,
            write: bits & 2 != 0,
            exec: bits & 4 != 0,
        }
    }
}

// ANCHOR: region-struct
/// One region `[start, end)`, page aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// First address.
    pub start: u64,
    /// First address past the end.
    pub end: u64,
    /// What it is.
    pub kind: Kind,
    /// What it allows.
    pub prot: Prot,
}
// ANCHOR_END: region-struct

/// The sorted, non-overlapping regions of one address space.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Regions {
    list: Vec<Region>,
}

impl Regions {
    // ANCHOR: regions-find
    /// The region holding `va`.
    pub fn find(&self, va: u64) -> Option<&Region> {
        self.list.iter().find(|r| r.start <= va && va < r.end)
    }

    /// All regions in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Region> {
        self.list.iter()
    }

    /// Does any region overlap `[start, end)`?
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.list.iter().any(|r| r.start < end && start < r.end)
    }
    // ANCHOR_END: regions-find

    /// Add a region; whatever overlapped it is removed first.
    ///
    /// # Panics
    /// When the region is empty or not page aligned.
    pub fn insert(&mut self, region: Region) {
        assert!(
            region.start < region.end
                && region.start.is_multiple_of(4096)
                && region.end.is_multiple_of(4096),
            "Regions::insert: bad region {region:?}"
        );
        self.remove(region.start, region.end);
        let at = self.list.partition_point(|r| r.start < region.start);
        self.list.insert(at, region);
    }

    /// Remove `[start, end)` from every region, splitting those that straddle the edges.
    pub fn remove(&mut self, start: u64, end: u64) {
        let mut out = Vec::with_capacity(self.list.len() + 1);
        for r in self.list.drain(..) {
            if r.end <= start || end <= r.start {
                out.push(r);
                continue;
            }
            if r.start < start {
                out.push(Region { end: start, ..r });
            }
            if end < r.end {
                out.push(Region { start: end, ..r });
            }
        }
        self.list = out;
    }

    /// Set the protection of `[start, end)` (splitting regions at the edges). Returns
    /// `false`, changing nothing, when part of the range is not covered by regions.
    pub fn protect(&mut self, start: u64, end: u64, prot: Prot) -> bool {
        let mut covered = 0;
        for r in &self.list {
            covered += r.end.min(end).saturating_sub(r.start.max(start));
        }
        if covered != end - start {
            return false;
        }
        let pieces: Vec<Region> = self
            .list
            .iter()
            .filter(|r| r.start < end && start < r.end)
            .map(|r| Region {
                start: r.start.max(start),
                end: r.end.min(end),
                prot,
                ..*r
            })
            .collect();
        for p in pieces {
            self.insert(p);
        }
        true
    }

    /// Grow or shrink the region starting at `start` to end at `end`.
    ///
    /// # Panics
    /// When no region starts at `start`.
    pub fn resize(&mut self, start: u64, end: u64) {
        let r = self
            .list
            .iter_mut()
            .find(|r| r.start == start)
            .expect("Regions::resize: no region starts there");
        r.end = end;
    }

    // ANCHOR: grow-down
    /// Extend the region holding `old_start` down to `new_start` (stack growth).
    pub fn grow_down(&mut self, old_start: u64, new_start: u64) {
        if let Some(r) = self.list.iter_mut().find(|r| r.start == old_start) {
            r.start = new_start;
        }
    }
    // ANCHOR_END: grow-down

    /// A free, page-aligned gap of `len` bytes at or above `hint`, below `top`.
    pub fn find_gap(&self, hint: u64, len: u64, top: u64) -> Option<u64> {
        let mut candidate = hint;
        for r in &self.list {
            if r.end <= candidate {
                continue;
            }
            if candidate + len <= r.start {
                break;
            }
            candidate = candidate.max(r.end);
        }
        (candidate.checked_add(len)? <= top).then_some(candidate)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(start: u64, end: u64, kind: Kind) -> Region {
        Region {
            start,
            end,
            kind,
            prot: Prot::RW,
        }
    }

    #[test]
    fn insert_remove_split() {
        let mut rs = Regions::default();
        rs.insert(r(0x1000, 0x5000, Kind::Anon));
        rs.insert(r(0x8000, 0x9000, Kind::Heap));
        assert_eq!(rs.find(0x4fff).unwrap().kind, Kind::Anon);
        assert!(rs.find(0x5000).is_none());
        rs.remove(0x2000, 0x3000);
        let spans: Vec<_> = rs.iter().map(|r| (r.start, r.end)).collect();
        assert_eq!(
            spans,
            vec![(0x1000, 0x2000), (0x3000, 0x5000), (0x8000, 0x9000)]
        );
        assert!(rs.protect(0x3000, 0x4000, Prot::RX));
        assert_eq!(rs.find(0x3000).unwrap().prot, Prot::RX);
        assert_eq!(rs.find(0x4000).unwrap().prot, Prot::RW);
        assert!(!rs.protect(0x1000, 0x3000, Prot::RX), "a hole in the range");
        assert_eq!(rs.find_gap(0x1000, 0x1000, 0x10000), Some(0x2000));
        assert_eq!(rs.find_gap(0x1000, 0x3000, 0x10000), Some(0x5000));
        assert_eq!(rs.find_gap(0x1000, 0x10000, 0x10000), None);
    }
}
