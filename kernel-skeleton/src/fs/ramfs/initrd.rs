//! Building the in-memory file system from an initramfs (a cpio "newc" archive).
//!
//! The kernel receives its first programs as an archive. [`RamFs::from_cpio`] reads it
//! with `cpio.rs` (which checks every byte) and replays each entry with the ordinary
//! operations of `ramfs.rs` (`mkdir`, `create_file`, `write`), the way Linux's
//! `init/initramfs.c` does; [`RamFs::add_cpio`] does the same into an existing file
//! system. Only directories and regular files are kept: this file system has no
//! symbolic links, devices or FIFOs.

use super::{Ino, RamFs, DEFAULT_DIR_MODE, ROOT_INO};
use crate::errno::Errno;
use crate::fs::cpio::{self, CpioError};

impl RamFs {
    // ANCHOR: from-cpio
    /// A file system holding the directories and regular files of a newc archive
    /// (other entry types are skipped). Missing parent directories are created with
    /// mode 0o755; a later entry for an existing file replaces its contents.
    ///
    /// # Errors
    /// As [`RamFs::add_cpio`].
    pub fn from_cpio(bytes: &[u8]) -> Result<RamFs, CpioError> {
        let mut fs = RamFs::new();
        fs.add_cpio(bytes)?;
        Ok(fs)
    }
    // ANCHOR_END: from-cpio

    /// Add the directories and regular files of a newc archive to this file system,
    /// as [`RamFs::from_cpio`] does. Nothing is added if the archive is malformed; an
    /// entry that does not fit stops the unpacking, leaving the entries before it (and,
    /// for a new file too big for the room left, an empty file of its name).
    ///
    /// # Errors
    /// The archive's [`CpioError`], or [`CpioError::Conflict`] for an entry that does
    /// not fit the tree: a file where a directory is (`EISDIR`, `ENOTDIR`), a file over
    /// `MAX_FILE_SIZE` (`EFBIG`), or more bytes than the capacity (`ENOSPC`).
    pub fn add_cpio(&mut self, bytes: &[u8]) -> Result<(), CpioError> {
        for entry in cpio::parse(bytes)? {
            self.add_entry(&entry)
                .map_err(|errno| CpioError::Conflict {
                    name: String::from_utf8_lossy(entry.name).into_owned(),
                    errno,
                })?;
        }
        Ok(())
    }

    /// Add one archive entry, creating its parent directories.
    fn add_entry(&mut self, entry: &cpio::Entry<'_>) -> Result<(), Errno> {
        if !entry.is_dir() && !entry.is_regular() {
            return Ok(());
        }
        let mut dir = ROOT_INO;
        let mut components = entry.name.split(|&byte| byte == b'/').peekable();
        while let Some(name) = components.next() {
            if components.peek().is_some() {
                dir = self.lookup_or_mkdir(dir, name, DEFAULT_DIR_MODE)?;
            } else if entry.is_dir() {
                let ino = self.lookup_or_mkdir(dir, name, entry.permissions())?;
                self.node_mut(ino)?.mode = entry.permissions();
            } else {
                let ino = match self.lookup(dir, name) {
                    Err(Errno::ENOENT) => self.create_file(dir, name, entry.permissions())?,
                    found => found?,
                };
                self.replace_contents(ino, entry.data)?;
                self.node_mut(ino)?.mode = entry.permissions();
            }
        }
        Ok(())
    }

    /// Make `data` the whole contents of file `ino`.
    fn replace_contents(&mut self, ino: Ino, data: &[u8]) -> Result<(), Errno> {
        self.truncate(ino, data.len() as u64)?; // checks the limits before any write
        let written = self.write(ino, 0, data)?;
        assert_eq!(
            written,
            data.len(),
            "RamFs::replace_contents: the room was reserved"
        );
        Ok(())
    }

    /// The directory `name` in `dir`, made if missing.
    fn lookup_or_mkdir(&mut self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino, Errno> {
        match self.lookup(dir, name) {
            Err(Errno::ENOENT) => self.mkdir(dir, name, mode),
            Ok(ino) if !self.is_dir(ino) => Err(Errno::ENOTDIR),
            found => found,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::cpio::tests::archive;
    use crate::fs::ramfs::FileType;

    fn read_all(fs: &RamFs, path: &[u8]) -> Vec<u8> {
        let ino = fs.resolve(ROOT_INO, path).unwrap();
        let mut buf = [0; 64];
        let count = fs.read(ino, 0, &mut buf).unwrap();
        buf[..count].to_vec()
    }

    #[test]
    fn builds_a_tree_from_an_archive() {
        let bytes = archive(&[
            (b".", 0o040755, b""),
            (b"bin", 0o040700, b""),
            (b"bin/sh", 0o100755, b"#!sh"),
            (b"etc/motd", 0o100600, b"hi\n"),
            (b"lib", 0o120777, b"/usr/lib"),
        ]);
        let fs = RamFs::from_cpio(&bytes).unwrap();
        assert_eq!(read_all(&fs, b"/bin/sh"), b"#!sh");
        assert_eq!(read_all(&fs, b"etc/motd"), b"hi\n");
        let mode_of = |path: &[u8]| fs.stat(fs.resolve(ROOT_INO, path).unwrap()).unwrap().mode;
        assert_eq!(mode_of(b"bin"), 0o700);
        assert_eq!(mode_of(b"etc"), 0o755, "made on the way");
        assert_eq!(mode_of(b"etc/motd"), 0o600);
        assert_eq!(
            fs.resolve(ROOT_INO, b"lib"),
            Err(Errno::ENOENT),
            "symlinks are skipped"
        );
        assert_eq!(fs.inode_count(), 5);
        assert_eq!(fs.bytes_used(), 7);
        let (_, kind, name) = fs.read_dir(ROOT_INO, 2).unwrap().unwrap();
        assert_eq!((kind, name), (FileType::Directory, b"bin".to_vec()));
    }

    #[test]
    fn a_later_entry_replaces_a_file() {
        let bytes = archive(&[
            (b"f", 0o100644, b"first version"),
            (b"f", 0o100640, b"second"),
        ]);
        let fs = RamFs::from_cpio(&bytes).unwrap();
        assert_eq!(read_all(&fs, b"f"), b"second");
        assert_eq!(fs.bytes_used(), 6);
        assert_eq!(
            fs.stat(fs.resolve(ROOT_INO, b"f").unwrap()).unwrap().mode,
            0o640
        );
    }

    #[test]
    fn refuses_entries_that_do_not_fit_the_tree() {
        let below_a_file = archive(&[(b"a", 0o100644, b""), (b"a/b", 0o100644, b"")]);
        let error = CpioError::Conflict {
            name: "a/b".to_string(),
            errno: Errno::ENOTDIR,
        };
        assert_eq!(RamFs::from_cpio(&below_a_file).unwrap_err(), error);
        let file_over_dir = archive(&[(b"d", 0o040755, b""), (b"d", 0o100644, b"")]);
        let error = CpioError::Conflict {
            name: "d".to_string(),
            errno: Errno::EISDIR,
        };
        assert_eq!(RamFs::from_cpio(&file_over_dir).unwrap_err(), error);
        let dir_over_file = archive(&[(b"d", 0o100644, b""), (b"d", 0o040755, b"")]);
        assert!(RamFs::from_cpio(&dir_over_file).is_err());
    }

    #[test]
    fn refuses_files_that_do_not_fit_the_capacity() {
        let bytes = archive(&[(b"a", 0o100644, b"1234"), (b"b", 0o100644, b"56789")]);
        let mut fs = RamFs::with_capacity(8);
        let error = CpioError::Conflict {
            name: "b".to_string(),
            errno: Errno::ENOSPC,
        };
        assert_eq!(fs.add_cpio(&bytes), Err(error));
        assert_eq!(
            read_all(&fs, b"a"),
            b"1234",
            "entries before the failure stay"
        );
        let mut roomy = RamFs::with_capacity(9);
        assert_eq!(roomy.add_cpio(&bytes), Ok(()));
        assert_eq!(roomy.bytes_used(), 9);
    }

    #[test]
    fn passes_on_archive_errors() {
        let bytes = archive(&[(b"../escape", 0o100644, b"")]);
        assert!(matches!(
            RamFs::from_cpio(&bytes),
            Err(CpioError::BadName { .. })
        ));
        assert!(matches!(
            RamFs::from_cpio(b"junk"),
            Err(CpioError::Truncated { .. })
        ));
    }
}
