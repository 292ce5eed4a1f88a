//! vmtest: the checks of lab vm (address spaces, page tables, copying, exec), run inside
//! the vkernel. Every mode takes a seed and ends with `MODE ok CHECKSUM`, where the
//! checksum is the grader's `{checksum:N}` of that seed, or with `MODE FAILED: why`.
//!
//! - `layout SEED`: maps pages at a seeded place, touches every other one with seeded
//!   bytes, and checks the kernel's page-table dump (`vk_ptdump`) lists exactly those
//!   pages, writable and not executable, next to the program's text and stack.
//! - `efault SEED`: system calls with wild pointers all fail with EFAULT.
//! - `copy SEED N`: N seeded bytes through a pipe between two processes, in odd chunks
//!   across page boundaries.
//! - `args SEED`: execs itself with 100 seeded arguments and an environment; the new
//!   program checks them and its auxiliary vector.
//! - `bss SEED`: a 1 MiB zeroed array and initialised data, then seeded writes over them.
//! - `dump`: no check; prints this process's page-table dump as `vk_ptdump` returns it
//!   (to look at a real page table: `vkernel -- /bin/vmtest dump`).
//!
//! System calls: mmap, munmap, vk_ptdump (1001), read, write, pipe2, fork, wait4,
//! execve, openat, getcwd, clock_gettime, exit_group.

#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use vkrt::seed::{checksum, fnv1a, Stream, FNV_OFFSET};
use vkrt::sys::{self, Errno};
use vkrt::{println, process, Args};

vkrt::entry!(main);

const PAGE: usize = 4096;
type Check = Result<u64, String>;

fn ensure(cond: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(why())
    }
}

fn errno_is(what: &str, r: Result<usize, Errno>, want: Errno) -> Result<(), String> {
    match r {
        Err(e) if e == want => Ok(()),
        other => Err(format!("{what}: expected {}, got {other:?}", want.name())),
    }
}

// ANCHOR: ptdump-bytes
/// The kernel's page-table dump as it comes: one line per present page.
fn ptdump_bytes() -> Result<Vec<u8>, String> {
    let mut buf = alloc::vec![0u8; 256 * 1024];
    // SAFETY: vk_ptdump writes at most `len` bytes into the buffer we pass.
    let n = unsafe { sys::syscall2(sys::nr::VK_PTDUMP, buf.as_mut_ptr() as usize, buf.len()) };
    let n = sys::check(n).map_err(|e| format!("vk_ptdump: {}", e.name()))?;
    buf.truncate(n);
    Ok(buf)
}
// ANCHOR_END: ptdump-bytes

/// `dump`: print the page-table dump unparsed.
fn dump() -> Result<(), String> {
    let text = ptdump_bytes()?;
    vkrt::io::write_all(1, &text).map_err(|e| format!("write: {}", e.name()))
}

/// The kernel's page-table dump: (virtual address, flags) per present page.
fn ptdump() -> Result<Vec<(usize, String)>, String> {
    let buf = ptdump_bytes()?;
    let text = core::str::from_utf8(&buf).map_err(|_| String::from("dump is not text"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.split(' ');
        let va = parts
            .next()
            .and_then(|v| usize::from_str_radix(v.trim_start_matches("0x"), 16).ok());
        let flags = parts.next();
        match (va, flags) {
            (Some(va), Some(f)) => out.push((va, String::from(f))),
            _ => return Err(format!("bad dump line {line:?}")),
        }
    }
    Ok(out)
}

fn layout(seed: u64) -> Check {
    let pages = 3 + (seed % 8) as usize;
    let addr = 0x2000_0000_0000 + ((seed >> 3) % 1024) as usize * 0x10_0000;
    let flags = sys::MAP_PRIVATE | sys::MAP_ANONYMOUS | sys::MAP_FIXED;
    // SAFETY: a fixed mapping in the mmap area, where this program has nothing else.
    let got = unsafe {
        sys::mmap(
            addr,
            pages * PAGE,
            sys::PROT_READ | sys::PROT_WRITE,
            flags,
            -1,
            0,
        )
    };
    ensure(got == Ok(addr), || format!("mmap at {addr:#x}: {got:?}"))?;
    let mut stream = Stream::new(seed);
    let touched: Vec<usize> = (0..pages).step_by(2).collect();
    for (k, &p) in touched.iter().enumerate() {
        let base = (addr + p * PAGE) as *mut u8;
        let len = if k < 2 { PAGE } else { 1 };
        for i in 0..len {
            // SAFETY: inside the mapping made above.
            unsafe {
                base.add(i)
                    .write_volatile(if k < 2 { stream.byte() } else { 0x5a })
            };
        }
    }
    let mut h = FNV_OFFSET;
    for &p in &touched[..2] {
        // SAFETY: inside the mapping made above, which stays mapped.
        let page = unsafe { core::slice::from_raw_parts((addr + p * PAGE) as *const u8, PAGE) };
        h = fnv1a(h, page);
    }
    // ANCHOR: layout-checks
    let dump = ptdump()?;
    let mine: Vec<&(usize, String)> = dump
        .iter()
        .filter(|(va, _)| *va >= addr && *va < addr + pages * PAGE)
        .collect();
    let present: Vec<usize> = mine.iter().map(|(va, _)| (va - addr) / PAGE).collect();
    ensure(present == touched, || {
        format!("dump shows pages {present:?} of the mapping, touched {touched:?}")
    })?;
    for (va, f) in &mine {
        ensure(f.starts_with("rw-"), || {
            format!("page {va:#x} has flags {f}, expected rw-")
        })?;
    }
    let text = main as *const () as usize & !(PAGE - 1);
    let stack = (&h as *const u64 as usize) & !(PAGE - 1);
    let flags_of = |va: usize| dump.iter().find(|(v, _)| *v == va).map(|(_, f)| f.clone());
    ensure(flags_of(text).is_some_and(|f| f.starts_with("r-x")), || {
        format!("text page {text:#x}: {:?}", flags_of(text))
    })?;
    ensure(
        flags_of(stack).is_some_and(|f| f.starts_with("rw-")),
        || format!("stack page {stack:#x}: {:?}", flags_of(stack)),
    )?;
    // SAFETY: nothing refers into the mapping any more.
    let r = unsafe { sys::munmap(addr, pages * PAGE) };
    ensure(r.is_ok(), || format!("munmap: {r:?}"))?;
    ensure(
        !ptdump()?
            .iter()
            .any(|(va, _)| *va >= addr && *va < addr + pages * PAGE),
        || String::from("pages still in the dump after munmap"),
    )?;
    // ANCHOR_END: layout-checks
    Ok(h)
}

fn efault(seed: u64) -> Check {
    // ANCHOR: wild-pointers
    let wild = [
        0usize,
        0x10,
        0xffff_8000_0000_0000,
        0x7fff_8000_0000,
        usize::MAX - 4095,
    ];
    for &p in &wild {
        // SAFETY: each call hands the kernel a wild pointer it must check; nothing in
        // this process dereferences it.
        let (w, o, g, c, f) = unsafe {
            (
                sys::check(sys::syscall3(1, 1, p, 8)),
                sys::check(sys::syscall4(257, -100i64 as usize, p, 0, 0)),
                sys::check(sys::syscall2(79, p, 64)),
                sys::check(sys::syscall2(228, 1, p)),
                sys::check(sys::syscall2(293, p, 0)),
            )
        };
        errno_is(&format!("write from {p:#x}"), w, Errno::EFAULT)?;
        errno_is(&format!("openat of path {p:#x}"), o, Errno::EFAULT)?;
        errno_is(&format!("getcwd into {p:#x}"), g, Errno::EFAULT)?;
        errno_is(&format!("clock_gettime into {p:#x}"), c, Errno::EFAULT)?;
        errno_is(&format!("pipe2 into {p:#x}"), f, Errno::EFAULT)?;
    }
    // ANCHOR_END: wild-pointers
    // Reading into read-only memory (our own code) must fail too, and lose no data.
    let mut fds = [0i32; 2];
    sys::pipe2(&mut fds, 0).map_err(|e| format!("pipe2: {}", e.name()))?;
    sys::write(fds[1], b"xy").map_err(|e| format!("write: {}", e.name()))?;
    let text = main as *const () as usize;
    // SAFETY: the kernel must refuse to write into our read-only text.
    let r = sys::check(unsafe { sys::syscall3(0, fds[0] as usize, text, 2) });
    errno_is("read into the text segment", r, Errno::EFAULT)?;
    let mut two = [0u8; 2];
    let n = sys::read(fds[0], &mut two).map_err(|e| format!("read: {}", e.name()))?;
    ensure(&two[..n] == b"xy", || {
        format!("the failed read lost data: got {:?}", &two[..n])
    })?;
    // A page that was mapped and is not any more.
    let flags = sys::MAP_PRIVATE | sys::MAP_ANONYMOUS;
    // SAFETY: a fresh mapping, unmapped at once; only its address is used afterwards.
    let gone = unsafe { sys::mmap(0, PAGE, sys::PROT_READ | sys::PROT_WRITE, flags, -1, 0) }
        .map_err(|e| format!("mmap: {}", e.name()))?;
    // SAFETY: nothing refers into it.
    unsafe { sys::munmap(gone, PAGE) }.map_err(|e| format!("munmap: {}", e.name()))?;
    // SAFETY: as above: the kernel checks the pointer.
    let w = sys::check(unsafe { sys::syscall3(1, 1, gone, 8) });
    errno_is("write from an unmapped page", w, Errno::EFAULT)?;
    Ok(checksum(seed, 64))
}

fn copy(seed: u64, n: usize) -> Check {
    let mut fds = [0i32; 2];
    sys::pipe2(&mut fds, 0).map_err(|e| format!("pipe2: {}", e.name()))?;
    match sys::fork().map_err(|e| format!("fork: {}", e.name()))? {
        0 => {
            let _ = sys::close(fds[0]);
            let mut stream = Stream::new(seed);
            // An odd offset and chunk size, so copies straddle pages.
            let mut buf = alloc::vec![0u8; 3 * PAGE];
            let mut left = n;
            while left > 0 {
                let len = left.min(5003);
                stream.fill(&mut buf[7..7 + len]);
                let mut off = 0;
                while off < len {
                    match sys::write(fds[1], &buf[7 + off..7 + len]) {
                        Ok(w) => off += w,
                        Err(_) => sys::exit_group(3),
                    }
                }
                left -= len;
            }
            sys::exit_group(0)
        }
        pid => {
            let _ = sys::close(fds[1]);
            let mut buf = alloc::vec![0u8; 2 * PAGE];
            let (mut h, mut total) = (FNV_OFFSET, 0usize);
            loop {
                let got = sys::read(fds[0], &mut buf[4093..4093 + 777])
                    .map_err(|e| format!("read: {}", e.name()))?;
                if got == 0 {
                    break;
                }
                h = fnv1a(h, &buf[4093..4093 + got]);
                total += got;
            }
            let (_, status) =
                process::wait(pid as i32).map_err(|e| format!("wait4: {}", e.name()))?;
            ensure(status.success(), || format!("writer ended with {status:?}"))?;
            ensure(total == n, || format!("read {total} bytes, expected {n}"))?;
            Ok(h)
        }
    }
}

/// The arguments `args` makes from a seed: 100 words of 1 to 64 letters.
fn seeded_words(seed: u64) -> Vec<Vec<u8>> {
    let mut s = Stream::new(seed ^ 0xa5a5);
    (0..100)
        .map(|_| {
            let len = 1 + (s.byte() % 64) as usize;
            (0..len).map(|_| b'a' + s.byte() % 26).collect()
        })
        .collect()
}

fn args_parent(seed: u64) -> Check {
    let me = b"/bin/vmtest".as_slice();
    let mut argv: Vec<Vec<u8>> = alloc::vec![
        me.to_vec(),
        b"argscheck".to_vec(),
        format!("{seed}").into_bytes()
    ];
    argv.extend(seeded_words(seed));
    // Twice: the second time one more environment string of 16 bytes (with its NUL) and
    // its pointer move everything by 24 bytes, so a kernel that forgets to align the
    // stack is caught by one of the two runs, whatever the seed.
    for pad in [false, true] {
        let mut env = alloc::vec![format!("VMSEED={seed}").into_bytes(), b"PATH=/bin".to_vec()];
        if pad {
            env.push(b"PAD=0123456789a".to_vec());
        }
        match sys::fork().map_err(|e| format!("fork: {}", e.name()))? {
            0 => {
                let e = process::exec(me, &argv, &env);
                println!("args FAILED: exec: {}", e.name());
                sys::exit_group(1)
            }
            pid => {
                let (_, status) =
                    process::wait(pid as i32).map_err(|e| format!("wait4: {}", e.name()))?;
                ensure(status.success(), || {
                    format!("the exec'd program ended with {status:?}")
                })?;
            }
        }
    }
    Err(String::new())
}

// ANCHOR: args-check
fn args_child(args: &Args, seed: u64) -> Check {
    let want = seeded_words(seed);
    ensure(args.len() == 3 + want.len(), || {
        format!("argc is {}, expected {}", args.len(), 3 + want.len())
    })?;
    for (i, w) in want.iter().enumerate() {
        ensure(args.get(3 + i) == Some(w.as_slice()), || {
            format!("argv[{}] differs", 3 + i)
        })?;
    }
    let seed_env = format!("{seed}");
    ensure(args.env_str("VMSEED") == Some(seed_env.as_str()), || {
        String::from("VMSEED missing from envp")
    })?;
    ensure(args.aux(vkrt::auxv::AT_PAGESZ) == Some(PAGE), || {
        String::from("AT_PAGESZ is not 4096")
    })?;
    ensure(
        args.aux(vkrt::auxv::AT_ENTRY).is_some_and(|e| e != 0),
        || String::from("no AT_ENTRY"),
    )?;
    ensure(args.random_bytes().is_some(), || {
        String::from("no AT_RANDOM")
    })?;
    let sp = args.initial_stack() as usize;
    ensure(sp.is_multiple_of(16), || {
        format!("initial stack pointer {sp:#x} is not 16-byte aligned")
    })?;
    Ok(checksum(seed, 6400))
}
// ANCHOR_END: args-check

// ANCHOR: bss
static mut ZEROED: [u8; 1 << 20] = [0; 1 << 20];
static mut INITIALISED: [u32; 8] = [3, 1, 4, 1, 5, 9, 2, 6];

fn bss(seed: u64) -> Check {
    // SAFETY: single-threaded program; these statics are touched only here, through raw
    // pointers.
    let (zeroed, data) = unsafe {
        (
            &mut *core::ptr::addr_of_mut!(ZEROED),
            &mut *core::ptr::addr_of_mut!(INITIALISED),
        )
    };
    ensure(zeroed.iter().all(|&b| b == 0), || {
        String::from("the bss is not zero")
    })?;
    ensure(*data == [3, 1, 4, 1, 5, 9, 2, 6], || {
        format!("initialised data is {data:?}")
    })?;
    Stream::new(seed).fill(zeroed);
    Ok(fnv1a(FNV_OFFSET, zeroed))
}
// ANCHOR_END: bss

fn main(args: Args) -> i32 {
    let mode = args.get_str(1).unwrap_or("");
    if mode == "dump" {
        return match dump() {
            Ok(()) => 0,
            Err(why) => {
                println!("dump FAILED: {why}");
                1
            }
        };
    }
    let seed: u64 = args.get_str(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let result = match mode {
        "layout" => layout(seed),
        "efault" => efault(seed),
        "copy" => copy(
            seed,
            args.get_str(3).and_then(|s| s.parse().ok()).unwrap_or(4096),
        ),
        "args" => args_parent(seed),
        "argscheck" => args_child(&args, seed),
        "bss" => bss(seed),
        _ => {
            println!("usage: vmtest layout|efault|copy|args|bss SEED [N] | vmtest dump");
            return 2;
        }
    };
    let shown = if mode == "argscheck" { "args" } else { mode };
    match result {
        Ok(sum) => {
            println!("{shown} ok {sum:016x}");
            0
        }
        // The exec'd child already printed the verdict.
        Err(why) if why.is_empty() => 0,
        Err(why) => {
            println!("{shown} FAILED: {why}");
            1
        }
    }
}
