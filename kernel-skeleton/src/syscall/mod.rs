//! System calls: the Linux x86-64 numbers the kernel serves, and the dispatcher.
//!
//! [`dispatch`] reads the number from `rax` and the arguments from `rdi, rsi, rdx, r10,
//! r8, r9`, serves the call and returns what goes back into `rax`: a value, or `-errno`.
//! A number the kernel does not serve gets `-ENOSYS` (and a line under `--trace syscall`).

use vmspace::Regs;

use crate::kernel::{Kernel, Process};
use crate::mm::uaccess::{copyin, copyout};

/// Linux x86-64 system call numbers served here.
pub mod nr {
    /// `write(fd, buf, count)`.
    pub const WRITE: u64 = 1;
    /// `writev(fd, iov, iovcnt)`.
    pub const WRITEV: u64 = 20;
    /// `getpid()`.
    pub const GETPID: u64 = 39;
    /// `exit(status)`.
    pub const EXIT: u64 = 60;
    /// `arch_prctl(code, addr)`.
    pub const ARCH_PRCTL: u64 = 158;
    /// `exit_group(status)`.
    pub const EXIT_GROUP: u64 = 231;
}

/// Linux errno values used by the kernel.
pub mod errno {
    /// Operation not permitted.
    pub const EPERM: i64 = 1;
    /// Bad file descriptor.
    pub const EBADF: i64 = 9;
    /// Bad address.
    pub const EFAULT: i64 = 14;
    /// Invalid argument.
    pub const EINVAL: i64 = 22;
    /// Function not implemented.
    pub const ENOSYS: i64 = 38;
}

/// What the trap loop should do after a system call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Put this value in `rax` and keep running.
    Return(i64),
    /// The process exits with this status.
    Exit(i32),
}

/// Serve the system call in `regs`.
pub fn dispatch(k: &mut Kernel, p: &mut Process, regs: &mut Regs) -> Outcome {
    let [a0, a1, a2, ..] = regs.syscall_args();
    let result = match regs.rax {
        nr::WRITE => sys_write(k, p, a0, a1, a2),
        nr::WRITEV => sys_writev(k, p, a0, a1, a2),
        nr::GETPID => p.pid as i64,
        nr::EXIT | nr::EXIT_GROUP => return Outcome::Exit(a0 as i32 & 0xff),
        nr::ARCH_PRCTL => sys_arch_prctl(k, p, regs, a0, a1),
        other => {
            k.trace_syscall(format_args!(
                "{}[{}]: unknown system call {other} -> ENOSYS",
                p.name, p.pid
            ));
            -errno::ENOSYS
        }
    };
    if k.tracing_syscalls() && regs.rax != nr::WRITE {
        k.trace_syscall(format_args!(
            "{}[{}]: syscall {}({a0:#x}, {a1:#x}, {a2:#x}) = {result}",
            p.name, p.pid, regs.rax
        ));
    }
    Outcome::Return(result)
}

/// Most bytes one `write` moves (Linux caps a write at the same value).
const MAX_IO: u64 = 0x7fff_f000;

fn sys_write(k: &mut Kernel, p: &mut Process, fd: u64, buf: u64, len: u64) -> i64 {
    if fd != 1 && fd != 2 {
        return -errno::EBADF;
    }
    let len = len.min(MAX_IO);
    let mut done = 0u64;
    let mut chunk = vec![0u8; len.min(64 * 1024) as usize];
    while done < len {
        let n = (len - done).min(chunk.len() as u64) as usize;
        if copyin(k.ram(), &p.space.pt, buf + done, &mut chunk[..n]).is_err() {
            return if done == 0 {
                -errno::EFAULT
            } else {
                done as i64
            };
        }
        k.console_write(&chunk[..n]);
        done += n as u64;
    }
    done as i64
}

fn sys_writev(k: &mut Kernel, p: &mut Process, fd: u64, iov: u64, count: u64) -> i64 {
    if count > 1024 {
        return -errno::EINVAL;
    }
    let mut total = 0i64;
    for i in 0..count {
        let mut entry = [0u8; 16];
        if copyin(k.ram(), &p.space.pt, iov + 16 * i, &mut entry).is_err() {
            return -errno::EFAULT;
        }
        let base = u64::from_le_bytes(entry[..8].try_into().expect("8 bytes"));
        let len = u64::from_le_bytes(entry[8..].try_into().expect("8 bytes"));
        let r = sys_write(k, p, fd, base, len);
        if r < 0 {
            return if total > 0 { total } else { r };
        }
        total += r;
    }
    total
}

fn sys_arch_prctl(k: &mut Kernel, p: &mut Process, regs: &mut Regs, code: u64, addr: u64) -> i64 {
    const ARCH_SET_FS: u64 = 0x1002;
    const ARCH_GET_FS: u64 = 0x1003;
    match code {
        ARCH_SET_FS if addr < vmspace::layout::USER_TOP => {
            regs.fs_base = addr;
            0
        }
        ARCH_SET_FS => -errno::EPERM,
        ARCH_GET_FS => match copyout(k.ram(), &p.space.pt, addr, &regs.fs_base.to_le_bytes()) {
            Ok(()) => 0,
            Err(_) => -errno::EFAULT,
        },
        _ => -errno::EINVAL,
    }
}
