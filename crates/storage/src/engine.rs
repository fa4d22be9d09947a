//! The engine: schema, data regions, WAL and users behind one `Send + Sync` handle.
//!
//! Lock order (never taken the other way round): schema → schema log → region map →
//! region flush lock → region state → region WAL. Flushes take no schema lock (they get a
//! snapshot of the schemas first), so a schema change waiting for a flush cannot deadlock.
//! Inserts hold the schema read lock while they write, so a
//! schema change (which takes the write lock) never interleaves with a half-done insert.

use crate::api::*;
use crate::budget::{MemBudget, MemCharge};
use crate::config::{StorageConfig, WalMode};
use crate::dirlock::DirLock;
use crate::fileset::CompactionPolicy;
use crate::health::WriteHealth;
use crate::infer::infer_type;
use crate::load::{LoadSummary, TsFileStats};
use crate::rebuild;
use crate::region::{DataRegion, SchemaMap};
use crate::schema::{DbMeta, DeviceLookup, Lookup, Schema};
use crate::schema_log::SchemaLog;
use crate::schema_ops::SchemaOp;
use crate::stats::MemoryUse;
use crate::timeshare::TimeShare;
use crate::tsfiles::RegionDirs;
use crate::users::UserStore;
use crate::wal::{WalColumn, WalEntry, WalRow, WalTablet};
use model::path::{quote_node, unquote_node};
use model::{
    Bitmap, ColumnData, Error, InsertRows, InsertTablet, MeasurementSchema, PartialPath,
    PathPattern, Result, RowValues, TSDataType, TemplateDef, TemplateMeasurement, Value,
};
use parking_lot::{Condvar, Mutex, RwLock, RwLockWriteGuard};
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

type RegionMap = RwLock<HashMap<u64, Arc<DataRegion>>>;
type FlushSender = std::sync::mpsc::Sender<(Arc<DataRegion>, SchemaMap)>;

thread_local! {
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn with_scratch<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    SCRATCH.with_borrow_mut(|buf| {
        let out = f(buf);
        if buf.capacity() > 64 << 20 {
            *buf = Vec::new();
        }
        out
    })
}

struct Syncer {
    stop: Mutex<bool>,
    cv: Condvar,
}

impl Syncer {
    /// Waits up to `every` (less when stopped meanwhile); false once stopped.
    fn wait(&self, every: Duration) -> bool {
        let mut s = self.stop.lock();
        if !*s {
            self.cv.wait_for(&mut s, every);
        }
        !*s
    }
}

/// The storage engine. Share it as `Arc<Engine>`.
pub struct Engine {
    config: StorageConfig,
    schema: Arc<RwLock<Schema>>,
    schema_log: Arc<Mutex<SchemaLog>>,
    regions: Arc<RegionMap>,
    users: UserStore,
    syncer: Arc<Syncer>,
    syncer_thread: Mutex<Option<JoinHandle<()>>>,
    compactor: Arc<Syncer>,
    compactor_thread: Mutex<Option<JoinHandle<()>>>,
    /// Stop signal and thread of the periodic schema snapshots.
    snapshotter: Arc<Syncer>,
    snapshotter_thread: Mutex<Option<JoinHandle<()>>>,
    /// Queue of the background flusher (sealed memtables to write out).
    flusher: Mutex<Option<FlushSender>>,
    flusher_thread: Mutex<Option<JoinHandle<()>>>,
    /// Set by [`Engine::simulate_crash`]: the flusher drops what is queued instead of
    /// writing it (a crash loses sealed memtables; their WAL segments replay them).
    crashed: Arc<AtomicBool>,
    closed: AtomicBool,
    /// `SET SYSTEM TO READONLY`: writes are refused until `SET SYSTEM TO RUNNING`.
    read_only: AtomicBool,
    /// Writes are refused after a failed flush or WAL write, until the disk recovers.
    health: Arc<WriteHealth>,
    /// Notified after each flush: writers waiting for memtable memory re-check the budget.
    memory_freed: Arc<Syncer>,
    /// Bytes of every memtable plus the writes admitted, bounded by
    /// `memtable_budget_bytes` (see [`MemBudget`]).
    memory: Arc<MemBudget>,
    /// The exclusive lock of the data directory (declared last: released after everything
    /// else is closed).
    _dir_lock: DirLock,
}

/// Canonical node form of a measurement name given by a client (`s1`, `` `a b` ``,
/// `a b` → `` `a b` ``, `` `abc` `` → `abc`).
fn canonical_measurement(m: &str) -> Cow<'_, str> {
    let raw = if m.len() >= 2 && m.starts_with('`') && m.ends_with('`') {
        unquote_node(m)
    } else {
        m.to_string()
    };
    let q = quote_node(&raw);
    if q == m {
        Cow::Borrowed(m)
    } else {
        Cow::Owned(q)
    }
}

fn patterns_text(patterns: &[PathPattern]) -> String {
    patterns
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Converts a column to `target`'s physical type the way IoTDB widens on insert.
fn convert_column(data: &ColumnData, target: TSDataType) -> Option<ColumnData> {
    Some(match (data, target.physical()) {
        (ColumnData::Int32(v), TSDataType::Int64) => {
            ColumnData::Int64(v.iter().map(|&x| x as i64).collect())
        }
        (ColumnData::Int32(v), TSDataType::Float) => {
            ColumnData::Float(v.iter().map(|&x| x as f32).collect())
        }
        (ColumnData::Int32(v), TSDataType::Double) => {
            ColumnData::Double(v.iter().map(|&x| x as f64).collect())
        }
        (ColumnData::Int64(v), TSDataType::Double) => {
            ColumnData::Double(v.iter().map(|&x| x as f64).collect())
        }
        (ColumnData::Float(v), TSDataType::Double) => {
            ColumnData::Double(v.iter().map(|&x| x as f64).collect())
        }
        _ => return None,
    })
}

fn mismatch(
    path: &str,
    registered: TSDataType,
    inserting: TSDataType,
    time: i64,
    value: &str,
) -> Error {
    Error::Metadata(format!(
        "data type of {path} is not consistent, registered type {registered}, inserting type {inserting}, timestamp {time}, value {value}"
    ))
}

fn out_of_ttl(time: i64, bound: i64) -> Error {
    Error::OutOfTtl(format!(
        "Insertion time [{time}] is less than ttl time bound [{bound}]"
    ))
}

/// Folds per-measurement failures of one device write into one error.
fn measurement_failures(failures: Vec<(String, Error)>) -> Error {
    if failures.len() == 1 && !matches!(failures[0].1, Error::Metadata(_)) {
        return failures
            .into_iter()
            .next()
            .map(|(_, e)| e)
            .unwrap_or_else(|| Error::internal("no failure"));
    }
    let names: Vec<String> = failures.iter().map(|(m, _)| m.clone()).collect();
    let causes: Vec<String> = failures.iter().map(|(_, e)| e.to_string()).collect();
    Error::Metadata(format!(
        "Fail to insert measurements [{}] caused by [{}]",
        names.join(", "),
        causes.join(", ")
    ))
}

/// A row's values, canonicalised, with the type wanted for auto-creation.
struct RowPlan<'a> {
    measurements: Vec<Cow<'a, str>>,
    /// Per measurement: value to write (typed) or string to parse; None = skip.
    values: Vec<Option<RowVal<'a>>>,
}

enum RowVal<'a> {
    /// A value and the type its writer declared.
    Typed(TSDataType, &'a Value),
    Text(&'a str),
}

impl RowVal<'_> {
    fn creation_type(&self, config: &StorageConfig) -> Option<TSDataType> {
        match self {
            RowVal::Typed(t, _) => Some(*t),
            RowVal::Text(s) => infer_type(s, config),
        }
    }
}

/// Sizes rayon-core's global pool, which flush (chunk pairs) and the query read-ahead share,
/// at one worker fewer than the machine has cores: the thread that hands out the work (a
/// flush or a connection thread) takes its share too, so one worker per core would make
/// three busy threads on two cores. On the 2-core VM a filtered aggregate of 10 M points
/// spent 48 ms of CPU and 29 ms of wall with two workers (one spinning, both waiting to
/// run), 37 and 21 ms with one. `RAYON_NUM_THREADS` still wins; the first engine of a
/// process sets the pool, and a pool already built is left as it is.
fn init_worker_pool() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let mut builder =
            rayon_core::ThreadPoolBuilder::new().thread_name(|i| format!("iotdb-worker-{i}"));
        if std::env::var_os("RAYON_NUM_THREADS").is_none() {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            builder = builder.num_threads(cores.saturating_sub(1).max(1));
        }
        // Err: the pool was built before (by the embedding program); nothing to change
        let _ = builder.build_global();
    });
}

impl Engine {
    /// Opens (or creates) the engine under `config.data_dir`: loads users and schema,
    /// replays every region's WAL, starts the background WAL syncer (`Async` mode).
    pub fn open(config: StorageConfig) -> Result<Engine> {
        init_worker_pool();
        // Before anything in the directory is read, replayed or created.
        let dir_lock = DirLock::acquire(&config.data_dir)?;
        let system = config.data_dir.join("system");
        let wal = config.data_dir.join("wal");
        std::fs::create_dir_all(&system)?;
        std::fs::create_dir_all(&wal)?;
        let users = UserStore::open(system.join("users"))?;
        let (mut log, mut schema) = SchemaLog::open(system)?;
        // records lost from a damaged schema log: databases come back from the data
        // directories (and nothing unknown is removed), series from the files and the WAL
        let damaged = log.damaged();
        let mut rebuilt = Vec::new();
        if damaged {
            rebuilt = rebuild::databases(
                &config.data_dir,
                &schema,
                config.default_time_partition_interval_ms,
            );
            Self::apply_rebuilt(&mut schema, &rebuilt);
        }
        let mut regions = HashMap::new();
        let memory = MemBudget::new(config.memtable_budget_bytes);
        for db in schema.all_databases() {
            let r = DataRegion::open(
                db.region_id,
                Self::wal_dir_of(&config, db.region_id),
                config.wal_mode,
                Self::dirs_of(&config, &db),
                db.interval,
                &memory,
            )?;
            r.set_ttl(db.ttl);
            regions.insert(db.region_id, Arc::new(r));
        }
        if damaged {
            let before = rebuilt.len();
            for r in regions.values() {
                let ops = rebuild::series(r, &schema, config.default_compressor);
                Self::apply_rebuilt(&mut schema, &ops);
                rebuilt.extend(ops);
            }
            Self::report_rebuilt(&rebuilt, rebuilt.len() - before);
            log.append(&rebuilt)?;
        } else {
            Self::remove_orphan_data(&config, &regions);
        }
        for ent in std::fs::read_dir(&wal)? {
            let ent = ent?;
            let name = ent.file_name();
            let Some(id) = name
                .to_str()
                .and_then(|n| n.strip_prefix("region-"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            if damaged && !regions.contains_key(&id) {
                tracing::warn!(
                    "keeping the WAL of region {id} ({}), which no database names after the \
                     schema log was damaged",
                    ent.path().display()
                );
            } else if !regions.contains_key(&id) {
                tracing::warn!(
                    "removing WAL of deleted region {id} ({})",
                    ent.path().display()
                );
                std::fs::remove_dir_all(ent.path())?;
            }
        }
        let engine = Engine {
            schema: Arc::new(RwLock::new(schema)),
            schema_log: Arc::new(Mutex::new(log)),
            regions: Arc::new(RwLock::new(regions)),
            users,
            syncer: Arc::new(Syncer {
                stop: Mutex::new(false),
                cv: Condvar::new(),
            }),
            syncer_thread: Mutex::new(None),
            compactor: Arc::new(Syncer {
                stop: Mutex::new(false),
                cv: Condvar::new(),
            }),
            compactor_thread: Mutex::new(None),
            snapshotter: Arc::new(Syncer {
                stop: Mutex::new(false),
                cv: Condvar::new(),
            }),
            snapshotter_thread: Mutex::new(None),
            flusher: Mutex::new(None),
            flusher_thread: Mutex::new(None),
            crashed: Arc::new(AtomicBool::new(false)),
            closed: AtomicBool::new(false),
            read_only: AtomicBool::new(false),
            health: Arc::new(WriteHealth::new(&config.data_dir)),
            memory_freed: Arc::new(Syncer {
                stop: Mutex::new(false),
                cv: Condvar::new(),
            }),
            memory,
            _dir_lock: dir_lock,
            config,
        };
        if engine.config.wal_mode == WalMode::Async {
            let syncer = engine.syncer.clone();
            let regions = Arc::downgrade(&engine.regions);
            let every = Duration::from_millis(engine.config.wal_async_flush_ms.max(1));
            let handle = std::thread::Builder::new()
                .name("wal-sync".into())
                .spawn(move || run_syncer(syncer, regions, every))?;
            *engine.syncer_thread.lock() = Some(handle);
        }
        {
            let (tx, rx) = std::sync::mpsc::channel::<(Arc<DataRegion>, SchemaMap)>();
            let health = engine.health.clone();
            let freed = engine.memory_freed.clone();
            let crashed = engine.crashed.clone();
            let handle = std::thread::Builder::new()
                .name("flush".into())
                .spawn(move || {
                    for (region, schemas) in rx {
                        if crashed.load(Ordering::Acquire) {
                            continue;
                        }
                        crate::fault::hold_flush();
                        if let Err(e) = region.flush_sealed(&schemas) {
                            health.fail(&format!("flush of region {}", region.id), &e);
                        }
                        freed.cv.notify_all();
                    }
                })?;
            *engine.flusher.lock() = Some(tx);
            *engine.flusher_thread.lock() = Some(handle);
        }
        if engine.config.enable_compaction {
            let stop = engine.compactor.clone();
            let regions = Arc::downgrade(&engine.regions);
            let every = Duration::from_millis(engine.config.compaction_interval_ms.max(1));
            let policy = engine.compaction_policy();
            let health = engine.health.clone();
            let handle = std::thread::Builder::new()
                .name("compaction".into())
                .spawn(move || run_compactor(stop, regions, every, policy, health))?;
            *engine.compactor_thread.lock() = Some(handle);
        }
        if engine.config.schema_snapshot_interval_ms > 0 {
            let stop = engine.snapshotter.clone();
            let (schema, log) = (engine.schema.clone(), engine.schema_log.clone());
            let max_age = Duration::from_millis(engine.config.schema_snapshot_interval_ms);
            let handle = std::thread::Builder::new()
                .name("schema-snapshot".into())
                .spawn(move || run_schema_snapshots(&stop, &schema, &log, max_age))?;
            *engine.snapshotter_thread.lock() = Some(handle);
        }
        Ok(engine)
    }

    fn apply_rebuilt(schema: &mut Schema, ops: &[SchemaOp]) {
        for op in ops {
            if let Err(e) = schema.apply(op) {
                tracing::warn!("rebuilt schema record does not apply: {e}");
            }
        }
    }

    /// The warning after a rebuild: what came back, and what could not.
    fn report_rebuilt(ops: &[SchemaOp], series: usize) {
        if ops.is_empty() {
            return;
        }
        let names: Vec<String> = ops
            .iter()
            .map(|op| match op {
                SchemaOp::CreateDatabase { path, .. } => format!("database {path}"),
                SchemaOp::CreateSeries {
                    path,
                    schema,
                    aligned,
                    ..
                } => format!(
                    "{path} ({}, {}, {}{})",
                    schema.data_type.name(),
                    schema.encoding.name(),
                    schema.compressor.name(),
                    if *aligned { ", aligned" } else { "" }
                ),
                _ => String::new(),
            })
            .collect();
        tracing::warn!(
            "the schema log was damaged: rebuilt {} database(s) and {series} series from the \
             TsFiles and the WAL: {}; their tags, attributes and aliases, TTLs, templates and \
             series without stored data could not be rebuilt",
            ops.len() - series,
            names.join(", ")
        );
    }

    fn compaction_policy(&self) -> CompactionPolicy {
        CompactionPolicy {
            max_files: self.config.compaction_max_files.max(2),
            ..CompactionPolicy::default()
        }
    }

    /// The data directories of a database's region (IoTDB's layout).
    fn dirs_of(config: &StorageConfig, db: &DbMeta) -> RegionDirs {
        RegionDirs {
            verify_checksums: config.verify_chunk_checksums,
            ..RegionDirs::new(&config.data_dir, &db.path.to_string(), db.region_id)
        }
    }

    /// Removes data directories of regions that no longer exist (database deleted while
    /// the removal failed or was interrupted).
    fn remove_orphan_data(config: &StorageConfig, regions: &HashMap<u64, Arc<DataRegion>>) {
        for space in ["sequence", "unsequence"] {
            let Ok(dbs) = std::fs::read_dir(config.data_dir.join(space)) else {
                continue;
            };
            for db in dbs.flatten() {
                let Ok(ids) = std::fs::read_dir(db.path()) else {
                    continue;
                };
                let mut left = 0;
                for id in ids.flatten() {
                    let known = id
                        .file_name()
                        .to_str()
                        .and_then(|n| n.parse::<u64>().ok())
                        .is_some_and(|n| regions.contains_key(&n));
                    if known {
                        left += 1;
                    } else {
                        tracing::warn!("removing data of deleted region {}", id.path().display());
                        let _ = std::fs::remove_dir_all(id.path());
                    }
                }
                if left == 0 {
                    let _ = std::fs::remove_dir(db.path());
                }
            }
        }
    }

    fn wal_dir_of(config: &StorageConfig, region_id: u64) -> PathBuf {
        config
            .data_dir
            .join("wal")
            .join(format!("region-{region_id}"))
    }

    /// Abandons the engine as a crash would: nothing more is flushed, compacted or
    /// snapshotted (the threads that do it are stopped), nothing is synced or closed, and the
    /// data-directory lock is released (the kernel does that when a process dies), so tests
    /// can reopen the directory in the same process.
    #[doc(hidden)]
    pub fn simulate_crash(self) {
        // a crash ends every thread: nothing of this engine (a schema snapshot, a flush that
        // deletes the WAL segments it covers, a compaction) may change the directory after it
        // is reopened. A flush or compaction under way finishes (a crash just after it is a
        // crash too); queued flushes are dropped.
        self.crashed.store(true, Ordering::Release);
        drop(self.flusher.lock().take());
        for (stop, thread) in [
            (&self.snapshotter, &self.snapshotter_thread),
            (&self.compactor, &self.compactor_thread),
        ] {
            *stop.stop.lock() = true;
            stop.cv.notify_all();
            if let Some(h) = thread.lock().take() {
                let _ = h.join();
            }
        }
        if let Some(h) = self.flusher_thread.lock().take() {
            let _ = h.join();
        }
        if let Err(e) = self._dir_lock.release() {
            tracing::warn!("releasing the data-directory lock: {e}");
        }
        std::mem::forget(self);
    }

    /// Stops the background threads, flushes every memtable into TsFiles and syncs every
    /// WAL. Idempotent.
    pub fn close(&self) -> Result<()> {
        if !self.closed.swap(true, Ordering::AcqRel) {
            for (stop, thread) in [
                (&self.syncer, &self.syncer_thread),
                (&self.compactor, &self.compactor_thread),
                (&self.snapshotter, &self.snapshotter_thread),
            ] {
                *stop.stop.lock() = true;
                stop.cv.notify_all();
                if let Some(h) = thread.lock().take() {
                    let _ = h.join();
                }
            }
            // let the background flusher finish its queue, then flush the rest here
            drop(self.flusher.lock().take());
            if let Some(h) = self.flusher_thread.lock().take() {
                let _ = h.join();
            }
            // a failed flush (a full disk) leaves the points in the WAL: sync it anyway
            let flushed = self.flush_memtables();
            let logged = self.schema_log.lock().append(&[]);
            return flushed.and(self.sync_all()).and(logged);
        }
        self.sync_all()
    }

    fn sync_all(&self) -> Result<()> {
        let regions: Vec<_> = self.regions.read().values().cloned().collect();
        for r in regions {
            r.sync_wal()?;
        }
        Ok(())
    }

    /// The configuration the engine was opened with.
    pub fn config(&self) -> &StorageConfig {
        &self.config
    }

    /// The user store.
    pub fn users(&self) -> &UserStore {
        &self.users
    }

    // ----- schema plumbing -----------------------------------------------------------

    /// Logs ops (already applied to `schema`) with one fsync, then maybe snapshots. When
    /// the log cannot be written the ops stay pending in it and writes are refused until
    /// they are written (see [`Engine::check_writable`]): nothing is acknowledged on a
    /// schema the log does not hold.
    fn log_ops(&self, schema: &Schema, ops: &[SchemaOp]) -> Result<()> {
        if ops.is_empty() {
            return Ok(());
        }
        let mut log = self.schema_log.lock();
        if let Err(e) = log.append_applied(ops) {
            // not under the log's lock: a prober holds the health lock and takes the log's
            drop(log);
            self.health.fail("schema log write", &e);
            return Err(e);
        }
        if let Err(e) = log.maybe_snapshot(schema) {
            tracing::warn!("schema snapshot failed (the log stays authoritative): {e}");
        }
        Ok(())
    }

    /// Logs then applies validated ops.
    fn commit(&self, schema: &mut Schema, ops: Vec<SchemaOp>) -> Result<()> {
        let logged = self.schema_log.lock().append(&ops);
        if let Err(e) = logged {
            self.health.fail("schema log write", &e);
            return Err(e);
        }
        for op in &ops {
            schema.apply(op)?;
        }
        if let Err(e) = self.schema_log.lock().maybe_snapshot(schema) {
            tracing::warn!("schema snapshot failed (the log stays authoritative): {e}");
        }
        Ok(())
    }

    fn region(&self, db: &DbMeta) -> Result<Arc<DataRegion>> {
        if let Some(r) = self.regions.read().get(&db.region_id) {
            return Ok(r.clone());
        }
        let mut map = self.regions.write();
        if let Some(r) = map.get(&db.region_id) {
            return Ok(r.clone());
        }
        let r = Arc::new(DataRegion::open(
            db.region_id,
            Self::wal_dir_of(&self.config, db.region_id),
            self.config.wal_mode,
            Self::dirs_of(&self.config, db),
            db.interval,
            &self.memory,
        )?);
        r.set_ttl(db.ttl);
        map.insert(db.region_id, r.clone());
        Ok(r)
    }

    /// Creates the database covering `path` when missing (auto-create), applying and
    /// recording the op in `ops`.
    fn ensure_database(
        &self,
        schema: &mut Schema,
        path: &PartialPath,
        ops: &mut Vec<SchemaOp>,
    ) -> Result<()> {
        if schema.database_of(path).is_some() {
            return Ok(());
        }
        if !self.config.auto_create_schema {
            return Err(Error::DatabaseNotSet(path.to_string()));
        }
        let db = Schema::auto_database_path(path, self.config.default_storage_group_level)?;
        let op =
            schema.plan_create_database(&db, self.config.default_time_partition_interval_ms)?;
        schema.apply(&op)?;
        ops.push(op);
        Ok(())
    }

    // ----- databases -----------------------------------------------------------------

    /// Creates a database. A path equal to, above or below an existing database fails
    /// with `DatabaseAlreadyExists`.
    pub fn create_database(&self, path: &PartialPath) -> Result<()> {
        self.create_database_with_interval(path, self.config.default_time_partition_interval_ms)
    }

    /// Creates a database whose data is partitioned into time partitions of `interval_ms`
    /// (`CREATE DATABASE … WITH TIME_PARTITION_INTERVAL=…`, IoTDB 2.0); the interval is kept
    /// in the schema log and used by the database's data region from then on. A
    /// non-positive interval fails with `IllegalParameter`.
    pub fn create_database_with_interval(
        &self,
        path: &PartialPath,
        interval_ms: i64,
    ) -> Result<()> {
        if interval_ms <= 0 {
            return Err(Error::IllegalParameter(
                "The time partition interval should be positive.".into(),
            ));
        }
        let mut schema = self.schema.write();
        let op = schema.plan_create_database(path, interval_ms)?;
        self.commit(&mut schema, vec![op])
    }

    /// Deletes every database matching any pattern, with its schema and data. Nothing
    /// matched → `PathNotExist`.
    pub fn delete_databases(&self, patterns: &[PathPattern]) -> Result<()> {
        let mut schema = self.schema.write();
        let dbs = schema.matching_databases(patterns);
        if dbs.is_empty() {
            return Err(Error::PathNotExist(patterns_text(patterns)));
        }
        let ops = dbs
            .iter()
            .map(|d| SchemaOp::DeleteDatabase {
                path: d.path.clone(),
            })
            .collect();
        self.commit(&mut schema, ops)?;
        let mut map = self.regions.write();
        for d in dbs {
            if let Some(r) = map.remove(&d.region_id) {
                r.remove_files();
            }
            let dir = Self::wal_dir_of(&self.config, d.region_id);
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => tracing::warn!(
                    "cannot remove {}: {e} (removed at next open)",
                    dir.display()
                ),
            }
        }
        Ok(())
    }

    /// Databases matching the pattern, in Java HashMap order of their full names.
    pub fn databases(&self, pattern: &PathPattern) -> Vec<DatabaseInfo> {
        self.schema.read().databases(pattern)
    }

    /// Sets (or with `None` unsets) the TTL of every database the pattern matches or reaches
    /// below, as IoTDB 1.0 does (`SET TTL TO root.sg.** 1000` sets the TTL of `root.sg`).
    /// No such database → `DatabaseNotSet` (status 500, as IoTDB 1.0 answers).
    pub fn set_ttl(&self, pattern: &PathPattern, ttl_ms: Option<i64>) -> Result<()> {
        if let Some(t) = ttl_ms {
            if t <= 0 {
                return Err(Error::IllegalParameter("TTL should be positive.".into()));
            }
        }
        let mut schema = self.schema.write();
        let dbs = schema.belonged_databases(pattern);
        if dbs.is_empty() {
            return Err(Error::DatabaseNotSet(pattern.to_string()));
        }
        let ops = dbs
            .iter()
            .map(|d| SchemaOp::SetTtl {
                path: d.path.clone(),
                ttl: ttl_ms,
            })
            .collect();
        self.commit(&mut schema, ops)?;
        let regions = self.regions.read();
        for d in &dbs {
            if let Some(r) = regions.get(&d.region_id) {
                r.set_ttl(ttl_ms);
            }
        }
        Ok(())
    }

    // ----- time series ---------------------------------------------------------------

    fn spec_schema(spec: &TimeseriesSpec) -> MeasurementSchema {
        MeasurementSchema {
            name: spec.path.last().to_string(),
            data_type: spec.data_type,
            encoding: spec.encoding,
            compressor: spec.compressor,
        }
    }

    /// Creates one (non-aligned) time series; auto-creates its database when enabled.
    pub fn create_timeseries(&self, spec: TimeseriesSpec) -> Result<()> {
        let mut schema = self.schema.write();
        let mut ops = Vec::new();
        if let Err(e) = self.ensure_database(&mut schema, &spec.path, &mut ops) {
            return Err(match e {
                Error::DatabaseNotSet(_) => Error::DatabaseNotSet(spec.path.to_string()),
                other => other,
            });
        }
        let planned = schema.plan_create_series(
            &spec.path,
            Self::spec_schema(&spec),
            false,
            spec.alias.clone(),
            spec.props.clone(),
            spec.tags.clone(),
            spec.attributes.clone(),
        );
        match planned.and_then(|op| {
            schema.apply(&op)?;
            ops.push(op);
            Ok(())
        }) {
            Ok(()) => self.log_ops(&schema, &ops),
            Err(e) => {
                // keep an auto-created database (IoTDB does too), but log it
                self.log_ops(&schema, &ops)?;
                Err(e)
            }
        }
    }

    /// Creates aligned series under `device` (each spec's path is the full series path).
    /// All or nothing.
    pub fn create_aligned_timeseries(
        &self,
        device: &PartialPath,
        specs: Vec<TimeseriesSpec>,
    ) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        for s in &specs {
            if s.path.parent() != *device {
                return Err(Error::IllegalParameter(format!(
                    "{} is not a measurement of {device}",
                    s.path
                )));
            }
            if !seen.insert(s.path.last().to_string())
                || s.alias.as_ref().is_some_and(|a| !seen.insert(a.clone()))
            {
                return Err(Error::Metadata(format!(
                    "measurement or alias {} is duplicated",
                    s.path.last()
                )));
            }
        }
        let mut schema = self.schema.write();
        let mut ops = Vec::new();
        self.ensure_database(&mut schema, device, &mut ops)?;
        let mut planned = Vec::new();
        for s in &specs {
            match schema.plan_create_series(
                &s.path,
                Self::spec_schema(s),
                true,
                s.alias.clone(),
                s.props.clone(),
                s.tags.clone(),
                s.attributes.clone(),
            ) {
                Ok(op) => planned.push(op),
                Err(e) => {
                    self.log_ops(&schema, &ops)?;
                    return Err(e);
                }
            }
        }
        for op in planned {
            schema.apply(&op)?;
            ops.push(op);
        }
        self.log_ops(&schema, &ops)
    }

    fn drop_series_data(
        &self,
        schema: &Schema,
        series: Vec<(PartialPath, PartialPath, String)>,
    ) -> Result<()> {
        // (database, device, measurement) grouped per region
        let mut by_region: Vec<(DbMeta, Vec<(PartialPath, String)>)> = Vec::new();
        for (db, dev, m) in series {
            let Some(meta) = schema.database_of(&db) else {
                continue;
            };
            match by_region
                .iter_mut()
                .find(|(d, _)| d.region_id == meta.region_id)
            {
                Some((_, v)) => v.push((dev, m)),
                None => by_region.push((meta, vec![(dev, m)])),
            }
        }
        for (db, series) in by_region {
            let region = self.region(&db)?;
            self.log_write(
                &region,
                &WalEntry::Drop { series },
                &mut self.memory.empty_charge(),
            )?;
        }
        Ok(())
    }

    /// Deletes the series matching any pattern, with their data. Nothing matched →
    /// `PathNotExist`. Series provided by templates are not matched (deactivate instead).
    pub fn delete_timeseries(&self, patterns: &[PathPattern]) -> Result<()> {
        let mut schema = self.schema.write();
        let series = schema.matching_real_series(patterns);
        if series.is_empty() {
            return Err(Error::PathNotExist(patterns_text(patterns)));
        }
        let targets = series
            .iter()
            .map(|s| {
                (
                    s.database.clone(),
                    s.path.parent(),
                    s.path.last().to_string(),
                )
            })
            .collect();
        self.drop_series_data(&schema, targets)?;
        let ops = series
            .into_iter()
            .map(|s| SchemaOp::DeleteSeries { path: s.path })
            .collect();
        self.commit(&mut schema, ops)
    }

    /// Series matching the pattern (real and template-provided), in IoTDB 1.0's
    /// expansion order: depth first, children in Java HashMap order; aliases match too.
    pub fn series(&self, pattern: &PathPattern) -> Vec<SeriesInfo> {
        self.schema.read().series(pattern)
    }

    /// The series at `path`, which may also be `device.alias`.
    pub fn series_info(&self, path: &PartialPath) -> Option<SeriesInfo> {
        self.schema.read().resolve(path).map(|r| r.info)
    }

    /// The type a value inserted at `device.measurement` takes: the series' own, or that of
    /// the schema template covering the device (which the insert activates); `None` when the
    /// insert would create the series.
    pub fn insert_type(&self, device: &PartialPath, measurement: &str) -> Option<TSDataType> {
        let schema = self.schema.read();
        if let Some(r) = schema.resolve(&device.child(measurement)) {
            return Some(r.info.schema.data_type);
        }
        let (_, t) = schema.covering_template(device)?;
        t.def
            .measurements
            .iter()
            .find(|tm| {
                crate::schema::template_nodes(&tm.path)
                    .map(|n| n.len() == 1 && n[0] == measurement)
                    .unwrap_or(false)
            })
            .map(|tm| tm.schema.data_type)
    }

    /// Devices matching the pattern (a device before its descendants).
    pub fn devices(&self, pattern: &PathPattern) -> Vec<DeviceInfo> {
        self.schema.read().devices(pattern)
    }

    /// Children of the nodes matching the pattern (SHOW CHILD PATHS), sorted by path.
    pub fn child_paths(&self, pattern: &PathPattern) -> Vec<(PartialPath, NodeKind)> {
        self.schema.read().child_paths(pattern)
    }

    /// Distinct nodes at `level` (root = 0) on paths matching the pattern (COUNT NODES).
    pub fn nodes_at_level(&self, pattern: &PathPattern, level: usize) -> Vec<PartialPath> {
        self.schema.read().nodes_at_level(pattern, level)
    }

    /// Changes tags, attributes or the alias of a series.
    pub fn alter_timeseries(&self, path: &PartialPath, op: AlterOp) -> Result<()> {
        let mut schema = self.schema.write();
        let op = schema.plan_alter(path, &op)?;
        self.commit(&mut schema, vec![op])
    }

    // ----- templates -----------------------------------------------------------------

    /// Creates a schema template (duplicate name → `DuplicatedTemplate`).
    pub fn create_template(&self, t: TemplateDef) -> Result<()> {
        let mut schema = self.schema.write();
        let op = schema.plan_create_template(t)?;
        self.commit(&mut schema, vec![op])
    }

    /// Drops a template that is set nowhere (else a metadata error, as IoTDB answers).
    pub fn drop_template(&self, name: &str) -> Result<()> {
        let mut schema = self.schema.write();
        let op = schema.plan_drop_template(name)?;
        self.commit(&mut schema, vec![op])
    }

    /// Adds measurements to a template (also on devices where it is activated).
    pub fn append_template(&self, name: &str, ms: Vec<TemplateMeasurement>) -> Result<()> {
        let mut schema = self.schema.write();
        let op = schema.plan_append_template(name, ms)?;
        self.commit(&mut schema, vec![op])
    }

    /// Removes a measurement (or a whole group such as `GPS`) from a template that is
    /// not activated anywhere.
    pub fn prune_template(&self, name: &str, path: &str) -> Result<()> {
        let mut schema = self.schema.write();
        let op = schema.plan_prune_template(name, path)?;
        self.commit(&mut schema, vec![op])
    }

    /// Sets a template on a prefix path. No database is required (activation creates
    /// one when auto-create is on); conflicts with existing series → `TemplateIncompatible`;
    /// a template already set on the path, an ancestor or a descendant → `Metadata`.
    pub fn set_template(&self, name: &str, prefix: &PartialPath) -> Result<()> {
        let mut schema = self.schema.write();
        let op = schema.plan_set_template(name, prefix)?;
        self.commit(&mut schema, vec![op])
    }

    /// Unsets a template from the exact path it was set on (activated below →
    /// `TemplateIsInUse`; not set there → `TemplateNotSet`).
    pub fn unset_template(&self, name: &str, prefix: &PartialPath) -> Result<()> {
        let mut schema = self.schema.write();
        let op = schema.plan_unset_template(name, prefix)?;
        self.commit(&mut schema, vec![op])
    }

    /// Activates the template covering `device` on it (CREATE TIMESERIES OF SCHEMA
    /// TEMPLATE ON device); creates the database when missing and auto-create is on.
    pub fn activate_template(&self, device: &PartialPath) -> Result<()> {
        let mut schema = self.schema.write();
        if schema.covering_template(device).is_none() {
            return Err(Error::TemplateNotSet(format!(
                "Path [{device}] has not been set any template."
            )));
        }
        let mut ops = Vec::new();
        self.ensure_database(&mut schema, device, &mut ops)?;
        let result = schema.plan_activate(device).and_then(|op| {
            schema.apply(&op)?;
            ops.push(op);
            Ok(())
        });
        self.log_ops(&schema, &ops)?;
        result
    }

    /// Deactivates templates on the devices matching the patterns (optionally only
    /// template `name`), deleting the data of their template series.
    pub fn deactivate_template(&self, name: Option<&str>, patterns: &[PathPattern]) -> Result<()> {
        let mut schema = self.schema.write();
        if let Some(n) = name {
            if schema.template(n).is_none() {
                return Err(Error::UndefinedTemplate(n.to_string()));
            }
        }
        let devices = schema.matching_activated(name, patterns);
        if devices.is_empty() {
            return Err(Error::TemplateNotActivated(
                "Target schema template is not activated on any path matched by given path pattern"
                    .into(),
            ));
        }
        let mut targets = Vec::new();
        for d in &devices {
            let Some(db) = schema.database_of(d) else {
                continue;
            };
            for (dev, m) in schema.template_series_of(d) {
                targets.push((db.path.clone(), dev, m));
            }
        }
        self.drop_series_data(&schema, targets)?;
        let ops = devices
            .into_iter()
            .map(|device| SchemaOp::DeactivateTemplate { device })
            .collect();
        self.commit(&mut schema, ops)
    }

    /// All template names (Java HashMap order).
    pub fn template_names(&self) -> Vec<String> {
        self.schema.read().template_names()
    }

    /// A template definition (measurements in definition order).
    pub fn template(&self, name: &str) -> Option<TemplateDef> {
        self.schema.read().template(name).map(|t| t.def.clone())
    }

    /// Paths the template is set on.
    pub fn paths_template_set_on(&self, name: &str) -> Result<Vec<PartialPath>> {
        self.schema.read().paths_set(name)
    }

    /// Devices the template is activated on.
    pub fn paths_template_using_on(&self, name: &str) -> Result<Vec<PartialPath>> {
        self.schema.read().paths_using(name)
    }

    // ----- inserts -------------------------------------------------------------------

    /// Auto-creates what a device write is missing: database, template activation,
    /// series (`wanted`: measurement → type for creation). Ops are applied to `schema`
    /// and appended to `ops`; per-measurement failures are returned.
    fn auto_create(
        &self,
        schema: &mut Schema,
        device: &PartialPath,
        wanted: &[(String, TSDataType)],
        aligned: bool,
        ops: &mut Vec<SchemaOp>,
    ) -> Result<Vec<(String, Error)>> {
        let mut failures = Vec::new();
        let first = wanted
            .first()
            .map(|(m, _)| device.child(m))
            .unwrap_or_else(|| device.clone());
        if let Err(e) = self.ensure_database(schema, device, ops) {
            return Err(match e {
                Error::DatabaseNotSet(_) => Error::DatabaseNotSet(first.to_string()),
                other => other,
            });
        }
        let names: Vec<String> = wanted.iter().map(|(m, _)| m.clone()).collect();
        let look = schema.lookup_device(device, &names);
        if let Some(b) = look.blocked {
            return Err(series_in_device_path(&b));
        }
        // a covering template that provides a missing measurement gets activated
        let activate = match schema.covering_template(device) {
            Some((_, t)) => look.measurements.iter().zip(&names).any(|(l, m)| {
                matches!(l, Lookup::Missing)
                    && t.def.measurements.iter().any(|tm| {
                        crate::schema::template_nodes(&tm.path)
                            .map(|n| n.len() == 1 && n[0] == *m)
                            .unwrap_or(false)
                    })
            }),
            None => false,
        };
        if activate {
            if let Ok(op) = schema.plan_activate(device) {
                schema.apply(&op)?;
                ops.push(op);
            }
        }
        let look = schema.lookup_device(device, &names);
        for ((m, ty), l) in wanted.iter().zip(&look.measurements) {
            if !matches!(l, Lookup::Missing) {
                continue;
            }
            let path = device.child(m);
            let ms = MeasurementSchema {
                name: m.clone(),
                data_type: *ty,
                encoding: ty.default_encoding(),
                compressor: self.config.default_compressor,
            };
            match schema.plan_create_series(&path, ms, aligned, None, vec![], vec![], vec![]) {
                Ok(op) => {
                    schema.apply(&op)?;
                    ops.push(op);
                }
                Err(e) => failures.push((m.clone(), e)),
            }
        }
        Ok(failures)
    }

    fn needs_create(look: &DeviceLookup) -> bool {
        look.db.is_none()
            || look
                .measurements
                .iter()
                .any(|l| matches!(l, Lookup::Missing))
    }

    /// Switches read-only mode (`SET SYSTEM TO READONLY|RUNNING`); not persisted.
    pub fn set_read_only(&self, on: bool) {
        self.read_only.store(on, Ordering::SeqCst);
    }

    /// Fails with `SystemReadOnly` (600) while the server is read-only: set so, or after a
    /// failed flush or WAL write until the disk accepts writes again (probed with back-off,
    /// see [`WriteHealth`]).
    pub fn check_writable(&self) -> Result<()> {
        if self.read_only.load(Ordering::SeqCst) {
            return Err(Error::SystemReadOnly(
                "Fail to do non-query operations because system is read-only.".into(),
            ));
        }
        self.health.check(|| {
            self.schema_log.lock().append(&[])?;
            self.flush_memtables_unmarked()
                .and_then(|()| self.sync_all())
        })
    }

    /// Lowers the memtables' budget in force to `bytes` (kept between 1 byte and
    /// `memtable_budget_bytes`; no effect without a budget), or raises it back. A server
    /// whose total memory budget is taken more than expected by other memory (allocator
    /// retention, buffers, readers) gives the memtables less: writes wait for flushes
    /// sooner.
    pub fn limit_memtables(&self, bytes: u64) {
        self.memory.set_limit(bytes);
    }

    /// The memtables' budget in force in bytes (0 = none), see [`Engine::limit_memtables`].
    pub fn memtable_limit(&self) -> u64 {
        self.memory.limit()
    }

    /// Estimated bytes of every memtable (working and being flushed), summed over regions
    /// (the figure the memtable budget's count must equal when no write is in flight).
    #[doc(hidden)]
    pub fn memtable_bytes_recounted(&self) -> u64 {
        let regions: Vec<_> = self.regions.read().values().cloned().collect();
        regions.iter().map(|r| r.memtable_bytes()).sum()
    }

    /// The memtable budget: reserves the `bytes` a write may add to the memtables (one
    /// atomic step that never passes `memtable_budget_bytes`), waiting up to
    /// `write_blocked_wait_ms` for room while handing the largest working memtable to the
    /// flusher; then refuses the write with 606. The reservation is given back when
    /// dropped, less what the write's memtables took over.
    fn admit_write(&self, bytes: u64) -> Result<MemCharge> {
        if let Some(r) = self.memory.try_reserve(bytes) {
            return Ok(r);
        }
        let budget = self.memory.cap();
        let refuse = |why: String| {
            Error::NotEnoughMemory(format!(
                "Write rejected: not enough memory. A write of {} KiB {why}; retry later or \
                 send smaller batches",
                bytes.div_ceil(1 << 10),
            ))
        };
        if bytes > budget {
            return Err(refuse(format!(
                "is larger than the whole memtable budget of {} KiB",
                budget >> 10
            )));
        }
        let wait = Duration::from_millis(self.config.write_blocked_wait_ms);
        let deadline = Instant::now() + wait;
        loop {
            self.relieve_memory(self.memory.limit())?;
            {
                let mut g = self.memory_freed.stop.lock();
                self.memory_freed
                    .cv
                    .wait_for(&mut g, Duration::from_millis(20));
            }
            if let Some(r) = self.memory.try_reserve(bytes) {
                return Ok(r);
            }
            if Instant::now() >= deadline {
                return Err(refuse(format!(
                    "does not fit: the memtables hold {} KiB of their {} KiB budget (now \
                     {} KiB) and flushes freed too little within {} ms",
                    self.memory.used() >> 10,
                    budget >> 10,
                    self.memory.limit() >> 10,
                    wait.as_millis()
                )));
            }
        }
    }

    /// Seals the largest working memtable (if it is worth a file: at least a quarter of
    /// a region's share of the budget) and queues it for the background flusher.
    fn relieve_memory(&self, budget: u64) -> Result<()> {
        let regions: Vec<_> = self.regions.read().values().cloned().collect();
        let share = budget / (4 * regions.len().max(1) as u64);
        let Some((bytes, region)) = regions
            .into_iter()
            .map(|r| (r.buffered_bytes(), r))
            .max_by_key(|(b, _)| *b)
        else {
            return Ok(());
        };
        if bytes >= share.max(1) && region.seal_if_idle()? {
            self.queue_flush(region)?;
        }
        Ok(())
    }

    /// Hands a region with a sealed memtable to the background flusher (or flushes here
    /// when the engine is closing).
    fn queue_flush(&self, region: Arc<DataRegion>) -> Result<()> {
        let schemas = self.schema_map(region.id);
        let job = (region, schemas);
        let rejected = match &*self.flusher.lock() {
            Some(tx) => tx.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        if let Some((region, schemas)) = rejected {
            region.flush_sealed(&schemas)?;
        }
        Ok(())
    }

    /// Logs `entry` to the region's WAL and applies it, the memtable's growth taken from
    /// `reserved` (see [`DataRegion::write`]); a failed WAL write refuses further writes
    /// (see [`Engine::check_writable`]).
    fn log_write(
        &self,
        region: &DataRegion,
        entry: &WalEntry,
        reserved: &mut MemCharge,
    ) -> Result<()> {
        // a write that passed `check_writable` before a failure elsewhere (the schema log,
        // say) is refused too
        self.health.refuse_if_failed()?;
        with_scratch(|buf| region.write(entry, buf, reserved)).inspect_err(|e| {
            if matches!(e, Error::Wal(_) | Error::Io(_)) {
                self.health.fail("WAL write", e);
            }
        })?;
        crate::stats::add_points(entry.points());
        Ok(())
    }

    /// Inserts a tablet (one device, many rows). Unknown series are auto-created (when
    /// enabled) with the declared types; values convert by IoTDB's widening rules; a
    /// measurement whose type does not fit fails alone (the others are written) and the
    /// call returns `Metadata("Fail to insert measurements [...] caused by [...]")`.
    pub fn insert_tablet(&self, t: &InsertTablet) -> Result<()> {
        self.check_writable()?;
        let mut reserved = self.admit_write(crate::memtable::tablet_estimate(t))?;
        if t.measurements.is_empty() || t.times.is_empty() {
            return Ok(());
        }
        if t.types.len() != t.measurements.len() || t.columns.len() != t.measurements.len() {
            return Err(Error::IllegalParameter(format!(
                "tablet of {} has {} measurements, {} types and {} columns",
                t.device,
                t.measurements.len(),
                t.types.len(),
                t.columns.len()
            )));
        }
        if let Some(c) = t.columns.iter().find(|c| c.len() != t.times.len()) {
            return Err(Error::IllegalParameter(format!(
                "tablet of {} has {} timestamps but a column of {} values",
                t.device,
                t.times.len(),
                c.len()
            )));
        }
        let names: Vec<Cow<str>> = t
            .measurements
            .iter()
            .map(|m| canonical_measurement(m))
            .collect();
        let owned_names: Vec<String>;
        let name_refs: &[String] = if names.iter().all(|n| matches!(n, Cow::Borrowed(_))) {
            &t.measurements
        } else {
            owned_names = names.iter().map(|n| n.to_string()).collect();
            &owned_names
        };

        let mut failures: Vec<(String, Error)> = Vec::new();
        let mut schema_r = self.schema.read();
        let mut look = schema_r.lookup_device(&t.device, name_refs);
        if Self::needs_create(&look) && self.config.auto_create_schema && look.blocked.is_none() {
            drop(schema_r);
            let mut w = self.schema.write();
            let look_w = w.lookup_device(&t.device, name_refs);
            let wanted: Vec<(String, TSDataType)> = name_refs
                .iter()
                .zip(&t.types)
                .zip(&look_w.measurements)
                .filter(|(_, l)| matches!(l, Lookup::Missing))
                .map(|((m, ty), _)| (m.clone(), *ty))
                .collect();
            let mut ops = Vec::new();
            let created = self.auto_create(&mut w, &t.device, &wanted, t.aligned, &mut ops);
            self.log_ops(&w, &ops)?;
            failures = created?;
            schema_r = RwLockWriteGuard::downgrade(w);
            look = schema_r.lookup_device(&t.device, name_refs);
        }
        if let Some(b) = &look.blocked {
            return Err(series_in_device_path(b));
        }
        let Some(db) = look.db.clone() else {
            return Err(Error::DatabaseNotSet(
                t.device.child(&name_refs[0]).to_string(),
            ));
        };
        // A tablet written the other way than the device is aligned is written the device's
        // way, as IoTDB 2.0 does (1.x refused it; see docs/reference-iotdb.md). Creating a
        // new series the other way still fails (609), as in 2.0.
        // TTL: rows older than the bound are not written
        let mut ttl_mask: Option<Bitmap> = None;
        let mut ttl_error = None;
        if let Some(ttl) = db.ttl {
            let bound = model::time::now_ms().saturating_sub(ttl);
            let old: Vec<usize> = (0..t.times.len()).filter(|&i| t.times[i] < bound).collect();
            if old.len() == t.times.len() {
                return Err(out_of_ttl(t.times[0], bound));
            }
            if let Some(&i) = old.first() {
                let mut b = Bitmap::new(t.times.len());
                for &i in &old {
                    b.set(i);
                }
                ttl_mask = Some(b);
                ttl_error = Some(out_of_ttl(t.times[i], bound));
            }
        }
        let mut columns = Vec::with_capacity(t.columns.len());
        for (i, col) in t.columns.iter().enumerate() {
            let m = &name_refs[i];
            if failures.iter().any(|(f, _)| f == m) {
                continue;
            }
            let (real, registered) = match &look.measurements[i] {
                Lookup::Found { name, data_type } => (name, *data_type),
                Lookup::Missing => {
                    failures.push((
                        m.clone(),
                        Error::PathNotExist(t.device.child(m).to_string()),
                    ));
                    continue;
                }
            };
            let src = col.data.data_type();
            let data = if src == registered.physical() {
                Cow::Borrowed(&col.data)
            } else if let Some(c) = convert_column(&col.data, registered) {
                Cow::Owned(c)
            } else {
                let row = (0..t.times.len()).find(|&r| !col.is_null(r)).unwrap_or(0);
                let value = col
                    .data
                    .get(row)
                    .map(|v| v.to_iotdb_string())
                    .unwrap_or_default();
                failures.push((
                    m.clone(),
                    mismatch(
                        &t.device.child(real).to_string(),
                        registered,
                        src,
                        t.times[row],
                        &value,
                    ),
                ));
                continue;
            };
            let nulls = match (&col.nulls, &ttl_mask) {
                (None, None) => None,
                (Some(n), None) => Some(Cow::Borrowed(n)),
                (None, Some(tm)) => Some(Cow::Borrowed(tm)),
                (Some(n), Some(tm)) => {
                    let mut b = Bitmap::new(t.times.len());
                    for r in 0..t.times.len() {
                        if n.get(r) || tm.get(r) {
                            b.set(r);
                        }
                    }
                    Some(Cow::Owned(b))
                }
            };
            columns.push(WalColumn {
                measurement: Cow::Borrowed(real.as_str()),
                data,
                nulls,
            });
        }
        let mut touched = None;
        if !columns.is_empty() {
            let region = self.region(&db)?;
            let entry = WalEntry::Tablet(WalTablet {
                device: Cow::Borrowed(&t.device),
                times: Cow::Borrowed(&t.times),
                columns,
            });
            self.log_write(&region, &entry, &mut reserved)?;
            touched = Some(region);
        }
        drop(schema_r);
        if let Some(region) = touched {
            self.maybe_flush(&region)?;
        }
        if !failures.is_empty() {
            return Err(measurement_failures(failures));
        }
        match ttl_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn plan_row<'a>(row: &'a model::InsertRow) -> Result<RowPlan<'a>> {
        let measurements: Vec<Cow<str>> = row
            .measurements
            .iter()
            .map(|m| canonical_measurement(m))
            .collect();
        let values: Vec<Option<RowVal>> = match &row.values {
            RowValues::Typed(v) => {
                if v.len() != measurements.len() {
                    return Err(Error::IllegalParameter(format!(
                        "row of {} has {} measurements but {} values",
                        row.device,
                        measurements.len(),
                        v.len()
                    )));
                }
                v.iter()
                    .map(|x| x.as_ref().map(|(t, v)| RowVal::Typed(*t, v)))
                    .collect()
            }
            RowValues::Strings(v) => {
                if v.len() != measurements.len() {
                    return Err(Error::IllegalParameter(format!(
                        "row of {} has {} measurements but {} values",
                        row.device,
                        measurements.len(),
                        v.len()
                    )));
                }
                v.iter()
                    .map(|s| (s != "null" && s != "NULL").then_some(RowVal::Text(s.as_str())))
                    .collect()
            }
        };
        Ok(RowPlan {
            measurements,
            values,
        })
    }

    /// Inserts rows (insertRecord(s), insertStringRecord(s), SQL INSERT). String values
    /// of unknown series get IoTDB's inferred type. Each failing row is reported; a call
    /// of several rows returns `Error::Multiple` with the failing row indexes.
    pub fn insert_rows(&self, rows: &InsertRows) -> Result<()> {
        self.check_writable()?;
        let mut reserved = self.admit_write(crate::memtable::rows_estimate(rows))?;
        if rows.rows.is_empty() {
            return Ok(());
        }
        let mut row_errors: Vec<Option<Error>> = (0..rows.rows.len()).map(|_| None).collect();
        let mut plans: Vec<Option<RowPlan>> = Vec::with_capacity(rows.rows.len());
        for (i, row) in rows.rows.iter().enumerate() {
            match Self::plan_row(row) {
                Ok(p) => plans.push(Some(p)),
                Err(e) => {
                    row_errors[i] = Some(e);
                    plans.push(None);
                }
            }
        }
        let names_of = |p: &RowPlan| -> Vec<String> {
            p.measurements
                .iter()
                .zip(&p.values)
                .filter(|(_, v)| v.is_some())
                .map(|(m, _)| m.to_string())
                .collect()
        };
        let mut schema_r = self.schema.read();
        let mut creation_failures: HashMap<usize, Vec<(String, Error)>> = HashMap::new();
        let any_missing = self.config.auto_create_schema
            && rows.rows.iter().zip(&plans).any(|(row, p)| {
                p.as_ref().is_some_and(|p| {
                    let names = names_of(p);
                    !names.is_empty()
                        && Self::needs_create(&schema_r.lookup_device(&row.device, &names))
                })
            });
        if any_missing {
            drop(schema_r);
            let mut w = self.schema.write();
            let mut ops = Vec::new();
            for (i, (row, p)) in rows.rows.iter().zip(&plans).enumerate() {
                let Some(p) = p else { continue };
                let names = names_of(p);
                if names.is_empty() {
                    continue;
                }
                let look = w.lookup_device(&row.device, &names);
                if !Self::needs_create(&look) || look.blocked.is_some() {
                    continue;
                }
                let mut wanted = Vec::new();
                let mut k = 0;
                for (m, v) in p.measurements.iter().zip(&p.values) {
                    let Some(v) = v else { continue };
                    if matches!(look.measurements[k], Lookup::Missing) {
                        if let Some(ty) = v.creation_type(&self.config) {
                            if !wanted
                                .iter()
                                .any(|(w, _): &(String, TSDataType)| w == m.as_ref())
                            {
                                wanted.push((m.to_string(), ty));
                            }
                        }
                    }
                    k += 1;
                }
                match self.auto_create(&mut w, &row.device, &wanted, row.aligned, &mut ops) {
                    Ok(f) if f.is_empty() => {}
                    Ok(f) => {
                        creation_failures.insert(i, f);
                    }
                    Err(e) => row_errors[i] = Some(e),
                }
            }
            self.log_ops(&w, &ops)?;
            schema_r = RwLockWriteGuard::downgrade(w);
        }

        let now = model::time::now_ms();
        let mut per_region: Vec<(DbMeta, Vec<WalRow>)> = Vec::new();
        for (i, (row, p)) in rows.rows.iter().zip(&plans).enumerate() {
            let Some(p) = p else { continue };
            if row_errors[i].is_some() {
                continue;
            }
            let names = names_of(p);
            if names.is_empty() {
                continue;
            }
            let look = schema_r.lookup_device(&row.device, &names);
            if let Some(b) = &look.blocked {
                row_errors[i] = Some(series_in_device_path(b));
                continue;
            }
            let Some(db) = look.db.clone() else {
                row_errors[i] = Some(Error::DatabaseNotSet(
                    row.device.child(&names[0]).to_string(),
                ));
                continue;
            };
            // written the device's way whatever the row says (IoTDB 2.0), as for tablets
            if let Some(ttl) = db.ttl {
                let bound = now.saturating_sub(ttl);
                if row.time < bound {
                    row_errors[i] = Some(out_of_ttl(row.time, bound));
                    continue;
                }
            }
            let mut failures = creation_failures.remove(&i).unwrap_or_default();
            let mut values = Vec::with_capacity(names.len());
            let mut k = 0;
            for (m, v) in p.measurements.iter().zip(&p.values) {
                let Some(v) = v else { continue };
                let l = &look.measurements[k];
                k += 1;
                if failures.iter().any(|(f, _)| f == m.as_ref()) {
                    continue;
                }
                let (real, registered) = match l {
                    Lookup::Found { name, data_type } => (name, *data_type),
                    Lookup::Missing => {
                        failures.push((
                            m.to_string(),
                            Error::PathNotExist(row.device.child(m).to_string()),
                        ));
                        continue;
                    }
                };
                let converted = match v {
                    RowVal::Typed(_, val) => val.convert_for_insert(registered).ok_or_else(|| {
                        mismatch(
                            &row.device.child(real).to_string(),
                            registered,
                            val.data_type(),
                            row.time,
                            &val.to_iotdb_string(),
                        )
                    }),
                    RowVal::Text(s) => Value::parse_as(s, registered).map_err(|_| {
                        mismatch(
                            &row.device.child(real).to_string(),
                            registered,
                            infer_type(s, &self.config).unwrap_or(TSDataType::Text),
                            row.time,
                            s,
                        )
                    }),
                };
                match converted {
                    Ok(val) => values.push((real.clone(), val)),
                    Err(e) => failures.push((m.to_string(), e)),
                }
            }
            if !values.is_empty() {
                let wr = WalRow {
                    device: row.device.clone(),
                    time: row.time,
                    values,
                };
                match per_region
                    .iter_mut()
                    .find(|(d, _)| d.region_id == db.region_id)
                {
                    Some((_, v)) => v.push(wr),
                    None => per_region.push((db, vec![wr])),
                }
            }
            if !failures.is_empty() {
                row_errors[i] = Some(measurement_failures(failures));
            }
        }
        let mut touched = Vec::new();
        for (db, batch) in per_region {
            let region = self.region(&db)?;
            self.log_write(&region, &WalEntry::Rows(batch), &mut reserved)?;
            touched.push(region);
        }
        drop(schema_r);
        for region in touched {
            self.maybe_flush(&region)?;
        }
        let errors: Vec<(usize, Error)> = row_errors
            .into_iter()
            .enumerate()
            .filter_map(|(i, e)| e.map(|e| (i, e)))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else if rows.rows.len() == 1 {
            Err(errors
                .into_iter()
                .next()
                .map(|(_, e)| e)
                .unwrap_or_else(|| Error::internal("no error")))
        } else {
            Err(Error::Multiple(errors))
        }
    }

    // ----- reads and deletes ---------------------------------------------------------

    fn resolve_for_read(
        &self,
        path: &PartialPath,
    ) -> Result<(crate::schema::Resolved, Option<Arc<DataRegion>>)> {
        let schema = self.schema.read();
        let r = schema
            .resolve(path)
            .ok_or_else(|| Error::PathNotExist(path.to_string()))?;
        let region = self.regions.read().get(&r.region_id).cloned();
        Ok((r, region))
    }

    /// Resolves a series for a read and narrows `range` by its database's TTL.
    fn resolve_range(
        &self,
        path: &PartialPath,
        mut range: TimeRange,
    ) -> Result<(crate::schema::Resolved, Option<Arc<DataRegion>>, TimeRange)> {
        let (r, region) = self.resolve_for_read(path)?;
        if let Some(ttl) = r.ttl {
            range.start = range.start.max(model::time::now_ms().saturating_sub(ttl));
        }
        Ok((r, region, range))
    }

    /// Reads one series (path or `device.alias`) in an inclusive time range: ascending
    /// unique times, newest write wins, deletions and TTL applied.
    pub fn read_series(&self, path: &PartialPath, range: TimeRange) -> Result<SeriesData> {
        let (r, region, range) = self.resolve_range(path, range)?;
        let dt = r.info.schema.data_type;
        Ok(match region {
            Some(region) => region.read_series(&r.device, &r.measurement, dt, range)?,
            None => SeriesData {
                times: Default::default(),
                values: ColumnData::empty(dt),
            },
        })
    }

    /// Reads several series at once, each as [`Engine::read_series`] would; the series of
    /// one aligned device are read from one view of its files and memtables and decoded
    /// together (its time column once per chunk).
    pub fn read_series_many(
        &self,
        paths: &[PartialPath],
        range: TimeRange,
    ) -> Result<Vec<SeriesData>> {
        self.read_series_many_pruned(paths, range, &[])
    }

    /// As [`Engine::read_series_many`], with a filter per path (`prune[i]`, `None` for
    /// none): `prune[i](summary)` is false when the filter holds on no point the summary
    /// describes. Only the rows where every filter may hold are needed: pages of an aligned
    /// device proven to fail one column's filter are left out for all its columns (see
    /// `DataRegion::read_device_series`); other points are read whole (the caller still
    /// applies the filter).
    pub fn read_series_many_pruned(
        &self,
        paths: &[PartialPath],
        range: TimeRange,
        prune: &[Option<MayHold<'_>>],
    ) -> Result<Vec<SeriesData>> {
        let mut out: Vec<Option<SeriesData>> = vec![None; paths.len()];
        // (region, device, range) → (output index, measurement, type)
        type Group = (Arc<DataRegion>, PartialPath, TimeRange);
        type Member = (usize, String, TSDataType);
        let mut groups: Vec<(Group, Vec<Member>)> = Vec::new();
        // (region, device, range) → the time column its non-aligned series share
        let mut shares: Vec<(Arc<DataRegion>, PartialPath, TimeRange, TimeShare)> = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            let (r, region, range) = self.resolve_range(p, range)?;
            let dt = r.info.schema.data_type;
            let Some(region) = region else {
                out[i] = Some(SeriesData {
                    times: Default::default(),
                    values: ColumnData::empty(dt),
                });
                continue;
            };
            if !r.info.aligned {
                // a non-aligned series has its own chunks: the single-series path serves it,
                // skipping the clean chunks and pages its filter rejects
                let filter = prune.get(i).copied().flatten();
                let usable = |c: &ChunkSummary| match filter {
                    Some(may_hold) if !may_hold(c) => SummaryUse::Skip,
                    _ => SummaryUse::Decode,
                };
                // the device's series without a filter decode their shared times once
                let share = match filter {
                    Some(_) => None,
                    None => {
                        let at = shares.iter().position(|(g, d, rg, _)| {
                            Arc::ptr_eq(g, &region) && *d == r.device && *rg == range
                        });
                        let at = at.unwrap_or_else(|| {
                            shares.push((
                                region.clone(),
                                r.device.clone(),
                                range,
                                TimeShare::default(),
                            ));
                            shares.len() - 1
                        });
                        Some(&mut shares[at].3)
                    }
                };
                let read = region.read_series_summarized(
                    &r.device,
                    &r.measurement,
                    dt,
                    range,
                    &usable,
                    share,
                )?;
                out[i] = Some(read.data);
                continue;
            }
            let member = (i, r.measurement, dt);
            match groups
                .iter_mut()
                .find(|((g, d, rg), _)| Arc::ptr_eq(g, &region) && *d == r.device && *rg == range)
            {
                Some((_, members)) => members.push(member),
                None => groups.push(((region, r.device, range), vec![member])),
            }
        }
        for ((region, device, range), members) in groups {
            let columns: Vec<(&str, TSDataType)> =
                members.iter().map(|(_, m, t)| (m.as_str(), *t)).collect();
            let filters: Vec<Option<MayHold<'_>>> = members
                .iter()
                .map(|(i, _, _)| prune.get(*i).copied().flatten())
                .collect();
            let read = region.read_device_series(&device, &columns, range, &filters)?;
            for ((i, _, _), d) in members.iter().zip(read) {
                out[*i] = Some(d);
            }
        }
        out.into_iter()
            .map(|d| d.ok_or_else(|| Error::internal("series left unread")))
            .collect()
    }

    /// Where the points of one series in `range` lie (flushed chunks, memtable buffers), for
    /// reading it in slices of bounded size; deletions and TTL are not applied to the counts.
    pub fn series_spans(&self, path: &PartialPath, range: TimeRange) -> Result<Vec<SeriesSpan>> {
        let (r, region, range) = self.resolve_range(path, range)?;
        match region {
            Some(region) => {
                region.series_spans(&r.device, &r.measurement, r.info.schema.data_type, range)
            }
            None => Ok(Vec::new()),
        }
    }

    /// Reads one series for aggregation (see [`SummarizedSeries`]): flushed chunks that no
    /// other point overlaps and that lie inside the range are offered to `usable`, and come
    /// back as their statistics instead of their points ([`SummaryUse::Use`]), are dropped
    /// unread ([`SummaryUse::Skip`]) or are decoded page by page ([`SummaryUse::Decode`],
    /// each page offered again; a page decoded for [`SummaryUse::Reduce`] comes back as
    /// what [`SummaryPolicy::reduce`] makes of it). Deletions and TTL apply as in
    /// [`Engine::read_series`].
    pub fn read_series_summarized(
        &self,
        path: &PartialPath,
        range: TimeRange,
        usable: &dyn SummaryPolicy,
    ) -> Result<SummarizedSeries> {
        let (r, region, range) = self.resolve_range(path, range)?;
        let dt = r.info.schema.data_type;
        Ok(match region {
            Some(region) => {
                region.read_series_summarized(&r.device, &r.measurement, dt, range, usable, None)?
            }
            None => SummarizedSeries {
                data: SeriesData {
                    times: Default::default(),
                    values: ColumnData::empty(dt),
                },
                summaries: Vec::new(),
            },
        })
    }

    /// The latest point of a series (None when it has no data).
    pub fn last_point(&self, path: &PartialPath) -> Result<Option<(i64, Value)>> {
        let (r, region) = self.resolve_for_read(path)?;
        let Some(region) = region else {
            return Ok(None);
        };
        let last = region.last_point(&r.device, &r.measurement, r.info.schema.data_type)?;
        if let (Some(ttl), Some((t, _))) = (r.ttl, &last) {
            if *t < model::time::now_ms().saturating_sub(ttl) {
                return Ok(None);
            }
        }
        Ok(last)
    }

    /// Deletes the points of every series matching the patterns inside the inclusive
    /// range. Matching nothing is not an error.
    pub fn delete_data(&self, patterns: &[PathPattern], range: TimeRange) -> Result<()> {
        if range.is_empty() {
            return Ok(());
        }
        let schema = self.schema.read();
        let mut seen = std::collections::HashSet::new();
        let mut by_region: Vec<(DbMeta, Vec<(PartialPath, String)>)> = Vec::new();
        for p in patterns {
            for s in schema.series(p) {
                if !seen.insert(s.path.clone()) {
                    continue;
                }
                let Some(db) = schema.database_of(&s.database) else {
                    continue;
                };
                let item = (s.path.parent(), s.path.last().to_string());
                match by_region
                    .iter_mut()
                    .find(|(d, _)| d.region_id == db.region_id)
                {
                    Some((_, v)) => v.push(item),
                    None => by_region.push((db, vec![item])),
                }
            }
        }
        for (db, series) in by_region {
            let region = self.region(&db)?;
            self.log_write(
                &region,
                &WalEntry::Delete { series, range },
                &mut self.memory.empty_charge(),
            )?;
        }
        Ok(())
    }

    /// Flushes every memtable into TsFiles (SQL `FLUSH`) and fsyncs every WAL.
    pub fn flush(&self) -> Result<()> {
        self.flush_memtables()?;
        self.sync_all()
    }

    fn flush_memtables(&self) -> Result<()> {
        self.flush_memtables_unmarked()
            .inspect_err(|e| self.health.fail("flush", e))
    }

    fn flush_memtables_unmarked(&self) -> Result<()> {
        let regions: Vec<_> = self.regions.read().values().cloned().collect();
        for r in regions {
            let schemas = self.schema_map(r.id);
            r.flush(&schemas)?;
        }
        Ok(())
    }

    /// Seals the working memtable of `region` if it is over the size threshold (and no
    /// flush of that region is running) and hands it to the background flusher.
    /// Without a memtable budget, a writer that finds the memtable at twice the threshold
    /// (the flusher is behind) flushes on its own thread, waiting for the running flush
    /// first; with one, writers wait in [`Engine::admit_write`] instead.
    fn maybe_flush(&self, region: &Arc<DataRegion>) -> Result<()> {
        self.maybe_flush_unmarked(region)
            .inspect_err(|e| self.health.fail("flush", e))
    }

    fn maybe_flush_unmarked(&self, region: &Arc<DataRegion>) -> Result<()> {
        let budget = self.memory.limit();
        let mut threshold = self.config.memtable_size_threshold;
        if budget > 0 {
            // each region's working memtable flushes at its share of half the budget, so
            // the working and the sealed ones of all regions together stay near it
            let regions = self.regions.read().len().max(1) as u64;
            threshold = threshold.min(budget / (2 * regions)).max(1);
        }
        let bytes = region.buffered_bytes();
        if budget == 0 && bytes >= threshold.saturating_mul(2) {
            // no budget: writers that outrun the flusher flush on their own thread
            let schemas = self.schema_map(region.id);
            return region.flush_if_over(&schemas, threshold);
        }
        if bytes < threshold || !region.seal_if_idle()? {
            return Ok(());
        }
        self.queue_flush(region.clone())
    }

    /// Schemas (type, encoding, compressor) of every series of a region's database.
    fn schema_map(&self, region_id: u64) -> SchemaMap {
        let schema = self.schema.read();
        let mut map = SchemaMap::default();
        let Some(db) = schema
            .all_databases()
            .into_iter()
            .find(|d| d.region_id == region_id)
        else {
            return map;
        };
        let mut nodes = db.path.nodes().to_vec();
        nodes.push("**".into());
        for s in schema.series(&PathPattern::from_nodes(nodes)) {
            let device = s.path.parent().to_string();
            if s.aligned {
                map.aligned.insert(device.clone());
            }
            map.series
                .insert((device, s.path.last().to_string()), s.schema);
        }
        map
    }

    /// Removes files past the TTL and runs compactions in every region until none is
    /// needed (SQL `MERGE`); returns how many files were removed plus compactions run.
    pub fn compact(&self) -> Result<usize> {
        let policy = self.compaction_policy();
        let regions: Vec<_> = self.regions.read().values().cloned().collect();
        let mut n = 0;
        for r in regions {
            n += r.drop_expired();
            while r.compact_once(&policy)? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Memory counted in the memtable budget (one consistent reading) and bytes of WAL on
    /// disk, summed over all regions.
    pub fn memory_use(&self) -> MemoryUse {
        let regions: Vec<_> = self.regions.read().values().cloned().collect();
        MemoryUse {
            memtable_bytes: self.memory.used(),
            wal_bytes: regions.iter().map(|r| r.wal_bytes()).sum(),
        }
    }

    /// Counters of the TsFile layer, summed over all regions.
    pub fn tsfile_stats(&self) -> TsFileStats {
        let regions: Vec<_> = self.regions.read().values().cloned().collect();
        let mut out = TsFileStats::default();
        for r in regions {
            let (seq, unseq) = r.files().counts();
            out.seq_files += seq;
            out.unseq_files += unseq;
            let st = &r.files().stats;
            out.chunks_skipped += st.chunks_skipped.load(Ordering::Relaxed);
            out.chunks_read += st.chunks_read.load(Ordering::Relaxed);
            out.files_skipped += st.files_skipped.load(Ordering::Relaxed);
        }
        out
    }

    /// Loads TsFiles (V3 or V4; a file or every `*.tsfile` under a folder) into the
    /// engine: missing databases and series are created with the types, encodings and
    /// compressors of the file's chunks, and the points are written like inserts (so they
    /// land in the sequence or unsequence space by IoTDB's rule) and flushed. With
    /// `delete_after` the loaded files (and their `.resource`/`.mods`/`.mods2` sidecars) are removed
    /// once everything is flushed (IoTDB's `ONSUCCESS=DELETE`).
    pub fn load_tsfiles(&self, path: &Path, delete_after: bool) -> Result<LoadSummary> {
        let files = tsfiles_at(path)?;
        if files.is_empty() {
            return Err(Error::IllegalParameter(format!(
                "no TsFile found at {}",
                path.display()
            )));
        }
        let mut summary = LoadSummary::default();
        for f in &files {
            let (devices, points) = crate::load::load_file(self, f)?;
            summary.files += 1;
            summary.devices += devices;
            summary.points += points;
        }
        self.flush()?;
        if delete_after {
            for f in &files {
                for suffix in ["", ".resource", ".mods", ".mods2"] {
                    let mut p = f.as_os_str().to_owned();
                    p.push(suffix);
                    match std::fs::remove_file(PathBuf::from(p)) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => tracing::warn!("cannot remove loaded {}: {e}", f.display()),
                    }
                }
            }
        }
        Ok(summary)
    }

    /// The time partition that holds both `start` and `end` for `device`'s database, if
    /// they fall in one (LOAD copies a chunk only then).
    pub(crate) fn partition_holding(
        &self,
        device: &PartialPath,
        start: i64,
        end: i64,
    ) -> Result<Option<i64>> {
        let Some(db) = self.schema.read().database_of(device) else {
            return Ok(None);
        };
        let region = self.region(&db)?;
        let p = region.partition_of(start);
        Ok((p == region.partition_of(end)).then_some(p))
    }

    /// LOAD's byte-for-byte path: places chunks of an external file unchanged in new
    /// unsequence files (one per region and time partition), newer than everything written
    /// so far, which is flushed first. Each chunk is given with its device, measurement and
    /// the partition that holds it (see [`Engine::partition_holding`]), and read with
    /// `read` when its turn comes (one chunk in memory at a time). Returns the points
    /// placed.
    pub(crate) fn place_chunks(
        &self,
        chunks: Vec<PlacedChunk>,
        read: &dyn Fn(&tsfile::metadata::ChunkMetadata) -> Result<tsfile::reader::Chunk>,
    ) -> Result<u64> {
        if chunks.is_empty() {
            return Ok(0);
        }
        self.check_writable()?;
        self.flush()?;
        // (region, partition) → (device, measurement, chunk) in that order
        let mut groups: BTreeMap<(u64, i64), (Arc<DataRegion>, Vec<_>)> = BTreeMap::new();
        for c in chunks {
            let db = self.schema.read().database_of(&c.device).ok_or_else(|| {
                Error::internal(format!(
                    "LOAD: {} lost its database while loading",
                    c.device
                ))
            })?;
            let region = self.region(&db)?;
            groups
                .entry((region.id, c.partition))
                .or_insert_with(|| (region, Vec::new()))
                .1
                .push((c.device.to_string(), c.measurement, c.meta, c.values));
        }
        let mut points = 0;
        for ((_, partition), (region, mut list)) in groups {
            list.sort_by(|a, b| {
                (&a.0, &a.1, a.2.statistics.start_time).cmp(&(
                    &b.0,
                    &b.1,
                    b.2.statistics.start_time,
                ))
            });
            let list: Vec<_> = list
                .into_iter()
                .map(|(d, _, cm, values)| (d, cm, values))
                .collect();
            points += region
                .ingest_chunks(partition, &list, read)
                .inspect_err(|e| {
                    if matches!(e, Error::Io(_)) {
                        self.health.fail("LOAD", e);
                    }
                })?;
        }
        Ok(points)
    }

    /// Writes a schema snapshot now and truncates the schema log (normally automatic).
    pub fn snapshot_schema(&self) -> Result<()> {
        let schema = self.schema.read();
        self.schema_log.lock().snapshot(&schema)
    }
}

/// What one placed file receives per copied chunk: the device, the chunk (of an aligned
/// device its time chunk) and the value chunks of an aligned device's group (else none).
pub(crate) type PlacedGroup = (
    String,
    tsfile::metadata::ChunkMetadata,
    Vec<tsfile::metadata::ChunkMetadata>,
);

/// A chunk of an external file that LOAD places unchanged (see [`Engine::place_chunks`]).
pub(crate) struct PlacedChunk {
    /// Its device.
    pub(crate) device: PartialPath,
    /// Its series' measurement.
    pub(crate) measurement: String,
    /// The time partition holding all its points.
    pub(crate) partition: i64,
    /// Where it lies in the external file, with its statistics (of an aligned device: its
    /// time chunk, `measurement` empty).
    pub(crate) meta: tsfile::metadata::ChunkMetadata,
    /// Of an aligned device: the value chunks of the time chunk's group, one per column.
    pub(crate) values: Vec<tsfile::metadata::ChunkMetadata>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Err(e) = self.close() {
            tracing::warn!("closing the storage engine: {e}");
        }
    }
}

/// Every `every` until stopped (or the engine is gone), calls `work` on each region;
/// `work` returning false ends the round early.
fn every_region(
    stop: &Syncer,
    regions: &Weak<RegionMap>,
    every: Duration,
    mut work: impl FnMut(&DataRegion) -> bool,
) {
    loop {
        if !stop.wait(every) {
            return;
        }
        let Some(regions) = regions.upgrade() else {
            return;
        };
        let list: Vec<Arc<DataRegion>> = regions.read().values().cloned().collect();
        drop(regions);
        for r in list {
            if !work(&r) {
                break;
            }
        }
    }
}

/// Writes a schema snapshot whenever the log holds records older than `max_age`.
fn run_schema_snapshots(
    stop: &Syncer,
    schema: &RwLock<Schema>,
    log: &Mutex<SchemaLog>,
    max_age: Duration,
) {
    let every = (max_age / 4).clamp(Duration::from_millis(10), Duration::from_secs(60));
    loop {
        if !stop.wait(every) {
            return;
        }
        let schema = schema.read();
        match log.lock().snapshot_if_older(&schema, max_age) {
            Ok(true) => tracing::debug!("periodic schema snapshot written"),
            Ok(false) => {}
            Err(e) => {
                tracing::warn!("periodic schema snapshot failed (the log stays authoritative): {e}")
            }
        }
    }
}

fn run_syncer(syncer: Arc<Syncer>, regions: Weak<RegionMap>, every: Duration) {
    every_region(&syncer, &regions, every, |r| {
        if let Err(e) = r.sync_wal() {
            tracing::warn!("background WAL sync of region {} failed: {e}", r.id);
        }
        true
    });
}

/// Collects `*.tsfile` files under `path` (a file or a folder), sorted.
/// The TsFiles `LOAD` takes from `path`: the file itself, or every `*.tsfile` under the
/// directory (16 levels deep at most), in path order.
pub fn tsfiles_at(path: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    collect_tsfiles(path, &mut files, 0)?;
    Ok(files)
}

fn collect_tsfiles(path: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::IllegalParameter(format!("cannot read {}: {e}", path.display())))?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    if depth > 16 {
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_tsfiles(&p, out, depth + 1)?;
        } else if p.extension().is_some_and(|e| e == "tsfile") {
            out.push(p);
        }
    }
    Ok(())
}

fn run_compactor(
    stop: Arc<Syncer>,
    regions: Weak<RegionMap>,
    every: Duration,
    policy: CompactionPolicy,
    health: Arc<WriteHealth>,
) {
    every_region(&stop, &regions, every, |r| {
        // while writes fail (a full disk) a compaction could only fail too: wait
        if *stop.stop.lock() || health.is_failed() {
            return false;
        }
        r.drop_expired();
        if let Err(e) = r.compact_once(&policy) {
            tracing::warn!("compaction in region {} failed: {e}", r.id);
            // a full disk: wait (writes are refused too) instead of retrying at once
            if crate::fault::is_out_of_space(&e) {
                health.fail(&format!("compaction in region {}", r.id), &e);
                return false;
            }
        }
        true
    });
}

/// A write whose device path runs through an existing series (`INSERT INTO
/// root.sg.d.s(time, x)` where `root.sg.d.s` is a series): IoTDB 2.0 reports the schema
/// engine's 506 wrapped in a 507 metadata error.
fn series_in_device_path(series: &PartialPath) -> Error {
    Error::Metadata(format!("Path [{series}] already exist"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Engine>();
        check::<Arc<Engine>>();
    }

    #[test]
    fn measurement_names_are_canonicalised() {
        assert_eq!(canonical_measurement("s1"), "s1");
        assert!(matches!(canonical_measurement("s1"), Cow::Borrowed(_)));
        assert_eq!(canonical_measurement("a b"), "`a b`");
        assert_eq!(canonical_measurement("`a b`"), "`a b`");
        assert_eq!(canonical_measurement("`abc`"), "abc");
        assert_eq!(canonical_measurement("123"), "`123`");
    }
}
