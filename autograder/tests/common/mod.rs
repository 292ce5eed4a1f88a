//! Helpers shared by the integration tests: fixture kernels, labs, process checks.
#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use autograder::grade::GradeOptions;
use autograder::run::RunOptions;

/// Write an executable script.
pub fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

/// Write a lab file and load it.
pub fn lab(dir: &Path, name: &str, toml: &str) -> autograder::Lab {
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, toml).unwrap();
    autograder::lab::load(&p).unwrap()
}

pub fn opts(dir: &Path, seed: u64) -> GradeOptions {
    GradeOptions {
        jobs: 2,
        tests: vec![],
        run: RunOptions {
            seed,
            log_dir: dir.join("logs"),
            ..RunOptions::default()
        },
        progress: None,
    }
}

/// The source of the "good" fixture kernel: a tiny Rust program that computes the right
/// answers (its own implementation of the seed contract, independent of the grader's).
pub const GOOD_KERNEL: &str = r#"
use std::io::Read;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let pos = args.iter().position(|a| a == "--").expect("--");
    let init = &args[pos + 1..];
    let mut code = 0;
    match init.first().map(|s| s.as_str()) {
        Some("greet") => println!("booting\nhello, world\nall tests passed"),
        Some("checksum") => {
            let seed: u64 = init[1].parse().unwrap();
            let n: usize = init[2].parse().unwrap();
            let mut x = seed | 1;
            let mut h: u64 = 0xcbf29ce484222325;
            let mut left = n;
            while left > 0 {
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                let out = x.wrapping_mul(0x2545F4914F6CDD1D);
                for b in out.to_le_bytes().iter().take(left.min(8)) {
                    h ^= *b as u64;
                    h = h.wrapping_mul(0x100000001b3);
                }
                left -= left.min(8);
            }
            println!("checksum {:016x}", h);
        }
        Some("share") => println!("share 0.25\nshare 0.27"),
        Some("echo-stdin") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).unwrap();
            print!("{s}");
        }
        Some("exit") => code = init[1].parse().unwrap(),
        _ => { eprintln!("unknown init"); code = 127 }
    }
    eprintln!("vkernel: leaks: frames=0 procs=0 files=0");
    std::process::exit(code);
}
"#;

/// Compile a one-file Rust program into the test binary's scratch dir.
pub fn compile(name: &str, source: &str) -> PathBuf {
    // In cargo's scratch space for tests (target/tmp), one folder per test process.
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("autograder-fixtures-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = dir.join(format!("{name}.rs"));
    std::fs::write(&src, source).unwrap();
    let bin = dir.join(name);
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let st = Command::new(rustc)
        .args(["--edition", "2021", "-O", "-o"])
        .arg(&bin)
        .arg(&src)
        .status()
        .expect("rustc runs");
    assert!(st.success(), "the fixture {name} builds");
    bin
}

/// Build the good kernel once per test binary.
pub fn good_kernel() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| compile("good-kernel", GOOD_KERNEL))
        .clone()
}

/// The lab the good and the cheating kernel are graded with (40 points).
pub const FIXTURE_LAB: &str = r#"
[lab]
name = "fixture"
title = "Fixture lab"
chapter = "book/fixture.md"

[defaults]
timeout = "5s"

[[test]]
name = "greeting"
points = 10
init = ["greet"]
hint = "Greetings: book/fixture.md#hello"
[test.expect]
exit = 0
stdout_contains = ["hello"]

[[test]]
name = "checksum"
points = 20
init = ["checksum", "{seed}", "4096"]
[test.expect]
exit = 0
stdout_contains = ["checksum {checksum:4096}"]
stdout_not_contains = ["panic"]

[[test]]
name = "share"
points = 5
init = ["share"]
[test.expect]
exit = 0
[[test.expect.number]]
regex = "share ([0-9.]+)"
min = 0.2
max = 0.3

[[test]]
name = "stdin"
points = 5
init = ["echo-stdin"]
stdin = "line {seed}\n"
[test.expect]
stdout_regex = ["^line {seed}$"]
"#;

/// Processes (pid, cmdline) whose command line holds `marker`.
pub fn procs_with(marker: &str) -> Vec<(i32, String)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        if let Ok(c) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            let c = String::from_utf8_lossy(&c).replace('\0', " ");
            if c.contains(marker) {
                v.push((pid, c));
            }
        }
    }
    v
}

/// Zombie children of this process (their stat lines).
pub fn zombie_children() -> Vec<String> {
    let me = std::process::id() as i32;
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if f.first() == Some(&"Z") && f.get(1).and_then(|p| p.parse::<i32>().ok()) == Some(me) {
            v.push(stat.trim().to_string());
        }
    }
    v
}
