//! Building submissions from a pristine tree (a tiny fake cargo workspace whose `vkernel`
//! is a trivial Rust program), and batch grading through the command line.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use autograder::build::{build_kernel, build_kernel_with, overlay, BuildOptions};
use autograder::Error;

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

const ANSWER_TODO: &str = "pub fn greeting() -> &'static str { \"todo\" }\n";
const ANSWER_GOOD: &str = "pub fn greeting() -> &'static str { \"hello\" }\n";

/// The pristine tree: a workspace with the package `vkernel`; `vkernel/src/answer.rs` is
/// the student file, `main.rs` is provided code.
fn pristine(root: &Path) -> PathBuf {
    let p = root.join("pristine");
    write(
        &p,
        "Cargo.toml",
        "[workspace]\nresolver = \"2\"\nmembers = [\"vkernel\"]\n",
    );
    write(
        &p,
        "vkernel/Cargo.toml",
        "[package]\nname = \"vkernel\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    );
    write(
        &p,
        "vkernel/src/main.rs",
        "mod answer;\nfn main() {\n    println!(\"{}\", answer::greeting());\n    \
         eprintln!(\"vkernel: leaks: frames=0 procs=0 files=0\");\n}\n",
    );
    write(&p, "vkernel/src/answer.rs", ANSWER_TODO);
    write(&p, "target/junk", "not copied");
    write(&p, ".git/HEAD", "not copied");
    p
}

fn lab(root: &Path) -> autograder::Lab {
    write(
        root,
        "lab.toml",
        r#"
[lab]
name = "greet"
title = "Greetings"
student_files = ["vkernel/src/answer.rs"]
[[test]]
name = "greets"
points = 10
timeout = "5s"
[test.expect]
exit = 0
stdout_contains = ["hello"]
"#,
    );
    autograder::lab::load(root.join("lab.toml")).unwrap()
}

#[test]
fn a_submission_is_built_from_the_pristine_tree_plus_its_student_files() {
    let dir = tempfile::tempdir().unwrap();
    let pristine = pristine(dir.path());
    let lab = lab(dir.path());
    let sub = dir.path().join("alice");
    write(&sub, "vkernel/src/answer.rs", ANSWER_GOOD);
    // Provided code in a submission is ignored.
    write(&sub, "vkernel/src/main.rs", "fn main() { loop {} }\n");
    let bin = build_kernel(&sub, &pristine, &lab, &dir.path().join("out")).unwrap();
    assert_eq!(
        bin,
        std::fs::canonicalize(dir.path().join("out"))
            .unwrap()
            .join("release/vkernel")
    );
    let out = Command::new(&bin).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");

    // A compile error: the build output is in the error.
    write(
        &sub,
        "vkernel/src/answer.rs",
        "pub fn greeting() -> &'static str { 42 }\n",
    );
    let e = build_kernel(&sub, &pristine, &lab, &dir.path().join("out2")).unwrap_err();
    let Error::Build {
        message, output, ..
    } = e
    else {
        panic!("{e}")
    };
    assert!(message.contains("exited with status"), "{message}");
    assert!(output.contains("mismatched types"), "{output}");

    // A build that takes too long is stopped.
    let opts = BuildOptions {
        timeout: Duration::from_millis(30),
        ..BuildOptions::default()
    };
    let e = build_kernel_with(&sub, &pristine, &lab, &dir.path().join("out3"), &opts).unwrap_err();
    assert!(
        e.to_string().contains("the build took longer than 30ms"),
        "{e}"
    );
}

#[test]
fn student_files_cannot_reach_outside() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    let sub = dir.path().join("sub");
    write(&sub, "ok.rs", "x");
    for bad in ["../x.rs", "/etc/passwd", "a/../../x.rs"] {
        let e = overlay(&sub, &tree, &[bad.to_string()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("leaves the kernel tree") || e.contains("is absolute"),
            "{bad}: {e}"
        );
    }
    std::os::unix::fs::symlink("/etc/passwd", sub.join("link.rs")).unwrap();
    let e = overlay(&sub, &tree, &["link.rs".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("is a symbolic link"), "{e}");
    std::os::unix::fs::symlink("/etc", sub.join("etc")).unwrap();
    let e = overlay(&sub, &tree, &["etc/passwd".into()])
        .unwrap_err()
        .to_string();
    assert!(e.contains("outside the submission"), "{e}");
    // Missing files keep the tree's version and are reported.
    let missing = overlay(&sub, &tree, &["ok.rs".into(), "gone.rs".into()]).unwrap();
    assert_eq!(missing, ["gone.rs"]);
    assert_eq!(std::fs::read_to_string(tree.join("ok.rs")).unwrap(), "x");
}

#[test]
fn batch_grading_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let pristine = pristine(dir.path());
    lab(dir.path());
    let subs = dir.path().join("subs");
    write(&subs, "alice/vkernel/src/answer.rs", ANSWER_GOOD);
    write(&subs, "bob/vkernel/src/answer.rs", "this is not rust\n");
    // Carol changed only provided code: it is not taken.
    write(
        &subs,
        "carol/vkernel/src/main.rs",
        "fn main() { println!(\"hello\"); }\n",
    );
    let out = dir.path().join("graded");
    let st = Command::new(env!("CARGO_BIN_EXE_autograder"))
        .args(["batch", "--lab"])
        .arg(dir.path().join("lab.toml"))
        .arg("--pristine")
        .arg(&pristine)
        .arg("--submissions")
        .arg(&subs)
        .arg("--out")
        .arg(&out)
        .args(["--seed", "5", "--parallel", "2"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&st.stderr);
    assert!(st.status.success(), "{stderr}");
    assert!(stderr.contains("alice: 10/10"), "{stderr}");
    assert!(stderr.contains("bob: build failed"), "{stderr}");
    let csv = std::fs::read_to_string(out.join("grades.csv")).unwrap();
    assert_eq!(
        csv,
        "id,total,greets,note\nalice,10,10,\nbob,0,0,build failed\ncarol,0,0,\n"
    );
    let alice: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("alice/results.json")).unwrap())
            .unwrap();
    assert_eq!(alice["score"], 10.0);
    assert_eq!(alice["tests"][0]["status"], "passed");
    assert!(out.join("alice/logs/greets.log").is_file());
    assert!(out.join("alice/vkernel").is_file());
    assert!(
        !out.join("alice/target").exists(),
        "target/ is removed after the build"
    );
    let bob: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("bob/results.json")).unwrap())
            .unwrap();
    assert_eq!(bob["score"], 0.0);
    assert!(
        bob["output"].as_str().unwrap().contains("did not build"),
        "{bob}"
    );
    assert!(std::fs::read_to_string(out.join("bob/build.log"))
        .unwrap()
        .contains("error"));
    let carol: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("carol/report.json")).unwrap())
            .unwrap();
    assert_eq!(carol["tests"][0]["reason"], "stdout lacks `hello`");
    assert_eq!(carol["seed"], 5);
}
