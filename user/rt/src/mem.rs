//! mem: `memcpy`, `memmove`, `memset`, `memcmp`, `bcmp` and `strlen`, the C functions Rust needs.
//!
//! Rust code compiles struct copies, slice copies and comparisons into calls to these
//! symbols. A normal program gets them from the C library; a guest links with
//! `-nostdlib`, and the host target's `compiler_builtins` does not provide them, so the
//! runtime must. `strlen` is here because `core::ffi::CStr::from_ptr` calls it. Nobody
//! calls these by name: they exist for the linker.
//!
//! The trap: LLVM recognises a byte-copy loop and replaces it with a call to `memcpy`,
//! which inside `memcpy` is infinite recursion. So the copies and fills are each one
//! x86 string instruction in inline assembly (`rep movsb`, `rep stosb`), which the
//! compiler cannot rewrite and modern CPUs run fast; so is `strlen` (`repne scasb`,
//! since LLVM learns to spot strlen loops too). The comparisons are plain loops:
//! LLVM has no idiom that turns a compare loop into `memcmp`. `objdump -d` of any guest
//! shows none of them calls anything.

use core::arch::asm;

/// Copies `n` bytes from `src` to `dest`; the ranges must not overlap. Returns `dest`.
///
/// # Safety
/// `src` valid for reading and `dest` for writing `n` bytes; no overlap.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcpy(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: `rep movsb` copies exactly `rcx` bytes from [rsi] to [rdi], forwards (the
    // ABI guarantees the direction flag is clear); the caller vouches for both ranges.
    unsafe {
        asm!("rep movsb", inout("rcx") n => _, inout("rdi") dest => _, inout("rsi") src => _,
             options(nostack, preserves_flags));
    }
    dest
}

/// Copies `n` bytes from `src` to `dest`; the ranges may overlap. Returns `dest`.
///
/// # Safety
/// `src` valid for reading and `dest` for writing `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memmove(dest: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    if n == 0 {
        return dest;
    }
    if dest.addr().wrapping_sub(src.addr()) >= n {
        // `dest` is below `src` or past its end: a forward copy never overwrites a byte
        // before reading it.
        // SAFETY: the caller's guarantees, and the forward copy is safe for this overlap.
        return unsafe { memcpy(dest, src, n) };
    }
    // `dest` lies inside (src, src + n): copy backwards, from the last byte down.
    // SAFETY: `std` makes `rep movsb` walk downwards from the last byte of each range (both
    // inside the caller's ranges since n > 0); `cld` restores the direction flag the ABI
    // requires to be clear.
    unsafe {
        asm!("std", "rep movsb", "cld",
             inout("rcx") n => _, inout("rdi") dest.add(n - 1) => _,
             inout("rsi") src.add(n - 1) => _, options(nostack));
    }
    dest
}

/// Sets `n` bytes at `dest` to `c as u8`. Returns `dest`.
///
/// # Safety
/// `dest` valid for writing `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memset(dest: *mut u8, c: i32, n: usize) -> *mut u8 {
    // SAFETY: `rep stosb` stores `al` into `rcx` bytes from [rdi] upwards; the caller
    // vouches for the range.
    unsafe {
        asm!("rep stosb", inout("rcx") n => _, inout("rdi") dest => _, in("al") c as u8,
             options(nostack, preserves_flags));
    }
    dest
}

/// Compares `n` bytes: negative, zero or positive as `a` sorts before, equal to or after
/// `b` (bytes compared as unsigned).
///
/// # Safety
/// `a` and `b` valid for reading `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    while i < n {
        // SAFETY: i < n, and the caller vouches for n bytes at each pointer.
        let (x, y) = unsafe { (*a.add(i), *b.add(i)) };
        if x != y {
            return i32::from(x) - i32::from(y);
        }
        i += 1;
    }
    0
}

/// Compares `n` bytes for equality only: zero if equal, nonzero otherwise.
///
/// # Safety
/// `a` and `b` valid for reading `n` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn bcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: same contract.
    unsafe { memcmp(a, b, n) }
}

/// The length of the NUL-terminated string at `s`, not counting the NUL.
///
/// # Safety
/// `s` must point at a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strlen(s: *const u8) -> usize {
    let left: usize;
    // SAFETY: `repne scasb` reads bytes from [rdi] upwards until one equals `al` (0); the
    // caller guarantees a NUL before the end of readable memory. `rcx` counts down from
    // usize::MAX, once per byte read, NUL included.
    unsafe {
        asm!("repne scasb", inout("rcx") usize::MAX => left, inout("rdi") s => _, in("al") 0u8,
             options(nostack, readonly));
    }
    // Bytes read = MAX - left, of which the last was the NUL.
    usize::MAX - left - 1
}
