//! nr: Linux x86-64 system call numbers, for [`super::syscall0`] .. [`super::syscall6`].
//!
//! The vkernel uses the same numbers (see "Guest ABI" in the design notes) and answers
//! `ENOSYS` to the ones it does not implement. This is a selection of the table in
//! `<asm/unistd_64.h>`, grouped by topic; add a number here when you need one.

// Files and descriptors.
/// `read`.
pub const READ: usize = 0;
/// `write`.
pub const WRITE: usize = 1;
/// `open`.
pub const OPEN: usize = 2;
/// `close`.
pub const CLOSE: usize = 3;
/// `stat`.
pub const STAT: usize = 4;
/// `fstat`.
pub const FSTAT: usize = 5;
/// `lstat`.
pub const LSTAT: usize = 6;
/// `poll`.
pub const POLL: usize = 7;
/// `lseek`.
pub const LSEEK: usize = 8;
/// `ioctl`.
pub const IOCTL: usize = 16;
/// `pread64`.
pub const PREAD64: usize = 17;
/// `pwrite64`.
pub const PWRITE64: usize = 18;
/// `readv`.
pub const READV: usize = 19;
/// `writev`.
pub const WRITEV: usize = 20;
/// `access`.
pub const ACCESS: usize = 21;
/// `pipe`.
pub const PIPE: usize = 22;
/// `dup`.
pub const DUP: usize = 32;
/// `dup2`.
pub const DUP2: usize = 33;
/// `fcntl`.
pub const FCNTL: usize = 72;
/// `fsync`.
pub const FSYNC: usize = 74;
/// `ftruncate`.
pub const FTRUNCATE: usize = 77;
/// `getcwd`.
pub const GETCWD: usize = 79;
/// `chdir`.
pub const CHDIR: usize = 80;
/// `fchdir`.
pub const FCHDIR: usize = 81;
/// `rename`.
pub const RENAME: usize = 82;
/// `mkdir`.
pub const MKDIR: usize = 83;
/// `rmdir`.
pub const RMDIR: usize = 84;
/// `unlink`.
pub const UNLINK: usize = 87;
/// `readlink`.
pub const READLINK: usize = 89;
/// `umask`.
pub const UMASK: usize = 95;
/// `getdents64`.
pub const GETDENTS64: usize = 217;
/// `openat`.
pub const OPENAT: usize = 257;
/// `mkdirat`.
pub const MKDIRAT: usize = 258;
/// `newfstatat`.
pub const NEWFSTATAT: usize = 262;
/// `unlinkat`.
pub const UNLINKAT: usize = 263;
/// `renameat`.
pub const RENAMEAT: usize = 264;
/// `linkat`.
pub const LINKAT: usize = 265;
/// `symlinkat`.
pub const SYMLINKAT: usize = 266;
/// `readlinkat`.
pub const READLINKAT: usize = 267;
/// `faccessat`.
pub const FACCESSAT: usize = 269;
/// `ppoll`.
pub const PPOLL: usize = 271;
/// `dup3`.
pub const DUP3: usize = 292;
/// `pipe2`.
pub const PIPE2: usize = 293;
/// `statx`.
pub const STATX: usize = 332;

// Memory.
/// `mmap`.
pub const MMAP: usize = 9;
/// `mprotect`.
pub const MPROTECT: usize = 10;
/// `munmap`.
pub const MUNMAP: usize = 11;
/// `brk`.
pub const BRK: usize = 12;
/// `mremap`.
pub const MREMAP: usize = 25;
/// `madvise`.
pub const MADVISE: usize = 28;

// Signals.
/// `rt_sigaction`.
pub const RT_SIGACTION: usize = 13;
/// `rt_sigprocmask`.
pub const RT_SIGPROCMASK: usize = 14;
/// `rt_sigreturn`.
pub const RT_SIGRETURN: usize = 15;
/// `pause`.
pub const PAUSE: usize = 34;
/// `kill`.
pub const KILL: usize = 62;
/// `tgkill`.
pub const TGKILL: usize = 234;

// Processes and threads.
/// `sched_yield`.
pub const SCHED_YIELD: usize = 24;
/// `getpid`.
pub const GETPID: usize = 39;
/// `clone`.
pub const CLONE: usize = 56;
/// `fork`.
pub const FORK: usize = 57;
/// `vfork`.
pub const VFORK: usize = 58;
/// `execve`.
pub const EXECVE: usize = 59;
/// `exit`.
pub const EXIT: usize = 60;
/// `wait4`.
pub const WAIT4: usize = 61;
/// `uname`.
pub const UNAME: usize = 63;
/// `getuid`.
pub const GETUID: usize = 102;
/// `getgid`.
pub const GETGID: usize = 104;
/// `geteuid`.
pub const GETEUID: usize = 107;
/// `getegid`.
pub const GETEGID: usize = 108;
/// `setpgid`.
pub const SETPGID: usize = 109;
/// `getppid`.
pub const GETPPID: usize = 110;
/// `getpgrp`.
pub const GETPGRP: usize = 111;
/// `setsid`.
pub const SETSID: usize = 112;
/// `getpgid`.
pub const GETPGID: usize = 121;
/// `getsid`.
pub const GETSID: usize = 124;
/// `arch_prctl`.
pub const ARCH_PRCTL: usize = 158;
/// `gettid`.
pub const GETTID: usize = 186;
/// `futex`.
pub const FUTEX: usize = 202;
/// `set_tid_address`.
pub const SET_TID_ADDRESS: usize = 218;
/// `exit_group`.
pub const EXIT_GROUP: usize = 231;
/// `prlimit64`.
pub const PRLIMIT64: usize = 302;
/// `getrandom`.
pub const GETRANDOM: usize = 318;

// Time.
/// `nanosleep`.
pub const NANOSLEEP: usize = 35;
/// `gettimeofday`.
pub const GETTIMEOFDAY: usize = 96;
/// `time`.
pub const TIME: usize = 201;
/// `clock_gettime`.
pub const CLOCK_GETTIME: usize = 228;
/// `clock_nanosleep`.
pub const CLOCK_NANOSLEEP: usize = 230;

// Sockets.
/// `socket`.
pub const SOCKET: usize = 41;
/// `connect`.
pub const CONNECT: usize = 42;
/// `accept`.
pub const ACCEPT: usize = 43;
/// `sendto`.
pub const SENDTO: usize = 44;
/// `recvfrom`.
pub const RECVFROM: usize = 45;
/// `sendmsg`.
pub const SENDMSG: usize = 46;
/// `recvmsg`.
pub const RECVMSG: usize = 47;
/// `shutdown`.
pub const SHUTDOWN: usize = 48;
/// `bind`.
pub const BIND: usize = 49;
/// `listen`.
pub const LISTEN: usize = 50;
/// `getsockname`.
pub const GETSOCKNAME: usize = 51;
/// `getpeername`.
pub const GETPEERNAME: usize = 52;
/// `socketpair`.
pub const SOCKETPAIR: usize = 53;
/// `setsockopt`.
pub const SETSOCKOPT: usize = 54;
/// `getsockopt`.
pub const GETSOCKOPT: usize = 55;

// The vkernel's own calls, outside Linux's range (Linux answers ENOSYS).
/// `vk_procs(buf, len)`: one line per process, `<pid> <ppid> <state> <name>\n`.
pub const VK_PROCS: usize = 1000;
/// `vk_ptdump(buf, len)`: the caller's present pages, one line each.
pub const VK_PTDUMP: usize = 1001;
/// `vk_allocs()`: frames the kernel has allocated since boot.
pub const VK_ALLOCS: usize = 1002;
