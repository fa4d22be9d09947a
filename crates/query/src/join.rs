//! Time join: a k-way merge of time-sorted series into rows aligned by time
//! (a full outer join on time). A row exists for every timestamp that at least one
//! input series has; series without a point there are null.

use crate::result::take_column;
use model::{Bitmap, Column, ColumnData};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use storage::SeriesData;

/// Rows aligned by time: one timestamp per row, one column per input series.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Chunk {
    /// Row timestamps (ascending, or descending for ORDER BY TIME DESC).
    pub times: Vec<i64>,
    /// One column per input, `times.len()` long, null where the input had no point.
    pub columns: Vec<Column>,
}

impl Chunk {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Keeps only rows `idx` (in that order).
    /// Keeps, in place, the rows where `pred` (a BOOLEAN column, one value per row) is true
    /// and not null, as [`crate::expr::selected_rows`] selects them.
    pub fn retain(&mut self, pred: &Column) {
        let keep = crate::expr::selected_mask(pred, self.len());
        if keep.iter().all(|&k| k) {
            return;
        }
        model::batch::compact(&mut self.times, &keep);
        for c in &mut self.columns {
            c.retain_mask(&keep);
        }
    }

    /// The rows at positions `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> Chunk {
        Chunk {
            times: idx
                .iter()
                .filter_map(|&i| self.times.get(i).copied())
                .collect(),
            columns: self.columns.iter().map(|c| take_column(c, idx)).collect(),
        }
    }
}

/// Merges sorted series into time-aligned chunks, ascending or descending.
pub struct TimeJoin {
    series: Vec<SeriesData>,
    /// Ascending: index of the next point. Descending: number of points not yet taken.
    pos: Vec<usize>,
    desc: bool,
    /// Heads of the series: (order key, series index); the smallest key comes next.
    heap: BinaryHeap<Reverse<(i64, usize)>>,
    /// Every series has the same timestamps (one series, or columns written together as
    /// tablets): rows are slices of the inputs, no merge needed.
    shared: bool,
}

impl TimeJoin {
    /// A join over `series` (each with strictly ascending times).
    pub fn new(series: Vec<SeriesData>, desc: bool) -> Self {
        let shared = shares_times(&series);
        Self::knowing_shared(series, desc, shared)
    }

    /// As [`TimeJoin::new`], where `shared` is what [`shares_times`] says of `series`
    /// (worked out by the caller, e.g. on the thread that read them).
    pub fn knowing_shared(series: Vec<SeriesData>, desc: bool, shared: bool) -> Self {
        debug_assert_eq!(shared, shares_times(&series));
        let pos: Vec<usize> = if desc {
            series.iter().map(|s| s.times.len()).collect()
        } else {
            vec![0; series.len()]
        };
        let mut j = TimeJoin {
            series,
            pos,
            desc,
            heap: BinaryHeap::new(),
            shared,
        };
        for i in 0..j.series.len() {
            j.push_head(i);
        }
        j
    }

    /// Order key: ascending time, or (order-reversing, overflow-free) `!t` for descending.
    fn key(&self, t: i64) -> i64 {
        if self.desc {
            !t
        } else {
            t
        }
    }

    fn head_index(&self, i: usize) -> Option<usize> {
        let len = self.series[i].times.len().min(self.series[i].values.len());
        if self.desc {
            let p = self.pos[i];
            (p > 0 && p <= len).then(|| p - 1)
        } else {
            let p = self.pos[i];
            (p < len).then_some(p)
        }
    }

    fn push_head(&mut self, i: usize) {
        if let Some(h) = self.head_index(i) {
            let k = self.key(self.series[i].times[h]);
            self.heap.push(Reverse((k, i)));
        }
    }

    fn advance(&mut self, i: usize) {
        if self.desc {
            self.pos[i] -= 1;
        } else {
            self.pos[i] += 1;
        }
        self.push_head(i);
    }

    /// True when every series is exhausted.
    pub fn is_done(&self) -> bool {
        self.heap.is_empty()
    }

    /// As [`TimeJoin::next_chunk`], except that series sharing their timestamps give every
    /// remaining row at once (their buffers move instead of being copied; see
    /// `ResultStream::next_block`).
    pub fn next_block(&mut self, max_rows: usize) -> Option<Chunk> {
        if self.shared && !self.heap.is_empty() {
            return self.next_shared(usize::MAX);
        }
        self.next_chunk(max_rows)
    }

    /// The next up to `max_rows` rows, or `None` when exhausted.
    pub fn next_chunk(&mut self, max_rows: usize) -> Option<Chunk> {
        if self.heap.is_empty() {
            return None;
        }
        let max_rows = max_rows.max(1);
        let n = self.series.len();
        if self.shared {
            return self.next_shared(max_rows);
        }
        let mut times = Vec::new();
        // Per series: (row, source index) pairs.
        let mut picks: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        while times.len() < max_rows {
            let Some(Reverse((key, _))) = self.heap.peek().copied() else {
                break;
            };
            let row = times.len();
            let t = if self.desc { !key } else { key };
            times.push(t);
            while let Some(Reverse((k, i))) = self.heap.peek().copied() {
                if k != key {
                    break;
                }
                self.heap.pop();
                if let Some(h) = self.head_index(i) {
                    picks[i].push((row, h));
                }
                self.advance(i);
            }
        }
        let rows = times.len();
        let columns = self
            .series
            .iter()
            .zip(&picks)
            .map(|(s, p)| scatter(&s.values, p, rows))
            .collect();
        Some(Chunk { times, columns })
    }
}

impl TimeJoin {
    /// Fast path for series sharing their timestamps (one series is the simplest case):
    /// the rows are the same slice of every input.
    fn next_shared(&mut self, max_rows: usize) -> Option<Chunk> {
        let len = self.series[0].times.len();
        let (lo, hi) = if self.desc {
            let hi = self.pos[0].min(len);
            (hi.saturating_sub(max_rows), hi)
        } else {
            let lo = self.pos[0].min(len);
            (lo, lo.saturating_add(max_rows).min(len))
        };
        let next = if self.desc { lo } else { hi };
        self.pos.iter_mut().for_each(|p| *p = next);
        self.heap.clear();
        for i in 0..self.series.len() {
            self.push_head(i);
        }
        if lo >= hi {
            return None;
        }
        if lo == 0 && hi == len {
            // every remaining row at once: the inputs' buffers move instead of being copied
            // (the other series let go of the times first, which they may share)
            for s in &mut self.series[1..] {
                s.times = Default::default();
            }
            let mut times = std::mem::take(&mut self.series[0].times).into_vec();
            if self.desc {
                times.reverse();
            }
            let columns = self
                .series
                .iter_mut()
                .map(|s| Column::new(take_data(&mut s.values, self.desc)))
                .collect();
            return Some(Chunk { times, columns });
        }
        let mut times = self.series[0].times[lo..hi].to_vec();
        if self.desc {
            times.reverse();
        }
        let columns = self
            .series
            .iter()
            .map(|s| Column::new(slice_data(&s.values, lo, hi, self.desc)))
            .collect();
        Some(Chunk { times, columns })
    }
}

/// True when every series has the same timestamps, with a value at each (one series, or
/// columns written together as tablets): their join is slices of the inputs.
pub fn shares_times(series: &[SeriesData]) -> bool {
    series
        .iter()
        .all(|s| s.times == series[0].times && s.values.len() == s.times.len())
}

/// All values of a column, moved out (leaving it empty), reversed if asked.
fn take_data(src: &mut ColumnData, reverse: bool) -> ColumnData {
    fn take<T>(v: &mut Vec<T>, reverse: bool) -> Vec<T> {
        let mut out = std::mem::take(v);
        if reverse {
            out.reverse();
        }
        out
    }
    match src {
        ColumnData::Boolean(v) => ColumnData::Boolean(take(v, reverse)),
        ColumnData::Int32(v) => ColumnData::Int32(take(v, reverse)),
        ColumnData::Int64(v) => ColumnData::Int64(take(v, reverse)),
        ColumnData::Float(v) => ColumnData::Float(take(v, reverse)),
        ColumnData::Double(v) => ColumnData::Double(take(v, reverse)),
        ColumnData::Binary(v) => ColumnData::Binary(take(v, reverse)),
    }
}

/// Values `lo..hi` of a column, reversed if asked.
fn slice_data(src: &ColumnData, lo: usize, hi: usize, reverse: bool) -> ColumnData {
    fn cut<T: Clone>(v: &[T], lo: usize, hi: usize, reverse: bool) -> Vec<T> {
        let mut out = v[lo..hi].to_vec();
        if reverse {
            out.reverse();
        }
        out
    }
    match src {
        ColumnData::Boolean(v) => ColumnData::Boolean(cut(v, lo, hi, reverse)),
        ColumnData::Int32(v) => ColumnData::Int32(cut(v, lo, hi, reverse)),
        ColumnData::Int64(v) => ColumnData::Int64(cut(v, lo, hi, reverse)),
        ColumnData::Float(v) => ColumnData::Float(cut(v, lo, hi, reverse)),
        ColumnData::Double(v) => ColumnData::Double(cut(v, lo, hi, reverse)),
        ColumnData::Binary(v) => ColumnData::Binary(cut(v, lo, hi, reverse)),
    }
}

/// A column of `rows` positions holding `src[j]` at row `r` for each `(r, j)` in `picks`
/// (rows ascending), null elsewhere.
pub fn scatter(src: &ColumnData, picks: &[(usize, usize)], rows: usize) -> Column {
    fn fill<T: Clone + Default>(v: &[T], picks: &[(usize, usize)], rows: usize) -> Vec<T> {
        let mut out = vec![T::default(); rows];
        for &(r, j) in picks {
            if let (Some(slot), Some(x)) = (out.get_mut(r), v.get(j)) {
                *slot = x.clone();
            }
        }
        out
    }
    let data = match src {
        ColumnData::Boolean(v) => ColumnData::Boolean(fill(v, picks, rows)),
        ColumnData::Int32(v) => ColumnData::Int32(fill(v, picks, rows)),
        ColumnData::Int64(v) => ColumnData::Int64(fill(v, picks, rows)),
        ColumnData::Float(v) => ColumnData::Float(fill(v, picks, rows)),
        ColumnData::Double(v) => ColumnData::Double(fill(v, picks, rows)),
        ColumnData::Binary(v) => ColumnData::Binary(fill(v, picks, rows)),
    };
    let nulls = if picks.len() == rows {
        None
    } else {
        let mut present = vec![false; rows];
        for &(r, _) in picks {
            if let Some(p) = present.get_mut(r) {
                *p = true;
            }
        }
        let mut bm = Bitmap::new(rows);
        for (r, p) in present.iter().enumerate() {
            if !p {
                bm.set(r);
            }
        }
        Some(bm)
    };
    Column { data, nulls }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Value;

    fn s(times: &[i64], vals: &[i32]) -> SeriesData {
        SeriesData {
            times: times.to_vec().into(),
            values: ColumnData::Int32(vals.to_vec()),
        }
    }

    fn rows(chunk: &Chunk) -> Vec<(i64, Vec<Option<i32>>)> {
        (0..chunk.len())
            .map(|r| {
                let vals = chunk
                    .columns
                    .iter()
                    .map(|c| match c.value(r) {
                        Some(Value::Int32(v)) => Some(v),
                        _ => None,
                    })
                    .collect();
                (chunk.times[r], vals)
            })
            .collect()
    }

    #[test]
    fn union_of_times_with_nulls() {
        let mut j = TimeJoin::new(
            vec![s(&[1, 3, 5], &[10, 30, 50]), s(&[2, 3], &[20, 31])],
            false,
        );
        let c = j.next_chunk(100).unwrap();
        assert_eq!(
            rows(&c),
            vec![
                (1, vec![Some(10), None]),
                (2, vec![None, Some(20)]),
                (3, vec![Some(30), Some(31)]),
                (5, vec![Some(50), None]),
            ]
        );
        assert!(j.next_chunk(100).is_none());
    }

    #[test]
    fn descending_in_small_chunks() {
        let mut j = TimeJoin::new(
            vec![s(&[1, 3, 5], &[10, 30, 50]), s(&[2, 3], &[20, 31])],
            true,
        );
        let c1 = j.next_chunk(2).unwrap();
        assert_eq!(
            rows(&c1),
            vec![(5, vec![Some(50), None]), (3, vec![Some(30), Some(31)])]
        );
        let c2 = j.next_chunk(2).unwrap();
        assert_eq!(
            rows(&c2),
            vec![(2, vec![None, Some(20)]), (1, vec![Some(10), None])]
        );
        assert!(j.next_chunk(2).is_none());
    }

    #[test]
    fn single_series_fast_path_both_directions() {
        let mut j = TimeJoin::new(vec![s(&[1, 2, 3], &[10, 20, 30])], false);
        assert_eq!(
            rows(&j.next_chunk(2).unwrap()),
            vec![(1, vec![Some(10)]), (2, vec![Some(20)])]
        );
        assert!(!j.is_done());
        assert_eq!(rows(&j.next_chunk(2).unwrap()), vec![(3, vec![Some(30)])]);
        assert!(j.next_chunk(2).is_none());
        assert!(j.is_done());
        let mut j = TimeJoin::new(vec![s(&[1, 2, 3], &[10, 20, 30])], true);
        assert_eq!(
            rows(&j.next_chunk(2).unwrap()),
            vec![(3, vec![Some(30)]), (2, vec![Some(20)])]
        );
        assert_eq!(rows(&j.next_chunk(5).unwrap()), vec![(1, vec![Some(10)])]);
        assert!(j.next_chunk(2).is_none());
    }

    #[test]
    fn shared_timestamps_slice_like_the_merge() {
        let t: Vec<i64> = (0..25).map(|i| i * 3).collect();
        let a: Vec<i32> = (0..25).collect();
        let b: Vec<i32> = (0..25).map(|i| -i).collect();
        for desc in [false, true] {
            let mut fast = TimeJoin::new(vec![s(&t, &a), s(&t, &b)], desc);
            assert!(fast.shared);
            // the same inputs through the merge: one more point at the end of a copy makes
            // the times differ, then that row is dropped
            let mut t2 = t.clone();
            t2.push(1000);
            let mut b2 = b.clone();
            b2.push(0);
            let mut slow = TimeJoin::new(vec![s(&t, &a), s(&t2, &b2)], desc);
            assert!(!slow.shared);
            let mut got = Vec::new();
            while let Some(c) = fast.next_chunk(7) {
                assert!(c.len() <= 7);
                got.extend(rows(&c));
            }
            assert!(fast.is_done());
            let mut want = Vec::new();
            while let Some(c) = slow.next_chunk(7) {
                want.extend(rows(&c));
            }
            want.retain(|r| r.0 != 1000);
            assert_eq!(got, want, "desc={desc}");
        }
    }

    #[test]
    fn extreme_timestamps_and_empty_inputs() {
        let mut j = TimeJoin::new(vec![s(&[i64::MIN, i64::MAX], &[1, 2]), s(&[], &[])], true);
        let c = j.next_chunk(10).unwrap();
        assert_eq!(c.times, vec![i64::MAX, i64::MIN]);
        assert!(c.columns[1].is_null(0) && c.columns[1].is_null(1));
        let mut none = TimeJoin::new(vec![], false);
        assert!(none.next_chunk(10).is_none());
    }
}
