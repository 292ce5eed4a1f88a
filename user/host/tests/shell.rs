//! The shell (`sh -c`, scripts, standard input) and `init`, run natively with `PATH`
//! set to the guest programs.

mod common;

use std::time::{Duration, Instant};

use common::{bin_dir, expect, run_in, scratch};

/// Runs `sh -c script` in a new scratch directory called `name`.
fn sh(name: &str, script: &str) -> std::process::Output {
    run_in(&scratch(name), "sh", &["-c", script], "")
}

#[test]
fn pipelines_connect_commands() {
    expect(
        &sh("sh-pipe", "echo hello world | wc"),
        0,
        "      1       2      12\n",
        "",
    );
    expect(
        &sh("sh-pipe3", "echo a; echo b | cat | cat | grep b | wc -l"),
        0,
        "a\n      1\n",
        "",
    );
    // The status of a pipeline is the last command's.
    expect(&sh("sh-pipe-status", "true | false; echo $?"), 0, "1\n", "");
    expect(
        &sh("sh-pipe-status2", "false | true; echo $?"),
        0,
        "0\n",
        "",
    );
    // A reader that stops early does not hang the pipeline.
    expect(
        &sh("sh-pipe-early", "cat /dev/zero | grep -c x < /dev/null"),
        1,
        "0\n",
        "",
    );
}

#[test]
fn redirections_open_files() {
    let dir = scratch("sh-redir");
    let script = "echo one > f; echo two >> f; cat < f; wc -l < f > count; cat count; \
                  cat missing 2> err; echo $?; cat err; echo both > f2 2>&1; cat f2; \
                  cat missing > out 2>&1; cat out; echo to-stderr 1>&2";
    let out = run_in(&dir, "sh", &["-c", script], "");
    expect(
        &out,
        0,
        "one\ntwo\n      2\n1\ncat: missing: No such file or directory\nboth\n\
         cat: missing: No such file or directory\n",
        "to-stderr\n",
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("count")).unwrap(),
        "      2\n"
    );
    let out = run_in(&dir, "sh", &["-c", "cat < nothere; echo $?"], "");
    expect(&out, 0, "1\n", "sh: nothere: No such file or directory\n");
    // A command that is only a redirection creates the file.
    run_in(&dir, "sh", &["-c", "> empty"], "");
    assert_eq!(std::fs::read(dir.join("empty")).unwrap(), b"");
}

#[test]
fn quotes_escapes_comments_and_variables() {
    expect(
        &sh(
            "sh-quotes",
            r#"echo 'a  b' "c  d" e\ f \'g\' "h\"i" 'j"k' # comment"#,
        ),
        0,
        "a  b c  d e f 'g' h\"i j\"k\n",
        "",
    );
    expect(
        &sh("sh-empty-args", r#"echo x '' y "" z | wc -w"#),
        0,
        "      3\n",
        "",
    );
    expect(
        &sh("sh-dollar", r#"echo $? '$?' "$?" $ a$"#),
        0,
        "0 $? 0 $ a$\n",
        "",
    );
    expect(
        &sh("sh-env", r#"echo "[$PATH]" "[$UNSET]" $UNSET x"#),
        0,
        &format!("[{}] [] x\n", bin_dir().display()),
        "",
    );
    expect(
        &sh("sh-multiline", "echo 'first\nsecond' \\\n  continued"),
        0,
        "first\nsecond continued\n",
        "",
    );
}

#[test]
fn status_and_connectors() {
    expect(
        &sh(
            "sh-status",
            "false; echo $?; true; echo $?; nosuch; echo $?",
        ),
        0,
        "1\n0\n127\n",
        "sh: nosuch: not found\n",
    );
    expect(
        &sh(
            "sh-andor",
            "true && echo and; false && echo no; false || echo or; true || echo no",
        ),
        0,
        "and\nor\n",
        "",
    );
    // The shell's status is the last command's.
    expect(&sh("sh-last", "true; false"), 1, "", "");
    expect(
        &sh("sh-last-notfound", "./nothing-here"),
        127,
        "",
        "sh: ./nothing-here: not found\n",
    );
    // Killed commands: 128 + the signal.
    expect(
        &sh("sh-killed", "sh -c 'kill -9 $$'; echo $?"),
        0,
        "137\n",
        "",
    );
    expect(&sh("sh-termed", "sh -c 'kill $$'; echo $?"), 0, "143\n", "");
}

#[test]
fn builtins_cd_exit_wait() {
    let dir = scratch("sh-builtins");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/inside"), "").unwrap();
    let out = run_in(
        &dir,
        "sh",
        &["-c", "cd sub; ls; cd ..; ls; cd nowhere; echo $?"],
        "",
    );
    expect(
        &out,
        0,
        "inside\nsub\n1\n",
        "sh: cd: nowhere: No such file or directory\n",
    );
    expect(
        &run_in(&dir, "sh", &["-c", "exit 3; echo never"], ""),
        3,
        "",
        "",
    );
    expect(&run_in(&dir, "sh", &["-c", "false; exit"], ""), 1, "", "");
    expect(&run_in(&dir, "sh", &["-c", "exit 300"], ""), 44, "", "");
    let out = run_in(&dir, "sh", &["-c", "exit nope"], "");
    expect(&out, 2, "", "sh: exit: nope: numeric argument required\n");
    // A builtin in a pipeline runs in a child: cd there changes nothing here.
    expect(
        &run_in(&dir, "sh", &["-c", "cd sub | cat; ls"], ""),
        0,
        "sub\n",
        "",
    );
}

#[test]
fn background_jobs_and_wait() {
    let start = Instant::now();
    let out = sh("sh-bg", "sleep 0.3 & echo started; wait; echo waited $?");
    expect(&out, 0, "started\nwaited 0\n", "");
    assert!(start.elapsed() >= Duration::from_millis(300));
    // `wait PID` returns the job's status; $! is its pid.
    let out = sh(
        "sh-bg-pid",
        "sh -c 'exit 5' & wait $!; echo $?; sleep 0.1 & echo x; wait",
    );
    expect(&out, 0, "5\nx\n", "");
    // Background jobs run at the same time: three sleeps of 0.3 s take well under 0.9 s.
    let start = Instant::now();
    expect(
        &sh("sh-bg-parallel", "sleep 0.3 & sleep 0.3 & sleep 0.3 & wait"),
        0,
        "",
        "",
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_millis(850),
        "{took:?}"
    );
    let out = sh("sh-wait-stranger", "wait 1; echo $?");
    expect(&out, 0, "127\n", "sh: wait: 1: not a child of this shell\n");
}

#[test]
fn syntax_errors_are_reported() {
    for (script, message) in [
        ("echo 'open", "unterminated single quote"),
        ("echo \"open", "unterminated double quote"),
        ("echo >", "`>` needs a file name"),
        ("cat <", "`<` needs a file name"),
        ("echo 2>&", "`>&` needs a descriptor number"),
        ("| wc", "unexpected `|`"),
        ("echo a | | wc", "unexpected `|`"),
        ("echo a ;; echo b", "unexpected `;`"),
        ("echo a |", "a command must follow `|`"),
        ("true &&", "a command must follow `&&`"),
        ("echo trailing \\", "`\\` at the end of the input"),
        ("echo trailing \\\n", "`\\` at the end of the input"),
        (
            "echo (x)",
            "`(` and `)` are not supported (no subshells or functions)",
        ),
    ] {
        let out = sh("sh-syntax", script);
        expect(&out, 2, "", &format!("sh: syntax error: {message}\n"));
    }
    // Lines before the error run; the shell stops at it.
    let out = sh("sh-syntax-late", "echo before\necho 'bad\n");
    expect(
        &out,
        2,
        "before\n",
        "sh: syntax error: unterminated single quote\n",
    );
}

#[test]
fn scripts_and_standard_input() {
    let dir = scratch("sh-script");
    std::fs::write(
        dir.join("script.sh"),
        "# a script\necho \"$0 has $# args: $1 and $2\"\necho \"$@\" | wc -w\nexit 7\necho never\n",
    )
    .unwrap();
    let out = run_in(&dir, "sh", &["script.sh", "one", "two words"], "");
    expect(
        &out,
        7,
        "script.sh has 2 args: one and two words\n      3\n",
        "",
    );
    // A script stops at a syntax error, after running the lines before it.
    std::fs::write(dir.join("bad.sh"), "echo ok\nf() { :; }\necho never\n").unwrap();
    let out = run_in(&dir, "sh", &["bad.sh"], "");
    let message = "sh: syntax error: `(` and `)` are not supported (no subshells or functions)\n";
    expect(&out, 2, "ok\n", message);
    let out = run_in(&dir, "sh", &["-c", "echo $1-$2-$0", "name", "a", "b"], "");
    expect(&out, 0, "a-b-name\n", "");
    let out = run_in(&dir, "sh", &["missing.sh"], "");
    expect(&out, 127, "", "sh: missing.sh: No such file or directory\n");
    // From standard input (a pipe, not a terminal): no prompt.
    let out = run_in(
        &dir,
        "sh",
        &[],
        "echo one\n\n# nothing\necho 'two\nlines' | wc -l\nexit 4\necho never\n",
    );
    expect(&out, 4, "one\n      2\n", "");
    let out = run_in(&dir, "sh", &[], "false");
    expect(&out, 1, "", "");
    // The shell takes only its own lines from standard input: `cat` gets the rest.
    let out = run_in(&dir, "sh", &[], "cat\nthis is for cat\necho and this\n");
    expect(&out, 0, "this is for cat\necho and this\n", "");
}

#[test]
fn init_runs_a_program_and_returns_its_status() {
    let dir = scratch("init");
    expect(&run_in(&dir, "init", &["exitcode", "5"], ""), 5, "", "");
    let echo = userland::program("echo").unwrap().to_str().unwrap();
    expect(
        &run_in(&dir, "init", &[echo, "hi", "there"], ""),
        0,
        "hi there\n",
        "",
    );
    expect(
        &run_in(&dir, "init", &["sh", "-c", "echo in sh; exit 4"], ""),
        4,
        "in sh\n",
        "",
    );
    // Killed: 128 + the signal.
    expect(
        &run_in(&dir, "init", &["sh", "-c", "kill -9 $$"], ""),
        137,
        "",
        "",
    );
    expect(
        &run_in(&dir, "init", &["no-such-program"], ""),
        127,
        "",
        "init: no-such-program: No such file or directory\n",
    );
    // While waiting, init reaps its other children too (here: the shell's orphan is
    // not ours natively, but the program's own exit is reported once it ends).
    expect(
        &run_in(&dir, "init", &["sh", "-c", "sleep 0.1 & exit 6"], ""),
        6,
        "",
        "",
    );
    // Without arguments: /bin/sh (the host's, natively) reading standard input.
    expect(&run_in(&dir, "init", &[], "exit 9\n"), 9, "", "");
}
