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
//!   all its memory, and `vk_allocs` must show (almost) no frame allocated while it did:
//!   no copy is needed once it is the only owner.
//! - `parentwrite SEED MB`: after fork the parent writes to pages it wrote before (its
//!   machine still has them mapped writable unless fork invalidated them); the child,
//!   told through a pipe, must still see the old data.
//! - `protshare SEED`: a read-only page is shared at fork; the child makes it writable with
//!   mprotect and writes; the parent's page must not change. (Not a graded test: a kernel
//!   that copies at fork passes it too. The kernel's own tests use it.)
//!
//! System calls: mmap, mprotect, fork, pipe2, read, write, wait4, exit_group, vk_allocs.

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

// ANCHOR: cow-mode
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
// ANCHOR_END: cow-mode

/// Let the other children run a little (they are all alive at once).
fn time_pass() -> Result<(), sys::Errno> {
    for _ in 0..3 {
        sys::sched_yield()?;
    }
    Ok(())
}

// ANCHOR: grow-mode
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
// ANCHOR_END: grow-mode

// ANCHOR: badgrow-mode
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
// ANCHOR_END: badgrow-mode

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

// ANCHOR: codewrite-mode
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
// ANCHOR_END: codewrite-mode

// ANCHOR: refcount-mode
fn refcount(seed: u64, mb: usize) -> Check {
    let mem = big(seed, mb)?;
    let pid = child(|| 0)?;
    let st = status_of(pid)?;
    if !st.success() {
        return Err(format!("the child ended with {st:?}"));
    }
    // The parent is the only owner again: writing everything needs no new frame.
    let before = sys::vk_allocs().map_err(|e| format!("vk_allocs: {}", e.name()))?;
    for page in mem.chunks_mut(PAGE) {
        page[0] ^= 0x55;
    }
    let copies = sys::vk_allocs().map_err(|e| format!("vk_allocs: {}", e.name()))? - before;
    // A few frames for the kernel's own needs are fine; a copy per page is not.
    if copies > 64 {
        return Err(format!(
            "writing {} pages as their last owner allocated {copies} frames: no copy was needed",
            mem.len() / PAGE
        ));
    }
    for page in mem.chunks_mut(PAGE) {
        page[0] ^= 0x55;
    }
    if !same_as_seed(mem, seed) {
        return Err(String::from("the data changed"));
    }
    Ok(())
}
// ANCHOR_END: refcount-mode

// ANCHOR: parentwrite-mode
fn parentwrite(seed: u64, mb: usize) -> Check {
    let mem = big(seed, mb)?;
    let mut fds = [0i32; 2];
    sys::pipe2(&mut fds, 0).map_err(|e| format!("pipe2: {}", e.name()))?;
    let (mem_ptr, len) = (mem.as_mut_ptr(), mem.len());
    let pid = child(move || {
        let mut go = [0u8; 1];
        if sys::read(fds[0], &mut go) != Ok(1) {
            return 3;
        }
        // SAFETY: this child's own (copy-on-write) view of the parent's mapping.
        let mine = unsafe { core::slice::from_raw_parts(mem_ptr, len) };
        if same_as_seed(mine, seed) {
            0
        } else {
            1
        }
    })?;
    // Write into the first pages, which the parent wrote (and so mapped) before fork.
    for page in mem.chunks_mut(PAGE).take(16) {
        page[0] ^= 0xa5;
    }
    sys::write(fds[1], b"g").map_err(|e| format!("write: {}", e.name()))?;
    let st = status_of(pid)?;
    for page in mem.chunks_mut(PAGE).take(16) {
        page[0] ^= 0xa5;
    }
    match st {
        WaitStatus::Exited(0) => {}
        WaitStatus::Exited(1) => {
            return Err(String::from(
                "the parent's write after fork reached the child",
            ))
        }
        other => return Err(format!("the child ended with {other:?}")),
    }
    if !same_as_seed(mem, seed) {
        return Err(String::from("the parent's own data changed"));
    }
    Ok(())
}
// ANCHOR_END: parentwrite-mode

fn protshare(seed: u64) -> Check {
    let flags = sys::MAP_PRIVATE | sys::MAP_ANONYMOUS;
    // SAFETY: a fresh private mapping of one page, never unmapped.
    let addr = unsafe { sys::mmap(0, PAGE, sys::PROT_READ | sys::PROT_WRITE, flags, -1, 0) }
        .map_err(|e| format!("mmap: {}", e.name()))?;
    // SAFETY: the page above, readable and writable until the mprotect below.
    let page = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, PAGE) };
    Stream::new(seed).fill(page);
    // SAFETY: the page is ours; making it read-only only restricts access.
    unsafe { sys::mprotect(addr, PAGE, sys::PROT_READ) }
        .map_err(|e| format!("mprotect: {}", e.name()))?;
    let pid = child(move || {
        // SAFETY: the child's own view of the page; it makes it writable before writing.
        if unsafe { sys::mprotect(addr, PAGE, sys::PROT_READ | sys::PROT_WRITE) }.is_err() {
            return 3;
        }
        // SAFETY: now writable in this process.
        let mine = unsafe { core::slice::from_raw_parts_mut(addr as *mut u8, PAGE) };
        mine.fill(0);
        if mine.iter().all(|&b| b == 0) {
            0
        } else {
            1
        }
    })?;
    let st = status_of(pid)?;
    if !st.success() {
        return Err(format!("the child ended with {st:?}"));
    }
    // SAFETY: still mapped, read-only here.
    let page = unsafe { core::slice::from_raw_parts(addr as *const u8, PAGE) };
    if !same_as_seed(page, seed) {
        return Err(String::from(
            "the child's write reached the parent's read-only page",
        ));
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
        "parentwrite" => parentwrite(seed, mb),
        "protshare" => protshare(seed),
        _ => Err(String::from(
            "usage: faulttest cow|grow|badgrow|nullkill|codewrite|refcount|parentwrite|protshare SEED [MB] [KIDS]",
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
