//! The System V initial stack a program finds at `_start`.
//!
//! From the stack pointer up: `argc`, the `argv` pointers and a NULL, the `envp` pointers
//! and a NULL, the auxiliary vector (`AT_*` key/value pairs ending in `AT_NULL`), then
//! the strings and the 16 `AT_RANDOM` bytes near the top. The stack pointer is 16-byte
//! aligned, as the ABI requires at process entry.
#![allow(
    unused_imports,
    dead_code,
    reason = "lab vm: the code you write here uses these"
)]

use vmspace::PhysMem;

use crate::mm::pagetable::PageTable;
use crate::mm::uaccess::{copyout, Efault, Strict};

// ANCHOR: at
/// The auxiliary vector keys the kernel provides.
pub mod at {
    /// End of the vector.
    pub const NULL: u64 = 0;
    /// Address of the program headers.
    pub const PHDR: u64 = 3;
    /// Size of one program header.
    pub const PHENT: u64 = 4;
    /// Number of program headers.
    pub const PHNUM: u64 = 5;
    /// Page size.
    pub const PAGESZ: u64 = 6;
    /// Entry point of the program.
    pub const ENTRY: u64 = 9;
    /// Real, effective user and group ids.
    pub const UID: u64 = 11;
    /// Effective uid.
    pub const EUID: u64 = 12;
    /// Real gid.
    pub const GID: u64 = 13;
    /// Effective gid.
    pub const EGID: u64 = 14;
    /// Address of 16 random bytes.
    pub const RANDOM: u64 = 25;
}
// ANCHOR_END: at

// ANCHOR: auxinfo
/// What the auxiliary vector tells the program about itself.
#[derive(Debug, Clone)]
pub struct AuxInfo {
    /// `AT_PHDR`.
    pub phdr: u64,
    /// `AT_PHENT`.
    pub phent: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// `AT_ENTRY`.
    pub entry: u64,
    /// The bytes `AT_RANDOM` points to.
    pub random: [u8; 16],
}
// ANCHOR_END: auxinfo

// ANCHOR: build
/// Write the initial stack below `top` (not below `limit`); returns the stack pointer.
///
/// # Errors
/// [`Efault`] when it does not fit between `limit` and `top`.
pub fn build(
    ram: &PhysMem,
    pt: &PageTable,
    top: u64,
    limit: u64,
    argv: &[Vec<u8>],
    envp: &[Vec<u8>],
    info: &AuxInfo,
) -> Result<u64, Efault> {
    // Lab vm: write the System V initial stack below `top` (never below `limit`):
    // the 16 AT_RANDOM bytes, the envp and argv strings (NUL-terminated), then, 16-byte
    // aligned, argc, the argv pointers and NULL, the envp pointers and NULL, and the
    // auxiliary vector (AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_UID..AT_EGID,
    // AT_RANDOM, AT_NULL). Return the new stack pointer (it points at argc).
    let _ = (ram, pt, top, limit, argv, envp, info);
    todo!("lab vm: build")
}
// ANCHOR_END: build
