//! Raw-row operator: sliced time join → filter → projection → offset/limit, with WHERE
//! conjuncts on one series pushed down to that series' chunk and page statistics.

use super::*;

/// Per input series, the conjuncts of `filter` (split at top-level ANDs) that read that
/// series alone, rewritten over `Input(0)` and AND-ed: what a row must satisfy for that
/// series, so that its flushed chunks and pages can be pruned by their statistics.
pub(super) fn prune_predicates(filter: &Expr, n: usize) -> Result<Vec<Option<Expr>>> {
    fn conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
        match e {
            Expr::And(a, b) => {
                conjuncts(a, out);
                conjuncts(b, out);
            }
            other => out.push(other),
        }
    }
    let mut parts = Vec::new();
    conjuncts(filter, &mut parts);
    let mut per_series: Vec<Vec<Expr>> = vec![Vec::new(); n];
    for c in parts {
        let mut used = Vec::new();
        c.inputs(&mut used);
        used.sort_unstable();
        used.dedup();
        let [i] = used[..] else { continue };
        if i < n {
            // every input maps to 0: only `i` occurs
            per_series[i].push(remap_inputs(c.clone(), &vec![0; n])?);
        }
    }
    per_series
        .into_iter()
        .map(|cs| conjoin(cs.into_iter().map(Ok)))
        .collect()
}

/// Raw query rows: time join → filter → projection → offset/limit. With whole-series
/// functions among the outputs, the whole filtered join is read into one chunk first (those
/// functions need every point), and unless they are all `diff` (see `seriesfn`), only rows
/// where some output has a value are kept (their outputs are point sets of their own, as in
/// IoTDB).
pub(super) struct RawStream {
    pub(super) join: SlicedJoin,
    pub(super) filter: Option<Expr>,
    pub(super) whole_series: bool,
    /// Rows where every output is null are dropped (whole-series functions other than `diff`).
    pub(super) drop_null_rows: bool,
    pub(super) outputs: Vec<Expr>,
    pub(super) offset: u64,
    pub(super) limit: Option<u64>,
    /// Rows produced beyond what the previous call could return.
    pub(super) pending: Option<RowBatch>,
}

impl RawStream {
    pub(super) fn filtered(&self, mut chunk: Chunk) -> Result<Chunk> {
        let Some(f) = &self.filter else {
            return Ok(chunk);
        };
        let pred = f.eval(&chunk)?;
        chunk.retain(&pred);
        Ok(chunk)
    }

    /// The whole remaining filtered join as one chunk (`None` once it has been read).
    pub(super) fn whole_chunk(&mut self) -> Result<Option<Chunk>> {
        let mut all: Option<RowBatch> = None;
        while let Some(chunk) = self.join.next_chunk(MIN_JOIN_ROWS)? {
            let c = self.filtered(chunk)?;
            let b = RowBatch {
                times: c.times,
                columns: c.columns,
            };
            match all.as_mut() {
                None => all = Some(b),
                Some(a) => append_batch(a, &b),
            }
        }
        Ok(all.map(|b| Chunk {
            times: b.times,
            columns: b.columns,
        }))
    }

    /// The next non-empty group of result rows (offset and limit applied), or `None`.
    pub(super) fn produce(&mut self, want: usize, block: bool) -> Result<Option<RowBatch>> {
        loop {
            if self.limit == Some(0) || self.outputs.is_empty() {
                return Ok(None);
            }
            let mut chunk = if self.whole_series {
                match self.whole_chunk()? {
                    Some(c) => c,
                    None => return Ok(None),
                }
            } else {
                let want = want.max(MIN_JOIN_ROWS);
                let next = if block {
                    self.join.next_block(want)?
                } else {
                    self.join.next_chunk(want)?
                };
                let Some(chunk) = next else {
                    return Ok(None);
                };
                self.filtered(chunk)?
            };
            let cols = eval_outputs(&self.outputs, &mut chunk)?;
            let n = chunk.len();
            if !self.drop_null_rows {
                // Every time of the joined series survives, even when all outputs are null
                // there (`SELECT a + b` where only `a` has a value, `SELECT i … WHERE d < 0`
                // where `i` has none): IoTDB 1.0 does not drop such rows. So OFFSET and LIMIT
                // keep one run of rows, cut without an index list (a slice may hold millions
                // of rows where LIMIT wants ten).
                let skip = usize::try_from(self.offset).unwrap_or(usize::MAX).min(n);
                self.offset -= skip as u64;
                let end = self.limit.map_or(n, |l| {
                    skip.saturating_add(usize::try_from(l).unwrap_or(usize::MAX))
                        .min(n)
                });
                if let Some(l) = self.limit.as_mut() {
                    *l -= (end - skip) as u64;
                }
                if skip == end {
                    continue;
                }
                let all = RowBatch {
                    times: chunk.times,
                    columns: cols,
                };
                if skip == 0 && end == n {
                    return Ok(Some(all));
                }
                return Ok(Some(crate::result::slice_batch(&all, skip..end)));
            }
            // rows where every output is null are dropped (see `drop_null_rows`)
            let mut keep: Vec<usize> = (0..n)
                .filter(|&r| cols.iter().any(|c| !c.is_null(r)))
                .collect();
            if self.offset > 0 {
                let skip = (self.offset.min(usize::MAX as u64) as usize).min(keep.len());
                keep.drain(..skip);
                self.offset -= skip as u64;
            }
            if let Some(l) = self.limit.as_mut() {
                keep.truncate((*l).min(usize::MAX as u64) as usize);
                *l -= keep.len() as u64;
            }
            if keep.is_empty() {
                continue;
            }
            if keep.len() == chunk.len() {
                // every row stays (kept rows ascend): the columns as evaluated, no gather
                return Ok(Some(RowBatch {
                    times: chunk.times,
                    columns: cols,
                }));
            }
            return Ok(Some(RowBatch {
                times: keep.iter().map(|&r| chunk.times[r]).collect(),
                columns: cols.iter().map(|c| take_column(c, &keep)).collect(),
            }));
        }
    }
}

impl ResultStream for RawStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let max_rows = max_rows.max(1);
        let mut out = self.pending.take();
        while out.as_ref().map_or(0, |b| b.len()) < max_rows {
            let have = out.as_ref().map_or(0, |b| b.len());
            match self.produce(max_rows - have, false)? {
                None => break,
                Some(b) => match out.as_mut() {
                    None => out = Some(b),
                    Some(o) => append_batch(o, &b),
                },
            }
        }
        if let Some(o) = out.as_mut() {
            if o.len() > max_rows {
                let rest = slice_batch(o, max_rows..o.len());
                *o = slice_batch(o, 0..max_rows);
                self.pending = Some(rest);
            }
        }
        Ok(out)
    }

    fn next_block(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        if let Some(p) = self.pending.take() {
            return Ok(Some(p));
        }
        self.produce(max_rows.max(1), true)
    }
}

/// The outputs evaluated on `chunk`; a plain series output takes its column out of the
/// chunk at its last use instead of copying it (the chunk's columns are spent afterwards).
fn eval_outputs(outputs: &[Expr], chunk: &mut Chunk) -> Result<Vec<Column>> {
    let mut cols: Vec<Option<Column>> = outputs
        .iter()
        .map(|e| match e {
            Expr::Input(_) => Ok(None),
            e => e.eval(chunk).map(Some),
        })
        .collect::<Result<_>>()?;
    let mut uses = vec![0usize; chunk.columns.len()];
    for e in outputs {
        if let Expr::Input(i) = e {
            if let Some(u) = uses.get_mut(*i) {
                *u += 1;
            }
        }
    }
    for (k, e) in outputs.iter().enumerate() {
        let Expr::Input(i) = e else { continue };
        let col = match uses.get_mut(*i) {
            Some(u) if *u == 1 => {
                *u = 0;
                std::mem::replace(
                    &mut chunk.columns[*i],
                    Column::new(ColumnData::Int64(Vec::new())),
                )
            }
            Some(u) if *u > 1 => {
                *u -= 1;
                chunk.columns[*i].clone()
            }
            _ => {
                return Err(Error::internal(format!(
                    "expression input {i} out of range"
                )))
            }
        };
        cols[k] = Some(col);
    }
    cols.into_iter()
        .map(|c| c.ok_or_else(|| Error::internal("output left unevaluated")))
        .collect()
}
