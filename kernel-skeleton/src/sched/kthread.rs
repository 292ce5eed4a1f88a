//! Kernel threads: one stackful coroutine per process.
//!
//! Each process's kernel side (its trap loop and the system calls it makes) runs on a
//! stack of its own, a [`KThread`]. When a system call must wait (for a child, a pipe,
//! the clock) it calls `sleep`, which suspends the coroutine and returns to the
//! scheduler; `wakeup` makes it runnable and a later `resume` continues right after the
//! `sleep`, exactly like xv6's `sleep`/`swtch`. We use the `corosensei` crate for the
//! context switch (a few nanoseconds, on stable Rust, panics propagate to the resumer).

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult};

/// What a kernel thread gets to suspend itself with.
pub type Yielder = corosensei::Yielder<(), ()>;

/// Stack size of a kernel thread.
pub const KSTACK_SIZE: usize = 256 * 1024;

/// A kernel thread.
pub struct KThread {
    co: Coroutine<(), (), (), DefaultStack>,
}

impl std::fmt::Debug for KThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KThread")
            .field("done", &self.co.done())
            .finish()
    }
}

// ANCHOR: kthread
impl KThread {
    /// A thread that will run `body` when first resumed.
    ///
    /// # Panics
    /// When the host cannot allocate the stack.
    pub fn spawn(body: impl FnOnce(&Yielder) + 'static) -> KThread {
        let stack =
            DefaultStack::new(KSTACK_SIZE).expect("KThread::spawn: no memory for a kernel stack");
        KThread {
            co: Coroutine::with_stack(stack, move |y: &Yielder, ()| body(y)),
        }
    }

    /// Run the thread until it suspends (`false`) or finishes (`true`).
    pub fn resume(&mut self) -> bool {
        matches!(self.co.resume(()), CoroutineResult::Return(()))
    }
}
// ANCHOR_END: kthread
