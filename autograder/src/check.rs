//! Checks: from a finished run and a test's expectations to a list of failures, each with
//! what was expected, what came instead and a few lines of context.

use serde::Serialize;

use crate::lab::{compile_regex, Stream, Test};
use crate::run::Outcome;
use crate::seed::substitute;
use crate::units::{human_duration, human_size};

/// The leak report line of a clean shutdown.
pub const LEAKS_CLEAN: &str = "vkernel: leaks: frames=0 procs=0 files=0";
const LEAKS_PREFIX: &str = "vkernel: leaks:";
const CONTEXT_WIDTH: usize = 200;
const TAIL_LINES: usize = 5;

/// One failed check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    /// One line: what went wrong (the test's reason when it is the first failure).
    pub summary: String,
    /// What the check wanted.
    pub expected: String,
    /// What came instead.
    pub got: String,
    /// Lines of output around it (`  12 > the line`, `  13 | a neighbour`).
    pub context: Vec<String>,
}

/// The output of a run, split in lines once.
pub(crate) struct Output<'a> {
    pub stdout: &'a str,
    pub stderr: &'a str,
    out_lines: Vec<&'a str>,
    err_lines: Vec<&'a str>,
}

impl<'a> Output<'a> {
    pub(crate) fn new(stdout: &'a str, stderr: &'a str) -> Self {
        Output {
            stdout,
            stderr,
            out_lines: stdout.lines().collect(),
            err_lines: stderr.lines().collect(),
        }
    }

    fn text(&self, s: Stream) -> &'a str {
        match s {
            Stream::Stdout => self.stdout,
            Stream::Stderr => self.stderr,
        }
    }

    fn lines(&self, s: Stream) -> &[&'a str] {
        match s {
            Stream::Stdout => &self.out_lines,
            Stream::Stderr => &self.err_lines,
        }
    }

    /// The 1-based line number of byte offset `at`.
    fn line_of(&self, s: Stream, at: usize) -> usize {
        self.text(s)[..at].matches('\n').count() + 1
    }

    /// Lines `line - before ..= line + after`, the line itself marked.
    fn around(&self, s: Stream, line: usize, before: usize, after: usize) -> Vec<String> {
        let lines = self.lines(s);
        let first = line.saturating_sub(before).max(1);
        let last = (line + after).min(lines.len());
        (first..=last)
            .map(|n| fmt_line(n, lines[n - 1], n == line))
            .collect()
    }

    /// The last lines of a stream (or a note that it is empty).
    fn tail(&self, s: Stream, count: usize) -> Vec<String> {
        let lines = self.lines(s);
        if lines.is_empty() {
            return vec![format!("      ({} is empty)", s.name())];
        }
        let first = lines.len().saturating_sub(count);
        let mut v = Vec::new();
        if first > 0 {
            v.push(format!(
                "      ({} is {} lines; the last {}:)",
                s.name(),
                lines.len(),
                count
            ));
        }
        v.extend((first..lines.len()).map(|i| fmt_line(i + 1, lines[i], false)));
        v
    }
}

fn fmt_line(n: usize, line: &str, mark: bool) -> String {
    let text: String = if line.chars().count() > CONTEXT_WIDTH {
        line.chars()
            .take(CONTEXT_WIDTH)
            .chain("…".chars())
            .collect()
    } else {
        line.to_string()
    };
    format!("{n:>5} {} {text}", if mark { '>' } else { '|' })
}

fn short(s: &str) -> String {
    let one_line = s.replace('\n', "\\n");
    if one_line.chars().count() > 80 {
        one_line.chars().take(80).chain("…".chars()).collect()
    } else {
        one_line
    }
}

/// What a vkernel exit status means (its documented conventions).
pub fn exit_meaning(code: i32) -> Option<String> {
    Some(match code {
        0 => return None,
        65 => "bad initrd".into(),
        70 => "kernel panic".into(),
        71 => "the host machine failed".into(),
        126 => "init could not be run".into(),
        127 => "init not found".into(),
        129..=192 => format!("init was killed by {}", signal_name(code - 128)),
        _ => return None,
    })
}

/// `SIGSEGV` for 11, `signal 99` for unknown numbers.
pub fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 32] = [
        "",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match NAMES.get(sig as usize) {
        Some(n) if sig > 0 => (*n).to_string(),
        _ => format!("signal {sig}"),
    }
}

fn describe_exit(code: i32) -> String {
    match exit_meaning(code) {
        Some(m) => format!("exit status {code} ({m})"),
        None => format!("exit status {code}"),
    }
}

/// Evaluate every check of `test` on a run; no failures means the test passed.
pub(crate) fn evaluate(
    test: &Test,
    seed: u64,
    outcome: &Outcome,
    out: &Output<'_>,
    cpu_limit: std::time::Duration,
) -> Vec<Failure> {
    let e = &test.expect;
    let mut fails = Vec::new();
    // How the run ended: a run that did not end by itself fails whatever it printed.
    let ended_normally = match outcome {
        Outcome::Exited(_) => true,
        Outcome::Timeout(after) => {
            fails.push(Failure {
                summary: format!("timeout: still running after {}", human_duration(*after)),
                expected: format!("the vkernel to finish within {}", human_duration(*after)),
                got: "it was still running and was killed; the end of its stdout:".into(),
                context: out.tail(Stream::Stdout, TAIL_LINES),
            });
            false
        }
        Outcome::OutputFlood { stream, cap } => {
            fails.push(Failure {
                summary: format!(
                    "output flood: more than {} on {}",
                    human_size(*cap as u64),
                    stream.name()
                ),
                expected: format!("at most {} on {}", human_size(*cap as u64), stream.name()),
                got: format!(
                    "more; the run was killed at the cap. The end of {}:",
                    stream.name()
                ),
                context: out.tail(*stream, 3),
            });
            false
        }
        Outcome::Signaled(sig) => {
            let why = match *sig {
                24 => format!(
                    " (its CPU time limit of {} ran out)",
                    human_duration(cpu_limit)
                ),
                25 => " (its file size limit was exceeded)".into(),
                9 => " (by the CPU time or memory limit, or the host)".into(),
                _ => String::new(),
            };
            fails.push(Failure {
                summary: format!("the vkernel was killed by {}{why}", signal_name(*sig)),
                expected: "the vkernel to exit with a status".into(),
                got: format!(
                    "killed by {} ({sig}); the end of its stderr:",
                    signal_name(*sig)
                ),
                context: out.tail(Stream::Stderr, TAIL_LINES),
            });
            false
        }
        Outcome::SpawnError(msg) => {
            fails.push(Failure {
                summary: format!("could not start the kernel: {msg}"),
                expected: "the kernel binary to start".into(),
                got: msg.clone(),
                context: vec![],
            });
            return fails;
        }
    };

    if e.no_panic {
        let found = [Stream::Stderr, Stream::Stdout].into_iter().find_map(|s| {
            out.lines(s)
                .iter()
                .position(|l| l.starts_with("panic:"))
                .map(|i| (s, i + 1))
        });
        if let Some((s, line)) = found {
            let text = out.lines(s)[line - 1];
            fails.push(Failure {
                summary: format!("kernel {}", short(text)),
                expected: "no line starting with `panic:`".into(),
                got: format!("{} line {line}:", s.name()),
                context: out.around(s, line, 1, 4),
            });
        }
    }
    if !ended_normally {
        return fails;
    }

    if let (Some(want), Outcome::Exited(got)) = (e.exit, outcome) {
        if want != *got {
            fails.push(Failure {
                summary: format!("{}, expected {want}", describe_exit(*got)),
                expected: describe_exit(want),
                got: format!("{}; the end of stderr:", describe_exit(*got)),
                context: out.tail(Stream::Stderr, TAIL_LINES),
            });
        }
    }

    for (stream, contains, not_contains, regexes) in [
        (
            Stream::Stdout,
            &e.stdout_contains,
            &e.stdout_not_contains,
            &e.stdout_regex,
        ),
        (
            Stream::Stderr,
            &e.stderr_contains,
            &e.stderr_not_contains,
            &e.stderr_regex,
        ),
    ] {
        let name = stream.name();
        let text = out.text(stream);
        for want in contains {
            let want = substitute(want, seed);
            if !text.contains(&want) {
                fails.push(Failure {
                    summary: format!("{name} lacks `{}`", short(&want)),
                    expected: format!("{name} to contain `{}`", short(&want)),
                    got: "no such text; the end of it:".into(),
                    context: out.tail(stream, TAIL_LINES),
                });
            }
        }
        for bad in not_contains {
            let bad = substitute(bad, seed);
            if let Some(at) = text.find(&bad) {
                let line = out.line_of(stream, at);
                fails.push(Failure {
                    summary: format!("{name} has `{}`, which it must not", short(&bad)),
                    expected: format!("{name} not to contain `{}`", short(&bad)),
                    got: format!("found on line {line}:"),
                    context: out.around(stream, line, 2, 2),
                });
            }
        }
        for re_text in regexes {
            let re_text = substitute(re_text, seed);
            match compile_regex(&re_text) {
                Ok(re) if re.is_match(text) => {}
                Ok(_) => fails.push(Failure {
                    summary: format!("{name} does not match /{}/", short(&re_text)),
                    expected: format!("a match of /{}/ in {name}", short(&re_text)),
                    got: "none; the end of it:".into(),
                    context: out.tail(stream, TAIL_LINES),
                }),
                Err(m) => fails.push(Failure {
                    summary: format!("bad regex /{}/ (after substitution)", short(&re_text)),
                    expected: "a valid regex".into(),
                    got: m,
                    context: vec![],
                }),
            }
        }
    }

    for n in &e.number {
        let re_text = substitute(&n.regex, seed);
        let Ok(re) = compile_regex(&re_text) else {
            continue; // checked at load time
        };
        let name = n.stream.name();
        let range = match (n.min, n.max) {
            (Some(lo), Some(hi)) => format!("between {lo} and {hi}"),
            (Some(lo), None) => format!("at least {lo}"),
            (None, Some(hi)) => format!("at most {hi}"),
            (None, None) => "any number".into(),
        };
        let text = out.text(n.stream);
        let mut seen = 0;
        for caps in re.captures_iter(text) {
            let Some(m) = caps.get(1) else { continue };
            seen += 1;
            let line = out.line_of(n.stream, m.start());
            let bad = match m.as_str().trim().parse::<f64>() {
                Ok(v) if v.is_nan() => Some(format!("`{}` is not a number", m.as_str())),
                Ok(v) if n.min.is_some_and(|lo| v < lo) || n.max.is_some_and(|hi| v > hi) => {
                    Some(format!("{v} is out of range"))
                }
                Ok(_) => None,
                Err(_) => Some(format!("`{}` is not a number", m.as_str())),
            };
            if let Some(why) = bad {
                fails.push(Failure {
                    summary: format!(
                        "/{}/ on {name} line {line}: {why} (want {range})",
                        short(&re_text)
                    ),
                    expected: format!("the number captured by /{}/ {range}", short(&re_text)),
                    got: format!("{why}, on line {line}:"),
                    context: out.around(n.stream, line, 1, 1),
                });
                break;
            }
        }
        if seen == 0 {
            fails.push(Failure {
                summary: format!("no number matching /{}/ on {name}", short(&re_text)),
                expected: format!(
                    "a line matching /{}/ with a number {range}",
                    short(&re_text)
                ),
                got: "no match; the end of it:".into(),
                context: out.tail(n.stream, TAIL_LINES),
            });
        }
    }

    if e.leaks_clean {
        let report = out
            .lines(Stream::Stderr)
            .iter()
            .rposition(|l| l.starts_with(LEAKS_PREFIX));
        match report {
            Some(i) if out.lines(Stream::Stderr)[i].trim_end() == LEAKS_CLEAN => {}
            Some(i) => fails.push(Failure {
                summary: format!("resources leaked: {}", out.lines(Stream::Stderr)[i].trim()),
                expected: format!("`{LEAKS_CLEAN}` on stderr"),
                got: format!("stderr line {}:", i + 1),
                context: out.around(Stream::Stderr, i + 1, 0, 0),
            }),
            None => fails.push(Failure {
                summary: "no leak report on stderr (the kernel did not shut down normally)".into(),
                expected: format!("`{LEAKS_CLEAN}` on stderr"),
                got: format!("no `{LEAKS_PREFIX}` line; the end of stderr:"),
                context: out.tail(Stream::Stderr, TAIL_LINES),
            }),
        }
    }
    fails
}
