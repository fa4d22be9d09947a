//! Stopping the statement of a client that went away: a connection's thread is busy while a
//! statement computes its answer, so it cannot see the client close the connection (the
//! CLI's Ctrl-C does that). While a statement or fetch runs, its connection's socket is
//! watched by one thread per server, which polls the watched sockets for a hang-up every
//! [`TICK`] and kills the statement's query (`KILL QUERY`): its scan stops at the next
//! page or window (see `model::cancel`). The thread ends after [`IDLE`] with nothing to
//! watch. Watching a socket only lists it (the thread finds it at its next tick), so a
//! statement does not pay for waking the thread.

use parking_lot::{Mutex, MutexGuard};
use query::running::QueryRegistry;
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

/// How often watched sockets are polled.
pub const TICK: Duration = Duration::from_millis(20);

/// How long the watching thread waits for work before it ends.
pub const IDLE: Duration = Duration::from_secs(2);

struct Entry {
    key: u64,
    /// The connection's socket; open while the entry exists (the connection owns it and
    /// outlives its [`Watching`] guard).
    #[cfg(unix)]
    fd: std::os::fd::RawFd,
    statement_id: String,
}

#[derive(Default)]
struct State {
    entries: Vec<Entry>,
    next_key: u64,
    running: bool,
}

/// The watch of a server's connections (see the module documentation).
#[derive(Default)]
pub struct HangupWatch {
    state: Arc<Mutex<State>>,
}

/// Keeps a socket watched; dropping it ends the watch.
pub struct Watching<'a> {
    watch: &'a HangupWatch,
    key: u64,
}

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        self.watch
            .state
            .lock()
            .entries
            .retain(|e| e.key != self.key);
    }
}

impl HangupWatch {
    /// Watches `socket` (which must stay open until the returned guard is dropped): if the
    /// client hangs up meanwhile, the query `statement_id` of `registry` is killed.
    pub fn watch<'a>(
        &'a self,
        socket: &'a TcpStream,
        statement_id: &str,
        registry: &Arc<QueryRegistry>,
    ) -> Watching<'a> {
        let mut s = self.state.lock();
        let key = s.next_key;
        s.next_key += 1;
        s.entries.push(Entry {
            key,
            #[cfg(unix)]
            fd: std::os::fd::AsRawFd::as_raw_fd(socket),
            statement_id: statement_id.to_string(),
        });
        if !s.running {
            let state = self.state.clone();
            let registry = registry.clone();
            s.running = std::thread::Builder::new()
                .name("hangup-watch".into())
                .spawn(move || run(&state, &registry))
                .is_ok();
        }
        Watching { watch: self, key }
    }
}

fn run(state: &Mutex<State>, registry: &QueryRegistry) {
    let mut s = state.lock();
    let mut idle_since = None;
    loop {
        if s.entries.is_empty() {
            let since = *idle_since.get_or_insert_with(std::time::Instant::now);
            if since.elapsed() >= IDLE {
                s.running = false;
                return;
            }
            MutexGuard::unlocked(&mut s, || std::thread::sleep(TICK));
            continue;
        }
        idle_since = None;
        for e in &s.entries {
            if hung_up(e) {
                // not listed (yet, or any more): nothing to stop now; polled again next tick
                let _ = registry.kill(storage::SUPERUSER, Some(&e.statement_id));
            }
        }
        MutexGuard::unlocked(&mut s, || std::thread::sleep(TICK));
    }
}

/// True once the peer closed or reset the connection.
#[cfg(unix)]
fn hung_up(e: &Entry) -> bool {
    let mut fd = libc::pollfd {
        fd: e.fd,
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one pollfd on a descriptor that stays open while its entry exists (see
    // `Entry::fd`), a zero timeout.
    let n = unsafe { libc::poll(&mut fd, 1, 0) };
    n > 0 && fd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
}

#[cfg(not(unix))]
fn hung_up(_e: &Entry) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn a_closed_connection_kills_its_statement() {
        let registry = Arc::new(QueryRegistry::default());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server_side, _) = listener.accept().unwrap();
        let id = registry.next_id();
        let guard = registry.register(id.clone(), "root", "select 1", None);
        let watch = HangupWatch::default();
        let w = watch.watch(&server_side, &id, &registry);
        std::thread::sleep(TICK * 3);
        assert!(
            guard.query().check().is_ok(),
            "an open connection is left alone"
        );
        drop(client);
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while guard.query().check().is_ok() {
            assert!(std::time::Instant::now() < deadline, "not killed");
            std::thread::sleep(TICK);
        }
        assert!(matches!(
            guard.query().check(),
            Err(model::Error::QueryKilled(_))
        ));
        drop(w);
        assert!(watch.state.lock().entries.is_empty());
    }
}
