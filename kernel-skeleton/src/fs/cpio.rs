//! Reading an initramfs: the cpio "newc" archive format, checked byte by byte.
//!
//! An initramfs is how Linux (and this kernel) receives its first files: one archive of
//! records, each a 110-byte ASCII header, a NUL-terminated name and the file's bytes,
//! ended by a record named `TRAILER!!!`. [`parse`] turns the archive into a list of
//! [`Entry`]s that borrow from it; `ramfs.rs` ([`super::ramfs::RamFs::from_cpio`])
//! builds its tree from that list.
//!
//! The archive comes from outside the kernel, so nothing in it is trusted: every header
//! field, length, padding byte and name is checked, and anything wrong is a [`CpioError`]
//! naming the problem and the byte offset where it was found. No input makes `parse`
//! panic or read past the end of the slice.
//!
//! Only what a file system of directories and files needs is kept: the name, the mode
//! and the data. Owners, times and device numbers are read (and checked) but dropped,
//! and hard links (several names for one `ino`) come out as separate entries.
//!
//! A record, with every piece starting on a 4-byte boundary of the archive:
//!
//! ```text
//! "070701" | 13 fields of 8 hex digits | name + NUL | 0-3 zero bytes | data | 0-3 zero bytes
//! ```

use crate::errno::Errno;

/// Magic of a newc record.
pub const NEWC_MAGIC: &[u8; 6] = b"070701";
/// Magic of a newc record whose `check` field is the sum of its data bytes.
pub const NEWC_CRC_MAGIC: &[u8; 6] = b"070702";
/// Bytes in a record header: the magic and 13 fields of 8 hex digits.
pub const HEADER_LEN: usize = 6 + 13 * 8;
/// Largest `namesize` accepted (the name and its NUL), Linux's `PATH_MAX`.
pub const MAX_NAME_SIZE: usize = 4096;
/// Most entries one archive may hold.
pub const MAX_ENTRIES: usize = 1 << 16;
/// Longest path component, Linux's `NAME_MAX`.
const MAX_COMPONENT_LEN: usize = 255;
/// Name of the record that ends the archive.
const TRAILER_NAME: &[u8] = b"TRAILER!!!";
/// The header fields in order, named as in the format's description.
const FIELD_NAMES: [&str; 13] = [
    "ino",
    "mode",
    "uid",
    "gid",
    "nlink",
    "mtime",
    "filesize",
    "devmajor",
    "devminor",
    "rdevmajor",
    "rdevminor",
    "namesize",
    "check",
];

/// Mask of the file-type bits of a mode.
pub const S_IFMT: u32 = 0o170000;
/// File-type bits of a directory.
pub const S_IFDIR: u32 = 0o040000;
/// File-type bits of a regular file.
pub const S_IFREG: u32 = 0o100000;

// ANCHOR: entry
/// One file or directory of an archive, borrowing its name and data from the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The path, relative to the root: no leading `./` or `/`, no empty, `.` or `..`
    /// components, no NUL, never empty.
    pub name: &'a [u8],
    /// The full mode: file-type bits ([`S_IFMT`]) and permission bits.
    pub mode: u32,
    /// The file's contents (empty for a directory).
    pub data: &'a [u8],
}
// ANCHOR_END: entry

impl Entry<'_> {
    /// Whether this entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.mode & S_IFMT == S_IFDIR
    }

    /// Whether this entry is a regular file.
    pub fn is_regular(&self) -> bool {
        self.mode & S_IFMT == S_IFREG
    }

    /// The permission bits of the mode (`0o7777`).
    pub fn permissions(&self) -> u32 {
        self.mode & 0o7777
    }
}

/// Why an archive (or, from `RamFs::from_cpio`, one of its entries) was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CpioError {
    /// The archive ends inside a record: `what` was to start at `offset`.
    Truncated { offset: usize, what: &'static str },
    /// A record does not start with `070701` or `070702`.
    BadMagic { offset: usize },
    /// A header field holds something other than 8 hex digits.
    BadHex { offset: usize, field: &'static str },
    /// A `namesize` of 0 or more than [`MAX_NAME_SIZE`].
    BadNameSize { offset: usize, size: u32 },
    /// A name that is not NUL-terminated or that the file system cannot hold, with
    /// the reason.
    BadName { offset: usize, why: &'static str },
    /// Alignment padding that is not zero bytes.
    BadPadding { offset: usize },
    /// A `070702` record whose data does not sum to its `check` field.
    BadChecksum { offset: usize },
    /// A length that does not fit in memory.
    TooLarge { offset: usize },
    /// More than [`MAX_ENTRIES`] entries.
    TooManyEntries { offset: usize },
    /// The archive ends between records, without a `TRAILER!!!` record.
    MissingTrailer { offset: usize },
    /// A valid entry that does not fit the tree built so far (say, a file below a
    /// file), with the error the file system gave.
    Conflict { name: String, errno: Errno },
}

impl std::fmt::Display for CpioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CpioError::Truncated { offset, what } => {
                write!(f, "archive truncated: {what} expected at byte {offset}")
            }
            CpioError::BadMagic { offset } => write!(f, "bad record magic at byte {offset}"),
            CpioError::BadHex { offset, field } => {
                write!(f, "field {field} is not 8 hex digits at byte {offset}")
            }
            CpioError::BadNameSize { offset, size } => {
                write!(f, "name size {size} out of range at byte {offset}")
            }
            CpioError::BadName { offset, why } => write!(f, "bad name at byte {offset}: {why}"),
            CpioError::BadPadding { offset } => write!(f, "non-zero padding at byte {offset}"),
            CpioError::BadChecksum { offset } => write!(f, "checksum mismatch at byte {offset}"),
            CpioError::TooLarge { offset } => write!(f, "length too large at byte {offset}"),
            CpioError::TooManyEntries { offset } => {
                write!(f, "more than {MAX_ENTRIES} entries at byte {offset}")
            }
            CpioError::MissingTrailer { offset } => write!(f, "no trailer at byte {offset}"),
            CpioError::Conflict { name, errno } => write!(f, "cannot add {name:?}: {errno}"),
        }
    }
}

impl std::error::Error for CpioError {}

/// The header fields a reader needs.
struct Header {
    mode: u32,
    file_size: u32,
    name_size: u32,
    check: u32,
    has_checksum: bool,
}

/// Parse a whole newc archive, up to its `TRAILER!!!` record (bytes after it are
/// ignored). Entries named `.` (the root itself) are left out.
///
/// # Errors
/// A [`CpioError`] for the first problem found, with its byte offset.
pub fn parse(bytes: &[u8]) -> Result<Vec<Entry<'_>>, CpioError> {
    let mut entries = Vec::new();
    let mut offset = 0;
    loop {
        if offset == bytes.len() {
            return Err(CpioError::MissingTrailer { offset });
        }
        let (mut entry, name_offset, next) = read_record(bytes, offset)?;
        if entry.name == TRAILER_NAME {
            return Ok(entries);
        }
        if entries.len() == MAX_ENTRIES {
            return Err(CpioError::TooManyEntries { offset });
        }
        if let Some(name) = normalise_name(entry.name, name_offset)? {
            entry.name = name;
            entries.push(entry);
        }
        offset = next;
    }
}

/// Read the record starting at `start`. Returns it (its name as stored), where its name
/// starts, and where the next record starts.
fn read_record(bytes: &[u8], start: usize) -> Result<(Entry<'_>, usize, usize), CpioError> {
    let header = parse_header(take(bytes, start, HEADER_LEN, "record header")?, start)?;
    let name_offset = start + HEADER_LEN;
    let name_size = checked_name_size(header.name_size, start)?;
    let name = strip_nul(take(bytes, name_offset, name_size, "name")?, name_offset)?;
    let data_offset = skip_padding(bytes, name_offset + name_size)?;
    let data_len =
        usize::try_from(header.file_size).map_err(|_| CpioError::TooLarge { offset: start })?;
    let data = take(bytes, data_offset, data_len, "file data")?;
    if header.has_checksum && data_checksum(data) != header.check {
        return Err(CpioError::BadChecksum {
            offset: data_offset,
        });
    }
    let next = skip_padding(bytes, data_offset + data_len)?;
    let mode = header.mode;
    Ok((Entry { name, mode, data }, name_offset, next))
}

/// Check the magic and decode the 13 hex fields of a `HEADER_LEN`-byte header.
fn parse_header(header: &[u8], start: usize) -> Result<Header, CpioError> {
    let magic = &header[..6];
    if magic != NEWC_MAGIC && magic != NEWC_CRC_MAGIC {
        return Err(CpioError::BadMagic { offset: start });
    }
    let mut fields = [0u32; 13];
    for (index, value) in fields.iter_mut().enumerate() {
        let field_offset = 6 + index * 8;
        *value = parse_hex(&header[field_offset..field_offset + 8]).ok_or(CpioError::BadHex {
            offset: start + field_offset,
            field: FIELD_NAMES[index],
        })?;
    }
    Ok(Header {
        mode: fields[1],
        file_size: fields[6],
        name_size: fields[11],
        check: fields[12],
        has_checksum: magic == NEWC_CRC_MAGIC,
    })
}

/// Decode 8 hex digits (either case); `None` for anything else.
fn parse_hex(digits: &[u8]) -> Option<u32> {
    assert_eq!(digits.len(), 8, "cpio::parse_hex: a field is 8 digits");
    digits.iter().try_fold(0u32, |value, &digit| {
        let nibble = char::from(digit).to_digit(16)?;
        Some(value << 4 | nibble)
    })
}

/// Check `namesize` (which counts the NUL) and convert it.
fn checked_name_size(name_size: u32, start: usize) -> Result<usize, CpioError> {
    match usize::try_from(name_size) {
        Ok(size) if (1..=MAX_NAME_SIZE).contains(&size) => Ok(size),
        _ => Err(CpioError::BadNameSize {
            offset: start,
            size: name_size,
        }),
    }
}

/// The name without its final NUL; NUL must end it and appear nowhere else.
fn strip_nul(name_with_nul: &[u8], offset: usize) -> Result<&[u8], CpioError> {
    match name_with_nul.split_last() {
        Some((0, name)) if !name.contains(&0) => Ok(name),
        Some((0, _)) => Err(bad_name(offset, "NUL inside the name")),
        _ => Err(bad_name(offset, "not NUL-terminated")),
    }
}

/// `len` bytes at `offset`, or the error saying the archive ends first.
fn take<'a>(
    bytes: &'a [u8],
    offset: usize,
    len: usize,
    what: &'static str,
) -> Result<&'a [u8], CpioError> {
    let end = offset
        .checked_add(len)
        .ok_or(CpioError::TooLarge { offset })?;
    bytes
        .get(offset..end)
        .ok_or(CpioError::Truncated { offset, what })
}

/// Check the zero bytes from `offset` to the next multiple of 4; returns that multiple.
fn skip_padding(bytes: &[u8], offset: usize) -> Result<usize, CpioError> {
    let padding_len = (4 - offset % 4) % 4;
    let padding = take(bytes, offset, padding_len, "padding")?;
    if padding.iter().any(|&byte| byte != 0) {
        return Err(CpioError::BadPadding { offset });
    }
    Ok(offset + padding_len)
}

/// The `070702` checksum: the sum of the data bytes, modulo 2^32.
fn data_checksum(data: &[u8]) -> u32 {
    data.iter()
        .fold(0u32, |sum, &byte| sum.wrapping_add(u32::from(byte)))
}

/// Strip leading `./` and `/`; `None` for the root itself, an error for a name the file
/// system cannot hold.
fn normalise_name(name: &[u8], offset: usize) -> Result<Option<&[u8]>, CpioError> {
    if name.is_empty() {
        return Err(bad_name(offset, "empty name"));
    }
    let mut relative = name;
    while let Some(rest) = relative
        .strip_prefix(b"./")
        .or_else(|| relative.strip_prefix(b"/"))
    {
        relative = rest;
    }
    if relative.is_empty() || relative == b"." {
        return Ok(None);
    }
    for component in relative.split(|&byte| byte == b'/') {
        let why = match component {
            b"" => "empty path component",
            b"." => "\".\" path component",
            b".." => "\"..\" path component",
            _ if component.len() > MAX_COMPONENT_LEN => "path component longer than 255 bytes",
            _ => continue,
        };
        return Err(bad_name(offset, why));
    }
    Ok(Some(relative))
}

fn bad_name(offset: usize, why: &'static str) -> CpioError {
    CpioError::BadName { offset, why }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Append one newc record to `out` (a tiny writer for the tests).
    pub(crate) fn push_record(
        out: &mut Vec<u8>,
        magic: &[u8; 6],
        name: &[u8],
        mode: u32,
        data: &[u8],
    ) {
        out.extend_from_slice(magic);
        let size = u32::try_from(data.len()).unwrap();
        let name_size = u32::try_from(name.len() + 1).unwrap();
        let check = if magic == NEWC_CRC_MAGIC {
            data_checksum(data)
        } else {
            0
        };
        for field in [0, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, name_size, check] {
            out.extend_from_slice(format!("{field:08X}").as_bytes());
        }
        out.extend_from_slice(name);
        out.push(0);
        out.resize(out.len().next_multiple_of(4), 0);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(4), 0);
    }

    /// A whole archive of `(name, mode, data)` entries and its trailer.
    pub(crate) fn archive(entries: &[(&[u8], u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for &(name, mode, data) in entries {
            push_record(&mut out, NEWC_MAGIC, name, mode, data);
        }
        push_record(&mut out, NEWC_MAGIC, TRAILER_NAME, 0, b"");
        out
    }

    fn sample() -> Vec<u8> {
        archive(&[
            (b".", 0o040755, b""),
            (b"bin", 0o040755, b""),
            (b"bin/hello", 0o100755, b"\x7fELF..."),
            (b"./etc/motd", 0o100644, b"hi\n"),
        ])
    }

    #[test]
    fn parses_a_small_archive() {
        let bytes = sample();
        let entries = parse(&bytes).unwrap();
        let names: Vec<&[u8]> = entries.iter().map(|entry| entry.name).collect();
        assert_eq!(names, [&b"bin"[..], b"bin/hello", b"etc/motd"]);
        assert!(entries[0].is_dir() && !entries[0].is_regular());
        assert_eq!(entries[1].data, b"\x7fELF...");
        assert_eq!(entries[1].permissions(), 0o755);
        assert_eq!(entries[2].data, b"hi\n");
        assert!(entries[2].is_regular());
    }

    #[test]
    fn every_truncation_is_refused() {
        let bytes = sample();
        for len in 0..bytes.len() {
            assert!(
                parse(&bytes[..len]).is_err(),
                "prefix of {len} bytes accepted"
            );
        }
        assert_eq!(parse(&[]), Err(CpioError::MissingTrailer { offset: 0 }));
        let error = parse(&bytes[..100]).unwrap_err();
        assert_eq!(
            error,
            CpioError::Truncated {
                offset: 0,
                what: "record header"
            }
        );
    }

    #[test]
    fn bytes_after_the_trailer_are_ignored() {
        let mut bytes = sample();
        bytes.extend_from_slice(&[0; 512]);
        assert_eq!(parse(&bytes).unwrap().len(), 3);
    }

    #[test]
    fn refuses_a_corrupt_magic() {
        let mut bytes = sample();
        bytes[0] = b'1';
        assert_eq!(parse(&bytes), Err(CpioError::BadMagic { offset: 0 }));
        let mut bytes = archive(&[(b"a", 0o100644, b"")]);
        bytes[112] = b'9'; // the second record starts at 112 (110 + "a\0", no padding)
        assert_eq!(parse(&bytes), Err(CpioError::BadMagic { offset: 112 }));
    }

    #[test]
    fn refuses_bad_hex_and_accepts_lower_case() {
        let mut bytes = archive(&[(b"a", 0o100644, b"xyz")]);
        bytes[6 + 6 * 8 + 3] = b'g'; // inside "filesize"
        let error = parse(&bytes).unwrap_err();
        assert_eq!(
            error,
            CpioError::BadHex {
                offset: 54,
                field: "filesize"
            }
        );
        assert_eq!(
            error.to_string(),
            "field filesize is not 8 hex digits at byte 54"
        );
        let mut bytes = archive(&[(b"a", 0o100644, b"")]);
        bytes[6..14].copy_from_slice(b"0000abcd");
        assert_eq!(parse(&bytes).unwrap()[0].name, b"a");
    }

    #[test]
    fn refuses_a_missing_trailer() {
        let mut bytes = Vec::new();
        push_record(&mut bytes, NEWC_MAGIC, b"a", 0o100644, b"1234");
        let error = parse(&bytes).unwrap_err();
        assert_eq!(error, CpioError::MissingTrailer { offset: 116 });
        assert!(error.to_string().contains("byte 116"));
    }

    #[test]
    fn refuses_names_that_climb_or_have_empty_components() {
        for name in [&b"../etc"[..], b"a/../b", b"a/..", b"a//b", b"a/", b"a/./b"] {
            let bytes = archive(&[(name, 0o100644, b"")]);
            let error = parse(&bytes).unwrap_err();
            assert!(
                matches!(error, CpioError::BadName { offset: 110, .. }),
                "{name:?}"
            );
        }
        let long = archive(&[(&[b'x'; 256], 0o100644, b"")]);
        assert!(matches!(parse(&long), Err(CpioError::BadName { .. })));
    }

    #[test]
    fn skips_the_root_under_any_spelling() {
        let bytes = archive(&[
            (b".", 0o040755, b""),
            (b"./", 0o040755, b""),
            (b"/", 0o040755, b""),
        ]);
        assert_eq!(parse(&bytes), Ok(Vec::new()));
    }

    #[test]
    fn refuses_bad_name_sizes_and_terminators() {
        let mut bytes = archive(&[(b"ab", 0o100644, b"")]);
        bytes[94..102].copy_from_slice(b"00000000"); // namesize 0
        assert_eq!(
            parse(&bytes),
            Err(CpioError::BadNameSize { offset: 0, size: 0 })
        );
        bytes[94..102].copy_from_slice(b"00001001"); // namesize 4097
        assert_eq!(
            parse(&bytes),
            Err(CpioError::BadNameSize {
                offset: 0,
                size: 4097
            })
        );
        bytes[94..102].copy_from_slice(b"00000002"); // "ab" without its NUL
        assert_eq!(parse(&bytes), Err(bad_name(110, "not NUL-terminated")));
        let bytes = archive(&[(b"a\0b", 0o100644, b"")]);
        assert!(matches!(
            parse(&bytes),
            Err(CpioError::BadName { offset: 110, .. })
        ));
    }

    #[test]
    fn refuses_non_zero_padding() {
        let mut bytes = archive(&[(b"ab", 0o100644, b"x")]);
        bytes[114] = 1; // padding after header and name runs from 113 to 116
        assert_eq!(parse(&bytes), Err(CpioError::BadPadding { offset: 113 }));
    }

    #[test]
    fn checks_the_checksum_of_070702_records() {
        let mut bytes = Vec::new();
        push_record(&mut bytes, NEWC_CRC_MAGIC, b"a", 0o100644, b"\x01\x02");
        push_record(&mut bytes, NEWC_MAGIC, TRAILER_NAME, 0, b"");
        assert_eq!(parse(&bytes).unwrap()[0].data, b"\x01\x02");
        bytes[112] = 9; // the data follows "a\0" at once
        assert_eq!(parse(&bytes), Err(CpioError::BadChecksum { offset: 112 }));
    }

    #[test]
    fn refuses_a_file_size_past_the_end() {
        let mut bytes = archive(&[(b"a", 0o100644, b"")]);
        bytes[54..62].copy_from_slice(b"FFFFFFFF");
        let error = parse(&bytes).unwrap_err();
        assert_eq!(
            error,
            CpioError::Truncated {
                offset: 112,
                what: "file data"
            }
        );
    }
}
