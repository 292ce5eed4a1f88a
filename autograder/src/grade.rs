//! Grading a lab: every (selected) test, in parallel, into a report.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::lab::Lab;
use crate::run::{run_test, RunOptions, TestResult};

/// What a progress callback hears.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A test started.
    Started {
        /// Its name.
        name: &'a str,
    },
    /// A test finished.
    Finished {
        /// Its result.
        result: &'a TestResult,
        /// How many tests have finished.
        done: usize,
        /// How many tests run in all.
        total: usize,
    },
}

/// A progress callback (called from the worker threads).
pub type ProgressFn = Arc<dyn Fn(Progress<'_>) + Send + Sync>;

/// How to grade.
#[derive(Clone, Default)]
pub struct GradeOptions {
    /// Tests run at once; 0 means one per CPU.
    pub jobs: usize,
    /// Only these tests (all when empty); unknown names are ignored here (check them with
    /// [`Lab::select`]).
    pub tests: Vec<String>,
    /// Options of each run (seed, log dir, limits).
    pub run: RunOptions,
    /// Called as tests start and finish.
    pub progress: Option<ProgressFn>,
}

impl std::fmt::Debug for GradeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GradeOptions")
            .field("jobs", &self.jobs)
            .field("tests", &self.tests)
            .field("run", &self.run)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// The result of grading one lab.
#[derive(Debug, Clone)]
pub struct LabReport {
    /// The lab's name.
    pub lab: String,
    /// Its title.
    pub title: String,
    /// The seed of every run.
    pub seed: u64,
    /// The kernel binary graded.
    pub kernel: PathBuf,
    /// Where the logs are.
    pub log_dir: PathBuf,
    /// One result per test run, in lab order.
    pub tests: Vec<TestResult>,
    /// Wall-clock time of the whole grading.
    pub duration: Duration,
    /// When grading could not run at all (e.g. the build failed): why. Every test then
    /// scores 0.
    pub error: Option<String>,
}

impl LabReport {
    /// Points scored.
    pub fn score(&self) -> f64 {
        self.tests.iter().map(|t| t.score).sum()
    }

    /// Points possible.
    pub fn max_score(&self) -> f64 {
        self.tests.iter().map(|t| t.points).sum()
    }

    /// Tests that passed.
    pub fn passed(&self) -> usize {
        self.tests.iter().filter(|t| t.passed()).count()
    }

    /// Whether every test passed (and grading ran).
    pub fn all_passed(&self) -> bool {
        self.error.is_none() && self.tests.iter().all(|t| t.passed())
    }
}

/// The number of CPUs (at least 1).
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Grade `lab` on `kernel`: run the selected tests, `opts.jobs` at a time, each in its own
/// temp dir; results in lab order.
pub fn grade(kernel: &Path, lab: &Lab, opts: &GradeOptions) -> LabReport {
    let start = Instant::now();
    let tests: Vec<_> = lab
        .tests
        .iter()
        .filter(|t| opts.tests.is_empty() || opts.tests.contains(&t.name))
        .collect();
    let total = tests.len();
    let jobs = if opts.jobs == 0 {
        default_jobs()
    } else {
        opts.jobs
    }
    .clamp(1, total.max(1));
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<TestResult>>> = Mutex::new(vec![None; total]);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(test) = tests.get(i) else { break };
                if let Some(p) = &opts.progress {
                    p(Progress::Started { name: &test.name });
                }
                let r = run_test(kernel, test, &opts.run);
                let d = done.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some(p) = &opts.progress {
                    p(Progress::Finished {
                        result: &r,
                        done: d,
                        total,
                    });
                }
                results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    let tests = results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect();
    LabReport {
        lab: lab.name.clone(),
        title: lab.title.clone(),
        seed: opts.run.seed,
        kernel: kernel.to_path_buf(),
        log_dir: opts.run.log_dir.clone(),
        tests,
        duration: start.elapsed(),
        error: None,
    }
}
