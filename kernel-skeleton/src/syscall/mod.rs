//! System calls: the table of Linux x86-64 numbers the kernel serves, and the dispatcher.
//!
//! [`dispatch`] reads the number from `rax` and the arguments from `rdi, rsi, rdx, r10,
//! r8, r9`, calls the handler and returns what goes back into `rax`: a value, or `-errno`.
//! A number the kernel does not serve gets `-ENOSYS` (and a line under `--trace syscall`).
//! The handlers live by subject: `proc.rs` (processes), `mem.rs` (memory), `file.rs`
//! (files and pipes), `time.rs` (clocks and sleeping).

pub mod file;
pub mod mem;
pub mod proc;
pub mod time;

use vmspace::Regs;

use crate::errno::Errno;
use crate::trap::Ctx;

/// Linux x86-64 system call numbers served here.
pub mod nr {
    #![allow(missing_docs)]
    pub const READ: u64 = 0;
    pub const WRITE: u64 = 1;
    pub const CLOSE: u64 = 3;
    pub const FSTAT: u64 = 5;
    pub const LSEEK: u64 = 8;
    pub const MMAP: u64 = 9;
    pub const MPROTECT: u64 = 10;
    pub const MUNMAP: u64 = 11;
    pub const BRK: u64 = 12;
    pub const IOCTL: u64 = 16;
    pub const READV: u64 = 19;
    pub const WRITEV: u64 = 20;
    pub const SCHED_YIELD: u64 = 24;
    pub const DUP: u64 = 32;
    pub const DUP2: u64 = 33;
    pub const NANOSLEEP: u64 = 35;
    pub const GETPID: u64 = 39;
    pub const CLONE: u64 = 56;
    pub const FORK: u64 = 57;
    pub const VFORK: u64 = 58;
    pub const EXECVE: u64 = 59;
    pub const EXIT: u64 = 60;
    pub const WAIT4: u64 = 61;
    pub const KILL: u64 = 62;
    pub const UNAME: u64 = 63;
    pub const GETCWD: u64 = 79;
    pub const CHDIR: u64 = 80;
    pub const GETPPID: u64 = 110;
    pub const ARCH_PRCTL: u64 = 158;
    pub const GETDENTS64: u64 = 217;
    pub const CLOCK_GETTIME: u64 = 228;
    pub const EXIT_GROUP: u64 = 231;
    pub const OPENAT: u64 = 257;
    pub const MKDIRAT: u64 = 258;
    pub const NEWFSTATAT: u64 = 262;
    pub const UNLINKAT: u64 = 263;
    pub const DUP3: u64 = 292;
    pub const PIPE2: u64 = 293;
    /// vkernel-specific: `vk_procs(buf, len)`, the process list as text (for `ps`).
    pub const VK_PROCS: u64 = 1000;
    /// vkernel-specific: `vk_ptdump(buf, len)`, the caller's page table as text.
    pub const VK_PTDUMP: u64 = 1001;
    /// vkernel-specific: `vk_allocs()`, frames allocated since boot.
    pub const VK_ALLOCS: u64 = 1002;
}

// ANCHOR: outcome
/// What the trap loop does after a system call.
#[derive(Debug)]
pub enum Outcome {
    /// Put this value in `rax` and keep running.
    Return(i64),
    /// `execve` succeeded: run the new program with these registers.
    Exec(Regs),
    /// The process exits with this wait status.
    Exit(i32),
}

/// A handler's result: a value for `rax`, or an error.
pub type SysResult = Result<i64, Errno>;
// ANCHOR_END: outcome

// ANCHOR: dispatch-start
/// Serve the system call in `regs`.
pub fn dispatch(cx: &Ctx<'_>, regs: &mut Regs) -> Outcome {
    let number = regs.rax;
    let a = regs.syscall_args();
    let result = match number {
        nr::READ => file::read(cx, a[0], a[1], a[2]),
        nr::WRITE => file::write(cx, a[0], a[1], a[2]),
        nr::CLOSE => file::close(cx, a[0]),
        // ANCHOR_END: dispatch-start
        nr::FSTAT => file::fstat(cx, a[0], a[1]),
        nr::LSEEK => file::lseek(cx, a[0], a[1], a[2]),
        nr::MMAP => mem::mmap(cx, a[0], a[1], a[2], a[3], a[4], a[5]),
        nr::MPROTECT => mem::mprotect(cx, a[0], a[1], a[2]),
        nr::MUNMAP => mem::munmap(cx, a[0], a[1]),
        nr::BRK => mem::brk(cx, a[0]),
        nr::IOCTL => file::ioctl(cx, a[0], a[1], a[2]),
        nr::READV => file::readv(cx, a[0], a[1], a[2]),
        nr::WRITEV => file::writev(cx, a[0], a[1], a[2]),
        nr::SCHED_YIELD => proc::sched_yield(cx),
        nr::DUP => file::dup(cx, a[0]),
        nr::DUP2 => file::dup2(cx, a[0], a[1]),
        nr::NANOSLEEP => time::nanosleep(cx, a[0], a[1]),
        nr::GETPID => proc::getpid(cx),
        nr::CLONE => proc::clone(cx, regs, a[0], a[1]),
        nr::FORK | nr::VFORK => proc::fork(cx, regs),
        // ANCHOR: dispatch-exec-exit
        nr::EXECVE => match proc::execve(cx, regs, a[0], a[1], a[2]) {
            Ok(new_regs) => return trace_outcome(cx, number, &a, Outcome::Exec(new_regs)),
            Err(e) => Err(e),
        },
        nr::EXIT | nr::EXIT_GROUP => {
            let status = proc::exit(a[0]);
            return trace_outcome(cx, number, &a, Outcome::Exit(status));
        }
        // ANCHOR_END: dispatch-exec-exit
        nr::WAIT4 => proc::wait4(cx, a[0], a[1], a[2]),
        nr::KILL => proc::kill(cx, a[0], a[1]),
        nr::UNAME => proc::uname(cx, a[0]),
        nr::GETCWD => file::getcwd(cx, a[0], a[1]),
        nr::CHDIR => file::chdir(cx, a[0]),
        nr::GETPPID => proc::getppid(cx),
        nr::ARCH_PRCTL => proc::arch_prctl(cx, regs, a[0], a[1]),
        nr::GETDENTS64 => file::getdents64(cx, a[0], a[1], a[2]),
        nr::CLOCK_GETTIME => time::clock_gettime(cx, a[0], a[1]),
        nr::OPENAT => file::openat(cx, a[0], a[1], a[2], a[3]),
        nr::MKDIRAT => file::mkdirat(cx, a[0], a[1], a[2]),
        nr::NEWFSTATAT => file::newfstatat(cx, a[0], a[1], a[2], a[3]),
        nr::UNLINKAT => file::unlinkat(cx, a[0], a[1], a[2]),
        nr::DUP3 => file::dup3(cx, a[0], a[1], a[2]),
        nr::PIPE2 => file::pipe2(cx, a[0], a[1]),
        // ANCHOR: dispatch-end
        nr::VK_PROCS => proc::vk_procs(cx, a[0], a[1]),
        nr::VK_PTDUMP => mem::vk_ptdump(cx, a[0], a[1]),
        nr::VK_ALLOCS => mem::vk_allocs(cx),
        _ => Err(Errno::ENOSYS),
    };
    let value = result.unwrap_or_else(Errno::as_return);
    trace_outcome(cx, number, &a, Outcome::Return(value))
}
// ANCHOR_END: dispatch-end

/// The name of a system call, for traces.
pub fn name(number: u64) -> Option<&'static str> {
    Some(match number {
        nr::READ => "read",
        nr::WRITE => "write",
        nr::CLOSE => "close",
        nr::FSTAT => "fstat",
        nr::LSEEK => "lseek",
        nr::MMAP => "mmap",
        nr::MPROTECT => "mprotect",
        nr::MUNMAP => "munmap",
        nr::BRK => "brk",
        nr::IOCTL => "ioctl",
        nr::READV => "readv",
        nr::WRITEV => "writev",
        nr::SCHED_YIELD => "sched_yield",
        nr::DUP => "dup",
        nr::DUP2 => "dup2",
        nr::NANOSLEEP => "nanosleep",
        nr::GETPID => "getpid",
        nr::CLONE => "clone",
        nr::FORK => "fork",
        nr::VFORK => "vfork",
        nr::EXECVE => "execve",
        nr::EXIT => "exit",
        nr::WAIT4 => "wait4",
        nr::KILL => "kill",
        nr::UNAME => "uname",
        nr::GETCWD => "getcwd",
        nr::CHDIR => "chdir",
        nr::GETPPID => "getppid",
        nr::ARCH_PRCTL => "arch_prctl",
        nr::GETDENTS64 => "getdents64",
        nr::CLOCK_GETTIME => "clock_gettime",
        nr::EXIT_GROUP => "exit_group",
        nr::OPENAT => "openat",
        nr::MKDIRAT => "mkdirat",
        nr::NEWFSTATAT => "newfstatat",
        nr::UNLINKAT => "unlinkat",
        nr::DUP3 => "dup3",
        nr::PIPE2 => "pipe2",
        nr::VK_PROCS => "vk_procs",
        nr::VK_PTDUMP => "vk_ptdump",
        nr::VK_ALLOCS => "vk_allocs",
        _ => return None,
    })
}

fn trace_outcome(cx: &Ctx<'_>, number: u64, a: &[u64; 6], outcome: Outcome) -> Outcome {
    if cx.k.trace.syscall {
        let who = format!("{}[{}]", cx.p.name.borrow(), cx.p.pid);
        let result = match &outcome {
            Outcome::Return(v) if *v < 0 && *v > -4096 => format!("-{}", Errno(-*v as i32).name()),
            Outcome::Return(v) => format!("{v:#x}"),
            Outcome::Exec(_) => "0 (exec)".into(),
            Outcome::Exit(s) => format!("exit status {s:#x}"),
        };
        match name(number) {
            Some(n) => cx.k.trace_line(format_args!(
                "{who}: {n}({:#x}, {:#x}, {:#x}, {:#x}) = {result}",
                a[0], a[1], a[2], a[3]
            )),
            None => cx.k.trace_line(format_args!(
                "{who}: unknown system call {number} -> ENOSYS"
            )),
        }
    }
    outcome
}
