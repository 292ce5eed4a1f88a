//! A host child process that holds one guest address space, and the ways to drive it.
//!
//! [`Child::spawn`] forks, lets the tracer `PTRACE_SEIZE` the new process, then execs the
//! stub ELF from a sealed memfd (never a copy of ourselves: a fork of this process would
//! carry glibc's state and threads' leftovers). At the stub's first `int3` the tracer
//! injects the set-up calls: map the operation queue, unmap everything else (stack, vdso,
//! vvar, heap), install the stub's `SIGSEGV` handler on its own stack, and lock the child
//! down with seccomp. From then on the tracer drives it through [`Child::run_batch`] (host
//! memory operations) and `ptrace` resumes made by `vmspace.rs`.
//!
//! The child cannot outlive the tracer: `PTRACE_O_EXITKILL` and `PR_SET_PDEATHSIG` both
//! kill it, and `Drop` kills and reaps it.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;

use crate::error::{Error, Result};
use crate::layout::{
    HOST_TASK_TOP, STUB_ALTSTACK, STUB_ALTSTACK_SIZE, STUB_BASE, STUB_END, STUB_QUEUE,
    STUB_QUEUE_SIZE,
};
use crate::mmu::HostOp;
use crate::stub::{self, StubAddrs};
use crate::{seccomp, sys};

/// The RAM memfd's descriptor number inside every child.
pub const CHILD_RAM_FD: RawFd = 3;
const CHILD_QUEUE_FD: RawFd = 4;
const CHILD_STUB_FD: RawFd = 5;
/// `SA_RESTORER` (the kernel ABI flag glibc hides): the handler returns through `sa_restorer`.
const SA_RESTORER: u64 = 0x0400_0000;

/// Bytes per queue entry: number, six arguments, result.
const ENTRY: usize = 64;
/// Entries that fit in the first half of the queue mapping (the rest holds set-up data).
pub const QUEUE_ENTRIES: usize = STUB_QUEUE_SIZE as usize / 2 / ENTRY;
/// Where set-up structures are written inside the queue mapping.
const SETUP_AREA: usize = STUB_QUEUE_SIZE as usize / 2;

/// The sealed memfd holding the stub ELF, made once per process.
fn stub_memfd() -> io::Result<RawFd> {
    static FD: OnceLock<std::result::Result<OwnedFd, String>> = OnceLock::new();
    let made = FD.get_or_init(|| {
        let name = c"vmspace-stub";
        let make = || -> io::Result<OwnedFd> {
            let fd = sys::memfd_create(name, libc::MFD_ALLOW_SEALING)?;
            sys::pwrite_all(&fd, &stub::image(), 0)?;
            sys::add_seals(
                &fd,
                libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE,
            )?;
            Ok(fd)
        };
        make().map_err(|e| e.to_string())
    });
    match made {
        Ok(fd) => Ok(fd.as_raw_fd()),
        Err(e) => Err(io::Error::other(format!("creating the stub memfd: {e}"))),
    }
}

/// How the child's FPU state is read and written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FpuNote {
    /// `NT_X86_XSTATE`: the full XSAVE image (AVX included).
    Xstate,
    /// `NT_PRFPREG`: the 512-byte FXSAVE image.
    Fxsave,
}

impl FpuNote {
    fn note(self) -> libc::c_int {
        match self {
            FpuNote::Xstate => 0x202,
            FpuNote::Fxsave => 2,
        }
    }
}

/// One traced host child holding a guest address space.
#[derive(Debug)]
pub struct Child {
    /// The host pid.
    pub pid: libc::pid_t,
    /// Where the stub's entry points are.
    pub stub: StubAddrs,
    /// The registers the stub had at its first stop (segment selectors to reuse).
    pub template: libc::user_regs_struct,
    /// The FPU state of a fresh thread, and how to read/write FPU state.
    pub fpu_init: Vec<u8>,
    /// Which register set holds the FPU state.
    pub fpu_note: FpuNote,
    queue: sys::SharedMapping,
    alive: bool,
}

fn host(what: &str) -> impl FnOnce(io::Error) -> Error + '_ {
    move |e| Error::host(what, e)
}

impl Child {
    /// Fork, seize and exec a stub child that shares `ram_fd`, then prepare it.
    ///
    /// # Errors
    /// When the host refuses any step; ptrace refusal gives [`Error::NoPtrace`].
    pub fn spawn(ram_fd: RawFd) -> Result<Child> {
        let stub_fd = stub_memfd().map_err(host("stub image"))?;
        let qname = c"vmspace-queue";
        let queue_fd = sys::memfd_create(qname, 0).map_err(host("memfd_create(queue)"))?;
        sys::ftruncate(&queue_fd, STUB_QUEUE_SIZE).map_err(host("sizing the queue"))?;
        let queue = sys::SharedMapping::new(&queue_fd, STUB_QUEUE_SIZE as usize)
            .map_err(host("mapping the queue"))?;
        let pid = fork_stub(ram_fd, queue_fd.as_raw_fd(), stub_fd)?;
        drop(queue_fd);
        let mut child = Child {
            pid,
            stub: stub::addrs(),
            template: zero_regs(),
            fpu_init: Vec::new(),
            fpu_note: FpuNote::Xstate,
            queue,
            alive: true,
        };
        child.start()?;
        Ok(child)
    }

    /// From the exec stop to a locked-down child waiting at its entry `int3`.
    fn start(&mut self) -> Result<()> {
        match self.wait()? {
            sys::WaitStatus::Stopped {
                sig: libc::SIGTRAP,
                event,
            } if event == libc::PTRACE_EVENT_EXEC => {}
            other => return Err(self.lost(format!("unexpected first stop {other:?}"))),
        }
        sys::ptrace_resume(libc::PTRACE_CONT, self.pid, 0).map_err(host("resuming the stub"))?;
        self.expect_trap("stub entry")?;
        self.template = sys::getregs(self.pid).map_err(host("reading stub registers"))?;
        if self.template.rip != STUB_BASE + 1 {
            return Err(self.lost(format!("stub stopped at {:#x}", self.template.rip)));
        }
        self.fpu_init = self.read_fpu_probe()?;
        let prot_rw = (libc::PROT_READ | libc::PROT_WRITE) as u64;
        let map_fixed_shared = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        self.inject_ok(
            "mapping the queue",
            libc::SYS_mmap,
            [
                STUB_QUEUE,
                STUB_QUEUE_SIZE,
                prot_rw,
                map_fixed_shared,
                CHILD_QUEUE_FD as u64,
                0,
            ],
        )?;
        self.inject_ok(
            "closing the queue fd",
            libc::SYS_close,
            [CHILD_QUEUE_FD as u64, 0, 0, 0, 0, 0],
        )?;
        self.inject_ok(
            "closing the stub fd",
            libc::SYS_close,
            [CHILD_STUB_FD as u64, 0, 0, 0, 0, 0],
        )?;
        self.inject_ok(
            "unmapping below the stub",
            libc::SYS_munmap,
            [0, STUB_BASE, 0, 0, 0, 0],
        )?;
        self.inject_ok(
            "unmapping above the stub",
            libc::SYS_munmap,
            [STUB_END, HOST_TASK_TOP - STUB_END, 0, 0, 0, 0],
        )?;
        // sigaltstack(&{ ss_sp, ss_flags = 0, ss_size }, NULL)
        let ss = self.setup_write(0, &[STUB_ALTSTACK, 0, STUB_ALTSTACK_SIZE]);
        self.inject_ok(
            "installing the signal stack",
            libc::SYS_sigaltstack,
            [ss, 0, 0, 0, 0, 0],
        )?;
        // rt_sigaction(SIGSEGV, &{ handler, flags, restorer, mask = 0 }, NULL, 8)
        let flags = (libc::SA_SIGINFO | libc::SA_ONSTACK | libc::SA_NODEFER) as u64 | SA_RESTORER;
        let act = self.setup_write(64, &[self.stub.segv, flags, self.stub.restorer, 0]);
        self.inject_ok(
            "installing the fault handler",
            libc::SYS_rt_sigaction,
            [libc::SIGSEGV as u64, act, 0, 8, 0, 0],
        )?;
        self.inject_ok(
            "setting no_new_privs",
            libc::SYS_prctl,
            [libc::PR_SET_NO_NEW_PRIVS as u64, 1, 0, 0, 0, 0],
        )?;
        let prog = seccomp::filter(self.stub.batch_syscall_return, CHILD_RAM_FD as u32);
        let bytes = seccomp::encode(&prog);
        let filter_at = self.setup_write_bytes(256, &bytes);
        let fprog = self.setup_write(128, &[prog.len() as u64, filter_at]);
        self.inject_ok(
            "installing the seccomp filter",
            libc::SYS_seccomp,
            [libc::SECCOMP_SET_MODE_FILTER as u64, 0, fprog, 0, 0, 0],
        )?;
        Ok(())
    }

    /// Read the fresh FPU state, choosing XSTATE when the host offers it.
    fn read_fpu_probe(&mut self) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; 16 * 1024];
        match sys::getregset(self.pid, FpuNote::Xstate.note(), &mut buf) {
            Ok(n) => {
                buf.truncate(n);
                self.fpu_note = FpuNote::Xstate;
            }
            Err(_) => {
                buf.truncate(512);
                let n = sys::getregset(self.pid, FpuNote::Fxsave.note(), &mut buf)
                    .map_err(host("reading FPU state"))?;
                buf.truncate(n);
                self.fpu_note = FpuNote::Fxsave;
            }
        }
        Ok(buf)
    }

    /// Read the child's current FPU state.
    pub fn get_fpu(&self) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; self.fpu_init.len()];
        let n = sys::getregset(self.pid, self.fpu_note.note(), &mut buf)
            .map_err(host("reading FPU state"))?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Replace the child's FPU state.
    pub fn set_fpu(&self, state: &[u8]) -> Result<()> {
        sys::setregset(self.pid, self.fpu_note.note(), state).map_err(host("writing FPU state"))
    }

    /// Write `words` into the set-up area at `off`; returns the child address.
    fn setup_write(&self, off: usize, words: &[u64]) -> u64 {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        self.setup_write_bytes(off, &bytes)
    }

    fn setup_write_bytes(&self, off: usize, bytes: &[u8]) -> u64 {
        let at = SETUP_AREA + off;
        assert!(
            at + bytes.len() <= self.queue.len(),
            "Child::setup_write: set-up area overflow"
        );
        // SAFETY: the range is inside our queue mapping (asserted); the child is stopped, so
        // nobody else touches these bytes now; we copy bytes without forming references.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.queue.base().add(at), bytes.len())
        };
        STUB_QUEUE + at as u64
    }

    /// Run one system call in the child (set-up only; clobbers the child's registers).
    fn inject(&mut self, nr: libc::c_long, args: [u64; 6]) -> Result<i64> {
        let mut r = self.template;
        r.rip = self.stub.syscall;
        r.rax = nr as u64;
        r.orig_rax = u64::MAX;
        [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9] = args;
        sys::setregs(self.pid, &r).map_err(host("setting registers for an injected call"))?;
        sys::ptrace_resume(libc::PTRACE_CONT, self.pid, 0).map_err(host("resuming the stub"))?;
        self.expect_trap("injected system call")?;
        let after = sys::getregs(self.pid).map_err(host("reading registers"))?;
        Ok(after.rax as i64)
    }

    fn inject_ok(&mut self, what: &str, nr: libc::c_long, args: [u64; 6]) -> Result<()> {
        let r = self.inject(nr, args)?;
        if (-4095..0).contains(&r) {
            return Err(Error::host(what, io::Error::from_raw_os_error(-r as i32)));
        }
        Ok(())
    }

    /// Run queued host memory operations in the child (clobbers its registers).
    ///
    /// # Errors
    /// When the child dies or a host call fails (which would be a machine bug).
    pub fn run_batch(&mut self, ops: &[HostOp]) -> Result<()> {
        for chunk in ops.chunks(QUEUE_ENTRIES) {
            for (i, op) in chunk.iter().enumerate() {
                let entry: [u64; 8] = match *op {
                    HostOp::Map {
                        va,
                        len,
                        prot,
                        offset,
                    } => [
                        libc::SYS_mmap as u64,
                        va,
                        len,
                        prot as u64,
                        (libc::MAP_SHARED | libc::MAP_FIXED) as u64,
                        CHILD_RAM_FD as u64,
                        offset,
                        0,
                    ],
                    HostOp::Unmap { va, len } => [libc::SYS_munmap as u64, va, len, 0, 0, 0, 0, 0],
                };
                self.queue_write(i, &entry);
            }
            // ANCHOR: batch_start
            let mut r = self.template;
            r.rip = self.stub.batch;
            r.rbx = STUB_QUEUE;
            r.r12 = chunk.len() as u64;
            r.orig_rax = u64::MAX;
            sys::setregs(self.pid, &r).map_err(host("setting registers for a batch"))?;
            sys::ptrace_resume(libc::PTRACE_CONT, self.pid, 0)
                .map_err(host("resuming the stub"))?;
            self.expect_trap("host operation batch")?;
            // ANCHOR_END: batch_start
            for (i, op) in chunk.iter().enumerate() {
                let result = self.queue_read_result(i) as i64;
                if (-4095..0).contains(&result) {
                    return Err(Error::host(
                        format!("host operation {op:?} in the guest address space"),
                        io::Error::from_raw_os_error(-result as i32),
                    ));
                }
            }
        }
        Ok(())
    }

    fn queue_write(&self, index: usize, words: &[u64; 8]) {
        let base = self.queue.base().cast::<u64>();
        for (k, w) in words.iter().enumerate() {
            // SAFETY: `index < QUEUE_ENTRIES`, so the 8 words lie in the first half of our
            // queue mapping; the child is stopped while we write.
            unsafe { base.add(index * 8 + k).write_volatile(*w) };
        }
    }

    fn queue_read_result(&self, index: usize) -> u64 {
        let base = self.queue.base().cast::<u64>();
        // SAFETY: as in `queue_write`; the child has stopped after writing the result.
        unsafe { base.add(index * 8 + 7).read_volatile() }
    }

    /// Wait for the child's next stop or death.
    pub fn wait(&mut self) -> Result<sys::WaitStatus> {
        let st = sys::waitpid(self.pid).map_err(host("waiting for the guest"))?;
        if matches!(
            st,
            sys::WaitStatus::Exited(_) | sys::WaitStatus::Signaled(_)
        ) {
            self.alive = false;
        }
        Ok(st)
    }

    /// Wait for the `SIGTRAP` of a stub `int3`, skipping unrelated signal stops.
    fn expect_trap(&mut self, what: &str) -> Result<()> {
        loop {
            match self.wait()? {
                sys::WaitStatus::Stopped {
                    sig: libc::SIGTRAP,
                    event: 0,
                } => return Ok(()),
                sys::WaitStatus::Stopped { event, .. } if event != 0 => {
                    sys::ptrace_resume(libc::PTRACE_CONT, self.pid, 0)
                        .map_err(host("resuming the stub"))?;
                }
                sys::WaitStatus::Stopped { sig, .. }
                    if sig != libc::SIGSEGV && sig != libc::SIGSYS =>
                {
                    sys::ptrace_resume(libc::PTRACE_CONT, self.pid, 0)
                        .map_err(host("resuming the stub"))?;
                }
                other => return Err(self.lost(format!("{what}: {other:?}"))),
            }
        }
    }

    /// Describe a lost child (and kill it, if it is still there).
    pub fn lost(&mut self, how: String) -> Error {
        self.kill();
        Error::GuestLost { pid: self.pid, how }
    }

    /// Has the child died?
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// Mark the child dead (after a wait reported it).
    pub fn mark_dead(&mut self) {
        self.alive = false;
    }

    /// Kill and reap the child.
    pub fn kill(&mut self) {
        if self.alive {
            let _ = sys::kill(self.pid, libc::SIGKILL);
            // Skip the stops that may be reported before the death.
            while let Ok(sys::WaitStatus::Stopped { .. }) = sys::waitpid(self.pid) {}
            self.alive = false;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
    }
}

fn zero_regs() -> libc::user_regs_struct {
    // SAFETY: user_regs_struct is 27 plain integers; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

/// Fork the child, seize it, and let it exec the stub. Returns its pid.
fn fork_stub(ram_fd: RawFd, queue_fd: RawFd, stub_fd: RawFd) -> Result<libc::pid_t> {
    let mut pipe = [0 as RawFd; 2];
    // SAFETY: `pipe` is a valid two-element out-array.
    if unsafe { libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(Error::host("pipe2", io::Error::last_os_error()));
    }
    let [go_r, go_w] = pipe;
    let argv0 = c"vmspace-stub";
    let argv: [*const libc::c_char; 2] = [argv0.as_ptr(), std::ptr::null()];
    let envp: [*const libc::c_char; 1] = [std::ptr::null()];
    let empty = c"";
    let empty_mask = crate::kick::empty_mask();
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: fork in a possibly multi-threaded process: the child below only makes
    // async-signal-safe system calls on data prepared before the fork, then execs or exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: we are the fresh child; see `child_after_fork`.
        unsafe {
            child_after_fork(
                parent,
                go_r,
                ram_fd,
                queue_fd,
                stub_fd,
                &argv,
                &envp,
                empty,
                &empty_mask,
            )
        }
    }
    // SAFETY: closing our copy of the read end, which we own.
    unsafe { libc::close(go_r) };
    if pid < 0 {
        let err = io::Error::last_os_error();
        // SAFETY: closing the write end, which we own.
        unsafe { libc::close(go_w) };
        return Err(Error::host("fork", err));
    }
    // ANCHOR: seize
    let options = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD | libc::PTRACE_O_TRACEEXEC;
    let seized = sys::ptrace_seize(pid, options);
    // SAFETY: writing one byte from a local to the pipe we own, then closing it; the child
    // reads it as its go-ahead (or sees EOF and exits if we could not seize it).
    unsafe {
        if seized.is_ok() {
            libc::write(go_w, [1u8].as_ptr().cast(), 1);
        }
        libc::close(go_w);
    }
    if let Err(e) = seized {
        let _ = sys::kill(pid, libc::SIGKILL);
        let _ = sys::waitpid(pid);
        return Err(Error::NoPtrace(e));
    }
    Ok(pid)
    // ANCHOR_END: seize
}

/// The child's side of `fork_stub`: only async-signal-safe calls, no allocation.
///
/// # Safety
/// Must be called only in the child right after `fork`, with pointers that stay valid
/// (they point into the parent's stack frame, which the child has a copy of).
#[allow(clippy::too_many_arguments)]
unsafe fn child_after_fork(
    parent: libc::pid_t,
    go_r: RawFd,
    ram_fd: RawFd,
    queue_fd: RawFd,
    stub_fd: RawFd,
    argv: &[*const libc::c_char; 2],
    envp: &[*const libc::c_char; 1],
    empty: &CStr,
    empty_mask: &libc::sigset_t,
) -> ! {
    // SAFETY: each call below is an async-signal-safe system call on integers or on
    // memory that was initialised before the fork; on any failure we `_exit` at once.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
        if libc::getppid() != parent {
            libc::_exit(111);
        }
        libc::setpgid(0, 0);
        libc::pthread_sigmask(libc::SIG_SETMASK, empty_mask, std::ptr::null_mut());
        let mut go = 0u8;
        if libc::read(go_r, (&mut go as *mut u8).cast(), 1) != 1 {
            libc::_exit(112);
        }
        let ram = libc::fcntl(ram_fd, libc::F_DUPFD_CLOEXEC, 100);
        let queue = libc::fcntl(queue_fd, libc::F_DUPFD_CLOEXEC, 100);
        let stub = libc::fcntl(stub_fd, libc::F_DUPFD_CLOEXEC, 100);
        if ram < 0 || queue < 0 || stub < 0 {
            libc::_exit(113);
        }
        if libc::dup2(ram, CHILD_RAM_FD) < 0
            || libc::dup2(queue, CHILD_QUEUE_FD) < 0
            || libc::dup2(stub, CHILD_STUB_FD) < 0
        {
            libc::_exit(114);
        }
        libc::syscall(libc::SYS_close_range, 0u32, 2u32, 0u32);
        libc::syscall(
            libc::SYS_close_range,
            (CHILD_STUB_FD + 1) as u32,
            u32::MAX,
            0u32,
        );
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::syscall(
            libc::SYS_execveat,
            CHILD_STUB_FD,
            empty.as_ptr(),
            argv.as_ptr(),
            envp.as_ptr(),
            libc::AT_EMPTY_PATH,
        );
        libc::_exit(115);
    }
}
