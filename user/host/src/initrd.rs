//! initrd: writes the vkernel's initial file system as a cpio "newc" archive.
//!
//! At boot the vkernel unpacks an archive into its in-memory file system, as Linux does
//! with an initramfs. The format is cpio's "newc" (SVR4 without CRC), the one Linux
//! uses; `cpio -t < image` lists it. An archive is a sequence of entries, each
//!
//! ```text
//! header   110 bytes of ASCII: the magic "070701", then 13 fields of 8 hex digits:
//!          ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor
//!          namesize check
//! name     `namesize` bytes: the path (without a leading '/') and a NUL;
//!          zeros up to a multiple of 4 (counted from the entry's start)
//! data     `filesize` bytes (files only); zeros up to a multiple of 4
//! ```
//!
//! and the archive ends with an entry named `TRAILER!!!`. `mode` holds the file type
//! (`0o040000` directory, `0o100000` regular file) and the permission bits. This writer
//! numbers inodes from 1 in the order entries are added, gives directories 2 links and
//! files 1, and sets uid, gid, mtime, the device numbers and `check` to 0 (so the same
//! files always give the same bytes). The trailer has inode 0, mode 0 and 1 link, as
//! GNU cpio writes it.
//!
//! ```no_run
//! let mut image = userland::initrd::Builder::new();
//! image.add_dir("/etc", 0o755).add_file("/etc/motd", 0o644, b"hello\n");
//! let bytes: Vec<u8> = image.finish();
//! ```
//!
//! [`default_image`] is the standard image: every guest program in `/bin`, plus `/tmp`
//! and `/etc` with a `motd`.

use std::collections::BTreeSet;

/// File type bits of a directory.
const S_IFDIR: u32 = 0o040_000;
/// File type bits of a regular file.
const S_IFREG: u32 = 0o100_000;
/// The name of the last entry.
const TRAILER: &str = "TRAILER!!!";

/// Builds a cpio "newc" archive entry by entry.
#[derive(Debug, Default)]
pub struct Builder {
    out: Vec<u8>,
    next_ino: u32,
    /// The paths added so far (without a leading '/').
    paths: BTreeSet<String>,
}

/// The fields of one entry's header that vary (the others are always 0).
struct Header {
    ino: u32,
    mode: u32,
    nlink: u32,
    filesize: u32,
}

impl Builder {
    /// An empty archive.
    pub fn new() -> Builder {
        Builder {
            next_ino: 1,
            ..Builder::default()
        }
    }

    /// Adds the directory `path` (`"/bin"` or `"bin"`) with permissions `mode`
    /// (`0o755`); missing parent directories are added first, with mode 0755.
    ///
    /// Panics if `path` is empty, has `.` or `..` components, or was added before.
    pub fn add_dir(&mut self, path: &str, mode: u32) -> &mut Builder {
        let name = self.claim(path);
        self.entry(&name, S_IFDIR | (mode & 0o7777), 2, &[]);
        self
    }

    /// Adds the regular file `path` with permissions `mode` (`0o644`, `0o755`) and
    /// contents `data`; missing parent directories are added first, with mode 0755.
    ///
    /// Panics as [`Builder::add_dir`] does, or if `data` is 4 GiB or more.
    pub fn add_file(&mut self, path: &str, mode: u32, data: &[u8]) -> &mut Builder {
        let name = self.claim(path);
        self.entry(&name, S_IFREG | (mode & 0o7777), 1, data);
        self
    }

    /// Appends the trailer and returns the archive.
    pub fn finish(mut self) -> Vec<u8> {
        self.write_entry(
            TRAILER,
            Header {
                ino: 0,
                mode: 0,
                nlink: 1,
                filesize: 0,
            },
            &[],
        );
        self.out
    }

    /// Checks `path`, adds its missing parents, records it; returns it without the
    /// leading '/'.
    fn claim(&mut self, path: &str) -> String {
        let name = path.trim_start_matches('/').trim_end_matches('/');
        let parts: Vec<&str> = name.split('/').collect();
        assert!(
            !name.is_empty() && parts.iter().all(|p| !matches!(*p, "" | "." | "..")),
            "initrd: bad path {path:?}"
        );
        for depth in 1..parts.len() {
            let parent = parts[..depth].join("/");
            if !self.paths.contains(&parent) {
                self.add_dir(&parent, 0o755);
            }
        }
        assert!(
            self.paths.insert(name.to_string()),
            "initrd: {path:?} added twice"
        );
        name.to_string()
    }

    /// Adds an entry with the next inode number.
    fn entry(&mut self, name: &str, mode: u32, nlink: u32, data: &[u8]) {
        let filesize = u32::try_from(data.len()).expect("initrd: file of 4 GiB or more");
        let ino = self.next_ino;
        self.next_ino += 1;
        let header = Header {
            ino,
            mode,
            nlink,
            filesize,
        };
        self.write_entry(name, header, data);
    }

    /// Writes header, name and data, each padded to a multiple of 4 bytes.
    fn write_entry(&mut self, name: &str, h: Header, data: &[u8]) {
        let namesize = name.len() as u32 + 1; // with the NUL
        let fields = [
            h.ino, h.mode, 0, 0, h.nlink, 0, h.filesize, 0, 0, 0, 0, namesize, 0,
        ];
        self.out.extend_from_slice(b"070701");
        for field in fields {
            self.out
                .extend_from_slice(format!("{field:08X}").as_bytes());
        }
        self.out.extend_from_slice(name.as_bytes());
        self.out.push(0);
        self.pad();
        self.out.extend_from_slice(data);
        self.pad();
    }

    /// Zeros up to the next multiple of 4 bytes (entries start 4-aligned, so aligning
    /// the archive aligns within the entry too).
    fn pad(&mut self) {
        while !self.out.len().is_multiple_of(4) {
            self.out.push(0);
        }
    }
}

/// The text of `/etc/motd` in [`default_image`].
pub const MOTD: &str = "\
Welcome to the vkernel.
Programs live in /bin: try ls /bin, ps, echo hi | wc, usertests.
";

/// The standard initial file system: `/bin/<name>` (mode 0755) for every guest
/// program (without debug sections: the full ELF files on the host keep them), `/tmp` (mode 1777) and `/etc` with [`MOTD`] in `/etc/motd`.
///
/// Panics if a program's ELF file cannot be read (the build script made them all).
pub fn default_image() -> Vec<u8> {
    default_builder().finish()
}

/// The entries of [`default_image`], not yet finished, so that more files can be added
/// (the kernel's `--file` option does).
///
/// Panics if a program's ELF file cannot be read (the build script made them all).
// ANCHOR: default-builder
pub fn default_builder() -> Builder {
    let mut image = Builder::new();
    image.add_dir("/bin", 0o755);
    for (name, path) in crate::programs_stripped() {
        let elf = std::fs::read(path)
            .unwrap_or_else(|e| panic!("initrd: cannot read {}: {e}", path.display()));
        image.add_file(&format!("/bin/{name}"), 0o755, &elf);
    }
    image
        .add_dir("/etc", 0o755)
        .add_file("/etc/motd", 0o644, MOTD.as_bytes())
        .add_dir("/tmp", 0o1777);
    image
}
// ANCHOR_END: default-builder
