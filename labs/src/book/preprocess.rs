//! The book's mdBook preprocessor: generated content and the checks that keep the book
//! honest.
//!
//! mdBook runs it before its own `links` preprocessor (see `book/book.toml`), so it sees
//! every chapter as written. It expands four directives:
//!
//! - `{{#labtests vm}}`: the table of lab vm's tests, points and limits, from
//!   `labs/vm/lab.toml`;
//! - `{{#exercise vm test_a test_b}}`: the box under an exercise naming the graded tests
//!   that check it;
//! - `{{#syscalls}}`: the system call table, from the kernel's dispatcher and the doc
//!   comments of its handlers ([`super::syscalls`]);
//! - `{{#cli labs}}` (or `vkernel`, `autograder`): the `--help` of a command and its
//!   subcommands, from their clap definitions.
//!
//! and it refuses the book (exit status 1, every problem listed) when an
//! `{{#include file:anchor}}` does not resolve, when a lab chapter lacks one of its parts,
//! when an exercise names no test or a test no exercise, or when a directive is unknown.
//! [`check`] is the whole job on a parsed book; `run` is the mdBook protocol around it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use autograder::lab::Lab;
use mdbook_preprocessor::book::Book;
use regex::Regex;

/// `{{#name args}}`, not escaped with a backslash.
static DIRECTIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)(\\)?\{\{\s*#([a-z_]+)((?:[^}]|\}[^}])*)\}\}").expect("directive regex")
});

/// The sections every lab chapter has, in this order (`##` headings).
pub const LAB_SECTIONS: [&str; 5] = [
    "Background",
    "The code you will touch",
    "Exercises",
    "Questions",
    "Challenges",
];

/// mdBook's own directives, which its `links` preprocessor expands after us.
const MDBOOK_DIRECTIVES: [&str; 5] = [
    "include",
    "rustdoc_include",
    "playground",
    "playpen",
    "title",
];

/// A heading of a chapter: its level, text and the id mdBook gives it.
#[derive(Debug, Clone)]
pub struct Heading {
    /// 1 for `#`, 2 for `##` and so on.
    pub level: usize,
    /// The text, inline markup removed.
    pub text: String,
    /// The HTML id mdBook generates (before de-duplication).
    pub id: String,
    /// Byte offset of the heading line in the chapter.
    pub offset: usize,
}

/// The id mdBook 0.5 derives from a heading's text: lower case; letters, digits, `_` and
/// `-` kept; white space becomes `-`; anything else dropped.
pub fn heading_id(text: &str) -> String {
    text.trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c)
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The ATX headings of a markdown text, skipping fenced code blocks.
pub fn headings(markdown: &str) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut fence: Option<&str> = None;
    let mut offset = 0;
    for line in markdown.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let here = offset;
        offset += line.len();
        if let Some(f) = fence {
            if trimmed.starts_with(f) {
                fence = None;
            }
            continue;
        }
        if trimmed.starts_with("```") {
            fence = Some("```");
            continue;
        }
        if trimmed.starts_with("~~~") {
            fence = Some("~~~");
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&level) && line[level..].starts_with(' ') {
            let raw = line[level..].trim().trim_end_matches('#').trim();
            let text = strip_inline(raw);
            out.push(Heading {
                level,
                id: heading_id(&text),
                text,
                offset: here,
            });
        }
    }
    out
}

/// Heading text without inline markup: code spans, emphasis and link targets.
fn strip_inline(raw: &str) -> String {
    static LINK: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\([^)]*\)").expect("link regex"));
    let text = LINK.replace_all(raw, "$1");
    text.chars().filter(|c| !matches!(c, '`' | '*')).collect()
}

/// What the preprocessor needs to know besides the book: the repository it lives in.
#[derive(Debug)]
pub struct Sources {
    /// The repository root (the book's parent folder).
    pub root: PathBuf,
    /// The book's `src` folder.
    pub src: PathBuf,
    /// Every lab definition, by name.
    pub labs: BTreeMap<String, Lab>,
}

impl Sources {
    /// Read the lab definitions of the repository at `root`.
    ///
    /// # Errors
    /// A lab file that does not load.
    pub fn load(root: &Path, src: &Path) -> Result<Self, String> {
        let mut labs = BTreeMap::new();
        for (name, file) in crate::lab_files_in(root) {
            let lab =
                autograder::lab::load(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            labs.insert(name, lab);
        }
        Ok(Self {
            root: root.to_path_buf(),
            src: src.to_path_buf(),
            labs,
        })
    }
}

/// One exercise box found in a chapter.
#[derive(Debug)]
struct Exercise {
    lab: String,
    tests: Vec<String>,
    /// The `###` heading above the box.
    heading: Option<Heading>,
    /// Where the directive starts.
    offset: usize,
}

/// Expand the directives of every chapter and check the book. Returns the problems found
/// (empty when the book is good); the book is changed in place.
pub fn check(book: &mut Book, sources: &Sources) -> Vec<String> {
    let mut problems = Vec::new();
    // Which chapter (source path) holds which lab's exercises.
    let mut chapters_seen = BTreeSet::new();
    book.for_each_chapter_mut(|chapter| {
        let Some(path) = chapter.source_path.clone().or_else(|| chapter.path.clone()) else {
            return;
        };
        let where_ = format!("book/src/{}", path.display());
        chapters_seen.insert(path.to_string_lossy().replace('\\', "/"));
        let dir = sources
            .src
            .join(&path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let (content, mut found) = expand(&chapter.content, &dir, sources, &where_);
        problems.append(&mut found);
        chapter.content = content;
    });
    for lab in sources.labs.values() {
        let Some(chapter) = &lab.chapter else {
            problems.push(format!("{}: the lab names no chapter", lab.path.display()));
            continue;
        };
        if !chapters_seen.contains(chapter) {
            problems.push(format!(
                "{}: its chapter {chapter} is not in book/src/SUMMARY.md",
                lab.path.display()
            ));
        }
    }
    problems
}

/// Expand one chapter; returns the new text and its problems.
fn expand(content: &str, dir: &Path, sources: &Sources, where_: &str) -> (String, Vec<String>) {
    let mut problems = Vec::new();
    let heads = headings(content);
    let mut exercises = Vec::new();
    let mut labtests_here = Vec::new();
    // First pass: find the exercises, so that the test tables can link to them.
    for m in DIRECTIVE.captures_iter(content) {
        if m.get(1).is_some() {
            continue;
        }
        let name = &m[2];
        let args: Vec<String> = m[3].split_whitespace().map(str::to_string).collect();
        let at = m.get(0).map_or(0, |g| g.start());
        if name == "exercise" {
            let heading = heads
                .iter()
                .rev()
                .find(|h| h.offset < at && h.level >= 3)
                .filter(|h| {
                    !heads
                        .iter()
                        .any(|o| o.offset > h.offset && o.offset < at && o.level < 3)
                })
                .cloned();
            exercises.push(Exercise {
                lab: args.first().cloned().unwrap_or_default(),
                tests: args.iter().skip(1).cloned().collect(),
                heading,
                offset: at,
            });
        } else if name == "labtests" {
            labtests_here.push(args.first().cloned().unwrap_or_default());
        }
    }
    let mut out = String::with_capacity(content.len());
    let mut last = 0;
    let mut exercise_index = 0;
    for m in DIRECTIVE.captures_iter(content) {
        let whole = m.get(0).expect("match");
        if m.get(1).is_some() {
            continue; // `\{{#...}}` is text mdBook's own preprocessor unescapes
        }
        let name = &m[2];
        let rest = m[3].trim();
        let args: Vec<&str> = rest.split_whitespace().collect();
        let replacement = match name {
            "labtests" => match args.as_slice() {
                [lab] => match sources.labs.get(*lab) {
                    Some(lab) => Some(test_table(lab, &exercises)),
                    None => {
                        problems.push(format!("{where_}: {{{{#labtests {lab}}}}}: no lab {lab}"));
                        None
                    }
                },
                _ => {
                    problems.push(format!("{where_}: {{{{#labtests}}}} takes one lab name"));
                    None
                }
            },
            "exercise" => {
                let e = &exercises[exercise_index];
                exercise_index += 1;
                match exercise_box(e, sources) {
                    Ok(html) => Some(html),
                    Err(p) => {
                        problems.push(format!("{where_}: {p}"));
                        None
                    }
                }
            }
            "syscalls" => match super::syscalls::table(&sources.root) {
                Ok(table) => Some(table),
                Err(e) => {
                    problems.push(format!("{where_}: {{{{#syscalls}}}}: {e}"));
                    None
                }
            },
            "cli" => match args.as_slice() {
                [program] => match super::cli_help::help(program) {
                    Some(text) => Some(text),
                    None => {
                        problems.push(format!(
                            "{where_}: {{{{#cli {program}}}}}: no such command (labs, vkernel, autograder)"
                        ));
                        None
                    }
                },
                _ => {
                    problems.push(format!("{where_}: {{{{#cli}}}} takes one command name"));
                    None
                }
            },
            "include" | "rustdoc_include" => match check_include(rest, dir) {
                // An anchored quote is expanded here, its indentation removed; the rest
                // is left to mdBook.
                Ok(Some(quote)) if name == "include" => Some(quote),
                Ok(_) => None,
                Err(p) => {
                    problems.push(format!("{where_}: {{{{#{name} {rest}}}}}: {p}"));
                    None
                }
            },
            n if MDBOOK_DIRECTIVES.contains(&n) => None,
            other => {
                problems.push(format!("{where_}: unknown directive {{{{#{other}}}}}"));
                None
            }
        };
        if let Some(text) = replacement {
            out.push_str(&content[last..whole.start()]);
            out.push_str(&text);
            last = whole.end();
        }
    }
    out.push_str(&content[last..]);

    check_source_lines(content, sources, where_, &mut problems);

    // A chapter with exercises (or a test table) is a lab chapter: check its shape.
    let mut labs_here: BTreeSet<String> = exercises.iter().map(|e| e.lab.clone()).collect();
    labs_here.extend(labtests_here.iter().cloned());
    for lab_name in &labs_here {
        let Some(lab) = sources.labs.get(lab_name) else {
            continue; // reported above
        };
        check_lab_chapter(
            lab,
            content,
            &heads,
            &exercises,
            &labtests_here,
            where_,
            &mut problems,
        );
    }
    for lab in sources.labs.values() {
        let chapter = lab.chapter.as_deref().unwrap_or_default();
        if where_.ends_with(chapter) && !labs_here.contains(&lab.name) && !chapter.is_empty() {
            problems.push(format!(
                "{where_}: this is lab {}'s chapter, but it has no {{{{#labtests {}}}}} and no exercises",
                lab.name, lab.name
            ));
        }
    }
    (out, problems)
}

/// The parts of a lab chapter: sections, exercises covering every test once, hints, and
/// the headings the lab's hints link to.
fn check_lab_chapter(
    lab: &Lab,
    content: &str,
    heads: &[Heading],
    exercises: &[Exercise],
    labtests: &[String],
    where_: &str,
    problems: &mut Vec<String>,
) {
    // The five parts, as `##` headings in this order.
    let sections: Vec<&Heading> = heads.iter().filter(|h| h.level == 2).collect();
    let mut position = 0;
    for wanted in LAB_SECTIONS {
        match sections
            .iter()
            .position(|h| h.text.eq_ignore_ascii_case(wanted))
        {
            Some(p) if p >= position => position = p,
            Some(_) => problems.push(format!("{where_}: section \"{wanted}\" is out of order")),
            None => problems.push(format!(
                "{where_}: lab chapter without a \"## {wanted}\" section"
            )),
        }
    }
    if !labtests.iter().any(|l| l == &lab.name) {
        problems.push(format!("{where_}: no {{{{#labtests {}}}}} table", lab.name));
    }
    // Every graded test in exactly one exercise; every exercise with known tests.
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for e in exercises.iter().filter(|e| e.lab == lab.name) {
        for t in &e.tests {
            *count.entry(t.as_str()).or_default() += 1;
        }
        let Some(heading) = &e.heading else {
            problems.push(format!(
                "{where_}: an {{{{#exercise {}}}}} box without a ### heading above it",
                lab.name
            ));
            continue;
        };
        // Its section (up to the next heading of the same or a higher level) has a hint.
        let end = heads
            .iter()
            .find(|h| h.offset > heading.offset && h.level <= heading.level)
            .map_or(content.len(), |h| h.offset);
        let section = &content[e.offset.min(end)..end];
        if !section.contains("<summary>Hint") {
            problems.push(format!(
                "{where_}: exercise \"{}\" has no hint (a <details> block with <summary>Hint</summary>)",
                heading.text
            ));
        }
    }
    for test in lab.tests.iter().filter(|t| !t.hidden) {
        match count.get(test.name.as_str()).copied().unwrap_or(0) {
            1 => {}
            0 => problems.push(format!(
                "{where_}: graded test {} of lab {} belongs to no exercise",
                test.name, lab.name
            )),
            n => problems.push(format!(
                "{where_}: graded test {} of lab {} is in {n} exercises (one only)",
                test.name, lab.name
            )),
        }
    }
    // Headings with the same id: mdBook renames the second `id-1`, so a link (a hint)
    // would land on the first one without anyone noticing.
    let mut ids: BTreeSet<&str> = BTreeSet::new();
    for h in heads {
        if !ids.insert(h.id.as_str()) {
            problems.push(format!(
                "{where_}: two headings give the id \"{}\" (\"{}\"); rename one",
                h.id, h.text
            ));
        }
    }
    // The hints of the lab file link to headings of this chapter.
    for test in &lab.tests {
        let Some(hint) = &test.hint else { continue };
        let target = hint.split(':').next().unwrap_or_default();
        let Some((file, id)) = target.split_once('#') else {
            continue;
        };
        if where_.ends_with(file) && !ids.contains(id) {
            problems.push(format!(
                "{}: the hint of test {} links to {target}, but the chapter has no heading with id \"{id}\"",
                lab.path.display(),
                test.name
            ));
        }
    }
}

/// Quoted output names kernel lines (`kernel-skeleton/src/exec/load.rs:44:5` in a panic
/// message, a backtrace, a gdb stop). Each must still be a line of code in that file, and
/// a panic site must still panic there: edits above it (an anchor, say) move it, and the
/// book must then be re-captured.
fn check_source_lines(content: &str, sources: &Sources, where_: &str, problems: &mut Vec<String>) {
    static LINE: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(panicked at )?(kernel-skeleton/src/[A-Za-z0-9_/]+\.rs):(\d+)")
            .expect("line regex")
    });
    for c in LINE.captures_iter(content) {
        let file = &c[2];
        let Ok(n) = c[3].parse::<usize>() else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(sources.root.join(file)) else {
            problems.push(format!(
                "{where_}: quotes {file}:{n}, but there is no {file}"
            ));
            continue;
        };
        let line = text.lines().nth(n.wrapping_sub(1)).unwrap_or("").trim();
        if line.is_empty() || line.starts_with("//") {
            problems.push(format!(
                "{where_}: quotes {file}:{n}, which is no longer a line of code (re-capture the output)"
            ));
        } else if c.get(1).is_some()
            && ![
                "todo!",
                "panic!",
                "assert",
                "expect",
                "unwrap",
                "unreachable!",
                "unimplemented!",
            ]
            .iter()
            .any(|p| line.contains(p))
        {
            problems.push(format!(
                "{where_}: a panic quoted at {file}:{n}, but that line cannot panic now: {line:?} (re-capture the output)"
            ));
        }
    }
}

/// `{{#include path:anchor}}` resolves: the file exists and has the anchor exactly once.
/// Returns the quoted lines for a named anchor (without the lines of other anchors inside
/// it, and without the indentation they share), `None` for a whole file or a line range.
fn check_include(arg: &str, dir: &Path) -> Result<Option<String>, String> {
    let arg = arg.split_whitespace().next().unwrap_or_default();
    let (file, selector) = match arg.split_once(':') {
        Some((f, s)) => (f, Some(s)),
        None => (arg, None),
    };
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let Some(selector) = selector else {
        return Ok(None);
    };
    // Line ranges (`:10`, `:3:8`, `:5:`) are allowed but discouraged; names are anchors.
    if selector
        .split(':')
        .all(|p| p.is_empty() || p.parse::<usize>().is_ok())
    {
        return Ok(None);
    }
    // As mdBook reads them: the whole name after `ANCHOR:` must match.
    static START: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"ANCHOR:\s*([\w_-]+)").expect("anchor regex"));
    static END: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"ANCHOR_END:\s*([\w_-]+)").expect("anchor regex"));
    let is = |re: &Regex, l: &str| re.captures(l).is_some_and(|c| &c[1] == selector);
    let is_start = |l: &str| !END.is_match(l) && is(&START, l);
    let is_end = |l: &str| is(&END, l);
    let starts = text.lines().filter(|l| is_start(l)).count();
    let ends = text.lines().filter(|l| is_end(l)).count();
    match (starts, ends) {
        (1, 1) => {
            let s = text.lines().position(is_start).unwrap_or(0);
            let e = text.lines().position(is_end).unwrap_or(0);
            if e <= s + 1 {
                return Err(format!(
                    "anchor {selector} in {} is empty or reversed",
                    path.display()
                ));
            }
            let lines: Vec<&str> = text
                .lines()
                .skip(s + 1)
                .take(e - s - 1)
                .filter(|l| !START.is_match(l) && !END.is_match(l))
                .collect();
            Ok(Some(dedent(&lines)))
        }
        (0, _) => Err(format!("{} has no anchor {selector}", path.display())),
        (_, 0) => Err(format!(
            "anchor {selector} in {} has no ANCHOR_END",
            path.display()
        )),
        _ => Err(format!(
            "anchor {selector} appears more than once in {}",
            path.display()
        )),
    }
}

/// Lines without the leading white space they all share (blank lines aside).
fn dedent(lines: &[&str]) -> String {
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out = String::new();
    for l in lines {
        out.push_str(l.get(common..).unwrap_or("").trim_end());
        out.push('\n');
    }
    out.trim_end_matches('\n').to_string()
}

/// The test table of a lab.
fn test_table(lab: &Lab, exercises: &[Exercise]) -> String {
    let mut t = String::new();
    let visible: Vec<_> = lab.tests.iter().filter(|test| !test.hidden).collect();
    let total: f64 = visible.iter().map(|test| test.points).sum();
    let _ = writeln!(
        t,
        "| Test | Points | Exercise | What it checks | Time limit |"
    );
    let _ = writeln!(t, "|---|---:|---|---|---:|");
    for test in &visible {
        let exercise = exercises
            .iter()
            .find(|e| e.lab == lab.name && e.tests.contains(&test.name))
            .and_then(|e| e.heading.as_ref())
            .map(|h| format!("[{}](#{})", h.text, h.id))
            .unwrap_or_default();
        let what = test
            .hint
            .as_deref()
            .and_then(|h| h.split_once(": ").map(|(_, w)| w))
            .unwrap_or("");
        let _ = writeln!(
            t,
            "| `{}` | {} | {} | {} | {} s |",
            test.name,
            autograder::units::points(test.points),
            exercise,
            what.replace('|', "\\|"),
            test.timeout.as_secs()
        );
    }
    let _ = writeln!(
        t,
        "| **Total** | **{}** | | | |",
        autograder::units::points(total)
    );
    let _ = write!(
        t,
        "\n*Generated from `{}`. Run the whole lab with `cargo lab {}`.*\n",
        lab.path
            .strip_prefix(lab.path.ancestors().nth(3).unwrap_or(Path::new("")))
            .unwrap_or(&lab.path)
            .display(),
        lab.name
    );
    t
}

/// The box under an exercise heading.
fn exercise_box(e: &Exercise, sources: &Sources) -> Result<String, String> {
    let lab = sources
        .labs
        .get(&e.lab)
        .ok_or_else(|| format!("{{{{#exercise {}}}}}: no lab {}", e.lab, e.lab))?;
    if e.tests.is_empty() {
        return Err(format!("{{{{#exercise {}}}}} names no test", e.lab));
    }
    let mut names = Vec::new();
    let mut points = 0.0;
    for name in &e.tests {
        let test = lab.test(name).ok_or_else(|| {
            format!(
                "{{{{#exercise {}}}}}: lab {} has no test {name}",
                e.lab, e.lab
            )
        })?;
        points += test.points;
        names.push(format!(
            "<code>{name}</code> ({} points)",
            autograder::units::points(test.points)
        ));
    }
    let run: String = e.tests.iter().map(|t| format!(" --test {t}")).collect();
    Ok(format!(
        "<div class=\"exercise-box\">\n<p><strong>Graded by</strong> {}: {} of the lab's {} points.</p>\n\
         <p>Run just these: <code>cargo lab {}{run}</code></p>\n</div>\n",
        names.join(", "),
        autograder::units::points(points),
        autograder::units::points(lab.total_points()),
        e.lab
    ))
}

/// The mdBook preprocessor protocol: `supports RENDERER` answers yes; otherwise read
/// `[context, book]` as JSON on stdin, write the book back on stdout. Problems go to
/// stderr and make the exit status 1, which stops `mdbook build`.
pub fn run(args: &[String]) -> std::process::ExitCode {
    use std::process::ExitCode;
    if args.first().map(String::as_str) == Some("supports") {
        return ExitCode::SUCCESS;
    }
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("labs book: reading mdBook's input: {e}");
        return ExitCode::from(1);
    }
    let (ctx, mut book) = match mdbook_preprocessor::parse_input(input.as_bytes()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("labs book: this is mdBook's preprocessor, run by `labs book` or `mdbook build`: {e:#}");
            return ExitCode::from(1);
        }
    };
    let root = ctx
        .root
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ctx.root.clone());
    let src = ctx.root.join(&ctx.config.book.src);
    let sources = match Sources::load(&root, &src) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("labs book: {e}");
            return ExitCode::from(1);
        }
    };
    let problems = check(&mut book, &sources);
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("labs book: {p}");
        }
        eprintln!(
            "labs book: {} problem(s); the book was not built",
            problems.len()
        );
        return ExitCode::from(1);
    }
    match serde_json::to_writer(std::io::stdout().lock(), &book) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("labs book: writing the book back to mdBook: {e}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_mdbook() {
        assert_eq!(heading_id("Copyin and copyout"), "copyin-and-copyout");
        assert_eq!(heading_id("Copy-on-write"), "copy-on-write");
        assert_eq!(heading_id("The `walk` function"), "the-walk-function");
        let h = headings("# A\n```\n# not a heading\n```\n### The `walk` *function*\n");
        assert_eq!(h.len(), 2);
        assert_eq!(h[1].id, "the-walk-function");
        assert_eq!(h[1].level, 3);
    }

    #[test]
    fn includes_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.rs"),
            "// ANCHOR: good\nfn a() {}\n// ANCHOR_END: good\n// ANCHOR: open\nfn b() {}\n\
             // ANCHOR: good-two\nfn c() {}\n// ANCHOR_END: good-two\n",
        )
        .unwrap();
        assert!(
            check_include("a.rs:good", dir.path()).is_ok(),
            "good-two is another anchor"
        );
        assert!(check_include("a.rs:good-two", dir.path()).is_ok());
        assert!(check_include("a.rs", dir.path()).is_ok());
        assert!(check_include("a.rs:3:5", dir.path()).is_ok());
        assert!(check_include("a.rs:missing", dir.path())
            .unwrap_err()
            .contains("no anchor missing"));
        assert!(check_include("a.rs:open", dir.path())
            .unwrap_err()
            .contains("no ANCHOR_END"));
        assert!(check_include("b.rs:good", dir.path())
            .unwrap_err()
            .contains("cannot read"));
    }

    #[test]
    fn quotes_lose_their_indentation_and_inner_anchors() {
        let lines = [
            "        let a = 1;",
            "        // ANCHOR: inner",
            "",
            "            b();",
        ];
        let filtered: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !l.contains("ANCHOR"))
            .collect();
        assert_eq!(dedent(&filtered), "let a = 1;\n\n    b();");
    }

    #[test]
    fn directives_and_escapes() {
        let caps: Vec<_> = DIRECTIVE
            .captures_iter("a {{#exercise vm x y}} b \\{{#include z}} {{ #syscalls }}")
            .map(|c| {
                (
                    c.get(1).is_some(),
                    c[2].to_string(),
                    c[3].trim().to_string(),
                )
            })
            .collect();
        assert_eq!(
            caps,
            vec![
                (false, "exercise".into(), "vm x y".into()),
                (true, "include".into(), "z".into()),
                (false, "syscalls".into(), String::new()),
            ]
        );
    }

    /// A repository with one lab of two tests, and a book whose chapter is `chapter`.
    fn fixture(chapter: &str) -> (tempfile::TempDir, Sources, Book) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("labs/toy")).unwrap();
        std::fs::create_dir_all(root.join("book/src/labs")).unwrap();
        std::fs::write(
            root.join("labs/toy/lab.toml"),
            r#"[lab]
name = "toy"
title = "A toy"
chapter = "labs/toy.md"
student_files = []

[[test]]
name = "first"
points = 30
hint = "labs/toy.md#one: the first thing"
init = ["/bin/true"]

[[test]]
name = "second"
points = 70
hint = "labs/toy.md#two: the second thing"
init = ["/bin/true"]
"#,
        )
        .unwrap();
        std::fs::write(
            root.join("code.rs"),
            "// ANCHOR: here\nfn f() {}\n// ANCHOR_END: here\n",
        )
        .unwrap();
        std::fs::create_dir_all(root.join("kernel-skeleton/src")).unwrap();
        std::fs::write(
            root.join("kernel-skeleton/src/x.rs"),
            "fn x() {\n    let a = 1;\n    // a comment\n    todo!(\"x\")\n}\n",
        )
        .unwrap();
        let sources = Sources::load(root, &root.join("book/src")).unwrap();
        let mut book = Book::new();
        book.push_item(mdbook_preprocessor::book::Chapter::new(
            "Toy",
            chapter.to_string(),
            "labs/toy.md",
            vec![],
        ));
        (dir, sources, book)
    }

    const GOOD: &str = "# Lab toy\n\n## Background\n\n```rust\n{{#include ../../../code.rs:here}}\n```\n\n\
        ## The code you will touch\n\n## Exercises\n\n{{#labtests toy}}\n\n### One\n\n{{#exercise toy first}}\n\n\
        <details>\n<summary>Hint</summary>\n\nLook.\n\n</details>\n\n### Two\n\n{{#exercise toy second}}\n\n\
        <details>\n<summary>Hint</summary>\n\nLook again.\n\n</details>\n\n## Questions\n\n## Challenges\n";

    fn content(book: &Book) -> String {
        match &book.items[0] {
            mdbook_preprocessor::book::BookItem::Chapter(c) => c.content.clone(),
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_good_lab_chapter_is_expanded() {
        let good = GOOD.replace(
            "Look.",
            "panicked at kernel-skeleton/src/x.rs:4:5, from kernel-skeleton/src/x.rs:2",
        );
        let (_dir, sources, mut book) = fixture(&good);
        let problems = check(&mut book, &sources);
        assert!(problems.is_empty(), "{problems:#?}");
        let text = content(&book);
        assert!(
            text.contains("| `first` | 30 | [One](#one) | the first thing | 10 s |"),
            "{text}"
        );
        assert!(text.contains("| **Total** | **100** |"));
        assert!(text.contains("<code>second</code> (70 points): 70 of the lab's 100 points"));
        assert!(text.contains("cargo lab toy --test second"));
        assert!(text.contains("```rust\nfn f() {}\n```"), "{text}");
    }

    #[test]
    fn every_broken_rule_is_reported() {
        let cases = [
            (
                GOOD.replace("code.rs:here", "code.rs:gone"),
                "has no anchor gone",
            ),
            (
                GOOD.replace("## Questions\n", ""),
                "without a \"## Questions\" section",
            ),
            (
                GOOD.replace("{{#exercise toy second}}", "{{#exercise toy}}"),
                "names no test",
            ),
            (
                GOOD.replace("{{#exercise toy second}}", "{{#exercise toy first}}"),
                "second of lab toy belongs to no exercise",
            ),
            (
                GOOD.replace("{{#exercise toy second}}", "{{#exercise toy first second}}"),
                "first of lab toy is in 2 exercises",
            ),
            (
                GOOD.replace("{{#exercise toy second}}", "{{#exercise toy second third}}"),
                "has no test third",
            ),
            (
                GOOD.replace("### Two", "### Deux"),
                "no heading with id \"two\"",
            ),
            (
                GOOD.replace("<summary>Hint</summary>\n\nLook again.", "Look again."),
                "exercise \"Two\" has no hint",
            ),
            (
                GOOD.replace("{{#labtests toy}}", ""),
                "no {{#labtests toy}} table",
            ),
            (
                GOOD.replace("{{#labtests toy}}", "{{#labtest toy}}"),
                "unknown directive {{#labtest}}",
            ),
            (
                GOOD.replace("## Background\n", "## Questions\n## Background\n"),
                "out of order",
            ),
            (
                "# Lab toy\n\nNothing yet.\n".to_string(),
                "no {{#labtests toy}} and no exercises",
            ),
            (
                GOOD.replace("## Questions\n", "## Questions\n### One\n"),
                "two headings give the id \"one\"",
            ),
            (
                GOOD.replace("Look.", "panicked at kernel-skeleton/src/x.rs:2:1"),
                "a panic quoted at kernel-skeleton/src/x.rs:2",
            ),
            (
                GOOD.replace("Look.", "at kernel-skeleton/src/x.rs:3"),
                "kernel-skeleton/src/x.rs:3, which is no longer a line of code",
            ),
        ];
        for (chapter, expected) in cases {
            let (_dir, sources, mut book) = fixture(&chapter);
            let problems = check(&mut book, &sources);
            assert!(
                problems.iter().any(|p| p.contains(expected)),
                "expected a problem containing {expected:?}, got {problems:#?}"
            );
        }
    }
}
