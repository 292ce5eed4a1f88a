//! Time system calls: `clock_gettime` and `nanosleep`.
//!
//! The kernel reads time only from the machine (`Machine::now`): host monotonic time, or
//! guest CPU time with `--virtual-time`. `CLOCK_REALTIME` is the wall-clock time at boot
//! plus machine time.

use super::SysResult;
use crate::errno::Errno;
use crate::sched::Chan;
use crate::trap::Ctx;

const NS: u64 = 1_000_000_000;

fn timespec_bytes(ns: u64) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&(ns / NS).to_le_bytes());
    b[8..].copy_from_slice(&(ns % NS).to_le_bytes());
    b
}

/// `clock_gettime(clock, tp)`: the monotonic clocks (time since boot), the real-time
/// clocks (the host's time at boot plus machine time since) and the CPU-time clocks (the
/// process's timer ticks times the tick period).
///
/// # Errors
/// `EINVAL` for an unknown clock, `EFAULT` for a bad pointer.
pub fn clock_gettime(cx: &Ctx<'_>, clock: u64, tp: u64) -> SysResult {
    let now = cx.k.machine.now();
    let ns = match clock {
        0 | 5 | 8 => cx.k.boot_realtime_ns + now, // REALTIME, REALTIME_COARSE, REALTIME_ALARM
        1 | 4 | 6 | 7 | 9 => now,                 // MONOTONIC, _RAW, _COARSE, BOOTTIME(_ALARM)
        2 | 3 => cx.p.ticks.get() * cx.k.machine.tick_period(), // process/thread CPU time
        _ => return Err(Errno::EINVAL),
    };
    cx.copyout(tp, &timespec_bytes(ns))?;
    Ok(0)
}

/// `nanosleep(req, rem)`: sleep at least the requested time.
///
/// # Errors
/// `EINVAL` for a negative or unnormalised time, `EFAULT`, `EINTR` when killed (the
/// time left goes to `rem`).
pub fn nanosleep(cx: &Ctx<'_>, req: u64, rem: u64) -> SysResult {
    let mut b = [0u8; 16];
    cx.copyin(req, &mut b)?;
    let sec = i64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
    let nsec = i64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
    if sec < 0 || !(0..NS as i64).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    let total = (sec as u64).saturating_mul(NS).saturating_add(nsec as u64);
    let deadline = cx.k.machine.now().saturating_add(total);
    while cx.k.machine.now() < deadline {
        if let Err(e) = cx.sleep_until(Chan::Clock, Some(deadline)) {
            if rem != 0 {
                let left = deadline.saturating_sub(cx.k.machine.now());
                cx.copyout(rem, &timespec_bytes(left))?;
            }
            return Err(e);
        }
    }
    Ok(0)
}
