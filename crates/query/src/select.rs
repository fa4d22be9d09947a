//! SELECT execution: raw queries (time join, filter, projection), aggregations with or
//! without GROUP BY time windows and levels, FILL, ALIGN BY DEVICE, and last-point queries.
//!
//! A query is first planned ([`plan_query`]: wildcard expansion, typing, headers; no data is
//! read) and then opened into a stream ([`QueryPlan::open`]), so ALIGN BY DEVICE can plan every
//! device up front and read devices one after another.

use crate::agg::{Accumulator, AggKind};
use crate::analyze::{
    eval_time, has_aggregate, has_path, split_time_filter, AggSpec, Converter, Expander,
};
use crate::expr::{all_null, broadcast, selected_rows, Expr};
use crate::join::{Chunk, TimeJoin};
use crate::result::{
    append_batch, slice_batch, take_column, text, ColumnBuilder, EmptyStream, MemStream,
    QueryResult, ResultStream, TableBuilder,
};
use crate::scan::{read_slice, SlicedJoin};
use crate::SessionContext;
use chrono::{Datelike, NaiveDate};
use model::time::TimeZone;
use model::{Column, ColumnData, Error, PartialPath, Result, RowBatch, TSDataType, Value};
use sql::ast::{Expression, Fill, Literal, QueryStatement, SortKey, TimeWindow};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;
use storage::{ChunkSummary, Engine, SummaryUse, TimeRange};

/// Times and values one aggregation reads (shared between aggregations of one series).
/// One aggregation input: its points (ascending times, values) and the chunk statistics
/// that stand for points not listed (see `storage::SummarizedSeries`).
type Dataset = (Arc<Vec<i64>>, Arc<Column>, Arc<Vec<ChunkSummary>>);

/// The device, its plan, and (data column, measurement header) per display column.
type PlannedDevice = (PartialPath, QueryPlan, Vec<(usize, String)>);

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
    data_types: Vec<TSDataType>,
}

fn project(outputs: Vec<OutputColumn>) -> Projection {
    let mut p = Projection {
        columns: Vec::new(),
        types: Vec::new(),
        column_index: Vec::new(),
        exprs: Vec::new(),
        data_types: Vec::new(),
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for o in outputs {
        let idx = match seen.get(&o.key) {
            Some(&i) => i,
            None => {
                let i = p.exprs.len();
                p.exprs.push(o.expr);
                p.data_types.push(o.data_type);
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

fn clamp_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn reject_unsupported(q: &QueryStatement) -> Result<()> {
    if q.into.is_some() {
        return Err(Error::Unsupported(
            "SELECT INTO is not supported yet".into(),
        ));
    }
    if let Some(g) = &q.group_by {
        if !g.tags.is_empty() {
            return Err(Error::Unsupported(
                "GROUP BY TAGS is not supported yet".into(),
            ));
        }
    }
    Ok(())
}

/// Sort directions from ORDER BY: (time descending, device descending).
fn sort_order(q: &QueryStatement) -> Result<(bool, bool)> {
    let (mut time_desc, mut device_desc) = (false, false);
    let (mut time_seen, mut device_seen) = (false, false);
    for o in &q.order_by {
        match o.key {
            SortKey::Time if !time_seen => {
                time_seen = true;
                time_desc = o.descending;
            }
            SortKey::Device if q.align_by_device && !device_seen => {
                if time_seen {
                    return Err(Error::Unsupported(
                        "ORDER BY TIME before DEVICE is not supported yet".into(),
                    ));
                }
                device_seen = true;
                device_desc = o.descending;
            }
            SortKey::Time | SortKey::Device => {}
            other => {
                return Err(Error::Unsupported(format!(
                    "ORDER BY {other:?} is not supported yet for this query"
                )))
            }
        }
    }
    Ok((time_desc, device_desc))
}

/// Runs a SELECT.
pub fn run_query(
    engine: &Arc<Engine>,
    q: &QueryStatement,
    ctx: &SessionContext,
) -> Result<QueryResult> {
    reject_unsupported(q)?;
    if q.last {
        return run_last(engine, q, ctx);
    }
    if q.align_by_device {
        return run_align_by_device(engine, q, ctx);
    }
    let plan = plan_query(engine, q, ctx)?;
    let stream = plan.body_open(engine)?;
    Ok(QueryResult {
        columns: plan.columns,
        types: plan.types,
        ignore_timestamp: plan.ignore_timestamp,
        column_index: plan.column_index,
        stream,
    })
}

/// A planned (align-by-time) query: its header, and what to read when opened.
pub struct QueryPlan {
    /// Display column names.
    pub columns: Vec<String>,
    /// Type per display column.
    pub types: Vec<TSDataType>,
    /// Data column per display column.
    pub column_index: Vec<usize>,
    /// True when rows have no meaningful time.
    pub ignore_timestamp: bool,
    data_types: Vec<TSDataType>,
    body: Body,
    fill: Option<Fill>,
    offset: u64,
    limit: Option<u64>,
}

enum Body {
    Empty,
    Raw {
        paths: Vec<PartialPath>,
        range: TimeRange,
        filter: Option<Expr>,
        outputs: Vec<Expr>,
        desc: bool,
    },
    Agg {
        paths: Vec<PartialPath>,
        series_types: Vec<TSDataType>,
        range: TimeRange,
        residual: Option<Expr>,
        groups: Vec<AggGroup>,
        windows: Option<WindowPlan>,
        desc: bool,
        outputs: Vec<Expr>,
        having: Option<Expr>,
    },
}

/// One aggregated output: an aggregation over one or more arguments (several with GROUP BY LEVEL).
struct AggGroup {
    kind: AggKind,
    members: Vec<Expr>,
    out_type: TSDataType,
}

/// Header of a GROUP BY LEVEL column: nodes outside the kept levels become `*`
/// (root and the measurement are always kept).
fn level_path(path: &PartialPath, levels: &[usize]) -> String {
    let nodes = path.nodes();
    let last = nodes.len().saturating_sub(1);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == 0 || i == last || levels.contains(&i) {
                n.as_str()
            } else {
                "*"
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// Plans an align-by-time SELECT (no LAST, no ALIGN BY DEVICE).
pub fn plan_query(engine: &Engine, q: &QueryStatement, ctx: &SessionContext) -> Result<QueryPlan> {
    let (desc, _) = sort_order(q)?;
    let group_time = q.group_by.as_ref().and_then(|g| g.time.as_ref());
    let levels: &[usize] = q
        .group_by
        .as_ref()
        .map(|g| g.level.as_slice())
        .unwrap_or(&[]);
    let any_agg = q.select.iter().any(|c| has_aggregate(&c.expr));
    if (group_time.is_some() || !levels.is_empty()) && !any_agg {
        return Err(Error::Semantic(
            "GROUP BY requires aggregation functions in the select clause".into(),
        ));
    }
    let aggregated = any_agg;
    for c in &q.select {
        if matches!(c.expr, Expression::Time) || !has_path(&c.expr) {
            return Err(Error::Semantic(format!(
                "Each select item must read a time series; {} does not",
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
    let items: Vec<_> = items
        .into_iter()
        .skip(clamp_usize(q.soffset.unwrap_or(0)))
        .take(clamp_usize(q.slimit.unwrap_or(u64::MAX)))
        .collect();
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

    let having_exprs = match &q.having {
        None => None,
        Some(h) => {
            if !any_agg || !has_aggregate(h) {
                return Err(Error::Semantic(
                    "Expression of HAVING clause must to be an Aggregation".into(),
                ));
            }
            Some(expander.expand(h)?)
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
        outputs.push((expr, e.to_string(), alias.clone()));
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
    // Whole-series functions need every point of their input at once: only the outputs of
    // a raw query evaluate that way.
    let series_fn_misplaced = filter.as_ref().is_some_and(Expr::has_series_fn)
        || (aggregated
            && (outputs.iter().any(|(e, _, _)| e.has_series_fn())
                || conv.aggs.specs.iter().any(|s| s.arg.has_series_fn())));
    if series_fn_misplaced {
        return Err(Error::Semantic(
            "variation, selector and interval functions (difference, top_k, zero_count, …) are only allowed in the SELECT list of a raw query".into(),
        ));
    }
    if let Some(f) = &filter {
        let t = f.check_type(&conv.series.types, &conv.series.names)?;
        if !matches!(t, None | Some(TSDataType::Boolean)) {
            return Err(Error::Semantic(format!(
                "The output type of the expression in WHERE clause should be BOOLEAN, actual data type: {}.",
                t.map(|t| t.name()).unwrap_or("null")
            )));
        }
    }
    let having = match having_exprs {
        None => None,
        Some(list) if list.is_empty() => Some(Expr::Const(Value::Boolean(false), "false".into())),
        Some(list) => {
            let mut acc: Option<Expr> = None;
            for e in &list {
                let x = conv.aggregated(e)?;
                acc = Some(match acc {
                    None => x,
                    Some(prev) => Expr::And(Box::new(prev), Box::new(x)),
                });
            }
            acc
        }
    };
    let (mut range, residual) = split_time_filter(filter);
    let fill = q.fill.clone();
    let (offset, limit) = (q.offset.unwrap_or(0), q.limit);

    if !aggregated {
        let mut cols = Vec::with_capacity(outputs.len());
        for (expr, key, alias) in outputs {
            let data_type = expr
                .check_type(&conv.series.types, &conv.series.names)?
                .unwrap_or(TSDataType::Text);
            cols.push(OutputColumn {
                header: alias.unwrap_or_else(|| key.clone()),
                key,
                expr,
                data_type,
            });
        }
        let proj = project(cols);
        let body = if proj.exprs.is_empty() {
            Body::Empty
        } else {
            Body::Raw {
                paths: conv.series.paths.clone(),
                range,
                filter: residual,
                outputs: proj.exprs,
                desc,
            }
        };
        return Ok(QueryPlan {
            columns: proj.columns,
            types: proj.types,
            column_index: proj.column_index,
            ignore_timestamp: false,
            data_types: proj.data_types,
            body,
            fill,
            offset,
            limit,
        });
    }

    // Aggregation: group the aggregations (by level if asked), then build the outputs.
    let specs: Vec<AggSpec> = conv.aggs.specs.clone();
    let mut groups: Vec<AggGroup> = Vec::new();
    let mut group_names: Vec<String> = Vec::new();
    let mut spec_group: Vec<usize> = Vec::with_capacity(specs.len());
    if levels.is_empty() {
        for s in &specs {
            spec_group.push(groups.len());
            group_names.push(s.display.clone());
            groups.push(AggGroup {
                kind: s.kind,
                members: vec![s.arg.clone()],
                out_type: s.out_type,
            });
        }
    } else {
        let mut index: HashMap<String, (usize, TSDataType)> = HashMap::new();
        for s in &specs {
            let Expr::Input(i) = s.arg else {
                return Err(Error::Semantic(
                    "GROUP BY LEVEL only supports aggregations of raw time series".into(),
                ));
            };
            let path = conv
                .series
                .paths
                .get(i)
                .ok_or_else(|| Error::internal("series input out of range"))?;
            let name = format!("{}({})", s.name, level_path(path, levels));
            match index.get(&name) {
                Some(&(g, t)) => {
                    let strict = !matches!(
                        s.kind,
                        AggKind::Count
                            | AggKind::FirstValue
                            | AggKind::LastValue
                            | AggKind::MaxTime
                            | AggKind::MinTime
                    );
                    if strict && t != s.in_type {
                        return Err(Error::Semantic(format!(
                            "GROUP BY LEVEL: the series aggregated into {name} have different data types ({} and {})",
                            t.name(),
                            s.in_type.name()
                        )));
                    }
                    groups[g].members.push(s.arg.clone());
                    spec_group.push(g);
                }
                None => {
                    let g = groups.len();
                    index.insert(name.clone(), (g, s.in_type));
                    group_names.push(name);
                    groups.push(AggGroup {
                        kind: s.kind,
                        members: vec![s.arg.clone()],
                        out_type: s.out_type,
                    });
                    spec_group.push(g);
                }
            }
        }
    }
    let group_types: Vec<TSDataType> = groups.iter().map(|g| g.out_type).collect();
    let mut cols = Vec::with_capacity(outputs.len());
    // With GROUP BY LEVEL, the series merged into one group give one column.
    let mut level_seen = std::collections::HashSet::new();
    for (expr, key, alias) in outputs {
        let (expr, key) = if levels.is_empty() {
            (expr, key)
        } else {
            // Read the merged groups instead of the single aggregations; outputs that become
            // the same expression over the groups give one column.
            let e = remap_inputs(expr, &spec_group)?;
            let key = e.display(&group_names);
            if !level_seen.insert((key.clone(), alias.clone())) {
                continue;
            }
            (e, key)
        };
        let data_type = expr
            .check_type(&group_types, &group_names)?
            .unwrap_or(TSDataType::Text);
        cols.push(OutputColumn {
            header: alias.unwrap_or_else(|| key.clone()),
            key,
            expr,
            data_type,
        });
    }
    let proj = project(cols);
    let having = match having {
        None => None,
        Some(h) => {
            let h = if levels.is_empty() {
                h
            } else {
                remap_inputs(h, &spec_group)?
            };
            let t = h.check_type(&group_types, &group_names)?;
            if !matches!(t, None | Some(TSDataType::Boolean)) {
                return Err(Error::Semantic(format!(
                    "The output type of the expression in HAVING clause should be BOOLEAN, actual data type: {}.",
                    t.map(|t| t.name()).unwrap_or("null")
                )));
            }
            Some(h)
        }
    };
    let windows = match group_time {
        Some(w) => {
            let plan = WindowPlan::new(w, &ctx.zone)?;
            let (lo, hi) = plan.data_range();
            range.start = range.start.max(lo);
            range.end = range.end.min(hi);
            Some(plan)
        }
        None => None,
    };
    // An aggregation without any output column (nothing matched) still has IoTDB's time
    // column, like an empty raw query.
    let ignore_timestamp = windows.is_none() && !proj.exprs.is_empty();
    let body = if proj.exprs.is_empty() {
        Body::Empty
    } else {
        Body::Agg {
            paths: conv.series.paths.clone(),
            series_types: conv.series.types.clone(),
            range,
            residual,
            groups,
            windows,
            desc,
            outputs: proj.exprs,
            having,
        }
    };
    Ok(QueryPlan {
        columns: proj.columns,
        types: proj.types,
        column_index: proj.column_index,
        ignore_timestamp,
        data_types: proj.data_types,
        body,
        fill,
        offset,
        limit,
    })
}

impl QueryPlan {
    /// Reads the data and returns the row stream (FILL, OFFSET and LIMIT applied).
    fn body_open(&self, engine: &Arc<Engine>) -> Result<Box<dyn ResultStream>> {
        self.open_with(engine, self.offset, self.limit)
    }

    fn open_with(
        &self,
        engine: &Arc<Engine>,
        offset: u64,
        limit: Option<u64>,
    ) -> Result<Box<dyn ResultStream>> {
        // With FILL, rows are filled before OFFSET/LIMIT pick from them; with HAVING,
        // rows are filtered first.
        let has_having = matches!(
            &self.body,
            Body::Agg {
                having: Some(_),
                ..
            }
        );
        let (inner_offset, inner_limit) = if self.fill.is_some() || has_having {
            (0, None)
        } else {
            (offset, limit)
        };
        let inner: Box<dyn ResultStream> = match &self.body {
            Body::Empty => return Ok(Box::new(EmptyStream)),
            Body::Raw {
                paths,
                range,
                filter,
                outputs,
                desc,
            } => Box::new(RawStream {
                join: SlicedJoin::new(engine.clone(), paths.clone(), *range, *desc)?.with_prune(
                    match filter {
                        // series functions (diff, …) see every point: nothing is pruned
                        Some(f)
                            if !f.has_series_fn() && !outputs.iter().any(Expr::has_series_fn) =>
                        {
                            prune_predicates(f, paths.len())?
                        }
                        _ => Vec::new(),
                    },
                ),
                filter: filter.clone(),
                whole_series: outputs.iter().any(Expr::has_series_fn),
                outputs: outputs.clone(),
                offset: inner_offset,
                limit: inner_limit,
                pending: None,
            }),
            Body::Agg {
                paths,
                series_types,
                range,
                residual,
                groups,
                windows,
                desc,
                outputs,
                having,
            } => Box::new(open_aggregation(
                engine,
                paths,
                series_types,
                *range,
                residual.as_ref(),
                groups,
                windows.clone(),
                *desc,
                outputs.clone(),
                having.clone(),
                inner_offset,
                inner_limit,
            )?),
        };
        Ok(match &self.fill {
            None if has_having => Box::new(LimitStream::new(inner, offset, limit)),
            None => inner,
            Some(fill) => {
                let filled = fill_stream(inner, fill, &self.data_types)?;
                Box::new(LimitStream::new(filled, offset, limit))
            }
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn open_aggregation(
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
    let source = if direct {
        // Raw series in: read slice by slice (bounded memory), flushed chunks and pages
        // answered from statistics where they can be (see `read_agg_slice`).
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
        if !range.is_empty() {
            for p in paths {
                spans.extend(engine.series_spans(p, range)?);
            }
        }
        let mut slices: VecDeque<TimeRange> =
            crate::scan::plan_slices(&spans, range, crate::scan::slice_points()).into();
        if desc {
            slices.make_contiguous().reverse();
        }
        AggSource::Sliced(Box::new(SlicedAgg {
            engine: engine.clone(),
            paths: paths.to_vec(),
            members,
            residual: residual.cloned(),
            slices,
            wanted,
            open: BTreeMap::new(),
            last: None,
        }))
    } else {
        let data = read_slice(engine, paths, range)?;
        let mut join = TimeJoin::new(data, false);
        let mut joined = join.next_chunk(usize::MAX).unwrap_or_default();
        if joined.columns.len() != paths.len() {
            joined.columns = series_types
                .iter()
                .map(|t| Column::new(ColumnData::empty(*t)))
                .collect();
        }
        if let Some(f) = residual {
            let keep = selected_rows(&f.eval(&joined)?);
            joined = joined.take(&keep);
        }
        let times = Arc::new(joined.times.clone());
        let no_summaries = Arc::new(Vec::new());
        let mut datasets: Vec<Vec<Dataset>> = Vec::with_capacity(groups.len());
        for g in groups {
            let mut ds = Vec::with_capacity(g.members.len());
            for m in &g.members {
                ds.push((
                    times.clone(),
                    Arc::new(m.eval(&joined)?),
                    no_summaries.clone(),
                ));
            }
            datasets.push(ds);
        }
        AggSource::Whole(datasets)
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

/// Per input series, the conjuncts of `filter` (split at top-level ANDs) that read that
/// series alone, rewritten over `Input(0)` and AND-ed: what a row must satisfy for that
/// series, so that its flushed chunks and pages can be pruned by their statistics.
fn prune_predicates(filter: &Expr, n: usize) -> Result<Vec<Option<Expr>>> {
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
    let mut out: Vec<Option<Expr>> = vec![None; n];
    for c in parts {
        let mut used = Vec::new();
        c.inputs(&mut used);
        used.sort_unstable();
        used.dedup();
        let [i] = used[..] else { continue };
        if i >= n {
            continue;
        }
        let mut map = vec![0; n];
        map[i] = 0;
        let e = remap_inputs(c.clone(), &map)?;
        out[i] = Some(match out[i].take() {
            None => e,
            Some(p) => Expr::And(Box::new(p), Box::new(e)),
        });
    }
    Ok(out)
}

/// Rewrites `Input(i)` to `Input(map[i])`.
fn remap_inputs(e: Expr, map: &[usize]) -> Result<Expr> {
    let r = |x: Box<Expr>| remap_inputs(*x, map).map(Box::new);
    Ok(match e {
        Expr::Input(i) => Expr::Input(
            *map.get(i)
                .ok_or_else(|| Error::internal("aggregation out of range"))?,
        ),
        Expr::Time | Expr::Const(..) | Expr::Null => e,
        Expr::Neg(x) => Expr::Neg(r(x)?),
        Expr::Not(x) => Expr::Not(r(x)?),
        Expr::Arith(op, a, b) => Expr::Arith(op, r(a)?, r(b)?),
        Expr::Cmp(op, a, b) => Expr::Cmp(op, r(a)?, r(b)?),
        Expr::And(a, b) => Expr::And(r(a)?, r(b)?),
        Expr::Or(a, b) => Expr::Or(r(a)?, r(b)?),
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => Expr::Between {
            expr: r(expr)?,
            low: r(low)?,
            high: r(high)?,
            negated,
        },
        Expr::In {
            expr,
            list,
            negated,
        } => Expr::In {
            expr: r(expr)?,
            list,
            negated,
        },
        Expr::IsNull { expr, negated } => Expr::IsNull {
            expr: r(expr)?,
            negated,
        },
        Expr::Like { expr, re, negated } => Expr::Like {
            expr: r(expr)?,
            re,
            negated,
        },
        Expr::Regexp {
            expr,
            re,
            text,
            negated,
        } => Expr::Regexp {
            expr: r(expr)?,
            re,
            text,
            negated,
        },
        Expr::Math(f, name, x) => Expr::Math(f, name, r(x)?),
        Expr::Cast(x, t) => Expr::Cast(r(x)?, t),
        Expr::Series(f, name, attrs, x) => Expr::Series(f, name, attrs, r(x)?),
        Expr::Row(f, name, attrs, args) => Expr::Row(
            f,
            name,
            attrs,
            args.into_iter()
                .map(|a| remap_inputs(a, map))
                .collect::<Result<Vec<_>>>()?,
        ),
    })
}

// ------------------------------------------------------------------ OFFSET/LIMIT and FILL

/// Skips `offset` rows, then passes at most `limit` rows.
struct LimitStream {
    inner: Box<dyn ResultStream>,
    offset: u64,
    limit: Option<u64>,
}

impl LimitStream {
    fn new(inner: Box<dyn ResultStream>, offset: u64, limit: Option<u64>) -> Self {
        LimitStream {
            inner,
            offset,
            limit,
        }
    }
}

impl ResultStream for LimitStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        loop {
            if self.limit == Some(0) {
                return Ok(None);
            }
            let want = match self.limit {
                Some(l) => clamp_usize(l).min(max_rows.max(1)),
                None => max_rows.max(1),
            };
            let Some(b) = self.inner.next_batch(want)? else {
                return Ok(None);
            };
            let n = b.len();
            let skip = clamp_usize(self.offset).min(n);
            self.offset -= skip as u64;
            let mut take = n - skip;
            if let Some(l) = self.limit.as_mut() {
                take = take.min(clamp_usize(*l));
                *l -= take as u64;
            }
            if take == 0 {
                continue;
            }
            return Ok(Some(if skip == 0 && take == n {
                b
            } else {
                slice_batch(&b, skip..skip + take)
            }));
        }
    }
}

/// The value a FILL constant gives a column of type `t`, if the types are compatible.
fn fill_constant(l: &Literal, t: TSDataType) -> Option<Value> {
    use TSDataType as T;
    let txt = |s: String| Some(Value::Text(s.into_bytes()));
    match (l, t.physical()) {
        (Literal::Boolean(b), T::Boolean) => Some(Value::Boolean(*b)),
        (Literal::Boolean(b), T::Text) => txt(b.to_string()),
        (Literal::Integer(v), T::Int32) => i32::try_from(*v).ok().map(Value::Int32),
        (Literal::Integer(v), T::Int64) => Some(Value::Int64(*v)),
        (Literal::Integer(v), T::Float) => Some(Value::Float(*v as f32)),
        (Literal::Integer(v), T::Double) => Some(Value::Double(*v as f64)),
        (Literal::Integer(v), T::Text) => txt(v.to_string()),
        (Literal::Float(v, _), T::Float) => Some(Value::Float(*v as f32)),
        (Literal::Float(v, _), T::Double) => Some(Value::Double(*v)),
        (Literal::Float(_, s), T::Text) => txt(s.clone()),
        (Literal::NaN, T::Float) => Some(Value::Float(f32::NAN)),
        (Literal::NaN, T::Double) => Some(Value::Double(f64::NAN)),
        (Literal::NaN, T::Text) => txt("NaN".into()),
        (Literal::String(s), T::Text) => txt(s.clone()),
        _ => None,
    }
}

fn fill_stream(
    inner: Box<dyn ResultStream>,
    fill: &Fill,
    types: &[TSDataType],
) -> Result<Box<dyn ResultStream>> {
    Ok(match fill {
        Fill::Previous => Box::new(PreviousFill {
            inner,
            last: vec![None; types.len()],
            within: None,
        }),
        Fill::PreviousWithin(iv) => {
            if iv.months != 0 {
                return Err(Error::Unsupported(
                    "FILL(PREVIOUS, …) with a calendar-month bound is not supported yet".into(),
                ));
            }
            Box::new(PreviousFill {
                inner,
                last: vec![None; types.len()],
                within: Some(iv.millis),
            })
        }
        Fill::Constant(l) => {
            if matches!(
                l,
                Literal::Null | Literal::DateTime(_) | Literal::Now | Literal::Duration(_)
            ) {
                return Err(Error::Semantic(format!(
                    "Unsupported constant in FILL: {}",
                    crate::analyze::literal_text(l)
                )));
            }
            Box::new(ConstantFill {
                inner,
                values: types.iter().map(|t| fill_constant(l, *t)).collect(),
            })
        }
        Fill::Linear => {
            let mut inner = inner;
            let mut all: Option<RowBatch> = None;
            while let Some(b) = inner.next_batch(4096)? {
                match all.as_mut() {
                    None => all = Some(b),
                    Some(a) => append_batch(a, &b),
                }
            }
            let mut all = all.unwrap_or_default();
            linear_fill(&mut all);
            Box::new(MemStream::new(all))
        }
    })
}

/// Replaces nulls of column `c` at rows `rows` by `v`.
fn set_cells(col: &mut Column, rows: &[(usize, Value)]) {
    if rows.is_empty() {
        return;
    }
    let mut b = ColumnBuilder::new(col.data.data_type(), col.len());
    let mut it = rows.iter().peekable();
    for i in 0..col.len() {
        match it.peek() {
            Some((r, v)) if *r == i => {
                b.push(Some(v));
                it.next();
            }
            _ => b.push(col.value(i).as_ref()),
        }
    }
    *col = b.finish();
}

struct PreviousFill {
    inner: Box<dyn ResultStream>,
    /// Per column the last value seen and its time.
    last: Vec<Option<(i64, Value)>>,
    /// Fill only from values at most this many milliseconds older than the row.
    within: Option<i64>,
}

impl ResultStream for PreviousFill {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let Some(mut b) = self.inner.next_batch(max_rows)? else {
            return Ok(None);
        };
        for (c, col) in b.columns.iter_mut().enumerate() {
            let Some(last) = self.last.get_mut(c) else {
                continue;
            };
            let mut cells = Vec::new();
            for i in 0..col.len() {
                let t = b.times.get(i).copied().unwrap_or(0);
                match col.value(i) {
                    Some(v) => *last = Some((t, v)),
                    None => {
                        if let Some((lt, v)) = last.as_ref() {
                            if self
                                .within
                                .is_none_or(|w| t.abs_diff(*lt) <= w.unsigned_abs())
                            {
                                cells.push((i, v.clone()));
                            }
                        }
                    }
                }
            }
            set_cells(col, &cells);
        }
        Ok(Some(b))
    }
}

struct ConstantFill {
    inner: Box<dyn ResultStream>,
    values: Vec<Option<Value>>,
}

impl ResultStream for ConstantFill {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let Some(mut b) = self.inner.next_batch(max_rows)? else {
            return Ok(None);
        };
        for (c, col) in b.columns.iter_mut().enumerate() {
            if let Some(Some(v)) = self.values.get(c) {
                let cells: Vec<(usize, Value)> = (0..col.len())
                    .filter(|&i| col.is_null(i))
                    .map(|i| (i, v.clone()))
                    .collect();
                set_cells(col, &cells);
            }
        }
        Ok(Some(b))
    }
}

/// Linear interpolation by time between the nearest non-null neighbours (numeric columns).
fn linear_fill(b: &mut RowBatch) {
    let times = b.times.clone();
    for col in &mut b.columns {
        let t = col.data.data_type();
        if !t.is_numeric() {
            continue;
        }
        let known: Vec<(usize, f64)> = (0..col.len())
            .filter_map(|i| col.value(i).and_then(|v| v.as_f64()).map(|x| (i, x)))
            .collect();
        let mut cells = Vec::new();
        for w in known.windows(2) {
            let ((i0, v0), (i1, v1)) = (w[0], w[1]);
            for i in i0 + 1..i1 {
                let (t0, t1, ti) = (times[i0] as f64, times[i1] as f64, times[i] as f64);
                let x = if t1 == t0 {
                    v0
                } else {
                    v0 + (v1 - v0) * (ti - t0) / (t1 - t0)
                };
                let v = match t {
                    TSDataType::Int32 => Value::Int32(x as i32),
                    TSDataType::Int64 => Value::Int64(x as i64),
                    TSDataType::Float => Value::Float(x as f32),
                    _ => Value::Double(x),
                };
                cells.push((i, v));
            }
        }
        set_cells(col, &cells);
    }
}

// ------------------------------------------------------------------ ALIGN BY DEVICE

fn run_align_by_device(
    engine: &Arc<Engine>,
    q: &QueryStatement,
    ctx: &SessionContext,
) -> Result<QueryResult> {
    let (_, device_desc) = sort_order(q)?;
    let mut devices: Vec<PartialPath> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &q.from {
        for d in engine.devices(p) {
            if seen.insert(d.path.clone()) {
                devices.push(d.path);
            }
        }
    }
    devices.sort_by_key(|d| d.to_string());
    if device_desc {
        devices.reverse();
    }
    for c in &q.select {
        if c.expr.has_full_path() {
            return Err(Error::Semantic(
                "ALIGN BY DEVICE: the paths in the SELECT clause can only be measurements or wildcards"
                    .into(),
            ));
        }
    }
    let mut sub = q.clone();
    sub.align_by_device = false;
    sub.limit = None;
    sub.offset = None;
    sub.slimit = None;
    sub.soffset = None;
    sub.order_by.retain(|o| o.key == SortKey::Time);
    // Plan every device. The measurement columns are collected over the devices in the
    // iteration order of IoTDB 1.0's device set (a Java HashSet of the device paths), each
    // device contributing its columns in its own order; SLIMIT/SOFFSET then pick among them,
    // and only the kept columns must agree on their type across devices.
    let mut plans: Vec<PlannedDevice> = Vec::new();
    let mut ignore_timestamp = None;
    for d in devices {
        sub.from = vec![d.to_pattern()];
        let plan = plan_query(engine, &sub, ctx)?;
        if plan.columns.is_empty() {
            continue;
        }
        ignore_timestamp.get_or_insert(plan.ignore_timestamp);
        let prefix = format!("{d}.");
        let cols: Vec<(usize, String)> = plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (plan.column_index[i], c.replace(&prefix, "")))
            .collect();
        plans.push((d, plan, cols));
    }
    // ORDER BY DEVICE came after IoTDB 1.0; with it, columns follow the output device order
    // (IoTDB 2.0's rule).
    let column_order: Vec<usize> = if q.order_by.iter().any(|o| o.key == SortKey::Device) {
        (0..plans.len()).collect()
    } else {
        let mut device_set: model::javahash::JavaHashMap<usize> =
            model::javahash::JavaHashMap::new();
        for (i, (d, _, _)) in plans.iter().enumerate() {
            device_set.insert(d.to_string(), i);
        }
        device_set.values().copied().collect()
    };
    let mut headers: Vec<String> = Vec::new();
    let mut header_types: Vec<TSDataType> = Vec::new();
    let mut header_conflict: Vec<Option<TSDataType>> = Vec::new();
    let mut header_index: HashMap<String, usize> = HashMap::new();
    for &pi in &column_order {
        let (_, plan, _) = &plans[pi];
        let prefix = format!("{}.", plans[pi].0);
        for (i, c) in plan.columns.iter().enumerate() {
            let h = c.replace(&prefix, "");
            let t = plan.types[i];
            match header_index.get(&h) {
                Some(&j) => {
                    if header_types[j] != t && header_conflict[j].is_none() {
                        header_conflict[j] = Some(t);
                    }
                }
                None => {
                    header_index.insert(h.clone(), headers.len());
                    headers.push(h);
                    header_types.push(t);
                    header_conflict.push(None);
                }
            }
        }
    }
    // SLIMIT/SOFFSET pick among the measurement columns.
    let keep: Vec<usize> = (0..headers.len())
        .skip(clamp_usize(q.soffset.unwrap_or(0)))
        .take(clamp_usize(q.slimit.unwrap_or(u64::MAX)))
        .collect();
    for &j in &keep {
        if let Some(other) = header_conflict[j] {
            return Err(Error::Semantic(format!(
                "ALIGN BY DEVICE: the data types of the same measurement column {} should be the same across devices ({} and {})",
                headers[j],
                header_types[j].name(),
                other.name()
            )));
        }
    }
    // Nothing matched in any device: IoTDB answers with the time column alone.
    let (mut columns, mut types) = if headers.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (vec!["Device".to_string()], vec![TSDataType::Text])
    };
    let mut global: HashMap<String, usize> = HashMap::new();
    for &j in &keep {
        global.insert(headers[j].clone(), columns.len());
        columns.push(headers[j].clone());
        types.push(header_types[j]);
    }
    // A device none of whose columns survived SLIMIT/SOFFSET is left out.
    let pending: VecDeque<DevicePlan> = plans
        .into_iter()
        .filter_map(|(d, plan, cols)| {
            let mut mapping = vec![None; columns.len()];
            let total = cols.len();
            for (data_col, h) in cols {
                if let Some(&g) = global.get(&h) {
                    mapping[g] = Some(data_col);
                }
            }
            let kept = mapping.iter().filter(|m| m.is_some()).count();
            (kept > 0).then(|| DevicePlan {
                device: d.to_string(),
                plan,
                mapping,
                partial: kept < total,
            })
        })
        .collect();
    let stream = DeviceStream {
        engine: engine.clone(),
        pending,
        current: None,
        types: types.clone(),
    };
    let column_index = (0..columns.len()).collect();
    Ok(QueryResult {
        columns,
        types,
        ignore_timestamp: ignore_timestamp.unwrap_or(false),
        column_index,
        stream: Box::new(LimitStream::new(
            Box::new(stream),
            q.offset.unwrap_or(0),
            q.limit,
        )),
    })
}

/// A device being read: name, rows, column mapping and `partial` (as in [`DevicePlan`]).
type OpenDevice = (String, Box<dyn ResultStream>, Vec<Option<usize>>, bool);

struct DevicePlan {
    device: String,
    plan: QueryPlan,
    /// For each output column (0 = Device): the device result's data column, if it has one.
    mapping: Vec<Option<usize>>,
    /// SLIMIT/SOFFSET dropped some of the device's columns: rows that have no value in the
    /// kept ones are left out (they only exist because of the dropped columns).
    partial: bool,
}

/// Rows of each device in turn, with the Device column in front.
struct DeviceStream {
    engine: Arc<Engine>,
    pending: VecDeque<DevicePlan>,
    current: Option<OpenDevice>,
    types: Vec<TSDataType>,
}

impl ResultStream for DeviceStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        loop {
            if self.current.is_none() {
                let Some(next) = self.pending.pop_front() else {
                    return Ok(None);
                };
                let stream = next.plan.open_with(&self.engine, 0, None)?;
                self.current = Some((next.device, stream, next.mapping, next.partial));
            }
            let Some((device, stream, mapping, partial)) = self.current.as_mut() else {
                continue;
            };
            let Some(mut b) = stream.next_batch(max_rows)? else {
                self.current = None;
                continue;
            };
            if *partial {
                let kept: Vec<usize> = (0..b.len())
                    .filter(|&r| {
                        mapping
                            .iter()
                            .flatten()
                            .any(|&c| b.columns.get(c).is_some_and(|col| !col.is_null(r)))
                    })
                    .collect();
                if kept.is_empty() {
                    continue;
                }
                if kept.len() != b.len() {
                    b = RowBatch {
                        times: kept.iter().map(|&r| b.times[r]).collect(),
                        columns: b.columns.iter().map(|c| take_column(c, &kept)).collect(),
                    };
                }
            }
            let n = b.len();
            let mut columns = Vec::with_capacity(self.types.len());
            columns.push(broadcast(&Value::Text(device.as_bytes().to_vec()), n));
            for (g, t) in self.types.iter().enumerate().skip(1) {
                columns.push(match mapping.get(g).copied().flatten() {
                    Some(c) => b.columns.get(c).cloned().unwrap_or_else(|| all_null(*t, n)),
                    None => all_null(*t, n),
                });
            }
            return Ok(Some(RowBatch {
                times: b.times,
                columns,
            }));
        }
    }
}

/// Raw query rows: time join → filter → projection → offset/limit. With whole-series
/// functions among the outputs, the whole filtered join is read into one chunk first (those
/// functions need every point), and only rows where some output has a value are kept (their
/// outputs are point sets of their own, as in IoTDB).
struct RawStream {
    join: SlicedJoin,
    filter: Option<Expr>,
    whole_series: bool,
    outputs: Vec<Expr>,
    offset: u64,
    limit: Option<u64>,
    /// Rows produced beyond what the previous call could return.
    pending: Option<RowBatch>,
}

impl RawStream {
    fn filtered(&self, chunk: Chunk) -> Result<Chunk> {
        let Some(f) = &self.filter else {
            return Ok(chunk);
        };
        let keep = selected_rows(&f.eval(&chunk)?);
        Ok(if keep.len() != chunk.len() {
            chunk.take(&keep)
        } else {
            chunk
        })
    }

    /// The whole remaining filtered join as one chunk (`None` once it has been read).
    fn whole_chunk(&mut self) -> Result<Option<Chunk>> {
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
    fn produce(&mut self, want: usize) -> Result<Option<RowBatch>> {
        loop {
            if self.limit == Some(0) || self.outputs.is_empty() {
                return Ok(None);
            }
            let chunk = if self.whole_series {
                match self.whole_chunk()? {
                    Some(c) => c,
                    None => return Ok(None),
                }
            } else {
                let Some(chunk) = self.join.next_chunk(want.max(MIN_JOIN_ROWS))? else {
                    return Ok(None);
                };
                self.filtered(chunk)?
            };
            let cols = self
                .outputs
                .iter()
                .map(|e| e.eval(&chunk))
                .collect::<Result<Vec<_>>>()?;
            // Every time of the joined series survives, even when all outputs are null there
            // (`SELECT a + b` where only `a` has a value, `SELECT i … WHERE d < 0` where `i`
            // has none): IoTDB 1.0 does not drop such rows.
            let mut keep: Vec<usize> = if self.whole_series {
                (0..chunk.len())
                    .filter(|&r| cols.iter().any(|c| !c.is_null(r)))
                    .collect()
            } else {
                (0..chunk.len()).collect()
            };
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

/// GROUP BY time windows.
#[derive(Clone)]
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

    /// True if the windows do not overlap and one of them holds every time in `[s, e]`, so
    /// a chunk spanning exactly that can be aggregated from its statistics.
    fn holds(&self, s: i64, e: i64) -> bool {
        let disjoint = (self.interval_months == 0
            && self.step_months == 0
            && self.step_ms >= self.interval_ms)
            || (self.step_months == self.interval_months && self.step_ms == self.interval_ms);
        if !disjoint || s > e {
            return false;
        }
        // the last window starting at or before s (after s, when left-open)
        let (mut lo, mut hi) = (0usize, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let ws = self.window(mid).0;
            if ws < s || (!self.left_open && ws == s) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo == 0 {
            return false;
        }
        let (ws, we) = self.window(lo - 1);
        if self.left_open {
            ws < s && e <= we
        } else {
            ws <= s && e < we
        }
    }

    /// Window k: (start, end) with end clipped to the range end.
    fn window(&self, k: usize) -> (i64, i64) {
        let ws = self.window_start(k).unwrap_or(self.end);
        let we = if self.step_months == 0 && self.interval_months == 0 {
            ws.checked_add(self.interval_ms)
        } else {
            // Calendar windows are anchored on the range start, so a clamped month end
            // (Jan 31 → Feb 28) does not shift later windows.
            let kk = i64::try_from(k).ok();
            kk.and_then(|kk| {
                self.step_months
                    .checked_mul(kk)?
                    .checked_add(self.interval_months)
            })
            .and_then(|m| add_months(self.start, m, &self.zone))
            .and_then(|t| t.checked_add(self.step_ms.checked_mul(kk?)?))
            .and_then(|t| t.checked_add(self.interval_ms))
        };
        (ws, we.unwrap_or(i64::MAX).min(self.end))
    }
}

/// Aggregation rows: one per window (or a single row without GROUP BY).
struct AggStream {
    /// One accumulator per aggregated output (the template for each window's).
    accs: Vec<Accumulator>,
    out_types: Vec<TSDataType>,
    source: AggSource,
    windows: Option<WindowPlan>,
    n: usize,
    pos: usize,
    end: usize,
    desc: bool,
    outputs: Vec<Expr>,
    having: Option<Expr>,
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
    fn next_windows(&mut self, max_rows: usize) -> Result<RowBatch> {
        let upto = self.end.min(self.pos.saturating_add(max_rows.max(1)));
        let mut times = Vec::with_capacity(upto - self.pos);
        let mut builders: Vec<ColumnBuilder> = self
            .out_types
            .iter()
            .map(|t| ColumnBuilder::new(*t, upto - self.pos))
            .collect();
        for p in self.pos..upto {
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
            let k_bounds = window_bounds(self.windows.as_ref(), k);
            match &mut self.source {
                AggSource::Whole(datasets) => {
                    for ((acc, sets), b) in
                        self.accs.iter_mut().zip(datasets.iter()).zip(&mut builders)
                    {
                        acc.reset();
                        for (ts, col, sums) in sets {
                            feed(acc, ts, col, sums, k_bounds);
                        }
                        b.push(acc.result().as_ref());
                    }
                }
                AggSource::Sliced(src) => {
                    let accs = src.window(k, self.windows.as_ref(), self.n, &self.accs)?;
                    for (acc, b) in accs.iter().zip(&mut builders) {
                        b.push(acc.result().as_ref());
                    }
                }
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

/// The inclusive time bounds of window `k` (everything without GROUP BY).
fn window_bounds(windows: Option<&WindowPlan>, k: usize) -> (i64, i64) {
    match windows {
        None => (i64::MIN, i64::MAX),
        Some(w) => {
            let (ws, we) = w.window(k);
            if w.left_open {
                (ws.saturating_add(1), we)
            } else {
                (ws, we.saturating_sub(1))
            }
        }
    }
}

/// Adds to `acc` the points of `ts`/`col` and the summaries of `sums` inside `[lo, hi]`
/// (summaries lie wholly inside one window, see `WindowPlan::holds`).
fn feed(
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

/// Where an aggregation's points come from.
enum AggSource {
    /// Everything read up front (aggregations of expressions, or filtered across series):
    /// per aggregated output, the (times, values, summaries) it reads.
    Whole(Vec<Vec<Dataset>>),
    /// Raw series read slice by slice while the windows advance.
    Sliced(Box<SlicedAgg>),
}

/// Aggregation of raw series over time slices: each slice is read once (statistics where
/// they answer, see `SummaryUse`), its points fed to the windows it overlaps, and a window
/// is finished as soon as no later slice can reach it. Memory: one slice plus the
/// accumulators of the windows still open, whatever the number of windows or points.
struct SlicedAgg {
    engine: Arc<Engine>,
    paths: Vec<PartialPath>,
    /// Per aggregated output, the series (indexes into `paths`) it reads.
    members: Vec<Vec<usize>>,
    /// Filter on the single series read, applied to decoded points.
    residual: Option<Expr>,
    /// Slices not read yet, in processing order (descending with ORDER BY TIME DESC).
    slices: VecDeque<TimeRange>,
    /// The windows to compute (OFFSET/LIMIT drop the others).
    wanted: std::ops::Range<usize>,
    /// Accumulators of windows touched by a slice and not handed out yet.
    open: BTreeMap<usize, Vec<Accumulator>>,
    /// The last slice read (`None` before the first).
    last: Option<TimeRange>,
}

impl SlicedAgg {
    /// The finished accumulators of window `k` (fresh ones if no point fell into it),
    /// reading slices until no unread slice can touch the window.
    fn window(
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

    /// Reads the next slice and feeds it to every window it overlaps.
    fn read_next(
        &mut self,
        windows: Option<&WindowPlan>,
        n: usize,
        template: &[Accumulator],
    ) -> Result<()> {
        let Some(slice) = self.slices.pop_front() else {
            return Ok(());
        };
        // with a second core, the following slice is read (decoded) meanwhile on another
        // thread; points are still fed in slice order
        let ahead = match self.slices.front() {
            Some(_) if crate::scan::read_ahead() => self.slices.pop_front(),
            _ => None,
        };
        let read = |slice: TimeRange| -> Result<Vec<Dataset>> {
            self.paths
                .iter()
                .map(|p| read_agg_slice(&self.engine, p, slice, windows, self.residual.as_ref()))
                .collect()
        };
        let (data, next) = match ahead {
            None => (read(slice)?, None),
            Some(next) => std::thread::scope(|sc| {
                let other = sc.spawn(|| read(next));
                let here = read(slice);
                let there = other
                    .join()
                    .map_err(|_| Error::internal("slice reader panicked"))?;
                Ok::<_, Error>((here?, Some((next, there?))))
            })?,
        };
        self.feed_slice(slice, data, windows, n, template)?;
        if let Some((next, data)) = next {
            self.feed_slice(next, data, windows, n, template)?;
        }
        Ok(())
    }

    /// Feeds the points of one slice (per path, in `paths` order) to every wanted window
    /// it overlaps.
    fn feed_slice(
        &mut self,
        slice: TimeRange,
        data: Vec<Dataset>,
        windows: Option<&WindowPlan>,
        n: usize,
        template: &[Accumulator],
    ) -> Result<()> {
        self.last = Some(slice);
        // the first window reaching into the slice (window ends ascend with k)
        let (mut a, mut b) = (0usize, n);
        while a < b {
            let mid = a + (b - a) / 2;
            if window_bounds(windows, mid).1 < slice.start {
                a = mid + 1;
            } else {
                b = mid;
            }
        }
        for k in a.max(self.wanted.start)..n.min(self.wanted.end) {
            let bounds = window_bounds(windows, k);
            if bounds.0 > slice.end {
                break;
            }
            let accs = self.open.entry(k).or_insert_with(|| fresh(template));
            for (acc, members) in accs.iter_mut().zip(&self.members) {
                for &i in members {
                    let (ts, col, sums) = data
                        .get(i)
                        .ok_or_else(|| Error::internal("aggregation input out of range"))?;
                    feed(acc, ts, col, sums, bounds);
                }
            }
        }
        Ok(())
    }
}

/// Fresh accumulators of the same kinds as `template`.
fn fresh(template: &[Accumulator]) -> Vec<Accumulator> {
    template
        .iter()
        .map(|a| Accumulator::new(a.kind()))
        .collect()
}

/// One raw series over one slice, for aggregation: clean chunks and pages that fit a window
/// (and that a filter on the series accepts whole) as statistics, those the filter rejects
/// whole not read, the rest decoded (and filtered).
fn read_agg_slice(
    engine: &Engine,
    path: &PartialPath,
    slice: TimeRange,
    windows: Option<&WindowPlan>,
    residual: Option<&Expr>,
) -> Result<Dataset> {
    let usable = |c: &ChunkSummary| {
        let verdict = residual.map_or(Some(true), |f| crate::prune::decide(f, 0, c));
        match verdict {
            Some(false) => SummaryUse::Skip,
            Some(true) if windows.is_none_or(|w| w.holds(c.start, c.end)) => SummaryUse::Use,
            _ => SummaryUse::Decode,
        }
    };
    let s = engine.read_series_summarized(path, slice, &usable)?;
    let mut points = Chunk {
        times: s.data.times,
        columns: vec![Column::new(s.data.values)],
    };
    if let Some(f) = residual {
        let keep = selected_rows(&f.eval(&points)?);
        if keep.len() != points.len() {
            points = points.take(&keep);
        }
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
    let (offset, limit) = (q.offset.unwrap_or(0), q.limit);
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

#[cfg(test)]
mod tests {
    use super::*;
    use sql::ast::Interval;

    fn plan(
        start: i64,
        end: i64,
        interval: Interval,
        step: Option<Interval>,
        left_open: bool,
    ) -> WindowPlan {
        let w = TimeWindow {
            start: Some(Expression::Constant(Literal::Integer(start))),
            end: Some(Expression::Constant(Literal::Integer(end))),
            interval,
            step,
            left_open,
        };
        WindowPlan::new(&w, &TimeZone::default()).unwrap()
    }

    fn ms(v: i64) -> Interval {
        Interval {
            months: 0,
            millis: v,
            text: format!("{v}ms"),
        }
    }

    #[test]
    fn sliding_windows_overlap_and_clip() {
        let p = plan(0, 10, ms(4), Some(ms(3)), false);
        assert_eq!(p.count(), 4);
        let w: Vec<(i64, i64)> = (0..p.count()).map(|k| p.window(k)).collect();
        assert_eq!(w, vec![(0, 4), (3, 7), (6, 10), (9, 10)]);
        let p = plan(0, 10, ms(3), None, true);
        assert_eq!(p.data_range(), (1, 10));
        assert_eq!(p.count(), 4);
        assert_eq!(p.window(3), (9, 10));
    }

    #[test]
    fn calendar_month_windows_anchor_on_start() {
        let utc = TimeZone::default();
        let t = |s: &str| model::time::parse_datetime(s, &utc).unwrap();
        let month = Interval {
            months: 1,
            millis: 0,
            text: "1mo".into(),
        };
        let p = plan(t("2023-01-31"), t("2023-05-01"), month, None, false);
        assert_eq!(p.count(), 4);
        assert_eq!(p.window(0), (t("2023-01-31"), t("2023-02-28")));
        assert_eq!(p.window(1), (t("2023-02-28"), t("2023-03-31")));
        assert_eq!(p.window(2), (t("2023-03-31"), t("2023-04-30")));
        assert_eq!(p.window(3), (t("2023-04-30"), t("2023-05-01")));
    }

    #[test]
    fn bad_windows_are_rejected() {
        let w = TimeWindow {
            start: Some(Expression::Constant(Literal::Integer(5))),
            end: Some(Expression::Constant(Literal::Integer(5))),
            interval: ms(1),
            step: None,
            left_open: false,
        };
        assert!(WindowPlan::new(&w, &TimeZone::default()).is_err());
        let w = TimeWindow {
            end: Some(Expression::Constant(Literal::Integer(9))),
            interval: ms(0),
            ..w
        };
        assert!(WindowPlan::new(&w, &TimeZone::default()).is_err());
    }

    #[test]
    fn level_paths_keep_root_and_measurement() {
        let p = PartialPath::parse("root.ln.wf01.wt01.status").unwrap();
        assert_eq!(level_path(&p, &[1]), "root.ln.*.*.status");
        assert_eq!(level_path(&p, &[3]), "root.*.*.wt01.status");
        assert_eq!(level_path(&p, &[0]), "root.*.*.*.status");
    }
}
