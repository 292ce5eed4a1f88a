//! userland: the guest programs of `user/`, built and ready to load.
//!
//! The vkernel runs guests: static, non-PIE x86-64 ELF executables built from the
//! `#![no_std]` programs in `user/programs/` and their runtime `vkrt` (`user/rt/`). They
//! form a cargo workspace of their own, `user/`, because they need their own profiles
//! (`panic = "abort"`), rustflags (`user/.cargo/config.toml`) and link arguments
//! (`user/programs/link.rs`). This crate is the bridge to the host side:
//!
//! 1. Its build script finds the programs (each directory under `user/programs/`) and
//!    runs `cargo build --release` on `user/Cargo.toml` with its current directory in
//!    `user/` (so the config applies), a target directory of its own under `OUT_DIR`,
//!    and none of the variables cargo set for the host build (`RUSTFLAGS`,
//!    `CARGO_ENCODED_RUSTFLAGS`, profile and cfg variables, clippy's wrapper, ...).
//! 2. It reruns whenever anything in `user/Cargo.toml`, `Cargo.lock`, `.cargo/`, `rt/`
//!    or `programs/` changes, and fails with the guest build's output if that fails.
//! 3. It records every program's ELF path; [`program`] and [`programs`] return them.
//!
//! So a test or a tool of the host side (the kernel's tests, an initrd builder) depends
//! on `userland` and writes:
//!
//! ```no_run
//! let hello = userland::program("hello").expect("hello is a guest program");
//! let status = std::process::Command::new(hello).status().unwrap(); // natively, even
//! assert!(status.success());
//! ```
//!
//! Adding a program needs no change here: see `user/README.md`.
//!
//! [`initrd`] packs the programs into the vkernel's initial file system (a cpio
//! archive): [`initrd::default_image`] has every program in `/bin`.

use std::path::Path;

pub mod initrd;

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

/// The ELF file of guest program `name` (`"hello"`), if there is such a program.
pub fn program(name: &str) -> Option<&'static Path> {
    PROGRAMS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, path)| Path::new(*path))
}

/// Every guest program as `(name, ELF file)`, sorted by name.
pub fn programs() -> impl Iterator<Item = (&'static str, &'static Path)> {
    PROGRAMS.iter().map(|&(name, path)| (name, Path::new(path)))
}

/// Every guest program with the path of its copy without debug sections (what goes into
/// the initrd; the full ELF from [`programs`] keeps the symbols for `gdb`).
pub fn programs_stripped() -> impl Iterator<Item = (&'static str, &'static Path)> {
    STRIPPED.iter().map(|&(name, path)| (name, Path::new(path)))
}

/// The target directory of the guest build (the programs are in its `release/`).
pub fn target_dir() -> &'static Path {
    Path::new(TARGET_DIR)
}

/// The guest workspace's source directory, `user/`.
pub fn source_dir() -> &'static Path {
    Path::new(USER_DIR)
}
