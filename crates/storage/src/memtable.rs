//! In-memory write buffers: one append-only column pair (times, values) per series, kept
//! in fixed-size blocks (growth allocates, never copies) and sorted lazily (stable, later
//! write wins on equal timestamps) when read.

use crate::api::{SeriesData, SeriesSpan, TimeRange};
use model::{Bitmap, ColumnData, PartialPath, TSDataType, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// log2 of the points in a full block: 64 Ki points, 512 KiB of 8-byte values.
const BLOCK_SHIFT: u32 = 16;

/// An append-only sequence kept in blocks of `1 << SHIFT` items.
///
/// Every block except the last is full. Full-size blocks are allocated once and never
/// reallocated, so a growing series never copies what it already holds (a contiguous
/// `Vec` doubles and copies, and the copies touch fresh pages the kernel must zero).
/// The first block starts small and grows geometrically up to the full size, so that
/// the many small series of a typical schema stay small.
#[derive(Debug, Clone)]
pub(crate) struct Blocks<T, const SHIFT: u32 = BLOCK_SHIFT> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T: Clone, const SHIFT: u32> Blocks<T, SHIFT> {
    const SIZE: usize = 1 << SHIFT;

    /// An empty sequence (allocates nothing).
    pub(crate) fn new() -> Self {
        Blocks {
            blocks: Vec::new(),
            len: 0,
        }
    }

    /// The block that takes the next item (started if the last one is full), with room
    /// reserved for `min(want, room left in the block)` more items.
    fn tail(&mut self, want: usize) -> &mut Vec<T> {
        let open = self.blocks.last().is_some_and(|b| b.len() < Self::SIZE);
        if !open {
            let cap = if self.blocks.is_empty() {
                want.clamp(4, Self::SIZE)
            } else {
                Self::SIZE
            };
            self.blocks.push(Vec::with_capacity(cap));
        }
        let last = self.blocks.len() - 1;
        let b = &mut self.blocks[last];
        let need = b.len() + want.min(Self::SIZE - b.len());
        if need > b.capacity() {
            // only the first block ever grows: geometrically, capped at the block size
            let target = need.max(b.capacity() * 2).min(Self::SIZE);
            b.reserve_exact(target - b.len());
        }
        b
    }

    /// Appends a copy of `src`.
    pub(crate) fn extend_from_slice(&mut self, mut src: &[T]) {
        self.len += src.len();
        while !src.is_empty() {
            let b = self.tail(src.len());
            let take = (Self::SIZE - b.len()).min(src.len());
            b.extend_from_slice(&src[..take]);
            src = &src[take..];
        }
    }

    /// Appends every item of `items`.
    pub(crate) fn extend(&mut self, items: impl IntoIterator<Item = T>) {
        let mut it = items.into_iter().peekable();
        while it.peek().is_some() {
            let hint = it.size_hint().0.max(1);
            let b = self.tail(hint);
            let before = b.len();
            let room = Self::SIZE - before;
            b.extend(it.by_ref().take(room));
            self.len += b.len() - before;
        }
    }

    /// Appends one item.
    pub(crate) fn push(&mut self, item: T) {
        self.tail(1).push(item);
        self.len += 1;
    }

    /// The item at position `i`.
    pub(crate) fn get(&self, i: usize) -> Option<&T> {
        self.blocks.get(i >> SHIFT)?.get(i & (Self::SIZE - 1))
    }

    /// Positions `lo..hi` (clamped to the length) as contiguous pieces, in order.
    pub(crate) fn slices(&self, lo: usize, hi: usize) -> impl Iterator<Item = &[T]> + '_ {
        let hi = hi.min(self.len);
        let lo = lo.min(hi);
        self.blocks
            .iter()
            .enumerate()
            .skip(lo >> SHIFT)
            .take_while(move |(k, _)| k << SHIFT < hi)
            .filter_map(move |(k, b)| {
                let start = k << SHIFT;
                let (a, z) = (lo.max(start), hi.min(start + b.len()));
                (a < z).then(|| &b[a - start..z - start])
            })
    }

    /// A copy of positions `lo..hi` (clamped to the length).
    pub(crate) fn to_vec(&self, lo: usize, hi: usize) -> Vec<T> {
        let mut out = Vec::with_capacity(hi.min(self.len).saturating_sub(lo));
        for s in self.slices(lo, hi) {
            out.extend_from_slice(s);
        }
        out
    }

    /// Keeps the first `n` items.
    pub(crate) fn truncate(&mut self, n: usize) {
        if n >= self.len {
            return;
        }
        let kept = n.div_ceil(Self::SIZE);
        self.blocks.truncate(kept);
        if let Some(b) = self.blocks.last_mut() {
            b.truncate(n - (kept - 1) * Self::SIZE);
        }
        self.len = n;
    }

    /// Removes positions `lo..hi` (clamped to the length); later items move up.
    pub(crate) fn remove_range(&mut self, lo: usize, hi: usize) {
        let hi = hi.min(self.len);
        let lo = lo.min(hi);
        if lo == hi {
            return;
        }
        let rest = self.to_vec(hi, self.len);
        self.truncate(lo);
        self.extend_from_slice(&rest);
    }

    /// The items at positions `idx`, in that order (positions past the end are skipped).
    pub(crate) fn gather(&self, idx: &[usize]) -> Self {
        let mut out = Self::new();
        out.extend(idx.iter().filter_map(|&i| self.get(i).cloned()));
        out
    }
}

/// A tablet with at least this many rows stores its timestamps once for all of its
/// columns without nulls (below it, a run's bookkeeping would outweigh the saving).
pub(crate) const SHARE_MIN_ROWS: usize = 256;

/// A run of timestamps: positions `lo..hi` of a reference-counted vector.
#[derive(Debug, Clone)]
struct Run {
    data: Arc<Vec<i64>>,
    lo: usize,
    hi: usize,
}

impl Run {
    fn items(&self) -> &[i64] {
        self.data.get(self.lo..self.hi).unwrap_or(&[])
    }

    /// True when this series alone holds the vector and the run reaches its end, so
    /// it may grow in place.
    fn open_end(&self) -> bool {
        Arc::strong_count(&self.data) == 1
            && Arc::weak_count(&self.data) == 0
            && self.hi == self.data.len()
    }
}

/// The timestamps of a series buffer: a sequence of runs.
///
/// A tablet's timestamps are stored once and shared by its columns (one run in each
/// series), which nearly halves the memory of a many-column tablet. Runs that one series
/// holds alone (rows, small tablets, columns with nulls) grow in place up to the block
/// size and, like [`Blocks`], never reallocate beyond it. Shared vectors are never
/// written: deletion re-slices runs, sorting builds a new vector.
#[derive(Debug, Clone)]
pub(crate) struct Times<const SHIFT: u32 = BLOCK_SHIFT> {
    runs: Vec<Run>,
    /// Position of the first item of each run.
    starts: Vec<usize>,
    len: usize,
}

impl<const SHIFT: u32> Times<SHIFT> {
    const SIZE: usize = 1 << SHIFT;

    /// No timestamps (allocates nothing).
    pub(crate) fn new() -> Self {
        Times {
            runs: Vec::new(),
            starts: Vec::new(),
            len: 0,
        }
    }

    /// The timestamps of `v`, in that order.
    pub(crate) fn from_vec(v: Vec<i64>) -> Self {
        let mut t = Self::new();
        let hi = v.len();
        t.push_run(Run {
            data: Arc::new(v),
            lo: 0,
            hi,
        });
        t
    }

    /// Number of timestamps.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    fn push_run(&mut self, run: Run) {
        if run.hi > run.lo {
            self.starts.push(self.len);
            self.len += run.hi - run.lo;
            self.runs.push(run);
        }
    }

    /// Appends positions `lo..hi` (clamped) of a vector shared with other series.
    pub(crate) fn append_shared(&mut self, data: &Arc<Vec<i64>>, lo: usize, hi: usize) {
        let hi = hi.min(data.len());
        self.push_run(Run {
            data: Arc::clone(data),
            lo: lo.min(hi),
            hi,
        });
    }

    /// Appends a copy of `src`.
    pub(crate) fn extend_from_slice(&mut self, mut src: &[i64]) {
        while !src.is_empty() {
            let grow = self.runs.last().is_some_and(|r| {
                r.open_end() && (r.data.len() < r.data.capacity() || r.data.len() < Self::SIZE)
            });
            if !grow {
                // a big series that fills its own runs gets full-size ones at once;
                // otherwise a run starts small and grows geometrically
                let full_owned = self
                    .runs
                    .last()
                    .is_some_and(|r| r.open_end() && r.data.len() >= Self::SIZE);
                let cap = if full_owned {
                    Self::SIZE
                } else {
                    src.len().clamp(4, Self::SIZE)
                };
                self.starts.push(self.len);
                self.runs.push(Run {
                    data: Arc::new(Vec::with_capacity(cap)),
                    lo: 0,
                    hi: 0,
                });
            }
            let last = self.runs.len() - 1;
            let run = &mut self.runs[last];
            // unique (checked above), so this never copies
            let v = Arc::make_mut(&mut run.data);
            let limit = v.capacity().max(Self::SIZE);
            let take = (limit - v.len()).min(src.len());
            let need = v.len() + take;
            if need > v.capacity() {
                let target = need.max(v.capacity() * 2).min(limit);
                v.reserve_exact(target - v.len());
            }
            v.extend_from_slice(&src[..take]);
            run.hi = v.len();
            self.len += take;
            src = &src[take..];
        }
    }

    /// Appends one timestamp.
    pub(crate) fn push(&mut self, t: i64) {
        self.extend_from_slice(&[t]);
    }

    /// The timestamp at position `i`.
    pub(crate) fn get(&self, i: usize) -> Option<i64> {
        let k = self.starts.partition_point(|&s| s <= i).checked_sub(1)?;
        self.runs.get(k)?.items().get(i - self.starts[k]).copied()
    }

    /// The last timestamp.
    pub(crate) fn last(&self) -> Option<i64> {
        self.runs.last()?.items().last().copied()
    }

    /// All timestamps in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = i64> + '_ {
        self.runs.iter().flat_map(|r| r.items().iter().copied())
    }

    /// The runs holding positions `lo..hi` (clamped to the length), each with the part of
    /// it (`a..z`, counted from the run's first item) that lies inside.
    fn cut(&self, lo: usize, hi: usize) -> impl Iterator<Item = (&Run, usize, usize)> + '_ {
        let hi = hi.min(self.len);
        let lo = lo.min(hi);
        let first = self.starts.partition_point(|&s| s <= lo).saturating_sub(1);
        self.runs
            .iter()
            .zip(&self.starts)
            .skip(first)
            .take_while(move |(_, &s)| s < hi)
            .filter_map(move |(r, &s)| {
                let (a, z) = (lo.max(s) - s, hi.min(s + (r.hi - r.lo)) - s);
                (a < z).then_some((r, a, z))
            })
    }

    /// Positions `lo..hi` (clamped to the length) as contiguous pieces, in order.
    pub(crate) fn slices(&self, lo: usize, hi: usize) -> impl Iterator<Item = &[i64]> + '_ {
        self.cut(lo, hi)
            .map(|(r, a, z)| r.items().get(a..z).unwrap_or(&[]))
    }

    /// The runs holding positions `lo..hi` (clamped to the length), cut to them.
    fn runs_between(&self, lo: usize, hi: usize) -> Vec<Run> {
        self.cut(lo, hi)
            .map(|(r, a, z)| Run {
                data: Arc::clone(&r.data),
                lo: r.lo + a,
                hi: r.lo + z,
            })
            .collect()
    }

    /// A copy of positions `lo..hi` (clamped to the length).
    pub(crate) fn to_vec(&self, lo: usize, hi: usize) -> Vec<i64> {
        let mut out = Vec::with_capacity(hi.min(self.len).saturating_sub(lo));
        for s in self.slices(lo, hi) {
            out.extend_from_slice(s);
        }
        out
    }

    /// Removes positions `lo..hi` (clamped to the length) by re-slicing runs: no
    /// timestamp is copied and shared vectors are left alone.
    pub(crate) fn remove_range(&mut self, lo: usize, hi: usize) {
        let hi = hi.min(self.len);
        let lo = lo.min(hi);
        if lo == hi {
            return;
        }
        let mut out = Self::new();
        for (r, &s) in self.runs.iter().zip(&self.starts) {
            let e = s + (r.hi - r.lo);
            if s < lo {
                out.push_run(Run {
                    data: Arc::clone(&r.data),
                    lo: r.lo,
                    hi: r.lo + (e.min(lo) - s),
                });
            }
            if e > hi {
                out.push_run(Run {
                    data: Arc::clone(&r.data),
                    lo: r.lo + (s.max(hi) - s),
                    hi: r.hi,
                });
            }
        }
        *self = out;
    }

    /// Like `slice::partition_point`: the timestamps must be partitioned by `pred`.
    pub(crate) fn partition_point(&self, mut pred: impl FnMut(i64) -> bool) -> usize {
        let k = self
            .runs
            .partition_point(|r| r.items().last().is_some_and(|&t| pred(t)));
        match (self.runs.get(k), self.starts.get(k)) {
            (Some(r), Some(&s)) => s + r.items().partition_point(|&t| pred(t)),
            _ => self.len,
        }
    }
}

/// The timestamps several series of one device read over one range have in common: a
/// tablet's columns share its timestamp vector (see [`Times`]), and a read that copied
/// it out once per series then had the join compare the copies. The first series read
/// through a share copies its times out as usual and keeps them with the runs they came
/// from; a following series whose positions cover exactly the same runs gets the same
/// [`model::Times`] (shared, recognized by the join by pointer).
///
/// Only runs shared with another series are kept (a series' own runs could never match),
/// and the share lives for one read: holding a run keeps its vector from growing in place,
/// which only makes a concurrent writer start a new run.
#[derive(Debug, Default)]
pub(crate) struct MemTimeShare {
    /// Runs cut to the positions read, and the times they hold.
    entries: Vec<(Vec<Run>, model::Times)>,
}

/// Entries a [`MemTimeShare`] keeps (a device's series usually come from one tablet
/// stream; a few more cover columns written in separate tablets).
const MEM_SHARE_ENTRIES: usize = 4;

impl MemTimeShare {
    /// Positions `lo..hi` of `times`, from an entry when one holds the same runs.
    fn times<const SHIFT: u32>(
        &mut self,
        times: &Times<SHIFT>,
        lo: usize,
        hi: usize,
    ) -> model::Times {
        // checked before the key takes its own references (which would count as sharing),
        // and without building one for a series that holds its runs alone
        let mut runs = times.cut(lo, hi).peekable();
        let shared = runs.peek().is_some() && runs.all(|(r, _, _)| Arc::strong_count(&r.data) > 1);
        if !shared {
            return times.to_vec(lo, hi).into();
        }
        let key = times.runs_between(lo, hi);
        let same = |a: &[Run]| {
            a.len() == key.len()
                && a.iter()
                    .zip(&key)
                    .all(|(x, y)| Arc::ptr_eq(&x.data, &y.data) && x.lo == y.lo && x.hi == y.hi)
        };
        if let Some((_, t)) = self.entries.iter().find(|(runs, _)| same(runs)) {
            return t.clone();
        }
        let t: model::Times = times.to_vec(lo, hi).into();
        if self.entries.len() < MEM_SHARE_ENTRIES {
            self.entries.push((key, t.clone()));
        }
        t
    }
}

/// The values of a series buffer, one block sequence of the physical type.
#[derive(Debug, Clone)]
enum Values {
    Boolean(Blocks<bool>),
    Int32(Blocks<i32>),
    Int64(Blocks<i64>),
    Float(Blocks<f32>),
    Double(Blocks<f64>),
    Binary(Blocks<Vec<u8>>),
}

/// Applies `$body` to the matching pair of same-typed `Values` and `ColumnData`, or
/// evaluates `$other` when the types differ.
macro_rules! same_type {
    ($a:expr, $b:expr, |$x:ident, $y:ident| $body:expr, $other:expr) => {
        match ($a, $b) {
            (Values::Boolean($x), ColumnData::Boolean($y)) => $body,
            (Values::Int32($x), ColumnData::Int32($y)) => $body,
            (Values::Int64($x), ColumnData::Int64($y)) => $body,
            (Values::Float($x), ColumnData::Float($y)) => $body,
            (Values::Double($x), ColumnData::Double($y)) => $body,
            (Values::Binary($x), ColumnData::Binary($y)) => $body,
            #[allow(unreachable_patterns)]
            _ => $other,
        }
    };
}

/// Maps the blocks inside any `Values` with `$body`, wrapping the result in `$wrap`'s
/// variant of the same name (`Values` or `ColumnData`).
macro_rules! map_values {
    ($a:expr, $wrap:ident, |$x:ident| $body:expr) => {
        match $a {
            Values::Boolean($x) => $wrap::Boolean($body),
            Values::Int32($x) => $wrap::Int32($body),
            Values::Int64($x) => $wrap::Int64($body),
            Values::Float($x) => $wrap::Float($body),
            Values::Double($x) => $wrap::Double($body),
            Values::Binary($x) => $wrap::Binary($body),
        }
    };
}

/// Applies `$body` to the blocks inside any `Values`.
macro_rules! each_values {
    ($a:expr, |$x:ident| $body:expr) => {
        match $a {
            Values::Boolean($x) => $body,
            Values::Int32($x) => $body,
            Values::Int64($x) => $body,
            Values::Float($x) => $body,
            Values::Double($x) => $body,
            Values::Binary($x) => $body,
        }
    };
}

impl Values {
    fn new(data_type: TSDataType) -> Self {
        match data_type.physical() {
            TSDataType::Boolean => Values::Boolean(Blocks::new()),
            TSDataType::Int32 => Values::Int32(Blocks::new()),
            TSDataType::Int64 => Values::Int64(Blocks::new()),
            TSDataType::Float => Values::Float(Blocks::new()),
            TSDataType::Double => Values::Double(Blocks::new()),
            _ => Values::Binary(Blocks::new()),
        }
    }

    fn data_type(&self) -> TSDataType {
        match self {
            Values::Boolean(_) => TSDataType::Boolean,
            Values::Int32(_) => TSDataType::Int32,
            Values::Int64(_) => TSDataType::Int64,
            Values::Float(_) => TSDataType::Float,
            Values::Double(_) => TSDataType::Double,
            Values::Binary(_) => TSDataType::Text,
        }
    }

    fn push(&mut self, value: &Value) -> bool {
        match (self, value) {
            (Values::Boolean(v), Value::Boolean(x)) => v.push(*x),
            (Values::Int32(v), Value::Int32(x)) => v.push(*x),
            (Values::Int64(v), Value::Int64(x)) => v.push(*x),
            (Values::Float(v), Value::Float(x)) => v.push(*x),
            (Values::Double(v), Value::Double(x)) => v.push(*x),
            (Values::Binary(v), Value::Text(x)) => v.push(x.clone()),
            _ => return false,
        }
        true
    }

    fn get(&self, i: usize) -> Option<Value> {
        Some(match self {
            Values::Boolean(v) => Value::Boolean(*v.get(i)?),
            Values::Int32(v) => Value::Int32(*v.get(i)?),
            Values::Int64(v) => Value::Int64(*v.get(i)?),
            Values::Float(v) => Value::Float(*v.get(i)?),
            Values::Double(v) => Value::Double(*v.get(i)?),
            Values::Binary(v) => Value::Text(v.get(i)?.clone()),
        })
    }

    fn to_column(&self, lo: usize, hi: usize) -> ColumnData {
        map_values!(self, ColumnData, |v| v.to_vec(lo, hi))
    }

    fn gather(&self, idx: &[usize]) -> Values {
        map_values!(self, Values, |v| v.gather(idx))
    }

    fn remove_range(&mut self, lo: usize, hi: usize) {
        each_values!(self, |v| v.remove_range(lo, hi))
    }
}

/// The buffered points of one series.
#[derive(Debug, Clone)]
pub(crate) struct SeriesBuf {
    times: Times,
    values: Values,
    /// True when `times` is strictly ascending (sorted and free of duplicates).
    sorted: bool,
}

impl SeriesBuf {
    pub(crate) fn new(data_type: TSDataType) -> Self {
        SeriesBuf {
            times: Times::new(),
            values: Values::new(data_type),
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
            if !ascending || self.times.last().is_some_and(|l| l >= first) {
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
                let kept: Vec<i64> = (0..n)
                    .filter(|&i| !nulls.get(i))
                    .map(|i| times[i])
                    .collect();
                self.times.extend_from_slice(&kept);
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

    /// Appends a whole null-free column whose timestamps, `times`, other series share
    /// (stored once). `ascending` tells whether `times` is strictly ascending. Returns
    /// the number of points added: none if the column's type or length does not fit.
    pub(crate) fn append_shared(
        &mut self,
        times: &Arc<Vec<i64>>,
        ascending: bool,
        data: &ColumnData,
    ) -> usize {
        let n = times.len();
        if data.data_type() != self.values.data_type() || data.len() != n {
            return 0;
        }
        self.note_first(times.first().copied(), ascending);
        self.times.append_shared(times, 0, n);
        same_type!(
            &mut self.values,
            data,
            |dst, src| dst.extend_from_slice(src),
            {}
        );
        n
    }

    /// Appends one point; returns false (and adds nothing) if the value's type differs.
    pub(crate) fn push(&mut self, time: i64, value: &Value) -> bool {
        if !self.values.push(value) {
            return false;
        }
        if self.times.last().is_some_and(|l| l >= time) {
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
        // (time, position) pairs are unique, so an unstable sort orders equal times by
        // position, i.e. by write order
        let mut order: Vec<(i64, usize)> = self.times.iter().zip(0..).collect();
        order.sort_unstable();
        let mut times: Vec<i64> = Vec::with_capacity(order.len());
        let mut keep: Vec<usize> = Vec::with_capacity(order.len());
        for (t, i) in order {
            match keep.last_mut() {
                Some(last) if times.last() == Some(&t) => *last = i,
                _ => {
                    times.push(t);
                    keep.push(i);
                }
            }
        }
        self.times = Times::from_vec(times);
        self.values = self.values.gather(&keep);
        self.sorted = true;
    }

    fn bounds(&self, range: TimeRange) -> (usize, usize) {
        let lo = self.times.partition_point(|t| t < range.start);
        let hi = self.times.partition_point(|t| t <= range.end);
        (lo, hi.max(lo))
    }

    /// First time, last time and number of the points in `range`; the buffer must be sorted.
    pub(crate) fn span(&self, range: TimeRange) -> Option<SeriesSpan> {
        debug_assert!(self.sorted);
        let (lo, hi) = self.bounds(range);
        Some(SeriesSpan {
            start: self.times.get(lo)?,
            end: self.times.get(hi.checked_sub(1)?)?,
            count: (hi - lo) as u64,
            in_memory: true,
        })
    }

    /// Points in `range`; the buffer must be sorted (see [`SeriesBuf::ensure_sorted`]).
    pub(crate) fn read(&self, range: TimeRange) -> SeriesData {
        self.read_sharing(range, None)
    }

    /// As [`SeriesBuf::read`], taking the times from `share` (if given) when another series
    /// read through it holds the same ones (the same runs of the same tablets' vectors).
    pub(crate) fn read_sharing(
        &self,
        range: TimeRange,
        share: Option<&mut MemTimeShare>,
    ) -> SeriesData {
        debug_assert!(self.sorted);
        let (lo, hi) = self.bounds(range);
        match share {
            Some(share) => SeriesData {
                times: share.times(&self.times, lo, hi),
                values: self.values.to_column(lo, hi),
            },
            None => self.positions(lo, hi),
        }
    }

    /// The points at positions `lo..hi` (clamped to the length), in buffer order (time
    /// order only after [`SeriesBuf::ensure_sorted`]).
    pub(crate) fn positions(&self, lo: usize, hi: usize) -> SeriesData {
        SeriesData {
            times: self.times.to_vec(lo, hi).into(),
            values: self.values.to_column(lo, hi),
        }
    }

    /// The latest point; the buffer must be sorted.
    pub(crate) fn last(&self) -> Option<(i64, Value)> {
        let i = self.times.len().checked_sub(1)?;
        Some((self.times.get(i)?, self.values.get(i)?))
    }

    /// Removes the points inside `range`; returns how many were removed.
    pub(crate) fn delete(&mut self, range: TimeRange) -> usize {
        if self.sorted {
            let (lo, hi) = self.bounds(range);
            if lo == hi {
                return 0;
            }
            self.times.remove_range(lo, hi);
            self.values.remove_range(lo, hi);
            return hi - lo;
        }
        let (mut kept, mut keep) = (Vec::new(), Vec::new());
        for (i, t) in self.times.iter().enumerate() {
            if !range.contains(t) {
                kept.push(t);
                keep.push(i);
            }
        }
        let removed = self.times.len() - keep.len();
        if removed > 0 {
            self.times = Times::from_vec(kept);
            self.values = self.values.gather(&keep);
        }
        removed
    }
}

impl crate::tsfiles::Points for SeriesBuf {
    fn time(&self, i: usize) -> i64 {
        self.times.get(i).unwrap_or(i64::MAX)
    }

    fn partition_point(&self, pred: &dyn Fn(i64) -> bool) -> usize {
        debug_assert!(self.sorted);
        self.times.partition_point(pred)
    }

    #[allow(clippy::clone_on_copy)] // one generic body serves Copy and Vec<u8> values
    fn copy_into(&self, lo: usize, hi: usize, times: &mut Vec<i64>, values: &mut ColumnData) {
        debug_assert!(self.sorted);
        times.clear();
        for s in self.times.slices(lo, hi) {
            times.extend_from_slice(s);
        }
        if values.data_type() != self.values.data_type() {
            *values = ColumnData::with_capacity(self.values.data_type(), times.len());
        }
        same_type!(
            &self.values,
            values,
            |src, dst| {
                dst.clear();
                for s in src.slices(lo, hi) {
                    dst.extend_from_slice(s);
                }
            },
            {}
        );
    }
}

/// One memtable: the buffered points of many series, keyed by device then measurement.
#[derive(Debug, Default)]
pub(crate) struct MemTable {
    devices: HashMap<PartialPath, HashMap<String, SeriesBuf>>,
    points: u64,
    /// Bytes of TEXT/STRING/BLOB payloads appended (not reduced by deletions: the estimate
    /// errs towards flushing early).
    payload: u64,
}

/// Estimated memory of one buffered point besides a binary payload (time + value + slack).
pub(crate) const BYTES_PER_POINT: u64 = 16;

/// What a tablet may add to [`MemTable::estimated_bytes`] (an upper bound: its non-null
/// values and binary payloads, before any of them is refused), reserved in the memtable
/// budget before it is written.
pub(crate) fn tablet_estimate(t: &model::InsertTablet) -> u64 {
    let mut bytes = 0u64;
    for c in &t.columns {
        let nulls = c.nulls.as_ref().map_or(0, |b| b.count().min(c.len()));
        let points = (c.len() - nulls) as u64;
        let payload: u64 = match &c.data {
            ColumnData::Binary(v) => v
                .iter()
                .enumerate()
                .filter(|(i, _)| !c.is_null(*i))
                .map(|(_, x)| x.len() as u64)
                .sum(),
            _ => 0,
        };
        bytes = bytes
            .saturating_add(points.saturating_mul(BYTES_PER_POINT))
            .saturating_add(payload);
    }
    bytes
}

/// As [`tablet_estimate`] for rows (a text value of an insertStringRecord counts its
/// length too, in case it is stored as TEXT).
pub(crate) fn rows_estimate(rows: &model::InsertRows) -> u64 {
    let mut bytes = 0u64;
    for row in &rows.rows {
        let per_value = |payload: usize| BYTES_PER_POINT.saturating_add(payload as u64);
        let row_bytes: u64 = match &row.values {
            model::RowValues::Typed(v) => v
                .iter()
                .flatten()
                .map(|(_, x)| match x {
                    Value::Text(t) => per_value(t.len()),
                    _ => per_value(0),
                })
                .sum(),
            model::RowValues::Strings(v) => v.iter().map(|x| per_value(x.len())).sum(),
        };
        bytes = bytes.saturating_add(row_bytes);
    }
    bytes
}

impl MemTable {
    /// Number of points buffered (appended; overwritten duplicates still count until sorted).
    pub(crate) fn points(&self) -> u64 {
        self.points
    }

    /// Estimated memory held: [`BYTES_PER_POINT`] per point plus the binary payloads, the
    /// figure compared with `memtable_size_threshold`.
    pub(crate) fn estimated_bytes(&self) -> u64 {
        self.points
            .saturating_mul(BYTES_PER_POINT)
            .saturating_add(self.payload)
    }

    /// Counts `n` bytes of binary payload appended.
    pub(crate) fn add_payload(&mut self, n: usize) {
        self.payload = self.payload.saturating_add(n as u64);
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

    /// Appends a tablet of one device: for each column (measurement, values of the
    /// series' physical type, null positions) the non-null points. `ascending` tells
    /// whether `times` is strictly ascending. A tablet of at least [`SHARE_MIN_ROWS`] rows
    /// stores its timestamps once for all of its null-free columns.
    pub(crate) fn apply_tablet<'a>(
        &mut self,
        device: &PartialPath,
        times: &[i64],
        ascending: bool,
        columns: impl Iterator<Item = (&'a str, &'a ColumnData, Option<&'a Bitmap>)> + Clone,
    ) {
        let null_free = |data: &ColumnData, nulls: Option<&Bitmap>| {
            data.len() == times.len() && nulls.is_none_or(|b| b.count() == 0)
        };
        let shared = (times.len() >= SHARE_MIN_ROWS
            && columns.clone().filter(|(_, d, n)| null_free(d, *n)).count() >= 2)
            .then(|| Arc::new(times.to_vec()));
        for (measurement, data, nulls) in columns {
            let buf = self.series_mut(device, measurement, data.data_type());
            let added = match &shared {
                Some(t) if null_free(data, nulls) => buf.append_shared(t, ascending, data),
                _ => buf.append_column(times, ascending, data, nulls),
            };
            self.add_points(added);
            if let ColumnData::Binary(v) = data {
                let bytes: usize = match nulls {
                    Some(b) => v
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| !b.get(*i))
                        .map(|(_, x)| x.len())
                        .sum(),
                    None => v.iter().map(|x| x.len()).sum(),
                };
                self.add_payload(bytes);
            }
        }
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

    /// Every series buffer: (device, measurement, buffer).
    pub(crate) fn series_iter(&self) -> impl Iterator<Item = (&PartialPath, &str, &SeriesBuf)> {
        self.devices
            .iter()
            .flat_map(|(d, ss)| ss.iter().map(move |(m, b)| (d, m.as_str(), b)))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn doubles(buf: &SeriesBuf) -> (Vec<i64>, Vec<f64>) {
        let d = buf.read(TimeRange::ALL);
        match d.values {
            ColumnData::Double(v) => (d.times.into_vec(), v),
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

    /// A small deterministic generator (xorshift64*), so the model tests need no crate.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    #[test]
    fn blocks_match_a_vec() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..200 {
            let mut b: Blocks<u32, 2> = Blocks::new();
            let mut v: Vec<u32> = Vec::new();
            for _ in 0..rng.below(30) {
                match rng.below(6) {
                    0 => {
                        let x = rng.next() as u32;
                        b.push(x);
                        v.push(x);
                    }
                    1 => {
                        let src: Vec<u32> = (0..rng.below(11)).map(|_| rng.next() as u32).collect();
                        b.extend_from_slice(&src);
                        v.extend_from_slice(&src);
                    }
                    2 => {
                        let n = rng.below(11) as u32;
                        b.extend(0..n);
                        v.extend(0..n);
                    }
                    3 => {
                        let (x, y) = (rng.below(v.len() as u64 + 3), rng.below(v.len() as u64 + 3));
                        let (lo, hi) = (x.min(y) as usize, x.max(y) as usize);
                        b.remove_range(lo, hi);
                        v.drain(lo.min(v.len())..hi.min(v.len()));
                    }
                    4 => {
                        let n = rng.below(v.len() as u64 + 2) as usize;
                        b.truncate(n);
                        v.truncate(n);
                    }
                    _ => {
                        let idx: Vec<usize> = (0..rng.below(9))
                            .map(|_| rng.below(v.len() as u64 + 2) as usize)
                            .collect();
                        b = b.gather(&idx);
                        v = idx.iter().filter_map(|&i| v.get(i).copied()).collect();
                    }
                }
                // every block but the last is full, none is empty
                assert_eq!(b.len, v.len());
                let sizes: Vec<usize> = b.blocks.iter().map(Vec::len).collect();
                assert!(sizes.iter().all(|&n| n > 0 && n <= 4), "{sizes:?}");
                assert!(sizes.iter().rev().skip(1).all(|&n| n == 4), "{sizes:?}");
                assert!(b.blocks.iter().all(|blk| blk.capacity() <= 4));
                assert_eq!(b.to_vec(0, usize::MAX), v);
                for i in 0..v.len() + 2 {
                    assert_eq!(b.get(i), v.get(i));
                }
                let (lo, hi) = (rng.below(v.len() as u64 + 2), rng.below(v.len() as u64 + 2));
                let (lo, hi) = (lo.min(hi) as usize, lo.max(hi) as usize);
                let want = v[lo.min(v.len())..hi.min(v.len())].to_vec();
                assert_eq!(b.to_vec(lo, hi), want);
            }
        }
    }

    #[test]
    fn times_match_a_vec() {
        let mut rng = Rng(0x51_7cc1_b727_220a);
        for _ in 0..300 {
            let mut t: Times<2> = Times::new();
            let mut v: Vec<i64> = Vec::new();
            // vectors shared with "other series", which must never change
            let mut others: Vec<(Arc<Vec<i64>>, Vec<i64>)> = Vec::new();
            for _ in 0..rng.below(30) {
                match rng.below(5) {
                    0 => {
                        let x = rng.below(100) as i64;
                        t.push(x);
                        v.push(x);
                    }
                    1 => {
                        let src: Vec<i64> =
                            (0..rng.below(11)).map(|_| rng.below(100) as i64).collect();
                        t.extend_from_slice(&src);
                        v.extend_from_slice(&src);
                    }
                    2 => {
                        let src: Vec<i64> =
                            (0..rng.below(9)).map(|_| rng.below(100) as i64).collect();
                        let shared = Arc::new(src.clone());
                        let (a, z) = (rng.below(10) as usize, rng.below(10) as usize);
                        let (lo, hi) = (a.min(z), a.max(z));
                        t.append_shared(&shared, lo, hi);
                        v.extend_from_slice(&src[lo.min(src.len())..hi.min(src.len())]);
                        others.push((shared, src));
                    }
                    3 => {
                        let (x, y) = (rng.below(v.len() as u64 + 3), rng.below(v.len() as u64 + 3));
                        let (lo, hi) = (x.min(y) as usize, x.max(y) as usize);
                        t.remove_range(lo, hi);
                        v.drain(lo.min(v.len())..hi.min(v.len()));
                    }
                    _ => {
                        t = Times::from_vec(v.clone());
                    }
                }
                assert_eq!(t.len(), v.len());
                assert_eq!(t.starts.len(), t.runs.len());
                let mut at = 0;
                for (r, &s) in t.runs.iter().zip(&t.starts) {
                    assert_eq!(s, at);
                    assert!(r.hi > r.lo, "no empty runs");
                    at += r.hi - r.lo;
                }
                assert_eq!(t.iter().collect::<Vec<_>>(), v);
                assert_eq!(t.last(), v.last().copied());
                for i in 0..v.len() + 2 {
                    assert_eq!(t.get(i), v.get(i).copied());
                }
                let (lo, hi) = (rng.below(v.len() as u64 + 2), rng.below(v.len() as u64 + 2));
                let (lo, hi) = (lo.min(hi) as usize, lo.max(hi) as usize);
                assert_eq!(
                    t.to_vec(lo, hi),
                    v[lo.min(v.len())..hi.min(v.len())].to_vec()
                );
                for (shared, orig) in &others {
                    assert_eq!(shared.as_slice(), orig.as_slice(), "shared vector modified");
                }
                let mut sorted = v.clone();
                sorted.sort_unstable();
                let s: Times<2> = {
                    // sorted contents spread over owned and shared runs
                    let mut s = Times::new();
                    let cut = sorted.len() / 2;
                    s.extend_from_slice(&sorted[..cut]);
                    s.append_shared(&Arc::new(sorted[cut..].to_vec()), 0, usize::MAX);
                    s
                };
                for pivot in [-1, 0, 50, 99, 100, rng.below(100) as i64] {
                    assert_eq!(
                        s.partition_point(|x| x < pivot),
                        sorted.partition_point(|&x| x < pivot)
                    );
                    assert_eq!(
                        s.partition_point(|x| x <= pivot),
                        sorted.partition_point(|&x| x <= pivot)
                    );
                }
            }
        }
    }

    #[test]
    fn owned_runs_grow_in_place_up_to_the_block_size() {
        let mut t: Times = Times::new();
        let chunk: Vec<i64> = (0..10_000).collect();
        for _ in 0..20 {
            t.extend_from_slice(&chunk);
        }
        assert_eq!(t.len(), 200_000);
        assert!(t.runs.iter().all(|r| r.data.capacity() <= 1 << BLOCK_SHIFT));
        assert_eq!(t.runs.len(), 200_000usize.div_ceil(1 << BLOCK_SHIFT));
        // a shared run ends in-place growth; the next owned run starts small
        let shared = Arc::new(vec![1, 2, 3]);
        t.append_shared(&shared, 0, 3);
        t.push(4);
        assert_eq!(t.runs.len(), 6);
        assert!(t.runs[5].data.capacity() < 1 << BLOCK_SHIFT);
        assert_eq!(Arc::strong_count(&shared), 2);
        assert_eq!(t.to_vec(199_999, usize::MAX), vec![9_999, 1, 2, 3, 4]);
    }

    /// Large TEXT values count by their size, so a memtable of few but big values still
    /// reaches the flush threshold.
    #[test]
    fn binary_payloads_count_towards_the_size_estimate() {
        let mut m = MemTable::default();
        let d = PartialPath::parse("root.sg.d").unwrap();
        let times = [1i64, 2, 3];
        let text = ColumnData::Binary(vec![vec![b'x'; 1000], vec![b'y'; 50], vec![b'z'; 7]]);
        let mut nulls = Bitmap::new(3);
        nulls.set(1);
        let num = ColumnData::Int64(vec![1, 2, 3]);
        let cols = [("t", &text, Some(&nulls)), ("n", &num, None)];
        m.apply_tablet(&d, &times, true, cols.iter().copied());
        assert_eq!(m.points(), 5);
        assert_eq!(m.estimated_bytes(), 5 * BYTES_PER_POINT + 1007);
    }

    #[test]
    fn reads_through_a_share_hand_out_one_time_column_per_tablet_run() {
        let mut m = MemTable::default();
        let d = PartialPath::parse("root.sg.d").unwrap();
        let rows = SHARE_MIN_ROWS as i64 * 2;
        let times: Vec<i64> = (0..rows).map(|i| i * 10).collect();
        let col = |k: i64| ColumnData::Int64((0..rows).map(|i| i * k).collect());
        let (a, b, c) = (col(1), col(2), col(3));
        // two tablets: a, b and c share both; d is written row by row (its own runs)
        for half in [0..rows as usize / 2, rows as usize / 2..rows as usize] {
            let cut = |c: &ColumnData| match c {
                ColumnData::Int64(v) => ColumnData::Int64(v[half.clone()].to_vec()),
                _ => unreachable!(),
            };
            let (a, b, c) = (cut(&a), cut(&b), cut(&c));
            let cols = [("a", &a, None), ("b", &b, None), ("c", &c, None)];
            m.apply_tablet(&d, &times[half.clone()], true, cols.iter().copied());
        }
        for &t in &times {
            m.series_mut(&d, "d", TSDataType::Int64)
                .push(t, &Value::Int64(t));
        }
        let range = TimeRange::new(35, 10 * rows - 45);
        let mut share = MemTimeShare::default();
        let read = |m: &MemTable, s: &str, share: &mut MemTimeShare| {
            m.series(&d, s).unwrap().read_sharing(range, Some(share))
        };
        let ra = read(&m, "a", &mut share);
        let rb = read(&m, "b", &mut share);
        let rd = read(&m, "d", &mut share);
        assert!(ra.times.shared_with(&rb.times), "a and b share their times");
        assert!(!ra.times.shared_with(&rd.times), "d holds its own runs");
        for (s, r) in [("a", &ra), ("b", &rb), ("d", &rd)] {
            assert_eq!(*r, m.series(&d, s).unwrap().read(range), "{s}");
        }
        // deleting the first point in range re-slices c's first run: the same runs with
        // other bounds, so c gets its own copy
        m.series_existing_mut(&d, "c")
            .unwrap()
            .delete(TimeRange::new(40, 40));
        let rc = read(&m, "c", &mut share);
        assert!(!rc.times.shared_with(&ra.times));
        assert_eq!(rc, m.series(&d, "c").unwrap().read(range));
        // another range is another read: a fresh share
        let mut other = MemTimeShare::default();
        let full = m
            .series(&d, "a")
            .unwrap()
            .read_sharing(TimeRange::ALL, Some(&mut other));
        assert_eq!(full.times.len(), rows as usize);
        // the share keeps the runs it read, so a row appended to a now stays out of them
        m.series_mut(&d, "a", TSDataType::Int64)
            .push(10 * rows, &Value::Int64(7));
        assert_eq!(read(&m, "b", &mut share).times, ra.times);
    }

    /// Columns of one tablet share its timestamps; changing one series (points added,
    /// deleted, sorted) leaves the others intact.
    #[test]
    fn shared_timestamps_stay_per_series() {
        let mut m = MemTable::default();
        let d = PartialPath::parse("root.sg.d").unwrap();
        let rows = SHARE_MIN_ROWS as i64 * 2;
        let times: Vec<i64> = (0..rows).map(|i| i * 10).collect();
        let a = ColumnData::Int64((0..rows).collect());
        let b = ColumnData::Int64((0..rows).map(|i| -i).collect());
        let mut nulls = Bitmap::new(rows as usize);
        nulls.set(3);
        let c = ColumnData::Int64((0..rows).map(|i| i * 100).collect());
        let cols = [("a", &a, None), ("b", &b, None), ("c", &c, Some(&nulls))];
        m.apply_tablet(&d, &times, true, cols.iter().copied());
        assert_eq!(m.points(), 3 * rows as u64 - 1);
        let run_of =
            |m: &MemTable, s: &str| Arc::clone(&m.series(&d, s).unwrap().times.runs[0].data);
        assert!(
            Arc::ptr_eq(&run_of(&m, "a"), &run_of(&m, "b")),
            "a and b share"
        );
        assert_eq!(Arc::strong_count(&run_of(&m, "a")), 3);
        assert_eq!(m.series(&d, "c").unwrap().len(), rows as usize - 1);
        // out-of-order point and a deletion in "a" only
        let sa = m.series_existing_mut(&d, "a").unwrap();
        assert!(sa.push(5, &Value::Int64(555)));
        assert_eq!(sa.delete(TimeRange::new(100, 190)), 10);
        sa.ensure_sorted();
        let ra = sa.read(TimeRange::new(0, 30));
        assert_eq!(ra.times, vec![0, 5, 10, 20, 30]);
        assert_eq!(ra.values, ColumnData::Int64(vec![0, 555, 1, 2, 3]));
        assert!(m
            .series(&d, "a")
            .unwrap()
            .read(TimeRange::new(100, 190))
            .times
            .is_empty());
        let sb = m.series(&d, "b").unwrap();
        assert!(sb.is_sorted());
        assert_eq!(sb.len(), rows as usize);
        let rb = sb.read(TimeRange::new(0, 30));
        assert_eq!(rb.times, vec![0, 10, 20, 30]);
        assert_eq!(rb.values, ColumnData::Int64(vec![0, -1, -2, -3]));
        assert_eq!(sb.read(TimeRange::new(100, 190)).times.len(), 10);
        // a sorted delete of "b" re-slices its run without copying or touching "a"
        let sb = m.series_existing_mut(&d, "b").unwrap();
        assert_eq!(sb.delete(TimeRange::new(0, 15)), 2);
        assert_eq!(sb.read(TimeRange::ALL).times[0], 20);
        assert_eq!(m.series(&d, "a").unwrap().read(TimeRange::ALL).times[0], 0);
        // small tablets are not shared
        let mut small = MemTable::default();
        let ten = ColumnData::Int64((0..10).collect());
        let cols = [("a", &ten, None), ("b", &ten, None)];
        small.apply_tablet(&d, &times[..10], true, cols.iter().copied());
        let run = &small.series(&d, "a").unwrap().times.runs[0];
        assert_eq!(Arc::strong_count(&run.data), 1);
    }

    #[test]
    fn full_blocks_are_never_reallocated() {
        let mut b: Blocks<i64> = Blocks::new();
        let chunk: Vec<i64> = (0..10_000).collect();
        b.extend_from_slice(&chunk);
        let first_small = b.blocks[0].capacity();
        assert!(first_small < 1 << BLOCK_SHIFT, "small series stay small");
        while b.len < 3 << BLOCK_SHIFT {
            b.extend_from_slice(&chunk);
        }
        let ptrs: Vec<*const i64> = b.blocks.iter().map(|blk| blk.as_ptr()).collect();
        for _ in 0..20 {
            b.extend_from_slice(&chunk);
        }
        let after: Vec<*const i64> = b.blocks.iter().map(|blk| blk.as_ptr()).collect();
        assert_eq!(&after[..ptrs.len() - 1], &ptrs[..ptrs.len() - 1]);
        assert!(b
            .blocks
            .iter()
            .all(|blk| blk.capacity() == 1 << BLOCK_SHIFT));
    }

    /// Random appends (in and out of order, duplicates, nulls), single points, deletes
    /// and reads of many block sizes' worth of points, against a map model where the
    /// later write of a timestamp wins.
    #[test]
    fn series_buffer_matches_a_map_across_blocks() {
        use std::collections::BTreeMap;
        let mut rng = Rng(42);
        for round in 0..6 {
            let mut b = SeriesBuf::new(TSDataType::Int64);
            let mut model: BTreeMap<i64, i64> = BTreeMap::new();
            let mut appended = 0usize;
            let mut next = 0i64;
            for step in 0..40 {
                match rng.below(5) {
                    0 | 1 => {
                        // a tablet: mostly ascending continuation, sometimes overlapping
                        let n = 1 + rng.below(if round % 2 == 0 { 30_000 } else { 300 }) as i64;
                        let start = if rng.below(3) == 0 {
                            next - rng.below(n as u64 + 50) as i64
                        } else {
                            next
                        };
                        let mut times: Vec<i64> = (start..start + n).collect();
                        if rng.below(4) == 0 {
                            let k = rng.below(times.len() as u64) as usize;
                            times.swap(0, k);
                        }
                        let ascending = times.windows(2).all(|w| w[0] < w[1]);
                        let vals: Vec<i64> = times.iter().map(|t| t * 10 + step).collect();
                        let nulls = (rng.below(3) == 0).then(|| {
                            let mut nb = Bitmap::new(times.len());
                            for i in 0..times.len() {
                                if rng.below(5) == 0 {
                                    nb.set(i);
                                }
                            }
                            nb
                        });
                        let column = ColumnData::Int64(vals.clone());
                        let added = if nulls.is_none() && rng.below(2) == 0 {
                            b.append_shared(&Arc::new(times.clone()), ascending, &column)
                        } else {
                            b.append_column(&times, ascending, &column, nulls.as_ref())
                        };
                        let mut want = 0;
                        for (i, (&t, &v)) in times.iter().zip(&vals).enumerate() {
                            if !nulls.as_ref().is_some_and(|nb| nb.get(i)) {
                                model.insert(t, v);
                                want += 1;
                            }
                        }
                        assert_eq!(added, want);
                        appended += added;
                        next = next.max(start + n);
                    }
                    2 => {
                        let t = rng.below(next as u64 + 10) as i64;
                        assert!(b.push(t, &Value::Int64(-t)));
                        model.insert(t, -t);
                        appended += 1;
                    }
                    3 => {
                        let lo = rng.below(next as u64 + 10) as i64;
                        let hi = lo + rng.below(70_000) as i64;
                        let was_sorted = b.is_sorted();
                        let removed = b.delete(TimeRange::new(lo, hi));
                        let before = model.len();
                        model.retain(|t, _| *t < lo || *t > hi);
                        if was_sorted {
                            assert_eq!(removed, before - model.len());
                        }
                        appended -= removed;
                    }
                    _ => {
                        let lo = rng.below(next as u64 + 10) as i64;
                        let hi = lo + rng.below(100_000) as i64;
                        b.ensure_sorted();
                        let d = b.read(TimeRange::new(lo, hi));
                        let want: Vec<(i64, i64)> =
                            model.range(lo..=hi).map(|(t, v)| (*t, *v)).collect();
                        let got: Vec<(i64, i64)> = match d.values {
                            ColumnData::Int64(v) => d.times.into_vec().into_iter().zip(v).collect(),
                            other => panic!("unexpected {other:?}"),
                        };
                        assert_eq!(got, want);
                        appended = b.len();
                    }
                }
                assert_eq!(b.len(), appended);
            }
            b.ensure_sorted();
            assert_eq!(b.len(), model.len());
            let d = b.read(TimeRange::ALL);
            assert_eq!(d.times, model.keys().copied().collect::<Vec<_>>());
            assert_eq!(
                d.values,
                ColumnData::Int64(model.values().copied().collect())
            );
            assert_eq!(
                b.last(),
                model
                    .iter()
                    .next_back()
                    .map(|(t, v)| (*t, Value::Int64(*v)))
            );
            let mid = b.len() / 2;
            let part = b.positions(mid, b.len() + 5);
            assert_eq!(part.times, d.times[mid..]);
        }
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
