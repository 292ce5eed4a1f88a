//! Lab definitions: the TOML schema (see the README), loading and validation.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::error::Error;
use crate::seed;
use crate::units::{parse_duration, parse_size};

/// The default wall-clock timeout of a test.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default RAM of the vkernel (`-m`).
pub const DEFAULT_MEMORY: &str = "64M";

/// A lab: its description and its tests.
#[derive(Debug, Clone)]
pub struct Lab {
    /// Short name (`vm`), used for hidden test files, reports and log folders.
    pub name: String,
    /// Title for people.
    pub title: String,
    /// The book chapter (a path or URL), shown when a test has no hint of its own.
    pub chapter: Option<String>,
    /// Files the student writes, relative to the kernel tree.
    pub student_files: Vec<String>,
    /// Names of the labs this one builds on.
    pub requires: Vec<String>,
    /// Student files of the required labs (transitively), for [`crate::build`].
    pub required_student_files: Vec<String>,
    /// The tests, in file order (then hidden ones).
    pub tests: Vec<Test>,
    /// The definition file.
    pub path: PathBuf,
}

/// Which output stream of the vkernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The console (standard output).
    Stdout,
    /// Standard error: kernel messages, `panic:` lines, the leak report.
    Stderr,
}

impl Stream {
    /// `stdout` or `stderr`.
    pub fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One test: a scenario to boot and what must come out of it.
#[derive(Debug, Clone)]
pub struct Test {
    /// Unique within the lab; letters, digits, `_`, `-`, `.`.
    pub name: String,
    /// Points scored when every check passes.
    pub points: f64,
    /// Wall-clock limit of the run.
    pub timeout: Duration,
    /// CPU-time limit (RLIMIT_CPU) of each process of the run.
    pub cpu_limit: Duration,
    /// Hidden test ("after_published" on Gradescope).
    pub hidden: bool,
    /// Where to read up when it fails.
    pub hint: Option<String>,
    /// RAM of the vkernel, as passed to `-m` (e.g. `64M`).
    pub memory: String,
    /// The same in bytes.
    pub memory_bytes: u64,
    /// Extra vkernel options (placed before `--`).
    pub vkernel_args: Vec<String>,
    /// The init command (placed after `--`); may hold `{seed}` and `{checksum:N}`.
    pub init: Vec<String>,
    /// Console input, then end of file; `None` for none at all.
    pub stdin: Option<String>,
    /// The checks.
    pub expect: Expect,
    /// The file that defined the test.
    pub source: PathBuf,
}

/// The checks of a test. Texts may hold `{seed}` and `{checksum:N}`.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Exact exit status of the vkernel process.
    pub exit: Option<i32>,
    /// Texts that must appear on stdout.
    pub stdout_contains: Vec<String>,
    /// Texts that must not appear on stdout.
    pub stdout_not_contains: Vec<String>,
    /// Regexes that must match somewhere in stdout (multi-line mode).
    pub stdout_regex: Vec<String>,
    /// Texts that must appear on stderr.
    pub stderr_contains: Vec<String>,
    /// Texts that must not appear on stderr.
    pub stderr_not_contains: Vec<String>,
    /// Regexes that must match somewhere in stderr.
    pub stderr_regex: Vec<String>,
    /// No line of either stream starts with `panic:`.
    pub no_panic: bool,
    /// stderr has `vkernel: leaks: frames=0 procs=0 files=0`.
    pub leaks_clean: bool,
    /// Numbers within tolerances.
    pub number: Vec<NumberCheck>,
}

/// A numeric check: every match of `regex` (one capture group) must parse as a number in
/// `min..=max`, and there must be at least one.
#[derive(Debug, Clone)]
pub struct NumberCheck {
    /// The regex; its one capture group is the number.
    pub regex: String,
    /// Smallest value accepted.
    pub min: Option<f64>,
    /// Largest value accepted.
    pub max: Option<f64>,
    /// Where to look (default stdout).
    pub stream: Stream,
}

impl Lab {
    /// Sum of the points of all tests.
    pub fn total_points(&self) -> f64 {
        self.tests.iter().map(|t| t.points).sum()
    }

    /// The test called `name`.
    pub fn test(&self, name: &str) -> Option<&Test> {
        self.tests.iter().find(|t| t.name == name)
    }

    /// The tests named in `names` (all of them when `names` is empty), in lab order; an
    /// unknown name is an error that lists the known ones.
    pub fn select(&self, names: &[String]) -> Result<Vec<&Test>, Error> {
        for n in names {
            if self.test(n).is_none() {
                let known: Vec<&str> = self.tests.iter().map(|t| t.name.as_str()).collect();
                return Err(Error::Other(format!(
                    "lab `{}` has no test `{n}` (its tests: {})",
                    self.name,
                    known.join(", ")
                )));
            }
        }
        Ok(self
            .tests
            .iter()
            .filter(|t| names.is_empty() || names.contains(&t.name))
            .collect())
    }

    /// Student files of this lab and of the labs it requires (deduplicated), the files a
    /// build takes from a submission.
    pub fn overlay_files(&self) -> Vec<String> {
        let mut seen = HashSet::new();
        self.required_student_files
            .iter()
            .chain(&self.student_files)
            .filter(|f| seen.insert(f.as_str()))
            .cloned()
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// The file format (serde side). Unknown fields are errors so that typos are caught.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    lab: Option<RawLab>,
    #[serde(default)]
    defaults: RawDefaults,
    #[serde(default, rename = "test")]
    tests: Vec<RawTest>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLab {
    name: String,
    title: Option<String>,
    chapter: Option<String>,
    #[serde(default)]
    student_files: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    timeout: Option<toml::Value>,
    cpu_limit: Option<toml::Value>,
    memory: Option<toml::Value>,
    vkernel_args: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTest {
    name: String,
    points: f64,
    timeout: Option<toml::Value>,
    cpu_limit: Option<toml::Value>,
    hidden: Option<bool>,
    hint: Option<String>,
    memory: Option<toml::Value>,
    vkernel_args: Option<Vec<String>>,
    #[serde(default)]
    init: Vec<String>,
    stdin: Option<String>,
    #[serde(default)]
    expect: RawExpect,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    exit: Option<i32>,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stdout_not_contains: Vec<String>,
    #[serde(default)]
    stdout_regex: Vec<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    #[serde(default)]
    stderr_not_contains: Vec<String>,
    #[serde(default)]
    stderr_regex: Vec<String>,
    no_panic: Option<bool>,
    leaks_clean: Option<bool>,
    #[serde(default)]
    number: Vec<RawNumber>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNumber {
    regex: String,
    min: Option<f64>,
    max: Option<f64>,
    stream: Option<String>,
}

// ---------------------------------------------------------------------------------------

/// Load a lab definition (and the definitions of the labs it requires, for their student
/// files).
pub fn load(path: impl AsRef<Path>) -> Result<Lab, Error> {
    load_inner(path.as_ref(), &mut Vec::new())
}

/// [`load`], plus the tests of `hidden_dir/<lab>.toml` if that file exists. Its tests are
/// hidden unless they say `hidden = false`; it may have a `[lab]` table (whose name must
/// match) and a `[defaults]` table (which overrides the lab's field by field).
pub fn load_with_hidden(
    path: impl AsRef<Path>,
    hidden_dir: impl AsRef<Path>,
) -> Result<Lab, Error> {
    let mut lab = load(path.as_ref())?;
    let hidden_path = hidden_dir.as_ref().join(format!("{}.toml", lab.name));
    if !hidden_path.exists() {
        return Ok(lab);
    }
    let raw = parse_file(&hidden_path)?;
    if let Some(l) = &raw.lab {
        if l.name != lab.name {
            return Err(invalid(
                &hidden_path,
                "lab.name",
                format!(
                    "is `{}`, but these are hidden tests of lab `{}`",
                    l.name, lab.name
                ),
            ));
        }
    }
    let main_raw = parse_file(path.as_ref())?;
    let defaults = merge_defaults(&main_raw.defaults, &raw.defaults);
    let lab_dir = lab_dir_of(path.as_ref());
    let mut names: HashSet<String> = lab.tests.iter().map(|t| t.name.clone()).collect();
    for (i, t) in raw.tests.into_iter().enumerate() {
        let mut test = convert_test(&hidden_path, i, t, &defaults, true, &lab_dir)?;
        if test.hint.is_none() {
            test.hint.clone_from(&lab.chapter);
        }
        if !names.insert(test.name.clone()) {
            return Err(invalid(
                &hidden_path,
                &format!("test `{}` (test #{})", test.name, i + 1),
                "a test of that name is already defined".into(),
            ));
        }
        lab.tests.push(test);
    }
    Ok(lab)
}

fn parse_file(path: &Path) -> Result<RawFile, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    toml::from_str(&text).map_err(|e| Error::Parse {
        path: path.to_path_buf(),
        message: e.to_string().trim_end().to_string(),
    })
}

fn invalid(path: &Path, field: &str, message: String) -> Error {
    Error::Invalid {
        path: path.to_path_buf(),
        field: field.to_string(),
        message,
    }
}

fn lab_dir_of(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

fn merge_defaults(base: &RawDefaults, over: &RawDefaults) -> RawDefaults {
    RawDefaults {
        timeout: over.timeout.clone().or_else(|| base.timeout.clone()),
        cpu_limit: over.cpu_limit.clone().or_else(|| base.cpu_limit.clone()),
        memory: over.memory.clone().or_else(|| base.memory.clone()),
        vkernel_args: over
            .vkernel_args
            .clone()
            .or_else(|| base.vkernel_args.clone()),
    }
}

fn load_inner(path: &Path, stack: &mut Vec<String>) -> Result<Lab, Error> {
    let raw = parse_file(path)?;
    let Some(rl) = raw.lab else {
        return Err(invalid(path, "lab", "the `[lab]` table is missing".into()));
    };
    if !valid_name(&rl.name) {
        return Err(invalid(
            path,
            "lab.name",
            format!("`{}` is not a name (letters, digits, `_`, `-`)", rl.name),
        ));
    }
    for (i, f) in rl.student_files.iter().enumerate() {
        check_relative(f).map_err(|m| invalid(path, &format!("lab.student_files[{i}]"), m))?;
    }
    if stack.contains(&rl.name) {
        return Err(invalid(
            path,
            "lab.requires",
            format!(
                "labs require each other in a circle: {} -> {}",
                stack.join(" -> "),
                rl.name
            ),
        ));
    }
    let lab_dir = lab_dir_of(path);
    // Requirements: their student files, transitively.
    stack.push(rl.name.clone());
    let mut required_files = Vec::new();
    for (i, req) in rl.requires.iter().enumerate() {
        let field = format!("lab.requires[{i}]");
        if !valid_name(req) {
            return Err(invalid(path, &field, format!("`{req}` is not a lab name")));
        }
        let candidates = [
            lab_dir.join("..").join(req).join("lab.toml"),
            lab_dir.join(req).join("lab.toml"),
            lab_dir.join(format!("{req}.toml")),
        ];
        let Some(found) = candidates.iter().find(|p| p.is_file()) else {
            return Err(invalid(
                path,
                &field,
                format!(
                    "lab `{req}` not found (looked for {})",
                    candidates
                        .iter()
                        .map(|p| p.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let dep = load_inner(found, stack)?;
        if dep.name != *req {
            return Err(invalid(
                path,
                &field,
                format!(
                    "{} defines lab `{}`, not `{req}`",
                    found.display(),
                    dep.name
                ),
            ));
        }
        for f in dep.overlay_files() {
            if !required_files.contains(&f) {
                required_files.push(f);
            }
        }
    }
    stack.pop();

    let mut tests: Vec<Test> = Vec::new();
    for (i, t) in raw.tests.into_iter().enumerate() {
        let test = convert_test(path, i, t, &raw.defaults, false, &lab_dir)?;
        if tests.iter().any(|o| o.name == test.name) {
            return Err(invalid(
                path,
                &format!("test `{}` (test #{})", test.name, i + 1),
                "a test of that name is already defined".into(),
            ));
        }
        tests.push(test);
    }
    if let Some(ch) = &rl.chapter {
        for t in &mut tests {
            t.hint.get_or_insert_with(|| ch.clone());
        }
    }
    Ok(Lab {
        title: rl.title.unwrap_or_else(|| rl.name.clone()),
        name: rl.name,
        chapter: rl.chapter,
        student_files: rl.student_files,
        requires: rl.requires,
        required_student_files: required_files,
        tests,
        path: path.to_path_buf(),
    })
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(['.', '-'])
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// A student file path must be relative and stay inside the tree.
pub(crate) fn check_relative(p: &str) -> Result<(), String> {
    let path = Path::new(p);
    if p.is_empty() {
        return Err("an empty path".into());
    }
    if path.is_absolute() {
        return Err(format!(
            "`{p}` is absolute; paths are relative to the kernel tree"
        ));
    }
    for c in path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            _ => return Err(format!("`{p}` leaves the kernel tree (`..`)")),
        }
    }
    Ok(())
}

fn duration_value(v: &toml::Value) -> Result<Duration, String> {
    match v {
        toml::Value::String(s) => parse_duration(s),
        toml::Value::Integer(n) if *n > 0 => Ok(Duration::from_secs(*n as u64)),
        toml::Value::Float(f) if *f > 0.0 && f.is_finite() => Ok(Duration::from_secs_f64(*f)),
        other => Err(format!(
            "`{other}` is not a duration like \"10s\", \"500ms\" or a number of seconds"
        )),
    }
}

fn memory_value(v: &toml::Value) -> Result<(String, u64), String> {
    let text = match v {
        toml::Value::String(s) => s.trim().to_string(),
        toml::Value::Integer(n) => n.to_string(),
        other => return Err(format!("`{other}` is not a size like \"64M\"")),
    };
    let bytes = parse_size(&text)?;
    if bytes < 1 << 20 {
        return Err(format!("`{text}` is less than 1M"));
    }
    Ok((text, bytes))
}

fn convert_test(
    path: &Path,
    index: usize,
    t: RawTest,
    defaults: &RawDefaults,
    hidden_default: bool,
    lab_dir: &Path,
) -> Result<Test, Error> {
    let where_ = format!("test `{}` (test #{})", t.name, index + 1);
    let field = |f: &str| format!("{where_}: {f}");
    if !valid_name(&t.name) {
        return Err(invalid(
            path,
            &format!("test #{}: name", index + 1),
            format!(
                "`{}` is not a test name (letters, digits, `_`, `-`, `.`)",
                t.name
            ),
        ));
    }
    if !t.points.is_finite() || t.points < 0.0 {
        return Err(invalid(
            path,
            &field("points"),
            format!("{} is not a number of points", t.points),
        ));
    }
    let timeout = match t.timeout.as_ref().or(defaults.timeout.as_ref()) {
        Some(v) => duration_value(v).map_err(|m| invalid(path, &field("timeout"), m))?,
        None => DEFAULT_TIMEOUT,
    };
    let cpu_limit = match t.cpu_limit.as_ref().or(defaults.cpu_limit.as_ref()) {
        Some(v) => duration_value(v).map_err(|m| invalid(path, &field("cpu_limit"), m))?,
        // Each process may use the whole wall-clock budget, plus a margin.
        None => Duration::from_secs(timeout.as_secs_f64().ceil() as u64 + 1),
    };
    let (memory, memory_bytes) = match t.memory.as_ref().or(defaults.memory.as_ref()) {
        Some(v) => memory_value(v).map_err(|m| invalid(path, &field("memory"), m))?,
        None => (DEFAULT_MEMORY.to_string(), 64 << 20),
    };
    let lab_dir_s = lab_dir.to_string_lossy().into_owned();
    let prep_list =
        |list: &[String], name: &str, allow_lab_dir: bool| -> Result<Vec<String>, Error> {
            list.iter()
                .enumerate()
                .map(|(i, s)| {
                    seed::prepare(s, allow_lab_dir.then_some(lab_dir_s.as_str()))
                        .map_err(|m| invalid(path, &field(&format!("{name}[{i}]")), m))
                })
                .collect()
        };
    let vkernel_args = prep_list(
        t.vkernel_args
            .as_ref()
            .or(defaults.vkernel_args.as_ref())
            .map_or(&[][..], |v| v.as_slice()),
        "vkernel_args",
        true,
    )?;
    if let Some(bad) = vkernel_args.iter().find(|a| *a == "--") {
        return Err(invalid(
            path,
            &field("vkernel_args"),
            format!("`{bad}` is added by the grader; put the command in `init`"),
        ));
    }
    let init = prep_list(&t.init, "init", true)?;
    let stdin = match &t.stdin {
        Some(s) => Some(seed::prepare(s, None).map_err(|m| invalid(path, &field("stdin"), m))?),
        None => None,
    };
    let e = t.expect;
    let check_regexes = |list: &[String], name: &str| -> Result<(), Error> {
        for (i, r) in list.iter().enumerate() {
            compile_regex(&seed::substitute(r, 1))
                .map_err(|m| invalid(path, &field(&format!("expect.{name}[{i}]")), m))?;
        }
        Ok(())
    };
    let expect = Expect {
        exit: e.exit,
        stdout_contains: prep_list(&e.stdout_contains, "expect.stdout_contains", false)?,
        stdout_not_contains: prep_list(
            &e.stdout_not_contains,
            "expect.stdout_not_contains",
            false,
        )?,
        stdout_regex: prep_list(&e.stdout_regex, "expect.stdout_regex", false)?,
        stderr_contains: prep_list(&e.stderr_contains, "expect.stderr_contains", false)?,
        stderr_not_contains: prep_list(
            &e.stderr_not_contains,
            "expect.stderr_not_contains",
            false,
        )?,
        stderr_regex: prep_list(&e.stderr_regex, "expect.stderr_regex", false)?,
        no_panic: e.no_panic.unwrap_or(true),
        leaks_clean: e.leaks_clean.unwrap_or(true),
        number: e
            .number
            .into_iter()
            .enumerate()
            .map(|(i, n)| {
                let f = field(&format!("expect.number[{i}]"));
                let regex = seed::prepare(&n.regex, None).map_err(|m| invalid(path, &f, m))?;
                let re = compile_regex(&seed::substitute(&regex, 1))
                    .map_err(|m| invalid(path, &format!("{f}.regex"), m))?;
                if re.captures_len() != 2 {
                    return Err(invalid(
                        path,
                        &format!("{f}.regex"),
                        format!(
                            "needs exactly one capture group, `{}` has {}",
                            n.regex,
                            re.captures_len() - 1
                        ),
                    ));
                }
                if n.min.is_none() && n.max.is_none() {
                    return Err(invalid(path, &f, "give `min`, `max` or both".into()));
                }
                if let (Some(lo), Some(hi)) = (n.min, n.max) {
                    if lo > hi {
                        return Err(invalid(path, &f, format!("min {lo} is above max {hi}")));
                    }
                }
                let stream = match n.stream.as_deref() {
                    None | Some("stdout") => Stream::Stdout,
                    Some("stderr") => Stream::Stderr,
                    Some(other) => {
                        return Err(invalid(
                            path,
                            &format!("{f}.stream"),
                            format!("`{other}` is not `stdout` or `stderr`"),
                        ))
                    }
                };
                Ok(NumberCheck {
                    regex,
                    min: n.min,
                    max: n.max,
                    stream,
                })
            })
            .collect::<Result<_, _>>()?,
    };
    check_regexes(&expect.stdout_regex, "stdout_regex")?;
    check_regexes(&expect.stderr_regex, "stderr_regex")?;
    Ok(Test {
        name: t.name,
        points: t.points,
        timeout,
        cpu_limit,
        hidden: t.hidden.unwrap_or(hidden_default),
        hint: t.hint,
        memory,
        memory_bytes,
        vkernel_args,
        init,
        stdin,
        expect,
        source: path.to_path_buf(),
    })
}

/// Regexes of lab files run in multi-line mode (`^`/`$` match at line ends).
pub(crate) fn compile_regex(r: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(r)
        .multi_line(true)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| format!("bad regex: {e}"))
}
