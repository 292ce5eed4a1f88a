//! fs: files and directories by path, on top of the raw calls in [`crate::sys`].
//!
//! Paths are byte strings (`&[u8]`), as they come from [`crate::Args`]; each function
//! makes the NUL-terminated copy the kernel needs (an interior NUL is `EINVAL`). Errors
//! are the kernel's [`Errno`]s, unchanged, so a program can print `name: path: error`.
//!
//! * [`File`]: an open descriptor that closes itself when dropped;
//! * [`stat`], [`mkdir`], [`remove_file`], [`remove_dir`], [`chdir`], [`getcwd`];
//! * [`read_dir`]: the entries of a directory (from `getdents64`), `.` and `..` left out;
//! * [`join`], [`cstring`]: building paths.
//!
//! ```ignore
//! let file = File::create(b"/tmp/x")?;
//! file.write_all(b"hello\n")?;
//! for entry in fs::read_dir(b"/tmp")? { println!("{}", Lossy(&entry.name)); }
//! ```

use alloc::ffi::CString;
use alloc::vec::Vec;

use crate::sys::{self, Errno, Stat};

/// A NUL-terminated copy of `path`; `EINVAL` if it contains a NUL byte.
pub fn cstring(path: &[u8]) -> Result<CString, Errno> {
    CString::new(path).map_err(|_| Errno::EINVAL)
}

/// `dir/name`, without doubling a `/` that `dir` already ends with.
pub fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    let mut path = Vec::with_capacity(dir.len() + 1 + name.len());
    path.extend_from_slice(dir);
    if !dir.ends_with(b"/") {
        path.push(b'/');
    }
    path.extend_from_slice(name);
    path
}

/// An open file descriptor, closed when the `File` is dropped.
#[derive(Debug)]
pub struct File {
    fd: i32,
}

impl File {
    /// Opens `path` with `O_*` `flags` (`O_CLOEXEC` is always added) and `mode` for
    /// `O_CREAT`.
    pub fn open(path: &[u8], flags: i32, mode: u32) -> Result<File, Errno> {
        let path = cstring(path)?;
        let fd = sys::openat(sys::AT_FDCWD, &path, flags | sys::O_CLOEXEC, mode)?;
        Ok(File { fd: fd as i32 })
    }

    /// Opens `path` for reading.
    pub fn open_read(path: &[u8]) -> Result<File, Errno> {
        File::open(path, sys::O_RDONLY, 0)
    }

    /// Creates `path` (mode 0644) or truncates it, for writing.
    pub fn create(path: &[u8]) -> Result<File, Errno> {
        File::open(path, sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC, 0o644)
    }

    /// The descriptor, still owned by this `File`.
    pub fn fd(&self) -> i32 {
        self.fd
    }

    /// Reads up to `buf.len()` bytes; 0 at end of file.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        sys::read(self.fd, buf)
    }

    /// Reads the rest of the file into `buf`.
    pub fn read_to_end(&self, buf: &mut Vec<u8>) -> Result<usize, Errno> {
        crate::io::read_to_end(self.fd, buf)
    }

    /// Writes all of `bytes`.
    pub fn write_all(&self, bytes: &[u8]) -> Result<(), Errno> {
        crate::io::write_all(self.fd, bytes)
    }

    /// The file's status.
    pub fn stat(&self) -> Result<Stat, Errno> {
        let mut st = Stat::default();
        sys::fstat(self.fd, &mut st)?;
        Ok(st)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        let _ = sys::close(self.fd);
    }
}

/// Reads the whole file at `path`.
pub fn read(path: &[u8]) -> Result<Vec<u8>, Errno> {
    let mut bytes = Vec::new();
    File::open_read(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// The status of `path` (following symbolic links, like `stat(2)`).
pub fn stat(path: &[u8]) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    sys::newfstatat(sys::AT_FDCWD, &cstring(path)?, &mut st, 0)?;
    Ok(st)
}

/// Creates the directory `path` with permissions `mode` (like `0o755`).
pub fn mkdir(path: &[u8], mode: u32) -> Result<(), Errno> {
    sys::mkdirat(sys::AT_FDCWD, &cstring(path)?, mode).map(drop)
}

/// Removes the file `path` (not a directory: that is `EISDIR`).
pub fn remove_file(path: &[u8]) -> Result<(), Errno> {
    sys::unlinkat(sys::AT_FDCWD, &cstring(path)?, 0).map(drop)
}

/// Removes the empty directory `path`.
pub fn remove_dir(path: &[u8]) -> Result<(), Errno> {
    sys::unlinkat(sys::AT_FDCWD, &cstring(path)?, sys::AT_REMOVEDIR).map(drop)
}

/// Makes `path` the current directory.
pub fn chdir(path: &[u8]) -> Result<(), Errno> {
    sys::chdir(&cstring(path)?).map(drop)
}

/// The current directory, an absolute path.
pub fn getcwd() -> Result<Vec<u8>, Errno> {
    let mut buf = alloc::vec![0u8; 4096];
    let n = sys::getcwd(&mut buf)?;
    // Linux counts the NUL; stop at the first NUL in any case.
    let len = buf[..n].iter().position(|&b| b == 0).unwrap_or(n);
    buf.truncate(len);
    Ok(buf)
}

/// One entry of a directory, as [`read_dir`] returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirEntry {
    /// The name (no `/`).
    pub name: Vec<u8>,
    /// The type, a `DT_*` constant of [`crate::sys`] (`DT_UNKNOWN` if the kernel does
    /// not say).
    pub kind: u8,
    /// Inode number.
    pub ino: u64,
}

impl DirEntry {
    /// True if the kernel said this entry is a directory.
    pub fn is_dir(&self) -> bool {
        self.kind == sys::DT_DIR
    }
}

/// The entries of the directory `path` in the kernel's order, without `.` and `..`.
pub fn read_dir(path: &[u8]) -> Result<Vec<DirEntry>, Errno> {
    let dir = File::open(path, sys::O_RDONLY | sys::O_DIRECTORY, 0)?;
    let mut entries = Vec::new();
    let mut buf = [0u8; 2048];
    loop {
        let n = sys::getdents64(dir.fd(), &mut buf)?;
        if n == 0 {
            return Ok(entries);
        }
        for d in sys::Dirents::new(&buf[..n]) {
            if d.name != b"." && d.name != b".." {
                entries.push(DirEntry {
                    name: d.name.to_vec(),
                    kind: d.kind,
                    ino: d.ino,
                });
            }
        }
    }
}
