//! `storage`: the storage engine of iotdb-rs.
//!
//! It owns the schema tree (databases, time series, aliases, tags/attributes, schema
//! templates), the user store, the write-ahead log, the per-database data regions with
//! their memtables, and reading one series back (merged, deduplicated, with deletions
//! applied). Everything is reached through [`Engine`], which is `Send + Sync` and shared
//! as `Arc<Engine>`.
//!
//! Files under `data_dir`: `system/schema-<gen>.{snap,log}` (schema), `system/users`,
//! `wal/region-<id>/<seq>.wal` (one WAL per database), `lock` (held by the one process using
//! the directory, see [`DirLock`]).
//!
//! It must not know about SQL, Thrift or sessions: callers hand it parsed paths,
//! patterns and columnar batches, and it answers with model types and `model::Error`.

#![warn(missing_docs)]

mod api;
mod budget;
mod checksums;
mod codec;
mod config;
mod dirlock;
mod engine;
#[doc(hidden)]
pub mod fault;
mod fileset;
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod infer;
mod load;
mod memtable;
mod merge;
mod metacache;
mod mods;
mod rebuild;
mod region;
mod salvage;
mod schema;
mod schema_log;
mod schema_ops;
mod stats;
mod timeshare;
mod tsfiles;
mod users;
mod wal;

pub use api::{
    AlterOp, ChunkSummary, DatabaseInfo, DeviceInfo, MayHold, NodeKind, PageReduction, SeriesData,
    SeriesInfo, SeriesSpan, SummarizedSeries, SummaryPolicy, SummaryUse, TimeRange, TimeseriesSpec,
};
pub use config::{memtable_share, StorageConfig, WalMode, DEFAULT_MEMORY_BUDGET_MB};
pub use dirlock::DirLock;
pub use engine::{tsfiles_at, Engine};
pub use load::{load_file_into, LoadSummary, LoadTarget, TsFileStats};
pub use stats::{stats, MemoryUse, StatsSnapshot};
pub use users::{PrivilegeHolder, PrivilegeMap, UserInfo, UserStore, SUPERUSER};
