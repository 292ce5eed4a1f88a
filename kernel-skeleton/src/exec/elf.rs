//! Reading a guest executable: parse and check an ELF file before anything is loaded.
//!
//! [`parse`] turns the bytes of a file into a [`Program`]: the entry point and the
//! segments to load, each already checked (static, non-PIE x86-64, every segment inside
//! user space and inside the file). Anything else is refused with an [`ExecError`] that
//! says why, so a corrupt or foreign file can never crash the kernel. Loading the checked
//! segments into an address space is `exec/mod.rs`'s job.

use goblin::elf::{header, program_header, Elf};
use vmspace::layout::{PAGE_SIZE, USER_TOP};

// ANCHOR: exec-error
/// Why a file cannot be run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecError {
    /// Not an ELF file at all.
    NotElf,
    /// An ELF file this machine cannot run, with the reason.
    Unsupported(String),
    /// An ELF file whose headers contradict themselves or the file.
    Malformed(String),
    /// Not enough memory to load it.
    NoMemory,
}
// ANCHOR_END: exec-error

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::NotElf => write!(f, "not an ELF executable"),
            ExecError::Unsupported(why) => write!(f, "unsupported executable: {why}"),
            ExecError::Malformed(why) => write!(f, "malformed ELF file: {why}"),
            ExecError::NoMemory => write!(f, "not enough memory to load it"),
        }
    }
}

impl std::error::Error for ExecError {}

/// One loadable segment, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// Where it starts in memory.
    pub vaddr: u64,
    /// Bytes in memory (the tail past `file_len` is zero: the bss).
    pub mem_len: u64,
    /// Where its bytes start in the file.
    pub offset: u64,
    /// Bytes taken from the file.
    pub file_len: u64,
    /// Guest may write it.
    pub write: bool,
    /// Guest may execute it.
    pub exec: bool,
}

/// A checked executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Entry point.
    pub entry: u64,
    /// Segments to load.
    pub segments: Vec<Segment>,
    /// Where the program headers are in memory (for `AT_PHDR`), if loaded.
    pub phdr_vaddr: u64,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u64,
    /// Size of one program header (`AT_PHENT`).
    pub phent: u64,
    /// The highest address any segment uses (where the heap may start).
    pub end: u64,
}

/// Most segments a program may have (a static executable has a handful).
const MAX_SEGMENTS: usize = 16;

/// Parse and check `bytes` as a static, non-PIE x86-64 executable.
///
/// # Errors
/// [`ExecError`] saying exactly what is wrong.
pub fn parse(bytes: &[u8]) -> Result<Program, ExecError> {
    if bytes.len() < 4 || &bytes[..4] != b"\x7fELF" {
        return Err(ExecError::NotElf);
    }
    if bytes.len() < 5 || bytes[4] != header::ELFCLASS64 {
        return Err(ExecError::Unsupported(
            "a 32-bit ELF file; this machine runs x86-64 programs".into(),
        ));
    }
    let elf = Elf::parse(bytes).map_err(|e| ExecError::Malformed(e.to_string()))?;
    if !elf.little_endian {
        return Err(ExecError::Unsupported("a big-endian ELF file".into()));
    }
    if elf.header.e_machine != header::EM_X86_64 {
        return Err(ExecError::Unsupported(format!(
            "built for {} ({}), not x86-64",
            header::machine_to_str(elf.header.e_machine),
            elf.header.e_machine
        )));
    }
    match elf.header.e_type {
        header::ET_EXEC => {}
        header::ET_DYN => {
            return Err(ExecError::Unsupported(
                "a position-independent (PIE) executable or shared library; build it static and non-PIE".into(),
            ))
        }
        t => return Err(ExecError::Unsupported(format!("ELF type {t} is not an executable"))),
    }
    if elf.interpreter.is_some() || elf.dynamic.is_some() {
        return Err(ExecError::Unsupported(
            "a dynamically linked executable; guests must be static".into(),
        ));
    }
    let mut segments = Vec::new();
    let mut phdr_vaddr = 0;
    for ph in &elf.program_headers {
        match ph.p_type {
            program_header::PT_LOAD => segments.push(check_segment(ph, bytes.len() as u64)?),
            program_header::PT_PHDR => phdr_vaddr = ph.p_vaddr,
            program_header::PT_INTERP | program_header::PT_DYNAMIC => {
                return Err(ExecError::Unsupported(
                    "a dynamically linked executable; guests must be static".into(),
                ))
            }
            program_header::PT_TLS => {
                return Err(ExecError::Unsupported(
                    "thread-local storage segments are not supported".into(),
                ))
            }
            _ => {}
        }
    }
    if segments.is_empty() {
        return Err(ExecError::Malformed("no loadable segment".into()));
    }
    if segments.len() > MAX_SEGMENTS {
        return Err(ExecError::Malformed(format!(
            "{} loadable segments (at most {MAX_SEGMENTS})",
            segments.len()
        )));
    }
    let entry = elf.header.e_entry;
    if !segments
        .iter()
        .any(|s| s.exec && entry >= s.vaddr && entry < s.vaddr + s.mem_len)
    {
        return Err(ExecError::Malformed(format!(
            "entry point {entry:#x} is not in an executable segment"
        )));
    }
    if phdr_vaddr == 0 {
        let phoff = elf.header.e_phoff;
        phdr_vaddr = segments
            .iter()
            .find(|s| phoff >= s.offset && phoff < s.offset + s.file_len)
            .map_or(0, |s| s.vaddr + (phoff - s.offset));
    }
    let end = segments
        .iter()
        .map(|s| s.vaddr + s.mem_len)
        .max()
        .unwrap_or(0);
    Ok(Program {
        entry,
        segments,
        phdr_vaddr,
        phnum: elf.header.e_phnum.into(),
        phent: elf.header.e_phentsize.into(),
        end,
    })
}

fn check_segment(ph: &program_header::ProgramHeader, file_len: u64) -> Result<Segment, ExecError> {
    let bad = |why: String| Err(ExecError::Malformed(why));
    if ph.p_filesz > ph.p_memsz {
        return bad(format!(
            "segment at {:#x} has more file bytes than memory bytes",
            ph.p_vaddr
        ));
    }
    match ph.p_offset.checked_add(ph.p_filesz) {
        Some(end) if end <= file_len => {}
        _ => {
            return bad(format!(
                "segment at {:#x} extends past the end of the file (truncated?)",
                ph.p_vaddr
            ))
        }
    }
    let end = ph.p_vaddr.checked_add(ph.p_memsz);
    if ph.p_vaddr < PAGE_SIZE || end.is_none_or(|e| e > USER_TOP) {
        return Err(ExecError::Unsupported(format!(
            "segment {:#x}..{:#x} lies outside user space ({PAGE_SIZE:#x}..{USER_TOP:#x})",
            ph.p_vaddr,
            ph.p_vaddr.wrapping_add(ph.p_memsz)
        )));
    }
    Ok(Segment {
        vaddr: ph.p_vaddr,
        mem_len: ph.p_memsz,
        offset: ph.p_offset,
        file_len: ph.p_filesz,
        write: ph.p_flags & program_header::PF_W != 0,
        exec: ph.p_flags & program_header::PF_X != 0,
    })
}

/// A minimal ELF writer for tests of the loader (and the kernel's boot tests).
pub mod fixture {
    /// A static x86-64 executable with one R+X segment at `vaddr` holding `code`,
    /// entry at its start. `kind` is the ELF type (2 = EXEC, 3 = DYN).
    pub fn elf(vaddr: u64, code: &[u8], kind: u16, class64: bool) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&[0x7f, b'E', b'L', b'F', if class64 { 2 } else { 1 }, 1, 1, 0]);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&62u16.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&vaddr.to_le_bytes());
        out.extend_from_slice(&64u64.to_le_bytes());
        out.extend_from_slice(&0u64.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        for v in [64u16, 56, 1, 64, 0, 0] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        let off = 4096u64;
        out.extend_from_slice(&1u32.to_le_bytes()); // PT_LOAD
        out.extend_from_slice(&5u32.to_le_bytes()); // R + X
        for v in [
            off,
            vaddr,
            vaddr,
            code.len() as u64,
            code.len() as u64,
            4096,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.resize(off as usize, 0);
        out.extend_from_slice(code);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::elf;
    use super::*;

    // mov edi, 3; mov eax, 231; syscall
    const EXIT3: &[u8] = &[0xbf, 3, 0, 0, 0, 0xb8, 0xe7, 0, 0, 0, 0x0f, 0x05];

    #[test]
    fn a_good_executable_parses() {
        let p = parse(&elf(0x40_0000, EXIT3, 2, true)).unwrap();
        assert_eq!(p.entry, 0x40_0000);
        assert_eq!(p.segments.len(), 1);
        assert!(p.segments[0].exec && !p.segments[0].write);
        assert_eq!(p.end, 0x40_0000 + EXIT3.len() as u64);
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let err = |b: &[u8]| parse(b).unwrap_err().to_string();
        assert_eq!(parse(b"#!/bin/sh\necho hi\n"), Err(ExecError::NotElf));
        assert_eq!(parse(b""), Err(ExecError::NotElf));
        assert!(err(&elf(0x40_0000, EXIT3, 2, false)).contains("32-bit"));
        assert!(err(&elf(0x40_0000, EXIT3, 3, true)).contains("PIE"));
        assert!(err(&elf(0x7fff_8000_0000, EXIT3, 2, true)).contains("outside user space"));
        assert!(err(&elf(0, EXIT3, 2, true)).contains("outside user space"));
        let mut truncated = elf(0x40_0000, EXIT3, 2, true);
        truncated.truncate(4100);
        assert!(err(&truncated).contains("past the end"));
        let mut headers_only = elf(0x40_0000, EXIT3, 2, true);
        headers_only.truncate(80);
        assert!(parse(&headers_only).is_err());
        let mut wrong_machine = elf(0x40_0000, EXIT3, 2, true);
        wrong_machine[18] = 183; // EM_AARCH64
        assert!(err(&wrong_machine).contains("not x86-64"));
    }

    #[test]
    fn every_prefix_of_a_good_file_is_refused_without_panicking() {
        let good = elf(0x40_0000, EXIT3, 2, true);
        for len in 0..good.len() {
            assert!(
                parse(&good[..len]).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
    }

    #[test]
    fn host_dynamic_executables_are_refused() {
        let bytes = std::fs::read("/bin/true").expect("the host has /bin/true");
        let e = parse(&bytes).unwrap_err().to_string();
        assert!(e.contains("PIE") || e.contains("dynamically linked"), "{e}");
    }
}
