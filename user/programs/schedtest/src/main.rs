//! schedtest: the checks of lab sched (run queue, preemption, sleep and wakeup), run
//! inside the vkernel, best with `--virtual-time` so CPU time, not host load, decides.
//! Every mode prints one result line and exits 0, or `MODE FAILED: why` and exits 1.
//!
//! - `share N MS`: N CPU hogs count loop turns until the same deadline; prints
//!   `share MIN/MAX` (1.00 = perfectly fair).
//! - `latency HOGS MS`: beside HOGS hogs, sleeps MS ms ten times; prints
//!   `latency max OVERSLEEP_MS` (how late the worst wakeup was).
//! - `order SEED HOGS`: beside HOGS hogs, five children sleep seeded, distinct times and
//!   report when they wake; prints `order ok CHECKSUM` if they woke in order.
//! - `pingpong PAIRS ROUNDS HOGS`: PAIRS pairs bounce a byte ROUNDS times through pipes
//!   beside hogs; prints `pingpong ok CHECKSUM` when every byte arrived.
//! - `yield HOGS`: yields 100 times beside hogs; prints `yield ok CHECKSUM`.
//!
//! CHECKSUM is the grader's `{checksum:8}` of SEED (1 where there is no seed).
//!
//! System calls: fork, wait4, kill, pipe2, read, write, nanosleep, clock_gettime,
//! sched_yield, exit_group.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vkrt::seed::{checksum, Stream};
use vkrt::sys::{self, Timespec};
use vkrt::{println, process, time, Args};

vkrt::entry!(main);

type Check = Result<String, String>;

fn ms_now() -> i128 {
    time::monotonic().as_nanos() / 1_000_000
}

// ANCHOR: hogs
/// Start `n` children that burn CPU for `ms` ms; returns their pids.
fn hogs(n: usize, ms: u64) -> Result<Vec<i32>, String> {
    let mut pids = Vec::new();
    for _ in 0..n {
        match sys::fork().map_err(|e| format!("fork: {}", e.name()))? {
            0 => {
                let end = ms_now() + i128::from(ms);
                let mut x = 0u64;
                while ms_now() < end {
                    for i in 0..1000u64 {
                        x = core::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                    }
                }
                sys::exit_group(0)
            }
            pid => pids.push(pid as i32),
        }
    }
    Ok(pids)
}
// ANCHOR_END: hogs

fn stop(pids: &[i32]) {
    for &p in pids {
        let _ = sys::kill(p, 9);
        let _ = process::wait(p);
    }
}

fn share(n: usize, ms: u64) -> Check {
    let mut fds = [0i32; 2];
    sys::pipe2(&mut fds, 0).map_err(|e| format!("pipe2: {}", e.name()))?;
    let deadline = ms_now() + i128::from(ms);
    let mut pids = Vec::new();
    for _ in 0..n {
        match sys::fork().map_err(|e| format!("fork: {}", e.name()))? {
            0 => {
                let mut turns: u64 = 0;
                while ms_now() < deadline {
                    for i in 0..200u64 {
                        turns = core::hint::black_box(turns.wrapping_add(i & 1));
                    }
                }
                let _ = sys::write(fds[1], &turns.to_le_bytes());
                sys::exit_group(0)
            }
            pid => pids.push(pid as i32),
        }
    }
    let _ = sys::close(fds[1]);
    let mut counts = Vec::new();
    let mut b = [0u8; 8];
    while counts.len() < n {
        let got = sys::read(fds[0], &mut b).map_err(|e| format!("read: {}", e.name()))?;
        if got != 8 {
            return Err(format!("only {} of {n} hogs reported", counts.len()));
        }
        counts.push(u64::from_le_bytes(b));
    }
    for p in pids {
        let _ = process::wait(p);
    }
    let (min, max) = (
        counts.iter().min().copied().unwrap_or(0),
        counts.iter().max().copied().unwrap_or(1),
    );
    let ratio = min as f64 / max.max(1) as f64;
    Ok(format!("share {ratio:.2}"))
}

fn sleep_ms(ms: u64) -> Result<(), String> {
    time::sleep(Timespec::from_millis(ms)).map_err(|e| format!("nanosleep: {}", e.name()))
}

// ANCHOR: latency
fn latency(n: usize, ms: u64) -> Check {
    let pids = hogs(n, 60_000)?;
    let mut worst: i128 = 0;
    for _ in 0..10 {
        let t = ms_now();
        sleep_ms(ms)?;
        let late = ms_now() - t - i128::from(ms);
        if late < 0 {
            stop(&pids);
            return Err(format!("woke {} ms early", -late));
        }
        worst = worst.max(late);
    }
    stop(&pids);
    Ok(format!("latency max {worst}"))
}
// ANCHOR_END: latency

fn order(seed: u64, n_hogs: usize) -> Check {
    let pids = hogs(n_hogs, 60_000)?;
    let mut s = Stream::new(seed);
    // Five distinct durations, 20 ms apart at least, in a seeded order.
    let mut slots: Vec<u64> = (1..=5).map(|k| 20 * k).collect();
    for i in (1..slots.len()).rev() {
        let j = (s.byte() as usize) % (i + 1);
        slots.swap(i, j);
    }
    let mut fds = [0i32; 2];
    sys::pipe2(&mut fds, 0).map_err(|e| format!("pipe2: {}", e.name()))?;
    let mut sleepers = Vec::new();
    for (k, &d) in slots.iter().enumerate() {
        match sys::fork().map_err(|e| format!("fork: {}", e.name()))? {
            0 => {
                let _ = time::sleep(Timespec::from_millis(d));
                let _ = sys::write(fds[1], &[k as u8]);
                sys::exit_group(0)
            }
            pid => sleepers.push(pid as i32),
        }
    }
    let _ = sys::close(fds[1]);
    let mut woke = Vec::new();
    let mut b = [0u8; 1];
    while woke.len() < slots.len() && sys::read(fds[0], &mut b) == Ok(1) {
        woke.push(slots[b[0] as usize]);
    }
    for p in sleepers {
        let _ = process::wait(p);
    }
    stop(&pids);
    let mut sorted = woke.clone();
    sorted.sort_unstable();
    if woke.len() != slots.len() || woke != sorted {
        return Err(format!(
            "sleepers of {slots:?} ms woke in the order {woke:?}"
        ));
    }
    Ok(format!("order ok {:016x}", checksum(seed, 8)))
}

fn pingpong(pairs: usize, rounds: u64, n_hogs: usize) -> Check {
    let pids = hogs(n_hogs, 60_000)?;
    let mut players = Vec::new();
    for _ in 0..pairs {
        let (mut a, mut b) = ([0i32; 2], [0i32; 2]);
        sys::pipe2(&mut a, 0).map_err(|e| format!("pipe2: {}", e.name()))?;
        sys::pipe2(&mut b, 0).map_err(|e| format!("pipe2: {}", e.name()))?;
        for side in 0..2 {
            match sys::fork().map_err(|e| format!("fork: {}", e.name()))? {
                0 => {
                    let (rx, tx) = if side == 0 {
                        (b[0], a[1])
                    } else {
                        (a[0], b[1])
                    };
                    let mut byte = [side as u8];
                    // Side 0 serves first; then each side answers what it reads.
                    if side == 0 && sys::write(tx, &byte) != Ok(1) {
                        sys::exit_group(1);
                    }
                    for r in 0..rounds {
                        if sys::read(rx, &mut byte) != Ok(1) {
                            sys::exit_group(1);
                        }
                        let last = side == 0 && r + 1 == rounds;
                        if !last && sys::write(tx, &byte) != Ok(1) {
                            sys::exit_group(1);
                        }
                    }
                    sys::exit_group(0)
                }
                pid => players.push(pid as i32),
            }
        }
        for fd in [a[0], a[1], b[0], b[1]] {
            let _ = sys::close(fd);
        }
    }
    let mut ok = true;
    for p in players {
        ok &= matches!(process::wait(p), Ok((_, st)) if st.success());
    }
    stop(&pids);
    if !ok {
        return Err(String::from("a player lost its partner's byte"));
    }
    Ok(format!("pingpong ok {:016x}", checksum(1, 8)))
}

fn yield_(n_hogs: usize) -> Check {
    let pids = hogs(n_hogs, 60_000)?;
    for _ in 0..100 {
        sys::sched_yield().map_err(|e| format!("sched_yield: {}", e.name()))?;
    }
    stop(&pids);
    Ok(format!("yield ok {:016x}", checksum(1, 8)))
}

fn main(args: Args) -> i32 {
    let num = |i: usize, default: u64| {
        args.get_str(i)
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(default)
    };
    let mode = args.get_str(1).unwrap_or("");
    let result = match mode {
        "share" => share(num(2, 2) as usize, num(3, 300)),
        "latency" => latency(num(2, 3) as usize, num(3, 20)),
        "order" => order(num(2, 1), num(3, 2) as usize),
        "pingpong" => pingpong(num(2, 4) as usize, num(3, 200), num(4, 2) as usize),
        "yield" => yield_(num(2, 2) as usize),
        _ => Err(String::from(
            "usage: schedtest share|latency|order|pingpong|yield ...",
        )),
    };
    match result {
        Ok(line) => {
            println!("{line}");
            0
        }
        Err(why) => {
            println!("{mode} FAILED: {why}");
            1
        }
    }
}
