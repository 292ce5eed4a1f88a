//! auxv: the keys of the auxiliary vector, the kernel's notes to a new program.
//!
//! The kernel puts `(key, value)` pairs after the environment on the initial stack (see
//! [`crate::start`]); read them with [`crate::Args::aux`] or [`crate::Args::auxv`]. The
//! numbers are Linux's (`<linux/auxvec.h>`, `<asm/auxvec.h>`). The vkernel passes at least
//! `AT_PAGESZ`, `AT_PHDR`, `AT_PHNUM`, `AT_ENTRY` and `AT_RANDOM`.
//!
//! ```ignore
//! let entry = args.aux(vkrt::auxv::AT_ENTRY);
//! for (key, value) in args.auxv() { println!("{}={value:#x}", vkrt::auxv::name(key).unwrap_or("?")); }
//! ```

/// End of the vector (never returned by the iterators).
pub const AT_NULL: usize = 0;
/// An entry to ignore.
pub const AT_IGNORE: usize = 1;
/// File descriptor of the program (when the kernel did not map it).
pub const AT_EXECFD: usize = 2;
/// Address of the program headers in memory.
pub const AT_PHDR: usize = 3;
/// Size of one program header entry.
pub const AT_PHENT: usize = 4;
/// Number of program headers.
pub const AT_PHNUM: usize = 5;
/// Page size in bytes.
pub const AT_PAGESZ: usize = 6;
/// Base address of the ELF interpreter (0 for a static program).
pub const AT_BASE: usize = 7;
/// Flags (unused, 0).
pub const AT_FLAGS: usize = 8;
/// The program's entry point (`_start`).
pub const AT_ENTRY: usize = 9;
/// Nonzero if the program is not ELF.
pub const AT_NOTELF: usize = 10;
/// Real user id.
pub const AT_UID: usize = 11;
/// Effective user id.
pub const AT_EUID: usize = 12;
/// Real group id.
pub const AT_GID: usize = 13;
/// Effective group id.
pub const AT_EGID: usize = 14;
/// Address of a string naming the platform (`"x86_64"`).
pub const AT_PLATFORM: usize = 15;
/// CPU capability bits.
pub const AT_HWCAP: usize = 16;
/// Clock ticks per second (`times()`).
pub const AT_CLKTCK: usize = 17;
/// Nonzero for a set-uid or otherwise privileged program.
pub const AT_SECURE: usize = 23;
/// Address of a string naming the real platform.
pub const AT_BASE_PLATFORM: usize = 24;
/// Address of 16 random bytes.
pub const AT_RANDOM: usize = 25;
/// More CPU capability bits.
pub const AT_HWCAP2: usize = 26;
/// Address of the program's path as given to `execve`.
pub const AT_EXECFN: usize = 31;
/// Address of the vDSO's ELF header (the vkernel passes none).
pub const AT_SYSINFO_EHDR: usize = 33;
/// Minimal stack size for a signal handler.
pub const AT_MINSIGSTKSZ: usize = 51;

/// Every key this module names, with its name, in numeric order.
pub const KNOWN: &[(usize, &str)] = &[
    (AT_IGNORE, "AT_IGNORE"),
    (AT_EXECFD, "AT_EXECFD"),
    (AT_PHDR, "AT_PHDR"),
    (AT_PHENT, "AT_PHENT"),
    (AT_PHNUM, "AT_PHNUM"),
    (AT_PAGESZ, "AT_PAGESZ"),
    (AT_BASE, "AT_BASE"),
    (AT_FLAGS, "AT_FLAGS"),
    (AT_ENTRY, "AT_ENTRY"),
    (AT_NOTELF, "AT_NOTELF"),
    (AT_UID, "AT_UID"),
    (AT_EUID, "AT_EUID"),
    (AT_GID, "AT_GID"),
    (AT_EGID, "AT_EGID"),
    (AT_PLATFORM, "AT_PLATFORM"),
    (AT_HWCAP, "AT_HWCAP"),
    (AT_CLKTCK, "AT_CLKTCK"),
    (AT_SECURE, "AT_SECURE"),
    (AT_BASE_PLATFORM, "AT_BASE_PLATFORM"),
    (AT_RANDOM, "AT_RANDOM"),
    (AT_HWCAP2, "AT_HWCAP2"),
    (AT_EXECFN, "AT_EXECFN"),
    (AT_SYSINFO_EHDR, "AT_SYSINFO_EHDR"),
    (AT_MINSIGSTKSZ, "AT_MINSIGSTKSZ"),
];

/// The name of auxv key `key` (`"AT_PAGESZ"`), if this module knows it.
pub fn name(key: usize) -> Option<&'static str> {
    KNOWN.iter().find(|&&(k, _)| k == key).map(|&(_, n)| n)
}

/// True if the value of `key` reads best in hex: an address or a bit mask, not a count.
pub fn shows_in_hex(key: usize) -> bool {
    matches!(
        key,
        AT_PHDR
            | AT_BASE
            | AT_ENTRY
            | AT_PLATFORM
            | AT_BASE_PLATFORM
            | AT_RANDOM
            | AT_EXECFN
            | AT_SYSINFO_EHDR
            | AT_HWCAP
            | AT_HWCAP2
    )
}
