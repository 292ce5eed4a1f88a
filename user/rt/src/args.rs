//! args: the program's arguments, environment and auxiliary vector, as the kernel passed them.
//!
//! [`Args`] is a small copyable view of the System V initial stack that
//! [`crate::start`] found at `_start`: `argv` and `envp` (arrays of NUL-terminated
//! strings) and `auxv` (`(key, value)` pairs, keys in [`crate::auxv`]). `main` receives
//! one; [`get`] returns the same view anywhere else (the panic handler uses it for the
//! program's name). Strings come out as `&'static [u8]` without their NUL: arguments are
//! bytes, not necessarily UTF-8. Print them with [`crate::io::Lossy`], or use the `_str`
//! variants, which check UTF-8.
//!
//! ```ignore
//! for (i, arg) in args.iter().enumerate() { println!("argv[{i}] = {}", Lossy(arg)); }
//! let home = args.env_str("HOME").unwrap_or("/");
//! let page = args.aux(vkrt::auxv::AT_PAGESZ).unwrap_or(4096);
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::auxv;

/// The initial stack pointer, recorded once by [`install`]; null before that.
static INITIAL_STACK: AtomicPtr<usize> = AtomicPtr::new(core::ptr::null_mut());

/// Records the initial stack and returns the view of it that `main` gets.
///
/// # Safety
/// `sp` must point at a well-formed System V initial stack (see [`crate::start`]) that
/// stays mapped and unchanged for the rest of the process, because every string handed
/// out is `&'static`. Only `_start` calls this.
pub(crate) unsafe fn install(sp: *const usize) -> Args {
    INITIAL_STACK.store(sp.cast_mut(), Ordering::Release);
    // SAFETY: forwarded from our caller's contract.
    unsafe { Args::parse(sp) }
}

/// The program's [`Args`], or `None` before `_start` has run (never, in a program).
pub fn get() -> Option<Args> {
    let sp = INITIAL_STACK.load(Ordering::Acquire);
    if sp.is_null() {
        return None;
    }
    // SAFETY: only `install` stores a non-null pointer, and its contract says the stack
    // it points at is well formed and stays valid for the life of the process.
    Some(unsafe { Args::parse(sp) })
}

/// A view of the initial stack: `argv`, `envp` and `auxv`.
///
/// All of it lives in the initial stack's memory, which the process never unmaps, so
/// everything returned is `'static`. Counts are computed once, when the view is made.
#[derive(Clone, Copy)]
pub struct Args {
    argc: usize,
    argv: *const *const u8,
    envc: usize,
    envp: *const *const u8,
    auxc: usize,
    auxv: *const [usize; 2],
}

impl Args {
    /// Walks the initial stack at `sp` to find where each array starts and ends.
    ///
    /// # Safety
    /// As for [`install`]: `sp` points at a well-formed initial stack that lives forever.
    unsafe fn parse(sp: *const usize) -> Args {
        // SAFETY: the layout is the System V ABI's: argc, then argc pointers and a NULL,
        // then the environment pointers up to a NULL, then auxv pairs up to AT_NULL. The
        // caller guarantees all of it is there, so every read below stays inside it.
        unsafe {
            let argc = *sp;
            let argv = sp.add(1).cast::<*const u8>();
            let envp = argv.add(argc + 1);
            let mut envc = 0;
            while !(*envp.add(envc)).is_null() {
                envc += 1;
            }
            let auxv = envp.add(envc + 1).cast::<[usize; 2]>();
            let mut auxc = 0;
            while (*auxv.add(auxc))[0] != auxv::AT_NULL {
                auxc += 1;
            }
            Args {
                argc,
                argv,
                envc,
                envp,
                auxc,
                auxv,
            }
        }
    }

    /// The number of arguments, `argc` (normally at least 1: `argv[0]` is the program).
    pub fn len(&self) -> usize {
        self.argc
    }

    /// True if the kernel passed no arguments at all (not even `argv[0]`).
    pub fn is_empty(&self) -> bool {
        self.argc == 0
    }

    /// `argv[i]` without its NUL, or `None` if `i >= argc`.
    pub fn get(&self, i: usize) -> Option<&'static [u8]> {
        self.iter().nth(i)
    }

    /// `argv[i]` if it exists and is valid UTF-8.
    pub fn get_str(&self, i: usize) -> Option<&'static str> {
        self.get(i).and_then(|a| core::str::from_utf8(a).ok())
    }

    /// All of `argv`, in order.
    pub fn iter(&self) -> CStrs {
        CStrs {
            next: self.argv,
            left: self.argc,
        }
    }

    /// All of `argv` as `&str`; an argument that is not UTF-8 comes out as `"\u{FFFD}"`.
    pub fn iter_str(&self) -> impl Iterator<Item = &'static str> {
        self.iter()
            .map(|a| core::str::from_utf8(a).unwrap_or("\u{FFFD}"))
    }

    /// The last path component of `argv[0]`, or `b"?"` if there is none.
    pub fn program_name(&self) -> &'static [u8] {
        let full = self.get(0).unwrap_or(b"");
        let base = full.rsplit(|&b| b == b'/').next().unwrap_or(full);
        if base.is_empty() {
            b"?"
        } else {
            base
        }
    }

    /// The environment strings, each `NAME=value`, in order.
    pub fn envs(&self) -> CStrs {
        CStrs {
            next: self.envp,
            left: self.envc,
        }
    }

    /// The value of the first environment variable called `name`.
    pub fn env(&self, name: &str) -> Option<&'static [u8]> {
        let name = name.as_bytes();
        self.envs().find_map(|entry| {
            let rest = entry.strip_prefix(name)?;
            rest.strip_prefix(b"=")
        })
    }

    /// Like [`Args::env`], if the value is valid UTF-8.
    pub fn env_str(&self, name: &str) -> Option<&'static str> {
        self.env(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The whole auxiliary vector as `(key, value)` pairs, without the final `AT_NULL`.
    pub fn auxv(&self) -> Auxv {
        Auxv {
            next: self.auxv,
            left: self.auxc,
        }
    }

    /// The value of auxv entry `key` (an `AT_*` constant from [`crate::auxv`]).
    pub fn aux(&self, key: usize) -> Option<usize> {
        self.auxv().find(|&(k, _)| k == key).map(|(_, v)| v)
    }

    /// `AT_PAGESZ`, or 4096 if the kernel did not pass it.
    pub fn page_size(&self) -> usize {
        self.aux(auxv::AT_PAGESZ).unwrap_or(4096)
    }

    /// The 16 random bytes `AT_RANDOM` points at, if the kernel passed them.
    pub fn random_bytes(&self) -> Option<&'static [u8; 16]> {
        let addr = self.aux(auxv::AT_RANDOM).filter(|&a| a != 0)?;
        // SAFETY: the ABI says AT_RANDOM is the address of 16 bytes in the initial stack's
        // string area, which lives (unchanged) as long as the process.
        Some(unsafe { &*(addr as *const [u8; 16]) })
    }

    /// The address of the initial stack (where `argc` is), for debugging and tests.
    pub fn initial_stack(&self) -> *const usize {
        self.argv.cast::<usize>().wrapping_sub(1)
    }
}

impl IntoIterator for Args {
    type Item = &'static [u8];
    type IntoIter = CStrs;

    /// `for arg in args`: the same as [`Args::iter`].
    fn into_iter(self) -> CStrs {
        self.iter()
    }
}

impl IntoIterator for &Args {
    type Item = &'static [u8];
    type IntoIter = CStrs;

    fn into_iter(self) -> CStrs {
        self.iter()
    }
}

impl fmt::Debug for Args {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Args")
            .field("argc", &self.argc)
            .field("envc", &self.envc)
            .field("auxc", &self.auxc)
            .field("stack", &self.initial_stack())
            .finish()
    }
}

/// Single-letter options found by [`Args::flags`] (`-l`, `-rf`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags(Vec<u8>);

impl Flags {
    /// True if option `letter` was given (`flags.has(b'l')`).
    pub fn has(&self, letter: u8) -> bool {
        self.0.contains(&letter)
    }
}

impl Args {
    /// Splits the arguments after `argv[0]` into options and operands, the way most
    /// Unix tools do: leading arguments that start with `-` (and are not just `-`) are
    /// groups of one-letter options (`-l`, `-rf`), up to the first other argument or
    /// `--`; the rest are operands. `Err(letter)` names an option not in `known`.
    ///
    /// ```ignore
    /// let (flags, files) = args.flags(b"la").map_err(|c| usage(c))?;
    /// if flags.has(b'l') { ... }
    /// ```
    pub fn flags(&self, known: &[u8]) -> Result<(Flags, Vec<&'static [u8]>), u8> {
        let mut flags = Flags::default();
        let mut rest = self.iter().skip(1).peekable();
        while let Some(arg) = rest.next_if(|a| a.len() > 1 && a[0] == b'-') {
            if arg == b"--" {
                break;
            }
            for &letter in &arg[1..] {
                if !known.contains(&letter) {
                    return Err(letter);
                }
                flags.0.push(letter);
            }
        }
        Ok((flags, rest.collect()))
    }
}

/// The length of the NUL-terminated string at `p`, without the NUL.
///
/// # Safety
/// `p` must point at a NUL-terminated string.
unsafe fn c_strlen(p: *const u8) -> usize {
    let mut n = 0;
    // SAFETY: every byte up to and including the NUL is part of the string.
    while unsafe { *p.add(n) } != 0 {
        n += 1;
    }
    n
}

/// An iterator over a NULL-terminated array of C strings (`argv` or `envp`).
#[derive(Clone, Debug)]
pub struct CStrs {
    next: *const *const u8,
    left: usize,
}

impl Iterator for CStrs {
    type Item = &'static [u8];

    fn next(&mut self) -> Option<&'static [u8]> {
        if self.left == 0 {
            return None;
        }
        // SAFETY: `CStrs` is only made by `Args` from a counted part of argv or envp:
        // `left > 0` means `next` points at one of its non-NULL entries, a NUL-terminated
        // string in the initial stack, which lives as long as the process.
        let s = unsafe {
            let p = *self.next;
            self.next = self.next.add(1);
            core::slice::from_raw_parts(p, c_strlen(p))
        };
        self.left -= 1;
        Some(s)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for CStrs {}

/// An iterator over the auxiliary vector's `(key, value)` pairs.
#[derive(Clone, Debug)]
pub struct Auxv {
    next: *const [usize; 2],
    left: usize,
}

impl Iterator for Auxv {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        if self.left == 0 {
            return None;
        }
        // SAFETY: made only by `Args` with `left` = the number of pairs before AT_NULL,
        // so `next` points at one of them.
        let [key, value] = unsafe {
            let pair = *self.next;
            self.next = self.next.add(1);
            pair
        };
        self.left -= 1;
        Some((key, value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Auxv {}
