//! true: does nothing, successfully: exits with status 0.
//!
//! System calls: only `exit_group` (through the runtime).

#![no_std]
#![no_main]

vkrt::entry!(main);

fn main(_args: vkrt::Args) -> i32 {
    0
}
