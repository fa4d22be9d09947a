//! Sessions and the queries they have in flight.
//!
//! A session belongs to one connection (as in IoTDB, where it is thread-bound); when the
//! connection drops, [`SessionManager::close`] frees it and its queries.

use model::time::TimeZone;
use model::{Error, Result, TSDataType};
use parking_lot::Mutex;
use query::{QueryResult, ResultStream};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// A query whose rows are being paged out to the client.
pub struct OpenQuery {
    /// The statement id (SHOW QUERIES, KILL QUERY, the `query_id` of its log lines).
    pub statement_id: String,
    /// Display column names (no Time).
    pub columns: Vec<String>,
    /// Type per display column.
    pub types: Vec<TSDataType>,
    /// Data column per display column.
    pub column_index: Vec<usize>,
    /// True if results carry no time column.
    pub ignore_timestamp: bool,
    /// Remaining rows.
    pub stream: Box<dyn ResultStream>,
    /// Set once the stream returned `None`.
    pub finished: bool,
    /// Bytes of one row as the last page measured them (sizes later pages).
    pub row_bytes: Option<usize>,
    /// A batch the last page took only the first rows of, and where the next page starts
    /// in it (see `crate::codec::next_parts`).
    pub held: Option<(std::sync::Arc<model::RowBatch>, usize)>,
}

impl OpenQuery {
    /// Wraps an executor result of statement `statement_id`.
    pub fn new(result: QueryResult, statement_id: String) -> Self {
        OpenQuery {
            statement_id,
            columns: result.columns,
            types: result.types,
            column_index: result.column_index,
            ignore_timestamp: result.ignore_timestamp,
            stream: result.stream,
            finished: false,
            row_bytes: None,
            held: None,
        }
    }

    /// Types of the distinct data columns, in data-column order.
    pub fn data_types(&self) -> Vec<TSDataType> {
        let n = self.column_index.iter().map(|i| i + 1).max().unwrap_or(0);
        let mut types = vec![TSDataType::Text; n];
        for (display, &data) in self.column_index.iter().enumerate() {
            if let Some(t) = self.types.get(display) {
                types[data] = *t;
            }
        }
        types
    }
}

/// One logged-in session.
pub struct Session {
    /// Session id sent to the client.
    pub id: i64,
    /// Logged-in user.
    pub user: String,
    /// Client-declared version (`V_0_13`, `V_1_0` …).
    pub client_version: String,
    zone: Mutex<(String, TimeZone)>,
    queries: Mutex<HashMap<i64, Arc<Mutex<OpenQuery>>>>,
    /// Ids of the queries most recently finished or closed (at most [`RECENTLY_CLOSED`]):
    /// a client may fetch once more after the last batch and gets an empty answer, while
    /// an id never issued to this session is an error.
    closed: Mutex<std::collections::VecDeque<i64>>,
}

/// How many finished query ids a session remembers.
const RECENTLY_CLOSED: usize = 64;

impl Session {
    /// The session's time zone as the client sent it, and parsed.
    pub fn zone(&self) -> (String, TimeZone) {
        self.zone.lock().clone()
    }

    /// Changes the session time zone (validated).
    pub fn set_zone(&self, id: &str) -> Result<()> {
        let tz = TimeZone::parse(id)?;
        *self.zone.lock() = (id.to_string(), tz);
        Ok(())
    }

    /// Registers an open query and returns its id.
    pub fn add_query(&self, id: i64, q: OpenQuery) -> Arc<Mutex<OpenQuery>> {
        let q = Arc::new(Mutex::new(q));
        self.queries.lock().insert(id, q.clone());
        q
    }

    /// The open query with this id.
    pub fn query(&self, id: i64) -> Option<Arc<Mutex<OpenQuery>>> {
        self.queries.lock().get(&id).cloned()
    }

    /// Frees a query (no error if unknown).
    pub fn close_query(&self, id: i64) {
        if self.queries.lock().remove(&id).is_some() {
            self.finished_query(id);
        }
    }

    /// Notes that query `id` of this session has sent all its rows (see
    /// [`Session::recently_closed`]).
    pub fn finished_query(&self, id: i64) {
        let mut closed = self.closed.lock();
        if closed.len() == RECENTLY_CLOSED {
            closed.pop_front();
        }
        closed.push_back(id);
    }

    /// True if the query `id` of this session finished or was closed recently.
    pub fn recently_closed(&self, id: i64) -> bool {
        self.closed.lock().contains(&id)
    }

    /// Number of queries in flight.
    pub fn open_queries(&self) -> usize {
        self.queries.lock().len()
    }
}

/// All sessions of the server.
#[derive(Default)]
pub struct SessionManager {
    next_session: AtomicI64,
    next_query: AtomicI64,
    sessions: Mutex<HashMap<i64, Arc<Session>>>,
}

impl SessionManager {
    /// Creates a session for an authenticated user.
    pub fn open(&self, user: &str, zone_id: &str, client_version: &str) -> Result<Arc<Session>> {
        let zone = TimeZone::parse(zone_id)
            .or_else(|_| TimeZone::parse("UTC"))
            .map_err(|e| Error::TimeZone(e.to_string()))?;
        let id = self.next_session.fetch_add(1, Ordering::Relaxed) + 1;
        let s = Arc::new(Session {
            id,
            user: user.to_string(),
            client_version: client_version.to_string(),
            zone: Mutex::new((zone_id.to_string(), zone)),
            queries: Mutex::new(HashMap::new()),
            closed: Mutex::new(Default::default()),
        });
        self.sessions.lock().insert(id, s.clone());
        Ok(s)
    }

    /// A new query id, unique across sessions.
    pub fn next_query_id(&self) -> i64 {
        self.next_query.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Closes a session and frees its queries.
    pub fn close(&self, id: i64) -> bool {
        self.sessions.lock().remove(&id).is_some()
    }

    /// Number of open sessions.
    pub fn len(&self) -> usize {
        self.sessions.lock().len()
    }

    /// True when no session is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
