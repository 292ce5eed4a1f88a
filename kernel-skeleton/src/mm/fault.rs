//! The page-fault handler: lazy allocation, stack growth and copy-on-write.
//!
//! The machine's MMU serves every access the page table allows; what reaches
//! [`handle`] is an access it did not allow. Three cases are legitimate:
//! - the page lies in a region that allows the access but was never touched: allocate a
//!   zeroed frame and map it (demand-zero heap, `mmap` and stack pages);
//! - the address is just below the stack region, within the stack limit and near the
//!   stack pointer: grow the stack region down, then as above;
//! - a write to a copy-on-write page: copy it (or, if no one else shares the frame any
//!   more, simply make it writable) and invalidate the old translation.
//!
//! Everything else is a segmentation fault: the caller kills the process.
#![allow(
    unused_imports,
    dead_code,
    reason = "lab fault: the code you write here uses these"
)]

// ANCHOR: uses
use vmspace::{pte, Access, Frame, PhysMem};

use super::addr::VirtAddr;
use super::frame::FrameAllocator;
use super::memory::{Mm, COW};
use super::vma::{Kind, Region};
use crate::exec::{STACK_LIMIT, STACK_TOP};
// ANCHOR_END: uses

// ANCHOR: segv
/// Why a fault could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segv {
    /// No region covers the address, or the region forbids the access.
    BadAccess,
    /// RAM ran out.
    OutOfMemory,
}

/// How far below the stack pointer a stack access may reach (the red zone and more).
const STACK_SLACK: u64 = 64 * 1024;
// ANCHOR_END: segv

// ANCHOR: handle-hole
/// Resolve a page fault at `va` for `access`. `rsp` is the faulting thread's stack
/// pointer (`None` when the access comes from a system call argument).
///
/// # Errors
/// [`Segv`] when the access is not allowed or memory runs out.
pub fn handle(
    ram: &PhysMem,
    frames: &mut FrameAllocator,
    mm: &mut Mm,
    va: u64,
    access: Access,
    rsp: Option<u64>,
) -> Result<(), Segv> {
    // Lab fault: resolve a fault the page table did not allow.
    // - No region holds `va`: it may be a stack access just below the stack region
    //   (grow_stack); otherwise a segmentation fault.
    // - The region forbids the access (write to read-only, exec of NX): BadAccess.
    // - No entry yet: allocate a zeroed frame and map it with the region's flags (mark it
    //   dirty when the access is a write).
    // - A write to a copy-on-write entry (the COW bit): break_cow.
    // Naive until you write it: demand-zero pages only; no stack growth, no copy-on-write
    // (fork.rs copies everything at fork time until you write that too).
    // ANCHOR_END: handle-hole
    // ANCHOR: naive-body
    let _ = rsp;
    let region = *mm.regions.find(va).ok_or(Segv::BadAccess)?;
    let allowed = match access {
        Access::Read => region.prot.read || region.prot.exec,
        Access::Write => region.prot.write,
        Access::Exec => region.prot.exec,
    };
    let page = VirtAddr(va).page_floor();
    if !allowed || mm.space.pt.translate(ram, page).is_some() {
        return Err(Segv::BadAccess);
    }
    let frame = frames.alloc(ram).ok_or(Segv::OutOfMemory)?;
    if mm
        .space
        .pt
        .map(ram, frames, page, frame, Mm::flags_for(region.prot))
        .is_err()
    {
        frames.release(frame);
        return Err(Segv::OutOfMemory);
    }
    Ok(())
    // ANCHOR_END: naive-body
}

// ANCHOR: break-cow
/// Give the faulting process its own writable copy of a copy-on-write page.
fn break_cow(
    ram: &PhysMem,
    frames: &mut FrameAllocator,
    mm: &mut Mm,
    page: VirtAddr,
    entry: u64,
) -> Result<(), Segv> {
    // Lab fault: give the faulting process its own writable copy of the page: when the
    // frame has one reference left just make the entry writable again; otherwise copy it
    // into a new frame and point the entry there (dropping one reference to the old frame).
    // Clear the COW bit, set WRITABLE, DIRTY and ACCESSED, and invalidate the old
    // translation (mm.vm.invalidate).
    let _ = (ram, frames, mm, page, entry);
    todo!("lab fault: break_cow")
}
// ANCHOR_END: break-cow

// ANCHOR: grow-stack
/// Grow the stack region down to cover `va`, if `va` is a plausible stack access.
fn grow_stack(mm: &mut Mm, va: u64, rsp: Option<u64>) -> Result<Region, Segv> {
    // Lab fault: a fault below the stack region is a stack access when it is within
    // STACK_LIMIT of STACK_TOP and no further than STACK_SLACK below the stack pointer (`rsp`;
    // None for system call arguments: never grow then). Extend the region down to the page of
    // `va` (Regions::grow_down) and return it; anything else is BadAccess.
    let _ = (mm, va, rsp);
    todo!("lab fault: grow_stack")
}
// ANCHOR_END: grow-stack
