//! Processes: the process table and what the kernel keeps for each process.
//!
//! A [`Proc`] is shared (`Rc`) between the process table, its own kernel thread and the
//! system calls that look at it; its fields use `Cell`/`RefCell` and no borrow is ever held
//! across a `sleep`, so a conflicting borrow is a loud kernel bug rather than a silent one.
//! Life cycle: `Runnable` → `Running` → (`Sleeping` → `Runnable` …) → `Zombie` (exited,
//! status kept) → reaped by the parent's `wait4` and removed from the table.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::fs::file::FdTable;
use crate::fs::ramfs::Ino;
use crate::mm::memory::Mm;
use crate::sched::kthread::KThread;
pub use crate::sched::policy::Pid;
use crate::sched::Chan;

// ANCHOR: state
/// Where a process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Waiting in the run queue.
    Runnable,
    /// On the CPU.
    Running,
    /// Waiting on a channel (and maybe a deadline).
    Sleeping,
    /// Exited; its status waits for the parent.
    Zombie,
}
// ANCHOR_END: state

impl State {
    /// The one-letter name `ps` shows.
    pub fn letter(self) -> char {
        match self {
            State::Runnable | State::Running => 'R',
            State::Sleeping => 'S',
            State::Zombie => 'Z',
        }
    }
}

// ANCHOR: proc-struct
/// A process.
#[derive(Debug)]
pub struct Proc {
    /// Its id.
    pub pid: Pid,
    /// Its parent's id (init adopts orphans).
    pub parent: Cell<Pid>,
    /// Its name (the last exec'd program's file name).
    pub name: RefCell<String>,
    /// Where it is in its life.
    pub state: Cell<State>,
    /// The channel it sleeps on.
    pub chan: Cell<Option<Chan>>,
    /// When a timed sleep ends (machine time, ns).
    pub wake_at: Cell<Option<u64>>,
    /// A signal that will end it at the next chance.
    pub killed: Cell<Option<i32>>,
    /// Its wait status once a zombie (Linux encoding).
    pub status: Cell<i32>,
    /// Its memory (gone once it exits).
    pub mm: RefCell<Option<Mm>>,
    /// Its open files.
    pub files: RefCell<FdTable>,
    /// Its working directory.
    pub cwd: Cell<Ino>,
    /// Its kernel thread (taken out while it runs).
    pub thread: RefCell<Option<KThread>>,
    /// Timer ticks it has run for.
    pub ticks: Cell<u64>,
}
// ANCHOR_END: proc-struct

impl Proc {
    /// A new process in state `Runnable` with no memory, files or thread yet.
    pub fn new(pid: Pid, parent: Pid, name: &str, cwd: Ino) -> Proc {
        Proc {
            pid,
            parent: Cell::new(parent),
            name: RefCell::new(name.to_string()),
            state: Cell::new(State::Runnable),
            chan: Cell::new(None),
            wake_at: Cell::new(None),
            killed: Cell::new(None),
            status: Cell::new(0),
            mm: RefCell::new(None),
            files: RefCell::new(FdTable::new()),
            cwd: Cell::new(cwd),
            thread: RefCell::new(None),
            ticks: Cell::new(0),
        }
    }
}

// ANCHOR: wait-status
/// Linux wait-status encodings.
pub mod wait_status {
    /// A normal exit with `code`.
    pub fn exited(code: i32) -> i32 {
        (code & 0xff) << 8
    }

    /// Killed by `signal`.
    pub fn signaled(signal: i32) -> i32 {
        signal & 0x7f
    }
}
// ANCHOR_END: wait-status

/// The process table.
#[derive(Debug)]
pub struct ProcTable {
    procs: BTreeMap<Pid, Rc<Proc>>,
    next_pid: Pid,
    /// Most processes that may exist at once (zombies included).
    pub limit: usize,
}

impl ProcTable {
    /// An empty table allowing `limit` processes.
    pub fn new(limit: usize) -> Self {
        ProcTable {
            procs: BTreeMap::new(),
            next_pid: 1,
            limit,
        }
    }

    // ANCHOR: alloc-pid
    /// A fresh pid, or `None` when the table is full.
    pub fn alloc_pid(&mut self) -> Option<Pid> {
        if self.procs.len() >= self.limit {
            return None;
        }
        let pid = self.next_pid;
        self.next_pid += 1;
        Some(pid)
    }
    // ANCHOR_END: alloc-pid

    /// Add a process.
    ///
    /// # Panics
    /// When its pid is taken.
    pub fn insert(&mut self, p: Rc<Proc>) {
        let old = self.procs.insert(p.pid, p);
        assert!(old.is_none(), "ProcTable::insert: pid reused");
    }

    /// Remove a process (reaped).
    pub fn remove(&mut self, pid: Pid) -> Option<Rc<Proc>> {
        self.procs.remove(&pid)
    }

    /// The process `pid`.
    pub fn get(&self, pid: Pid) -> Option<Rc<Proc>> {
        self.procs.get(&pid).cloned()
    }

    /// All processes in pid order.
    pub fn all(&self) -> Vec<Rc<Proc>> {
        self.procs.values().cloned().collect()
    }

    /// The children of `pid`.
    pub fn children(&self, pid: Pid) -> Vec<Rc<Proc>> {
        self.procs
            .values()
            .filter(|p| p.parent.get() == pid)
            .cloned()
            .collect()
    }

    /// Number of processes (zombies included).
    pub fn len(&self) -> usize {
        self.procs.len()
    }

    /// No processes.
    pub fn is_empty(&self) -> bool {
        self.procs.is_empty()
    }
}
