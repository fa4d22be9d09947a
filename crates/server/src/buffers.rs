//! The part of the memory budget that request frames and replies in flight may take.
//!
//! A third of `memory_budget_mb` (the memtables have another third). A connection asks for
//! a frame's declared length before it buffers a byte of its payload, and holds it until the
//! reply is written; the reply's bytes are asked for too once it is built (query pages are
//! cut to [`BufferBudget::page_bytes`] so that a reply fits). When the budget is used up the
//! request waits, up to `max_waiting_time_when_insert_blocked`, for others to finish; then it
//! is refused with 606 (NOT_ENOUGH_MEMORY) and its payload dropped unread, while the
//! connection stays usable. A frame larger than the whole budget is refused at once.

use model::{Error, Result};
use parking_lot::{Condvar, Mutex};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bytes of request and reply buffers in flight, bounded.
#[derive(Debug)]
pub struct BufferBudget {
    limit: u64,
    wait: Duration,
    used: Mutex<u64>,
    freed: Condvar,
}

/// Bytes taken from a [`BufferBudget`]; given back when dropped.
#[derive(Debug)]
pub struct BufferGrant {
    budget: Arc<BufferBudget>,
    bytes: u64,
}

impl Drop for BufferGrant {
    fn drop(&mut self) {
        if self.bytes > 0 {
            *self.budget.used.lock() -= self.bytes;
            self.budget.freed.notify_all();
        }
    }
}

impl BufferBudget {
    /// A budget of `limit` bytes (0 = unbounded); requests wait up to `wait` for room.
    pub fn new(limit: u64, wait: Duration) -> Arc<Self> {
        Arc::new(BufferBudget {
            limit,
            wait,
            used: Mutex::new(0),
            freed: Condvar::new(),
        })
    }

    /// Bytes in flight now.
    pub fn used(&self) -> u64 {
        *self.used.lock()
    }

    /// The most bytes of rows one query page (one reply) should hold: an eighth of the
    /// budget, at most 16 MiB.
    pub fn page_bytes(&self) -> usize {
        let cap = 16 << 20;
        if self.limit == 0 {
            cap
        } else {
            (self.limit / 8).clamp(1, cap as u64) as usize
        }
    }

    /// Takes `bytes` for `what`, waiting for room; `NotEnoughMemory` (606) when it does not
    /// come in time or `bytes` exceeds the whole budget.
    pub fn acquire(self: &Arc<Self>, bytes: u64, what: &str) -> Result<BufferGrant> {
        let grant = |bytes| BufferGrant {
            budget: self.clone(),
            bytes,
        };
        if self.limit == 0 {
            return Ok(grant(0));
        }
        let refuse = |used: u64| {
            Error::NotEnoughMemory(format!(
                "{what} of {} KiB refused: not enough memory. Requests and replies in flight \
                 hold {} KiB of their {} KiB budget (a third of memory_budget_mb); retry later \
                 or send smaller batches",
                bytes >> 10,
                used >> 10,
                self.limit >> 10
            ))
        };
        let mut used = self.used.lock();
        if bytes > self.limit {
            return Err(refuse(*used));
        }
        let deadline = Instant::now() + self.wait;
        while *used + bytes > self.limit {
            if self.freed.wait_until(&mut used, deadline).timed_out() && *used + bytes > self.limit
            {
                return Err(refuse(*used));
            }
        }
        *used += bytes;
        Ok(grant(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_wait_for_room_and_refuse_after_the_wait() {
        let b = BufferBudget::new(1000, Duration::from_millis(50));
        let a = b.acquire(600, "frame").unwrap();
        assert_eq!(b.used(), 600);
        // too large for the budget at all: refused at once
        let e = b.acquire(1001, "frame").unwrap_err();
        assert_eq!(e.status_code().code(), 606, "{e}");
        // no room within the wait
        let started = Instant::now();
        assert!(b.acquire(500, "frame").is_err());
        assert!(started.elapsed() >= Duration::from_millis(50));
        // room made while waiting
        let b2 = b.clone();
        let t = std::thread::spawn(move || b2.acquire(500, "frame").map(|g| g.bytes));
        std::thread::sleep(Duration::from_millis(10));
        drop(a);
        assert_eq!(t.join().unwrap().unwrap(), 500);
        assert_eq!(b.used(), 0);
        assert_eq!(b.page_bytes(), 125);
        let unbounded = BufferBudget::new(0, Duration::ZERO);
        assert!(unbounded.acquire(u64::MAX, "frame").is_ok());
        assert_eq!(unbounded.page_bytes(), 16 << 20);
    }
}
