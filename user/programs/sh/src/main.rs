//! sh: a small Unix shell: reads command lines and runs them.
//!
//! Usage:
//! * `sh`: reads commands from standard input; prints the prompt `$ ` (on stderr) only
//!   when standard input is a terminal (the `TCGETS` ioctl succeeds on it);
//! * `sh -c 'COMMANDS' [NAME [ARG...]]`: runs `COMMANDS` (`$0` is `NAME`, `$1`.. the args);
//! * `sh SCRIPT [ARG...]`: runs the file `SCRIPT` (`$0` is `SCRIPT`, `$1`.. the args).
//!
//! What it understands (see the modules for how):
//! * `a | b | c` pipelines; `;` and newlines between commands; `&&`, `||`;
//! * `cmd &` in the background (`$!` is its pid); the builtin `wait` waits for such jobs;
//! * redirections `< f`, `> f`, `>> f`, `2> f`, `2>&1` (any descriptor number);
//! * `'single'` and `"double"` quotes, `\` escapes, `# comments`;
//! * `$?` (last status), `$$`, `$!`, `$#`, `$0`..`$9`, `$@`, `$*`, `$NAME` (environment);
//! * builtins `cd [DIR]`, `exit [N]`, `wait [PID...]`.
//!
//! A command name without `/` is looked for in `PATH` (`/bin` if unset). One that cannot
//! be found prints `sh: NAME: not found` and has status 127 (126 if found but not
//! runnable). A command killed by a signal has status 128 + the signal. A syntax error
//! (`sh: syntax error: ...`) has status 2 and, except at a terminal, ends the shell. The
//! shell exits with the status of the last command.
//!
//! Modules: [`lexer`] (words, quotes, operators), [`parser`] (the command tree),
//! [`expand`] (`$` values), [`exec`] (fork, pipes, wait), [`redirect`], [`builtin`].
//!
//! System calls: `read`, `write`, `ioctl` (TCGETS), `openat`, `close`, `pipe2`, `dup`,
//! `dup2`, `fork`, `execve`, `wait4`, `chdir`, `getpid`, `exit_group`.

#![no_std]
#![no_main]

extern crate alloc;

mod builtin;
mod exec;
mod expand;
mod lexer;
mod parser;
mod redirect;

use alloc::vec::Vec;

use exec::Shell;
use parser::Error;
use vkrt::io::{self, Lossy, STDIN};
use vkrt::sys::{self, Errno};
use vkrt::{eprint, eprintln, fs, Args};

vkrt::entry!(main);

/// Where command lines come from.
enum Input {
    /// Standard input, read line by line, one byte at a time (see [`read_line`]).
    Stdin,
    /// A string (`-c`) or a whole script file, and how much of it was read.
    Text(Vec<u8>, usize),
}

impl Input {
    /// The next line, with its `\n` if it had one; `None` at the end.
    fn next_line(&mut self) -> Result<Option<Vec<u8>>, Errno> {
        match self {
            Input::Stdin => read_line(STDIN),
            Input::Text(text, pos) => {
                let rest = &text[*pos..];
                if rest.is_empty() {
                    return Ok(None);
                }
                let len = rest
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(rest.len(), |i| i + 1);
                *pos += len;
                Ok(Some(rest[..len].to_vec()))
            }
        }
    }
}

/// Reads one line from `fd`, with its `\n` if it has one; `None` at end of file.
///
/// It reads one byte at a time, so that it never takes from the descriptor anything
/// after the line: a command that the line starts may read standard input too and must
/// find the rest there (`sh < script` where the script runs `cat`), as POSIX asks.
fn read_line(fd: i32) -> Result<Option<Vec<u8>>, Errno> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match sys::read(fd, &mut byte) {
            Ok(0) => return Ok((!line.is_empty()).then_some(line)),
            Ok(_) => {
                line.push(byte[0]);
                if byte[0] == b'\n' {
                    return Ok(Some(line));
                }
            }
            Err(Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads, parses and runs commands until the input ends; returns the shell's status.
///
/// Lines are collected until they parse: a line ending inside a quote or after a `|`
/// continues on the next one (a terminal shows the prompt `> ` for it).
fn run(shell: &mut Shell, input: &mut Input) -> i32 {
    let mut pending: Vec<u8> = Vec::new();
    loop {
        if shell.interactive {
            shell.reap_jobs();
            eprint!("{}", if pending.is_empty() { "$ " } else { "> " });
        }
        let line = match input.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                eprintln!("sh: read error: {e}");
                return 2;
            }
        };
        pending.extend_from_slice(&line);
        match parser::parse(&pending) {
            Ok(items) => {
                pending.clear();
                shell.run_list(&items);
            }
            Err(Error::Incomplete(_)) => {}
            Err(Error::Syntax(why)) => {
                pending.clear();
                if let Some(status) = syntax_error(shell, &why) {
                    return status;
                }
            }
        }
    }
    if shell.interactive {
        eprintln!();
    }
    if let Err(Error::Incomplete(why)) = parser::parse(&pending) {
        return syntax_error(shell, why).unwrap_or(2);
    }
    shell.status
}

/// Reports a syntax error; returns the status to exit with, unless at a terminal.
fn syntax_error(shell: &mut Shell, why: &str) -> Option<i32> {
    eprintln!("sh: syntax error: {why}");
    shell.status = 2;
    (!shell.interactive).then_some(2)
}

fn main(args: Args) -> i32 {
    let argv: Vec<Vec<u8>> = args.iter().map(<[u8]>::to_vec).collect();
    let mut shell = Shell {
        status: 0,
        args: argv.clone(),
        pid: sys::getpid().map_or(0, |p| p as i32),
        last_job: None,
        jobs: Vec::new(),
        interactive: false,
    };
    let mut input = match argv.get(1).map(Vec::as_slice) {
        None => {
            shell.interactive = io::isatty(STDIN);
            shell.args.truncate(1);
            Input::Stdin
        }
        Some(b"-c") => {
            let Some(text) = argv.get(2) else {
                eprintln!("usage: sh [-c COMMANDS [NAME [ARG...]] | SCRIPT [ARG...]]");
                return 2;
            };
            // `sh -c 'cmd' name a b`: $0 is `name`, then the arguments.
            shell.args = argv[3..].to_vec();
            if shell.args.is_empty() {
                shell.args.push(argv[0].clone());
            }
            Input::Text(text.clone(), 0)
        }
        Some(script) => match fs::read(script) {
            Ok(text) => {
                shell.args = argv[1..].to_vec();
                Input::Text(text, 0)
            }
            Err(e) => {
                eprintln!("sh: {}: {e}", Lossy(script));
                return 127;
            }
        },
    };
    run(&mut shell, &mut input)
}
