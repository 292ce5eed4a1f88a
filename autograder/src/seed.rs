//! Seeded values: the byte stream, its checksum and the `{...}` placeholders of lab files.
//!
//! The contract (guest test programs compute the same; see the README):
//! - the **stream** of a seed is xorshift64*: `x = seed | 1`; each step
//!   `x ^= x >> 12; x ^= x << 25; x ^= x >> 27;` outputs `x * 0x2545F4914F6CDD1D`
//!   (wrapping), whose 8 little-endian bytes come next in the stream;
//! - `{checksum:N}` is the FNV-1a 64-bit hash (offset basis `0xcbf29ce484222325`, prime
//!   `0x100000001b3`, per byte `h ^= b; h *= prime`) of the first N bytes of the stream,
//!   written as 16 lowercase hex digits.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

/// The multiplier of xorshift64*.
pub const XORSHIFT_MUL: u64 = 0x2545_F491_4F6C_DD1D;
/// FNV-1a 64-bit offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
/// FNV-1a 64-bit prime.
pub const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
/// The largest N accepted in `{checksum:N}` (64 MiB).
pub const MAX_CHECKSUM_BYTES: u64 = 64 << 20;

/// The seeded byte stream (an endless iterator).
#[derive(Debug, Clone)]
pub struct Stream {
    state: u64,
    buf: [u8; 8],
    pos: usize,
}

impl Stream {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Self {
        Stream {
            state: seed | 1,
            buf: [0; 8],
            pos: 8,
        }
    }

    /// The next 64-bit output of the generator.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.state = x;
        x.wrapping_mul(XORSHIFT_MUL)
    }
}

impl Iterator for Stream {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if self.pos == 8 {
            self.buf = self.next_u64().to_le_bytes();
            self.pos = 0;
        }
        let b = self.buf[self.pos];
        self.pos += 1;
        Some(b)
    }
}

/// The first `n` bytes of the stream of `seed`.
pub fn stream_bytes(seed: u64, n: usize) -> Vec<u8> {
    Stream::new(seed).take(n).collect()
}

/// FNV-1a 64-bit hash of `bytes`.
pub fn fnv1a64(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(FNV_OFFSET, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(FNV_PRIME)
    })
}

/// `{checksum:N}`: FNV-1a of the first `n` stream bytes, 16 lowercase hex digits.
pub fn checksum(seed: u64, n: u64) -> String {
    format!("{:016x}", fnv1a64(Stream::new(seed).take(n as usize)))
}

/// A fresh random seed (from 1 to 2^31 - 1, so it is easy to type back with `--seed`).
pub fn random_seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    (h.finish() % ((1 << 31) - 1)) + 1
}

/// A placeholder found in a lab file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Placeholder {
    Seed,
    Checksum(u64),
    LabDir,
}

/// Walk the `{name}` / `{name:arg}` placeholders of `text`: `f` returns the replacement
/// (`None` keeps the text as it is). Braces that do not look like a placeholder (a name of
/// lowercase letters and `_`), such as the regex repetition `{16}`, stay literal. An
/// unknown name or a bad argument is an error.
fn expand(text: &str, mut f: impl FnMut(&Placeholder) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let inner = &after[..close];
        let (name, arg) = match inner.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (inner, None),
        };
        let looks_like_placeholder = !name.is_empty()
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            && !inner.contains('{');
        if !looks_like_placeholder {
            out.push('{');
            rest = after;
            continue;
        }
        let ph = match (name, arg) {
            ("seed", None) => Placeholder::Seed,
            ("lab_dir", None) => Placeholder::LabDir,
            ("checksum", Some(n)) => {
                let n: u64 = n.parse().map_err(|_| {
                    format!("`{{{inner}}}`: the checksum length must be a number of bytes")
                })?;
                if n > MAX_CHECKSUM_BYTES {
                    return Err(format!(
                        "`{{{inner}}}`: at most {MAX_CHECKSUM_BYTES} bytes can be checksummed"
                    ));
                }
                Placeholder::Checksum(n)
            }
            ("checksum", None) => {
                return Err("`{checksum}` needs a length: `{checksum:N}`".into());
            }
            _ => {
                return Err(format!(
                "unknown placeholder `{{{inner}}}` (known: {{seed}}, {{checksum:N}}, {{lab_dir}})"
            ))
            }
        };
        match f(&ph) {
            Some(s) => out.push_str(&s),
            None => out.push_str(&rest[open..open + close + 2]),
        }
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Check the placeholders of `text` and replace `{lab_dir}` (when `lab_dir` is given);
/// `{lab_dir}` where `lab_dir` is `None` is an error.
pub(crate) fn prepare(text: &str, lab_dir: Option<&str>) -> Result<String, String> {
    let mut bad = false;
    let out = expand(text, |ph| match ph {
        Placeholder::LabDir => match lab_dir {
            Some(d) => Some(d.to_string()),
            None => {
                bad = true;
                None
            }
        },
        _ => None,
    })?;
    if bad {
        return Err("`{lab_dir}` may only be used in `init` and `vkernel_args`".into());
    }
    Ok(out)
}

/// Replace `{seed}` and `{checksum:N}` in a text that loading accepted (other
/// placeholders were checked or replaced then).
pub fn substitute(text: &str, seed: u64) -> String {
    expand(text, |ph| match ph {
        Placeholder::Seed => Some(seed.to_string()),
        Placeholder::Checksum(n) => Some(checksum(seed, *n)),
        Placeholder::LabDir => None,
    })
    .unwrap_or_else(|_| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_literals() {
        // Computed independently (Python) from the README's definition.
        assert_eq!(
            stream_bytes(0, 8),
            [0x1d, 0xdd, 0x6c, 0x89, 0x4b, 0xce, 0xe4, 0x47]
        );
        // seed 0 and seed 1 are the same stream (state = seed | 1).
        assert_eq!(stream_bytes(1, 8), stream_bytes(0, 8));
        assert_eq!(
            stream_bytes(42, 8),
            [0xbd, 0x80, 0x08, 0xfb, 0x02, 0x19, 0xb3, 0x9e]
        );
        assert_eq!(
            stream_bytes(u64::MAX, 8),
            [0x00, 0x00, 0x00, 0xc6, 0xe5, 0xc9, 0x2c, 0xf9]
        );
        assert_eq!(Stream::new(42).next_u64(), 0x9eb3_1902_fb08_80bd);
    }

    #[test]
    fn checksum_literals() {
        assert_eq!(checksum(0, 0), "cbf29ce484222325");
        assert_eq!(checksum(1, 8), "79da50e87f71bb94");
        assert_eq!(checksum(42, 16), "f2e8e555445f3d76");
        assert_eq!(checksum(42, 3), "bf224b1aa1b81d70");
        assert_eq!(checksum(2, 1), "af640a4c86023ab6");
        assert_eq!(checksum(12345, 4096), "feff91a381204a0d");
        assert_eq!(checksum(u64::MAX, 100), "f028d8e8aeacd0f9");
        assert_eq!(fnv1a64(*b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn placeholders() {
        assert_eq!(substitute("echo {seed}", 7), "echo 7");
        assert_eq!(
            substitute("sum {checksum:16} of {seed}", 42),
            "sum f2e8e555445f3d76 of 42"
        );
        // Regex repetitions and other braces stay.
        assert_eq!(
            substitute("[0-9a-f]{16} {} {x y}", 1),
            "[0-9a-f]{16} {} {x y}"
        );
        assert_eq!(substitute("{seed", 1), "{seed");
        assert!(prepare("{sed}", None)
            .unwrap_err()
            .contains("unknown placeholder"));
        assert!(prepare("{checksum}", None).is_err());
        assert!(prepare("{checksum:x}", None).is_err());
        assert!(prepare("{checksum:999999999999}", None).is_err());
        assert!(prepare("{lab_dir}/x", None).is_err());
        assert_eq!(
            prepare("{lab_dir}/x {seed}", Some("/l")).unwrap(),
            "/l/x {seed}"
        );
    }

    #[test]
    fn random_seeds_are_small_and_nonzero() {
        for _ in 0..100 {
            let s = random_seed();
            assert!((1..1 << 31).contains(&s));
        }
    }
}
