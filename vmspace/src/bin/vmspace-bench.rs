//! `vmspace-bench`: what the machine's primitives cost, beside native Linux, in one run.
//!
//! Run with `cargo run --release -p vmspace --bin vmspace-bench [-- --json] [--quick]`.
//! Every figure is the median of several timed rounds (per-operation time of each
//! round), measured for the machine and for the closest native Linux operation in the
//! same process, pinned to the same CPU, so that the ratio is meaningful on a noisy host.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use common::{TestKernel, CODE, URW};
use vmspace::{pte, MachineConfig, Regs, Trap, Vmspace};

/// One benchmark result.
struct Row {
    name: &'static str,
    what: &'static str,
    machine_ns: f64,
    native_ns: f64,
    native_what: &'static str,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    xs[xs.len() / 2]
}

/// Per-operation nanoseconds, median over `rounds` rounds of `per_round` operations.
fn measure(rounds: usize, per_round: usize, mut f: impl FnMut(usize)) -> f64 {
    f(per_round.min(100)); // warm up
    let mut samples = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        f(per_round);
        samples.push(t.elapsed().as_nanos() as f64 / per_round as f64);
    }
    median(samples)
}

snippet!(null_syscall, "2:", "mov eax, 1000", "syscall", "jmp 2b");

// Touch pages [rsi, rdx) one after another (write or read by rdi), then report.
snippet!(
    toucher,
    "2:",
    "test rdi, rdi",
    "jz 3f",
    "mov byte ptr [rsi], 1",
    "jmp 4f",
    "3:",
    "mov al, byte ptr [rsi]",
    "4:",
    "add rsi, 4096",
    "cmp rsi, rdx",
    "jb 2b",
    "mov eax, 1000",
    "syscall",
    "int3",
);

fn until_syscall(vm: &mut Vmspace, r: &mut Regs) {
    loop {
        match vm.run(r).expect("run") {
            Trap::Syscall => return,
            Trap::Timer | Trap::Interrupt(_) => {}
            other => panic!("unexpected trap {other:?}"),
        }
    }
}

fn raw_getppid() {
    // SAFETY: getppid has no preconditions or memory effects.
    unsafe { libc::syscall(libc::SYS_getppid) };
}

fn bench_syscall(k: &TestKernel, rounds: usize) -> Row {
    let (root, _) = k.space(null_syscall());
    let mut vm = k.machine.create_vmspace().expect("vmspace");
    vm.set_root(root);
    let mut r = k.regs();
    let machine_ns = measure(rounds, 2000, |n| {
        for _ in 0..n {
            until_syscall(&mut vm, &mut r);
            r.rax = 0;
        }
    });
    let native_ns = measure(rounds, 200_000, |n| {
        for _ in 0..n {
            raw_getppid();
        }
    });
    Row {
        name: "null_syscall",
        what: "guest syscall trapped, answered by the kernel, guest resumed",
        machine_ns,
        native_ns,
        native_what: "raw getppid() system call",
    }
}

const FAULT_PAGES: u64 = 512;
const FAULT_BASE: u64 = 0x1000_0000;

/// Map the pages at FAULT_BASE present with `flags` (resetting A and D).
fn map_fault_pages(k: &TestKernel, root: vmspace::Frame, flags: u64) {
    for i in 0..FAULT_PAGES {
        // Reuse a small pool of frames: the RAM is 16 MiB.
        let f = vmspace::Frame(2048 + (i % 1024));
        k.map(root, FAULT_BASE + i * 4096, f, flags);
    }
}

/// A fresh address space whose pages at FAULT_BASE are present (flags `flags`).
fn fault_space(k: &TestKernel, flags: u64) -> (Vmspace, Regs, vmspace::Frame) {
    let (root, _) = k.space(toucher());
    map_fault_pages(k, root, flags);
    let mut vm = k.machine.create_vmspace().expect("vmspace");
    vm.set_root(root);
    let mut r = k.regs();
    r.rsi = CODE;
    r.rdx = CODE + 4096;
    until_syscall(&mut vm, &mut r); // code and stack faulted in
    (vm, r, root)
}

fn touch_round(vm: &mut Vmspace, r: &mut Regs, write: bool) {
    vm.invalidate_range(FAULT_BASE, FAULT_BASE + FAULT_PAGES * 4096);
    r.rip = CODE;
    r.rdi = write as u64;
    r.rsi = FAULT_BASE;
    r.rdx = FAULT_BASE + FAULT_PAGES * 4096;
    until_syscall(vm, r);
}

fn native_first_touch(pages: usize) {
    let len = pages * 4096;
    // SAFETY: a fresh private anonymous mapping, touched through a raw pointer and
    // unmapped before returning; it aliases nothing.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
        .cast::<u8>();
        assert!(p as *mut libc::c_void != libc::MAP_FAILED);
        libc::madvise(p.cast(), len, libc::MADV_NOHUGEPAGE);
        for i in 0..pages {
            p.add(i * 4096).write_volatile(1);
        }
        libc::munmap(p.cast(), len);
    }
}

fn bench_mmu_fault(k: &TestKernel, rounds: usize, dirty: bool) -> Row {
    let flags = URW | if dirty { pte::DIRTY } else { 0 };
    let (mut vm, mut r, root) = fault_space(k, flags);
    let machine_ns = measure(rounds, 1, |n| {
        for _ in 0..n {
            // Fresh entries each round, so that D is clear again where it should be.
            map_fault_pages(k, root, flags);
            touch_round(&mut vm, &mut r, true);
        }
    }) / FAULT_PAGES as f64;
    let native_ns = measure(rounds, 1, |n| {
        for _ in 0..n {
            native_first_touch(FAULT_PAGES as usize);
        }
    }) / FAULT_PAGES as f64;
    if dirty {
        Row {
            name: "mmu_fault",
            what: "first write to a present page (D set): host fault served by the MMU walk",
            machine_ns,
            native_ns,
            native_what: "first write to an anonymous page (minor fault)",
        }
    } else {
        Row {
            name: "mmu_fault_clean",
            what: "first write to a clean present page: read fill, then write fill setting D",
            machine_ns,
            native_ns,
            native_what: "first write to an anonymous page (minor fault)",
        }
    }
}

static mut NATIVE_REGION: usize = 0;

extern "C" fn native_segv(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    // SAFETY: `info` is the kernel's siginfo for this SIGSEGV; mprotect is
    // async-signal-safe and the page lies in the region the benchmark owns.
    unsafe {
        let addr = (*info).si_addr() as usize & !4095;
        libc::mprotect(
            addr as *mut libc::c_void,
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
        );
    }
}

fn native_user_fault(pages: usize) {
    let len = pages * 4096;
    // SAFETY: a fresh PROT_NONE mapping that only this function and its SIGSEGV handler
    // touch; the handler makes each faulting page accessible.
    unsafe {
        let p = libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
        .cast::<u8>();
        NATIVE_REGION = p as usize;
        for i in 0..pages {
            p.add(i * 4096).write_volatile(1);
        }
        libc::munmap(p.cast(), len);
    }
}

fn bench_kernel_fault(k: &TestKernel, rounds: usize) -> Row {
    let (root, _) = k.space(toucher());
    let mut vm = k.machine.create_vmspace().expect("vmspace");
    vm.set_root(root);
    let mut r = k.regs();
    let pages = 128u64;
    let mut round = 0u64;
    let machine_ns = measure(rounds, 1, |n| {
        for _ in 0..n {
            round += 1;
            let base = FAULT_BASE + round * pages * 4096 * 2;
            r.rip = CODE;
            r.rdi = 1;
            r.rsi = base;
            r.rdx = base + pages * 4096;
            loop {
                match vm.run(&mut r).expect("run") {
                    Trap::PageFault { addr, .. } => {
                        let f = vmspace::Frame(2048 + (addr / 4096) % 1024);
                        k.map(root, addr & !4095, f, URW | pte::DIRTY);
                    }
                    Trap::Syscall => break,
                    Trap::Timer => {}
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }) / pages as f64;
    // SAFETY: installing a SIGSEGV handler for the benchmark's own PROT_NONE region;
    // the handler is async-signal-safe (one mprotect).
    unsafe {
        let mut act: libc::sigaction = std::mem::zeroed();
        act.sa_sigaction = native_segv as *const () as usize;
        act.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSEGV, &act, std::ptr::null_mut());
    }
    let native_ns = measure(rounds, 1, |n| {
        for _ in 0..n {
            native_user_fault(pages as usize);
        }
    }) / pages as f64;
    // SAFETY: restore the default SIGSEGV disposition.
    unsafe { libc::signal(libc::SIGSEGV, libc::SIG_DFL) };
    Row {
        name: "kernel_fault",
        what: "page fault returned to the kernel, PTE written, guest resumed",
        machine_ns,
        native_ns,
        native_what: "SIGSEGV to a user handler that mprotects the page",
    }
}

fn bench_batched_map(k: &TestKernel, rounds: usize) -> Row {
    const BATCH: u64 = 60;
    let (root, _) = k.space(null_syscall());
    for i in 0..BATCH {
        // Scattered frames: every page is its own host mapping.
        k.map(
            root,
            FAULT_BASE + i * 4096,
            vmspace::Frame(2048 + 3 * i),
            URW | pte::DIRTY,
        );
    }
    let mut vm = k.machine.create_vmspace().expect("vmspace");
    vm.set_root(root);
    let mut r = k.regs();
    until_syscall(&mut vm, &mut r);
    let with = measure(rounds, 50, |n| {
        for _ in 0..n {
            vm.invalidate_range(FAULT_BASE, FAULT_BASE + BATCH * 4096);
            vm.prefault(FAULT_BASE, FAULT_BASE + BATCH * 4096)
                .expect("prefault");
            until_syscall(&mut vm, &mut r);
        }
    });
    let without = measure(rounds, 50, |n| {
        for _ in 0..n {
            until_syscall(&mut vm, &mut r);
        }
    });
    // Each round ran one munmap batch and one mmap batch of BATCH pages.
    let machine_ns = ((with - without) / (2 * BATCH) as f64).max(0.0);
    let native_ns = measure(rounds, 50, |n| {
        for _ in 0..n {
            native_fixed_maps(BATCH as usize);
        }
    }) / BATCH as f64;
    Row {
        name: "batched_map",
        what: "one 4 KiB MAP_FIXED host mapping inside a batch of 60 (and its unmap)",
        machine_ns,
        native_ns,
        native_what: "4 KiB MAP_FIXED mmap of a memfd in the tracer itself",
    }
}

fn native_fixed_maps(n: usize) {
    thread_local! {
        static AREA: (usize, i32) = {
            // SAFETY: a private reservation and a memfd used only by this benchmark.
            unsafe {
                let fd = libc::memfd_create(c"bench".as_ptr(), libc::MFD_CLOEXEC);
                libc::ftruncate(fd, 64 << 20);
                let p = libc::mmap(std::ptr::null_mut(), 1 << 20, libc::PROT_NONE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
                (p as usize, fd)
            }
        };
    }
    AREA.with(|&(base, fd)| {
        for i in 0..n {
            // SAFETY: MAP_FIXED inside our own reservation, replacing only our own pages.
            unsafe {
                libc::mmap(
                    (base + i * 4096) as *mut libc::c_void,
                    4096,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_FIXED,
                    fd,
                    (3 * i * 4096) as libc::off_t,
                );
            }
        }
    });
}

snippet!(spin, "2:", "jmp 2b");

fn bench_timer(rounds: usize) -> Row {
    // A machine of its own with a fast timer (the benchmark thread has none).
    let k = TestKernel::with(MachineConfig {
        ram_bytes: 16 << 20,
        hz: 1000,
        ..MachineConfig::default()
    });
    let (root, _) = k.space(spin());
    let mut vm = k.machine.create_vmspace().expect("vmspace");
    vm.set_root(root);
    let mut r = k.regs();
    let period = k.machine.tick_period();
    let mut samples = Vec::new();
    for _ in 0..rounds * 10 {
        if vm.run(&mut r).expect("run") == Trap::Timer {
            let now = k.machine.now();
            samples.push((now % period) as f64);
        }
    }
    drop(vm);
    drop(k);
    let machine_ns = median(samples);
    let native_ns = native_timer_latency(rounds * 10);
    Row {
        name: "timer_to_trap",
        what: "timer expiry to Trap::Timer in the kernel while a guest spins",
        machine_ns,
        native_ns,
        native_what: "timer expiry to signal handler entry while the thread spins",
    }
}

static NATIVE_TICK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

extern "C" fn native_tick(_sig: libc::c_int) {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime is async-signal-safe; `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let ns = ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64;
    NATIVE_TICK.store(ns, std::sync::atomic::Ordering::SeqCst);
}

fn native_timer_latency(samples: usize) -> f64 {
    let period = 1_000_000u64;
    let mut out = Vec::new();
    // SAFETY: a timer of our own delivering SIGALRM to this thread, whose handler only
    // stores a clock reading; both are removed at the end.
    unsafe {
        libc::signal(
            libc::SIGALRM,
            native_tick as *const () as libc::sighandler_t,
        );
        let mut ev: libc::sigevent = std::mem::zeroed();
        ev.sigev_notify = libc::SIGEV_THREAD_ID;
        ev.sigev_signo = libc::SIGALRM;
        ev.sigev_notify_thread_id = libc::gettid();
        let mut id: libc::timer_t = std::ptr::null_mut();
        libc::timer_create(libc::CLOCK_MONOTONIC, &mut ev, &mut id);
        let mut start = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut start);
        let start_ns = start.tv_sec as u64 * 1_000_000_000 + start.tv_nsec as u64;
        let first = start_ns + period;
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: period as i64,
            },
            it_value: libc::timespec {
                tv_sec: (first / 1_000_000_000) as i64,
                tv_nsec: (first % 1_000_000_000) as i64,
            },
        };
        libc::timer_settime(id, libc::TIMER_ABSTIME, &spec, std::ptr::null_mut());
        let mut last = 0;
        while out.len() < samples {
            let t = NATIVE_TICK.load(std::sync::atomic::Ordering::SeqCst);
            if t != last {
                last = t;
                out.push(((t - start_ns) % period) as f64);
            }
            std::hint::spin_loop();
        }
        libc::timer_delete(id);
        libc::signal(libc::SIGALRM, libc::SIG_DFL);
    }
    median(out)
}

fn bench_switch(k: &TestKernel, rounds: usize) -> Row {
    let (root, _) = k.space(null_syscall());
    let mut a = k.machine.create_vmspace().expect("vmspace");
    let mut b = k.machine.create_vmspace().expect("vmspace");
    a.set_root(root);
    b.set_root(root);
    let (mut ra, mut rb) = (k.regs(), k.regs());
    let alternate = measure(rounds, 1000, |n| {
        for _ in 0..n / 2 {
            until_syscall(&mut a, &mut ra);
            until_syscall(&mut b, &mut rb);
        }
    });
    let machine_ns = alternate;
    let native_ns = native_pipe_hop(rounds);
    Row {
        name: "guest_switch",
        what: "run guest A to a syscall, then guest B (one switch and one trap each)",
        machine_ns,
        native_ns,
        native_what: "one pipe hop between two processes (a switch plus read/write)",
    }
}

fn native_pipe_hop(rounds: usize) -> f64 {
    let mut p1 = [0; 2];
    let mut p2 = [0; 2];
    // SAFETY: two pipes and a child process that echoes bytes until EOF then exits; the
    // child makes only async-signal-safe calls and is reaped below.
    unsafe {
        libc::pipe(p1.as_mut_ptr());
        libc::pipe(p2.as_mut_ptr());
        let pid = libc::fork();
        if pid == 0 {
            libc::close(p1[1]);
            libc::close(p2[0]);
            let mut b = 0u8;
            while libc::read(p1[0], (&mut b as *mut u8).cast(), 1) == 1 {
                libc::write(p2[1], (&b as *const u8).cast(), 1);
            }
            libc::_exit(0);
        }
        let per = measure(rounds, 2000, |n| {
            let mut b = 0u8;
            for _ in 0..n / 2 {
                libc::write(p1[1], (&b as *const u8).cast(), 1);
                libc::read(p2[0], (&mut b as *mut u8).cast(), 1);
            }
        });
        libc::close(p1[1]);
        let mut st = 0;
        libc::waitpid(pid, &mut st, 0);
        for fd in [p1[0], p2[0], p2[1]] {
            // The child's ends, then our read end.
            libc::close(fd);
        }
        per
    }
}

fn progress(quiet: bool, what: &str) {
    if !quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprint!("\r{what:<24}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        println!(
            "vmspace-bench: cost of the machine's primitives beside native Linux\n\n\
             usage: vmspace-bench [--json] [--quick]\n  --json   machine-readable output\n  \
             --quick  fewer rounds (for a smoke test)"
        );
        return;
    }
    let json = args.iter().any(|a| a == "--json");
    let rounds = if args.iter().any(|a| a == "--quick") {
        3
    } else {
        15
    };
    let mut rows = Vec::new();
    {
        // One machine for the trap benchmarks, at a slow tick so ticks barely intrude.
        let k = TestKernel::with(MachineConfig {
            ram_bytes: 16 << 20,
            hz: 10,
            ..MachineConfig::default()
        });
        progress(json, "bench_syscall");
        rows.push(bench_syscall(&k, rounds));
        progress(json, "bench_mmu_fault");
        rows.push(bench_mmu_fault(&k, rounds, true));
        progress(json, "bench_mmu_fault");
        rows.push(bench_mmu_fault(&k, rounds, false));
        progress(json, "bench_kernel_fault");
        rows.push(bench_kernel_fault(&k, rounds));
        progress(json, "bench_batched_map");
        rows.push(bench_batched_map(&k, rounds));
        progress(json, "bench_switch");
        rows.push(bench_switch(&k, rounds));
    }
    progress(json, "bench_timer");
    rows.push(bench_timer(rounds));
    if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        eprint!("\r{:<24}\r", "");
    }
    if json {
        let items: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{{\"name\":\"{}\",\"machine_ns\":{:.1},\"native_ns\":{:.1},\"ratio\":{:.2},\"what\":\"{}\",\"native\":\"{}\"}}",
                    r.name, r.machine_ns, r.native_ns, r.machine_ns / r.native_ns, r.what, r.native_what
                )
            })
            .collect();
        println!("{{\"rounds\":{rounds},\"results\":[{}]}}", items.join(","));
        return;
    }
    println!("vmspace-bench: medians of {rounds} rounds, pinned to one CPU\n");
    println!(
        "{:<16} {:>12} {:>12} {:>8}",
        "benchmark", "vmspace", "native", "ratio"
    );
    for r in &rows {
        println!(
            "{:<16} {:>9.2} µs {:>9.3} µs {:>7.1}×",
            r.name,
            r.machine_ns / 1000.0,
            r.native_ns / 1000.0,
            r.machine_ns / r.native_ns
        );
    }
    println!();
    for r in &rows {
        println!(
            "{:<16} vmspace: {}\n{:<16} native:  {}",
            r.name, r.what, "", r.native_what
        );
    }
}
