//! The remote backend: IoTDB's client protocol over TCP (our Thrift IDL in `protocol`),
//! framed transport, binary or compact protocol.
//!
//! A session keeps one connection. When a call fails because the connection broke, the
//! session reconnects — to the next of its node URLs first, round robin, as the official
//! clients' `node_urls` do — opens a new server session and retries the call once.
//! Queries opened on a broken connection fail with [`Error::Connection`].

use crate::{closed, Error, Response, Result, ResultSet, RowSource, Session, TimeseriesSpec};
use model::schema::TemplateMeasurement;
use model::{ColumnData, InsertRows, InsertTablet, RowBatch, RowValues, TSDataType, TemplateDef};
use parking_lot::Mutex;
use protocol::client::*;
use protocol::codec::{dataset, record, tablet, template, tsblock};
use protocol::common::TSStatus;
use protocol::rpc::{read_fetch_reply, FetchReply};
use protocol::thrift::protocol::{
    TBinaryInputProtocol, TBinaryOutputProtocol, TCompactInputProtocol, TCompactOutputProtocol,
    TFieldIdentifier, TInputProtocol, TMessageIdentifier, TMessageType, TOutputProtocol,
    TSerializable, TStructIdentifier, TType,
};
use protocol::thrift::transport::{
    TFramedReadTransport, TFramedWriteTransport, TIoChannel, TTcpChannel,
};
use protocol::thrift::TThriftClient;
use query::{TemplateAnswer, TemplateQuery};
use std::collections::{BTreeMap, VecDeque};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

type Rpc =
    IClientRPCServiceSyncClient<Box<dyn TInputProtocol + Send>, Box<dyn TOutputProtocol + Send>>;

/// Status codes the official clients treat as success.
const SUCCESS: i32 = 200;
const REDIRECTION_RECOMMEND: i32 = 400;
const MULTIPLE_ERROR: i32 = 302;

/// How to reach a server.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// `host:port` of each node; tried in order, then round robin on failures.
    pub nodes: Vec<String>,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// Rows per fetch of a query result.
    pub fetch_size: i32,
    /// Session time zone sent at login.
    pub zone_id: String,
    /// Use the compact protocol instead of the binary one.
    pub compact: bool,
    /// TCP connect timeout per node.
    pub connect_timeout: Duration,
    /// Socket read/write timeout (`None` waits as long as the server takes).
    pub socket_timeout: Option<Duration>,
}

impl RemoteConfig {
    /// Defaults (`root`/`root`, fetch size 5000, UTC, binary protocol) for `host:port`.
    pub fn new(host: &str, port: u16) -> Self {
        RemoteConfig {
            nodes: vec![format!("{host}:{port}")],
            user: "root".into(),
            password: "root".into(),
            fetch_size: 5000,
            zone_id: "UTC".into(),
            compact: false,
            connect_timeout: Duration::from_secs(10),
            socket_timeout: None,
        }
    }
}

struct Conn {
    rpc: Rpc,
    session_id: i64,
    /// The statement id the server gave this session (`requestStatementId`, asked once after
    /// login as the official clients do); Apache IoTDB refuses statements under other ids.
    statement_id: i64,
    /// A second handle on the socket, for [`Interrupter::interrupt`].
    socket: Option<TcpStream>,
    /// A third one, from which a bulk read takes fetch answers in place (the Thrift
    /// transport reads exactly one frame per call, so the two never share buffered bytes).
    raw: TcpStream,
    /// Frames a bulk read read its answers into, kept for the next one (see [`FramePool`]).
    frames: FramePool,
}

/// The frame buffers of a connection's bulk reads, kept from one read to the next: each
/// read used to start with fresh ones, and a fresh 1 MiB buffer costs 256 page faults once
/// the allocator has given its pages back (every few queries in a loop of `todf()`).
#[derive(Default)]
struct FramePool(Vec<Vec<u8>>);

impl FramePool {
    /// Frames kept: those in flight at once, and the one being decoded.
    const KEPT: usize = FETCHES_IN_FLIGHT + 1;
    /// Largest frame kept (a session's large fetch size makes larger pages; those are let go).
    const MAX_BYTES: usize = 4 * BULK_PAGE_BYTES;

    /// Keeps `frame` when there is room and it is not too large.
    fn give(&mut self, mut frame: Vec<u8>) {
        if self.0.len() < Self::KEPT && frame.capacity() <= Self::MAX_BYTES {
            frame.clear();
            self.0.push(frame);
        }
    }
}

/// What an [`Interrupter`] shares with its session.
#[derive(Default)]
struct InterruptState {
    /// The socket of the current connection.
    socket: Mutex<Option<TcpStream>>,
    /// Set by `interrupt`, cleared when the next call starts.
    flag: AtomicBool,
}

/// Stops the call a session is blocked in, from another thread (the CLI's Ctrl-C).
/// For a [`RemoteSession`] the connection is shut down, so the server drops the session and
/// its queries, the call fails with status 715 and is not retried, and the next call
/// reconnects. For an [`crate::EmbeddedSession`] its running query is killed: its scan stops
/// at the next page or window and the call fails with status 715.
#[derive(Clone)]
pub struct Interrupter(Target);

#[derive(Clone)]
enum Target {
    Remote(Arc<InterruptState>),
    Embedded(Arc<crate::embedded::Running>),
}

impl Interrupter {
    /// Interrupts the running call (nothing happens when none runs).
    pub fn interrupt(&self) {
        match &self.0 {
            Target::Remote(state) => {
                state.flag.store(true, Ordering::SeqCst);
                if let Some(s) = state.socket.lock().as_ref() {
                    let _ = s.shutdown(Shutdown::Both);
                }
            }
            Target::Embedded(running) => running.kill(),
        }
    }

    pub(crate) fn embedded(running: Arc<crate::embedded::Running>) -> Self {
        Interrupter(Target::Embedded(running))
    }
}

fn interrupted() -> Error {
    Error::Status {
        code: model::TSStatusCode::QueryWasKilled.code(),
        message: "the statement was interrupted by the client".into(),
    }
}

struct Shared {
    config: RemoteConfig,
    conn: Option<Conn>,
    /// Index of the node the next connection attempt starts at.
    next_node: usize,
    /// Bumped on every reconnect; queries remember the generation they were opened on.
    generation: u64,
    open: bool,
    interrupt: Arc<InterruptState>,
}

/// A session on a remote server.
pub struct RemoteSession {
    shared: Arc<Mutex<Shared>>,
}

fn transport_error(e: &protocol::thrift::Error) -> bool {
    matches!(
        e,
        protocol::thrift::Error::Transport(_) | protocol::thrift::Error::Protocol(_)
    )
}

/// Whether the connection cannot carry another request after `e`: a broken transport or
/// an unreadable answer, and also a request the server refused to decode (a Thrift
/// application exception): Apache IoTDB leaves the rest of such a request unread and
/// would take its bytes for the start of the next one.
fn poisons_connection(e: &protocol::thrift::Error) -> bool {
    transport_error(e) || matches!(e, protocol::thrift::Error::Application(_))
}

fn rpc_error(e: protocol::thrift::Error) -> Error {
    match e {
        // the kind alone ("protocol error") hides the server's reason
        protocol::thrift::Error::Application(a) => Error::Connection(format!(
            "RPC failed: the server refused the request ({:?}): {}",
            a.kind, a.message
        )),
        e => Error::Connection(format!("RPC failed: {e}")),
    }
}

/// The official clients' `verify_success`: 200 and 400 pass; 302 passes when every
/// sub-status does; anything else is a [`Error::Status`].
fn check(st: &TSStatus) -> Result<()> {
    if st.code == SUCCESS || st.code == REDIRECTION_RECOMMEND {
        return Ok(());
    }
    if st.code == MULTIPLE_ERROR {
        if let Some(subs) = &st.sub_status {
            let failed: Vec<String> = subs
                .iter()
                .filter(|s| s.code != SUCCESS && s.code != REDIRECTION_RECOMMEND)
                .map(|s| format!("{}: {}", s.code, s.message.clone().unwrap_or_default()))
                .collect();
            if failed.is_empty() {
                return Ok(());
            }
            return Err(Error::Status {
                code: st.code,
                message: failed.join("; "),
            });
        }
    }
    Err(Error::Status {
        code: st.code,
        message: st.message.clone().unwrap_or_default(),
    })
}

fn connect_one(config: &RemoteConfig, node: &str) -> Result<Conn> {
    let unreachable = |e: &dyn std::fmt::Display| Error::Connection(format!("{node}: {e}"));
    let addrs: Vec<_> = node
        .to_socket_addrs()
        .map_err(|e| unreachable(&e))?
        .collect();
    let mut last = None;
    let mut stream = None;
    for a in addrs {
        match TcpStream::connect_timeout(&a, config.connect_timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = Some(e),
        }
    }
    let stream = match (stream, last) {
        (Some(s), _) => s,
        (None, Some(e)) => return Err(unreachable(&e)),
        (None, None) => return Err(unreachable(&"no address")),
    };
    let _ = stream.set_nodelay(true);
    let socket = stream.try_clone().ok();
    let raw = stream.try_clone().map_err(|e| unreachable(&e))?;
    stream
        .set_read_timeout(config.socket_timeout)
        .and_then(|_| stream.set_write_timeout(config.socket_timeout))
        .map_err(|e| unreachable(&e))?;
    let (r, w) = TTcpChannel::with_stream(stream)
        .split()
        .map_err(|e| unreachable(&e))?;
    let (input, output): (
        Box<dyn TInputProtocol + Send>,
        Box<dyn TOutputProtocol + Send>,
    ) = if config.compact {
        (
            Box::new(TCompactInputProtocol::new(TFramedReadTransport::new(r))),
            Box::new(TCompactOutputProtocol::new(TFramedWriteTransport::new(w))),
        )
    } else {
        (
            Box::new(TBinaryInputProtocol::new(
                TFramedReadTransport::new(r),
                true,
            )),
            Box::new(TBinaryOutputProtocol::new(
                TFramedWriteTransport::new(w),
                true,
            )),
        )
    };
    let mut rpc = IClientRPCServiceSyncClient::new(input, output);
    let resp = rpc
        .open_session(TSOpenSessionReq::new(
            TSProtocolVersion::IOTDB_SERVICE_PROTOCOL_V3,
            config.zone_id.clone(),
            config.user.clone(),
            Some(config.password.clone()),
            Some(BTreeMap::from([(
                "version".to_string(),
                "V_1_0".to_string(),
            )])),
        ))
        .map_err(|e| unreachable(&e))?;
    check(&resp.status)?;
    let session_id = resp
        .session_id
        .ok_or_else(|| Error::Connection(format!("{node}: login answered without a session id")))?;
    let statement_id = rpc
        .request_statement_id(session_id)
        .map_err(|e| unreachable(&e))?;
    Ok(Conn {
        rpc,
        session_id,
        statement_id,
        socket,
        raw,
        frames: FramePool::default(),
    })
}

impl Shared {
    /// Connects to the first node that answers, starting at `next_node`.
    fn connect(&mut self) -> Result<()> {
        let n = self.config.nodes.len();
        if n == 0 {
            return Err(Error::Connection("no node URL given".into()));
        }
        let mut failures = Vec::new();
        for k in 0..n {
            let i = (self.next_node + k) % n;
            let node = self.config.nodes[i].clone();
            match connect_one(&self.config, &node) {
                Ok(mut conn) => {
                    *self.interrupt.socket.lock() = conn.socket.take();
                    self.conn = Some(conn);
                    self.next_node = i;
                    self.generation += 1;
                    return Ok(());
                }
                // a refused login is an answer, not an unreachable node
                Err(e @ Error::Status { .. }) => return Err(e),
                Err(Error::Connection(m)) => failures.push(m),
            }
        }
        Err(Error::Connection(format!(
            "cannot connect to any node: {}",
            failures.join("; ")
        )))
    }

    /// Runs `f` on the connection; on a broken connection, reconnects (next node first)
    /// and runs it once more.
    fn call<T>(
        &mut self,
        mut f: impl FnMut(&mut Rpc, i64, i64) -> protocol::thrift::Result<T>,
    ) -> Result<T> {
        if !self.open {
            return Err(closed());
        }
        self.interrupt.flag.store(false, Ordering::SeqCst);
        for attempt in 0..2 {
            if self.conn.is_none() {
                self.connect()?;
            }
            let Some(conn) = self.conn.as_mut() else {
                return Err(closed());
            };
            match f(&mut conn.rpc, conn.session_id, conn.statement_id) {
                Ok(v) => return Ok(v),
                Err(e)
                    if transport_error(&e) && self.interrupt.flag.swap(false, Ordering::SeqCst) =>
                {
                    self.conn = None;
                    return Err(interrupted());
                }
                Err(e) if transport_error(&e) && attempt == 0 => {
                    self.conn = None;
                    self.next_node += 1;
                }
                Err(e) => {
                    if poisons_connection(&e) {
                        self.conn = None;
                    }
                    return Err(rpc_error(e));
                }
            }
        }
        Err(closed())
    }

    fn status(
        &mut self,
        f: impl FnMut(&mut Rpc, i64, i64) -> protocol::thrift::Result<TSStatus>,
    ) -> Result<()> {
        check(&self.call(f)?)
    }
}

impl RemoteSession {
    /// Connects and logs in (first reachable node of `config.nodes`).
    pub fn open(config: RemoteConfig) -> Result<Self> {
        crate::check_zone(&config.zone_id)?;
        let mut shared = Shared {
            config,
            conn: None,
            next_node: 0,
            generation: 0,
            open: true,
            interrupt: Arc::default(),
        };
        shared.connect()?;
        Ok(RemoteSession {
            shared: Arc::new(Mutex::new(shared)),
        })
    }

    fn status(
        &self,
        f: impl FnMut(&mut Rpc, i64, i64) -> protocol::thrift::Result<TSStatus>,
    ) -> Result<()> {
        self.shared.lock().status(f)
    }

    /// A handle that interrupts this session's running call from another thread.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(Target::Remote(self.shared.lock().interrupt.clone()))
    }

    /// Turns an execute response into a result (or `Done` for statements without rows);
    /// `statement` is the SQL the result's fetch requests repeat (empty for raw and last
    /// data queries, as the official clients send).
    fn response(&self, resp: TSExecuteStatementResp, statement: &str) -> Result<Response> {
        check(&resp.status)?;
        let (Some(query_id), Some(columns)) = (resp.query_id, resp.columns.clone()) else {
            return Ok(Response::Done);
        };
        let types = resp
            .data_type_list
            .iter()
            .flatten()
            .map(|t| {
                TSDataType::from_name(t).ok_or_else(|| {
                    Error::Connection(format!("server answered with unknown data type {t}"))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if types.len() != columns.len() {
            return Err(Error::Connection(format!(
                "server answered {} columns with {} data types",
                columns.len(),
                types.len()
            )));
        }
        let column_index: Vec<usize> = match (
            &resp.column_index2_ts_block_column_index_list,
            &resp.column_name_index_map,
        ) {
            (Some(list), _) if list.len() == columns.len() => {
                list.iter().map(|&i| i.max(0) as usize).collect()
            }
            (_, Some(map)) => columns
                .iter()
                .enumerate()
                .map(|(i, c)| map.get(c).map_or(i, |&j| j.max(0) as usize))
                .collect(),
            _ => (0..columns.len()).collect(),
        };
        let mut data_types =
            vec![TSDataType::Text; column_index.iter().map(|i| i + 1).max().unwrap_or(0)];
        for (&i, &t) in column_index.iter().zip(&types) {
            data_types[i] = t;
        }
        let (generation, fetch_size) = {
            let s = self.shared.lock();
            (s.generation, s.config.fetch_size)
        };
        let mut rows = RemoteRows {
            shared: self.shared.clone(),
            generation,
            query_id,
            statement: statement.to_string(),
            fetch_size,
            data_types,
            pending: VecDeque::new(),
            more: resp.more_data.unwrap_or(true),
            closed: false,
        };
        rows.take(resp.query_result, resp.query_data_set)?;
        Ok(Response::Rows(ResultSet::new(
            columns,
            types,
            resp.ignore_time_stamp.unwrap_or(false),
            column_index,
            Box::new(rows),
        )))
    }

    fn query(&self, resp: TSExecuteStatementResp) -> Result<ResultSet> {
        match self.response(resp, "")? {
            Response::Rows(r) => Ok(r),
            Response::Done => Err(Error::Connection("the server answered without rows".into())),
        }
    }
}

/// Rows of a remote query: the first page from the execute response, then
/// `fetchResultsV2` pages.
struct RemoteRows {
    shared: Arc<Mutex<Shared>>,
    generation: u64,
    query_id: i64,
    /// The SQL of the query: Apache IoTDB's `TSFetchResultsReq` requires it (a fetch
    /// without it is refused with a Thrift protocol error, and the server then reads the
    /// connection's next request out of step).
    statement: String,
    fetch_size: i32,
    /// Logical type per data column (decoding V1 data sets).
    data_types: Vec<TSDataType>,
    pending: VecDeque<RowBatch>,
    more: bool,
    closed: bool,
}

impl RemoteRows {
    fn take(
        &mut self,
        blocks: Option<Vec<Vec<u8>>>,
        data_set: Option<TSQueryDataSet>,
    ) -> Result<()> {
        for b in blocks.into_iter().flatten() {
            let block = tsblock::decode_tsblock(&b)?;
            if !block.batch.is_empty() {
                self.pending.push_back(block.batch);
            }
        }
        if let Some(ds) = data_set {
            let batch = dataset::decode_query_data_set(&ds, &self.data_types)?;
            if !batch.is_empty() {
                self.pending.push_back(batch);
            }
        }
        Ok(())
    }
}

impl RemoteRows {
    /// The connection of this query, or the error that it is gone.
    fn conn<'a>(&mut self, s: &'a mut Shared) -> Result<&'a mut Conn> {
        if s.generation != self.generation || s.conn.is_none() || !s.open {
            self.closed = true;
            return Err(Error::Connection(
                "the connection of this query was lost".into(),
            ));
        }
        s.interrupt.flag.store(false, Ordering::SeqCst);
        s.conn.as_mut().ok_or_else(closed)
    }

    /// The request for the next page of `rows` rows, as the official clients build it:
    /// the query's SQL and the statement id of the session on this connection.
    fn fetch_request(&self, conn: &Conn, rows: i32) -> TSFetchResultsReq {
        TSFetchResultsReq::new(
            conn.session_id,
            self.statement.clone(),
            rows,
            self.query_id,
            true,
            None,
            conn.statement_id,
        )
    }

    /// A failed fetch: the query is over; a connection that cannot carry another request
    /// is dropped (an interrupted one reports the interruption).
    fn fetch_failed(&mut self, s: &mut Shared, e: protocol::thrift::Error) -> Error {
        self.closed = true;
        if poisons_connection(&e) {
            s.conn = None;
            if transport_error(&e) && s.interrupt.flag.swap(false, Ordering::SeqCst) {
                return interrupted();
            }
        }
        rpc_error(e)
    }

    /// Takes a fetch answer: status, whether more pages follow, its rows.
    fn answer(&mut self, resp: TSFetchResultsResp) -> Result<()> {
        check(&resp.status)?;
        self.more = more_pages(&resp);
        self.take(resp.query_result, resp.query_data_set)
    }

    /// Takes a fetch answer of a bulk read, read in place from `message`: its TsBlocks are
    /// decoded onto the end of `out`.
    fn decode_page(&mut self, message: &[u8], reply: FetchReply, out: &mut RowBatch) -> Result<()> {
        check(&reply.status)?;
        self.more = more_in(&reply);
        for range in reply.query_result {
            let b = message.get(range).unwrap_or_default();
            let rows = tsblock::tsblock_rows(b)?;
            reserve_rows(out, rows);
            tsblock::decode_tsblock_into(b, out)?;
        }
        if let Some(ds) = reply.query_data_set {
            let batch = dataset::decode_query_data_set(&ds, &self.data_types)?;
            if !batch.is_empty() {
                *out = query::result::concat_batches(vec![std::mem::take(out), batch]);
            }
        }
        Ok(())
    }

    /// Rows per page when every remaining row is wanted: pages of about [`BULK_PAGE_BYTES`]
    /// when every column has a fixed width (so a page's size is known before it is asked
    /// for), never fewer rows than the session's fetch size.
    fn bulk_fetch_size(&self) -> i32 {
        let widths: Option<usize> = self
            .data_types
            .iter()
            .map(|t| match t.physical() {
                TSDataType::Boolean => Some(1),
                TSDataType::Int32 | TSDataType::Float => Some(4),
                TSDataType::Int64 | TSDataType::Double => Some(8),
                _ => None,
            })
            .sum();
        let Some(widths) = widths else {
            return self.fetch_size;
        };
        // the time column, values, and a null bitmap byte per 8 rows of each column
        let row = 8 + widths + self.data_types.len().div_ceil(8).max(1);
        let rows = i32::try_from(BULK_PAGE_BYTES / row).unwrap_or(i32::MAX);
        rows.max(self.fetch_size)
    }
}

/// Whether pages follow a fetch answer.
fn more_pages(resp: &TSFetchResultsResp) -> bool {
    more_after(resp.has_result_set, resp.more_data)
}

/// Whether pages follow a fetch answer read in place.
fn more_in(reply: &FetchReply) -> bool {
    more_after(reply.has_result_set, reply.more_data)
}

fn more_after(has_result_set: bool, more_data: Option<bool>) -> bool {
    more_data.unwrap_or(has_result_set) && has_result_set
}

/// Bytes per page when a whole result is read at once (`todf()`, `collect_rows`): large
/// enough that round trips cost little next to the data (the next page is asked for before
/// the current one is read; docs/adr/0013), and small enough that the server's buffers for a page are reused from
/// page to page instead of being mapped fresh: with 4 MiB pages a 1 M x 4 DOUBLE result
/// cost the server 12,000-15,000 page faults and 60-70 ms of CPU, with 1 MiB pages
/// 6,000-8,000 and 40-50 ms (the official client's 5,000-row pages: 5,300-5,700 faults).
const BULK_PAGE_BYTES: usize = 1 << 20;

/// The two channels of a bulk read's fetcher: answers (with the frames they lie in) to the
/// decoder, and frames back from it for reuse.
struct Pages {
    tx: std::sync::mpsc::SyncSender<(Vec<u8>, FetchReply)>,
    frames: std::sync::mpsc::Receiver<Vec<u8>>,
}

/// Sends `req` again and again, keeping [`FETCHES_IN_FLIGHT`] requests on the wire, reads
/// each answer in place from `raw` (into a frame the decoder gave back, when there is one)
/// and hands it to the decoder, until one says no pages follow (or fails). The answers to
/// requests sent past the end (empty pages, or a status for a query the server has already
/// released) are read and dropped, so that the connection stays in step.
fn fetch_pages(
    rpc: &mut Rpc,
    raw: &TcpStream,
    req: &TSFetchResultsReq,
    pages: &Pages,
) -> protocol::thrift::Result<()> {
    let mut asked = VecDeque::from([send_fetch(rpc, req)?]);
    while let Some(seq) = asked.pop_front() {
        if asked.len() + 1 < FETCHES_IN_FLIGHT {
            asked.push_back(send_fetch(rpc, req)?);
        }
        let mut frame = pages.frames.try_recv().unwrap_or_default();
        let reply = recv_fetch(raw, seq, &mut frame)?;
        let last = check(&reply.status).is_err() || !more_in(&reply);
        if last {
            let mut spare = Vec::new();
            for seq in asked.drain(..) {
                match recv_fetch(raw, seq, &mut spare) {
                    Err(e) if poisons_connection(&e) => return Err(e),
                    _ => {}
                }
            }
        }
        // a closed channel: the decoder stopped on an error
        if pages.tx.send((frame, reply)).is_err() || last {
            break;
        }
    }
    Ok(())
}

/// Reads the answer to the `fetchResultsV2` call `seq` from `raw` into `frame`, in place
/// (`protocol::rpc::read_fetch_reply`).
fn recv_fetch(
    mut raw: &TcpStream,
    seq: i32,
    frame: &mut Vec<u8>,
) -> protocol::thrift::Result<FetchReply> {
    use protocol::thrift::{TransportError, TransportErrorKind};
    let broken = |m: String| {
        protocol::thrift::Error::Transport(TransportError::new(TransportErrorKind::Unknown, m))
    };
    match protocol::frame::read_frame_into(&mut raw, protocol::frame::IOTDB_MAX_FRAME_SIZE, frame) {
        Ok(true) => read_fetch_reply(frame, seq),
        Ok(false) => Err(broken("the server closed the connection".into())),
        Err(e) => Err(broken(e.to_string())),
    }
}

/// Makes room for `rows` more rows (a page) in every buffer of `out`: room for
/// [`RESERVED_PAGES`] pages at first, then doubling.
fn reserve_rows(out: &mut RowBatch, rows: usize) {
    reserve_huge(&mut out.times, rows);
    for c in &mut out.columns {
        match &mut c.data {
            ColumnData::Boolean(v) => reserve_huge(v, rows),
            ColumnData::Int32(v) => reserve_huge(v, rows),
            ColumnData::Int64(v) => reserve_huge(v, rows),
            ColumnData::Float(v) => reserve_huge(v, rows),
            ColumnData::Double(v) => reserve_huge(v, rows),
            ColumnData::Binary(v) => v.reserve(rows),
        }
    }
}

/// Pages a bulk read makes room for at first. The room is address space until rows fill
/// it (the unused rest is given back at the end), and moving a buffer once it is filled
/// splits its huge pages, so the first reservation is generous: with pages of
/// [`BULK_PAGE_BYTES`], 64 pages of a 1 M x 4 DOUBLE result hold 1.6 M rows.
const RESERVED_PAGES: usize = 64;

/// At most this many values are reserved at first (256 MiB of DOUBLEs), however large the
/// pages (a session's fetch size can make them larger than [`BULK_PAGE_BYTES`]).
const RESERVED_VALUES: usize = 1 << 25;

/// Reserves room for `more` values (see [`reserve_rows`]) and asks the kernel for
/// transparent huge pages on the buffer: a fresh 4 KiB page costs a page fault each, and a
/// million-row result fills ten thousand of them (on a VM, more time than the rest of its
/// decoding). When the generous first reservation is refused, it grows as a `Vec` does.
fn reserve_huge<T>(v: &mut Vec<T>, more: usize) {
    if v.capacity() - v.len() >= more {
        return;
    }
    let first = v.len()
        + more
            .saturating_mul(RESERVED_PAGES)
            .min(RESERVED_VALUES)
            .max(more);
    let grown = (v.len() + more).max(v.capacity() * 2).max(first);
    if v.try_reserve_exact(grown - v.len()).is_err() {
        v.reserve(more);
    }
    advise_huge_pages(v.as_ptr() as usize, v.capacity() * std::mem::size_of::<T>());
}

/// `madvise(MADV_HUGEPAGE)` on the whole pages of `[addr, addr + len)` when it spans at
/// least one huge page (Linux; elsewhere nothing). Advice only: a failure changes nothing.
fn advise_huge_pages(addr: usize, len: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE_PAGE: usize = 2 << 20;
        const PAGE: usize = 4096;
        let start = addr.next_multiple_of(PAGE);
        let end = (addr + len) / PAGE * PAGE;
        if end >= start + HUGE_PAGE {
            // SAFETY: the range lies inside a live allocation of this process, and the
            // advice changes neither its contents nor its mapping.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (addr, len);
}

/// Gives back the room [`reserve_rows`] left over (the buffers go to numpy as they are).
fn shrink_rows(out: &mut RowBatch) {
    out.times.shrink_to_fit();
    for c in &mut out.columns {
        match &mut c.data {
            ColumnData::Boolean(v) => v.shrink_to_fit(),
            ColumnData::Int32(v) => v.shrink_to_fit(),
            ColumnData::Int64(v) => v.shrink_to_fit(),
            ColumnData::Float(v) => v.shrink_to_fit(),
            ColumnData::Double(v) => v.shrink_to_fit(),
            ColumnData::Binary(v) => v.shrink_to_fit(),
        }
    }
}

/// Fetch requests a bulk read keeps in flight on its connection (see
/// [`RemoteRows::collect_all`]).
const FETCHES_IN_FLIGHT: usize = 2;

/// Sends a `fetchResultsV2` call without reading its answer (the generated client does
/// both in one call); returns its sequence id for [`recv_fetch`]. Thrift servers read a
/// connection's frames one after the other, so several calls may be on the wire at once.
fn send_fetch(rpc: &mut Rpc, req: &TSFetchResultsReq) -> protocol::thrift::Result<i32> {
    let seq = rpc.increment_sequence_number();
    let o = rpc.o_prot_mut();
    o.write_message_begin(&TMessageIdentifier::new(
        "fetchResultsV2",
        TMessageType::Call,
        seq,
    ))?;
    o.write_struct_begin(&TStructIdentifier::new("fetchResultsV2_args"))?;
    o.write_field_begin(&TFieldIdentifier::new("req", TType::Struct, 1))?;
    req.write_to_out_protocol(o)?;
    o.write_field_end()?;
    o.write_field_stop()?;
    o.write_struct_end()?;
    o.write_message_end()?;
    o.flush()?;
    Ok(seq)
}

impl RowSource for RemoteRows {
    fn next_batch(&mut self) -> Result<Option<RowBatch>> {
        loop {
            if let Some(b) = self.pending.pop_front() {
                return Ok(Some(b));
            }
            if !self.more || self.closed {
                return Ok(None);
            }
            let shared = self.shared.clone();
            let mut s = shared.lock();
            let req = {
                let conn = self.conn(&mut s)?;
                self.fetch_request(conn, self.fetch_size)
            };
            let resp = s
                .conn
                .as_mut()
                .ok_or_else(closed)?
                .rpc
                .fetch_results_v2(req);
            let resp = match resp {
                Ok(r) => r,
                Err(e) => return Err(self.fetch_failed(&mut s, e)),
            };
            drop(s);
            self.answer(resp)?;
        }
    }

    /// Fetches the rest in pages of [`RemoteRows::bulk_fetch_size`] rows on a helper
    /// thread that keeps [`FETCHES_IN_FLIGHT`] requests on the wire, while this thread
    /// decodes each page straight into the result's buffers: the server works on page k+1
    /// while page k travels and is decoded here.
    fn collect_batch(&mut self) -> Result<RowBatch> {
        let mut out = query::result::concat_batches(self.pending.drain(..).collect());
        if !self.more || self.closed {
            return Ok(out);
        }
        let shared = self.shared.clone();
        let mut s = shared.lock();
        let fetch_size = self.bulk_fetch_size();
        let conn = self.conn(&mut s)?;
        let req = self.fetch_request(conn, fetch_size);
        let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<u8>, FetchReply)>(1);
        // frames go back to the fetcher once decoded, to be read into again; the connection's
        // kept frames go first
        let (back, frames) = std::sync::mpsc::channel::<Vec<u8>>();
        for frame in conn.frames.0.drain(..) {
            let _ = back.send(frame);
        }
        let (rpc, raw) = (&mut conn.rpc, &conn.raw);
        let (fetched, decoded, frames) = std::thread::scope(|scope| {
            let fetcher = scope.spawn(move || {
                let pages = Pages { tx, frames };
                let fetched = fetch_pages(rpc, raw, &req, &pages);
                // the frames back from the decoder, to keep
                (fetched, pages.frames)
            });
            let mut decoded = Ok(());
            for (frame, reply) in rx {
                if let Err(e) = self.decode_page(&frame, reply, &mut out) {
                    decoded = Err(e);
                    break;
                }
                let _ = back.send(frame);
            }
            match fetcher.join() {
                Ok((fetched, frames)) => (fetched, decoded, Some(frames)),
                Err(_) => (
                    Err(protocol::thrift::Error::from(
                        "fetch thread panicked".to_string(),
                    )),
                    decoded,
                    None,
                ),
            }
        });
        for frame in frames.iter().flat_map(|f| f.try_iter()) {
            conn.frames.give(frame);
        }
        if let Err(e) = fetched {
            return Err(self.fetch_failed(&mut s, e));
        }
        drop(s);
        decoded?;
        shrink_rows(&mut out);
        Ok(out)
    }

    fn set_fetch_size(&mut self, rows: i32) {
        self.fetch_size = rows;
    }

    fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        self.pending.clear();
        let mut s = self.shared.lock();
        if s.generation != self.generation || !s.open {
            return Ok(());
        }
        let query_id = self.query_id;
        // Apache IoTDB 2.0 refuses a close without the statement id (710)
        s.status(|rpc, session, stmt_id| {
            rpc.close_operation(TSCloseOperationReq::new(session, query_id, Some(stmt_id)))
        })
    }
}

impl Drop for RemoteRows {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

fn maps(pairs: &[(String, String)]) -> Option<BTreeMap<String, String>> {
    (!pairs.is_empty()).then(|| pairs.iter().cloned().collect())
}

fn list_of_maps(
    specs: &[TimeseriesSpec],
    pick: impl Fn(&TimeseriesSpec) -> &[(String, String)],
) -> Option<Vec<BTreeMap<String, String>>> {
    specs.iter().any(|s| !pick(s).is_empty()).then(|| {
        specs
            .iter()
            .map(|s| pick(s).iter().cloned().collect())
            .collect()
    })
}

fn enum_ids(specs: &[TimeseriesSpec]) -> (Vec<i32>, Vec<i32>, Vec<i32>) {
    (
        specs.iter().map(|s| i32::from(s.data_type.id())).collect(),
        specs.iter().map(|s| i32::from(s.encoding.id())).collect(),
        specs.iter().map(|s| i32::from(s.compressor.id())).collect(),
    )
}

/// Splits rows into runs that one request can carry (same kind of values, same
/// alignment).
fn runs(rows: &[model::InsertRow]) -> Vec<&[model::InsertRow]> {
    let key = |r: &model::InsertRow| (matches!(r.values, RowValues::Typed(_)), r.aligned);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || key(&rows[i]) != key(&rows[start]) {
            out.push(&rows[start..i]);
            start = i;
        }
    }
    out
}

fn record_buffer(values: &[Option<(TSDataType, model::Value)>]) -> Result<Vec<u8>> {
    let (types, values): (Vec<Option<TSDataType>>, Vec<Option<model::Value>>) = values
        .iter()
        .map(|v| match v {
            Some((t, v)) => (Some(*t), Some(v.clone())),
            None => (None, None),
        })
        .unzip();
    Ok(record::encode_record_values(&types, &values)?)
}

impl Session for RemoteSession {
    fn execute(&mut self, sql: &str) -> Result<Response> {
        let fetch_size = self.shared.lock().config.fetch_size;
        let resp = self.shared.lock().call(|rpc, session, stmt_id| {
            rpc.execute_statement_v2(TSExecuteStatementReq::new(
                session,
                sql.to_string(),
                stmt_id,
                fetch_size,
                None,
                None,
                None,
            ))
        })?;
        self.response(resp, sql)
    }

    fn raw_data_query(&mut self, paths: &[String], start: i64, end: i64) -> Result<ResultSet> {
        let fetch_size = self.shared.lock().config.fetch_size;
        let resp = self.shared.lock().call(|rpc, session, stmt_id| {
            rpc.execute_raw_data_query_v2(TSRawDataQueryReq::new(
                session,
                paths.to_vec(),
                fetch_size,
                start,
                end,
                stmt_id,
                None,
                None,
                None,
                None,
            ))
        })?;
        self.query(resp)
    }

    fn last_data_query(&mut self, paths: &[String], min_time: i64) -> Result<ResultSet> {
        let fetch_size = self.shared.lock().config.fetch_size;
        let resp = self.shared.lock().call(|rpc, session, stmt_id| {
            rpc.execute_last_data_query_v2(TSLastDataQueryReq::new(
                session,
                paths.to_vec(),
                fetch_size,
                min_time,
                stmt_id,
                None,
                None,
                None,
                None,
            ))
        })?;
        self.query(resp)
    }

    fn insert_tablets(&mut self, tablets: Vec<InsertTablet>) -> Result<()> {
        let tablets: Vec<InsertTablet> = tablets
            .into_iter()
            .filter(|t| !t.measurements.is_empty())
            .collect();
        // The encoded buffers move into the request (a tablet's values are megabytes): a
        // retry after a reconnect, the only second attempt, encodes them again.
        let mut encoded = tablets
            .iter()
            .map(|t| Ok(Some(tablet::encode_tablet(t)?)))
            .collect::<Result<Vec<_>>>()?;
        let mut take = |i: usize| -> protocol::thrift::Result<tablet::TabletBuffers> {
            match encoded[i].take() {
                Some(b) => Ok(b),
                None => tablet::encode_tablet(&tablets[i]).map_err(|e| {
                    protocol::thrift::Error::Application(protocol::thrift::ApplicationError::new(
                        protocol::thrift::ApplicationErrorKind::Unknown,
                        e.to_string(),
                    ))
                }),
            }
        };
        match tablets.as_slice() {
            [] => Ok(()),
            [t] => self.status(|rpc, session, _| {
                let b = take(0)?;
                rpc.insert_tablet(TSInsertTabletReq::new(
                    session,
                    t.device.to_string(),
                    t.measurements.clone(),
                    b.values,
                    b.timestamps,
                    b.types,
                    b.size,
                    t.aligned,
                    None,
                    None,
                    None,
                    None,
                    None,
                ))
            }),
            _ => {
                // one request per alignment (the request carries one flag)
                for aligned in [false, true] {
                    let pick: Vec<usize> = (0..tablets.len())
                        .filter(|&i| tablets[i].aligned == aligned)
                        .collect();
                    if pick.is_empty() {
                        continue;
                    }
                    self.status(|rpc, session, _| {
                        let bufs = pick
                            .iter()
                            .map(|&i| take(i))
                            .collect::<protocol::thrift::Result<Vec<_>>>()?;
                        let (mut values, mut times, mut types, mut sizes) =
                            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
                        for b in bufs {
                            values.push(b.values);
                            times.push(b.timestamps);
                            types.push(b.types);
                            sizes.push(b.size);
                        }
                        rpc.insert_tablets(TSInsertTabletsReq::new(
                            session,
                            pick.iter()
                                .map(|&i| tablets[i].device.to_string())
                                .collect(),
                            pick.iter()
                                .map(|&i| tablets[i].measurements.clone())
                                .collect(),
                            values,
                            times,
                            types,
                            sizes,
                            aligned,
                        ))
                    })?;
                }
                Ok(())
            }
        }
    }

    fn insert_rows(&mut self, rows: InsertRows) -> Result<()> {
        for run in runs(&rows.rows) {
            let aligned = run[0].aligned;
            let devices: Vec<String> = run.iter().map(|r| r.device.to_string()).collect();
            let measurements: Vec<Vec<String>> =
                run.iter().map(|r| r.measurements.clone()).collect();
            let times: Vec<i64> = run.iter().map(|r| r.time).collect();
            match &run[0].values {
                RowValues::Typed(_) => {
                    let buffers = run
                        .iter()
                        .map(|r| match &r.values {
                            RowValues::Typed(v) => record_buffer(v),
                            RowValues::Strings(_) => Ok(Vec::new()),
                        })
                        .collect::<Result<Vec<_>>>()?;
                    self.status(|rpc, session, _| {
                        if devices.len() == 1 {
                            rpc.insert_record(TSInsertRecordReq::new(
                                session,
                                devices[0].clone(),
                                measurements[0].clone(),
                                buffers[0].clone(),
                                times[0],
                                aligned,
                                None,
                                None,
                            ))
                        } else {
                            rpc.insert_records(TSInsertRecordsReq::new(
                                session,
                                devices.clone(),
                                measurements.clone(),
                                buffers.clone(),
                                times.clone(),
                                aligned,
                            ))
                        }
                    })?;
                }
                RowValues::Strings(_) => {
                    let values: Vec<Vec<String>> = run
                        .iter()
                        .map(|r| match &r.values {
                            RowValues::Strings(v) => v.clone(),
                            RowValues::Typed(_) => Vec::new(),
                        })
                        .collect();
                    self.status(|rpc, session, _| {
                        if devices.len() == 1 {
                            rpc.insert_string_record(TSInsertStringRecordReq::new(
                                session,
                                devices[0].clone(),
                                measurements[0].clone(),
                                values[0].clone(),
                                times[0],
                                aligned,
                                None,
                            ))
                        } else {
                            rpc.insert_string_records(TSInsertStringRecordsReq::new(
                                session,
                                devices.clone(),
                                measurements.clone(),
                                values.clone(),
                                times.clone(),
                                aligned,
                            ))
                        }
                    })?;
                }
            }
        }
        Ok(())
    }

    fn create_database(&mut self, path: &str) -> Result<()> {
        self.status(|rpc, session, _| rpc.set_storage_group(session, path.to_string()))
    }

    fn delete_databases(&mut self, paths: &[String]) -> Result<()> {
        self.status(|rpc, session, _| rpc.delete_storage_groups(session, paths.to_vec()))
    }

    fn create_timeseries(&mut self, specs: &[TimeseriesSpec]) -> Result<()> {
        if let [s] = specs {
            return self.status(|rpc, session, _| {
                rpc.create_timeseries(TSCreateTimeseriesReq::new(
                    session,
                    s.path.to_string(),
                    i32::from(s.data_type.id()),
                    i32::from(s.encoding.id()),
                    i32::from(s.compressor.id()),
                    maps(&s.props),
                    maps(&s.tags),
                    maps(&s.attributes),
                    s.alias.clone(),
                ))
            });
        }
        let (types, encodings, compressors) = enum_ids(specs);
        let aliases = specs.iter().any(|s| s.alias.is_some()).then(|| {
            specs
                .iter()
                .map(|s| s.alias.clone().unwrap_or_default())
                .collect()
        });
        self.status(|rpc, session, _| {
            rpc.create_multi_timeseries(TSCreateMultiTimeseriesReq::new(
                session,
                specs.iter().map(|s| s.path.to_string()).collect(),
                types.clone(),
                encodings.clone(),
                compressors.clone(),
                list_of_maps(specs, |s| &s.props),
                list_of_maps(specs, |s| &s.tags),
                list_of_maps(specs, |s| &s.attributes),
                aliases.clone(),
            ))
        })
    }

    fn create_aligned_timeseries(&mut self, device: &str, specs: &[TimeseriesSpec]) -> Result<()> {
        let (types, encodings, compressors) = enum_ids(specs);
        let aliases = specs.iter().any(|s| s.alias.is_some()).then(|| {
            specs
                .iter()
                .map(|s| s.alias.clone().unwrap_or_default())
                .collect()
        });
        self.status(|rpc, session, _| {
            rpc.create_aligned_timeseries(TSCreateAlignedTimeseriesReq::new(
                session,
                device.to_string(),
                specs.iter().map(|s| s.path.last().to_string()).collect(),
                types.clone(),
                encodings.clone(),
                compressors.clone(),
                aliases.clone(),
                list_of_maps(specs, |s| &s.tags),
                list_of_maps(specs, |s| &s.attributes),
            ))
        })
    }

    fn delete_timeseries(&mut self, paths: &[String]) -> Result<()> {
        self.status(|rpc, session, _| rpc.delete_timeseries(session, paths.to_vec()))
    }

    fn delete_data(&mut self, paths: &[String], start: i64, end: i64) -> Result<()> {
        self.status(|rpc, session, _| {
            rpc.delete_data(TSDeleteDataReq::new(session, paths.to_vec(), start, end))
        })
    }

    fn create_template(&mut self, t: &TemplateDef) -> Result<()> {
        let bytes = template::encode_template(t)?;
        self.status(|rpc, session, _| {
            rpc.create_schema_template(TSCreateSchemaTemplateReq::new(
                session,
                t.name.clone(),
                bytes.clone(),
            ))
        })
    }

    fn append_template(&mut self, name: &str, measurements: &[TemplateMeasurement]) -> Result<()> {
        let aligned = measurements.first().is_some_and(|m| m.aligned);
        let ids = |f: &dyn Fn(&TemplateMeasurement) -> u8| -> Vec<i32> {
            measurements.iter().map(|m| i32::from(f(m))).collect()
        };
        let types = ids(&|m| m.schema.data_type.id());
        let encodings = ids(&|m| m.schema.encoding.id());
        let compressors = ids(&|m| m.schema.compressor.id());
        self.status(|rpc, session, _| {
            rpc.append_schema_template(TSAppendSchemaTemplateReq::new(
                session,
                name.to_string(),
                aligned,
                measurements.iter().map(|m| m.path.clone()).collect(),
                types.clone(),
                encodings.clone(),
                compressors.clone(),
            ))
        })
    }

    fn prune_template(&mut self, name: &str, path: &str) -> Result<()> {
        self.status(|rpc, session, _| {
            rpc.prune_schema_template(TSPruneSchemaTemplateReq::new(
                session,
                name.to_string(),
                path.to_string(),
            ))
        })
    }

    fn set_template(&mut self, name: &str, prefix: &str) -> Result<()> {
        self.status(|rpc, session, _| {
            rpc.set_schema_template(TSSetSchemaTemplateReq::new(
                session,
                name.to_string(),
                prefix.to_string(),
            ))
        })
    }

    fn unset_template(&mut self, name: &str, prefix: &str) -> Result<()> {
        self.status(|rpc, session, _| {
            rpc.unset_schema_template(TSUnsetSchemaTemplateReq::new(
                session,
                prefix.to_string(),
                name.to_string(),
            ))
        })
    }

    fn drop_template(&mut self, name: &str) -> Result<()> {
        self.status(|rpc, session, _| {
            rpc.drop_schema_template(TSDropSchemaTemplateReq::new(session, name.to_string()))
        })
    }

    fn activate_template(&mut self, device_paths: &[String]) -> Result<()> {
        self.status(|rpc, session, _| {
            rpc.create_timeseries_using_schema_template(
                TCreateTimeseriesUsingSchemaTemplateReq::new(session, device_paths.to_vec()),
            )
        })
    }

    fn template_query(
        &mut self,
        query: TemplateQuery,
        name: &str,
        path: &str,
    ) -> Result<TemplateAnswer> {
        let resp = self.shared.lock().call(|rpc, session, _| {
            rpc.query_schema_template(TSQueryTemplateReq::new(
                session,
                name.to_string(),
                query.code(),
                (!path.is_empty()).then(|| path.to_string()),
            ))
        })?;
        check(&resp.status)?;
        Ok(match query {
            TemplateQuery::CountMeasurements => TemplateAnswer::Count(resp.count.unwrap_or(0)),
            TemplateQuery::IsMeasurement | TemplateQuery::PathExist => {
                TemplateAnswer::Flag(resp.result.unwrap_or(false))
            }
            _ => TemplateAnswer::Names(resp.measurements.unwrap_or_default()),
        })
    }

    fn time_zone(&self) -> String {
        self.shared.lock().config.zone_id.clone()
    }

    fn set_time_zone(&mut self, zone: &str) -> Result<()> {
        crate::check_zone(zone)?;
        let mut s = self.shared.lock();
        s.status(|rpc, session, _| {
            rpc.set_time_zone(TSSetTimeZoneReq::new(session, zone.to_string()))
        })?;
        s.config.zone_id = zone.to_string();
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        let mut s = self.shared.lock();
        if !s.open {
            return Ok(());
        }
        s.open = false;
        // the interrupter's handle on the socket would keep the connection open
        s.interrupt.socket.lock().take();
        let Some(mut conn) = s.conn.take() else {
            return Ok(());
        };
        let r = conn
            .rpc
            .close_session(TSCloseSessionReq::new(conn.session_id));
        match r {
            Ok(st) => check(&st),
            Err(e) => Err(rpc_error(e)),
        }
    }

    fn is_open(&self) -> bool {
        self.shared.lock().open
    }
}

impl Drop for RemoteSession {
    fn drop(&mut self) {
        let _ = Session::close(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Column;

    #[test]
    fn bulk_buffers_are_reserved_generously_then_given_back() {
        let mut out = RowBatch {
            times: vec![1, 2],
            columns: vec![
                Column::new(ColumnData::Double(vec![0.5, 1.5])),
                Column::new(ColumnData::Binary(vec![b"a".to_vec(), vec![]])),
            ],
        };
        reserve_rows(&mut out, 1000);
        assert!(out.times.capacity() >= 2 + 64 * 1000);
        let ColumnData::Double(v) = &out.columns[0].data else {
            unreachable!()
        };
        assert!(v.capacity() >= 2 + 64 * 1000);
        // within the reservation nothing moves; past it the buffers grow
        let before = out.times.as_ptr();
        reserve_rows(&mut out, 1000);
        assert_eq!(out.times.as_ptr(), before);
        out.times.extend(0..70_000);
        reserve_rows(&mut out, 1000);
        assert!(out.times.capacity() >= out.times.len() + 1000);
        assert_eq!(&out.times[..3], &[1, 2, 0]);
        // the first reservation is capped for huge pages, never below the page itself
        let mut big = RowBatch::default();
        reserve_rows(&mut big, RESERVED_VALUES);
        assert!(big.times.capacity() >= RESERVED_VALUES);
        assert!(big.times.capacity() < 2 * RESERVED_VALUES);
        shrink_rows(&mut out);
        assert_eq!(out.times.capacity(), out.times.len());
        assert_eq!(&out.columns[0].data, &ColumnData::Double(vec![0.5, 1.5]));
    }

    #[test]
    fn the_frame_pool_keeps_a_few_frames_of_page_size() {
        let mut pool = FramePool::default();
        pool.give(Vec::with_capacity(FramePool::MAX_BYTES + 1));
        assert!(pool.0.is_empty(), "a frame past the size limit is let go");
        for _ in 0..FramePool::KEPT + 2 {
            pool.give(vec![7u8; BULK_PAGE_BYTES]);
        }
        assert_eq!(pool.0.len(), FramePool::KEPT);
        assert!(pool
            .0
            .iter()
            .all(|f| f.is_empty() && f.capacity() >= BULK_PAGE_BYTES));
    }
}
