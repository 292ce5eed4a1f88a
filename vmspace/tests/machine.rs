//! The machine contract, tested with small guests (see `machine.md` in the book).

mod common;

use std::time::{Duration, Instant};

use common::*;
use vmspace::{pte, Access, Error, Frame, MachineConfig, Trap};

snippet!(
    syscall_echo,
    "mov eax, 39",
    "mov rdi, 11",
    "mov rsi, 22",
    "mov rdx, 33",
    "mov r10, 44",
    "mov r8, 55",
    "mov r9, 66",
    "syscall",
    "mov rdi, rax",
    "mov eax, 60",
    "syscall",
    "int3",
);

#[test]
fn syscall_traps_with_number_and_arguments_and_takes_a_result() {
    let k = TestKernel::new();
    let (root, _) = k.space(syscall_echo());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    assert_eq!(vm.run(&mut r).unwrap(), Trap::Syscall);
    assert_eq!(r.rax, 39);
    assert_eq!(r.syscall_args(), [11, 22, 33, 44, 55, 66]);
    r.rax = 1234;
    assert_eq!(vm.run(&mut r).unwrap(), Trap::Syscall);
    assert_eq!((r.rax, r.rdi), (60, 1234));
}

// rdi = mode (0 read, 1 write, 2 call), rsi = address; then report via syscall 1000.
snippet!(
    probe,
    "cmp rdi, 1",
    "je 2f",
    "cmp rdi, 2",
    "je 3f",
    "mov rax, [rsi]",
    "jmp 4f",
    "2:",
    "mov qword ptr [rsi], 77",
    "jmp 4f",
    "3:",
    "call rsi",
    "4:",
    "mov rdi, rax",
    "mov eax, 1000",
    "syscall",
    "int3",
);

fn probe_fault(setup: impl Fn(&TestKernel, Frame), mode: u64, addr: u64) -> Trap {
    let k = TestKernel::new();
    let (root, _) = k.space(probe());
    setup(&k, root);
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    r.rdi = mode;
    r.rsi = addr;
    let t = vm.run(&mut r).unwrap();
    if let Trap::PageFault { addr: a, .. } = t {
        assert_eq!(a, addr, "fault address");
    }
    t
}

#[test]
fn faults_report_address_access_and_presence() {
    let none = |_: &TestKernel, _: Frame| {};
    let pf = |addr, access, present| Trap::PageFault {
        addr,
        access,
        present,
    };
    let hole = 0x70_0123;
    assert_eq!(probe_fault(none, 0, hole), pf(hole, Access::Read, false));
    assert_eq!(probe_fault(none, 1, hole), pf(hole, Access::Write, false));
    assert_eq!(
        probe_fault(none, 2, 0x70_0000),
        pf(0x70_0000, Access::Exec, false)
    );
    // A read-only page: reads pass, writes fault as present.
    let ro = |k: &TestKernel, root: Frame| {
        let f = k.alloc();
        k.map(root, 0x71_0000, f, URX | pte::NO_EXECUTE);
    };
    assert_eq!(
        probe_fault(ro, 1, 0x71_0008),
        pf(0x71_0008, Access::Write, true)
    );
    assert_eq!(
        probe_fault(ro, 2, 0x71_0000),
        pf(0x71_0000, Access::Exec, true)
    );
    // A present but supervisor-only page.
    let kernel_only = |k: &TestKernel, root: Frame| {
        let f = k.alloc();
        k.map(root, 0x72_0000, f, pte::PRESENT | pte::WRITABLE);
    };
    assert_eq!(
        probe_fault(kernel_only, 0, 0x72_0010),
        pf(0x72_0010, Access::Read, true)
    );
    // Above user space (the stub's region): never served.
    let stub = vmspace::layout::STUB_BASE;
    assert_eq!(probe_fault(none, 1, stub), pf(stub, Access::Write, false));
}

#[test]
fn a_present_entry_is_served_by_the_mmu_without_a_trap() {
    let k = TestKernel::new();
    let (root, data) = k.space(probe());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    r.rdi = 1;
    r.rsi = DATA + 8;
    let before = k.machine.stats();
    assert_eq!(vm.run(&mut r).unwrap(), Trap::Syscall);
    assert_eq!(r.rax, 1000);
    let after = k.machine.stats();
    assert_eq!(after.faults_to_kernel, before.faults_to_kernel);
    assert!(
        after.faults_served >= 3,
        "code, stack and data pages: {after:?}"
    );
    let entry = k.pte(root, DATA);
    assert!(
        entry & pte::ACCESSED != 0 && entry & pte::DIRTY != 0,
        "A and D set: {entry:#x}"
    );
    let code_entry = k.pte(root, CODE);
    assert!(code_entry & pte::ACCESSED != 0 && code_entry & pte::DIRTY == 0);
    let mut b = [0u8; 8];
    k.machine
        .ram()
        .read(vmspace::PhysAddr(data.addr().0 + 8), &mut b);
    assert_eq!(u64::from_le_bytes(b), 77, "the guest wrote RAM");
}

// Loop: report [rsi] through syscall 1000, forever.
snippet!(
    reader,
    "2:",
    "mov rdi, [rsi]",
    "mov eax, 1000",
    "syscall",
    "jmp 2b"
);

#[test]
fn a_changed_entry_takes_effect_only_after_invalidate() {
    let k = TestKernel::new();
    let (root, _) = k.space(reader());
    let (a, b) = (k.alloc(), k.alloc());
    k.machine.ram().write_u64(a.addr(), 111);
    k.machine.ram().write_u64(b.addr(), 222);
    let va = 0x90_0000;
    k.map(root, va, a, URW);
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    r.rsi = va;
    let next = |vm: &mut vmspace::Vmspace, r: &mut vmspace::Regs| loop {
        match vm.run(r).unwrap() {
            Trap::Syscall => return Trap::Syscall,
            Trap::Timer => continue,
            other => return other,
        }
    };
    assert_eq!(next(&mut vm, &mut r), Trap::Syscall);
    assert_eq!(r.rdi, 111);
    k.map(root, va, b, URW);
    assert_eq!(next(&mut vm, &mut r), Trap::Syscall);
    assert_eq!(r.rdi, 111, "stale TLB entry still used before invalidate");
    vm.invalidate(va);
    assert_eq!(next(&mut vm, &mut r), Trap::Syscall);
    assert_eq!(r.rdi, 222, "new entry used after invalidate");
    k.map(root, va, Frame(0), 0);
    vm.invalidate_all();
    assert_eq!(
        next(&mut vm, &mut r),
        Trap::PageFault {
            addr: va,
            access: Access::Read,
            present: false
        }
    );
}

snippet!(spin, "2:", "jmp 2b");

#[test]
fn the_timer_preempts_an_endless_loop() {
    let k = TestKernel::new();
    let (root, _) = k.space(spin());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    let start = Instant::now();
    for _ in 0..3 {
        assert_eq!(vm.run(&mut r).unwrap(), Trap::Timer);
        assert_eq!(r.rip, CODE, "stopped inside the loop");
    }
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "three ticks at 100 Hz took {took:?}"
    );
    assert!(k.machine.ticks() >= 3);
}

#[test]
fn virtual_time_ticks_on_guest_cpu_time() {
    let k = TestKernel::with(MachineConfig {
        ram_bytes: 16 << 20,
        virtual_time: true,
        hz: 100,
        ..MachineConfig::default()
    });
    let (root, _) = k.space(spin());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    assert_eq!(k.machine.now(), 0);
    assert_eq!(vm.run(&mut r).unwrap(), Trap::Timer);
    let t = k.machine.now();
    assert!(t >= 10_000_000, "a tick is 10 ms of guest CPU time: {t}");
    // Idle: time jumps to the next tick without anybody running.
    assert_eq!(k.machine.wait_for_interrupt(), Trap::Timer);
    assert!(k.machine.now() >= 20_000_000);
}

#[test]
fn a_device_interrupt_stops_the_guest_and_wakes_an_idle_machine() {
    let k = TestKernel::with(MachineConfig {
        ram_bytes: 16 << 20,
        hz: 1,
        ..MachineConfig::default()
    });
    let (root, _) = k.space(spin());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let line = k.machine.irq_line(vmspace::irq::CONSOLE);
    let l2 = line.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        l2.raise();
    });
    let mut r = k.regs();
    let start = Instant::now();
    assert_eq!(
        vm.run(&mut r).unwrap(),
        Trap::Interrupt(vmspace::irq::CONSOLE)
    );
    assert!(
        start.elapsed() < Duration::from_millis(900),
        "not the 1 Hz timer"
    );
    t.join().unwrap();
    let l3 = line.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        l3.raise();
    });
    let start = Instant::now();
    assert_eq!(
        k.machine.wait_for_interrupt(),
        Trap::Interrupt(vmspace::irq::CONSOLE)
    );
    assert!(start.elapsed() < Duration::from_millis(900));
    t.join().unwrap();
}

// Increment [DATA] and report it, forever.
snippet!(
    counter,
    "2:",
    "add qword ptr [rsi], 1",
    "mov rdi, [rsi]",
    "mov eax, 1000",
    "syscall",
    "jmp 2b"
);

#[test]
fn two_guests_alternate_with_separate_memory() {
    let k = TestKernel::new();
    let (root_a, _) = k.space(counter());
    let (root_b, data_b) = k.space(counter());
    k.machine.ram().write_u64(data_b.addr(), 1000);
    let mut a = k.machine.create_vmspace().unwrap();
    let mut b = k.machine.create_vmspace().unwrap();
    a.set_root(root_a);
    b.set_root(root_b);
    let (mut ra, mut rb) = (k.regs(), k.regs());
    ra.rsi = DATA;
    rb.rsi = DATA;
    let step = |vm: &mut vmspace::Vmspace, r: &mut vmspace::Regs| loop {
        if vm.run(r).unwrap() == Trap::Syscall {
            return r.rdi;
        }
    };
    for i in 1..=20 {
        assert_eq!(step(&mut a, &mut ra), i);
        assert_eq!(step(&mut b, &mut rb), 1000 + i);
    }
}

// xmm0 := rsi; syscall; rdi := xmm0; syscall 1000.
snippet!(
    sse,
    "movq xmm0, rsi",
    "mov eax, 1001",
    "syscall",
    "movq rdi, xmm0",
    "mov eax, 1000",
    "syscall",
    "int3",
);

#[test]
fn sse_registers_survive_switches_between_threads_and_spaces() {
    let k = TestKernel::new();
    let (root, _) = k.space(sse());
    let mut vm = k.machine.create_vmspace().unwrap();
    let mut other = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    other.set_root(root);
    let mut t1 = k.regs();
    let mut t2 = t1.new_thread();
    let mut t3 = t1.new_thread();
    t1.rsi = 0x1111;
    t2.rsi = 0x2222;
    t3.rsi = 0x3333;
    let until_syscall = |vm: &mut vmspace::Vmspace, r: &mut vmspace::Regs| loop {
        if vm.run(r).unwrap() == Trap::Syscall {
            return r.rax;
        }
    };
    assert_eq!(until_syscall(&mut vm, &mut t1), 1001);
    assert_eq!(until_syscall(&mut vm, &mut t2), 1001);
    assert_eq!(until_syscall(&mut other, &mut t3), 1001);
    assert_eq!(vm.fpu_state(&t1).unwrap().xmm(0), 0x1111);
    assert_eq!(until_syscall(&mut vm, &mut t1), 1000);
    assert_eq!(t1.rdi, 0x1111);
    assert_eq!(until_syscall(&mut other, &mut t3), 1000);
    assert_eq!(t3.rdi, 0x3333);
    assert_eq!(until_syscall(&mut vm, &mut t2), 1000);
    assert_eq!(t2.rdi, 0x2222);
}

snippet!(breakpoint, "int3", "int3");
snippet!(undefined, "ud2");
snippet!(divide, "xor ecx, ecx", "mov eax, 1", "cdq", "div ecx");
snippet!(vsyscall, "mov rax, 0xffffffffff600000", "call rax");
snippet!(privileged, "hlt");
snippet!(
    noncanonical,
    "mov rax, 0x8000000000000000",
    "mov rax, [rax]"
);

fn first_trap(code: &[u8]) -> (Trap, vmspace::Regs) {
    let k = TestKernel::new();
    let (root, _) = k.space(code);
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    loop {
        match vm.run(&mut r).unwrap() {
            Trap::Timer => continue,
            t => return (t, r),
        }
    }
}

#[test]
fn cpu_exceptions_each_give_their_trap() {
    let (t, r) = first_trap(breakpoint());
    assert_eq!((t, r.rip), (Trap::Breakpoint, CODE + 1));
    assert_eq!(first_trap(undefined()).0, Trap::InvalidOpcode);
    assert_eq!(first_trap(divide()).0, Trap::DivideError);
    assert_eq!(first_trap(privileged()).0, Trap::GeneralProtection);
    assert_eq!(first_trap(noncanonical()).0, Trap::GeneralProtection);
    let (t, r) = first_trap(vsyscall());
    let page = vmspace::layout::VSYSCALL_PAGE;
    assert_eq!(
        t,
        Trap::PageFault {
            addr: page,
            access: Access::Exec,
            present: false
        }
    );
    assert_eq!(
        r.rip, page,
        "the guest stopped at the fetch, like real hardware"
    );
}

// Raw host-only tricks; every result is reported through syscall 1000.
snippet!(
    tricks,
    "lea rsi, [rip + 5f]",
    "mov edi, -100",
    "xor edx, edx",
    "mov eax, 257", // openat(AT_FDCWD, "/etc/passwd", O_RDONLY)
    "syscall",
    "mov rdi, rax",
    "mov eax, 1000",
    "syscall",
    "mov edi, 1",
    "mov esi, 9",
    "mov eax, 62", // kill(1, SIGKILL)
    "syscall",
    "mov rdi, rax",
    "mov eax, 1000",
    "syscall",
    "xor edi, edi",
    "mov esi, 4096",
    "mov edx, 3",
    "mov r10d, 0x22",
    "mov r8, -1",
    "xor r9d, r9d",
    "mov eax, 9", // mmap(NULL, 4096, RW, PRIVATE|ANON, -1, 0)
    "syscall",
    "mov rdi, rax",
    "mov eax, 1000",
    "syscall",
    "int3",
    "5:",
    ".asciz \"/etc/passwd\"",
);

#[test]
fn host_only_tricks_never_reach_the_host() {
    let k = TestKernel::new();
    let (root, _) = k.space(tricks());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let pid = vm.host_pid();
    let fds_before = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    let mut r = k.regs();
    let mut seen = Vec::new();
    loop {
        match vm.run(&mut r).unwrap() {
            Trap::Syscall if r.rax == 1000 => seen.push(r.rdi as i64),
            Trap::Syscall => {
                seen.push(-(r.rax as i64));
                r.rax = (-38i64) as u64; // ENOSYS from our "kernel"
            }
            Trap::Timer => {}
            Trap::Breakpoint => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        seen,
        vec![-257, -38, -62, -38, -9, -38],
        "each call went to the kernel"
    );
    let fds_after = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count();
    assert_eq!(fds_before, fds_after, "no file was opened on the host");
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    assert!(!maps.contains("passwd"));
}

#[test]
fn a_guest_address_space_holds_only_the_stub_and_guest_pages() {
    let k = TestKernel::new();
    let (root, _) = k.space(syscall_echo());
    let mut vm = k.machine.create_vmspace().unwrap();
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", vm.host_pid())).unwrap();
    for line in maps.lines() {
        let start = u64::from_str_radix(line.split('-').next().unwrap(), 16).unwrap();
        let is_stub = (vmspace::layout::STUB_BASE..vmspace::layout::STUB_END).contains(&start);
        let is_vsyscall = line.ends_with("[vsyscall]");
        assert!(
            is_stub || is_vsyscall,
            "unexpected host mapping: {line}\n{maps}"
        );
        assert!(!line.contains("[vdso]") && !line.contains("[stack]"));
    }
    vm.set_root(root);
    let mut r = k.regs();
    assert_eq!(vm.run(&mut r).unwrap(), Trap::Syscall);
    let maps = std::fs::read_to_string(format!("/proc/{}/maps", vm.host_pid())).unwrap();
    assert!(
        maps.contains("00400000-00401000"),
        "the code page is now mapped:\n{maps}"
    );
}

#[test]
fn a_broken_page_table_is_an_error_not_a_crash() {
    let k = TestKernel::new();
    let (root, _) = k.space(syscall_echo());
    // Point the code page's leaf entry far outside RAM.
    let slot = k.slot(root, CODE);
    k.machine.ram().write_u64(slot, (1 << 40) | URX);
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    let err = vm.run(&mut r).unwrap_err();
    assert!(matches!(err, Error::BadPageTable(_)), "{err}");
    assert!(err.to_string().contains("outside RAM"));
}

#[test]
fn fs_base_is_per_thread_state() {
    snippet!(
        read_fs,
        "mov rdi, fs:[8]",
        "mov eax, 1000",
        "syscall",
        "int3"
    );
    let k = TestKernel::new();
    let (root, data) = k.space(read_fs());
    k.machine
        .ram()
        .write_u64(vmspace::PhysAddr(data.addr().0 + 8), 0xfeed);
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    r.fs_base = DATA;
    loop {
        if vm.run(&mut r).unwrap() == Trap::Syscall {
            break;
        }
    }
    assert_eq!(r.rdi, 0xfeed);
    assert_eq!(r.fs_base, DATA);
}

#[test]
fn a_second_machine_on_one_thread_is_refused() {
    let _k = TestKernel::new();
    let err = vmspace::Machine::new(MachineConfig::default()).unwrap_err();
    assert!(
        err.to_string().contains("one machine per tracer thread"),
        "{err}"
    );
}

// Touch pages [rsi, rdx) one after another, then report.
snippet!(
    toucher,
    "2:",
    "mov byte ptr [rsi], 1",
    "add rsi, 4096",
    "cmp rsi, rdx",
    "jb 2b",
    "mov eax, 1000",
    "syscall",
    "int3"
);

#[test]
fn faults_to_the_kernel_survive_a_busy_timer() {
    // At 10 kHz a tick is often pending while the fault handler's error code is fetched.
    let k = TestKernel::with(MachineConfig {
        ram_bytes: 16 << 20,
        hz: 10_000,
        ..MachineConfig::default()
    });
    let (root, _) = k.space(toucher());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    let (base, pages) = (0x1000_0000u64, 1500u64);
    r.rsi = base;
    r.rdx = base + pages * 4096;
    let mut faults = 0;
    loop {
        match vm.run(&mut r).unwrap() {
            Trap::PageFault {
                addr,
                access: Access::Write,
                present: false,
            } => {
                faults += 1;
                k.map(
                    root,
                    addr & !4095,
                    Frame(2048 + faults % 1024),
                    URW | pte::DIRTY,
                );
            }
            Trap::Timer => {}
            Trap::Syscall => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(faults, pages);
    assert!(k.machine.ticks() > 0);
    // The retried access was loaded together with the resume, not by a second host fault.
    let served = k.machine.stats().faults_served;
    assert!(
        served < pages / 2,
        "{served} host faults served after {pages} kernel faults"
    );
}
