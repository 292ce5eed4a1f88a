//! rm: removes files, and with `-r` directories with everything in them.
//!
//! Usage: `rm [-r] [-f] PATH...`. Without `-r` a directory is refused (`Is a
//! directory`). With `-r` a directory's entries are removed first, depth first, then the
//! directory itself. With `-f` a missing path is no error. A failure gives
//! `rm: PATH: <error>` and exit status 1; the other paths are still removed.
//!
//! System calls: `unlinkat` (with `AT_REMOVEDIR` for directories), `newfstatat`,
//! `openat` + `getdents64` + `close` (to empty a directory).

#![no_std]
#![no_main]

use vkrt::fs::{self, join};
use vkrt::io::Lossy;
use vkrt::sys::Errno;
use vkrt::{eprintln, Args};

vkrt::entry!(main);

/// Removes the directory `dir` after everything in it.
fn remove_tree(dir: &[u8]) -> Result<(), Errno> {
    for entry in fs::read_dir(dir)? {
        remove(&join(dir, &entry.name), true)?;
    }
    fs::remove_dir(dir)
}

/// Removes `path`: a file, or with `recursive` also a directory and its contents.
fn remove(path: &[u8], recursive: bool) -> Result<(), Errno> {
    match fs::remove_file(path) {
        // Linux says EISDIR for a directory; POSIX allows EPERM.
        Err(Errno::EISDIR | Errno::EPERM) if recursive && fs::stat(path)?.is_dir() => {
            remove_tree(path)
        }
        other => other,
    }
}

fn main(args: Args) -> i32 {
    let (flags, paths) = match args.flags(b"rf") {
        Ok(parsed) if !parsed.1.is_empty() => parsed,
        _ => {
            eprintln!("usage: rm [-r] [-f] PATH...");
            return 2;
        }
    };
    let mut status = 0;
    for path in paths {
        match remove(path, flags.has(b'r')) {
            Ok(()) => {}
            Err(Errno::ENOENT) if flags.has(b'f') => {}
            Err(e) => {
                eprintln!("rm: {}: {e}", Lossy(path));
                status = 1;
            }
        }
    }
    status
}
