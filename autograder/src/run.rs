//! Running one test: boot the kernel binary in a sandbox, check, score, log.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::check::{self, signal_name, Failure, Output};
use crate::lab::{Stream, Test};
use crate::sandbox::{self, End, Limits, Spec};
use crate::seed::substitute;
use crate::units::{human_duration, human_size};

/// Default output cap per stream.
pub const DEFAULT_OUTPUT_CAP: usize = 1 << 20;
/// Default process limit of a run (cgroup `pids.max`, or the RLIMIT_NPROC margin).
pub const DEFAULT_PIDS_MAX: u64 = 256;

/// How to run tests.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The seed of `{seed}` and `{checksum:N}`.
    pub seed: u64,
    /// Where `<test>.log` files go (created if needed).
    pub log_dir: PathBuf,
    /// Output cap per stream; beyond it the run is killed ("output flood").
    pub output_cap: usize,
    /// Multiplies every test's timeout (and CPU limit), for slow machines.
    pub timeout_scale: f64,
    /// Most processes (and threads) of a run, where a cgroup or RLIMIT_NPROC can say so.
    pub pids_max: u64,
    /// Memory limit of a run where a cgroup can set one; default 2 × the test's RAM + 256 MiB.
    pub memory_max: Option<u64>,
    /// RLIMIT_FSIZE of a run; default the test's RAM + 256 MiB (the vkernel's RAM is a file).
    pub file_size_max: Option<u64>,
    /// Where run directories are made; default the system's temp dir.
    pub temp_root: Option<PathBuf>,
    /// Put each run in its own cgroup(s) where the host allows it (default true).
    pub cgroups: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            seed: 1,
            log_dir: PathBuf::from("autograder-logs"),
            output_cap: DEFAULT_OUTPUT_CAP,
            timeout_scale: 1.0,
            pids_max: DEFAULT_PIDS_MAX,
            memory_max: None,
            file_size_max: None,
            temp_root: None,
            cgroups: true,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The vkernel exited with this status.
    Exited(i32),
    /// The vkernel was killed by this signal (not by the grader).
    Signaled(i32),
    /// The grader killed it at the timeout.
    Timeout(Duration),
    /// The grader killed it when a stream passed the cap.
    OutputFlood {
        /// Which stream.
        stream: Stream,
        /// The cap in bytes.
        cap: usize,
    },
    /// The kernel could not be started.
    SpawnError(String),
}

/// The JSON form of [`Outcome`]: `{"kind": "exited", "code": 0}`, ...
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum OutcomeJson<'a> {
    Exited { code: i32 },
    Signaled { signal: i32, name: String },
    Timeout { after_secs: f64 },
    OutputFlood { stream: &'static str, cap: usize },
    SpawnError { message: &'a str },
}

impl Serialize for Outcome {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Outcome::Exited(code) => OutcomeJson::Exited { code: *code },
            Outcome::Signaled(sig) => OutcomeJson::Signaled {
                signal: *sig,
                name: signal_name(*sig),
            },
            Outcome::Timeout(d) => OutcomeJson::Timeout {
                after_secs: (d.as_secs_f64() * 1000.0).round() / 1000.0,
            },
            Outcome::OutputFlood { stream, cap } => OutcomeJson::OutputFlood {
                stream: stream.name(),
                cap: *cap,
            },
            Outcome::SpawnError(m) => OutcomeJson::SpawnError { message: m },
        }
        .serialize(s)
    }
}

impl Outcome {
    /// For people: `exit status 0`, `killed by SIGSEGV`, `timeout after 10s`, ...
    pub fn describe(&self) -> String {
        match self {
            Outcome::Exited(c) => match check::exit_meaning(*c) {
                Some(m) => format!("exit status {c} ({m})"),
                None => format!("exit status {c}"),
            },
            Outcome::Signaled(s) => format!("killed by {}", signal_name(*s)),
            Outcome::Timeout(d) => format!("timeout after {}", human_duration(*d)),
            Outcome::OutputFlood { stream, cap } => {
                format!(
                    "output flood ({} over {})",
                    stream.name(),
                    human_size(*cap as u64)
                )
            }
            Outcome::SpawnError(m) => format!("could not start: {m}"),
        }
    }
}

/// The result of one test.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// The test's name.
    pub name: String,
    /// Its points.
    pub points: f64,
    /// Points scored: all or nothing.
    pub score: f64,
    /// Hidden test.
    pub hidden: bool,
    /// The seed it ran with.
    pub seed: u64,
    /// The command line (after substitution).
    pub command: Vec<String>,
    /// How the run ended.
    pub outcome: Outcome,
    /// Wall-clock time of the run.
    pub duration: Duration,
    /// Standard output (capped), lossily decoded.
    pub stdout: String,
    /// Standard error (capped), lossily decoded.
    pub stderr: String,
    /// Failed checks; empty when the test passed.
    pub failures: Vec<Failure>,
    /// The full console log, if it could be written.
    pub log: Option<PathBuf>,
    /// Where to read up.
    pub hint: Option<String>,
    /// Remarks of the sandbox (limits hit, processes left behind).
    pub notes: Vec<String>,
    /// The containment used (cgroups, rlimits).
    pub sandbox: String,
}

impl TestResult {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// One line saying why it failed (the first failure), `None` if it passed.
    pub fn reason(&self) -> Option<&str> {
        self.failures.first().map(|f| f.summary.as_str())
    }

    /// The failures as text: what was expected, what came, context, log and hint.
    pub fn failure_text(&self) -> String {
        let mut s = String::new();
        for f in &self.failures {
            s += &format!(
                "{}\n  expected: {}\n  got:      {}\n",
                f.summary, f.expected, f.got
            );
            for c in &f.context {
                s += &format!("  {c}\n");
            }
        }
        if let Some(log) = &self.log {
            s += &format!("  log:  {}\n", log.display());
        }
        if let Some(h) = &self.hint {
            s += &format!("  hint: {h}\n");
        }
        for n in &self.notes {
            s += &format!("  note: {n}\n");
        }
        s
    }
}

/// Quote an argument for a shell, for logs and messages.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// Run one test: `kernel -m MEM ARGS -- INIT...` in a fresh temp directory, with the
/// test's input, limits and timeout; check its output; write `<log_dir>/<test>.log`.
pub fn run_test(kernel: &Path, test: &Test, opts: &RunOptions) -> TestResult {
    let seed = opts.seed;
    let kernel_abs = std::fs::canonicalize(kernel).unwrap_or_else(|_| kernel.to_path_buf());
    let mut args: Vec<String> = vec!["-m".into(), test.memory.clone()];
    args.extend(test.vkernel_args.iter().map(|a| substitute(a, seed)));
    args.push("--".into());
    args.extend(test.init.iter().map(|a| substitute(a, seed)));
    let mut command = vec![kernel_abs.display().to_string()];
    command.extend(args.iter().cloned());
    let stdin = test
        .stdin
        .as_ref()
        .map(|s| substitute(s, seed).into_bytes())
        .unwrap_or_default();
    let scale = if opts.timeout_scale.is_finite() && opts.timeout_scale > 0.0 {
        opts.timeout_scale
    } else {
        1.0
    };
    let timeout = test.timeout.mul_f64(scale);
    let cpu_limit = test.cpu_limit.mul_f64(scale);
    let limits = Limits {
        cpu: Duration::from_secs(cpu_limit.as_secs_f64().ceil() as u64),
        file_size: opts
            .file_size_max
            .unwrap_or(test.memory_bytes + (256 << 20)),
        pids_max: opts.pids_max,
        memory_max: opts
            .memory_max
            .unwrap_or(2 * test.memory_bytes + (256 << 20)),
    };

    let mut result = TestResult {
        name: test.name.clone(),
        points: test.points,
        score: 0.0,
        hidden: test.hidden,
        seed,
        command,
        outcome: Outcome::SpawnError(String::new()),
        duration: Duration::ZERO,
        stdout: String::new(),
        stderr: String::new(),
        failures: Vec::new(),
        log: None,
        hint: test.hint.clone(),
        notes: Vec::new(),
        sandbox: String::new(),
    };

    let finished = sandbox::temp_dir(
        opts.temp_root.as_deref(),
        &format!("autograder-{}-", test.name),
    )
    .and_then(|dir| {
        let r = sandbox::run(Spec {
            program: &kernel_abs,
            args: args.iter().map(OsString::from).collect(),
            cwd: dir.path(),
            env: sandbox::clean_env(dir.path()),
            stdin: stdin.clone(),
            timeout,
            output_cap: opts.output_cap,
            limits,
            cgroups: opts.cgroups,
        });
        drop(dir);
        r
    });
    match finished {
        Ok(f) => {
            result.outcome = match f.end {
                End::Exited(c) => Outcome::Exited(c),
                End::Signaled(s) => Outcome::Signaled(s),
                End::Timeout => Outcome::Timeout(timeout),
                End::Flood(stream) => Outcome::OutputFlood {
                    stream,
                    cap: opts.output_cap,
                },
            };
            result.duration = f.duration;
            result.stdout = String::from_utf8_lossy(&f.stdout).into_owned();
            result.stderr = String::from_utf8_lossy(&f.stderr).into_owned();
            result.notes = f.notes;
            result.sandbox = f.containment;
        }
        Err(e) => {
            result.outcome = Outcome::SpawnError(format!("{}: {e}", kernel.display()));
        }
    }
    let out = Output::new(&result.stdout, &result.stderr);
    result.failures = check::evaluate(test, seed, &result.outcome, &out, limits.cpu);
    if result.passed() {
        result.score = test.points;
    }
    result.log = write_log(&opts.log_dir, &result, &stdin).ok();
    result
}

fn write_log(dir: &Path, r: &TestResult, stdin: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{}.log", r.name));
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(f, "# autograder: test {}", r.name)?;
    writeln!(
        f,
        "command: {}",
        r.command
            .iter()
            .map(|a| shell_quote(a))
            .collect::<Vec<_>>()
            .join(" ")
    )?;
    writeln!(f, "seed:    {} (rerun with --seed {})", r.seed, r.seed)?;
    writeln!(f, "stdin:   {} bytes", stdin.len())?;
    writeln!(
        f,
        "outcome: {} after {}",
        r.outcome.describe(),
        human_duration(r.duration)
    )?;
    writeln!(f, "sandbox: {}", r.sandbox)?;
    for n in &r.notes {
        writeln!(f, "note:    {n}")?;
    }
    match r.reason() {
        None => writeln!(
            f,
            "result:  passed ({} points)",
            crate::units::points(r.points)
        )?,
        Some(_) => {
            writeln!(
                f,
                "result:  FAILED (0 of {} points)",
                crate::units::points(r.points)
            )?;
            for line in r.failure_text().lines() {
                let l = line.trim_start();
                if !l.starts_with("log:") && !l.starts_with("note:") {
                    writeln!(f, "  {line}")?;
                }
            }
        }
    }
    if !stdin.is_empty() {
        writeln!(f, "\n==== stdin ({} bytes) ====", stdin.len())?;
        f.write_all(stdin)?;
        if !stdin.ends_with(b"\n") {
            writeln!(f)?;
        }
    }
    writeln!(f, "\n==== stdout ({} bytes) ====", r.stdout.len())?;
    f.write_all(r.stdout.as_bytes())?;
    if !r.stdout.is_empty() && !r.stdout.ends_with('\n') {
        writeln!(f, "\n(no newline at the end)")?;
    }
    writeln!(f, "==== stderr ({} bytes) ====", r.stderr.len())?;
    f.write_all(r.stderr.as_bytes())?;
    if !r.stderr.is_empty() && !r.stderr.ends_with('\n') {
        writeln!(f, "\n(no newline at the end)")?;
    }
    writeln!(f, "==== end ====")?;
    f.flush()?;
    Ok(path)
}
