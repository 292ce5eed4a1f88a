//! Batch grading: every submission of a folder is built and graded; per-submission
//! reports and a CSV grade book are written.
//!
//! Layout of `out/`:
//! - `grades.csv`: `id,total,<test>...,note`
//! - `<id>/results.json` (Gradescope), `<id>/report.json` (the autograder's JSON),
//!   `<id>/logs/<test>.log`, `<id>/build.log` when the build failed, `<id>/vkernel`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::build::{build_kernel_with, BuildOptions};
use crate::check::Failure;
use crate::error::Error;
use crate::grade::{grade, GradeOptions, LabReport};
use crate::lab::Lab;
use crate::report::{csv::GradeBook, gradescope, json};
use crate::run::{Outcome, TestResult};
use crate::seed::random_seed;

/// A callback for each finished submission (called from worker threads).
pub type DoneFn = Arc<dyn Fn(&SubmissionResult) + Send + Sync>;

/// What a batch needs.
#[derive(Clone)]
pub struct BatchOptions {
    /// The pristine kernel tree.
    pub pristine: PathBuf,
    /// A folder with one subfolder per submission (its name is the submission's id).
    pub submissions: PathBuf,
    /// Where everything is written.
    pub out: PathBuf,
    /// One seed for every submission; `None`: a new random seed each.
    pub seed: Option<u64>,
    /// Submissions built and graded at once.
    pub parallel: usize,
    /// How each submission is graded (its seed and log dir are set per submission).
    pub grade: GradeOptions,
    /// How each submission is built.
    pub build: BuildOptions,
    /// One `CARGO_TARGET_DIR` for every build (faster; builds then take turns); `None`:
    /// `out/<id>/target`.
    pub shared_target: Option<PathBuf>,
    /// Keep each submission's `target/` (otherwise removed once the binary is copied).
    pub keep_target: bool,
    /// Called when a submission is done.
    pub on_done: Option<DoneFn>,
}

impl std::fmt::Debug for BatchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BatchOptions")
            .field("pristine", &self.pristine)
            .field("submissions", &self.submissions)
            .field("out", &self.out)
            .field("seed", &self.seed)
            .field("parallel", &self.parallel)
            .finish_non_exhaustive()
    }
}

/// The outcome for one submission.
#[derive(Debug, Clone)]
pub struct SubmissionResult {
    /// Its id.
    pub id: String,
    /// Its report (every test at 0 when the build failed).
    pub report: LabReport,
    /// Why it did not build.
    pub build_error: Option<String>,
    /// Its folder under `out/`.
    pub dir: PathBuf,
}

/// The outcome of a batch.
#[derive(Debug, Clone)]
pub struct BatchReport {
    /// One per submission, by id.
    pub submissions: Vec<SubmissionResult>,
    /// The grade book (also written to `out/grades.csv`).
    pub gradebook: GradeBook,
}

/// A report for a submission that could not be graded: every selected test fails with
/// `reason`.
pub fn failed_report(
    lab: &Lab,
    tests: &[String],
    seed: u64,
    kernel: &Path,
    reason: &str,
) -> LabReport {
    let results = lab
        .tests
        .iter()
        .filter(|t| tests.is_empty() || tests.contains(&t.name))
        .map(|t| TestResult {
            name: t.name.clone(),
            points: t.points,
            score: 0.0,
            hidden: t.hidden,
            seed,
            command: Vec::new(),
            outcome: Outcome::SpawnError(reason.to_string()),
            duration: Duration::ZERO,
            stdout: String::new(),
            stderr: String::new(),
            failures: vec![Failure {
                summary: reason.to_string(),
                expected: "a kernel that builds".into(),
                got: "no kernel to run".into(),
                context: Vec::new(),
            }],
            log: None,
            hint: None,
            notes: Vec::new(),
            sandbox: String::new(),
        })
        .collect();
    LabReport {
        lab: lab.name.clone(),
        title: lab.title.clone(),
        seed,
        kernel: kernel.to_path_buf(),
        log_dir: PathBuf::new(),
        tests: results,
        duration: Duration::ZERO,
        error: Some(reason.to_string()),
    }
}

fn write(path: &Path, text: &str) -> Result<(), Error> {
    std::fs::write(path, text).map_err(|e| Error::io(path, e))
}

/// The submission ids: the names of the subfolders (hidden ones skipped), sorted.
pub fn submission_ids(dir: &Path) -> Result<Vec<String>, Error> {
    let mut ids = Vec::new();
    for e in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && e.file_type().map_err(|e| Error::io(dir, e))?.is_dir() {
            ids.push(name);
        }
    }
    ids.sort();
    Ok(ids)
}

fn grade_one(lab: &Lab, opts: &BatchOptions, id: &str) -> Result<SubmissionResult, Error> {
    let start = Instant::now();
    let dir = opts.out.join(id);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let seed = opts.seed.unwrap_or_else(random_seed);
    let target = opts
        .shared_target
        .clone()
        .unwrap_or_else(|| dir.join("target"));
    let built = build_kernel_with(
        &opts.submissions.join(id),
        &opts.pristine,
        lab,
        &target,
        &opts.build,
    );
    let (report, build_error) = match built {
        Ok(bin) => {
            let kernel = dir.join(&opts.build.package);
            std::fs::copy(&bin, &kernel).map_err(|e| Error::io(&kernel, e))?;
            if opts.shared_target.is_none() && !opts.keep_target {
                let _ = std::fs::remove_dir_all(&target);
            }
            let mut g = opts.grade.clone();
            g.run.seed = seed;
            g.run.log_dir = dir.join("logs");
            (grade(&kernel, lab, &g), None)
        }
        Err(Error::Build {
            message, output, ..
        }) => {
            write(&dir.join("build.log"), &output)?;
            let reason = format!("the kernel did not build: {message} (see build.log)");
            let mut r = failed_report(lab, &opts.grade.tests, seed, Path::new(""), &reason);
            r.error = Some(format!("{reason}\n\n{output}"));
            (r, Some(message))
        }
        Err(e) => return Err(e),
    };
    let mut report = report;
    report.duration = start.elapsed();
    write(&dir.join("results.json"), &gradescope::to_string(&report))?;
    write(&dir.join("report.json"), &json::to_string(&report))?;
    Ok(SubmissionResult {
        id: id.to_string(),
        report,
        build_error,
        dir,
    })
}

/// Build and grade every submission, `opts.parallel` at a time; write the reports and
/// `grades.csv`.
pub fn run_batch(lab: &Lab, opts: &BatchOptions) -> Result<BatchReport, Error> {
    let ids = submission_ids(&opts.submissions)?;
    std::fs::create_dir_all(&opts.out).map_err(|e| Error::io(&opts.out, e))?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Result<SubmissionResult, Error>>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..opts.parallel.clamp(1, ids.len().max(1)) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(id) = ids.get(i) else { break };
                let r = grade_one(lab, opts, id);
                if let (Ok(sr), Some(f)) = (&r, &opts.on_done) {
                    f(sr);
                }
                results.lock().unwrap_or_else(|e| e.into_inner()).push(r);
            });
        }
    });
    let mut subs = Vec::new();
    for r in results.into_inner().unwrap_or_else(|e| e.into_inner()) {
        subs.push(r?);
    }
    subs.sort_by(|a, b| a.id.cmp(&b.id));
    let columns = lab
        .tests
        .iter()
        .filter(|t| opts.grade.tests.is_empty() || opts.grade.tests.contains(&t.name))
        .map(|t| t.name.clone())
        .collect();
    let mut book = GradeBook::new(columns);
    for s in &subs {
        let note = match &s.build_error {
            Some(_) => "build failed".to_string(),
            None => String::new(),
        };
        book.add(&s.id, &s.report, &note);
    }
    write(&opts.out.join("grades.csv"), &book.to_csv())?;
    Ok(BatchReport {
        submissions: subs,
        gradebook: book,
    })
}
