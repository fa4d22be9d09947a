//! Counters of the engine's work (points written, flushes, compactions), read by the
//! server's metrics endpoint.
//!
//! They are process-wide (one engine per process is the normal case; several engines in
//! one process, as in tests, add up): counters only grow, so a scraper sees rates.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Monotonic counters of the storage engine.
#[derive(Debug, Default)]
pub struct EngineStats {
    points_written: AtomicU64,
    flushes: AtomicU64,
    flush_micros: AtomicU64,
    compactions: AtomicU64,
    compaction_micros: AtomicU64,
}

/// A copy of [`EngineStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Points (non-null values) accepted by inserts.
    pub points_written: u64,
    /// Memtables written out into TsFiles.
    pub flushes: u64,
    /// Time spent in those flushes, microseconds.
    pub flush_micros: u64,
    /// Compaction steps that merged files.
    pub compactions: u64,
    /// Time spent in those compaction steps, microseconds.
    pub compaction_micros: u64,
}

static STATS: EngineStats = EngineStats {
    points_written: AtomicU64::new(0),
    flushes: AtomicU64::new(0),
    flush_micros: AtomicU64::new(0),
    compactions: AtomicU64::new(0),
    compaction_micros: AtomicU64::new(0),
};

/// The counters of this process.
pub fn stats() -> StatsSnapshot {
    let s = &STATS;
    StatsSnapshot {
        points_written: s.points_written.load(Ordering::Relaxed),
        flushes: s.flushes.load(Ordering::Relaxed),
        flush_micros: s.flush_micros.load(Ordering::Relaxed),
        compactions: s.compactions.load(Ordering::Relaxed),
        compaction_micros: s.compaction_micros.load(Ordering::Relaxed),
    }
}

fn micros_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX)
}

pub(crate) fn add_points(n: u64) {
    STATS.points_written.fetch_add(n, Ordering::Relaxed);
}

pub(crate) fn flushed(start: Instant) {
    STATS.flushes.fetch_add(1, Ordering::Relaxed);
    STATS
        .flush_micros
        .fetch_add(micros_since(start), Ordering::Relaxed);
}

pub(crate) fn compacted(start: Instant) {
    STATS.compactions.fetch_add(1, Ordering::Relaxed);
    STATS
        .compaction_micros
        .fetch_add(micros_since(start), Ordering::Relaxed);
}

/// What the engine holds now (gauges, unlike the counters of [`StatsSnapshot`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryUse {
    /// Estimated bytes of the working and sealed memtables plus the writes admitted and
    /// not yet applied: the count the memtable budget (`memtable_budget_bytes`) bounds.
    pub memtable_bytes: u64,
    /// Bytes of WAL segment files on disk.
    pub wal_bytes: u64,
}
