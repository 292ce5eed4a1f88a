//! mkdir: creates directories.
//!
//! Usage: `mkdir [-p] DIR...`. Each directory is made with mode 0755. With `-p`, missing
//! parent directories are made too, and a directory that already exists is no error.
//! A failure gives `mkdir: DIR: <error>` and exit status 1; the other directories are
//! still made.
//!
//! System calls: `mkdirat`, `newfstatat` (with `-p`, to check what exists).

#![no_std]
#![no_main]

use vkrt::fs;
use vkrt::io::Lossy;
use vkrt::sys::Errno;
use vkrt::{eprintln, Args};

vkrt::entry!(main);

/// Makes `dir`; with `parents`, makes its missing parents first and accepts an existing
/// directory.
fn make(dir: &[u8], parents: bool) -> Result<(), Errno> {
    if !parents {
        return fs::mkdir(dir, 0o755);
    }
    // Make every prefix that ends just before a '/', then `dir` itself.
    let ends = dir
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'/' && i > 0)
        .map(|(i, _)| i)
        .chain([dir.len()]);
    for end in ends {
        let prefix = &dir[..end];
        match fs::mkdir(prefix, 0o755) {
            Ok(()) => {}
            Err(Errno::EEXIST) if fs::stat(prefix)?.is_dir() => {}
            Err(Errno::EEXIST) => return Err(Errno::ENOTDIR),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn main(args: Args) -> i32 {
    let (flags, dirs) = match args.flags(b"p") {
        Ok(parsed) if !parsed.1.is_empty() => parsed,
        _ => {
            eprintln!("usage: mkdir [-p] DIR...");
            return 2;
        }
    };
    let mut status = 0;
    for dir in dirs {
        if let Err(e) = make(dir, flags.has(b'p')) {
            eprintln!("mkdir: {}: {e}", Lossy(dir));
            status = 1;
        }
    }
    status
}
