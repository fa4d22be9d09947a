//! Raw rows and aggregations (with a value filter, with and without GROUP BY windows, ascending and
//! descending) against a straightforward reference computed from the whole series read at
//! once. Random data with overlapping (unsequence) flushes, deletions and points left in
//! memtables, read in tiny slices so every query crosses many slice boundaries and the
//! read-ahead of the next slice.

use model::time::TimeZone;
mod common;

use model::{Column, ColumnData, InsertTablet, PartialPath, PathPattern, TSDataType, Value};
use proptest::prelude::*;
use query::{Executor, SessionContext};
use storage::{TimeRange, TimeseriesSpec};

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<i64>),
    Flush,
    Delete(i64, i64),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => proptest::collection::btree_set(0i64..600, 1..80)
            .prop_map(|t| Op::Write(t.into_iter().collect())),
        2 => Just(Op::Flush),
        1 => (0i64..600, 0i64..80).prop_map(|(from, len)| Op::Delete(from, from + len)),
    ]
}

/// count, sum, min, max, first, last of the points with value > `k` in `[lo, hi)`.
fn reference(times: &[i64], values: &[i64], k: i64, lo: i64, hi: i64) -> Vec<Option<Value>> {
    let pts: Vec<(i64, i64)> = times
        .iter()
        .zip(values)
        .filter(|(t, v)| **t >= lo && **t < hi && **v > k)
        .map(|(t, v)| (*t, *v))
        .collect();
    let vals = || pts.iter().map(|p| p.1);
    vec![
        Some(Value::Int64(pts.len() as i64)),
        (!pts.is_empty()).then(|| Value::Double(vals().map(|v| v as f64).sum())),
        vals().min().map(Value::Int64),
        vals().max().map(Value::Int64),
        pts.first().map(|p| Value::Int64(p.1)),
        pts.last().map(|p| Value::Int64(p.1)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn filtered_and_windowed_aggregates_equal_the_reference(
        ops in proptest::collection::vec(op(), 1..14),
        budget in 1u64..120,
        k in 0i64..600_000,
        lo in -10i64..300,
        width in 1i64..200,
        windows in 1i64..12,
        aligned in any::<bool>(),
    ) {
        query::scan::set_slice_points(budget);
        let dir = tempfile::tempdir().unwrap();
        let engine = common::engine_without_wal(dir.path());
        let path = PartialPath::parse("root.ag.d.s0").unwrap();
        engine.create_database(&PartialPath::parse("root.ag").unwrap()).unwrap();
        let path1 = PartialPath::parse("root.ag.d.s1").unwrap();
        let specs = [&path, &path1].map(|p| TimeseriesSpec::new(p.clone(), TSDataType::Int64));
        if aligned {
            // an aligned device's value chunks stand for their series' points (statistics
            // used or chunks skipped), the rows left out of a write are nulls
            engine
                .create_aligned_timeseries(&PartialPath::parse("root.ag.d").unwrap(), specs.into())
                .unwrap();
        } else {
            specs.into_iter().for_each(|s| engine.create_timeseries(s).unwrap());
        }
        for (n, op) in ops.iter().enumerate() {
            match op {
                Op::Write(times) => {
                    // every third write leaves s1 out, so the join has rows without it
                    let both = n % 3 != 2;
                    let mut columns = vec![Column::new(ColumnData::Int64(
                        times.iter().map(|t| t * 1000 + n as i64 * 7).collect(),
                    ))];
                    if both {
                        columns.push(Column::new(ColumnData::Int64(
                            times.iter().map(|t| (t * 37 + n as i64) % 500).collect(),
                        )));
                    }
                    engine
                        .insert_tablet(&InsertTablet {
                            device: PartialPath::parse("root.ag.d").unwrap(),
                            measurements: if both { vec!["s0".into(), "s1".into()] } else { vec!["s0".into()] },
                            types: vec![TSDataType::Int64; columns.len()],
                            times: times.clone(),
                            columns,
                            aligned,
                        })
                        .unwrap()
                }
                Op::Flush => engine.flush().unwrap(),
                Op::Delete(from, to) => engine
                    .delete_data(
                        &[PathPattern::parse("root.ag.d.*").unwrap()],
                        TimeRange::new(*from, *to),
                    )
                    .unwrap(),
            }
        }
        let whole = engine.read_series(&path, TimeRange::ALL).unwrap();
        let ColumnData::Int64(values) = &whole.values else { panic!("not INT64") };
        let ex = Executor::new(engine.clone());
        let _ctx = SessionContext::new("root", TimeZone::default());
        let aggs = "count(s0), sum(s0), min_value(s0), max_value(s0), first_value(s0), last_value(s0)";
        let hi = lo + width * windows;
        let windows_asc: Vec<(i64, i64)> =
            (0..windows).map(|j| (lo + j * width, lo + (j + 1) * width)).collect();
        let cases = [
            (format!("select {aggs} from root.ag.d where s0 > {k}"), vec![(i64::MIN, i64::MAX)]),
            // no filter: whole chunks answered by their statistics
            (format!("select {aggs} from root.ag.d where s0 > -1"), vec![(i64::MIN, i64::MAX)]),
            (
                format!("select {aggs} from root.ag.d where s0 > -1 group by ([{lo}, {hi}), {width}ms)"),
                windows_asc.clone(),
            ),
            (format!("select {aggs} from root.ag.d"), vec![(i64::MIN, i64::MAX)]),
            (format!("select {aggs} from root.ag.d group by ([{lo}, {hi}), {width}ms)"), windows_asc.clone()),
            (
                format!("select {aggs} from root.ag.d where s0 > {k} group by ([{lo}, {hi}), {width}ms)"),
                (0..windows).map(|j| (lo + j * width, lo + (j + 1) * width)).collect(),
            ),
            (
                format!("select {aggs} from root.ag.d where s0 > {k} group by ([{lo}, {hi}), {width}ms) order by time desc"),
                (0..windows).rev().map(|j| (lo + j * width, lo + (j + 1) * width)).collect(),
            ),
        ];
        // raw rows under the same filter (chunks and pages pruned by their statistics)
        for desc in [false, true] {
            let order = if desc { " order by time desc" } else { "" };
            let sql = format!("select s0 from root.ag.d where s0 > {k}{order}");
            let got: Vec<(i64, Option<Value>)> = common::query_rows(&ex, &sql, 5)
                .into_iter()
                .map(|(t, mut v)| (t, v.swap_remove(0)))
                .collect();
            let mut want: Vec<(i64, Option<Value>)> = whole
                .times
                .iter()
                .zip(values)
                .filter(|(_, v)| **v > k)
                .map(|(t, v)| (*t, Some(Value::Int64(*v))))
                .collect();
            if desc {
                want.reverse();
            }
            prop_assert_eq!(got, want, "{}", sql);
        }
        // a filter on another series: rows joined and filtered slice by slice
        let other = engine.read_series(&path1, TimeRange::ALL).unwrap();
        let ColumnData::Int64(ovals) = &other.values else { panic!("not INT64") };
        let k1 = k % 500;
        let s1_at: std::collections::HashMap<i64, i64> =
            other.times.iter().copied().zip(ovals.iter().copied()).collect();
        let s0_at: std::collections::HashMap<i64, i64> =
            whole.times.iter().copied().zip(values.iter().copied()).collect();
        let sql = format!(
            "select count(s0), sum(s0), max_value(s1) from root.ag.d where s1 > {k1} group by ([{lo}, {hi}), {width}ms)"
        );
        let got: Vec<Vec<Option<Value>>> =
            common::query_rows(&ex, &sql, 4).into_iter().map(|r| r.1).collect();
        let want: Vec<Vec<Option<Value>>> = (0..windows)
            .map(|j| {
                let (a, b) = (lo + j * width, lo + (j + 1) * width);
                let rows: Vec<(Option<i64>, i64)> = other
                    .times
                    .iter()
                    .filter(|t| (a..b).contains(*t) && s1_at[*t] > k1)
                    .map(|t| (s0_at.get(t).copied(), s1_at[t]))
                    .collect();
                let s0s: Vec<i64> = rows.iter().filter_map(|r| r.0).collect();
                vec![
                    Some(Value::Int64(s0s.len() as i64)),
                    (!s0s.is_empty()).then(|| Value::Double(s0s.iter().map(|&v| v as f64).sum())),
                    rows.iter().map(|r| r.1).max().map(Value::Int64),
                ]
            })
            .collect();
        prop_assert_eq!(got, want, "{}", sql);
        for (sql, wins) in cases {
            let got: Vec<Vec<Option<Value>>> =
                common::query_rows(&ex, &sql, 3).into_iter().map(|r| r.1).collect();
            // values are never negative: "s0 > -1" and no filter keep every point
            let k = if sql.contains("s0 > -1") || !sql.contains("where") { -1 } else { k };
            let want: Vec<Vec<Option<Value>>> = wins
                .iter()
                .map(|&(a, b)| reference(&whole.times, values, k, a, b))
                .collect();
            prop_assert_eq!(got, want, "{}", sql);
        }
    }
}
