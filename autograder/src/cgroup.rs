//! Per-run control groups, where the host lets us make them.
//!
//! Each run gets a cgroup in every hierarchy we can write: the cgroup v2 hierarchy (it
//! tracks every process of the run, even one that left its session, and `cgroup.kill`
//! kills them all at once; with the `pids` and `memory` controllers it also sets
//! `pids.max` and `memory.max`), and, on hosts that still mount cgroup v1 controllers, the
//! v1 `pids` and `memory` hierarchies (`pids.max`, `memory.limit_in_bytes`). The child joins
//! them itself before `exec` by writing `0` to `cgroup.procs` descriptors the grader opened.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    V2,
    V1Pids,
    V1Memory,
}

/// The cgroups of the grader process itself, one per usable hierarchy.
#[derive(Debug, Default)]
struct Hosts {
    v2: Option<PathBuf>,
    v1_pids: Option<PathBuf>,
    v1_memory: Option<PathBuf>,
}

fn hosts() -> &'static Hosts {
    static HOSTS: OnceLock<Hosts> = OnceLock::new();
    HOSTS.get_or_init(|| {
        let mountinfo = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let own = fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
        detect(&mountinfo, &own)
    })
}

/// Find the grader's own cgroup directories from `/proc/self/mountinfo` and
/// `/proc/self/cgroup`.
fn detect(mountinfo: &str, own: &str) -> Hosts {
    // (controllers or "" for v2) -> own path in that hierarchy
    let mut own_v2 = None;
    let mut own_v1: Vec<(Vec<&str>, &str)> = Vec::new();
    for line in own.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_id), Some(ctrls), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if ctrls.is_empty() {
            own_v2 = Some(path);
        } else {
            own_v1.push((ctrls.split(',').collect(), path));
        }
    }
    let mut hosts = Hosts::default();
    for line in mountinfo.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let left: Vec<&str> = left.split_whitespace().collect();
        let right: Vec<&str> = right.split_whitespace().collect();
        let (Some(&root), Some(&mount), Some(&fstype)) = (left.get(3), left.get(4), right.first())
        else {
            continue;
        };
        let join = |own_path: &str| -> Option<PathBuf> {
            let rel = own_path.strip_prefix(root)?;
            let rel = rel.trim_start_matches('/');
            Some(Path::new(mount).join(rel))
        };
        if fstype == "cgroup2" {
            if let Some(p) = own_v2 {
                hosts.v2 = hosts.v2.take().or_else(|| join(p));
            }
        } else if fstype == "cgroup" {
            let opts: Vec<&str> = right.get(2).map_or(vec![], |o| o.split(',').collect());
            for (ctrl, slot) in [
                ("pids", &mut hosts.v1_pids),
                ("memory", &mut hosts.v1_memory),
            ] {
                if slot.is_none() && opts.contains(&ctrl) {
                    if let Some((_, p)) = own_v1.iter().find(|(c, _)| c.contains(&ctrl)) {
                        *slot = join(p);
                    }
                }
            }
        }
    }
    hosts
}

/// The parent directory `autograder-<pid>` of the runs in each hierarchy; made on first use,
/// removed when the last run is over.
struct Parents {
    active: usize,
}

static PARENTS: Mutex<Parents> = Mutex::new(Parents { active: 0 });
static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Remove the empty cgroups a grader that died (killed, say) left behind.
fn remove_stale(host: &Path) {
    let Ok(entries) = fs::read_dir(host) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix("autograder-"))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        if let Ok(runs) = fs::read_dir(e.path()) {
            for r in runs.flatten() {
                if r.file_name().to_string_lossy().starts_with("run-") {
                    let _ = fs::remove_dir(r.path()); // fails if still populated
                }
            }
        }
        let _ = fs::remove_dir(e.path());
    }
}

fn parent_dir(host: &Path) -> PathBuf {
    host.join(format!("autograder-{}", std::process::id()))
}

/// Limits to set where a controller is available.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CgroupLimits {
    pub pids_max: u64,
    pub memory_max: u64,
}

#[derive(Debug)]
struct Dir {
    kind: Kind,
    path: PathBuf,
    pids_limited: bool,
    memory_limited: bool,
}

/// The cgroups of one run.
#[derive(Debug)]
pub(crate) struct RunCgroup {
    dirs: Vec<Dir>,
    /// `/autograder-<pid>/run-<n>`: how the run's cgroup ends in `/proc/PID/cgroup`.
    marker: String,
    /// `cgroup.procs` of each dir, open for writing; the child writes `0` to join.
    procs: Arc<Vec<File>>,
}

fn write_file(path: &Path, value: &str) -> std::io::Result<()> {
    fs::write(path, value)
}

impl RunCgroup {
    /// Make the cgroups of a new run; `None` when no hierarchy is writable.
    pub(crate) fn create(limits: CgroupLimits) -> Option<RunCgroup> {
        let hosts = hosts();
        let n = RUN_COUNTER.fetch_add(1, Ordering::Relaxed);
        let mut parents = PARENTS.lock().unwrap_or_else(|e| e.into_inner());
        let mut dirs = Vec::new();
        let mut procs = Vec::new();
        for (kind, host) in [
            (Kind::V2, &hosts.v2),
            (Kind::V1Pids, &hosts.v1_pids),
            (Kind::V1Memory, &hosts.v1_memory),
        ] {
            let Some(host) = host else { continue };
            let parent = parent_dir(host);
            if !parent.is_dir() {
                remove_stale(host);
                if fs::create_dir(&parent).is_err() {
                    continue;
                }
                if kind == Kind::V2 {
                    // Best effort: delegate the controllers down to the runs. This fails
                    // (EBUSY) where the grader's own cgroup holds processes and is not
                    // the root; the runs are still tracked and killed as a group then.
                    for ctrl in ["+pids", "+memory"] {
                        let _ = write_file(&host.join("cgroup.subtree_control"), ctrl);
                        let _ = write_file(&parent.join("cgroup.subtree_control"), ctrl);
                    }
                }
            }
            let dir = parent.join(format!("run-{n}"));
            if fs::create_dir(&dir).is_err() {
                continue;
            }
            let (pids_file, mem_file) = match kind {
                Kind::V2 => ("pids.max", "memory.max"),
                Kind::V1Pids => ("pids.max", ""),
                Kind::V1Memory => ("", "memory.limit_in_bytes"),
            };
            let pids_limited = !pids_file.is_empty()
                && write_file(&dir.join(pids_file), &limits.pids_max.to_string()).is_ok();
            let memory_limited = !mem_file.is_empty()
                && write_file(&dir.join(mem_file), &limits.memory_max.to_string()).is_ok();
            if memory_limited && kind == Kind::V2 {
                let _ = write_file(&dir.join("memory.swap.max"), "0");
            }
            let useful = kind == Kind::V2 || pids_limited || memory_limited;
            let file = OpenOptions::new()
                .write(true)
                .custom_flags(rustix::fs::OFlags::CLOEXEC.bits() as i32)
                .open(dir.join("cgroup.procs"));
            match file {
                Ok(f) if useful => {
                    procs.push(f);
                    dirs.push(Dir {
                        kind,
                        path: dir,
                        pids_limited,
                        memory_limited,
                    });
                }
                _ => {
                    let _ = fs::remove_dir(&dir);
                }
            }
        }
        if dirs.is_empty() {
            return None;
        }
        parents.active += 1;
        Some(RunCgroup {
            dirs,
            marker: format!("/autograder-{}/run-{n}", std::process::id()),
            procs: Arc::new(procs),
        })
    }

    /// The `cgroup.procs` files the child writes `0` to (before `exec`).
    pub(crate) fn join_files(&self) -> Arc<Vec<File>> {
        Arc::clone(&self.procs)
    }

    /// Whether `pids.max` is in force.
    pub(crate) fn pids_limited(&self) -> bool {
        self.dirs.iter().any(|d| d.pids_limited)
    }

    /// Whether a memory limit is in force.
    pub(crate) fn memory_limited(&self) -> bool {
        self.dirs.iter().any(|d| d.memory_limited)
    }

    /// One line for people: which cgroups and limits.
    pub(crate) fn describe(&self, limits: CgroupLimits) -> String {
        let mut parts = Vec::new();
        for d in &self.dirs {
            let mut s = match d.kind {
                Kind::V2 => "cgroup v2".to_string(),
                Kind::V1Pids => "cgroup v1 pids".to_string(),
                Kind::V1Memory => "cgroup v1 memory".to_string(),
            };
            if d.pids_limited {
                s += &format!(" pids.max={}", limits.pids_max);
            }
            if d.memory_limited {
                s += &format!(" memory={}", crate::units::human_size(limits.memory_max));
            }
            parts.push(s);
        }
        parts.join(", ")
    }

    /// Every process in the run's cgroups.
    pub(crate) fn members(&self) -> Vec<i32> {
        let mut pids = Vec::new();
        for d in &self.dirs {
            if let Ok(text) = fs::read_to_string(d.path.join("cgroup.procs")) {
                for p in text.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
                    if !pids.contains(&p) {
                        pids.push(p);
                    }
                }
            }
        }
        pids
    }

    /// Whether process `pid` is (or, for a zombie, was when it died) in the run's cgroups:
    /// `/proc/PID/cgroup` keeps a dead process's cgroup until it is reaped.
    pub(crate) fn owns(&self, pid: i32) -> bool {
        let Ok(text) = fs::read_to_string(format!("/proc/{pid}/cgroup")) else {
            return false;
        };
        text.lines().any(|l| {
            l.match_indices(&self.marker)
                .any(|(i, m)| matches!(l[i + m.len()..].chars().next(), None | Some(' ' | '/')))
        })
    }

    /// Kill everything in the cgroups: `cgroup.kill` where there is one, else each member.
    pub(crate) fn kill_all(&self) {
        let mut killed_by_file = false;
        for d in &self.dirs {
            if d.kind == Kind::V2 && write_file(&d.path.join("cgroup.kill"), "1").is_ok() {
                killed_by_file = true;
            }
        }
        if !killed_by_file || self.dirs.len() > 1 {
            for pid in self.members() {
                crate::sandbox::kill_pid(pid);
            }
        }
    }

    /// What the limits did during the run (for the report).
    pub(crate) fn events(&self, limits: CgroupLimits) -> Vec<String> {
        let mut notes = Vec::new();
        let count = |path: PathBuf, key: &str| -> u64 {
            fs::read_to_string(path)
                .ok()
                .and_then(|t| {
                    t.lines().find_map(|l| {
                        let (k, v) = l.split_once(' ')?;
                        (k == key).then(|| v.trim().parse().ok()).flatten()
                    })
                })
                .unwrap_or(0)
        };
        let mut pids_hits = 0;
        let mut ooms = 0;
        for d in &self.dirs {
            if d.pids_limited {
                pids_hits = pids_hits.max(count(d.path.join("pids.events"), "max"));
            }
            if d.memory_limited {
                let file = if d.kind == Kind::V2 {
                    "memory.events"
                } else {
                    "memory.oom_control"
                };
                ooms = ooms.max(count(d.path.join(file), "oom_kill"));
            }
        }
        if pids_hits > 0 {
            notes.push(format!(
                "the run hit its process limit (pids.max = {}): {pids_hits} forks failed",
                limits.pids_max
            ));
        }
        if ooms > 0 {
            notes.push(format!(
                "the run hit its memory limit ({}): {ooms} processes were killed",
                crate::units::human_size(limits.memory_max)
            ));
        }
        notes
    }

    /// Remove the cgroups (they must be empty; retried for a while as the last processes
    /// finish exiting).
    pub(crate) fn remove(self) {
        let deadline = Instant::now() + Duration::from_secs(2);
        for d in &self.dirs {
            while fs::remove_dir(&d.path).is_err() && d.path.exists() && Instant::now() < deadline {
                self.kill_all();
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        let mut parents = PARENTS.lock().unwrap_or_else(|e| e.into_inner());
        parents.active -= 1;
        if parents.active == 0 {
            let hosts = hosts();
            for host in [&hosts.v2, &hosts.v1_pids, &hosts.v1_memory]
                .into_iter()
                .flatten()
            {
                let _ = fs::remove_dir(parent_dir(host));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_hybrid_hierarchies() {
        let mountinfo = "\
30 25 0:26 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
40 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 30 0:36 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
42 30 0:37 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct";
        let own = "8:pids:/\n4:memory:/job/1\n2:cpu,cpuacct:/\n0::/user.slice/x.scope\n";
        let h = detect(mountinfo, own);
        assert_eq!(
            h.v2.unwrap(),
            Path::new("/sys/fs/cgroup/unified/user.slice/x.scope")
        );
        assert_eq!(h.v1_pids.unwrap(), Path::new("/sys/fs/cgroup/pids"));
        assert_eq!(
            h.v1_memory.unwrap(),
            Path::new("/sys/fs/cgroup/memory/job/1")
        );
    }

    #[test]
    fn detects_pure_v2_with_a_mount_root() {
        let mountinfo = "31 25 0:27 /ns /sys/fs/cgroup rw - cgroup2 cgroup2 rw";
        let h = detect(mountinfo, "0::/ns/app\n");
        assert_eq!(h.v2.unwrap(), Path::new("/sys/fs/cgroup/app"));
        assert!(h.v1_pids.is_none());
    }
}
