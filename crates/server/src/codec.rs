//! Glue between Thrift request/response structs and executor types.

use crate::session::OpenQuery;
use model::schema::{MeasurementSchema, TemplateMeasurement};
use model::{
    CompressionType, Error, InsertTablet, PartialPath, Result, RowBatch, TSDataType, TSEncoding,
    TemplateDef, Value,
};
use protocol::client::{
    TSAggregationQueryReq, TSAppendSchemaTemplateReq, TSCreateAlignedTimeseriesReq, TSQueryDataSet,
};
use protocol::codec::tsblock;
use protocol::common::TAggregationType;
use sql::ast::{MeasurementSpec, Statement};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

/// Rows asked for first when a query's row size is not known yet.
const FIRST_ROWS: usize = 256;

/// Rows of a result as a stream produced them: the batch they lie in (shared: the rest of
/// it may be held for the next page, see [`OpenQuery::held`]) and which of its rows.
pub type Rows = (Arc<RowBatch>, Range<usize>);

/// Pulls up to `max_rows` rows and about `max_bytes` of values (at least one row) from an
/// open query, as the stream's batches came (none when no rows are left); marks it
/// finished when the stream ends. A TsBlock page is encoded from them directly, without
/// joining them first. A batch holding more rows than the page takes (a decoded slice, see
/// `ResultStream::next_block`) is kept for the next page, not cut.
pub fn next_parts(q: &mut OpenQuery, max_rows: usize, max_bytes: usize) -> Result<Vec<Rows>> {
    if q.held.is_some() {
        // kept rows are handed out without the stream: a killed or timed-out query stops
        // here as its stream would
        q.stream.check()?;
    }
    let mut parts = Vec::new();
    let (mut rows, mut bytes) = (0usize, 0usize);
    while rows < max_rows && bytes < max_bytes {
        let room = match q.row_bytes {
            Some(per_row) => ((max_bytes - bytes) / per_row.max(1)).max(1),
            None => FIRST_ROWS,
        };
        let want = (max_rows - rows).min(room);
        let (batch, from) = match q.held.take() {
            Some(held) => held,
            None if q.finished => break,
            None => match q.stream.next_block(want)? {
                Some(b) if b.is_empty() => continue,
                Some(b) => (Arc::new(b), 0),
                None => {
                    q.finished = true;
                    break;
                }
            },
        };
        let per_row = batch_bytes(&batch).div_ceil(batch.len().max(1));
        q.row_bytes = Some(per_row);
        let take = (batch.len() - from).min(want);
        rows += take;
        bytes += take * per_row;
        if from + take < batch.len() {
            q.held = Some((batch.clone(), from + take));
        }
        parts.push((batch, from..from + take));
    }
    Ok(parts)
}

/// The rows of `parts` joined into one batch.
pub fn joined(parts: Vec<Rows>) -> RowBatch {
    query::result::concat_batches(
        parts
            .into_iter()
            .map(|(b, r)| match Arc::try_unwrap(b) {
                Ok(b) if r == (0..b.len()) => b,
                Ok(b) => query::result::slice_batch(&b, r),
                Err(b) => query::result::slice_batch(&b, r),
            })
            .collect(),
    )
}

/// Bytes of a batch's times and values as encoded in a reply (about).
fn batch_bytes(b: &RowBatch) -> usize {
    b.len() * 8 + b.columns.iter().map(|c| c.data.bytes()).sum::<usize>()
}

/// Encodes rows as a V1 `TSQueryDataSet` (empty when `batch` is `None`).
pub fn query_data_set(q: &OpenQuery, batch: Option<&RowBatch>) -> Result<TSQueryDataSet> {
    let types = q.data_types();
    let empty = RowBatch {
        times: Vec::new(),
        columns: types
            .iter()
            .map(|t| model::Column::new(model::ColumnData::empty(*t)))
            .collect(),
    };
    let batch = batch.unwrap_or(&empty);
    protocol::codec::dataset::encode_query_data_set(batch, &types, 0..batch.len())
}

/// Encodes rows as one V2 TsBlock.
pub fn tsblock(q: &OpenQuery, batches: &[Rows]) -> Result<Vec<u8>> {
    let parts = parts_of(batches);
    let types = q.data_types();
    let mut out = Vec::with_capacity(tsblock::tsblock_len(&parts, &types)?);
    tsblock::encode_tsblock_into(&mut out, &parts, &types)?;
    Ok(out)
}

/// The rows of each part, as TsBlock parts.
pub fn parts_of(batches: &[Rows]) -> Vec<tsblock::Part<'_>> {
    batches.iter().map(|(b, r)| (&**b, r.clone())).collect()
}

/// Decodes an `insertRecord` value buffer holding `n` values, each with its declared type.
pub fn record_values(buf: &[u8], n: usize) -> Result<Vec<Option<(TSDataType, Value)>>> {
    let decoded = protocol::codec::record::decode_record_values(buf, n)?;
    Ok(decoded
        .types
        .into_iter()
        .zip(decoded.values)
        .map(|(t, v)| t.zip(v))
        .collect())
}

/// Decodes an `insertTablet` request body.
#[allow(clippy::too_many_arguments)]
pub fn tablet(
    device: &str,
    measurements: Vec<String>,
    values: &[u8],
    timestamps: &[u8],
    types: &[i32],
    size: i32,
    aligned: bool,
) -> Result<InsertTablet> {
    protocol::codec::tablet::decode_tablet(
        PartialPath::parse(device)?,
        checked_measurements(&measurements)?,
        types,
        size,
        timestamps,
        values,
        aligned,
    )
}

/// The measurement names of a tablet or record, each checked as IoTDB does (a single
/// legal node name: no `*`, no `.`, not empty) and put in canonical form.
pub fn checked_measurements(names: &[String]) -> Result<Vec<String>> {
    names
        .iter()
        .map(|n| model::path::check_single_measurement(n))
        .collect()
}

/// Decodes a serialized schema template; `name` is the request's name field.
pub fn template(bytes: &[u8], name: &str) -> Result<TemplateDef> {
    let mut def = protocol::codec::template::decode_template(bytes)?;
    if def.name.is_empty() {
        def.name = name.to_string();
    }
    Ok(def)
}

fn enums(dt: i32, enc: i32, comp: i32) -> Result<(TSDataType, TSEncoding, CompressionType)> {
    let bad = |what: &str, v: i32| Error::IllegalParameter(format!("unknown {what} {v}"));
    Ok((
        TSDataType::from_id(dt as i64).ok_or_else(|| bad("data type", dt))?,
        TSEncoding::from_id(enc as i64).ok_or_else(|| bad("encoding", enc))?,
        CompressionType::from_id(comp as i64).ok_or_else(|| bad("compressor", comp))?,
    ))
}

fn pairs(m: Option<BTreeMap<String, String>>) -> Vec<(String, String)> {
    m.map(|m| m.into_iter().collect()).unwrap_or_default()
}

/// Builds the CREATE TIMESERIES statement of a `createTimeseries` request.
#[allow(clippy::too_many_arguments)]
pub fn create_timeseries(
    path: &str,
    data_type: i32,
    encoding: i32,
    compressor: i32,
    props: Option<BTreeMap<String, String>>,
    tags: Option<BTreeMap<String, String>>,
    attributes: Option<BTreeMap<String, String>>,
    alias: Option<String>,
) -> Result<Statement> {
    let (dt, enc, comp) = enums(data_type, encoding, compressor)?;
    Ok(Statement::CreateTimeseries {
        path: PartialPath::parse(path)?,
        spec: MeasurementSpec {
            alias: alias.filter(|a| !a.is_empty()),
            data_type: dt,
            encoding: Some(enc),
            compressor: Some(comp),
            props: pairs(props)
                .into_iter()
                .map(|(k, v)| (k.to_ascii_uppercase(), v))
                .collect(),
            tags: pairs(tags),
            attributes: pairs(attributes),
        },
    })
}

/// Builds the CREATE ALIGNED TIMESERIES statement of a `createAlignedTimeseries` request.
pub fn create_aligned_timeseries(req: TSCreateAlignedTimeseriesReq) -> Result<Statement> {
    let n = req.measurements.len();
    if req.data_types.len() != n || req.encodings.len() != n || req.compressors.len() != n {
        return Err(Error::IllegalParameter(
            "createAlignedTimeseries: list lengths differ".into(),
        ));
    }
    let mut measurements = Vec::with_capacity(n);
    for i in 0..n {
        let (dt, enc, comp) = enums(req.data_types[i], req.encodings[i], req.compressors[i])?;
        let pick = |l: &Option<Vec<BTreeMap<String, String>>>| {
            pairs(l.as_ref().and_then(|v| v.get(i).cloned()))
        };
        let name = PartialPath::parse(&format!("root.{}", req.measurements[i]))
            .map_err(|_| {
                Error::IllegalPath(
                    req.measurements[i].clone(),
                    Some("illegal measurement".into()),
                )
            })?
            .last()
            .to_string();
        measurements.push((
            name,
            MeasurementSpec {
                alias: req
                    .measurement_alias
                    .as_ref()
                    .and_then(|v| v.get(i).cloned())
                    .filter(|a| !a.is_empty()),
                data_type: dt,
                encoding: Some(enc),
                compressor: Some(comp),
                props: Vec::new(),
                tags: pick(&req.tags_list),
                attributes: pick(&req.attributes_list),
            },
        ));
    }
    Ok(Statement::CreateAlignedTimeseries {
        device: PartialPath::parse(&req.prefix_path)?,
        measurements,
    })
}

/// The measurements of an `appendSchemaTemplate` request.
pub fn template_measurements(req: &TSAppendSchemaTemplateReq) -> Result<Vec<TemplateMeasurement>> {
    let n = req.measurements.len();
    if req.data_types.len() != n || req.encodings.len() != n || req.compressors.len() != n {
        return Err(Error::IllegalParameter(
            "appendSchemaTemplate: list lengths differ".into(),
        ));
    }
    (0..n)
        .map(|i| {
            let (dt, enc, comp) = enums(req.data_types[i], req.encodings[i], req.compressors[i])?;
            let path = req.measurements[i].clone();
            let name = path.rsplit('.').next().unwrap_or(&path).to_string();
            Ok(TemplateMeasurement {
                path,
                aligned: req.is_aligned,
                schema: MeasurementSchema {
                    name,
                    data_type: dt,
                    encoding: enc,
                    compressor: comp,
                },
            })
        })
        .collect()
}

fn time_cmp(op: sql::ast::BinaryOp, t: i64) -> sql::ast::Expression {
    use sql::ast::{Expression, Literal};
    Expression::Binary {
        op,
        left: Box::new(Expression::Time),
        right: Box::new(Expression::Constant(Literal::Integer(t))),
    }
}

/// A series path of an RPC as a path expression relative to the FROM prefix `root` (SQL
/// forbids full paths in SELECT). With `legal_nodes` the client vouches that every node is
/// legal and the path is split at dots without parsing, as IoTDB does.
fn series_ref(p: &str, legal_nodes: bool) -> Result<sql::ast::Expression> {
    use sql::ast::{Expression, PathRef};
    let nodes = if legal_nodes {
        p.split('.').map(str::to_string).collect()
    } else {
        model::PathPattern::parse(p)?.nodes().to_vec()
    };
    match nodes.split_first() {
        Some((root, suffix)) if root == "root" && !suffix.is_empty() => {
            Ok(Expression::Path(PathRef {
                nodes: suffix.to_vec(),
                full: false,
            }))
        }
        _ => Err(Error::IllegalPath(
            p.to_string(),
            Some("not a series path".into()),
        )),
    }
}

fn path_query(
    paths: &[String],
    last: bool,
    filter: Option<sql::ast::Expression>,
) -> Result<Statement> {
    let select = paths
        .iter()
        .map(|p| series_ref(p, false))
        .collect::<Result<Vec<_>>>()?;
    Ok(select_from_root(select, last, filter, None))
}

/// `SELECT <select> FROM root [WHERE filter] [GROUP BY group_by]`.
fn select_from_root(
    select: Vec<sql::ast::Expression>,
    last: bool,
    filter: Option<sql::ast::Expression>,
    group_by: Option<sql::ast::GroupBy>,
) -> Statement {
    use sql::ast::{QueryStatement, ResultColumn};
    let select = select
        .into_iter()
        .map(|expr| ResultColumn { expr, alias: None })
        .collect();
    Statement::Query(Box::new(QueryStatement {
        select,
        last,
        into: None,
        from: vec![model::PathPattern::from_nodes(vec!["root".into()])],
        where_clause: filter,
        group_by,
        having: None,
        order_by: Vec::new(),
        fill: None,
        limit: None,
        offset: None,
        slimit: None,
        soffset: None,
        align_by_device: false,
    }))
}

/// `executeRawDataQuery(paths, start, end)`: `SELECT paths WHERE time >= start AND time < end`.
pub fn raw_data_query(paths: &[String], start: i64, end: i64) -> Result<Statement> {
    use sql::ast::{BinaryOp, Expression};
    let filter = Expression::Binary {
        op: BinaryOp::And,
        left: Box::new(time_cmp(BinaryOp::GtEq, start)),
        right: Box::new(time_cmp(BinaryOp::Lt, end)),
    };
    path_query(paths, false, Some(filter))
}

/// `executeLastDataQuery(paths, time)`: `SELECT LAST paths WHERE time >= time`.
pub fn last_data_query(paths: &[String], min_time: i64) -> Result<Statement> {
    let filter = (min_time != i64::MIN).then(|| time_cmp(sql::ast::BinaryOp::GtEq, min_time));
    path_query(paths, true, filter)
}

/// The function name IoTDB gives an aggregation of the RPCs (the Thrift enum's name); the
/// executor rejects those the tree model has no function for, as IoTDB does.
fn aggregation_name(a: TAggregationType) -> Result<&'static str> {
    const NAMES: [&str; 32] = [
        "COUNT",
        "AVG",
        "SUM",
        "FIRST_VALUE",
        "LAST_VALUE",
        "MAX_TIME",
        "MIN_TIME",
        "MAX_VALUE",
        "MIN_VALUE",
        "EXTREME",
        "COUNT_IF",
        "TIME_DURATION",
        "MODE",
        "COUNT_TIME",
        "STDDEV",
        "STDDEV_POP",
        "STDDEV_SAMP",
        "VARIANCE",
        "VAR_POP",
        "VAR_SAMP",
        "MAX_BY",
        "MIN_BY",
        "UDAF",
        "FIRST",
        "LAST",
        "FIRST_BY",
        "LAST_BY",
        "MIN",
        "MAX",
        "COUNT_ALL",
        "APPROX_COUNT_DISTINCT",
        "APPROX_MOST_FREQUENT",
    ];
    usize::try_from(a.0)
        .ok()
        .and_then(|i| NAMES.get(i).copied())
        .ok_or_else(|| Error::IllegalParameter(format!("unknown aggregation type {}", a.0)))
}

/// `executeAggregationQuery[V2]`: aggregation `i` of series `i`, as IoTDB builds it. With an
/// interval: `GROUP BY ([startTime, endTime), interval, slidingStep)` (step = interval when
/// absent); else with a start time: `WHERE time >= startTime AND time < endTime`; else over
/// all data.
pub fn aggregation_query(req: &TSAggregationQueryReq) -> Result<Statement> {
    use sql::ast::{BinaryOp, Expression, GroupBy, Interval, Literal, TimeWindow};
    if req.paths.len() != req.aggregations.len() {
        return Err(Error::IllegalParameter(format!(
            "executeAggregationQuery: {} paths but {} aggregations (one aggregation per path)",
            req.paths.len(),
            req.aggregations.len()
        )));
    }
    let legal_nodes = req.legal_path_nodes.unwrap_or(false);
    let select = req
        .paths
        .iter()
        .zip(&req.aggregations)
        .map(|(p, a)| {
            Ok(Expression::Function {
                name: aggregation_name(*a)?.to_string(),
                args: vec![series_ref(p, legal_nodes)?],
                attributes: Vec::new(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // Unset times read as 0, as IoTDB's generated getters answer.
    let start = req.start_time.unwrap_or(0);
    let end = req.end_time.unwrap_or(0);
    let duration = |ms: i64| -> Result<Interval> {
        if ms <= 0 {
            return Err(Error::Semantic(format!(
                "The interval and sliding step of a GROUP BY must be positive, got {ms}"
            )));
        }
        Ok(Interval {
            months: 0,
            millis: ms,
            text: format!("{ms}ms"),
        })
    };
    let (filter, group_by) = match req.interval {
        Some(interval) => {
            let interval = duration(interval)?;
            let step = req.sliding_step.map(duration).transpose()?;
            let window = TimeWindow {
                start: Some(Expression::Constant(Literal::Integer(start))),
                end: Some(Expression::Constant(Literal::Integer(end))),
                interval,
                step,
                left_open: false,
            };
            let group_by = GroupBy {
                time: Some(window),
                level: Vec::new(),
                tags: Vec::new(),
            };
            (None, Some(group_by))
        }
        None if req.start_time.is_some() => {
            let filter = Expression::Binary {
                op: BinaryOp::And,
                left: Box::new(time_cmp(BinaryOp::GtEq, start)),
                right: Box::new(time_cmp(BinaryOp::Lt, end)),
            };
            (Some(filter), None)
        }
        None => (None, None),
    };
    Ok(select_from_root(select, false, filter, group_by))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Column, ColumnData};
    use query::result::{QueryResult, ResultStream};

    /// Hands out its rows in blocks of `block` rows whatever is asked (as a raw scan gives
    /// a decoded slice whole from `next_block`).
    struct Blocks {
        rows: std::ops::Range<i64>,
        block: i64,
        killed: Arc<std::sync::atomic::AtomicBool>,
    }

    impl ResultStream for Blocks {
        fn check(&self) -> Result<()> {
            if self.killed.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(model::Error::QueryKilled("killed".into()));
            }
            Ok(())
        }

        fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
            let take = (max_rows as i64).min(self.block);
            self.next_n(take)
        }

        fn next_block(&mut self, _max_rows: usize) -> Result<Option<RowBatch>> {
            self.next_n(self.block)
        }
    }

    impl Blocks {
        fn next_n(&mut self, n: i64) -> Result<Option<RowBatch>> {
            if self.rows.is_empty() {
                return Ok(None);
            }
            let end = (self.rows.start + n).min(self.rows.end);
            let times: Vec<i64> = (self.rows.start..end).collect();
            self.rows.start = end;
            let values = ColumnData::Double(times.iter().map(|&t| t as f64 / 2.0).collect());
            Ok(Some(RowBatch {
                times,
                columns: vec![Column::new(values)],
            }))
        }
    }

    /// An open query of one DOUBLE column `v` over `stream`.
    fn open(stream: Blocks) -> OpenQuery {
        OpenQuery::new(
            QueryResult {
                columns: vec!["v".into()],
                types: vec![TSDataType::Double],
                ignore_timestamp: false,
                column_index: vec![0],
                stream: Box::new(stream),
            },
            "1".into(),
        )
    }

    #[test]
    fn pages_take_part_of_a_block_and_keep_the_rest() {
        for (total, block, page) in [(1000, 300, 128), (1000, 1000, 7), (10, 3, 100), (0, 5, 5)] {
            let mut q = open(Blocks {
                rows: 0..total,
                block,
                killed: Default::default(),
            });
            let mut seen = Vec::new();
            loop {
                let parts = next_parts(&mut q, page, usize::MAX).unwrap();
                if parts.is_empty() {
                    break;
                }
                let rows: usize = parts.iter().map(|(_, r)| r.len()).sum();
                assert!(rows <= page, "a page of {rows} rows, {page} asked for");
                let joined = joined(parts);
                assert_eq!(joined.columns[0].data.len(), joined.times.len());
                seen.extend(joined.times);
            }
            assert!(q.finished && q.held.is_none());
            assert_eq!(
                seen,
                (0..total).collect::<Vec<_>>(),
                "{total} rows in blocks of {block}"
            );
        }
    }

    #[test]
    fn a_killed_query_stops_serving_rows_it_kept() {
        let killed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut q = open(Blocks {
            rows: 0..1000,
            block: 1000,
            killed: killed.clone(),
        });
        assert_eq!(next_parts(&mut q, 100, usize::MAX).unwrap().len(), 1);
        assert!(q.held.is_some());
        killed.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(next_parts(&mut q, 100, usize::MAX).is_err());
    }
}
