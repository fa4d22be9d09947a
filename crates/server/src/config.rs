//! Server configuration: defaults, an optional IoTDB-style `.properties` file, then flags.

use model::{CompressionType, Error, Result, TSDataType};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use storage::{StorageConfig, WalMode};

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind (`dn_rpc_address`).
    pub host: String,
    /// Client RPC port (`dn_rpc_port`).
    pub port: u16,
    /// Largest accepted request frame in bytes (`dn_thrift_max_frame_size`); a frame is
    /// buffered whole, so this bounds the memory of one connection. Default
    /// [`protocol::DEFAULT_MAX_FRAME_SIZE`] (64 MiB; IoTDB's is 512 MiB).
    pub max_frame_size: usize,
    /// How long a peer may send nothing inside a frame (or not read a reply) before its
    /// connection is dropped (`frame_read_timeout_ms`, default 60 s). Idle clients between
    /// requests are not affected.
    pub frame_timeout: std::time::Duration,
    /// Rows per result batch when a client sends `fetchSize <= 0`.
    pub default_fetch_size: usize,
    /// Server-wide query timeout in milliseconds when a request gives none; 0 = no limit
    /// (`query_timeout_threshold`, IoTDB's default 60 000).
    pub query_timeout_ms: u64,
    /// Most client connections served at once; further ones are refused with a status
    /// (`rpc_max_concurrent_client_num`, IoTDB's default 65 535).
    pub max_connections: usize,
    /// Idle time after which a connection and its session are closed, in milliseconds;
    /// 0 = never (`dn_session_timeout_threshold`).
    pub session_timeout_ms: u64,
    /// Port of the Prometheus metrics endpoint when it is on
    /// (`dn_metric_prometheus_reporter_port`, IoTDB's default 9092; 0 = any free port).
    pub metrics_port: u16,
    /// Serve metrics: on when `dn_metric_reporter_list` names `PROMETHEUS` (off by default,
    /// as in IoTDB).
    pub metrics_enabled: bool,
    /// Prefix of every metric name (`metric_name_prefix`, default `iotdb`: names such as
    /// `iotdb_points_written_total`); empty for none.
    pub metrics_prefix: String,
    /// Memory budget of the server in MiB (`memory_budget_mb`, default 2048; 0 = none).
    /// A third of it bounds the memtables (see `StorageConfig::memtable_budget_bytes`):
    /// their estimate counts 16 bytes a point; another third bounds request frames and
    /// replies in flight ([`ServerConfig::buffer_budget_bytes`]); the allocator's retained
    /// pages, flush and query buffers take the rest. It is the process's total: the
    /// memtables' limit is lowered while the rest takes more ([`crate::governor`]).
    pub memory_budget_mb: u64,
    /// The properties file the settings were read from, if any (for the start-up log).
    pub config_file: Option<PathBuf>,
    /// Storage engine settings (data directory, WAL mode, schema inference …).
    pub storage: StorageConfig,
    /// Hands the allocator's free but still resident pages back to the kernel at once (the
    /// binary sets mimalloc's forced collect). The memory governor calls it when resident
    /// memory passes three quarters of `memory_budget_mb`, so the allocator may keep freed
    /// pages for reuse while there is room ([`crate::governor`]). `None`: never called.
    pub release_memory: Option<fn()>,
    /// Lets the allocator hand back the free pages whose purge delay has passed (the binary
    /// sets mimalloc's ordinary collect). The allocator purges only when it runs, so an idle
    /// server would keep what its last requests freed for as long as it stays idle; the
    /// memory governor calls this every [`crate::governor::PURGE_EVERY`]. `None`: never
    /// called.
    pub purge_memory: Option<fn()>,
}

impl ServerConfig {
    /// Bytes of request frames and replies in flight allowed (a third of
    /// `memory_budget_mb`; 0 = no limit), see [`crate::buffers`].
    pub fn buffer_budget_bytes(&self) -> u64 {
        memtable_share(self.memory_budget_mb)
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: "127.0.0.1".into(),
            port: 6667,
            max_frame_size: protocol::DEFAULT_MAX_FRAME_SIZE,
            frame_timeout: std::time::Duration::from_secs(60),
            default_fetch_size: 10_000,
            query_timeout_ms: 60_000,
            max_connections: 65_535,
            session_timeout_ms: 0,
            metrics_port: 9092,
            metrics_enabled: false,
            metrics_prefix: "iotdb".into(),
            memory_budget_mb: DEFAULT_MEMORY_BUDGET_MB,
            config_file: None,
            release_memory: None,
            purge_memory: None,
            storage: StorageConfig {
                memtable_budget_bytes: memtable_share(DEFAULT_MEMORY_BUDGET_MB),
                ..StorageConfig::with_data_dir(PathBuf::from("./data"))
            },
        }
    }
}

use storage::memtable_share;
/// Default `memory_budget_mb` (shared with embedded engines).
pub use storage::DEFAULT_MEMORY_BUDGET_MB;

fn parse_type(key: &str, v: &str) -> Result<TSDataType> {
    TSDataType::from_name(v).ok_or_else(|| bad(key, v))
}

fn bad(key: &str, v: &str) -> Error {
    Error::IllegalParameter(format!("configuration: illegal value '{v}' for {key}"))
}

fn parse_num<T: std::str::FromStr>(key: &str, v: &str) -> Result<T> {
    v.trim().parse().map_err(|_| bad(key, v))
}

impl ServerConfig {
    /// Applies `key = value` settings using IoTDB's property names where the concept matches.
    /// Unknown keys are ignored with a warning so IoTDB config files can be reused.
    pub fn apply_properties(&mut self, props: &HashMap<String, String>) -> Result<()> {
        let mut keys: Vec<&String> = props.keys().collect();
        keys.sort();
        for key in keys {
            let v = props[key].trim();
            let s = &mut self.storage;
            match key.as_str() {
                "dn_rpc_address" | "rpc_address" => self.host = v.to_string(),
                "frame_read_timeout_ms" => {
                    self.frame_timeout = std::time::Duration::from_millis(parse_num(key, v)?)
                }
                "dn_rpc_port" | "rpc_port" => self.port = parse_num(key, v)?,
                "dn_thrift_max_frame_size" | "thrift_max_frame_size" => {
                    self.max_frame_size = parse_num(key, v)?
                }
                "dn_data_dirs" | "data_dir" => s.data_dir = PathBuf::from(v),
                "wal_mode" => {
                    s.wal_mode = match v.to_ascii_uppercase().as_str() {
                        "DISABLE" => WalMode::Disable,
                        "ASYNC" => WalMode::Async,
                        "SYNC" => WalMode::Sync,
                        _ => return Err(bad(key, v)),
                    }
                }
                "wal_async_mode_fsync_delay_in_ms" => s.wal_async_flush_ms = parse_num(key, v)?,
                "enable_auto_create_schema" => s.auto_create_schema = parse_num(key, v)?,
                "default_storage_group_level" | "default_database_level" => {
                    s.default_storage_group_level = parse_num(key, v)?
                }
                "boolean_string_infer_type" => s.boolean_string_infer_type = parse_type(key, v)?,
                "integer_string_infer_type" => s.integer_string_infer_type = parse_type(key, v)?,
                "long_string_infer_type" => s.long_string_infer_type = parse_type(key, v)?,
                "floating_string_infer_type" => s.floating_string_infer_type = parse_type(key, v)?,
                "nan_string_infer_type" => s.nan_string_infer_type = parse_type(key, v)?,
                "default_compressor" | "compressor" => {
                    s.default_compressor =
                        CompressionType::from_name(v).ok_or_else(|| bad(key, v))?
                }
                "time_partition_interval" | "default_time_partition_interval" => {
                    s.default_time_partition_interval_ms = parse_num(key, v)?
                }
                "memtable_size_threshold" => s.memtable_size_threshold = parse_num(key, v)?,
                "enable_compaction"
                | "enable_seq_space_compaction"
                | "enable_unseq_space_compaction"
                | "enable_cross_space_compaction" => s.enable_compaction = parse_num(key, v)?,
                "compaction_schedule_interval_in_ms" => {
                    s.compaction_interval_ms = parse_num(key, v)?
                }
                "max_inner_compaction_candidate_file_num" => {
                    s.compaction_max_files = parse_num(key, v)?
                }
                "verify_chunk_checksums" => s.verify_chunk_checksums = parse_num(key, v)?,
                "schema_region_ratis_periodic_snapshot_interval" => {
                    let secs: u64 = parse_num(key, v)?;
                    s.schema_snapshot_interval_ms = secs.saturating_mul(1000);
                }
                "schema_snapshot_interval_in_ms" => {
                    s.schema_snapshot_interval_ms = parse_num(key, v)?
                }
                "default_fetch_size" => self.default_fetch_size = parse_num(key, v)?,
                "query_timeout_threshold" => self.query_timeout_ms = parse_num(key, v)?,
                "rpc_max_concurrent_client_num" | "dn_rpc_max_concurrent_client_num" => {
                    self.max_connections = parse_num(key, v)?
                }
                "dn_session_timeout_threshold" | "session_timeout_threshold" => {
                    self.session_timeout_ms = parse_num(key, v)?
                }
                "memory_budget_mb" => {
                    self.memory_budget_mb = parse_num(key, v)?;
                    s.memtable_budget_bytes = memtable_share(self.memory_budget_mb);
                }
                "max_waiting_time_when_insert_blocked" => {
                    s.write_blocked_wait_ms = parse_num(key, v)?
                }
                "dn_metric_reporter_list" | "metric_reporter_list" => {
                    self.metrics_enabled = v
                        .split(',')
                        .any(|r| r.trim().eq_ignore_ascii_case("PROMETHEUS"))
                }
                "dn_metric_prometheus_reporter_port" | "metric_prometheus_reporter_port" => {
                    self.metrics_port = parse_num(key, v)?
                }
                "metric_name_prefix" => {
                    if !v.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                        || v.starts_with(|c: char| c.is_ascii_digit())
                    {
                        return Err(bad(key, v));
                    }
                    self.metrics_prefix = v.to_string()
                }
                other => tracing::warn!(key = other, "ignoring unknown configuration key"),
            }
        }
        if self.frame_timeout.is_zero() {
            return Err(bad("frame_read_timeout_ms", "0"));
        }
        if self.default_fetch_size == 0 {
            return Err(bad("default_fetch_size", "0"));
        }
        if self.max_connections == 0 {
            return Err(bad("rpc_max_concurrent_client_num", "0"));
        }
        Ok(())
    }

    /// Reads a Java-style properties file and applies it.
    pub fn apply_file(&mut self, path: &Path) -> Result<()> {
        let file = std::fs::File::open(path).map_err(|e| {
            Error::IllegalParameter(format!("cannot read config file {}: {e}", path.display()))
        })?;
        let props = java_properties::read(std::io::BufReader::new(file)).map_err(|e| {
            Error::IllegalParameter(format!("bad config file {}: {e}", path.display()))
        })?;
        self.config_file = Some(path.to_path_buf());
        self.apply_properties(&props)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_override_defaults() {
        let mut c = ServerConfig::default();
        let props: HashMap<String, String> = [
            ("dn_rpc_port", "7777"),
            ("wal_mode", "sync"),
            ("integer_string_infer_type", "DOUBLE"),
            ("memtable_size_threshold", "1048576"),
            ("compaction_schedule_interval_in_ms", "500"),
            ("schema_region_ratis_periodic_snapshot_interval", "3600"),
            ("something_else", "x"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        c.apply_properties(&props).unwrap();
        assert_eq!(c.port, 7777);
        assert!(matches!(c.storage.wal_mode, WalMode::Sync));
        assert_eq!(c.storage.integer_string_infer_type, TSDataType::Double);
        assert_eq!(c.storage.memtable_size_threshold, 1 << 20);
        assert_eq!(c.storage.compaction_interval_ms, 500);
        assert_eq!(c.storage.schema_snapshot_interval_ms, 3_600_000);
        let bad: HashMap<String, String> = [("dn_rpc_port".to_string(), "x".to_string())]
            .into_iter()
            .collect();
        assert!(c.apply_properties(&bad).is_err());
    }
}
