//! The `autograder` command: grade a lab on a kernel binary, or a batch of submissions.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use autograder::batch::{run_batch, BatchOptions};
use autograder::build::BuildOptions;
use autograder::cli::{BatchArgs, Cli, Color, Command, Common, GradeArgs};
use autograder::grade::{default_jobs, grade, GradeOptions, Progress};
use autograder::lab::{self, Lab};
use autograder::report::{gradescope, json, junit, terminal};
use autograder::run::RunOptions;
use autograder::units::points;
use autograder::{sandbox, seed, Error};
use clap::Parser;

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
