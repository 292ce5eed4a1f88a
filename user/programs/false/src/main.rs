//! false: does nothing, unsuccessfully: exits with status 1.
//!
//! System calls: only `exit_group` (through the runtime).

#![no_std]
#![no_main]

vkrt::entry!(main);

fn main(_args: vkrt::Args) -> i32 {
    1
}
