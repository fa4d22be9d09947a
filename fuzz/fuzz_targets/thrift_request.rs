//! Whole client requests through the server: arbitrary bytes read as a stream of Thrift
//! frames (`read_frame_into`, with a small frame limit), each pre-validated, decoded and
//! served by a real connection (`handle_frame` + the generated processor around
//! `server::service::Connection`) over a real storage engine in a temporary directory.
//! Every connection first logs in with the openSession frame of an official client, so
//! mutated requests reach the statement executor.
//!
//! The engine is recreated every `RESET_EVERY` inputs, which bounds what the fuzzer's
//! inserts and schema changes accumulate.
#![no_main]
use libfuzzer_sys::fuzz_target;
use protocol::client::IClientRPCServiceSyncProcessor;
use protocol::rpc::{handle_frame, DecodeLimits};
use query::Executor;
use server::service::{Connection, Service};
use server::session::SessionManager;
use server::ServerConfig;
use std::sync::{Arc, Mutex};

const RESET_EVERY: u32 = 5_000;
const MAX_FRAME: usize = 1 << 20;
/// openSession of the apache-iotdb 2.0 Python client (user root), binary protocol.
const OPEN_SESSION: &[u8] = include_bytes!("../corpus/thrift_request/frame-00");

struct State {
    service: Arc<Service>,
    _dir: tempfile::TempDir,
    runs: u32,
}

fn new_state() -> State {
    // on tmpfs when there is one: the schema log is fsynced on every schema change
    let shm = std::path::Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("temp dir");
    let mut config = ServerConfig::default();
    config.storage.data_dir = dir.path().join("data");
    config.storage.wal_mode = storage::WalMode::Disable;
    config.storage.memtable_size_threshold = 4 << 20;
    config.storage.enable_compaction = false;
    let engine = Arc::new(storage::Engine::open(config.storage.clone()).expect("engine"));
    State {
        service: Arc::new(Service {
            executor: Executor::new(engine),
            sessions: SessionManager::default(),
            metrics: server::metrics::Metrics::default(),
            buffers: server::buffers::BufferBudget::new(
                config.buffer_budget_bytes(),
                std::time::Duration::from_millis(config.storage.write_blocked_wait_ms),
            ),
            config,
            hangups: Default::default(),
        }),
        _dir: dir,
        runs: 0,
    }
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut guard = STATE.lock().unwrap_or_else(|e| e.into_inner());
    if guard.as_ref().is_none_or(|s| s.runs >= RESET_EVERY) {
        if let Some(old) = guard.take() {
            let _ = old.service.executor.engine().close();
        }
        *guard = Some(new_state());
    }
    let state = guard.as_mut().expect("state");
    state.runs += 1;
    let processor =
        IClientRPCServiceSyncProcessor::new(Connection::new(state.service.clone(), "fuzz".into()));
    let limits = DecodeLimits::default();
    handle_frame(&processor, &OPEN_SESSION[4..], &limits).expect("login");
    let mut input = data;
    let mut frame = Vec::new();
    while let Ok(true) = protocol::frame::read_frame_into(&mut input, MAX_FRAME, &mut frame) {
        if handle_frame(&processor, &frame, &limits).is_err() {
            break;
        }
    }
});
