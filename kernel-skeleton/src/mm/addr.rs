//! Addresses with their units in the type: `VirtAddr` (a guest virtual address) and
//! `Vpn` (a virtual page number).
//!
//! Physical addresses and frames come from the machine (`vmspace::PhysAddr`,
//! `vmspace::Frame`). Keeping the kinds apart in types is what stops a frame number from
//! being used as an address: the classic page-table bug.

use vmspace::layout::{PAGE_SHIFT, PAGE_SIZE, USER_TOP};

// ANCHOR: virtaddr
/// A guest virtual address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct VirtAddr(pub u64);

/// A virtual page number (`VirtAddr >> 12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Vpn(pub u64);

impl VirtAddr {
    /// The page holding this address.
    pub const fn vpn(self) -> Vpn {
        Vpn(self.0 >> PAGE_SHIFT)
    }

    /// Offset inside the page.
    pub const fn page_offset(self) -> u64 {
        self.0 & (PAGE_SIZE - 1)
    }

    /// Rounded down to its page.
    pub const fn page_floor(self) -> VirtAddr {
        VirtAddr(self.0 & !(PAGE_SIZE - 1))
    }

    /// Rounded up to a page boundary (saturating at the top of the address space).
    pub const fn page_ceil(self) -> VirtAddr {
        match self.0.checked_add(PAGE_SIZE - 1) {
            Some(v) => VirtAddr(v & !(PAGE_SIZE - 1)),
            None => VirtAddr(!(PAGE_SIZE - 1)),
        }
    }

    /// Is this a user-space address?
    pub const fn is_user(self) -> bool {
        self.0 < USER_TOP
    }
}
// ANCHOR_END: virtaddr

impl Vpn {
    /// The first address of the page.
    pub const fn addr(self) -> VirtAddr {
        VirtAddr(self.0 << PAGE_SHIFT)
    }
}

// ANCHOR: user-range-ok
/// Is `[start, start + len)` entirely inside user space (and not wrapping)?
pub fn user_range_ok(start: u64, len: u64) -> bool {
    match start.checked_add(len) {
        Some(end) => end <= USER_TOP,
        None => false,
    }
}
// ANCHOR_END: user-range-ok

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_and_ranges() {
        assert_eq!(VirtAddr(0x1234).page_floor(), VirtAddr(0x1000));
        assert_eq!(VirtAddr(0x1234).page_ceil(), VirtAddr(0x2000));
        assert_eq!(VirtAddr(0x2000).page_ceil(), VirtAddr(0x2000));
        assert_eq!(VirtAddr(0x1234).vpn(), Vpn(1));
        assert_eq!(Vpn(3).addr(), VirtAddr(0x3000));
        assert!(user_range_ok(0, USER_TOP));
        assert!(!user_range_ok(USER_TOP - 1, 2));
        assert!(!user_range_ok(u64::MAX, 2));
    }
}
