//! The run's memory budget (`--max-memory`): a leaf below every layer.
//!
//! The binary installs [`Counting`] as its global allocator, so every byte
//! the heap holds is counted, whichever structure holds it (buckets,
//! groups, keys, distributions, values kept by `--exact`, read buffers,
//! the report being written). Two thresholds follow from the budget:
//!
//! - From a sixteenth of it on ([`tight`]), the accumulators make no new
//!   time bucket, group or key: what would have gone into one is counted
//!   where the caps already put it (the whole run's figures,
//!   `keys_dropped`, `records_in_no_bucket`), and [`held_back`] says how
//!   often. The rest is room for what every run needs after reading:
//!   threads' figures merged, the report built and rendered. The report
//!   is the larger part: a million `stats` distributions held 289 MiB
//!   after reading and 3.2 GiB once built as a document and its views
//!   (measured in docs/performance.md), so the share is 1/16.
//! - Past the whole of it, or when the system refuses memory, the run
//!   stops with a message and exit code [`crate::exit::MEMORY`]: never an
//!   abort, never a partial output (outputs are written by rename, at the
//!   end).
//!
//! A library user who does not install the allocator sees `tight()` false
//! and no limit: nothing changes for them.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

/// The default budget where the machine allows it: 4 GiB.
pub const DEFAULT: u64 = 4 << 30;

/// The budget when none is given: [`DEFAULT`], or less where the machine
/// has less: three quarters of its memory (`MemTotal`) or of its cgroup's
/// limit (`memory.max`), half of an address-space ulimit (which also
/// counts mapped code, thread stacks and the allocator's reserved arenas).
pub fn machine_default() -> u64 {
    let mut b = DEFAULT;
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut lim) } == 0
        && lim.rlim_cur != libc::RLIM_INFINITY
    {
        b = b.min(lim.rlim_cur / 2);
    }
    let read = |p: &str| std::fs::read_to_string(p).ok();
    if let Some(max) = read("/sys/fs/cgroup/memory.max").and_then(|t| t.trim().parse::<u64>().ok())
    {
        b = b.min(max / 4 * 3);
    }
    if let Some(kib) = read("/proc/meminfo").and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
    }) {
        b = b.min(kib * 1024 / 4 * 3);
    }
    b.max(1 << 20)
}

/// The share of the budget the accumulators may fill before nothing new
/// is made (1/16).
pub const SOFT_SHARE: u64 = 16;

/// Bytes the heap holds now.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The budget; past it the run stops.
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// The budget / [`SOFT_SHARE`]: the accumulators' share.
static SHARE: AtomicUsize = AtomicUsize::new(usize::MAX);
/// From it on, nothing new is made: [`SHARE`], or never while
/// [`refuse_new`] is off.
static SOFT: AtomicUsize = AtomicUsize::new(usize::MAX);
/// Observations that would have made a new bucket, group or key.
static HELD_BACK: AtomicU64 = AtomicU64::new(0);

/// Set the budget (bytes) for the rest of the process.
pub fn set(max: u64) {
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    LIMIT.store(max, Relaxed);
    SHARE.store(max / SOFT_SHARE as usize, Relaxed);
    SOFT.store(max / SOFT_SHARE as usize, Relaxed);
}

/// Whether [`tight`] may refuse new buckets, groups and keys once the
/// share is in use (on unless turned off). `aggmetrics serve` turns it
/// off while it can make room by folding its oldest minutes instead
/// (`Acc::shed`), and on again when nothing is left to fold: a minute's
/// map refusing a key loses that key from the whole run's figures,
/// which a fold never does.
pub fn refuse_new(on: bool) {
    let soft = if on { SHARE.load(Relaxed) } else { usize::MAX };
    SOFT.store(soft, Relaxed);
}

/// Whether the heap holds the accumulators' share of the budget or more,
/// whether or not [`tight`] refuses anything.
#[inline]
pub fn over_share() -> bool {
    LIVE.load(Relaxed) >= SHARE.load(Relaxed)
}

/// The budget in bytes, `None` when none was set.
pub fn limit() -> Option<u64> {
    match LIMIT.load(Relaxed) {
        usize::MAX => None,
        n => Some(n as u64),
    }
}

/// Whether the accumulators' share of the budget is in use: make nothing
/// new.
#[inline]
pub fn tight() -> bool {
    LIVE.load(Relaxed) >= SOFT.load(Relaxed)
}

/// Count one observation kept out of a new bucket, group or key.
#[inline]
pub fn hold_back() {
    HELD_BACK.fetch_add(1, Relaxed);
}

/// How many observations were kept out of new buckets, groups or keys.
pub fn held_back() -> u64 {
    HELD_BACK.load(Relaxed)
}

/// Bytes the heap holds now (0 without [`Counting`]).
pub fn live() -> u64 {
    LIVE.load(Relaxed) as u64
}

/// Lock files this run holds, removed when the budget stops it (as the
/// run's end removes them).
static LOCKS: std::sync::Mutex<Vec<std::ffi::CString>> = std::sync::Mutex::new(Vec::new());

fn c_path(p: &std::path::Path) -> Option<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    std::ffi::CString::new(p.as_os_str().as_bytes()).ok()
}

/// Remove `lock` if the budget stops the run.
pub fn remove_on_stop(lock: &std::path::Path) {
    if let (Some(c), Ok(mut v)) = (c_path(lock), LOCKS.lock()) {
        v.push(c);
    }
}

/// `lock` is no longer this run's: leave it alone.
pub fn keep_on_stop(lock: &std::path::Path) {
    if let (Some(c), Ok(mut v)) = (c_path(lock), LOCKS.lock()) {
        v.retain(|p| *p != c);
    }
}

/// The system allocator, counting what it holds against the budget.
pub struct Counting;

impl Counting {
    #[inline]
    fn charge(size: usize) {
        let live = LIVE.fetch_add(size, Relaxed).wrapping_add(size);
        if live > LIMIT.load(Relaxed) {
            stop(Stop::Budget, size);
        }
    }

    /// What the system gave for `size` bytes; when it refused, the run
    /// stops (never a null to the caller, which would abort).
    #[inline]
    fn given(p: *mut u8, size: usize) -> *mut u8 {
        if p.is_null() {
            stop(Stop::System, size);
        }
        p
    }
}

// SAFETY: every call is passed to `System` unchanged; the counter is only
// arithmetic beside it.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        Counting::charge(l.size());
        Counting::given(System.alloc(l), l.size())
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        Counting::charge(l.size());
        Counting::given(System.alloc_zeroed(l), l.size())
    }

    #[inline]
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        System.dealloc(p, l);
        LIVE.fetch_sub(l.size(), Relaxed);
    }

    #[inline]
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        if new > l.size() {
            Counting::charge(new - l.size());
        } else {
            LIVE.fetch_sub(l.size() - new, Relaxed);
        }
        Counting::given(System.realloc(p, l, new), new)
    }
}

enum Stop {
    Budget,
    System,
}

/// Say why the run stops and exit with [`crate::exit::MEMORY`]. Called
/// from inside the allocator, so it allocates nothing: the message is
/// built in a buffer on the stack and written with write(2).
#[cold]
#[inline(never)]
fn stop(why: Stop, size: usize) -> ! {
    let mut buf = [0u8; 1024];
    let mut w = Buf { b: &mut buf, n: 0 };
    w.put("aggmetrics: error: ");
    match why {
        Stop::Budget => {
            w.put("the run needs more memory than --max-memory allows (");
            w.num(LIMIT.load(Relaxed) as u64);
            w.put(
                " bytes): nothing was written. New buckets, groups and keys stop at a \
                 sixteenth of the budget; what grew past it is values kept by --exact, \
                 distributions over very wide ranges, or a very long line. Raise \
                 --max-memory, or narrow the run (--since, fewer --by fields, no --exact)\n",
            );
        }
        Stop::System => {
            w.put("the system refused memory (");
            w.num(size as u64);
            w.put(" bytes more, ");
            w.num(LIVE.load(Relaxed) as u64);
            w.put(" held, --max-memory ");
            w.num(LIMIT.load(Relaxed) as u64);
            w.put(
                "; a ulimit or cgroup limit?): nothing was written. Set --max-memory \
                 below that limit (the figures then stop growing at a sixteenth of it and \
                 the run finishes), or narrow the run (--since, fewer --by fields, no \
                 --exact)\n",
            );
        }
    }
    let n = w.n;
    // SAFETY: writing a valid buffer to standard error and unlinking
    // valid C strings, then leaving without running anything else (no
    // destructor, no allocation; a lock held elsewhere is not waited on).
    unsafe {
        libc::write(2, buf.as_ptr().cast(), n);
        if let Ok(locks) = LOCKS.try_lock() {
            for p in locks.iter() {
                libc::unlink(p.as_ptr());
            }
        }
        libc::_exit(crate::exit::MEMORY);
    }
}

/// A message built without allocating; what does not fit is cut.
struct Buf<'a> {
    b: &'a mut [u8],
    n: usize,
}

impl Buf<'_> {
    fn put(&mut self, s: &str) {
        for &c in s.as_bytes() {
            if self.n < self.b.len() {
                self.b[self.n] = c;
                self.n += 1;
            }
        }
    }

    fn num(&mut self, mut v: u64) {
        let mut d = [0u8; 20];
        let mut i = d.len();
        loop {
            i -= 1;
            d[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for &c in &d[i..] {
            if self.n < self.b.len() {
                self.b[self.n] = c;
                self.n += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_full() {
        let mut b = [0u8; 64];
        let mut w = Buf { b: &mut b, n: 0 };
        w.num(0);
        w.put(" ");
        w.num(2147483648);
        w.put(" ");
        w.num(u64::MAX);
        let n = w.n;
        assert_eq!(&b[..n], b"0 2147483648 18446744073709551615");
    }

    #[test]
    fn a_message_longer_than_the_buffer_is_cut() {
        let mut b = [0u8; 4];
        let mut w = Buf { b: &mut b, n: 0 };
        w.put("abcdef");
        w.num(123);
        let n = w.n;
        assert_eq!(&b[..n], b"abcd");
    }
}
