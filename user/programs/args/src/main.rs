//! args: prints everything the kernel put on the initial stack, one item per line.
//!
//! ```text
//! argc=2
//! argv[0]=/bin/args
//! argv[1]=x
//! envp[0]=HOME=/
//! AT_PHDR=0x400040
//! AT_PAGESZ=4096
//! ...
//! ```
//!
//! Addresses and bit masks in hex, counts in decimal; auxv entries with keys it does not
//! know (see `vkrt::auxv`) are left out. Handy for checking a kernel's `execve`.

#![no_std]
#![no_main]

use vkrt::io::Lossy;
use vkrt::{auxv, println, Args};

vkrt::entry!(main);

fn main(args: Args) -> i32 {
    println!("argc={}", args.len());
    for (i, arg) in args.iter().enumerate() {
        println!("argv[{i}]={}", Lossy(arg));
    }
    for (i, var) in args.envs().enumerate() {
        println!("envp[{i}]={}", Lossy(var));
    }
    for (key, value) in args.auxv() {
        if let Some(name) = auxv::name(key) {
            if auxv::shows_in_hex(key) {
                println!("{name}={value:#x}");
            } else {
                println!("{name}={value}");
            }
        }
    }
    0
}
