//! env: the environment variables the program was started with.
//!
//! A shortcut to [`crate::Args::env`] and [`crate::Args::envs`] for code that has no
//! `Args` at hand, plus [`search_path`]: the `PATH` to look programs up in, which is
//! [`PATH_DEFAULT`] (`/bin`, where the vkernel's programs live) when `PATH` is unset.
//!
//! ```ignore
//! let home = env::var("HOME").unwrap_or(b"/");
//! for entry in env::vars() { println!("{}", Lossy(entry)); }
//! ```

use crate::args;

/// Where programs are looked for when `PATH` is not set.
pub const PATH_DEFAULT: &[u8] = b"/bin";

/// The value of environment variable `name`, if it is set.
pub fn var(name: &str) -> Option<&'static [u8]> {
    args::get()?.env(name)
}

/// All environment strings, `NAME=value`, in order (none before `_start` has run).
pub fn vars() -> impl Iterator<Item = &'static [u8]> {
    args::get().into_iter().flat_map(|a| a.envs())
}

/// The value of `PATH`, or [`PATH_DEFAULT`] if it is not set.
pub fn search_path() -> &'static [u8] {
    var("PATH").unwrap_or(PATH_DEFAULT)
}
