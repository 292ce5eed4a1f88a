//! sleep: waits for a number of seconds.
//!
//! Usage: `sleep SECONDS`, a decimal number with an optional fraction (`2`, `0.25`,
//! `.5`), precise to the nanosecond. Exits with 0 after the time has passed, 2 for a bad
//! argument, 1 if `nanosleep` fails.
//!
//! System calls: `nanosleep`.

#![no_std]
#![no_main]

use vkrt::sys::Timespec;
use vkrt::{eprintln, time, Args};

vkrt::entry!(main);

/// Parses `SECONDS[.FRACTION]` into a time; `None` if it is not such a number.
fn parse_seconds(text: &[u8]) -> Option<Timespec> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (&text[..dot], &text[dot + 1..]),
        None => (text, &b""[..]),
    };
    let all_digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return None;
    }
    let mut seconds: i64 = 0;
    for &d in whole {
        seconds = seconds.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    // The first nine digits of the fraction are nanoseconds; more are ignored.
    let mut nanos: i64 = 0;
    for i in 0..9 {
        let digit = fraction.get(i).map_or(0, |d| i64::from(d - b'0'));
        nanos = nanos * 10 + digit;
    }
    Some(Timespec {
        tv_sec: seconds,
        tv_nsec: nanos,
    })
}

fn main(args: Args) -> i32 {
    let Some(duration) = args
        .get(1)
        .filter(|_| args.len() == 2)
        .and_then(parse_seconds)
    else {
        eprintln!("usage: sleep SECONDS (like 2 or 0.5)");
        return 2;
    };
    match time::sleep(duration) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sleep: {e}");
            1
        }
    }
}
