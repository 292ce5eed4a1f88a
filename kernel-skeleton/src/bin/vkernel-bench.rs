//! `vkernel-bench`: what the kernel's operations cost, beside native Linux, in one run.
//!
//! Run with `cargo run --release -p vkernel --bin vkernel-bench [-- --json] [--quick]`.
//! The guest program `kbench` measures fork+exit+wait, fork+exec+wait, a pipe round trip
//! and a demand-zero page fault from the inside, with the same code inside the vkernel
//! (booted in this process) and natively on Linux, pinned to one CPU in both cases (the
//! vkernel pins itself; native runs go through `taskset`). Boot to init and boot to exit
//! are timed from here. Every figure is the median of several runs.

use std::process::Command;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use vkernel::kernel::{BootConfig, Kernel, Trace};
use vkernel::sched::PolicyKind;
use vmspace::devices::Console;

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    xs[xs.len() / 2]
}

fn realtime_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

thread_local! {
    /// The default initrd, built once (building it is not part of booting).
    static INITRD: Vec<u8> = userland::initrd::default_image();
}

/// A copy of the default initrd (the kernel takes ownership of its initrd).
fn initrd() -> Vec<u8> {
    INITRD.with(Clone::clone)
}

/// Boot the vkernel with `init` and the initrd `initrd`; returns (console output, wall
/// time in ns).
fn boot(init: &[&str], initrd: Vec<u8>) -> (String, f64) {
    let (console, out) = Console::buffer();
    let cfg = BootConfig {
        memory: 64 << 20,
        hz: 100,
        virtual_time: false,
        trace: Trace::default(),
        initrd,
        init: init.iter().map(|s| s.as_bytes().to_vec()).collect(),
        env: vec![b"PATH=/bin".to_vec()],
        console,
        stdin_input: false,
        console_is_tty: false,
        policy: PolicyKind::Mlfq,
        max_procs: 64,
        boot_realtime_ns: realtime_ns(),
    };
    let start = Instant::now();
    let (code, leaks) = Kernel::boot(cfg).expect("the kernel boots");
    let took = start.elapsed().as_nanos() as f64;
    assert_eq!(code, 0, "{init:?} failed in the vkernel");
    assert_eq!(
        (leaks.frames, leaks.procs, leaks.files),
        (0, 0, 0),
        "{leaks}"
    );
    let text = String::from_utf8_lossy(&out.lock().expect("console buffer")).into_owned();
    (text, took)
}

/// The number after `name` in kbench's output.
fn figure(out: &str, name: &str) -> f64 {
    out.lines()
        .find_map(|l| l.strip_prefix(name).map(|v| v.trim().parse::<f64>()))
        .unwrap_or_else(|| panic!("no `{name}` in {out:?}"))
        .expect("a number")
}

fn native(args: &[&str]) -> String {
    let kbench = userland::program("kbench").expect("kbench is built");
    let out = Command::new(kbench)
        .args(args)
        .output()
        .expect("kbench runs natively");
    assert!(out.status.success(), "native kbench {args:?} failed");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Row {
    name: &'static str,
    vkernel_ns: f64,
    native_ns: f64,
    what: &'static str,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!("vkernel-bench: kernel operations beside native Linux\n\nusage: vkernel-bench [--json] [--quick]");
        return;
    }
    let json = args.iter().any(|a| a == "--json");
    let show_progress = !json && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let quick = args.iter().any(|a| a == "--quick");
    let runs = if quick { 3 } else { 7 };
    let scale = if quick { 1 } else { 4 };
    let kbench_path = userland::program("kbench")
        .expect("kbench is built")
        .display()
        .to_string();
    let mut rows = Vec::new();
    let micro: [(&str, &str, u64, &str); 4] = [
        (
            "fork_exit_wait",
            "fork",
            100,
            "fork, child exits, parent waits",
        ),
        (
            "fork_exec_wait",
            "forkexec",
            50,
            "fork, child execs a static program that exits, parent waits",
        ),
        (
            "pipe_round_trip",
            "pipe",
            1000,
            "one byte there and back through two pipes, parent and child",
        ),
        (
            "demand_zero_fault",
            "fault",
            500,
            "first write to a fresh anonymous page",
        ),
    ];
    for (name, mode, n, what) in micro {
        if show_progress {
            eprint!("\r{name:<24}");
        }
        let n = (n * scale).to_string();
        let mut v = Vec::new();
        let mut h = Vec::new();
        for _ in 0..runs {
            let mut guest: Vec<&str> = vec!["/bin/kbench", mode, &n];
            let mut host: Vec<&str> = vec![mode, &n];
            if mode == "forkexec" {
                guest.push("/bin/kbench");
                host.push(&kbench_path);
            }
            v.push(figure(&boot(&guest, initrd()).0, name));
            h.push(figure(&native(&host), name));
        }
        rows.push(Row {
            name,
            vkernel_ns: median(v),
            native_ns: median(h),
            what,
        });
    }
    if show_progress {
        eprint!("\r{:<24}", "boot");
    }
    let (mut to_init, mut to_exit, mut native_init, mut native_exit) =
        (vec![], vec![], vec![], vec![]);
    for _ in 0..runs {
        let image = initrd();
        let t0 = realtime_ns() as f64;
        let (out, _) = boot(&["/bin/kbench", "boot"], image);
        to_init.push(figure(&out, "boot_realtime") - t0);
        to_exit.push(boot(&["/bin/kbench", "noop"], initrd()).1);
        let t0 = realtime_ns() as f64;
        native_init.push(figure(&native(&["boot"]), "boot_realtime") - t0);
        let start = Instant::now();
        native(&["noop"]);
        native_exit.push(start.elapsed().as_nanos() as f64);
    }
    rows.push(Row {
        name: "boot_to_init",
        vkernel_ns: median(to_init),
        native_ns: median(native_init),
        what: "boot (machine, initrd, init's exec) to init's first instruction; native: spawn to main",
    });
    rows.push(Row {
        name: "boot_to_exit",
        vkernel_ns: median(to_exit),
        native_ns: median(native_exit),
        what: "whole boot and shutdown with a trivial init; native: spawn and wait",
    });
    if json {
        let items: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{{\"name\":\"{}\",\"vkernel_ns\":{:.0},\"native_ns\":{:.0},\"ratio\":{:.2},\"what\":\"{}\"}}",
                    r.name,
                    r.vkernel_ns,
                    r.native_ns,
                    r.vkernel_ns / r.native_ns,
                    r.what
                )
            })
            .collect();
        println!("{{\"runs\":{runs},\"results\":[{}]}}", items.join(","));
        return;
    }
    if show_progress {
        eprint!("\r{:<24}\r", "");
    }
    println!("vkernel-bench: medians of {runs} runs\n");
    println!(
        "{:<18} {:>12} {:>12} {:>8}",
        "benchmark", "vkernel", "native", "ratio"
    );
    for r in &rows {
        println!(
            "{:<18} {:>9.1} µs {:>9.1} µs {:>7.1}×",
            r.name,
            r.vkernel_ns / 1000.0,
            r.native_ns / 1000.0,
            r.vkernel_ns / r.native_ns
        );
    }
    println!();
    for r in &rows {
        println!("{:<18} {}", r.name, r.what);
    }
}
