//! The build script of every guest program: passes the link arguments that make a
//! static, non-PIE executable with `vkrt`'s `_start` as its entry point.
//!
//! Each program's `Cargo.toml` says `build = "../link.rs"`, so this one file is the
//! only place the arguments live. They go to binaries only (`rustc-link-arg-bins`):
//! * `-nostartfiles`: no C runtime start files (`crt1.o`, `crti.o`); `vkrt` has `_start`.
//! * `-nostdlib`: no libc or libgcc; `vkrt` provides the few functions needed.
//! * `-static`, `-no-pie`: one self-contained executable at a fixed address (type
//!   `EXEC`, no interpreter, no dynamic section), the kind the vkernel loads.
//! * `-Wl,--image-base=0x400000`: load it at the traditional 4 MiB. The linker is
//!   rust-lld (through `cc`), which does not know GNU ld's `-Ttext-segment`.
//!
//! The matching compiler flags (`relocation-model=static`, `+crt-static`) are in
//! `user/.cargo/config.toml`.

fn main() {
    for arg in [
        "-nostartfiles",
        "-nostdlib",
        "-static",
        "-no-pie",
        "-Wl,--image-base=0x400000",
    ] {
        println!("cargo:rustc-link-arg-bins={arg}");
    }
    // The arguments depend on nothing but this file.
    println!("cargo:rerun-if-changed=../link.rs");
}
