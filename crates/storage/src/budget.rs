//! The memtable budget: one atomic count of the bytes every memtable of the engine holds
//! (working and sealed, by [`MemTable::estimated_bytes`]) plus the writes admitted but not
//! yet applied.
//!
//! A write first reserves its estimated bytes ([`MemBudget::try_reserve`]): a
//! compare-and-swap that succeeds only while the count stays within the limit, so two
//! writers can never both take the last room. The reservation is then folded into its
//! region's working memtable charge under the region's state lock and resized to what the
//! memtable really grew by. A memtable's charge travels with it when it is sealed and is
//! given back when the sealed memtable is dropped (after its flush, once no reader holds
//! it) or when its region is dropped; a failed write gives its reservation back when the
//! reservation is dropped. So the count is at any moment the memtables' bytes plus the
//! writes in flight, and never passes the limit by more than an estimate misses.
//!
//! [`MemTable::estimated_bytes`]: crate::memtable::MemTable::estimated_bytes

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes held by memtables and admitted writes, with their limit.
#[derive(Debug)]
pub(crate) struct MemBudget {
    /// The configured budget; 0 = no limit (the count is still kept, for metrics).
    cap: u64,
    /// The limit in force: the cap, or less while the process's other memory takes more
    /// than expected (see [`MemBudget::set_limit`]).
    limit: AtomicU64,
    used: AtomicU64,
}

/// Bytes counted in a [`MemBudget`]: a write's reservation or a memtable's share. Given
/// back when dropped.
#[derive(Debug)]
pub(crate) struct MemCharge {
    budget: Arc<MemBudget>,
    bytes: u64,
}

impl MemBudget {
    /// A budget of `limit` bytes (0 = unlimited).
    pub(crate) fn new(limit: u64) -> Arc<MemBudget> {
        Arc::new(MemBudget {
            cap: limit,
            limit: AtomicU64::new(limit),
            used: AtomicU64::new(0),
        })
    }

    /// The configured budget in bytes (0 = none).
    pub(crate) fn cap(&self) -> u64 {
        self.cap
    }

    /// The limit in force in bytes (0 = none).
    pub(crate) fn limit(&self) -> u64 {
        self.limit.load(Ordering::Acquire)
    }

    /// Sets the limit in force to `bytes`, kept between 1 and the configured budget
    /// (nothing changes without one). Bytes already counted stay; new reservations wait
    /// until the count is below the new limit.
    pub(crate) fn set_limit(&self, bytes: u64) {
        if self.cap > 0 {
            self.limit
                .store(bytes.clamp(1, self.cap), Ordering::Release);
        }
    }

    /// Bytes counted now.
    pub(crate) fn used(&self) -> u64 {
        self.used.load(Ordering::Acquire)
    }

    /// A charge of nothing, to be resized.
    pub(crate) fn empty_charge(self: &Arc<Self>) -> MemCharge {
        MemCharge {
            budget: self.clone(),
            bytes: 0,
        }
    }

    /// Takes `bytes` if the count stays within the limit in force (always without one);
    /// `None` when there is no room now. While nothing is counted, a write that fits the
    /// configured budget is taken even above a lowered limit, so that it is not refused
    /// for good.
    pub(crate) fn try_reserve(self: &Arc<Self>, bytes: u64) -> Option<MemCharge> {
        let limit = self.limit();
        let fits = |used: u64| {
            let after = used.checked_add(bytes)?;
            let room = if used == 0 { self.cap } else { limit };
            (room == 0 || after <= room).then_some(after)
        };
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, fits)
            .ok()?;
        Some(MemCharge {
            budget: self.clone(),
            bytes,
        })
    }
}

impl MemCharge {
    /// Bytes this charge holds.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Takes over `other`'s bytes (both must be of the same budget); the count does not
    /// change.
    pub(crate) fn absorb(&mut self, mut other: MemCharge) {
        debug_assert!(Arc::ptr_eq(&self.budget, &other.budget));
        self.bytes += std::mem::take(&mut other.bytes);
    }

    /// Makes the charge `bytes`, counting the difference (in one atomic step).
    pub(crate) fn resize(&mut self, bytes: u64) {
        let used = &self.budget.used;
        if bytes > self.bytes {
            used.fetch_add(bytes - self.bytes, Ordering::AcqRel);
        } else if bytes < self.bytes {
            used.fetch_sub(self.bytes - bytes, Ordering::AcqRel);
        }
        self.bytes = bytes;
    }

    /// Moves up to `bytes` of this charge into a new one (the count does not change).
    pub(crate) fn split(&mut self, bytes: u64) -> MemCharge {
        let moved = bytes.min(self.bytes);
        self.bytes -= moved;
        MemCharge {
            budget: self.budget.clone(),
            bytes: moved,
        }
    }
}

impl Drop for MemCharge {
    fn drop(&mut self) {
        self.resize(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_never_pass_the_limit() {
        let b = MemBudget::new(100);
        let a = b.try_reserve(60).unwrap();
        assert!(b.try_reserve(41).is_none());
        let mut c = b.try_reserve(40).unwrap();
        assert_eq!(b.used(), 100);
        assert!(b.try_reserve(1).is_none());
        // folded into a memtable's charge, then resized to what the memtable grew by
        let mut mem = b.empty_charge();
        mem.absorb(c.split(25));
        assert_eq!((b.used(), c.bytes(), mem.bytes()), (100, 15, 25));
        mem.absorb(c.split(99));
        assert_eq!((b.used(), c.bytes(), mem.bytes()), (100, 0, 40));
        mem.resize(30);
        assert_eq!(b.used(), 90);
        drop(a);
        assert_eq!(b.used(), 30);
        drop(c);
        drop(mem);
        assert_eq!(b.used(), 0);
        // a lowered limit holds new reservations back; it never rises over the budget
        let held = b.try_reserve(30).unwrap();
        b.set_limit(50);
        assert!(b.try_reserve(21).is_none());
        let more = b.try_reserve(20).unwrap();
        b.set_limit(1 << 40);
        assert_eq!(b.limit(), 100);
        drop((held, more));
        // with nothing counted, a write over the lowered limit but within the budget passes
        b.set_limit(50);
        let big = b.try_reserve(80).unwrap();
        assert!(b.try_reserve(1).is_none());
        drop(big);
        assert!(b.try_reserve(101).is_none());
        // unlimited: always granted, still counted
        let u = MemBudget::new(0);
        let x = u.try_reserve(u64::MAX - 1).unwrap();
        assert_eq!(u.used(), u64::MAX - 1);
        assert!(u.try_reserve(2).is_none(), "the count cannot overflow");
        drop(x);
        assert_eq!(u.used(), 0);
    }

    #[test]
    fn concurrent_reservations_stay_within_the_limit() {
        let b = MemBudget::new(1000);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let b = b.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        if let Some(c) = b.try_reserve(300) {
                            assert!(b.used() <= 1000);
                            drop(c);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(b.used(), 0);
    }
}
