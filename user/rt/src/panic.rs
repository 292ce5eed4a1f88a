//! panic: what a failed `assert!`, `unwrap()` or `panic!` does in a guest.
//!
//! Guests are built with `panic = "abort"` and have no unwinder, so the handler prints
//! one line on stderr and exits the process with status 101 (as a Rust `std` program
//! does):
//!
//! ```text
//! hello: panicked at programs/hello/src/main.rs:12: index out of bounds: ...
//! ```
//!
//! The name is `argv[0]`'s last component (from [`crate::args`]), so the line tells which
//! program failed when several share a console. The line never begins with `panic:`: that
//! prefix belongs to the vkernel's own panics, which tests look for. Output goes through
//! [`crate::io`]'s stack buffer, so a panic inside the allocator still reports. Also here:
//! the unwinding symbols that the precompiled `core` and `alloc` refer to (they are
//! built for unwinding) but a guest never uses: `rust_eh_personality`, `_Unwind_Resume`.

use core::fmt::Write;
use core::panic::PanicInfo;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::io::{Buffered, Lossy, STDERR};
use crate::{args, sys};

/// Set by the first panic; a panic while reporting it exits at once.
static PANICKING: AtomicBool = AtomicBool::new(false);

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    if PANICKING.swap(true, Ordering::Relaxed) {
        sys::exit_group(101);
    }
    let name = args::get().map_or(&b"?"[..], |a| a.program_name());
    let mut out = Buffered::new(STDERR);
    let _ = write!(out, "{}: panicked at ", Lossy(name));
    let _ = match info.location() {
        Some(at) => write!(out, "{}:{}", at.file(), at.line()),
        None => write!(out, "<unknown>"),
    };
    let _ = writeln!(out, ": {}", info.message());
    out.flush();
    sys::exit_group(101)
}

/// Personality routine for unwinding, referred to by the precompiled `core`; never
/// called, since nothing unwinds.
#[unsafe(no_mangle)]
pub extern "C" fn rust_eh_personality() {}

/// Continues unwinding after a cleanup; referred to by the precompiled `alloc`. Never
/// called, since nothing unwinds; if something does, the process exits like a panic.
#[unsafe(no_mangle)]
pub extern "C" fn _Unwind_Resume() -> ! {
    sys::exit_group(101)
}
