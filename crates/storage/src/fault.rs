//! Simulated faults for tests.
//!
//! * Write failures: while a directory is registered with [`fail_writes_under`], TsFile,
//!   checksum and WAL writes and the write probe under it fail with ENOSPC ("No space left
//!   on device"), as on a full disk. Costs one atomic load per write while nothing is
//!   registered.
//! * Stalled flushes: while the file named by the environment variable
//!   `IOTDB_RS_FAULT_STALL_FLUSH` exists (or [`stall_flushes`] is on), the background
//!   flusher waits before each flush, as behind a very slow disk, so that memtables cannot
//!   shrink. A test of a server process creates the file to stall flushes and removes it to
//!   let them go (the memory-budget test of `tests/python/test_security.py`). Costs one
//!   check per flush.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

static ACTIVE: AtomicBool = AtomicBool::new(false);
static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Makes every write under `dir` fail with ENOSPC until [`heal_writes_under`].
pub fn fail_writes_under(dir: &Path) {
    let mut d = DIRS.lock();
    d.push(dir.to_path_buf());
    ACTIVE.store(true, Ordering::SeqCst);
}

/// Lets writes under `dir` succeed again.
pub fn heal_writes_under(dir: &Path) {
    let mut d = DIRS.lock();
    d.retain(|p| p != dir);
    ACTIVE.store(!d.is_empty(), Ordering::SeqCst);
}

/// ENOSPC if writes under `path` are made to fail.
pub(crate) fn check(path: &Path) -> std::io::Result<()> {
    if ACTIVE.load(Ordering::Relaxed) && DIRS.lock().iter().any(|d| path.starts_with(d)) {
        return Err(std::io::Error::from_raw_os_error(28));
    }
    Ok(())
}

static STALLED: AtomicBool = AtomicBool::new(false);
static STALL_FILE: OnceLock<Option<PathBuf>> = OnceLock::new();

/// Stalls (`true`) or releases (`false`) the background flusher of every engine of this
/// process.
pub fn stall_flushes(on: bool) {
    STALLED.store(on, Ordering::SeqCst);
}

/// True while flushes are to wait.
fn flush_stalled() -> bool {
    if STALLED.load(Ordering::SeqCst) {
        return true;
    }
    STALL_FILE
        .get_or_init(|| std::env::var_os("IOTDB_RS_FAULT_STALL_FLUSH").map(PathBuf::from))
        .as_ref()
        .is_some_and(|f| f.exists())
}

/// Called by the background flusher before each flush: waits while flushes are stalled.
pub(crate) fn hold_flush() {
    while flush_stalled() {
        std::thread::sleep(Duration::from_millis(10));
    }
}
