//! `vkernel`: boot the virtual kernel and run one program in it.
//!
//! The kernel is an ordinary host process: run it, debug it with `gdb`, kill it with
//! Ctrl-C. Its exit status is the guest program's (128 + signal when the kernel killed
//! it), 126 when the program is refused, 127 when it is not found, 70 after a kernel
//! panic (with a `panic:` line) and 71 when the host machine failed.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use vkernel::kernel::{Config, Kernel, KernelError};
use vmspace::devices::Console;

/// Command line of the virtual kernel.
#[derive(Debug, Parser)]
#[command(
    name = "vkernel",
    version,
    about = "The virtual kernel: a kernel that runs as an ordinary Linux process",
    after_help = "PROGRAM is a path to a static x86-64 ELF executable, or the name of a \
                  guest program of user/ (hello, args, alloc, ...).\n\nExit status: the \
                  program's own; 128+N when the kernel killed it with signal N; 126 when it \
                  cannot be run; 127 when it is not found; 70 after a kernel panic; 71 when \
                  the host machine failed."
)]
struct Args {
    /// RAM size, with an optional K, M or G suffix.
    #[arg(short = 'm', long = "memory", default_value = "64M", value_parser = parse_size)]
    memory: u64,
    /// Timer interrupts per second.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10000))]
    hz: u32,
    /// Tick on guest CPU time instead of wall-clock time (repeatable scheduling).
    #[arg(long)]
    virtual_time: bool,
    /// What to trace on stderr (comma-separated): syscall.
    #[arg(long, value_delimiter = ',')]
    trace: Vec<TraceWhat>,
    /// Environment variables for the program (KEY=VALUE), repeatable.
    #[arg(long = "env", short = 'e')]
    env: Vec<String>,
    /// The program to run.
    program: String,
    /// Its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TraceWhat {
    /// Every system call and its result.
    Syscall,
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

/// Largest program file the kernel reads.
const MAX_PROGRAM: u64 = 256 << 20;

fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    userland::program(program).map(PathBuf::from)
}

fn run(args: Args) -> Result<i32, (i32, String)> {
    let path =
        resolve(&args.program).ok_or((127, format!("{}: no such guest program", args.program)))?;
    let meta = std::fs::metadata(&path).map_err(|e| (127, format!("{}: {e}", path.display())))?;
    if meta.len() > MAX_PROGRAM {
        return Err((
            126,
            format!("{}: too large ({} bytes)", path.display(), meta.len()),
        ));
    }
    let bytes = std::fs::read(&path).map_err(|e| (126, format!("{}: {e}", path.display())))?;
    let mut kernel = Kernel::new(Config {
        memory: args.memory,
        hz: args.hz,
        virtual_time: args.virtual_time,
        trace_syscalls: args.trace.contains(&TraceWhat::Syscall),
        console: Console::stdout(),
    })
    .map_err(|e| (71, e.to_string()))?;
    let mut argv = vec![args.program.clone().into_bytes()];
    argv.extend(args.args.iter().map(|a| a.clone().into_bytes()));
    let envp: Vec<Vec<u8>> = if args.env.is_empty() {
        vec![b"PATH=/bin".to_vec(), b"HOME=/".to_vec()]
    } else {
        args.env.iter().map(|e| e.clone().into_bytes()).collect()
    };
    match kernel.run(&bytes, &argv, &envp) {
        Ok(status) => Ok(status.code()),
        Err(KernelError::Exec(e)) => Err((126, format!("cannot run {}: {e}", path.display()))),
        Err(e @ KernelError::Machine(_)) => Err((71, e.to_string())),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    std::panic::set_hook(Box::new(|info| {
        let bt = std::backtrace::Backtrace::force_capture();
        eprintln!("panic: {info}\n{bt}");
    }));
    let result = std::panic::catch_unwind(|| run(args));
    let code = match result {
        Ok(Ok(code)) => code,
        Ok(Err((code, msg))) => {
            eprintln!("vkernel: {msg}");
            code
        }
        Err(_) => vkernel::PANIC_EXIT_STATUS,
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}
