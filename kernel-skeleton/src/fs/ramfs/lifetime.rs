//! Inode lifetimes in the in-memory file system: links, opens, and freeing.
//!
//! An inode is alive while a directory entry names it (`linked`) or an open file uses
//! it (`opens` > 0). Unlinking clears the first, [`RamFs::release`] lowers the second,
//! and whichever comes last frees the inode and returns its bytes to the pool, the way
//! Linux keeps an unlinked file until its last `close`. So a program may create a
//! temporary file, unlink it at once and keep using it; the space comes back when it
//! exits. The system-call layer calls [`RamFs::open`] when it makes an open file for an
//! inode and [`RamFs::release`] when the last reference to that open file goes
//! (`file.rs`'s `drop_reference` says when). [`RamFs::inode_count`] and
//! [`RamFs::bytes_used`] let the kernel check that nothing leaks.

use super::{Contents, Ino, Inode, RamFs};
use crate::errno::Errno;

impl RamFs {
    /// Count one more open file using `ino`.
    ///
    /// # Errors
    /// `ENOENT` if it does not exist, `ENFILE` if its count would overflow.
    pub fn open(&mut self, ino: Ino) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        node.opens = node.opens.checked_add(1).ok_or(Errno::ENFILE)?;
        Ok(())
    }

    /// Count one open file fewer using `ino`, freeing it if it is also unlinked.
    ///
    /// # Errors
    /// `ENOENT` if it does not exist, `EINVAL` if it was not open (a caller's bug).
    pub fn release(&mut self, ino: Ino) -> Result<(), Errno> {
        let node = self.node_mut(ino)?;
        node.opens = node.opens.checked_sub(1).ok_or(Errno::EINVAL)?;
        self.free_if_unused(ino);
        Ok(())
    }

    /// Inodes alive, the root included.
    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    /// File bytes held, unlinked-but-open files included.
    pub fn bytes_used(&self) -> u64 {
        self.used
    }

    /// Drop an inode nobody links or opens, returning its bytes to the pool.
    pub(super) fn free_if_unused(&mut self, ino: Ino) {
        let unused = |node: &Inode| !node.linked && node.opens == 0;
        if !self.inodes.get(&ino).is_some_and(unused) {
            return;
        }
        if let Some(Contents::File(data)) = self.inodes.remove(&ino).map(|node| node.contents) {
            self.used -= data.len() as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ROOT_INO;
    use super::*;

    #[test]
    fn an_unlinked_file_lives_until_its_last_release() {
        let mut fs = RamFs::new();
        let file = fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        fs.write(file, 0, b"data").unwrap();
        fs.open(file).unwrap();
        fs.open(file).unwrap();
        fs.unlink(ROOT_INO, b"f").unwrap();
        assert_eq!(fs.stat(file).unwrap().nlink, 0);
        assert_eq!(fs.write(file, 4, b"!"), Ok(1));
        let mut buf = [0; 8];
        assert_eq!(fs.read(file, 0, &mut buf), Ok(5));
        assert_eq!(&buf[..5], b"data!");
        fs.release(file).unwrap();
        assert_eq!((fs.inode_count(), fs.bytes_used()), (2, 5));
        fs.release(file).unwrap();
        assert_eq!((fs.inode_count(), fs.bytes_used()), (1, 0));
        assert_eq!(fs.read(file, 0, &mut buf), Err(Errno::ENOENT));
        assert_eq!(fs.release(file), Err(Errno::ENOENT));
    }

    #[test]
    fn release_refuses_an_inode_that_is_not_open() {
        let mut fs = RamFs::new();
        let file = fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        assert_eq!(fs.release(file), Err(Errno::EINVAL));
        assert_eq!(fs.open(99), Err(Errno::ENOENT));
    }

    #[test]
    fn a_removed_directory_accepts_nothing_new() {
        let mut fs = RamFs::new();
        let dir = fs.mkdir(ROOT_INO, b"d", 0o755).unwrap();
        fs.open(dir).unwrap();
        fs.rmdir(ROOT_INO, b"d").unwrap();
        assert_eq!(fs.create_file(dir, b"x", 0o644), Err(Errno::ENOENT));
        assert_eq!(fs.mkdir(dir, b"x", 0o755), Err(Errno::ENOENT));
        assert_eq!(fs.resolve(dir, b"."), Err(Errno::ENOENT));
        assert_eq!(fs.read_dir(dir, 0), Err(Errno::ENOENT));
        assert_eq!(fs.path_of(dir), None);
        assert_eq!(fs.stat(dir).unwrap().nlink, 0);
        fs.release(dir).unwrap();
        assert_eq!(fs.inode_count(), 1);
    }

    #[test]
    fn inode_numbers_are_never_reused() {
        let mut fs = RamFs::new();
        let first = fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        fs.unlink(ROOT_INO, b"f").unwrap();
        let second = fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        assert!(second > first);
    }
}
