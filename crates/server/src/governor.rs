//! `memory_budget_mb` as the process's total: the memtables get what the rest of the
//! process leaves of it.
//!
//! A third of the budget is the memtables' (their estimate counts 16 bytes a point) and a
//! third the request buffers' ([`crate::buffers`]); the last third is for everything else
//! that is resident: the allocator's partly used and not yet purged pages, flush and WAL
//! buffers, readers' chunks, thread stacks. That last part is not counted by anyone, and
//! under load it can outgrow its third. So every [`TICK`] the governor reads the process's
//! resident memory, takes the memtables' count out of it to see what the rest holds, and
//! sets the memtables' limit in force ([`storage::Engine::limit_memtables`]) to what is
//! left of the budget after the rest and a headroom of a quarter (for what grows
//! between two readings and for the peaks a reading misses). Writers then wait for
//! flushes sooner instead of the process passing its budget. The limit never rises above
//! the memtables' third, and never falls below half of it, so writes go on (slowed) even
//! when the rest alone is over budget.
//!
//! The allocator keeps freed pages for a while before it hands them back (its purge delay),
//! because a query or tablet that follows soon would fault the same pages in again, and
//! each fault is costly. Those pages count in the resident memory, so when it passes the
//! line of three quarters of the budget the governor first makes the allocator give back
//! what it holds free (`ServerConfig::release_memory`) and reads the resident memory again.
//! The allocator purges only when it runs, so every [`PURGE_EVERY`] the governor also lets it
//! hand back what has waited out its delay (`ServerConfig::purge_memory`): an idle server
//! then returns what its last requests freed.

use crate::service::Service;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the resident memory is read.
pub const TICK: Duration = Duration::from_millis(50);

/// How often the allocator is let purge what has waited out its purge delay.
pub const PURGE_EVERY: Duration = Duration::from_secs(1);

/// The memtables' limit for a process of `total` budget bytes whose resident memory is
/// `resident` with `memtables` bytes counted in memtables, when their configured share is
/// `share`.
pub fn memtable_limit(total: u64, share: u64, resident: u64, memtables: u64) -> u64 {
    let rest = resident.saturating_sub(memtables);
    let room = total.saturating_sub(total / 4).saturating_sub(rest);
    room.clamp(share / 2, share)
}

/// Starts the governor for `service` (nothing without a memory budget); it ends once
/// `stopping` is set or the service is gone.
pub fn start(service: &Arc<Service>, stopping: Arc<AtomicBool>) -> Option<JoinHandle<()>> {
    let total = service.config.memory_budget_mb << 20;
    let share = service.config.storage.memtable_budget_bytes;
    if total == 0 || share == 0 {
        return None;
    }
    let release = service.config.release_memory;
    let purge = service.config.purge_memory;
    let service: Weak<Service> = Arc::downgrade(service);
    std::thread::Builder::new()
        .name("iotdb-memory".into())
        .spawn(move || {
            let mut last_purge = std::time::Instant::now();
            while !stopping.load(Ordering::Acquire) {
                let Some(service) = service.upgrade() else {
                    return;
                };
                let engine = service.executor.engine();
                let mut resident = crate::metrics::resident_bytes();
                if let (Some(r), Some(release)) = (resident, release) {
                    if r > total - total / 4 {
                        release();
                        resident = crate::metrics::resident_bytes();
                    }
                }
                if let Some(resident) = resident {
                    let memtables = engine.memory_use().memtable_bytes;
                    engine.limit_memtables(memtable_limit(total, share, resident, memtables));
                }
                drop(service);
                if let Some(purge) = purge.filter(|_| last_purge.elapsed() >= PURGE_EVERY) {
                    purge();
                    last_purge = std::time::Instant::now();
                }
                std::thread::sleep(TICK);
            }
        })
        .inspect_err(|e| tracing::warn!("cannot start the memory governor: {e}"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memtables_get_what_the_rest_leaves() {
        const MB: u64 = 1 << 20;
        let (total, share) = (1024 * MB, 341 * MB);
        // the rest takes no more than its part: the whole share
        assert_eq!(memtable_limit(total, share, 700 * MB, 341 * MB), share);
        // the rest takes 500 MB: 1024 - 256 - 500 = 268 MB are left for the memtables
        assert_eq!(memtable_limit(total, share, 841 * MB, 341 * MB), 268 * MB);
        // the rest alone is over budget: half the share, so that writes go on
        assert_eq!(memtable_limit(total, share, 2048 * MB, 100 * MB), share / 2);
        // a count above the resident memory (estimates) leaves the rest at 0
        assert_eq!(memtable_limit(total, share, 100 * MB, 341 * MB), share);
    }
}
