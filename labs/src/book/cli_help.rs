//! The book's command-line appendix: the `--help` of `labs`, `vkernel` and `autograder`
//! and of every subcommand, rendered from their clap definitions, so the book says what
//! the programs do.

use std::fmt::Write as _;

use clap::CommandFactory;

/// The help of `program` and its subcommands as markdown code blocks, or `None` for an
/// unknown program.
pub fn help(program: &str) -> Option<String> {
    let mut command = match program {
        "labs" => crate::Cli::command(),
        "vkernel" => vkernel::cli::Args::command(),
        "autograder" => autograder::cli::Cli::command(),
        _ => return None,
    };
    command.build();
    let mut out = String::new();
    render(&mut command, program, &mut out);
    Some(out)
}

fn render(command: &mut clap::Command, path: &str, out: &mut String) {
    let text = command.render_long_help().to_string();
    let _ = writeln!(out, "```text\n$ {path} --help\n{}\n```\n", text.trim_end());
    for sub in command.get_subcommands_mut() {
        if sub.is_hide_set() || sub.get_name() == "help" {
            continue;
        }
        let name = format!("{path} {}", sub.get_name());
        render(sub, &name, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_and_subcommand() {
        let labs = help("labs").unwrap();
        assert!(labs.contains("$ labs --help"));
        assert!(labs.contains("$ labs boot --help"));
        assert!(
            !labs.contains("preprocess"),
            "hidden subcommands stay hidden"
        );
        assert!(help("vkernel").unwrap().contains("--virtual-time"));
        assert!(help("autograder")
            .unwrap()
            .contains("$ autograder batch --help"));
        assert!(help("gcc").is_none());
    }
}
