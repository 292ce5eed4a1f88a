//! The bytes Linux programs expect: x86-64 `struct stat` and `struct linux_dirent64`.
//!
//! The file system describes files with Rust types ([`Stat`], [`FileType`]); guest
//! programs read C structures laid out by the Linux x86-64 ABI. This file is the only
//! place that knows those layouts. The system-call layer uses it like this:
//!
//! - `fstat`, `newfstatat`: `RamFs::stat` then [`stat_bytes`] (or, for descriptors
//!   that are no inode, [`console_stat_bytes`] and [`pipe_stat_bytes`]), and copy the
//!   144 bytes to the guest;
//! - `getdents64`: for index `i = offset, offset + 1, ...`, take `RamFs::read_dir(dir, i)`
//!   and append [`dirent64`]`(ino, i + 1, kind, name)` while [`dirent64_len`] still fits
//!   the guest's buffer; the file's offset becomes the next index to list.
//!
//! All numbers are little-endian, as on x86-64.

use super::ramfs::{FileType, Ino, Stat, NAME_MAX};

/// Bytes in `struct stat`.
pub const STAT_SIZE: usize = 144;
/// Type bits of a pipe (`S_IFIFO`).
pub const S_IFIFO: u32 = 0o010000;
/// Type bits of a character device (`S_IFCHR`).
pub const S_IFCHR: u32 = 0o020000;
/// Type bits of a directory (`S_IFDIR`).
pub const S_IFDIR: u32 = 0o040000;
/// Type bits of a regular file (`S_IFREG`).
pub const S_IFREG: u32 = 0o100000;
/// `d_type` of a pipe.
pub const DT_FIFO: u8 = 1;
/// `d_type` of a character device.
pub const DT_CHR: u8 = 2;
/// `d_type` of a directory.
pub const DT_DIR: u8 = 4;
/// `d_type` of a regular file.
pub const DT_REG: u8 = 8;
/// `st_blksize`: the preferred I/O size.
pub const BLOCK_SIZE: u64 = 4096;
/// `st_dev` of every ramfs inode.
pub const RAMFS_DEVICE: u64 = makedev(0, 1);
/// `st_dev` of the console (Linux's devtmpfs is usually 0:6).
pub const CONSOLE_DEVICE: u64 = makedev(0, 6);
/// `st_rdev` of the console: `/dev/console` is character device 5:1.
pub const CONSOLE_RDEV: u64 = makedev(5, 1);
/// The console's inode number (on its own device, so it may equal a ramfs one).
pub const CONSOLE_INO: Ino = 1;
/// `st_dev` of pipes (Linux's pipefs is an anonymous device like this one).
pub const PIPE_DEVICE: u64 = makedev(0, 12);
/// The inode number every pipe reports (Linux gives each pipe its own; nothing here
/// tells pipes apart by inode).
pub const PIPE_INO: Ino = 1;
/// Bytes of a `linux_dirent64` before its name: `d_ino`, `d_off`, `d_reclen`, `d_type`.
pub const DIRENT_HEADER_LEN: usize = 19;

/// Offsets of the `struct stat` fields this kernel fills (the rest stay zero: owner
/// root, times 1970-01-01).
const ST_DEV: usize = 0;
const ST_INO: usize = 8;
const ST_NLINK: usize = 16;
const ST_MODE: usize = 24;
const ST_RDEV: usize = 40;
const ST_SIZE: usize = 48;
const ST_BLKSIZE: usize = 56;
const ST_BLOCKS: usize = 64;

/// A device number from its major and minor numbers, encoded as glibc's `makedev`.
pub const fn makedev(major: u32, minor: u32) -> u64 {
    let (major, minor) = (major as u64, minor as u64);
    (major & 0xffff_f000) << 32
        | (major & 0xfff) << 8
        | (minor & 0xffff_ff00) << 12
        | (minor & 0xff)
}

/// What `fstat` says about the console: a character device, mode 0o620.
pub fn console_stat() -> Stat {
    Stat {
        ino: CONSOLE_INO,
        kind: FileType::CharDevice,
        size: 0,
        nlink: 1,
        mode: 0o620,
    }
}

/// [`console_stat`] as the bytes of a `struct stat`.
pub fn console_stat_bytes() -> [u8; STAT_SIZE] {
    stat_bytes(&console_stat())
}

/// What `fstat` says about a pipe end: a FIFO, mode 0o600.
pub fn pipe_stat() -> Stat {
    Stat {
        ino: PIPE_INO,
        kind: FileType::Fifo,
        size: 0,
        nlink: 1,
        mode: 0o600,
    }
}

/// [`pipe_stat`] as the bytes of a `struct stat`.
pub fn pipe_stat_bytes() -> [u8; STAT_SIZE] {
    stat_bytes(&pipe_stat())
}

/// The `st_mode` type bits of a kind of file.
pub fn type_bits(kind: FileType) -> u32 {
    match kind {
        FileType::Regular => S_IFREG,
        FileType::Directory => S_IFDIR,
        FileType::CharDevice => S_IFCHR,
        FileType::Fifo => S_IFIFO,
    }
}

/// The `d_type` of a kind of file.
pub fn dirent_type(kind: FileType) -> u8 {
    match kind {
        FileType::Regular => DT_REG,
        FileType::Directory => DT_DIR,
        FileType::CharDevice => DT_CHR,
        FileType::Fifo => DT_FIFO,
    }
}

/// `st` as the 144 bytes of an x86-64 `struct stat`. A character device is taken to be
/// the console (its device numbers are [`CONSOLE_DEVICE`] and [`CONSOLE_RDEV`]); a FIFO
/// is on [`PIPE_DEVICE`].
pub fn stat_bytes(st: &Stat) -> [u8; STAT_SIZE] {
    let (device, rdev) = match st.kind {
        FileType::Regular | FileType::Directory => (RAMFS_DEVICE, 0),
        FileType::CharDevice => (CONSOLE_DEVICE, CONSOLE_RDEV),
        FileType::Fifo => (PIPE_DEVICE, 0),
    };
    let mut out = [0; STAT_SIZE];
    put(&mut out, ST_DEV, &device.to_le_bytes());
    put(&mut out, ST_INO, &st.ino.to_le_bytes());
    put(&mut out, ST_NLINK, &u64::from(st.nlink).to_le_bytes());
    put(
        &mut out,
        ST_MODE,
        &(type_bits(st.kind) | (st.mode & 0o7777)).to_le_bytes(),
    );
    put(&mut out, ST_RDEV, &rdev.to_le_bytes());
    put(&mut out, ST_SIZE, &st.size.to_le_bytes()); // an i64, but sizes are far below 2^63
    put(&mut out, ST_BLKSIZE, &BLOCK_SIZE.to_le_bytes());
    put(&mut out, ST_BLOCKS, &st.size.div_ceil(512).to_le_bytes());
    out
}

/// Copy `bytes` into `out` at `offset`.
fn put(out: &mut [u8], offset: usize, bytes: &[u8]) {
    out[offset..offset + bytes.len()].copy_from_slice(bytes);
}

/// Bytes of the `linux_dirent64` record for a name of `name_len` bytes: header, name,
/// NUL, padded to a multiple of 8.
pub fn dirent64_len(name_len: usize) -> usize {
    (DIRENT_HEADER_LEN + name_len + 1).next_multiple_of(8)
}

/// One `linux_dirent64` record: `d_ino`, `d_off` (`next_offset`, where listing resumes
/// after this entry), `d_reclen` (the record's length), `d_type`, then the name and NUL.
///
/// # Panics
/// If `name` is longer than [`NAME_MAX`] bytes (which the ramfs enforces).
pub fn dirent64(ino: u64, next_offset: i64, kind: FileType, name: &[u8]) -> Vec<u8> {
    assert!(
        name.len() <= NAME_MAX,
        "abi::dirent64: name of {} bytes",
        name.len()
    );
    let record_len = dirent64_len(name.len());
    let mut out = Vec::with_capacity(record_len);
    out.extend_from_slice(&ino.to_le_bytes());
    out.extend_from_slice(&next_offset.to_le_bytes());
    out.extend_from_slice(&(record_len as u16).to_le_bytes()); // at most 280
    out.push(dirent_type(kind));
    out.extend_from_slice(name);
    out.resize(record_len, 0); // the NUL and the padding
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first 9 eight-byte words of a `struct stat`; the other 9 must be zero.
    fn words(bytes: &[u8; STAT_SIZE]) -> Vec<[u8; 8]> {
        let (head, tail) = bytes.split_at(72);
        assert!(
            tail.iter().all(|&byte| byte == 0),
            "times and reserved words are zero"
        );
        head.chunks(8)
            .map(|word| word.try_into().unwrap())
            .collect()
    }

    #[test]
    fn encodes_a_regular_file() {
        let st = Stat {
            ino: 7,
            kind: FileType::Regular,
            size: 1000,
            nlink: 1,
            mode: 0o644,
        };
        let expected = [
            [1, 0, 0, 0, 0, 0, 0, 0],       // st_dev 0:1
            [7, 0, 0, 0, 0, 0, 0, 0],       // st_ino
            [1, 0, 0, 0, 0, 0, 0, 0],       // st_nlink
            [0xA4, 0x81, 0, 0, 0, 0, 0, 0], // st_mode 0o100644, st_uid 0
            [0, 0, 0, 0, 0, 0, 0, 0],       // st_gid 0, padding
            [0, 0, 0, 0, 0, 0, 0, 0],       // st_rdev
            [0xE8, 0x03, 0, 0, 0, 0, 0, 0], // st_size 1000
            [0, 0x10, 0, 0, 0, 0, 0, 0],    // st_blksize 4096
            [2, 0, 0, 0, 0, 0, 0, 0],       // st_blocks: 1000 bytes take 2 of 512
        ];
        assert_eq!(words(&stat_bytes(&st)), expected);
    }

    #[test]
    fn encodes_a_directory() {
        let st = Stat {
            ino: 1,
            kind: FileType::Directory,
            size: 0,
            nlink: 3,
            mode: 0o755,
        };
        let bytes = stat_bytes(&st);
        assert_eq!(bytes[16], 3);
        assert_eq!(bytes[24..28], [0xED, 0x41, 0, 0]); // 0o040755
        assert_eq!(bytes[64], 0);
    }

    #[test]
    fn encodes_the_console_as_a_character_device() {
        let bytes = console_stat_bytes();
        assert_eq!(bytes[0], 6);
        assert_eq!(bytes[24..28], [0x90, 0x21, 0, 0]); // 0o020620
        assert_eq!(bytes[40..48], [1, 5, 0, 0, 0, 0, 0, 0]); // st_rdev 5:1
    }

    #[test]
    fn encodes_a_pipe_as_a_fifo() {
        let bytes = pipe_stat_bytes();
        assert_eq!(bytes[0], 12);
        assert_eq!(bytes[24..28], [0x80, 0x11, 0, 0]); // 0o010600
        assert_eq!(bytes[40..48], [0; 8]);
    }

    #[test]
    fn counts_blocks_of_512_bytes_rounding_up() {
        for (size, blocks) in [(0, 0), (1, 1), (512, 1), (513, 2), (4096, 8)] {
            let st = Stat {
                ino: 2,
                kind: FileType::Regular,
                size,
                nlink: 1,
                mode: 0o644,
            };
            assert_eq!(
                stat_bytes(&st)[64..72],
                u64::to_le_bytes(blocks),
                "size {size}"
            );
        }
    }

    #[test]
    fn makedev_matches_glibc() {
        assert_eq!(makedev(5, 1), 0x501);
        assert_eq!(makedev(0x1234, 0x56789), 0x0000_1000_5672_3489);
    }

    #[test]
    fn encodes_a_directory_entry() {
        let expected = [
            5, 0, 0, 0, 0, 0, 0, 0, // d_ino
            1, 0, 0, 0, 0, 0, 0, 0, // d_off
            24, 0, // d_reclen
            4, // d_type DT_DIR
            b'a', 0, 0, 0, 0, // name, NUL, padding
        ];
        assert_eq!(dirent64(5, 1, FileType::Directory, b"a"), expected);
    }

    #[test]
    fn pads_entries_to_multiples_of_8() {
        let entry = dirent64(0x0102, -1, FileType::Regular, b"hello");
        assert_eq!(entry.len(), 32);
        assert_eq!(entry[..8], [2, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(entry[8..16], [0xFF; 8]);
        assert_eq!(entry[16..19], [32, 0, DT_REG]);
        assert_eq!(entry[19..], *b"hello\0\0\0\0\0\0\0\0");
        assert_eq!(
            dirent64(1, 2, FileType::CharDevice, b"tty0")[16..],
            *b"\x18\0\x02tty0\0"
        );
        assert_eq!(
            (
                dirent64_len(0),
                dirent64_len(4),
                dirent64_len(5),
                dirent64_len(255)
            ),
            (24, 24, 32, 280)
        );
    }

    #[test]
    #[should_panic(expected = "abi::dirent64")]
    fn refuses_names_longer_than_name_max() {
        dirent64(1, 1, FileType::Regular, &[b'x'; 256]);
    }
}
