//! Merging the sources of one series (flushed chunks and files, sealed and working
//! memtables) into one time-ordered, duplicate-free run: newest write wins.
//!
//! A k-way merge over the sources' heads (a binary heap keyed by time, newest source first
//! on equal times) that emits *runs*: whenever the source at the top stays below every
//! other source's head for a stretch, that whole stretch is copied at once. Disjoint sources
//! (sequence files, pages of one chunk) therefore cost one heap operation each and a
//! memcpy; interleaved ones cost O(log k) per point. The merge used to fold sources
//! pairwise, which was quadratic in the number of sources.

use crate::api::SeriesData;
use model::{ColumnData, TSDataType};
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A source's next row: ordered by time, then newest source (highest index) first.
#[derive(PartialEq, Eq)]
struct Head {
    time: i64,
    source: usize,
}

impl Ord for Head {
    fn cmp(&self, other: &Self) -> Ordering {
        self.time
            .cmp(&other.time)
            .then_with(|| other.source.cmp(&self.source))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Rows `lo..hi` of source `source`, copied as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Run {
    source: usize,
    lo: usize,
    hi: usize,
}

/// Merges sorted, duplicate-free sources of one series, given oldest first: on equal
/// timestamps the newest source wins. A source whose value type differs from a newer one's
/// (the series was dropped and re-created with another type) is superseded entirely by it,
/// together with everything older.
pub(crate) fn merge_newest_wins(mut sources: Vec<SeriesData>, data_type: TSDataType) -> SeriesData {
    sources.retain(|s| !s.times.is_empty());
    if let Some(last) = sources.last() {
        let ty = last.values.data_type();
        let first_kept = sources
            .iter()
            .rposition(|s| s.values.data_type() != ty)
            .map_or(0, |i| i + 1);
        sources.drain(..first_kept);
    }
    match sources.len() {
        0 => {
            return SeriesData {
                times: Default::default(),
                values: ColumnData::empty(data_type),
            }
        }
        1 => return sources.pop().unwrap_or_else(|| unreachable!()),
        _ => {}
    }
    // a few sources (a file rewritten more than once, say) are folded oldest first, two by
    // two, each pair in one linear pass: a copy per fold, against the heap's operations per
    // row wherever the sources hold the same timestamps
    if sources.len() <= FOLD_MAX {
        while sources.len() > 2 {
            let newer = sources.remove(1);
            let older = sources.remove(0);
            let runs = plan_two(&older.times, &newer.times);
            sources.insert(0, gather(&[older, newer], &runs));
        }
    }
    let runs = plan_runs(&sources);
    gather(&sources, &runs)
}

/// Most sources merged by folding pairs (see [`merge_newest_wins`]); more go through the
/// heap, whose cost does not grow with copies per fold (many disjoint sources cost it one
/// operation each).
const FOLD_MAX: usize = 4;

/// The runs that make up the merged series, in output order.
fn plan_runs(sources: &[SeriesData]) -> Vec<Run> {
    if let [older, newer] = sources {
        return plan_two(&older.times, &newer.times);
    }
    let mut pos = vec![0usize; sources.len()];
    let mut heap: BinaryHeap<Reverse<Head>> = sources
        .iter()
        .enumerate()
        .map(|(source, s)| {
            Reverse(Head {
                time: s.times[0],
                source,
            })
        })
        .collect();
    let mut runs: Vec<Run> = Vec::new();
    while let Some(Reverse(top)) = heap.pop() {
        // Older sources holding the same timestamp lose that row.
        while let Some(Reverse(h)) = heap.peek() {
            if h.time != top.time {
                break;
            }
            let source = h.source;
            heap.pop();
            pos[source] += 1;
            if let Some(&time) = sources[source].times.get(pos[source]) {
                heap.push(Reverse(Head { time, source }));
            }
        }
        let times = &sources[top.source].times;
        let lo = pos[top.source];
        // Copy up to (not including) the next head of any other source.
        let hi = match heap.peek() {
            Some(Reverse(next)) => lo + 1 + times[lo + 1..].partition_point(|&t| t < next.time),
            None => times.len(),
        };
        match runs.last_mut() {
            Some(r) if r.source == top.source && r.hi == lo => r.hi = hi,
            _ => runs.push(Run {
                source: top.source,
                lo,
                hi,
            }),
        }
        pos[top.source] = hi;
        if let Some(&time) = times.get(hi) {
            heap.push(Reverse(Head {
                time,
                source: top.source,
            }));
        }
    }
    runs
}

/// [`plan_runs`] of two sources (source 0 older, source 1 newer) by one linear pass of two
/// cursors, the commonest overlap (a file and the memtable, a sequence file and the unsequence
/// file that rewrote part of it). The heap costs a few pushes and pops per row wherever the
/// two hold the same timestamps, which made a query over rewritten points about 7x slower
/// than over the same points written once; here such a stretch costs a compare per row and
/// becomes one run of the newer source.
fn plan_two(older: &[i64], newer: &[i64]) -> Vec<Run> {
    fn push(runs: &mut Vec<Run>, source: usize, lo: usize, hi: usize) {
        match runs.last_mut() {
            Some(r) if r.source == source && r.hi == lo => r.hi = hi,
            _ => runs.push(Run { source, lo, hi }),
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut runs = Vec::new();
    while i < older.len() && j < newer.len() {
        let (a, b) = (older[i], newer[j]);
        if a < b {
            let hi = i + 1 + gallop(&older[i + 1..], b);
            push(&mut runs, 0, i, hi);
            i = hi;
        } else if b < a {
            let hi = j + 1 + gallop(&newer[j + 1..], a);
            push(&mut runs, 1, j, hi);
            j = hi;
        } else {
            // the newer row wins; the older one is dropped
            push(&mut runs, 1, j, j + 1);
            i += 1;
            j += 1;
        }
    }
    if i < older.len() {
        push(&mut runs, 0, i, older.len());
    }
    if j < newer.len() {
        push(&mut runs, 1, j, newer.len());
    }
    runs
}

/// How many leading timestamps of a sorted slice are below `limit`: exponential search from
/// the front, so a short stretch costs a compare or two and a long one a binary search.
fn gallop(times: &[i64], limit: i64) -> usize {
    let mut end = 1;
    while end <= times.len() && times[end - 1] < limit {
        end *= 2;
    }
    let lo = end / 2;
    let hi = end.min(times.len());
    lo + times[lo..hi].partition_point(|&t| t < limit)
}

/// Copies the runs' times and values into one series (all sources share one value type).
fn gather(sources: &[SeriesData], runs: &[Run]) -> SeriesData {
    let total: usize = runs.iter().map(|r| r.hi - r.lo).sum();
    let mut times = Vec::with_capacity(total);
    for r in runs {
        times.extend_from_slice(&sources[r.source].times[r.lo..r.hi]);
    }
    macro_rules! values {
        ($variant:ident) => {{
            let mut out = Vec::with_capacity(total);
            for r in runs {
                match &sources[r.source].values {
                    ColumnData::$variant(v) => out.extend_from_slice(&v[r.lo..r.hi]),
                    _ => unreachable!("sources of one type only (checked on entry)"),
                }
            }
            ColumnData::$variant(out)
        }};
    }
    let values = match &sources[0].values {
        ColumnData::Boolean(_) => values!(Boolean),
        ColumnData::Int32(_) => values!(Int32),
        ColumnData::Int64(_) => values!(Int64),
        ColumnData::Float(_) => values!(Float),
        ColumnData::Double(_) => values!(Double),
        ColumnData::Binary(_) => values!(Binary),
    };
    SeriesData {
        times: times.into(),
        values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn ints(times: &[i64], tag: i64) -> SeriesData {
        SeriesData {
            times: times.to_vec().into(),
            values: ColumnData::Int64(times.iter().map(|t| t * 10 + tag).collect()),
        }
    }

    #[test]
    fn newer_sources_win_on_equal_times() {
        let m = merge_newest_wins(
            vec![ints(&[1, 3, 5], 1), ints(&[2, 3, 6], 2)],
            TSDataType::Int64,
        );
        assert_eq!(m.times, vec![1, 2, 3, 5, 6]);
        assert_eq!(m.values, ColumnData::Int64(vec![11, 22, 32, 51, 62]));
        assert!(merge_newest_wins(vec![], TSDataType::Text).times.is_empty());
    }

    #[test]
    fn disjoint_sources_are_copied_in_runs() {
        let sources = vec![
            ints(&[10, 11, 12], 0),
            ints(&[1, 2, 3], 1),
            ints(&[5, 6], 2),
        ];
        let runs = plan_runs(&sources);
        assert_eq!(runs.len(), 3);
        let m = merge_newest_wins(sources, TSDataType::Int64);
        assert_eq!(m.times, vec![1, 2, 3, 5, 6, 10, 11, 12]);
    }

    #[test]
    fn a_newer_source_of_another_type_supersedes_older_ones() {
        let text = SeriesData {
            times: vec![2].into(),
            values: ColumnData::Binary(vec![b"x".to_vec()]),
        };
        let m = merge_newest_wins(
            vec![ints(&[1, 2], 0), text.clone(), ints(&[3], 1)],
            TSDataType::Int64,
        );
        assert_eq!(m.times, vec![3]);
        let m = merge_newest_wins(vec![ints(&[1, 2], 0), text], TSDataType::Int64);
        assert_eq!(m.values, ColumnData::Binary(vec![b"x".to_vec()]));
    }

    #[test]
    fn two_sources_holding_the_same_times_make_one_run_of_the_newer() {
        let times: Vec<i64> = (0..1000).collect();
        let sources = vec![ints(&times, 0), ints(&times, 1)];
        assert_eq!(
            plan_runs(&sources),
            vec![Run {
                source: 1,
                lo: 0,
                hi: 1000
            }]
        );
        let m = merge_newest_wins(sources, TSDataType::Int64);
        assert_eq!(m.times, times);
        assert_eq!(
            m.values,
            ColumnData::Int64(times.iter().map(|t| t * 10 + 1).collect())
        );
    }

    #[test]
    fn gallop_counts_the_times_below_a_limit() {
        let times: Vec<i64> = (0..100).map(|t| t * 2).collect();
        for limit in -1..=201 {
            let expected = times.iter().filter(|&&t| t < limit).count();
            assert_eq!(gallop(&times, limit), expected, "limit {limit}");
            assert_eq!(gallop(&times[..0], limit), 0);
        }
    }

    fn source() -> impl Strategy<Value = Vec<i64>> {
        proptest::collection::btree_set(0i64..200, 0..40).prop_map(|s| s.into_iter().collect())
    }

    proptest! {
        #[test]
        fn equals_a_newest_wins_map(srcs in proptest::collection::vec(source(), 0..8)) {
            let mut expected = BTreeMap::new();
            let sources: Vec<SeriesData> = srcs
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    for &time in t {
                        expected.insert(time, time * 10 + i as i64);
                    }
                    ints(t, i as i64)
                })
                .collect();
            let m = merge_newest_wins(sources, TSDataType::Int64);
            prop_assert_eq!(m.times, expected.keys().copied().collect::<Vec<_>>());
            prop_assert_eq!(m.values, ColumnData::Int64(expected.values().copied().collect()));
        }

        /// Two sources (the linear path) against the same map, with long shared stretches.
        #[test]
        fn two_sources_equal_a_newest_wins_map(
            a in proptest::collection::btree_set(0i64..400, 0..200),
            b in proptest::collection::btree_set(0i64..400, 0..200),
            shared in 0i64..400,
        ) {
            let a: Vec<i64> = a.into_iter().chain(0..shared).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            let b: Vec<i64> = b.into_iter().chain(0..shared).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            let mut expected = BTreeMap::new();
            for &t in &a {
                expected.insert(t, t * 10);
            }
            for &t in &b {
                expected.insert(t, t * 10 + 1);
            }
            let m = merge_newest_wins(vec![ints(&a, 0), ints(&b, 1)], TSDataType::Int64);
            prop_assert_eq!(m.times, expected.keys().copied().collect::<Vec<_>>());
            prop_assert_eq!(m.values, ColumnData::Int64(expected.values().copied().collect()));
        }
    }
}
