//! The console device: output to a sink, input through a reader thread and an interrupt.

mod common;

use common::TestKernel;
use vmspace::devices::Console;
use vmspace::{irq, Trap};

#[test]
fn console_output_lands_in_its_sink() {
    let (mut c, buf) = Console::buffer();
    c.write(b"hello ").unwrap();
    c.write(b"world\n").unwrap();
    assert_eq!(&*buf.lock().unwrap(), b"hello world\n");
}

#[test]
fn console_input_raises_the_console_line_then_reports_eof() {
    let k = TestKernel::new();
    let (c, _) = Console::buffer();
    c.start_input(
        std::io::Cursor::new(b"ls -l\n".to_vec()),
        k.machine.irq_line(irq::CONSOLE),
    );
    let mut got = Vec::new();
    let mut buf = [0u8; 4];
    loop {
        match k.machine.wait_for_interrupt() {
            Trap::Interrupt(irq::CONSOLE) => {}
            Trap::Timer => continue,
            other => panic!("unexpected {other:?}"),
        }
        while let Some(n) = c.read_input(&mut buf) {
            if n == 0 {
                assert_eq!(got, b"ls -l\n");
                return;
            }
            got.extend_from_slice(&buf[..n]);
        }
    }
}
