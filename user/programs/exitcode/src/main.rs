//! exitcode: exits with the status given as `argv[1]` (default 0) and writes nothing.
//!
//! `exitcode 7` exits with 7; an argument that is not a decimal number gives 255. The
//! smallest possible guest: its only system call is `exit_group`.

#![no_std]
#![no_main]

use vkrt::Args;

vkrt::entry!(main);

fn main(args: Args) -> i32 {
    match args.get_str(1) {
        None => 0,
        Some(s) => s.parse().unwrap_or(255),
    }
}
