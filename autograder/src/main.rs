//! The `autograder` command: grade a lab on a kernel binary, or a batch of submissions.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use autograder::batch::{run_batch, BatchOptions};
use autograder::build::BuildOptions;
use autograder::grade::{default_jobs, grade, GradeOptions, Progress};
use autograder::lab::{self, Lab};
use autograder::report::{gradescope, json, junit, terminal};
use autograder::run::RunOptions;
use autograder::units::{parse_duration, parse_size, points};
use autograder::{sandbox, seed, Error};
use clap::{Args, Parser, Subcommand, ValueEnum};

/// Boots a vkernel binary with each test of a lab, checks, scores and reports.
#[derive(Debug, Parser)]
#[command(
    name = "autograder",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Exit status: 0 when every test passed, 1 when some failed, 2 for errors \
                  (bad lab file, missing kernel, bad options).\n\n\
                  Examples:\n  autograder --lab labs/vm/lab.toml --kernel target/release/vkernel\n  \
                  autograder --lab labs/vm/lab.toml --kernel K --test hello_runs --seed 42\n  \
                  autograder batch --lab labs/vm/lab.toml --pristine kernel --submissions subs --out graded"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    grade: GradeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build and grade every submission (subfolder) of a folder.
    Batch(Box<BatchArgs>),
    /// Print `{checksum:N}` for a seed (what guest test programs must compute).
    Checksum {
        /// The seed.
        #[arg(long)]
        seed: u64,
        /// How many stream bytes.
        #[arg(long)]
        bytes: u64,
    },
}

#[derive(Debug, Args)]
struct Common {
    /// The lab definition (TOML).
    #[arg(long, required = true, value_name = "LAB.toml")]
    lab: Option<PathBuf>,
    /// Run only this test (repeatable).
    #[arg(long = "test", value_name = "NAME")]
    tests: Vec<String>,
    /// Seed of `{seed}` and `{checksum:N}` (default: a random one, always printed).
    #[arg(long)]
    seed: Option<u64>,
    /// Tests run at once (default: number of CPUs).
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// A folder of hidden tests: `<DIR>/<lab>.toml` is added if it exists.
    #[arg(long, value_name = "DIR")]
    hidden: Option<PathBuf>,
    /// Multiply every timeout by this (slow machines).
    #[arg(long, default_value_t = 1.0)]
    timeout_scale: f64,
    /// Output cap per stream (e.g. 1M); a run beyond it is killed ("output flood").
    #[arg(long, default_value = "1M", value_parser = parse_size)]
    output_cap: u64,
    /// Process limit of a run (cgroup pids.max, or RLIMIT_NPROC margin).
    #[arg(long, default_value_t = autograder::run::DEFAULT_PIDS_MAX)]
    pids_max: u64,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
struct GradeArgs {
    #[command(flatten)]
    common: Common,
    /// The vkernel binary to grade.
    #[arg(long, required = true, value_name = "PATH")]
    kernel: Option<PathBuf>,
    /// Print the report as JSON on stdout instead of the terminal report.
    #[arg(long)]
    json: bool,
    /// Also write Gradescope's results.json here.
    #[arg(long, value_name = "OUT")]
    gradescope: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "OUT")]
    junit: Option<PathBuf>,
    /// Where the console logs go (default target/autograder/<lab> when ./target exists,
    /// else autograder-logs/<lab>).
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct BatchArgs {
    #[command(flatten)]
    common: Common,
    /// The pristine kernel tree (a cargo workspace root).
    #[arg(long, value_name = "TREE")]
    pristine: PathBuf,
    /// A folder with one subfolder per submission.
    #[arg(long, value_name = "DIR")]
    submissions: PathBuf,
    /// Where the reports go.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Submissions built and graded at once.
    #[arg(long, default_value_t = 1)]
    parallel: usize,
    /// Time limit of each build.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    build_timeout: Duration,
    /// One CARGO_TARGET_DIR shared by all builds (faster).
    #[arg(long, value_name = "DIR")]
    shared_target: Option<PathBuf>,
    /// Keep each submission's target/ folder.
    #[arg(long)]
    keep_target: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // This program's only children are runs: any orphan that reaches it is killed.
    sandbox::set_strict_orphan_reaping(true);
    sandbox::become_subreaper();
    let result = match cli.command {
        Some(Command::Checksum { seed, bytes }) => {
            if bytes > seed::MAX_CHECKSUM_BYTES {
                Err(Error::Other(format!(
                    "at most {} bytes",
                    seed::MAX_CHECKSUM_BYTES
                )))
            } else {
                println!("{}", seed::checksum(seed, bytes));
                Ok(ExitCode::SUCCESS)
            }
        }
        Some(Command::Batch(b)) => batch(*b),
        None => grade_cmd(cli.grade),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("autograder: {e}");
            ExitCode::from(2)
        }
    }
}

fn set_color(c: Color) {
    match c {
        Color::Auto => {}
        Color::Always => anstream::ColorChoice::Always.write_global(),
        Color::Never => anstream::ColorChoice::Never.write_global(),
    }
}

fn load_lab(c: &Common) -> Result<Lab, Error> {
    let path = c.lab.as_ref().expect("clap requires --lab");
    let lab = match &c.hidden {
        Some(dir) => lab::load_with_hidden(path, dir)?,
        None => lab::load(path)?,
    };
    lab.select(&c.tests)?;
    Ok(lab)
}

fn run_options(c: &Common, seed: u64, log_dir: PathBuf) -> RunOptions {
    RunOptions {
        seed,
        log_dir,
        output_cap: c.output_cap as usize,
        timeout_scale: c.timeout_scale,
        pids_max: c.pids_max,
        ..RunOptions::default()
    }
}

fn progress_bar(
    total: usize,
) -> (
    Option<Arc<indicatif::ProgressBar>>,
    autograder::grade::ProgressFn,
) {
    let tty = std::io::stderr().is_terminal();
    let bar = tty.then(|| {
        let b = indicatif::ProgressBar::new(total as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} {wide_msg}")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        b.enable_steady_tick(Duration::from_millis(100));
        Arc::new(b)
    });
    let b2 = bar.clone();
    let running = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let f: autograder::grade::ProgressFn = Arc::new(move |p| {
        let mut running = running.lock().unwrap_or_else(|e| e.into_inner());
        match p {
            Progress::Started { name } => running.push(name.to_string()),
            Progress::Finished {
                result,
                done,
                total,
            } => {
                running.retain(|n| n != &result.name);
                let line = terminal::test_line(result);
                match &b2 {
                    Some(b) => {
                        b.set_position(done as u64);
                        b.suspend(|| {
                            let _ = writeln!(anstream::stderr(), "  {line}");
                        });
                    }
                    None => {
                        let _ = writeln!(anstream::stderr(), "  [{done}/{total}] {line}");
                    }
                }
            }
        }
        if let Some(b) = &b2 {
            b.set_message(running.join(", "));
        }
    });
    (bar, f)
}

fn grade_cmd(a: GradeArgs) -> Result<ExitCode, Error> {
    set_color(a.common.color);
    let lab = load_lab(&a.common)?;
    let kernel = a.kernel.clone().expect("clap requires --kernel");
    if !kernel.is_file() {
        return Err(Error::Other(format!(
            "{}: no such kernel binary",
            kernel.display()
        )));
    }
    let seed = a.common.seed.unwrap_or_else(seed::random_seed);
    let log_dir = a.log_dir.clone().unwrap_or_else(|| {
        if Path::new("target").is_dir() {
            Path::new("target").join("autograder").join(&lab.name)
        } else {
            Path::new("autograder-logs").join(&lab.name)
        }
    });
    let selected = lab.select(&a.common.tests)?.len();
    let jobs = a.common.jobs.unwrap_or_else(default_jobs).max(1);
    eprintln!(
        "autograder: lab {} ({}), {} test(s), {} point(s), seed {}, {} at a time",
        lab.name,
        lab.title,
        selected,
        points(lab.select(&a.common.tests)?.iter().map(|t| t.points).sum()),
        seed,
        jobs
    );
    let (bar, progress) = progress_bar(selected);
    let opts = GradeOptions {
        jobs,
        tests: a.common.tests.clone(),
        run: run_options(&a.common, seed, log_dir),
        progress: Some(progress),
    };
    let report = grade(&kernel, &lab, &opts);
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if a.json {
        print!("{}", json::to_string(&report));
    } else {
        let _ = write!(anstream::stdout(), "\n{}", terminal::render(&report));
    }
    if let Some(p) = &a.gradescope {
        std::fs::write(p, gradescope::to_string(&report)).map_err(|e| Error::Io {
            path: p.clone(),
            source: e,
        })?;
    }
    if let Some(p) = &a.junit {
        std::fs::write(p, junit::to_string(std::slice::from_ref(&report))).map_err(|e| {
            Error::Io {
                path: p.clone(),
                source: e,
            }
        })?;
    }
    Ok(if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn batch(b: BatchArgs) -> Result<ExitCode, Error> {
    set_color(b.common.color);
    let lab = load_lab(&b.common)?;
    let ids = autograder::batch::submission_ids(&b.submissions)?;
    let seed_text = match b.common.seed {
        Some(s) => format!("seed {s}"),
        None => "a random seed per submission".into(),
    };
    eprintln!(
        "autograder: batch of {} submission(s), lab {}, {seed_text}, {} at a time",
        ids.len(),
        lab.name,
        b.parallel.max(1)
    );
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let total = ids.len();
    let opts = BatchOptions {
        pristine: b.pristine.clone(),
        submissions: b.submissions.clone(),
        out: b.out.clone(),
        seed: b.common.seed,
        parallel: b.parallel.max(1),
        grade: GradeOptions {
            jobs: b.common.jobs.unwrap_or_else(default_jobs).max(1),
            tests: b.common.tests.clone(),
            run: run_options(&b.common, 0, PathBuf::new()),
            progress: None,
        },
        build: BuildOptions {
            timeout: b.build_timeout,
            ..BuildOptions::default()
        },
        shared_target: b.shared_target.clone(),
        keep_target: b.keep_target,
        on_done: Some(Arc::new(move |s| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let what = match &s.build_error {
                Some(e) => format!("build failed: {e}"),
                None => format!(
                    "{}/{} ({} of {} tests passed, seed {})",
                    points(s.report.score()),
                    points(s.report.max_score()),
                    s.report.passed(),
                    s.report.tests.len(),
                    s.report.seed
                ),
            };
            eprintln!("  [{n}/{total}] {}: {what}", s.id);
        })),
    };
    let report = run_batch(&lab, &opts)?;
    eprintln!(
        "autograder: {} submission(s) graded; grade book: {}",
        report.submissions.len(),
        b.out.join("grades.csv").display()
    );
    Ok(ExitCode::SUCCESS)
}
