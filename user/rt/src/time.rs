//! time: reading the clocks and sleeping, with arithmetic on [`Timespec`].
//!
//! [`monotonic`] reads `CLOCK_MONOTONIC` (for measuring intervals), [`realtime`] the
//! wall clock; [`sleep`] sleeps for a [`Timespec`] and carries on after an interrupted
//! `nanosleep` with the time that was left. `Timespec` converts to and from nanoseconds
//! and milliseconds.
//!
//! ```ignore
//! let start = time::monotonic();
//! time::sleep(Timespec::from_millis(20));
//! let took = time::monotonic().as_nanos() - start.as_nanos();
//! ```

use crate::sys::{self, Errno, Timespec};

const NANOS_PER_SEC: i64 = 1_000_000_000;

impl Timespec {
    /// `nanos` nanoseconds (not negative).
    pub const fn from_nanos(nanos: u64) -> Timespec {
        Timespec {
            tv_sec: (nanos / NANOS_PER_SEC as u64) as i64,
            tv_nsec: (nanos % NANOS_PER_SEC as u64) as i64,
        }
    }

    /// `ms` milliseconds.
    pub const fn from_millis(ms: u64) -> Timespec {
        Timespec::from_nanos(ms * 1_000_000)
    }

    /// The time in nanoseconds (negative for a time before the clock's zero).
    pub const fn as_nanos(&self) -> i128 {
        self.tv_sec as i128 * NANOS_PER_SEC as i128 + self.tv_nsec as i128
    }
}

/// Reads `clock`; a clock that cannot be read reads as zero.
fn now(clock: i32) -> Timespec {
    let mut ts = Timespec::default();
    let _ = sys::clock_gettime(clock, &mut ts);
    ts
}

/// The monotonic clock: time since some fixed point (boot); it never goes backwards.
pub fn monotonic() -> Timespec {
    now(sys::CLOCK_MONOTONIC)
}

/// The wall clock: time since 1970-01-01 00:00 UTC.
pub fn realtime() -> Timespec {
    now(sys::CLOCK_REALTIME)
}

/// Sleeps for `duration`, going back to sleep for what is left after an interruption.
pub fn sleep(duration: Timespec) -> Result<(), Errno> {
    let mut left = duration;
    loop {
        let mut rem = Timespec::default();
        match sys::nanosleep(&left, Some(&mut rem)) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => left = rem,
            Err(e) => return Err(e),
        }
    }
}
