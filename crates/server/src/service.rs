//! The `IClientRPCService` handler: decode request → call the executor → encode result.
//!
//! One [`Connection`] exists per client connection and owns that connection's session
//! (IoTDB binds sessions to connections). Nothing below this module knows about Thrift.

use crate::codec;
use crate::config::ServerConfig;
use crate::metrics::{statement_kind, Metrics};
use crate::session::{OpenQuery, Session, SessionManager};
use model::{
    Error, InsertRow, InsertRows, PartialPath, PathPattern, Result, RowValues, TSDataType,
};
use parking_lot::Mutex;
use protocol::client::*;
use protocol::common::{TSStatus, TShowConfigurationResp, TShowConfigurationTemplateResp};
use query::{Executor, Outcome, SessionContext, TemplateAnswer, TemplateQuery};
use sql::ast::Statement;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// Version reported by `SHOW VERSION`-like RPCs.
pub const VERSION: &str = concat!("iotdb-rs ", env!("CARGO_PKG_VERSION"));

/// State shared by all connections.
pub struct Service {
    /// The one statement executor.
    pub executor: Executor,
    /// Logged-in sessions.
    pub sessions: SessionManager,
    /// What the metrics endpoint reports about requests.
    pub metrics: Metrics,
    /// Request frames and replies in flight, bounded by a third of `memory_budget_mb`.
    pub buffers: Arc<crate::buffers::BufferBudget>,
    /// Server settings.
    pub config: ServerConfig,
    /// Connections whose statement is running, watched for a client that hangs up.
    pub hangups: crate::hangup::HangupWatch,
}

/// The handler of one client connection.
pub struct Connection {
    service: Arc<Service>,
    session: Mutex<Option<Arc<Session>>>,
    peer: String,
    /// Set for a connection over `rpc_max_concurrent_client_num`: its login is refused with
    /// this message and the connection closed.
    refusal: Option<String>,
    /// The client's socket, watched while a statement runs (see `crate::hangup`).
    socket: Option<std::net::TcpStream>,
    /// Where `fetchResultsV2` leaves its page for the connection loop (see [`Page`]).
    pages: Option<PageSink>,
}

/// The rows of a `fetchResultsV2` answer, left by the handler for the connection loop,
/// which encodes them as a TsBlock straight into the reply frame
/// (`protocol::rpc::reply_with_query_result`): no TsBlock buffer apart, no copy of it into
/// the frame, and the frame's buffer is kept for the next page of the same result.
pub struct Page {
    /// The page's rows, in order.
    pub batches: Vec<codec::Rows>,
    /// Logical type per data column.
    pub types: Vec<TSDataType>,
    /// Whether the result has more pages (the answer's `moreData`).
    pub more: bool,
    /// Exact length of the encoded TsBlock.
    pub len: usize,
}

impl Page {
    /// A page of `batches` (checked against `types`, and measured).
    pub fn new(batches: Vec<codec::Rows>, types: Vec<TSDataType>, more: bool) -> Result<Page> {
        let len = protocol::codec::tsblock::tsblock_len(&codec::parts_of(&batches), &types)?;
        Ok(Page {
            batches,
            types,
            more,
            len,
        })
    }

    /// Appends the page's TsBlock (exactly `len` bytes).
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<()> {
        protocol::codec::tsblock::encode_tsblock_into(
            out,
            &codec::parts_of(&self.batches),
            &self.types,
        )
    }
}

/// The slot a connection's `fetchResultsV2` answers leave their [`Page`] in.
pub type PageSink = Arc<Mutex<Option<Page>>>;

fn status(code: i32, message: impl Into<String>) -> TSStatus {
    TSStatus {
        code,
        message: Some(message.into()),
        sub_status: None,
        redirect_node: None,
        need_retry: None,
    }
}

fn ok() -> TSStatus {
    status(200, "Execute successfully")
}

/// The `TSStatus` for an error (302 with sub-statuses for batch errors).
pub fn error_status(e: &Error) -> TSStatus {
    protocol::status::from_error(e)
}

fn to_status(r: Result<()>) -> TSStatus {
    match r {
        Ok(()) => ok(),
        Err(e) => error_status(&e),
    }
}

fn exec_resp(status: TSStatus) -> TSExecuteStatementResp {
    TSExecuteStatementResp {
        status,
        query_id: None,
        columns: None,
        operation_type: None,
        ignore_time_stamp: None,
        data_type_list: None,
        query_data_set: None,
        non_align_query_data_set: None,
        column_name_index_map: None,
        sg_columns: None,
        alias_columns: None,
        tracing_info: None,
        query_result: None,
        more_data: None,
        database: None,
        table_model: None,
        column_index2_ts_block_column_index_list: None,
    }
}

fn fetch_resp(status: TSStatus) -> TSFetchResultsResp {
    TSFetchResultsResp {
        status,
        has_result_set: false,
        is_align: true,
        query_data_set: None,
        non_align_query_data_set: None,
        query_result: None,
        more_data: Some(false),
    }
}

/// An error if a string of the request being served was not valid UTF-8.
fn check_utf8() -> Result<()> {
    match protocol::rpc::invalid_utf8_in_request() {
        Some(what) => Err(Error::IllegalParameter(what)),
        None => Ok(()),
    }
}

fn parse_path(p: &str) -> Result<PartialPath> {
    PartialPath::parse(p)
}

fn parse_patterns(ps: &[String]) -> Result<Vec<PathPattern>> {
    ps.iter().map(|p| PathPattern::parse(p)).collect()
}

/// Which result family a query RPC answers with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Family {
    /// TSQueryDataSet (1.0.x / 1.3.x clients).
    V1,
    /// TsBlock list (2.0.x clients).
    V2,
}

impl Connection {
    /// A handler for a new connection from `peer`.
    pub fn new(service: Arc<Service>, peer: String) -> Self {
        Connection {
            service,
            session: Mutex::new(None),
            peer,
            refusal: None,
            socket: None,
            pages: None,
        }
    }

    /// Leaves `fetchResultsV2` pages in `sink` for the connection loop to encode into the
    /// reply frame (see [`Page`]) instead of in the answer.
    pub fn with_page_sink(mut self, sink: PageSink) -> Self {
        self.pages = Some(sink);
        self
    }

    /// Watches `socket` while statements run: a client that hangs up meanwhile has its
    /// statement killed.
    pub fn with_socket(mut self, socket: Option<std::net::TcpStream>) -> Self {
        self.socket = socket;
        self
    }

    /// Kills the query `statement_id` if the client hangs up before the guard is dropped.
    fn watch_hangup(&self, statement_id: &str) -> Option<crate::hangup::Watching<'_>> {
        let socket = self.socket.as_ref()?;
        Some(
            self.service
                .hangups
                .watch(socket, statement_id, self.service.executor.queries()),
        )
    }

    /// A handler that refuses the login with `message` (too many connections).
    pub fn refusing(service: Arc<Service>, peer: String, message: String) -> Self {
        Connection {
            service,
            session: Mutex::new(None),
            peer,
            refusal: Some(message),
            socket: None,
            pages: None,
        }
    }

    /// The logged-in session, once the request is known to be well formed: every handler
    /// that acts on a session goes through here, so a request with a string that is not
    /// valid UTF-8 is answered with an ILLEGAL_PARAMETER status before anything is done.
    fn session(&self) -> Result<Arc<Session>> {
        check_utf8()?;
        self.session.lock().clone().ok_or(Error::NotLogin)
    }

    fn ctx(&self, s: &Session) -> SessionContext {
        SessionContext::new(s.user.clone(), s.zone().1)
    }

    /// A new statement id: what SHOW QUERIES lists for a query and the `query_id` of every
    /// log line of the statement (one id per statement).
    fn statement_id(&self) -> String {
        self.service.executor.queries().next_id()
    }

    /// Runs a statement that returns no rows to page (inserts and DDL by RPC, batches),
    /// under a log span carrying a fresh statement id, and records it in the metrics.
    fn run(&self, stmt: Statement) -> Result<Outcome> {
        let s = self.session()?;
        let kind = statement_kind(&stmt);
        let id = self.statement_id();
        let _span = tracing::info_span!("statement", query_id = %id, session = s.id).entered();
        tracing::debug!(kind, "statement started");
        let start = Instant::now();
        let r = self.service.executor.execute(stmt, &self.ctx(&s));
        let code = match &r {
            Ok(_) => 200,
            Err(e) => {
                tracing::debug!(peer = %self.peer, kind, "statement failed: {e}");
                e.status_code().code()
            }
        };
        tracing::debug!(code, "statement ended in {:?}", start.elapsed());
        self.service.metrics.statement(kind, code, start.elapsed());
        r
    }

    fn run_done(&self, stmt: Statement) -> TSStatus {
        to_status(self.run(stmt).map(|_| ()))
    }

    fn fetch_size(&self, requested: Option<i32>) -> usize {
        match requested {
            Some(n) if n > 0 => n as usize,
            _ => self.service.config.default_fetch_size,
        }
    }

    /// Runs a statement and answers like IoTDB's executeStatement family; its log lines
    /// carry the query id (a span), and it is recorded in the metrics.
    fn answer(
        &self,
        stmt: Result<Statement>,
        sql: Option<&str>,
        fetch_size: Option<i32>,
        timeout_ms: Option<i64>,
        family: Family,
    ) -> TSExecuteStatementResp {
        let kind = stmt.as_ref().map_or("invalid", statement_kind);
        let id = self.statement_id();
        let _span = tracing::info_span!("statement", query_id = %id).entered();
        tracing::debug!(kind, sql = sql.unwrap_or(""), "statement started");
        let start = Instant::now();
        // only queries can run long enough for a client to give up on them
        let watching = matches!(stmt, Ok(Statement::Query(_)))
            .then(|| self.watch_hangup(&id))
            .flatten();
        let resp = self.answer_as(id, stmt, sql, fetch_size, timeout_ms, family);
        drop(watching);
        tracing::debug!(
            code = resp.status.code,
            "statement answered in {:?}",
            start.elapsed()
        );
        self.service
            .metrics
            .statement(kind, resp.status.code, start.elapsed());
        resp
    }

    fn answer_as(
        &self,
        statement_id: String,
        stmt: Result<Statement>,
        sql: Option<&str>,
        fetch_size: Option<i32>,
        timeout_ms: Option<i64>,
        family: Family,
    ) -> TSExecuteStatementResp {
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => return exec_resp(error_status(&e)),
        };
        let ctx = self.ctx(&session);
        let outcome = stmt.and_then(|stmt| {
            let text = sql.map(str::to_string).unwrap_or_else(|| rpc_text(&stmt));
            self.service.executor.execute_tracked(
                stmt,
                statement_id.clone(),
                &text,
                timeout_ms,
                &ctx,
            )
        });
        let result = match outcome {
            Ok(Outcome::Done) => return exec_resp(ok()),
            Ok(Outcome::Rows(r)) => r,
            Err(e) => {
                tracing::debug!(peer = %self.peer, sql = sql.unwrap_or(""), "statement failed: {e}");
                return exec_resp(error_status(&e));
            }
        };
        let mut q = OpenQuery::new(result, statement_id);
        let page = self.service.buffers.page_bytes();
        let batch = codec::next_parts(&mut q, self.fetch_size(fetch_size), page);
        // the client's handle for fetches; the statement id stays the one in the logs
        let query_id = self.service.sessions.next_query_id();
        let mut resp = exec_resp(ok());
        resp.query_id = Some(query_id);
        resp.columns = Some(q.columns.clone());
        resp.data_type_list = Some(q.types.iter().map(|t| t.name().to_string()).collect());
        resp.ignore_time_stamp = Some(q.ignore_timestamp);
        let mut index_map = BTreeMap::new();
        for (name, &i) in q.columns.iter().zip(&q.column_index) {
            index_map.entry(name.clone()).or_insert(i as i32);
        }
        resp.column_name_index_map = Some(index_map);
        resp.sg_columns = Some(Vec::new());
        let batch = match batch {
            Ok(b) => b,
            Err(e) => return exec_resp(error_status(&e)),
        };
        let encoded = match family {
            Family::V1 => {
                let batch = (!batch.is_empty()).then(|| codec::joined(batch));
                codec::query_data_set(&q, batch.as_ref()).map(|ds| resp.query_data_set = Some(ds))
            }
            Family::V2 => {
                resp.column_index2_ts_block_column_index_list =
                    Some(q.column_index.iter().map(|&i| i as i32).collect());
                let blocks = if batch.is_empty() {
                    Ok(Vec::new())
                } else {
                    codec::tsblock(&q, &batch).map(|block| vec![block])
                };
                blocks.map(|b| resp.query_result = Some(b))
            }
        };
        if let Err(e) = encoded {
            return exec_resp(error_status(&e));
        }
        resp.more_data = Some(!q.finished);
        if q.finished {
            session.finished_query(query_id);
        } else {
            session.add_query(query_id, q);
        }
        resp
    }

    fn sql(&self, req: &TSExecuteStatementReq, family: Family) -> TSExecuteStatementResp {
        let stmt = sql::parse(&req.statement);
        self.answer(
            stmt,
            Some(&req.statement),
            req.fetch_size,
            req.timeout,
            family,
        )
    }

    fn fetch(&self, req: TSFetchResultsReq, family: Family) -> TSFetchResultsResp {
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => return fetch_resp(error_status(&e)),
        };
        let Some(q) = session.query(req.query_id) else {
            if session.recently_closed(req.query_id) {
                return fetch_resp(ok());
            }
            return fetch_resp(error_status(&Error::UnknownQuery(req.query_id)));
        };
        let mut q = q.lock();
        // the fetch's log lines carry the statement's id, as its first answer's did
        let _span = tracing::info_span!("fetch", query_id = %q.statement_id).entered();
        let size = self.fetch_size(Some(req.fetch_size));
        let page = self.service.buffers.page_bytes();
        let watching = self.watch_hangup(&q.statement_id);
        let batch = codec::next_parts(&mut q, size, page);
        drop(watching);
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(peer = %self.peer, "fetch failed: {e}");
                drop(q);
                session.close_query(req.query_id);
                return fetch_resp(error_status(&e));
            }
        };
        let mut resp = fetch_resp(ok());
        resp.more_data = Some(!q.finished);
        if !batch.is_empty() {
            resp.has_result_set = true;
            let encoded = match (family, &self.pages) {
                (Family::V1, _) => {
                    let b = codec::joined(batch);
                    codec::query_data_set(&q, Some(&b)).map(|ds| resp.query_data_set = Some(ds))
                }
                // the connection loop encodes the page into the reply frame
                (Family::V2, Some(sink)) => {
                    Page::new(batch, q.data_types(), !q.finished).map(|p| *sink.lock() = Some(p))
                }
                (Family::V2, None) => {
                    codec::tsblock(&q, &batch).map(|t| resp.query_result = Some(vec![t]))
                }
            };
            if let Err(e) = encoded {
                drop(q);
                session.close_query(req.query_id);
                return fetch_resp(error_status(&e));
            }
        }
        if q.finished {
            drop(q);
            session.close_query(req.query_id);
        }
        resp
    }

    fn raw_query(&self, req: TSRawDataQueryReq, family: Family) -> TSExecuteStatementResp {
        let stmt = codec::raw_data_query(&req.paths, req.start_time, req.end_time);
        self.answer(stmt, None, req.fetch_size, req.timeout, family)
    }

    fn aggregation_query(
        &self,
        req: TSAggregationQueryReq,
        family: Family,
    ) -> TSExecuteStatementResp {
        let stmt = codec::aggregation_query(&req);
        self.answer(stmt, None, req.fetch_size, req.timeout, family)
    }

    fn last_query(&self, req: TSLastDataQueryReq, family: Family) -> TSExecuteStatementResp {
        let stmt = codec::last_data_query(&req.paths, req.time);
        self.answer(stmt, None, req.fetch_size, req.timeout, family)
    }

    fn insert_rows(&self, rows: Result<Vec<InsertRow>>) -> TSStatus {
        match rows {
            Ok(rows) if rows.is_empty() => ok(),
            Ok(rows) => self.run_done(Statement::InsertRows(InsertRows { rows })),
            Err(e) => error_status(&e),
        }
    }

    fn record_rows(
        &self,
        devices: &[String],
        measurements: &[Vec<String>],
        values: &[Vec<u8>],
        times: &[i64],
        aligned: bool,
    ) -> Result<Vec<InsertRow>> {
        let n = devices.len();
        if measurements.len() != n || values.len() != n || times.len() != n {
            return Err(Error::IllegalParameter(format!(
                "insertRecords: {} devices, {} measurement lists, {} value buffers, {} timestamps",
                n,
                measurements.len(),
                values.len(),
                times.len()
            )));
        }
        (0..n)
            .map(|i| {
                let vals = codec::record_values(&values[i], measurements[i].len())?;
                Ok(InsertRow {
                    device: parse_path(&devices[i])?,
                    time: times[i],
                    measurements: codec::checked_measurements(&measurements[i])?,
                    values: RowValues::Typed(vals),
                    aligned,
                })
            })
            .collect()
    }

    fn string_rows(
        &self,
        devices: &[String],
        measurements: &[Vec<String>],
        values: &[Vec<String>],
        times: &[i64],
        aligned: bool,
        drop_empty: bool,
    ) -> Result<Vec<InsertRow>> {
        let n = devices.len();
        if measurements.len() != n || values.len() != n || times.len() != n {
            return Err(Error::IllegalParameter(format!(
                "insertStringRecords: {} devices, {} measurement lists, {} value lists, {} timestamps",
                n,
                measurements.len(),
                values.len(),
                times.len()
            )));
        }
        (0..n)
            .map(|i| {
                if measurements[i].len() != values[i].len() {
                    return Err(Error::IllegalParameter(format!(
                        "row {i}: {} measurements but {} values",
                        measurements[i].len(),
                        values[i].len()
                    )));
                }
                let (ms, vs): (Vec<String>, Vec<String>) =
                    codec::checked_measurements(&measurements[i])?
                        .into_iter()
                        .zip(values[i].iter().cloned())
                        .filter(|(_, v)| !(drop_empty && v.is_empty()))
                        .unzip();
                Ok(InsertRow {
                    device: parse_path(&devices[i])?,
                    time: times[i],
                    measurements: ms,
                    values: RowValues::Strings(vs),
                    aligned,
                })
            })
            .collect()
    }

    fn template_query(&self, req: TSQueryTemplateReq) -> TSQueryTemplateResp {
        let mut resp = TSQueryTemplateResp {
            status: ok(),
            query_type: req.query_type,
            result: None,
            count: None,
            measurements: None,
        };
        let answer = TemplateQuery::from_code(req.query_type).and_then(|q| {
            let s = self.session()?;
            self.service.executor.template_query(
                q,
                req.name,
                req.measurement.unwrap_or_default(),
                &self.ctx(&s),
            )
        });
        match answer {
            Ok(TemplateAnswer::Count(n)) => resp.count = Some(n),
            Ok(TemplateAnswer::Flag(b)) => resp.result = Some(b),
            Ok(TemplateAnswer::Names(names)) => resp.measurements = Some(names),
            Err(e) => resp.status = error_status(&e),
        }
        resp
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        if let Some(s) = self.session.lock().take() {
            self.service.sessions.close(s.id);
            tracing::debug!(peer = %self.peer, session = s.id, "connection closed, session freed");
        }
    }
}

/// How an RPC-built query is shown in SHOW QUERIES.
fn rpc_text(stmt: &Statement) -> String {
    match stmt {
        Statement::Query(q) if q.last => "executeLastDataQuery".into(),
        Statement::Query(q)
            if q.select
                .iter()
                .any(|c| matches!(c.expr, sql::ast::Expression::Function { .. })) =>
        {
            "executeAggregationQuery".into()
        }
        Statement::Query(_) => "executeRawDataQuery".into(),
        _ => "RPC".into(),
    }
}

fn not_supported(what: &str) -> TSStatus {
    error_status(&Error::Unsupported(format!("{what} is not supported")))
}

impl IClientRPCServiceSyncHandler for Connection {
    fn handle_open_session(&self, req: TSOpenSessionReq) -> thrift::Result<TSOpenSessionResp> {
        let mut resp = TSOpenSessionResp {
            status: ok(),
            server_protocol_version: TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            session_id: None,
            configuration: None,
        };
        if let Err(e) = check_utf8() {
            resp.status = error_status(&e);
            resp.session_id = Some(-1);
            return Ok(resp);
        }
        if req.client_protocol != TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3 {
            resp.status = error_status(&Error::IncompatibleVersion(
                "The version is incompatible, please upgrade to IoTDB 1.x".into(),
            ));
            resp.session_id = Some(-1);
            return Ok(resp);
        }
        if let Some(message) = &self.refusal {
            tracing::warn!(peer = %self.peer, "{message}");
            resp.status = error_status(&Error::TooManyConnections(message.clone()));
            resp.session_id = Some(-1);
            return Ok(resp);
        }
        let password = req.password.unwrap_or_default();
        let users = self.service.executor.engine().users();
        if !users.check(&req.username, &password) {
            tracing::info!(peer = %self.peer, user = %req.username, "login failed");
            resp.status = error_status(&Error::WrongLoginPassword("Authentication failed.".into()));
            resp.session_id = Some(-1);
            return Ok(resp);
        }
        let version = req
            .configuration
            .as_ref()
            .and_then(|c| c.get("version").cloned())
            .unwrap_or_else(|| "V_0_12".into());
        match self
            .service
            .sessions
            .open(&req.username, &req.zone_id, &version)
        {
            Ok(s) => {
                resp.status = status(200, "Login successfully");
                resp.session_id = Some(s.id);
                let mut conf = BTreeMap::new();
                conf.insert("timestamp_precision".to_string(), "ms".to_string());
                resp.configuration = Some(conf);
                if let Some(old) = self.session.lock().replace(s) {
                    self.service.sessions.close(old.id);
                }
            }
            Err(e) => {
                resp.status = error_status(&e);
                resp.session_id = Some(-1);
            }
        }
        Ok(resp)
    }

    fn handle_close_session(&self, _req: TSCloseSessionReq) -> thrift::Result<TSStatus> {
        match self.session.lock().take() {
            Some(s) => {
                self.service.sessions.close(s.id);
                Ok(ok())
            }
            None => Ok(error_status(&Error::NotLogin)),
        }
    }

    fn handle_request_statement_id(&self, _session_id: i64) -> thrift::Result<i64> {
        Ok(self.service.sessions.next_query_id())
    }

    fn handle_get_time_zone(&self, _session_id: i64) -> thrift::Result<TSGetTimeZoneResp> {
        Ok(match self.session() {
            Ok(s) => TSGetTimeZoneResp {
                status: ok(),
                time_zone: s.zone().0,
            },
            Err(e) => TSGetTimeZoneResp {
                status: error_status(&e),
                time_zone: String::new(),
            },
        })
    }

    fn handle_set_time_zone(&self, req: TSSetTimeZoneReq) -> thrift::Result<TSStatus> {
        Ok(to_status(
            self.session().and_then(|s| s.set_zone(&req.time_zone)),
        ))
    }

    fn handle_get_properties(&self) -> thrift::Result<ServerProperties> {
        Ok(ServerProperties {
            version: VERSION.to_string(),
            supported_time_aggregation_operations: vec![
                "max_time".into(),
                "min_time".into(),
                "max_value".into(),
                "min_value".into(),
                "count".into(),
                "avg".into(),
                "sum".into(),
                "first_value".into(),
                "last_value".into(),
                "extreme".into(),
            ],
            timestamp_precision: "ms".into(),
            max_concurrent_client_num: None,
            thrift_max_frame_size: i32::try_from(self.service.config.max_frame_size).ok(),
            is_read_only: Some(false),
            build_info: Some(VERSION.to_string()),
            logo: None,
        })
    }

    fn handle_execute_statement(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.sql(&req, Family::V1))
    }

    fn handle_execute_query_statement(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.sql(&req, Family::V1))
    }

    fn handle_execute_update_statement(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.sql(&req, Family::V1))
    }

    fn handle_execute_batch_statement(
        &self,
        req: TSExecuteBatchStatementReq,
    ) -> thrift::Result<TSStatus> {
        let mut failures = Vec::new();
        for (i, sql) in req.statements.iter().enumerate() {
            if let Err(e) = sql::parse(sql).and_then(|s| self.run(s)) {
                failures.push((i, e));
            }
        }
        Ok(match failures.len() {
            0 => ok(),
            _ => error_status(&Error::Multiple(failures)),
        })
    }

    fn handle_execute_raw_data_query(
        &self,
        req: TSRawDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.raw_query(req, Family::V1))
    }

    fn handle_execute_last_data_query(
        &self,
        req: TSLastDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.last_query(req, Family::V1))
    }

    fn handle_execute_aggregation_query(
        &self,
        req: TSAggregationQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.aggregation_query(req, Family::V1))
    }

    fn handle_execute_group_by_query_interval_query(
        &self,
        _req: TSGroupByQueryIntervalReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(exec_resp(not_supported("executeGroupByQueryIntervalQuery")))
    }

    fn handle_fetch_results(&self, req: TSFetchResultsReq) -> thrift::Result<TSFetchResultsResp> {
        Ok(self.fetch(req, Family::V1))
    }

    fn handle_execute_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.sql(&req, Family::V2))
    }

    fn handle_execute_query_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.sql(&req, Family::V2))
    }

    fn handle_execute_update_statement_v2(
        &self,
        req: TSExecuteStatementReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.sql(&req, Family::V2))
    }

    fn handle_execute_raw_data_query_v2(
        &self,
        req: TSRawDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.raw_query(req, Family::V2))
    }

    fn handle_execute_last_data_query_v2(
        &self,
        req: TSLastDataQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.last_query(req, Family::V2))
    }

    fn handle_execute_aggregation_query_v2(
        &self,
        req: TSAggregationQueryReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        Ok(self.aggregation_query(req, Family::V2))
    }

    fn handle_execute_fast_last_data_query_for_one_device_v2(
        &self,
        req: TSFastLastDataQueryForOneDeviceReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        let paths: Vec<String> = req
            .sensors
            .iter()
            .map(|s| format!("{}.{}", req.device_id, s))
            .collect();
        let stmt = codec::last_data_query(&paths, i64::MIN);
        Ok(self.answer(stmt, None, req.fetch_size, req.timeout, Family::V2))
    }

    fn handle_execute_fast_last_data_query_for_one_prefix_path(
        &self,
        req: TSFastLastDataQueryForOnePrefixPathReq,
    ) -> thrift::Result<TSExecuteStatementResp> {
        let paths = vec![format!("{}.**", req.prefixes.join("."))];
        let stmt = codec::last_data_query(&paths, i64::MIN);
        Ok(self.answer(stmt, None, req.fetch_size, req.timeout, Family::V2))
    }

    fn handle_fetch_results_v2(
        &self,
        req: TSFetchResultsReq,
    ) -> thrift::Result<TSFetchResultsResp> {
        Ok(self.fetch(req, Family::V2))
    }

    fn handle_close_operation(&self, req: TSCloseOperationReq) -> thrift::Result<TSStatus> {
        Ok(match self.session() {
            Ok(s) => {
                if let Some(id) = req.query_id {
                    s.close_query(id);
                }
                ok()
            }
            Err(e) => error_status(&e),
        })
    }

    fn handle_cancel_operation(&self, req: TSCancelOperationReq) -> thrift::Result<TSStatus> {
        // Requests of one connection run one at a time, so the query to cancel is between
        // fetches: dropping its stream stops the work and takes it off SHOW QUERIES.
        Ok(match self.session() {
            Ok(s) => {
                s.close_query(req.query_id);
                ok()
            }
            Err(e) => error_status(&e),
        })
    }

    fn handle_fetch_metadata(
        &self,
        _req: TSFetchMetadataReq,
    ) -> thrift::Result<TSFetchMetadataResp> {
        Ok(TSFetchMetadataResp {
            status: error_status(&Error::Unsupported(
                "Fetch Metadata is not supported.".into(),
            )),
            metadata_in_json: None,
            columns_list: None,
            data_type: None,
        })
    }

    fn handle_set_storage_group(
        &self,
        _session_id: i64,
        storage_group: String,
    ) -> thrift::Result<TSStatus> {
        Ok(match PathPattern::parse(&storage_group) {
            Ok(path) => self.run_done(Statement::CreateDatabase {
                path,
                attributes: Default::default(),
            }),
            Err(e) => error_status(&e),
        })
    }

    fn handle_delete_storage_groups(
        &self,
        _session_id: i64,
        storage_group: Vec<String>,
    ) -> thrift::Result<TSStatus> {
        Ok(match parse_patterns(&storage_group) {
            Ok(patterns) => self.run_done(Statement::DeleteDatabases { paths: patterns }),
            Err(e) => error_status(&e),
        })
    }

    fn handle_create_timeseries(&self, req: TSCreateTimeseriesReq) -> thrift::Result<TSStatus> {
        Ok(
            match codec::create_timeseries(
                &req.path,
                req.data_type,
                req.encoding,
                req.compressor,
                req.props,
                req.tags,
                req.attributes,
                req.measurement_alias,
            ) {
                Ok(stmt) => self.run_done(stmt),
                Err(e) => error_status(&e),
            },
        )
    }

    fn handle_create_aligned_timeseries(
        &self,
        req: TSCreateAlignedTimeseriesReq,
    ) -> thrift::Result<TSStatus> {
        Ok(match codec::create_aligned_timeseries(req) {
            Ok(stmt) => self.run_done(stmt),
            Err(e) => error_status(&e),
        })
    }

    fn handle_create_multi_timeseries(
        &self,
        req: TSCreateMultiTimeseriesReq,
    ) -> thrift::Result<TSStatus> {
        let n = req.paths.len();
        if req.data_types.len() != n || req.encodings.len() != n || req.compressors.len() != n {
            return Ok(error_status(&Error::IllegalParameter(
                "createMultiTimeseries: list lengths differ".into(),
            )));
        }
        let pick = |l: &Option<Vec<BTreeMap<String, String>>>, i: usize| {
            l.as_ref().and_then(|v| v.get(i).cloned())
        };
        let mut failures = Vec::new();
        for i in 0..n {
            let alias = req
                .measurement_alias_list
                .as_ref()
                .and_then(|v| v.get(i).cloned());
            let r = codec::create_timeseries(
                &req.paths[i],
                req.data_types[i],
                req.encodings[i],
                req.compressors[i],
                pick(&req.props_list, i),
                pick(&req.tags_list, i),
                pick(&req.attributes_list, i),
                alias,
            )
            .and_then(|stmt| self.run(stmt));
            if let Err(e) = r {
                failures.push((i, e));
            }
        }
        Ok(match failures.len() {
            0 => ok(),
            1 => error_status(&failures.remove(0).1),
            _ => error_status(&Error::Multiple(failures)),
        })
    }

    fn handle_delete_timeseries(
        &self,
        _session_id: i64,
        path: Vec<String>,
    ) -> thrift::Result<TSStatus> {
        Ok(match parse_patterns(&path) {
            Ok(patterns) => self.run_done(Statement::DeleteTimeseries { paths: patterns }),
            Err(e) => error_status(&e),
        })
    }

    fn handle_create_timeseries_using_schema_template(
        &self,
        req: TCreateTimeseriesUsingSchemaTemplateReq,
    ) -> thrift::Result<TSStatus> {
        for p in &req.device_path_list {
            let st = match PathPattern::parse(p) {
                Ok(path) => self.run_done(Statement::ActivateSchemaTemplate { path }),
                Err(e) => error_status(&e),
            };
            if st.code != 200 {
                return Ok(st);
            }
        }
        Ok(ok())
    }

    fn handle_create_schema_template(
        &self,
        req: TSCreateSchemaTemplateReq,
    ) -> thrift::Result<TSStatus> {
        Ok(match codec::template(&req.serialized_template, &req.name) {
            Ok(def) => self.run_done(Statement::CreateTemplateDef(def)),
            Err(e) => error_status(&e),
        })
    }

    fn handle_append_schema_template(
        &self,
        req: TSAppendSchemaTemplateReq,
    ) -> thrift::Result<TSStatus> {
        Ok(match codec::template_measurements(&req) {
            Ok(measurements) => self.run_done(Statement::AppendTemplate {
                name: req.name,
                measurements,
            }),
            Err(e) => error_status(&e),
        })
    }

    fn handle_prune_schema_template(
        &self,
        req: TSPruneSchemaTemplateReq,
    ) -> thrift::Result<TSStatus> {
        Ok(self.run_done(Statement::PruneTemplate {
            name: req.name,
            path: req.path,
        }))
    }

    fn handle_query_schema_template(
        &self,
        req: TSQueryTemplateReq,
    ) -> thrift::Result<TSQueryTemplateResp> {
        Ok(self.template_query(req))
    }

    fn handle_set_schema_template(&self, req: TSSetSchemaTemplateReq) -> thrift::Result<TSStatus> {
        Ok(match PathPattern::parse(&req.prefix_path) {
            Ok(path) => self.run_done(Statement::SetSchemaTemplate {
                name: req.template_name,
                path,
            }),
            Err(e) => error_status(&e),
        })
    }

    fn handle_unset_schema_template(
        &self,
        req: TSUnsetSchemaTemplateReq,
    ) -> thrift::Result<TSStatus> {
        Ok(match PathPattern::parse(&req.prefix_path) {
            Ok(path) => self.run_done(Statement::UnsetSchemaTemplate {
                name: req.template_name,
                path,
            }),
            Err(e) => error_status(&e),
        })
    }

    fn handle_drop_schema_template(
        &self,
        req: TSDropSchemaTemplateReq,
    ) -> thrift::Result<TSStatus> {
        Ok(self.run_done(Statement::DropSchemaTemplate {
            name: req.template_name,
        }))
    }

    fn handle_insert_record(&self, req: TSInsertRecordReq) -> thrift::Result<TSStatus> {
        let rows = self.record_rows(
            &[req.prefix_path],
            &[req.measurements],
            &[req.values],
            &[req.timestamp],
            req.is_aligned.unwrap_or(false),
        );
        Ok(self.insert_rows(rows))
    }

    fn handle_insert_string_record(
        &self,
        req: TSInsertStringRecordReq,
    ) -> thrift::Result<TSStatus> {
        let rows = self.string_rows(
            &[req.prefix_path],
            &[req.measurements],
            &[req.values],
            &[req.timestamp],
            req.is_aligned.unwrap_or(false),
            false,
        );
        Ok(self.insert_rows(rows))
    }

    fn handle_insert_records(&self, req: TSInsertRecordsReq) -> thrift::Result<TSStatus> {
        let rows = self.record_rows(
            &req.prefix_paths,
            &req.measurements_list,
            &req.values_list,
            &req.timestamps,
            req.is_aligned.unwrap_or(false),
        );
        Ok(self.insert_rows(rows))
    }

    fn handle_insert_string_records(
        &self,
        req: TSInsertStringRecordsReq,
    ) -> thrift::Result<TSStatus> {
        let rows = self.string_rows(
            &req.prefix_paths,
            &req.measurements_list,
            &req.values_list,
            &req.timestamps,
            req.is_aligned.unwrap_or(false),
            true,
        );
        Ok(self.insert_rows(rows))
    }

    fn handle_insert_records_of_one_device(
        &self,
        req: TSInsertRecordsOfOneDeviceReq,
    ) -> thrift::Result<TSStatus> {
        let devices = vec![req.prefix_path.clone(); req.timestamps.len()];
        let rows = self.record_rows(
            &devices,
            &req.measurements_list,
            &req.values_list,
            &req.timestamps,
            req.is_aligned.unwrap_or(false),
        );
        Ok(self.insert_rows(rows))
    }

    fn handle_insert_string_records_of_one_device(
        &self,
        req: TSInsertStringRecordsOfOneDeviceReq,
    ) -> thrift::Result<TSStatus> {
        let devices = vec![req.prefix_path.clone(); req.timestamps.len()];
        let rows = self.string_rows(
            &devices,
            &req.measurements_list,
            &req.values_list,
            &req.timestamps,
            req.is_aligned.unwrap_or(false),
            true,
        );
        Ok(self.insert_rows(rows))
    }

    fn handle_insert_tablet(&self, req: TSInsertTabletReq) -> thrift::Result<TSStatus> {
        if req.write_to_table == Some(true) {
            return Ok(not_supported("Writing to the table model"));
        }
        if req.measurements.is_empty() {
            return Ok(ok());
        }
        let tablet = codec::tablet(
            &req.prefix_path,
            req.measurements,
            &req.values,
            &req.timestamps,
            &req.types,
            req.size,
            req.is_aligned.unwrap_or(false),
        );
        Ok(match tablet {
            Ok(t) => self.run_done(Statement::InsertTablet(t)),
            Err(e) => error_status(&e),
        })
    }

    fn handle_insert_tablets(&self, req: TSInsertTabletsReq) -> thrift::Result<TSStatus> {
        let n = req.prefix_paths.len();
        if req.measurements_list.len() != n
            || req.values_list.len() != n
            || req.timestamps_list.len() != n
            || req.types_list.len() != n
            || req.size_list.len() != n
        {
            return Ok(error_status(&Error::IllegalParameter(
                "insertTablets: list lengths differ".into(),
            )));
        }
        let aligned = req.is_aligned.unwrap_or(false);
        // IoTDB checks the privileges of the request as a whole: nothing is written if any
        // tablet is refused.
        let session = match self.session() {
            Ok(s) => s,
            Err(e) => return Ok(error_status(&e)),
        };
        let users = self.service.executor.engine().users();
        for (device, measurements) in req.prefix_paths.iter().zip(&req.measurements_list) {
            let checked = parse_path(device)
                .and_then(|d| query::auth::check_insert(users, &session.user, &d, measurements));
            if let Err(e @ Error::NoPermission(_)) = checked {
                return Ok(error_status(&e));
            }
        }
        let mut failures = Vec::new();
        for (i, measurements) in req.measurements_list.into_iter().enumerate() {
            if measurements.is_empty() {
                continue;
            }
            let r = codec::tablet(
                &req.prefix_paths[i],
                measurements,
                &req.values_list[i],
                &req.timestamps_list[i],
                &req.types_list[i],
                req.size_list[i],
                aligned,
            )
            .and_then(|t| self.run(Statement::InsertTablet(t)));
            if let Err(e) = r {
                failures.push((i, e));
            }
        }
        Ok(match failures.len() {
            0 => ok(),
            1 => error_status(&failures.remove(0).1),
            _ => error_status(&Error::Multiple(failures)),
        })
    }

    fn handle_delete_data(&self, req: TSDeleteDataReq) -> thrift::Result<TSStatus> {
        Ok(match parse_patterns(&req.paths) {
            Ok(paths) => self.run_done(Statement::DeleteDataRange {
                paths,
                start: req.start_time,
                end: req.end_time,
            }),
            Err(e) => error_status(&e),
        })
    }

    fn handle_test_insert_record(&self, _req: TSInsertRecordReq) -> thrift::Result<TSStatus> {
        Ok(to_status(self.session().map(|_| ())))
    }

    fn handle_test_insert_string_record(
        &self,
        _req: TSInsertStringRecordReq,
    ) -> thrift::Result<TSStatus> {
        Ok(to_status(self.session().map(|_| ())))
    }

    fn handle_test_insert_records(&self, _req: TSInsertRecordsReq) -> thrift::Result<TSStatus> {
        Ok(to_status(self.session().map(|_| ())))
    }

    fn handle_test_insert_string_records(
        &self,
        _req: TSInsertStringRecordsReq,
    ) -> thrift::Result<TSStatus> {
        Ok(to_status(self.session().map(|_| ())))
    }

    fn handle_test_insert_records_of_one_device(
        &self,
        _req: TSInsertRecordsOfOneDeviceReq,
    ) -> thrift::Result<TSStatus> {
        Ok(to_status(self.session().map(|_| ())))
    }

    fn handle_test_insert_tablet(&self, _req: TSInsertTabletReq) -> thrift::Result<TSStatus> {
        Ok(to_status(self.session().map(|_| ())))
    }

    fn handle_test_insert_tablets(&self, _req: TSInsertTabletsReq) -> thrift::Result<TSStatus> {
        Ok(to_status(self.session().map(|_| ())))
    }

    fn handle_show_configuration_template(&self) -> thrift::Result<TShowConfigurationTemplateResp> {
        Ok(TShowConfigurationTemplateResp {
            status: not_supported("showConfigurationTemplate"),
            content: String::new(),
        })
    }

    fn handle_show_configuration(&self, _node_id: i32) -> thrift::Result<TShowConfigurationResp> {
        Ok(TShowConfigurationResp {
            status: not_supported("showConfiguration"),
            content: String::new(),
        })
    }

    fn handle_test_connection_empty_r_p_c(&self) -> thrift::Result<TSStatus> {
        Ok(ok())
    }

    fn handle_handshake(&self) -> thrift::Result<TSStatus> {
        Ok(not_supported("handshake"))
    }

    fn handle_send_pipe_data(&self, _buff: Vec<u8>) -> thrift::Result<TSStatus> {
        Ok(not_supported("sendPipeData"))
    }

    fn handle_send_file(
        &self,
        _meta_info: TSyncTransportMetaInfo,
        _buff: Vec<u8>,
    ) -> thrift::Result<TSStatus> {
        Ok(not_supported("sendFile"))
    }

    fn handle_pipe_transfer(&self) -> thrift::Result<TPipeTransferResp> {
        Ok(TPipeTransferResp {
            status: not_supported("pipeTransfer"),
            body: None,
        })
    }

    fn handle_pipe_subscribe(&self) -> thrift::Result<TPipeSubscribeResp> {
        Ok(TPipeSubscribeResp {
            status: not_supported("pipeSubscribe"),
            version: 0,
            type_: 0,
            body: None,
        })
    }

    fn handle_get_backup_configuration(&self) -> thrift::Result<TSBackupConfigurationResp> {
        Ok(TSBackupConfigurationResp {
            status: ok(),
            enable_operation_sync: Some(false),
            secondary_address: None,
            secondary_port: None,
        })
    }

    fn handle_fetch_all_connections_info(&self) -> thrift::Result<TSConnectionInfoResp> {
        Ok(TSConnectionInfoResp {
            connection_info_list: Vec::new(),
        })
    }
}
