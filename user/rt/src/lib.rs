//! vkrt: the runtime every guest program links, so that a `#![no_std]` binary can run.
//!
//! A guest program is a static, non-PIE x86-64 Linux executable built with stable Rust
//! for the host target and no `std`. This crate supplies what `std` and the C runtime
//! would otherwise supply:
//!
//! * [`start`]: the `_start` entry point, which reads the System V initial
//!   stack (argc, argv, envp, auxv) and calls the program's `main`, declared with
//!   [`entry!`];
//! * [`args`]: the program's view of that stack ([`Args`]); [`auxv`]: the auxiliary
//!   vector's keys;
//! * [`sys`]: raw Linux x86-64 system calls and typed wrappers returning
//!   `Result<usize, Errno>`;
//! * [`io`]: [`print!`], [`println!`], [`eprint!`], [`eprintln!`] on file descriptors 1
//!   and 2;
//! * [`heap`]: the `#[global_allocator]`, so `alloc::{vec::Vec, string::String,
//!   boxed::Box, format!}` work;
//! * `panic`: the `#[panic_handler]` (prints one line on stderr, exits with 101);
//! * `mem`: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp`, which the compiler emits
//!   calls to and which nothing else provides when linking with `-nostdlib`.
//!
//! And, for the programs of a small Unix (they use `alloc`):
//!
//! * [`fs`]: files and directories by path ([`fs::File`], [`fs::read_dir`], `stat`, ...);
//! * [`process`]: `exec` with byte-string arguments and a `PATH` search, `wait` with
//!   decoded statuses ([`sys::WaitStatus`]), [`process::on_vkernel`];
//! * [`env`](mod@env): environment variables; [`time`]: clocks, sleeping, [`sys::Timespec`]
//!   arithmetic;
//! * in [`io`]: [`io::LineReader`], [`io::Writer`], [`io::read_to_end`], [`io::isatty`].
//!
//! A minimal program:
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//!
//! vkrt::entry!(main);
//!
//! fn main(args: vkrt::Args) -> i32 {
//!     vkrt::println!("I am {} with {} arguments", vkrt::io::Lossy(args.program_name()), args.len());
//!     0
//! }
//! ```
//!
//! Its `Cargo.toml` depends on `vkrt` and says `build = "../link.rs"`, which passes the
//! link arguments (see `user/README.md`). The kernel side of the same contract (the
//! system call numbers and the initial stack) is "Guest ABI" in the design notes.

#![no_std]
#![warn(missing_docs)]

extern crate alloc;

pub mod args;
pub mod auxv;
pub mod env;
pub mod fs;
pub mod heap;
pub mod io;
mod mem;
mod panic;
pub mod process;
pub mod seed;
pub mod start;
pub mod sys;
pub mod time;

pub use args::Args;
pub use sys::Errno;

/// Declares the program's `main`: `vkrt::entry!(main);` with `fn main(args: vkrt::Args) -> i32`.
///
/// The runtime's `_start` calls it once, after parsing the initial stack, and exits the
/// whole process (`exit_group`) with its return value (the kernel keeps the low 8 bits).
/// Use it exactly once per program, at the crate root. Forgetting it gives the link error
/// "undefined symbol: __vkrt_main".
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        /// The program's entry point, called by `vkrt`'s `_start` (see `vkrt::entry!`).
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        pub extern "Rust" fn __vkrt_main(args: $crate::Args) -> i32 {
            // The type ascription checks `main`'s signature with a readable error.
            let main: fn($crate::Args) -> i32 = $main;
            main(args)
        }
    };
}
