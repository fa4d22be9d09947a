//! The embedded backend: the `query` executor over a `storage` engine in this process.
//!
//! Sessions on one data directory share one engine (a process-wide registry keyed by the
//! canonical directory); the engine closes — flushing memtables into TsFiles and syncing
//! the WAL — when the last session on it closes.

use crate::{
    closed, Error, Interrupter, Response, Result, ResultSet, RowSource, Session, TimeseriesSpec,
};
use model::schema::TemplateMeasurement;
use model::time::TimeZone;
use model::{InsertRows, InsertTablet, PartialPath, PathPattern, RowBatch, TemplateDef};
use parking_lot::Mutex;
use query::{Executor, Outcome, QueryResult, ResultStream, SessionContext};
use query::{TemplateAnswer, TemplateQuery};
use sql::ast::{MeasurementSpec, Statement};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock, Weak};
use storage::{StorageConfig, WalMode};

/// Rows handed out per batch by embedded results.
const BATCH_ROWS: usize = 65_536;

/// How to open an embedded engine.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Engine settings; `storage.data_dir` is the data directory (the server's format).
    pub storage: StorageConfig,
    /// Logged-in user name (the engine's users file is used as the server uses it).
    pub user: String,
    /// Session time zone.
    pub zone_id: String,
}

impl EmbeddedConfig {
    /// Defaults for data directory `dir`: the server's defaults (WAL mode, and the memtables
    /// bounded by a third of the default memory budget: writers wait for the background
    /// flush only when the memtables hold that much, see [`EmbeddedConfig::memory_budget_mb`]).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        EmbeddedConfig {
            storage: StorageConfig {
                data_dir: dir.into(),
                memtable_budget_bytes: storage::memtable_share(storage::DEFAULT_MEMORY_BUDGET_MB),
                ..StorageConfig::default()
            },
            user: "root".into(),
            zone_id: "UTC".into(),
        }
    }

    /// Sets the WAL mode (`SYNC` loses nothing acknowledged on a crash).
    pub fn wal_mode(mut self, mode: WalMode) -> Self {
        self.storage.wal_mode = mode;
        self
    }

    /// Sets the memory budget in MiB as the server's `memory_budget_mb` does: a third of it
    /// bounds the memtables; writes wait for flushes once they hold that much (and are
    /// refused with 606 after `write_blocked_wait_ms`). 0 = no budget: a writer that finds
    /// its region's memtable at twice `memtable_size_threshold` flushes it on its own thread.
    pub fn memory_budget_mb(mut self, mb: u64) -> Self {
        self.storage.memtable_budget_bytes = storage::memtable_share(mb);
        self
    }
}

fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Executor>>> {
    static ENGINES: OnceLock<Mutex<HashMap<PathBuf, Weak<Executor>>>> = OnceLock::new();
    ENGINES.get_or_init(Default::default)
}

/// Opens (or joins) the engine on `config.storage.data_dir`.
fn shared_executor(config: &EmbeddedConfig) -> Result<Arc<Executor>> {
    let dir = &config.storage.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| {
        Error::from(model::Error::Io(std::io::Error::new(
            e.kind(),
            format!("cannot create data directory {}: {e}", dir.display()),
        )))
    })?;
    let key = dir
        .canonicalize()
        .map_err(|e| Error::from(model::Error::Io(e)))?;
    let mut engines = registry().lock();
    if let Some(exec) = engines.get(&key).and_then(Weak::upgrade) {
        return Ok(exec);
    }
    let engine = storage::Engine::open(config.storage.clone())?;
    let exec = Arc::new(Executor::new(Arc::new(engine)));
    engines.retain(|_, w| w.strong_count() > 0);
    engines.insert(key, Arc::downgrade(&exec));
    Ok(exec)
}

/// A session on an in-process engine.
pub struct EmbeddedSession {
    executor: Option<Arc<Executor>>,
    ctx: SessionContext,
    zone_id: String,
    running: Arc<Running>,
}

/// The query an embedded session runs last (listed in SHOW QUERIES while its result is
/// open), for its [`Interrupter`].
#[derive(Default)]
pub(crate) struct Running {
    current: Mutex<Option<(Weak<Executor>, String, String)>>,
}

impl Running {
    /// Kills the session's query if it is still in flight.
    pub(crate) fn kill(&self) {
        let current = self.current.lock().clone();
        if let Some((exec, user, id)) = current {
            if let Some(exec) = exec.upgrade() {
                // gone already when it finished: nothing to stop
                let _ = exec.queries().kill(&user, Some(&id));
            }
        }
    }
}

impl EmbeddedSession {
    /// Opens a session on the data directory of `config` (creating it when missing).
    pub fn open(config: EmbeddedConfig) -> Result<Self> {
        let zone = TimeZone::parse(&config.zone_id)?;
        let executor = shared_executor(&config)?;
        Ok(EmbeddedSession {
            executor: Some(executor),
            ctx: SessionContext::new(config.user, zone),
            zone_id: config.zone_id,
            running: Arc::default(),
        })
    }

    /// A handle that stops this session's running query from another thread.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter::embedded(self.running.clone())
    }

    fn exec(&self) -> Result<&Arc<Executor>> {
        self.executor.as_ref().ok_or_else(closed)
    }

    fn run(&self, stmt: Statement) -> Result<Outcome> {
        Ok(self.exec()?.execute(stmt, &self.ctx)?)
    }

    fn done(&self, stmt: Statement) -> Result<()> {
        self.run(stmt).map(|_| ())
    }
}

fn patterns(paths: &[String]) -> Result<Vec<PathPattern>> {
    Ok(paths
        .iter()
        .map(|p| PathPattern::parse(p))
        .collect::<model::Result<_>>()?)
}

fn spec(s: &TimeseriesSpec) -> MeasurementSpec {
    MeasurementSpec {
        alias: s.alias.clone().filter(|a| !a.is_empty()),
        data_type: s.data_type,
        encoding: Some(s.encoding),
        compressor: Some(s.compressor),
        props: s
            .props
            .iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v.clone()))
            .collect(),
        tags: s.tags.clone(),
        attributes: s.attributes.clone(),
    }
}

/// `Ok` when nothing failed; the one error, or a `Multiple` error of every failed item.
fn all_done(mut failures: Vec<(usize, model::Error)>) -> Result<()> {
    match failures.len() {
        0 => Ok(()),
        1 => Err(failures.remove(0).1.into()),
        _ => Err(model::Error::Multiple(failures).into()),
    }
}

/// Rows of an executor result, pulled in batches.
struct EmbeddedRows {
    stream: Option<Box<dyn ResultStream>>,
}

impl RowSource for EmbeddedRows {
    fn next_batch(&mut self) -> Result<Option<RowBatch>> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(None);
        };
        loop {
            match stream.next_batch(BATCH_ROWS)? {
                Some(b) if b.is_empty() => continue,
                Some(b) => return Ok(Some(b)),
                None => {
                    self.stream = None;
                    return Ok(None);
                }
            }
        }
    }

    fn close(&mut self) -> Result<()> {
        self.stream = None;
        Ok(())
    }

    /// Every remaining row, pulled in blocks (`ResultStream::next_block`): a decoded slice
    /// comes whole, so a result that is one slice moves into the batch without a copy.
    fn collect_batch(&mut self) -> Result<RowBatch> {
        let mut all = Vec::new();
        if let Some(stream) = self.stream.as_mut() {
            while let Some(b) = stream.next_block(BATCH_ROWS)? {
                if !b.is_empty() {
                    all.push(b);
                }
            }
        }
        self.stream = None;
        Ok(query::result::concat_batches(all))
    }
}

fn result_set(r: QueryResult) -> ResultSet {
    ResultSet::new(
        r.columns,
        r.types,
        r.ignore_timestamp,
        r.column_index,
        Box::new(EmbeddedRows {
            stream: Some(r.stream),
        }),
    )
}

impl Session for EmbeddedSession {
    fn execute(&mut self, sql: &str) -> Result<Response> {
        let exec = self.exec()?;
        let stmt = sql::parse(sql)?;
        let outcome = if matches!(stmt, Statement::Query(_)) {
            // a query is listed under an id of its own, by which the interrupter stops it
            let id = exec.queries().next_id();
            *self.running.current.lock() =
                Some((Arc::downgrade(exec), self.ctx.user.clone(), id.clone()));
            exec.execute_tracked(stmt, id, sql, None, &self.ctx)?
        } else {
            exec.execute(stmt, &self.ctx)?
        };
        Ok(match outcome {
            Outcome::Done => Response::Done,
            Outcome::Rows(r) => Response::Rows(result_set(r)),
        })
    }

    fn raw_data_query(&mut self, paths: &[String], start: i64, end: i64) -> Result<ResultSet> {
        let r = self.exec()?.raw_data_query(paths, start, end, &self.ctx)?;
        Ok(result_set(r))
    }

    fn last_data_query(&mut self, paths: &[String], min_time: i64) -> Result<ResultSet> {
        let r = self.exec()?.last_data_query(paths, min_time, &self.ctx)?;
        Ok(result_set(r))
    }

    fn insert_tablets(&mut self, tablets: Vec<InsertTablet>) -> Result<()> {
        let exec = self.exec()?;
        let mut failures = Vec::new();
        for (i, t) in tablets.into_iter().enumerate() {
            if t.measurements.is_empty() {
                continue;
            }
            if let Err(e) = exec.execute(Statement::InsertTablet(t), &self.ctx) {
                failures.push((i, e));
            }
        }
        all_done(failures)
    }

    fn insert_rows(&mut self, rows: InsertRows) -> Result<()> {
        if rows.rows.is_empty() {
            return Ok(());
        }
        self.done(Statement::InsertRows(rows))
    }

    fn create_database(&mut self, path: &str) -> Result<()> {
        self.done(Statement::CreateDatabase {
            path: PathPattern::parse(path)?,
            attributes: Default::default(),
        })
    }

    fn delete_databases(&mut self, paths: &[String]) -> Result<()> {
        self.done(Statement::DeleteDatabases {
            paths: patterns(paths)?,
        })
    }

    fn create_timeseries(&mut self, specs: &[TimeseriesSpec]) -> Result<()> {
        let exec = self.exec()?;
        let mut failures = Vec::new();
        for (i, s) in specs.iter().enumerate() {
            let (path, spec) = (s.path.clone(), spec(s));
            let r = exec.execute(Statement::CreateTimeseries { path, spec }, &self.ctx);
            if let Err(e) = r {
                failures.push((i, e));
            }
        }
        all_done(failures)
    }

    fn create_aligned_timeseries(&mut self, device: &str, specs: &[TimeseriesSpec]) -> Result<()> {
        let measurements = specs
            .iter()
            .map(|s| (s.path.last().to_string(), spec(s)))
            .collect();
        self.done(Statement::CreateAlignedTimeseries {
            device: PartialPath::parse(device)?,
            measurements,
        })
    }

    fn delete_timeseries(&mut self, paths: &[String]) -> Result<()> {
        self.done(Statement::DeleteTimeseries {
            paths: patterns(paths)?,
        })
    }

    fn delete_data(&mut self, paths: &[String], start: i64, end: i64) -> Result<()> {
        self.done(Statement::DeleteDataRange {
            paths: patterns(paths)?,
            start,
            end,
        })
    }

    fn create_template(&mut self, template: &TemplateDef) -> Result<()> {
        self.done(Statement::CreateTemplateDef(template.clone()))
    }

    fn append_template(&mut self, name: &str, measurements: &[TemplateMeasurement]) -> Result<()> {
        self.done(Statement::AppendTemplate {
            name: name.to_string(),
            measurements: measurements.to_vec(),
        })
    }

    fn prune_template(&mut self, name: &str, path: &str) -> Result<()> {
        self.done(Statement::PruneTemplate {
            name: name.to_string(),
            path: path.to_string(),
        })
    }

    fn set_template(&mut self, name: &str, prefix: &str) -> Result<()> {
        self.done(Statement::SetSchemaTemplate {
            name: name.to_string(),
            path: PathPattern::parse(prefix)?,
        })
    }

    fn unset_template(&mut self, name: &str, prefix: &str) -> Result<()> {
        self.done(Statement::UnsetSchemaTemplate {
            name: name.to_string(),
            path: PathPattern::parse(prefix)?,
        })
    }

    fn drop_template(&mut self, name: &str) -> Result<()> {
        self.done(Statement::DropSchemaTemplate {
            name: name.to_string(),
        })
    }

    fn activate_template(&mut self, device_paths: &[String]) -> Result<()> {
        for p in device_paths {
            self.done(Statement::ActivateSchemaTemplate {
                path: PathPattern::parse(p)?,
            })?;
        }
        Ok(())
    }

    fn template_query(
        &mut self,
        query: TemplateQuery,
        name: &str,
        path: &str,
    ) -> Result<TemplateAnswer> {
        Ok(self
            .exec()?
            .template_query(query, name.to_string(), path.to_string(), &self.ctx)?)
    }

    fn time_zone(&self) -> String {
        self.zone_id.clone()
    }

    fn set_time_zone(&mut self, zone: &str) -> Result<()> {
        self.ctx.zone = TimeZone::parse(zone)?;
        self.zone_id = zone.to_string();
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let Some(exec) = self.executor.take() else {
            return Ok(());
        };
        // the last session on this engine closes it (flush + WAL sync) and reports errors
        if let Some(exec) = Arc::into_inner(exec) {
            exec.engine().close()?;
        }
        Ok(())
    }

    fn is_open(&self) -> bool {
        self.executor.is_some()
    }
}

impl Drop for EmbeddedSession {
    fn drop(&mut self) {
        let _ = Session::close(self);
    }
}
