//! Queries in flight: `SHOW QUERIES`, `KILL QUERY '<id>'` / `KILL ALL QUERIES`, timeouts
//! (the request's `timeout` or the server-wide `query_timeout_threshold`) and client
//! cancellation.
//!
//! A query is registered from the moment it starts until its result stream is finished or
//! dropped (the client closed it, or its session ended). Its [`CancelFlag`] is installed
//! while the query works (see `model::cancel`), so the scan checks it per page, chunk and
//! GROUP BY window, in its read-ahead threads too, and its stream checks it before every
//! batch: a killed or timed-out query stops within a page's work and answers
//! `QUERY_WAS_KILLED` (715) or `INTERNAL_REQUEST_TIME_OUT` (712). Deadlines are watched by
//! one thread per registry (started when a query with a deadline is registered, gone when
//! none is pending), which sets the flag of a query past its deadline.

use crate::result::{text, QueryResult, ResultStream, TableBuilder};
use model::cancel::{self, CancelFlag};
use model::{Error, Result, RowBatch, TSDataType, Value};
use parking_lot::{Condvar, Mutex};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// The data node id this single server reports (as in SHOW CLUSTER).
const DATA_NODE_ID: i32 = 1;

/// One query in flight.
#[derive(Debug)]
pub struct RunningQuery {
    /// IoTDB-style id: `<yyyyMMdd_HHmmss>_<sequence>_<data node id>`.
    pub id: String,
    /// The user who runs it.
    pub user: String,
    /// The statement text (or the RPC that built it).
    pub statement: String,
    /// Start time, epoch milliseconds.
    pub start_ms: i64,
    started: Instant,
    deadline: Option<Instant>,
    flag: Arc<CancelFlag>,
}

impl RunningQuery {
    /// `Err` once the query was killed or ran past its deadline.
    pub fn check(&self) -> Result<()> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.flag.time_out();
        }
        self.flag.check()
    }

    /// Marks the query killed; its scan stops at its next page, chunk or window.
    pub fn kill(&self) {
        self.flag.kill();
    }

    /// The flag its scan checks (see `model::cancel`).
    pub fn cancel_flag(&self) -> &Arc<CancelFlag> {
        &self.flag
    }

    /// Runs `f` (work of this query) with its flag installed on this thread.
    pub fn scoped<R>(&self, f: impl FnOnce() -> R) -> R {
        cancel::scoped(Some(self.flag.clone()), f)
    }

    /// Seconds since the query started.
    pub fn elapsed_secs(&self) -> f32 {
        self.started.elapsed().as_secs_f32()
    }
}

/// Every query in flight on this server.
#[derive(Debug)]
pub struct QueryRegistry {
    seq: AtomicU64,
    default_timeout_ms: AtomicU64,
    queries: Mutex<BTreeMap<String, Arc<RunningQuery>>>,
    watchdog: Arc<Watchdog>,
}

impl Default for QueryRegistry {
    fn default() -> Self {
        QueryRegistry {
            seq: AtomicU64::new(0),
            default_timeout_ms: AtomicU64::new(0),
            queries: Mutex::new(BTreeMap::new()),
            watchdog: Arc::default(),
        }
    }
}

/// Sets the flags of queries that pass their deadline, from a thread of its own that runs
/// while any deadline is pending (and [`WATCHDOG_LINGER`] after the last one).
///
/// Registering a query must stay cheap (it is on every statement's path): a deadline later
/// than the one the thread sleeps until is only listed, not signalled, and the entries of
/// queries that ended are dropped in bulk (when the thread wakes, or when the list doubles).
#[derive(Default)]
struct Watchdog {
    state: Mutex<WatchState>,
    wake: Condvar,
}

/// How long the deadline thread waits for a new deadline before it ends.
const WATCHDOG_LINGER: Duration = Duration::from_secs(2);

#[derive(Default)]
struct WatchState {
    pending: Vec<(Instant, Weak<CancelFlag>)>,
    running: bool,
    /// When the running thread wakes next on its own.
    wakes_at: Option<Instant>,
    /// `pending.len()` after the last sweep of ended queries.
    swept_len: usize,
}

impl std::fmt::Debug for Watchdog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watchdog")
    }
}

impl Watchdog {
    /// Times `flag` out at `deadline`.
    fn watch(self: &Arc<Self>, deadline: Instant, flag: &Arc<CancelFlag>) {
        let mut s = self.state.lock();
        if s.pending.len() >= 64 && s.pending.len() >= 2 * s.swept_len {
            s.pending.retain(|(_, f)| f.strong_count() > 0);
            s.swept_len = s.pending.len();
        }
        s.pending.push((deadline, Arc::downgrade(flag)));
        if s.running {
            if s.wakes_at.is_none_or(|w| deadline < w) {
                self.wake.notify_one();
            }
            return;
        }
        let me = self.clone();
        // without the thread, deadlines are still enforced before every batch
        s.running = std::thread::Builder::new()
            .name("query-deadlines".into())
            .spawn(move || me.run())
            .is_ok();
    }

    fn run(&self) {
        let mut s = self.state.lock();
        loop {
            let now = Instant::now();
            s.pending.retain(|(deadline, flag)| match flag.upgrade() {
                None => false,
                Some(_) if *deadline > now => true,
                Some(flag) => {
                    flag.time_out();
                    false
                }
            });
            s.swept_len = s.pending.len();
            match s.pending.iter().map(|p| p.0).min() {
                Some(next) => {
                    s.wakes_at = Some(next);
                    self.wake.wait_until(&mut s, next);
                }
                None => {
                    s.wakes_at = None;
                    if self.wake.wait_for(&mut s, WATCHDOG_LINGER).timed_out()
                        && s.pending.is_empty()
                    {
                        s.running = false;
                        return;
                    }
                }
            }
        }
    }
}

impl QueryRegistry {
    /// Sets `query_timeout_threshold` (milliseconds; 0 = no limit), used when a request
    /// gives no timeout of its own.
    pub fn set_default_timeout_ms(&self, ms: u64) {
        self.default_timeout_ms.store(ms, Ordering::Relaxed);
    }

    /// A new statement id, IoTDB's `<yyyyMMdd_HHmmss>_<sequence>_<data node id>`: the id
    /// SHOW QUERIES and KILL QUERY use for a query, and the `query_id` of the log lines of
    /// any statement (one id per statement).
    pub fn next_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let now = chrono::Utc::now();
        format!("{}_{n:05}_{DATA_NODE_ID}", now.format("%Y%m%d_%H%M%S"))
    }

    /// Registers a query under `id` (from [`Self::next_id`]); it stays listed until the
    /// returned guard is dropped. `timeout_ms > 0` overrides the server-wide threshold.
    pub fn register(
        self: &Arc<Self>,
        id: String,
        user: &str,
        statement: &str,
        timeout_ms: Option<i64>,
    ) -> QueryGuard {
        let now = chrono::Utc::now();
        let timeout = match timeout_ms {
            Some(t) if t > 0 => t as u64,
            _ => self.default_timeout_ms.load(Ordering::Relaxed),
        };
        let started = Instant::now();
        let deadline = (timeout > 0).then(|| started + Duration::from_millis(timeout));
        let flag = Arc::new(CancelFlag::new(id.clone()));
        if let Some(d) = deadline {
            self.watchdog.watch(d, &flag);
        }
        let q = Arc::new(RunningQuery {
            id: id.clone(),
            user: user.to_string(),
            statement: statement.to_string(),
            start_ms: now.timestamp_millis(),
            started,
            deadline,
            flag,
        });
        self.queries.lock().insert(id, q.clone());
        QueryGuard {
            query: q,
            registry: self.clone(),
        }
    }

    /// The queries `user` may see (all of them for `root`), oldest first.
    pub fn visible(&self, user: &str) -> Vec<Arc<RunningQuery>> {
        let mut v: Vec<Arc<RunningQuery>> = self
            .queries
            .lock()
            .values()
            .filter(|q| user == storage::SUPERUSER || q.user == user)
            .cloned()
            .collect();
        v.sort_by_key(|q| q.started);
        v
    }

    /// `KILL QUERY 'id'` (`Some`) or `KILL ALL QUERIES` (`None`) on behalf of `user`, who may
    /// stop only their own queries unless they are `root`.
    pub fn kill(&self, user: &str, id: Option<&str>) -> Result<()> {
        match id {
            None => {
                for q in self.visible(user) {
                    q.kill();
                }
                Ok(())
            }
            Some(id) => {
                if !well_formed(id) {
                    return Err(Error::MalformedQueryId);
                }
                let q = self
                    .queries
                    .lock()
                    .get(id)
                    .cloned()
                    .ok_or_else(|| Error::NoSuchQuery(id.to_string()))?;
                if user != storage::SUPERUSER && q.user != user {
                    return Err(Error::NoPermission(format!(
                        "No permissions for this operation, query {id} belongs to another user"
                    )));
                }
                q.kill();
                Ok(())
            }
        }
    }

    /// `SHOW QUERIES` for `user`: Time (start), QueryId, DataNodeId, ElapsedTime (s), Statement.
    pub fn show(&self, user: &str, limit: Option<u64>, offset: Option<u64>) -> QueryResult {
        let mut t = TableBuilder::new(&[
            ("QueryId", TSDataType::Text),
            ("DataNodeId", TSDataType::Int32),
            ("ElapsedTime", TSDataType::Float),
            ("Statement", TSDataType::Text),
        ]);
        let skip = offset.unwrap_or(0).min(usize::MAX as u64) as usize;
        let take = limit.unwrap_or(u64::MAX).min(usize::MAX as u64) as usize;
        for q in self.visible(user).into_iter().skip(skip).take(take) {
            t.timed_row(
                q.start_ms,
                vec![
                    text(&q.id),
                    Some(Value::Int32(DATA_NODE_ID)),
                    Some(Value::Float(q.elapsed_secs())),
                    text(&q.statement),
                ],
            );
        }
        t.finish(false)
    }

    /// Number of queries in flight.
    pub fn len(&self) -> usize {
        self.queries.lock().len()
    }

    /// True when no query is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// True for ids of the form `<8 digits>_<6 digits>_<digits>_<digits>`.
fn well_formed(id: &str) -> bool {
    let parts: Vec<&str> = id.split('_').collect();
    parts.len() == 4
        && parts[0].len() == 8
        && parts[1].len() == 6
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Keeps a query listed; dropping it unregisters the query.
#[derive(Debug)]
pub struct QueryGuard {
    query: Arc<RunningQuery>,
    registry: Arc<QueryRegistry>,
}

impl QueryGuard {
    /// The registered query.
    pub fn query(&self) -> &Arc<RunningQuery> {
        &self.query
    }

    /// Wraps a result so that it checks the query before every batch, has its flag
    /// installed while it computes a batch, and unregisters it when the stream is dropped.
    pub fn track(self, mut result: QueryResult) -> QueryResult {
        let inner = std::mem::replace(&mut result.stream, Box::new(crate::EmptyStream));
        result.stream = Box::new(TrackedStream { inner, guard: self });
        result
    }
}

impl Drop for QueryGuard {
    fn drop(&mut self) {
        self.registry.queries.lock().remove(&self.query.id);
    }
}

struct TrackedStream {
    inner: Box<dyn ResultStream>,
    guard: QueryGuard,
}

impl ResultStream for TrackedStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let q = &self.guard.query;
        q.check()?;
        let inner = &mut self.inner;
        q.scoped(|| inner.next_batch(max_rows))
    }

    fn next_block(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let q = &self.guard.query;
        q.check()?;
        let inner = &mut self.inner;
        q.scoped(|| inner.next_block(max_rows))
    }

    fn check(&self) -> Result<()> {
        self.guard.query.check()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::MemStream;

    fn rows(n: usize) -> QueryResult {
        let mut t = TableBuilder::new(&[("v", TSDataType::Int64)]);
        for i in 0..n {
            t.timed_row(i as i64, vec![Some(Value::Int64(i as i64))]);
        }
        let batch = t.into_batch();
        QueryResult {
            columns: vec!["v".into()],
            types: vec![TSDataType::Int64],
            ignore_timestamp: false,
            column_index: vec![0],
            stream: Box::new(MemStream::new(batch)),
        }
    }

    #[test]
    fn kill_and_timeout_stop_the_stream_and_guard_unregisters() {
        let reg = Arc::new(QueryRegistry::default());
        let id = reg.next_id();
        assert!(well_formed(&id), "{id}");
        let g = reg.register(id.clone(), "alice", "select v from root.x", None);
        assert_eq!(g.query().id, id);
        assert_ne!(reg.next_id(), id, "one id per statement");
        let mut r = g.track(rows(10));
        assert_eq!(r.stream.next_batch(2).unwrap().unwrap().len(), 2);
        assert_eq!(reg.visible("alice").len(), 1);
        assert!(reg.visible("bobby").is_empty());
        assert_eq!(reg.visible("root").len(), 1);
        assert!(matches!(
            reg.kill("bobby", Some(&id)),
            Err(Error::NoPermission(_))
        ));
        assert!(matches!(
            reg.kill("root", Some("nope")),
            Err(Error::MalformedQueryId)
        ));
        assert!(matches!(
            reg.kill("root", Some("20200101_000000_99999_1")),
            Err(Error::NoSuchQuery(_))
        ));
        reg.kill("alice", Some(&id)).unwrap();
        assert!(matches!(r.stream.next_batch(2), Err(Error::QueryKilled(_))));
        drop(r);
        assert!(reg.is_empty());

        reg.set_default_timeout_ms(1);
        let mut r = reg
            .register(reg.next_id(), "alice", "q", None)
            .track(rows(10));
        std::thread::sleep(Duration::from_millis(5));
        assert!(matches!(r.stream.next_batch(2), Err(Error::QueryTimeout)));
        // a request timeout overrides the threshold
        let mut r = reg
            .register(reg.next_id(), "alice", "q", Some(60_000))
            .track(rows(10));
        std::thread::sleep(Duration::from_millis(5));
        assert!(r.stream.next_batch(2).is_ok());
    }
}
