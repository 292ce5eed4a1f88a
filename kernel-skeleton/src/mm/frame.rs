//! The frame allocator: hands out zeroed 4 KiB frames of RAM and counts references.
//!
//! Call [`FrameAllocator::alloc`] for a zeroed frame (reference count 1),
//! [`FrameAllocator::share`] when a second page table entry starts pointing at it (a
//! copy-on-write fork), and [`FrameAllocator::release`] when an entry stops pointing at it;
//! the frame is free again when the count reaches zero. Frame 0 is never handed out, so a
//! zero frame number in a page table is always a bug. `in_use` feeds the leak report.

use vmspace::{Frame, PhysMem};

/// Free frames and reference counts for all of RAM.
#[derive(Debug)]
pub struct FrameAllocator {
    free: Vec<u32>,
    refs: Vec<u16>,
    allocated: u64,
}

impl FrameAllocator {
    /// Manage frames `1..frames` (frame 0 stays reserved).
    pub fn new(frames: u64) -> Self {
        let frames = u32::try_from(frames).expect("FrameAllocator::new: RAM too large");
        // Hand out low frames first: pop() takes from the end.
        let free = (1..frames).rev().collect();
        FrameAllocator {
            free,
            refs: vec![0; frames as usize],
            allocated: 0,
        }
    }

    // ANCHOR: alloc
    /// A zeroed frame with reference count 1, or `None` when RAM is full.
    pub fn alloc(&mut self, ram: &PhysMem) -> Option<Frame> {
        let f = self.free.pop()?;
        debug_assert_eq!(
            self.refs[f as usize], 0,
            "alloc: free frame {f} has references"
        );
        self.refs[f as usize] = 1;
        self.allocated += 1;
        let frame = Frame(u64::from(f));
        ram.zero_frame(frame);
        Some(frame)
    }
    // ANCHOR_END: alloc

    /// Add a reference to an allocated frame.
    ///
    /// # Panics
    /// When the frame is not allocated.
    pub fn share(&mut self, frame: Frame) {
        let r = &mut self.refs[frame.0 as usize];
        assert!(*r > 0, "FrameAllocator::share: frame {} is free", frame.0);
        *r = r
            .checked_add(1)
            .expect("FrameAllocator::share: too many references");
    }

    // ANCHOR: release
    /// Drop a reference; the frame is freed when none are left. Returns `true` if freed.
    ///
    /// # Panics
    /// When the frame is already free (a double free).
    pub fn release(&mut self, frame: Frame) -> bool {
        let r = &mut self.refs[frame.0 as usize];
        assert!(
            *r > 0,
            "FrameAllocator::release: frame {} is already free",
            frame.0
        );
        *r -= 1;
        if *r == 0 {
            self.free.push(frame.0 as u32);
            true
        } else {
            false
        }
    }
    // ANCHOR_END: release

    /// References to `frame` (0 = free).
    pub fn refs(&self, frame: Frame) -> u16 {
        self.refs[frame.0 as usize]
    }

    /// Frames handed out since boot (a count that only grows; `vk_allocs` reports it).
    pub fn allocated_total(&self) -> u64 {
        self.allocated
    }

    /// Frames handed out and not yet freed.
    pub fn in_use(&self) -> usize {
        self.refs.len() - 1 - self.free.len()
    }

    /// Frames still free.
    pub fn free_count(&self) -> usize {
        self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_counted_zeroed_and_reused() {
        let ram = PhysMem::new(4 * 4096).unwrap();
        let mut a = FrameAllocator::new(ram.frames());
        assert_eq!(a.free_count(), 3);
        let f = a.alloc(&ram).unwrap();
        assert_eq!(f, Frame(1));
        ram.write_u64(f.addr(), 42);
        a.share(f);
        assert_eq!(a.refs(f), 2);
        assert!(!a.release(f));
        assert!(a.release(f));
        assert_eq!(a.in_use(), 0);
        let g = a.alloc(&ram).unwrap();
        assert_eq!(g, f, "the freed frame comes back");
        assert_eq!(ram.read_u64(g.addr()), 0, "and it is zeroed");
        assert!(a.alloc(&ram).is_some() && a.alloc(&ram).is_some());
        assert!(a.alloc(&ram).is_none(), "RAM is full");
    }

    #[test]
    #[should_panic(expected = "already free")]
    fn double_free_is_caught() {
        let ram = PhysMem::new(2 * 4096).unwrap();
        let mut a = FrameAllocator::new(ram.frames());
        let f = a.alloc(&ram).unwrap();
        a.release(f);
        a.release(f);
    }
}
