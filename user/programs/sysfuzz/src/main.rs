//! sysfuzz: throws random arguments at the kernel's system calls; the kernel must survive.
//!
//! Usage: `sysfuzz [SEED] [CALLS]` (defaults 1 and 20000). Forks workers one after the
//! other; each makes random calls (numbers from the kernel's table, arguments mixing small
//! integers, flags, wild pointers and pointers into a scratch buffer) until it has made its
//! share or dies (a random `munmap` of its own stack, say: that is fine). Calls that would
//! end the run or spread (exit, fork, exec, kill, long sleeps) are left out. Prints
//! `sysfuzz: N calls in M workers` and exits 0; a kernel that panics never gets there.
//! It refuses to run outside the vkernel (random `munmap`s and `openat`s on a real system
//! are not a test).
//!
//! System calls: all of them, at random.

#![no_std]
#![no_main]

use vkrt::sys;
use vkrt::{eprintln, println, process, Args};

vkrt::entry!(main);

/// The calls thrown at the kernel (Linux numbers).
const CALLS: &[usize] = &[
    0, 1, 3, 5, 8, 9, 10, 11, 12, 16, 19, 20, 24, 32, 33, 39, 63, 79, 80, 110, 158, 217, 228, 257,
    258, 262, 263, 292, 293, 1000, 7, 999, 4000,
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// A random argument: small numbers, flags, wild and valid pointers.
fn argument(rng: &mut Rng, scratch: usize) -> usize {
    match rng.next() % 8 {
        0 => (rng.next() % 8) as usize,
        1 => (rng.next() % 4096) as usize,
        2 => scratch + (rng.next() % 4096) as usize,
        3 => rng.next() as usize,
        4 => 0xffff_ffff_ff60_0000 + (rng.next() % 4096) as usize,
        5 => 0x7fff_8000_0000 + (rng.next() % 0x20000) as usize,
        6 => usize::MAX - (rng.next() % 64) as usize,
        _ => (rng.next() as usize) & 0x7fff_ffff_f000,
    }
}

fn worker(seed: u64, calls: u64) -> ! {
    // No console: random writes would only print noise.
    for fd in 0..3 {
        let _ = sys::close(fd);
    }
    let mut rng = Rng(seed | 1);
    let mut scratch = [0u8; 8192];
    let base = (scratch.as_mut_ptr() as usize + 4095) & !4095;
    for _ in 0..calls {
        let nr = CALLS[(rng.next() % CALLS.len() as u64) as usize];
        let a: [usize; 6] = core::array::from_fn(|_| argument(&mut rng, base));
        // SAFETY: deliberately none: random system calls may unmap or protect this very
        // process's memory. The worst outcome is this child's death, which the parent
        // expects; the point is that the kernel survives.
        unsafe { sys::syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    }
    core::hint::black_box(&scratch);
    sys::exit_group(0)
}

fn main(args: Args) -> i32 {
    if !process::on_vkernel() {
        eprintln!("sysfuzz: refusing to run outside the vkernel");
        return 2;
    }
    let seed: u64 = args.get_str(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let total: u64 = args
        .get_str(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let per_worker = 500;
    let workers = total.div_ceil(per_worker);
    for w in 0..workers {
        match sys::fork() {
            Ok(0) => worker(
                seed.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(w),
                per_worker,
            ),
            Ok(pid) => {
                if let Err(e) = process::wait(pid as i32) {
                    eprintln!("sysfuzz: wait4: {e}");
                    return 1;
                }
            }
            Err(e) => {
                eprintln!("sysfuzz: fork: {e}");
                return 1;
            }
        }
    }
    println!("sysfuzz: {total} calls in {workers} workers");
    0
}
