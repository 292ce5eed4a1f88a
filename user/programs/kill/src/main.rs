//! kill: sends a signal to processes.
//!
//! Usage: `kill [-SIGNAL] PID...`, where `SIGNAL` is a number (`-9`) or a name with or
//! without `SIG` (`-KILL`, `-SIGTERM`); the default is `TERM`. The vkernel delivers
//! `KILL` and `TERM` (both end the process); Linux knows more. A process that cannot be
//! signalled gives `kill: PID: <error>` and exit status 1; a bad argument gives 2.
//!
//! System calls: `kill`.

#![no_std]
#![no_main]

use vkrt::io::Lossy;
use vkrt::sys;
use vkrt::{eprintln, Args};

vkrt::entry!(main);

/// The signals known by name.
const NAMES: &[(&str, i32)] = &[
    ("HUP", sys::SIGHUP),
    ("INT", sys::SIGINT),
    ("KILL", sys::SIGKILL),
    ("PIPE", sys::SIGPIPE),
    ("TERM", sys::SIGTERM),
];

/// The signal an option like `9`, `KILL` or `SIGKILL` (without its `-`) names.
fn parse_signal(text: &str) -> Option<i32> {
    if let Ok(n) = text.parse() {
        return Some(n);
    }
    let name = text.strip_prefix("SIG").unwrap_or(text);
    NAMES.iter().find(|(n, _)| *n == name).map(|&(_, sig)| sig)
}

fn usage() -> i32 {
    eprintln!("usage: kill [-9|-KILL|-TERM] PID...");
    2
}

fn main(args: Args) -> i32 {
    let mut operands = args.iter().skip(1).peekable();
    let mut signal = sys::SIGTERM;
    if let Some(option) = operands.next_if(|a| a.starts_with(b"-")) {
        let text = core::str::from_utf8(&option[1..]).unwrap_or("");
        match parse_signal(text) {
            Some(sig) => signal = sig,
            None => {
                eprintln!("kill: unknown signal {}", Lossy(option));
                return usage();
            }
        }
    }
    if operands.peek().is_none() {
        return usage();
    }
    let mut status = 0;
    for operand in operands {
        let Some(pid) = core::str::from_utf8(operand)
            .ok()
            .and_then(|s| s.parse().ok())
        else {
            eprintln!("kill: {}: not a process id", Lossy(operand));
            status = 2;
            continue;
        };
        if let Err(e) = sys::kill(pid, signal) {
            eprintln!("kill: {pid}: {e}");
            status = status.max(1);
        }
    }
    status
}
