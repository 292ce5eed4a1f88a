//! The System V initial stack a program finds at `_start`.
//!
//! From the stack pointer up: `argc`, the `argv` pointers and a NULL, the `envp` pointers
//! and a NULL, the auxiliary vector (`AT_*` key/value pairs ending in `AT_NULL`), then
//! the strings and the 16 `AT_RANDOM` bytes near the top. The stack pointer is 16-byte
//! aligned, as the ABI requires at process entry.

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
    let mut sp = top;
    let push_bytes = |sp: &mut u64, data: &[u8]| -> Result<u64, Efault> {
        *sp = sp.checked_sub(data.len() as u64).ok_or(Efault)?;
        if *sp < limit {
            return Err(Efault);
        }
        copyout(&mut Strict { ram, pt }, *sp, data)?;
        Ok(*sp)
    };
    let random = push_bytes(&mut sp, &info.random)?;
    let string_ptrs = |list: &[Vec<u8>], sp: &mut u64| -> Result<Vec<u64>, Efault> {
        let mut ptrs = Vec::with_capacity(list.len());
        for s in list {
            let mut z = s.clone();
            z.push(0);
            ptrs.push(push_bytes(sp, &z)?);
        }
        Ok(ptrs)
    };
    let env_ptrs = string_ptrs(envp, &mut sp)?;
    let arg_ptrs = string_ptrs(argv, &mut sp)?;
    let auxv = [
        (at::PHDR, info.phdr),
        (at::PHENT, info.phent),
        (at::PHNUM, info.phnum),
        (at::PAGESZ, 4096),
        (at::ENTRY, info.entry),
        (at::UID, 0),
        (at::EUID, 0),
        (at::GID, 0),
        (at::EGID, 0),
        (at::RANDOM, random),
        (at::NULL, 0),
    ];
    let mut words: Vec<u64> = Vec::new();
    words.push(arg_ptrs.len() as u64);
    words.extend(&arg_ptrs);
    words.push(0);
    words.extend(&env_ptrs);
    words.push(0);
    for (k, v) in auxv {
        words.push(k);
        words.push(v);
    }
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let start = sp.checked_sub(bytes.len() as u64).ok_or(Efault)? & !15;
    if start < limit {
        return Err(Efault);
    }
    copyout(&mut Strict { ram, pt }, start, &bytes)?;
    Ok(start)
}
// ANCHOR_END: build
