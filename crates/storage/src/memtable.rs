//! In-memory write buffers: one append-only column pair (times, values) per series,
//! sorted lazily (stable, later write wins on equal timestamps) when read.

use crate::api::{SeriesData, TimeRange};
use model::{Bitmap, ColumnData, PartialPath, TSDataType, Value};
use std::collections::HashMap;

/// Applies `$body` to the matching pair of same-typed `ColumnData` vectors, or evaluates
/// `$other` when the two columns have different types.
macro_rules! same_type {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $body:expr, $other:expr) => {
        match ($a, $b) {
            (ColumnData::Boolean($x), ColumnData::Boolean($y)) => $body,
            (ColumnData::Int32($x), ColumnData::Int32($y)) => $body,
            (ColumnData::Int64($x), ColumnData::Int64($y)) => $body,
            (ColumnData::Float($x), ColumnData::Float($y)) => $body,
            (ColumnData::Double($x), ColumnData::Double($y)) => $body,
            (ColumnData::Binary($x), ColumnData::Binary($y)) => $body,
            #[allow(unreachable_patterns)]
            _ => $other,
        }
    };
}

/// Applies `$body` to the vector inside any `ColumnData`.
macro_rules! each_type {
    ($a:expr, |$x:ident| $body:expr) => {
        match $a {
            ColumnData::Boolean($x) => $body,
            ColumnData::Int32($x) => $body,
            ColumnData::Int64($x) => $body,
            ColumnData::Float($x) => $body,
            ColumnData::Double($x) => $body,
            ColumnData::Binary($x) => $body,
        }
    };
}

/// Picks the values at `idx` (in that order) from `src`.
pub(crate) fn gather(src: &ColumnData, idx: &[usize]) -> ColumnData {
    match src {
        ColumnData::Boolean(v) => ColumnData::Boolean(idx.iter().map(|&i| v[i]).collect()),
        ColumnData::Int32(v) => ColumnData::Int32(idx.iter().map(|&i| v[i]).collect()),
        ColumnData::Int64(v) => ColumnData::Int64(idx.iter().map(|&i| v[i]).collect()),
        ColumnData::Float(v) => ColumnData::Float(idx.iter().map(|&i| v[i]).collect()),
        ColumnData::Double(v) => ColumnData::Double(idx.iter().map(|&i| v[i]).collect()),
        ColumnData::Binary(v) => ColumnData::Binary(idx.iter().map(|&i| v[i].clone()).collect()),
    }
}

/// A copy of positions `lo..hi` of `src`.
pub(crate) fn slice(src: &ColumnData, lo: usize, hi: usize) -> ColumnData {
    match src {
        ColumnData::Boolean(v) => ColumnData::Boolean(v[lo..hi].to_vec()),
        ColumnData::Int32(v) => ColumnData::Int32(v[lo..hi].to_vec()),
        ColumnData::Int64(v) => ColumnData::Int64(v[lo..hi].to_vec()),
        ColumnData::Float(v) => ColumnData::Float(v[lo..hi].to_vec()),
        ColumnData::Double(v) => ColumnData::Double(v[lo..hi].to_vec()),
        ColumnData::Binary(v) => ColumnData::Binary(v[lo..hi].to_vec()),
    }
}

/// The buffered points of one series.
#[derive(Debug, Clone)]
pub(crate) struct SeriesBuf {
    times: Vec<i64>,
    values: ColumnData,
    /// True when `times` is strictly ascending (sorted and free of duplicates).
    sorted: bool,
}

impl SeriesBuf {
    pub(crate) fn new(data_type: TSDataType) -> Self {
        SeriesBuf {
            times: Vec::new(),
            values: ColumnData::empty(data_type),
            sorted: true,
        }
    }

    /// Physical type of the buffered values.
    pub(crate) fn data_type(&self) -> TSDataType {
        self.values.data_type()
    }

    pub(crate) fn len(&self) -> usize {
        self.times.len()
    }

    pub(crate) fn is_sorted(&self) -> bool {
        self.sorted
    }

    fn note_first(&mut self, first: Option<i64>, ascending: bool) {
        if let Some(first) = first {
            if !ascending || self.times.last().is_some_and(|&l| l >= first) {
                self.sorted = false;
            }
        }
    }

    /// Appends the non-null positions of a column. `ascending` tells whether `times` is
    /// strictly ascending (computed once per tablet). Returns the number of points added.
    /// The column must have this buffer's type (checked by the caller); a mismatch adds nothing.
    #[allow(clippy::clone_on_copy)] // one generic body serves Copy and Vec<u8> values
    pub(crate) fn append_column(
        &mut self,
        times: &[i64],
        ascending: bool,
        data: &ColumnData,
        nulls: Option<&Bitmap>,
    ) -> usize {
        let n = times.len().min(data.len());
        if data.data_type() != self.values.data_type() {
            return 0;
        }
        match nulls.filter(|b| b.count() > 0) {
            None => {
                self.note_first(times.first().copied(), ascending);
                self.times.extend_from_slice(&times[..n]);
                same_type!(
                    &mut self.values,
                    data,
                    |dst, src| dst.extend_from_slice(&src[..n]),
                    {}
                );
                n
            }
            Some(nulls) => {
                let first = (0..n).find(|&i| !nulls.get(i)).map(|i| times[i]);
                self.note_first(first, ascending);
                let before = self.times.len();
                self.times
                    .extend((0..n).filter(|&i| !nulls.get(i)).map(|i| times[i]));
                same_type!(
                    &mut self.values,
                    data,
                    |dst, src| dst
                        .extend((0..n).filter(|&i| !nulls.get(i)).map(|i| src[i].clone())),
                    {}
                );
                self.times.len() - before
            }
        }
    }

    /// Appends one point; returns false (and adds nothing) if the value's type differs.
    pub(crate) fn push(&mut self, time: i64, value: &Value) -> bool {
        if !self.values.push(value) {
            return false;
        }
        if self.times.last().is_some_and(|&l| l >= time) {
            self.sorted = false;
        }
        self.times.push(time);
        true
    }

    /// Sorts by time (stable), keeping only the last-written point of equal timestamps.
    pub(crate) fn ensure_sorted(&mut self) {
        if self.sorted {
            return;
        }
        let mut idx: Vec<usize> = (0..self.times.len()).collect();
        idx.sort_by_key(|&i| self.times[i]);
        let mut keep: Vec<usize> = Vec::with_capacity(idx.len());
        for i in idx {
            match keep.last_mut() {
                Some(last) if self.times[*last] == self.times[i] => *last = i,
                _ => keep.push(i),
            }
        }
        self.times = keep.iter().map(|&i| self.times[i]).collect();
        self.values = gather(&self.values, &keep);
        self.sorted = true;
    }

    fn bounds(&self, range: TimeRange) -> (usize, usize) {
        let lo = self.times.partition_point(|&t| t < range.start);
        let hi = self.times.partition_point(|&t| t <= range.end);
        (lo, hi.max(lo))
    }

    /// Points in `range`; the buffer must be sorted (see [`SeriesBuf::ensure_sorted`]).
    pub(crate) fn read(&self, range: TimeRange) -> SeriesData {
        debug_assert!(self.sorted);
        let (lo, hi) = self.bounds(range);
        SeriesData {
            times: self.times[lo..hi].to_vec(),
            values: slice(&self.values, lo, hi),
        }
    }

    /// The latest point; the buffer must be sorted.
    pub(crate) fn last(&self) -> Option<(i64, Value)> {
        let i = self.times.len().checked_sub(1)?;
        Some((self.times[i], self.values.get(i)?))
    }

    /// The raw columns (sorted only after [`SeriesBuf::ensure_sorted`]).
    pub(crate) fn parts(&self) -> (&[i64], &ColumnData) {
        (&self.times, &self.values)
    }

    /// Removes the points inside `range`; returns how many were removed.
    pub(crate) fn delete(&mut self, range: TimeRange) -> usize {
        if self.sorted {
            let (lo, hi) = self.bounds(range);
            if lo == hi {
                return 0;
            }
            self.times.drain(lo..hi);
            each_type!(&mut self.values, |v| {
                v.drain(lo..hi);
            });
            return hi - lo;
        }
        let keep: Vec<usize> = (0..self.times.len())
            .filter(|&i| !range.contains(self.times[i]))
            .collect();
        let removed = self.times.len() - keep.len();
        if removed > 0 {
            self.times = keep.iter().map(|&i| self.times[i]).collect();
            self.values = gather(&self.values, &keep);
        }
        removed
    }
}

/// One memtable: the buffered points of many series, keyed by device then measurement.
#[derive(Debug, Default)]
pub(crate) struct MemTable {
    devices: HashMap<PartialPath, HashMap<String, SeriesBuf>>,
    points: u64,
}

impl MemTable {
    /// Number of points buffered (appended; overwritten duplicates still count until sorted).
    pub(crate) fn points(&self) -> u64 {
        self.points
    }

    /// The buffer of a series, created (or replaced, if its type changed) as needed.
    pub(crate) fn series_mut(
        &mut self,
        device: &PartialPath,
        measurement: &str,
        data_type: TSDataType,
    ) -> &mut SeriesBuf {
        let dev = self.devices.entry(device.clone()).or_default();
        let phys = data_type.physical();
        let buf = dev
            .entry(measurement.to_string())
            .or_insert_with(|| SeriesBuf::new(phys));
        if buf.data_type() != phys {
            tracing::warn!(
                "series {device}.{measurement} changed type from {} to {}; dropping stale buffered points",
                buf.data_type(),
                phys
            );
            self.points = self.points.saturating_sub(buf.len() as u64);
            *buf = SeriesBuf::new(phys);
        }
        buf
    }

    pub(crate) fn add_points(&mut self, n: usize) {
        self.points += n as u64;
    }

    pub(crate) fn series(&self, device: &PartialPath, measurement: &str) -> Option<&SeriesBuf> {
        self.devices.get(device)?.get(measurement)
    }

    pub(crate) fn series_existing_mut(
        &mut self,
        device: &PartialPath,
        measurement: &str,
    ) -> Option<&mut SeriesBuf> {
        self.devices.get_mut(device)?.get_mut(measurement)
    }

    /// Calls `f` for every series buffer.
    pub(crate) fn for_each_series(
        &mut self,
        mut f: impl FnMut(&PartialPath, &str, &mut SeriesBuf) -> model::Result<()>,
    ) -> model::Result<()> {
        for (device, series) in self.devices.iter_mut() {
            for (m, buf) in series.iter_mut() {
                f(device, m, buf)?;
            }
        }
        Ok(())
    }

    /// Deletes points of one series in `range`.
    pub(crate) fn delete(&mut self, device: &PartialPath, measurement: &str, range: TimeRange) {
        if let Some(buf) = self.series_existing_mut(device, measurement) {
            let n = buf.delete(range);
            self.points = self.points.saturating_sub(n as u64);
        }
    }

    /// Forgets a series entirely.
    pub(crate) fn drop_series(&mut self, device: &PartialPath, measurement: &str) {
        if let Some(dev) = self.devices.get_mut(device) {
            if let Some(buf) = dev.remove(measurement) {
                self.points = self.points.saturating_sub(buf.len() as u64);
            }
            if dev.is_empty() {
                self.devices.remove(device);
            }
        }
    }
}

/// Merges several sorted, duplicate-free sources of one series, given oldest first: on
/// equal timestamps the newest source wins. This is where flushed files (older) and
/// memtables (newer) meet once files exist.
pub(crate) fn merge_newest_wins(mut sources: Vec<SeriesData>, data_type: TSDataType) -> SeriesData {
    sources.retain(|s| !s.times.is_empty());
    let mut iter = sources.into_iter();
    let Some(mut acc) = iter.next() else {
        return SeriesData {
            times: Vec::new(),
            values: ColumnData::empty(data_type),
        };
    };
    for newer in iter {
        acc = merge_two(acc, newer);
    }
    acc
}

fn merge_two(old: SeriesData, new: SeriesData) -> SeriesData {
    let (mut i, mut j) = (0, 0);
    let mut times = Vec::with_capacity(old.times.len() + new.times.len());
    // (source, index) picks, then gathered per source type
    let mut picks: Vec<(bool, usize)> = Vec::with_capacity(times.capacity());
    while i < old.times.len() || j < new.times.len() {
        let take_new = match (old.times.get(i), new.times.get(j)) {
            (Some(a), Some(b)) => {
                if a == b {
                    i += 1; // the newer point replaces the older one
                    true
                } else {
                    b < a
                }
            }
            (None, Some(_)) => true,
            _ => false,
        };
        if take_new {
            times.push(new.times[j]);
            picks.push((true, j));
            j += 1;
        } else {
            times.push(old.times[i]);
            picks.push((false, i));
            i += 1;
        }
    }
    let values = match (&old.values, &new.values) {
        (ColumnData::Boolean(a), ColumnData::Boolean(b)) => ColumnData::Boolean(pick(&picks, a, b)),
        (ColumnData::Int32(a), ColumnData::Int32(b)) => ColumnData::Int32(pick(&picks, a, b)),
        (ColumnData::Int64(a), ColumnData::Int64(b)) => ColumnData::Int64(pick(&picks, a, b)),
        (ColumnData::Float(a), ColumnData::Float(b)) => ColumnData::Float(pick(&picks, a, b)),
        (ColumnData::Double(a), ColumnData::Double(b)) => ColumnData::Double(pick(&picks, a, b)),
        (ColumnData::Binary(a), ColumnData::Binary(b)) => ColumnData::Binary(pick(&picks, a, b)),
        // Sources of different types cannot be merged; the newest one stands alone.
        _ => return new,
    };
    SeriesData { times, values }
}

fn pick<T: Clone>(picks: &[(bool, usize)], old: &[T], new: &[T]) -> Vec<T> {
    picks
        .iter()
        .map(|&(from_new, k)| {
            if from_new {
                new[k].clone()
            } else {
                old[k].clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doubles(buf: &SeriesBuf) -> (Vec<i64>, Vec<f64>) {
        let d = buf.read(TimeRange::ALL);
        match d.values {
            ColumnData::Double(v) => (d.times, v),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn later_write_wins_after_lazy_sort() {
        let mut b = SeriesBuf::new(TSDataType::Double);
        b.append_column(
            &[1, 2, 3],
            true,
            &ColumnData::Double(vec![1.0, 2.0, 3.0]),
            None,
        );
        assert!(b.is_sorted());
        b.append_column(&[2, 0], false, &ColumnData::Double(vec![20.0, 0.5]), None);
        assert!(!b.is_sorted());
        b.push(3, &Value::Double(30.0));
        b.ensure_sorted();
        assert_eq!(doubles(&b), (vec![0, 1, 2, 3], vec![0.5, 1.0, 20.0, 30.0]));
        assert_eq!(b.last(), Some((3, Value::Double(30.0))));
    }

    #[test]
    fn nulls_are_skipped_and_deletes_apply() {
        let mut b = SeriesBuf::new(TSDataType::Double);
        let mut nulls = Bitmap::new(4);
        nulls.set(1);
        let added = b.append_column(
            &[10, 11, 12, 13],
            true,
            &ColumnData::Double(vec![1.0, 9.0, 2.0, 3.0]),
            Some(&nulls),
        );
        assert_eq!(added, 3);
        assert_eq!(b.delete(TimeRange::new(12, 12)), 1);
        assert_eq!(doubles(&b), (vec![10, 13], vec![1.0, 3.0]));
        // deleting from an unsorted buffer
        b.push(5, &Value::Double(5.0));
        assert_eq!(b.delete(TimeRange::new(0, 10)), 2);
        b.ensure_sorted();
        assert_eq!(doubles(&b), (vec![13], vec![3.0]));
    }

    #[test]
    fn merge_prefers_newer_sources() {
        let old = SeriesData {
            times: vec![1, 3, 5],
            values: ColumnData::Int64(vec![1, 3, 5]),
        };
        let new = SeriesData {
            times: vec![2, 3, 6],
            values: ColumnData::Int64(vec![20, 30, 60]),
        };
        let m = merge_newest_wins(vec![old, new], TSDataType::Int64);
        assert_eq!(m.times, vec![1, 2, 3, 5, 6]);
        assert_eq!(m.values, ColumnData::Int64(vec![1, 20, 30, 5, 60]));
        let e = merge_newest_wins(vec![], TSDataType::Text);
        assert!(e.times.is_empty());
    }

    #[test]
    fn type_change_replaces_stale_buffer() {
        let mut m = MemTable::default();
        let d = PartialPath::parse("root.sg.d").unwrap();
        m.series_mut(&d, "s", TSDataType::Int64)
            .push(1, &Value::Int64(1));
        m.add_points(1);
        let b = m.series_mut(&d, "s", TSDataType::Double);
        assert_eq!(b.len(), 0);
        assert!(!b.push(1, &Value::Int64(1)));
        assert_eq!(m.points(), 0);
    }
}
