//! io: formatted output on file descriptors: `print!`, `println!`, `eprint!`, `eprintln!`.
//!
//! The macros take `format!`-style arguments and write to fd 1 (stdout) or fd 2
//! (stderr) with [`crate::sys::write`]. Each call formats into a small buffer on the
//! stack and writes it out when it fills and at the end, so a short line reaches the
//! kernel as one `write` (which matters to a kernel that serves nothing but `write` and
//! `exit_group`) and two programs' lines do not interleave mid-line. Short writes are
//! continued; errors are ignored, as in C's `printf`. Nothing allocates.
//!
//! For other descriptors or explicit error handling, use [`Fd`] with `core::fmt::Write`
//! (`write!(Fd(3), ...)`) or [`write_all`]. [`Lossy`] displays bytes that may not be
//! UTF-8, such as [`crate::Args`] strings.
//!
//! For programs that process text (these allocate, with `alloc`'s `Vec`):
//! * [`LineReader`] reads a descriptor line by line (`cat`, `grep`, the shell);
//! * [`Writer`] collects output in a `Vec` and writes it in big pieces (`ls`, `grep`);
//! * [`read_to_end`] reads everything; [`isatty`] tells a terminal from a file or pipe.
//!
//! ```ignore
//! let mut lines = LineReader::new(STDIN);
//! let mut out = Writer::new(STDOUT);
//! while let Some(line) = lines.read_line()? {
//!     if line.starts_with(b"#") { out.write_bytes(line)?; }
//! }
//! out.flush()?;
//! ```

use alloc::vec::Vec;
use core::fmt::{self, Write};

use crate::sys::{self, Errno};

/// Standard input.
pub const STDIN: i32 = 0;
/// Standard output.
pub const STDOUT: i32 = 1;
/// Standard error.
pub const STDERR: i32 = 2;

/// Writes all of `bytes` to `fd`, continuing after short writes and `EINTR`.
///
/// Fails with the first other error, or with `EIO` if the kernel accepts nothing.
pub fn write_all(fd: i32, mut bytes: &[u8]) -> Result<(), Errno> {
    while !bytes.is_empty() {
        match sys::write(fd, bytes) {
            Ok(0) => return Err(Errno::EIO),
            Ok(n) => bytes = &bytes[n.min(bytes.len())..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads from `fd` until end of file, appending to `buf`; returns the number of bytes read.
pub fn read_to_end(fd: i32, buf: &mut Vec<u8>) -> Result<usize, Errno> {
    let start = buf.len();
    let mut chunk = [0u8; 4096];
    loop {
        match sys::read(fd, &mut chunk) {
            Ok(0) => return Ok(buf.len() - start),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// True if `fd` is a terminal: the `TCGETS` ioctl succeeds only on one.
pub fn isatty(fd: i32) -> bool {
    // `struct termios` is 60 bytes; give the kernel a little more room.
    let mut termios = [0u8; 64];
    // SAFETY: TCGETS writes at most one `struct termios` (60 bytes) into `termios`.
    unsafe { sys::ioctl(fd, sys::TCGETS, termios.as_mut_ptr() as usize) }.is_ok()
}

/// Reads a descriptor line by line, keeping what it read past the current line in a
/// `Vec` for the next call.
///
/// Lines are split at `\n` and handed out *with* their `\n`; only the last line of a file
/// that does not end in a newline comes without one. Any bytes are allowed (not just UTF-8).
#[derive(Debug)]
pub struct LineReader {
    fd: i32,
    /// Bytes read but not handed out yet start at `buf[start]`.
    buf: Vec<u8>,
    start: usize,
    /// Length of the line handed out by the last call (removed by the next one).
    last: usize,
    eof: bool,
}

impl LineReader {
    /// A reader of `fd` (which it does not close).
    pub fn new(fd: i32) -> LineReader {
        LineReader {
            fd,
            buf: Vec::new(),
            start: 0,
            last: 0,
            eof: false,
        }
    }

    /// The next line with its `\n`, or `None` at end of file.
    pub fn read_line(&mut self) -> Result<Option<&[u8]>, Errno> {
        self.start += self.last;
        self.last = 0;
        loop {
            let pending = &self.buf[self.start..];
            if let Some(i) = pending.iter().position(|&b| b == b'\n') {
                self.last = i + 1;
                break;
            }
            if self.eof {
                self.last = pending.len();
                break;
            }
            self.fill()?;
        }
        if self.last == 0 {
            return Ok(None);
        }
        Ok(Some(&self.buf[self.start..self.start + self.last]))
    }

    /// Drops what was handed out already and reads more, noting end of file.
    fn fill(&mut self) -> Result<(), Errno> {
        self.buf.drain(..self.start);
        self.start = 0;
        let mut chunk = [0u8; 4096];
        loop {
            match sys::read(self.fd, &mut chunk) {
                Ok(0) => self.eof = true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
            return Ok(());
        }
    }
}

/// `line` without its final `\n`, if it has one.
pub fn trim_newline(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// Buffered output on a descriptor: collects bytes in a `Vec` and writes them when 8 KiB
/// have gathered, on [`Writer::flush`], and (ignoring errors) when dropped.
///
/// It implements `core::fmt::Write`, so `write!(out, ...)` works; a write error is then
/// kept and returned by the next [`Writer::flush`].
#[derive(Debug)]
pub struct Writer {
    fd: i32,
    buf: Vec<u8>,
    error: Option<Errno>,
}

impl Writer {
    /// Output is written out once this many bytes have gathered.
    const CAPACITY: usize = 8192;

    /// A writer on `fd` (which it does not close).
    pub fn new(fd: i32) -> Writer {
        Writer {
            fd,
            buf: Vec::new(),
            error: None,
        }
    }

    /// Adds `bytes` to the output, writing the buffer out when it is full.
    pub fn write_bytes(&mut self, bytes: &[u8]) -> Result<(), Errno> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= Self::CAPACITY {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes out everything buffered; reports the first error since the last flush.
    pub fn flush(&mut self) -> Result<(), Errno> {
        let result = write_all(self.fd, &self.buf);
        self.buf.clear();
        match self.error.take() {
            Some(e) => Err(e),
            None => result,
        }
    }
}

impl Write for Writer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Err(e) = self.write_bytes(s.as_bytes()) {
            self.error = Some(e);
            return Err(fmt::Error);
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// An unbuffered `core::fmt::Write` on a file descriptor: every piece is one
/// [`write_all`]. `write!(Fd(2), "x = {x}")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd(pub i32);

impl Write for Fd {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_all(self.0, s.as_bytes()).map_err(|_| fmt::Error)
    }
}

/// A fixed buffer in front of a descriptor: collects formatted output, writes it when
/// full and on [`Buffered::flush`]. Used by the print macros and the panic handler.
pub(crate) struct Buffered {
    fd: i32,
    len: usize,
    buf: [u8; 512],
}

impl Buffered {
    pub(crate) const fn new(fd: i32) -> Buffered {
        Buffered {
            fd,
            len: 0,
            buf: [0; 512],
        }
    }

    /// Writes out what is buffered, ignoring errors.
    pub(crate) fn flush(&mut self) {
        let _ = write_all(self.fd, &self.buf[..self.len]);
        self.len = 0;
    }
}

impl Write for Buffered {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut bytes = s.as_bytes();
        while !bytes.is_empty() {
            if self.len == self.buf.len() {
                self.flush();
            }
            let n = bytes.len().min(self.buf.len() - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&bytes[..n]);
            self.len += n;
            bytes = &bytes[n..];
        }
        Ok(())
    }
}

/// Implementation of the print macros; not for direct use.
#[doc(hidden)]
pub fn _print(fd: i32, args: fmt::Arguments<'_>, newline: bool) {
    let mut out = Buffered::new(fd);
    let _ = out.write_fmt(args);
    if newline {
        let _ = out.write_str("\n");
    }
    out.flush();
}

/// Displays bytes as text: valid UTF-8 as is, each invalid byte as `\xNN`.
#[derive(Clone, Copy, Debug)]
pub struct Lossy<'a>(pub &'a [u8]);

impl fmt::Display for Lossy<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for chunk in self.0.utf8_chunks() {
            f.write_str(chunk.valid())?;
            for byte in chunk.invalid() {
                write!(f, "\\x{byte:02x}")?;
            }
        }
        Ok(())
    }
}

/// Prints to standard output, like `std::print!`.
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDOUT, format_args!($($arg)*), false)
    };
}

/// Prints a line to standard output, like `std::println!`.
#[macro_export]
macro_rules! println {
    () => {
        $crate::io::_print($crate::io::STDOUT, format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDOUT, format_args!($($arg)*), true)
    };
}

/// Prints to standard error, like `std::eprint!`.
#[macro_export]
macro_rules! eprint {
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDERR, format_args!($($arg)*), false)
    };
}

/// Prints a line to standard error, like `std::eprintln!`.
#[macro_export]
macro_rules! eprintln {
    () => {
        $crate::io::_print($crate::io::STDERR, format_args!(""), true)
    };
    ($($arg:tt)*) => {
        $crate::io::_print($crate::io::STDERR, format_args!($($arg)*), true)
    };
}
