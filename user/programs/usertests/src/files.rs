//! files: tests of files, descriptors and directories.
//!
//! System calls: `openat`, `read`, `write`, `readv`, `writev`, `lseek`, `close`, `fstat`,
//! `newfstatat`, `dup`, `dup2`, `dup3`, `getdents64`, `mkdirat`, `unlinkat`, `chdir`,
//! `getcwd`, `ioctl`, and `prlimit64` natively (to make `EMFILE` quick to reach).

use alloc::ffi::CString;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

use crate::check::*;
use vkrt::sys::{self, nr, Errno, IoSlice, IoSliceMut, Stat};

/// Opens `path` with `flags` (and mode 0644).
fn open(path: &CString, flags: i32) -> Result<i32, Stop> {
    let what = format!("openat({:?})", path);
    Ok(call(&what, sys::openat(sys::AT_FDCWD, path, flags, 0o644))? as i32)
}

/// Creates (or truncates) `path` with `content`; returns nothing, the file is closed.
fn make_file(path: &CString, content: &[u8]) -> Outcome {
    let fd = open(path, sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC)?;
    expect_eq("write", sys::write(fd, content), content.len())?;
    close(fd)
}

/// Reads from `fd` until end of file.
fn read_all(fd: i32) -> Result<Vec<u8>, Stop> {
    let mut all = Vec::new();
    call("read", vkrt::io::read_to_end(fd, &mut all))?;
    Ok(all)
}

/// The status of `fd`.
fn fstat(fd: i32) -> Result<Stat, Stop> {
    let mut st = Stat::default();
    call("fstat", sys::fstat(fd, &mut st))?;
    Ok(st)
}

/// write, lseek back, read: the data comes back, then end of file.
pub fn write_read(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("write_read");
    let fd = open(&path, sys::O_RDWR | sys::O_CREAT | sys::O_TRUNC)?;
    expect_eq("write", sys::write(fd, b"hello world"), 11)?;
    expect_eq("lseek(0, SEEK_SET)", sys::lseek(fd, 0, sys::SEEK_SET), 0)?;
    let mut buf = [0u8; 64];
    let n = call("read", sys::read(fd, &mut buf))?;
    ensure(&buf[..n] == b"hello world", "read back other data")?;
    expect_eq("read at the end of the file", sys::read(fd, &mut buf), 0)?;
    ensure(fstat(fd)?.st_size == 11, "fstat size is not 11")?;
    close(fd)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// openat's errors: ENOENT, EEXIST, ENOTDIR, EISDIR.
pub fn open_errors(ctx: &Ctx) -> Outcome {
    let file = ctx.cpath("open_errors");
    make_file(&file, b"x")?;
    let at = |p: &CString, flags| sys::openat(sys::AT_FDCWD, p, flags, 0o644);
    let missing = ctx.cpath("open_errors_missing");
    expect_err(
        "open a missing file",
        at(&missing, sys::O_RDONLY),
        Errno::ENOENT,
    )?;
    let deep = ctx.cpath("open_errors_missing/x");
    let create = sys::O_WRONLY | sys::O_CREAT;
    expect_err(
        "create in a missing directory",
        at(&deep, create),
        Errno::ENOENT,
    )?;
    expect_err(
        "open the empty path",
        at(&CString::default(), sys::O_RDONLY),
        Errno::ENOENT,
    )?;
    let excl = sys::O_WRONLY | sys::O_CREAT | sys::O_EXCL;
    expect_err(
        "O_CREAT|O_EXCL on an existing file",
        at(&file, excl),
        Errno::EEXIST,
    )?;
    let under = ctx.cpath("open_errors/x");
    expect_err("open file/x", at(&under, sys::O_RDONLY), Errno::ENOTDIR)?;
    let as_dir = sys::O_RDONLY | sys::O_DIRECTORY;
    expect_err("O_DIRECTORY on a file", at(&file, as_dir), Errno::ENOTDIR)?;
    let dir = fs_cstr(&ctx.dir);
    expect_err(
        "open a directory O_WRONLY",
        at(&dir, sys::O_WRONLY),
        Errno::EISDIR,
    )?;
    expect_err(
        "open a directory O_RDWR",
        at(&dir, sys::O_RDWR),
        Errno::EISDIR,
    )?;
    let fd = call("open a directory O_RDONLY", at(&dir, as_dir))? as i32;
    close(fd)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &file, 0)).map(drop)
}

/// `bytes` NUL-terminated.
fn fs_cstr(bytes: &[u8]) -> CString {
    vkrt::fs::cstring(bytes).unwrap_or_default()
}

/// Every descriptor call on a descriptor that is not open is EBADF; so is using a
/// descriptor against its open mode.
pub fn bad_fds(ctx: &Ctx) -> Outcome {
    let mut buf = [0u8; 8];
    let mut st = Stat::default();
    for fd in [-1, 1000] {
        expect_err("read", sys::read(fd, &mut buf), Errno::EBADF)?;
        expect_err("write", sys::write(fd, b"x"), Errno::EBADF)?;
        expect_err("close", sys::close(fd), Errno::EBADF)?;
        expect_err("fstat", sys::fstat(fd, &mut st), Errno::EBADF)?;
        expect_err("lseek", sys::lseek(fd, 0, sys::SEEK_SET), Errno::EBADF)?;
        expect_err("dup", sys::dup(fd), Errno::EBADF)?;
        expect_err("dup2", sys::dup2(fd, 50), Errno::EBADF)?;
        expect_err(
            "getdents64",
            sys::getdents64(fd, &mut [0; 256]),
            Errno::EBADF,
        )?;
    }
    let path = ctx.cpath("bad_fds");
    make_file(&path, b"data")?;
    let ro = open(&path, sys::O_RDONLY)?;
    expect_err(
        "write to an O_RDONLY descriptor",
        sys::write(ro, b"x"),
        Errno::EBADF,
    )?;
    let wo = open(&path, sys::O_WRONLY)?;
    expect_err(
        "read from an O_WRONLY descriptor",
        sys::read(wo, &mut buf),
        Errno::EBADF,
    )?;
    close(ro)?;
    close(wo)?;
    expect_err("close twice", sys::close(wo), Errno::EBADF)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// O_TRUNC empties a file; O_APPEND writes at the end whatever the offset.
pub fn open_flags(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("open_flags");
    make_file(&path, b"0123456789")?;
    let fd = open(&path, sys::O_WRONLY | sys::O_APPEND)?;
    call("lseek", sys::lseek(fd, 0, sys::SEEK_SET))?;
    call("write", sys::write(fd, b"ab"))?;
    close(fd)?;
    let fd = open(&path, sys::O_RDONLY)?;
    ensure(
        read_all(fd)? == b"0123456789ab",
        "O_APPEND did not write at the end",
    )?;
    close(fd)?;
    let fd = open(&path, sys::O_RDWR | sys::O_TRUNC)?;
    ensure(fstat(fd)?.st_size == 0, "O_TRUNC left data")?;
    ensure(read_all(fd)?.is_empty(), "O_TRUNC: read something")?;
    close(fd)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// lseek from the start, the current offset and the end; holes read as zeros; errors.
pub fn lseek(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("lseek");
    make_file(&path, b"0123456789")?;
    let fd = open(&path, sys::O_RDWR)?;
    expect_eq("lseek(3, SEEK_SET)", sys::lseek(fd, 3, sys::SEEK_SET), 3)?;
    let mut two = [0u8; 2];
    call("read", sys::read(fd, &mut two))?;
    ensure(&two == b"34", "read at offset 3")?;
    expect_eq("lseek(-1, SEEK_CUR)", sys::lseek(fd, -1, sys::SEEK_CUR), 4)?;
    expect_eq("lseek(0, SEEK_END)", sys::lseek(fd, 0, sys::SEEK_END), 10)?;
    expect_eq("lseek(-4, SEEK_END)", sys::lseek(fd, -4, sys::SEEK_END), 6)?;
    expect_err(
        "lseek before the start",
        sys::lseek(fd, -20, sys::SEEK_CUR),
        Errno::EINVAL,
    )?;
    expect_err("lseek with whence 99", sys::lseek(fd, 0, 99), Errno::EINVAL)?;
    // Writing past the end leaves a hole that reads as zeros.
    call("lseek", sys::lseek(fd, 20, sys::SEEK_SET))?;
    call("write", sys::write(fd, b"x"))?;
    ensure(
        fstat(fd)?.st_size == 21,
        "size after writing at 20 is not 21",
    )?;
    call("lseek", sys::lseek(fd, 0, sys::SEEK_SET))?;
    let all = read_all(fd)?;
    ensure(&all[..10] == b"0123456789", "data before the hole changed")?;
    ensure(all[10..20].iter().all(|&b| b == 0), "the hole is not zeros")?;
    close(fd)?;
    let (r, w) = pipe()?;
    expect_err(
        "lseek on a pipe",
        sys::lseek(r, 0, sys::SEEK_SET),
        Errno::ESPIPE,
    )?;
    close(r)?;
    close(w)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// fstat and newfstatat: types and sizes of files, directories and pipes.
pub fn stat(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("stat");
    make_file(&path, b"12345")?;
    let mut st = Stat::default();
    call(
        "newfstatat",
        sys::newfstatat(sys::AT_FDCWD, &path, &mut st, 0),
    )?;
    ensure(st.is_file() && st.st_size == 5, "a 5-byte file")?;
    let fd = open(&path, sys::O_RDONLY)?;
    let by_fd = fstat(fd)?;
    ensure(
        by_fd.is_file() && by_fd.st_ino == st.st_ino,
        "fstat disagrees",
    )?;
    close(fd)?;
    call(
        "newfstatat",
        sys::newfstatat(sys::AT_FDCWD, &fs_cstr(&ctx.dir), &mut st, 0),
    )?;
    ensure(st.is_dir(), "the directory is not S_IFDIR")?;
    let (r, w) = pipe()?;
    ensure(
        fstat(r)?.st_mode & sys::S_IFMT == sys::S_IFIFO,
        "a pipe is not S_IFIFO",
    )?;
    close(r)?;
    close(w)?;
    let missing = ctx.cpath("stat_missing");
    let r = sys::newfstatat(sys::AT_FDCWD, &missing, &mut st, 0);
    expect_err("newfstatat a missing file", r, Errno::ENOENT)?;
    let under = ctx.cpath("stat/x");
    let r = sys::newfstatat(sys::AT_FDCWD, &under, &mut st, 0);
    expect_err("newfstatat file/x", r, Errno::ENOTDIR)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// dup takes the lowest free number; copies share the offset; dup2 redirects; errors.
pub fn dup(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("dup");
    make_file(&path, b"abcdef")?;
    let a = open(&path, sys::O_RDONLY)?;
    let b = open(&path, sys::O_RDONLY)?;
    close(a)?;
    let c = call("dup", sys::dup(b))? as i32;
    ensure(c == a, format!("dup returned {c}, not the lowest free {a}"))?;
    let mut three = [0u8; 3];
    call("read", sys::read(b, &mut three))?;
    call("read", sys::read(c, &mut three))?;
    ensure(&three == b"def", "a dup does not share the offset")?;
    expect_eq("dup2(fd, fd)", sys::dup2(b, b), b as usize)?;
    expect_err("dup3(fd, fd)", sys::dup3(b, b, 0), Errno::EINVAL)?;
    expect_err(
        "dup3 with bad flags",
        sys::dup3(b, 60, 0x1234),
        Errno::EINVAL,
    )?;
    close(b)?;
    close(c)?;
    // dup2 onto standard output: what is written to 1 goes into the pipe.
    let (r, w) = pipe()?;
    let saved = call("dup", sys::dup(1))? as i32;
    call("dup2", sys::dup2(w, 1))?;
    let wrote = sys::write(1, b"redirected");
    call("dup2", sys::dup2(saved, 1))?;
    close(saved)?;
    close(w)?;
    call("write to the redirected stdout", wrote)?;
    ensure(
        read_all(r)? == b"redirected",
        "dup2 did not redirect stdout",
    )?;
    close(r)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// readv and writev move several buffers in one call.
pub fn vectored(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("vectored");
    let fd = open(&path, sys::O_RDWR | sys::O_CREAT | sys::O_TRUNC)?;
    let out = [
        IoSlice::new(b"one,"),
        IoSlice::new(b""),
        IoSlice::new(b"two"),
    ];
    expect_eq("writev", sys::writev(fd, &out), 7)?;
    call("lseek", sys::lseek(fd, 0, sys::SEEK_SET))?;
    let (mut a, mut b) = ([0u8; 2], [0u8; 8]);
    let n = call(
        "readv",
        sys::readv(fd, &mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)]),
    )?;
    ensure(
        n == 7 && &a == b"on" && &b[..5] == b"e,two",
        "readv scattered wrongly",
    )?;
    close(fd)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// A 4 MiB file written in 8 KiB pieces reads back, in 5000-byte pieces, the same.
pub fn big_file(ctx: &Ctx) -> Outcome {
    const SIZE: usize = 4 << 20;
    let path = ctx.cpath("big_file");
    let fd = open(&path, sys::O_WRONLY | sys::O_CREAT | sys::O_TRUNC)?;
    let (mut rng, mut chunk, mut sum) = (Rng::new(42), vec![0u8; 8192], FNV_START);
    for _ in 0..SIZE / chunk.len() {
        rng.fill(&mut chunk);
        sum = fnv(sum, &chunk);
        call("write", vkrt::io::write_all(fd, &chunk))?;
    }
    close(fd)?;
    let fd = open(&path, sys::O_RDONLY)?;
    ensure(fstat(fd)?.st_size == SIZE as i64, "the size is not 4 MiB")?;
    let (mut buf, mut back, mut total) = (vec![0u8; 5000], FNV_START, 0);
    loop {
        let n = call("read", sys::read(fd, &mut buf))?;
        if n == 0 {
            break;
        }
        back = fnv(back, &buf[..n]);
        total += n;
    }
    ensure(
        total == SIZE,
        format!("read {total} bytes back, not {SIZE}"),
    )?;
    ensure(back == sum, "the checksum differs")?;
    close(fd)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// A file removed while open can still be read through its descriptor.
pub fn unlink_open(ctx: &Ctx) -> Outcome {
    let path = ctx.cpath("unlink_open");
    make_file(&path, b"still here")?;
    let fd = open(&path, sys::O_RDONLY)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0))?;
    let r = sys::openat(sys::AT_FDCWD, &path, sys::O_RDONLY, 0);
    expect_err("open after unlink", r, Errno::ENOENT)?;
    ensure(
        read_all(fd)? == b"still here",
        "the open file lost its data",
    )?;
    close(fd)
}

/// The names in the directory `dir`, sorted, read with a buffer of `size` bytes.
fn names(dir: &CString, size: usize) -> Result<Vec<Vec<u8>>, Stop> {
    let fd = open(dir, sys::O_RDONLY | sys::O_DIRECTORY)?;
    let (mut all, mut buf) = (Vec::new(), vec![0u8; size]);
    loop {
        let n = call("getdents64", sys::getdents64(fd, &mut buf))?;
        if n == 0 {
            close(fd)?;
            all.sort();
            return Ok(all);
        }
        all.extend(sys::Dirents::new(&buf[..n]).map(|d| d.name.to_vec()));
    }
}

/// mkdirat, getdents64 (with big and small buffers), unlinkat and their errors.
pub fn directories(ctx: &Ctx) -> Outcome {
    let dir = ctx.cpath("directories");
    call("mkdirat", sys::mkdirat(sys::AT_FDCWD, &dir, 0o755))?;
    expect_err(
        "mkdirat twice",
        sys::mkdirat(sys::AT_FDCWD, &dir, 0o755),
        Errno::EEXIST,
    )?;
    let mut expected: Vec<Vec<u8>> = vec![b".".to_vec(), b"..".to_vec()];
    for i in 0..40 {
        let name = format!("file{i:02}");
        make_file(&ctx.cpath(&format!("directories/{name}")), b"x")?;
        expected.push(name.into_bytes());
    }
    expected.sort();
    ensure(
        names(&dir, 4096)? == expected,
        "getdents64 does not list . .. and 40 files",
    )?;
    ensure(
        names(&dir, 64)? == expected,
        "with a 64-byte buffer, getdents64 lists differently",
    )?;
    let fd = open(&dir, sys::O_RDONLY | sys::O_DIRECTORY)?;
    expect_err(
        "getdents64 into 8 bytes",
        sys::getdents64(fd, &mut [0; 8]),
        Errno::EINVAL,
    )?;
    close(fd)?;
    let file = ctx.cpath("directories/file00");
    let fd = open(&file, sys::O_RDONLY)?;
    expect_err(
        "getdents64 on a file",
        sys::getdents64(fd, &mut [0; 256]),
        Errno::ENOTDIR,
    )?;
    close(fd)?;
    dir_errors(ctx, &dir, &file)?;
    for i in 0..40 {
        let name = ctx.cpath(&format!("directories/file{i:02}"));
        call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &name, 0))?;
    }
    call(
        "rmdir",
        sys::unlinkat(sys::AT_FDCWD, &dir, sys::AT_REMOVEDIR),
    )?;
    let gone = sys::openat(sys::AT_FDCWD, &dir, sys::O_RDONLY, 0);
    expect_err("open a removed directory", gone, Errno::ENOENT)
}

/// The errors of mkdirat and unlinkat, around the directory `dir` holding `file`.
fn dir_errors(ctx: &Ctx, dir: &CString, file: &CString) -> Outcome {
    let at = sys::AT_FDCWD;
    expect_err(
        "rmdir a full directory",
        sys::unlinkat(at, dir, sys::AT_REMOVEDIR),
        Errno::ENOTEMPTY,
    )?;
    expect_err(
        "unlink a directory",
        sys::unlinkat(at, dir, 0),
        Errno::EISDIR,
    )?;
    expect_err(
        "rmdir a file",
        sys::unlinkat(at, file, sys::AT_REMOVEDIR),
        Errno::ENOTDIR,
    )?;
    let missing = ctx.cpath("directories/missing");
    expect_err(
        "unlink a missing file",
        sys::unlinkat(at, &missing, 0),
        Errno::ENOENT,
    )?;
    let deep = ctx.cpath("directories/missing/sub");
    expect_err(
        "mkdir in a missing directory",
        sys::mkdirat(at, &deep, 0o755),
        Errno::ENOENT,
    )?;
    let under = ctx.cpath("directories/file00/sub");
    expect_err(
        "mkdir under a file",
        sys::mkdirat(at, &under, 0o755),
        Errno::ENOTDIR,
    )
}

/// chdir and getcwd agree, relative paths follow the current directory; errors.
pub fn cwd(ctx: &Ctx) -> Outcome {
    let start = call("getcwd", vkrt::fs::getcwd())?;
    let sub = ctx.cpath("cwd");
    call("mkdirat", sys::mkdirat(sys::AT_FDCWD, &sub, 0o755))?;
    call("chdir", sys::chdir(&sub))?;
    let now = call("getcwd", vkrt::fs::getcwd())?;
    ensure(
        now.ends_with(b"/cwd") && now.starts_with(b"/"),
        "getcwd after chdir",
    )?;
    make_file(&CString::from(c"relative"), b"r")?;
    let mut st = Stat::default();
    let abs = ctx.cpath("cwd/relative");
    call(
        "newfstatat",
        sys::newfstatat(sys::AT_FDCWD, &abs, &mut st, 0),
    )?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, c"relative", 0))?;
    call("chdir", sys::chdir(c".."))?;
    let up = call("getcwd", vkrt::fs::getcwd())?;
    ensure(
        up.len() + 4 == now.len() && now.starts_with(&up),
        "chdir(\"..\") went elsewhere",
    )?;
    call("chdir", sys::chdir(&fs_cstr(&start)))?;
    expect_eq("getcwd after chdir back", vkrt::fs::getcwd(), start)?;
    let file = ctx.cpath("cwd_file");
    make_file(&file, b"")?;
    expect_err("chdir to a file", sys::chdir(&file), Errno::ENOTDIR)?;
    expect_err(
        "chdir to a missing directory",
        sys::chdir(&ctx.cpath("cwd_none")),
        Errno::ENOENT,
    )?;
    expect_err(
        "getcwd into 1 byte",
        sys::getcwd(&mut [0u8; 1]),
        Errno::ERANGE,
    )?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &file, 0))?;
    call(
        "rmdir",
        sys::unlinkat(sys::AT_FDCWD, &sub, sys::AT_REMOVEDIR),
    )
    .map(drop)
}

/// TCGETS is ENOTTY on pipes and files, EBADF on a closed descriptor.
pub fn ioctl(ctx: &Ctx) -> Outcome {
    let mut termios = [0u8; 64];
    let arg = termios.as_mut_ptr() as usize;
    let (r, w) = pipe()?;
    // SAFETY: TCGETS writes at most a 60-byte `struct termios` into `termios`.
    let on_pipe = unsafe { sys::ioctl(r, sys::TCGETS, arg) };
    expect_err("TCGETS on a pipe", on_pipe, Errno::ENOTTY)?;
    close(r)?;
    close(w)?;
    let path = ctx.cpath("ioctl");
    make_file(&path, b"")?;
    let fd = open(&path, sys::O_RDONLY)?;
    // SAFETY: as above.
    let on_file = unsafe { sys::ioctl(fd, sys::TCGETS, arg) };
    expect_err("TCGETS on a file", on_file, Errno::ENOTTY)?;
    close(fd)?;
    // SAFETY: as above.
    let on_bad = unsafe { sys::ioctl(1000, sys::TCGETS, arg) };
    expect_err("TCGETS on a closed descriptor", on_bad, Errno::EBADF)?;
    call("unlinkat", sys::unlinkat(sys::AT_FDCWD, &path, 0)).map(drop)
}

/// Natively, lowers the descriptor limit to 64 (this test runs in a child of its own),
/// so that running out takes 64 calls, not a million.
fn lower_fd_limit(ctx: &Ctx) -> Outcome {
    if ctx.vkernel {
        return Ok(());
    }
    const RLIMIT_NOFILE: usize = 7;
    let limit: [u64; 2] = [64, 64];
    // SAFETY: prlimit64 reads the two u64s of `limit` and writes nothing (old is NULL).
    let r = unsafe {
        raw(
            nr::PRLIMIT64,
            [0, RLIMIT_NOFILE, limit.as_ptr() as usize, 0],
        )
    };
    call("prlimit64", r).map(drop)
}

/// Opening descriptors until the table is full ends in EMFILE, for dup, openat and
/// pipe2; closing one makes room again.
pub fn emfile(ctx: &Ctx) -> Outcome {
    lower_fd_limit(ctx)?;
    let (r, w) = pipe()?;
    let mut opened = Vec::new();
    let error = loop {
        match sys::dup(r) {
            Ok(fd) => opened.push(fd as i32),
            Err(e) => break e,
        }
        if opened.len() > 100_000 {
            return Err(Stop::Fail(format!(
                "dup never failed ({} descriptors)",
                opened.len()
            )));
        }
    };
    ensure(
        error == Errno::EMFILE,
        format!("dup failed with {}, not EMFILE", error.name()),
    )?;
    let one_more = sys::openat(sys::AT_FDCWD, &fs_cstr(&ctx.dir), sys::O_RDONLY, 0);
    expect_err("openat with a full table", one_more, Errno::EMFILE)?;
    let mut fds = [-1; 2];
    expect_err(
        "pipe2 with a full table",
        sys::pipe2(&mut fds, 0),
        Errno::EMFILE,
    )?;
    let last = opened.pop().unwrap_or(0);
    close(last)?;
    ensure(
        call("dup", sys::dup(r))? as i32 == last,
        "dup did not reuse the freed slot",
    )?;
    for fd in opened {
        close(fd)?;
    }
    close(last)?;
    close(r)?;
    close(w)
}
