//! Building a submission: the pristine kernel tree, with only the lab's student files taken
//! from the submission, compiled in the sandbox.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Error;
use crate::lab::{check_relative, Lab};
use crate::sandbox::{self, End, Limits, Spec};
use crate::units::human_duration;

/// Largest student file accepted.
pub const MAX_STUDENT_FILE: u64 = 16 << 20;

/// How to build.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Wall-clock limit of the build (default 10 minutes).
    pub timeout: Duration,
    /// The cargo to run (default `$CARGO`, else `cargo` on the PATH).
    pub cargo: PathBuf,
    /// The package and binary to build (default `vkernel`).
    pub package: String,
    /// Output cap per stream of the build.
    pub output_cap: usize,
    /// Process limit of the build (cgroup `pids.max` or the RLIMIT_NPROC margin).
    pub pids_max: u64,
    /// Memory limit of the build, where a cgroup can set one.
    pub memory_max: u64,
    /// RLIMIT_FSIZE of the build.
    pub file_size_max: u64,
    /// Where the copy of the tree is made (default the system's temp dir).
    pub temp_root: Option<PathBuf>,
    /// Put the build in its own cgroup(s) where the host allows it (default true).
    pub cgroups: bool,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            timeout: Duration::from_secs(600),
            cargo: std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from),
            package: "vkernel".into(),
            output_cap: 4 << 20,
            pids_max: 1024,
            memory_max: 8 << 30,
            file_size_max: 4 << 30,
            temp_root: None,
            cgroups: true,
        }
    }
}

/// Build with the default options; see [`build_kernel_with`].
pub fn build_kernel(
    submission: &Path,
    pristine: &Path,
    lab: &Lab,
    out: &Path,
) -> Result<PathBuf, Error> {
    build_kernel_with(submission, pristine, lab, out, &BuildOptions::default())
}

/// Copy `pristine` (a cargo workspace root; everything but `target/` and `.git`) to a temp
/// dir, overlay the student files of `lab` and of the labs it requires from `submission`,
/// run `cargo build --release -p vkernel` there with `CARGO_TARGET_DIR=out` in the sandbox,
/// and return the path of the binary (`out/release/vkernel`).
pub fn build_kernel_with(
    submission: &Path,
    pristine: &Path,
    lab: &Lab,
    out: &Path,
    opts: &BuildOptions,
) -> Result<PathBuf, Error> {
    let fail = |message: String, output: String| Error::Build {
        submission: submission.to_path_buf(),
        message,
        output,
    };
    if !pristine.join("Cargo.toml").is_file() {
        return Err(Error::Other(format!(
            "{}: not a cargo workspace (no Cargo.toml)",
            pristine.display()
        )));
    }
    let tree = sandbox::temp_dir(opts.temp_root.as_deref(), "autograder-build-")
        .map_err(|e| Error::io(std::env::temp_dir(), e))?;
    copy_tree(pristine, tree.path())?;
    overlay(submission, tree.path(), &lab.overlay_files())?;

    fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let out = fs::canonicalize(out).map_err(|e| Error::io(out, e))?;
    let mut args: Vec<OsString> = vec![
        "build".into(),
        "--release".into(),
        "-p".into(),
        opts.package.clone().into(),
        "--bin".into(),
        opts.package.clone().into(),
        "--color".into(),
        "never".into(),
    ];
    if tree.path().join("Cargo.lock").is_file() {
        args.push("--locked".into());
    }
    let mut env = build_env();
    env.push(("CARGO_TARGET_DIR".into(), out.clone().into()));
    let finished = sandbox::run(Spec {
        program: &opts.cargo,
        args,
        cwd: tree.path(),
        env,
        stdin: Vec::new(),
        timeout: opts.timeout,
        output_cap: opts.output_cap,
        limits: Limits {
            cpu: opts.timeout,
            file_size: opts.file_size_max,
            pids_max: opts.pids_max,
            memory_max: opts.memory_max,
        },
        cgroups: opts.cgroups,
    })
    .map_err(|e| {
        fail(
            format!("could not run {}: {e}", opts.cargo.display()),
            String::new(),
        )
    })?;
    let mut output = String::from_utf8_lossy(&finished.stdout).into_owned();
    output += &String::from_utf8_lossy(&finished.stderr);
    let output = tail_lines(&output, 200);
    match finished.end {
        End::Exited(0) => {}
        End::Exited(c) => return Err(fail(format!("cargo build exited with status {c}"), output)),
        End::Signaled(s) => {
            return Err(fail(
                format!("cargo build was killed by {}", crate::check::signal_name(s)),
                output,
            ))
        }
        End::Timeout => {
            return Err(fail(
                format!(
                    "the build took longer than {}",
                    human_duration(opts.timeout)
                ),
                output,
            ))
        }
        End::Flood(s) => {
            return Err(fail(
                format!("the build printed too much on {}", s.name()),
                output,
            ))
        }
    }
    let bin = out.join("release").join(&opts.package);
    if !bin.is_file() {
        return Err(fail(format!("the build made no {}", bin.display()), output));
    }
    Ok(bin)
}

/// The environment of a build: the grader's, less the variables an enclosing cargo set.
fn build_env() -> Vec<(OsString, OsString)> {
    const KEEP: [&str; 5] = [
        "CARGO_HOME",
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTR",
        "CARGO_BUILD_JOBS",
    ];
    std::env::vars_os()
        .filter(|(k, _)| {
            let k = k.to_string_lossy();
            if k.starts_with("CARGO") {
                KEEP.iter().any(|p| k.starts_with(p))
            } else {
                !matches!(
                    k.as_ref(),
                    "RUSTC_WRAPPER"
                        | "RUSTC_WORKSPACE_WRAPPER"
                        | "RUSTFLAGS"
                        | "RUSTDOCFLAGS"
                        | "AUTOGRADER_RUN"
                ) && !k.starts_with("__CARGO")
            }
        })
        .collect()
}

fn tail_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    if lines.len() <= n {
        return s.to_string();
    }
    format!(
        "({} lines; the last {n}:)\n{}\n",
        lines.len(),
        lines[lines.len() - n..].join("\n")
    )
}

/// Copy a tree, leaving out `.git` and `target` directories; symlinks are copied as links.
pub fn copy_tree(from: &Path, to: &Path) -> Result<(), Error> {
    fs::create_dir_all(to).map_err(|e| Error::io(to, e))?;
    let entries = fs::read_dir(from).map_err(|e| Error::io(from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(from, e))?;
        let name = entry.file_name();
        let src = entry.path();
        let dst = to.join(&name);
        let ty = entry.file_type().map_err(|e| Error::io(&src, e))?;
        if ty.is_dir() {
            if name == ".git" || name == "target" {
                continue;
            }
            copy_tree(&src, &dst)?;
        } else if ty.is_symlink() {
            let link = fs::read_link(&src).map_err(|e| Error::io(&src, e))?;
            std::os::unix::fs::symlink(link, &dst).map_err(|e| Error::io(&dst, e))?;
        } else if ty.is_file() {
            fs::copy(&src, &dst).map_err(|e| Error::io(&src, e))?;
        }
    }
    Ok(())
}

/// Copy `files` (relative paths) from `submission` over `tree`. A file the submission
/// lacks keeps the tree's version. Refused: absolute paths, `..`, symlinks, files outside
/// the submission, anything but a regular file, files over [`MAX_STUDENT_FILE`].
pub fn overlay(submission: &Path, tree: &Path, files: &[String]) -> Result<Vec<String>, Error> {
    let sub_root = fs::canonicalize(submission).map_err(|e| Error::io(submission, e))?;
    let refuse = |f: &str, why: String| Error::Build {
        submission: submission.to_path_buf(),
        message: format!("student file `{f}`: {why}"),
        output: String::new(),
    };
    let mut missing = Vec::new();
    for f in files {
        check_relative(f).map_err(|m| refuse(f, m))?;
        let src = submission.join(f);
        let meta = match fs::symlink_metadata(&src) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                missing.push(f.clone());
                continue;
            }
            Err(e) => return Err(Error::io(&src, e)),
        };
        if meta.file_type().is_symlink() {
            return Err(refuse(f, "is a symbolic link".into()));
        }
        if !meta.is_file() {
            return Err(refuse(f, "is not a regular file".into()));
        }
        if meta.len() > MAX_STUDENT_FILE {
            return Err(refuse(
                f,
                format!("is larger than {} bytes", MAX_STUDENT_FILE),
            ));
        }
        // A directory on the way may be a link out of the submission.
        let real = fs::canonicalize(&src).map_err(|e| Error::io(&src, e))?;
        if !real.starts_with(&sub_root) {
            return Err(refuse(
                f,
                "lies outside the submission (through a link)".into(),
            ));
        }
        let dst = tree.join(f);
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let bytes = fs::read(&real).map_err(|e| Error::io(&real, e))?;
        // Never write through a link that may stand there.
        let _ = fs::remove_file(&dst);
        fs::write(&dst, bytes).map_err(|e| Error::io(&dst, e))?;
    }
    Ok(missing)
}
