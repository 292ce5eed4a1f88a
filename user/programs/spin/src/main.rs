//! spin: keeps the CPU busy for a number of milliseconds, then exits with 0.
//!
//! Usage: `spin MS`. It loops reading the monotonic clock until `MS` milliseconds have
//! passed since it started, never sleeping or yielding: a CPU-bound process for scheduler
//! experiments (several `spin`s in the background share the CPU). It prints nothing;
//! a bad argument gives a usage message and exit status 2.
//!
//! System calls: `clock_gettime`.

#![no_std]
#![no_main]

use vkrt::{eprintln, time, Args};

vkrt::entry!(main);

fn main(args: Args) -> i32 {
    let Some(ms) = args.get_str(1).and_then(|s| s.parse::<u64>().ok()) else {
        eprintln!("usage: spin MILLISECONDS");
        return 2;
    };
    let end = time::monotonic().as_nanos() + i128::from(ms) * 1_000_000;
    let mut spins: u64 = 0;
    while time::monotonic().as_nanos() < end {
        // Some arithmetic between clock reads, so that the loop is not all system calls.
        for i in 0..1000u64 {
            spins = core::hint::black_box(spins.wrapping_mul(31).wrapping_add(i));
        }
    }
    0
}
