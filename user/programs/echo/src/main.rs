//! echo: prints its arguments, separated by single spaces, and a newline.
//!
//! Usage: `echo [-n] [ARG...]`. With `-n` (only as the first argument) the final newline
//! is left out. The whole line goes out in one `write`, so that lines of programs writing
//! to the same pipe or console do not mix. Exits with 1 if the write fails.
//!
//! System calls: `write`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use vkrt::io::{write_all, STDOUT};
use vkrt::Args;

vkrt::entry!(main);

fn main(args: Args) -> i32 {
    let mut words: Vec<&[u8]> = args.iter().skip(1).collect();
    let newline = words.first() != Some(&&b"-n"[..]);
    if !newline {
        words.remove(0);
    }
    let mut line = words.join(&b' ');
    if newline {
        line.push(b'\n');
    }
    match write_all(STDOUT, &line) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
