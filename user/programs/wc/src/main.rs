//! wc: counts the lines, words and bytes of files or standard input.
//!
//! Usage: `wc [-l] [-w] [-c] [FILE...]`; no file, or `-`, means standard input. Prints
//! one line per input: the counts, each right-aligned in 7 columns, separated by spaces,
//! then a space and the file's name (no name when reading standard input for want of
//! files, so `echo hi | wc` prints `      1       1       3`). The options choose which
//! counts to show (lines, words, bytes; all three without options). With several files a
//! `total` line follows. A line is a `\n`; a word is a maximal run of bytes that are not
//! white space (space, tab, newline, CR, VT, FF). An unreadable file gives
//! `wc: FILE: <error>` and exit status 1.
//!
//! System calls: `openat`, `read`, `write`, `close`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::string::String;
use core::fmt::Write;

use vkrt::args::Flags;
use vkrt::fs::File;
use vkrt::io::{Lossy, STDIN};
use vkrt::sys::{self, Errno};
use vkrt::{eprintln, println, Args};

vkrt::entry!(main);

/// The counts for one input. `in_word` carries across reads, so that a word split
/// between two reads counts once.
#[derive(Default, Clone, Copy)]
struct Counts {
    lines: u64,
    words: u64,
    bytes: u64,
    in_word: bool,
}

impl Counts {
    /// Counts the bytes of `chunk`, continuing from what came before.
    fn add(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        for &b in chunk {
            let space = matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
            if b == b'\n' {
                self.lines += 1;
            }
            if !space && !self.in_word {
                self.words += 1;
            }
            self.in_word = !space;
        }
    }

    /// Prints the counts `show` selects, then `name` (if not empty).
    fn print(&self, show: &Flags, name: &[u8]) {
        let all = !(show.has(b'l') || show.has(b'w') || show.has(b'c'));
        let mut line = String::new();
        for (letter, count) in [(b'l', self.lines), (b'w', self.words), (b'c', self.bytes)] {
            if all || show.has(letter) {
                let space = if line.is_empty() { "" } else { " " };
                let _ = write!(line, "{space}{count:>7}");
            }
        }
        let space = if name.is_empty() { "" } else { " " };
        println!("{line}{space}{}", Lossy(name));
    }
}

/// Counts everything `fd` has.
fn count(fd: i32) -> Result<Counts, Errno> {
    let mut counts = Counts::default();
    let mut buf = [0u8; 4096];
    loop {
        match sys::read(fd, &mut buf) {
            Ok(0) => return Ok(counts),
            Ok(n) => counts.add(&buf[..n]),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Counts the file `name` (`-`: standard input).
fn count_file(name: &[u8]) -> Result<Counts, Errno> {
    if name == b"-" {
        return count(STDIN);
    }
    count(File::open_read(name)?.fd())
}

fn main(args: Args) -> i32 {
    let Ok((show, files)) = args.flags(b"lwc") else {
        eprintln!("usage: wc [-l] [-w] [-c] [FILE...]");
        return 2;
    };
    if files.is_empty() {
        return match count(STDIN) {
            Ok(counts) => {
                counts.print(&show, b"");
                0
            }
            Err(e) => {
                eprintln!("wc: standard input: {e}");
                1
            }
        };
    }
    let (mut total, mut status) = (Counts::default(), 0);
    for name in &files {
        match count_file(name) {
            Ok(counts) => {
                counts.print(&show, name);
                total.lines += counts.lines;
                total.words += counts.words;
                total.bytes += counts.bytes;
            }
            Err(e) => {
                eprintln!("wc: {}: {e}", Lossy(name));
                status = 1;
            }
        }
    }
    if files.len() > 1 {
        total.print(&show, b"total");
    }
    status
}
