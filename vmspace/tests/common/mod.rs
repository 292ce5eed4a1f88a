//! A tiny test "kernel" for the machine tests: a bump frame allocator, a page-table
//! writer and guest code snippets assembled into the test binary.
//!
//! This is scaffolding for testing the hardware only; the real kernel has its own page
//! tables (lab vm).
#![allow(dead_code)]

use std::cell::Cell;

use vmspace::{pte, Frame, Machine, MachineConfig, PhysAddr, Regs};

/// Where test guests' code, data and stack go.
pub const CODE: u64 = 0x40_0000;
pub const DATA: u64 = 0x60_0000;
pub const STACK_TOP: u64 = 0x80_0000;

pub const URW: u64 = pte::PRESENT | pte::USER | pte::WRITABLE;
pub const URX: u64 = pte::PRESENT | pte::USER;

pub struct TestKernel {
    pub machine: Machine,
    next: Cell<u64>,
}

impl TestKernel {
    pub fn new() -> Self {
        Self::with(MachineConfig {
            ram_bytes: 16 << 20,
            ..MachineConfig::default()
        })
    }

    pub fn with(cfg: MachineConfig) -> Self {
        TestKernel {
            machine: Machine::new(cfg).expect("machine"),
            next: Cell::new(1),
        }
    }

    pub fn alloc(&self) -> Frame {
        let f = Frame(self.next.get());
        self.next.set(f.0 + 1);
        assert!(
            f.0 < self.machine.ram().frames(),
            "test kernel out of frames"
        );
        self.machine.ram().zero_frame(f);
        f
    }

    /// The address of the leaf entry for `va`, creating tables on the way.
    pub fn slot(&self, root: Frame, va: u64) -> PhysAddr {
        let ram = self.machine.ram();
        let mut table = root;
        for level in [4u32, 3, 2] {
            let slot = PhysAddr(table.addr().0 + 8 * pte::index(va, level) as u64);
            let e = ram.read_u64(slot);
            table = if e & pte::PRESENT == 0 {
                let t = self.alloc();
                ram.write_u64(slot, t.addr().0 | URW);
                t
            } else {
                Frame((e & pte::ADDR_MASK) >> 12)
            };
        }
        PhysAddr(table.addr().0 + 8 * pte::index(va, 1) as u64)
    }

    pub fn map(&self, root: Frame, va: u64, frame: Frame, flags: u64) {
        let slot = self.slot(root, va);
        self.machine.ram().write_u64(slot, frame.addr().0 | flags);
    }

    pub fn pte(&self, root: Frame, va: u64) -> u64 {
        self.machine.ram().read_u64(self.slot(root, va))
    }

    /// A page table with `code` at CODE (read + exec), a data page and a stack page.
    pub fn space(&self, code: &[u8]) -> (Frame, Frame) {
        let root = self.alloc();
        let mut off = 0;
        while off < code.len().max(1) {
            let f = self.alloc();
            let end = (off + 4096).min(code.len());
            self.machine.ram().write(f.addr(), &code[off..end]);
            self.map(root, CODE + off as u64, f, URX);
            off += 4096;
        }
        let data = self.alloc();
        self.map(root, DATA, data, URW | pte::NO_EXECUTE);
        let stack = self.alloc();
        self.map(root, STACK_TOP - 4096, stack, URW | pte::NO_EXECUTE);
        (root, data)
    }

    pub fn regs(&self) -> Regs {
        let mut r = Regs::new();
        r.rip = CODE;
        r.rsp = STACK_TOP - 64;
        r
    }
}

/// Declare a guest snippet: `snippet!(name, "asm line", ...)` defines `name()` returning
/// the machine code bytes (position-independent code only).
#[macro_export]
macro_rules! snippet {
    ($name:ident, $($line:literal),* $(,)?) => {
        #[allow(non_snake_case, dead_code)]
        mod $name {
            std::arch::global_asm!(
                concat!(".pushsection .text.guest_", stringify!($name), ",\"ax\",@progbits"),
                concat!("guest_", stringify!($name), "_start:"),
                $($line,)*
                concat!("guest_", stringify!($name), "_end:"),
                concat!(".globl guest_", stringify!($name), "_start"),
                concat!(".globl guest_", stringify!($name), "_end"),
                ".popsection",
            );
            extern "C" {
                #[link_name = concat!("guest_", stringify!($name), "_start")]
                static START: u8;
                #[link_name = concat!("guest_", stringify!($name), "_end")]
                static END: u8;
            }
            pub fn code() -> &'static [u8] {
                let (s, e) = (std::ptr::addr_of!(START), std::ptr::addr_of!(END));
                // SAFETY: the two labels delimit the bytes emitted by the global_asm above.
                unsafe { std::slice::from_raw_parts(s, e as usize - s as usize) }
            }
        }
        fn $name() -> &'static [u8] {
            $name::code()
        }
    };
}
