//! Lab definitions: what loads, and the errors for what does not (file and field named).

use std::path::Path;
use std::time::Duration;

use autograder::lab::{load, load_with_hidden, Stream};
use autograder::Error;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

fn err(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "lab.toml", text);
    let e = load(&p).unwrap_err();
    let s = e.to_string();
    assert!(
        s.starts_with(&p.display().to_string()),
        "error names the file: {s}"
    );
    s
}

const HEAD: &str = "[lab]\nname = \"vm\"\n";

#[test]
fn the_example_of_the_readme_loads() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "labs/vm/lab.toml",
        r#"
[lab]
name = "vm"
title = "Address spaces and page tables"
chapter = "labs/vm.md"
student_files = ["src/mm/pagetable.rs", "src/mm/uaccess.rs"]
requires = []

[[test]]
name = "hello_runs"
points = 10
timeout = "10s"
hidden = false
hint = "Mapping pages: labs/vm.md#mapping"
memory = "64M"
vkernel_args = ["--hz", "100"]
init = ["/bin/sh", "-c", "echo {seed} | wc -c"]
stdin = ""
[test.expect]
exit = 0
stdout_contains = ["hello"]
stdout_not_contains = []
stdout_regex = []
stderr_contains = []
no_panic = true
leaks_clean = true
[[test.expect.number]]
regex = "share ([0-9.]+)"
min = 0.2
max = 0.3

[[test]]
name = "second"
points = 2.5
"#,
    );
    let lab = load(&p).unwrap();
    assert_eq!(lab.name, "vm");
    assert_eq!(lab.title, "Address spaces and page tables");
    assert_eq!(lab.total_points(), 12.5);
    let t = &lab.tests[0];
    assert_eq!(t.timeout, Duration::from_secs(10));
    assert_eq!(t.cpu_limit, Duration::from_secs(11));
    assert_eq!(t.memory, "64M");
    assert_eq!(t.memory_bytes, 64 << 20);
    assert_eq!(t.init, ["/bin/sh", "-c", "echo {seed} | wc -c"]);
    assert_eq!(t.expect.exit, Some(0));
    assert_eq!(t.expect.number[0].stream, Stream::Stdout);
    // Defaults: no exit check, panic and leak checks on, the chapter as hint.
    let d = &lab.tests[1];
    assert_eq!(d.expect.exit, None);
    assert!(d.expect.no_panic && d.expect.leaks_clean);
    assert_eq!(d.hint.as_deref(), Some("labs/vm.md"));
    assert_eq!(d.timeout, Duration::from_secs(10));
    assert_eq!(d.memory, "64M");
}

#[test]
fn the_demo_lab_loads() {
    let lab = load(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/demo.toml")).unwrap();
    assert_eq!(lab.name, "demo");
    assert_eq!(lab.total_points(), 100.0);
}

#[test]
fn syntax_and_type_errors_give_line_and_field() {
    let e = err("[lab]\nname = \"vm\"\n[[test]]\nname = \"a\"\npoints = \"ten\"\n");
    assert!(e.contains("line 5") && e.contains("points"), "{e}");
    let e = err("[lab]\nname = \"vm\"\n[[test]]\nname = \"a\"\npoints = 1\npionts = 2\n");
    assert!(e.contains("unknown field `pionts`"), "{e}");
    let e = err("[lab\n");
    assert!(e.contains("line 1"), "{e}");
    let e = err("[[test]]\nname = \"a\"\npoints = 1\n");
    assert!(e.contains("`[lab]` table is missing"), "{e}");
    let e = err(&format!("{HEAD}[[test]]\nname = \"a\"\n"));
    assert!(e.contains("missing field `points`"), "{e}");
}

#[test]
fn bad_values_name_the_test_and_the_field() {
    let cases = [
        (
            "timeout = \"10x\"",
            "test `a` (test #1): timeout: `10x` is not a duration",
        ),
        (
            "memory = \"64MB\"",
            "test `a` (test #1): memory: `64MB` is not a size",
        ),
        (
            "init = [\"{sed}\"]",
            "test `a` (test #1): init[0]: unknown placeholder `{sed}`",
        ),
        (
            "stdin = \"{lab_dir}\"",
            "test `a` (test #1): stdin: `{lab_dir}` may only be used",
        ),
        (
            "vkernel_args = [\"--\"]",
            "test `a` (test #1): vkernel_args: `--` is added by the grader",
        ),
        (
            "points = -1",
            "test `a` (test #1): points: -1 is not a number of points",
        ),
        (
            "[test.expect]\nstdout_regex = [\"(\"]",
            "test `a` (test #1): expect.stdout_regex[0]: bad regex",
        ),
        (
            "[[test.expect.number]]\nregex = \"share [0-9]+\"\nmin = 1",
            "test `a` (test #1): expect.number[0].regex: needs exactly one capture group",
        ),
        (
            "[[test.expect.number]]\nregex = \"s ([0-9]+)\"\nmin = 2\nmax = 1",
            "min 2 is above max 1",
        ),
        (
            "[[test.expect.number]]\nregex = \"s ([0-9]+)\"",
            "give `min`, `max` or both",
        ),
        (
            "[[test.expect.number]]\nregex = \"s ([0-9]+)\"\nmin = 1\nstream = \"stdin\"",
            "expect.number[0].stream: `stdin` is not `stdout` or `stderr`",
        ),
        (
            "[test.expect]\nstdout_contains = [\"{checksum:x}\"]",
            "expect.stdout_contains[0]: `{checksum:x}`",
        ),
    ];
    for (body, want) in cases {
        let text = if body.starts_with('[') {
            format!("{HEAD}[[test]]\nname = \"a\"\npoints = 1\n{body}\n")
        } else {
            let body = body.replace("points = -1", "");
            let points = if body.is_empty() { "-1" } else { "1" };
            format!("{HEAD}[[test]]\nname = \"a\"\npoints = {points}\n{body}\n")
        };
        let e = err(&text);
        assert!(e.contains(want), "for {body:?}: {e}");
    }
}

#[test]
fn names_paths_and_duplicates_are_checked() {
    let e = err("[lab]\nname = \"v m\"\n");
    assert!(e.contains("lab.name: `v m` is not a name"), "{e}");
    let e = err("[lab]\nname = \"vm\"\nstudent_files = [\"../evil.rs\"]\n");
    assert!(
        e.contains("lab.student_files[0]: `../evil.rs` leaves the kernel tree"),
        "{e}"
    );
    let e = err("[lab]\nname = \"vm\"\nstudent_files = [\"/etc/passwd\"]\n");
    assert!(e.contains("is absolute"), "{e}");
    let e = err(&format!(
        "{HEAD}[[test]]\nname = \"a\"\npoints = 1\n[[test]]\nname = \"a\"\npoints = 1\n"
    ));
    assert!(
        e.contains("test `a` (test #2): a test of that name is already defined"),
        "{e}"
    );
    let e = err(&format!("{HEAD}[[test]]\nname = \"a/b\"\npoints = 1\n"));
    assert!(e.contains("test #1: name: `a/b` is not a test name"), "{e}");
    let e = err("[lab]\nname = \"vm\"\nrequires = [\"nope\"]\n");
    assert!(e.contains("lab.requires[0]: lab `nope` not found"), "{e}");
}

#[test]
fn defaults_requires_and_hidden_tests() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "labs/vm/lab.toml",
        "[lab]\nname = \"vm\"\nstudent_files = [\"src/mm/pagetable.rs\"]\n",
    );
    let p = write(
        dir.path(),
        "labs/fault/lab.toml",
        r#"
[lab]
name = "fault"
chapter = "labs/fault.md"
student_files = ["src/mm/fault.rs", "src/mm/pagetable.rs"]
requires = ["vm"]
[defaults]
timeout = "3s"
memory = "128M"
vkernel_args = ["--hz", "1000", "--file", "{lab_dir}/prog"]
[[test]]
name = "cow"
points = 10
[[test]]
name = "own"
points = 5
timeout = 1
"#,
    );
    let lab = load(&p).unwrap();
    assert_eq!(lab.required_student_files, ["src/mm/pagetable.rs"]);
    assert_eq!(
        lab.overlay_files(),
        ["src/mm/pagetable.rs", "src/mm/fault.rs"]
    );
    let cow = &lab.tests[0];
    assert_eq!(cow.timeout, Duration::from_secs(3));
    assert_eq!(cow.memory, "128M");
    let lab_dir = std::fs::canonicalize(dir.path().join("labs/fault")).unwrap();
    assert_eq!(cow.vkernel_args[3], format!("{}/prog", lab_dir.display()));
    assert_eq!(lab.tests[1].timeout, Duration::from_secs(1));

    // Hidden tests: hidden by default, defaults inherited, names unique.
    let hidden = dir.path().join("hidden");
    write(
        &hidden,
        "fault.toml",
        "[[test]]\nname = \"secret\"\npoints = 7\n[[test]]\nname = \"shown\"\npoints = 1\nhidden = false\n",
    );
    let lab = load_with_hidden(&p, &hidden).unwrap();
    assert_eq!(lab.tests.len(), 4);
    assert_eq!(lab.total_points(), 23.0);
    let s = lab.test("secret").unwrap();
    assert!(s.hidden);
    assert_eq!(s.timeout, Duration::from_secs(3));
    assert_eq!(s.hint.as_deref(), Some("labs/fault.md"));
    assert!(!lab.test("shown").unwrap().hidden);
    // No hidden file for the lab: just the lab.
    let empty = tempfile::tempdir().unwrap();
    assert_eq!(load_with_hidden(&p, empty.path()).unwrap().tests.len(), 2);
    // A clash.
    write(
        &hidden,
        "fault.toml",
        "[[test]]\nname = \"cow\"\npoints = 1\n",
    );
    let e = load_with_hidden(&p, &hidden).unwrap_err().to_string();
    assert!(
        e.contains("fault.toml") && e.contains("already defined"),
        "{e}"
    );
    // A hidden file for another lab.
    write(&hidden, "fault.toml", "[lab]\nname = \"vm\"\n");
    assert!(matches!(
        load_with_hidden(&p, &hidden),
        Err(Error::Invalid { .. })
    ));
}

#[test]
fn circular_requirements_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "a.toml",
        "[lab]\nname = \"a\"\nrequires = [\"b\"]\n",
    );
    write(
        dir.path(),
        "b.toml",
        "[lab]\nname = \"b\"\nrequires = [\"a\"]\n",
    );
    let e = load(dir.path().join("a.toml")).unwrap_err().to_string();
    assert!(e.contains("circle: a -> b -> a"), "{e}");
}

#[test]
fn a_missing_file_is_an_io_error() {
    let e = load("/no/such/lab.toml").unwrap_err();
    assert!(matches!(e, Error::Io { .. }));
    assert!(e.to_string().starts_with("/no/such/lab.toml: "));
}
