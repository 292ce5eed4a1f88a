//! Physical memory: one memfd of the machine's RAM size, indexed by 4 KiB frames.
//!
//! The kernel reads and writes RAM only through the copying methods here (`read`, `write`,
//! `read_u64`, `write_u64`, `zero_frame`, `copy_frame`) and never holds a Rust reference
//! into it: guests (through their host mappings of the same memfd) and device threads change
//! RAM behind the kernel's back, exactly like DMA and other CPUs on real hardware.
//! Every method checks its range and panics, naming itself, when the kernel asks for
//! memory the machine does not have: that is always a kernel bug.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::layout::{PAGE_SHIFT, PAGE_SIZE};
use crate::sys;

/// A physical address (a byte offset into RAM).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PhysAddr(pub u64);

/// A physical frame number (`PhysAddr / PAGE_SIZE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Frame(pub u64);

impl Frame {
    /// The first byte of the frame.
    pub const fn addr(self) -> PhysAddr {
        PhysAddr(self.0 << PAGE_SHIFT)
    }

    /// The frame holding `pa`.
    pub const fn containing(pa: PhysAddr) -> Frame {
        Frame(pa.0 >> PAGE_SHIFT)
    }
}

/// The machine's RAM.
#[derive(Debug)]
pub struct PhysMem {
    fd: OwnedFd,
    map: sys::SharedMapping,
    size: u64,
}

impl PhysMem {
    /// Create `size` bytes of zeroed RAM (rounded up to whole frames).
    ///
    /// # Errors
    /// Fails when the host refuses the memfd or its mapping (e.g. too little memory).
    pub fn new(size: u64) -> io::Result<Self> {
        if size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "RAM size must not be zero",
            ));
        }
        let size = size.div_ceil(PAGE_SIZE) * PAGE_SIZE;
        let name = c"vmspace-ram";
        let fd = sys::memfd_create(name, 0).map_err(|e| sys::context(e, "memfd_create(RAM)"))?;
        sys::ftruncate(&fd, size).map_err(|e| sys::context(e, "sizing RAM"))?;
        let map = sys::SharedMapping::new(&fd, size as usize)
            .map_err(|e| sys::context(e, "mapping RAM into the tracer"))?;
        Ok(Self { fd, map, size })
    }

    /// RAM size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Number of 4 KiB frames.
    pub fn frames(&self) -> u64 {
        self.size / PAGE_SIZE
    }

    /// The memfd backing RAM (the MMU maps guest pages from it).
    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// A raw pointer to `len` bytes at `pa`, after checking the range.
    fn ptr(&self, pa: PhysAddr, len: usize, who: &str) -> *mut u8 {
        let end = pa.0.checked_add(len as u64);
        assert!(
            end.is_some_and(|end| end <= self.size),
            "PhysMem::{who}: {:#x}+{len:#x} is beyond RAM ({:#x} bytes)",
            pa.0,
            self.size
        );
        self.map.base().wrapping_add(pa.0 as usize)
    }

    // ANCHOR: copy_methods
    /// Copy `buf.len()` bytes of RAM at `pa` into `buf`.
    ///
    /// # Panics
    /// When the range is not inside RAM.
    pub fn read(&self, pa: PhysAddr, buf: &mut [u8]) {
        let src = self.ptr(pa, buf.len(), "read");
        // SAFETY: `src..src+len` is inside our live shared mapping (checked by `ptr`), and
        // `buf` is a distinct local buffer. The mapping is foreign memory that others may
        // write concurrently; we only copy bytes out, never form a reference into it.
        unsafe { std::ptr::copy_nonoverlapping(src, buf.as_mut_ptr(), buf.len()) };
    }

    /// Copy `data` into RAM at `pa`.
    ///
    /// # Panics
    /// When the range is not inside RAM.
    pub fn write(&self, pa: PhysAddr, data: &[u8]) {
        let dst = self.ptr(pa, data.len(), "write");
        // SAFETY: as in `read`, with the direction reversed.
        unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), dst, data.len()) };
    }
    // ANCHOR_END: copy_methods

    /// Read the little-endian `u64` at `pa` (8-byte aligned), in one access.
    ///
    /// # Panics
    /// When `pa` is unaligned or outside RAM.
    pub fn read_u64(&self, pa: PhysAddr) -> u64 {
        assert!(
            pa.0.is_multiple_of(8),
            "PhysMem::read_u64: {:#x} is not 8-byte aligned",
            pa.0
        );
        let p = self.ptr(pa, 8, "read_u64").cast::<u64>();
        // SAFETY: in range and aligned (checked above); a volatile load of a plain integer.
        u64::from_le(unsafe { p.read_volatile() })
    }

    /// Write `value` little-endian at `pa` (8-byte aligned), in one access.
    ///
    /// # Panics
    /// When `pa` is unaligned or outside RAM.
    pub fn write_u64(&self, pa: PhysAddr, value: u64) {
        assert!(
            pa.0.is_multiple_of(8),
            "PhysMem::write_u64: {:#x} is not 8-byte aligned",
            pa.0
        );
        let p = self.ptr(pa, 8, "write_u64").cast::<u64>();
        // SAFETY: in range and aligned (checked above); a volatile store of a plain integer.
        unsafe { p.write_volatile(value.to_le()) };
    }

    /// Fill a frame with zeroes.
    ///
    /// # Panics
    /// When the frame is outside RAM.
    pub fn zero_frame(&self, frame: Frame) {
        let p = self.ptr(frame.addr(), PAGE_SIZE as usize, "zero_frame");
        // SAFETY: one whole frame inside the mapping (checked by `ptr`).
        unsafe { std::ptr::write_bytes(p, 0, PAGE_SIZE as usize) };
    }

    /// Copy frame `from` to frame `to`.
    ///
    /// # Panics
    /// When either frame is outside RAM or they are the same frame.
    pub fn copy_frame(&self, from: Frame, to: Frame) {
        assert_ne!(
            from, to,
            "PhysMem::copy_frame: source and destination are the same frame"
        );
        let src = self.ptr(from.addr(), PAGE_SIZE as usize, "copy_frame");
        let dst = self.ptr(to.addr(), PAGE_SIZE as usize, "copy_frame");
        // SAFETY: two distinct whole frames inside the mapping (checked above), so the
        // ranges do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(src, dst, PAGE_SIZE as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_is_zeroed_and_round_trips() {
        let ram = PhysMem::new(3 * PAGE_SIZE + 1).unwrap();
        assert_eq!(ram.frames(), 4);
        assert_eq!(ram.read_u64(PhysAddr(8)), 0);
        ram.write_u64(PhysAddr(4096), 0x1122_3344_5566_7788);
        let mut b = [0u8; 2];
        ram.read(PhysAddr(4096), &mut b);
        assert_eq!(b, [0x88, 0x77]);
        ram.copy_frame(Frame(1), Frame(3));
        assert_eq!(ram.read_u64(PhysAddr(3 * 4096)), 0x1122_3344_5566_7788);
        ram.zero_frame(Frame(1));
        assert_eq!(ram.read_u64(PhysAddr(4096)), 0);
        ram.write(PhysAddr(10), b"hi");
        let mut c = [0u8; 2];
        ram.read(PhysAddr(10), &mut c);
        assert_eq!(&c, b"hi");
    }

    #[test]
    #[should_panic(expected = "PhysMem::read_u64")]
    fn out_of_range_access_names_the_method() {
        let ram = PhysMem::new(PAGE_SIZE).unwrap();
        ram.read_u64(PhysAddr(PAGE_SIZE));
    }
}
