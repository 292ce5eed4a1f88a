//! The file system layer: files, directories, pipes and descriptors, as plain data.
//!
//! Everything here is a data structure with unit tests; none of it touches guest memory,
//! processes or the scheduler. The system-call layer (`syscall/`) does that: it copies
//! paths and buffers in and out of the guest, calls these functions, and when one says
//! `EAGAIN` (an empty or full pipe) it puts the process to sleep and retries later.
//! Nothing here blocks.
//!
//! How the pieces fit, from the boot archive to a byte in a guest's buffer:
//!
//! ```text
//!  initramfs bytes --cpio::parse--> entries --RamFs::from_cpio--> RamFs (inodes)
//!                                                                    ^
//!  process: FdTable [fd 0, 1, 2, ...] --> FileRef = Rc<RefCell<OpenFile>>
//!                                           kind: Console | Inode(ino) ----+
//!                                                 | PipeReader/PipeWriter --> Rc<RefCell<Pipe>>
//!  fstat / getdents64: Stat, read_dir entries --abi--> Linux x86-64 bytes
//! ```
//!
//! - [`cpio`]: reading the initramfs (the "newc" archive format), checking every byte.
//! - [`ramfs`]: the in-memory tree of directories and files, addressed by inode number;
//!   path walking, file bytes and building from an archive are its child modules.
//! - [`pipe`]: the bounded byte queue behind `pipe2`.
//! - [`file`](mod@file): open files (what a descriptor stands for) and per-process descriptor
//!   tables, with `dup`, `fork` and `execve` semantics.
//! - [`abi`]: `struct stat` and `linux_dirent64` as Linux x86-64 lays them out.
//!
//! Errors are Linux's numbers ([`crate::errno::Errno`]), exactly what the matching
//! system call returns, so the system-call layer passes them on unchanged.

pub mod abi;
pub mod cpio;
pub mod file;
pub mod pipe;
pub mod ramfs;
