//! The in-memory file system: a tree of directories and files kept in kernel memory.
//!
//! A [`RamFs`] is a table of inodes, each a file (its bytes) or a directory (a sorted
//! map from names to inode numbers, plus its parent for `..`). Everything works on inode
//! numbers ([`Ino`]), which the system-call layer keeps in its open files (`file.rs`)
//! and as each process's working directory. This file holds the tree: the types,
//! lookups, creating and removing names, `stat` and directory listings. Its child
//! modules add the rest, each an `impl RamFs` block with its own tests:
//!
//! - `ramfs/path.rs`: [`RamFs::resolve`] and [`RamFs::resolve_parent`] (from paths to
//!   inodes) and [`RamFs::path_of`] (back, for `getcwd`);
//! - `ramfs/data.rs`: [`RamFs::read`], [`RamFs::write`] and [`RamFs::truncate`], the
//!   bytes of files and the size limits;
//! - `ramfs/lifetime.rs`: [`RamFs::open`] and [`RamFs::release`], so that a file
//!   unlinked while open lives until its last close, and the leak counters;
//! - `ramfs/initrd.rs`: [`RamFs::from_cpio`], the tree built from an initramfs.
//!
//! Inode numbers are never reused, so a stale number (a removed working directory, say)
//! gives `ENOENT`, never somebody else's file.
//!
//! Nothing here blocks or panics on bad input: each error is the `Errno` the matching
//! Linux system call returns.

mod data;
mod initrd;
mod lifetime;
mod path;

use std::collections::BTreeMap;

use crate::errno::Errno;

/// An inode number.
pub type Ino = u64;
/// The root directory's inode number.
pub const ROOT_INO: Ino = 1;
/// Longest name of one path component (Linux's `NAME_MAX`).
pub const NAME_MAX: usize = 255;
/// A path must be shorter than this, leaving room for its NUL (Linux's `PATH_MAX`).
pub const PATH_MAX: usize = 4096;
/// Largest size of one file: 64 MiB.
pub const MAX_FILE_SIZE: u64 = 64 << 20;
/// Total file bytes a [`RamFs::new`] may hold: 256 MiB.
pub const DEFAULT_CAPACITY: u64 = 256 << 20;
/// Permission bits of the directories `from_cpio` creates on the way.
pub const DEFAULT_DIR_MODE: u32 = 0o755;
/// Permission bits kept in [`Stat::mode`].
const PERMISSION_BITS: u32 = 0o7777;

/// What kind of object an inode is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A file of bytes.
    Regular,
    /// A directory.
    Directory,
    /// A character device (the console); never stored in a `RamFs`.
    CharDevice,
    /// A pipe; never stored in a `RamFs`.
    Fifo,
}

/// What `fstat` reports about an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Inode number.
    pub ino: Ino,
    /// Kind of object.
    pub kind: FileType,
    /// Bytes in a file; 0 for a directory.
    pub size: u64,
    /// Links: 1 for a file, 2 + subdirectories for a directory, 0 once removed.
    pub nlink: u32,
    /// Permission bits only (`0o7777`); `abi.rs` adds the type bits.
    pub mode: u32,
}

/// The contents of an inode.
#[derive(Debug)]
enum Contents {
    File(Vec<u8>),
    Dir {
        entries: BTreeMap<Vec<u8>, Ino>,
        parent: Ino,
        name: Vec<u8>,
    },
}

impl Contents {
    fn kind(&self) -> FileType {
        match self {
            Contents::File(_) => FileType::Regular,
            Contents::Dir { .. } => FileType::Directory,
        }
    }
}

/// One file or directory.
#[derive(Debug)]
struct Inode {
    contents: Contents,
    mode: u32,
    /// Whether a directory entry names it (the root always is).
    linked: bool,
    /// Open files using it, counted by `open` and `release`.
    opens: u32,
}

/// The in-memory file system.
#[derive(Debug)]
pub struct RamFs {
    inodes: BTreeMap<Ino, Inode>,
    next_ino: Ino,
    capacity: u64,
    used: u64,
}

impl Default for RamFs {
    fn default() -> Self {
        RamFs::new()
    }
}

impl RamFs {
    /// An empty file system (just the root) holding up to [`DEFAULT_CAPACITY`] bytes.
    pub fn new() -> RamFs {
        RamFs::with_capacity(DEFAULT_CAPACITY)
    }

    /// An empty file system whose files may hold `bytes` bytes in all.
    pub fn with_capacity(bytes: u64) -> RamFs {
        let root = Contents::Dir {
            entries: BTreeMap::new(),
            parent: ROOT_INO,
            name: Vec::new(),
        };
        let mut inodes = BTreeMap::new();
        inodes.insert(
            ROOT_INO,
            Inode {
                contents: root,
                mode: DEFAULT_DIR_MODE,
                linked: true,
                opens: 0,
            },
        );
        RamFs {
            inodes,
            next_ino: ROOT_INO + 1,
            capacity: bytes,
            used: 0,
        }
    }

    /// The inode named `name` in directory `dir`; `.` is `dir` and `..` its parent.
    ///
    /// # Errors
    /// `ENOENT` if `name` is missing or empty or `dir` was removed, `ENOTDIR` if `dir`
    /// is not a directory, `ENAMETOOLONG`, `EINVAL` for a name holding `/` or NUL.
    pub fn lookup(&self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        check_name(name)?;
        let (entries, parent) = self.live_dir(dir)?;
        match name {
            b"." => Ok(dir),
            b".." => Ok(parent),
            _ => entries.get(name).copied().ok_or(Errno::ENOENT),
        }
    }

    /// Create an empty regular file `name` in `dir` with permission bits `mode`.
    ///
    /// # Errors
    /// `EEXIST` if the name is taken (`.` and `..` always are), and the errors of
    /// [`RamFs::lookup`] about `dir` and `name`.
    pub fn create_file(&mut self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino, Errno> {
        self.check_free_name(dir, name)?;
        Ok(self.add_inode(dir, name, Contents::File(Vec::new()), mode))
    }

    /// Create an empty directory `name` in `dir` with permission bits `mode`.
    ///
    /// # Errors
    /// As [`RamFs::create_file`].
    pub fn mkdir(&mut self, dir: Ino, name: &[u8], mode: u32) -> Result<Ino, Errno> {
        self.check_free_name(dir, name)?;
        let contents = Contents::Dir {
            entries: BTreeMap::new(),
            parent: dir,
            name: name.to_vec(),
        };
        Ok(self.add_inode(dir, name, contents, mode))
    }

    /// Remove the file `name` from `dir`. Its bytes stay while it is open.
    ///
    /// # Errors
    /// `EISDIR` if it is a directory, and the errors of [`RamFs::lookup`].
    pub fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        let ino = self.lookup(dir, name)?;
        if self.is_dir(ino) {
            return Err(Errno::EISDIR);
        }
        self.unlink_entry(dir, name, ino);
        Ok(())
    }

    /// Remove the empty directory `name` from `dir`.
    ///
    /// # Errors
    /// `ENOTDIR` if it is a file, `EBUSY` for the root, `EINVAL` for `.`,
    /// `ENOTEMPTY` if it has entries (and for `..`), and the errors of [`RamFs::lookup`].
    pub fn rmdir(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        let ino = self.lookup(dir, name)?;
        let (entries, _) = self.live_dir(ino)?;
        if ino == ROOT_INO {
            return Err(Errno::EBUSY);
        }
        match name {
            b"." => Err(Errno::EINVAL),
            b".." => Err(Errno::ENOTEMPTY),
            _ if !entries.is_empty() => Err(Errno::ENOTEMPTY),
            _ => {
                self.unlink_entry(dir, name, ino);
                Ok(())
            }
        }
    }

    /// What `fstat` says about `ino`.
    ///
    /// # Errors
    /// `ENOENT` for an inode that does not exist (or was freed).
    pub fn stat(&self, ino: Ino) -> Result<Stat, Errno> {
        let node = self.node(ino)?;
        let (size, links) = match &node.contents {
            Contents::File(data) => (data.len() as u64, 1),
            Contents::Dir { entries, .. } => {
                let subdirs = entries.values().filter(|&&child| self.is_dir(child));
                (
                    0,
                    2u32.saturating_add(u32::try_from(subdirs.count()).unwrap_or(u32::MAX)),
                )
            }
        };
        let nlink = if node.linked { links } else { 0 };
        Ok(Stat {
            ino,
            kind: node.contents.kind(),
            size,
            nlink,
            mode: node.mode,
        })
    }

    /// Entry `index` of directory `ino`: 0 is `.`, 1 is `..`, then the entries in name
    /// order; `None` past the last. Returns the entry's inode, type and name.
    ///
    /// # Errors
    /// `ENOTDIR` for a file, `ENOENT` for a removed directory.
    pub fn read_dir(
        &self,
        ino: Ino,
        index: usize,
    ) -> Result<Option<(Ino, FileType, Vec<u8>)>, Errno> {
        let (entries, parent) = self.live_dir(ino)?;
        let (child, name) = match index {
            0 => (ino, &b"."[..]),
            1 => (parent, &b".."[..]),
            _ => match entries.iter().nth(index - 2) {
                Some((name, &child)) => (child, name.as_slice()),
                None => return Ok(None),
            },
        };
        Ok(Some((
            child,
            self.node(child)?.contents.kind(),
            name.to_vec(),
        )))
    }

    /// Whether `ino` exists and is a directory.
    pub fn is_dir(&self, ino: Ino) -> bool {
        self.node(ino)
            .is_ok_and(|node| node.contents.kind() == FileType::Directory)
    }

    fn node(&self, ino: Ino) -> Result<&Inode, Errno> {
        self.inodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: Ino) -> Result<&mut Inode, Errno> {
        self.inodes.get_mut(&ino).ok_or(Errno::ENOENT)
    }

    /// The entries and parent of a directory that is still linked.
    fn live_dir(&self, ino: Ino) -> Result<(&BTreeMap<Vec<u8>, Ino>, Ino), Errno> {
        let node = self.node(ino)?;
        match &node.contents {
            Contents::Dir { .. } if !node.linked => Err(Errno::ENOENT),
            Contents::Dir {
                entries, parent, ..
            } => Ok((entries, *parent)),
            Contents::File(_) => Err(Errno::ENOTDIR),
        }
    }

    /// Check that `name` can be added to `dir`.
    fn check_free_name(&self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        check_name(name)?; // so that ENOENT below means "no such entry" or "no such dir"
        match self.lookup(dir, name) {
            Ok(_) => Err(Errno::EEXIST),
            Err(Errno::ENOENT) => self.live_dir(dir).map(|_| ()),
            Err(error) => Err(error),
        }
    }

    /// Make a new inode and link it as `name` in `dir` (both checked by the caller).
    fn add_inode(&mut self, dir: Ino, name: &[u8], contents: Contents, mode: u32) -> Ino {
        let ino = self.next_ino;
        self.next_ino += 1;
        let node = Inode {
            contents,
            mode: mode & PERMISSION_BITS,
            linked: true,
            opens: 0,
        };
        self.inodes.insert(ino, node);
        match self.inodes.get_mut(&dir).map(|node| &mut node.contents) {
            Some(Contents::Dir { entries, .. }) => entries.insert(name.to_vec(), ino),
            _ => panic!("RamFs::add_inode: inode {dir} is not a directory"),
        };
        ino
    }

    /// Remove `name` (inode `ino`) from `dir`, freeing the inode unless it is open.
    fn unlink_entry(&mut self, dir: Ino, name: &[u8], ino: Ino) {
        let removed = match self.inodes.get_mut(&dir).map(|node| &mut node.contents) {
            Some(Contents::Dir { entries, .. }) => entries.remove(name),
            _ => None,
        };
        assert_eq!(
            removed,
            Some(ino),
            "RamFs::unlink_entry: {dir} does not link {ino}"
        );
        if let Some(node) = self.inodes.get_mut(&ino) {
            node.linked = false;
        }
        self.free_if_unused(ino);
    }
}

/// Check one component: not empty, short enough, no `/` or NUL.
fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() {
        Err(Errno::ENOENT)
    } else if name.len() > NAME_MAX {
        Err(Errno::ENAMETOOLONG)
    } else if name.contains(&b'/') || name.contains(&0) {
        Err(Errno::EINVAL)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(fs: &RamFs, dir: Ino) -> Vec<Vec<u8>> {
        (0..)
            .map_while(|index| fs.read_dir(dir, index).unwrap())
            .map(|entry| entry.2)
            .collect()
    }

    #[test]
    fn a_new_file_system_holds_only_the_root() {
        let fs = RamFs::new();
        let root = Stat {
            ino: ROOT_INO,
            kind: FileType::Directory,
            size: 0,
            nlink: 2,
            mode: 0o755,
        };
        assert_eq!(fs.stat(ROOT_INO), Ok(root));
        assert_eq!((fs.inode_count(), fs.bytes_used()), (1, 0));
        assert_eq!(names(&fs, ROOT_INO), [&b"."[..], b".."]);
        assert_eq!(fs.lookup(ROOT_INO, b".."), Ok(ROOT_INO));
    }

    #[test]
    fn builds_a_tree() {
        let mut fs = RamFs::new();
        let etc = fs.mkdir(ROOT_INO, b"etc", 0o40700).unwrap();
        let motd = fs.create_file(etc, b"motd", 0o100640).unwrap();
        let sub = fs.mkdir(etc, b"sub", 0o755).unwrap();
        assert_eq!(fs.lookup(etc, b"motd"), Ok(motd));
        assert_eq!(fs.lookup(sub, b".."), Ok(etc));
        assert_eq!(fs.stat(etc).unwrap().mode, 0o700, "type bits dropped");
        assert_eq!(fs.stat(etc).unwrap().nlink, 3);
        assert_eq!(fs.stat(ROOT_INO).unwrap().nlink, 3);
        let file = Stat {
            ino: motd,
            kind: FileType::Regular,
            size: 0,
            nlink: 1,
            mode: 0o640,
        };
        assert_eq!(fs.stat(motd), Ok(file));
        assert!(fs.is_dir(sub) && !fs.is_dir(motd) && !fs.is_dir(99));
    }

    #[test]
    fn lists_a_directory_in_name_order() {
        let mut fs = RamFs::new();
        let dir = fs.mkdir(ROOT_INO, b"d", 0o755).unwrap();
        let b = fs.create_file(dir, b"b", 0o644).unwrap();
        fs.mkdir(dir, b"a", 0o755).unwrap();
        fs.create_file(dir, b"c", 0o644).unwrap();
        assert_eq!(names(&fs, dir), [&b"."[..], b"..", b"a", b"b", b"c"]);
        assert_eq!(
            fs.read_dir(dir, 1),
            Ok(Some((ROOT_INO, FileType::Directory, b"..".to_vec())))
        );
        assert_eq!(
            fs.read_dir(dir, 3),
            Ok(Some((b, FileType::Regular, b"b".to_vec())))
        );
        assert_eq!(fs.read_dir(dir, 5), Ok(None));
        assert_eq!(fs.read_dir(b, 0), Err(Errno::ENOTDIR));
        assert_eq!(fs.read_dir(99, 0), Err(Errno::ENOENT));
    }

    #[test]
    fn create_and_lookup_report_each_error() {
        let mut fs = RamFs::new();
        let file = fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        assert_eq!(fs.create_file(ROOT_INO, b"f", 0o644), Err(Errno::EEXIST));
        assert_eq!(fs.mkdir(ROOT_INO, b"f", 0o755), Err(Errno::EEXIST));
        assert_eq!(fs.mkdir(ROOT_INO, b".", 0o755), Err(Errno::EEXIST));
        assert_eq!(fs.create_file(ROOT_INO, b"..", 0o644), Err(Errno::EEXIST));
        assert_eq!(fs.create_file(file, b"x", 0o644), Err(Errno::ENOTDIR));
        assert_eq!(fs.create_file(99, b"x", 0o644), Err(Errno::ENOENT));
        assert_eq!(fs.create_file(ROOT_INO, b"", 0o644), Err(Errno::ENOENT));
        assert_eq!(
            fs.create_file(ROOT_INO, &[b'x'; 256], 0o644),
            Err(Errno::ENAMETOOLONG)
        );
        assert!(fs.create_file(ROOT_INO, &[b'x'; 255], 0o644).is_ok());
        assert_eq!(fs.mkdir(ROOT_INO, b"a/b", 0o755), Err(Errno::EINVAL));
        assert_eq!(fs.lookup(ROOT_INO, b"nope"), Err(Errno::ENOENT));
        assert_eq!(fs.lookup(file, b"x"), Err(Errno::ENOTDIR));
    }

    #[test]
    fn unlink_removes_files_only() {
        let mut fs = RamFs::new();
        fs.mkdir(ROOT_INO, b"d", 0o755).unwrap();
        let file = fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        assert_eq!(fs.unlink(ROOT_INO, b"d"), Err(Errno::EISDIR));
        assert_eq!(fs.unlink(ROOT_INO, b"."), Err(Errno::EISDIR));
        assert_eq!(fs.unlink(ROOT_INO, b"nope"), Err(Errno::ENOENT));
        assert_eq!(fs.unlink(ROOT_INO, b"f"), Ok(()));
        assert_eq!(fs.lookup(ROOT_INO, b"f"), Err(Errno::ENOENT));
        assert_eq!(
            fs.stat(file),
            Err(Errno::ENOENT),
            "freed: nothing had it open"
        );
        assert_eq!(fs.inode_count(), 2);
    }

    #[test]
    fn rmdir_removes_empty_directories_only() {
        let mut fs = RamFs::new();
        let dir = fs.mkdir(ROOT_INO, b"d", 0o755).unwrap();
        let sub = fs.mkdir(dir, b"sub", 0o755).unwrap();
        fs.create_file(ROOT_INO, b"f", 0o644).unwrap();
        assert_eq!(fs.rmdir(ROOT_INO, b"f"), Err(Errno::ENOTDIR));
        assert_eq!(fs.rmdir(ROOT_INO, b"d"), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.rmdir(sub, b"."), Err(Errno::EINVAL));
        assert_eq!(fs.rmdir(sub, b".."), Err(Errno::ENOTEMPTY));
        assert_eq!(fs.rmdir(ROOT_INO, b".."), Err(Errno::EBUSY));
        assert_eq!(fs.rmdir(ROOT_INO, b"."), Err(Errno::EBUSY));
        assert_eq!(fs.rmdir(ROOT_INO, b"nope"), Err(Errno::ENOENT));
        assert_eq!(fs.rmdir(dir, b"sub"), Ok(()));
        assert_eq!(fs.stat(dir).unwrap().nlink, 2);
        assert_eq!(fs.rmdir(ROOT_INO, b"d"), Ok(()));
        assert_eq!(fs.stat(ROOT_INO).unwrap().nlink, 2);
        assert_eq!(fs.inode_count(), 2);
    }
}
