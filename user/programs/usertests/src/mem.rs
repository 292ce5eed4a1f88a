//! mem: tests of the address space: brk, mmap, munmap, mprotect, faults, the heap.
//!
//! System calls: `brk`, `mmap`, `munmap`, `mprotect`, `fork`, `wait4`.

use alloc::format;
use alloc::vec::Vec;

use crate::check::*;
use vkrt::sys::{self, Errno, WaitStatus};

const PAGE: usize = 4096;

/// Runs `body` in a child and checks that a memory fault killed it (SIGSEGV).
fn expect_fault(what: &str, body: impl FnOnce()) -> Outcome {
    let pid = child(|| {
        body();
        0
    })?;
    let status = WaitStatus::decode(reap(pid)?);
    ensure(
        status == WaitStatus::Signaled(sys::SIGSEGV),
        format!("{what}: expected death by SIGSEGV, got {status:?}"),
    )
}

/// The break grows (the new memory is usable and zeroed), shrinks, grows again (zeroed
/// again), and refuses absurd values by staying where it is.
pub fn brk(_ctx: &Ctx) -> Outcome {
    const GROW: usize = 1 << 20;
    // SAFETY: the runtime's heap does not use brk: the memory between the initial break
    // and the break we set belongs to this test alone, and is only used while mapped.
    unsafe {
        let start = call("brk(0)", sys::brk(0))?;
        expect_eq("brk(start + 1 MiB)", sys::brk(start + GROW), start + GROW)?;
        let base = start as *mut u8;
        for page in 0..GROW / PAGE {
            let p = base.add(page * PAGE);
            ensure(p.read_volatile() == 0, "new break memory is not zeroed")?;
            p.write_volatile(page as u8 | 1);
        }
        for page in 0..GROW / PAGE {
            ensure(
                base.add(page * PAGE).read_volatile() == page as u8 | 1,
                "data lost",
            )?;
        }
        expect_eq("brk(start)", sys::brk(start), start)?;
        expect_eq(
            "brk(start + 1 MiB) again",
            sys::brk(start + GROW),
            start + GROW,
        )?;
        ensure(
            base.add(PAGE).read_volatile() == 0,
            "regrown memory is not zeroed",
        )?;
        expect_eq("brk(start) again", sys::brk(start), start)?;
        let absurd = call("brk", sys::brk(KERNEL_ADDRESS))?;
        ensure(
            absurd == start,
            format!("brk(kernel address) moved the break to {absurd:#x}"),
        )?;
        let low = call("brk", sys::brk(PAGE))?;
        ensure(
            low == start,
            format!("brk(4096) moved the break to {low:#x}"),
        )
    }
}

/// Anonymous memory: zeroed, writable, private to a fork; mprotect makes it read-only;
/// munmap removes pages; touching what is not allowed kills with SIGSEGV; errors.
pub fn mmap(_ctx: &Ctx) -> Outcome {
    const LEN: usize = 16 * PAGE;
    let (rw, flags) = (
        sys::PROT_READ | sys::PROT_WRITE,
        sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
    );
    // SAFETY: a new mapping where the kernel chooses; only this test uses it, through
    // raw pointers, and never after unmapping it (except in children meant to die).
    unsafe {
        let addr = call("mmap", sys::mmap(0, LEN, rw, flags, -1, 0))?;
        ensure(addr % PAGE == 0, "mmap returned an unaligned address")?;
        let p = addr as *mut u8;
        ensure(
            (0..LEN).all(|i| p.add(i).read() == 0),
            "anonymous memory is not zeroed",
        )?;
        for i in (0..LEN).step_by(64) {
            p.add(i).write((i / 64) as u8);
        }
        let pid = child(|| {
            p.write(0xee);
            0
        })?;
        expect_exit(pid, 0, "a child writing the mapping")?;
        ensure(
            p.read() == 0,
            "a child's write reached the parent's mapping",
        )?;
        call("mprotect", sys::mprotect(addr, LEN, sys::PROT_READ))?;
        ensure(p.add(64).read() == 1, "mprotect lost data")?;
        expect_fault("writing read-only memory", || p.write_volatile(1))?;
        call("munmap", sys::munmap(addr + 4 * PAGE, 4 * PAGE))?;
        expect_fault("reading unmapped memory", || {
            core::hint::black_box(p.add(5 * PAGE).read_volatile());
        })?;
        ensure(
            p.add(8 * PAGE).read() == (8 * PAGE / 64) as u8,
            "munmap took too much",
        )?;
        call("munmap", sys::munmap(addr, LEN))?;
        mmap_errors()
    }
}

/// mmap, munmap and mprotect with bad arguments: EINVAL.
fn mmap_errors() -> Outcome {
    let (rw, anon) = (sys::PROT_READ | sys::PROT_WRITE, sys::MAP_ANONYMOUS);
    // SAFETY: each of these calls must fail without changing the address space; the
    // addresses given are unaligned or the lengths zero, so nothing can be unmapped.
    unsafe {
        let r = sys::mmap(0, 0, rw, sys::MAP_PRIVATE | anon, -1, 0);
        expect_err("mmap of 0 bytes", r, Errno::EINVAL)?;
        let r = sys::mmap(0, PAGE, rw, anon, -1, 0);
        expect_err("mmap without MAP_PRIVATE or MAP_SHARED", r, Errno::EINVAL)?;
        expect_err(
            "munmap at an unaligned address",
            sys::munmap(PAGE + 1, PAGE),
            Errno::EINVAL,
        )?;
        let r = sys::mprotect(PAGE + 1, PAGE, sys::PROT_READ);
        expect_err("mprotect at an unaligned address", r, Errno::EINVAL)
    }
}

/// A 16 MiB mapping, one write per page, then unmapped: pages come on demand.
pub fn mmap_big(_ctx: &Ctx) -> Outcome {
    const LEN: usize = 16 << 20;
    let (rw, flags) = (
        sys::PROT_READ | sys::PROT_WRITE,
        sys::MAP_PRIVATE | sys::MAP_ANONYMOUS,
    );
    // SAFETY: a new mapping of our own, used only through `p` while it is mapped.
    unsafe {
        let addr = call("mmap 16 MiB", sys::mmap(0, LEN, rw, flags, -1, 0))?;
        let p = addr as *mut u64;
        let words_per_page = PAGE / 8;
        for page in 0..LEN / PAGE {
            p.add(page * words_per_page).write(page as u64 * 3);
        }
        for page in 0..LEN / PAGE {
            let v = p.add(page * words_per_page).read();
            ensure(v == page as u64 * 3, format!("page {page} holds {v}"))?;
        }
        call("munmap", sys::munmap(addr, LEN)).map(drop)
    }
}

/// The runtime's heap (which grows with mmap) holds 8 MiB, twice.
pub fn heap(_ctx: &Ctx) -> Outcome {
    for round in 0..2u64 {
        let v: Vec<u64> = (0..(1u64 << 20)).map(|i| i ^ round).collect();
        let sum = v.iter().fold(0u64, |s, &x| s.wrapping_add(x));
        let want = (1u64 << 20) * ((1u64 << 20) - 1) / 2;
        ensure(
            round == 1 || sum == want,
            format!("the sum of 0..2^20 is {sum}"),
        )?;
        ensure(v.len() == 1 << 20, "the vector lost elements")?;
    }
    Ok(())
}

/// One recursion step using about 4 KiB of stack; returns the sum of the bytes it left.
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

/// The stack grows on demand well past what exec mapped (1 MiB of recursion), and an
/// access far below the stack pointer is refused (only on the vkernel: Linux grows the
/// stack for any access inside its limit).
pub fn stack(ctx: &Ctx) -> Outcome {
    let sum = deep(256);
    // Depths 1..=256 each leave `depth as u8`: 1 + ... + 255, plus 0 for 256.
    ensure(
        sum == 255 * 256 / 2,
        format!("deep recursion summed to {sum}"),
    )?;
    ctx.vkernel_only()?;
    expect_fault("a write 4 MiB below the stack pointer", || {
        let below = (&sum as *const u64 as usize) - (4 << 20);
        // SAFETY: unsound on purpose: the write must fault and kill this child process.
        unsafe { core::ptr::write_volatile(below as *mut u8, 1) };
    })
}
