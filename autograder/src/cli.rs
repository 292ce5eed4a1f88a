//! The `autograder` command line (its clap definition, here in the library so that the
//! book can print its `--help`); `main.rs` carries it out.

use std::path::PathBuf;
use std::time::Duration;

use crate::units::{parse_duration, parse_size};
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
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub grade: GradeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
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
pub struct Common {
    /// The lab definition (TOML).
    #[arg(long, required = true, value_name = "LAB.toml")]
    pub lab: Option<PathBuf>,
    /// Run only this test (repeatable).
    #[arg(long = "test", value_name = "NAME")]
    pub tests: Vec<String>,
    /// Seed of `{seed}` and `{checksum:N}` (default: a random one, always printed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Tests run at once (default: number of CPUs).
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
    /// A folder of hidden tests: `<DIR>/<lab>.toml` is added if it exists.
    #[arg(long, value_name = "DIR")]
    pub hidden: Option<PathBuf>,
    /// Multiply every timeout by this (slow machines).
    #[arg(long, default_value_t = 1.0)]
    pub timeout_scale: f64,
    /// Output cap per stream (e.g. 1M); a run beyond it is killed ("output flood").
    #[arg(long, default_value = "1M", value_parser = parse_size)]
    pub output_cap: u64,
    /// Process limit of a run (cgroup pids.max, or RLIMIT_NPROC margin).
    #[arg(long, default_value_t = crate::run::DEFAULT_PIDS_MAX)]
    pub pids_max: u64,
    /// When to colour the output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    pub color: Color,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
pub struct GradeArgs {
    #[command(flatten)]
    pub common: Common,
    /// The vkernel binary to grade.
    #[arg(long, required = true, value_name = "PATH")]
    pub kernel: Option<PathBuf>,
    /// Print the report as JSON on stdout instead of the terminal report.
    #[arg(long)]
    pub json: bool,
    /// Also write Gradescope's results.json here.
    #[arg(long, value_name = "OUT")]
    pub gradescope: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "OUT")]
    pub junit: Option<PathBuf>,
    /// Where the console logs go (default target/autograder/<lab> when ./target exists,
    /// else autograder-logs/<lab>).
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    #[command(flatten)]
    pub common: Common,
    /// The pristine kernel tree (a cargo workspace root).
    #[arg(long, value_name = "TREE")]
    pub pristine: PathBuf,
    /// A folder with one subfolder per submission.
    #[arg(long, value_name = "DIR")]
    pub submissions: PathBuf,
    /// Where the reports go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Submissions built and graded at once.
    #[arg(long, default_value_t = 1)]
    pub parallel: usize,
    /// Time limit of each build.
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub build_timeout: Duration,
    /// One CARGO_TARGET_DIR shared by all builds (faster).
    #[arg(long, value_name = "DIR")]
    pub shared_target: Option<PathBuf>,
    /// Keep each submission's target/ folder.
    #[arg(long)]
    pub keep_target: bool,
}
