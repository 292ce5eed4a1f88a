//! Scheduling: the run queue (a [`Policy`]), wait channels, and timed sleeps.
//!
//! A process that must wait sleeps on a [`Chan`]; `Kernel::wakeup(chan)` makes every
//! process sleeping on it runnable again. A sleep can also carry a deadline (`nanosleep`,
//! timeouts); the timer tick wakes those whose deadline has passed. The mechanics of
//! switching live in `kthread.rs` and `kernel.rs`; the choice of who runs is the policy's.

pub mod kthread;
#[cfg_attr(
    feature = "reference-sched",
    path = "../../../reference-solution/src/sched/policy.rs"
)]
pub mod policy;

pub use policy::{Mlfq, Pid, Policy, RoundRobin, Why};

// ANCHOR: chan
/// What a sleeping process waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Chan {
    /// A child of this process to change state (`wait4`).
    Child(Pid),
    /// A pipe to gain data or room (the pipe's id).
    Pipe(u64),
    /// Console input.
    Console,
    /// Only the clock (`nanosleep`).
    Clock,
}
// ANCHOR_END: chan

/// Which policy to schedule with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// Round robin.
    RoundRobin,
    /// Multilevel feedback queue.
    Mlfq,
}

// ANCHOR: policy-kind-build
impl PolicyKind {
    /// A fresh policy of this kind.
    pub fn build(self) -> Box<dyn Policy> {
        match self {
            PolicyKind::RoundRobin => Box::new(RoundRobin::new(1)),
            PolicyKind::Mlfq => Box::new(Mlfq::new()),
        }
    }
}
// ANCHOR_END: policy-kind-build
