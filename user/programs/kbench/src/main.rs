//! kbench: kernel micro-benchmarks that run the same way on the vkernel and on Linux.
//!
//! Usage: `kbench MODE [N] [SELF]`, printing one line `NAME NANOSECONDS_PER_OPERATION`:
//! - `fork N`: fork, the child exits at once, the parent waits (`fork_exit_wait`);
//! - `forkexec N SELF`: the same, but the child execs `SELF noop` first (`fork_exec_wait`);
//! - `pipe N`: a byte bounced between parent and child through two pipes, per round trip
//!   (`pipe_round_trip`);
//! - `fault N`: first writes to N fresh anonymous pages, per page (`demand_zero_fault`);
//! - `boot`: prints `boot_realtime NS`, the wall-clock time now (for boot-to-init);
//! - `noop`: exits at once.
//!
//! The host side (`vkernel-bench`) runs it inside the vkernel and natively and compares.
//!
//! System calls: `fork`, `execve`, `wait4`, `pipe2`, `read`, `write`, `mmap`, `munmap`,
//! `clock_gettime`, `exit_group`.

#![no_std]
#![no_main]

use vkrt::sys::{self, Errno};
use vkrt::{eprintln, println, time, Args};

vkrt::entry!(main);

fn now_ns() -> i128 {
    time::monotonic().as_nanos()
}

fn child_exit() -> ! {
    sys::exit_group(0)
}

fn reap(pid: usize) -> Result<(), Errno> {
    let mut status = 0;
    sys::wait4(pid as i32, Some(&mut status), 0)?;
    Ok(())
}

fn bench_fork(n: u64) -> Result<i128, Errno> {
    let start = now_ns();
    for _ in 0..n {
        match sys::fork()? {
            0 => child_exit(),
            pid => reap(pid)?,
        }
    }
    Ok((now_ns() - start) / i128::from(n))
}

fn bench_forkexec(n: u64, me: &[u8]) -> Result<i128, Errno> {
    let start = now_ns();
    for _ in 0..n {
        match sys::fork()? {
            0 => {
                let e =
                    vkrt::process::exec(me, &[me, b"noop".as_slice()], &[b"PATH=/bin".as_slice()]);
                eprintln!("kbench: exec failed: {}", e.name());
                sys::exit_group(127)
            }
            pid => reap(pid)?,
        }
    }
    Ok((now_ns() - start) / i128::from(n))
}

fn bench_pipe(n: u64) -> Result<i128, Errno> {
    let (mut to_child, mut to_parent) = ([0i32; 2], [0i32; 2]);
    sys::pipe2(&mut to_child, 0)?;
    sys::pipe2(&mut to_parent, 0)?;
    let mut byte = [0u8; 1];
    match sys::fork()? {
        0 => {
            // Close our copies of the ends we do not use, or EOF never comes.
            let _ = sys::close(to_child[1]);
            let _ = sys::close(to_parent[0]);
            while sys::read(to_child[0], &mut byte).unwrap_or(0) == 1 {
                let _ = sys::write(to_parent[1], &byte);
            }
            sys::exit_group(0)
        }
        pid => {
            sys::close(to_child[0])?;
            sys::close(to_parent[1])?;
            let start = now_ns();
            for _ in 0..n {
                sys::write(to_child[1], &byte)?;
                sys::read(to_parent[0], &mut byte)?;
            }
            let per = (now_ns() - start) / i128::from(n);
            sys::close(to_child[1])?;
            reap(pid)?;
            sys::close(to_parent[0])?;
            Ok(per)
        }
    }
}

fn bench_fault(n: u64) -> Result<i128, Errno> {
    let len = n as usize * 4096;
    let prot = sys::PROT_READ | sys::PROT_WRITE;
    let flags = sys::MAP_PRIVATE | sys::MAP_ANONYMOUS;
    // SAFETY: a fresh private anonymous mapping that only this function touches, through
    // a raw pointer, and unmaps before returning.
    unsafe {
        let base = sys::mmap(0, len, prot, flags, -1, 0)?;
        let start = now_ns();
        for i in 0..n as usize {
            core::ptr::write_volatile((base + i * 4096) as *mut u8, 1);
        }
        let per = (now_ns() - start) / i128::from(n);
        sys::munmap(base, len)?;
        Ok(per)
    }
}

fn main(args: Args) -> i32 {
    let mode = args.get_str(1).unwrap_or("");
    let n: u64 = args
        .get_str(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000)
        .max(1);
    let result = match mode {
        "fork" => bench_fork(n).map(|ns| ("fork_exit_wait", ns)),
        "forkexec" => match args.get(3) {
            Some(me) => bench_forkexec(n, me).map(|ns| ("fork_exec_wait", ns)),
            None => {
                eprintln!("usage: kbench forkexec N PATH-OF-KBENCH");
                return 2;
            }
        },
        "pipe" => bench_pipe(n).map(|ns| ("pipe_round_trip", ns)),
        "fault" => bench_fault(n).map(|ns| ("demand_zero_fault", ns)),
        "boot" => Ok(("boot_realtime", time::realtime().as_nanos())),
        "noop" => return 0,
        _ => {
            eprintln!("usage: kbench fork|forkexec|pipe|fault|boot|noop [N] [SELF]");
            return 2;
        }
    };
    match result {
        Ok((name, ns)) => {
            println!("{name} {ns}");
            0
        }
        Err(e) => {
            eprintln!("kbench {mode}: {}", e.name());
            1
        }
    }
}
