//! Builds the guest workspace `user/` and writes `$OUT_DIR/programs.rs` (see `src/lib.rs`).
//!
//! Steps: find the programs (every `user/programs/<name>/` with a `Cargo.toml`; its
//! package and binary must be called `<name>`), run
//! `$CARGO build --release --manifest-path user/Cargo.toml --target-dir $OUT_DIR/guest-target`
//! in `user/` (so that `user/.cargo/config.toml` applies) with a cleaned environment,
//! check that every program's ELF is there, and list them in `programs.rs`.

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};

/// Variables that cargo sets for this build script (or a user sets for the host build)
/// and that would leak into the guest build: flags meant for the host crates, the host's
/// target directory, clippy's wrapper, and this package's profile, cfg and features.
const REMOVE: &[&str] = &[
    "RUSTFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_BUILD_RUSTFLAGS",
    "CARGO_TARGET_DIR",
    "CARGO_BUILD_TARGET_DIR",
    "CARGO_BUILD_TARGET",
    "RUSTC_WORKSPACE_WRAPPER",
    "CARGO_PRIMARY_PACKAGE",
];
/// Prefixes of variables removed for the same reason.
const REMOVE_PREFIXES: &[&str] = &["CARGO_PROFILE_", "CARGO_CFG_", "CARGO_FEATURE_"];

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let user = manifest_dir
        .parent()
        .expect("user/host has a parent")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target_dir = out_dir.join("guest-target");

    // Directories are scanned recursively by cargo.
    for watched in ["Cargo.toml", "Cargo.lock", ".cargo", "rt", "programs"] {
        println!("cargo:rerun-if-changed={}", user.join(watched).display());
    }

    let names = discover(&user.join("programs")).unwrap_or_else(|e| {
        fail(&format!(
            "cannot list the guest programs in {}: {e}",
            user.join("programs").display()
        ))
    });
    build(&user, &target_dir);

    let release = target_dir.join("release");
    let mut programs = Vec::new();
    for name in &names {
        let elf = release.join(name);
        if !elf.is_file() {
            fail(&format!(
                "guest program `{name}` was not built: no {} (its package and binary must be named `{name}`)",
                elf.display()
            ));
        }
        programs.push((name.as_str(), utf8(&elf).to_string()));
    }
    let stripped_dir = release.join("stripped");
    fs::create_dir_all(&stripped_dir)
        .unwrap_or_else(|e| fail(&format!("cannot create {}: {e}", stripped_dir.display())));
    let stripped: Vec<(&str, String)> = programs
        .iter()
        .map(|(name, elf)| {
            let out = stripped_dir.join(name);
            strip(Path::new(elf), &out);
            (*name, utf8(&out).to_string())
        })
        .collect();
    let mut generated = generate(utf8(&user), utf8(&target_dir), &programs);
    generated += "const STRIPPED: &[(&str, &str)] = &[\n";
    for (name, path) in &stripped {
        generated += &format!("    ({name:?}, {path:?}),\n");
    }
    generated += "];\n";
    fs::write(out_dir.join("programs.rs"), generated)
        .unwrap_or_else(|e| fail(&format!("cannot write programs.rs: {e}")));
}

/// The names of the programs: the subdirectories of `programs` with a `Cargo.toml`,
/// sorted. Fails if a package is not named after its directory.
fn discover(programs: &Path) -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(programs)? {
        let dir = entry?.path();
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        let text = fs::read_to_string(&manifest)?;
        if !text
            .lines()
            .any(|line| line.trim() == format!("name = \"{name}\""))
        {
            fail(&format!(
                "{} must declare `name = \"{name}\"`: a program is named after its directory",
                manifest.display()
            ));
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// Runs the guest build; on failure, exits after its output with a one-line explanation.
fn build(user: &Path, target_dir: &Path) {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let mut cmd = Command::new(cargo);
    cmd.current_dir(user)
        .args(["build", "--release", "--manifest-path"])
        .arg(user.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target_dir);
    for (key, _) in env::vars_os() {
        let name = key.to_string_lossy();
        let leaks = REMOVE.contains(&&*name)
            || REMOVE_PREFIXES.iter().any(|p| name.starts_with(p))
            || (name.starts_with("CARGO_TARGET_") && name.ends_with("_RUSTFLAGS"));
        if leaks {
            cmd.env_remove(&key);
        }
    }
    // Cargo reads this script's stdout for `cargo:` lines: send the child's to stderr.
    if let Ok(stderr) = io::stderr().as_fd().try_clone_to_owned() {
        cmd.stdout(Stdio::from(stderr));
    }
    match cmd.status() {
        Ok(status) if status.success() => {}
        Ok(status) => fail(&format!(
            "building the guest programs failed ({status}); the cargo output above is from \
             `cargo build --release` in {}, run it there to reproduce",
            user.display()
        )),
        Err(e) => fail(&format!(
            "cannot run cargo to build the guest programs: {e}"
        )),
    }
}

/// Copy `elf` to `out` without its debug sections (`objcopy --strip-debug`), so that the
/// initrd stays small; the full file keeps the symbols for `gdb`. Without `objcopy` the
/// file is copied as it is.
fn strip(elf: &Path, out: &Path) {
    let status = Command::new("objcopy")
        .arg("--strip-debug")
        .arg(elf)
        .arg(out)
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        println!("cargo:warning=objcopy --strip-debug failed for {}; the initrd gets the unstripped file", elf.display());
        fs::copy(elf, out).unwrap_or_else(|e| fail(&format!("cannot copy {}: {e}", elf.display())));
    }
}

/// The text of `programs.rs`.
fn generate(user: &str, target_dir: &str, programs: &[(&str, String)]) -> String {
    let mut out =
        String::from("// Generated by user/host/build.rs: the guest programs it built.\n\n");
    out += &format!("const USER_DIR: &str = {user:?};\n");
    out += &format!("const TARGET_DIR: &str = {target_dir:?};\n");
    out += "const PROGRAMS: &[(&str, &str)] = &[\n";
    for (name, path) in programs {
        out += &format!("    ({name:?}, {path:?}),\n");
    }
    out += "];\n";
    out
}

/// `path` as UTF-8, which `programs.rs` needs; fails otherwise.
fn utf8(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| fail(&format!("path is not UTF-8: {}", path.display())))
}

/// Stops the build script with a one-line explanation.
fn fail(why: &str) -> ! {
    eprintln!("error: {why}");
    process::exit(1)
}
