//! The "kick": how a timer expiry or a device interrupt stops a running guest.
//!
//! The tracer thread sleeps in `waitpid` while a guest runs. Timers and device threads
//! send it the kick signal; the handler below runs *on the tracer thread* and issues
//! `PTRACE_INTERRUPT` for the guest that is running right now, so the guest stops within
//! microseconds and `waitpid` returns. Because the handler acts on the guest directly,
//! there is no window in which a kick can be lost: a kick that arrives before the guest
//! is resumed leaves a pending stop in the guest, and `run` re-checks pending events after
//! every resume. The handler is installed with `SA_RESTART`, so the rest of the kernel's
//! host system calls never see `EINTR` because of it.
//!
//! While idle ([`wait`]), the tracer blocks the signal, checks for pending events and then
//! sleeps in `ppoll`, which unblocks it atomically: the classic race-free idle loop.

use std::cell::Cell;
use std::io;
use std::sync::Once;

thread_local! {
    /// The pid of the guest the calling tracer thread is running now (0: none).
    static RUNNING: Cell<libc::pid_t> = const { Cell::new(0) };
}

/// The kick signal number (a real-time signal, so kicks queue rather than merge).
pub fn signal() -> libc::c_int {
    libc::SIGRTMIN() + 4
}

// ANCHOR: on_kick
extern "C" fn on_kick(_sig: libc::c_int, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let pid = RUNNING.with(Cell::get);
    if pid > 0 {
        // SAFETY: ptrace is an async-signal-safe system call; the arguments are integers.
        // A stale pid only yields ESRCH, which we ignore; errno is saved and restored.
        unsafe {
            let saved = *libc::__errno_location();
            libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0);
            *libc::__errno_location() = saved;
        }
    }
}
// ANCHOR_END: on_kick

/// Install the kick handler (once per process).
pub fn install() -> io::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        // SAFETY: sigaction is plain data; zero is a valid empty mask and no flags.
        let mut act: libc::sigaction = unsafe { std::mem::zeroed() };
        act.sa_sigaction = on_kick as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
        // SAFETY: `act` is fully initialised; `on_kick` is async-signal-safe (it reads a
        // const-initialised thread-local cell and makes one system call).
        let r = unsafe { libc::sigaction(signal(), &act, std::ptr::null_mut()) };
        if r != 0 {
            result = Err(io::Error::last_os_error());
        }
    });
    result
}

/// Mark `pid` as the guest that kicks should interrupt on this thread (0 = none).
pub fn set_running(pid: libc::pid_t) {
    RUNNING.with(|r| r.set(pid));
}

fn kick_set() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t.
    unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal());
    }
    set
}

/// Block kicks on this thread, run `ready`, and if it returns `None` sleep until a kick
/// arrives or `timeout_ns` passes; kicks are unblocked atomically with the sleep.
pub fn wait<T>(timeout_ns: u64, mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    let set = kick_set();
    // SAFETY: sigset_t is plain data.
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: valid sigset pointers; only this thread's mask changes.
    unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) };
    let got = ready();
    if got.is_none() {
        let ts = libc::timespec {
            tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
            tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
        };
        // The old mask with the kick removed, so a kick can wake ppoll.
        let mut during = old;
        // SAFETY: `during` is a valid sigset_t.
        unsafe { libc::sigdelset(&mut during, signal()) };
        // SAFETY: no descriptors; `ts` and `during` are valid for the call.
        unsafe { libc::ppoll(std::ptr::null_mut(), 0, &ts, &during) };
    }
    // SAFETY: restore this thread's previous mask (delivers any pending kick now).
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
    got
}

/// The set of signals a freshly forked guest must not inherit blocked: all of them.
pub fn empty_mask() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid sigset_t.
    unsafe { libc::sigemptyset(&mut set) };
    set
}
