//! Process system calls: `fork`, `execve`, `wait4`, `kill`, `sched_yield`, `uname`,
//! `arch_prctl` and the vkernel's own `vk_procs`.

use std::rc::Rc;

use vmspace::Regs;

use super::SysResult;
use crate::errno::Errno;
use crate::exec::{self, ExecError};
use crate::kernel::signal;
use crate::mm::addr::VirtAddr;
use crate::mm::memory::Mm;
use crate::proc::{Pid, Proc, State};
use crate::sched::{Chan, Why};
use crate::trap::Ctx;

/// The file name part of a path.
pub fn base_name(path: &[u8]) -> String {
    let name = path
        .rsplit(|&b| b == b'/')
        .find(|s| !s.is_empty())
        .unwrap_or(path);
    String::from_utf8_lossy(name).into_owned()
}

/// 16 bytes for `AT_RANDOM` from a seed (splitmix64).
pub fn random_bytes(seed: u64) -> [u8; 16] {
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

/// `fork()`: a child with a copy-on-write copy of the memory and the same open files.
/// Returns the child's pid to the parent; the child sees 0.
///
/// # Errors
/// `EAGAIN` when the process table is full; `ENOMEM` when memory runs out.
// ANCHOR: fork-start
pub fn fork(cx: &Ctx<'_>, regs: &Regs) -> SysResult {
    let k = cx.k;
    let pid = k.procs.borrow_mut().alloc_pid().ok_or(Errno::EAGAIN)?;
    let vm = k.machine.create_vmspace().map_err(|e| {
        k.trace_line(format_args!("fork: no host address space: {e}"));
        Errno::ENOMEM
    })?;
    let mut child_regs = regs.new_thread();
    child_regs.rax = 0;
    // ANCHOR_END: fork-start
    let child_mm = {
        let mut parent_mm = cx.p.mm.borrow_mut();
        let parent_mm = parent_mm.as_mut().expect("fork: the parent has memory");
        let fpu = parent_mm.vm.fpu_state(regs).map_err(|_| Errno::ENOMEM)?;
        // The pages around the stack pointer are written by both sides within microseconds.
        let sp = VirtAddr(regs.rsp).page_floor().0;
        let eager = [
            VirtAddr(sp.wrapping_sub(4096)),
            VirtAddr(sp),
            VirtAddr(sp + 4096),
        ];
        let mut child_mm = parent_mm
            .fork_copy(k.ram(), &mut k.frames.borrow_mut(), vm, &eager)
            .ok_or(Errno::ENOMEM)?;
        if child_mm.vm.set_fpu_state(&child_regs, &fpu).is_err() {
            // Give the copy's frames back before failing: an Mm is not freed by dropping.
            child_mm.teardown(k.ram(), &mut k.frames.borrow_mut());
            return Err(Errno::ENOMEM);
        }
        child_mm
    };
    // ANCHOR: fork-finish
    let child = Rc::new(Proc::new(
        pid,
        cx.p.pid,
        &cx.p.name.borrow(),
        cx.p.cwd.get(),
    ));
    *child.mm.borrow_mut() = Some(child_mm);
    *child.files.borrow_mut() = cx.p.files.borrow().fork_copy();
    k.spawn(child, child_regs);
    Ok(i64::from(pid))
}
// ANCHOR_END: fork-finish

/// `clone(flags, stack, ...)` with fork semantics only (`SIGCHLD` and no sharing flags).
///
/// # Errors
/// `EINVAL` for threads or any sharing flag; otherwise as [`fork`].
pub fn clone(cx: &Ctx<'_>, regs: &Regs, flags: u64, stack: u64) -> SysResult {
    const CSIGNAL: u64 = 0xff;
    if flags & !CSIGNAL != 0 || stack != 0 {
        return Err(Errno::EINVAL);
    }
    fork(cx, regs)
}

/// Most arguments plus environment strings `execve` takes.
const MAX_ARGS: usize = 1024;
/// Most bytes of arguments plus environment.
const MAX_ARG_BYTES: usize = 128 * 1024;

/// Read a NULL-terminated array of string pointers from user memory.
fn copy_string_array(cx: &Ctx<'_>, mut at: u64, total: &mut usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if at == 0 {
        return Ok(out);
    }
    loop {
        let ptr = cx.read_u64(at)?;
        if ptr == 0 {
            return Ok(out);
        }
        if out.len() >= MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        let s = cx.copyinstr(ptr, MAX_ARG_BYTES).map_err(|e| {
            if e == Errno::ENAMETOOLONG {
                Errno::E2BIG
            } else {
                e
            }
        })?;
        *total += s.len() + 1;
        if *total > MAX_ARG_BYTES {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        at += 8;
    }
}

/// `execve(path, argv, envp)`: replace the program. On success the old memory is gone and
/// the trap loop continues with the returned registers.
///
/// # Errors
/// `EFAULT`, `ENOENT`, `EACCES` (a directory), `ENOEXEC` (not a runnable ELF), `E2BIG`,
/// `ENOMEM`; the old program keeps running then.
pub fn execve(cx: &Ctx<'_>, regs: &Regs, path: u64, argv: u64, envp: u64) -> Result<Regs, Errno> {
    let k = cx.k;
    let path = cx.copyinstr(path, 4096)?;
    let mut total = 0;
    let argv = copy_string_array(cx, argv, &mut total)?;
    let envp = copy_string_array(cx, envp, &mut total)?;
    let bytes = k.read_whole_file(cx.p.cwd.get(), &path)?;
    let random = random_bytes(k.machine.now() ^ u64::from(cx.p.pid));
    let image = exec::load(
        k.ram(),
        &mut k.frames.borrow_mut(),
        &bytes,
        &argv,
        &envp,
        random,
    )
    .map_err(|e| match e {
        ExecError::NoMemory => Errno::ENOMEM,
        _ => Errno::ENOEXEC,
    })?;
    // ANCHOR: execve-commit
    let old =
        cx.p.mm
            .borrow_mut()
            .take()
            .expect("execve: the process has memory");
    let Mm { space, mut vm, .. } = old;
    space.teardown(k.ram(), &mut k.frames.borrow_mut());
    vm.forget_thread(regs);
    let new_regs = image.regs.clone();
    *cx.p.mm.borrow_mut() = Some(Mm::install(image, vm));
    let closing = cx.p.files.borrow_mut().close_on_exec();
    for f in closing {
        k.release_file(f);
    }
    *cx.p.name.borrow_mut() = base_name(&path);
    Ok(new_regs)
}
// ANCHOR_END: execve-commit

// ANCHOR: wait4
/// `wait4(pid, status, options, rusage)`: wait for a child to exit and reap it.
///
/// # Errors
/// `ECHILD` without matching children; `EINTR` when killed while waiting; `EFAULT` for a
/// bad status pointer; `EINVAL` for unknown options.
pub fn wait4(cx: &Ctx<'_>, pid: u64, status: u64, options: u64) -> SysResult {
    const WNOHANG: u64 = 1;
    if options & !(WNOHANG | 0x4000_0000 | 2 | 8) != 0 {
        return Err(Errno::EINVAL);
    }
    let want = pid as i64 as i32;
    loop {
        let children: Vec<Rc<Proc>> =
            cx.k.procs
                .borrow()
                .children(cx.p.pid)
                .into_iter()
                .filter(|c| want <= 0 || c.pid as i32 == want)
                .collect();
        if children.is_empty() {
            return Err(Errno::ECHILD);
        }
        if let Some(z) = children.iter().find(|c| c.state.get() == State::Zombie) {
            if status != 0 {
                cx.copyout(status, &z.status.get().to_le_bytes())?;
            }
            cx.k.procs.borrow_mut().remove(z.pid);
            return Ok(i64::from(z.pid));
        }
        if options & WNOHANG != 0 {
            return Ok(0);
        }
        cx.sleep(Chan::Child(cx.p.pid))?;
    }
}
// ANCHOR_END: wait4

/// `kill(pid, sig)`: SIGKILL, SIGTERM, SIGINT and SIGHUP end the process (no handlers
/// exist); signal 0 only checks that it exists.
///
/// # Errors
/// `ESRCH` for no such process, `EINVAL` for other signals or pid ≤ 0.
pub fn kill(cx: &Ctx<'_>, pid: u64, sig: u64) -> SysResult {
    let pid = pid as i64;
    if pid <= 0 || pid > i64::from(Pid::MAX) {
        return Err(if pid == 0 || pid == -1 {
            Errno::EINVAL
        } else {
            Errno::ESRCH
        });
    }
    let sig = sig as i32;
    if ![
        0,
        signal::SIGKILL,
        signal::SIGTERM,
        signal::SIGINT,
        signal::SIGHUP,
    ]
    .contains(&sig)
    {
        return Err(Errno::EINVAL);
    }
    // ANCHOR: kill-mark
    let target = cx.k.procs.borrow().get(pid as Pid).ok_or(Errno::ESRCH)?;
    if sig == 0 || target.state.get() == State::Zombie {
        return Ok(0);
    }
    if target.killed.get().is_none() {
        target.killed.set(Some(sig));
    }
    if target.state.get() == State::Sleeping {
        cx.k.make_runnable(&target);
    }
    Ok(0)
}
// ANCHOR_END: kill-mark

/// `getpid()`: the caller's process id. Never fails.
pub fn getpid(cx: &Ctx<'_>) -> SysResult {
    Ok(i64::from(cx.p.pid))
}

/// `getppid()`: the parent's process id (1 once the parent has exited). Never fails.
pub fn getppid(cx: &Ctx<'_>) -> SysResult {
    Ok(i64::from(cx.p.parent.get()))
}

/// `exit(status)` and `exit_group(status)`: end the process (there are no threads, so both
/// are the same); the low 8 bits of `status` reach the parent's `wait4`. Returns the wait
/// status the trap loop records. Never fails and never returns to the program.
pub fn exit(status: u64) -> i32 {
    crate::proc::wait_status::exited(status as i32)
}

/// `sched_yield()`: give up the CPU; the process goes to the back of the run queue.
pub fn sched_yield(cx: &Ctx<'_>) -> SysResult {
    cx.yield_cpu(Why::Yielded);
    Ok(0)
}

/// `uname(buf)`: `sysname` is "vkernel".
///
/// # Errors
/// `EFAULT` for a bad pointer.
pub fn uname(cx: &Ctx<'_>, buf: u64) -> SysResult {
    let fields: [&[u8]; 6] = [
        b"vkernel",
        b"vkernel",
        env!("CARGO_PKG_VERSION").as_bytes(),
        b"#1",
        b"x86_64",
        b"(none)",
    ];
    let mut out = vec![0u8; 65 * 6];
    for (i, f) in fields.iter().enumerate() {
        out[65 * i..65 * i + f.len()].copy_from_slice(f);
    }
    cx.copyout(buf, &out)?;
    Ok(0)
}

/// `arch_prctl(code, addr)`: set or get `fs_base`.
///
/// # Errors
/// `EPERM` for an address outside user space, `EFAULT`, `EINVAL` for other codes.
pub fn arch_prctl(cx: &Ctx<'_>, regs: &mut Regs, code: u64, addr: u64) -> SysResult {
    const ARCH_SET_FS: u64 = 0x1002;
    const ARCH_GET_FS: u64 = 0x1003;
    match code {
        ARCH_SET_FS if addr < vmspace::layout::USER_TOP => {
            regs.fs_base = addr;
            Ok(0)
        }
        ARCH_SET_FS => Err(Errno::EPERM),
        ARCH_GET_FS => {
            cx.copyout(addr, &regs.fs_base.to_le_bytes())?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL),
    }
}

// ANCHOR: vk-procs
/// `vk_procs(buf, len)`: one line per process, `pid ppid state name`.
///
/// # Errors
/// `EFAULT` for a bad buffer.
pub fn vk_procs(cx: &Ctx<'_>, buf: u64, len: u64) -> SysResult {
    let mut text = String::new();
    for p in cx.k.procs.borrow().all() {
        text.push_str(&format!(
            "{} {} {} {}\n",
            p.pid,
            p.parent.get(),
            p.state.get().letter(),
            p.name.borrow()
        ));
    }
    let n = text.len().min(len as usize);
    cx.copyout(buf, &text.as_bytes()[..n])?;
    Ok(n as i64)
}
// ANCHOR_END: vk-procs
