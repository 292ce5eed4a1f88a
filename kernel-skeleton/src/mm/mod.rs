//! Memory management: frames, page tables, address spaces, copying to and from guests.

pub mod addr;
pub mod frame;
pub mod pagetable;
pub mod space;
pub mod uaccess;
