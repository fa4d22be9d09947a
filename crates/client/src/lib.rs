//! `client`: the session API of iotdb-rs, one interface over two backends.
//!
//! * [`remote::RemoteSession`] talks to a server over IoTDB's client protocol (our Thrift
//!   IDL in `protocol`, framed transport, binary or compact protocol), pages query results
//!   with `fetchResultsV2`, and fails over between several node URLs.
//! * [`embedded::EmbeddedSession`] runs the same operations in-process on the `query`
//!   executor over a `storage` engine: no socket, no Thrift, no serialization.
//!
//! Both implement [`Session`]; results are [`ResultSet`]s of `model::RowBatch`es. The
//! Python package and the CLI sit on top of this crate; nothing here knows Python, and
//! nothing here implements SQL or storage rules (the executor does).

#![warn(missing_docs)]

pub mod embedded;
pub mod remote;

pub use embedded::{EmbeddedConfig, EmbeddedSession};
pub use query::{TemplateAnswer, TemplateQuery};
pub use remote::{Interrupter, RemoteConfig, RemoteSession};
/// A series to create (`path` is the full series path, also for aligned series).
pub use storage::TimeseriesSpec;

use model::schema::TemplateMeasurement;
use model::time::TimeZone;
use model::TemplateDef;
use model::{InsertRows, InsertTablet, RowBatch, TSDataType};

/// What went wrong in a session call.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// The server cannot be reached, the connection broke, or the session is closed
    /// (the official clients' `IoTDBConnectionException`).
    #[error("{0}")]
    Connection(String),
    /// The statement or request failed with an IoTDB status code (the official clients'
    /// `StatementExecutionException`).
    #[error("{code}: {message}")]
    Status {
        /// IoTDB status code (e.g. 508 for a path that does not exist).
        code: i32,
        /// The server's message.
        message: String,
    },
}

impl From<model::Error> for Error {
    fn from(e: model::Error) -> Self {
        Error::Status {
            code: e.status_code().code(),
            message: e.to_string(),
        }
    }
}

/// Result of a session call.
pub type Result<T> = std::result::Result<T, Error>;

/// A source of result rows behind a [`ResultSet`].
pub trait RowSource: Send {
    /// The next batch of rows (never empty), or `None` when no rows remain.
    fn next_batch(&mut self) -> Result<Option<RowBatch>>;
    /// Releases the query (server side for remote results). Idempotent.
    fn close(&mut self) -> Result<()>;
    /// Rows per later fetch (remote results; embedded results ignore it).
    fn set_fetch_size(&mut self, _rows: i32) {}
    /// Every remaining row in one batch (each value copied once into buffers allocated at
    /// their final size). Remote results override it to fetch in large pages, requests
    /// ahead of the answers, and to decode each page straight into the batch.
    fn collect_batch(&mut self) -> Result<RowBatch> {
        let mut all = Vec::new();
        while let Some(b) = self.next_batch()? {
            all.push(b);
        }
        Ok(query::result::concat_batches(all))
    }
}

/// A query result: the header and a stream of row batches.
pub struct ResultSet {
    /// Display column names, without `Time`; duplicates allowed.
    pub columns: Vec<String>,
    /// Logical data type per display column.
    pub types: Vec<TSDataType>,
    /// True when rows carry no meaningful time (SHOW/COUNT, aggregates).
    pub ignore_timestamp: bool,
    /// `columns[i]` is data column `column_index[i]` of every batch.
    pub column_index: Vec<usize>,
    source: Box<dyn RowSource>,
}

impl ResultSet {
    /// A result over `source`.
    pub fn new(
        columns: Vec<String>,
        types: Vec<TSDataType>,
        ignore_timestamp: bool,
        column_index: Vec<usize>,
        source: Box<dyn RowSource>,
    ) -> Self {
        ResultSet {
            columns,
            types,
            ignore_timestamp,
            column_index,
            source,
        }
    }

    /// The next batch of rows, or `None` at the end.
    pub fn next_batch(&mut self) -> Result<Option<RowBatch>> {
        self.source.next_batch()
    }

    /// Releases the query. Idempotent.
    pub fn close(&mut self) -> Result<()> {
        self.source.close()
    }

    /// Rows per later fetch from the server (ignored by embedded results).
    pub fn set_fetch_size(&mut self, rows: i32) {
        if rows > 0 {
            self.source.set_fetch_size(rows);
        }
    }

    /// Reads every remaining row into one batch (data columns as in the batches).
    pub fn collect_rows(&mut self) -> Result<RowBatch> {
        self.source.collect_batch()
    }
}

/// What executing one SQL statement returned.
pub enum Response {
    /// The statement ran and returns no rows.
    Done,
    /// The statement returns rows.
    Rows(ResultSet),
}

/// One session, remote or embedded. Methods mirror the session RPCs of IoTDB's
/// `IClientRPCService`; their semantics are the executor's.
pub trait Session: Send {
    /// Runs one SQL statement.
    fn execute(&mut self, sql: &str) -> Result<Response>;
    /// `SELECT paths WHERE time >= start AND time < end` for full series paths.
    fn raw_data_query(&mut self, paths: &[String], start: i64, end: i64) -> Result<ResultSet>;
    /// `SELECT LAST paths WHERE time >= min_time` for full series paths.
    fn last_data_query(&mut self, paths: &[String], min_time: i64) -> Result<ResultSet>;
    /// Inserts tablets (each one device, columnar).
    fn insert_tablets(&mut self, tablets: Vec<InsertTablet>) -> Result<()>;
    /// Inserts rows (typed values, or strings whose types are inferred).
    fn insert_rows(&mut self, rows: InsertRows) -> Result<()>;
    /// Creates a database.
    fn create_database(&mut self, path: &str) -> Result<()>;
    /// Deletes databases.
    fn delete_databases(&mut self, paths: &[String]) -> Result<()>;
    /// Creates non-aligned series.
    fn create_timeseries(&mut self, specs: &[TimeseriesSpec]) -> Result<()>;
    /// Creates aligned series under `device` (each `spec.path` is `device.measurement`).
    fn create_aligned_timeseries(&mut self, device: &str, specs: &[TimeseriesSpec]) -> Result<()>;
    /// Deletes series (patterns allowed).
    fn delete_timeseries(&mut self, paths: &[String]) -> Result<()>;
    /// Deletes the points of `paths` with `start <= time <= end`.
    fn delete_data(&mut self, paths: &[String], start: i64, end: i64) -> Result<()>;
    /// Creates a schema template.
    fn create_template(&mut self, template: &TemplateDef) -> Result<()>;
    /// Adds measurements to a template.
    fn append_template(&mut self, name: &str, measurements: &[TemplateMeasurement]) -> Result<()>;
    /// Removes a node from a template.
    fn prune_template(&mut self, name: &str, path: &str) -> Result<()>;
    /// Sets a template on a path prefix.
    fn set_template(&mut self, name: &str, prefix: &str) -> Result<()>;
    /// Unsets a template from a path prefix.
    fn unset_template(&mut self, name: &str, prefix: &str) -> Result<()>;
    /// Drops a template.
    fn drop_template(&mut self, name: &str) -> Result<()>;
    /// Creates the series of the set template on each device path.
    fn activate_template(&mut self, device_paths: &[String]) -> Result<()>;
    /// Asks a schema-template question.
    fn template_query(
        &mut self,
        query: TemplateQuery,
        name: &str,
        path: &str,
    ) -> Result<TemplateAnswer>;
    /// The session time zone as given (`UTC+8`, `Asia/Shanghai` …).
    fn time_zone(&self) -> String;
    /// Changes the session time zone.
    fn set_time_zone(&mut self, zone: &str) -> Result<()>;
    /// Closes the session (remote: the server session; embedded: flushes when the last
    /// session on the engine closes). Idempotent.
    fn close(&mut self) -> Result<()>;
    /// False once closed.
    fn is_open(&self) -> bool;
}

/// Checks a time zone id the way sessions accept it.
pub fn check_zone(zone: &str) -> Result<TimeZone> {
    Ok(TimeZone::parse(zone)?)
}

fn closed() -> Error {
    Error::Connection("the session is closed".into())
}
