//! The trap loop: what a process's kernel thread does all its life.
//!
//! [`user_main`] runs the process's user code with `Vmspace::run` and handles each trap:
//! a system call goes to the dispatcher, a page fault to the fault handler, a timer tick to
//! the scheduler (which may preempt), a CPU exception kills the process with the matching
//! signal. A pending kill is acted on each time the loop comes round. [`Ctx`] is what
//! kernel code running on behalf of the process gets: the kernel, the process, and the
//! ability to sleep.

use std::rc::Rc;

use vmspace::{Regs, Trap};

use crate::errno::Errno;
use crate::kernel::{signal, Kernel};
use crate::mm::fault;
use crate::mm::memory::Faulting;
use crate::mm::uaccess::{self, Efault};
use crate::proc::{wait_status, Proc, State};
use crate::sched::kthread::Yielder;
use crate::sched::{Chan, Why};
use crate::syscall::{self, Outcome};

/// Kernel code running on behalf of a process.
pub struct Ctx<'a> {
    /// The kernel.
    pub k: &'a Rc<Kernel>,
    /// The process.
    pub p: &'a Rc<Proc>,
    y: &'a Yielder,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx").field("pid", &self.p.pid).finish()
    }
}

impl Ctx<'_> {
    /// Sleep on `chan` until woken.
    ///
    /// # Errors
    /// `EINTR` when the process is killed (before or while sleeping).
    pub fn sleep(&self, chan: Chan) -> Result<(), Errno> {
        self.sleep_until(chan, None)
    }

    // ANCHOR: sleep
    /// Sleep on `chan` until woken or until machine time `deadline` (ns).
    ///
    /// # Errors
    /// `EINTR` when the process is killed.
    pub fn sleep_until(&self, chan: Chan, deadline: Option<u64>) -> Result<(), Errno> {
        if self.p.killed.get().is_some() {
            return Err(Errno::EINTR);
        }
        self.p.chan.set(Some(chan));
        self.p.wake_at.set(deadline);
        self.p.state.set(State::Sleeping);
        self.y.suspend(());
        self.p.chan.set(None);
        self.p.wake_at.set(None);
        match self.p.killed.get() {
            Some(_) => Err(Errno::EINTR),
            None => Ok(()),
        }
    }
    // ANCHOR_END: sleep

    /// Give up the CPU but stay runnable.
    pub fn yield_cpu(&self, why: Why) {
        self.p.state.set(State::Runnable);
        self.k.sched.borrow_mut().enqueue(self.p.pid, why);
        self.y.suspend(());
    }

    /// Run `f` on the process's memory (faulting pages in as a CPU would).
    pub fn with_mem<R>(&self, f: impl FnOnce(&mut Faulting<'_>) -> R) -> R {
        let mut frames = self.k.frames.borrow_mut();
        let mut mm = self.p.mm.borrow_mut();
        let mm = mm
            .as_mut()
            .expect("Ctx::with_mem: a running process has memory");
        f(&mut Faulting {
            ram: self.k.ram(),
            frames: &mut frames,
            mm,
        })
    }

    // ANCHOR: user-copies
    /// Copy from user memory.
    ///
    /// # Errors
    /// `EFAULT` for a bad pointer.
    pub fn copyin(&self, va: u64, buf: &mut [u8]) -> Result<(), Errno> {
        self.with_mem(|m| uaccess::copyin(m, va, buf))
            .map_err(efault)
    }

    /// Copy to user memory.
    ///
    /// # Errors
    /// `EFAULT` for a bad pointer.
    pub fn copyout(&self, va: u64, data: &[u8]) -> Result<(), Errno> {
        self.with_mem(|m| uaccess::copyout(m, va, data))
            .map_err(efault)
    }
    // ANCHOR_END: user-copies

    /// Copy a NUL-terminated string of at most `max` bytes from user memory.
    ///
    /// # Errors
    /// `EFAULT` for a bad pointer; `ENAMETOOLONG` when there is no NUL within `max`.
    pub fn copyinstr(&self, va: u64, max: usize) -> Result<Vec<u8>, Errno> {
        self.with_mem(|m| uaccess::copyinstr(m, va, max))
            .map_err(|_| {
                // Tell a long string from a bad pointer: is the first byte readable?
                let mut b = [0u8; 1];
                match self.with_mem(|m| uaccess::copyin(m, va, &mut b)) {
                    Ok(()) => Errno::ENAMETOOLONG,
                    Err(_) => Errno::EFAULT,
                }
            })
    }

    /// Check that a user buffer can be written (or read) before doing anything that
    /// cannot be undone, like taking bytes out of a pipe.
    ///
    /// # Errors
    /// `EFAULT` for a bad range.
    pub fn check_user(&self, va: u64, len: usize, write: bool) -> Result<(), Errno> {
        self.with_mem(|m| uaccess::check(m, va, len, write))
            .map_err(efault)
    }

    /// Read a `u64` from user memory.
    ///
    /// # Errors
    /// `EFAULT` for a bad pointer.
    pub fn read_u64(&self, va: u64) -> Result<u64, Errno> {
        self.with_mem(|m| uaccess::read_u64(m, va)).map_err(efault)
    }
}

fn efault(_: Efault) -> Errno {
    Errno::EFAULT
}

// ANCHOR: trap-run
/// The life of a process's kernel thread: run user code and handle its traps until exit.
pub fn user_main(k: &Rc<Kernel>, p: &Rc<Proc>, mut regs: Regs, y: &Yielder) {
    let cx = Ctx { k, p, y };
    loop {
        if let Some(sig) = p.killed.get() {
            k.exit(p, wait_status::signaled(sig));
            return;
        }
        let trap = {
            let mut mm = p.mm.borrow_mut();
            let mm = mm
                .as_mut()
                .expect("user_main: a running process has memory");
            mm.vm.run(&mut regs)
        };
        let trap = match trap {
            Ok(t) => t,
            Err(vmspace::Error::GuestLost { how, .. }) => {
                report(&cx, &regs, &format!("lost its address space ({how})"));
                k.exit(p, wait_status::signaled(signal::SIGKILL));
                return;
            }
            Err(e) => panic!("user_main: the machine failed for pid {}: {e}", p.pid),
        };
        // ANCHOR_END: trap-run
        // ANCHOR: trap-dispatch
        let kill = match trap {
            Trap::Syscall => match syscall::dispatch(&cx, &mut regs) {
                Outcome::Return(v) => {
                    regs.rax = v as u64;
                    continue;
                }
                Outcome::Exec(new_regs) => {
                    regs = new_regs;
                    continue;
                }
                Outcome::Exit(status) => {
                    k.exit(p, status);
                    return;
                }
            },
            Trap::Timer | Trap::Interrupt(_) => {
                if k.interrupt(trap, Some(p.pid)) {
                    cx.yield_cpu(Why::Preempted);
                }
                continue;
            }
            // ANCHOR_END: trap-dispatch
            Trap::PageFault {
                addr,
                access,
                present,
            } => {
                let result = {
                    let mut frames = k.frames.borrow_mut();
                    let mut mm = p.mm.borrow_mut();
                    let mm = mm
                        .as_mut()
                        .expect("user_main: a running process has memory");
                    fault::handle(k.ram(), &mut frames, mm, addr, access, Some(regs.rsp))
                };
                if k.trace.fault {
                    k.trace_line(format_args!(
                        "{}[{}]: fault {addr:#x} {access:?} present={present} -> {result:?}",
                        p.name.borrow(),
                        p.pid
                    ));
                }
                match result {
                    Ok(()) => continue,
                    Err(fault::Segv::OutOfMemory) => {
                        report(&cx, &regs, &format!("out of memory at {addr:#x}"));
                        signal::SIGKILL
                    }
                    Err(fault::Segv::BadAccess) => {
                        let why = if present { "protection" } else { "not present" };
                        report(
                            &cx,
                            &regs,
                            &format!("segmentation fault at {addr:#x} ({access:?}, {why})"),
                        );
                        signal::SIGSEGV
                    }
                }
            }
            // ANCHOR: trap-exceptions
            Trap::GeneralProtection => {
                report(&cx, &regs, "general protection fault");
                signal::SIGSEGV
            }
            Trap::InvalidOpcode => {
                report(&cx, &regs, "illegal instruction");
                signal::SIGILL
            }
            Trap::DivideError => {
                report(&cx, &regs, "divide error");
                signal::SIGFPE
            }
            Trap::Breakpoint => {
                report(&cx, &regs, "breakpoint trap");
                signal::SIGTRAP
            }
        };
        k.exit(p, wait_status::signaled(kill));
        return;
        // ANCHOR_END: trap-exceptions
    }
}

/// Tell the console why a process dies.
fn report(cx: &Ctx<'_>, regs: &Regs, what: &str) {
    let line = format!(
        "vkernel: {}[{}]: {what} at rip={:#x}, killed\n",
        cx.p.name.borrow(),
        cx.p.pid,
        regs.rip
    );
    cx.k.console_write(line.as_bytes());
}
