//! `labs`: the student's command.
//!
//! `labs --lab vm` builds *your* kernel from this tree and grades lab vm with the
//! autograder: a scoreboard with points, each failure with what was expected, what came,
//! the log and a hint. `labs list` shows the labs; `labs boot` boots the kernel to a shell
//! (or runs one command and returns its status).

use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};

use clap::{Parser, Subcommand};

/// The student's command for vkernel labs.
#[derive(Debug, Parser)]
#[command(
    name = "labs",
    version,
    about = "vkernel labs: build your kernel, grade a lab, boot to a shell",
    after_help = "Examples:\n  cargo run -p labs -- --lab vm                             grade lab vm\n  \
                  cargo run -p labs -- --lab vm --test copy_small           one test\n  \
                  cargo run -p labs -- list                                 the labs\n  \
                  cargo run -p labs -- boot                                 boot to a shell\n  \
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
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the labs with their points.
    List,
    /// Boot the kernel with the default initrd: a shell, or the given init command.
    Boot {
        /// Options for the kernel (see `vkernel --help`), then `--` and the init command.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "[VKERNEL OPTIONS] [-- INIT ARGS]"
        )]
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
    let mut labs: Vec<(String, PathBuf)> = std::fs::read_dir(root().join("labs"))
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

fn list() -> ExitCode {
    for (name, file) in lab_files() {
        match autograder::lab::load(&file) {
            Ok(lab) => println!(
                "{name:<8} {:>4} points  {} tests  {}",
                lab.total_points(),
                lab.tests.len(),
                lab.title
            ),
            Err(e) => println!("{name:<8} (broken definition: {e})"),
        }
    }
    ExitCode::SUCCESS
}

/// Build the kernel of this tree in release mode; returns the binary.
fn build_kernel() -> Result<PathBuf, String> {
    eprintln!("labs: building your kernel (cargo build --release -p vkernel)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Process::new(cargo)
        .args(["build", "--release", "-p", "vkernel"])
        .current_dir(root())
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !status.success() {
        return Err("your kernel does not build: the compiler's messages are above".into());
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    Ok(target.join("release").join("vkernel"))
}

fn grade(name: &str, tests: Vec<String>, seed: Option<u64>) -> ExitCode {
    let Some((_, file)) = lab_files().into_iter().find(|(n, _)| n == name) else {
        let known: Vec<String> = lab_files().into_iter().map(|(n, _)| n).collect();
        eprintln!("labs: no lab `{name}` (labs: {})", known.join(", "));
        return ExitCode::from(2);
    };
    let lab = match autograder::lab::load(&file) {
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
    let kernel = match build_kernel() {
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
    let report = autograder::grade::grade(&kernel, &lab, &opts);
    // anstream drops the colours when stdout is not a terminal.
    anstream::print!("{}", autograder::report::terminal::render(&report));
    if report.all_passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.lab) {
        (Some(Command::Boot { args }), _) => {
            vkernel::cli::main_with_args(std::iter::once("vkernel".to_string()).chain(args))
        }
        (Some(Command::List), _) => list(),
        (None, Some(lab)) => grade(&lab, cli.tests, cli.seed),
        (None, None) => {
            eprintln!(
                "labs: say what to do: `labs --lab vm`, `labs list` or `labs boot` (see --help)"
            );
            ExitCode::from(2)
        }
    }
}
