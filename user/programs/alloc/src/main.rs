//! alloc: exercises the heap and prints `alloc ok <checksum>`.
//!
//! With `n` = `argv[1]` (default 100000) it builds a `Vec<u64>` of `0..n` by pushing (so
//! it grows by reallocation), a `String` with `format!` and a `Box`, checks a page-aligned
//! allocation and the reuse of freed memory, runs a pseudo-random mix of allocations,
//! reallocations and frees of many sizes and alignments (checking every byte), frees
//! everything and checks that the heap is whole again. The checksum is
//! `n(n-1)/2 + len("vec of <n>") + 3n`; any failed check panics (exit status 101). With a
//! small `n` (up to about 16000) everything fits in the runtime's 256 KiB static arena, so
//! it also works on a kernel without `mmap`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::alloc::{alloc, dealloc, Layout};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vkrt::{heap, println, Args};

vkrt::entry!(main);

/// A type that must sit at the start of a page.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

fn main(args: Args) -> i32 {
    let n: u64 = args
        .get_str(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);

    let mut v: Vec<u64> = Vec::new();
    for i in 0..n {
        v.push(i);
    }
    let s: String = format!("vec of {}", v.len());
    let b = Box::new(3 * n);
    let sum = v.iter().sum::<u64>() + s.len() as u64 + *b;

    let page = Box::new(Page([7; 4096]));
    assert!(
        (&*page as *const Page as usize).is_multiple_of(4096),
        "misaligned page"
    );
    assert!(page.0.iter().all(|&x| x == 7));

    // Many small blocks of different sizes, freed in an interleaved order.
    let mut small: Vec<Box<[u8]>> = (0..200u8)
        .map(|i| alloc::vec![i; 1 + usize::from(i) * 3].into())
        .collect();
    for (i, block) in small.iter().enumerate() {
        assert!(
            block.iter().all(|&x| usize::from(x) == i),
            "block {i} corrupted"
        );
    }
    let mut i = 0;
    small.retain(|_| {
        i += 1;
        i % 2 == 0
    });
    drop(small);

    // A freed block is handed out again.
    let first = Box::new([1u64; 8]);
    let addr = &*first as *const [u64; 8] as usize;
    drop(first);
    let second = Box::new([2u64; 8]);
    assert_eq!(
        &*second as *const [u64; 8] as usize, addr,
        "freed memory not reused"
    );
    drop(second);

    stress(2000);

    drop((v, s, b, page));
    let stats = heap::stats();
    assert_eq!(
        stats.free, stats.total,
        "memory still in use after freeing everything: {stats:?}"
    );

    println!("alloc ok {sum}");
    0
}

/// A small deterministic pseudo-random generator (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// A raw allocation of a random alignment, filled with its tag.
struct Raw {
    ptr: *mut u8,
    layout: Layout,
}

/// `rounds` random operations on 32 slots, each holding a Vec (grown and shrunk through
/// `realloc`) and a raw block with an alignment from 1 to 4096; every byte is checked
/// before it is freed.
fn stress(rounds: usize) {
    const SLOTS: usize = 32;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut vecs: Vec<Vec<u8>> = (0..SLOTS).map(|_| Vec::new()).collect();
    let mut raws: Vec<Option<Raw>> = (0..SLOTS).map(|_| None).collect();
    for _ in 0..rounds {
        let slot = rng.below(SLOTS);
        let tag = slot as u8;
        let v = &mut vecs[slot];
        assert!(v.iter().all(|&x| x == tag), "vec {slot} corrupted");
        match rng.below(4) {
            0 => v.resize(rng.below(2000), tag),
            1 => {
                v.truncate(rng.below(v.len() + 1));
                v.shrink_to_fit();
            }
            _ => {}
        }
        if let Some(raw) = raws[slot].take() {
            // SAFETY: `raw` was allocated below with `raw.layout` and filled with `tag`.
            unsafe {
                let bytes = core::slice::from_raw_parts(raw.ptr, raw.layout.size());
                assert!(bytes.iter().all(|&x| x == tag), "raw {slot} corrupted");
                dealloc(raw.ptr, raw.layout);
            }
        } else {
            let align = 1 << rng.below(13);
            let layout = Layout::from_size_align(1 + rng.below(2000), align).unwrap();
            // SAFETY: the layout has a nonzero size.
            let ptr = unsafe { alloc(layout) };
            assert!(
                !ptr.is_null() && (ptr as usize).is_multiple_of(align),
                "bad raw block"
            );
            // SAFETY: `ptr` is a fresh block of `layout.size()` bytes.
            unsafe { ptr.write_bytes(tag, layout.size()) };
            raws[slot] = Some(Raw { ptr, layout });
        }
    }
    for raw in raws.into_iter().flatten() {
        // SAFETY: allocated above with this layout and not freed yet.
        unsafe { dealloc(raw.ptr, raw.layout) };
    }
}
