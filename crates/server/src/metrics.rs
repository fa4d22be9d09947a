//! The Prometheus metrics endpoint (IoTDB's `dn_metric_reporter_list=PROMETHEUS`).
//!
//! [`Metrics`] is what the request handlers record into (statements by type and status,
//! their latency); the engine's counters and gauges (points written, flushes,
//! compactions, WAL and memtable bytes) and the process's resident memory are read at
//! scrape time by a collector. [`MetricsEndpoint`] serves `GET /metrics` in the
//! OpenMetrics text format on its own small HTTP listener (`tiny_http`, one thread).

use crate::service::Service;
use model::{Error, Result};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use sql::ast::Statement;
use std::net::SocketAddr;
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// Labels of a statement counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatementLabels {
    /// What kind of statement (see [`statement_kind`]).
    r#type: &'static str,
    /// The IoTDB status code it answered with (`200` on success).
    status: i32,
}

/// Labels of a latency histogram.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    r#type: &'static str,
}

fn latency_histogram() -> Histogram {
    // 100 µs … ~105 s in factors of 2
    Histogram::new(exponential_buckets(0.0001, 2.0, 21))
}

/// What the request handlers record.
#[derive(Debug, Clone)]
pub struct Metrics {
    statements: Family<StatementLabels, Counter>,
    latency: Family<KindLabels, Histogram, fn() -> Histogram>,
    rejected_for_memory: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            statements: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            rejected_for_memory: Counter::default(),
        }
    }
}

impl Metrics {
    /// Records one statement (or statement-like RPC) of `kind` that answered `status`
    /// after `elapsed` (for queries: until the first batch of rows was ready).
    pub fn statement(&self, kind: &'static str, status: i32, elapsed: Duration) {
        self.statements
            .get_or_create(&StatementLabels {
                r#type: kind,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&KindLabels { r#type: kind })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts a request refused because the memory budget was exhausted.
    pub fn rejected_for_memory(&self) {
        self.rejected_for_memory.inc();
    }

    /// How many statements of `kind` answered `status` so far (tests, diagnostics).
    pub fn statement_count(&self, kind: &'static str, status: i32) -> u64 {
        self.statements
            .get_or_create(&StatementLabels {
                r#type: kind,
                status,
            })
            .get()
    }
}

/// The metric `type` label of a statement.
pub fn statement_kind(stmt: &Statement) -> &'static str {
    use Statement::*;
    match stmt {
        Query(q) if q.last => "last_query",
        Query(q)
            if q.select
                .iter()
                .any(|c| matches!(c.expr, sql::ast::Expression::Function { .. })) =>
        {
            "aggregation_query"
        }
        Query(_) => "raw_query",
        Insert(_) | InsertTablet(_) | InsertRows(_) => "insert",
        Delete { .. } | DeleteDataRange { .. } | DeletePartition { .. } => "delete",
        CreateDatabase { .. }
        | DeleteDatabases { .. }
        | CreateTimeseries { .. }
        | CreateAlignedTimeseries { .. }
        | DeleteTimeseries { .. }
        | AlterTimeseries { .. }
        | CreateSchemaTemplate { .. }
        | SetSchemaTemplate { .. }
        | UnsetSchemaTemplate { .. }
        | ActivateSchemaTemplate { .. }
        | DeactivateSchemaTemplate { .. }
        | DropSchemaTemplate { .. }
        | CreateTemplateDef(_)
        | AppendTemplate { .. }
        | PruneTemplate { .. }
        | SetTtl { .. }
        | UnsetTtl { .. } => "ddl",
        Auth(_) => "auth",
        LoadFile { .. } => "load",
        Flush { .. } | Merge { .. } | ClearCache { .. } | SetSystemStatus { .. } => "maintenance",
        KillQuery { .. } => "kill",
        _ => "show",
    }
}

/// Reads the engine and process figures at scrape time. Holds the service weakly: the
/// endpoint must not keep a stopped server's engine (and its directory lock) alive.
#[derive(Debug)]
struct ServiceCollector {
    service: Weak<Service>,
}

fn counter(enc: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(enc.encode_descriptor(name, help, None, c.metric_type())?)
}

fn counter_f(enc: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> std::fmt::Result {
    let c = ConstCounter::new(v);
    c.encode(enc.encode_descriptor(name, help, None, c.metric_type())?)
}

fn gauge(enc: &mut DescriptorEncoder, name: &str, help: &str, v: i64) -> std::fmt::Result {
    let g = ConstGauge::new(v);
    g.encode(enc.encode_descriptor(name, help, None, g.metric_type())?)
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Collector for ServiceCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        let Some(service) = self.service.upgrade() else {
            return Ok(());
        };
        let st = storage::stats();
        let mem = service.executor.engine().memory_use();
        let e = &mut enc;
        counter(
            e,
            "points_written",
            "Points (non-null values) accepted by inserts",
            st.points_written,
        )?;
        counter(e, "flushes", "Memtables flushed into TsFiles", st.flushes)?;
        counter_f(
            e,
            "flush_seconds",
            "Time spent flushing memtables",
            st.flush_micros as f64 / 1e6,
        )?;
        counter(e, "compactions", "Compaction steps run", st.compactions)?;
        counter_f(
            e,
            "compaction_seconds",
            "Time spent in compactions",
            st.compaction_micros as f64 / 1e6,
        )?;
        gauge(
            e,
            "memtable_bytes",
            "Bytes counted in the memtable budget: memtables (working and being flushed) and writes admitted",
            clamp(mem.memtable_bytes),
        )?;
        gauge(
            e,
            "memtable_limit_bytes",
            "The memtables' budget in force: their share of memory_budget_mb, less while the \
             rest of the process takes more than its part",
            clamp(service.executor.engine().memtable_limit()),
        )?;
        gauge(
            e,
            "wal_bytes",
            "Bytes of WAL files on disk",
            clamp(mem.wal_bytes),
        )?;
        gauge(
            e,
            "request_buffer_bytes",
            "Bytes of request frames and replies in flight (bounded by a third of memory_budget_mb)",
            clamp(service.buffers.used()),
        )?;
        gauge(
            e,
            "sessions",
            "Open client sessions",
            clamp(service.sessions.len() as u64),
        )?;
        gauge(
            e,
            "queries_running",
            "Queries in flight (as SHOW QUERIES lists them)",
            clamp(service.executor.queries().len() as u64),
        )?;
        if let Some(rss) = resident_bytes() {
            gauge(
                e,
                "process_resident_memory_bytes",
                "Resident memory of the server process",
                clamp(rss),
            )?;
        }
        Ok(())
    }
}

/// Resident set size of this process (Linux `/proc/self/statm`).
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The running HTTP listener of the metrics endpoint.
pub struct MetricsEndpoint {
    http: Arc<tiny_http::Server>,
    addr: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl MetricsEndpoint {
    /// Listens on `host:port` and serves the service's metrics under names starting with
    /// `prefix_`.
    pub fn start(
        host: &str,
        port: u16,
        prefix: &str,
        service: &Arc<Service>,
    ) -> Result<MetricsEndpoint> {
        let http = tiny_http::Server::http((host, port)).map_err(|e| {
            Error::Io(std::io::Error::other(format!(
                "cannot listen for metrics on {host}:{port}: {e}"
            )))
        })?;
        let addr = http
            .server_addr()
            .to_ip()
            .ok_or_else(|| Error::internal("the metrics listener has no IP address".to_string()))?;
        let mut registry = if prefix.is_empty() {
            Registry::default()
        } else {
            Registry::with_prefix(prefix)
        };
        let m = &service.metrics;
        registry.register(
            "statements",
            "Statements and statement-like RPCs by type and IoTDB status code",
            m.statements.clone(),
        );
        registry.register(
            "statement_latency_seconds",
            "Time from a request to its answer (for queries: the first batch of rows), by type",
            m.latency.clone(),
        );
        registry.register(
            "memory_rejections",
            "Requests refused with status 606 because the memory budget was exhausted",
            m.rejected_for_memory.clone(),
        );
        registry.register_collector(Box::new(ServiceCollector {
            service: Arc::downgrade(service),
        }));
        let http = Arc::new(http);
        let thread = {
            let http = http.clone();
            std::thread::Builder::new()
                .name("iotdb-metrics".into())
                .spawn(move || serve(&http, &registry))?
        };
        Ok(MetricsEndpoint {
            http,
            addr,
            thread: Some(thread),
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for MetricsEndpoint {
    fn drop(&mut self) {
        self.http.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

fn serve(http: &tiny_http::Server, registry: &Registry) {
    for request in http.incoming_requests() {
        let path = request.url().split('?').next().unwrap_or("");
        let response = if *request.method() != tiny_http::Method::Get {
            tiny_http::Response::from_string("only GET is served\n").with_status_code(405)
        } else if path != "/metrics" {
            tiny_http::Response::from_string("metrics are served at /metrics\n")
                .with_status_code(404)
        } else {
            let mut body = String::new();
            match prometheus_client::encoding::text::encode(&mut body, registry) {
                Ok(()) => {
                    let header = tiny_http::Header::from_bytes("Content-Type", CONTENT_TYPE)
                        .expect("static header is valid");
                    tiny_http::Response::from_string(body).with_header(header)
                }
                Err(e) => tiny_http::Response::from_string(format!("cannot encode: {e}\n"))
                    .with_status_code(500),
            }
        };
        if let Err(e) = request.respond(response) {
            tracing::debug!("metrics: cannot answer a scrape: {e}");
        }
    }
}
