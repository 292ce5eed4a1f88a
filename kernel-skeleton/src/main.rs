//! `vkernel`: boot the virtual kernel (see `cli.rs` and `vkernel --help`).
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    vkernel::cli::main_with_args(std::env::args_os())
}
