//! File contents in the in-memory file system: reading, writing and resizing bytes.
//!
//! A regular file's bytes are one `Vec<u8>` in its inode. [`RamFs::read`] and
//! [`RamFs::write`] work at a byte offset that the caller (an open file in `file.rs`)
//! keeps; this file only enforces the limits: [`MAX_FILE_SIZE`] per file (`EFBIG`) and
//! the capacity given to [`RamFs::with_capacity`] for all files together (`ENOSPC`).
//! Every change of length goes through one function, `set_len`, which keeps the
//! file system's byte count ([`RamFs::bytes_used`]) exact. The tree of names around
//! these bytes is `ramfs.rs`, the parent module.

use super::{Contents, Ino, RamFs, MAX_FILE_SIZE};
use crate::errno::Errno;

impl RamFs {
    /// Copy bytes of file `ino` from `offset` into `buf`; returns how many (0 at or
    /// after the end).
    ///
    /// # Errors
    /// `EISDIR` for a directory, `ENOENT` for a freed inode.
    pub fn read(&self, ino: Ino, offset: u64, buf: &mut [u8]) -> Result<usize, Errno> {
        let data = self.file_data(ino)?;
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(data.len());
        let count = buf.len().min(data.len() - start);
        buf[..count].copy_from_slice(&data[start..start + count]);
        Ok(count)
    }

    /// Write `data` into file `ino` at `offset`, extending it (a gap before `offset` is
    /// filled with zeros). Writes as much as the limits allow and returns how much.
    ///
    /// # Errors
    /// `EFBIG` if `offset` is at or past [`MAX_FILE_SIZE`], `ENOSPC` if the file system
    /// is full, `EISDIR` for a directory, `ENOENT` for a freed inode.
    pub fn write(&mut self, ino: Ino, offset: u64, data: &[u8]) -> Result<usize, Errno> {
        let old_len = self.file_data(ino)?.len() as u64;
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let wanted_end = offset.saturating_add(data.len() as u64).min(MAX_FILE_SIZE);
        let end = wanted_end.min(old_len + self.room());
        if end <= offset {
            return Err(Errno::ENOSPC);
        }
        self.set_len(ino, old_len.max(end))?;
        let (start, count) = (to_index(offset)?, to_index(end - offset)?);
        self.file_data_mut(ino)?[start..start + count].copy_from_slice(&data[..count]);
        Ok(count)
    }

    /// Cut file `ino` to `len` bytes, or extend it with zeros.
    ///
    /// # Errors
    /// `EFBIG` past [`MAX_FILE_SIZE`], `ENOSPC` if the file system is full, `EISDIR`
    /// for a directory, `ENOENT` for a freed inode.
    pub fn truncate(&mut self, ino: Ino, len: u64) -> Result<(), Errno> {
        let old_len = self.file_data(ino)?.len() as u64;
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if len > old_len + self.room() {
            return Err(Errno::ENOSPC);
        }
        self.set_len(ino, len)
    }

    /// Bytes that may still be added.
    fn room(&self) -> u64 {
        self.capacity.saturating_sub(self.used)
    }

    fn file_data(&self, ino: Ino) -> Result<&Vec<u8>, Errno> {
        match &self.node(ino)?.contents {
            Contents::File(data) => Ok(data),
            Contents::Dir { .. } => Err(Errno::EISDIR),
        }
    }

    fn file_data_mut(&mut self, ino: Ino) -> Result<&mut Vec<u8>, Errno> {
        match &mut self.node_mut(ino)?.contents {
            Contents::File(data) => Ok(data),
            Contents::Dir { .. } => Err(Errno::EISDIR),
        }
    }

    /// Resize a file, keeping `used` in step. The caller checked the limits.
    fn set_len(&mut self, ino: Ino, len: u64) -> Result<(), Errno> {
        let new_len = to_index(len)?;
        let data = self.file_data_mut(ino)?;
        let old_len = data.len() as u64;
        data.resize(new_len, 0);
        self.used = self.used - old_len + len;
        assert!(
            self.used <= self.capacity,
            "RamFs::set_len: capacity overrun"
        );
        Ok(())
    }
}

/// A file offset or length as an index into its bytes (always fits: files are small).
fn to_index(value: u64) -> Result<usize, Errno> {
    usize::try_from(value).map_err(|_| Errno::EFBIG)
}

#[cfg(test)]
mod tests {
    use super::super::ROOT_INO;
    use super::*;

    fn fs_with_file(capacity: u64) -> (RamFs, Ino) {
        let mut fs = RamFs::with_capacity(capacity);
        let file = fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        (fs, file)
    }

    fn contents(fs: &RamFs, file: Ino) -> Vec<u8> {
        let mut buf = [0xAA; 64];
        let count = fs.read(file, 0, &mut buf).unwrap();
        buf[..count].to_vec()
    }

    #[test]
    fn writes_extend_the_file_and_fill_holes_with_zeros() {
        let (mut fs, file) = fs_with_file(1000);
        assert_eq!(fs.write(file, 0, b"abc"), Ok(3));
        assert_eq!(fs.write(file, 5, b"xy"), Ok(2));
        assert_eq!(contents(&fs, file), b"abc\0\0xy");
        assert_eq!(fs.write(file, 1, b"B"), Ok(1));
        assert_eq!(contents(&fs, file), b"aBc\0\0xy");
        assert_eq!(fs.stat(file).unwrap().size, 7);
        assert_eq!(fs.bytes_used(), 7);
    }

    #[test]
    fn reads_stop_at_the_end() {
        let (mut fs, file) = fs_with_file(1000);
        fs.write(file, 0, b"hello").unwrap();
        let mut buf = [0; 3];
        assert_eq!(fs.read(file, 3, &mut buf), Ok(2));
        assert_eq!(&buf[..2], b"lo");
        assert_eq!(fs.read(file, 5, &mut buf), Ok(0));
        assert_eq!(fs.read(file, u64::MAX, &mut buf), Ok(0));
        assert_eq!(fs.read(file, 0, &mut []), Ok(0));
    }

    #[test]
    fn directories_and_missing_inodes_have_no_bytes() {
        let (mut fs, _) = fs_with_file(1000);
        assert_eq!(fs.read(ROOT_INO, 0, &mut [0; 4]), Err(Errno::EISDIR));
        assert_eq!(fs.write(ROOT_INO, 0, b"x"), Err(Errno::EISDIR));
        assert_eq!(fs.truncate(ROOT_INO, 0), Err(Errno::EISDIR));
        assert_eq!(fs.read(99, 0, &mut [0; 4]), Err(Errno::ENOENT));
        assert_eq!(fs.write(99, 0, b""), Err(Errno::ENOENT));
    }

    #[test]
    fn truncate_shrinks_and_grows() {
        let (mut fs, file) = fs_with_file(1000);
        fs.write(file, 0, b"abcdef").unwrap();
        assert_eq!(fs.truncate(file, 2), Ok(()));
        assert_eq!(contents(&fs, file), b"ab");
        assert_eq!(fs.truncate(file, 4), Ok(()));
        assert_eq!(contents(&fs, file), b"ab\0\0");
        assert_eq!(fs.bytes_used(), 4);
        assert_eq!(fs.truncate(file, MAX_FILE_SIZE + 1), Err(Errno::EFBIG));
        assert_eq!(fs.truncate(file, 1001), Err(Errno::ENOSPC));
    }

    #[test]
    fn a_file_stops_at_the_size_limit() {
        let (mut fs, file) = fs_with_file(MAX_FILE_SIZE);
        assert_eq!(fs.write(file, MAX_FILE_SIZE, b"x"), Err(Errno::EFBIG));
        assert_eq!(fs.write(file, u64::MAX, b"x"), Err(Errno::EFBIG));
        assert_eq!(fs.write(file, MAX_FILE_SIZE - 2, b"xyz"), Ok(2));
        assert_eq!(fs.stat(file).unwrap().size, MAX_FILE_SIZE);
        assert_eq!(fs.write(file, MAX_FILE_SIZE, b""), Ok(0));
    }

    #[test]
    fn the_file_system_stops_at_its_capacity() {
        let (mut fs, file) = fs_with_file(10);
        let other = fs.create_file(ROOT_INO, b"g", 0o644).unwrap();
        assert_eq!(fs.write(file, 0, b"12345678"), Ok(8));
        assert_eq!(fs.write(other, 0, b"abcde"), Ok(2));
        assert_eq!(fs.write(other, 2, b"c"), Err(Errno::ENOSPC));
        assert_eq!(
            fs.write(file, 0, b"overwrite"),
            Ok(8),
            "overwriting needs no room"
        );
        assert_eq!(fs.bytes_used(), 10);
        fs.truncate(file, 0).unwrap();
        assert_eq!(fs.write(other, 9, b"z"), Ok(1), "a hole takes room too");
        assert_eq!(fs.bytes_used(), 10);
    }
}
