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
    // ANCHOR_END: handle-hole
    let region = match mm.regions.find(va) {
        Some(r) => *r,
        None => grow_stack(mm, va, rsp)?,
    };
    let allowed = match access {
        Access::Read => region.prot.read || region.prot.exec,
        Access::Write => region.prot.write,
        Access::Exec => region.prot.exec,
    };
    if !allowed {
        return Err(Segv::BadAccess);
    }
    let page = VirtAddr(va).page_floor();
    match mm.space.pt.translate(ram, page) {
        None => {
            let frame = frames.alloc(ram).ok_or(Segv::OutOfMemory)?;
            let mut flags = Mm::flags_for(region.prot);
            if access == Access::Write {
                // We know a write is coming: mark it dirty now and save the MMU a fault.
                flags |= pte::DIRTY | pte::ACCESSED;
            }
            if mm.space.pt.map(ram, frames, page, frame, flags).is_err() {
                frames.release(frame);
                return Err(Segv::OutOfMemory);
            }
            Ok(())
        }
        Some(entry) if access == Access::Write && entry & COW != 0 => {
            break_cow(ram, frames, mm, page, entry)
        }
        // Present, and the region allows it, yet the MMU refused: a stale permission.
        Some(_) => Err(Segv::BadAccess),
    }
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
    let old = Frame((entry & pte::ADDR_MASK) >> 12);
    let flags = (entry & !pte::ADDR_MASK & !COW) | pte::WRITABLE | pte::DIRTY | pte::ACCESSED;
    let frame = if frames.refs(old) == 1 {
        old
    } else {
        let new = frames.alloc(ram).ok_or(Segv::OutOfMemory)?;
        ram.copy_frame(old, new);
        frames.release(old);
        new
    };
    mm.space.pt.update(ram, page, |_| frame.addr().0 | flags);
    mm.vm.invalidate(page.0);
    Ok(())
}
// ANCHOR_END: break-cow

// ANCHOR: grow-stack
/// Grow the stack region down to cover `va`, if `va` is a plausible stack access.
fn grow_stack(mm: &mut Mm, va: u64, rsp: Option<u64>) -> Result<Region, Segv> {
    let stack = *mm
        .regions
        .iter()
        .find(|r| r.kind == Kind::Stack)
        .ok_or(Segv::BadAccess)?;
    let rsp = rsp.ok_or(Segv::BadAccess)?;
    let near_sp = va.saturating_add(STACK_SLACK) >= rsp;
    if va >= stack.start || va < STACK_TOP - STACK_LIMIT || !near_sp {
        return Err(Segv::BadAccess);
    }
    let new_start = VirtAddr(va).page_floor().0;
    if mm.regions.overlaps(new_start, stack.start) {
        return Err(Segv::BadAccess);
    }
    mm.regions.grow_down(stack.start, new_start);
    Ok(Region {
        start: new_start,
        ..stack
    })
}
// ANCHOR_END: grow-stack
