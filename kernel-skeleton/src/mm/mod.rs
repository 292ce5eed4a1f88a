//! Memory management: frames, page tables, regions, a process's memory, the page-fault
//! handler, and copying to and from guests.
//!
//! Lab vm's files (`pagetable.rs`, `uaccess.rs`) are swapped for the reference solution's
//! with the cargo feature `reference-vm` (see `reference-solution/`).

pub mod addr;
#[cfg_attr(
    feature = "reference-fault",
    path = "../../../reference-solution/src/mm/fault.rs"
)]
pub mod fault;
#[cfg_attr(
    feature = "reference-fault",
    path = "../../../reference-solution/src/mm/fork.rs"
)]
pub mod fork;
pub mod frame;
pub mod memory;
#[cfg_attr(
    feature = "reference-vm",
    path = "../../../reference-solution/src/mm/pagetable.rs"
)]
pub mod pagetable;
pub mod space;
#[cfg_attr(
    feature = "reference-vm",
    path = "../../../reference-solution/src/mm/uaccess.rs"
)]
pub mod uaccess;
pub mod vma;
