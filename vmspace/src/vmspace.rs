//! A guest address space and the CPU that runs guest code in it.
//!
//! DragonFly's vkernel asks its host for `vmspace_create`, `vmspace_ctl(VMSPACE_CTL_RUN)`
//! and `mcontrol(MADV_SETMAP / MADV_INVAL)`; here they are [`Machine::create_vmspace`],
//! [`Vmspace::run`], [`Vmspace::set_root`] and [`Vmspace::invalidate`]. The kernel builds a
//! page table in RAM, calls `set_root`, then `run` with a thread's [`Regs`] in a loop,
//! handling each [`Trap`] that comes back. Page faults the page table allows never reach
//! the kernel: the MMU (`mmu.rs`) serves them inside `run`.
//!
//! [`Machine::create_vmspace`]: crate::Machine::create_vmspace

use std::collections::HashMap;
use std::rc::Rc;

use crate::child::Child;
use crate::error::{Error, Result};
use crate::layout::page_floor;
use crate::machine::Core;
use crate::mmu::{self, Tlb, PROT_W, PROT_X};
use crate::physmem::Frame;
use crate::regs::{FpuState, Regs, ThreadId};
use crate::trap::{Access, Trap};
use crate::{kick, sys};

/// x86 page-fault error code bits.
const PF_WRITE: u64 = 1 << 1;
const PF_INSTR: u64 = 1 << 4;
/// `si_code` of a fault the host kernel raised itself (a #GP, not a page fault).
const SI_KERNEL: i32 = 0x80;

/// What the MMU made of a host fault.
enum Fault {
    /// Mapped; the guest can go on.
    Served,
    /// The kernel must handle it.
    Trap(Trap),
}

/// One guest address space (a traced host child) and its TLB.
#[derive(Debug)]
pub struct Vmspace {
    core: Rc<Core>,
    /// The host child (taken out only by `Drop`, to recycle it).
    child: Option<Child>,
    root: Option<Frame>,
    tlb: Tlb,
    /// The registers the child holds now (valid when `live_valid`).
    live: libc::user_regs_struct,
    live_valid: bool,
    fpu_owner: Option<ThreadId>,
    fpu_stash: HashMap<ThreadId, Vec<u8>>,
    /// The child's FPU still holds the state it started with.
    fpu_fresh: bool,
    /// The last fault given to the kernel: walked again before the guest retries it.
    refill: Option<(u64, Access)>,
    cpu: Option<CpuClock>,
}

/// Guest CPU-time accounting for virtual time.
#[derive(Debug)]
struct CpuClock {
    clock: libc::clockid_t,
    timer: sys::ThreadTimer,
    seen: u64,
}

impl Vmspace {
    pub(crate) fn new(core: Rc<Core>) -> Result<Vmspace> {
        let recycled = core.pool.borrow_mut().pop();
        let reused = recycled.is_some();
        let child = match recycled {
            Some(child) => child,
            None => {
                core.stats.borrow_mut().host_children_spawned += 1;
                Child::spawn(core.ram.raw_fd())?
            }
        };
        let cpu = if core.clock.is_virtual() {
            let clock = sys::process_cpu_clock(child.pid)
                .map_err(|e| Error::host("clock_getcpuclockid(guest)", e))?;
            let timer = sys::ThreadTimer::new(clock, core.tid, kick::signal())
                .map_err(|e| Error::host("timer_create(guest CPU clock)", e))?;
            let seen =
                sys::clock_ns(clock).map_err(|e| Error::host("reading guest CPU time", e))?;
            Some(CpuClock { clock, timer, seen })
        } else {
            None
        };
        let live = child.template;
        core.stats.borrow_mut().vmspaces_created += 1;
        let mut tlb = Tlb::default();
        if reused {
            // A recycled child still maps its last guest's pages: unmap them all before
            // anything runs in it.
            tlb.forget_host_mappings();
        }
        Ok(Vmspace {
            core,
            child: Some(child),
            root: None,
            tlb,
            live,
            live_valid: false,
            fpu_owner: None,
            fpu_stash: HashMap::new(),
            // A recycled child's FPU holds a dead thread's state.
            fpu_fresh: !reused,
            refill: None,
            cpu,
        })
    }

    fn ch(&mut self) -> &mut Child {
        self.child
            .as_mut()
            .expect("Vmspace: the child is present until drop")
    }

    /// The host pid of the child behind this address space (for diagnostics).
    pub fn host_pid(&self) -> i32 {
        self.child.as_ref().map_or(0, |c| c.pid)
    }

    // ANCHOR: tlb_control
    /// Install a page table (CR3, DragonFly's `MADV_SETMAP`); flushes the whole TLB.
    pub fn set_root(&mut self, root: Frame) {
        self.root = Some(root);
        self.tlb.flush_all();
    }

    /// The installed page table root.
    pub fn root(&self) -> Option<Frame> {
        self.root
    }

    /// Forget any cached translation of the page holding `va` (`invlpg`, `MADV_INVAL`).
    /// Call it after changing or removing that page's entry.
    pub fn invalidate(&mut self, va: u64) {
        self.tlb.flush_page(va);
    }

    /// Forget cached translations for every page of `[start, end)`.
    pub fn invalidate_range(&mut self, start: u64, end: u64) {
        let mut va = page_floor(start);
        while va < end {
            self.tlb.flush_page(va);
            va += crate::layout::PAGE_SIZE;
        }
    }

    /// Forget every cached translation (a CR3 reload without PCIDs).
    pub fn invalidate_all(&mut self) {
        self.tlb.flush_all();
    }
    // ANCHOR_END: tlb_control

    /// Load translations for the present user pages of `[start, end)` into the TLB ahead
    /// of use, so the guest's first touches do not fault (a TLB preload; the accessed bits
    /// are set as a speculative hardware walk may do). Clean writable pages are loaded
    /// read-only, as always. Returns the number of pages loaded.
    ///
    /// # Errors
    /// [`Error::BadPageTable`] for a malformed table.
    pub fn prefault(&mut self, start: u64, end: u64) -> Result<usize> {
        let Some(root) = self.root else { return Ok(0) };
        let mut loaded = 0;
        let mut va = page_floor(start);
        while va < end.min(crate::layout::USER_TOP) {
            let walk = mmu::walk(&self.core.ram, root, va)?;
            if walk.user_present() && self.tlb.get(va).is_none() {
                self.fill(va, &walk, false);
                loaded += 1;
            }
            va += crate::layout::PAGE_SIZE;
        }
        Ok(loaded)
    }

    /// Pages currently cached in the TLB (host-mapped).
    pub fn tlb_len(&self) -> usize {
        self.tlb.len()
    }

    // ANCHOR: run
    /// Run guest code with `regs` until something needs the kernel
    /// (DragonFly's `vmspace_ctl(VMSPACE_CTL_RUN)`).
    ///
    /// Loads `regs` (and the thread's FPU state) into the CPU, runs, and stores the guest's
    /// registers back into `regs` before returning the trap. A pending timer tick or
    /// interrupt is returned before the guest runs at all.
    ///
    /// # Errors
    /// [`Error::GuestLost`] when the host child died (killed from outside);
    /// [`Error::BadPageTable`] when the walk met a malformed table; [`Error::BadRegisters`]
    /// when the host refused `regs`; [`Error::Host`] for other host failures.
    pub fn run(&mut self, regs: &mut Regs) -> Result<Trap> {
        if !self.ch().is_alive() {
            return Err(Error::GuestLost {
                pid: self.ch().pid,
                how: "the address space is already dead".into(),
            });
        }
        if let Some(t) = self.core.take_pending() {
            return Ok(t);
        }
        self.refill_after_fault()?;
        // ANCHOR_END: run
        // ANCHOR: run_loop
        loop {
            self.flush_host_ops()?;
            self.load(regs)?;
            self.resume(libc::PTRACE_SYSEMU, 0)?;
            let status = self.ch().wait();
            kick::set_running(0);
            self.account_cpu();
            let status = status?;
            if let Some(trap) = self.on_stop(status, regs)? {
                let mut stats = self.core.stats.borrow_mut();
                match trap {
                    Trap::Syscall => stats.syscalls += 1,
                    Trap::PageFault { addr, access, .. } => {
                        stats.faults_to_kernel += 1;
                        self.refill = Some((addr, access));
                    }
                    Trap::Timer | Trap::Interrupt(_) => stats.interrupts += 1,
                    _ => stats.other_traps += 1,
                }
                return Ok(trap);
            }
        }
        // ANCHOR_END: run_loop
    }

    /// The guest will retry the access that faulted last: if the kernel has made it valid,
    /// load the translation now (in the same host batch as any other pending operation)
    /// instead of taking the host fault again. Hardware walks the table again on a retry;
    /// this walks it a moment earlier.
    fn refill_after_fault(&mut self) -> Result<()> {
        let (Some((addr, access)), Some(root)) = (self.refill.take(), self.root) else {
            return Ok(());
        };
        let walk = mmu::walk(&self.core.ram, root, addr)?;
        let allowed = walk.user_present()
            && match access {
                Access::Read => true,
                Access::Write => walk.write,
                Access::Exec => walk.exec,
            };
        if allowed && self.tlb.get(addr).is_none() {
            self.fill(addr, &walk, access == Access::Write);
        }
        Ok(())
    }

    /// Resume the child with `req`, as the running guest of this thread.
    fn resume(&mut self, req: libc::c_uint, sig: i32) -> Result<()> {
        if let Some(cpu) = &self.cpu {
            let left = self.core.clock.until_tick().max(50_000);
            cpu.timer
                .arm(left, 0)
                .map_err(|e| Error::host("arming the guest CPU timer", e))?;
        }
        kick::set_running(self.ch().pid);
        if let Err(e) = sys::ptrace_resume(req, self.ch().pid, sig) {
            kick::set_running(0);
            return Err(self.ch().lost(format!("resume failed: {e}")));
        }
        // A kick that arrived between the pending check and the resume found the guest
        // stopped; make sure it is not lost.
        if self.core.has_pending() {
            let _ = sys::ptrace_interrupt(self.ch().pid);
        }
        Ok(())
    }

    /// Credit the guest's CPU time to the virtual clock.
    fn account_cpu(&mut self) {
        if let Some(cpu) = &mut self.cpu {
            if let Ok(now) = sys::clock_ns(cpu.clock) {
                self.core.clock.advance(now.saturating_sub(cpu.seen));
                cpu.seen = now;
            }
        }
    }

    /// Decide what a stop means: `Some(trap)` for the kernel, `None` to keep running.
    fn on_stop(&mut self, status: sys::WaitStatus, regs: &mut Regs) -> Result<Option<Trap>> {
        let sig = match status {
            sys::WaitStatus::Stopped { sig, event: 0 } => sig,
            sys::WaitStatus::Stopped { event, .. } if event == libc::PTRACE_EVENT_STOP => {
                self.fetch_regs(regs)?;
                return Ok(self.core.take_pending());
            }
            sys::WaitStatus::Stopped { .. } => return Ok(None),
            sys::WaitStatus::Exited(code) => {
                self.ch().mark_dead();
                return Err(Error::GuestLost {
                    pid: self.ch().pid,
                    how: format!("host process exited with status {code}"),
                });
            }
            sys::WaitStatus::Signaled(s) => {
                self.ch().mark_dead();
                return Err(Error::GuestLost {
                    pid: self.ch().pid,
                    how: format!("host process killed by signal {s}"),
                });
            }
        };
        // ANCHOR: stop_kinds
        if sig == libc::SIGTRAP | 0x80 {
            self.fetch_regs(regs)?;
            regs.rax = self.live.orig_rax;
            return Ok(Some(Trap::Syscall));
        }
        let trap = match sig {
            libc::SIGSEGV => {
                self.fetch_regs(regs)?;
                return match self.on_segv(regs)? {
                    Fault::Served => {
                        self.core.stats.borrow_mut().faults_served += 1;
                        Ok(None)
                    }
                    Fault::Trap(t) => Ok(Some(t)),
                };
            }
            libc::SIGTRAP => Trap::Breakpoint,
            libc::SIGILL => Trap::InvalidOpcode,
            libc::SIGFPE => Trap::DivideError,
            libc::SIGBUS => Trap::GeneralProtection,
            libc::SIGSYS => {
                self.fetch_regs(regs)?;
                return Ok(Some(self.on_vsyscall(regs)?));
            }
            // Any other host signal (none should reach the child) is dropped.
            _ => return Ok(None),
        };
        self.fetch_regs(regs)?;
        Ok(Some(trap))
        // ANCHOR_END: stop_kinds
    }

    /// A guest `call` into the host's vsyscall page, caught by seccomp: report it as the
    /// instruction-fetch page fault real hardware without that page would raise.
    fn on_vsyscall(&mut self, regs: &mut Regs) -> Result<Trap> {
        let info =
            sys::getsiginfo(self.ch().pid).map_err(|e| Error::host("PTRACE_GETSIGINFO", e))?;
        // The vsyscall emulation has already "returned" to the caller: undo that so the
        // guest state is the one at the faulting fetch. `si_call_addr` is the first field
        // of the SIGSYS union.
        let call_addr = sys::siginfo_addr(&info);
        regs.rip = call_addr;
        regs.rsp = regs.rsp.wrapping_sub(8);
        Ok(Trap::PageFault {
            addr: call_addr,
            access: Access::Exec,
            present: false,
        })
    }

    /// Serve a host `SIGSEGV` with the MMU, or turn it into a trap for the kernel.
    fn on_segv(&mut self, regs: &Regs) -> Result<Fault> {
        // ANCHOR: on_segv
        let info =
            sys::getsiginfo(self.ch().pid).map_err(|e| Error::host("PTRACE_GETSIGINFO", e))?;
        if info.si_code == SI_KERNEL {
            return Ok(Fault::Trap(Trap::GeneralProtection));
        }
        let addr = sys::siginfo_addr(&info);
        let Some(root) = self.root else {
            return self.fault_to_kernel(addr, None);
        };
        let walk = mmu::walk(&self.core.ram, root, addr)?;
        if !walk.user_present() {
            return self.fault_to_kernel(addr, Some(walk));
        }
        let access = match self.tlb.get(addr) {
            // Not mapped in the host yet: a first touch. Map what the entry allows; an access
            // it does not allow (a write to a clean page, say) faults again and lands below.
            None => {
                self.fill(addr, &walk, false);
                return Ok(Fault::Served);
            }
            Some(entry) => {
                // Mapped: reads always pass, so this was a write or a fetch.
                let could_write = entry.prot & PROT_W == 0;
                let could_exec = entry.prot & PROT_X == 0;
                let near_rip = page_floor(addr) == page_floor(regs.rip)
                    || page_floor(addr) == page_floor(regs.rip.wrapping_add(15));
                match (could_write, could_exec) {
                    (true, false) => Access::Write,
                    (false, true) => Access::Exec,
                    (true, true) if !near_rip => Access::Write,
                    _ => return self.fault_to_kernel(addr, Some(walk)),
                }
            }
        };
        self.serve_or_trap(addr, access, &walk)
        // ANCHOR_END: on_segv
    }

    /// With the access known: map it if the walk allows it, else trap.
    fn serve_or_trap(&mut self, addr: u64, access: Access, walk: &mmu::Walk) -> Result<Fault> {
        let allowed = walk.user_present()
            && match access {
                Access::Read => true,
                Access::Write => walk.write,
                Access::Exec => walk.exec,
            };
        if allowed {
            self.fill(addr, walk, access == Access::Write);
            return Ok(Fault::Served);
        }
        Ok(Fault::Trap(Trap::PageFault {
            addr,
            access,
            present: walk.leaf.is_some(),
        }))
    }

    /// Map the page at `addr` as the walk allows, setting A (and D for a write).
    fn fill(&mut self, addr: u64, walk: &mmu::Walk, write: bool) {
        mmu::mark_used(&self.core.ram, walk, write);
        let walk = mmu::walk(
            &self.core.ram,
            self.root.expect("fill: a root is installed"),
            addr,
        )
        .expect("fill: the table was valid a moment ago");
        let frame = walk.frame().expect("fill: the entry is present");
        self.tlb.fill(addr, frame, mmu::host_prot(&walk));
    }

    /// Learn the access type from the real error code, then serve or trap.
    fn fault_to_kernel(&mut self, addr: u64, walk: Option<mmu::Walk>) -> Result<Fault> {
        let error_code = self.error_code()?;
        let access = if error_code & PF_INSTR != 0 {
            Access::Exec
        } else if error_code & PF_WRITE != 0 {
            Access::Write
        } else {
            Access::Read
        };
        match walk {
            Some(w) => self.serve_or_trap(addr, access, &w),
            None => Ok(Fault::Trap(Trap::PageFault {
                addr,
                access,
                present: false,
            })),
        }
    }

    /// Deliver the pending `SIGSEGV` to the stub's handler, which hands back the x86 error
    /// code from the signal frame. The guest's registers and FPU state are put back.
    fn error_code(&mut self) -> Result<u64> {
        let fpu = self.ch().get_fpu()?;
        self.resume(libc::PTRACE_SYSEMU, libc::SIGSEGV)?;
        loop {
            let status = self.ch().wait();
            kick::set_running(0);
            match status? {
                sys::WaitStatus::Stopped {
                    sig: libc::SIGTRAP,
                    event: 0,
                } => break,
                // A kick (timer, interrupt) or a stray host signal while the handler ran:
                // let the handler finish; the event stays pending for `run`.
                sys::WaitStatus::Stopped { .. } => {
                    let pid = self.ch().pid;
                    kick::set_running(pid);
                    if let Err(e) = sys::ptrace_resume(libc::PTRACE_SYSEMU, pid, 0) {
                        kick::set_running(0);
                        return Err(self.ch().lost(format!("fault handler: resume failed: {e}")));
                    }
                }
                other => return Err(self.ch().lost(format!("fault handler: {other:?}"))),
            }
        }
        let h = sys::getregs(self.ch().pid).map_err(|e| Error::host("PTRACE_GETREGS", e))?;
        // The child now holds the handler's registers; `load` puts the guest's back.
        self.live = h;
        self.live_valid = true;
        self.ch().set_fpu(&fpu)?;
        self.core.stats.borrow_mut().error_code_fetches += 1;
        Ok(h.rax)
    }

    /// Read the child's registers into `regs` (and our cache).
    fn fetch_regs(&mut self, regs: &mut Regs) -> Result<()> {
        let h = sys::getregs(self.ch().pid).map_err(|e| Error::host("PTRACE_GETREGS", e))?;
        self.live = h;
        self.live_valid = true;
        regs.load_from(&h);
        Ok(())
    }

    // ANCHOR: load
    /// Make the child hold `regs` (and that thread's FPU state).
    fn load(&mut self, regs: &Regs) -> Result<()> {
        let mut h = self.live;
        regs.store_into(&mut h);
        h.orig_rax = u64::MAX;
        if !self.live_valid || !same_regs(&h, &self.live) {
            sys::setregs(self.ch().pid, &h).map_err(|e| {
                Error::BadRegisters(format!(
                    "rip={:#x} rsp={:#x} fs_base={:#x}: {e}",
                    regs.rip, regs.rsp, regs.fs_base
                ))
            })?;
            self.live = h;
            self.live_valid = true;
        }
        self.switch_fpu(regs.thread())
    }
    // ANCHOR_END: load

    /// Make the child's FPU hold `thread`'s state, stashing the previous owner's.
    fn switch_fpu(&mut self, thread: ThreadId) -> Result<()> {
        if self.fpu_owner == Some(thread) {
            return Ok(());
        }
        if let Some(prev) = self.fpu_owner {
            let saved = self.ch().get_fpu()?;
            self.fpu_stash.insert(prev, saved);
        }
        match self.fpu_stash.remove(&thread) {
            Some(state) => self.ch().set_fpu(&state)?,
            // A thread that never ran starts from the fresh state; the child still holds
            // it if nobody has used this FPU yet.
            None if !self.fpu_fresh => {
                let child = self.ch();
                child.set_fpu(&child.fpu_init.clone())?;
            }
            None => {}
        }
        self.fpu_fresh = false;
        self.fpu_owner = Some(thread);
        Ok(())
    }

    /// The FPU/SSE state of the thread `regs` belongs to.
    ///
    /// # Errors
    /// When the host refuses to read it.
    pub fn fpu_state(&mut self, regs: &Regs) -> Result<FpuState> {
        let bytes = if self.fpu_owner == Some(regs.thread()) {
            self.ch().get_fpu()?
        } else if let Some(s) = self.fpu_stash.get(&regs.thread()) {
            s.clone()
        } else {
            self.ch().fpu_init.clone()
        };
        Ok(FpuState { bytes })
    }

    /// Replace the FPU/SSE state of the thread `regs` belongs to (e.g. for a forked child).
    ///
    /// # Errors
    /// When the host refuses the state (it must come from [`Vmspace::fpu_state`]).
    pub fn set_fpu_state(&mut self, regs: &Regs, state: &FpuState) -> Result<()> {
        if self.fpu_owner == Some(regs.thread()) {
            self.ch().set_fpu(&state.bytes)
        } else {
            self.fpu_stash.insert(regs.thread(), state.bytes.clone());
            Ok(())
        }
    }

    /// Forget a thread that exited (drops its saved FPU state).
    pub fn forget_thread(&mut self, regs: &Regs) {
        self.fpu_stash.remove(&regs.thread());
        if self.fpu_owner == Some(regs.thread()) {
            self.fpu_owner = None;
        }
    }

    /// Run queued host memory operations before the guest runs again.
    fn flush_host_ops(&mut self) -> Result<()> {
        if self.tlb.has_ops() {
            let ops = self.tlb.take_ops();
            self.ch().run_batch(&ops)?;
            self.live_valid = false;
            let mut stats = self.core.stats.borrow_mut();
            stats.host_batches += 1;
            stats.host_ops += ops.len() as u64;
        }
        Ok(())
    }
}

/// Compare two register files field by field.
fn same_regs(a: &libc::user_regs_struct, b: &libc::user_regs_struct) -> bool {
    let fields = |r: &libc::user_regs_struct| {
        [
            r.r15, r.r14, r.r13, r.r12, r.rbp, r.rbx, r.r11, r.r10, r.r9, r.r8, r.rax, r.rcx,
            r.rdx, r.rsi, r.rdi, r.orig_rax, r.rip, r.cs, r.eflags, r.rsp, r.ss, r.fs_base,
            r.gs_base, r.ds, r.es, r.fs, r.gs,
        ]
    };
    fields(a) == fields(b)
}

// ANCHOR: pool
impl Drop for Vmspace {
    /// The host child goes back to the machine's pool of empty address spaces when there
    /// is room (it is wiped before it runs again); otherwise it is killed and reaped.
    fn drop(&mut self) {
        if let Some(child) = self.child.take() {
            let mut pool = self.core.pool.borrow_mut();
            if child.is_alive() && pool.len() < self.core.pool_limit {
                pool.push(child);
            }
        }
    }
}
// ANCHOR_END: pool
