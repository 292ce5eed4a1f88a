//! ps: lists the processes: pid, parent pid, state and name, one line each.
//!
//! Usage: `ps`. Output:
//!
//! ```text
//!   PID  PPID S NAME
//!     1     0 S init
//!     2     1 R ps
//! ```
//!
//! On the vkernel the list comes from its own system call 1000, `vk_procs(buf, len)`,
//! which fills `buf` with lines `<pid> <ppid> <state> <name>\n` (state R running or
//! runnable, S sleeping, Z zombie). Linux answers that call with `ENOSYS`; ps then reads
//! `/proc/<pid>/stat` for every numeric entry of `/proc` instead (where more states
//! exist, such as I idle or D disk wait).
//!
//! System calls: `vk_procs` (1000); on Linux `openat`, `getdents64`, `read`, `close`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write;

use vkrt::fs::{self, join};
use vkrt::io::{Lossy, Writer, STDOUT};
use vkrt::sys::{self, Errno};
use vkrt::{eprintln, Args};

vkrt::entry!(main);

/// One process.
struct Proc {
    pid: u32,
    ppid: u32,
    state: u8,
    name: Vec<u8>,
}

/// Parses a decimal number.
fn number(text: &[u8]) -> Option<u32> {
    core::str::from_utf8(text).ok()?.parse().ok()
}

/// Parses one `vk_procs` line: `<pid> <ppid> <state> <name>`.
fn parse_vk_line(line: &[u8]) -> Option<Proc> {
    let mut fields = line.splitn(4, |&b| b == b' ');
    let pid = number(fields.next()?)?;
    let ppid = number(fields.next()?)?;
    let state = *fields.next()?.first()?;
    let name = fields.next().unwrap_or(b"").to_vec();
    Some(Proc {
        pid,
        ppid,
        state,
        name,
    })
}

/// The vkernel's list, from `vk_procs`, with a buffer that grows until the list fits.
fn vk_procs() -> Result<Vec<Proc>, Errno> {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = sys::vk_procs(&mut buf)?;
        if n < buf.len() {
            let text = &buf[..n];
            return Ok(text
                .split(|&b| b == b'\n')
                .filter_map(parse_vk_line)
                .collect());
        }
        // A full buffer may mean a cut-off list: try again with a bigger one.
        buf.resize(buf.len() * 2, 0);
    }
}

/// Parses Linux's `/proc/<pid>/stat`: `pid (name) state ppid ...`. The name may contain
/// spaces and parentheses, so it ends at the *last* `)`.
fn parse_proc_stat(text: &[u8]) -> Option<Proc> {
    let open = text.iter().position(|&b| b == b'(')?;
    let close = text.iter().rposition(|&b| b == b')')?;
    let pid = number(text[..open].trim_ascii())?;
    let mut rest = text.get(close + 2..)?.split(|&b| b == b' ');
    let state = *rest.next()?.first()?;
    let ppid = number(rest.next()?)?;
    Some(Proc {
        pid,
        ppid,
        state,
        name: text[open + 1..close].to_vec(),
    })
}

/// Linux's list, from `/proc`. Processes that end while we look are left out.
fn linux_procs() -> Result<Vec<Proc>, Errno> {
    let mut procs = Vec::new();
    for entry in fs::read_dir(b"/proc")? {
        if number(&entry.name).is_none() {
            continue;
        }
        let stat = join(&join(b"/proc", &entry.name), b"stat");
        if let Some(p) = fs::read(&stat).ok().as_deref().and_then(parse_proc_stat) {
            procs.push(p);
        }
    }
    Ok(procs)
}

fn main(_args: Args) -> i32 {
    let procs = match vk_procs() {
        Err(Errno::ENOSYS) => linux_procs(),
        other => other,
    };
    let mut procs = match procs {
        Ok(procs) => procs,
        Err(e) => {
            eprintln!("ps: cannot list processes: {e}");
            return 1;
        }
    };
    procs.sort_by_key(|p| p.pid);
    let mut out = Writer::new(STDOUT);
    let _ = writeln!(out, "{:>5} {:>5} S NAME", "PID", "PPID");
    for p in &procs {
        let state = p.state as char;
        let _ = writeln!(out, "{:>5} {:>5} {state} {}", p.pid, p.ppid, Lossy(&p.name));
    }
    match out.flush() {
        Ok(()) => 0,
        Err(_) => 1,
    }
}
