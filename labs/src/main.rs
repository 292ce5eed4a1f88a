//! `labs`: the student's command.
//!
//! Today it boots the kernel: `labs boot` to an interactive shell, `labs boot -- CMD...`
//! to run one command and return its status. Grading a lab (`labs --lab vm`) comes with
//! the labs themselves; until then it says so.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The student's command for vkernel labs.
#[derive(Debug, Parser)]
#[command(
    name = "labs",
    version,
    about = "vkernel labs: boot your kernel (lab grading is not built yet)",
    after_help = "Examples:\n  cargo run -p labs -- boot                                 boot to a shell\n  \
                  cargo run -p labs -- boot -- /bin/sh -c 'echo hi | cat'    run one command"
)]
struct Cli {
    /// Grade this lab (not available yet).
    #[arg(long)]
    lab: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot the kernel with the default initrd: a shell, or the given init command.
    Boot {
        /// Options for the kernel (see `vkernel --help`), then `--` and the init command.
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "[VKERNEL OPTIONS] [-- INIT ARGS]"
        )]
        args: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match (cli.command, cli.lab) {
        (Some(Command::Boot { args }), _) => {
            vkernel::cli::main_with_args(std::iter::once("vkernel".to_string()).chain(args))
        }
        (None, Some(lab)) => {
            eprintln!("labs: grading lab `{lab}` is not available yet: the labs are not carved out of the kernel so far.");
            ExitCode::from(2)
        }
        (None, None) => {
            eprintln!("labs: say what to do: `labs boot` (see `labs --help`)");
            ExitCode::from(2)
        }
    }
}
