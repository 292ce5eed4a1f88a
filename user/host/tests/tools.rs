//! The small Unix tools (echo, cat, wc, grep, ls, mkdir, rm, kill, sleep, ps, true,
//! false, spin, cowtest) run natively on files in a scratch directory.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{command, expect, run_in, scratch, stderr, stdout};

#[test]
fn echo_joins_its_arguments() {
    let dir = scratch("echo");
    expect(&run_in(&dir, "echo", &["a", "b  c"], ""), 0, "a b  c\n", "");
    expect(&run_in(&dir, "echo", &["-n", "x", "y"], ""), 0, "x y", "");
    expect(&run_in(&dir, "echo", &[], ""), 0, "\n", "");
    expect(&run_in(&dir, "echo", &["-n"], ""), 0, "", "");
}

#[test]
fn true_and_false() {
    let dir = scratch("true-false");
    expect(&run_in(&dir, "true", &["ignored"], ""), 0, "", "");
    expect(&run_in(&dir, "false", &[], ""), 1, "", "");
}

#[test]
fn cat_copies_files_and_standard_input() {
    let dir = scratch("cat");
    std::fs::write(dir.join("one"), "first\n").unwrap();
    std::fs::write(dir.join("two"), "second, no newline").unwrap();
    expect(
        &run_in(&dir, "cat", &["one", "two"], ""),
        0,
        "first\nsecond, no newline",
        "",
    );
    expect(
        &run_in(&dir, "cat", &[], "from stdin\n"),
        0,
        "from stdin\n",
        "",
    );
    expect(
        &run_in(&dir, "cat", &["one", "-", "one"], "mid\n"),
        0,
        "first\nmid\nfirst\n",
        "",
    );
    expect(
        &run_in(&dir, "cat", &["missing", "one"], ""),
        1,
        "first\n",
        "cat: missing: No such file or directory\n",
    );
    // Bigger than any buffer: a 1 MiB file comes through whole.
    let big: String = (0..100_000).map(|i| format!("{i:09}\n")).collect();
    std::fs::write(dir.join("big"), &big).unwrap();
    let out = run_in(&dir, "cat", &["big"], "");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout == big.as_bytes());
}

#[test]
fn wc_counts_lines_words_and_bytes() {
    let dir = scratch("wc");
    expect(
        &run_in(&dir, "wc", &[], "a b\nc  d e\nfoo"),
        0,
        "      2       6      14\n",
        "",
    );
    std::fs::write(dir.join("f"), "one two\nthree\n").unwrap();
    std::fs::write(dir.join("g"), "").unwrap();
    expect(
        &run_in(&dir, "wc", &["f", "g"], ""),
        0,
        "      2       3      14 f\n      0       0       0 g\n      2       3      14 total\n",
        "",
    );
    expect(&run_in(&dir, "wc", &["-l", "f"], ""), 0, "      2 f\n", "");
    expect(
        &run_in(&dir, "wc", &["-cw"], "x y"),
        0,
        "      2       3\n",
        "",
    );
    expect(
        &run_in(&dir, "wc", &["nope"], ""),
        1,
        "",
        "wc: nope: No such file or directory\n",
    );
}

#[test]
fn grep_selects_lines_and_reports_with_its_status() {
    let dir = scratch("grep");
    let fruit = "apple\nbanana\ncherry\nbandana";
    expect(
        &run_in(&dir, "grep", &["an"], fruit),
        0,
        "banana\nbandana\n",
        "",
    );
    expect(
        &run_in(&dir, "grep", &["-v", "an"], fruit),
        0,
        "apple\ncherry\n",
        "",
    );
    expect(&run_in(&dir, "grep", &["-c", "an"], fruit), 0, "2\n", "");
    expect(&run_in(&dir, "grep", &["-c", "kiwi"], fruit), 1, "0\n", "");
    expect(&run_in(&dir, "grep", &["kiwi"], fruit), 1, "", "");
    expect(&run_in(&dir, "grep", &[""], "1\n2\n"), 0, "1\n2\n", "");
    std::fs::write(dir.join("a"), "x1\ny\n").unwrap();
    std::fs::write(dir.join("b"), "x2\n").unwrap();
    expect(
        &run_in(&dir, "grep", &["x", "a", "b"], ""),
        0,
        "a:x1\nb:x2\n",
        "",
    );
    expect(
        &run_in(&dir, "grep", &["-c", "x", "a", "b"], ""),
        0,
        "a:1\nb:1\n",
        "",
    );
    expect(
        &run_in(&dir, "grep", &["x", "a", "missing"], ""),
        2,
        "a:x1\n",
        "grep: missing: No such file or directory\n",
    );
    let usage = run_in(&dir, "grep", &[], "");
    assert_eq!(usage.status.code(), Some(2));
    assert!(stderr(&usage).starts_with("usage: grep"));
    assert_eq!(
        run_in(&dir, "grep", &["-q", "x"], "").status.code(),
        Some(2)
    );
}

#[test]
fn ls_lists_sorted_names_and_details() {
    let dir = scratch("ls");
    std::fs::write(dir.join("b-file"), "12345").unwrap();
    std::fs::write(dir.join(".hidden"), "").unwrap();
    std::fs::create_dir(dir.join("a-dir")).unwrap();
    std::fs::write(dir.join("a-dir/inner"), "").unwrap();
    expect(&run_in(&dir, "ls", &[], ""), 0, "a-dir\nb-file\n", "");
    expect(
        &run_in(&dir, "ls", &["-a", "."], ""),
        0,
        ".hidden\na-dir\nb-file\n",
        "",
    );
    let long = run_in(&dir, "ls", &["-l"], "");
    let lines: Vec<&str> = stdout(&long).lines().collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("drwx") && lines[0].ends_with(" a-dir"),
        "{lines:?}"
    );
    assert_eq!(lines[1], "-rw-r--r--        5 b-file");
    expect(&run_in(&dir, "ls", &["b-file"], ""), 0, "b-file\n", "");
    expect(
        &run_in(&dir, "ls", &["a-dir", "b-file"], ""),
        0,
        "a-dir:\ninner\n\nb-file\n",
        "",
    );
    expect(
        &run_in(&dir, "ls", &["missing"], ""),
        1,
        "",
        "ls: missing: No such file or directory\n",
    );
}

#[test]
fn mkdir_and_rm_make_and_remove_trees() {
    let dir = scratch("mkdir-rm");
    expect(&run_in(&dir, "mkdir", &["d"], ""), 0, "", "");
    assert!(dir.join("d").is_dir());
    expect(
        &run_in(&dir, "mkdir", &["d"], ""),
        1,
        "",
        "mkdir: d: File exists\n",
    );
    expect(&run_in(&dir, "mkdir", &["-p", "d", "x/y/z"], ""), 0, "", "");
    assert!(dir.join("x/y/z").is_dir());
    expect(
        &run_in(&dir, "mkdir", &["no/such/parent"], ""),
        1,
        "",
        "mkdir: no/such/parent: No such file or directory\n",
    );
    std::fs::write(dir.join("x/y/file"), "data").unwrap();
    expect(
        &run_in(&dir, "rm", &["x"], ""),
        1,
        "",
        "rm: x: Is a directory\n",
    );
    expect(&run_in(&dir, "rm", &["x/y/file"], ""), 0, "", "");
    assert!(!dir.join("x/y/file").exists());
    std::fs::write(dir.join("x/y/z/deep"), "data").unwrap();
    expect(&run_in(&dir, "rm", &["-r", "x", "d"], ""), 0, "", "");
    assert!(!dir.join("x").exists() && !dir.join("d").exists());
    expect(
        &run_in(&dir, "rm", &["gone"], ""),
        1,
        "",
        "rm: gone: No such file or directory\n",
    );
    expect(&run_in(&dir, "rm", &["-f", "gone"], ""), 0, "", "");
}

#[test]
fn sleep_waits_and_spin_burns_cpu() {
    let dir = scratch("sleep-spin");
    let start = Instant::now();
    expect(&run_in(&dir, "sleep", &["0.25"], ""), 0, "", "");
    assert!(start.elapsed() >= Duration::from_millis(250));
    let start = Instant::now();
    expect(&run_in(&dir, "spin", &["150"], ""), 0, "", "");
    assert!(start.elapsed() >= Duration::from_millis(150));
    for (name, bad) in [("sleep", "1x"), ("sleep", "."), ("spin", "-5")] {
        let out = run_in(&dir, name, &[bad], "");
        assert_eq!(out.status.code(), Some(2), "{name} {bad}");
        assert!(stderr(&out).starts_with("usage: "), "{name} {bad}");
    }
}

#[test]
fn kill_sends_signals() {
    let dir = scratch("kill");
    for (option, signal) in [
        (None, libc::SIGTERM),
        (Some("-9"), libc::SIGKILL),
        (Some("-KILL"), libc::SIGKILL),
        (Some("-TERM"), libc::SIGTERM),
    ] {
        let mut sleeper = command("sleep", &["30"], &dir).spawn().unwrap();
        let pid = sleeper.id().to_string();
        let args: Vec<&str> = option.into_iter().chain([pid.as_str()]).collect();
        expect(&run_in(&dir, "kill", &args, ""), 0, "", "");
        assert_eq!(
            sleeper.wait().unwrap().signal(),
            Some(signal),
            "kill {args:?}"
        );
    }
    let out = run_in(&dir, "kill", &["-NOPE", "1"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).starts_with("kill: unknown signal -NOPE\n"));
    // A process that has been reaped: no such process.
    let mut gone = command("true", &[], &dir).spawn().unwrap();
    gone.wait().unwrap();
    let pid = gone.id().to_string();
    expect(
        &run_in(&dir, "kill", &[&pid], ""),
        1,
        "",
        &format!("kill: {pid}: No such process\n"),
    );
}

#[test]
fn ps_lists_processes_from_proc_on_linux() {
    let dir = scratch("ps");
    let out = run_in(&dir, "ps", &[], "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("  PID  PPID S NAME"));
    // ps itself is running, and its parent is this test.
    let me = std::process::id().to_string();
    let ps_line = lines
        .clone()
        .find(|l| l.ends_with(" R ps"))
        .unwrap_or_else(|| panic!("ps is not listed as running:\n{text}"));
    let fields: Vec<&str> = ps_line.split_whitespace().collect();
    assert_eq!(fields[1], me, "{ps_line}");
    assert!(lines.any(|l| l.split_whitespace().next() == Some(me.as_str())));
}

#[test]
fn cowtest_checks_private_copies() {
    let dir = scratch("cowtest");
    expect(&run_in(&dir, "cowtest", &["16"], ""), 0, "cowtest ok\n", "");
    expect(&run_in(&dir, "cowtest", &[], ""), 0, "cowtest ok\n", "");
    assert_eq!(run_in(&dir, "cowtest", &["0"], "").status.code(), Some(2));
}
