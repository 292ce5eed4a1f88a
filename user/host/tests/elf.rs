//! Every guest program is a static, non-PIE x86-64 ELF executable that starts at `_start`.

use goblin::elf::header::{EM_X86_64, ET_EXEC};
use goblin::elf::program_header::{PT_DYNAMIC, PT_INTERP, PT_LOAD};
use goblin::elf::Elf;

/// The programs the rest of the project relies on.
const REQUIRED: &[&str] = &[
    "hello",
    "exitcode",
    "args",
    "alloc",
    "oops",
    "syscheck",
    "init",
    "sh",
    "usertests",
];

#[test]
fn every_program_directory_is_listed() {
    let dir = userland::source_dir().join("programs");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
        .collect();
    on_disk.sort();
    let listed: Vec<&str> = userland::programs().map(|(name, _)| name).collect();
    assert_eq!(listed, on_disk);
    for name in REQUIRED {
        assert!(userland::program(name).is_some(), "{name} is missing");
    }
    assert!(userland::program("no-such-program").is_none());
}

#[test]
fn programs_are_static_non_pie_executables() {
    for (name, path) in userland::programs() {
        assert!(
            path.starts_with(userland::target_dir()),
            "{name}: {}",
            path.display()
        );
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let elf = Elf::parse(&bytes).unwrap_or_else(|e| panic!("{name}: not ELF: {e}"));
        assert!(
            elf.is_64 && elf.little_endian,
            "{name}: not ELF64 little-endian"
        );
        assert_eq!(elf.header.e_machine, EM_X86_64, "{name}: not x86-64");
        assert_eq!(
            elf.header.e_type, ET_EXEC,
            "{name}: not EXEC (a PIE is DYN)"
        );
        assert!(elf.interpreter.is_none(), "{name}: has an interpreter");
        assert!(elf.dynamic.is_none(), "{name}: has a dynamic section");
        for ph in &elf.program_headers {
            assert!(
                ph.p_type != PT_INTERP && ph.p_type != PT_DYNAMIC,
                "{name}: {ph:?}"
            );
        }
        let lowest = elf
            .program_headers
            .iter()
            .filter(|ph| ph.p_type == PT_LOAD)
            .map(|ph| ph.p_vaddr)
            .min()
            .expect("a loadable segment");
        assert_eq!(lowest, 0x40_0000, "{name}: not linked at 0x400000");
        let start = elf
            .syms
            .iter()
            .find(|sym| elf.strtab.get_at(sym.st_name) == Some("_start"))
            .unwrap_or_else(|| panic!("{name}: no _start symbol"));
        assert_eq!(
            elf.entry, start.st_value,
            "{name}: entry point is not _start"
        );
        assert!(elf.entry >= 0x40_0000, "{name}: entry {:#x}", elf.entry);
    }
}
