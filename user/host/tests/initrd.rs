//! The initrd writer: the exact bytes of a small archive, a walk through the default
//! image, and the Debian `cpio` tool reading what we wrote.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

use userland::initrd::{default_image, Builder, MOTD};

#[test]
fn a_one_file_archive_has_the_newc_layout() {
    let mut image = Builder::new();
    image.add_file("/hi", 0o644, b"hey\n");
    let bytes = image.finish();
    let expected: &[u8] = concat!(
        // magic, ino 1, mode 0100644, uid, gid, nlink 1, mtime, filesize 4,
        // devmajor, devminor, rdevmajor, rdevminor, namesize 3 ("hi\0"), check
        "070701",
        "00000001",
        "000081A4",
        "00000000",
        "00000000",
        "00000001",
        "00000000",
        "00000004",
        "00000000",
        "00000000",
        "00000000",
        "00000000",
        "00000003",
        "00000000",
        "hi\0",
        "\0\0\0", // 110 + 3 = 113 bytes, padded to 116
        "hey\n",  // 4 bytes of data: already aligned
        // The trailer: ino 0, mode 0, nlink 1, namesize 11.
        "070701",
        "00000000",
        "00000000",
        "00000000",
        "00000000",
        "00000001",
        "00000000",
        "00000000",
        "00000000",
        "00000000",
        "00000000",
        "00000000",
        "0000000B",
        "00000000",
        "TRAILER!!!\0",
        "\0\0\0", // 110 + 11 = 121, padded to 124
    )
    .as_bytes();
    assert_eq!(bytes.len(), 244);
    assert_eq!(
        String::from_utf8_lossy(&bytes),
        String::from_utf8_lossy(expected)
    );
}

/// One entry of an archive, as [`parse`] reads it back.
#[derive(Debug)]
struct Entry {
    ino: u32,
    mode: u32,
    nlink: u32,
    data: Vec<u8>,
}

/// Reads a newc archive back (independently of the writer): the entries by name, in
/// order, without the trailer. Checks the magic, the alignment and the trailer.
fn parse(bytes: &[u8]) -> Vec<(String, Entry)> {
    let mut entries = Vec::new();
    let mut pos = 0;
    loop {
        assert_eq!(pos % 4, 0, "entry at {pos} is not aligned");
        let header = std::str::from_utf8(&bytes[pos..pos + 110]).unwrap();
        assert_eq!(&header[..6], "070701", "bad magic at {pos}");
        let field = |i: usize| u32::from_str_radix(&header[6 + 8 * i..14 + 8 * i], 16).unwrap();
        let (namesize, filesize) = (field(11) as usize, field(6) as usize);
        let name_end = pos + 110 + namesize;
        assert_eq!(bytes[name_end - 1], 0, "name without NUL at {pos}");
        let name = String::from_utf8(bytes[pos + 110..name_end - 1].to_vec()).unwrap();
        let data_start = name_end.next_multiple_of(4);
        let data = bytes[data_start..data_start + filesize].to_vec();
        pos = (data_start + filesize).next_multiple_of(4);
        if name == "TRAILER!!!" {
            assert_eq!(pos, bytes.len(), "bytes after the trailer");
            return entries;
        }
        for i in [2, 3, 5, 7, 8, 9, 10, 12] {
            assert_eq!(field(i), 0, "{name}: field {i} is not 0");
        }
        let (ino, mode, nlink) = (field(0), field(1), field(4));
        entries.push((
            name,
            Entry {
                ino,
                mode,
                nlink,
                data,
            },
        ));
    }
}

#[test]
fn the_default_image_holds_every_program_tmp_and_etc() {
    let entries = parse(&default_image());
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    let by_name: BTreeMap<&str, &Entry> = entries.iter().map(|(n, e)| (n.as_str(), e)).collect();
    assert_eq!(by_name.len(), entries.len(), "duplicate names: {names:?}");
    let mut inodes: Vec<u32> = entries.iter().map(|(_, e)| e.ino).collect();
    inodes.dedup();
    assert_eq!(inodes, (1..=entries.len() as u32).collect::<Vec<_>>());
    assert_eq!(names[0], "bin", "the directory comes before its files");
    for (name, path) in userland::programs_stripped() {
        let entry = by_name[format!("bin/{name}").as_str()];
        assert_eq!(entry.mode, 0o100_755, "bin/{name}");
        assert_eq!(entry.nlink, 1);
        assert!(
            entry.data == std::fs::read(path).unwrap(),
            "bin/{name} differs from {}",
            path.display()
        );
    }
    for program in ["init", "sh", "ls", "usertests"] {
        assert!(
            by_name.contains_key(format!("bin/{program}").as_str()),
            "{program}"
        );
    }
    assert_eq!(by_name["bin"].mode, 0o040_755);
    assert_eq!(by_name["bin"].nlink, 2);
    assert_eq!(by_name["tmp"].mode, 0o041_777);
    assert_eq!(by_name["etc"].mode, 0o040_755);
    assert_eq!(by_name["etc/motd"].mode, 0o100_644);
    assert_eq!(by_name["etc/motd"].data, MOTD.as_bytes());
    assert_eq!(entries.len(), userland::programs().count() + 4);
}

#[test]
fn missing_parents_are_added_and_paths_checked() {
    let mut image = Builder::new();
    image.add_file("a/b/c", 0o600, b"x").add_dir("/a/d/", 0o700);
    let entries = parse(&image.finish());
    let summary: Vec<(&str, u32)> = entries.iter().map(|(n, e)| (n.as_str(), e.mode)).collect();
    assert_eq!(
        summary,
        [
            ("a", 0o040_755),
            ("a/b", 0o040_755),
            ("a/b/c", 0o100_600),
            ("a/d", 0o040_700)
        ]
    );
    for bad in ["", "/", "a/../b", "a//b", "./a"] {
        let result = std::panic::catch_unwind(|| {
            Builder::new().add_dir(bad, 0o755);
        });
        assert!(result.is_err(), "{bad:?} was accepted");
    }
    let twice = std::panic::catch_unwind(|| {
        Builder::new().add_dir("x", 0o755).add_dir("/x", 0o755);
    });
    assert!(twice.is_err(), "a path added twice was accepted");
}

/// Runs `cpio` with `args` in `dir`, reading `archive`; returns its standard output.
/// Fails the test, saying what to install, if there is no `cpio` on `PATH`.
fn cpio(args: &[&str], archive: &Path, dir: &Path) -> String {
    let input = std::fs::File::open(archive).unwrap();
    let out = Command::new("cpio")
        .args(args)
        .current_dir(dir)
        .stdin(input)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `cpio` ({e}): this test needs the cpio tool on PATH to check the \
                 archive; install it (Debian/Ubuntu: `apt-get install cpio`)"
            )
        });
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cpio {args:?} failed: {stderr}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cpio_reads_the_default_image() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("initrd-cpio");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("root")).unwrap();
    let archive = dir.join("initrd.cpio");
    std::fs::write(&archive, default_image()).unwrap();

    let listed = cpio(&["-t", "--quiet"], &archive, &dir);
    let mut expected: Vec<String> = ["bin", "etc", "etc/motd", "tmp"].map(String::from).to_vec();
    expected.extend(userland::programs().map(|(name, _)| format!("bin/{name}")));
    expected.sort();
    let mut names: Vec<String> = listed.lines().map(String::from).collect();
    names.sort();
    assert_eq!(names, expected);

    cpio(
        &["-i", "-d", "--quiet", "--no-absolute-filenames"],
        &archive,
        &dir.join("root"),
    );
    let root = dir.join("root");
    assert_eq!(
        std::fs::read_to_string(root.join("etc/motd")).unwrap(),
        MOTD
    );
    for (name, path) in userland::programs_stripped() {
        let copy = root.join("bin").join(name);
        assert!(
            std::fs::read(&copy).unwrap() == std::fs::read(path).unwrap(),
            "{name}"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o111, 0o111, "bin/{name} is not executable");
    }
    // The extracted programs run.
    let echo = Command::new(root.join("bin/echo"))
        .arg("extracted")
        .output()
        .unwrap();
    assert_eq!(echo.stdout, b"extracted\n");
}
