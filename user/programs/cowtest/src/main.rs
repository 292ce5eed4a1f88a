//! cowtest: checks that a forked child's memory is a private copy of its parent's.
//!
//! Usage: `cowtest [MB]` (default 4). It maps `MB` MiB of anonymous memory, fills it
//! with a pattern made from a seed, and forks two children. Each child checks that it
//! sees the parent's pattern, writes its own (another seed) into one page in eight and
//! checks both. After both have exited, the parent checks that its own pattern is untouched.
//! A kernel that copies on write shares the pages until the first write to each; one
//! that copies at fork copies them all at once; either way the copies must be private.
//! Prints `cowtest ok` and exits with 0, or says what differed and exits with 1.
//!
//! System calls: `mmap`, `munmap`, `fork`, `wait4`, `exit_group`, `write`.

#![no_std]
#![no_main]

use vkrt::sys::{self, WaitStatus};
use vkrt::{eprintln, println, process, Args};

vkrt::entry!(main);

/// The pattern's word `i` for `seed`: every word differs, and so does every seed.
fn pattern(seed: u64, i: usize) -> u64 {
    (i as u64 ^ seed.rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seed
}

/// Writes the pattern for `seed` over all of `words`.
fn fill(words: &mut [u64], seed: u64) {
    for (i, w) in words.iter_mut().enumerate() {
        *w = pattern(seed, i);
    }
}

/// The index of the first word that is not the pattern for `seed`, if any.
fn first_difference(words: &[u64], seed: u64) -> Option<usize> {
    words
        .iter()
        .enumerate()
        .position(|(i, &w)| w != pattern(seed, i))
}

/// Words per page, and how often a child writes: one page in `STRIDE`, so that two
/// children of a process holding most of RAM still fit when the kernel copies on write.
const PAGE_WORDS: usize = 4096 / 8;
const STRIDE: usize = 8;

// ANCHOR: child-work
/// A child's work: check the parent's data, then write its own pattern into one page in
/// `STRIDE` and check both what it wrote and that the rest is still the parent's. Its exit
/// status: 0 fine, 1 the parent's data was wrong, 2 its own.
fn child_work(words: &mut [u64], seed: u64) -> i32 {
    if first_difference(words, 1).is_some() {
        return 1;
    }
    let pages = words.len() / PAGE_WORDS;
    for page in (0..pages).step_by(STRIDE) {
        let first = page * PAGE_WORDS;
        for (i, w) in words[first..first + PAGE_WORDS].iter_mut().enumerate() {
            *w = pattern(seed, first + i);
        }
    }
    for (i, &w) in words.iter().enumerate() {
        let mine = (i / PAGE_WORDS).is_multiple_of(STRIDE);
        let expected = pattern(if mine { seed } else { 1 }, i);
        if w != expected {
            return 2;
        }
    }
    0
}
// ANCHOR_END: child-work

/// Forks the two children, waits for them; true if both were fine.
fn run_children(words: &mut [u64]) -> bool {
    let mut pids = [0; 2];
    for (k, pid) in pids.iter_mut().enumerate() {
        match sys::fork() {
            Ok(0) => sys::exit_group(child_work(words, 2 + k as u64)),
            Ok(child) => *pid = child as i32,
            Err(e) => {
                eprintln!("cowtest: fork: {e}");
                return false;
            }
        }
    }
    let mut ok = true;
    for pid in pids {
        match process::wait(pid) {
            Ok((_, WaitStatus::Exited(0))) => {}
            Ok((_, WaitStatus::Exited(1))) => {
                eprintln!("cowtest: child {pid} did not see the parent's data");
                ok = false;
            }
            Ok((_, status)) => {
                eprintln!("cowtest: child {pid} failed: {status:?}");
                ok = false;
            }
            Err(e) => {
                eprintln!("cowtest: wait4: {e}");
                ok = false;
            }
        }
    }
    ok
}

fn main(args: Args) -> i32 {
    let mb: usize = match args.get_str(1).map(str::parse) {
        None => 4,
        Some(Ok(mb)) if (1..=4096).contains(&mb) => mb,
        _ => {
            eprintln!("usage: cowtest [MB] (1 to 4096, default 4)");
            return 2;
        }
    };
    let len = mb << 20;
    let (prot, flags) = (
        sys::PROT_READ | sys::PROT_WRITE,
        sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
    );
    // SAFETY: a new anonymous mapping where the kernel chooses overlaps nothing of ours.
    let addr = match unsafe { sys::mmap(0, len, prot, flags, -1, 0) } {
        Ok(addr) => addr,
        Err(e) => {
            eprintln!("cowtest: mmap of {mb} MiB: {e}");
            return 1;
        }
    };
    // SAFETY: the mapping is ours alone, readable and writable, `len` bytes long and
    // page-aligned (so aligned for u64); it stays mapped while `words` is used.
    let words = unsafe { core::slice::from_raw_parts_mut(addr as *mut u64, len / 8) };
    fill(words, 1);
    let children_ok = run_children(words);
    let parent_ok = match first_difference(words, 1) {
        None => true,
        Some(i) => {
            eprintln!("cowtest: the parent's data changed at byte {}", i * 8);
            false
        }
    };
    // SAFETY: `words` is not used after this.
    let _ = unsafe { sys::munmap(addr, len) };
    if children_ok && parent_ok {
        println!("cowtest ok");
        0
    } else {
        1
    }
}
