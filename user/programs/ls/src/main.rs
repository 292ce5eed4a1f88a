//! ls: lists the names in directories, one per line, sorted.
//!
//! Usage: `ls [-l] [-a] [PATH...]` (default `.`). A directory shows its entries, a file
//! its own name. Names starting with `.` are hidden unless `-a` is given (`.` and `..`
//! never show). With several paths, each directory's list starts with a `PATH:` line,
//! and lists are separated by an empty line. `-l` adds the type and permissions
//! (`drwxr-xr-x`, `-rw-r--r--`) and the size in bytes before each name:
//!
//! ```text
//! drwxr-xr-x        0 tmp
//! -rw-r--r--       42 motd
//! ```
//!
//! A path that cannot be listed gives `ls: PATH: <error>` and exit status 1.
//!
//! System calls: `openat`, `getdents64`, `newfstatat`, `close`, `write`.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;
use core::fmt::Write;

use vkrt::args::Flags;
use vkrt::fs::{self, cstring, join};
use vkrt::io::{Lossy, Writer, STDOUT};
use vkrt::sys::{self, Errno, Stat};
use vkrt::{eprintln, Args};

vkrt::entry!(main);

/// What the options ask for.
struct Options {
    long: bool,
    all: bool,
}

/// The first character of a long listing line: the file's type.
fn type_char(mode: u32) -> char {
    match mode & sys::S_IFMT {
        sys::S_IFDIR => 'd',
        sys::S_IFREG => '-',
        sys::S_IFIFO => 'p',
        sys::S_IFCHR => 'c',
        sys::S_IFBLK => 'b',
        sys::S_IFLNK => 'l',
        sys::S_IFSOCK => 's',
        _ => '?',
    }
}

/// `mode` as `ls -l` shows it: the type, then `rwx` for owner, group and others.
fn mode_string(mode: u32) -> [u8; 10] {
    let mut out = [b'-'; 10];
    out[0] = type_char(mode) as u8;
    for (i, letter) in b"rwxrwxrwx".iter().enumerate() {
        if mode & (0o400 >> i) != 0 {
            out[1 + i] = *letter;
        }
    }
    out
}

/// The status of `path` itself (a symbolic link is not followed).
fn lstat(path: &[u8]) -> Result<Stat, Errno> {
    let mut st = Stat::default();
    sys::newfstatat(
        sys::AT_FDCWD,
        &cstring(path)?,
        &mut st,
        sys::AT_SYMLINK_NOFOLLOW,
    )?;
    Ok(st)
}

/// Prints one name, in long form if asked; `path` is where to find its status.
fn show(out: &mut Writer, name: &[u8], path: &[u8], opts: &Options) -> Result<(), Errno> {
    if opts.long {
        let st = lstat(path)?;
        let mode = mode_string(st.st_mode);
        let _ = write!(out, "{} {:>8} ", Lossy(&mode), st.st_size);
    }
    out.write_bytes(name)?;
    out.write_bytes(b"\n")
}

/// Lists the directory `dir`: its entries, sorted, hidden ones only with `-a`.
fn list_dir(out: &mut Writer, dir: &[u8], opts: &Options) -> Result<(), Errno> {
    let mut names: Vec<Vec<u8>> = fs::read_dir(dir)?
        .into_iter()
        .map(|entry| entry.name)
        .filter(|name| opts.all || !name.starts_with(b"."))
        .collect();
    names.sort();
    for name in &names {
        if let Err(e) = show(out, name, &join(dir, name), opts) {
            eprintln!("ls: {}: {e}", Lossy(&join(dir, name)));
        }
    }
    Ok(())
}

/// Lists one operand: a directory's contents, or a file's name. `header` adds `PATH:`.
fn list(out: &mut Writer, path: &[u8], header: bool, opts: &Options) -> Result<(), Errno> {
    let st = fs::stat(path)?;
    if !st.is_dir() {
        return show(out, path, path, opts);
    }
    if header {
        let _ = writeln!(out, "{}:", Lossy(path));
    }
    list_dir(out, path, opts)
}

fn main(args: Args) -> i32 {
    let (flags, mut paths): (Flags, Vec<&[u8]>) = match args.flags(b"la") {
        Ok(parsed) => parsed,
        Err(letter) => {
            eprintln!(
                "ls: unknown option -{}\nusage: ls [-l] [-a] [PATH...]",
                letter as char
            );
            return 2;
        }
    };
    let opts = Options {
        long: flags.has(b'l'),
        all: flags.has(b'a'),
    };
    if paths.is_empty() {
        paths.push(b".");
    }
    let mut out = Writer::new(STDOUT);
    let mut status = 0;
    for (i, path) in paths.iter().enumerate() {
        if i > 0 {
            let _ = out.write_bytes(b"\n");
        }
        if let Err(e) = list(&mut out, path, paths.len() > 1, &opts) {
            let _ = out.flush();
            eprintln!("ls: {}: {e}", Lossy(path));
            status = 1;
        }
    }
    if out.flush().is_err() {
        return 1;
    }
    status
}
