//! exec: runs parsed commands: pipelines, `&&`/`||`, background jobs, `$?`.
//!
//! How a pipeline `a | b | c` runs (the heart of a Unix shell):
//!
//! 1. For every command but the last, make a pipe (`pipe2`, with `O_CLOEXEC` so that
//!    the programs never inherit the shell's copies of the ends).
//! 2. `fork` a child per command. The child `dup2`s the previous pipe's read end onto
//!    descriptor 0 and its own pipe's write end onto 1, applies the command's
//!    redirections, and `execve`s the program (searched in `PATH`).
//! 3. The shell closes its copies of the pipe ends as soon as the children have them
//!    (otherwise a reader never sees end of file) and `wait4`s for every child. The
//!    pipeline's status is the last command's.
//!
//! A builtin (`cd`, `exit`, `wait`) alone in a pipeline runs in the shell itself, since
//! `cd` in a child would change the child's directory only. A list item ending in `&`
//! runs in a forked copy of the shell that the shell does not wait for; `wait` does.
//! While waiting for one child the shell may reap others (background jobs that ended);
//! their statuses are kept for `wait PID`.

use alloc::vec::Vec;

use crate::parser::{AndOr, Command, Connector, Item, Pipeline};
use crate::redirect::Saved;
use vkrt::io::Lossy;
use vkrt::sys::{self, Errno};
use vkrt::{env, eprintln, process};

/// A background job: its pid and, once reaped, its status.
pub struct Job {
    pub pid: i32,
    pub status: Option<i32>,
}

/// The shell's state.
pub struct Shell {
    /// `$?`: the status of the last command.
    pub status: i32,
    /// `$0`, `$1`, ...: the shell's (or script's) name and arguments.
    pub args: Vec<Vec<u8>>,
    /// `$$`: the shell's pid.
    pub pid: i32,
    /// `$!`: the last background job's pid.
    pub last_job: Option<i32>,
    /// Background jobs not yet collected by `wait`.
    pub jobs: Vec<Job>,
    /// True when reading commands from a terminal (prompts, `[pid]` for jobs).
    pub interactive: bool,
}

impl Shell {
    /// Runs the items of a list in order, each in the foreground or the background.
    pub fn run_list(&mut self, items: &[Item]) {
        for item in items {
            if item.background {
                self.run_background(&item.and_or);
            } else {
                self.status = self.run_and_or(&item.and_or);
            }
        }
    }

    /// `a && b || c`: runs each pipeline depending on the status of the one before.
    fn run_and_or(&mut self, and_or: &AndOr) -> i32 {
        self.status = self.run_pipeline(&and_or.first);
        for (connector, pipeline) in &and_or.rest {
            let run = match connector {
                Connector::And => self.status == 0,
                Connector::Or => self.status != 0,
            };
            if run {
                self.status = self.run_pipeline(pipeline);
            }
        }
        self.status
    }

    /// `... &`: a forked copy of the shell runs it; we note the job and go on.
    fn run_background(&mut self, and_or: &AndOr) {
        match sys::fork() {
            Ok(0) => {
                self.interactive = false;
                self.jobs.clear(); // not our children in here
                let status = self.run_and_or(and_or);
                sys::exit_group(status)
            }
            Ok(pid) => {
                let pid = pid as i32;
                self.jobs.push(Job { pid, status: None });
                self.last_job = Some(pid);
                if self.interactive {
                    eprintln!("[{pid}]");
                }
                self.status = 0;
            }
            Err(e) => {
                eprintln!("sh: fork: {e}");
                self.status = 1;
            }
        }
    }

    /// Runs a pipeline and returns its status.
    fn run_pipeline(&mut self, pipeline: &Pipeline) -> i32 {
        if let [command] = pipeline.as_slice() {
            let argv = self.expand_words(&command.words);
            if argv
                .first()
                .is_none_or(|name| crate::builtin::is_builtin(name))
            {
                return self.run_here(command, &argv);
            }
        }
        self.run_children(pipeline)
    }

    /// Runs a builtin, or a command that is only redirections, in the shell itself.
    fn run_here(&mut self, command: &Command, argv: &[Vec<u8>]) -> i32 {
        let mut saved = Saved::default();
        let status = match self.redirect(&command.redirects, Some(&mut saved)) {
            Ok(()) if argv.is_empty() => 0,
            Ok(()) => self.run_builtin(argv),
            Err(()) => 1,
        };
        saved.restore();
        status
    }

    /// Forks one child per command, connected by pipes; waits for all of them.
    fn run_children(&mut self, pipeline: &Pipeline) -> i32 {
        let mut pids = Vec::new();
        let mut input: Option<i32> = None; // read end of the previous pipe
        for (i, command) in pipeline.iter().enumerate() {
            let mut ends = [-1; 2];
            let last = i + 1 == pipeline.len();
            if !last {
                if let Err(e) = sys::pipe2(&mut ends, sys::O_CLOEXEC) {
                    eprintln!("sh: pipe: {e}");
                    break;
                }
            }
            let output = (!last).then_some(ends[1]);
            match sys::fork() {
                Ok(0) => sys::exit_group(self.run_child(command, input, output)),
                Ok(pid) => pids.push(pid as i32),
                Err(e) => eprintln!("sh: fork: {e}"),
            }
            // The child has its copies now; ours would keep the pipes open.
            for fd in [input, output].into_iter().flatten() {
                let _ = sys::close(fd);
            }
            input = (!last).then_some(ends[0]);
        }
        if let Some(fd) = input {
            let _ = sys::close(fd); // a pipe whose reader could not be started
        }
        if pids.len() < pipeline.len() {
            self.wait_for(&pids);
            return 1;
        }
        self.wait_for(&pids)
    }

    /// In a forked child: connects the pipes, redirects, runs the command. Returns the
    /// status to exit with if the command is a builtin or cannot be run.
    fn run_child(&mut self, command: &Command, input: Option<i32>, output: Option<i32>) -> i32 {
        self.interactive = false;
        for (pipe_end, fd) in [(input, 0), (output, 1)] {
            if let Some(end) = pipe_end {
                // dup2 gives `fd` without O_CLOEXEC: the program keeps it.
                let _ = sys::dup2(end, fd);
            }
        }
        let argv = self.expand_words(&command.words);
        if self.redirect(&command.redirects, None).is_err() {
            return 1;
        }
        let Some(name) = argv.first() else {
            return 0;
        };
        if crate::builtin::is_builtin(name) {
            return self.run_builtin(&argv);
        }
        let envp: Vec<&[u8]> = env::vars().collect();
        match process::exec_search(name, &argv, &envp, env::search_path()) {
            Errno::ENOENT | Errno::ENOTDIR => {
                eprintln!("sh: {}: not found", Lossy(name));
                127
            }
            e => {
                eprintln!("sh: {}: {e}", Lossy(name));
                126
            }
        }
    }

    /// Waits until all of `pids` have ended, reaping other children (background jobs) as
    /// they come. Returns the status of the last of `pids` (0 if there is none).
    pub fn wait_for(&mut self, pids: &[i32]) -> i32 {
        let mut left: Vec<i32> = pids.to_vec();
        let mut status = 0;
        while !left.is_empty() {
            let (pid, code) = match process::wait_any() {
                Ok((pid, how)) => (pid, how.code()),
                Err(e) => {
                    eprintln!("sh: wait4: {e}");
                    return 1;
                }
            };
            if let Some(i) = left.iter().position(|&p| p == pid) {
                left.remove(i);
                if Some(&pid) == pids.last() {
                    status = code;
                }
            } else {
                self.job_done(pid, code);
            }
        }
        status
    }

    /// Records the status of a background job that was reaped.
    pub fn job_done(&mut self, pid: i32, code: i32) {
        if let Some(job) = self.jobs.iter_mut().find(|j| j.pid == pid) {
            job.status = Some(code);
        }
    }

    /// Reaps the background jobs that have ended, without waiting.
    pub fn reap_jobs(&mut self) {
        while let Ok(Some((pid, how))) = process::try_wait(-1) {
            self.job_done(pid, how.code());
        }
    }
}
