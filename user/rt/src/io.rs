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
