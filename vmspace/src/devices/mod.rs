//! The host side of the machine's devices; the drivers live in the kernel.
//!
//! Each device touches only RAM and its own state, and tells the kernel about completed
//! work by raising its [`IrqLine`](crate::IrqLine). No device thread ever touches kernel
//! state.

pub mod console;

pub use console::Console;
