//! Running an untrusted program (a student's vkernel, a submission's build) so that it
//! cannot take the grader down or leave anything behind.
//!
//! Each run:
//! - starts in its own session and process group (`setsid`) with `PR_SET_PDEATHSIG`
//!   (SIGKILL), in a temp dir, with a clean environment holding a tag
//!   `AUTOGRADER_RUN=<grader pid>-<n>`;
//! - has rlimits: CPU time, file size, no core dumps, and (when no cgroup limits the
//!   number of processes and the grader is not root) RLIMIT_NPROC;
//! - is put in its own cgroup(s) where the host allows it (see the README);
//! - has a wall-clock timeout and an output cap per stream;
//! - at the end, whatever its outcome, every process of the run is found and killed: the
//!   cgroup (`cgroup.kill`), the process group and session, and, since the grader is a
//!   child subreaper (`PR_SET_CHILD_SUBREAPER`), the orphans that were reparented to the
//!   grader and carry the run's tag; then they are reaped. In strict mode (the
//!   `autograder` binary, which starts no other children) any orphan that reaches the
//!   grader is killed and reaped, tagged or not.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::process::{Pid, Resource, Rlimit, Signal};

use crate::cgroup::{CgroupLimits, RunCgroup};
use crate::lab::Stream;
use crate::procfs;

/// Processes the grader started and waits for itself (never reaped by a sweep).
static OURS: Mutex<Option<HashSet<i32>>> = Mutex::new(None);
static STRICT: AtomicBool = AtomicBool::new(false);
static RUNS: AtomicU64 = AtomicU64::new(0);

/// Strict orphan reaping: every process that is reparented to the grader and that the
/// grader did not start itself is killed and reaped at the end of the next run, whether it
/// carries a run tag or not. Right for a program whose only children are runs (the
/// `autograder` binary); wrong for a program that starts children of its own by other
/// means (they would be killed).
pub fn set_strict_orphan_reaping(on: bool) {
    STRICT.store(on, Ordering::SeqCst);
}

/// Make the grader process a child subreaper (once).
pub fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
    });
}

fn ours() -> HashSet<i32> {
    OURS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_default()
}

fn is_ours_now(pid: i32) -> bool {
    OURS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .is_some_and(|s| s.contains(&pid))
}

/// SIGKILL a process, ignoring errors (it may be gone).
pub(crate) fn kill_pid(pid: i32) {
    if let Some(p) = Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(p, Signal::KILL);
    }
}

fn kill_group(pgid: i32) {
    if let Some(p) = Pid::from_raw(pgid) {
        let _ = rustix::process::kill_process_group(p, Signal::KILL);
    }
}

/// Limits of one run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// RLIMIT_CPU (whole seconds; SIGXCPU at the limit, SIGKILL a second later).
    pub cpu: Duration,
    /// RLIMIT_FSIZE.
    pub file_size: u64,
    /// cgroup `pids.max`, or the RLIMIT_NPROC margin.
    pub pids_max: u64,
    /// cgroup memory limit.
    pub memory_max: u64,
}

/// What to run.
#[derive(Debug)]
pub(crate) struct Spec<'a> {
    pub program: &'a Path,
    pub args: Vec<OsString>,
    pub cwd: &'a Path,
    /// The whole environment (the run tag is added).
    pub env: Vec<(OsString, OsString)>,
    pub stdin: Vec<u8>,
    pub timeout: Duration,
    pub output_cap: usize,
    pub limits: Limits,
    /// Put the run in cgroups where the host allows it.
    pub cgroups: bool,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    Exited(i32),
    Signaled(i32),
    Timeout,
    Flood(Stream),
}

/// Everything about a finished run.
#[derive(Debug)]
pub(crate) struct Finished {
    pub end: End,
    pub duration: Duration,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Containment used, for the log.
    pub containment: String,
    /// Remarks for the report (limits hit, processes left behind).
    pub notes: Vec<String>,
}

/// What identifies the processes of one run.
struct RunIds<'a> {
    pgid: i32,
    tag: Vec<u8>,
    cgroup: Option<&'a RunCgroup>,
}

fn status_end(status: ExitStatus) -> End {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => End::Exited(c),
        (None, Some(s)) => End::Signaled(s),
        _ => End::Exited(-1),
    }
}

fn set_nonblocking(fd: impl AsFd) -> io::Result<()> {
    let flags = rustix::fs::fcntl_getfl(&fd)?;
    rustix::fs::fcntl_setfl(&fd, flags | rustix::fs::OFlags::NONBLOCK)?;
    Ok(())
}

/// Run `spec` to the end (see the module docs).
pub(crate) fn run(spec: Spec<'_>) -> io::Result<Finished> {
    become_subreaper();
    let n = RUNS.fetch_add(1, Ordering::Relaxed);
    let tag_value = format!("{}-{n}", std::process::id());
    let mut tag = b"AUTOGRADER_RUN=".to_vec();
    tag.extend_from_slice(tag_value.as_bytes());

    let climits = CgroupLimits {
        pids_max: spec.limits.pids_max,
        memory_max: spec.limits.memory_max,
    };
    let cgroup = if spec.cgroups {
        RunCgroup::create(climits)
    } else {
        None
    };
    let root = rustix::process::geteuid().is_root();
    let pids_limited = cgroup.as_ref().is_some_and(|c| c.pids_limited());
    let mut containment = match &cgroup {
        Some(c) => c.describe(climits),
        None if spec.cgroups => "no cgroup (none writable)".to_string(),
        None => "no cgroup (turned off)".to_string(),
    };
    // RLIMIT_NPROC counts every thread of the real user, so the limit is what the user
    // has now plus the run's allowance. Root is exempt from it.
    let nproc = if !pids_limited && !root {
        let uid = rustix::process::getuid().as_raw();
        let n = procfs::threads_of_uid(uid) + spec.limits.pids_max;
        containment += &format!(", RLIMIT_NPROC={n}");
        Some(n)
    } else {
        if !pids_limited {
            containment += ", no process limit (root without a pids cgroup)";
        }
        None
    };
    if !cgroup.as_ref().is_some_and(|c| c.memory_limited()) {
        containment += ", no memory limit";
    }
    containment += &format!(
        ", RLIMIT_CPU={}s, RLIMIT_FSIZE={}, process group kill",
        spec.limits.cpu.as_secs(),
        crate::units::human_size(spec.limits.file_size)
    );

    let mut cmd = Command::new(spec.program);
    cmd.args(&spec.args)
        .current_dir(spec.cwd)
        .env_clear()
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env("AUTOGRADER_RUN", &tag_value)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let pre = PreExec {
        parent: rustix::process::getpid(),
        cpu: spec.limits.cpu.as_secs().max(1),
        file_size: spec.limits.file_size,
        nproc,
        cgroup_procs: cgroup.as_ref().map(|c| c.join_files()),
    };
    // SAFETY: `pre_exec` runs `PreExec::apply` in the forked child before `exec`, where
    // only async-signal-safe work is allowed. `apply` makes raw system calls through
    // rustix (setsid, prctl, getppid, setrlimit, write) on values prepared before the
    // fork, allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || pre.apply());
    }

    let start = Instant::now();
    let mut child = {
        let mut ours = OURS.lock().unwrap_or_else(|e| e.into_inner());
        let child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                drop(ours);
                if let Some(c) = cgroup {
                    c.remove();
                }
                return Err(e);
            }
        };
        ours.get_or_insert_with(HashSet::new)
            .insert(child.id() as i32);
        child
    };
    let pid = child.id() as i32;
    let ids = RunIds {
        pgid: pid,
        tag,
        cgroup: cgroup.as_ref(),
    };

    // Watch the run; on an error of our own, stop it and clean up all the same.
    let mut pipes = None;
    let watched = watch(
        &mut child,
        &mut pipes,
        spec.stdin,
        spec.output_cap,
        start + spec.timeout,
    );
    let duration = start.elapsed();
    let (end, mut status) = match &watched {
        Ok((end, status)) => (end.clone(), *status),
        Err(_) => (None, None),
    };
    if status.is_none() {
        // The main process now; the rest of the run is found and killed by `sweep`.
        let _ = child.kill();
        status = child.wait().ok();
    }
    if let Some(set) = OURS.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
        set.remove(&pid);
    }
    let swept = sweep(&ids, Instant::now() + Duration::from_secs(5));
    if let Some(p) = pipes.as_mut() {
        p.drain(Instant::now() + Duration::from_millis(500));
    }
    let (mut pipes, status) = match (watched, pipes, status) {
        (Ok(_), Some(p), Some(s)) => (p, s),
        (watched, _, _) => {
            if let Some(c) = cgroup {
                c.remove();
            }
            return Err(watched
                .err()
                .unwrap_or_else(|| io::Error::other("lost track of the run")));
        }
    };
    let end = end.unwrap_or_else(|| status_end(status));

    let mut notes = Vec::new();
    if let Some(c) = &cgroup {
        notes.extend(c.events(climits));
    }
    if swept.killed > 0 {
        let when = match end {
            End::Exited(_) | End::Signaled(_) => "were still running when the main process ended",
            End::Timeout | End::Flood(_) => "were running when the run was stopped",
        };
        notes.push(format!(
            "{} other process(es) of the run {when}; they were killed",
            swept.killed
        ));
    }
    if swept.survivors > 0 {
        notes.push(format!(
            "{} process(es) of the run could not be killed",
            swept.survivors
        ));
    }
    if let Some(c) = cgroup {
        c.remove();
    }
    Ok(Finished {
        end,
        duration,
        stdout: std::mem::take(&mut pipes.out[0].buf),
        stderr: std::mem::take(&mut pipes.out[1].buf),
        containment,
        notes,
    })
}

/// Move data until the main process exits, the deadline passes or a stream floods:
/// `(Some(Timeout | Flood), None)` or `(None, Some(exit status))`.
fn watch(
    child: &mut Child,
    io: &mut Option<Pipes>,
    input: Vec<u8>,
    cap: usize,
    deadline: Instant,
) -> io::Result<(Option<End>, Option<ExitStatus>)> {
    let pipes = io.insert(Pipes::new(child, input, cap)?);
    let pidfd = Pid::from_raw(child.id() as i32)
        .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).ok());
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok((None, Some(s)));
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok((Some(End::Timeout), None));
        }
        let mut wait = deadline - now;
        if pidfd.is_none() {
            wait = wait.min(Duration::from_millis(10));
        }
        pipes.poll(pidfd.as_ref(), wait)?;
        if let Some(stream) = pipes.flood {
            return Ok((Some(End::Flood(stream)), None));
        }
    }
}

/// Work done in the child between `fork` and `exec`.
struct PreExec {
    parent: Pid,
    cpu: u64,
    file_size: u64,
    nproc: Option<u64>,
    cgroup_procs: Option<Arc<Vec<File>>>,
}

impl PreExec {
    /// Runs in the forked child: raw system calls only (see the SAFETY note at the call).
    fn apply(&self) -> io::Result<()> {
        use rustix::process as p;
        p::setsid()?;
        p::set_parent_process_death_signal(Some(Signal::KILL))?;
        // The parent may have died before the line above: then nobody would kill us.
        if p::getppid() != Some(self.parent) {
            return Err(io::Error::from_raw_os_error(
                rustix::io::Errno::SRCH.raw_os_error(),
            ));
        }
        // Join the run's cgroups first, so that everything after is accounted there.
        if let Some(files) = &self.cgroup_procs {
            for f in files.iter() {
                rustix::io::write(f, b"0")?;
            }
        }
        let set = |res: Resource, soft: u64, hard: u64| -> io::Result<()> {
            let cur = p::getrlimit(res);
            let clamp = |v: u64| cur.maximum.map_or(v, |m| v.min(m));
            p::setrlimit(
                res,
                Rlimit {
                    current: Some(clamp(soft)),
                    maximum: Some(clamp(hard)),
                },
            )?;
            Ok(())
        };
        set(Resource::Cpu, self.cpu, self.cpu + 1)?;
        set(Resource::Fsize, self.file_size, self.file_size)?;
        set(Resource::Core, 0, 0)?;
        if let Some(n) = self.nproc {
            set(Resource::Nproc, n, n)?;
        }
        Ok(())
    }
}

struct Out<R> {
    pipe: Option<R>,
    buf: Vec<u8>,
}

/// The child's three pipes, non-blocking.
struct Pipes {
    stdin: Option<ChildStdin>,
    input: Vec<u8>,
    written: usize,
    out: [Out<Box<dyn ReadFd>>; 2],
    cap: usize,
    flood: Option<Stream>,
}

trait ReadFd: Read + AsFd + Send {}
impl ReadFd for ChildStdout {}
impl ReadFd for ChildStderr {}

impl Pipes {
    fn new(child: &mut Child, input: Vec<u8>, cap: usize) -> io::Result<Pipes> {
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        set_nonblocking(&stdout)?;
        set_nonblocking(&stderr)?;
        if let Some(s) = &stdin {
            set_nonblocking(s)?;
        }
        let mut p = Pipes {
            stdin,
            input,
            written: 0,
            out: [
                Out {
                    pipe: Some(Box::new(stdout)),
                    buf: Vec::new(),
                },
                Out {
                    pipe: Some(Box::new(stderr)),
                    buf: Vec::new(),
                },
            ],
            cap,
            flood: None,
        };
        if p.input.is_empty() {
            p.stdin = None; // end of file right away
        }
        Ok(p)
    }

    /// Wait up to `wait` for output, input space or the child's exit, and move data.
    fn poll(&mut self, pidfd: Option<&rustix::fd::OwnedFd>, wait: Duration) -> io::Result<()> {
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(4);
        let mut which = Vec::with_capacity(4);
        for (i, o) in self.out.iter().enumerate() {
            if let Some(p) = &o.pipe {
                fds.push(PollFd::new(p, PollFlags::IN));
                which.push(i);
            }
        }
        if let Some(s) = &self.stdin {
            fds.push(PollFd::new(s, PollFlags::OUT));
            which.push(2);
        }
        if let Some(p) = pidfd {
            fds.push(PollFd::new(p, PollFlags::IN));
            which.push(3);
        }
        let ts = Timespec {
            tv_sec: wait.as_secs() as i64,
            tv_nsec: i64::from(wait.subsec_nanos()),
        };
        match rustix::event::poll(&mut fds, Some(&ts)) {
            Ok(_) => {}
            Err(rustix::io::Errno::INTR) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        let ready: Vec<usize> = fds
            .iter()
            .zip(&which)
            .filter(|(f, _)| !f.revents().is_empty())
            .map(|(_, &w)| w)
            .collect();
        drop(fds);
        for w in ready {
            match w {
                0 | 1 => self.read(w),
                2 => self.write_input(),
                _ => {}
            }
        }
        Ok(())
    }

    /// Read what is there (until it would block, end of file or the cap).
    fn read(&mut self, i: usize) {
        let cap = self.cap;
        let out = &mut self.out[i];
        let mut chunk = [0u8; 65536];
        while let Some(pipe) = out.pipe.as_mut() {
            match pipe.read(&mut chunk) {
                Ok(0) => out.pipe = None,
                Ok(n) => {
                    let room = cap.saturating_sub(out.buf.len());
                    out.buf.extend_from_slice(&chunk[..n.min(room)]);
                    if n > room {
                        if self.flood.is_none() {
                            self.flood = Some(if i == 0 {
                                Stream::Stdout
                            } else {
                                Stream::Stderr
                            });
                        }
                        out.pipe = None;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => out.pipe = None,
            }
        }
    }

    fn write_input(&mut self) {
        while let Some(s) = self.stdin.as_mut() {
            if self.written >= self.input.len() {
                self.stdin = None; // close: end of file for the child
                break;
            }
            match s.write(&self.input[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => self.stdin = None, // the child closed its end
            }
        }
    }

    /// After the end: read what is left until end of file or `deadline`.
    fn drain(&mut self, deadline: Instant) {
        self.stdin = None;
        while self.out.iter().any(|o| o.pipe.is_some()) {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            if self.poll(None, deadline - now).is_err() {
                break;
            }
        }
        for o in &mut self.out {
            o.pipe = None;
        }
    }
}

struct Swept {
    killed: usize,
    survivors: usize,
}

/// Kill and reap every process of the run (see the module docs), until none is left or
/// `deadline`.
fn sweep(ids: &RunIds<'_>, deadline: Instant) -> Swept {
    let me = std::process::id() as i32;
    let strict = STRICT.load(Ordering::SeqCst);
    // pid -> start time of every process killed; they are waited for until they are gone.
    let mut killed: HashMap<i32, u64> = HashMap::new();
    loop {
        let ours = ours();
        // If another run's main process now has the number of ours, its group is not ours.
        let group_is_ours = !ours.contains(&ids.pgid);
        // First look (to know what was there), then kill.
        let in_cgroup: HashSet<i32> = ids
            .cgroup
            .map(|c| c.members())
            .unwrap_or_default()
            .into_iter()
            .collect();
        let mut found = 0;
        let mut pending = 0;
        let mut zombies = Vec::new();
        for st in procfs::all_stats() {
            if st.pid == me || (ours.contains(&st.pid) && st.ppid == me) {
                continue;
            }
            let zombie = st.state == b'Z' || st.state == b'X';
            let mine = st.ppid == me;
            let member = in_cgroup.contains(&st.pid)
                || (group_is_ours && (st.pgrp == ids.pgid || st.session == ids.pgid))
                || (mine && !zombie && procfs::environ_has(st.pid, &ids.tag))
                || killed.get(&st.pid) == Some(&st.starttime)
                // A zombie child killed with the cgroup before we saw it alive.
                || (mine && zombie && ids.cgroup.is_some_and(|c| c.owns(st.pid)))
                // Strict mode: any orphan of ours that we did not start. The check is
                // made under the lock that `run` holds while it spawns and registers a
                // child, so a child being started right now is not taken for an orphan.
                || (mine && strict && !is_ours_now(st.pid));
            if !member {
                continue;
            }
            if zombie {
                if mine {
                    zombies.push(st.pid);
                } else {
                    pending += 1; // its parent (being killed) will go, then it comes to us
                }
                continue;
            }
            kill_pid(st.pid);
            killed.insert(st.pid, st.starttime);
            found += 1;
        }
        // Whatever started meanwhile.
        if let Some(c) = ids.cgroup {
            c.kill_all();
        }
        if group_is_ours {
            kill_group(ids.pgid);
        }
        for pid in zombies {
            if let Some(p) = Pid::from_raw(pid) {
                let _ = rustix::process::waitpid(Some(p), rustix::process::WaitOptions::NOHANG);
            }
        }
        if found == 0 && pending == 0 {
            return Swept {
                killed: killed.len(),
                survivors: 0,
            };
        }
        if Instant::now() >= deadline {
            return Swept {
                killed: killed.len(),
                survivors: found + pending,
            };
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A directory for a run (removed when dropped).
pub(crate) fn temp_dir(root: Option<&Path>, prefix: &str) -> io::Result<tempfile::TempDir> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    match root {
        Some(r) => b.tempdir_in(r),
        None => b.tempdir(),
    }
}

/// The environment a vkernel run gets: a minimal, predictable one.
pub(crate) fn clean_env(home: &Path) -> Vec<(OsString, OsString)> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    vec![
        ("PATH".into(), path),
        ("HOME".into(), home.into()),
        ("TMPDIR".into(), home.into()),
        ("LANG".into(), "C".into()),
        ("LC_ALL".into(), "C".into()),
    ]
}
