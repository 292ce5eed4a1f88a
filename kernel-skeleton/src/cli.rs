//! The `vkernel` command line: parse the options, build the initrd, boot, report.
//!
//! The kernel is an ordinary host process: run it, debug it with `gdb`, stop it with
//! Ctrl-C. It unpacks the initrd (a cpio archive; by default one holding every program of
//! `user/` in `/bin`), starts `init` as process 1 and exits with init's exit status when
//! init exits. `main.rs` and the `labs boot` command both call [`main_with_args`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::kernel::{BootConfig, Kernel, KernelError, Trace};
use crate::sched::PolicyKind;
use clap::Parser;
use vmspace::devices::Console;

/// Command line of the virtual kernel.
#[derive(Debug, Parser)]
#[command(
    name = "vkernel",
    version,
    about = "The virtual kernel: a kernel that runs as an ordinary Linux process",
    after_help = "INIT is the path of the first program inside the initrd (a bare name means \
                  /bin/NAME); it runs as process 1 with ARGS.\n\n\
                  Examples:\n  vkernel                        boot to a shell (/bin/init runs /bin/sh)\n  \
                  vkernel -- /bin/sh -c 'echo hi | wc'\n  \
                  vkernel --file ./prog -- /bin/prog    add a host file to the initrd and run it\n\n\
                  Exit status: init's own (128+N when it was killed by signal N); 126 when init \
                  cannot be run; 127 when it is not found; 65 for a bad initrd; 70 after a kernel \
                  panic (a `panic:` line on stderr); 71 when the host machine failed. At \
                  shutdown a line `vkernel: leaks: frames=F procs=P files=O` goes to stderr."
)]
pub struct Args {
    /// RAM size, with an optional K, M or G suffix.
    #[arg(short = 'm', long = "memory", default_value = "64M", value_parser = parse_size)]
    memory: u64,
    /// The initrd (cpio newc archive); default: all programs of user/ in /bin.
    #[arg(long)]
    initrd: Option<PathBuf>,
    /// Add a host file to the initrd, as HOST[:GUEST] (GUEST defaults to /bin/NAME).
    #[arg(long = "file", value_name = "HOST[:GUEST]")]
    files: Vec<String>,
    /// Timer interrupts per second.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10000))]
    hz: u32,
    /// Tick on guest CPU time instead of wall-clock time (repeatable scheduling).
    #[arg(long)]
    virtual_time: bool,
    /// The scheduling policy.
    #[arg(long, value_enum, default_value_t = Sched::Mlfq)]
    sched: Sched,
    /// Most processes at once (fork fails with EAGAIN beyond).
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(2..=4096))]
    max_procs: u64,
    /// What to trace on stderr (comma-separated).
    #[arg(long, value_delimiter = ',', value_enum)]
    trace: Vec<TraceWhat>,
    /// Environment variables for init (KEY=VALUE), repeatable; default PATH=/bin HOME=/.
    #[arg(long = "env", short = 'e')]
    env: Vec<String>,
    /// Do not read console input from stdin.
    #[arg(long)]
    no_input: bool,
    /// The init program and its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "INIT [ARGS]"
    )]
    init: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TraceWhat {
    /// Every system call and its result.
    Syscall,
    /// Every page fault the kernel handles.
    Fault,
    /// Every context switch.
    Sched,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Sched {
    /// Round robin.
    Rr,
    /// Multilevel feedback queue.
    Mlfq,
}

/// Parse `64M`, `1G`, `4096`, `512K`.
fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1u64 << 10),
        Some('m' | 'M') => (&s[..s.len() - 1], 1 << 20),
        Some('g' | 'G') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size like 64M"))?;
    let bytes = n.checked_mul(mult).ok_or("size too large")?;
    if !(1 << 20..=64 << 30).contains(&bytes) {
        return Err(format!("memory must be between 1M and 64G, not {s}"));
    }
    Ok(bytes)
}

/// Build the initrd: the given archive or the default one, plus `--file` additions.
fn initrd(args: &Args) -> Result<Vec<u8>, (i32, String)> {
    if !args.files.is_empty() && args.initrd.is_some() {
        return Err((
            2,
            "--file adds to the default initrd; it cannot be combined with --initrd".into(),
        ));
    }
    if let Some(path) = &args.initrd {
        return std::fs::read(path).map_err(|e| (65, format!("{}: {e}", path.display())));
    }
    let mut b = userland::initrd::default_builder();
    for spec in &args.files {
        let (host, guest) = match spec.split_once(':') {
            Some((h, g)) => (h.to_string(), g.to_string()),
            None => {
                let name = std::path::Path::new(spec)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                (spec.clone(), format!("/bin/{name}"))
            }
        };
        let bytes = std::fs::read(&host).map_err(|e| (127, format!("{host}: {e}")))?;
        b.add_file(&guest, 0o755, &bytes);
    }
    Ok(b.finish())
}

fn run(args: Args) -> Result<i32, (i32, String)> {
    let initrd = initrd(&args)?;
    // ANCHOR: init-argv
    let mut init: Vec<Vec<u8>> = args.init.iter().map(|a| a.clone().into_bytes()).collect();
    if init.is_empty() {
        init.push(b"/bin/init".to_vec());
    } else if !init[0].contains(&b'/') {
        init[0] = [b"/bin/".as_slice(), &init[0]].concat();
    }
    // ANCHOR_END: init-argv
    let env: Vec<Vec<u8>> = if args.env.is_empty() {
        vec![b"PATH=/bin".to_vec(), b"HOME=/".to_vec()]
    } else {
        args.env.iter().map(|e| e.clone().into_bytes()).collect()
    };
    let boot_realtime_ns = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let cfg = BootConfig {
        memory: args.memory,
        hz: args.hz,
        virtual_time: args.virtual_time,
        trace: Trace {
            syscall: args.trace.contains(&TraceWhat::Syscall),
            fault: args.trace.contains(&TraceWhat::Fault),
            sched: args.trace.contains(&TraceWhat::Sched),
        },
        initrd,
        init,
        env,
        console: Console::stdout(),
        stdin_input: !args.no_input,
        console_is_tty: std::io::IsTerminal::is_terminal(&std::io::stdin()),
        policy: match args.sched {
            Sched::Rr => PolicyKind::RoundRobin,
            Sched::Mlfq => PolicyKind::Mlfq,
        },
        max_procs: args.max_procs as usize,
        boot_realtime_ns,
    };
    // ANCHOR: boot-result
    match Kernel::boot(cfg) {
        Ok((code, leaks)) => {
            eprintln!("vkernel: {leaks}");
            Ok(code)
        }
        Err(KernelError::Init(msg)) => {
            let code = if msg.contains("ENOENT") { 127 } else { 126 };
            Err((code, format!("cannot start init: {msg}")))
        }
        Err(e @ KernelError::Initrd(_)) => Err((65, e.to_string())),
        Err(e @ KernelError::Machine(_)) => Err((71, e.to_string())),
    }
    // ANCHOR_END: boot-result
}

/// Parse `args` (the first is the program name) and boot; returns the exit status.
pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let args = Args::parse_from(args);
    ExitCode::from(guarded(|| run(args)).clamp(0, 255) as u8)
}

/// Run `body` as the kernel: a `panic:` line with a backtrace on stderr and
/// [`PANIC_EXIT_STATUS`](crate::PANIC_EXIT_STATUS) if it panics, the message of an
/// `Err((status, message))` on stderr with that status, or its `Ok` status.
pub fn guarded(body: impl FnOnce() -> Result<i32, (i32, String)> + std::panic::UnwindSafe) -> i32 {
    std::panic::set_hook(Box::new(|info| {
        let bt = std::backtrace::Backtrace::force_capture();
        eprintln!("panic: {info}\n{bt}");
    }));
    let code = match std::panic::catch_unwind(body) {
        Ok(Ok(code)) => code,
        Ok(Err((code, msg))) => {
            eprintln!("vkernel: {msg}");
            code
        }
        Err(_) => crate::PANIC_EXIT_STATUS,
    };
    let _ = std::panic::take_hook();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kernel_panic_becomes_the_panic_status() {
        assert_eq!(guarded(|| panic!("kernel bug")), crate::PANIC_EXIT_STATUS);
        assert_eq!(guarded(|| Err((126, "refused".into()))), 126);
        assert_eq!(guarded(|| Ok(3)), 3);
    }

    #[test]
    fn sizes_parse_with_suffixes_and_limits() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("4K").is_err(), "below 1M");
    }
}
