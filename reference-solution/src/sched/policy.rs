//! Scheduling policies: who runs next, and when a running process must give up the CPU.
//!
//! The scheduler (`sched/mod.rs`) asks a [`Policy`] three things: `enqueue` a process
//! that became runnable, `pick` the next one to run, and on every timer `tick` whether the
//! running one has used up its time. Two policies: [`RoundRobin`] (one queue, a fixed
//! quantum) and [`Mlfq`] (a multilevel feedback queue: new and interactive processes stay
//! at high priority, CPU hogs sink, and everyone is lifted back up periodically so nobody
//! starves). Policies know nothing of processes beyond their pid, so they are tested with
//! a fake clock below.

use std::collections::{HashMap, VecDeque};

/// A process id.
pub type Pid = u32;

// ANCHOR: why
/// Why a process is being queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// It was just created.
    New,
    /// It woke from a sleep.
    Woken,
    /// Its quantum ran out.
    Preempted,
    /// It gave up the CPU itself (`sched_yield`).
    Yielded,
}
// ANCHOR_END: why

// ANCHOR: policy-trait
/// A scheduling policy.
pub trait Policy: std::fmt::Debug {
    /// A short name (`rr`, `mlfq`).
    fn name(&self) -> &'static str;
    /// `pid` became runnable.
    fn enqueue(&mut self, pid: Pid, why: Why);
    /// The next process to run (removed from the queue), if any.
    fn pick(&mut self) -> Option<Pid>;
    /// A timer tick while `pid` runs; `true` means preempt it now.
    fn tick(&mut self, pid: Pid) -> bool;
    /// `pid` is gone (exited); forget it.
    fn remove(&mut self, pid: Pid);
    /// Number of queued processes.
    fn len(&self) -> usize;
    /// No process queued.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
// ANCHOR_END: policy-trait

// ANCHOR: rr-struct
/// Round robin: one FIFO queue, a quantum of `quantum` ticks.
#[derive(Debug)]
pub struct RoundRobin {
    queue: VecDeque<Pid>,
    quantum: u32,
    used: u32,
}
// ANCHOR_END: rr-struct

impl RoundRobin {
    /// Round robin with a quantum of `quantum` ticks (at least 1).
    pub fn new(quantum: u32) -> Self {
        RoundRobin {
            queue: VecDeque::new(),
            quantum: quantum.max(1),
            used: 0,
        }
    }
}

impl Policy for RoundRobin {
    fn name(&self) -> &'static str {
        "rr"
    }

    // ANCHOR: rr-holes
    fn enqueue(&mut self, pid: Pid, _why: Why) {
        debug_assert!(
            !self.queue.contains(&pid),
            "RoundRobin::enqueue: {pid} queued twice"
        );
        self.queue.push_back(pid);
    }

    fn pick(&mut self) -> Option<Pid> {
        self.used = 0;
        self.queue.pop_front()
    }

    fn tick(&mut self, _pid: Pid) -> bool {
        self.used += 1;
        self.used >= self.quantum
    }
    // ANCHOR_END: rr-holes

    fn remove(&mut self, pid: Pid) {
        self.queue.retain(|&p| p != pid);
    }

    fn len(&self) -> usize {
        self.queue.len()
    }
}

// ANCHOR: mlfq-struct
/// Levels of the multilevel feedback queue.
const LEVELS: usize = 3;
/// Quantum (ticks) of each level: short at the top, long at the bottom.
const QUANTA: [u32; LEVELS] = [1, 2, 4];
/// Every this many ticks all processes return to the top level.
const BOOST_PERIOD: u64 = 50;

/// A multilevel feedback queue.
#[derive(Debug, Default)]
pub struct Mlfq {
    queues: [VecDeque<Pid>; LEVELS],
    level: HashMap<Pid, usize>,
    used: HashMap<Pid, u32>,
    ticks: u64,
}
// ANCHOR_END: mlfq-struct

impl Mlfq {
    /// An empty MLFQ.
    pub fn new() -> Self {
        Self::default()
    }

    /// The level of `pid` (0 = highest priority).
    pub fn level_of(&self, pid: Pid) -> usize {
        self.level.get(&pid).copied().unwrap_or(0)
    }

    // ANCHOR: mlfq-boost
    fn boost(&mut self) {
        for l in 1..LEVELS {
            while let Some(p) = self.queues[l].pop_front() {
                self.queues[0].push_back(p);
            }
        }
        for l in self.level.values_mut() {
            *l = 0;
        }
        self.used.clear();
    }
    // ANCHOR_END: mlfq-boost
}

impl Policy for Mlfq {
    fn name(&self) -> &'static str {
        "mlfq"
    }

    // ANCHOR: mlfq-holes
    fn enqueue(&mut self, pid: Pid, why: Why) {
        let level = match why {
            Why::New => 0,
            Why::Preempted => {
                // Used a whole quantum: sink one level.
                self.used.insert(pid, 0);
                (self.level_of(pid) + 1).min(LEVELS - 1)
            }
            Why::Woken | Why::Yielded => self.level_of(pid),
        };
        self.level.insert(pid, level);
        self.queues[level].push_back(pid);
    }

    fn pick(&mut self) -> Option<Pid> {
        self.queues.iter_mut().find_map(|q| q.pop_front())
    }

    fn tick(&mut self, pid: Pid) -> bool {
        self.ticks += 1;
        if self.ticks.is_multiple_of(BOOST_PERIOD) {
            self.boost();
        }
        let level = self.level_of(pid);
        let used = self.used.entry(pid).or_insert(0);
        *used += 1;
        // A higher-priority process waiting also ends the quantum.
        let better_waiting = self.queues[..level].iter().any(|q| !q.is_empty());
        *used >= QUANTA[level] || better_waiting
    }
    // ANCHOR_END: mlfq-holes

    fn remove(&mut self, pid: Pid) {
        for q in &mut self.queues {
            q.retain(|&p| p != pid);
        }
        self.level.remove(&pid);
        self.used.remove(&pid);
    }

    fn len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ANCHOR: simulate
    /// Run `ticks` ticks of CPU-bound processes `pids` under `policy`; returns ticks used
    /// by each, in order.
    fn simulate(policy: &mut dyn Policy, pids: &[Pid], ticks: u32) -> Vec<u32> {
        for &p in pids {
            policy.enqueue(p, Why::New);
        }
        let mut used = vec![0; pids.len()];
        let mut running = policy.pick();
        for _ in 0..ticks {
            let p = running.expect("a CPU-bound process is always runnable");
            used[pids.iter().position(|&x| x == p).unwrap()] += 1;
            if policy.tick(p) {
                policy.enqueue(p, Why::Preempted);
                running = policy.pick();
            }
        }
        used
    }
    // ANCHOR_END: simulate

    #[test]
    fn round_robin_shares_the_cpu_equally() {
        let used = simulate(&mut RoundRobin::new(2), &[1, 2, 3], 600);
        assert_eq!(used, vec![200, 200, 200]);
    }

    #[test]
    fn mlfq_shares_between_hogs_within_a_tolerance() {
        let used = simulate(&mut Mlfq::new(), &[1, 2, 3, 4], 4000);
        for u in &used {
            assert!((900..=1100).contains(u), "unfair shares {used:?}");
        }
    }

    // ANCHOR: test-sleepers-on-top
    #[test]
    fn mlfq_demotes_hogs_and_keeps_sleepers_on_top() {
        let mut m = Mlfq::new();
        m.enqueue(1, Why::New);
        assert_eq!(m.pick(), Some(1));
        assert!(m.tick(1), "level 0 has a one-tick quantum");
        m.enqueue(1, Why::Preempted);
        assert_eq!(m.level_of(1), 1);
        // An interactive process that sleeps before its quantum ends stays on top and
        // runs before the hog.
        m.enqueue(2, Why::New);
        assert_eq!(m.pick(), Some(2));
        m.enqueue(2, Why::Woken);
        assert_eq!(m.level_of(2), 0);
        assert_eq!(m.pick(), Some(2));
        assert_eq!(m.pick(), Some(1));
        assert!(m.pick().is_none());
    }
    // ANCHOR_END: test-sleepers-on-top

    #[test]
    fn mlfq_boost_prevents_starvation() {
        let mut m = Mlfq::new();
        m.enqueue(1, Why::New);
        for _ in 0..3 {
            let p = m.pick().unwrap();
            // A quantum is a few ticks; a tick() that never says so fails, not hangs.
            assert!(
                (0..64).any(|_| m.tick(p)),
                "tick() never reported the quantum used up"
            );
            m.enqueue(p, Why::Preempted);
        }
        assert_eq!(m.level_of(1), 2);
        for _ in 0..BOOST_PERIOD {
            let p = m.pick().unwrap();
            m.tick(p);
            m.enqueue(p, Why::Yielded);
        }
        assert_eq!(m.level_of(1), 0, "boosted back to the top");
    }

    #[test]
    fn removed_processes_are_never_picked() {
        for policy in [&mut RoundRobin::new(1) as &mut dyn Policy, &mut Mlfq::new()] {
            policy.enqueue(1, Why::New);
            policy.enqueue(2, Why::New);
            policy.remove(1);
            assert_eq!(policy.pick(), Some(2));
            assert!(policy.pick().is_none());
            assert!(policy.is_empty());
        }
    }
}
