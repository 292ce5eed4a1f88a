//! cat: copies each file named (or standard input) to standard output.
//!
//! Usage: `cat [FILE...]`; no file, or `-`, means standard input. A file that cannot be
//! opened or read gives `cat: FILE: <error>` on stderr and exit status 1, and cat goes on
//! with the next one. Data is copied in 4 KiB pieces, as it comes.
//!
//! System calls: `openat`, `read`, `write`, `close`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use vkrt::fs::File;
use vkrt::io::{write_all, Lossy, STDIN, STDOUT};
use vkrt::sys::{self, Errno};
use vkrt::{eprintln, Args};

vkrt::entry!(main);

/// Why copying stopped: reading the input or writing the output failed.
enum Failure {
    Read(Errno),
    Write(Errno),
}

/// Copies everything `fd` has to standard output.
fn copy(fd: i32) -> Result<(), Failure> {
    let mut buf = [0u8; 4096];
    loop {
        let n = match sys::read(fd, &mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(Failure::Read(e)),
        };
        write_all(STDOUT, &buf[..n]).map_err(Failure::Write)?;
    }
}

/// Copies the file `name` (`-` is standard input) to standard output.
fn cat(name: &[u8]) -> Result<(), Failure> {
    if name == b"-" {
        return copy(STDIN);
    }
    let file = File::open_read(name).map_err(Failure::Read)?;
    copy(file.fd())
}

fn main(args: Args) -> i32 {
    let mut files: Vec<&[u8]> = args.iter().skip(1).collect();
    if files.is_empty() {
        files.push(b"-");
    }
    let mut status = 0;
    for name in files {
        match cat(name) {
            Ok(()) => {}
            Err(Failure::Read(e)) => {
                eprintln!("cat: {}: {e}", Lossy(name));
                status = 1;
            }
            Err(Failure::Write(e)) => {
                eprintln!("cat: write error: {e}");
                return 1;
            }
        }
    }
    status
}
