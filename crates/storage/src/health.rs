//! Write health of the engine: after a flush or WAL write fails (a full disk, a failing
//! device), writes are refused at once with `SystemReadOnly` naming the cause, instead of
//! piling up memtables or blocking clients. Reads go on. A later write (or `FLUSH`) probes
//! the disk, backing off from 1 s to 30 s between probes; once a probe file can be written
//! and the memtables are flushed, writes resume.

use model::{Error, Result};
use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const FIRST_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// Size of the probe file: enough that a nearly full disk fails it.
const PROBE_BYTES: usize = 1 << 20;

struct Failure {
    reason: String,
    next_probe: Instant,
    backoff: Duration,
}

/// Whether writes are refused, and why.
pub(crate) struct WriteHealth {
    failed: AtomicBool,
    failure: Mutex<Option<Failure>>,
    /// A prober holds `failure` while it probes and recovers (which takes engine locks).
    probing: AtomicBool,
    /// A failure reported while a prober held `failure`: the probe does not count.
    failed_meanwhile: AtomicBool,
    probe_file: PathBuf,
}

impl WriteHealth {
    /// Health of the engine whose data directory is `data_dir`.
    pub(crate) fn new(data_dir: &Path) -> WriteHealth {
        WriteHealth {
            failed: AtomicBool::new(false),
            failure: Mutex::new(None),
            probing: AtomicBool::new(false),
            failed_meanwhile: AtomicBool::new(false),
            probe_file: data_dir.join("system").join("write-probe"),
        }
    }

    /// True while writes are refused.
    pub(crate) fn is_failed(&self) -> bool {
        self.failed.load(Ordering::Acquire)
    }

    /// Records that `what` failed with `e`: writes are refused from now on. Never waits
    /// for a prober (whose recovery may need locks the caller holds).
    pub(crate) fn fail(&self, what: &str, e: &Error) {
        self.failed.store(true, Ordering::Release);
        let mut f = loop {
            if let Some(f) = self.failure.try_lock() {
                break f;
            }
            if self.probing.load(Ordering::Acquire) {
                tracing::error!("{what} failed: {e}; writes stay refused");
                self.failed_meanwhile.store(true, Ordering::Release);
                return;
            }
            std::thread::yield_now();
        };
        if f.is_none() {
            let reason = format!("{what} failed: {e}");
            tracing::error!(
                "{reason}; refusing writes until the disk accepts writes again (reads go on)"
            );
            *f = Some(Failure {
                reason,
                next_probe: Instant::now() + FIRST_BACKOFF,
                backoff: FIRST_BACKOFF,
            });
        }
        self.failed.store(true, Ordering::Release);
    }

    /// `Ok` while healthy. While failed: when the back-off has passed, probes the disk and
    /// runs `recover` (flushing what is buffered); success lifts the refusal, anything
    /// else answers `SystemReadOnly` with the cause, at once.
    pub(crate) fn check(&self, recover: impl FnOnce() -> Result<()>) -> Result<()> {
        if !self.is_failed() {
            return Ok(());
        }
        // one prober at a time; the others are refused at once
        let Some(mut guard) = self.failure.try_lock() else {
            return Err(self.refusal(None));
        };
        let Some(f) = guard.as_mut() else {
            return Ok(());
        };
        if Instant::now() < f.next_probe {
            return Err(self.refusal(Some(&f.reason)));
        }
        self.failed_meanwhile.store(false, Ordering::Release);
        self.probing.store(true, Ordering::Release);
        let probed = self.probe().and_then(|()| recover()).and_then(|()| {
            if self.failed_meanwhile.swap(false, Ordering::AcqRel) {
                Err(Error::StorageEngine(
                    "another write failed meanwhile".into(),
                ))
            } else {
                Ok(())
            }
        });
        self.probing.store(false, Ordering::Release);
        match probed {
            Ok(()) => {
                tracing::info!(
                    "writes resume: the disk accepts writes again ({} before)",
                    f.reason
                );
                *guard = None;
                self.failed.store(false, Ordering::Release);
                Ok(())
            }
            Err(e) => {
                f.backoff = (f.backoff * 2).min(MAX_BACKOFF);
                f.next_probe = Instant::now() + f.backoff;
                tracing::warn!(
                    "disk still refuses writes ({e}); next try in {} s",
                    f.backoff.as_secs()
                );
                Err(self.refusal(Some(&f.reason)))
            }
        }
    }

    /// `SystemReadOnly` while failed, without probing (for writes already under way).
    pub(crate) fn refuse_if_failed(&self) -> Result<()> {
        if !self.is_failed() {
            return Ok(());
        }
        // a prober holds the lock while it flushes: do not wait for it
        let f = self.failure.try_lock();
        let reason = f
            .as_ref()
            .and_then(|f| f.as_ref())
            .map(|f| f.reason.as_str());
        Err(self.refusal(reason))
    }

    fn refusal(&self, reason: Option<&str>) -> Error {
        let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
        Error::SystemReadOnly(format!(
            "Fail to do non-query operations because system is read-only: a write to disk \
             failed{reason}. Free disk space; writes resume by themselves once the disk \
             accepts writes again"
        ))
    }

    /// Writes, fsyncs and removes a probe file.
    fn probe(&self) -> Result<()> {
        use std::io::Write;
        let run = || -> std::io::Result<()> {
            crate::fault::check(&self.probe_file)?;
            if let Some(dir) = self.probe_file.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut f = std::fs::File::create(&self.probe_file)?;
            f.write_all(&vec![0u8; PROBE_BYTES])?;
            f.sync_all()
        };
        let out = run();
        let _ = std::fs::remove_file(&self.probe_file);
        out.map_err(|e| Error::StorageEngine(format!("write probe failed: {e}")))
    }
}
