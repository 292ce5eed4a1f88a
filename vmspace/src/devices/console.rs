//! vcd, the console: bytes out to the host's stdout (or a log), bytes in from stdin.
//!
//! The kernel's console driver calls [`Console::write`] for output. For input it calls
//! [`Console::start_input`] once with the console's interrupt line; a reader thread then
//! collects stdin and raises the line, and the driver drains bytes with
//! [`Console::read_input`] when `Trap::Interrupt(irq::CONSOLE)` arrives.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use crate::IrqLine;

/// Where console output goes.
#[derive(Debug)]
enum Sink {
    Stdout,
    Buffer(Arc<Mutex<Vec<u8>>>),
    File(std::fs::File),
}

#[derive(Debug, Default)]
struct Input {
    bytes: VecDeque<u8>,
    eof: bool,
}

/// The console device.
#[derive(Debug)]
pub struct Console {
    sink: Sink,
    input: Arc<Mutex<Input>>,
}

impl Console {
    /// A console on the host's stdout.
    pub fn stdout() -> Console {
        Console {
            sink: Sink::Stdout,
            input: Arc::default(),
        }
    }

    /// A console whose output is kept in memory (for tests); returns the buffer too.
    pub fn buffer() -> (Console, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let c = Console {
            sink: Sink::Buffer(buf.clone()),
            input: Arc::default(),
        };
        (c, buf)
    }

    /// A console writing to a file.
    pub fn file(file: std::fs::File) -> Console {
        Console {
            sink: Sink::File(file),
            input: Arc::default(),
        }
    }

    /// Write bytes out (unbuffered: they are visible when this returns).
    ///
    /// # Errors
    /// When the host cannot write (e.g. a closed pipe).
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.sink {
            Sink::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
            Sink::Buffer(b) => {
                b.lock()
                    .expect("console buffer lock")
                    .extend_from_slice(bytes);
                Ok(())
            }
            Sink::File(f) => f.write_all(bytes),
        }
    }

    /// Start reading `source` (usually stdin) on a thread; `line` is raised whenever
    /// bytes (or end of input) arrive.
    pub fn start_input(&self, mut source: impl Read + Send + 'static, line: IrqLine) {
        let input = self.input.clone();
        std::thread::Builder::new()
            .name("vcd-input".into())
            .spawn(move || {
                let mut buf = [0u8; 1024];
                loop {
                    let n = source.read(&mut buf).unwrap_or(0);
                    {
                        let mut inp = input.lock().expect("console input lock");
                        if n == 0 {
                            inp.eof = true;
                        } else {
                            inp.bytes.extend(&buf[..n]);
                        }
                    }
                    line.raise();
                    if n == 0 {
                        return;
                    }
                }
            })
            .expect("spawning the console input thread");
    }

    /// Move up to `buf.len()` received bytes into `buf`. Returns `Some(n)` (`n > 0`),
    /// `Some(0)` at end of input, or `None` when nothing is there yet.
    pub fn read_input(&self, buf: &mut [u8]) -> Option<usize> {
        let mut inp = self.input.lock().expect("console input lock");
        if inp.bytes.is_empty() {
            return inp.eof.then_some(0);
        }
        let n = buf.len().min(inp.bytes.len());
        for (dst, src) in buf.iter_mut().zip(inp.bytes.drain(..n)) {
            *dst = src;
        }
        Some(n)
    }
}
