//! The kernel: boot, the scheduler loop, sleep and wakeup, exit, shutdown.
//!
//! [`Kernel::boot`] builds the machine and the kernel's state, unpacks the initrd into the
//! RAM file system, starts `init` as process 1 and runs [`Kernel::schedule`] until init
//! exits. The scheduler loop picks a runnable process and resumes its kernel thread; the
//! thread runs its trap loop (`trap.rs`) until it sleeps, is preempted or exits, and then
//! control comes back here. When nobody can run, the loop halts in
//! `Machine::wait_for_interrupt`. At shutdown every remaining process is torn down and
//! the kernel reports what leaked, in one line.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::Rc;

use vmspace::devices::Console;
use vmspace::{irq, Machine, MachineConfig, PhysMem, Trap};

use crate::exec::{self, ExecError};
use crate::fs::file::{self as files, FileKind, FileRef};
use crate::fs::ramfs::{RamFs, ROOT_INO};
use crate::mm::frame::FrameAllocator;
use crate::mm::memory::Mm;
use crate::proc::{wait_status, Pid, Proc, ProcTable, State};
use crate::sched::kthread::KThread;
use crate::sched::{Chan, PolicyKind, Why};
use crate::trap;

/// What to trace on stderr.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Trace {
    /// Every system call with its result.
    pub syscall: bool,
    /// Every page fault the kernel handles.
    pub fault: bool,
    /// Every context switch.
    pub sched: bool,
}

/// How to boot.
#[derive(Debug)]
pub struct BootConfig {
    /// RAM in bytes.
    pub memory: u64,
    /// Timer frequency.
    pub hz: u32,
    /// Tick on guest CPU time.
    pub virtual_time: bool,
    /// What to trace.
    pub trace: Trace,
    /// The initrd (a cpio "newc" archive).
    pub initrd: Vec<u8>,
    /// `init`'s argv: the program path first.
    pub init: Vec<Vec<u8>>,
    /// `init`'s environment.
    pub env: Vec<Vec<u8>>,
    /// Where console output goes.
    pub console: Console,
    /// Read console input from stdin.
    pub stdin_input: bool,
    /// The console is a terminal (terminal `ioctl`s succeed on it, so shells prompt).
    pub console_is_tty: bool,
    /// The scheduling policy.
    pub policy: PolicyKind,
    /// Most processes at once.
    pub max_procs: usize,
    /// Wall-clock time at boot (ns since the Unix epoch), for `CLOCK_REALTIME`.
    pub boot_realtime_ns: u64,
}

/// Why the kernel could not boot.
#[derive(Debug)]
pub enum KernelError {
    /// The machine could not be built (host trouble).
    Machine(vmspace::Error),
    /// The initrd is not a valid archive.
    Initrd(String),
    /// `init` could not be started.
    Init(String),
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::Machine(e) => write!(f, "machine: {e}"),
            KernelError::Initrd(e) => write!(f, "initrd: {e}"),
            KernelError::Init(e) => write!(f, "cannot start init: {e}"),
        }
    }
}

impl std::error::Error for KernelError {}

/// What was left over at shutdown (all zero in a correct kernel).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leaks {
    /// Frames still allocated.
    pub frames: usize,
    /// Processes still in the table.
    pub procs: usize,
    /// Open-file objects still alive.
    pub files: usize,
}

impl fmt::Display for Leaks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "leaks: frames={} procs={} files={}",
            self.frames, self.procs, self.files
        )
    }
}

// ANCHOR: kernel-state
/// The kernel's state, shared by the scheduler and every kernel thread.
#[derive(Debug)]
pub struct Kernel {
    /// The machine.
    pub machine: Machine,
    /// Physical frames.
    pub frames: RefCell<FrameAllocator>,
    /// Processes.
    pub procs: RefCell<ProcTable>,
    /// The run queue.
    pub sched: RefCell<Box<dyn crate::sched::Policy>>,
    /// The RAM file system.
    pub fs: RefCell<RamFs>,
    /// The console device.
    pub console: RefCell<Console>,
    /// Tracing switches.
    pub trace: Trace,
    /// Set when init exits: the kernel's exit code.
    pub shutdown: Cell<Option<i32>>,
    /// Wall-clock time at boot.
    pub boot_realtime_ns: u64,
    /// The console is a terminal.
    pub console_is_tty: bool,
}
// ANCHOR_END: kernel-state

impl Kernel {
    // ANCHOR: boot
    /// Boot: build the machine, unpack the initrd, start init and schedule until it exits.
    /// Returns init's exit code (128 + signal if it was killed) and the leak report.
    ///
    /// # Errors
    /// [`KernelError`] when the machine, the initrd or init cannot be set up.
    pub fn boot(cfg: BootConfig) -> Result<(i32, Leaks), KernelError> {
        let machine = Machine::new(MachineConfig {
            ram_bytes: cfg.memory,
            hz: cfg.hz,
            virtual_time: cfg.virtual_time,
            ..MachineConfig::default()
        })
        .map_err(KernelError::Machine)?;
        let fs = RamFs::from_cpio(&cfg.initrd).map_err(|e| KernelError::Initrd(e.to_string()))?;
        if cfg.stdin_input {
            cfg.console
                .start_input(std::io::stdin(), machine.irq_line(irq::CONSOLE));
        }
        let frames = FrameAllocator::new(machine.ram().frames());
        let k = Rc::new(Kernel {
            machine,
            frames: RefCell::new(frames),
            procs: RefCell::new(ProcTable::new(cfg.max_procs)),
            sched: RefCell::new(cfg.policy.build()),
            fs: RefCell::new(fs),
            console: RefCell::new(cfg.console),
            trace: cfg.trace,
            shutdown: Cell::new(None),
            boot_realtime_ns: cfg.boot_realtime_ns,
            console_is_tty: cfg.console_is_tty,
        });
        k.start_init(&cfg.init, &cfg.env)
            .map_err(KernelError::Init)?;
        let code = k.schedule();
        let leaks = k.teardown_all();
        Ok((code, leaks))
    }
    // ANCHOR_END: boot

    /// RAM.
    pub fn ram(&self) -> &PhysMem {
        self.machine.ram()
    }

    /// Write bytes to the console (a closed stdout is ignored).
    pub fn console_write(&self, bytes: &[u8]) {
        let _ = self.console.borrow_mut().write(bytes);
    }

    /// Print a trace line on stderr.
    pub fn trace_line(&self, line: fmt::Arguments<'_>) {
        eprintln!("trace: {line}");
    }

    /// Create process 1 from `argv[0]` in the initrd.
    fn start_init(self: &Rc<Self>, argv: &[Vec<u8>], env: &[Vec<u8>]) -> Result<(), String> {
        let path = argv.first().ok_or("no init program given")?;
        let shown = String::from_utf8_lossy(path).into_owned();
        let bytes = self
            .read_whole_file(ROOT_INO, path)
            .map_err(|e| format!("{shown}: {e}"))?;
        let random = crate::syscall::proc::random_bytes(self.machine.now() ^ 0x1357);
        let image = exec::load(
            self.ram(),
            &mut self.frames.borrow_mut(),
            &bytes,
            argv,
            env,
            random,
        )
        .map_err(|e: ExecError| format!("{shown}: {e}"))?;
        let vm = match self.machine.create_vmspace() {
            Ok(vm) => vm,
            Err(e) => {
                image
                    .space
                    .teardown(self.ram(), &mut self.frames.borrow_mut());
                return Err(e.to_string());
            }
        };
        // ANCHOR: init-process
        let pid = self
            .procs
            .borrow_mut()
            .alloc_pid()
            .ok_or("process table full")?;
        let p = Rc::new(Proc::new(
            pid,
            0,
            &crate::syscall::proc::base_name(path),
            ROOT_INO,
        ));
        let regs = image.regs.clone();
        *p.mm.borrow_mut() = Some(Mm::install(image, vm));
        *p.files.borrow_mut() = files::FdTable::new();
        for _ in 0..3 {
            let console = files::OpenFile::new(FileKind::Console, true, true, false);
            p.files
                .borrow_mut()
                .alloc(console, false)
                .map_err(|e| e.to_string())?;
        }
        self.spawn(p, regs);
        // ANCHOR_END: init-process
        Ok(())
    }

    // ANCHOR: spawn
    /// Give `p` a kernel thread starting its trap loop with `regs`, and make it runnable.
    pub fn spawn(self: &Rc<Self>, p: Rc<Proc>, regs: vmspace::Regs) {
        let k = self.clone();
        let p2 = p.clone();
        *p.thread.borrow_mut() = Some(KThread::spawn(move |y| trap::user_main(&k, &p2, regs, y)));
        p.state.set(State::Runnable);
        self.procs.borrow_mut().insert(p.clone());
        self.sched.borrow_mut().enqueue(p.pid, Why::New);
    }
    // ANCHOR_END: spawn

    /// Read a whole file (for exec).
    pub fn read_whole_file(
        &self,
        cwd: crate::fs::ramfs::Ino,
        path: &[u8],
    ) -> Result<Vec<u8>, crate::errno::Errno> {
        let fs = self.fs.borrow();
        let ino = fs.resolve(cwd, path)?;
        let st = fs.stat(ino)?;
        if st.kind == crate::fs::ramfs::FileType::Directory {
            return Err(crate::errno::Errno::EACCES);
        }
        let mut buf = vec![0u8; st.size as usize];
        let n = fs.read(ino, 0, &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    // ANCHOR: scheduler-loop
    /// The scheduler loop: run processes until init exits; returns init's exit code.
    fn schedule(self: &Rc<Self>) -> i32 {
        loop {
            if let Some(code) = self.shutdown.get() {
                return code;
            }
            let next = self.sched.borrow_mut().pick();
            let Some(pid) = next else {
                let t = self.machine.wait_for_interrupt();
                self.interrupt(t, None);
                continue;
            };
            let Some(p) = self.procs.borrow().get(pid) else {
                continue;
            };
            if p.state.get() != State::Runnable {
                continue;
            }
            p.state.set(State::Running);
            if self.trace.sched {
                self.trace_line(format_args!("switch to {}[{pid}]", p.name.borrow()));
            }
            let mut thread = p
                .thread
                .borrow_mut()
                .take()
                .expect("schedule: a runnable process has a kernel thread");
            if !thread.resume() {
                *p.thread.borrow_mut() = Some(thread);
            }
        }
    }
    // ANCHOR_END: scheduler-loop

    // ANCHOR: sched-interrupt
    /// Handle a timer tick or device interrupt; `running` is the interrupted process.
    /// Returns `true` when that process should give up the CPU.
    pub fn interrupt(&self, t: Trap, running: Option<Pid>) -> bool {
        match t {
            Trap::Timer => {
                self.wake_expired();
                match running {
                    Some(pid) => {
                        if let Some(p) = self.procs.borrow().get(pid) {
                            p.ticks.set(p.ticks.get() + 1);
                        }
                        self.sched.borrow_mut().tick(pid)
                    }
                    None => false,
                }
            }
            Trap::Interrupt(irq::CONSOLE) => {
                self.wakeup(Chan::Console);
                false
            }
            _ => false,
        }
    }
    // ANCHOR_END: sched-interrupt

    // ANCHOR: sched-wakeup
    /// Make every process sleeping on `chan` runnable.
    pub fn wakeup(&self, chan: Chan) {
        let procs = self.procs.borrow().all();
        for p in procs {
            if p.state.get() == State::Sleeping && p.chan.get() == Some(chan) {
                self.make_runnable(&p);
            }
        }
    }

    /// Wake the sleepers whose deadline has passed.
    fn wake_expired(&self) {
        let now = self.machine.now();
        let procs = self.procs.borrow().all();
        for p in procs {
            if p.state.get() == State::Sleeping && p.wake_at.get().is_some_and(|t| t <= now) {
                self.make_runnable(&p);
            }
        }
    }

    /// Sleeping → runnable.
    pub fn make_runnable(&self, p: &Proc) {
        p.state.set(State::Runnable);
        self.sched.borrow_mut().enqueue(p.pid, Why::Woken);
    }
    // ANCHOR_END: sched-wakeup

    /// Drop a reference to an open file; when it was the last one, release the inode and
    /// wake whoever waits on a pipe end that just closed.
    pub fn release_file(&self, f: FileRef) {
        let last = Rc::strong_count(&f) == 1;
        let (inode, pipe) = {
            let of = f.borrow();
            let pipe = match &of.kind {
                FileKind::PipeReader(p) | FileKind::PipeWriter(p) => Some(p.borrow().id()),
                _ => None,
            };
            (of.inode(), pipe)
        };
        drop(f);
        if last {
            if let Some(ino) = inode {
                // The inode may already be gone if the file system was reset; nothing to do.
                let _ = self.fs.borrow_mut().release(ino);
            }
            if let Some(id) = pipe {
                self.wakeup(Chan::Pipe(id));
            }
        }
    }

    // ANCHOR: kernel-exit
    /// End process `p` with wait status `status`: free its memory and files, hand its
    /// children to init, wake its parent. The caller's kernel thread must return next.
    pub fn exit(&self, p: &Rc<Proc>, status: i32) {
        let open = p.files.borrow_mut().take_all();
        for f in open {
            self.release_file(f);
        }
        let mm = p.mm.borrow_mut().take();
        if let Some(mm) = mm {
            mm.teardown(self.ram(), &mut self.frames.borrow_mut());
        }
        let children = self.procs.borrow().children(p.pid);
        for c in children {
            c.parent.set(1);
            if c.state.get() == State::Zombie {
                self.wakeup(Chan::Child(1));
            }
        }
        p.status.set(status);
        p.state.set(State::Zombie);
        self.sched.borrow_mut().remove(p.pid);
        self.wakeup(Chan::Child(p.parent.get()));
        if p.pid == 1 {
            self.shutdown.set(Some(exit_code(status)));
        }
    }
    // ANCHOR_END: kernel-exit

    /// Tear down every process left at shutdown and count what leaked.
    fn teardown_all(&self) -> Leaks {
        let procs = self.procs.borrow().all();
        for p in &procs {
            // Dropping a suspended kernel thread unwinds its stack.
            let thread = p.thread.borrow_mut().take();
            drop(thread);
            if p.state.get() != State::Zombie {
                self.exit(p, wait_status::signaled(crate::kernel::signal::SIGKILL));
            }
        }
        for p in procs {
            self.procs.borrow_mut().remove(p.pid);
        }
        Leaks {
            frames: self.frames.borrow().in_use(),
            procs: self.procs.borrow().len(),
            files: files::open_files_alive(),
        }
    }
}

// ANCHOR: exit-code
/// A wait status as a process exit code: the code, or 128 + the signal.
pub fn exit_code(status: i32) -> i32 {
    if status & 0x7f == 0 {
        (status >> 8) & 0xff
    } else {
        128 + (status & 0x7f)
    }
}
// ANCHOR_END: exit-code

/// Signal numbers (Linux values).
pub mod signal {
    /// Hang up.
    pub const SIGHUP: i32 = 1;
    /// Interrupt.
    pub const SIGINT: i32 = 2;
    /// Illegal instruction.
    pub const SIGILL: i32 = 4;
    /// Breakpoint trap.
    pub const SIGTRAP: i32 = 5;
    /// Arithmetic error.
    pub const SIGFPE: i32 = 8;
    /// Kill (cannot be caught).
    pub const SIGKILL: i32 = 9;
    /// Bad memory access.
    pub const SIGSEGV: i32 = 11;
    /// Termination request.
    pub const SIGTERM: i32 = 15;
}
