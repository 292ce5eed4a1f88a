//! The kernel proper: boot, the process, and the trap loop.
//!
//! [`Kernel::new`] builds the machine (RAM, timer) and the kernel's own state (the frame
//! allocator, the console). [`Kernel::run`] execs a program in a fresh address space and
//! runs the trap loop: `Vmspace::run` until a trap, handle it (a system call, a fault that
//! kills the process, a timer tick), repeat, until the process exits. Then the address
//! space is torn down and the frames are counted, so a leak shows at once.

use std::fmt;

use vmspace::devices::Console;
use vmspace::{Machine, MachineConfig, PhysMem, Regs, Trap, Vmspace};

use crate::exec::{self, ExecError};
use crate::mm::frame::FrameAllocator;
use crate::mm::space::AddressSpace;
use crate::syscall::{self, Outcome};

/// Signal numbers used in exit statuses (Linux values).
pub mod signal {
    /// Illegal instruction.
    pub const SIGILL: i32 = 4;
    /// Breakpoint trap.
    pub const SIGTRAP: i32 = 5;
    /// Arithmetic error.
    pub const SIGFPE: i32 = 8;
    /// Killed.
    pub const SIGKILL: i32 = 9;
    /// Bad memory access.
    pub const SIGSEGV: i32 = 11;
}

/// How the kernel is set up.
#[derive(Debug)]
pub struct Config {
    /// RAM in bytes.
    pub memory: u64,
    /// Timer frequency.
    pub hz: u32,
    /// Tick on guest CPU time.
    pub virtual_time: bool,
    /// Print a line per system call to stderr.
    pub trace_syscalls: bool,
    /// Where console output goes.
    pub console: Console,
}

/// Why the kernel could not run a program.
#[derive(Debug)]
pub enum KernelError {
    /// The machine could not be built or failed (host trouble).
    Machine(vmspace::Error),
    /// The program was refused.
    Exec(ExecError),
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KernelError::Machine(e) => write!(f, "machine: {e}"),
            KernelError::Exec(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for KernelError {}

impl From<vmspace::Error> for KernelError {
    fn from(e: vmspace::Error) -> Self {
        KernelError::Machine(e)
    }
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// It called `exit` with this status.
    Exited(i32),
    /// The kernel killed it with this signal.
    Killed(i32),
}

impl ExitStatus {
    /// The status as a host exit code: the status itself, or 128 + the signal.
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Exited(s) => s,
            ExitStatus::Killed(sig) => 128 + sig,
        }
    }
}

/// A running program.
#[derive(Debug)]
pub struct Process {
    /// Process id.
    pub pid: u32,
    /// Its name (the file name of the program).
    pub name: String,
    /// Its memory.
    pub space: AddressSpace,
    /// The machine address space it runs in.
    pub vm: Vmspace,
    /// Its registers.
    pub regs: Regs,
}

/// The kernel.
#[derive(Debug)]
pub struct Kernel {
    machine: Machine,
    frames: FrameAllocator,
    console: Console,
    trace_syscalls: bool,
}

impl Kernel {
    /// Build the machine and the kernel state.
    ///
    /// # Errors
    /// When the host refuses to build the machine.
    pub fn new(cfg: Config) -> Result<Kernel, KernelError> {
        let machine = Machine::new(MachineConfig {
            ram_bytes: cfg.memory,
            hz: cfg.hz,
            virtual_time: cfg.virtual_time,
            ..MachineConfig::default()
        })?;
        let frames = FrameAllocator::new(machine.ram().frames());
        Ok(Kernel {
            machine,
            frames,
            console: cfg.console,
            trace_syscalls: cfg.trace_syscalls,
        })
    }

    /// The machine's RAM.
    pub fn ram(&self) -> &PhysMem {
        self.machine.ram()
    }

    /// Frames in use (0 when nothing runs: anything else is a leak).
    pub fn frames_in_use(&self) -> usize {
        self.frames.in_use()
    }

    /// Write to the console (errors such as a closed stdout are ignored).
    pub fn console_write(&mut self, bytes: &[u8]) {
        let _ = self.console.write(bytes);
    }

    /// Is `--trace syscall` on?
    pub fn tracing_syscalls(&self) -> bool {
        self.trace_syscalls
    }

    /// Print a trace line to stderr when system calls are traced.
    pub fn trace_syscall(&self, line: fmt::Arguments<'_>) {
        if self.trace_syscalls {
            eprintln!("trace: {line}");
        }
    }

    /// Run the program in `bytes` with `argv` and `envp` until it exits.
    ///
    /// # Errors
    /// [`KernelError::Exec`] when the program is refused (nothing is left allocated);
    /// [`KernelError::Machine`] when the machine fails.
    pub fn run(
        &mut self,
        bytes: &[u8],
        argv: &[Vec<u8>],
        envp: &[Vec<u8>],
    ) -> Result<ExitStatus, KernelError> {
        let random = seed_bytes(self.machine.now());
        let image = exec::load(
            self.machine.ram(),
            &mut self.frames,
            bytes,
            argv,
            envp,
            random,
        )
        .map_err(KernelError::Exec)?;
        let vm = match self.machine.create_vmspace() {
            Ok(vm) => vm,
            Err(e) => {
                image.space.teardown(self.machine.ram(), &mut self.frames);
                return Err(e.into());
            }
        };
        let name = argv
            .first()
            .map(|a| {
                String::from_utf8_lossy(a.rsplit(|&b| b == b'/').next().unwrap_or(a)).into_owned()
            })
            .unwrap_or_default();
        let mut p = Process {
            pid: 1,
            name,
            space: image.space,
            vm,
            regs: image.regs,
        };
        p.vm.set_root(p.space.pt.root());
        let status = self.trap_loop(&mut p);
        let Process { space, vm, .. } = p;
        drop(vm);
        space.teardown(self.machine.ram(), &mut self.frames);
        Ok(status?)
    }

    /// Run `p` until it exits.
    fn trap_loop(&mut self, p: &mut Process) -> Result<ExitStatus, vmspace::Error> {
        loop {
            let trap = p.vm.run(&mut p.regs)?;
            let kill = match trap {
                Trap::Syscall => {
                    let mut regs = p.regs.clone();
                    match syscall::dispatch(self, p, &mut regs) {
                        Outcome::Return(v) => {
                            regs.rax = v as u64;
                            p.regs = regs;
                            continue;
                        }
                        Outcome::Exit(status) => return Ok(ExitStatus::Exited(status)),
                    }
                }
                Trap::Timer | Trap::Interrupt(_) => continue,
                Trap::PageFault {
                    addr,
                    access,
                    present,
                } => {
                    let why = if present { "protection" } else { "not present" };
                    self.report(
                        p,
                        &format!("segmentation fault at {addr:#x} ({access:?}, {why})"),
                    );
                    signal::SIGSEGV
                }
                Trap::GeneralProtection => {
                    self.report(p, "general protection fault");
                    signal::SIGSEGV
                }
                Trap::InvalidOpcode => {
                    self.report(p, "illegal instruction");
                    signal::SIGILL
                }
                Trap::DivideError => {
                    self.report(p, "divide error");
                    signal::SIGFPE
                }
                Trap::Breakpoint => {
                    self.report(p, "breakpoint trap");
                    signal::SIGTRAP
                }
            };
            return Ok(ExitStatus::Killed(kill));
        }
    }

    /// Tell the console why a process dies.
    fn report(&mut self, p: &Process, what: &str) {
        let line = format!(
            "vkernel: {}[{}]: {what} at rip={:#x}, killed\n",
            p.name, p.pid, p.regs.rip
        );
        self.console_write(line.as_bytes());
    }
}

/// 16 bytes for `AT_RANDOM` from a seed (splitmix64).
fn seed_bytes(seed: u64) -> [u8; 16] {
    let mut x = seed ^ 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&next().to_le_bytes());
    out[8..].copy_from_slice(&next().to_le_bytes());
    out
}
