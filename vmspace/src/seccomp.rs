//! The seccomp filter every guest address space runs under.
//!
//! Guest code runs under `PTRACE_SYSEMU`, whose system calls stop in the tracer before
//! seccomp ever sees them. The filter therefore judges only two kinds of calls:
//! - calls from the stub's batch runner (the tracer started it with `PTRACE_CONT`):
//!   allowed when they are `mmap` of the RAM descriptor, `munmap` or `mprotect`;
//! - the host's vsyscall emulation, which a guest reaches with a plain `call` into the
//!   vsyscall page and which bypasses `PTRACE_SYSEMU`: answered with `SIGSYS`
//!   (`SECCOMP_RET_TRAP`), which the tracer turns into an instruction-fetch page fault.
//!
//! Everything else kills the child: it would be a host system call the tracer never asked for.

/// One classic BPF instruction (`struct sock_filter`).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
const JEQ_K: u16 = 0x15; // BPF_JMP | BPF_JEQ | BPF_K
const AND_K: u16 = 0x54; // BPF_ALU | BPF_AND | BPF_K
const RET_K: u16 = 0x06; // BPF_RET | BPF_K

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ALLOW: u32 = 0x7fff_0000;

// Offsets into `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const IP_LO: u32 = 8;
const IP_HI: u32 = 12;
const ARG4_LO: u32 = 16 + 4 * 8;
const ARG4_HI: u32 = 16 + 4 * 8 + 4;

fn ld(off: u32) -> Insn {
    Insn {
        code: LD_W_ABS,
        jt: 0,
        jf: 0,
        k: off,
    }
}
fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
    Insn {
        code: JEQ_K,
        jt,
        jf,
        k,
    }
}
fn ret(k: u32) -> Insn {
    Insn {
        code: RET_K,
        jt: 0,
        jf: 0,
        k,
    }
}

/// Build the filter for a child whose batch runner's `syscall` returns to
/// `batch_syscall_return` and whose RAM descriptor is `ram_fd`.
pub fn filter(batch_syscall_return: u64, ram_fd: u32) -> Vec<Insn> {
    let vsyscall_hi = (crate::layout::VSYSCALL_PAGE >> 32) as u32;
    let vsyscall_lo = crate::layout::VSYSCALL_PAGE as u32;
    // Jump offsets count instructions after the jump; every "no" leads to the last `ret`.
    vec![
        /* 0 */ ld(ARCH),
        /* 1 */ jeq(AUDIT_ARCH_X86_64, 1, 0),
        /* 2 */ ret(RET_KILL_PROCESS),
        /* 3 */ ld(IP_HI),
        /* 4 */ jeq(vsyscall_hi, 0, 4),
        /* 5 */ ld(IP_LO),
        /* 6 */
        Insn {
            code: AND_K,
            jt: 0,
            jf: 0,
            k: 0xffff_f000,
        },
        /* 7 */ jeq(vsyscall_lo, 0, 15),
        /* 8 */ ret(RET_TRAP),
        /* 9 */ jeq((batch_syscall_return >> 32) as u32, 0, 13),
        /* 10 */ ld(IP_LO),
        /* 11 */ jeq(batch_syscall_return as u32, 0, 11),
        /* 12 */ ld(NR),
        /* 13 */ jeq(libc::SYS_munmap as u32, 8, 0),
        /* 14 */ jeq(libc::SYS_mprotect as u32, 7, 0),
        /* 15 */ jeq(libc::SYS_mmap as u32, 0, 7),
        /* 16 */ ld(ARG4_HI),
        /* 17 */ jeq(0, 0, 5),
        /* 18 */ ld(ARG4_LO),
        /* 19 */ jeq(ram_fd, 2, 0),
        /* 20 */ ret(RET_KILL_PROCESS),
        /* 21 */ ret(RET_KILL_PROCESS),
        /* 22 */ ret(RET_ALLOW),
        /* 23 */ ret(RET_KILL_PROCESS),
    ]
}

/// The filter as bytes, ready to be copied into the child.
pub fn encode(prog: &[Insn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prog.len() * 8);
    for i in prog {
        out.extend_from_slice(&i.code.to_le_bytes());
        out.push(i.jt);
        out.push(i.jf);
        out.extend_from_slice(&i.k.to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny classic-BPF interpreter, enough for the instructions `filter` uses.
    fn run(prog: &[Insn], nr: u32, ip: u64, arg4: u64) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_le_bytes());
        data[4..8].copy_from_slice(&AUDIT_ARCH_X86_64.to_le_bytes());
        data[8..16].copy_from_slice(&ip.to_le_bytes());
        data[48..56].copy_from_slice(&arg4.to_le_bytes());
        let (mut a, mut pc) = (0u32, 0usize);
        loop {
            let i = prog[pc];
            pc += 1;
            match i.code {
                LD_W_ABS => {
                    let k = i.k as usize;
                    a = u32::from_le_bytes(data[k..k + 4].try_into().unwrap());
                }
                AND_K => a &= i.k,
                JEQ_K => pc += if a == i.k { i.jt } else { i.jf } as usize,
                RET_K => return i.k,
                _ => panic!("unknown insn"),
            }
        }
    }

    #[test]
    fn filter_allows_only_the_batch_memory_calls() {
        let ret_ip = 0x7fff_8000_0042;
        let p = filter(ret_ip, 3);
        assert_eq!(run(&p, libc::SYS_mmap as u32, ret_ip, 3), RET_ALLOW);
        assert_eq!(run(&p, libc::SYS_mmap as u32, ret_ip, 4), RET_KILL_PROCESS);
        assert_eq!(
            run(&p, libc::SYS_mmap as u32, ret_ip, 3 | 1 << 32),
            RET_KILL_PROCESS
        );
        assert_eq!(run(&p, libc::SYS_munmap as u32, ret_ip, 0), RET_ALLOW);
        assert_eq!(run(&p, libc::SYS_mprotect as u32, ret_ip, 0), RET_ALLOW);
        assert_eq!(
            run(&p, libc::SYS_openat as u32, ret_ip, 0),
            RET_KILL_PROCESS
        );
        assert_eq!(
            run(&p, libc::SYS_mmap as u32, ret_ip + 16, 3),
            RET_KILL_PROCESS
        );
        assert_eq!(
            run(&p, libc::SYS_mmap as u32, 0x40_1000, 3),
            RET_KILL_PROCESS
        );
        assert_eq!(run(&p, 201, 0xffff_ffff_ff60_0400, 0), RET_TRAP);
        assert_eq!(run(&p, 201, 0xffff_ffff_ff70_0000, 0), RET_KILL_PROCESS);
    }
}
