//! Memory system calls: `brk`, `mmap`, `munmap`, `mprotect`.
//!
//! They only change regions (and drop pages that leave them); pages appear lazily when
//! the process touches them, through the page-fault handler. Only anonymous private
//! mappings exist.

use super::SysResult;
use crate::errno::Errno;
use crate::exec::{STACK_LIMIT, STACK_TOP};
use crate::mm::addr::VirtAddr;
use crate::mm::memory::Mm;
use crate::mm::vma::{Kind, Prot, Region};
use crate::trap::Ctx;

/// Where `mmap` starts looking for room.
pub const MMAP_BASE: u64 = 0x1000_0000_0000;
/// Where mappings must end (the stack may grow down to here).
const MMAP_TOP: u64 = STACK_TOP - STACK_LIMIT;
/// The heap may not grow past this.
const HEAP_TOP: u64 = MMAP_BASE;

fn with_mm<R>(
    cx: &Ctx<'_>,
    f: impl FnOnce(&mut Mm, &mut crate::mm::frame::FrameAllocator) -> R,
) -> R {
    let mut frames = cx.k.frames.borrow_mut();
    let mut mm = cx.p.mm.borrow_mut();
    f(
        mm.as_mut().expect("mem: a running process has memory"),
        &mut frames,
    )
}

/// `brk(addr)`: move the end of the heap; returns the (new or unchanged) break.
pub fn brk(cx: &Ctx<'_>, addr: u64) -> SysResult {
    let ram = cx.k.ram();
    with_mm(cx, |mm, frames| {
        if addr < mm.brk_start || addr > HEAP_TOP {
            return Ok(mm.brk as i64);
        }
        let old_end = VirtAddr(mm.brk).page_ceil().0;
        let new_end = VirtAddr(addr).page_ceil().0;
        if new_end > old_end && mm.regions.overlaps(old_end, new_end) {
            return Ok(mm.brk as i64);
        }
        if new_end < old_end {
            mm.unmap_pages(ram, frames, new_end, old_end);
        }
        mm.regions.remove(mm.brk_start, old_end.max(new_end));
        if new_end > mm.brk_start {
            mm.regions.insert(Region {
                start: mm.brk_start,
                end: new_end,
                kind: Kind::Heap,
                prot: Prot::RW,
            });
        }
        mm.brk = addr;
        Ok(addr as i64)
    })
}

const MAP_SHARED: u64 = 0x01;
const MAP_PRIVATE: u64 = 0x02;
const MAP_FIXED: u64 = 0x10;
const MAP_ANONYMOUS: u64 = 0x20;
const MAP_NORESERVE: u64 = 0x4000;
const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
const PROT_ALL: u64 = 0x7;

/// `mmap(addr, len, prot, flags, fd, off)`: anonymous private memory only.
///
/// # Errors
/// `EINVAL` for bad lengths, alignment, flags or a file mapping; `ENOMEM` when no room;
/// `EEXIST` for `MAP_FIXED_NOREPLACE` over existing memory.
pub fn mmap(
    cx: &Ctx<'_>,
    addr: u64,
    len: u64,
    prot: u64,
    flags: u64,
    _fd: u64,
    off: u64,
) -> SysResult {
    let known =
        MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE;
    if len == 0 || flags & !known != 0 || prot & !PROT_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & MAP_ANONYMOUS == 0 || flags & MAP_SHARED != 0 || flags & MAP_PRIVATE == 0 || off != 0
    {
        return Err(Errno::EINVAL);
    }
    let len = len.checked_add(4095).ok_or(Errno::ENOMEM)? & !4095;
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    if fixed
        && (!addr.is_multiple_of(4096)
            || addr.checked_add(len).is_none_or(|e| e > MMAP_TOP)
            || addr == 0)
    {
        return Err(if !addr.is_multiple_of(4096) {
            Errno::EINVAL
        } else {
            Errno::ENOMEM
        });
    }
    let ram = cx.k.ram();
    with_mm(cx, |mm, frames| {
        let start = if fixed {
            if mm.regions.overlaps(addr, addr + len) {
                if flags & MAP_FIXED_NOREPLACE != 0 {
                    return Err(Errno::EEXIST);
                }
                mm.unmap_pages(ram, frames, addr, addr + len);
                mm.regions.remove(addr, addr + len);
            }
            addr
        } else {
            let hint = if addr >= MMAP_BASE && addr.is_multiple_of(4096) {
                addr
            } else {
                MMAP_BASE
            };
            mm.regions
                .find_gap(hint, len, MMAP_TOP)
                .or_else(|| mm.regions.find_gap(MMAP_BASE, len, MMAP_TOP))
                .ok_or(Errno::ENOMEM)?
        };
        mm.regions.insert(Region {
            start,
            end: start + len,
            kind: Kind::Anon,
            prot: Prot::from_bits(prot),
        });
        Ok(start as i64)
    })
}

fn check_range(addr: u64, len: u64) -> Result<u64, Errno> {
    if !addr.is_multiple_of(4096) || len == 0 {
        return Err(Errno::EINVAL);
    }
    let end = addr
        .checked_add(len)
        .and_then(|e| e.checked_add(4095))
        .ok_or(Errno::EINVAL)?
        & !4095;
    if end > vmspace::layout::USER_TOP {
        return Err(Errno::EINVAL);
    }
    Ok(end)
}

/// `munmap(addr, len)`: remove mappings (and free their pages).
///
/// # Errors
/// `EINVAL` for an unaligned address, zero length or a range outside user space.
pub fn munmap(cx: &Ctx<'_>, addr: u64, len: u64) -> SysResult {
    let end = check_range(addr, len)?;
    let ram = cx.k.ram();
    with_mm(cx, |mm, frames| {
        mm.unmap_pages(ram, frames, addr, end);
        mm.regions.remove(addr, end);
        Ok(0)
    })
}

/// `mprotect(addr, len, prot)`: change the access rights of mapped memory.
///
/// # Errors
/// `EINVAL` for bad arguments; `ENOMEM` when part of the range is not mapped.
pub fn mprotect(cx: &Ctx<'_>, addr: u64, len: u64, prot: u64) -> SysResult {
    let end = check_range(addr, len)?;
    if prot & !PROT_ALL != 0 {
        return Err(Errno::EINVAL);
    }
    let prot = Prot::from_bits(prot);
    let ram = cx.k.ram();
    with_mm(cx, |mm, frames| {
        if !mm.regions.protect(addr, end, prot) {
            return Err(Errno::ENOMEM);
        }
        mm.protect_pages(ram, frames, addr, end, prot);
        Ok(0)
    })
}

/// `vk_allocs()`: how many frames the kernel has allocated since boot, for every purpose
/// (zeroed pages, copies, page tables). The count only grows, so a program can see whether
/// some work allocated memory: lab fault's tests check that the last owner of a
/// copy-on-write page writes it in place. Never fails.
pub fn vk_allocs(cx: &Ctx<'_>) -> SysResult {
    Ok(cx.k.frames.borrow().allocated_total() as i64)
}

// ANCHOR: vk-ptdump
/// `vk_ptdump(buf, len)`: the caller's present user pages, one line each, in address
/// order: `0x<va> <r|-><w|-><x|-> <a|-><d|-><c|->` (readable, writable, executable;
/// accessed, dirty, copy-on-write). Returns the bytes written (at most `len`; the text is
/// cut at a line boundary).
///
/// # Errors
/// `EFAULT` for a bad buffer.
pub fn vk_ptdump(cx: &Ctx<'_>, buf: u64, len: u64) -> SysResult {
    use vmspace::pte;
    let mut text = String::new();
    {
        let mm = cx.p.mm.borrow();
        let mm = mm
            .as_ref()
            .expect("vk_ptdump: a running process has memory");
        mm.space.pt.for_each_leaf(cx.k.ram(), |va, e| {
            let bit = |mask: u64, c: char| if e & mask != 0 { c } else { '-' };
            let exec = if e & pte::NO_EXECUTE == 0 { 'x' } else { '-' };
            let line = format!(
                "{:#x} r{}{} {}{}{}\n",
                va.0,
                bit(pte::WRITABLE, 'w'),
                exec,
                bit(pte::ACCESSED, 'a'),
                bit(pte::DIRTY, 'd'),
                bit(crate::mm::memory::COW, 'c'),
            );
            if text.len() + line.len() <= len as usize {
                text.push_str(&line);
            }
        });
    }
    cx.copyout(buf, text.as_bytes())?;
    Ok(text.len() as i64)
}
// ANCHOR_END: vk-ptdump
