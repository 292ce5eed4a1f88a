//! The page-table format the MMU understands: x86-64 4-level tables, 4 KiB pages.
//!
//! The kernel builds tables in [`PhysMem`](crate::PhysMem) with these bits and hands the
//! root frame to [`Vmspace::set_root`](crate::Vmspace::set_root) (CR3). Each table is one
//! 4 KiB frame of 512 little-endian `u64` entries. The MMU (`mmu.rs`) walks them on a host
//! fault, sets [`ACCESSED`] and [`DIRTY`] like hardware does, and caches what it found in
//! the host mapping (the TLB) until the kernel calls `invalidate`.
//!
//! Large pages (the PS bit in a directory entry) are not part of this machine: the MMU
//! refuses them as a broken page table.

// ANCHOR: pte_bits
/// The entry is valid.
pub const PRESENT: u64 = 1 << 0;
/// Writes are allowed (must be set at every level for a write to pass).
pub const WRITABLE: u64 = 1 << 1;
/// User-mode accesses are allowed (must be set at every level).
pub const USER: u64 = 1 << 2;
/// Set by the MMU when the entry was used for a translation.
pub const ACCESSED: u64 = 1 << 5;
/// Set by the MMU in a leaf entry when the page was written.
pub const DIRTY: u64 = 1 << 6;
/// Page size bit of directory entries: large pages, not supported by this machine.
pub const HUGE: u64 = 1 << 7;
/// Bits 9..=11 are ignored by the MMU: the kernel may use them (e.g. to mark COW pages).
pub const SOFTWARE_MASK: u64 = 0b111 << 9;
/// Instruction fetches are not allowed (if set at any level).
pub const NO_EXECUTE: u64 = 1 << 63;
/// The physical address bits of an entry (frame number in bits 12..=51).
pub const ADDR_MASK: u64 = 0x000f_ffff_ffff_f000;
// ANCHOR_END: pte_bits

/// Number of entries in one table.
pub const ENTRIES: usize = 512;

/// The index into the table at `level` (4 = root, 1 = leaf) for virtual address `va`.
///
/// # Panics
/// Panics when `level` is not in `1..=4`.
pub const fn index(va: u64, level: u32) -> usize {
    assert!(level >= 1 && level <= 4, "pte::index: level must be 1..=4");
    ((va >> (12 + 9 * (level - 1))) & 0x1ff) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_split_the_address() {
        let va = (3u64 << 39) | (5 << 30) | (7 << 21) | (9 << 12) | 0x123;
        assert_eq!(index(va, 4), 3);
        assert_eq!(index(va, 3), 5);
        assert_eq!(index(va, 2), 7);
        assert_eq!(index(va, 1), 9);
    }
}
