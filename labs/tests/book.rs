//! The book builds clean, and a real browser renders it.
//!
//! `labs book --out DIR` must succeed with no warning. Then headless Chromium (Debian's
//! `chromium`; another binary through `CHROMIUM=path`) opens the lab vm chapter over the
//! DevTools protocol (`--remote-debugging-pipe`: JSON messages ending in NUL on file
//! descriptors 3 and 4), and the test asserts on the page's visible text
//! (`document.body.innerText`), its code blocks and its pictures. A missing browser is a
//! failure with instructions, never a skip.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use command_fds::{CommandFdExt, FdMapping};
use serde_json::{json, Value};

fn built_book() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("book");
    let result = Command::new(env!("CARGO_BIN_EXE_labs"))
        .args(["book", "--out"])
        .arg(&out)
        .output()
        .expect("run labs book");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(result.status.success(), "labs book failed:\n{stderr}");
    assert!(
        !stderr.contains("WARN") && !stderr.contains("ERROR"),
        "warnings:\n{stderr}"
    );
    (dir, out)
}

#[test]
fn the_book_builds_clean_with_generated_tables() {
    let (_dir, out) = built_book();
    let vm = std::fs::read_to_string(out.join("labs/vm.html")).expect("labs/vm.html");
    for generated in ["hello_runs", "Graded by", "cargo lab vm --test"] {
        assert!(vm.contains(generated), "labs/vm.html lacks {generated:?}");
    }
    assert!(!vm.contains("{{#"), "a directive was left unexpanded");
    let syscalls = std::fs::read_to_string(out.join("appendix/syscalls.html")).expect("syscalls");
    assert!(syscalls.contains("read(fd, buf, count)"));
    let commands = std::fs::read_to_string(out.join("appendix/commands.html")).expect("commands");
    assert!(commands.contains("--virtual-time") && commands.contains("labs boot --help"));
}

/// A headless Chromium driven over `--remote-debugging-pipe`.
struct Browser {
    child: Child,
    to: std::fs::File,
    from: mpsc::Receiver<Value>,
    next_id: u64,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Self {
        let binary = std::env::var_os("CHROMIUM").map_or_else(
            || {
                ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
                    .iter()
                    .map(PathBuf::from)
                    .find(|p| p.exists())
                    .unwrap_or_else(|| {
                        panic!(
                            "no Chromium: this test renders the book in a real browser. \
                             Install it (Debian: `apt-get install chromium`) or set CHROMIUM=/path/to/chrome"
                        )
                    })
            },
            PathBuf::from,
        );
        let profile = tempfile::tempdir().expect("profile dir");
        let (our_read, their_write) = std::io::pipe().expect("pipe");
        let (their_read, our_write) = std::io::pipe().expect("pipe");
        let mut command = Command::new(&binary);
        command
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-dev-shm-usage",
                "--remote-debugging-pipe",
                "--window-size=1280,900",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        command
            .fd_mappings(vec![
                FdMapping {
                    parent_fd: OwnedFd::from(their_read),
                    child_fd: 3,
                },
                FdMapping {
                    parent_fd: OwnedFd::from(their_write),
                    child_fd: 4,
                },
            ])
            .expect("fd mappings");
        let child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        drop(command); // closes our copies of the browser's ends
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(our_read);
            let mut message = Vec::new();
            while reader.read_until(0, &mut message).is_ok_and(|n| n > 0) {
                message.pop();
                if let Ok(v) = serde_json::from_slice::<Value>(&message) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
                message.clear();
            }
        });
        Self {
            child,
            to: std::fs::File::from(OwnedFd::from(our_write)),
            from: rx,
            next_id: 1,
            _profile: profile,
        }
    }

    /// Send a command and wait (at most 30 s) for its answer.
    fn call(&mut self, method: &str, params: Value, session: Option<&str>) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&message).expect("json");
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to the browser");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let reply = self
                .from
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("the browser did not answer {method} within 30 s"));
            if reply["id"] == json!(id) {
                assert!(reply.get("error").is_none(), "{method}: {}", reply["error"]);
                return reply["result"].clone();
            }
        }
    }

    fn eval(&mut self, session: &str, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            Some(session),
        );
        assert!(
            r.get("exceptionDetails").is_none(),
            "{expression}: {}",
            r["exceptionDetails"]
        );
        r["result"]["value"].clone()
    }

    /// Open `page` in a new tab and wait until it and its pictures have loaded.
    fn open(&mut self, page: &Path) -> String {
        let url = format!("file://{}", page.display());
        let target = self.call("Target.createTarget", json!({ "url": url }), None);
        let target_id = target["targetId"].as_str().expect("targetId").to_string();
        let attached = self.call(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
            None,
        );
        let session = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_string();
        let deadline = Instant::now() + Duration::from_secs(20);
        let loaded = "document.readyState === 'complete' && location.protocol === 'file:'";
        while self.eval(&session, loaded) != json!(true) {
            assert!(Instant::now() < deadline, "{url} did not finish loading");
            std::thread::sleep(Duration::from_millis(100));
        }
        session
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn chromium_renders_the_lab_vm_chapter() {
    let (_dir, out) = built_book();
    let mut browser = Browser::start();
    let session = browser.open(&out.join("labs/vm.html"));
    let text = browser.eval(&session, "document.body.innerText");
    let text = text.as_str().expect("innerText is a string");
    // The chapter, its generated table and boxes, and the sidebar, as a reader sees them.
    for visible in [
        "Lab vm: address spaces and page tables",
        "Background",
        "The code you will touch",
        "Exercises",
        "Questions",
        "Challenges",
        "hello_runs",
        "Total",
        "Graded by",
        "The machine",
        "A tour of the kernel",
    ] {
        assert!(
            text.contains(visible),
            "the rendered page does not show {visible:?}"
        );
    }
    assert!(!text.contains("{{#"), "a directive shows on the page");
    // Hints are folded: their summaries show, their bodies do not until opened.
    let hints = browser.eval(
        &session,
        "Array.from(document.querySelectorAll('details')).filter(d => !d.open).length",
    );
    assert!(
        hints.as_u64().unwrap_or(0) >= 6,
        "expected folded hints, found {hints}"
    );
    // Quoted code is there and highlighted as Rust.
    let code = browser.eval(
        &session,
        "Array.from(document.querySelectorAll('code.language-rust')).map(c => c.innerText).join('\\n')",
    );
    let code = code.as_str().unwrap_or_default();
    assert!(code.contains("fn "), "no Rust code quoted in the chapter");
    // Every picture loaded and has a size.
    let broken = browser.eval(
        &session,
        "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)",
    );
    assert_eq!(broken, json!([]), "pictures that did not load");
    let pictures = browser.eval(&session, "document.images.length");
    assert!(
        pictures.as_u64().unwrap_or(0) >= 1,
        "the chapter shows no picture"
    );
    // A screenshot for people to look at (not asserted on).
    let shot = browser.call(
        "Page.captureScreenshot",
        json!({ "format": "png" }),
        Some(&session),
    );
    if let Some(data) = shot["data"].as_str() {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book-labs-vm.png");
        use base64::Engine as _;
        if let Ok(png) = base64::engine::general_purpose::STANDARD.decode(data) {
            let _ = std::fs::write(target, png);
        }
    }
    let _ = browser.call("Browser.close", json!({}), None);
}
