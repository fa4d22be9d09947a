//! `server`: the IoTDB client-protocol server of iotdb-rs.
//!
//! It owns connections (one thread each, framed Thrift, binary or compact protocol
//! detected per connection), sessions and their queries in flight, and the mapping of
//! `IClientRPCService` requests onto the one statement executor (`query`). It is a thin
//! adapter: decode request → executor → encode result. It must not implement SQL
//! semantics or storage rules itself.

#![warn(missing_docs)]

pub mod buffers;
pub mod codec;
pub mod config;
pub mod governor;
pub mod hangup;
pub mod metrics;
pub mod service;
pub mod session;

pub use config::ServerConfig;

use model::{Error, Result};
use protocol::client::IClientRPCServiceSyncProcessor;
use protocol::frame::FrameRead;
use protocol::rpc::{handle_frame, DecodeLimits};
use query::Executor;
use service::{Connection, Service};
use session::SessionManager;
use std::io::{BufReader, BufWriter, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running server.
pub struct Server {
    service: Arc<Service>,
    addr: SocketAddr,
    metrics: Option<metrics::MetricsEndpoint>,
    stopping: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    /// Sets the memtables' limit from the process's resident memory ([`governor`]).
    governor: Option<JoinHandle<()>>,
}

impl Server {
    /// Opens the storage engine and starts listening; returns once the port is bound.
    pub fn start(config: ServerConfig) -> Result<Server> {
        let engine = Arc::new(storage::Engine::open(config.storage.clone())?);
        let listener = TcpListener::bind((config.host.as_str(), config.port)).map_err(|e| {
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("cannot listen on {}:{}: {e}", config.host, config.port),
            ))
        })?;
        let addr = listener.local_addr()?;
        let executor = Executor::new(engine);
        executor
            .queries()
            .set_default_timeout_ms(config.query_timeout_ms);
        let buffers = buffers::BufferBudget::new(
            config.buffer_budget_bytes(),
            std::time::Duration::from_millis(config.storage.write_blocked_wait_ms),
        );
        let service = Arc::new(Service {
            executor,
            sessions: SessionManager::default(),
            metrics: metrics::Metrics::default(),
            buffers,
            config,
            hangups: Default::default(),
        });
        let metrics = if service.config.metrics_enabled {
            Some(metrics::MetricsEndpoint::start(
                &service.config.host,
                service.config.metrics_port,
                &service.config.metrics_prefix,
                &service,
            )?)
        } else {
            None
        };
        let stopping = Arc::new(AtomicBool::new(false));
        let governor = governor::start(&service, stopping.clone());
        let acceptor = {
            let service = service.clone();
            let stopping = stopping.clone();
            std::thread::Builder::new()
                .name("iotdb-accept".into())
                .spawn(move || accept_loop(listener, service, stopping))?
        };
        Ok(Server {
            service,
            addr,
            metrics,
            stopping,
            acceptor: Some(acceptor),
            governor,
        })
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the metrics endpoint, when it is on.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|m| m.local_addr())
    }

    /// The shared service state (executor, sessions).
    pub fn service(&self) -> &Arc<Service> {
        &self.service
    }

    /// Stops accepting connections and closes the storage engine (syncing the WAL).
    pub fn shutdown(mut self) -> Result<()> {
        self.stop_accepting();
        self.service.executor.engine().close()
    }

    fn stop_accepting(&mut self) {
        self.metrics = None;
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the blocking accept() with a throwaway connection.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
        if let Some(h) = self.governor.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.acceptor.is_some() {
            self.stop_accepting();
        }
    }
}

/// Counts a connection while it is served.
struct ConnectionSlot(Arc<AtomicUsize>);

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn accept_loop(listener: TcpListener, service: Arc<Service>, stopping: Arc<AtomicBool>) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        if stopping.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                continue;
            }
        };
        let service = service.clone();
        let max = service.config.max_connections;
        let slot = ConnectionSlot(active.clone());
        let refusal = (active.fetch_add(1, Ordering::AcqRel) >= max).then(|| {
            format!(
                "Too many connections: this server serves at most {max} clients at once \
                 (rpc_max_concurrent_client_num); try again later"
            )
        });
        let spawned = std::thread::Builder::new()
            .name("iotdb-conn".into())
            .spawn(move || {
                let _slot = slot;
                serve_connection(stream, service, refusal)
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a connection thread: {e}");
        }
    }
}

/// Frame buffer capacity a connection keeps between requests. The buffer budget counts a
/// frame only while its request is in flight, so what an idle connection keeps is outside
/// it: a small buffer (as large as a frame's first reservation, which most requests but
/// tablets fit in); a larger one is freed once its request is answered. With 1 MiB kept,
/// 64 connections that had each sent one large tablet held 64 MiB uncounted.
const RETAINED_FRAME_BYTES: usize = 64 << 10;

fn serve_connection(stream: TcpStream, service: Arc<Service>, refusal: Option<String>) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "unknown".into());
    let _ = stream.set_nodelay(true);
    // A peer that stalls inside a frame, or stops reading its replies, is dropped after
    // frame_timeout; between frames a read timeout only means "idle" (read again, unless
    // dn_session_timeout_threshold is set and has passed).
    let max_frame = service.config.max_frame_size;
    let idle = service.config.session_timeout_ms;
    let frame_timeout = service.config.frame_timeout;
    let tick = if idle > 0 {
        frame_timeout.min(std::time::Duration::from_millis(idle))
    } else {
        frame_timeout
    };
    if let Err(e) = stream
        .set_read_timeout(Some(tick))
        .and_then(|_| stream.set_write_timeout(Some(frame_timeout)))
    {
        tracing::warn!(%peer, "cannot set socket timeouts: {e}");
        return;
    }
    let mut last_request = std::time::Instant::now();
    let refused = refusal.is_some();
    let budget = service.buffers.clone();
    let shared = service.clone();
    let pages = service::PageSink::default();
    let conn = match refusal {
        Some(message) => Connection::refusing(service, peer.clone(), message),
        None => Connection::new(service, peer.clone())
            .with_socket(stream.try_clone().ok())
            .with_page_sink(pages.clone()),
    };
    let processor = IClientRPCServiceSyncProcessor::new(conn);
    let limits = DecodeLimits::default();
    let reader = match stream.try_clone() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(%peer, "cannot clone socket: {e}");
            return;
        }
    };
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut writer = BufWriter::with_capacity(64 * 1024, stream);
    let mut frame = Vec::new();
    // the reply buffer of a result read page by page, kept (and counted in the budget)
    // from one page to the next while the result has more pages
    let mut kept_page: Option<(Vec<u8>, Option<buffers::BufferGrant>)> = None;
    tracing::debug!(%peer, "connection opened");
    loop {
        // the frame's bytes are taken from the buffer budget before its payload is read
        let mut held = None;
        let mut admit = |len: usize| {
            held = Some(budget.acquire(len as u64, "request frame")?);
            Ok(())
        };
        match protocol::frame::read_frame_admitted(&mut reader, max_frame, &mut frame, &mut admit) {
            Ok(FrameRead::Frame) => last_request = std::time::Instant::now(),
            Ok(FrameRead::Closed) => break,
            Ok(FrameRead::Refused(e)) => {
                last_request = std::time::Instant::now();
                tracing::info!(%peer, "request refused: {e}");
                shared.metrics.rejected_for_memory();
                let Some(reply) =
                    protocol::rpc::status_reply_for(&frame, e.status_code().code(), &e.to_string())
                else {
                    break;
                };
                if let Err(e) = writer.write_all(&reply).and_then(|_| writer.flush()) {
                    tracing::debug!(%peer, "closing connection: write failed: {e}");
                    break;
                }
                continue;
            }
            Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                kept_page = None;
                if idle > 0 && last_request.elapsed().as_millis() >= u128::from(idle) {
                    tracing::info!(%peer, "closing connection: idle longer than dn_session_timeout_threshold ({idle} ms)");
                    break;
                }
                continue;
            }
            Err(e) => {
                tracing::warn!(%peer, "closing connection: bad frame: {e}");
                break;
            }
        }
        // A panic while serving one request (a bug) must not take the server down: it is
        // caught here, answered with an internal-error exception when the request header is
        // readable, logged, and only this connection is closed.
        let served = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle_frame(&processor, &frame, &limits)
        }));
        let mut reply = match served {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                tracing::warn!(%peer, "closing connection: cannot serve request: {e}");
                break;
            }
            Err(panic) => {
                let what = panic_message(panic.as_ref());
                tracing::error!(%peer, "closing connection: internal error while serving a request: {what}");
                let message = format!("internal error while serving the request: {what}");
                answer_internal_error(&mut writer, &frame, &message);
                break;
            }
        };
        // a fetched page is encoded into the reply frame here (see `service::Page`)
        let page = pages.lock().take();
        let (mut page_buf, _) = kept_page.take().unwrap_or_default();
        let mut more_pages = false;
        if let Some(page) = page {
            let built =
                protocol::rpc::reply_with_query_result(&reply, &mut page_buf, page.len, |out| {
                    page.encode_into(out)
                });
            match built {
                Ok(()) => {
                    reply = std::mem::take(&mut page_buf);
                    more_pages = page.more;
                }
                Err(e) => {
                    tracing::error!(%peer, "closing connection: cannot encode a result page: {e}");
                    let message = format!("internal error while encoding a result page: {e}");
                    answer_internal_error(&mut writer, &frame, &message);
                    break;
                }
            }
        }
        // the request's bytes go back; the reply's are taken until it is written
        drop(held);
        let reply_grant = match budget.acquire(reply.len() as u64, "reply") {
            Ok(g) => Some(g),
            Err(e) => {
                tracing::info!(%peer, "reply refused: {e}");
                shared.metrics.rejected_for_memory();
                let code = e.status_code().code();
                match protocol::rpc::status_reply_for(&frame, code, &e.to_string()) {
                    Some(r) => reply = r,
                    None => break,
                }
                None
            }
        };
        if frame.capacity() > RETAINED_FRAME_BYTES {
            frame = Vec::new();
        }
        if let Err(e) = writer.write_all(&reply).and_then(|_| writer.flush()) {
            tracing::debug!(%peer, "closing connection: write failed: {e}");
            break;
        }
        if more_pages {
            kept_page = Some((reply, reply_grant));
        } else {
            drop(reply_grant);
        }
        if refused {
            break;
        }
    }
    tracing::debug!(%peer, "connection closed");
}

/// Answers the request in `frame` with an internal-error exception carrying `message`
/// (when its header is readable); the caller closes the connection afterwards.
fn answer_internal_error(writer: &mut impl Write, frame: &[u8], message: &str) {
    if let Some(reply) = protocol::rpc::exception_reply_for(
        frame,
        thrift::ApplicationErrorKind::InternalError,
        message,
    ) {
        let _ = writer.write_all(&reply).and_then(|_| writer.flush());
    }
}

/// The text of a panic payload (`panic!` with a literal or a formatted message).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-text payload".to_string()
    }
}
