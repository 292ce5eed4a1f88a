//! fs: system calls on files and file descriptors (read, write, open, directories, pipes).
//!
//! Every wrapper returns the kernel's result as `Result<usize, Errno>` (a byte count, a
//! new descriptor, or 0). Paths are `&CStr` (`c"/etc/motd"` literals), since the kernel
//! wants NUL-terminated strings. All are safe except [`ioctl`], whose argument may be a
//! pointer. Part of [`crate::sys`], which re-exports everything here; printing in
//! [`crate::io`] is built on [`write()`].
//!
//! ```ignore
//! let fd = sys::openat(sys::AT_FDCWD, c"/etc/motd", sys::O_RDONLY, 0)? as i32;
//! let mut buf = [0u8; 512];
//! let n = sys::read(fd, &mut buf)?;
//! sys::close(fd)?;
//! ```

use core::ffi::CStr;
use core::marker::PhantomData;

use super::{check, nr, syscall1, syscall2, syscall3, syscall4, Errno};

/// `dirfd` meaning "relative to the current directory" for the `*at` calls.
pub const AT_FDCWD: i32 = -100;
/// [`unlinkat`] flag: remove a directory (like `rmdir`).
pub const AT_REMOVEDIR: i32 = 0x200;
/// [`newfstatat`] flag: do not follow a final symbolic link.
pub const AT_SYMLINK_NOFOLLOW: i32 = 0x100;
/// [`newfstatat`] flag: an empty `path` means `dirfd` itself (like [`fstat`]).
pub const AT_EMPTY_PATH: i32 = 0x1000;

/// Open for reading only.
pub const O_RDONLY: i32 = 0;
/// Open for writing only.
pub const O_WRONLY: i32 = 0o1;
/// Open for reading and writing.
pub const O_RDWR: i32 = 0o2;
/// Create the file if it does not exist (uses `mode`).
pub const O_CREAT: i32 = 0o100;
/// With `O_CREAT`: fail with `EEXIST` if the file exists.
pub const O_EXCL: i32 = 0o200;
/// Truncate to length 0.
pub const O_TRUNC: i32 = 0o1000;
/// Every write goes to the end of the file.
pub const O_APPEND: i32 = 0o2000;
/// Non-blocking I/O.
pub const O_NONBLOCK: i32 = 0o4000;
/// Fail with `ENOTDIR` unless the path is a directory.
pub const O_DIRECTORY: i32 = 0o200000;
/// Close the descriptor on `execve`.
pub const O_CLOEXEC: i32 = 0o2000000;

/// [`lseek`]: from the start of the file.
pub const SEEK_SET: i32 = 0;
/// [`lseek`]: from the current offset.
pub const SEEK_CUR: i32 = 1;
/// [`lseek`]: from the end of the file.
pub const SEEK_END: i32 = 2;

/// Reads up to `buf.len()` bytes from `fd`; `Ok(0)` is end of file.
pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`, which we borrow
    // mutably for the duration of the call.
    check(unsafe { syscall3(nr::READ, fd as usize, buf.as_mut_ptr() as usize, buf.len()) })
}

/// Writes up to `buf.len()` bytes to `fd`; may write fewer (a short write).
pub fn write(fd: i32, buf: &[u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel only reads `buf.len()` bytes from `buf`.
    check(unsafe { syscall3(nr::WRITE, fd as usize, buf.as_ptr() as usize, buf.len()) })
}

/// Opens `path` relative to `dirfd` (or [`AT_FDCWD`]) with `O_*` `flags`; returns the
/// new descriptor. `mode` (like `0o644`) matters only with [`O_CREAT`].
pub fn openat(dirfd: i32, path: &CStr, flags: i32, mode: u32) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated and only read.
    check(unsafe {
        syscall4(
            nr::OPENAT,
            dirfd as usize,
            path.as_ptr() as usize,
            flags as usize,
            mode as usize,
        )
    })
}

/// Closes `fd`.
pub fn close(fd: i32) -> Result<usize, Errno> {
    // SAFETY: closing a descriptor touches no memory.
    check(unsafe { syscall1(nr::CLOSE, fd as usize) })
}

/// Moves `fd`'s offset (`whence` is a `SEEK_*`); returns the new offset.
pub fn lseek(fd: i32, offset: i64, whence: i32) -> Result<usize, Errno> {
    // SAFETY: touches no memory.
    check(unsafe { syscall3(nr::LSEEK, fd as usize, offset as usize, whence as usize) })
}

/// The kernel's `struct stat` on x86-64 (144 bytes), filled by [`fstat`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    /// Device holding the file.
    pub st_dev: u64,
    /// Inode number.
    pub st_ino: u64,
    /// Number of hard links.
    pub st_nlink: u64,
    /// File type (`S_IF*`) and permission bits.
    pub st_mode: u32,
    /// Owner.
    pub st_uid: u32,
    /// Group.
    pub st_gid: u32,
    /// Padding (the kernel's `__pad0`).
    pub pad0: u32,
    /// Device number, for device files.
    pub st_rdev: u64,
    /// Size in bytes.
    pub st_size: i64,
    /// Preferred I/O block size.
    pub st_blksize: i64,
    /// Number of 512-byte blocks allocated.
    pub st_blocks: i64,
    /// Last access, seconds.
    pub st_atime: i64,
    /// Last access, nanoseconds.
    pub st_atime_nsec: i64,
    /// Last modification, seconds.
    pub st_mtime: i64,
    /// Last modification, nanoseconds.
    pub st_mtime_nsec: i64,
    /// Last status change, seconds.
    pub st_ctime: i64,
    /// Last status change, nanoseconds.
    pub st_ctime_nsec: i64,
    /// Reserved.
    pub unused: [i64; 3],
}

const _: () = assert!(core::mem::size_of::<Stat>() == 144);

/// Mask of the file type bits in [`Stat::st_mode`].
pub const S_IFMT: u32 = 0o170000;
/// Directory.
pub const S_IFDIR: u32 = 0o040000;
/// Regular file.
pub const S_IFREG: u32 = 0o100000;
/// Character device.
pub const S_IFCHR: u32 = 0o020000;
/// Block device.
pub const S_IFBLK: u32 = 0o060000;
/// FIFO (pipe).
pub const S_IFIFO: u32 = 0o010000;
/// Symbolic link.
pub const S_IFLNK: u32 = 0o120000;
/// Socket.
pub const S_IFSOCK: u32 = 0o140000;

impl Stat {
    /// True if this is a directory.
    pub fn is_dir(&self) -> bool {
        self.st_mode & S_IFMT == S_IFDIR
    }

    /// True if this is a regular file.
    pub fn is_file(&self) -> bool {
        self.st_mode & S_IFMT == S_IFREG
    }
}

/// Fills `st` with the status of `fd`.
pub fn fstat(fd: i32, st: &mut Stat) -> Result<usize, Errno> {
    // SAFETY: the kernel writes one `struct stat`, which `Stat` mirrors exactly.
    check(unsafe { syscall2(nr::FSTAT, fd as usize, st as *mut Stat as usize) })
}

/// Fills `st` with the status of `path`, relative to `dirfd` (or [`AT_FDCWD`]); `flags`
/// is 0 or [`AT_SYMLINK_NOFOLLOW`] / [`AT_EMPTY_PATH`]. This is `stat(2)` on x86-64.
pub fn newfstatat(dirfd: i32, path: &CStr, st: &mut Stat, flags: i32) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated and only read; the kernel writes one `struct stat`,
    // which `Stat` mirrors exactly.
    check(unsafe {
        syscall4(
            nr::NEWFSTATAT,
            dirfd as usize,
            path.as_ptr() as usize,
            st as *mut Stat as usize,
            flags as usize,
        )
    })
}

/// [`Dirent::kind`]: unknown type (look it up with [`newfstatat`]).
pub const DT_UNKNOWN: u8 = 0;
/// [`Dirent::kind`]: FIFO (pipe).
pub const DT_FIFO: u8 = 1;
/// [`Dirent::kind`]: character device.
pub const DT_CHR: u8 = 2;
/// [`Dirent::kind`]: directory.
pub const DT_DIR: u8 = 4;
/// [`Dirent::kind`]: regular file.
pub const DT_REG: u8 = 8;
/// [`Dirent::kind`]: symbolic link.
pub const DT_LNK: u8 = 10;

/// Reads directory entries of the directory `fd` into `buf` (decode them with
/// [`Dirents`]); returns the number of bytes used, 0 at the end of the directory.
pub fn getdents64(fd: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    check(unsafe {
        syscall3(
            nr::GETDENTS64,
            fd as usize,
            buf.as_mut_ptr() as usize,
            buf.len(),
        )
    })
}

/// One directory entry decoded by [`Dirents`].
#[derive(Clone, Copy, Debug)]
pub struct Dirent<'a> {
    /// Inode number.
    pub ino: u64,
    /// File type (`DT_*`: 4 directory, 8 regular file, 0 unknown).
    pub kind: u8,
    /// The name, without a NUL.
    pub name: &'a [u8],
}

/// Decodes the `struct linux_dirent64` records that [`getdents64`] wrote into a buffer:
/// `Dirents::new(&buf[..n])`. Stops at the first malformed record.
#[derive(Clone, Debug)]
pub struct Dirents<'a> {
    rest: &'a [u8],
}

impl<'a> Dirents<'a> {
    /// Decodes the first `n` bytes that `getdents64` returned.
    pub fn new(filled: &'a [u8]) -> Dirents<'a> {
        Dirents { rest: filled }
    }
}

impl<'a> Iterator for Dirents<'a> {
    type Item = Dirent<'a>;

    fn next(&mut self) -> Option<Dirent<'a>> {
        // Layout: d_ino u64 | d_off i64 | d_reclen u16 | d_type u8 | d_name NUL-terminated.
        let header = self.rest.get(..19)?;
        let ino = u64::from_ne_bytes(header[0..8].try_into().ok()?);
        let reclen = usize::from(u16::from_ne_bytes(header[16..18].try_into().ok()?));
        let record = self.rest.get(..reclen).filter(|_| reclen >= 19)?;
        let name = &record[19..];
        let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
        self.rest = &self.rest[reclen..];
        Some(Dirent {
            ino,
            kind: header[18],
            name,
        })
    }
}

/// Changes the current directory.
pub fn chdir(path: &CStr) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated and only read.
    check(unsafe { syscall1(nr::CHDIR, path.as_ptr() as usize) })
}

/// Writes the current directory, NUL-terminated, into `buf`; returns its length
/// including the NUL (Linux's convention), or `ERANGE` if `buf` is too small.
pub fn getcwd(buf: &mut [u8]) -> Result<usize, Errno> {
    // SAFETY: the kernel writes at most `buf.len()` bytes into `buf`.
    check(unsafe { syscall2(nr::GETCWD, buf.as_mut_ptr() as usize, buf.len()) })
}

/// Creates directory `path` (relative to `dirfd`) with permissions `mode`.
pub fn mkdirat(dirfd: i32, path: &CStr, mode: u32) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated and only read.
    check(unsafe {
        syscall3(
            nr::MKDIRAT,
            dirfd as usize,
            path.as_ptr() as usize,
            mode as usize,
        )
    })
}

/// Removes `path` (relative to `dirfd`); a directory needs `flags` = [`AT_REMOVEDIR`].
pub fn unlinkat(dirfd: i32, path: &CStr, flags: i32) -> Result<usize, Errno> {
    // SAFETY: `path` is NUL-terminated and only read.
    check(unsafe {
        syscall3(
            nr::UNLINKAT,
            dirfd as usize,
            path.as_ptr() as usize,
            flags as usize,
        )
    })
}

/// [`ioctl`] request: read the terminal settings (`struct termios`, 60 bytes) into
/// `arg`. Fails with `ENOTTY` on anything but a terminal, which makes it the `isatty` test.
pub const TCGETS: usize = 0x5401;

/// Device control: request `request` on `fd` with argument `arg`.
///
/// # Safety
/// `arg` is often a pointer: it must be valid for whatever `request` reads or writes.
pub unsafe fn ioctl(fd: i32, request: usize, arg: usize) -> Result<usize, Errno> {
    // SAFETY: forwarded to the caller.
    check(unsafe { syscall3(nr::IOCTL, fd as usize, request, arg) })
}

/// A buffer to write from, laid out as the kernel's `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct IoSlice<'a> {
    base: *const u8,
    len: usize,
    _borrow: PhantomData<&'a [u8]>,
}

impl<'a> IoSlice<'a> {
    /// Lends `buf` to [`writev`].
    pub fn new(buf: &'a [u8]) -> IoSlice<'a> {
        IoSlice {
            base: buf.as_ptr(),
            len: buf.len(),
            _borrow: PhantomData,
        }
    }
}

/// A buffer to read into, laid out as the kernel's `struct iovec`.
#[repr(C)]
#[derive(Debug)]
pub struct IoSliceMut<'a> {
    base: *mut u8,
    len: usize,
    _borrow: PhantomData<&'a mut [u8]>,
}

impl<'a> IoSliceMut<'a> {
    /// Lends `buf` to [`readv`].
    pub fn new(buf: &'a mut [u8]) -> IoSliceMut<'a> {
        IoSliceMut {
            base: buf.as_mut_ptr(),
            len: buf.len(),
            _borrow: PhantomData,
        }
    }
}

/// Reads into several buffers in turn (scatter); returns the total number of bytes.
pub fn readv(fd: i32, bufs: &mut [IoSliceMut<'_>]) -> Result<usize, Errno> {
    // SAFETY: each `IoSliceMut` mutably borrows its buffer for as long as `bufs` lives,
    // and the kernel writes at most `len` bytes to each.
    check(unsafe {
        syscall3(
            nr::READV,
            fd as usize,
            bufs.as_mut_ptr() as usize,
            bufs.len(),
        )
    })
}

/// Writes several buffers in turn (gather); returns the total number of bytes.
pub fn writev(fd: i32, bufs: &[IoSlice<'_>]) -> Result<usize, Errno> {
    // SAFETY: each `IoSlice` borrows its buffer; the kernel only reads them.
    check(unsafe { syscall3(nr::WRITEV, fd as usize, bufs.as_ptr() as usize, bufs.len()) })
}

/// Makes a pipe: `fds[0]` is the read end, `fds[1]` the write end. `flags`:
/// [`O_CLOEXEC`], [`O_NONBLOCK`] or 0.
pub fn pipe2(fds: &mut [i32; 2], flags: i32) -> Result<usize, Errno> {
    // SAFETY: the kernel writes two `int`s into `fds`.
    check(unsafe { syscall2(nr::PIPE2, fds.as_mut_ptr() as usize, flags as usize) })
}

/// Duplicates `fd` to the lowest free descriptor; returns it.
pub fn dup(fd: i32) -> Result<usize, Errno> {
    // SAFETY: touches no memory.
    check(unsafe { syscall1(nr::DUP, fd as usize) })
}

/// Makes `new` a copy of `old` (closing `new` first if open); returns `new`.
pub fn dup2(old: i32, new: i32) -> Result<usize, Errno> {
    // SAFETY: touches no memory.
    check(unsafe { syscall2(nr::DUP2, old as usize, new as usize) })
}

/// Like [`dup2`] with `flags` ([`O_CLOEXEC`] or 0); `EINVAL` if `old == new`.
pub fn dup3(old: i32, new: i32, flags: i32) -> Result<usize, Errno> {
    // SAFETY: touches no memory.
    check(unsafe { syscall3(nr::DUP3, old as usize, new as usize, flags as usize) })
}
