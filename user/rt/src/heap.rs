//! heap: the global allocator, a first-fit free list over memory from `mmap` or a static arena.
//!
//! Linking `vkrt` installs it as the `#[global_allocator]`, so `extern crate alloc;` gives
//! a program `Vec`, `String`, `Box` and `format!` with nothing else to do. [`stats`]
//! reports how much memory the heap holds, for tests and curious programs.
//!
//! How it works (teaching code: simple, not fast):
//! * Memory is handed out in *blocks* whose address and size are multiples of 16 bytes.
//!   Rust tells `dealloc` the size it asked for, so a block in use carries no header.
//! * Free blocks form a singly linked list sorted by address. Each free block stores its
//!   own size and the address of the next free block in its first 16 bytes.
//! * `alloc` walks the list and takes the *first* block big enough once its start is
//!   rounded up to the alignment asked for; what is left before and after goes back on
//!   the list (both are multiples of 16, so they can hold a header).
//! * `dealloc` puts the block back in address order and merges it with a free neighbour
//!   on either side, so freed memory coalesces back into big blocks.
//! * When no block fits, the heap grows: an anonymous `mmap` of at least 256 KiB. If
//!   `mmap` fails (the first vkernel serves only `write` and `exit_group`), a 256 KiB
//!   arena in `.bss` is added instead, once. Memory is never returned to the kernel.
//!
//! Guests are single-threaded, but the list sits behind a spin lock anyway: that is what
//! makes sharing it through a `static` sound. The list works on plain addresses and
//! rebuilds pointers with `with_exposed_provenance_mut`: memory from `mmap` arrives as a
//! number from the kernel, and the arena's address is exposed once when it is added.
//! It uses [`crate::sys::mmap`]; nothing else in `vkrt` allocates.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::sys;

/// Every block starts at, and spans, a multiple of this many bytes: room for a header.
const UNIT: usize = 16;
/// The least the heap grows by with `mmap`.
const MIN_GROWTH: usize = 256 * 1024;
/// Size of the fallback arena in `.bss`.
const ARENA_SIZE: usize = 256 * 1024;

#[repr(C, align(4096))]
struct Arena([u8; ARENA_SIZE]);

/// The fallback memory. Only its address is ever taken (`&raw mut`, no reference).
static mut ARENA: Arena = Arena([0; ARENA_SIZE]);

/// The header stored at the start of each free block.
#[repr(C)]
struct FreeBlock {
    /// Size of the block in bytes, header included.
    size: usize,
    /// Address of the next free block (higher address), or 0 at the end of the list.
    next: usize,
}

/// A pointer to the header at `addr`, which must be a free block's address.
fn header(addr: usize) -> *mut FreeBlock {
    ptr::with_exposed_provenance_mut(addr)
}

/// What [`stats`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Bytes the heap has obtained (from `mmap` and the arena) since the program began.
    pub total: usize,
    /// Of those, bytes that are free now (the rest is in use or lost to rounding).
    pub free: usize,
    /// Number of blocks in the free list (1 when everything has coalesced into one).
    pub free_blocks: usize,
    /// True once the static arena has been added (because `mmap` failed).
    pub arena_used: bool,
}

/// The allocator's state: the free list and some accounting.
struct FreeList {
    /// Address of the lowest free block, 0 when the list is empty.
    head: usize,
    total: usize,
    free: usize,
    arena_used: bool,
}

impl FreeList {
    /// First fit: removes and returns a block of `size` bytes aligned to `align` (both
    /// multiples of [`UNIT`]), or `None` if no free block can hold one.
    ///
    /// # Safety
    /// The list must be well formed: every address in it is a free block we own.
    unsafe fn take(&mut self, size: usize, align: usize) -> Option<usize> {
        let mut prev = 0; // the block before `cur`, 0 while `cur` is the head
        let mut cur = self.head;
        while cur != 0 {
            // SAFETY: `cur` is on the list, so it is a free block with a valid header.
            let FreeBlock {
                size: cur_size,
                next,
            } = unsafe { header(cur).read() };
            let start = cur.next_multiple_of(align);
            let end = cur + cur_size;
            if start.checked_add(size).is_some_and(|stop| stop <= end) {
                let front = start - cur; // stays free, at `cur`
                let back = end - (start + size); // becomes a free block after ours
                let after = if back > 0 {
                    // SAFETY: [start + size, end) is free memory inside `cur`, 16-aligned
                    // and at least 16 bytes long (a multiple of UNIT, not 0).
                    unsafe { header(start + size).write(FreeBlock { size: back, next }) };
                    start + size
                } else {
                    next
                };
                if front > 0 {
                    // SAFETY: `cur` keeps its header; only its size and link change.
                    unsafe {
                        header(cur).write(FreeBlock {
                            size: front,
                            next: after,
                        })
                    };
                } else {
                    // SAFETY: `prev`, when not 0, is the free block linking to `cur`.
                    unsafe { self.set_next(prev, after) };
                }
                self.free -= size;
                return Some(start);
            }
            prev = cur;
            cur = next;
        }
        None
    }

    /// Returns the `size` bytes at `addr` to the list, in address order, merging with
    /// the free blocks just before and just after it.
    ///
    /// # Safety
    /// `[addr, addr + size)` must be memory the heap owns that nobody uses any more,
    /// 16-aligned and a multiple of 16 long, and not already on the list.
    unsafe fn give(&mut self, addr: usize, size: usize) {
        self.free += size;
        let mut prev = 0;
        let mut next = self.head;
        while next != 0 && next < addr {
            prev = next;
            // SAFETY: `next` is on the list.
            next = unsafe { (*header(next)).next };
        }
        // SAFETY: `prev` and `next` are 0 or free blocks on the list; `addr` is ours to
        // turn into a header (the caller's contract).
        unsafe {
            let block = if prev != 0 && prev + (*header(prev)).size == addr {
                (*header(prev)).size += size; // grow the block before us over ourselves
                prev
            } else {
                header(addr).write(FreeBlock { size, next });
                self.set_next(prev, addr);
                addr
            };
            if next != 0 && block + (*header(block)).size == next {
                let FreeBlock {
                    size: next_size,
                    next: after,
                } = header(next).read();
                (*header(block)).size += next_size; // swallow the block after us
                (*header(block)).next = after;
            }
        }
    }

    /// Tries to grow the block in use at `addr` from `old` to `new` bytes in place, by
    /// taking the front of a free block that starts right where it ends.
    ///
    /// # Safety
    /// `[addr, addr + old)` must be a block in use; the list must be well formed.
    unsafe fn extend(&mut self, addr: usize, old: usize, new: usize) -> bool {
        let (mut prev, mut cur) = (0, self.head);
        while cur != 0 && cur < addr + old {
            prev = cur;
            // SAFETY: `cur` is on the list.
            cur = unsafe { (*header(cur)).next };
        }
        if cur != addr + old {
            return false;
        }
        let need = new - old;
        // SAFETY: `cur` is on the list.
        let FreeBlock { size, next } = unsafe { header(cur).read() };
        if size < need {
            return false;
        }
        let after = if size > need {
            // SAFETY: the rest of `cur` is free, 16-aligned, a multiple of 16 long.
            unsafe {
                header(cur + need).write(FreeBlock {
                    size: size - need,
                    next,
                })
            };
            cur + need
        } else {
            next
        };
        // SAFETY: `prev` is 0 or the free block linking to `cur`.
        unsafe { self.set_next(prev, after) };
        self.free -= need;
        true
    }

    /// Makes the block at `prev` (or the head, when `prev` is 0) link to `next`.
    ///
    /// # Safety
    /// `prev` is 0 or a free block on the list.
    unsafe fn set_next(&mut self, prev: usize, next: usize) {
        if prev == 0 {
            self.head = next;
        } else {
            // SAFETY: per the contract, `prev` has a valid header.
            unsafe { (*header(prev)).next = next };
        }
    }

    /// Adds memory that can hold at least `size` bytes aligned to `align`: an `mmap`, or
    /// the arena the first time `mmap` fails. False if nothing could be added.
    fn grow(&mut self, size: usize, align: usize) -> bool {
        let Some(want) = size
            .checked_add(align)
            .map(|n| n.max(MIN_GROWTH).next_multiple_of(4096))
        else {
            return false;
        };
        let (prot, flags) = (
            sys::PROT_READ | sys::PROT_WRITE,
            sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
        );
        // SAFETY: a new anonymous mapping where the kernel chooses overlaps nothing.
        let (addr, len) = match unsafe { sys::mmap(0, want, prot, flags, -1, 0) } {
            Ok(addr) => (addr, want),
            Err(_) if !self.arena_used => {
                self.arena_used = true;
                ((&raw mut ARENA).expose_provenance(), ARENA_SIZE)
            }
            Err(_) => return false,
        };
        self.total += len;
        // SAFETY: fresh memory: page-aligned, a multiple of 16 long, used by no one (the
        // arena is added only once and is never touched except through the heap).
        unsafe { self.give(addr, len) };
        true
    }
}

/// The allocator: the free list behind a spin lock.
struct Heap {
    locked: AtomicBool,
    list: UnsafeCell<FreeList>,
}

// SAFETY: `list` is only reached through `Heap::with`, which holds the lock `locked`, so
// no two threads ever touch it at the same time.
unsafe impl Sync for Heap {}

impl Heap {
    /// Runs `f` on the free list with the lock held.
    fn with<R>(&self, f: impl FnOnce(&mut FreeList) -> R) -> R {
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            core::hint::spin_loop();
        }
        // SAFETY: we hold the lock, so this is the only reference to the list.
        let result = f(unsafe { &mut *self.list.get() });
        self.locked.store(false, Ordering::Release);
        result
    }
}

/// The block size used for a request of `layout`: at least 16, a multiple of 16.
fn block_size(size: usize) -> usize {
    size.max(1).next_multiple_of(UNIT)
}

#[global_allocator]
static HEAP: Heap = Heap {
    locked: AtomicBool::new(false),
    list: UnsafeCell::new(FreeList {
        head: 0,
        total: 0,
        free: 0,
        arena_used: false,
    }),
};

// SAFETY: `alloc` returns null or a block that no other live allocation overlaps, of at
// least `layout.size()` bytes at a multiple of `layout.align()`; `dealloc` and `realloc`
// rely on Rust passing back blocks from this allocator with their layout, as required.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let (size, align) = (block_size(layout.size()), layout.align().max(UNIT));
        self.with(|list| loop {
            // SAFETY: the list is well formed (every function keeps it so).
            if let Some(addr) = unsafe { list.take(size, align) } {
                return ptr::with_exposed_provenance_mut(addr);
            }
            if !list.grow(size, align) {
                return ptr::null_mut();
            }
        })
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` with this layout, so it is a block of this size
        // that its owner no longer uses.
        self.with(|list| unsafe { list.give(ptr.addr(), block_size(layout.size())) });
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (old, new) = (block_size(layout.size()), block_size(new_size));
        let in_place = self.with(|list| {
            if new == old {
                true
            } else if new < old {
                // SAFETY: the tail past `new` belongs to this block and is not used any
                // more; it is 16-aligned and a nonzero multiple of 16 long.
                unsafe { list.give(ptr.addr() + new, old - new) };
                true
            } else {
                // SAFETY: `ptr` is a block in use of `old` bytes.
                unsafe { list.extend(ptr.addr(), old, new) }
            }
        });
        if in_place {
            return ptr;
        }
        // SAFETY: `layout.align()` is a valid alignment and `new_size` is nonzero and
        // fits in isize once rounded, as `realloc`'s contract requires of the caller.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: forwarding the caller's guarantees to our own `alloc` and `dealloc`.
        unsafe {
            let new_ptr = self.alloc(new_layout);
            if !new_ptr.is_null() {
                ptr::copy_nonoverlapping(ptr, new_ptr, layout.size());
                self.dealloc(ptr, layout);
            }
            new_ptr
        }
    }
}

/// How much memory the heap holds and how much of it is free.
pub fn stats() -> Stats {
    HEAP.with(|list| {
        let mut free_blocks = 0;
        let mut cur = list.head;
        while cur != 0 {
            free_blocks += 1;
            // SAFETY: `cur` is on the list.
            cur = unsafe { (*header(cur)).next };
        }
        Stats {
            total: list.total,
            free: list.free,
            free_blocks,
            arena_used: list.arena_used,
        }
    })
}
