//! `labs book`: build the workbook with mdBook, and refuse a book with problems.
//!
//! The build runs mdBook as a library with the book's own preprocessor (`labs book
//! preprocess`, see [`preprocess`]): generated test tables, exercise boxes, the system call
//! table and the command-line help, plus the checks on includes and lab chapters. After
//! the build every link and image of the HTML is followed ([`check_links`]). Any warning
//! mdBook logs, any problem the preprocessor finds and any broken link fail the command:
//! the book either builds clean or not at all.

pub mod cli_help;
pub mod preprocess;
pub mod syscalls;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};

use mdbook_driver::config::Config;
use mdbook_driver::MDBook;
use regex::Regex;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

/// Counts the warnings and errors mdBook logs.
struct Counter(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if *event.metadata().level() <= tracing::Level::WARN {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Log mdBook's messages to stderr and count its warnings.
fn log_and_count() -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let _ = tracing_subscriber::registry()
        .with(tracing_subscriber::filter::LevelFilter::INFO)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                .without_time(),
        )
        .with(Counter(Arc::clone(&count)))
        .try_init();
    count
}

/// Build the book of the repository at `root` into `out` (default `book/build`).
///
/// # Errors
/// Every problem, as text: mdBook's errors, the preprocessor's findings, broken links,
/// and the number of warnings.
pub fn build(root: &Path, out: Option<&Path>) -> Result<PathBuf, Vec<String>> {
    let book_dir = root.join("book");
    let warnings = log_and_count();
    let one = |e: String| vec![e];
    let mut config = Config::from_disk(book_dir.join("book.toml"))
        .map_err(|e| one(format!("book/book.toml: {e:#}")))?;
    config
        .update_from_env()
        .map_err(|e| one(format!("{e:#}")))?;
    let exe = std::env::current_exe().map_err(|e| one(format!("where am I: {e}")))?;
    let exe = exe.to_string_lossy();
    let quoted = shlex::try_quote(&exe).map_err(|e| one(format!("{exe}: {e}")))?;
    config
        .set(
            "preprocessor.vklabs.command",
            format!("{quoted} book preprocess"),
        )
        .map_err(|e| one(format!("{e:#}")))?;
    if let Some(out) = out {
        let out = std::path::absolute(out).map_err(|e| one(format!("{}: {e}", out.display())))?;
        config.build.build_dir = out;
    }
    let book = MDBook::load_with_config(&book_dir, config).map_err(|e| one(format!("{e:#}")))?;
    book.build().map_err(|e| one(format!("{e:#}")))?;
    let dir = book.build_dir_for("html");
    let mut problems = check_pictures(&book_dir.join("src"));
    problems.extend(check_links(&dir));
    let n = warnings.load(Ordering::Relaxed);
    if n > 0 {
        problems.push(format!(
            "mdBook logged {n} warning(s) or error(s) (above); the book must build clean"
        ));
    }
    if problems.is_empty() {
        Ok(dir)
    } else {
        Err(problems)
    }
}

/// `labs book [--out DIR] [--open]`.
pub fn command(root: &Path, out: Option<&Path>, open: bool) -> ExitCode {
    match build(root, out) {
        Ok(dir) => {
            let index = dir.join("index.html");
            eprintln!("labs: the book is at {}", index.display());
            if open {
                match std::process::Command::new("xdg-open").arg(&index).status() {
                    Ok(s) if s.success() => {}
                    _ => eprintln!("labs: could not open a browser; open the file above by hand"),
                }
            }
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for p in &problems {
                eprintln!("labs book: {p}");
            }
            ExitCode::from(1)
        }
    }
}

static HREF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?:href|src)="([^"]*)""#).expect("href regex"));
static ID: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"\bid="([^"]*)""#).expect("id regex"));

/// Every page's links and images point to files that exist, and `#fragments` to ids on
/// the page they name. `print.html` (all chapters at once) is left out.
pub fn check_links(dir: &Path) -> Vec<String> {
    let mut pages = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "html") {
                pages.insert(p.clone(), std::fs::read_to_string(&p).unwrap_or_default());
            }
        }
    }
    let ids: BTreeMap<&PathBuf, BTreeSet<&str>> = pages
        .iter()
        .map(|(p, text)| {
            (
                p,
                ID.captures_iter(text)
                    .filter_map(|c| c.get(1))
                    .map(|m| m.as_str())
                    .collect(),
            )
        })
        .collect();
    let mut problems = Vec::new();
    for (page, text) in &pages {
        if page.file_name().is_some_and(|n| n == "print.html") {
            continue;
        }
        let here = page.parent().unwrap_or(dir);
        let shown = page.strip_prefix(dir).unwrap_or(page).display().to_string();
        for link in HREF
            .captures_iter(text)
            .filter_map(|c| c.get(1))
            .map(|m| m.as_str())
        {
            if link.is_empty()
                || link.contains("://")
                || link.starts_with("mailto:")
                || link.starts_with("data:")
                || link.starts_with("javascript:")
            {
                continue;
            }
            let (file, fragment) = link.split_once('#').unwrap_or((link, ""));
            let file = file.split('?').next().unwrap_or_default();
            let target = if file.is_empty() {
                page.clone()
            } else {
                normalize(&here.join(file))
            };
            if !target.exists() {
                problems.push(format!("{shown}: link to {link}: no such file"));
                continue;
            }
            if !fragment.is_empty() {
                if let Some(set) = ids.get(&target) {
                    if !set.contains(fragment) {
                        problems.push(format!(
                            "{shown}: link to {link}: no id \"{fragment}\" there"
                        ));
                    }
                }
            }
        }
    }
    problems
}

/// Every SVG picture under `src` is well-formed XML with an `<svg>` root, a `viewBox`
/// (so it scales) and a `<title>` (what a screen reader says).
pub fn check_pictures(src: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "svg") {
                continue;
            }
            let shown = p.strip_prefix(src).unwrap_or(&p).display().to_string();
            let text = std::fs::read_to_string(&p).unwrap_or_default();
            match roxmltree::Document::parse(&text) {
                Err(e) => problems.push(format!("src/{shown}: not well-formed XML: {e}")),
                Ok(doc) => {
                    let svg = doc.root_element();
                    if svg.tag_name().name() != "svg" {
                        problems.push(format!("src/{shown}: the root element is not <svg>"));
                    } else if svg.attribute("viewBox").is_none() {
                        problems.push(format!("src/{shown}: <svg> has no viewBox"));
                    } else if !svg.children().any(|c| c.has_tag_name("title")) {
                        problems.push(format!("src/{shown}: <svg> has no <title>"));
                    }
                }
            }
        }
    }
    problems
}

/// `a/b/../c` is `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broken_links_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("labs")).unwrap();
        std::fs::write(d.join("index.html"), r##"<h1 id="top">x</h1><a href="labs/vm.html#exec">ok</a><a href="#top">ok</a><a href="https://example.org/">ok</a>"##).unwrap();
        std::fs::write(d.join("labs/vm.html"), r##"<h3 id="exec">Exec</h3><a href="../index.html#nope">bad</a><img src="../img/none.svg"><a href="fault.html">bad</a>"##).unwrap();
        let problems = check_links(d);
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("no id \"nope\""));
        assert!(problems.iter().any(|p| p.contains("img/none.svg")));
        assert!(problems.iter().any(|p| p.contains("fault.html")));
    }

    #[test]
    fn bad_pictures_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let good = r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><title>A box</title><rect width="5" height="5"/></svg>"#;
        std::fs::write(d.join("good.svg"), good).unwrap();
        std::fs::write(d.join("broken.svg"), &good[..40]).unwrap();
        std::fs::write(
            d.join("untitled.svg"),
            good.replace("<title>A box</title>", ""),
        )
        .unwrap();
        std::fs::write(
            d.join("fixed.svg"),
            good.replace(r#" viewBox="0 0 10 10""#, ""),
        )
        .unwrap();
        let mut problems = check_pictures(d);
        problems.sort();
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("broken.svg: not well-formed"));
        assert!(problems[1].contains("fixed.svg: <svg> has no viewBox"));
        assert!(problems[2].contains("untitled.svg: <svg> has no <title>"));
    }
}
