//! oops: fails on purpose, to test how a kernel reports a failing guest.
//!
//! `argv[1]` chooses how:
//! * none or `panic`: a Rust panic; the runtime prints
//!   `oops: panicked at <file>:<line>: deliberate panic (42)` on stderr, exits with 101;
//! * `segv`: reads address 0 (a page fault; SIGSEGV on Linux);
//! * `ud2`: an invalid opcode (SIGILL);
//! * `int3`: a breakpoint (SIGTRAP);
//! * `div0`: an integer division by zero (SIGFPE).
//!
//! The faults are raised with inline assembly, so no undefined behaviour is involved.
//! Anything else prints a usage line and exits with 2.

#![no_std]
#![no_main]

use core::arch::asm;

use vkrt::{eprintln, Args};

vkrt::entry!(main);

fn main(args: Args) -> i32 {
    match args.get_str(1).unwrap_or("panic") {
        "panic" => panic!("deliberate panic ({})", 42),
        // SAFETY: the read faults before anything observes it; the process dies.
        "segv" => unsafe { asm!("mov rax, qword ptr [0]", out("rax") _, options(nostack)) },
        // SAFETY: `ud2` only raises #UD.
        "ud2" => unsafe { asm!("ud2", options(nostack)) },
        // SAFETY: `int3` only raises #BP; a kernel that resumes us continues after it.
        "int3" => unsafe { asm!("int3", options(nostack)) },
        // SAFETY: dividing by a zero register raises #DE before any register changes.
        "div0" => unsafe {
            asm!("xor ecx, ecx", "div rcx", out("rax") _, out("rdx") _, out("rcx") _,
                 options(nostack));
        },
        _ => {
            eprintln!("usage: oops [panic|segv|ud2|int3|div0]");
            return 2;
        }
    }
    // Reached only when a kernel resumes after the int3 breakpoint.
    0
}
