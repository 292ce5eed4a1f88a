//! `exec`: load a checked program into a fresh address space with its initial stack.
//!
//! [`load`] parses the file (`elf.rs`), maps every segment (copying its file bytes and
//! zeroing the rest), builds the System V initial stack (`stack.rs`) and returns the new
//! address space with the registers to start it. On any failure everything allocated so
//! far is released, so a failed exec leaks nothing.

pub mod elf;
#[cfg_attr(
    feature = "reference-vm",
    path = "../../../reference-solution/src/exec/load.rs"
)]
pub mod load;
#[cfg_attr(
    feature = "reference-vm",
    path = "../../../reference-solution/src/exec/stack.rs"
)]
pub mod stack;

use vmspace::{pte, PhysMem, Regs};

use crate::mm::addr::VirtAddr;
use crate::mm::frame::FrameAllocator;
use crate::mm::space::AddressSpace;
use crate::mm::vma::{Kind, Prot, Region, Regions};
pub use elf::ExecError;

// ANCHOR: stack-constants
/// The top of the initial stack (just below the end of user space).
pub const STACK_TOP: u64 = vmspace::layout::USER_TOP;
/// Pages of stack mapped at exec.
pub const STACK_PAGES: u64 = 16;
/// How far the stack may grow down from [`STACK_TOP`].
pub const STACK_LIMIT: u64 = 8 << 20;
// ANCHOR_END: stack-constants

/// A loaded program, ready to run.
#[derive(Debug)]
pub struct Image {
    /// Its address space.
    pub space: AddressSpace,
    /// Its regions (segments and stack).
    pub regions: Regions,
    /// Registers for the first run (entry point and stack pointer set).
    pub regs: Regs,
    /// The first address after the loaded segments (start of the heap).
    pub brk: u64,
}

// ANCHOR: load
/// Load `bytes` with `argv` and `envp`.
///
/// # Errors
/// [`ExecError`] when the file is refused or RAM runs out (nothing leaks).
pub fn load(
    ram: &PhysMem,
    frames: &mut FrameAllocator,
    bytes: &[u8],
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    random: [u8; 16],
) -> Result<Image, ExecError> {
    let program = elf::parse(bytes)?;
    let mut space = AddressSpace::new(ram, frames).ok_or(ExecError::NoMemory)?;
    match fill(ram, frames, &mut space, bytes, &program, argv, envp, random) {
        Ok(regs) => Ok(Image {
            space,
            regions: regions_of(&program),
            regs,
            brk: VirtAddr(program.end).page_ceil().0,
        }),
        Err(e) => {
            space.teardown(ram, frames);
            Err(e)
        }
    }
}
// ANCHOR_END: load

// ANCHOR: fill-load
#[allow(clippy::too_many_arguments)]
fn fill(
    ram: &PhysMem,
    frames: &mut FrameAllocator,
    space: &mut AddressSpace,
    bytes: &[u8],
    program: &elf::Program,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    random: [u8; 16],
) -> Result<Regs, ExecError> {
    for seg in &program.segments {
        // Loaded writable so the kernel can copy the bytes in; permissions are fixed after.
        load::load_segment(ram, frames, space, bytes, seg)?;
    }
    // ANCHOR_END: fill-load
    // ANCHOR: fix-permissions
    for seg in &program.segments {
        let mut va = VirtAddr(seg.vaddr).page_floor();
        while va.0 < seg.vaddr + seg.mem_len {
            space.pt.update(ram, va, |e| {
                let mut e = e & !(pte::WRITABLE | pte::NO_EXECUTE);
                if seg.write || writable_elsewhere(program, va) {
                    e |= pte::WRITABLE;
                }
                if !seg.exec && !exec_elsewhere(program, va) {
                    e |= pte::NO_EXECUTE;
                }
                e
            });
            va = VirtAddr(va.0 + 4096);
        }
    }
    // ANCHOR_END: fix-permissions
    // ANCHOR: fill-stack
    let stack_bottom = VirtAddr(STACK_TOP - STACK_PAGES * 4096);
    space
        .map_zeroed(
            ram,
            frames,
            stack_bottom,
            VirtAddr(STACK_TOP),
            load::WRITTEN | pte::NO_EXECUTE,
        )
        .map_err(|_| ExecError::NoMemory)?;
    let info = stack::AuxInfo {
        phdr: program.phdr_vaddr,
        phent: program.phent,
        phnum: program.phnum,
        entry: program.entry,
        random,
    };
    let sp = stack::build(ram, &space.pt, STACK_TOP, stack_bottom.0, argv, envp, &info).map_err(
        |_| ExecError::Unsupported("arguments and environment do not fit on the stack".into()),
    )?;
    let mut regs = Regs::new();
    regs.rip = program.entry;
    regs.rsp = sp;
    Ok(regs)
    // ANCHOR_END: fill-stack
}

/// The regions of a loaded program: one per segment (page-rounded) and the stack.
fn regions_of(program: &elf::Program) -> Regions {
    let mut regions = Regions::default();
    for seg in &program.segments {
        let start = VirtAddr(seg.vaddr).page_floor().0;
        let end = VirtAddr(seg.vaddr + seg.mem_len).page_ceil().0;
        let (kind, prot) = if seg.write {
            (
                Kind::Data,
                Prot {
                    read: true,
                    write: true,
                    exec: seg.exec,
                },
            )
        } else {
            (
                Kind::Text,
                Prot {
                    read: true,
                    write: false,
                    exec: seg.exec,
                },
            )
        };
        // Segments sharing a page: widen the earlier region instead of overlapping it.
        let start = regions
            .iter()
            .map(|r| r.end)
            .filter(|&e| e > start && e < end)
            .max()
            .unwrap_or(start);
        regions.insert(Region {
            start,
            end,
            kind,
            prot,
        });
    }
    regions.insert(Region {
        start: STACK_TOP - STACK_PAGES * 4096,
        end: STACK_TOP,
        kind: Kind::Stack,
        prot: Prot::RW,
    });
    regions
}

fn writable_elsewhere(p: &elf::Program, page: VirtAddr) -> bool {
    p.segments.iter().any(|s| s.write && overlaps(s, page))
}

fn exec_elsewhere(p: &elf::Program, page: VirtAddr) -> bool {
    p.segments.iter().any(|s| s.exec && overlaps(s, page))
}

fn overlaps(s: &elf::Segment, page: VirtAddr) -> bool {
    s.vaddr < page.0 + 4096 && page.0 < s.vaddr + s.mem_len
}
