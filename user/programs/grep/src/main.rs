//! grep: prints the lines that contain a fixed string.
//!
//! Usage: `grep [-v] [-c] STRING [FILE...]`; no file, or `-`, means standard input.
//! `STRING` is compared byte for byte (no regular expressions); the empty string is in
//! every line. `-v` selects the lines that do *not* contain it; `-c` prints how many lines
//! were selected instead of the lines. With several files each output line starts with
//! `FILE:`. Exit status: 0 if some line was selected, 1 if none, 2 on an error (bad usage,
//! unreadable file), as POSIX says.
//!
//! System calls: `openat`, `read`, `write`, `close`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt::Write;

use vkrt::fs::File;
use vkrt::io::{trim_newline, LineReader, Lossy, Writer, STDIN, STDOUT};
use vkrt::sys::Errno;
use vkrt::{eprintln, Args};

vkrt::entry!(main);

/// What to look for and how to report it.
struct Search<'a> {
    needle: &'a [u8],
    invert: bool,
    count: bool,
    /// Print `FILE:` before each output line.
    prefix: bool,
}

/// True if `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

impl Search<'_> {
    /// Reads `fd` to the end, printing (or counting) the selected lines; returns how many
    /// lines were selected.
    fn run(&self, fd: i32, name: &[u8], out: &mut Writer) -> Result<u64, Errno> {
        let mut lines = LineReader::new(fd);
        let mut selected = 0;
        while let Some(line) = lines.read_line()? {
            let line = trim_newline(line);
            if contains(line, self.needle) == self.invert {
                continue;
            }
            selected += 1;
            if !self.count {
                self.print_prefix(out, name);
                out.write_bytes(line)?;
                out.write_bytes(b"\n")?;
            }
        }
        if self.count {
            self.print_prefix(out, name);
            let _ = writeln!(out, "{selected}");
        }
        Ok(selected)
    }

    fn print_prefix(&self, out: &mut Writer, name: &[u8]) {
        if self.prefix {
            let _ = write!(out, "{}:", Lossy(name));
        }
    }
}

/// Searches the file `name` (`-`: standard input).
fn search_file(search: &Search<'_>, name: &[u8], out: &mut Writer) -> Result<u64, Errno> {
    if name == b"-" {
        return search.run(STDIN, b"(standard input)", out);
    }
    let file = File::open_read(name)?;
    search.run(file.fd(), name, out)
}

fn main(args: Args) -> i32 {
    let (flags, operands) = match args.flags(b"vc") {
        Ok(parsed) if !parsed.1.is_empty() => parsed,
        _ => {
            eprintln!("usage: grep [-v] [-c] STRING [FILE...]");
            return 2;
        }
    };
    let mut files: Vec<&[u8]> = operands[1..].to_vec();
    if files.is_empty() {
        files.push(b"-");
    }
    let search = Search {
        needle: operands[0],
        invert: flags.has(b'v'),
        count: flags.has(b'c'),
        prefix: files.len() > 1,
    };
    let mut out = Writer::new(STDOUT);
    let (mut matched, mut error) = (false, false);
    for name in files {
        match search_file(&search, name, &mut out) {
            Ok(n) => matched |= n > 0,
            Err(e) => {
                let _ = out.flush();
                eprintln!("grep: {}: {e}", Lossy(name));
                error = true;
            }
        }
    }
    if out.flush().is_err() {
        error = true;
    }
    match (error, matched) {
        (true, _) => 2,
        (false, true) => 0,
        (false, false) => 1,
    }
}
