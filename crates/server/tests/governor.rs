//! The memory governor's hooks: the release hook is called once resident memory passes
//! three quarters of the memory budget, never while it stays below; the purge hook about
//! every `PURGE_EVERY`, room or not.

use server::{Server, ServerConfig};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static TIGHT: AtomicUsize = AtomicUsize::new(0);
static ROOMY: AtomicUsize = AtomicUsize::new(0);
static PURGED: AtomicUsize = AtomicUsize::new(0);

fn count_purge() {
    PURGED.fetch_add(1, Ordering::SeqCst);
}

fn count_tight() {
    TIGHT.fetch_add(1, Ordering::SeqCst);
}

fn count_roomy() {
    ROOMY.fetch_add(1, Ordering::SeqCst);
}

fn start(
    budget_mb: u64,
    release: Option<fn()>,
    purge: Option<fn()>,
) -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig {
        port: 0,
        memory_budget_mb: budget_mb,
        release_memory: release,
        purge_memory: purge,
        ..Default::default()
    };
    config.storage.data_dir = dir.path().join("data");
    config.storage.memtable_budget_bytes = storage::memtable_share(budget_mb);
    (Server::start(config).unwrap(), dir)
}

#[test]
fn release_is_called_only_near_the_budget() {
    // a test process is resident with several MiB: a 4 MiB budget is always over its line
    let (tight, _d1) = start(4, Some(count_tight), None);
    // and 64 GiB is far above anything this test holds
    let (roomy, _d2) = start(64 << 10, Some(count_roomy), None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while TIGHT.load(Ordering::SeqCst) < 3 && Instant::now() < deadline {
        std::thread::sleep(server::governor::TICK);
    }
    assert!(
        TIGHT.load(Ordering::SeqCst) >= 3,
        "the hook was not called over the line"
    );
    assert_eq!(
        ROOMY.load(Ordering::SeqCst),
        0,
        "the hook was called with room left"
    );
    drop(tight);
    drop(roomy);
}

#[test]
fn purge_is_called_every_second_with_room_left() {
    let started = Instant::now();
    let (server, _dir) = start(64 << 10, None, Some(count_purge));
    let every = server::governor::PURGE_EVERY;
    let deadline = started + every * 10;
    while PURGED.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
        std::thread::sleep(server::governor::TICK);
    }
    assert!(
        PURGED.load(Ordering::SeqCst) >= 2,
        "the purge hook was not called"
    );
    // a second call needs two periods to have passed (a loaded machine only adds to it),
    // not two of the governor's ticks
    assert!(
        started.elapsed() >= every * 2,
        "purged more often than every period"
    );
    drop(server);
}
