//! Memory management: frames, page tables, regions, a process's memory, the page-fault
//! handler, and copying to and from guests.

pub mod addr;
pub mod fault;
pub mod frame;
pub mod memory;
pub mod pagetable;
pub mod space;
pub mod uaccess;
pub mod vma;
