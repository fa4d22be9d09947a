//! SELECT execution: raw queries (time join, filter, projection), aggregations with or
//! without GROUP BY time windows and levels, FILL, ALIGN BY DEVICE, and last-point queries.
//!
//! Operators, one module each: [`raw`] (time join over sliced scans, filter, projection),
//! [`aggregate`] over [`window`]s, [`fill`], [`limit`], [`device`] (ALIGN BY DEVICE) and
//! [`last`]; the series scan itself is `crate::scan`, the time join `crate::join`.
//!
//! A query is first planned ([`plan_query`]: wildcard expansion, typing, headers; no data is
//! read) and then opened into a stream ([`QueryPlan::open`]), so ALIGN BY DEVICE can plan every
//! device up front and read devices one after another.

use crate::agg::{Accumulator, AggKind};
use crate::analyze::{
    any_path_ref, eval_time, has_aggregate, has_path, split_time_filter, AggSpec, Converter,
    Expander,
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

mod aggregate;
mod device;
mod fill;
mod into;
mod last;
mod limit;
mod raw;
mod reduce;
mod window;

use aggregate::*;
use device::*;
use fill::*;
use into::*;
use last::*;
use limit::*;
use raw::*;
use window::*;

/// Times and values one aggregation reads (shared between aggregations of one series).
/// One aggregation input: its points (ascending times, values) and the chunk statistics
/// that stand for points not listed (see `storage::SummarizedSeries`).
type Dataset = (Arc<Vec<i64>>, Arc<Column>, Arc<Vec<ChunkSummary>>);

/// Rows pulled from the time join per step when the caller asks for fewer.
const MIN_JOIN_ROWS: usize = 256;

/// One output column before de-duplication.
struct OutputColumn {
    header: String,
    key: String,
    expr: Expr,
    data_type: TSDataType,
}

impl OutputColumn {
    /// The column of `expr` (typed over inputs of `types`, TEXT for the null literal),
    /// headed by its alias or else its key.
    fn typed(
        expr: Expr,
        key: String,
        alias: Option<String>,
        types: &[TSDataType],
        names: &[String],
    ) -> Result<OutputColumn> {
        let data_type = expr.check_type(types, names)?.unwrap_or(TSDataType::Text);
        Ok(OutputColumn {
            header: alias.unwrap_or_else(|| key.clone()),
            key,
            expr,
            data_type,
        })
    }
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
    crate::analyze::check_query_clauses(q)?;
    reject_unsupported(q)?;
    if q.into.is_some() {
        return run_select_into(engine, q, ctx);
    }
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
    /// Per display column: the index of the SELECT item it was expanded from.
    pub column_items: Vec<usize>,
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

/// Header of a GROUP BY LEVEL column: nodes outside the kept levels become `*`; root is
/// always kept, the measurement too unless the select item named it with a wildcard
/// (`count(*)` gives `count(root.*.wf01.*.*)`, as in IoTDB).
fn level_path(path: &PartialPath, levels: &[usize], star_measurement: bool) -> String {
    let nodes = path.nodes();
    let last = nodes.len().saturating_sub(1);
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i == 0 || (i == last && !star_measurement) || levels.contains(&i) {
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
    // Each expanded item, its alias, whether it named its measurement with `*`/`**`, and the
    // SELECT item it came from.
    let mut items: Vec<(Expression, Option<String>, bool, usize)> = Vec::new();
    for (item, c) in q.select.iter().enumerate() {
        let star = any_path_ref(&c.expr, &|r| {
            r.nodes.last().is_some_and(|n| n == "*" || n == "**")
        });
        let expanded = expander.expand(&c.expr)?;
        if let Some(alias) = &c.alias {
            if expanded.len() > 1 {
                return Err(Error::Semantic(format!(
                    "alias '{alias}' can only be matched with one time series"
                )));
            }
        }
        items.extend(
            expanded
                .into_iter()
                .map(|e| (e, c.alias.clone(), star, item)),
        );
    }
    // SLIMIT/SOFFSET page the result columns: the expanded items, or with GROUP BY LEVEL the
    // merged columns (below).
    let (soffset, slimit) = (
        clamp_usize(q.soffset.unwrap_or(0)),
        clamp_usize(q.slimit.unwrap_or(u64::MAX)),
    );
    let items: Vec<_> = if levels.is_empty() {
        items.into_iter().skip(soffset).take(slimit).collect()
    } else {
        items
    };
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
    // Per aggregation spec: whether the item that introduced it named its measurement `*`.
    let mut spec_star: Vec<bool> = Vec::new();
    let mut column_items: Vec<usize> = Vec::with_capacity(items.len());
    for (e, alias, star, item) in &items {
        column_items.push(*item);
        let expr = if aggregated {
            conv.aggregated(e)?
        } else {
            conv.raw(e)?
        };
        spec_star.resize(conv.aggs.specs.len(), *star);
        outputs.push((expr, e.to_string(), alias.clone()));
    }
    let filter = match where_exprs {
        None => None,
        Some(list) if list.is_empty() => Some(Expr::Const(Value::Boolean(false), "false".into())),
        Some(list) => conjoin(list.iter().map(|e| conv.raw(e)))?,
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
        Some(list) => conjoin(list.iter().map(|e| conv.aggregated(e)))?,
    };
    let (mut range, residual) = split_time_filter(filter);
    let fill = q.fill.clone();
    let (offset, limit) = (q.offset.unwrap_or(0), q.limit);

    if !aggregated {
        let mut cols = Vec::with_capacity(outputs.len());
        for (expr, key, alias) in outputs {
            let (types, names) = (&conv.series.types, &conv.series.names);
            cols.push(OutputColumn::typed(expr, key, alias, types, names)?);
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
            column_items,
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
        for (k, s) in specs.iter().enumerate() {
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
            let star = spec_star.get(k).copied().unwrap_or(false);
            let name = format!("{}({})", s.name, level_path(path, levels, star));
            match index.get(&name) {
                Some(&(g, t)) => {
                    // IoTDB merges series whose aggregation has the same output type (sum of
                    // INT32 and DOUBLE, count of anything) and refuses the others (max_value
                    // or first_value of FLOAT and DOUBLE).
                    if t != s.out_type {
                        return Err(Error::Semantic(format!(
                            "GROUP BY LEVEL: the data types of the same output column[{name}] should be the same."
                        )));
                    }
                    groups[g].members.push(s.arg.clone());
                    spec_group.push(g);
                }
                None => {
                    let g = groups.len();
                    index.insert(name.clone(), (g, s.out_type));
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
    let mut level_skip = soffset;
    let mut level_take = slimit;
    let mut kept_items = Vec::with_capacity(outputs.len());
    for ((expr, key, alias), item) in outputs.into_iter().zip(column_items) {
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
            if level_skip > 0 {
                level_skip -= 1;
                continue;
            }
            if level_take == 0 {
                break;
            }
            level_take -= 1;
            (e, key)
        };
        kept_items.push(item);
        cols.push(OutputColumn::typed(
            expr,
            key,
            alias,
            &group_types,
            &group_names,
        )?);
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
        column_items: kept_items,
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
                drop_null_rows: outputs
                    .iter()
                    .any(|e| e.any_series_fn(&|f| !f.keeps_rows())),
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
/// The AND of the expressions, in order (`None` for none).
fn conjoin(exprs: impl IntoIterator<Item = Result<Expr>>) -> Result<Option<Expr>> {
    let mut acc: Option<Expr> = None;
    for e in exprs {
        let x = e?;
        acc = Some(match acc {
            None => x,
            Some(prev) => Expr::And(Box::new(prev), Box::new(x)),
        });
    }
    Ok(acc)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_paths_keep_root_and_measurement() {
        let p = PartialPath::parse("root.ln.wf01.wt01.status").unwrap();
        assert_eq!(level_path(&p, &[1], false), "root.ln.*.*.status");
        assert_eq!(level_path(&p, &[3], false), "root.*.*.wt01.status");
        assert_eq!(level_path(&p, &[0], false), "root.*.*.*.status");
        // `count(*)`: the measurement is shown as the wildcard it was selected with
        assert_eq!(level_path(&p, &[3], true), "root.*.*.wt01.*");
        assert_eq!(level_path(&p, &[1, 2], true), "root.ln.wf01.*.*");
    }
}
