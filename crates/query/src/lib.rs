//! `query`: the one statement executor of iotdb-rs.
//!
//! It owns turning a parsed statement (`sql::ast::Statement`) into effects on the
//! storage engine and into result sets: wildcard expansion, expression typing and
//! evaluation, the time join, filters, aggregation, LIMIT/OFFSET/SLIMIT/SOFFSET,
//! ORDER BY TIME, SHOW/COUNT answers with IoTDB 1.0's headers, and value rendering.
//! The Thrift server, the embedded Python session and the CLI all call only this crate.
//!
//! It must not know about Thrift, sessions' wire state or file formats, and it must not
//! parse SQL itself (the `sql` crate does) or reach into storage internals.

pub mod agg;
pub mod expr;
pub mod join;
pub mod result;

pub use result::{EmptyStream, MemStream, Outcome, QueryResult, ResultStream, TableBuilder};

use model::time::TimeZone;
use model::{Error, Result};
use std::sync::Arc;

/// Per-session state a statement runs with.
#[derive(Debug, Clone, Default)]
pub struct SessionContext {
    /// The logged-in user.
    pub user: String,
    /// The session time zone (datetime literals without an offset are read in it).
    pub zone: TimeZone,
}

impl SessionContext {
    /// A context for `user` in `zone`.
    pub fn new(user: impl Into<String>, zone: TimeZone) -> Self {
        SessionContext {
            user: user.into(),
            zone,
        }
    }
}

/// The statement executor; `Send + Sync`, shared by all sessions.
pub struct Executor {
    engine: Arc<storage::Engine>,
}

impl Executor {
    /// An executor over `engine`.
    pub fn new(engine: Arc<storage::Engine>) -> Self {
        Executor { engine }
    }

    /// The storage engine.
    pub fn engine(&self) -> &Arc<storage::Engine> {
        &self.engine
    }

    /// Parses and executes one SQL statement.
    pub fn execute_sql(&self, _sql: &str, _ctx: &SessionContext) -> Result<Outcome> {
        Err(Error::Unsupported(
            "SQL statements are not supported yet".into(),
        ))
    }
}
