//! Path walking for the in-memory file system: from a path to an inode, and back.
//!
//! [`RamFs::resolve`] turns a path, absolute or relative to a working directory, into an
//! inode number, one component at a time with [`RamFs::lookup`]. [`RamFs::resolve_parent`]
//! stops one step short, for the system calls that create or remove a name (`openat`
//! with `O_CREAT`, `mkdirat`, `unlinkat`); Linux calls this walk "namei".
//! [`RamFs::path_of`] goes the other way, from a directory up to the root, for `getcwd`.
//! This file only walks the tree; the tree itself is `ramfs.rs`, its parent module.

use super::{Contents, Ino, RamFs, NAME_MAX, PATH_MAX, ROOT_INO};
use crate::errno::Errno;

impl RamFs {
    /// Walk `path` from the root (when it starts with `/`) or from `cwd`. Handles `.`,
    /// `..` (which stays at the root) and repeated slashes; a trailing slash requires a
    /// directory.
    ///
    /// # Errors
    /// `ENOENT` for an empty path or a missing component (or a removed `cwd`),
    /// `ENOTDIR` when a component that must be a directory is not, `ENAMETOOLONG`
    /// for a component over [`NAME_MAX`] bytes or a path of [`PATH_MAX`] bytes or more.
    pub fn resolve(&self, cwd: Ino, path: &[u8]) -> Result<Ino, Errno> {
        check_path(path)?;
        let mut ino = if path.starts_with(b"/") {
            ROOT_INO
        } else {
            cwd
        };
        for name in path
            .split(|&byte| byte == b'/')
            .filter(|name| !name.is_empty())
        {
            ino = self.lookup(ino, name)?;
        }
        if path.ends_with(b"/") && !self.is_dir(ino) {
            return Err(Errno::ENOTDIR);
        }
        Ok(ino)
    }

    /// Split `path` into the directory holding its last component, and that component:
    /// `"a/b/"` gives (`a`, `"b"`), `"f"` gives (`cwd`, `"f"`), and `"/"` gives the
    /// root and `"."`. The last component need not exist. Trailing slashes are dropped:
    /// refusing `unlink("file/")` (`ENOTDIR` in Linux) is the caller's choice.
    ///
    /// # Errors
    /// As [`RamFs::resolve`], for the directory part and the last component's length.
    pub fn resolve_parent(&self, cwd: Ino, path: &[u8]) -> Result<(Ino, Vec<u8>), Errno> {
        check_path(path)?;
        let trimmed = trim_trailing_slashes(path);
        if trimmed.is_empty() {
            return Ok((ROOT_INO, b".".to_vec())); // only slashes: the root itself
        }
        let (dir_path, last) = match trimmed.iter().rposition(|&byte| byte == b'/') {
            Some(slash) => (&trimmed[..=slash], &trimmed[slash + 1..]),
            None => (&b"."[..], trimmed),
        };
        if last.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        Ok((self.resolve(cwd, dir_path)?, last.to_vec()))
    }

    /// The absolute path of directory `ino` (for `getcwd`); `None` if it is not a
    /// directory or was removed.
    pub fn path_of(&self, ino: Ino) -> Option<Vec<u8>> {
        let mut names = Vec::new();
        let mut current = ino;
        while current != ROOT_INO {
            let node = self.node(current).ok().filter(|node| node.linked)?;
            let Contents::Dir { parent, name, .. } = &node.contents else {
                return None;
            };
            assert!(
                names.len() < self.inodes.len(),
                "RamFs::path_of: a cycle of parents at {ino}"
            );
            names.push(name.as_slice());
            current = *parent;
        }
        let mut path = Vec::new();
        for name in names.iter().rev() {
            path.push(b'/');
            path.extend_from_slice(name);
        }
        Some(if path.is_empty() { b"/".to_vec() } else { path })
    }
}

/// `path` without its trailing slashes.
fn trim_trailing_slashes(path: &[u8]) -> &[u8] {
    let end = path
        .iter()
        .rposition(|&byte| byte != b'/')
        .map_or(0, |last| last + 1);
    &path[..end]
}

/// Check a whole path's length.
fn check_path(path: &[u8]) -> Result<(), Errno> {
    match path.len() {
        0 => Err(Errno::ENOENT),
        len if len >= PATH_MAX => Err(Errno::ENAMETOOLONG),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `/a/b/f` with `f` a file; returns the file system and the inodes of a, b and f.
    fn tree() -> (RamFs, Ino, Ino, Ino) {
        let mut fs = RamFs::new();
        let a = fs.mkdir(ROOT_INO, b"a", 0o755).unwrap();
        let b = fs.mkdir(a, b"b", 0o755).unwrap();
        let f = fs.create_file(b, b"f", 0o644).unwrap();
        (fs, a, b, f)
    }

    #[test]
    fn resolves_absolute_and_relative_paths() {
        let (fs, a, b, f) = tree();
        assert_eq!(fs.resolve(ROOT_INO, b"/a/b/f"), Ok(f));
        assert_eq!(fs.resolve(ROOT_INO, b"a/./b/../b/f"), Ok(f));
        assert_eq!(fs.resolve(ROOT_INO, b"//a///b//"), Ok(b));
        assert_eq!(fs.resolve(b, b"f"), Ok(f));
        assert_eq!(fs.resolve(b, b".."), Ok(a));
        assert_eq!(fs.resolve(b, b"."), Ok(b));
        assert_eq!(fs.resolve(b, b"/"), Ok(ROOT_INO));
    }

    #[test]
    fn dot_dot_at_the_root_stays_at_the_root() {
        let (fs, a, _, _) = tree();
        assert_eq!(fs.resolve(ROOT_INO, b".."), Ok(ROOT_INO));
        assert_eq!(fs.resolve(a, b"../../../.."), Ok(ROOT_INO));
        assert_eq!(fs.resolve(ROOT_INO, b"/../a"), Ok(a));
    }

    #[test]
    fn resolve_reports_each_error() {
        let (fs, _, b, f) = tree();
        assert_eq!(fs.resolve(ROOT_INO, b""), Err(Errno::ENOENT));
        assert_eq!(fs.resolve(ROOT_INO, b"/nope"), Err(Errno::ENOENT));
        assert_eq!(fs.resolve(ROOT_INO, b"/a/nope/f"), Err(Errno::ENOENT));
        assert_eq!(fs.resolve(ROOT_INO, b"/a/b/f/x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.resolve(ROOT_INO, b"/a/b/f/"), Err(Errno::ENOTDIR));
        assert_eq!(fs.resolve(f, b"x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.resolve(99, b"x"), Err(Errno::ENOENT));
        assert_eq!(fs.resolve(b, &[b'x'; 256]), Err(Errno::ENAMETOOLONG));
        assert_eq!(fs.resolve(b, &[b'/'; 4096]), Err(Errno::ENAMETOOLONG));
        assert_eq!(fs.resolve(b, &[b'/'; 4095]), Ok(ROOT_INO));
    }

    #[test]
    fn resolve_parent_splits_off_the_last_component() {
        let (fs, a, b, _) = tree();
        assert_eq!(fs.resolve_parent(ROOT_INO, b"a/b/"), Ok((a, b"b".to_vec())));
        assert_eq!(fs.resolve_parent(b, b"new"), Ok((b, b"new".to_vec())));
        assert_eq!(fs.resolve_parent(b, b"../x//"), Ok((a, b"x".to_vec())));
        assert_eq!(
            fs.resolve_parent(b, b"/top"),
            Ok((ROOT_INO, b"top".to_vec()))
        );
        assert_eq!(fs.resolve_parent(b, b"//"), Ok((ROOT_INO, b".".to_vec())));
        assert_eq!(fs.resolve_parent(b, b".."), Ok((b, b"..".to_vec())));
    }

    #[test]
    fn path_of_climbs_to_the_root() {
        let (fs, a, b, f) = tree();
        assert_eq!(fs.path_of(ROOT_INO), Some(b"/".to_vec()));
        assert_eq!(fs.path_of(a), Some(b"/a".to_vec()));
        assert_eq!(fs.path_of(b), Some(b"/a/b".to_vec()));
        assert_eq!(fs.path_of(f), None, "not a directory");
        assert_eq!(fs.path_of(99), None);
    }

    #[test]
    fn resolve_parent_reports_each_error() {
        let (fs, _, b, f) = tree();
        assert_eq!(fs.resolve_parent(b, b""), Err(Errno::ENOENT));
        assert_eq!(fs.resolve_parent(b, b"nope/x"), Err(Errno::ENOENT));
        assert_eq!(fs.resolve_parent(b, b"f/x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.resolve_parent(f, b"x"), Err(Errno::ENOTDIR));
        assert_eq!(fs.resolve_parent(b, &[b'x'; 256]), Err(Errno::ENAMETOOLONG));
    }
}
