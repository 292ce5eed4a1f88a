//! No host process outlives the machine: not after `Drop`, not after the tracer is killed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use vmspace::Trap;

snippet!(spin, "2:", "jmp 2b");

/// Is `pid` still a live (non-zombie) process?
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .split_whitespace()
                .next();
            !matches!(state, Some("Z") | Some("X"))
        }
        Err(_) => false,
    }
}

fn wait_gone(pids: &[i32]) -> Vec<i32> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|&p| alive(p)).collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn dropped_address_spaces_are_recycled_then_killed_with_the_machine() {
    let k = TestKernel::new();
    let (root, _) = k.space(spin());
    let mut vm = k.machine.create_vmspace().unwrap();
    vm.set_root(root);
    let mut r = k.regs();
    assert_eq!(vm.run(&mut r).unwrap(), Trap::Timer);
    let pid = vm.host_pid();
    drop(vm);
    assert!(alive(pid), "kept in the pool");
    let again = k.machine.create_vmspace().unwrap();
    assert_eq!(again.host_pid(), pid, "the pooled child is reused");
    assert_eq!(k.machine.stats().host_children_spawned, 1);
    drop(again);
    drop(k);
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "reaped, not a zombie"
    );
}

#[test]
fn without_a_pool_dropping_kills_and_reaps_at_once() {
    let k = TestKernel::with(vmspace::MachineConfig {
        ram_bytes: 16 << 20,
        pool: 0,
        ..Default::default()
    });
    let vm = k.machine.create_vmspace().unwrap();
    let pid = vm.host_pid();
    drop(vm);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

snippet!(peek, "mov rdi, [rsi]", "mov eax, 1000", "syscall", "int3");

#[test]
fn a_recycled_address_space_shows_nothing_of_its_last_guest() {
    let k = TestKernel::new();
    let (root_a, data_a) = k.space(peek());
    k.machine.ram().write_u64(data_a.addr(), 0x5ec2e7);
    let mut a = k.machine.create_vmspace().unwrap();
    a.set_root(root_a);
    let mut r = k.regs();
    r.rsi = DATA;
    loop {
        if a.run(&mut r).unwrap() == Trap::Syscall {
            break;
        }
    }
    assert_eq!(r.rdi, 0x5ec2e7, "guest A read its data");
    let pid = a.host_pid();
    drop(a);
    // Guest B's page table has no page at DATA.
    let root_b = k.alloc();
    let code = k.alloc();
    k.machine.ram().write(code.addr(), peek());
    k.map(root_b, CODE, code, URX);
    let mut b = k.machine.create_vmspace().unwrap();
    assert_eq!(b.host_pid(), pid);
    b.set_root(root_b);
    let mut r = k.regs();
    r.rsi = DATA;
    let t = loop {
        match b.run(&mut r).unwrap() {
            Trap::Timer => continue,
            t => break t,
        }
    };
    assert_eq!(
        t,
        Trap::PageFault {
            addr: DATA,
            access: vmspace::Access::Read,
            present: false
        }
    );
}

#[test]
fn a_killed_tracer_takes_its_guests_with_it() {
    let exe = std::env::current_exe().unwrap();
    let mut helper = Command::new(exe)
        .args([
            "--exact",
            "tracer_for_the_kill_test",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VMSPACE_KILL_TEST_HELPER", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = helper.stdout.take().unwrap();
    let mut pids = Vec::new();
    for line in BufReader::new(out).lines() {
        let line = line.unwrap();
        // The test harness prints "test <name> ... " on the same line first.
        if let Some(at) = line.find("GUEST PIDS ") {
            let rest = &line[at + "GUEST PIDS ".len()..];
            pids = rest
                .split_whitespace()
                .map(|p| p.parse().unwrap())
                .collect();
            break;
        }
    }
    assert_eq!(pids.len(), 2, "the helper reported its guests");
    assert!(pids.iter().all(|&p| alive(p)));
    helper.kill().unwrap(); // SIGKILL: no destructor runs
    helper.wait().unwrap();
    assert_eq!(wait_gone(&pids), Vec::<i32>::new(), "guests left behind");
}

/// Run by `a_killed_tracer_takes_its_guests_with_it` in a child process.
#[test]
#[ignore = "helper process for a_killed_tracer_takes_its_guests_with_it"]
fn tracer_for_the_kill_test() {
    if std::env::var_os("VMSPACE_KILL_TEST_HELPER").is_none() {
        return;
    }
    let k = TestKernel::new();
    let (root, _) = k.space(spin());
    let mut a = k.machine.create_vmspace().unwrap();
    let mut b = k.machine.create_vmspace().unwrap();
    a.set_root(root);
    b.set_root(root);
    println!("GUEST PIDS {} {}", a.host_pid(), b.host_pid());
    let (mut ra, mut rb) = (k.regs(), k.regs());
    loop {
        a.run(&mut ra).unwrap();
        b.run(&mut rb).unwrap();
    }
}
