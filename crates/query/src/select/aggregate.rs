//! Aggregation operator: one row per GROUP BY window (or one row), fed slice by slice
//! from raw series (chunk and page statistics where they answer, the next slice decoded on a
//! second core) or from expressions evaluated over the joined rows.

use super::*;

#[allow(clippy::too_many_arguments)]
pub(super) fn open_aggregation(
    engine: &Arc<Engine>,
    paths: &[PartialPath],
    series_types: &[TSDataType],
    range: TimeRange,
    residual: Option<&Expr>,
    groups: &[AggGroup],
    windows: Option<WindowPlan>,
    desc: bool,
    outputs: Vec<Expr>,
    having: Option<Expr>,
    offset: u64,
    limit: Option<u64>,
) -> Result<AggStream> {
    let raw_inputs = groups
        .iter()
        .all(|g| g.members.iter().all(|m| matches!(m, Expr::Input(_))));
    // With one series read, a filter can only be on that series (or the time): it is pushed
    // down to the series' statistics and applied to the decoded points alone.
    let direct = raw_inputs && (residual.is_none() || paths.len() == 1);
    let n = windows.as_ref().map(|w| w.count()).unwrap_or(1);
    let first = clamp_usize(offset).min(n);
    let end = match limit {
        Some(l) => first.saturating_add(clamp_usize(l)).min(n),
        None => n,
    };
    let input = if direct {
        // Raw series in: flushed chunks and pages answered from statistics where they can be
        // (see `read_agg_slice`).
        let members = groups
            .iter()
            .map(|g| {
                g.members
                    .iter()
                    .map(|m| match m {
                        Expr::Input(i) => Ok(*i),
                        _ => Err(Error::internal("direct aggregation of an expression")),
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        SliceInput::Direct {
            members,
            residual: residual.cloned(),
            extremes: groups.iter().any(|g| {
                matches!(
                    g.kind,
                    AggKind::MaxValue | AggKind::MinValue | AggKind::Extreme
                )
            }),
        }
    } else {
        // Expressions, or a filter across series: each slice's rows are joined, filtered
        // and the aggregated expressions evaluated on them.
        SliceInput::Joined {
            members: groups.iter().map(|g| g.members.clone()).collect(),
            residual: residual.cloned(),
            series_types: series_types.to_vec(),
        }
    };
    // only the windows OFFSET/LIMIT keep are computed, and only their time span is read
    let wanted = if desc { n - end..n - first } else { first..end };
    let range = if wanted.is_empty() {
        TimeRange::new(1, 0)
    } else {
        let lo = window_bounds(windows.as_ref(), wanted.start).0;
        let hi = window_bounds(windows.as_ref(), wanted.end - 1).1;
        TimeRange::new(range.start.max(lo), range.end.min(hi))
    };
    let mut spans = Vec::new();
    let summarizable = matches!(&input, SliceInput::Direct { residual: None, .. });
    if !range.is_empty() {
        for p in paths {
            let mut of_path = engine.series_spans(p, range)?;
            if summarizable {
                discount_summarized(&mut of_path, range, windows.as_ref());
            }
            spans.extend(of_path);
        }
    }
    let mut slices: VecDeque<TimeRange> =
        crate::scan::plan_slices(&spans, range, crate::scan::slice_points()).into();
    if desc {
        slices.make_contiguous().reverse();
    }
    let source = SlicedAgg {
        engine: engine.clone(),
        paths: paths.to_vec(),
        input,
        slices,
        wanted,
        open: BTreeMap::new(),
        last: None,
        ahead: crate::scan::ReadAhead::default(),
    };
    Ok(AggStream {
        accs: groups.iter().map(|g| Accumulator::new(g.kind)).collect(),
        out_types: groups.iter().map(|g| g.out_type).collect(),
        source,
        windows,
        n,
        pos: first,
        end,
        desc,
        outputs,
        having,
    })
}

/// How much less a chunk that statistics can answer weighs in slice planning than one
/// that must be decoded (see [`discount_summarized`]).
const SUMMARIZED_DISCOUNT: u64 = 8;

/// Aggregation without a value filter answers a flushed chunk that lies inside the range
/// and overlaps no other chunk of its series from its chunk and page statistics, decoding
/// at most the pages that straddle a window's edge (and those reduced as they are decoded
/// hold no points): such a span weighs a [`SUMMARIZED_DISCOUNT`]th of its points, so that
/// a long series is read in a few slices rather than one per [`crate::scan::slice_points`]
/// points, each of which costs a resolution of the series and a visit of its files. Should
/// the statistics not serve after all (deletions inside the chunk), a slice holds at most
/// that factor more points than planned. Each window a slice reaches holds a partial
/// result, so under GROUP BY only spans with at least [`DISCOUNT_POINTS_PER_WINDOW`]
/// points per window step are discounted.
fn discount_summarized(
    spans: &mut [storage::SeriesSpan],
    range: TimeRange,
    windows: Option<&WindowPlan>,
) {
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_unstable_by_key(|&i| (spans[i].start, spans[i].end));
    let mut isolated = vec![true; spans.len()];
    let mut reach: Option<(i64, usize)> = None;
    for &i in &order {
        if let Some((end, j)) = reach {
            if spans[i].start <= end {
                isolated[i] = false;
                isolated[j] = false;
            }
        }
        if reach.is_none_or(|(end, _)| spans[i].end > end) {
            reach = Some((spans[i].end, i));
        }
    }
    for (s, alone) in spans.iter_mut().zip(isolated) {
        let inside = s.start >= range.start && s.end <= range.end;
        if alone && !s.in_memory && inside && wide_windows(s, windows) {
            s.count = s.count.div_ceil(SUMMARIZED_DISCOUNT);
        }
    }
}

/// Points per window step below which GROUP BY spans are not discounted (see
/// [`discount_summarized`]).
const DISCOUNT_POINTS_PER_WINDOW: u128 = 4096;

/// True without windows, or when `span` is expected to hold at least
/// [`DISCOUNT_POINTS_PER_WINDOW`] points per window step (a calendar month step counts as
/// its shortest, 28 days).
fn wide_windows(span: &storage::SeriesSpan, windows: Option<&WindowPlan>) -> bool {
    const SHORTEST_MONTH_MS: i64 = 28 * 86_400_000;
    let Some(w) = windows else { return true };
    let step = w
        .step_ms
        .max(w.step_months.saturating_mul(SHORTEST_MONTH_MS))
        .max(1) as u128;
    let width = (span.end as i128 - span.start as i128 + 1).max(1) as u128;
    u128::from(span.count) * step >= DISCOUNT_POINTS_PER_WINDOW * width
}

/// Aggregation rows: one per window (or a single row without GROUP BY).
pub(super) struct AggStream {
    /// One accumulator per aggregated output (the template for each window's).
    pub(super) accs: Vec<Accumulator>,
    pub(super) out_types: Vec<TSDataType>,
    pub(super) source: SlicedAgg,
    pub(super) windows: Option<WindowPlan>,
    pub(super) n: usize,
    pub(super) pos: usize,
    pub(super) end: usize,
    pub(super) desc: bool,
    pub(super) outputs: Vec<Expr>,
    pub(super) having: Option<Expr>,
}

impl ResultStream for AggStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        while self.pos < self.end {
            let batch = self.next_windows(max_rows)?;
            if !batch.is_empty() {
                return Ok(Some(batch));
            }
        }
        Ok(None)
    }
}

impl AggStream {
    /// Aggregates the next up to `max_rows` windows (rows failing HAVING dropped).
    pub(super) fn next_windows(&mut self, max_rows: usize) -> Result<RowBatch> {
        let upto = self.end.min(self.pos.saturating_add(max_rows.max(1)));
        let mut times = Vec::with_capacity(upto - self.pos);
        let mut builders: Vec<ColumnBuilder> = self
            .out_types
            .iter()
            .map(|t| ColumnBuilder::new(*t, upto - self.pos))
            .collect();
        for p in self.pos..upto {
            model::cancel::checkpoint()?;
            let k = if self.desc { self.n - 1 - p } else { p };
            let time = match &self.windows {
                None => 0,
                Some(w) => {
                    let (ws, we) = w.window(k);
                    if w.left_open {
                        we
                    } else {
                        ws
                    }
                }
            };
            times.push(time);
            let accs = self
                .source
                .window(k, self.windows.as_ref(), self.n, &self.accs)?;
            for (acc, b) in accs.iter().zip(&mut builders) {
                b.push(acc.result().as_ref());
            }
        }
        self.pos = upto;
        let mut chunk = Chunk {
            times,
            columns: builders.into_iter().map(|b| b.finish()).collect(),
        };
        if let Some(h) = &self.having {
            let keep = selected_rows(&h.eval(&chunk)?);
            if keep.len() != chunk.len() {
                chunk = chunk.take(&keep);
            }
        }
        let columns = self
            .outputs
            .iter()
            .map(|e| e.eval(&chunk))
            .collect::<Result<Vec<_>>>()?;
        Ok(RowBatch {
            times: chunk.times,
            columns,
        })
    }
}

/// Adds to `acc` the points of `ts`/`col` and the summaries of `sums` inside `[lo, hi]`
/// (summaries lie wholly inside one window, see `WindowPlan::holds`).
pub(super) fn feed(
    acc: &mut Accumulator,
    ts: &[i64],
    col: &Column,
    sums: &[ChunkSummary],
    (lo, hi): (i64, i64),
) {
    let a = ts.partition_point(|&t| t < lo);
    let b = ts.partition_point(|&t| t <= hi);
    acc.update_sorted(ts, col, a..b.max(a));
    let a = sums.partition_point(|c| c.start < lo);
    let b = sums.partition_point(|c| c.start <= hi);
    for c in &sums[a..b.max(a)] {
        acc.merge_summary(c);
    }
}

/// What an aggregation reads from each slice.
pub(super) enum SliceInput {
    /// Raw series: per aggregated output, the series (indexes into `paths`) it reads; a
    /// filter (only with one series) is pushed down to its statistics and applied to its
    /// decoded points.
    Direct {
        members: Vec<Vec<usize>>,
        residual: Option<Expr>,
        /// Whether some output needs the least and greatest values (see `AggPolicy`).
        extremes: bool,
    },
    /// The slice's rows joined across `paths` and filtered: per aggregated output, the
    /// expressions over the joined columns it aggregates.
    Joined {
        members: Vec<Vec<Expr>>,
        residual: Option<Expr>,
        series_types: Vec<TSDataType>,
    },
}

/// Aggregation over time slices: each slice is read once (raw series with statistics where
/// they answer, see `SummaryUse`; or joined rows), its points fed to the windows it
/// overlaps, and a window is finished as soon as no later slice can reach it. Memory: one
/// slice (up to `AGG_ROUND_SLICES` with read-ahead) plus the accumulators of the windows
/// still open, whatever the number of windows or points.
pub(super) struct SlicedAgg {
    pub(super) engine: Arc<Engine>,
    pub(super) paths: Vec<PartialPath>,
    /// What each slice gives each aggregated output.
    pub(super) input: SliceInput,
    /// Slices not read yet, in processing order (descending with ORDER BY TIME DESC).
    pub(super) slices: VecDeque<TimeRange>,
    /// The windows to compute (OFFSET/LIMIT drop the others).
    pub(super) wanted: std::ops::Range<usize>,
    /// Accumulators of windows touched by a slice and not handed out yet.
    pub(super) open: BTreeMap<usize, Vec<Accumulator>>,
    /// The last slice read (`None` before the first).
    pub(super) last: Option<TimeRange>,
    /// Whether to read the next slice along with the current one.
    pub(super) ahead: crate::scan::ReadAhead,
}

impl SlicedAgg {
    /// The finished accumulators of window `k` (fresh ones if no point fell into it),
    /// reading slices until no unread slice can touch the window.
    pub(super) fn window(
        &mut self,
        k: usize,
        windows: Option<&WindowPlan>,
        n: usize,
        template: &[Accumulator],
    ) -> Result<Vec<Accumulator>> {
        let (lo, hi) = window_bounds(windows, k);
        loop {
            let done = match (self.slices.front(), self.last) {
                (None, _) => true,
                // slices come in time order: nothing after `last` reaches back before it
                (Some(next), Some(last)) if next.start > last.end => hi <= last.end,
                (Some(_), Some(last)) => lo >= last.start,
                (Some(_), None) => false,
            };
            if done {
                break;
            }
            self.read_next(windows, n, template)?;
        }
        Ok(self.open.remove(&k).unwrap_or_else(|| fresh(template)))
    }

    /// Reads the next slice (with read-ahead, the next round of up to `AGG_ROUND_SLICES`) and
    /// feeds each, in order, to every window it overlaps.
    pub(super) fn read_next(
        &mut self,
        windows: Option<&WindowPlan>,
        n: usize,
        template: &[Accumulator],
    ) -> Result<()> {
        let Some(slice) = self.slices.pop_front() else {
            return Ok(());
        };
        // with a second core (and slices that take a while), the following slices are read
        // along with this one by two workers; points are still fed in slice order
        let mut round = vec![slice];
        while self.ahead.wanted() && round.len() < crate::scan::AGG_ROUND_SLICES {
            match self.slices.pop_front() {
                Some(s) => round.push(s),
                None => break,
            }
        }
        let mut ahead = self.ahead;
        let data = ahead.read_all(&round, |s| self.read_slice(s, windows))?;
        self.ahead = ahead;
        for (s, d) in round.into_iter().zip(data) {
            self.feed_slice(s, d, windows, n, template)?;
        }
        Ok(())
    }

    /// Per aggregated output, the datasets one slice gives it.
    fn read_slice(
        &self,
        slice: TimeRange,
        windows: Option<&WindowPlan>,
    ) -> Result<Vec<Vec<Dataset>>> {
        match &self.input {
            SliceInput::Direct {
                members,
                residual,
                extremes,
            } => {
                let policy = super::reduce::AggPolicy {
                    residual: residual.as_ref(),
                    windows,
                    extremes: *extremes,
                };
                let data = self
                    .paths
                    .iter()
                    .map(|p| read_agg_slice(&self.engine, p, slice, &policy))
                    .collect::<Result<Vec<_>>>()?;
                members
                    .iter()
                    .map(|m| {
                        m.iter()
                            .map(|&i| {
                                data.get(i).cloned().ok_or_else(|| {
                                    Error::internal("aggregation input out of range")
                                })
                            })
                            .collect()
                    })
                    .collect()
            }
            SliceInput::Joined {
                members,
                residual,
                series_types,
            } => {
                let data = read_slice(&self.engine, &self.paths, slice)?;
                let mut joined = TimeJoin::new(data, false)
                    .next_chunk(usize::MAX)
                    .unwrap_or_default();
                if joined.columns.len() != self.paths.len() {
                    joined.columns = series_types
                        .iter()
                        .map(|t| Column::new(ColumnData::empty(*t)))
                        .collect();
                }
                if let Some(f) = residual {
                    let pred = f.eval(&joined)?;
                    joined.retain(&pred);
                }
                let times = Arc::new(joined.times.clone());
                let no_summaries = Arc::new(Vec::new());
                members
                    .iter()
                    .map(|m| {
                        m.iter()
                            .map(|e| {
                                Ok((
                                    times.clone(),
                                    Arc::new(e.eval(&joined)?),
                                    no_summaries.clone(),
                                ))
                            })
                            .collect()
                    })
                    .collect()
            }
        }
    }

    /// Feeds the points of one slice (per aggregated output, its datasets) to every wanted
    /// window it overlaps.
    pub(super) fn feed_slice(
        &mut self,
        slice: TimeRange,
        data: Vec<Vec<Dataset>>,
        windows: Option<&WindowPlan>,
        n: usize,
        template: &[Accumulator],
    ) -> Result<()> {
        self.last = Some(slice);
        // the first window whose end reaches `t` (window ends ascend with k)
        let reaching = |t: i64| {
            let (mut a, mut b) = (0usize, n);
            while a < b {
                let mid = a + (b - a) / 2;
                if window_bounds(windows, mid).1 < t {
                    a = mid + 1;
                } else {
                    b = mid;
                }
            }
            a
        };
        // the earliest point or summary at or after `lo` in the slice
        let next_data = |lo: i64| {
            data.iter()
                .flatten()
                .flat_map(|(ts, _, sums)| {
                    let t = ts.get(ts.partition_point(|&t| t < lo)).copied();
                    let s = sums
                        .get(sums.partition_point(|c| c.start < lo))
                        .map(|c| c.start);
                    [t, s]
                })
                .flatten()
                .min()
        };
        let end = n.min(self.wanted.end);
        let mut k = reaching(slice.start).max(self.wanted.start);
        while k < end {
            model::cancel::checkpoint()?;
            let bounds = window_bounds(windows, k);
            if bounds.0 > slice.end {
                break;
            }
            // only windows that get points are opened (an empty one reads as fresh), and
            // runs of empty windows are jumped over: the accumulators held stay bounded by
            // the slice's points, whatever the number of windows
            match next_data(bounds.0) {
                None => break,
                Some(t) if t > bounds.1 => {
                    k = reaching(t).max(k + 1);
                    continue;
                }
                Some(_) => {}
            }
            let accs = self.open.entry(k).or_insert_with(|| fresh(template));
            for (acc, sets) in accs.iter_mut().zip(&data) {
                for (ts, col, sums) in sets {
                    feed(acc, ts, col, sums, bounds);
                }
            }
            k += 1;
        }
        Ok(())
    }
}

/// Fresh accumulators of the same kinds as `template`.
pub(super) fn fresh(template: &[Accumulator]) -> Vec<Accumulator> {
    template
        .iter()
        .map(|a| Accumulator::new(a.kind()))
        .collect()
}

/// One raw series over one slice, for aggregation: clean chunks and pages that fit a window
/// (and that a filter on the series accepts whole) as statistics, those the filter rejects
/// whole not read, pages the filter splits that fit a window summarised as they are decoded
/// (see `AggPolicy`), the rest decoded (and filtered).
pub(super) fn read_agg_slice(
    engine: &Engine,
    path: &PartialPath,
    slice: TimeRange,
    policy: &super::reduce::AggPolicy<'_>,
) -> Result<Dataset> {
    let residual = policy.residual;
    let s = engine.read_series_summarized(path, slice, policy)?;
    let mut points = Chunk {
        times: s.data.times.into_vec(),
        columns: vec![Column::new(s.data.values)],
    };
    if let Some(f) = residual {
        let pred = f.eval(&points)?;
        points.retain(&pred);
    }
    let column = points
        .columns
        .pop()
        .ok_or_else(|| Error::internal("no column"))?;
    Ok((
        Arc::new(points.times),
        Arc::new(column),
        Arc::new(s.summaries),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: i64, end: i64, count: u64, in_memory: bool) -> storage::SeriesSpan {
        storage::SeriesSpan {
            start,
            end,
            count,
            in_memory,
        }
    }

    #[test]
    fn only_lone_flushed_spans_inside_the_range_are_discounted() {
        let mut spans = vec![
            span(0, 99, 800, false),    // alone, inside
            span(100, 199, 800, false), // overlaps the next one
            span(150, 160, 800, false),
            span(200, 299, 800, true),  // in memory
            span(300, 420, 800, false), // crosses the range's end
        ];
        discount_summarized(&mut spans, TimeRange::new(0, 399), None);
        let counts: Vec<u64> = spans.iter().map(|s| s.count).collect();
        assert_eq!(counts, [100, 800, 800, 800, 800]);
    }

    #[test]
    fn narrow_windows_keep_full_weight() {
        let w = |step_ms| WindowPlan {
            start: 0,
            end: 1000,
            interval_ms: step_ms,
            interval_months: 0,
            step_ms,
            step_months: 0,
            left_open: false,
            zone: model::time::TimeZone::default(),
            count: 1,
        };
        // 10,000 points over 1,000 ms: 10 points per ms
        let mut narrow = vec![span(0, 999, 10_000, false)];
        discount_summarized(&mut narrow, TimeRange::new(0, 999), Some(&w(100)));
        assert_eq!(narrow[0].count, 10_000);
        let mut wide = vec![span(0, 999, 10_000, false)];
        discount_summarized(&mut wide, TimeRange::new(0, 999), Some(&w(500)));
        assert_eq!(wide[0].count, 10_000 / SUMMARIZED_DISCOUNT);
    }
}
