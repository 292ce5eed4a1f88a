//! The guest programs also run natively on Linux; their output and status are checked
//! here, including on a "first kernel" that serves only `write` and `exit_group`.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Output};

/// Runs guest program `name` natively with `args` and an environment of only `A=1`.
fn run(name: &str, args: &[&str]) -> Output {
    command(name, args).output().unwrap()
}

fn command(name: &str, args: &[&str]) -> Command {
    let path = userland::program(name).unwrap_or_else(|| panic!("no program {name}"));
    let mut cmd = Command::new(path);
    cmd.args(args).env_clear().env("A", "1");
    cmd
}

fn stdout(out: &Output) -> &str {
    std::str::from_utf8(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> &str {
    std::str::from_utf8(&out.stderr).unwrap()
}

#[test]
fn hello_prints_greeting_and_arguments() {
    let out = run("hello", &["one", "two words"]);
    let path = userland::program("hello").unwrap().display().to_string();
    let expected =
        format!("hello from the guest\nargv[0] = {path}\nargv[1] = one\nargv[2] = two words\n");
    assert_eq!(stdout(&out), expected);
    assert_eq!(stderr(&out), "");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn hello_exits_with_a_numeric_first_argument() {
    let out = run("hello", &["42", "x"]);
    assert!(stdout(&out).ends_with("argv[1] = 42\nargv[2] = x\n"));
    assert_eq!(out.status.code(), Some(42));
}

#[test]
fn exitcode_exits_silently_with_its_argument() {
    for (args, code) in [(&["7"][..], 7), (&[], 0), (&["255"], 255), (&["nope"], 255)] {
        let out = run("exitcode", args);
        assert_eq!(out.status.code(), Some(code), "exitcode {args:?}");
        assert!(out.stdout.is_empty() && out.stderr.is_empty());
    }
}

#[test]
fn args_shows_the_initial_stack() {
    let out = run("args", &["x", "y"]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<&str> = stdout(&out).lines().collect();
    let path = userland::program("args").unwrap().display().to_string();
    assert_eq!(
        lines[..5],
        [
            "argc=3",
            &format!("argv[0]={path}"),
            "argv[1]=x",
            "argv[2]=y",
            "envp[0]=A=1"
        ]
    );
    let value = |key: &str| {
        lines
            .iter()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .unwrap_or_else(|| panic!("no {key} in {lines:?}"))
    };
    let elf_bytes = std::fs::read(userland::program("args").unwrap()).unwrap();
    let elf = goblin::elf::Elf::parse(&elf_bytes).unwrap();
    assert_eq!(value("AT_PAGESZ"), "4096");
    assert_eq!(value("AT_ENTRY"), format!("{:#x}", elf.entry));
    assert_eq!(value("AT_PHNUM"), elf.header.e_phnum.to_string());
    assert!(value("AT_PHDR").starts_with("0x4"));
    assert_ne!(value("AT_RANDOM"), "0x0");
}

/// The checksum `alloc` prints for `n` elements.
fn alloc_checksum(n: u64) -> u64 {
    n * (n - 1) / 2 + format!("vec of {n}").len() as u64 + 3 * n
}

#[test]
fn alloc_uses_the_heap() {
    let out = run("alloc", &[]);
    assert_eq!(stderr(&out), "");
    assert_eq!(
        stdout(&out),
        format!("alloc ok {}\n", alloc_checksum(100_000))
    );
    assert_eq!(out.status.code(), Some(0));
    let out = run("alloc", &["3000"]);
    assert_eq!(stdout(&out), format!("alloc ok {}\n", alloc_checksum(3000)));
}

#[test]
fn oops_panics_with_one_line_and_status_101() {
    let out = run("oops", &[]);
    assert_eq!(out.status.code(), Some(101));
    assert_eq!(stdout(&out), "");
    let source = userland::source_dir().join("programs/oops/src/main.rs");
    let line = std::fs::read_to_string(&source)
        .unwrap()
        .lines()
        .position(|l| l.contains("panic!(\"deliberate panic"))
        .expect("the panic in oops")
        + 1;
    let expected =
        format!("oops: panicked at programs/oops/src/main.rs:{line}: deliberate panic (42)\n");
    assert_eq!(stderr(&out), expected);
    assert!(
        !stderr(&out).starts_with("panic:"),
        "reserved for kernel panics"
    );
}

#[test]
fn oops_raises_cpu_faults() {
    for (how, signal) in [
        ("segv", libc::SIGSEGV),
        ("ud2", libc::SIGILL),
        ("int3", libc::SIGTRAP),
        ("div0", libc::SIGFPE),
    ] {
        let out = run("oops", &[how]);
        assert_eq!(
            out.status.signal(),
            Some(signal),
            "oops {how}: {:?}",
            out.status
        );
    }
    assert_eq!(run("oops", &["what"]).status.code(), Some(2));
}

#[test]
fn syscheck_passes_on_linux() {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let out = run("syscheck", &[scratch.to_str().unwrap()]);
    let text = stdout(&out);
    assert!(!text.contains("FAIL"), "{text}");
    assert!(text.ends_with(" passed, 0 failed\n"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
}

/// Makes `cmd` run its program under a seccomp filter that allows only `write` and
/// `exit_group` (and the `execve` that starts it) and fails every other system call
/// with `ENOSYS`: what the first vkernel serves.
fn first_kernel(cmd: &mut Command) -> &mut Command {
    const fn stmt(code: u32, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code: code as u16,
            jt: 0,
            jf: 0,
            k,
        }
    }
    const fn jeq(k: u32, jt: u8) -> libc::sock_filter {
        libc::sock_filter {
            code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
            jt,
            jf: 0,
            k,
        }
    }
    // <linux/audit.h>: EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE.
    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let ret = libc::BPF_RET | libc::BPF_K;
    // Offsets in `struct seccomp_data`: nr at 0, arch at 4.
    let filter = [
        stmt(load, 4),
        jeq(AUDIT_ARCH_X86_64, 1),
        stmt(ret, libc::SECCOMP_RET_KILL_PROCESS),
        stmt(load, 0),
        jeq(libc::SYS_write as u32, 3),
        jeq(libc::SYS_exit_group as u32, 2),
        jeq(libc::SYS_execve as u32, 1),
        stmt(ret, libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32),
        stmt(ret, libc::SECCOMP_RET_ALLOW),
    ];
    // SAFETY: the closure runs in the forked child just before `execve`. It only makes
    // two `prctl` calls on data it owns (no allocation, no locks), which is allowed there.
    unsafe {
        cmd.pre_exec(move || {
            let prog = libc::sock_fprog {
                len: filter.len() as u16,
                filter: filter.as_ptr().cast_mut(),
            };
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                || libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &prog) != 0
            {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

#[test]
fn programs_run_on_a_kernel_with_only_write_and_exit_group() {
    let out = first_kernel(&mut command("hello", &["3"]))
        .output()
        .unwrap();
    assert!(stdout(&out).starts_with("hello from the guest\n"));
    assert_eq!(out.status.code(), Some(3));

    let out = first_kernel(&mut command("exitcode", &["9"]))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(9));

    let out = first_kernel(&mut command("args", &[])).output().unwrap();
    assert!(stdout(&out).contains("\nAT_PAGESZ=4096\n"));

    // The heap falls back to its static arena when mmap fails.
    let out = first_kernel(&mut command("alloc", &["1000"]))
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        format!("alloc ok {}\n", alloc_checksum(1000)),
        "{}",
        stderr(&out)
    );

    let out = first_kernel(&mut command("oops", &[])).output().unwrap();
    assert!(stderr(&out).starts_with("oops: panicked at "));
    assert_eq!(out.status.code(), Some(101));

    // The filter works: syscheck's first check fails (getpid is ENOSYS).
    let out = first_kernel(&mut command("syscheck", &[]))
        .output()
        .unwrap();
    assert!(
        stdout(&out).starts_with("FAIL ids: getpid: ENOSYS"),
        "{}",
        stdout(&out)
    );
}
