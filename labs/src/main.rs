//! `labs`: the student's command.
//!
//! `labs --lab vm` builds *your* kernel from this tree and grades lab vm with the
//! autograder: a scoreboard with points, each failure with what was expected, what came,
//! the log and a hint. `labs list` shows the labs; `labs boot` boots the kernel to a shell
//! (or runs one command and returns its status).

use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};

use clap::{Parser, Subcommand};

mod book;

/// The student's command for vkernel labs.
#[derive(Debug, Parser)]
#[command(
    name = "labs",
    version,
    about = "vkernel labs: build your kernel, grade a lab, boot to a shell",
    after_help = "Examples:\n  cargo run -p labs -- --lab vm                             grade lab vm\n  \
                  cargo run -p labs -- --lab vm --test copy_small           one test\n  \
                  cargo run -p labs -- --lab fault --with-reference vm      earlier labs solved\n  \
                  cargo run -p labs -- --lab vm --reference                 grade the reference\n  \
                  cargo run -p labs -- prove                                check every lab (CI)\n  \
                  cargo run -p labs -- handout --out ../student-copy        a copy for students\n  \
                  cargo lab vm                                              the same as --lab vm\n  \
                  cargo run -p labs -- list                                 the labs\n  \
                  cargo run -p labs -- boot                                 boot your kernel\n  \
                  cargo run -p labs -- boot --reference                     boot the finished one\n  \
                  cargo run -p labs -- boot -- /bin/sh -c 'echo hi | cat'   run one command\n\n\
                  (Write `--` after `cargo run -p labs`: without it cargo reads --lab itself.)"
)]
struct Cli {
    /// Build your kernel and grade this lab.
    #[arg(long)]
    lab: Option<String>,
    /// With --lab: run only this test (repeatable).
    #[arg(long = "test", value_name = "NAME")]
    tests: Vec<String>,
    /// With --lab: the seed of the seeded checks (default: a new one each run; printed).
    #[arg(long)]
    seed: Option<u64>,
    /// With --lab: grade the reference solution instead of your files.
    #[arg(long, conflicts_with = "with_reference")]
    reference: bool,
    /// With --lab: build with the reference files of these (earlier) labs, e.g. vm,fault.
    #[arg(long, value_delimiter = ',', value_name = "LABS")]
    with_reference: Vec<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the labs with their points and your last score.
    List,
    /// Write a student copy of this tree to DIR: everything but the reference solution,
    /// build output and version-control data.
    Handout {
        /// Where to write it (must not exist yet, or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check every lab's grading (for instructors and CI): the untouched skeleton fails
    /// every test, the reference solution passes every test, and the reference files of
    /// the earlier labs keep those labs passing.
    Prove,
    /// Build the book (mdBook) into book/build, with its generated tables and its checks:
    /// includes resolve, every graded test has an exercise, links work, no warnings.
    Book {
        /// Build into this folder instead of book/build.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Open the book in a browser afterwards (xdg-open).
        #[arg(long)]
        open: bool,
        #[command(subcommand)]
        action: Option<BookAction>,
    },
    /// Boot the kernel with the default initrd: a shell, or the given init command.
    Boot {
        /// Boot the reference solution instead of your kernel.
        #[arg(long)]
        reference: bool,
        /// Options for the kernel (see `vkernel --help`), then `--` and the init command.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "[VKERNEL OPTIONS] [-- INIT ARGS]"
        )]
        args: Vec<String>,
    },
}

/// What `labs book` does besides building.
#[derive(Debug, Subcommand)]
enum BookAction {
    /// The mdBook preprocessor (run by mdBook: `supports RENDERER`, or the book on stdin).
    #[command(hide = true)]
    Preprocess {
        /// What mdBook passes.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

/// The repository root (the workspace this command was built in).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("labs/ has a parent")
        .to_path_buf()
}

/// Every `labs/<name>/lab.toml`, by name.
fn lab_files() -> Vec<(String, PathBuf)> {
    lab_files_in(&root())
}

/// Every `labs/<name>/lab.toml` of the repository at `root`, by name.
fn lab_files_in(root: &Path) -> Vec<(String, PathBuf)> {
    let mut labs: Vec<(String, PathBuf)> = std::fs::read_dir(root.join("labs"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let file = e.path().join("lab.toml");
            file.is_file()
                .then(|| (e.file_name().to_string_lossy().into_owned(), file))
        })
        .collect();
    labs.sort();
    labs
}

/// Where `labs --lab NAME` keeps the score of its last full run.
fn last_score_file(lab: &str) -> PathBuf {
    root()
        .join("target")
        .join("labs")
        .join(lab)
        .join("last-score")
}

fn list() -> ExitCode {
    for (name, file) in lab_files() {
        let last = std::fs::read_to_string(last_score_file(&name))
            .map(|s| format!("  last score {}", s.trim()))
            .unwrap_or_default();
        match autograder::lab::load(&file) {
            Ok(lab) => println!(
                "{name:<8} {:>4} points  {} tests  {}{last}",
                lab.total_points(),
                lab.tests.len(),
                lab.title
            ),
            Err(e) => println!("{name:<8} (broken definition: {e})"),
        }
    }
    ExitCode::SUCCESS
}

/// Build the kernel of this tree in release mode with `features` (e.g. `reference-vm`);
/// returns a copy of the binary under `target/labs/kernels/<label>/`.
fn build_kernel(features: &[String], label: &str) -> Result<PathBuf, String> {
    let shown = if features.is_empty() {
        String::from("your files")
    } else {
        features.join(",")
    };
    eprintln!("labs: building the kernel ({shown}): cargo build --release -p vkernel");
    // Builds with other features write the same target/release/vkernel: hold a lock from
    // the build to the copy, so that two `labs` at once never copy each other's kernel.
    let labs_dir = root().join("target").join("labs");
    std::fs::create_dir_all(&labs_dir).map_err(|e| format!("{}: {e}", labs_dir.display()))?;
    let lock = std::fs::File::create(labs_dir.join("build.lock"))
        .map_err(|e| format!("{}: {e}", labs_dir.join("build.lock").display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", labs_dir.join("build.lock").display()))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Process::new(cargo);
    cmd.args(["build", "--release", "-p", "vkernel"])
        .current_dir(root());
    if !features.is_empty() {
        cmd.arg("--features").arg(features.join(","));
    }
    let status = cmd.status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("the kernel does not build: the compiler's messages are above".into());
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let dir = root()
        .join("target")
        .join("labs")
        .join("kernels")
        .join(label);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let copy = dir.join("vkernel");
    // Copy, then rename into place: another `labs` may be running the old file right now
    // (writing over a running program fails with "text file busy"; a rename does not).
    let fresh = dir.join(format!("vkernel.{}", std::process::id()));
    std::fs::copy(target.join("release").join("vkernel"), &fresh)
        .and_then(|_| std::fs::rename(&fresh, &copy))
        .map_err(|e| format!("copying the kernel: {e}"))?;
    drop(lock);
    Ok(copy)
}

/// The features that build with the reference files of `labs`.
fn reference_features(labs: &[String]) -> Vec<String> {
    labs.iter().map(|l| format!("reference-{l}")).collect()
}

/// Load lab `name`, or say which labs exist.
fn load_lab(name: &str) -> Result<autograder::lab::Lab, String> {
    let Some((_, file)) = lab_files().into_iter().find(|(n, _)| n == name) else {
        let known: Vec<String> = lab_files().into_iter().map(|(n, _)| n).collect();
        return Err(format!("no lab `{name}` (labs: {})", known.join(", ")));
    };
    autograder::lab::load(&file).map_err(|e| e.to_string())
}

/// Grade `lab` on `kernel` quietly; returns the report.
fn grade_quietly(
    kernel: &Path,
    lab: &autograder::lab::Lab,
    seed: u64,
) -> autograder::grade::LabReport {
    let opts = autograder::grade::GradeOptions {
        jobs: 0,
        tests: Vec::new(),
        run: autograder::run::RunOptions {
            seed,
            log_dir: root()
                .join("target")
                .join("labs")
                .join("prove")
                .join(&lab.name),
            ..Default::default()
        },
        progress: None,
    };
    autograder::grade::grade(kernel, lab, &opts)
}

/// Names never copied into a handout.
const NOT_HANDED_OUT: &[&str] = &["target", ".git", "reference-solution"];

/// Copy `from` into `to`, skipping [`NOT_HANDED_OUT`] at any depth; returns files copied.
fn copy_for_handout(from: &Path, to: &Path) -> std::io::Result<usize> {
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if NOT_HANDED_OUT.iter().any(|n| name == *n) || entry.path().ends_with("book/build") {
            continue; // the built book is output too
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copied += copy_for_handout(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), to.join(&name))?;
            copied += 1;
        }
    }
    Ok(copied)
}

fn handout(out: &Path) -> ExitCode {
    let busy = std::fs::read_dir(out)
        .map(|mut d| d.next().is_some())
        .unwrap_or(false);
    if busy {
        eprintln!("labs: {} exists and is not empty", out.display());
        return ExitCode::from(2);
    }
    match copy_for_handout(&root(), out) {
        Ok(n) => {
            println!(
                "labs: wrote {n} files to {} (no reference solution)",
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("labs: writing the handout to {}: {e}", out.display());
            ExitCode::from(1)
        }
    }
}

/// The proofs CI runs for every lab (see `Command::Prove`).
fn prove() -> ExitCode {
    let seed = 4242;
    let mut ok = true;
    let mut check = |what: String, good: bool| {
        println!("{} {what}", if good { "ok  " } else { "FAIL" });
        ok &= good;
    };
    let labs: Vec<autograder::lab::Lab> =
        match lab_files().iter().map(|(n, _)| load_lab(n)).collect() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("labs: {e}");
                return ExitCode::from(2);
            }
        };
    let build = |features: Vec<String>, label: &str| match build_kernel(&features, label) {
        Ok(k) => Some(k),
        Err(e) => {
            eprintln!("labs: {e}");
            None
        }
    };
    let (Some(skeleton), Some(reference)) = (
        build(Vec::new(), "skeleton"),
        build(vec!["reference".into()], "reference"),
    ) else {
        return ExitCode::from(1);
    };
    for lab in &labs {
        let r = grade_quietly(&reference, lab, seed);
        check(
            format!(
                "lab {}: the reference solution scores {}/{}",
                lab.name,
                r.score(),
                r.max_score()
            ),
            r.all_passed(),
        );
        let s = grade_quietly(&skeleton, lab, seed);
        check(
            format!(
                "lab {}: the untouched skeleton passes {} of {} tests",
                lab.name,
                s.passed(),
                lab.tests.len()
            ),
            s.passed() == 0,
        );
        if !lab.requires.is_empty() {
            let label = format!("before-{}", lab.name);
            let Some(k) = build(reference_features(&lab.requires), &label) else {
                return ExitCode::from(1);
            };
            let this = grade_quietly(&k, lab, seed);
            check(
                format!(
                    "lab {}: with only earlier labs solved, it passes {} tests",
                    lab.name,
                    this.passed()
                ),
                this.passed() == 0,
            );
            for earlier in labs.iter().filter(|l| lab.requires.contains(&l.name)) {
                let e = grade_quietly(&k, earlier, seed);
                check(
                    format!(
                        "lab {}: still {}/{} with lab {}'s holes open",
                        earlier.name,
                        e.score(),
                        e.max_score(),
                        lab.name
                    ),
                    e.all_passed(),
                );
            }
        }
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn grade(name: &str, tests: Vec<String>, seed: Option<u64>, features: Vec<String>) -> ExitCode {
    let lab = match load_lab(name) {
        Ok(lab) => lab,
        Err(e) => {
            eprintln!("labs: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = lab.select(&tests) {
        eprintln!("labs: {e}");
        return ExitCode::from(2);
    }
    let label = if features.is_empty() {
        String::from("yours")
    } else {
        features.join("+")
    };
    let kernel = match build_kernel(&features, &label) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("labs: {e}");
            return ExitCode::from(1);
        }
    };
    let seed = seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(1, |d| u64::from(d.subsec_nanos()) | 1)
    });
    let opts = autograder::grade::GradeOptions {
        jobs: 0,
        tests,
        run: autograder::run::RunOptions {
            seed,
            log_dir: root().join("target").join("labs").join(name),
            ..Default::default()
        },
        progress: None,
    };
    let full_run = opts.tests.is_empty();
    let report = autograder::grade::grade(&kernel, &lab, &opts);
    // anstream drops the colours when stdout is not a terminal.
    anstream::print!("{}", autograder::report::terminal::render(&report));
    if full_run && features.is_empty() {
        let line = format!("{}/{} (seed {seed})\n", report.score(), report.max_score());
        let _ = std::fs::write(last_score_file(name), line);
    }
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        if let Some(chapter) = &lab.chapter {
            let html = root()
                .join("book/build")
                .join(chapter.replace(".md", ".html"));
            let how = if html.exists() {
                format!("open {}", html.display())
            } else {
                "build it with `cargo run -p labs -- book --open`".to_string()
            };
            println!("The hints name sections of the book's chapter {chapter}: {how}");
        }
        ExitCode::from(1)
    }
}

/// Build the reference kernel and run it with `args` (stdin, stdout and status passed on).
fn boot_reference(args: &[String]) -> ExitCode {
    let kernel = match build_kernel(&[String::from("reference")], "reference") {
        Ok(k) => k,
        Err(e) => {
            eprintln!("labs: {e}");
            return ExitCode::from(1);
        }
    };
    match Process::new(&kernel).args(args).status() {
        Ok(st) => {
            use std::os::unix::process::ExitStatusExt as _;
            // As a shell reports it: 128 + N for a kernel killed by signal N.
            let code = st
                .code()
                .or_else(|| st.signal().map(|n| 128 + n))
                .unwrap_or(128);
            ExitCode::from(code.clamp(0, 255) as u8)
        }
        Err(e) => {
            eprintln!("labs: running {}: {e}", kernel.display());
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.lab) {
        (
            Some(Command::Boot {
                reference: true,
                args,
            }),
            _,
        ) => boot_reference(&args),
        (
            Some(Command::Boot {
                reference: false,
                args,
            }),
            _,
        ) => vkernel::cli::main_with_args(std::iter::once("vkernel".to_string()).chain(args)),
        (Some(Command::List), _) => list(),
        (
            Some(Command::Book {
                action: Some(BookAction::Preprocess { args }),
                ..
            }),
            _,
        ) => book::preprocess::run(&args),
        (
            Some(Command::Book {
                out,
                open,
                action: None,
            }),
            _,
        ) => book::command(&root(), out.as_deref(), open),
        (Some(Command::Prove), _) => prove(),
        (Some(Command::Handout { out }), _) => handout(&out),
        (None, Some(lab)) => {
            let features = if cli.reference {
                vec![String::from("reference")]
            } else {
                reference_features(&cli.with_reference)
            };
            grade(&lab, cli.tests, cli.seed, features)
        }
        (None, None) => {
            eprintln!(
                "labs: say what to do: `labs --lab vm`, `labs list` or `labs boot` (see --help)"
            );
            ExitCode::from(2)
        }
    }
}
