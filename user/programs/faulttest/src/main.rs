//! faulttest: the checks of lab fault (copy-on-write fork, stack growth, killing on bad
//! accesses), run inside the vkernel with 64 MiB of RAM. Most modes first fill a big
//! mapping (`MB` MiB, about 2/3 of RAM) so that a kernel which copies memory at fork runs
//! out of it: only copy-on-write passes. Each mode prints `MODE ok CHECKSUM` (the grader's
//! `{checksum:8}` of SEED) or `MODE FAILED: why`.
//!
//! - `cow SEED MB KIDS`: KIDS children alive at once each check the parent's data, write
//!   a page of their own and check again; the parent's data stays its own.
//! - `grow SEED`: recursion 1 MiB deep (the stack grows on demand).
//! - `badgrow SEED`: after growing, a child touching 4 MiB below its stack dies (SIGSEGV).
//! - `nullkill SEED MB`: a forked child of a big process dereferences null and dies with
//!   SIGSEGV; the parent goes on with its data intact.
//! - `codewrite SEED MB`: the same with a write to the program's own code.
//! - `refcount SEED MB`: a child exits without touching anything; then the parent writes
//!   all its memory (no copy is needed once it is the only owner).
//!
//! System calls: mmap, fork, wait4, exit_group, write.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;

use vkrt::seed::{checksum, Stream};
use vkrt::sys::{self, WaitStatus};
use vkrt::{println, process, Args};

vkrt::entry!(main);

const PAGE: usize = 4096;
type Check = Result<(), String>;

/// A mapping of `mb` MiB filled with the stream of `seed`.
fn big(seed: u64, mb: usize) -> Result<&'static mut [u8], String> {
    let len = mb << 20;
    let flags = sys::MAP_PRIVATE | sys::MAP_ANONYMOUS;
    // SAFETY: a fresh private mapping nobody else refers to; it is never unmapped.
    let addr = unsafe { sys::mmap(0, len, sys::PROT_READ | sys::PROT_WRITE, flags, -1, 0) }
        .map_err(|e| format!("mmap of {mb} MiB: {}", e.name()))?;
    // SAFETY: the mapping above is `len` bytes, readable and writable, and stays mapped.
    let mem = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, len) };
    Stream::new(seed).fill(mem);
    Ok(mem)
}

fn same_as_seed(mem: &[u8], seed: u64) -> bool {
    let mut s = Stream::new(seed);
    mem.iter().all(|&b| b == s.byte())
}

/// Fork a child running `body` (its exit status); returns the child's pid.
fn child(body: impl FnOnce() -> i32) -> Result<i32, String> {
    match sys::fork().map_err(|e| format!("fork: {}", e.name()))? {
        0 => sys::exit_group(body()),
        pid => Ok(pid as i32),
    }
}

fn status_of(pid: i32) -> Result<WaitStatus, String> {
    process::wait(pid)
        .map(|(_, st)| st)
        .map_err(|e| format!("wait4: {}", e.name()))
}

fn cow(seed: u64, mb: usize, kids: usize) -> Check {
    let mem = big(seed, mb)?;
    let mut pids = alloc::vec::Vec::new();
    for k in 0..kids {
        let mem_ptr = mem.as_mut_ptr();
        let len = mem.len();
        pids.push(child(move || {
            // SAFETY: this child's own (copy-on-write) view of the parent's mapping.
            let mine = unsafe { core::slice::from_raw_parts_mut(mem_ptr, len) };
            if !same_as_seed(mine, seed) {
                return 1;
            }
            let before = mine[k * PAGE];
            mine[k * PAGE] ^= 0xff;
            let _ = time_pass();
            if mine[k * PAGE] != before ^ 0xff {
                return 2;
            }
            0
        })?);
    }
    for p in pids {
        let st = status_of(p)?;
        if !st.success() {
            return Err(format!("child {p} ended with {st:?}"));
        }
    }
    if !same_as_seed(mem, seed) {
        return Err(String::from("a child's write reached the parent"));
    }
    Ok(())
}

/// Let the other children run a little (they are all alive at once).
fn time_pass() -> Result<(), sys::Errno> {
    for _ in 0..3 {
        sys::sched_yield()?;
    }
    Ok(())
}

/// One recursion step using about 4 KiB of stack.
#[inline(never)]
fn deep(depth: u32) -> u64 {
    let mut frame = [0u8; 4000];
    frame[depth as usize % 4000] = depth as u8;
    let frame = core::hint::black_box(frame);
    if depth == 0 {
        return u64::from(frame[0]);
    }
    deep(depth - 1).wrapping_add(u64::from(frame[depth as usize % 4000]))
}

fn grow() -> Check {
    let sum = deep(256);
    if sum != 255 * 256 / 2 {
        return Err(format!("deep recursion summed to {sum}"));
    }
    Ok(())
}

fn dies_by_segv(what: &str, body: impl FnOnce() -> i32) -> Check {
    let pid = child(body)?;
    match status_of(pid)? {
        WaitStatus::Signaled(sig) if sig == sys::SIGSEGV => Ok(()),
        other => Err(format!("{what}: expected death by SIGSEGV, got {other:?}")),
    }
}

fn badgrow() -> Check {
    grow()?;
    dies_by_segv("a write 4 MiB below the stack pointer", || {
        let here = 0u64;
        let below = (&here as *const u64 as usize) - (4 << 20);
        // SAFETY: unsound on purpose: the write must fault and kill this child.
        unsafe { core::ptr::write_volatile(below as *mut u8, 1) };
        0
    })
}

fn nullkill(seed: u64, mb: usize) -> Check {
    let mem = big(seed, mb)?;
    dies_by_segv("a null dereference", || {
        // SAFETY: unsound on purpose: the read must fault and kill this child.
        unsafe { core::ptr::read_volatile(core::ptr::null::<u8>()) as i32 }
    })?;
    if !same_as_seed(mem, seed) {
        return Err(String::from("the parent's data changed"));
    }
    Ok(())
}

fn codewrite(seed: u64, mb: usize) -> Check {
    let mem = big(seed, mb)?;
    dies_by_segv("a write to the program's code", || {
        let code = main as *const () as *mut u8;
        // SAFETY: unsound on purpose: the write must fault and kill this child.
        unsafe { core::ptr::write_volatile(code, 0xcc) };
        0
    })?;
    if !same_as_seed(mem, seed) {
        return Err(String::from("the parent's data changed"));
    }
    Ok(())
}

fn refcount(seed: u64, mb: usize) -> Check {
    let mem = big(seed, mb)?;
    let pid = child(|| 0)?;
    let st = status_of(pid)?;
    if !st.success() {
        return Err(format!("the child ended with {st:?}"));
    }
    // The parent is the only owner again: writing everything needs no new frame.
    for page in mem.chunks_mut(PAGE) {
        page[0] ^= 0x55;
    }
    for page in mem.chunks_mut(PAGE) {
        page[0] ^= 0x55;
    }
    if !same_as_seed(mem, seed) {
        return Err(String::from("the data changed"));
    }
    Ok(())
}

fn main(args: Args) -> i32 {
    let num = |i: usize, d: u64| {
        args.get_str(i)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(d)
    };
    let mode = args.get_str(1).unwrap_or("");
    let seed = num(2, 1);
    let mb = num(3, 40) as usize;
    let result = match mode {
        "cow" => cow(seed, mb, num(4, 2) as usize),
        "grow" => grow(),
        "badgrow" => badgrow(),
        "nullkill" => nullkill(seed, mb),
        "codewrite" => codewrite(seed, mb),
        "refcount" => refcount(seed, mb),
        _ => Err(String::from(
            "usage: faulttest cow|grow|badgrow|nullkill|codewrite|refcount SEED [MB] [KIDS]",
        )),
    };
    match result {
        Ok(()) => {
            println!("{mode} ok {:016x}", checksum(seed, 8));
            0
        }
        Err(why) => {
            println!("{mode} FAILED: {why}");
            1
        }
    }
}
