//! Pipes: a bounded byte queue between writers and readers.
//!
//! A [`Pipe`] is the buffer behind `pipe2`: bytes written at one end come out of the
//! other in order. It counts its readers and writers (each pipe-end open file of
//! `file.rs` owns one count and gives it back when dropped), because the counts decide
//! what an empty or full pipe means:
//!
//! | situation                        | `read`        | `write`        |
//! |----------------------------------|---------------|----------------|
//! | data / room available            | `Ok(n)`       | `Ok(n)`        |
//! | empty, writers remain            | `Err(EAGAIN)` |                |
//! | empty, no writers (end of file)  | `Ok(0)`       |                |
//! | full, readers remain             |               | `Err(EAGAIN)`  |
//! | no readers                       |               | `Err(EPIPE)`   |
//!
//! Nothing here blocks: `EAGAIN` tells the system-call layer to put the process to
//! sleep on the pipe's [`Pipe::id`] and retry once the other end has moved.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::errno::Errno;

/// Bytes a pipe holds before writers must wait (Linux's default is 64 KiB).
pub const PIPE_CAPACITY: usize = 16 * 1024;

/// The next pipe identifier, shared by every pipe of the process.
static NEXT_PIPE_ID: AtomicU64 = AtomicU64::new(1);

/// A pipe's buffer and the number of open ends of each kind.
#[derive(Debug)]
pub struct Pipe {
    buffer: VecDeque<u8>,
    readers: usize,
    writers: usize,
    id: u64,
}

impl Default for Pipe {
    fn default() -> Self {
        Pipe::new()
    }
}

impl Pipe {
    /// An empty pipe with one reader and one writer: the two ends `pipe2` returns.
    pub fn new() -> Pipe {
        Pipe {
            buffer: VecDeque::new(),
            readers: 1,
            writers: 1,
            id: NEXT_PIPE_ID.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// A number no other pipe of this process has: a name to sleep and wake on.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Move up to `buf.len()` bytes out of the pipe; returns how many, 0 at end of file
    /// (empty and no writers left) or when `buf` is empty.
    ///
    /// # Errors
    /// `EAGAIN` when the pipe is empty but a writer may still add to it.
    pub fn read(&mut self, buf: &mut [u8]) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.buffer.is_empty() {
            return if self.writers == 0 {
                Ok(0)
            } else {
                Err(Errno::EAGAIN)
            };
        }
        let count = buf.len().min(self.buffer.len());
        for (slot, byte) in buf.iter_mut().zip(self.buffer.drain(..count)) {
            *slot = byte;
        }
        Ok(count)
    }

    /// Add as much of `data` as fits; returns how many bytes (0 for empty `data`).
    ///
    /// # Errors
    /// `EPIPE` when no reader is left (the caller also sends `SIGPIPE`), `EAGAIN` when
    /// the pipe is full.
    pub fn write(&mut self, data: &[u8]) -> Result<usize, Errno> {
        if data.is_empty() {
            return Ok(0);
        }
        if self.readers == 0 {
            return Err(Errno::EPIPE);
        }
        let count = data.len().min(PIPE_CAPACITY - self.buffer.len());
        if count == 0 {
            return Err(Errno::EAGAIN);
        }
        self.buffer.extend(&data[..count]);
        Ok(count)
    }

    /// Bytes waiting to be read.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether no bytes are waiting.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Open read ends.
    pub fn readers(&self) -> usize {
        self.readers
    }

    /// Open write ends.
    pub fn writers(&self) -> usize {
        self.writers
    }

    /// Count one more open read end.
    pub fn add_reader(&mut self) {
        self.readers += 1;
    }

    /// Count one more open write end.
    pub fn add_writer(&mut self) {
        self.writers += 1;
    }

    /// Count one read end fewer.
    ///
    /// # Panics
    /// If no read end is open (ends are dropped more often than added: a kernel bug).
    pub fn drop_reader(&mut self) {
        assert!(
            self.readers > 0,
            "Pipe::drop_reader: pipe {} has no reader",
            self.id
        );
        self.readers -= 1;
    }

    /// Count one write end fewer.
    ///
    /// # Panics
    /// If no write end is open (a kernel bug).
    pub fn drop_writer(&mut self) {
        assert!(
            self.writers > 0,
            "Pipe::drop_writer: pipe {} has no writer",
            self.id
        );
        self.writers -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_pipe_has_one_end_of_each_kind() {
        let pipe = Pipe::new();
        assert_eq!((pipe.readers(), pipe.writers(), pipe.len()), (1, 1, 0));
        assert!(pipe.is_empty());
        assert_ne!(pipe.id(), Pipe::new().id());
    }

    #[test]
    fn bytes_come_out_in_order() {
        let mut pipe = Pipe::new();
        assert_eq!(pipe.write(b"hello "), Ok(6));
        assert_eq!(pipe.write(b"world"), Ok(5));
        let mut buf = [0; 8];
        assert_eq!(pipe.read(&mut buf), Ok(8));
        assert_eq!(&buf, b"hello wo");
        assert_eq!(pipe.read(&mut buf), Ok(3));
        assert_eq!(&buf[..3], b"rld");
    }

    #[test]
    fn an_empty_pipe_with_writers_would_block() {
        let mut pipe = Pipe::new();
        assert_eq!(pipe.read(&mut [0; 4]), Err(Errno::EAGAIN));
        assert_eq!(pipe.read(&mut []), Ok(0));
    }

    #[test]
    fn an_empty_pipe_without_writers_is_at_end_of_file() {
        let mut pipe = Pipe::new();
        pipe.write(b"last").unwrap();
        pipe.drop_writer();
        let mut buf = [0; 8];
        assert_eq!(pipe.read(&mut buf), Ok(4), "data written before the close");
        assert_eq!(pipe.read(&mut buf), Ok(0));
        assert_eq!(pipe.read(&mut buf), Ok(0));
    }

    #[test]
    fn writing_without_readers_is_a_broken_pipe() {
        let mut pipe = Pipe::new();
        pipe.drop_reader();
        assert_eq!(pipe.write(b"x"), Err(Errno::EPIPE));
        assert_eq!(pipe.write(b""), Ok(0));
        pipe.add_reader();
        assert_eq!(pipe.write(b"x"), Ok(1));
    }

    #[test]
    fn a_full_pipe_takes_what_fits_then_would_block() {
        let mut pipe = Pipe::new();
        let big = [7u8; PIPE_CAPACITY + 100];
        assert_eq!(pipe.write(&big), Ok(PIPE_CAPACITY));
        assert_eq!(pipe.write(b"x"), Err(Errno::EAGAIN));
        assert_eq!(pipe.write(b""), Ok(0));
        assert_eq!(pipe.read(&mut [0; 10]), Ok(10));
        assert_eq!(pipe.write(&big), Ok(10));
        assert_eq!(pipe.len(), PIPE_CAPACITY);
    }

    #[test]
    fn counts_follow_the_ends() {
        let mut pipe = Pipe::new();
        pipe.add_reader();
        pipe.add_writer();
        pipe.add_writer();
        pipe.drop_writer();
        assert_eq!((pipe.readers(), pipe.writers()), (2, 2));
    }

    #[test]
    #[should_panic(expected = "Pipe::drop_reader")]
    fn dropping_a_reader_that_is_not_there_is_a_bug() {
        let mut pipe = Pipe::new();
        pipe.drop_reader();
        pipe.drop_reader();
    }
}
