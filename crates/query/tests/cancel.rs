//! A killed or timed-out query stops inside a batch: page decoding (plain and aligned),
//! the read-ahead thread and GROUP BY windows check the query's flag (`model::cancel`).

mod common;

use model::cancel::{self, CancelFlag};
use model::time::TimeZone;
use model::{Column, ColumnData, Error, InsertTablet, PartialPath, TSDataType};
use query::{Executor, Outcome, SessionContext};
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::{Engine, TimeRange};

const POINTS: i64 = 200_000;

fn engine_with_data(dir: &std::path::Path) -> Arc<Engine> {
    let engine = common::engine_without_wal(dir);
    for (device, aligned) in [("root.c.plain", false), ("root.c.aligned", true)] {
        let times: Vec<i64> = (0..POINTS).collect();
        let values: Vec<f64> = times.iter().map(|&t| ((t as f64) / 77.0).sin()).collect();
        engine
            .insert_tablet(&InsertTablet {
                device: PartialPath::parse(device).unwrap(),
                measurements: vec!["s0".into(), "s1".into()],
                types: vec![TSDataType::Double, TSDataType::Double],
                times,
                columns: vec![
                    Column::new(ColumnData::Double(values.clone())),
                    Column::new(ColumnData::Double(values)),
                ],
                aligned,
            })
            .unwrap();
    }
    engine.flush().unwrap();
    engine
}

fn path(p: &str) -> PartialPath {
    PartialPath::parse(p).unwrap()
}

#[test]
fn page_reads_and_the_read_ahead_thread_stop_once_the_query_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_with_data(dir.path());
    let all = TimeRange::new(0, POINTS);
    let plain = [path("root.c.plain.s0"), path("root.c.plain.s1")];
    let aligned = [path("root.c.aligned.s0"), path("root.c.aligned.s1")];
    // outside a query, and for a query still running, everything is read
    assert_eq!(
        engine.read_series(&plain[0], all).unwrap().times.len(),
        POINTS as usize
    );
    let running = Arc::new(CancelFlag::new("q-running"));
    cancel::scoped(Some(running), || {
        let d = engine.read_series_many(&aligned, all).unwrap();
        assert_eq!(d[1].times.len(), POINTS as usize);
    });
    // a killed query's reads fail at their first page (plain and aligned)
    let killed = Arc::new(CancelFlag::new("q-killed"));
    killed.kill();
    cancel::scoped(Some(killed.clone()), || {
        for r in [
            engine.read_series(&plain[0], all).map(|_| ()),
            engine.read_series_many(&plain, all).map(|_| ()),
            engine.read_series_many(&aligned, all).map(|_| ()),
        ] {
            assert!(
                matches!(r, Err(Error::QueryKilled(ref id)) if id == "q-killed"),
                "{r:?}"
            );
        }
        // the slice read on a second thread sees the flag too
        let mut ahead = query::scan::ReadAhead::default();
        let (here, there) = ahead
            .read(TimeRange::new(0, 9), Some(TimeRange::new(10, 19)), |_| {
                Ok(cancel::checkpoint().is_err())
            })
            .unwrap();
        assert!(here && there.unwrap().1, "both readers see the kill");
    });
    let timed_out = Arc::new(CancelFlag::new("q-late"));
    timed_out.time_out();
    let r = cancel::scoped(Some(timed_out), || engine.read_series(&aligned[0], all));
    assert!(matches!(r, Err(Error::QueryTimeout)), "{r:?}");
}

/// A GROUP BY whose HAVING drops every window computes all of them inside one batch.
const ENDLESS: &str =
    "select count(s0) from root.c.plain group by ([0, 10000000000), 1ms) having count(s0) > 1";

fn first_batch_error(
    ex: &Executor,
    timeout_ms: Option<i64>,
    kill_after: Option<Duration>,
) -> (Error, Duration) {
    let ctx = SessionContext::new("root", TimeZone::default());
    let id = ex.queries().next_id();
    let stmt = sql::parse(ENDLESS).unwrap();
    let Outcome::Rows(mut r) = ex
        .execute_tracked(stmt, id, ENDLESS, timeout_ms, &ctx)
        .unwrap()
    else {
        panic!("no rows")
    };
    let start = Instant::now();
    let stop = std::thread::scope(|s| {
        if let Some(after) = kill_after {
            s.spawn(move || {
                std::thread::sleep(after);
                ex.queries().kill("root", None).unwrap();
                Instant::now()
            });
        }
        r.stream.next_batch(1000)
    });
    (
        stop.expect_err("the query should have been stopped"),
        start.elapsed(),
    )
}

#[test]
fn kill_and_timeout_stop_a_long_single_batch_group_by() {
    let dir = tempfile::tempdir().unwrap();
    let ex = Executor::new(engine_with_data(dir.path()));
    let (e, took) = first_batch_error(&ex, None, Some(Duration::from_millis(300)));
    assert!(matches!(e, Error::QueryKilled(_)), "{e:?}");
    assert!(took < Duration::from_secs(5), "stopped after {took:?}");
    assert!(ex.queries().is_empty());
    let (e, took) = first_batch_error(&ex, Some(300), None);
    assert!(matches!(e, Error::QueryTimeout), "{e:?}");
    assert!(took < Duration::from_secs(5), "stopped after {took:?}");
}
