//! The book's system call table, generated from the kernel's source.
//!
//! The numbers come from `syscall/mod.rs` (`pub mod nr`), the handler of each number from
//! the arms of `dispatch`, and the text from the handler's doc comment: its first paragraph
//! (`` `read(fd, buf, count)`: what it does ``) and its `# Errors` section. A number with
//! no arm, or a handler without a doc comment, is an error: the table never goes stale and
//! never has holes.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

/// One row of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The Linux x86-64 number (1000 and up: vkernel's own).
    pub number: u64,
    /// The call's name (`read`).
    pub name: String,
    /// The call as the doc comment spells it (`read(fd, buf, count)`).
    pub call: String,
    /// What it does and what this kernel supports of it.
    pub what: String,
    /// Its errors, as the `# Errors` section says.
    pub errors: String,
}

static CONST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"pub const ([A-Z0-9_]+): u64 = (\d+);").expect("const regex"));
static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"nr::([A-Z0-9_]+) => "([a-z0-9_]+)""#).expect("name regex"));
static ARM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^\s*((?:nr::[A-Z0-9_]+\s*\|\s*)*nr::[A-Z0-9_]+)\s*=>").expect("arm regex")
});
static CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(proc|mem|file|time)::([a-z0-9_]+)\(").expect("call regex"));
static DOC_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[`([^`]+)`\](?:\([^)]*\))?").expect("doc link regex"));

/// The rows, by number, read from the kernel source under `root`.
///
/// # Errors
/// A file that cannot be read, a number without a dispatcher arm or name, or a handler
/// without a doc comment.
pub fn rows(root: &Path) -> Result<Vec<Row>, String> {
    let dir = root.join("kernel-skeleton/src/syscall");
    let read = |f: &str| {
        std::fs::read_to_string(dir.join(f))
            .map_err(|e| format!("cannot read {}: {e}", dir.join(f).display()))
    };
    let module = read("mod.rs")?;
    let numbers: BTreeMap<String, u64> = CONST
        .captures_iter(&module)
        .filter_map(|c| Some((c[1].to_string(), c[2].parse().ok()?)))
        .collect();
    let names: BTreeMap<String, String> = NAME
        .captures_iter(&module)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect();
    let dispatch_start = module
        .find("pub fn dispatch")
        .ok_or("syscall/mod.rs has no dispatch")?;
    let dispatch_end = module[dispatch_start..]
        .find("\n}\n")
        .map_or(module.len(), |e| dispatch_start + e);
    let dispatch = &module[dispatch_start..dispatch_end];
    let arms: Vec<_> = ARM.captures_iter(dispatch).collect();
    let mut handler_of: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (i, arm) in arms.iter().enumerate() {
        let whole = arm.get(0).expect("match");
        let end = arms
            .get(i + 1)
            .map_or(dispatch.len(), |n| n.get(0).expect("match").start());
        let body = &dispatch[whole.end()..end];
        let Some(call) = CALL.captures(body) else {
            return Err(format!(
                "syscall/mod.rs: the arm `{}` calls no handler in proc, mem, file or time",
                arm[1].trim()
            ));
        };
        for constant in arm[1].split('|') {
            let constant = constant.trim().trim_start_matches("nr::").to_string();
            handler_of.insert(constant, (call[1].to_string(), call[2].to_string()));
        }
    }
    let mut sources = BTreeMap::new();
    let mut rows = Vec::new();
    for (constant, number) in &numbers {
        let (file, function) = handler_of
            .get(constant)
            .ok_or_else(|| format!("syscall/mod.rs: nr::{constant} has no arm in dispatch"))?;
        let name = names
            .get(constant)
            .ok_or_else(|| format!("syscall/mod.rs: nr::{constant} has no name in name()"))?;
        if !sources.contains_key(file) {
            sources.insert(file.clone(), read(&format!("{file}.rs"))?);
        }
        let doc = doc_comment(&sources[file], function)
            .ok_or_else(|| format!("syscall/{file}.rs: {function} has no doc comment"))?;
        let (call, mut what, errors) = split_doc(&doc);
        // A handler serving several calls (fork for vfork): the row keeps its own name.
        let call = match call.split_once('(') {
            Some((doc_name, args)) if doc_name != name => {
                what = format!("as `{doc_name}`: {what}");
                format!("{name}({args}")
            }
            Some(_) => call,
            None => format!("{name}()"),
        };
        rows.push(Row {
            number: *number,
            name: name.clone(),
            call,
            what,
            errors,
        });
    }
    rows.sort_by_key(|r| r.number);
    Ok(rows)
}

/// The `///` lines above `pub fn NAME(`, without the slashes.
fn doc_comment(source: &str, function: &str) -> Option<String> {
    let lines: Vec<&str> = source.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&format!("pub fn {function}(")))?;
    let mut doc = Vec::new();
    for line in lines[..at].iter().rev() {
        let t = line.trim();
        if let Some(d) = t.strip_prefix("///") {
            doc.push(d.strip_prefix(' ').unwrap_or(d).to_string());
        } else if t.starts_with("#[") || t.starts_with("//") {
            continue; // attributes, and plain comments such as the book's anchors
        } else {
            break;
        }
    }
    doc.reverse();
    (!doc.is_empty()).then(|| doc.join("\n"))
}

/// (call, what it does, errors) from a handler's doc comment.
fn split_doc(doc: &str) -> (String, String, String) {
    let mut paragraphs = doc.split("\n\n");
    let first = paragraphs.next().unwrap_or_default().replace('\n', " ");
    let mut errors = String::new();
    let mut notes = Vec::new();
    let mut in_errors = false;
    for p in paragraphs {
        let p = p.trim();
        if let Some(rest) = p.strip_prefix("# Errors") {
            in_errors = true;
            errors = rest.trim().replace('\n', " ");
        } else if p.starts_with('#') {
            in_errors = false;
        } else if in_errors {
            errors.push(' ');
            errors.push_str(&p.replace('\n', " "));
        } else {
            notes.push(p.replace('\n', " "));
        }
    }
    let (call, mut what) = match first.strip_prefix('`').and_then(|r| r.split_once('`')) {
        Some((call, rest)) => {
            // "`exit(status)` and `exit_group(status)`: ..." documents two calls at once.
            let rest = rest.trim_start();
            let rest = match rest.strip_prefix("and `").and_then(|r| r.split_once('`')) {
                Some((_, after)) => after,
                None => rest,
            };
            (
                call.to_string(),
                rest.trim_start_matches([':', '.']).trim().to_string(),
            )
        }
        None => (String::new(), first.clone()),
    };
    for n in notes {
        if !what.is_empty() {
            what.push(' ');
        }
        what.push_str(&n);
    }
    let clean = |s: &str| DOC_LINK.replace_all(s, "`$1`").replace('|', "\\|");
    let errors = if errors.is_empty() {
        "none".to_string()
    } else {
        clean(&errors)
    };
    (call, clean(&what), errors)
}

/// The markdown table.
///
/// # Errors
/// As [`rows`].
pub fn table(root: &Path) -> Result<String, String> {
    let rows = rows(root)?;
    let mut t = String::new();
    let _ = writeln!(t, "| No. | Call | What this kernel does | Errors |");
    let _ = writeln!(t, "|---:|---|---|---|");
    for r in &rows {
        let _ = writeln!(
            t,
            "| {} | `{}` | {} | {} |",
            r.number,
            r.call.replace('|', "\\|"),
            if r.what.is_empty() { "" } else { &r.what },
            r.errors
        );
    }
    let _ = write!(
        t,
        "\n*{} calls. Generated from `kernel-skeleton/src/syscall/`: the numbers from `mod.rs`, \
         the text from each handler's doc comment.*\n",
        rows.len()
    );
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docs_split_into_call_text_and_errors() {
        let (call, what, errors) =
            split_doc("`read(fd, buf, count)`: read bytes.\n\n# Errors\n`EBADF`, `EFAULT`.");
        assert_eq!(call, "read(fd, buf, count)");
        assert_eq!(what, "read bytes.");
        assert_eq!(errors, "`EBADF`, `EFAULT`.");
        let (_, what, errors) = split_doc("`getpid()`: the caller's id. Never fails.");
        assert_eq!(what, "the caller's id. Never fails.");
        assert_eq!(errors, "none");
        let (_, _, errors) = split_doc("`x()`.\n\n# Errors\nAs [`fork`].");
        assert_eq!(errors, "As `fork`.");
        let (call, what, _) = split_doc("`exit(status)` and `exit_group(status)`: end it.");
        assert_eq!((call.as_str(), what.as_str()), ("exit(status)", "end it."));
    }

    #[test]
    fn the_kernel_table_is_complete() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let rows = rows(root).unwrap();
        let names: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        for expected in [
            "read",
            "write",
            "fork",
            "execve",
            "mmap",
            "vk_ptdump",
            "exit_group",
        ] {
            assert!(
                names.contains(&expected),
                "{expected} missing from {names:?}"
            );
        }
        let read = rows.iter().find(|r| r.name == "read").unwrap();
        assert_eq!(read.number, 0);
        assert_eq!(read.call, "read(fd, buf, count)");
        assert!(read.errors.contains("EBADF"));
        assert!(rows.windows(2).all(|w| w[0].number < w[1].number));
        let vfork = rows.iter().find(|r| r.name == "vfork").unwrap();
        assert_eq!(vfork.call, "vfork()");
        assert!(vfork.what.starts_with("as `fork`"), "{}", vfork.what);
        let exit_group = rows.iter().find(|r| r.name == "exit_group").unwrap();
        assert_eq!(exit_group.call, "exit_group(status)");
    }

    #[test]
    fn a_handler_without_docs_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let sys = dir.path().join("kernel-skeleton/src/syscall");
        std::fs::create_dir_all(&sys).unwrap();
        std::fs::write(
            sys.join("mod.rs"),
            "pub mod nr { pub const READ: u64 = 0; }\npub fn dispatch() {\n    match n {\n        nr::READ => file::read(cx),\n        _ => x,\n    }\n}\nfn name() { nr::READ => \"read\", }\n",
        )
        .unwrap();
        std::fs::write(sys.join("file.rs"), "pub fn read(cx: u8) {}\n").unwrap();
        assert!(rows(dir.path())
            .unwrap_err()
            .contains("read has no doc comment"));
        std::fs::write(
            sys.join("file.rs"),
            "/// `read(fd)`: reads.\npub fn read(cx: u8) {}\n",
        )
        .unwrap();
        assert_eq!(rows(dir.path()).unwrap()[0].call, "read(fd)");
    }
}
