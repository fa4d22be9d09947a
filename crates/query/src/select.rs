//! SELECT execution: raw queries (time join, filter, projection), aggregations with or
//! without GROUP BY time windows, and last-point queries.

use crate::agg::Accumulator;
use crate::analyze::{eval_time, has_aggregate, has_path, split_time_filter, Converter, Expander};
use crate::expr::{selected_rows, Expr};
use crate::join::{Chunk, TimeJoin};
use crate::result::{
    append_batch, slice_batch, take_column, text, ColumnBuilder, EmptyStream, QueryResult,
    ResultStream, TableBuilder,
};
use crate::SessionContext;
use chrono::{Datelike, NaiveDate};
use model::time::TimeZone;
use model::{Column, ColumnData, Error, PartialPath, Result, RowBatch, TSDataType, Value};
use sql::ast::{Expression, GroupBy, QueryStatement, SortKey, TimeWindow};
use std::collections::HashMap;
use std::sync::Arc;
use storage::{Engine, SeriesData, TimeRange};

/// Rows pulled from the time join per step when the caller asks for fewer.
const MIN_JOIN_ROWS: usize = 256;

/// One output column before de-duplication.
struct OutputColumn {
    header: String,
    key: String,
    expr: Expr,
    data_type: TSDataType,
}

/// The distinct data columns of a result and the display columns mapped onto them.
struct Projection {
    columns: Vec<String>,
    types: Vec<TSDataType>,
    column_index: Vec<usize>,
    exprs: Vec<Expr>,
}

fn project(outputs: Vec<OutputColumn>) -> Projection {
    let mut p = Projection {
        columns: Vec::new(),
        types: Vec::new(),
        column_index: Vec::new(),
        exprs: Vec::new(),
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for o in outputs {
        let idx = match seen.get(&o.key) {
            Some(&i) => i,
            None => {
                let i = p.exprs.len();
                p.exprs.push(o.expr);
                seen.insert(o.key, i);
                i
            }
        };
        p.columns.push(o.header);
        p.types.push(o.data_type);
        p.column_index.push(idx);
    }
    p
}

fn time_order_desc(q: &QueryStatement) -> Result<bool> {
    let mut desc = false;
    for (i, o) in q.order_by.iter().enumerate() {
        match o.key {
            SortKey::Time if i == 0 => desc = o.descending,
            SortKey::Time => {}
            other => {
                return Err(Error::Unsupported(format!(
                    "ORDER BY {other:?} is not supported yet for this query"
                )))
            }
        }
    }
    Ok(desc)
}

fn reject_unsupported(q: &QueryStatement) -> Result<()> {
    if q.into.is_some() {
        return Err(Error::Unsupported(
            "SELECT INTO is not supported yet".into(),
        ));
    }
    if q.having.is_some() {
        return Err(Error::Unsupported("HAVING is not supported yet".into()));
    }
    if q.fill.is_some() {
        return Err(Error::Unsupported("FILL is not supported yet".into()));
    }
    if q.align_by_device {
        return Err(Error::Unsupported(
            "ALIGN BY DEVICE is not supported yet".into(),
        ));
    }
    if let Some(g) = &q.group_by {
        if !g.level.is_empty() {
            return Err(Error::Unsupported(
                "GROUP BY LEVEL is not supported yet".into(),
            ));
        }
        if !g.tags.is_empty() {
            return Err(Error::Unsupported(
                "GROUP BY TAGS is not supported yet".into(),
            ));
        }
    }
    Ok(())
}

fn read_all(engine: &Engine, paths: &[PartialPath], range: TimeRange) -> Result<Vec<SeriesData>> {
    paths
        .iter()
        .zip(std::iter::repeat(range))
        .map(|(p, r)| {
            if r.is_empty() {
                Ok(SeriesData {
                    times: Vec::new(),
                    values: ColumnData::Int64(Vec::new()),
                })
            } else {
                engine.read_series(p, r)
            }
        })
        .collect()
}

fn limit_of(q: &QueryStatement) -> (u64, Option<u64>) {
    (q.offset.unwrap_or(0), q.limit)
}

/// Runs a SELECT.
pub fn run_query(engine: &Engine, q: &QueryStatement, ctx: &SessionContext) -> Result<QueryResult> {
    reject_unsupported(q)?;
    if q.last {
        return run_last(engine, q, ctx);
    }
    let desc = time_order_desc(q)?;
    let aggregated = q.select.iter().any(|c| has_aggregate(&c.expr))
        || q.group_by.as_ref().is_some_and(|g| g.time.is_some());
    if let Some(GroupBy { time: Some(_), .. }) = &q.group_by {
        if !q.select.iter().any(|c| has_aggregate(&c.expr)) {
            return Err(Error::Semantic(
                "GROUP BY TIME requires aggregation functions in the select clause".into(),
            ));
        }
    }
    for c in &q.select {
        if matches!(c.expr, Expression::Time) || !has_path(&c.expr) {
            return Err(Error::Semantic(format!(
                "Each select item must read a time series; {:?} does not",
                c.expr
            )));
        }
    }

    // 1. Expand wildcards of select items and WHERE.
    let mut expander = Expander::new(engine, &q.from);
    let mut items: Vec<(Expression, Option<String>)> = Vec::new();
    for c in &q.select {
        let expanded = expander.expand(&c.expr)?;
        if let Some(alias) = &c.alias {
            if expanded.len() > 1 {
                return Err(Error::Semantic(format!(
                    "alias '{alias}' can only be matched with one time series"
                )));
            }
        }
        items.extend(expanded.into_iter().map(|e| (e, c.alias.clone())));
    }
    let soffset = q.soffset.unwrap_or(0).min(usize::MAX as u64) as usize;
    let slimit = q
        .slimit
        .map(|n| n.min(usize::MAX as u64) as usize)
        .unwrap_or(usize::MAX);
    let items: Vec<_> = items.into_iter().skip(soffset).take(slimit).collect();
    let where_exprs = match &q.where_clause {
        None => None,
        Some(w) => {
            if has_aggregate(w) {
                return Err(Error::Semantic(
                    "Aggregate functions are not supported in WHERE clause".into(),
                ));
            }
            Some(expander.expand(w)?)
        }
    };

    // 2. Resolve to expressions over series (and aggregations).
    let mut conv = Converter::new(&expander, ctx.zone.clone());
    let mut outputs = Vec::with_capacity(items.len());
    for (e, alias) in &items {
        let expr = if aggregated {
            conv.aggregated(e)?
        } else {
            conv.raw(e)?
        };
        outputs.push((expr, alias.clone()));
    }
    let filter = match where_exprs {
        None => None,
        Some(list) if list.is_empty() => Some(Expr::Const(Value::Boolean(false), "false".into())),
        Some(list) => {
            let mut acc: Option<Expr> = None;
            for e in &list {
                let x = conv.raw(e)?;
                acc = Some(match acc {
                    None => x,
                    Some(prev) => Expr::And(Box::new(prev), Box::new(x)),
                });
            }
            acc
        }
    };
    if let Some(f) = &filter {
        let t = f.check_type(&conv.series.types, &conv.series.names)?;
        if !matches!(t, None | Some(TSDataType::Boolean)) {
            return Err(Error::Semantic(format!(
                "The output type of the expression in WHERE clause should be BOOLEAN, actual data type: {}.",
                t.map(|t| t.name()).unwrap_or("null")
            )));
        }
    }
    let (in_names, in_types) = if aggregated {
        (conv.aggs.names(), conv.aggs.types())
    } else {
        (conv.series.names.clone(), conv.series.types.clone())
    };
    let mut cols = Vec::with_capacity(outputs.len());
    for (expr, alias) in outputs {
        let key = expr.display(&in_names);
        let data_type = expr
            .check_type(&in_types, &in_names)?
            .unwrap_or(TSDataType::Text);
        cols.push(OutputColumn {
            header: alias.unwrap_or_else(|| key.clone()),
            key,
            expr,
            data_type,
        });
    }
    let proj = project(cols);
    let (mut range, residual) = split_time_filter(filter);
    let (offset, limit) = limit_of(q);

    if !aggregated {
        let data = read_all(engine, &conv.series.paths, range)?;
        let stream = RawStream {
            join: TimeJoin::new(data, desc),
            filter: residual,
            outputs: proj.exprs,
            offset,
            limit,
            pending: None,
        };
        return Ok(QueryResult {
            columns: proj.columns,
            types: proj.types,
            ignore_timestamp: false,
            column_index: proj.column_index,
            stream: Box::new(stream),
        });
    }

    // Aggregation.
    let windows = match q.group_by.as_ref().and_then(|g| g.time.as_ref()) {
        Some(w) => {
            let plan = WindowPlan::new(w, &ctx.zone)?;
            let (lo, hi) = plan.data_range();
            range.start = range.start.max(lo);
            range.end = range.end.min(hi);
            Some(plan)
        }
        None => None,
    };
    let specs = conv.aggs.specs.clone();
    let mut data = read_all(engine, &conv.series.paths, range)?;
    let direct = residual.is_none() && specs.iter().all(|s| matches!(s.arg, Expr::Input(_)));
    let mut datasets: Vec<(Arc<Vec<i64>>, Arc<Column>)> = Vec::with_capacity(specs.len());
    if direct {
        let shared: Vec<(Arc<Vec<i64>>, Arc<Column>)> = data
            .drain(..)
            .map(|s| (Arc::new(s.times), Arc::new(Column::new(s.values))))
            .collect();
        for s in &specs {
            if let Expr::Input(i) = s.arg {
                let d = shared
                    .get(i)
                    .ok_or_else(|| Error::internal("aggregation input out of range"))?;
                datasets.push(d.clone());
            }
        }
    } else {
        let mut join = TimeJoin::new(data, false);
        let mut joined = join.next_chunk(usize::MAX).unwrap_or_default();
        if joined.columns.len() != conv.series.paths.len() {
            joined.columns = conv
                .series
                .types
                .iter()
                .map(|t| Column::new(ColumnData::empty(*t)))
                .collect();
        }
        if let Some(f) = &residual {
            let keep = selected_rows(&f.eval(&joined)?);
            joined = joined.take(&keep);
        }
        let times = Arc::new(joined.times.clone());
        for s in &specs {
            datasets.push((times.clone(), Arc::new(s.arg.eval(&joined)?)));
        }
    }
    let n = windows.as_ref().map(|w| w.count()).unwrap_or(1);
    let first = offset.min(n as u64) as usize;
    let end = match limit {
        Some(l) => first
            .saturating_add(l.min(usize::MAX as u64) as usize)
            .min(n),
        None => n,
    };
    let stream = AggStream {
        accs: specs.iter().map(|s| Accumulator::new(s.kind)).collect(),
        out_types: specs.iter().map(|s| s.out_type).collect(),
        datasets,
        windows,
        n,
        pos: first,
        end,
        desc,
        outputs: proj.exprs,
    };
    let ignore_timestamp = stream.windows.is_none();
    if proj.columns.is_empty() {
        return Ok(QueryResult {
            columns: proj.columns,
            types: proj.types,
            ignore_timestamp,
            column_index: proj.column_index,
            stream: Box::new(EmptyStream),
        });
    }
    Ok(QueryResult {
        columns: proj.columns,
        types: proj.types,
        ignore_timestamp,
        column_index: proj.column_index,
        stream: Box::new(stream),
    })
}

/// Raw query rows: time join → filter → projection → drop all-null rows → offset/limit.
struct RawStream {
    join: TimeJoin,
    filter: Option<Expr>,
    outputs: Vec<Expr>,
    offset: u64,
    limit: Option<u64>,
    /// Rows produced beyond what the previous call could return.
    pending: Option<RowBatch>,
}

impl RawStream {
    /// The next non-empty group of result rows (offset and limit applied), or `None`.
    fn produce(&mut self, want: usize) -> Result<Option<RowBatch>> {
        loop {
            if self.limit == Some(0) || self.outputs.is_empty() {
                return Ok(None);
            }
            let Some(mut chunk) = self.join.next_chunk(want.max(MIN_JOIN_ROWS)) else {
                return Ok(None);
            };
            if let Some(f) = &self.filter {
                let keep = selected_rows(&f.eval(&chunk)?);
                if keep.len() != chunk.len() {
                    chunk = chunk.take(&keep);
                }
            }
            let cols = self
                .outputs
                .iter()
                .map(|e| e.eval(&chunk))
                .collect::<Result<Vec<_>>>()?;
            let mut keep: Vec<usize> = (0..chunk.len())
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
            match self.produce(max_rows - have)? {
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
}

/// GROUP BY time windows (or none: one window over everything).
struct WindowPlan {
    start: i64,
    end: i64,
    interval_ms: i64,
    interval_months: i64,
    step_ms: i64,
    step_months: i64,
    left_open: bool,
    zone: TimeZone,
    count: usize,
}

/// Adds calendar months in `zone`, clamping the day to the month's end.
fn add_months(t: i64, months: i64, zone: &TimeZone) -> Option<i64> {
    if months == 0 {
        return Some(t);
    }
    let off = zone.offset_secs_at(t) as i64 * 1000;
    let local = chrono::DateTime::from_timestamp_millis(t.checked_add(off)?)?.naive_utc();
    let total = (local.year() as i64) * 12 + local.month0() as i64 + months;
    let y = i32::try_from(total.div_euclid(12)).ok()?;
    let m = total.rem_euclid(12) as u32 + 1;
    let mut day = local.day();
    let date = loop {
        if let Some(d) = NaiveDate::from_ymd_opt(y, m, day) {
            break d;
        }
        if day <= 28 {
            return None;
        }
        day -= 1;
    };
    Some(zone.local_to_epoch_ms(&date.and_time(local.time())))
}

impl WindowPlan {
    fn new(w: &TimeWindow, zone: &TimeZone) -> Result<WindowPlan> {
        let (Some(s), Some(e)) = (&w.start, &w.end) else {
            return Err(Error::Unsupported(
                "GROUP BY time without a time range is not supported yet".into(),
            ));
        };
        let start = eval_time(s, zone)?;
        let end = eval_time(e, zone)?;
        if start >= end {
            return Err(Error::Semantic(
                "Start time should be smaller than endTime in GroupBy".into(),
            ));
        }
        let step = w.step.as_ref().unwrap_or(&w.interval);
        if w.interval.months < 0
            || w.interval.millis < 0
            || w.interval.months == 0 && w.interval.millis == 0
        {
            return Err(Error::Semantic(
                "The time interval should be positive.".into(),
            ));
        }
        if step.months < 0 || step.millis < 0 || step.months == 0 && step.millis == 0 {
            return Err(Error::Semantic("The time step should be positive.".into()));
        }
        let mut plan = WindowPlan {
            start,
            end,
            interval_ms: w.interval.millis,
            interval_months: w.interval.months,
            step_ms: step.millis,
            step_months: step.months,
            left_open: w.left_open,
            zone: zone.clone(),
            count: 0,
        };
        plan.count = plan.compute_count();
        Ok(plan)
    }

    /// Inclusive range of data times any window can see.
    fn data_range(&self) -> (i64, i64) {
        if self.left_open {
            (self.start.saturating_add(1), self.end)
        } else {
            (self.start, self.end - 1)
        }
    }

    fn window_start(&self, k: usize) -> Option<i64> {
        let k = k as i64;
        let base = if self.step_months != 0 {
            add_months(self.start, self.step_months.checked_mul(k)?, &self.zone)?
        } else {
            self.start
        };
        base.checked_add(self.step_ms.checked_mul(k)?)
    }

    fn compute_count(&self) -> usize {
        if self.step_months == 0 {
            let span = self.end as i128 - self.start as i128;
            let step = self.step_ms as i128;
            let n = (span + step - 1) / step;
            return n.clamp(0, usize::MAX as i128) as usize;
        }
        let before_end = |k: usize| self.window_start(k).is_some_and(|s| s < self.end);
        let mut hi = 1usize;
        while before_end(hi) {
            hi = hi.saturating_mul(2);
            if hi == usize::MAX {
                break;
            }
        }
        let mut lo = 0usize;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if before_end(mid) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn count(&self) -> usize {
        self.count
    }

    /// Window k: (start, end) with end clipped to the range end.
    fn window(&self, k: usize) -> (i64, i64) {
        let ws = self.window_start(k).unwrap_or(self.end);
        let we = add_months(ws, self.interval_months, &self.zone)
            .and_then(|t| t.checked_add(self.interval_ms))
            .unwrap_or(i64::MAX)
            .min(self.end);
        (ws, we)
    }
}

/// Aggregation rows: one per window (or a single row without GROUP BY).
struct AggStream {
    accs: Vec<Accumulator>,
    out_types: Vec<TSDataType>,
    datasets: Vec<(Arc<Vec<i64>>, Arc<Column>)>,
    windows: Option<WindowPlan>,
    n: usize,
    pos: usize,
    end: usize,
    desc: bool,
    outputs: Vec<Expr>,
}

impl ResultStream for AggStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        if self.pos >= self.end {
            return Ok(None);
        }
        let upto = self.end.min(self.pos.saturating_add(max_rows.max(1)));
        let mut times = Vec::with_capacity(upto - self.pos);
        let mut builders: Vec<ColumnBuilder> = self
            .out_types
            .iter()
            .map(|t| ColumnBuilder::new(*t, upto - self.pos))
            .collect();
        for p in self.pos..upto {
            let k = if self.desc { self.n - 1 - p } else { p };
            let (time, bounds) = match &self.windows {
                None => (0, None),
                Some(w) => {
                    let (ws, we) = w.window(k);
                    (
                        if w.left_open { we } else { ws },
                        Some((ws, we, w.left_open)),
                    )
                }
            };
            times.push(time);
            for ((acc, (ts, col)), b) in self.accs.iter_mut().zip(&self.datasets).zip(&mut builders)
            {
                acc.reset();
                let (lo, hi) = match bounds {
                    None => (0, ts.len()),
                    Some((ws, we, false)) => (
                        ts.partition_point(|&t| t < ws),
                        ts.partition_point(|&t| t < we),
                    ),
                    Some((ws, we, true)) => (
                        ts.partition_point(|&t| t <= ws),
                        ts.partition_point(|&t| t <= we),
                    ),
                };
                acc.update(ts, col, lo..hi.max(lo));
                b.push(acc.result().as_ref());
            }
        }
        self.pos = upto;
        let chunk = Chunk {
            times,
            columns: builders.into_iter().map(|b| b.finish()).collect(),
        };
        let columns = self
            .outputs
            .iter()
            .map(|e| e.eval(&chunk))
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(RowBatch {
            times: chunk.times,
            columns,
        }))
    }
}

/// SELECT LAST: the latest point of every selected series.
fn run_last(engine: &Engine, q: &QueryStatement, ctx: &SessionContext) -> Result<QueryResult> {
    let mut order_by_series: Option<bool> = None;
    for o in &q.order_by {
        match o.key {
            SortKey::Timeseries => order_by_series = Some(o.descending),
            other => {
                return Err(Error::Unsupported(format!(
                    "ORDER BY {other:?} is not supported yet in last queries"
                )))
            }
        }
    }
    let mut expander = Expander::new(engine, &q.from);
    let mut paths: Vec<PartialPath> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for c in &q.select {
        let Expression::Path(r) = &c.expr else {
            return Err(Error::Semantic(
                "Last queries can only be applied on raw time series.".into(),
            ));
        };
        for p in expander.expand_ref(r) {
            if seen.insert(p.clone()) {
                paths.push(p);
            }
        }
    }
    let range = match &q.where_clause {
        None => TimeRange::ALL,
        Some(w) => {
            if has_path(w) {
                return Err(Error::Semantic(
                    "Only time filters are supported in LAST query".into(),
                ));
            }
            let exprs = expander.expand(w)?;
            let mut conv = Converter::new(&expander, ctx.zone.clone());
            let mut acc: Option<Expr> = None;
            for e in &exprs {
                let x = conv.raw(e)?;
                acc = Some(match acc {
                    None => x,
                    Some(p) => Expr::And(Box::new(p), Box::new(x)),
                });
            }
            let (range, rest) = split_time_filter(acc);
            if rest.is_some() {
                return Err(Error::Unsupported(
                    "time filters other than AND-ed comparisons are not supported yet in LAST query"
                        .into(),
                ));
            }
            range
        }
    };
    let mut rows: Vec<(PartialPath, i64, Value)> = Vec::new();
    for p in paths {
        let Some(t) = expander.type_of(&p) else {
            continue;
        };
        let point = if range == TimeRange::ALL {
            engine.last_point(&p)?
        } else if range.is_empty() {
            None
        } else {
            let d = engine.read_series(&p, range)?;
            match (d.times.last(), d.values.len()) {
                (Some(&time), n) if n > 0 => d.values.get(n - 1).map(|v| (time, v)),
                _ => None,
            }
        };
        if let Some((time, v)) = point {
            let _ = t;
            rows.push((p, time, v));
        }
    }
    if let Some(desc) = order_by_series {
        rows.sort_by(|a, b| {
            let o = a.0.to_string().cmp(&b.0.to_string());
            if desc {
                o.reverse()
            } else {
                o
            }
        });
    }
    let mut table = TableBuilder::new(&[
        ("Timeseries", TSDataType::Text),
        ("Value", TSDataType::Text),
        ("DataType", TSDataType::Text),
    ]);
    let (offset, limit) = limit_of(q);
    let take = limit.unwrap_or(u64::MAX).min(usize::MAX as u64) as usize;
    for (p, time, v) in rows
        .into_iter()
        .skip(offset.min(usize::MAX as u64) as usize)
        .take(take)
    {
        let dt = expander.type_of(&p).unwrap_or(v.data_type());
        table.timed_row(
            time,
            vec![
                text(p.to_string()),
                text(v.to_iotdb_string()),
                text(dt.name()),
            ],
        );
    }
    Ok(table.finish(false))
}
