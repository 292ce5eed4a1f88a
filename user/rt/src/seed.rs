//! Seeded data shared with the grader: a byte stream and its checksum.
//!
//! Lab test programs get a seed on their command line, make data from it and print
//! checksums; the grader computes the same values (`{checksum:N}` in a lab definition), so
//! only a kernel that really moved the bytes produces them. The contract (also in
//! `autograder/README.md`): the stream of seed `s` is xorshift64* with state `s | 1`
//! (`x ^= x >> 12; x ^= x << 25; x ^= x >> 27; out = x * 0x2545F4914F6CDD1D`, each output's
//! 8 bytes little-endian), and the checksum is FNV-1a 64 printed as 16 hex digits.

/// The seeded byte stream.
#[derive(Debug, Clone)]
pub struct Stream {
    state: u64,
    buf: [u8; 8],
    used: usize,
}

impl Stream {
    /// The stream of `seed`.
    pub fn new(seed: u64) -> Stream {
        Stream {
            state: seed | 1,
            buf: [0; 8],
            used: 8,
        }
    }

    /// The next byte.
    pub fn byte(&mut self) -> u8 {
        if self.used == 8 {
            let mut x = self.state;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.state = x;
            self.buf = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            self.used = 0;
        }
        let b = self.buf[self.used];
        self.used += 1;
        b
    }

    /// Fill `out` with the next bytes.
    pub fn fill(&mut self, out: &mut [u8]) {
        for b in out {
            *b = self.byte();
        }
    }
}

/// FNV-1a 64 of `bytes`, continuing from `h` (start with [`FNV_OFFSET`]).
pub fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The FNV-1a 64 starting value.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// The checksum of the first `n` bytes of the stream of `seed` (the grader's
/// `{checksum:N}`).
pub fn checksum(seed: u64, n: usize) -> u64 {
    let mut s = Stream::new(seed);
    let mut h = FNV_OFFSET;
    for _ in 0..n {
        h = fnv1a(h, &[s.byte()]);
    }
    h
}
