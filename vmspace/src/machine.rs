//! The machine: RAM, the clock and timer, interrupt lines, and the factory of address spaces.
//!
//! Make one [`Machine`] per tracer thread with [`Machine::new`], then create address spaces
//! with [`Machine::create_vmspace`]. Every ptrace request for a guest must come from the
//! thread that created it, so `Machine` and [`Vmspace`] are deliberately `!Send`.
//! Devices on other threads reach the kernel only through an [`IrqLine`], which raises an
//! interrupt that [`Vmspace::run`] or [`Machine::wait_for_interrupt`] then returns.
//!
//! Time comes only from [`Machine::now`]: host monotonic time, or with
//! `virtual_time` the CPU time the guests have used (plus the idle time the machine skipped),
//! so that scheduling behaves the same on a busy and an idle host.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::physmem::PhysMem;
use crate::trap::Trap;
use crate::vmspace::Vmspace;
use crate::{kick, sys};

/// How the tracer and its guests are placed on host CPUs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pin {
    /// Pin the tracer thread (and so every guest it creates) to the CPU it runs on now.
    /// A ptrace round trip costs ≈ 8 µs on one CPU and 40–50 µs across two.
    #[default]
    Auto,
    /// Pin to this CPU.
    Cpu(usize),
    /// Leave placement to the host scheduler.
    Off,
}

// ANCHOR: config
/// How a machine is built.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// RAM size in bytes (rounded up to whole frames).
    pub ram_bytes: u64,
    /// Timer interrupts per second (1..=10000).
    pub hz: u32,
    /// Tick on guest CPU time instead of host wall-clock time.
    pub virtual_time: bool,
    /// CPU placement.
    pub pin: Pin,
    /// Empty host children kept for reuse when an address space is dropped (0: none).
    pub pool: usize,
}

impl Default for MachineConfig {
    fn default() -> Self {
        MachineConfig {
            ram_bytes: 64 << 20,
            hz: 100,
            virtual_time: false,
            pin: Pin::Auto,
            pool: 16,
        }
    }
}
// ANCHOR_END: config

/// Interrupt line numbers of the standard devices.
pub mod irq {
    /// The console (input arrived).
    pub const CONSOLE: u8 = 1;
    /// The block device (a request completed).
    pub const BLOCK: u8 = 2;
    /// The network device (a frame arrived or the transmit queue drained).
    pub const NET: u8 = 3;
    /// Number of lines.
    pub const LINES: u8 = 64;
}

#[derive(Debug)]
struct IrqShared {
    pending: AtomicU64,
    tgid: libc::pid_t,
    tid: libc::pid_t,
    alive: AtomicBool,
}

/// A device's handle for raising its interrupt line; cheap to clone and `Send`.
#[derive(Debug, Clone)]
pub struct IrqLine {
    shared: Arc<IrqShared>,
    irq: u8,
}

impl IrqLine {
    // ANCHOR: raise
    /// Raise the line: the kernel sees `Trap::Interrupt(irq)` soon (a running guest is
    /// stopped within microseconds). Raising an already pending line does nothing more.
    pub fn raise(&self) {
        let bit = 1u64 << self.irq;
        let before = self.shared.pending.fetch_or(bit, Ordering::SeqCst);
        if before & bit == 0 && self.shared.alive.load(Ordering::SeqCst) {
            let _ = sys::tgkill(self.shared.tgid, self.shared.tid, kick::signal());
        }
    }
    // ANCHOR_END: raise

    /// The line's number.
    pub fn number(&self) -> u8 {
        self.irq
    }
}

/// The clock: either host time or guest CPU time.
#[derive(Debug)]
pub(crate) struct Clock {
    start: u64,
    virtual_ns: Cell<u64>,
    next_tick: Cell<u64>,
    period: u64,
    virtual_time: bool,
    ticks: Cell<u64>,
}

impl Clock {
    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_time
    }

    pub(crate) fn now(&self) -> u64 {
        if self.virtual_time {
            self.virtual_ns.get()
        } else {
            monotonic().saturating_sub(self.start)
        }
    }

    /// Credit guest CPU time (virtual mode).
    pub(crate) fn advance(&self, ns: u64) {
        self.virtual_ns.set(self.virtual_ns.get() + ns);
    }

    /// Nanoseconds until the next tick (0 if due).
    pub(crate) fn until_tick(&self) -> u64 {
        self.next_tick.get().saturating_sub(self.now())
    }

    /// Consume a due tick.
    fn take_tick(&self) -> bool {
        let now = self.now();
        let next = self.next_tick.get();
        if now < next {
            return false;
        }
        // Skip ticks that were missed entirely rather than delivering a burst.
        let behind = (now - next) / self.period;
        self.next_tick.set(next + (behind + 1) * self.period);
        self.ticks.set(self.ticks.get() + 1);
        true
    }
}

fn monotonic() -> u64 {
    sys::clock_ns(libc::CLOCK_MONOTONIC).expect("CLOCK_MONOTONIC is always readable")
}

thread_local! {
    static MACHINE_HERE: Cell<bool> = const { Cell::new(false) };
}

/// State shared by a machine and its address spaces (all on the tracer thread).
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) ram: PhysMem,
    pub(crate) clock: Clock,
    irq: Arc<IrqShared>,
    _timer: Option<sys::ThreadTimer>,
    saved_affinity: Option<libc::cpu_set_t>,
    pub(crate) tid: libc::pid_t,
    pub(crate) stats: RefCell<crate::Stats>,
    /// Host children of dropped address spaces, ready for reuse.
    pub(crate) pool: RefCell<Vec<crate::child::Child>>,
    /// Most children the pool keeps.
    pub(crate) pool_limit: usize,
}

impl Core {
    /// The next event the kernel must see, consumed: the timer first, then the lowest line.
    pub(crate) fn take_pending(&self) -> Option<Trap> {
        if self.clock.take_tick() {
            return Some(Trap::Timer);
        }
        let bits = self.irq.pending.load(Ordering::SeqCst);
        if bits != 0 {
            let line = bits.trailing_zeros();
            self.irq
                .pending
                .fetch_and(!(1u64 << line), Ordering::SeqCst);
            return Some(Trap::Interrupt(line as u8));
        }
        None
    }

    /// Is an event pending (without consuming it)?
    pub(crate) fn has_pending(&self) -> bool {
        self.clock.until_tick() == 0 || self.irq.pending.load(Ordering::SeqCst) != 0
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        self.irq.alive.store(false, Ordering::SeqCst);
        if let Some(mask) = &self.saved_affinity {
            let _ = sys::set_affinity(mask);
        }
        MACHINE_HERE.with(|m| m.set(false));
    }
}

/// The virtual machine: RAM, a clock, a timer and interrupt lines.
#[derive(Debug)]
pub struct Machine {
    core: Rc<Core>,
}

impl Machine {
    /// Build a machine owned by the calling thread.
    ///
    /// # Errors
    /// [`Error::Config`] for out-of-range settings or a second machine on this thread;
    /// [`Error::Host`] when the host refuses memory, timers or pinning.
    pub fn new(cfg: MachineConfig) -> Result<Machine> {
        if !(1..=10_000).contains(&cfg.hz) {
            return Err(Error::Config(format!(
                "hz must be 1..=10000, not {}",
                cfg.hz
            )));
        }
        if MACHINE_HERE.with(Cell::get) {
            return Err(Error::Config(
                "this thread already drives a machine (one machine per tracer thread)".into(),
            ));
        }
        kick::install().map_err(|e| Error::host("installing the kick handler", e))?;
        let ram = PhysMem::new(cfg.ram_bytes).map_err(|e| Error::host("allocating RAM", e))?;
        let saved_affinity = pin(cfg.pin)?;
        let tid = sys::gettid();
        // SAFETY: getpid has no preconditions.
        let tgid = unsafe { libc::getpid() };
        // ANCHOR: timer
        let period = 1_000_000_000 / u64::from(cfg.hz);
        let start = monotonic();
        let timer = if cfg.virtual_time {
            None
        } else {
            let t = sys::ThreadTimer::new(libc::CLOCK_MONOTONIC, tid, kick::signal())
                .map_err(|e| Error::host("timer_create", e))?;
            t.arm(period, period)
                .map_err(|e| Error::host("timer_settime", e))?;
            Some(t)
        };
        // ANCHOR_END: timer
        MACHINE_HERE.with(|m| m.set(true));
        let core = Core {
            ram,
            clock: Clock {
                start,
                virtual_ns: Cell::new(0),
                next_tick: Cell::new(period),
                period,
                virtual_time: cfg.virtual_time,
                ticks: Cell::new(0),
            },
            irq: Arc::new(IrqShared {
                pending: AtomicU64::new(0),
                tgid,
                tid,
                alive: AtomicBool::new(true),
            }),
            _timer: timer,
            saved_affinity,
            tid,
            stats: RefCell::new(crate::Stats::default()),
            pool: RefCell::new(Vec::new()),
            pool_limit: cfg.pool,
        };
        Ok(Machine {
            core: Rc::new(core),
        })
    }

    /// The machine's RAM.
    pub fn ram(&self) -> &PhysMem {
        &self.core.ram
    }

    /// A new, empty guest address space (DragonFly's `vmspace_create`).
    ///
    /// # Errors
    /// When the host cannot create or trace the child process.
    pub fn create_vmspace(&self) -> Result<Vmspace> {
        Vmspace::new(self.core.clone())
    }

    /// Machine time in nanoseconds since the machine was built.
    pub fn now(&self) -> u64 {
        self.core.clock.now()
    }

    /// Timer ticks delivered so far.
    pub fn ticks(&self) -> u64 {
        self.core.clock.ticks.get()
    }

    /// The timer period in nanoseconds.
    pub fn tick_period(&self) -> u64 {
        self.core.clock.period
    }

    /// Counters of what the machine did (traps, faults served, host batches).
    pub fn stats(&self) -> crate::Stats {
        *self.core.stats.borrow()
    }

    /// A handle for a device to raise interrupt line `irq` (below [`irq::LINES`]).
    ///
    /// # Panics
    /// When `irq >= irq::LINES`.
    pub fn irq_line(&self, irq: u8) -> IrqLine {
        assert!(
            irq < irq::LINES,
            "Machine::irq_line: line {irq} does not exist"
        );
        IrqLine {
            shared: self.core.irq.clone(),
            irq,
        }
    }

    // ANCHOR: wait_for_interrupt
    /// Halt until the timer fires or a device raises a line, and return which
    /// (`Trap::Timer` or `Trap::Interrupt`): the idle loop's `hlt`.
    ///
    /// With virtual time an idle machine skips ahead to the next tick after a short
    /// grace period for device interrupts (guest CPU time does not pass while idle).
    pub fn wait_for_interrupt(&self) -> Trap {
        const VIRTUAL_GRACE_NS: u64 = 2_000_000;
        loop {
            let timeout = if self.core.clock.is_virtual() {
                VIRTUAL_GRACE_NS
            } else {
                self.core.clock.until_tick().max(1)
            };
            if let Some(t) = kick::wait(timeout, || self.core.take_pending()) {
                return t;
            }
            if self.core.clock.is_virtual() {
                if let Some(t) = self.core.take_pending() {
                    return t;
                }
                self.core.clock.advance(self.core.clock.until_tick());
            }
        }
    }
    // ANCHOR_END: wait_for_interrupt
}

/// Apply the pinning policy to the calling thread; returns the mask to restore.
fn pin(pin: Pin) -> Result<Option<libc::cpu_set_t>> {
    let cpu = match pin {
        Pin::Off => return Ok(None),
        Pin::Cpu(c) => c,
        Pin::Auto => sys::current_cpu().unwrap_or(0),
    };
    let old = sys::get_affinity().map_err(|e| Error::host("sched_getaffinity", e))?;
    if !sys::cpu_in(&old, cpu) {
        return Err(Error::Config(format!(
            "CPU {cpu} is not available to this process"
        )));
    }
    sys::set_affinity(&sys::single_cpu(cpu)).map_err(|e| Error::host("sched_setaffinity", e))?;
    Ok(Some(old))
}
