//! The lab definitions agree with the tree: the student files of the labs are exactly the
//! files of `reference-solution/` (the holes), each in one lab, each present in the
//! skeleton. A student file missing from the list would be thrown away by batch grading.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn files_under(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let p = entry.path();
        if p.is_dir() {
            files_under(&p, base, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.insert(p.strip_prefix(base).unwrap().display().to_string());
        }
    }
}

#[test]
fn student_files_are_exactly_the_reference_files() {
    let root = root();
    let mut solved = BTreeSet::new();
    let reference = root.join("reference-solution/src");
    files_under(&reference, &reference, &mut solved);
    let mut listed = BTreeSet::new();
    for lab in ["vm", "fault", "sched"] {
        let def = autograder::lab::load(root.join(format!("labs/{lab}/lab.toml"))).unwrap();
        for file in &def.student_files {
            assert!(
                root.join(file).is_file(),
                "lab {lab}: student file {file} does not exist"
            );
            let relative = file
                .strip_prefix("kernel-skeleton/src/")
                .unwrap_or_else(|| panic!("lab {lab}: {file} is not under kernel-skeleton/src"));
            assert!(listed.insert(relative.to_string()), "{file} is in two labs");
        }
    }
    assert_eq!(
        listed, solved,
        "the labs' student_files must name exactly the files reference-solution/src solves"
    );
}
