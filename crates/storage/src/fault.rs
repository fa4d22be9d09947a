//! Simulated write failures for tests: while a directory is registered with
//! [`fail_writes_under`], TsFile, checksum and WAL writes and the write probe under it fail
//! with ENOSPC ("No space left on device"), as on a full disk. Costs one atomic load per
//! write while nothing is registered.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

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
