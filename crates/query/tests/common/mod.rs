//! Helpers shared by the query crate's integration tests.
#![allow(dead_code)]

use model::time::TimeZone;
use model::Value;
use query::{Executor, Outcome, SessionContext};
use std::path::Path;
use std::sync::Arc;
use storage::{Engine, StorageConfig, WalMode};

/// An engine on `dir` without a WAL (tests flush or read memtables directly).
pub fn engine_without_wal(dir: &Path) -> Arc<Engine> {
    Arc::new(
        Engine::open(StorageConfig {
            wal_mode: WalMode::Disable,
            ..StorageConfig::with_data_dir(dir)
        })
        .unwrap(),
    )
}

/// The rows of a query (time, one value per column), fetched `step` rows at a time.
pub fn query_rows(ex: &Executor, sql: &str, step: usize) -> Vec<(i64, Vec<Option<Value>>)> {
    let ctx = SessionContext::new("root", TimeZone::default());
    let Outcome::Rows(mut r) = ex.execute_sql(sql, &ctx).unwrap() else {
        panic!("{sql}: no rows")
    };
    let mut rows = Vec::new();
    while let Some(b) = r.stream.next_batch(step).unwrap() {
        for i in 0..b.len() {
            rows.push((b.times[i], b.columns.iter().map(|c| c.value(i)).collect()));
        }
    }
    rows
}
