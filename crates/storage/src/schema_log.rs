//! Persistence of the schema: `system/schema-<gen>.snap` (a full snapshot as ops) plus
//! `system/schema-<gen>.log` (ops since that snapshot), each record framed and
//! checksummed, fsynced before an operation returns. When the log grows past a size, or
//! holds records older than a time limit (bounding the replay at start-up), a new snapshot
//! generation is written and older files are removed.
//!
//! A failed append (a full disk) is cut off the log, so that a torn record never hides
//! the records appended after it; ops the engine had already applied in memory stay
//! pending and are written before anything else (see [`SchemaLog::append_applied`]).

use crate::codec;
use crate::schema::Schema;
use crate::schema_ops::SchemaOp;
use model::{Error, Result};
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub(crate) const LOG_MAGIC: &[u8; 8] = b"IRSSLG01";
pub(crate) const SNAP_MAGIC: &[u8; 8] = b"IRSSNP01";
/// Log size that triggers a snapshot.
const SNAPSHOT_AFTER_BYTES: u64 = 8 << 20;

/// The open schema log.
pub(crate) struct SchemaLog {
    dir: PathBuf,
    gen: u64,
    file: File,
    size: u64,
    scratch: Vec<u8>,
    /// Records were lost at open (a damaged snapshot or log).
    damaged: bool,
    /// Ops applied in memory whose append failed; written before any later op.
    pending: Vec<SchemaOp>,
    /// A failed append could not be cut off: the file is longer than `size`.
    torn: bool,
    /// When the oldest record not yet in a snapshot was appended (`None`: none is).
    unsnapshotted_since: Option<Instant>,
}

fn file_gen(name: &str, ext: &str) -> Option<u64> {
    name.strip_prefix("schema-")?
        .strip_suffix(ext)?
        .parse()
        .ok()
}

fn read_magic(path: &Path, magic: &[u8; 8]) -> Result<bool> {
    use std::io::Read;
    let mut f = File::open(path)?;
    let mut head = [0u8; 8];
    Ok(f.read_exact(&mut head).is_ok() && &head == magic)
}

pub(crate) fn apply_all(schema: &mut Schema, payloads: &[Vec<u8>], what: &Path) {
    for p in payloads {
        match SchemaOp::decode(p) {
            Ok(op) => {
                if let Err(e) = schema.apply(&op) {
                    tracing::warn!(
                        "schema record in {} does not apply ({e}); skipped",
                        what.display()
                    );
                }
            }
            Err(e) => tracing::warn!(
                "undecodable schema record in {}: {e}; skipped",
                what.display()
            ),
        }
    }
}

fn create_log(dir: &Path, gen: u64) -> Result<File> {
    let path = dir.join(format!("schema-{gen}.log"));
    {
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        crate::fault::write_all(&mut f, &path, LOG_MAGIC)?;
        f.sync_all()?;
    }
    codec::sync_dir(dir);
    // append mode: after a failed append is cut off, the next one lands at the new end
    Ok(OpenOptions::new().append(true).open(&path)?)
}

impl SchemaLog {
    /// Opens the log in `dir` and rebuilds the schema from snapshot + log.
    pub(crate) fn open(dir: PathBuf) -> Result<(SchemaLog, Schema)> {
        fs::create_dir_all(&dir)?;
        let mut snaps = Vec::new();
        let mut logs = Vec::new();
        for ent in fs::read_dir(&dir)? {
            let ent = ent?;
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(g) = file_gen(name, ".snap") {
                snaps.push(g);
            } else if let Some(g) = file_gen(name, ".log") {
                logs.push(g);
            }
        }
        snaps.sort_unstable();
        let mut schema = Schema::default();
        let mut gen = 0;
        let mut damaged = false;
        // newest complete snapshot wins
        for &g in snaps.iter().rev() {
            let path = dir.join(format!("schema-{g}.snap"));
            if !read_magic(&path, SNAP_MAGIC)? {
                tracing::warn!(
                    "schema snapshot {} has a bad header; ignored",
                    path.display()
                );
                damaged = true;
                continue;
            }
            let scan = codec::scan_file(&path, 8)?;
            if let Some(why) = scan.damage {
                tracing::warn!(
                    "schema snapshot {} is damaged ({why}); ignored",
                    path.display()
                );
                damaged = true;
                continue;
            }
            apply_all(&mut schema, &scan.records, &path);
            gen = g;
            break;
        }
        let log_path = dir.join(format!("schema-{gen}.log"));
        let (file, size) = if log_path.exists() && read_magic(&log_path, LOG_MAGIC)? {
            let scan = codec::scan_file(&log_path, 8)?;
            apply_all(&mut schema, &scan.records, &log_path);
            if let Some(why) = &scan.damage {
                damaged = true;
                tracing::warn!(
                    "schema log {}: {why}; truncating to {} bytes (last good record)",
                    log_path.display(),
                    scan.good_len
                );
            }
            let f = OpenOptions::new().write(true).open(&log_path)?;
            f.set_len(scan.good_len)?;
            f.sync_all()?;
            let f = OpenOptions::new().append(true).open(&log_path)?;
            (f, scan.good_len)
        } else {
            if log_path.exists() {
                damaged = true;
                tracing::warn!(
                    "schema log {} has a bad header; starting it over",
                    log_path.display()
                );
            }
            (create_log(&dir, gen)?, LOG_MAGIC.len() as u64)
        };
        // files of older generations are superseded
        for g in snaps.iter().chain(logs.iter()) {
            if *g < gen {
                let _ = fs::remove_file(dir.join(format!("schema-{g}.snap")));
                let _ = fs::remove_file(dir.join(format!("schema-{g}.log")));
            }
        }
        Ok((
            SchemaLog {
                dir,
                gen,
                file,
                size,
                scratch: Vec::new(),
                damaged,
                pending: Vec::new(),
                torn: false,
                // records replayed at open count as old: the next timed check snapshots them
                unsnapshotted_since: (size > LOG_MAGIC.len() as u64).then(Instant::now),
            },
            schema,
        ))
    }

    /// True if records were lost when the log was opened (a damaged snapshot or log).
    pub(crate) fn damaged(&self) -> bool {
        self.damaged
    }

    /// Appends ops (after any pending ones) and fsyncs: one write, one fsync for the batch.
    /// On failure nothing of the batch stays in the file and the pending ops stay pending.
    pub(crate) fn append(&mut self, ops: &[SchemaOp]) -> Result<()> {
        if ops.is_empty() && self.pending.is_empty() {
            return Ok(());
        }
        let fail =
            |e: std::io::Error| Error::StorageEngine(format!("cannot write the schema log: {e}"));
        let path = self.dir.join(format!("schema-{}.log", self.gen));
        if self.torn {
            self.file.set_len(self.size).map_err(fail)?;
            self.torn = false;
        }
        self.scratch.clear();
        let mut payload = Vec::new();
        for op in self.pending.iter().chain(ops) {
            payload.clear();
            op.encode(&mut payload);
            codec::frame(&mut self.scratch, &payload)?;
        }
        let wrote = crate::fault::write_all(&self.file, &path, &self.scratch)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = wrote {
            // a torn record would end the replay there, hiding every record after it
            self.torn = self.file.set_len(self.size).is_err();
            return Err(fail(e));
        }
        self.size += self.scratch.len() as u64;
        self.pending.clear();
        self.unsnapshotted_since.get_or_insert_with(Instant::now);
        Ok(())
    }

    /// [`SchemaLog::append`] for ops already applied to the schema in memory: when the
    /// append fails they stay pending, written before the next op (or by a snapshot).
    pub(crate) fn append_applied(&mut self, ops: &[SchemaOp]) -> Result<()> {
        let out = self.append(ops);
        if out.is_err() {
            self.pending.extend_from_slice(ops);
        }
        out
    }

    /// Writes a snapshot if the log holds records appended more than `max_age` ago (so
    /// that a start-up never replays more than that much history); true if it did.
    pub(crate) fn snapshot_if_older(&mut self, schema: &Schema, max_age: Duration) -> Result<bool> {
        match self.unsnapshotted_since {
            Some(t) if t.elapsed() >= max_age => self.snapshot(schema).map(|()| true),
            _ => Ok(false),
        }
    }

    /// Writes a new snapshot generation if the log has grown past the limit.
    pub(crate) fn maybe_snapshot(&mut self, schema: &Schema) -> Result<()> {
        if self.size < SNAPSHOT_AFTER_BYTES {
            return Ok(());
        }
        self.snapshot(schema)
    }

    /// Writes a snapshot of `schema` as generation `gen + 1` and starts its log.
    pub(crate) fn snapshot(&mut self, schema: &Schema) -> Result<()> {
        let next = self.gen + 1;
        let mut bytes = SNAP_MAGIC.to_vec();
        let mut payload = Vec::new();
        for op in schema.snapshot_ops() {
            payload.clear();
            op.encode(&mut payload);
            codec::frame(&mut bytes, &payload)?;
        }
        let snap = self.dir.join(format!("schema-{next}.snap"));
        codec::write_atomic(&snap, &bytes)?;
        // without its log the new snapshot would hide what is appended to the old one
        let file = create_log(&self.dir, next).inspect_err(|_| {
            let _ = fs::remove_file(&snap);
            let _ = fs::remove_file(self.dir.join(format!("schema-{next}.log")));
        })?;
        let old = self.gen;
        self.gen = next;
        self.file = file;
        self.size = LOG_MAGIC.len() as u64;
        self.torn = false;
        // the snapshot holds the schema in memory, pending ops included
        self.pending.clear();
        self.unsnapshotted_since = None;
        let _ = fs::remove_file(self.dir.join(format!("schema-{old}.log")));
        let _ = fs::remove_file(self.dir.join(format!("schema-{old}.snap")));
        Ok(())
    }
}
