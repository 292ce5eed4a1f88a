//! File system calls: open files, read and write them, pipes, directories.
//!
//! The file system (`fs/`) never blocks: a pipe that is empty (or full) answers
//! `EAGAIN`, and these handlers sleep on the pipe's channel and try again, xv6-style.
//! Every user buffer is checked before anything irreversible happens, so a bad pointer
//! gives `EFAULT` and loses no data.

use std::cell::RefCell;
use std::rc::Rc;

use super::SysResult;
use crate::errno::Errno;
use crate::fs::abi;
use crate::fs::file::{FileKind, FileRef, OpenFile};
use crate::fs::pipe::Pipe;
use crate::fs::ramfs::{FileType, Ino};
use crate::sched::Chan;
use crate::trap::Ctx;

const AT_FDCWD: i32 = -100;
const AT_REMOVEDIR: u64 = 0x200;
const AT_EMPTY_PATH: u64 = 0x1000;
const O_ACCMODE: u64 = 3;
const O_WRONLY: u64 = 1;
const O_RDWR: u64 = 2;
const O_CREAT: u64 = 0o100;
const O_EXCL: u64 = 0o200;
const O_TRUNC: u64 = 0o1000;
const O_APPEND: u64 = 0o2000;
const O_DIRECTORY: u64 = 0o200000;
const O_CLOEXEC: u64 = 0o2000000;
/// Largest chunk moved per step of a read or write.
const CHUNK: usize = 64 * 1024;
/// Most bytes one call moves (Linux caps at the same value).
const MAX_IO: u64 = 0x7fff_f000;

fn fd_arg(fd: u64) -> i32 {
    fd as i64 as i32
}

fn file(cx: &Ctx<'_>, fd: u64) -> Result<FileRef, Errno> {
    cx.p.files.borrow().get(fd_arg(fd))
}

/// The directory a `*at` call starts from.
fn start_dir(cx: &Ctx<'_>, dirfd: u64, path: &[u8]) -> Result<Ino, Errno> {
    if path.first() == Some(&b'/') || fd_arg(dirfd) == AT_FDCWD {
        return Ok(cx.p.cwd.get());
    }
    let f = file(cx, dirfd)?;
    let ino = f.borrow().inode().ok_or(Errno::ENOTDIR)?;
    if !cx.k.fs.borrow().is_dir(ino) {
        return Err(Errno::ENOTDIR);
    }
    Ok(ino)
}

fn user_path(cx: &Ctx<'_>, ptr: u64) -> Result<Vec<u8>, Errno> {
    let path = cx.copyinstr(ptr, 4096)?;
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    Ok(path)
}

/// `openat(dirfd, path, flags, mode)`: open a file or directory of the RAM file system;
/// `O_CREAT`, `O_EXCL`, `O_TRUNC`, `O_APPEND`, `O_DIRECTORY` and `O_CLOEXEC` are honoured,
/// `mode` is ignored (there are no permissions).
///
/// # Errors
/// `EFAULT`, `ENOENT`, `EEXIST`, `EISDIR`, `ENOTDIR`, `ENAMETOOLONG`, `EMFILE`, `EINVAL`.
pub fn openat(cx: &Ctx<'_>, dirfd: u64, path: u64, flags: u64, mode: u64) -> SysResult {
    let path = user_path(cx, path)?;
    let acc = flags & O_ACCMODE;
    if acc == O_ACCMODE {
        return Err(Errno::EINVAL);
    }
    let (readable, writable) = (acc != O_WRONLY, acc == O_WRONLY || acc == O_RDWR);
    let cloexec = flags & O_CLOEXEC != 0;
    if path == b"/dev/console" || path == b"/dev/tty" {
        let f = OpenFile::new(FileKind::Console, readable, writable, false);
        return cx.p.files.borrow_mut().alloc(f, cloexec).map(i64::from);
    }
    let base = start_dir(cx, dirfd, &path)?;
    let ino = {
        let mut fs = cx.k.fs.borrow_mut();
        let ino = match fs.resolve(base, &path) {
            Ok(_) if flags & O_CREAT != 0 && flags & O_EXCL != 0 => return Err(Errno::EEXIST),
            Ok(ino) => ino,
            Err(Errno::ENOENT) if flags & O_CREAT != 0 => {
                let (dir, name) = fs.resolve_parent(base, &path)?;
                fs.create_file(dir, &name, (mode & 0o777) as u32)?
            }
            Err(e) => return Err(e),
        };
        let st = fs.stat(ino)?;
        if st.kind == FileType::Directory && (writable || flags & O_CREAT != 0) {
            return Err(Errno::EISDIR);
        }
        if st.kind != FileType::Directory && flags & O_DIRECTORY != 0 {
            return Err(Errno::ENOTDIR);
        }
        if flags & O_TRUNC != 0 && writable && st.kind == FileType::Regular {
            fs.truncate(ino, 0)?;
        }
        fs.open(ino)?;
        ino
    };
    let f = OpenFile::new(
        FileKind::Inode(ino),
        readable,
        writable,
        flags & O_APPEND != 0,
    );
    let result = cx.p.files.borrow_mut().alloc(f, cloexec);
    match result {
        Ok(fd) => Ok(i64::from(fd)),
        Err(e) => {
            let _ = cx.k.fs.borrow_mut().release(ino);
            Err(e)
        }
    }
}

/// `close(fd)`: free the descriptor; the open file goes when its last descriptor does.
///
/// # Errors
/// `EBADF`.
pub fn close(cx: &Ctx<'_>, fd: u64) -> SysResult {
    let f = cx.p.files.borrow_mut().close(fd_arg(fd))?;
    cx.k.release_file(f);
    Ok(0)
}

/// Read into a kernel buffer from `f`, sleeping while a pipe or the console is empty.
fn read_file(cx: &Ctx<'_>, f: &FileRef, buf: &mut [u8]) -> Result<usize, Errno> {
    if !f.borrow().readable {
        return Err(Errno::EBADF);
    }
    loop {
        let kind = f.borrow().kind.clone();
        match kind {
            FileKind::Console => {
                if let Some(n) = cx.k.console.borrow().read_input(buf) {
                    return Ok(n);
                }
            }
            FileKind::Inode(ino) => {
                let off = f.borrow().offset;
                let fs = cx.k.fs.borrow();
                if fs.is_dir(ino) {
                    return Err(Errno::EISDIR);
                }
                let n = fs.read(ino, off, buf)?;
                f.borrow_mut().offset = off + n as u64;
                return Ok(n);
            }
            FileKind::PipeReader(pipe) => {
                let r = pipe.borrow_mut().read(buf);
                match r {
                    Err(Errno::EAGAIN) => {}
                    Ok(n) => {
                        cx.k.wakeup(Chan::Pipe(pipe.borrow().id()));
                        return Ok(n);
                    }
                    Err(e) => return Err(e),
                }
            }
            FileKind::PipeWriter(_) => return Err(Errno::EBADF),
        }
        // Nothing yet: sleep until the console or the pipe has news.
        let chan = match &f.borrow().kind {
            FileKind::PipeReader(p) => Chan::Pipe(p.borrow().id()),
            _ => Chan::Console,
        };
        cx.sleep(chan)?;
    }
}

/// Write a kernel buffer to `f` entirely (pipes block while full).
fn write_file(cx: &Ctx<'_>, f: &FileRef, data: &[u8]) -> Result<usize, Errno> {
    if !f.borrow().writable {
        return Err(Errno::EBADF);
    }
    let kind = f.borrow().kind.clone();
    match kind {
        FileKind::Console => {
            cx.k.console_write(data);
            Ok(data.len())
        }
        FileKind::Inode(ino) => {
            let mut fs = cx.k.fs.borrow_mut();
            let mut of = f.borrow_mut();
            if of.append {
                of.offset = fs.stat(ino)?.size;
            }
            let n = fs.write(ino, of.offset, data)?;
            of.offset += n as u64;
            Ok(n)
        }
        // ANCHOR: pipe-write
        FileKind::PipeWriter(pipe) => {
            let id = pipe.borrow().id();
            let mut done = 0;
            while done < data.len() {
                let r = pipe.borrow_mut().write(&data[done..]);
                match r {
                    Ok(n) => {
                        done += n;
                        cx.k.wakeup(Chan::Pipe(id));
                    }
                    Err(Errno::EAGAIN) => {
                        if let Err(e) = cx.sleep(Chan::Pipe(id)) {
                            return if done > 0 { Ok(done) } else { Err(e) };
                        }
                    }
                    Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
                }
            }
            Ok(done)
        }
        // ANCHOR_END: pipe-write
        FileKind::PipeReader(_) => Err(Errno::EBADF),
    }
}

// ANCHOR: read
/// `read(fd, buf, count)`: from a file, a pipe (blocking until data or end of file) or
/// the console.
///
/// # Errors
/// `EBADF`, `EFAULT`, `EISDIR`, `EINTR`.
pub fn read(cx: &Ctx<'_>, fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(cx, fd)?;
    let len = count.min(MAX_IO).min(CHUNK as u64) as usize;
    cx.check_user(buf, len, true)?;
    let mut kbuf = vec![0u8; len];
    let n = read_file(cx, &f, &mut kbuf)?;
    cx.copyout(buf, &kbuf[..n])?;
    Ok(n as i64)
}
// ANCHOR_END: read

/// `write(fd, buf, count)`: to a file, a pipe (blocking while it is full) or the console.
///
/// # Errors
/// `EBADF`, `EFAULT`, `EPIPE`, `EFBIG`, `ENOSPC`, `EINTR`.
pub fn write(cx: &Ctx<'_>, fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(cx, fd)?;
    let len = count.min(MAX_IO) as usize;
    cx.check_user(buf, len, false)?;
    let mut done = 0usize;
    while done < len {
        let n = (len - done).min(CHUNK);
        let mut kbuf = vec![0u8; n];
        cx.copyin(buf + done as u64, &mut kbuf)?;
        match write_file(cx, &f, &kbuf) {
            Ok(w) => {
                done += w;
                if w < n {
                    break;
                }
            }
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(done as i64)
}

/// Read an `iovec` array: (base, len) pairs.
fn iovecs(cx: &Ctx<'_>, iov: u64, count: u64) -> Result<Vec<(u64, u64)>, Errno> {
    if count > 1024 {
        return Err(Errno::EINVAL);
    }
    (0..count)
        .map(|i| Ok((cx.read_u64(iov + 16 * i)?, cx.read_u64(iov + 16 * i + 8)?)))
        .collect()
}

/// Run `op` (`read` or `write`) over each buffer of an `iovec` array, stopping at the
/// first short transfer; an error after some bytes moved ends with the count so far.
fn vectored(
    cx: &Ctx<'_>,
    fd: u64,
    iov: u64,
    count: u64,
    op: fn(&Ctx<'_>, u64, u64, u64) -> SysResult,
) -> SysResult {
    let mut total = 0i64;
    for (base, len) in iovecs(cx, iov, count)? {
        if len == 0 {
            continue;
        }
        let n = match op(cx, fd, base, len) {
            Ok(n) => n,
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        };
        total += n;
        if (n as u64) < len {
            break;
        }
    }
    Ok(total)
}

/// `readv(fd, iov, count)`: `read` into several buffers.
///
/// # Errors
/// As `read`, and `EINVAL` for too many vectors.
pub fn readv(cx: &Ctx<'_>, fd: u64, iov: u64, count: u64) -> SysResult {
    vectored(cx, fd, iov, count, read)
}

/// `writev(fd, iov, count)`: `write` from several buffers.
///
/// # Errors
/// As `write`, and `EINVAL` for too many vectors.
pub fn writev(cx: &Ctx<'_>, fd: u64, iov: u64, count: u64) -> SysResult {
    vectored(cx, fd, iov, count, write)
}

/// `lseek(fd, offset, whence)`: move the offset of a file (`SEEK_SET`, `SEEK_CUR`,
/// `SEEK_END`).
///
/// # Errors
/// `EBADF`, `ESPIPE` (pipes, console), `EINVAL` (bad whence or negative result).
pub fn lseek(cx: &Ctx<'_>, fd: u64, offset: u64, whence: u64) -> SysResult {
    let f = file(cx, fd)?;
    let ino = match f.borrow().kind {
        FileKind::Inode(ino) => ino,
        _ => return Err(Errno::ESPIPE),
    };
    let size = cx.k.fs.borrow().stat(ino)?.size as i64;
    let cur = f.borrow().offset as i64;
    let base = match whence {
        0 => 0,
        1 => cur,
        2 => size,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(offset as i64).ok_or(Errno::EINVAL)?;
    if new < 0 {
        return Err(Errno::EINVAL);
    }
    f.borrow_mut().offset = new as u64;
    Ok(new)
}

fn stat_of(cx: &Ctx<'_>, f: &FileRef) -> Result<[u8; 144], Errno> {
    let kind = f.borrow().kind.clone();
    Ok(match kind {
        FileKind::Inode(ino) => abi::stat_bytes(&cx.k.fs.borrow().stat(ino)?),
        FileKind::Console => abi::console_stat_bytes(),
        FileKind::PipeReader(_) | FileKind::PipeWriter(_) => abi::pipe_stat_bytes(),
    })
}

/// `fstat(fd, statbuf)`: the type and size of an open file, in Linux's `struct stat`.
///
/// # Errors
/// `EBADF`, `EFAULT`.
pub fn fstat(cx: &Ctx<'_>, fd: u64, statbuf: u64) -> SysResult {
    let f = file(cx, fd)?;
    let bytes = stat_of(cx, &f)?;
    cx.copyout(statbuf, &bytes)?;
    Ok(0)
}

/// `newfstatat(dirfd, path, statbuf, flags)`: `fstat` by path (`AT_EMPTY_PATH` stats
/// `dirfd` itself).
///
/// # Errors
/// `EFAULT`, `ENOENT`, `ENOTDIR`, `EBADF`, `EINVAL` for unknown flags.
pub fn newfstatat(cx: &Ctx<'_>, dirfd: u64, path: u64, statbuf: u64, flags: u64) -> SysResult {
    if flags & !(AT_EMPTY_PATH | 0x100 | 0x800) != 0 {
        return Err(Errno::EINVAL);
    }
    let p = cx.copyinstr(path, 4096)?;
    let bytes = if p.is_empty() && flags & AT_EMPTY_PATH != 0 {
        if fd_arg(dirfd) == AT_FDCWD {
            abi::stat_bytes(&cx.k.fs.borrow().stat(cx.p.cwd.get())?)
        } else {
            stat_of(cx, &file(cx, dirfd)?)?
        }
    } else {
        if p.is_empty() {
            return Err(Errno::ENOENT);
        }
        let base = start_dir(cx, dirfd, &p)?;
        let fs = cx.k.fs.borrow();
        abi::stat_bytes(&fs.stat(fs.resolve(base, &p)?)?)
    };
    cx.copyout(statbuf, &bytes)?;
    Ok(0)
}

/// `getdents64(fd, buf, count)`: directory entries from the current position.
///
/// # Errors
/// `EBADF`, `ENOTDIR`, `EFAULT`, `EINVAL` (buffer too small for one entry).
pub fn getdents64(cx: &Ctx<'_>, fd: u64, buf: u64, count: u64) -> SysResult {
    let f = file(cx, fd)?;
    let ino = f.borrow().inode().ok_or(Errno::ENOTDIR)?;
    let mut out = Vec::new();
    let mut index = f.borrow().offset as usize;
    {
        let fs = cx.k.fs.borrow();
        while let Some((child, kind, name)) = fs.read_dir(ino, index)? {
            let entry = abi::dirent64(child, index as i64 + 1, kind, &name);
            if (out.len() + entry.len()) as u64 > count {
                if out.is_empty() {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            out.extend_from_slice(&entry);
            index += 1;
        }
    }
    cx.copyout(buf, &out)?;
    f.borrow_mut().offset = index as u64;
    Ok(out.len() as i64)
}

/// `dup(fd)`: the lowest free descriptor, sharing `fd`'s open file and offset.
///
/// # Errors
/// `EBADF`, `EMFILE`.
pub fn dup(cx: &Ctx<'_>, fd: u64) -> SysResult {
    cx.p.files.borrow_mut().dup(fd_arg(fd)).map(i64::from)
}

/// Close what `new` referred to (if anything) the way `close` would.
fn replace_fd(cx: &Ctx<'_>, old: u64, new: u64, cloexec: Option<bool>) -> SysResult {
    let (old, new) = (fd_arg(old), fd_arg(new));
    let previous = cx.p.files.borrow().get(new).ok();
    let r = match cloexec {
        None => cx.p.files.borrow_mut().dup2(old, new),
        Some(c) => cx.p.files.borrow_mut().dup3(old, new, c),
    }?;
    if let Some(prev) = previous {
        if old != new {
            cx.k.release_file(prev);
        }
    }
    Ok(i64::from(r))
}

/// `dup2(old, new)`: make `new` refer to `old`'s open file, closing what `new` was.
///
/// # Errors
/// `EBADF`.
pub fn dup2(cx: &Ctx<'_>, old: u64, new: u64) -> SysResult {
    replace_fd(cx, old, new, None)
}

/// `dup3(old, new, flags)`: `dup2` with `O_CLOEXEC` as the only flag.
///
/// # Errors
/// `EBADF`, `EINVAL` (same descriptors or unknown flags).
pub fn dup3(cx: &Ctx<'_>, old: u64, new: u64, flags: u64) -> SysResult {
    if flags & !O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    replace_fd(cx, old, new, Some(flags & O_CLOEXEC != 0))
}

/// `pipe2(fds, flags)`: a pipe; `fds[0]` reads, `fds[1]` writes. `O_CLOEXEC` is honoured;
/// `O_NONBLOCK` is accepted and ignored (pipes always block).
///
/// # Errors
/// `EFAULT`, `EMFILE`, `EINVAL`.
pub fn pipe2(cx: &Ctx<'_>, fds: u64, flags: u64) -> SysResult {
    const O_NONBLOCK: u64 = 0o4000;
    if flags & !(O_CLOEXEC | O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    cx.check_user(fds, 8, true)?;
    let cloexec = flags & O_CLOEXEC != 0;
    let pipe = Rc::new(RefCell::new(Pipe::new()));
    let r = OpenFile::new(FileKind::PipeReader(pipe.clone()), true, false, false);
    let w = OpenFile::new(FileKind::PipeWriter(pipe), false, true, false);
    let rfd = cx.p.files.borrow_mut().alloc(r, cloexec)?;
    let wfd = match cx.p.files.borrow_mut().alloc(w, cloexec) {
        Ok(fd) => fd,
        Err(e) => {
            let f = cx.p.files.borrow_mut().close(rfd)?;
            cx.k.release_file(f);
            return Err(e);
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&rfd.to_le_bytes());
    out[4..].copy_from_slice(&wfd.to_le_bytes());
    cx.copyout(fds, &out)?;
    Ok(0)
}

/// `chdir(path)`: change the current directory.
///
/// # Errors
/// `EFAULT`, `ENOENT`, `ENOTDIR`.
pub fn chdir(cx: &Ctx<'_>, path: u64) -> SysResult {
    let p = user_path(cx, path)?;
    let fs = cx.k.fs.borrow();
    let ino = fs.resolve(cx.p.cwd.get(), &p)?;
    if !fs.is_dir(ino) {
        return Err(Errno::ENOTDIR);
    }
    cx.p.cwd.set(ino);
    Ok(0)
}

/// `getcwd(buf, size)`: returns the length including the NUL.
///
/// # Errors
/// `ERANGE` (too small), `EFAULT`, `ENOENT` (the directory was removed).
pub fn getcwd(cx: &Ctx<'_>, buf: u64, size: u64) -> SysResult {
    let mut path =
        cx.k.fs
            .borrow()
            .path_of(cx.p.cwd.get())
            .ok_or(Errno::ENOENT)?;
    path.push(0);
    if path.len() as u64 > size {
        return Err(Errno::ERANGE);
    }
    cx.copyout(buf, &path)?;
    Ok(path.len() as i64)
}

/// `mkdirat(dirfd, path, mode)`: make a directory (`mode` is ignored).
///
/// # Errors
/// `EFAULT`, `EEXIST`, `ENOENT`, `ENOTDIR`.
pub fn mkdirat(cx: &Ctx<'_>, dirfd: u64, path: u64, mode: u64) -> SysResult {
    let p = user_path(cx, path)?;
    let base = start_dir(cx, dirfd, &p)?;
    let mut fs = cx.k.fs.borrow_mut();
    let (dir, name) = fs.resolve_parent(base, &p)?;
    fs.mkdir(dir, &name, (mode & 0o777) as u32)?;
    Ok(0)
}

/// `unlinkat(dirfd, path, flags)`: `AT_REMOVEDIR` removes an empty directory.
///
/// # Errors
/// `EFAULT`, `ENOENT`, `EISDIR`, `ENOTDIR`, `ENOTEMPTY`, `EINVAL`.
pub fn unlinkat(cx: &Ctx<'_>, dirfd: u64, path: u64, flags: u64) -> SysResult {
    if flags & !AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL);
    }
    let p = user_path(cx, path)?;
    let base = start_dir(cx, dirfd, &p)?;
    let mut fs = cx.k.fs.borrow_mut();
    let (dir, name) = fs.resolve_parent(base, &p)?;
    if flags & AT_REMOVEDIR != 0 {
        fs.rmdir(dir, &name)?;
    } else {
        fs.unlink(dir, &name)?;
    }
    Ok(0)
}

/// `ioctl(fd, request, arg)`: only terminal queries on the console, and only when the
/// host's console is a terminal (so a shell fed from a pipe prints no prompts).
///
/// # Errors
/// `EBADF`, `ENOTTY` (not a terminal, or an unknown request), `EFAULT`.
pub fn ioctl(cx: &Ctx<'_>, fd: u64, request: u64, arg: u64) -> SysResult {
    const TCGETS: u64 = 0x5401;
    const TIOCGWINSZ: u64 = 0x5413;
    let f = file(cx, fd)?;
    let is_console = matches!(f.borrow().kind, FileKind::Console) && cx.k.console_is_tty;
    match request {
        TCGETS if is_console => {
            cx.copyout(arg, &[0u8; 60])?;
            Ok(0)
        }
        TIOCGWINSZ if is_console => {
            let mut ws = [0u8; 8];
            ws[0..2].copy_from_slice(&24u16.to_le_bytes());
            ws[2..4].copy_from_slice(&80u16.to_le_bytes());
            cx.copyout(arg, &ws)?;
            Ok(0)
        }
        _ => Err(Errno::ENOTTY),
    }
}
