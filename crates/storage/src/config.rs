//! Engine configuration with IoTDB 1.0 defaults.

use model::{CompressionType, TSDataType};
use std::path::PathBuf;

/// Write-ahead-log durability mode (IoTDB's `wal_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WalMode {
    /// No WAL: data in memtables is lost on crash.
    Disable,
    /// WAL written on every insert, fsynced in the background at least every
    /// `wal_async_flush_ms`.
    #[default]
    Async,
    /// WAL fsynced before every insert returns.
    Sync,
}

impl WalMode {
    /// Parses IoTDB's names (`DISABLE`, `ASYNC`, `SYNC`), case-insensitively.
    pub fn parse(s: &str) -> Option<WalMode> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DISABLE" => Some(WalMode::Disable),
            "ASYNC" => Some(WalMode::Async),
            "SYNC" => Some(WalMode::Sync),
            _ => None,
        }
    }
}

/// Storage engine configuration; [`Default`] gives IoTDB 1.0's defaults.
#[derive(Debug, Clone)]
pub struct StorageConfig {
    /// Root directory of all engine files (`wal/`, `system/`, `sequence/`, `unsequence/`).
    pub data_dir: PathBuf,
    /// WAL durability mode.
    pub wal_mode: WalMode,
    /// In `Async` mode, the WAL is fsynced at least this often (milliseconds).
    pub wal_async_flush_ms: u64,
    /// Create databases and series on insert when they do not exist.
    pub auto_create_schema: bool,
    /// Level of the auto-created database: 1 means `root.a` for `root.a.b.c`.
    pub default_storage_group_level: usize,
    /// Type inferred for `true`/`false` text.
    pub boolean_string_infer_type: TSDataType,
    /// Type inferred for integer text that fits a FLOAT exactly.
    pub integer_string_infer_type: TSDataType,
    /// Type inferred for integer text that does not fit a FLOAT exactly.
    pub long_string_infer_type: TSDataType,
    /// Type inferred for decimal text.
    pub floating_string_infer_type: TSDataType,
    /// Type inferred for `NaN`.
    pub nan_string_infer_type: TSDataType,
    /// Compressor of auto-created series and series created without one.
    pub default_compressor: CompressionType,
    /// Time partition interval of new databases (milliseconds).
    pub default_time_partition_interval_ms: i64,
    /// A region's working memtable is flushed into TsFiles once its estimated size
    /// (16 bytes per point plus TEXT/STRING/BLOB payloads) reaches this many bytes (IoTDB's
    /// `memtable_size_threshold`).
    pub memtable_size_threshold: u64,
    /// Most bytes all memtables together (working and being flushed, estimated as for
    /// `memtable_size_threshold`) may hold; 0 = no limit. Each region then flushes at the
    /// smaller of its threshold and a share of this budget, and a write that finds the
    /// budget used up waits for flushes to free it.
    pub memtable_budget_bytes: u64,
    /// How long a write waits for memtable memory before it is refused with status 606
    /// (IoTDB's `max_waiting_time_when_insert_blocked`, milliseconds).
    pub write_blocked_wait_ms: u64,
    /// Run compaction in the background.
    pub enable_compaction: bool,
    /// How often the background compaction looks for work (IoTDB's
    /// `compaction_schedule_interval_in_ms`).
    pub compaction_interval_ms: u64,
    /// A time partition with this many sequence files gets them merged (IoTDB's
    /// `max_inner_compaction_candidate_file_num`); unsequence files are merged into the
    /// sequence space as soon as a partition has two files.
    pub compaction_max_files: usize,
    /// Check every chunk read from a TsFile against the checksums written beside it
    /// (`<file>.checksums`); a mismatch is a corrupted-file error. Off trades that safety
    /// for a little read speed. Files without checksums are read unchecked either way.
    pub verify_chunk_checksums: bool,
    /// A schema snapshot is written once the schema log holds records older than this
    /// (milliseconds; 0 = only when the log grows past its size limit), so that a start-up
    /// replays at most this much schema history (IoTDB's
    /// `schema_region_ratis_periodic_snapshot_interval`, in seconds there).
    pub schema_snapshot_interval_ms: u64,
}

/// Default memory budget of a server or an embedded engine in MiB (the server's
/// `memory_budget_mb`); a third of it bounds the memtables ([`memtable_share`]).
pub const DEFAULT_MEMORY_BUDGET_MB: u64 = 2048;

/// The part of a memory budget (MiB) given to memtables, in bytes: a third (the value for
/// [`StorageConfig::memtable_budget_bytes`]; 0 = no limit).
pub fn memtable_share(budget_mb: u64) -> u64 {
    (budget_mb << 20) / 3
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            data_dir: PathBuf::from("data"),
            wal_mode: WalMode::Async,
            wal_async_flush_ms: 10,
            auto_create_schema: true,
            default_storage_group_level: 1,
            boolean_string_infer_type: TSDataType::Boolean,
            integer_string_infer_type: TSDataType::Float,
            long_string_infer_type: TSDataType::Double,
            floating_string_infer_type: TSDataType::Float,
            nan_string_infer_type: TSDataType::Double,
            default_compressor: CompressionType::Snappy,
            default_time_partition_interval_ms: 604_800_000,
            memtable_size_threshold: 64 << 20,
            memtable_budget_bytes: 0,
            write_blocked_wait_ms: 10_000,
            enable_compaction: true,
            compaction_interval_ms: 60_000,
            compaction_max_files: 10,
            verify_chunk_checksums: true,
            schema_snapshot_interval_ms: 86_400_000,
        }
    }
}

impl StorageConfig {
    /// Defaults with the given data directory.
    pub fn with_data_dir(data_dir: impl Into<PathBuf>) -> Self {
        StorageConfig {
            data_dir: data_dir.into(),
            ..Default::default()
        }
    }
}
