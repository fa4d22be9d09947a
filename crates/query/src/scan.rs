//! Series scan in bounded slices: a raw query reads its series a time slice at a time, so
//! the memory it holds is one slice of every selected series (plus the chunks being
//! decoded), whatever the length of the series.
//!
//! Slices are planned from where the points lie ([`storage::SeriesSpan`]: flushed chunks
//! and memtable buffers): consecutive chunks are grouped until a slice would exceed
//! [`SLICE_POINTS`], and slices start at chunk starts, so each chunk is decoded once (twice
//! at most where unsequence chunks overlap a cut). Each slice is read with the full merge
//! semantics of `Engine::read_series` (newest write wins, deletions, TTL) for exactly its
//! time range, so slicing never changes an answer, and the time join runs per slice.

use crate::expr::Expr;
use crate::join::{shares_times, Chunk, TimeJoin};
use model::{ColumnData, PartialPath, Result};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use storage::{Engine, SeriesData, SeriesSpan, TimeRange};

/// Points (over all selected series) a slice is planned to hold, by default.
pub const SLICE_POINTS: u64 = 1 << 18;

static SLICE_BUDGET: AtomicU64 = AtomicU64::new(SLICE_POINTS);

/// The slice budget in force for this process ([`SLICE_POINTS`] unless changed).
pub fn slice_points() -> u64 {
    SLICE_BUDGET.load(Ordering::Relaxed)
}

/// Changes the slice budget for the whole process (at least 1): smaller slices hold less
/// memory and read chunk metadata more often. Answers never depend on it.
pub fn set_slice_points(points: u64) {
    SLICE_BUDGET.store(points.max(1), Ordering::Relaxed);
}

/// True when a reader may decode the next slice on a second thread while the current one
/// is consumed: the machine has more than one core (checked once per process).
pub fn read_ahead() -> bool {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get())) > 1
}

/// How long reading a slice must have taken before the next one is read ahead on a second
/// thread: slices answered from statistics read in a few microseconds, about what handing
/// work to a pool worker costs. (It was 500 µs while each pair spawned a thread; decoding
/// got fast enough that a 200,000-point slice of a filtered aggregate read in ~400 µs, so
/// such queries never went parallel.)
pub const READ_AHEAD_AFTER: std::time::Duration = std::time::Duration::from_micros(50);

/// Reading slice after slice, the following ones shared with a second core, once reading
/// has shown itself slow enough to be worth sharing ([`READ_AHEAD_AFTER`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadAhead {
    slow: bool,
}

impl ReadAhead {
    /// True when the next slice should be read along with the current one.
    pub fn wanted(&self) -> bool {
        self.slow && read_ahead()
    }

    /// Reads `slice`, and `next` (if given) meanwhile on a second thread (see
    /// [`ReadAhead::read_all`]); remembers how long that took.
    pub fn read<T: Send>(
        &mut self,
        slice: TimeRange,
        next: Option<TimeRange>,
        read: impl Fn(TimeRange) -> Result<T> + Sync,
    ) -> Result<(T, Option<(TimeRange, T)>)> {
        let slices: Vec<TimeRange> = std::iter::once(slice).chain(next).collect();
        let mut data = self.read_all(&slices, read)?.into_iter();
        let here = data
            .next()
            .ok_or_else(|| model::Error::internal("slice left unread"))?;
        Ok((here, next.zip(data.next())))
    }

    /// Reads every slice of `slices` (in order in the answer): this thread and one of
    /// rayon-core's long-lived workers each claim the next unread slice until none is left;
    /// remembers how long a slice took. A thread spawned per read would also fault in a
    /// fresh allocator heap every time (3,300 page faults per 10 M-point aggregate). With
    /// slices claimed one at a time, a worker that starts late takes whatever is left (on
    /// the 2-core VM this project is measured on, a worker idle for a while often started
    /// only after this thread had read everything). Both carry the query's cancellation
    /// flag.
    pub fn read_all<U: Copy + Sync, T: Send>(
        &mut self,
        slices: &[U],
        read: impl Fn(U) -> Result<T> + Sync,
    ) -> Result<Vec<T>> {
        let start = std::time::Instant::now();
        let out = if slices.len() < 2 {
            slices
                .iter()
                .map(|&s| read(s))
                .collect::<Result<Vec<_>>>()?
        } else {
            let flag = model::cancel::current();
            let claimed = std::sync::atomic::AtomicUsize::new(0);
            let cells: Vec<parking_lot::Mutex<Option<Result<T>>>> = slices
                .iter()
                .map(|_| parking_lot::Mutex::new(None))
                .collect();
            let drain = || {
                model::cancel::scoped(flag.clone(), || loop {
                    let i = claimed.fetch_add(1, Ordering::Relaxed);
                    let Some(&slice) = slices.get(i) else { break };
                    *cells[i].lock() = Some(read(slice));
                })
            };
            // this thread reads at once; a pool worker joins in when it gets going
            rayon_core::in_place_scope(|sc| {
                sc.spawn(|_| drain());
                drain();
            });
            cells
                .into_iter()
                .map(|c| {
                    c.into_inner()
                        .unwrap_or_else(|| Err(model::Error::internal("slice left unread")))
                })
                .collect::<Result<Vec<_>>>()?
        };
        self.slow = start.elapsed() >= READ_AHEAD_AFTER * slices.len().max(1) as u32;
        Ok(out)
    }
}

/// Points a slice of a raw scan is expected to hold before its series are read in two
/// halves on two cores (see [`SlicedJoin`]): about a millisecond of decoding, far more than
/// handing work to a pool worker costs.
pub const SPLIT_SERIES_POINTS: u64 = 1 << 16;

/// Slices an aggregation reads in one round once reading is slow enough to share (see
/// [`ReadAhead::read_all`]): the memory held is that many slices' data.
pub const AGG_ROUND_SLICES: usize = 4;

/// Cuts `range` into consecutive slices that together cover it exactly, each expected to
/// hold about `budget` points of `spans` (a single chunk larger than that is one slice).
pub fn plan_slices(spans: &[SeriesSpan], range: TimeRange, budget: u64) -> Vec<TimeRange> {
    plan_counted_slices(spans, range, budget)
        .into_iter()
        .map(|(s, _)| s)
        .collect()
}

/// As [`plan_slices`], each slice with the points `spans` are expected to hold in it.
pub fn plan_counted_slices(
    spans: &[SeriesSpan],
    range: TimeRange,
    budget: u64,
) -> Vec<(TimeRange, u64)> {
    if range.is_empty() {
        return Vec::new();
    }
    let mut pieces: Vec<(i64, u64)> = Vec::with_capacity(spans.len());
    for s in spans {
        let (start, end) = (s.start.max(range.start), s.end.min(range.end));
        if start > end || s.count == 0 {
            continue;
        }
        if s.in_memory && s.count > budget {
            // points in memory are cut anywhere: assume them spread evenly
            let parts = s.count.div_ceil(budget.max(1));
            let width = ((end as i128 - start as i128 + 1) / parts as i128).max(1);
            for k in 0..parts as i128 {
                let at = start as i128 + k * width;
                if at > end as i128 {
                    break;
                }
                pieces.push((at as i64, s.count / parts));
            }
        } else {
            pieces.push((start, s.count));
        }
    }
    pieces.sort_unstable();
    let mut starts = vec![range.start];
    let mut counts = vec![0u64];
    for (start, count) in pieces {
        let slice_start = *starts.last().unwrap_or(&range.start);
        let acc = counts.last().copied().unwrap_or(0);
        if acc > 0 && acc.saturating_add(count) > budget && start > slice_start {
            starts.push(start);
            counts.push(0);
        }
        if let Some(acc) = counts.last_mut() {
            *acc = acc.saturating_add(count);
        }
    }
    let mut slices = Vec::with_capacity(starts.len());
    for (i, (&s, &count)) in starts.iter().zip(&counts).enumerate() {
        let end = starts.get(i + 1).map_or(range.end, |&next| next - 1);
        slices.push((TimeRange::new(s, end), count));
    }
    slices
}

/// The time join of several series over a time range, read slice by slice.
pub struct SlicedJoin {
    engine: Arc<Engine>,
    paths: Vec<PartialPath>,
    /// Slices not read yet, in the order they are consumed, with the points they are
    /// expected to hold.
    slices: VecDeque<(TimeRange, u64)>,
    desc: bool,
    current: Option<TimeJoin>,
    /// Per path, a predicate over `Input(0)` (its values) that the query's filter requires
    /// (see [`SlicedJoin::with_prune`]).
    prune: Vec<Option<Expr>>,
    /// The slice after the current one, read on a second core (see [`ReadAhead`]), and
    /// whether its series share their timestamps.
    prefetched: Option<(Vec<SeriesData>, bool)>,
    ahead: ReadAhead,
    /// Points from which a slice's series are read in two halves ([`SPLIT_SERIES_POINTS`]).
    split_points: u64,
}

impl SlicedJoin {
    /// Plans the slices of `paths` over `range` (ascending, or descending with `desc`).
    pub fn new(
        engine: Arc<Engine>,
        paths: Vec<PartialPath>,
        range: TimeRange,
        desc: bool,
    ) -> Result<SlicedJoin> {
        Self::with_budget(engine, paths, range, desc, slice_points())
    }

    /// As [`SlicedJoin::new`] with `budget` points per slice instead of [`SLICE_POINTS`].
    pub fn with_budget(
        engine: Arc<Engine>,
        paths: Vec<PartialPath>,
        range: TimeRange,
        desc: bool,
        budget: u64,
    ) -> Result<SlicedJoin> {
        let mut spans = Vec::new();
        if !range.is_empty() {
            for p in &paths {
                spans.extend(engine.series_spans(p, range)?);
            }
        }
        let mut slices: VecDeque<(TimeRange, u64)> =
            plan_counted_slices(&spans, range, budget).into();
        if desc {
            slices.make_contiguous().reverse();
        }
        Ok(SlicedJoin {
            engine,
            paths,
            slices,
            desc,
            current: None,
            prune: Vec::new(),
            prefetched: None,
            ahead: ReadAhead::default(),
            split_points: SPLIT_SERIES_POINTS,
        })
    }

    /// Per path (in `paths` order), a predicate over `Input(0)` that every row the query
    /// returns satisfies for that path's value, and that is not true on a null value (a
    /// conjunct of the WHERE clause on that series alone): flushed chunks and pages whose
    /// statistics prove it false for every point are not read. A row left without that
    /// series' value fails the filter anyway, so answers do not change.
    pub fn with_prune(mut self, prune: Vec<Option<Expr>>) -> SlicedJoin {
        self.prune = prune;
        self
    }

    /// The series `which` (indices into the paths) over `slice`.
    /// Reads a slice's series in two halves on two cores from `points` expected points on,
    /// instead of from [`SPLIT_SERIES_POINTS`] (answers never depend on it).
    pub fn with_split_points(mut self, points: u64) -> SlicedJoin {
        self.split_points = points;
        self
    }

    fn read(&self, slice: TimeRange, which: std::ops::Range<usize>) -> Result<Vec<SeriesData>> {
        let paths = &self.paths[which.clone()];
        let prune = self.prune.get(which).unwrap_or_default();
        if prune.iter().all(Option::is_none) || slice.is_empty() {
            return read_slice(&self.engine, paths, slice);
        }
        // chunks and pages whose statistics prove a series' predicate false are not read
        // (for an aligned device, their rows are left out of every column)
        let may_hold: Vec<Option<_>> = (0..paths.len())
            .map(|i| {
                prune.get(i).and_then(Option::as_ref).map(|pred| {
                    move |c: &storage::ChunkSummary| crate::prune::decide(pred, 0, c) != Some(false)
                })
            })
            .collect();
        let filters: Vec<Option<storage::MayHold<'_>>> = may_hold
            .iter()
            .map(|f| f.as_ref().map(|f| f as storage::MayHold<'_>))
            .collect();
        self.engine.read_series_many_pruned(paths, slice, &filters)
    }

    /// The data of the next slice: the one read ahead, or the next one read now (and the
    /// one after it on a second core).
    ///
    /// A slice expected to hold at least [`SPLIT_SERIES_POINTS`] points of several series
    /// (with no value filter to prune by), read without a next one, is read in two halves
    /// of its series, one per core: a scan whose chunks are larger than the slice budget is
    /// one slice, and would otherwise decode every series on one core.
    ///
    /// Whether the slice's series share their timestamps (see [`shares_times`]) is worked
    /// out by the threads that read them, each for its half; here only the halves' first
    /// series are compared.
    fn next_slice(&mut self) -> Result<Option<(Vec<SeriesData>, bool)>> {
        if let Some(d) = self.prefetched.take() {
            return Ok(Some(d));
        }
        let Some((slice, points)) = self.slices.pop_front() else {
            return Ok(None);
        };
        let next = if self.ahead.wanted() {
            self.slices.pop_front()
        } else {
            None
        };
        let n = self.paths.len();
        // with a second slice to read, each core reads a whole slice: the series of a
        // device then decode their shared time column once per slice (storage's
        // `timeshare`) instead of once per half, and the halves need no comparing
        let split = read_ahead()
            && n > 1
            && next.is_none()
            && self.prune.iter().all(Option::is_none)
            && points >= self.split_points;
        let halves: Vec<std::ops::Range<usize>> = if split {
            vec![0..n / 2, n / 2..n]
        } else {
            std::iter::once(0..n).collect()
        };
        let mut units = Vec::new();
        for s in std::iter::once(slice).chain(next.map(|(s, _)| s)) {
            units.extend(halves.iter().map(|h| (s, h.clone())));
        }
        let mut ahead = self.ahead;
        let units: Vec<&(TimeRange, std::ops::Range<usize>)> = units.iter().collect();
        let mut read = ahead
            .read_all(&units, |(s, h)| {
                let data = self.read(*s, h.clone())?;
                let shared = shares_times(&data);
                Ok((data, shared))
            })?
            .into_iter();
        self.ahead = ahead;
        // each slice's halves, joined back in path order
        let mut whole_slice = || {
            let mut all: Vec<SeriesData> = Vec::with_capacity(n);
            let mut shared = true;
            for _ in &halves {
                let (half, same) = read.next()?;
                shared &= same
                    && match (all.first(), half.first()) {
                        (Some(a), Some(b)) => a.times == b.times,
                        _ => true,
                    };
                all.extend(half);
            }
            Some((all, shared))
        };
        let here = whole_slice().ok_or_else(|| model::Error::internal("slice left unread"))?;
        self.prefetched = next.and_then(|_| whole_slice());
        Ok(Some(here))
    }

    /// The next up to `max_rows` joined rows, or `None` at the end.
    pub fn next_chunk(&mut self, max_rows: usize) -> Result<Option<Chunk>> {
        self.next_rows(max_rows, false)
    }

    /// As [`SlicedJoin::next_chunk`], but a slice whose series share their timestamps comes
    /// whole (see [`TimeJoin::next_block`]).
    pub fn next_block(&mut self, max_rows: usize) -> Result<Option<Chunk>> {
        self.next_rows(max_rows, true)
    }

    fn next_rows(&mut self, max_rows: usize, block: bool) -> Result<Option<Chunk>> {
        loop {
            if let Some(join) = self.current.as_mut() {
                let chunk = if block {
                    join.next_block(max_rows)
                } else {
                    join.next_chunk(max_rows)
                };
                if let Some(chunk) = chunk {
                    return Ok(Some(chunk));
                }
                self.current = None;
            }
            let Some((data, shared)) = self.next_slice()? else {
                return Ok(None);
            };
            self.current = Some(TimeJoin::knowing_shared(data, self.desc, shared));
        }
    }
}

/// Every path read over `range` (an empty range reads nothing); columns of one aligned
/// device are read together (see `Engine::read_series_many`).
pub fn read_slice(
    engine: &Engine,
    paths: &[PartialPath],
    range: TimeRange,
) -> Result<Vec<SeriesData>> {
    if range.is_empty() {
        return Ok(paths
            .iter()
            .map(|_| SeriesData {
                times: Default::default(),
                values: ColumnData::Int64(Vec::new()),
            })
            .collect());
    }
    match paths {
        [p] => Ok(vec![engine.read_series(p, range)?]),
        _ => engine.read_series_many(paths, range),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn span(start: i64, end: i64, count: u64) -> SeriesSpan {
        SeriesSpan {
            start,
            end,
            count,
            in_memory: false,
        }
    }

    #[test]
    fn slices_follow_chunk_starts() {
        let spans = [span(0, 99, 100), span(100, 199, 100), span(200, 299, 100)];
        let s = plan_slices(&spans, TimeRange::new(0, 299), 150);
        assert_eq!(
            s,
            vec![
                TimeRange::new(0, 99),
                TimeRange::new(100, 199),
                TimeRange::new(200, 299)
            ]
        );
        let s = plan_slices(&spans, TimeRange::new(0, 299), 250);
        assert_eq!(s, vec![TimeRange::new(0, 199), TimeRange::new(200, 299)]);
        // one chunk bigger than the budget stays whole
        let s = plan_slices(
            &[span(0, 999, 1000)],
            TimeRange::new(i64::MIN, i64::MAX),
            10,
        );
        assert_eq!(s, vec![TimeRange::new(i64::MIN, i64::MAX)]);
        // a big memtable buffer is cut evenly
        let mem = SeriesSpan {
            in_memory: true,
            ..span(0, 999, 1000)
        };
        assert_eq!(plan_slices(&[mem], TimeRange::new(0, 999), 100).len(), 10);
        assert!(plan_slices(&spans, TimeRange::new(5, 4), 10).is_empty());
    }

    proptest! {
        /// Slices are non-empty, consecutive and cover the range exactly.
        #[test]
        fn slices_partition_the_range(
            raw in proptest::collection::vec((-1000i64..1000, 0i64..300, 1u64..500, any::<bool>()), 0..30),
            lo in -1200i64..0, len in 0i64..2500, budget in 1u64..2000,
        ) {
            let spans: Vec<SeriesSpan> = raw.iter().map(|&(s, w, c, m)| SeriesSpan {
                start: s, end: s + w, count: c, in_memory: m,
            }).collect();
            let range = TimeRange::new(lo, lo + len);
            let slices = plan_slices(&spans, range, budget);
            prop_assert_eq!(slices[0].start, range.start);
            prop_assert_eq!(slices[slices.len() - 1].end, range.end);
            for w in slices.windows(2) {
                prop_assert!(!w[0].is_empty());
                prop_assert_eq!(w[0].end + 1, w[1].start);
            }
        }
    }
}
