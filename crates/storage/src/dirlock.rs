//! One process per data directory: an exclusive advisory lock (`flock`) on
//! `data_dir/lock`, taken before anything in the directory is read or replayed and held
//! for the engine's lifetime. The holder writes its pid into the file so a refused
//! second process can name it. The kernel drops the lock when the holder dies (also on
//! `kill -9`), so a stale file never blocks a restart.

use fs4::fs_std::FileExt;
use model::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// File name of the lock inside the data directory.
pub const LOCK_FILE: &str = "lock";

/// The held lock; dropping it (closing the file) releases it.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
    path: PathBuf,
}

impl DirLock {
    /// Takes the exclusive lock of `data_dir` (created when missing), or fails at once with
    /// a message naming the directory and the pid of the process that holds it.
    pub fn acquire(data_dir: &Path) -> Result<DirLock> {
        std::fs::create_dir_all(data_dir)?;
        let path = data_dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| {
                Error::StorageEngine(format!("cannot open lock file {}: {e}", path.display()))
            })?;
        let locked = file
            .try_lock_exclusive()
            .map_err(|e| Error::StorageEngine(format!("cannot lock {}: {e}", path.display())))?;
        if !locked {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            let who = if holder.is_empty() {
                "another process".to_string()
            } else {
                format!("another process (pid {holder})")
            };
            return Err(Error::StorageEngine(format!(
                "data directory {} is in use by {who}; only one iotdb-rs process may use a data directory at a time",
                data_dir.display()
            )));
        }
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        writeln!(file, "{}", std::process::id())?;
        file.sync_all()?;
        Ok(DirLock { _file: file, path })
    }

    /// Releases the lock while keeping the file open (for in-process crash simulations,
    /// which leak the engine instead of killing the process).
    pub fn release(&self) -> Result<()> {
        Ok(FileExt::unlock(&self._file)?)
    }

    /// Path of the lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_holder_pid() {
        let dir = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(dir.path()).unwrap();
        let err = DirLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
        assert!(
            err.contains(&format!("pid {}", std::process::id())),
            "{err}"
        );
        drop(first);
        let again = DirLock::acquire(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(again.path()).unwrap().trim(),
            std::process::id().to_string()
        );
    }
}
