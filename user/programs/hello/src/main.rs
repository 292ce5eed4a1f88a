//! hello: the first guest program; prints a greeting and its arguments.
//!
//! Output: `hello from the guest`, then `argv[i] = ...` for every argument. Exits with 0,
//! or with `argv[1]` when that is a decimal number (`hello 3` exits with 3). It makes no
//! system call but `write` and `exit_group`, so it runs on the very first vkernel.

#![no_std]
#![no_main]

use vkrt::io::Lossy;
use vkrt::{println, Args};

// ANCHOR: hello
vkrt::entry!(main);

fn main(args: Args) -> i32 {
    println!("hello from the guest");
    for (i, arg) in args.iter().enumerate() {
        println!("argv[{i}] = {}", Lossy(arg));
    }
    args.get_str(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}
// ANCHOR_END: hello
