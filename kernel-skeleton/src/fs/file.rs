//! Open files and file-descriptor tables: what a process's small integers stand for.
//!
//! `openat` or `pipe2` makes an [`OpenFile`]: the object read from and written to
//! (console, ramfs inode or pipe end), the access mode and the current offset. A
//! process's [`FdTable`] maps descriptors 0..[`MAX_FDS`] to shared references to open
//! files ([`FileRef`]): `dup` and `fork` copy the reference, not the file, so the copies
//! share one offset, as in Linux.
//!
//! Who counts what:
//! - A pipe end owns one of its [`Pipe`]'s reader or writer counts: `Pipe::new` counts
//!   one of each, taken over by the two `OpenFile`s made for it ([`OpenFile::pipe`]).
//!   Dropping an end (when its last reference goes) gives its count back, so closing
//!   the last write end is what makes readers see end of file.
//! - Inode opens are the caller's: after `RamFs::open` it makes the `OpenFile`, and
//!   whenever it lets go of a reference ([`FdTable::close`], `take_all`, ...) it passes
//!   it to [`drop_reference`], which says when to call `RamFs::release`.
//! - [`open_files_alive`] counts every `OpenFile` in existence, for the kernel's leak
//!   report.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::pipe::Pipe;
use super::ramfs::Ino;
use crate::errno::Errno;

/// Descriptors per process: 0 to 63.
pub const MAX_FDS: usize = 64;

// ANCHOR: file-kind
/// What an open file reads from and writes to. Cloning it clones the reference to
/// the pipe, not an end: it does not count as a reader or writer.
#[derive(Debug, Clone)]
pub enum FileKind {
    /// The terminal (standard input and output).
    Console,
    /// A file or directory of the ramfs.
    Inode(Ino),
    /// The read end of a pipe.
    PipeReader(Rc<RefCell<Pipe>>),
    /// The write end of a pipe.
    PipeWriter(Rc<RefCell<Pipe>>),
}
// ANCHOR_END: file-kind

/// One open file, shared by every descriptor `dup`ed or inherited from the one that
/// opened it. Made by [`OpenFile::new`] only; do not replace `kind` afterwards (a pipe
/// end's count belongs to the pipe in it).
#[derive(Debug)]
pub struct OpenFile {
    /// The object behind it.
    pub kind: FileKind,
    /// Opened for reading.
    pub readable: bool,
    /// Opened for writing.
    pub writable: bool,
    /// Every write goes to the end (`O_APPEND`).
    pub append: bool,
    /// Where the next read or write starts (inodes only).
    pub offset: u64,
    /// Keeps [`open_files_alive`] counting this file.
    _alive: Alive,
}

/// A shared reference to an open file, as descriptor tables hold it.
pub type FileRef = Rc<RefCell<OpenFile>>;

thread_local! {
    /// Open files in existence on this thread (the kernel runs on one thread).
    static OPEN_FILES_ALIVE: Cell<usize> = const { Cell::new(0) };
}

/// How many [`OpenFile`]s exist now (on this thread): 0 once everything is closed.
pub fn open_files_alive() -> usize {
    OPEN_FILES_ALIVE.with(Cell::get)
}

/// One unit of [`open_files_alive`], held by each open file.
#[derive(Debug)]
struct Alive;

impl Alive {
    fn new() -> Alive {
        OPEN_FILES_ALIVE.with(|count| count.set(count.get() + 1));
        Alive
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        // `try_with`: a file dropped while the thread shuts down has nobody to tell.
        let _ = OPEN_FILES_ALIVE.try_with(|count| count.set(count.get() - 1));
    }
}

impl OpenFile {
    /// An open file at offset 0.
    ///
    /// A pipe end owns one of its pipe's reader or writer counts and gives it back when
    /// dropped. [`Pipe::new`] counts the first reader and writer, so the first two ends
    /// are made with `new` directly (or with [`OpenFile::pipe`]); any further end needs
    /// `add_reader` or `add_writer` first. An inode file does not count its inode's
    /// opens: the caller does, with `RamFs::open`.
    pub fn new(kind: FileKind, readable: bool, writable: bool, append: bool) -> OpenFile {
        OpenFile {
            kind,
            readable,
            writable,
            append,
            offset: 0,
            _alive: Alive::new(),
        }
    }

    /// A new pipe's two ends: (read end, write end), owning the pipe's first counts.
    pub fn pipe() -> (OpenFile, OpenFile) {
        let pipe = Rc::new(RefCell::new(Pipe::new()));
        let reader = OpenFile::new(FileKind::PipeReader(Rc::clone(&pipe)), true, false, false);
        let writer = OpenFile::new(FileKind::PipeWriter(pipe), false, true, false);
        (reader, writer)
    }

    /// The inode behind this file, if it is a ramfs file or directory.
    pub fn inode(&self) -> Option<Ino> {
        match self.kind {
            FileKind::Inode(ino) => Some(ino),
            _ => None,
        }
    }

    /// The pipe behind this file, if it is a pipe end.
    pub fn pipe_buffer(&self) -> Option<&Rc<RefCell<Pipe>>> {
        match &self.kind {
            FileKind::PipeReader(pipe) | FileKind::PipeWriter(pipe) => Some(pipe),
            _ => None,
        }
    }
}

impl From<OpenFile> for FileRef {
    /// Wrap an open file into the shared reference descriptor tables hold.
    fn from(file: OpenFile) -> FileRef {
        Rc::new(RefCell::new(file))
    }
}

impl Drop for OpenFile {
    /// Give back a pipe end's count. Panics if the pipe is borrowed at that moment (a
    /// kernel bug).
    fn drop(&mut self) {
        match &self.kind {
            FileKind::PipeReader(pipe) => pipe.borrow_mut().drop_reader(),
            FileKind::PipeWriter(pipe) => pipe.borrow_mut().drop_writer(),
            FileKind::Console | FileKind::Inode(_) => {}
        }
    }
}

/// Let go of one reference to an open file. Returns the inode whose open the caller
/// must now end with `RamFs::release`: `Some` only when this was the last reference to
/// an inode file.
pub fn drop_reference(file: FileRef) -> Option<Ino> {
    let inode = file.borrow().inode();
    if Rc::strong_count(&file) == 1 {
        inode
    } else {
        None
    }
}

// ANCHOR: fd-table
/// One used descriptor.
#[derive(Debug, Clone)]
struct Slot {
    file: FileRef,
    /// Closed by `execve` (`O_CLOEXEC`, `FD_CLOEXEC`).
    cloexec: bool,
}

/// A process's descriptor table: descriptor `n` is slot `n`.
#[derive(Debug)]
pub struct FdTable {
    slots: Vec<Option<Slot>>,
}
// ANCHOR_END: fd-table

impl Default for FdTable {
    fn default() -> Self {
        FdTable::new()
    }
}

impl FdTable {
    /// A table with every descriptor free.
    pub fn new() -> FdTable {
        FdTable {
            slots: vec![None; MAX_FDS],
        }
    }

    /// The open file of descriptor `fd`.
    ///
    /// # Errors
    /// `EBADF` if `fd` is negative, too large or not open.
    pub fn get(&self, fd: i32) -> Result<FileRef, Errno> {
        Ok(Rc::clone(&self.slot(fd)?.file))
    }

    /// Put `file` (a [`FileRef`], or an [`OpenFile`] to wrap) at the lowest free
    /// descriptor and return it.
    ///
    /// # Errors
    /// `EMFILE` if all [`MAX_FDS`] descriptors are in use (`file` is then dropped).
    pub fn alloc(&mut self, file: impl Into<FileRef>, cloexec: bool) -> Result<i32, Errno> {
        let index = self
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(Errno::EMFILE)?;
        self.slots[index] = Some(Slot {
            file: file.into(),
            cloexec,
        });
        Ok(descriptor(index))
    }

    /// Free descriptor `fd`, returning its reference for [`drop_reference`].
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open.
    pub fn close(&mut self, fd: i32) -> Result<FileRef, Errno> {
        let slot = self.slots[index(fd)?].take().ok_or(Errno::EBADF)?;
        Ok(slot.file)
    }

    /// Share `fd`'s open file at the lowest free descriptor (without close-on-exec).
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open, `EMFILE` if the table is full.
    pub fn dup(&mut self, fd: i32) -> Result<i32, Errno> {
        let file = self.get(fd)?;
        self.alloc(file, false)
    }

    /// Make `new` share `old`'s open file (without close-on-exec), closing what `new`
    /// held first; returns `new`. When `old == new`, nothing changes.
    ///
    /// The reference `new` held is dropped here. A caller that must know when that file
    /// is released (inode opens) takes `get(new)` before and passes it to
    /// [`drop_reference`] after.
    ///
    /// # Errors
    /// `EBADF` if `old` is not open or `new` is out of range; nothing changes then.
    pub fn dup2(&mut self, old: i32, new: i32) -> Result<i32, Errno> {
        let file = self.get(old)?;
        if old == new {
            return Ok(new);
        }
        self.install(new, file, false)
    }

    /// As [`FdTable::dup2`], with close-on-exec set as asked.
    ///
    /// # Errors
    /// `EINVAL` if `old == new`, and the errors of `dup2`.
    pub fn dup3(&mut self, old: i32, new: i32, cloexec: bool) -> Result<i32, Errno> {
        if old == new {
            return Err(Errno::EINVAL);
        }
        let file = self.get(old)?;
        self.install(new, file, cloexec)
    }

    // ANCHOR: fd-fork-exec
    /// A copy for a forked child: the same open files (shared) and flags.
    pub fn fork_copy(&self) -> FdTable {
        FdTable {
            slots: self.slots.clone(),
        }
    }

    /// Close the close-on-exec descriptors (at `execve`), returning their references.
    pub fn close_on_exec(&mut self) -> Vec<FileRef> {
        self.take_where(|slot| slot.cloexec)
    }
    // ANCHOR_END: fd-fork-exec

    /// Close every descriptor (at exit), returning their references.
    pub fn take_all(&mut self) -> Vec<FileRef> {
        self.take_where(|_| true)
    }

    /// Set or clear close-on-exec on `fd` (`F_SETFD`).
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open.
    pub fn set_cloexec(&mut self, fd: i32, cloexec: bool) -> Result<(), Errno> {
        let slot = self.slots[index(fd)?].as_mut().ok_or(Errno::EBADF)?;
        slot.cloexec = cloexec;
        Ok(())
    }

    /// Whether `fd` is close-on-exec (`F_GETFD`).
    ///
    /// # Errors
    /// `EBADF` if `fd` is not open.
    pub fn get_cloexec(&self, fd: i32) -> Result<bool, Errno> {
        Ok(self.slot(fd)?.cloexec)
    }

    /// Descriptors in use.
    pub fn count(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    fn slot(&self, fd: i32) -> Result<&Slot, Errno> {
        self.slots[index(fd)?].as_ref().ok_or(Errno::EBADF)
    }

    /// Put `file` at `fd`, dropping what was there.
    fn install(&mut self, fd: i32, file: FileRef, cloexec: bool) -> Result<i32, Errno> {
        self.slots[index(fd)?] = Some(Slot { file, cloexec });
        Ok(fd)
    }

    /// Empty the used slots `wanted` picks, returning their files.
    fn take_where(&mut self, wanted: impl Fn(&Slot) -> bool) -> Vec<FileRef> {
        let mut taken = Vec::new();
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(&wanted) {
                taken.extend(slot.take().map(|slot| slot.file));
            }
        }
        taken
    }
}

/// The slot index of descriptor `fd`.
fn index(fd: i32) -> Result<usize, Errno> {
    usize::try_from(fd)
        .ok()
        .filter(|&index| index < MAX_FDS)
        .ok_or(Errno::EBADF)
}

/// The descriptor of slot `index` (below `MAX_FDS`, so it fits).
fn descriptor(index: usize) -> i32 {
    i32::try_from(index).expect("FdTable::descriptor: MAX_FDS fits in an i32")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn console() -> FileRef {
        OpenFile::new(FileKind::Console, true, true, false).into()
    }

    #[test]
    fn alloc_takes_the_lowest_free_descriptor() {
        let mut table = FdTable::new();
        assert_eq!(table.alloc(console(), false), Ok(0));
        assert_eq!(table.alloc(console(), false), Ok(1));
        assert_eq!(
            table.alloc(OpenFile::new(FileKind::Console, true, false, false), false),
            Ok(2)
        );
        table.close(1).unwrap();
        assert_eq!(table.alloc(console(), false), Ok(1));
        assert_eq!(table.count(), 3);
    }

    #[test]
    fn a_table_is_full_at_max_fds() {
        let mut table = FdTable::new();
        for fd in 0..MAX_FDS {
            assert_eq!(table.alloc(console(), false), Ok(descriptor(fd)));
        }
        assert_eq!(table.alloc(console(), false), Err(Errno::EMFILE));
        assert_eq!(table.dup(0), Err(Errno::EMFILE));
        assert_eq!(table.take_all().len(), MAX_FDS);
        assert_eq!(table.count(), 0);
    }

    #[test]
    fn bad_descriptors_are_ebadf() {
        let mut table = FdTable::new();
        table.alloc(console(), false).unwrap();
        for fd in [-1, 1, 64, i32::MAX, i32::MIN] {
            assert!(matches!(table.get(fd), Err(Errno::EBADF)), "get({fd})");
            assert!(matches!(table.close(fd), Err(Errno::EBADF)), "close({fd})");
            assert_eq!(table.dup(fd), Err(Errno::EBADF), "dup({fd})");
            assert_eq!(table.set_cloexec(fd, true), Err(Errno::EBADF));
            assert_eq!(table.get_cloexec(fd), Err(Errno::EBADF));
        }
    }

    #[test]
    fn dup_shares_the_open_file_without_cloexec() {
        let mut table = FdTable::new();
        table.alloc(console(), true).unwrap();
        assert_eq!(table.dup(0), Ok(1));
        assert!(Rc::ptr_eq(&table.get(0).unwrap(), &table.get(1).unwrap()));
        table.get(0).unwrap().borrow_mut().offset = 42;
        assert_eq!(table.get(1).unwrap().borrow().offset, 42);
        assert_eq!(
            (table.get_cloexec(0), table.get_cloexec(1)),
            (Ok(true), Ok(false))
        );
    }

    #[test]
    fn dup2_replaces_the_target() {
        let mut table = FdTable::new();
        let first = console();
        table.alloc(Rc::clone(&first), false).unwrap();
        table.alloc(console(), true).unwrap();
        assert_eq!(table.dup2(1, 0), Ok(0));
        assert!(Rc::ptr_eq(&table.get(0).unwrap(), &table.get(1).unwrap()));
        assert_eq!(Rc::strong_count(&first), 1, "the table let go of it");
        assert_eq!(table.get_cloexec(0), Ok(false));
        assert_eq!(table.dup2(1, 1), Ok(1));
        assert_eq!(
            table.get_cloexec(1),
            Ok(true),
            "dup2(fd, fd) changes nothing"
        );
        assert_eq!(table.dup2(1, 10), Ok(10));
        assert_eq!(table.dup2(1, 64), Err(Errno::EBADF));
        assert_eq!(table.dup2(1, -1), Err(Errno::EBADF));
        assert_eq!(table.dup2(5, 5), Err(Errno::EBADF));
        assert_eq!(table.dup2(5, 0), Err(Errno::EBADF));
        assert!(table.get(0).is_ok(), "a failed dup2 leaves the target open");
    }

    #[test]
    fn dup3_sets_cloexec_and_refuses_the_same_descriptor() {
        let mut table = FdTable::new();
        table.alloc(console(), false).unwrap();
        assert_eq!(table.dup3(0, 0, false), Err(Errno::EINVAL));
        assert_eq!(table.dup3(0, 3, true), Ok(3));
        assert_eq!(table.get_cloexec(3), Ok(true));
        assert_eq!(table.dup3(7, 3, true), Err(Errno::EBADF));
    }

    #[test]
    fn fork_copy_shares_files_and_exec_closes_cloexec_ones() {
        let mut parent = FdTable::new();
        parent.alloc(console(), false).unwrap();
        parent.alloc(console(), true).unwrap();
        let mut child = parent.fork_copy();
        assert!(Rc::ptr_eq(&parent.get(1).unwrap(), &child.get(1).unwrap()));
        assert_eq!(child.get_cloexec(1), Ok(true));
        assert_eq!(child.close_on_exec().len(), 1);
        assert_eq!((child.count(), parent.count()), (1, 2));
        child.set_cloexec(0, true).unwrap();
        assert_eq!(child.close_on_exec().len(), 1);
        assert_eq!(child.count(), 0);
    }

    #[test]
    fn a_pipe_sees_end_of_file_when_its_last_writer_closes() {
        let mut table = FdTable::new();
        let (reader, writer) = OpenFile::pipe();
        let pipe = Rc::clone(reader.pipe_buffer().unwrap());
        let read_fd = table.alloc(reader, false).unwrap();
        let write_fd = table.alloc(writer, false).unwrap();
        let copy = table.dup(write_fd).unwrap();
        assert_eq!(pipe.borrow_mut().read(&mut [0; 4]), Err(Errno::EAGAIN));
        drop(table.close(write_fd));
        assert_eq!(
            pipe.borrow().writers(),
            1,
            "the dup still holds the write end"
        );
        drop(table.close(copy));
        assert_eq!(pipe.borrow().writers(), 0);
        assert_eq!(pipe.borrow_mut().read(&mut [0; 4]), Ok(0));
        drop(table.close(read_fd));
        assert_eq!(pipe.borrow_mut().write(b"x"), Err(Errno::EPIPE));
    }

    #[test]
    fn each_pipe_end_owns_one_count() {
        let pipe = Rc::new(RefCell::new(Pipe::new()));
        let reader = OpenFile::new(FileKind::PipeReader(Rc::clone(&pipe)), true, false, false);
        let writer = OpenFile::new(FileKind::PipeWriter(Rc::clone(&pipe)), false, true, false);
        pipe.borrow_mut().add_writer();
        let second_writer =
            OpenFile::new(FileKind::PipeWriter(Rc::clone(&pipe)), false, true, false);
        assert_eq!((pipe.borrow().readers(), pipe.borrow().writers()), (1, 2));
        drop((reader, writer));
        assert_eq!((pipe.borrow().readers(), pipe.borrow().writers()), (0, 1));
        drop(second_writer);
        assert_eq!(pipe.borrow().writers(), 0);
    }

    #[test]
    fn open_files_alive_counts_creations_and_drops() {
        let before = open_files_alive();
        let mut table = FdTable::new();
        table.alloc(console(), false).unwrap();
        let (reader, writer) = OpenFile::pipe();
        assert_eq!(open_files_alive(), before + 3);
        table.dup(0).unwrap();
        assert_eq!(
            open_files_alive(),
            before + 3,
            "dup shares, it does not create"
        );
        drop((reader, writer, table.take_all()));
        assert_eq!(open_files_alive(), before);
    }

    #[test]
    fn drop_reference_names_the_inode_only_for_the_last_reference() {
        let file = FileRef::from(OpenFile::new(FileKind::Inode(7), true, false, false));
        assert_eq!(file.borrow().inode(), Some(7));
        assert_eq!(drop_reference(Rc::clone(&file)), None);
        assert_eq!(drop_reference(file), Some(7));
        assert_eq!(drop_reference(console()), None);
        assert_eq!(console().borrow().inode(), None);
    }
}
