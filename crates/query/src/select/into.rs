//! `SELECT … INTO …`: runs the query, writes each result column into its target time series
//! (created with the column's type when missing), and answers with one row per column:
//! source column, target time series, points written (with ALIGN BY DEVICE also the source
//! device, one row per device and column).
//!
//! Targets pair with the result columns left to right (ALIGN BY DEVICE: one INTO item per
//! device, in output order, its measurements paired with the columns). Placeholders stand for
//! nodes of the source series: `::` at the end of a target device copies the source device
//! from that level on, `::` as a measurement copies the source measurement, and `${i}` (also
//! inside a node, `cp_${2}`) is node `i` of the source path (`root` is 0). A single INTO item
//! with placeholders serves every column (or, with ALIGN BY DEVICE, every device).

use super::*;
use model::InsertTablet;
use sql::ast::IntoItem;

fn semantic(msg: &str) -> Error {
    Error::Semantic(format!("select into: {msg}"))
}

/// Whether a target node uses a placeholder.
fn has_placeholder(node: &str) -> bool {
    node == "::" || node.contains("${")
}

fn item_device_has_placeholder(item: &IntoItem) -> bool {
    item.device.iter().any(|n| has_placeholder(n))
}

fn item_measurements_have_placeholder(item: &IntoItem) -> bool {
    item.measurements.iter().any(|n| has_placeholder(n))
}

/// `node` with each `${i}` replaced by node `i` of `source` (`root` is 0).
fn substitute(node: &str, source: &[String]) -> Result<String> {
    let bad = || {
        semantic("the i of ${i} should be greater than 0 and equal to or less than the length of queried path prefix.")
    };
    let mut out = String::new();
    let mut rest = node;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or_else(bad)?;
        let i: usize = after[..end].trim().parse().map_err(|_| bad())?;
        if i == 0 || i >= source.len() {
            return Err(bad());
        }
        out.push_str(&source[i]);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The target device of `item` for a source whose device nodes are `device` and whose full
/// path nodes (device and measurement, when the column is a series) are `source`.
fn target_device(item: &IntoItem, device: &[String], source: &[String]) -> Result<PartialPath> {
    let mut nodes: Vec<String> = Vec::with_capacity(item.device.len());
    for (level, node) in item.device.iter().enumerate() {
        if node == "::" {
            if level + 1 != item.device.len() {
                return Err(semantic(
                    "placeholder `::` can only be used at the end of the path.",
                ));
            }
            // a source device shorter than the target prefix leaves nothing to copy
            nodes.extend(device.get(level..).unwrap_or_default().iter().cloned());
        } else {
            nodes.push(substitute(node, source)?);
        }
    }
    if nodes.first().map(String::as_str) != Some("root") || nodes.len() < 2 {
        return Err(Error::IllegalPath(
            nodes.join("."),
            Some("the target device of SELECT INTO must start with root".into()),
        ));
    }
    Ok(PartialPath::from_nodes(nodes))
}

fn target_measurement(node: &str, source: &[String]) -> Result<String> {
    if node == "::" {
        return source.last().cloned().ok_or_else(|| {
            semantic("the correspondence between the placeholder and the raw time series could not be established.")
        });
    }
    if node.contains("::") {
        return Err(semantic(
            "placeholder `::` can only be used at the end of the path.",
        ));
    }
    substitute(node, source)
}

/// For each of `n` columns: the INTO item and the measurement (within it) it goes to.
fn pair_columns(items: &[&IntoItem], n: usize) -> Result<Vec<(usize, usize)>> {
    let count_err = || {
        semantic("the number of source columns and the number of target paths should be the same.")
    };
    let total: usize = items.iter().map(|i| i.measurements.len()).sum();
    if items.iter().any(|i| item_measurements_have_placeholder(i)) {
        if items.iter().any(|i| i.measurements.len() != 1) {
            return Err(semantic(
                "the correspondence between the placeholder and the raw time series could not be established.",
            ));
        }
        return match items.len() {
            1 => Ok(vec![(0, 0); n]),
            k if k == n => Ok((0..n).map(|j| (j, 0)).collect()),
            _ => Err(count_err()),
        };
    }
    if total != n {
        return Err(count_err());
    }
    Ok(items
        .iter()
        .enumerate()
        .flat_map(|(i, it)| (0..it.measurements.len()).map(move |m| (i, m)))
        .collect())
}

/// One result column's destination.
struct Target {
    /// Result column (data index into the batch).
    data_col: usize,
    /// ALIGN BY DEVICE: the source device whose rows it takes.
    device: Option<String>,
    /// As shown in the SourceColumn cell.
    source: String,
    path: PartialPath,
    aligned: bool,
    /// The column's type.
    data_type: TSDataType,
    /// The type written: the column's, or that of an existing target it widens to.
    write_type: TSDataType,
    written: i64,
}

/// Whether values of `source` may be written into an existing series of type `target`:
/// the same type, or a widening IoTDB accepts (INT32 to INT64, FLOAT or DOUBLE; INT64 and
/// FLOAT to DOUBLE).
fn compatible(source: TSDataType, target: TSDataType) -> bool {
    use TSDataType as T;
    source == target
        || matches!(
            (source, target),
            (T::Int32, T::Int64 | T::Float | T::Double) | (T::Int64 | T::Float, T::Double)
        )
}

/// `v` (of a column of type `from`) as a value of type `to` (see [`compatible`]).
fn widen(v: Value, to: TSDataType) -> Value {
    match (v, to) {
        (Value::Int32(x), TSDataType::Int64) => Value::Int64(i64::from(x)),
        (Value::Int32(x), TSDataType::Float) => Value::Float(x as f32),
        (Value::Int32(x), TSDataType::Double) => Value::Double(f64::from(x)),
        (Value::Int64(x), TSDataType::Double) => Value::Double(x as f64),
        (Value::Float(x), TSDataType::Double) => Value::Double(f64::from(x)),
        (v, _) => v,
    }
}

/// Node list of a result column name that is a series path (or a single node, an alias).
fn column_nodes(name: &str) -> Vec<String> {
    PartialPath::parse(name)
        .map(|p| p.nodes().to_vec())
        .unwrap_or_else(|_| vec![name.to_string()])
}

/// True when every select item reads a series as it is (placeholders need that).
fn is_raw_series_query(q: &QueryStatement) -> bool {
    q.select
        .iter()
        .all(|c| matches!(c.expr, Expression::Path(_)))
}

pub(super) fn run_select_into(
    engine: &Arc<Engine>,
    q: &QueryStatement,
    ctx: &SessionContext,
) -> Result<QueryResult> {
    let Some(items) = q.into.as_ref() else {
        return Err(Error::internal("SELECT INTO without INTO"));
    };
    if q.last {
        return Err(semantic("last clauses are not supported."));
    }
    if q.slimit.is_some() {
        return Err(semantic("slimit clauses are not supported."));
    }
    if q.soffset.is_some() {
        return Err(semantic("soffset clauses are not supported."));
    }
    let raw = is_raw_series_query(q);
    let meas_ph = items.iter().any(item_measurements_have_placeholder);
    let dev_ph = items.iter().any(item_device_has_placeholder);
    // ALIGN BY DEVICE names the source device in every row, so a target device may use
    // placeholders whatever the columns are.
    if (meas_ph || (dev_ph && !q.align_by_device)) && !raw {
        return Err(semantic(
            "placeholders can only be used in raw time series data queries.",
        ));
    }
    let mut sub = q.clone();
    sub.into = None;
    let (result, mut targets) = if q.align_by_device {
        let (result, devices) = plan_align_by_device(engine, &sub, ctx)?;
        let targets = device_targets(items, &result, &devices)?;
        (result, targets)
    } else {
        let result = run_query(engine, &sub, ctx)?;
        let targets = time_targets(items, &result)?;
        (result, targets)
    };
    let mut seen = std::collections::HashSet::new();
    for t in &mut targets {
        if !seen.insert(t.path.clone()) {
            return Err(semantic("target paths in into clause should be different."));
        }
        if let Some(info) = engine.series_info(&t.path) {
            t.write_type = info.schema.data_type;
            if !compatible(t.data_type, t.write_type) {
                return Err(Error::Semantic(format!(
                    "The data type of target path ({}[{}]) is not compatible with the data type of source column ({}[{}]).",
                    t.path,
                    info.schema.data_type.name(),
                    match &t.device {
                        Some(d) => format!("{d}.{}", t.source),
                        None => t.source.clone(),
                    },
                    t.data_type.name()
                )));
            }
        }
    }
    write_all(engine, result, &mut targets)?;
    let mut header: Vec<(&str, TSDataType)> = Vec::new();
    if q.align_by_device {
        header.push(("SourceDevice", TSDataType::Text));
    }
    header.extend([
        ("SourceColumn", TSDataType::Text),
        ("TargetTimeseries", TSDataType::Text),
        ("Written", TSDataType::Int32),
    ]);
    let mut table = TableBuilder::new(&header);
    for t in &targets {
        let mut row = Vec::with_capacity(4);
        if let Some(d) = &t.device {
            row.push(text(d));
        }
        row.push(text(&t.source));
        row.push(text(t.path.to_string()));
        row.push(Some(Value::Int32(
            i32::try_from(t.written).unwrap_or(i32::MAX),
        )));
        table.row(row);
    }
    Ok(table.finish(true))
}

/// Targets of an align-by-time result: one per column.
fn time_targets(items: &[IntoItem], result: &QueryResult) -> Result<Vec<Target>> {
    let n = result.columns.len();
    if n == 0 {
        return Ok(Vec::new());
    }
    let refs: Vec<&IntoItem> = items.iter().collect();
    let pairs = pair_columns(&refs, n)?;
    let mut out = Vec::with_capacity(n);
    for (j, (i, m)) in pairs.into_iter().enumerate() {
        let item = refs[i];
        let source = column_nodes(&result.columns[j]);
        let device = &source[..source.len().saturating_sub(1)];
        out.push(Target {
            data_col: result.column_index[j],
            device: None,
            source: result.columns[j].clone(),
            path: target_device(item, device, &source)?
                .child(&target_measurement(&item.measurements[m], &source)?),
            aligned: item.aligned,
            data_type: result.types[j],
            write_type: result.types[j],
            written: 0,
        });
    }
    Ok(out)
}

/// Targets of an align-by-device result: one per device and measurement column.
fn device_targets(
    items: &[IntoItem],
    result: &QueryResult,
    devices: &[String],
) -> Result<Vec<Target>> {
    // Column 0 is Device.
    let n = result.columns.len().saturating_sub(1);
    if n == 0 || devices.is_empty() {
        return Ok(Vec::new());
    }
    let per_device: Vec<&IntoItem> =
        match items {
            [one] if item_device_has_placeholder(one) => vec![one; devices.len()],
            _ if items.len() == devices.len() => items.iter().collect(),
            _ => return Err(semantic(
                "the number of source devices and the number of target devices should be the same.",
            )),
        };
    let mut out = Vec::with_capacity(n * devices.len());
    for (d, item) in devices.iter().zip(per_device) {
        let pairs = pair_columns(&[item], n)?;
        let device = column_nodes(d);
        for (j, (_, m)) in pairs.into_iter().enumerate() {
            let col = j + 1;
            let mut source = device.clone();
            source.push(result.columns[col].clone());
            out.push(Target {
                data_col: result.column_index[col],
                device: Some(d.clone()),
                source: result.columns[col].clone(),
                path: target_device(item, &device, &source)?
                    .child(&target_measurement(&item.measurements[m], &source)?),
                aligned: item.aligned,
                data_type: result.types[col],
                write_type: result.types[col],
                written: 0,
            });
        }
    }
    Ok(out)
}

/// Reads the result batch by batch and writes every target's non-null values, one tablet
/// per target device and batch. Results without a time column are written at time 0.
fn write_all(engine: &Arc<Engine>, mut result: QueryResult, targets: &mut [Target]) -> Result<()> {
    if targets.is_empty() {
        return Ok(());
    }
    // Targets grouped by (target device, aligned), in first-appearance order.
    let mut groups: Vec<(PartialPath, bool, Vec<usize>)> = Vec::new();
    for (k, t) in targets.iter().enumerate() {
        let device = t.path.parent();
        match groups
            .iter_mut()
            .find(|(d, a, _)| *d == device && *a == t.aligned)
        {
            Some(g) => g.2.push(k),
            None => groups.push((device, t.aligned, vec![k])),
        }
    }
    let ignore_timestamp = result.ignore_timestamp;
    while let Some(batch) = result.stream.next_batch(4096)? {
        // With ALIGN BY DEVICE, the source device of each row.
        let device_of_row: Option<Vec<Option<Value>>> = targets[0].device.as_ref().map(|_| {
            (0..batch.len())
                .map(|r| {
                    batch
                        .columns
                        .first()
                        .and_then(|c| c.value(r).filter(|_| !c.is_null(r)))
                })
                .collect()
        });
        for (device, aligned, members) in &groups {
            // Per member: the rows it takes (non-null, and of its source device).
            let rows_of: Vec<Vec<usize>> = members
                .iter()
                .map(|&k| {
                    let t = &targets[k];
                    let Some(col) = batch.columns.get(t.data_col) else {
                        return Vec::new();
                    };
                    let want = t
                        .device
                        .as_ref()
                        .map(|d| Value::Text(d.as_bytes().to_vec()));
                    (0..batch.len())
                        .filter(|&r| !col.is_null(r))
                        .filter(|&r| match (&want, &device_of_row) {
                            (Some(w), Some(rows)) => rows[r].as_ref() == Some(w),
                            _ => true,
                        })
                        .collect()
                })
                .collect();
            let time_of = |r: usize| if ignore_timestamp { 0 } else { batch.times[r] };
            let mut times: Vec<i64> = rows_of.iter().flatten().map(|&r| time_of(r)).collect();
            if times.is_empty() {
                continue;
            }
            times.sort_unstable();
            times.dedup();
            let mut columns = Vec::with_capacity(members.len());
            let mut measurements = Vec::with_capacity(members.len());
            let mut types = Vec::with_capacity(members.len());
            for (&k, rows) in members.iter().zip(&rows_of) {
                let t = &mut targets[k];
                let src = &batch.columns[t.data_col];
                let mut cells: Vec<Option<Value>> = vec![None; times.len()];
                for &r in rows {
                    if let Ok(at) = times.binary_search(&time_of(r)) {
                        cells[at] = src.value(r).map(|v| widen(v, t.write_type));
                    }
                }
                let mut b = ColumnBuilder::new(t.write_type, times.len());
                for c in &cells {
                    b.push(c.as_ref());
                }
                t.written += rows.len() as i64;
                columns.push(b.finish());
                measurements.push(t.path.last().to_string());
                types.push(t.write_type);
            }
            engine
                .insert_tablet(&InsertTablet {
                    device: device.clone(),
                    measurements,
                    types,
                    times,
                    columns,
                    aligned: *aligned,
                })
                .map_err(|e| {
                    Error::ExecuteStatement(format!(
                        "Error occurred while inserting tablets in SELECT INTO: TSStatus(code:{}, message:{e})",
                        e.status_code().code()
                    ))
                })?;
        }
    }
    Ok(())
}
