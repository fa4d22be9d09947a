//! Last-point queries (`SELECT LAST`): each series' latest point, answered from chunk
//! statistics and memtables where they settle it.

use super::*;

pub(super) fn run_last(
    engine: &Engine,
    q: &QueryStatement,
    ctx: &SessionContext,
) -> Result<QueryResult> {
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
            let acc = conjoin(exprs.iter().map(|e| conv.raw(e)))?;
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
                text(v.to_iotdb_string_as(dt)),
                text(dt.name()),
            ],
        );
    }
    Ok(table.finish(false))
}
