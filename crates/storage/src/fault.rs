//! Simulated faults for tests.
//!
//! * Write failures: while a directory (or file) is registered with [`fail_writes_under`],
//!   TsFile, checksum, WAL, schema log, mods and compaction log writes and the write probe
//!   under it fail with ENOSPC ("No space left on device"), as on a full disk. Costs one
//!   atomic load per write while nothing is registered. A server process is driven from
//!   outside through the environment (see [`install_from_env`]): with
//!   `IOTDB_RS_SIMULATE_ENOSPC=<trigger file>`, writes under the data directory fail while
//!   the trigger file exists.
//! * Stalled flushes: while the file named by the environment variable
//!   `IOTDB_RS_FAULT_STALL_FLUSH` exists (or [`stall_flushes`] is on), the background
//!   flusher waits before each flush, as behind a very slow disk, so that memtables cannot
//!   shrink. A test of a server process creates the file to stall flushes and removes it to
//!   let them go (the memory-budget test of `tests/python/test_security.py`). Costs one
//!   check per flush.

use parking_lot::Mutex;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

/// The environment variable read by [`install_from_env`].
pub const ENV_TRIGGER: &str = "IOTDB_RS_SIMULATE_ENOSPC";

/// A registered directory and, optionally, the file whose existence arms it.
struct Rule {
    dir: PathBuf,
    trigger: Option<PathBuf>,
}

static ACTIVE: AtomicBool = AtomicBool::new(false);
static RULES: Mutex<Vec<Rule>> = Mutex::new(Vec::new());

fn add(rule: Rule) {
    RULES.lock().push(rule);
    ACTIVE.store(true, Ordering::SeqCst);
}

/// Makes every write under `dir` fail with ENOSPC until [`heal_writes_under`].
pub fn fail_writes_under(dir: &Path) {
    add(Rule {
        dir: dir.to_path_buf(),
        trigger: None,
    });
}

/// Makes every write under `dir` fail with ENOSPC while the file `trigger` exists.
pub fn fail_writes_under_while(dir: &Path, trigger: &Path) {
    add(Rule {
        dir: dir.to_path_buf(),
        trigger: Some(trigger.to_path_buf()),
    });
}

/// Lets writes under `dir` succeed again.
pub fn heal_writes_under(dir: &Path) {
    let mut r = RULES.lock();
    r.retain(|p| p.dir != dir);
    ACTIVE.store(!r.is_empty(), Ordering::SeqCst);
}

/// When [`ENV_TRIGGER`] names a file, arms [`fail_writes_under_while`] for `data_dir` and
/// that file (logged as a warning) and returns true. For tests of a whole server process.
pub fn install_from_env(data_dir: &Path) -> bool {
    let Some(trigger) = std::env::var_os(ENV_TRIGGER).filter(|t| !t.is_empty()) else {
        return false;
    };
    let trigger = PathBuf::from(trigger);
    tracing::warn!(
        "{ENV_TRIGGER} is set: writes under {} fail with ENOSPC while {} exists (a test hook)",
        data_dir.display(),
        trigger.display()
    );
    fail_writes_under_while(data_dir, &trigger);
    true
}

/// ENOSPC if writes under `path` are made to fail.
pub(crate) fn check(path: &Path) -> std::io::Result<()> {
    if ACTIVE.load(Ordering::Relaxed)
        && RULES
            .lock()
            .iter()
            .any(|r| path.starts_with(&r.dir) && r.trigger.as_ref().is_none_or(|t| t.exists()))
    {
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

/// Writes `bytes` to `file` (which lives at `path`). A simulated full disk writes the first
/// half and then fails, as a real one may: callers must cope with a torn record.
pub(crate) fn write_all(mut file: impl Write, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    match check(path) {
        Err(e) => file.write_all(&bytes[..bytes.len() / 2]).and(Err(e)),
        Ok(()) => file.write_all(bytes),
    }
}

/// As [`write_all`] for the concatenation of `slices`, written with vectored writes (an
/// injected failure writes the first half of the first slice, then fails).
pub(crate) fn write_all_vectored(
    mut file: impl Write,
    path: &Path,
    mut slices: &mut [std::io::IoSlice<'_>],
) -> std::io::Result<()> {
    if let Err(e) = check(path) {
        let first = slices.first().map_or(&[][..], |s| &s[..s.len() / 2]);
        return file.write_all(first).and(Err(e));
    }
    std::io::IoSlice::advance_slices(&mut slices, 0);
    while !slices.is_empty() {
        match file.write_vectored(slices) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => std::io::IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// True for the errors of a full disk or an exhausted quota (ENOSPC, EDQUOT).
pub(crate) fn is_out_of_space(e: &model::Error) -> bool {
    match e {
        model::Error::Io(io) => {
            io.kind() == std::io::ErrorKind::StorageFull
                || matches!(io.raw_os_error(), Some(28 | 122))
        }
        other => other.to_string().contains("No space left on device"),
    }
}
