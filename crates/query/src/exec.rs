//! Non-query statements: schema DDL, SHOW/COUNT answers, INSERT, DELETE, templates,
//! TTL, users and utility statements.

use crate::analyze::eval_time;
use crate::result::{text, QueryResult, TableBuilder};
use crate::{Outcome, SessionContext};
use model::javahash::JavaHashMap;
use model::time::{now_ms, parse_datetime, TimeZone};
use model::{
    Error, InsertRow, InsertRows, MeasurementSchema, PartialPath, PathPattern, Result, RowValues,
    TSDataType, TemplateDef, TemplateMeasurement, Value,
};
use sql::ast::{
    AlterOp, BinaryOp, DatabaseAttributes, Expression, InsertStatement, Literal, MeasurementSpec,
    TagFilter, TemplateInfoKind, UnaryOp,
};
use storage::{Engine, SeriesInfo, TimeRange, TimeseriesSpec};

/// The version iotdb-rs reports to clients (the IoTDB release whose behaviour it follows).
pub const IOTDB_VERSION: &str = "1.0.1";

fn all_pattern() -> PathPattern {
    PathPattern::from_nodes(vec!["root".into(), "**".into()])
}

fn root_pattern() -> PathPattern {
    PathPattern::from_nodes(vec!["root".into()])
}

/// The concrete path of a pattern that must not contain wildcards.
pub fn concrete(p: &PathPattern) -> Result<PartialPath> {
    p.to_path().ok_or_else(|| {
        Error::IllegalPath(p.to_string(), Some("wildcards are not allowed here".into()))
    })
}

fn window<T>(rows: Vec<T>, limit: Option<u64>, offset: Option<u64>) -> impl Iterator<Item = T> {
    let skip = offset.unwrap_or(0).min(usize::MAX as u64) as usize;
    let take = limit.unwrap_or(u64::MAX).min(usize::MAX as u64) as usize;
    rows.into_iter().skip(skip).take(take)
}

/// Compact JSON object of string pairs in the given order: `{"k":"v"}`.
pub fn json_object(pairs: &[(String, String)]) -> String {
    let body: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}:{}",
                serde_json::Value::String(k.clone()),
                serde_json::Value::String(v.clone())
            )
        })
        .collect();
    format!("{{{}}}", body.join(","))
}

fn int64(v: i64) -> Option<Value> {
    Some(Value::Int64(v))
}

fn count_result(header: &str, n: usize) -> QueryResult {
    let mut t = TableBuilder::new(&[(header, TSDataType::Int64)]);
    t.row(vec![int64(n as i64)]);
    t.finish(true)
}

// ------------------------------------------------------------------ databases

/// CREATE DATABASE.
pub fn create_database(
    engine: &Engine,
    path: &PathPattern,
    a: &DatabaseAttributes,
) -> Result<Outcome> {
    let path = concrete(path)?;
    check_database_name(&path)?;
    for (name, v) in [
        ("SCHEMA_REPLICATION_FACTOR", a.schema_replication_factor),
        ("DATA_REPLICATION_FACTOR", a.data_replication_factor),
    ] {
        if let Some(v) = v {
            if v != 1 {
                return Err(Error::Unsupported(format!(
                    "{name}={v} is not supported yet (single node: 1 only)"
                )));
            }
        }
    }
    if let Some(ttl) = a.ttl {
        if ttl <= 0 {
            return Err(Error::Semantic("TTL should be positive.".into()));
        }
    }
    let interval = a
        .time_partition_interval
        .unwrap_or(engine.config().default_time_partition_interval_ms);
    engine.create_database_with_interval(&path, interval)?;
    if let Some(ttl) = a.ttl {
        engine.set_ttl(&path.to_pattern(), Some(ttl))?;
    }
    Ok(Outcome::Done)
}

/// IoTDB 1.0's rule for database names: every node below `root` consists of letters,
/// digits, underscores and CJK characters only (back-quoting does not widen it).
fn check_database_name(path: &PartialPath) -> Result<()> {
    let legal =
        |c: char| c.is_ascii_alphanumeric() || c == '_' || ('\u{2E80}'..='\u{9FFF}').contains(&c);
    if path
        .nodes()
        .iter()
        .skip(1)
        .all(|n| !n.is_empty() && n.chars().all(legal))
    {
        return Ok(());
    }
    Err(Error::IllegalPath(
        path.to_string(),
        Some("the database name can only contain english or chinese characters, numbers, backticks and underscores".into()),
    ))
}

/// SHOW DATABASES.
pub fn show_databases(engine: &Engine, path: Option<&PathPattern>) -> QueryResult {
    let pattern = path.cloned().unwrap_or_else(all_pattern);
    let mut t = TableBuilder::new(&[
        ("Database", TSDataType::Text),
        ("TTL(ms)", TSDataType::Int64),
        ("SchemaReplicationFactor", TSDataType::Int32),
        ("DataReplicationFactor", TSDataType::Int32),
        ("TimePartitionInterval", TSDataType::Int64),
        ("SchemaRegionNum", TSDataType::Int32),
        ("DataRegionNum", TSDataType::Int32),
    ]);
    for db in engine.databases(&pattern) {
        // Single node: the schema of a database lives in one schema region and its data in
        // one data region (see `Engine`), so both counts are 1.
        t.row(vec![
            text(db.path.to_string()),
            db.ttl_ms.map(Value::Int64),
            Some(Value::Int32(1)),
            Some(Value::Int32(1)),
            int64(db.time_partition_interval_ms),
            Some(Value::Int32(1)),
            Some(Value::Int32(1)),
        ]);
    }
    t.finish(true)
}

/// COUNT DATABASES.
pub fn count_databases(engine: &Engine, path: Option<&PathPattern>) -> QueryResult {
    let pattern = path.cloned().unwrap_or_else(all_pattern);
    // IoTDB 1.0 declares this count as INT32 (the other COUNT statements are INT64).
    let n = engine.databases(&pattern).len();
    // The header is the bare `count` (IoTDB 1.0's task hard-codes it).
    let mut t = TableBuilder::new(&[("count", TSDataType::Int32)]);
    t.row(vec![Some(Value::Int32(
        i32::try_from(n).unwrap_or(i32::MAX),
    ))]);
    t.finish(true)
}

/// SHOW TTL ON … / SHOW ALL TTL.
pub fn show_ttl(engine: &Engine, paths: &[PathPattern]) -> QueryResult {
    let mut t = TableBuilder::new(&[
        ("Database", TSDataType::Text),
        ("TTL(ms)", TSDataType::Int64),
    ]);
    let patterns = if paths.is_empty() {
        vec![all_pattern()]
    } else {
        paths.to_vec()
    };
    let mut seen = std::collections::HashSet::new();
    for p in &patterns {
        for db in engine.databases(p) {
            if seen.insert(db.path.clone()) {
                t.row(vec![text(db.path.to_string()), db.ttl_ms.map(Value::Int64)]);
            }
        }
    }
    t.finish(true)
}

// ------------------------------------------------------------------ time series

fn spec_of(engine: &Engine, path: PartialPath, m: &MeasurementSpec) -> Result<TimeseriesSpec> {
    let encoding = m.encoding.unwrap_or_else(|| m.data_type.default_encoding());
    encoding.check(m.data_type)?;
    Ok(TimeseriesSpec {
        path,
        data_type: m.data_type,
        encoding,
        compressor: m.compressor.unwrap_or(engine.config().default_compressor),
        props: m.props.clone(),
        tags: m.tags.clone(),
        attributes: m.attributes.clone(),
        alias: m.alias.clone(),
    })
}

/// CREATE TIMESERIES.
pub fn create_timeseries(
    engine: &Engine,
    path: &PartialPath,
    m: &MeasurementSpec,
) -> Result<Outcome> {
    // A series needs at least a database and a measurement below root.
    if path.nodes().len() < 3 {
        return Err(Error::IllegalPath(path.to_string(), None));
    }
    engine.create_timeseries(spec_of(engine, path.clone(), m)?)?;
    Ok(Outcome::Done)
}

/// CREATE ALIGNED TIMESERIES.
pub fn create_aligned(
    engine: &Engine,
    device: &PartialPath,
    ms: &[(String, MeasurementSpec)],
) -> Result<Outcome> {
    let mut seen = std::collections::HashSet::new();
    if ms.iter().any(|(name, _)| !seen.insert(name.as_str())) {
        return Err(Error::Semantic(
            "Measurement under an aligned device is not allowed to have the same measurement name"
                .into(),
        ));
    }
    let specs = ms
        .iter()
        .map(|(name, m)| spec_of(engine, device.child(name), m))
        .collect::<Result<Vec<_>>>()?;
    engine.create_aligned_timeseries(device, specs)?;
    Ok(Outcome::Done)
}

/// ALTER TIMESERIES.
pub fn alter_timeseries(engine: &Engine, path: &PartialPath, op: &AlterOp) -> Result<Outcome> {
    let op = match op.clone() {
        AlterOp::Rename { from, to } => storage::AlterOp::Rename { from, to },
        AlterOp::Set(kv) => storage::AlterOp::Set(kv),
        AlterOp::Drop(k) => storage::AlterOp::Drop(k),
        AlterOp::AddTags(kv) => storage::AlterOp::AddTags(kv),
        AlterOp::AddAttributes(kv) => storage::AlterOp::AddAttributes(kv),
        AlterOp::Upsert {
            alias,
            tags,
            attributes,
        } => storage::AlterOp::Upsert {
            alias,
            tags,
            attributes,
        },
    };
    engine.alter_timeseries(path, op)?;
    Ok(Outcome::Done)
}

fn tag_matches(s: &SeriesInfo, f: &TagFilter) -> bool {
    match f {
        TagFilter::Equals { key, value } => s.tags.iter().any(|(k, v)| k == key && v == value),
        TagFilter::Contains { key, value } => s
            .tags
            .iter()
            .any(|(k, v)| k == key && v.contains(value.as_str())),
    }
}

/// Deadband columns from creation properties: `LOSS=SDT` with its parameters.
fn deadband(props: &[(String, String)]) -> (Option<Value>, Option<Value>) {
    let Some((_, loss)) = props.iter().find(|(k, _)| k.eq_ignore_ascii_case("loss")) else {
        return (None, None);
    };
    let params: Vec<String> = props
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("loss"))
        .map(|(k, v)| format!("{}={}", k.to_ascii_lowercase(), v))
        .collect();
    (
        text(loss.to_ascii_uppercase()),
        text(format!("{{{}}}", params.join(", "))),
    )
}

/// SHOW [LATEST] TIMESERIES.
pub fn show_timeseries(
    engine: &Engine,
    path: Option<&PathPattern>,
    latest: bool,
    filter: Option<&TagFilter>,
    limit: Option<u64>,
    offset: Option<u64>,
) -> Result<QueryResult> {
    let pattern = path.cloned().unwrap_or_else(all_pattern);
    let mut series: Vec<SeriesInfo> = engine
        .series(&pattern)
        .into_iter()
        .filter(|s| filter.is_none_or(|f| tag_matches(s, f)))
        .collect();
    if filter.is_some() {
        // IoTDB 1.0 answers a tag filter from its tag index and sorts the matches by path.
        series.sort_by_key(|s| s.path.to_string());
    }
    if latest {
        let mut keyed = Vec::with_capacity(series.len());
        for s in series {
            let t = engine.last_point(&s.path)?.map(|(t, _)| t);
            keyed.push((t, s));
        }
        // Newest first; series without data last, in their original order.
        keyed.sort_by_key(|k| std::cmp::Reverse(k.0));
        series = keyed.into_iter().map(|(_, s)| s).collect();
    }
    let mut t = TableBuilder::new(&[
        ("Timeseries", TSDataType::Text),
        ("Alias", TSDataType::Text),
        ("Database", TSDataType::Text),
        ("DataType", TSDataType::Text),
        ("Encoding", TSDataType::Text),
        ("Compression", TSDataType::Text),
        ("Tags", TSDataType::Text),
        ("Attributes", TSDataType::Text),
        ("Deadband", TSDataType::Text),
        ("DeadbandParameters", TSDataType::Text),
    ]);
    for s in window(series, limit, offset) {
        let (db, dbp) = deadband(&s.props);
        t.row(vec![
            text(s.path.to_string()),
            s.alias.as_deref().and_then(text),
            text(s.database.to_string()),
            text(s.schema.data_type.name()),
            text(s.schema.encoding.name()),
            text(s.schema.compressor.name()),
            (!s.tags.is_empty())
                .then(|| json_object(&s.tags))
                .and_then(text),
            (!s.attributes.is_empty())
                .then(|| json_object(&s.attributes))
                .and_then(text),
            db,
            dbp,
        ]);
    }
    Ok(t.finish(true))
}

/// COUNT TIMESERIES [GROUP BY LEVEL].
pub fn count_timeseries(
    engine: &Engine,
    path: Option<&PathPattern>,
    filter: Option<&TagFilter>,
    level: Option<usize>,
) -> QueryResult {
    let pattern = path.cloned().unwrap_or_else(all_pattern);
    let series: Vec<SeriesInfo> = engine
        .series(&pattern)
        .into_iter()
        .filter(|s| filter.is_none_or(|f| tag_matches(s, f)))
        .collect();
    let Some(level) = level else {
        return count_result("count(timeseries)", series.len());
    };
    let mut groups: std::collections::BTreeMap<String, i64> = std::collections::BTreeMap::new();
    for s in &series {
        let nodes = s.path.nodes();
        if nodes.len() > level {
            let key = nodes[..=level].join(".");
            *groups.entry(key).or_default() += 1;
        }
    }
    let mut t = TableBuilder::new(&[
        ("Column", TSDataType::Text),
        ("count(timeseries)", TSDataType::Int64),
    ]);
    for (k, n) in groups {
        t.row(vec![text(k), int64(n)]);
    }
    t.finish(true)
}

/// SHOW DEVICES.
pub fn show_devices(
    engine: &Engine,
    path: Option<&PathPattern>,
    with_database: bool,
    limit: Option<u64>,
    offset: Option<u64>,
) -> QueryResult {
    let pattern = path.cloned().unwrap_or_else(all_pattern);
    let devices = engine.devices(&pattern);
    let mut header = vec![("Device", TSDataType::Text)];
    if with_database {
        header.push(("Database", TSDataType::Text));
    }
    header.push(("IsAligned", TSDataType::Text));
    let mut t = TableBuilder::new(&header);
    for d in window(devices, limit, offset) {
        let mut row = vec![text(d.path.to_string())];
        if with_database {
            row.push(text(d.database.to_string()));
        }
        row.push(text(if d.aligned { "true" } else { "false" }));
        t.row(row);
    }
    t.finish(true)
}

/// COUNT DEVICES.
pub fn count_devices(engine: &Engine, path: Option<&PathPattern>) -> QueryResult {
    let pattern = path.cloned().unwrap_or_else(all_pattern);
    count_result("count(devices)", engine.devices(&pattern).len())
}

/// SHOW CHILD PATHS.
pub fn show_child_paths(engine: &Engine, path: Option<&PathPattern>) -> QueryResult {
    let pattern = path.cloned().unwrap_or_else(root_pattern);
    let mut t = TableBuilder::new(&[
        ("ChildPaths", TSDataType::Text),
        ("NodeTypes", TSDataType::Text),
    ]);
    for (p, kind) in engine.child_paths(&pattern) {
        t.row(vec![text(p.to_string()), text(kind.name())]);
    }
    t.finish(true)
}

/// SHOW CHILD NODES.
pub fn show_child_nodes(engine: &Engine, path: Option<&PathPattern>) -> QueryResult {
    let pattern = path.cloned().unwrap_or_else(root_pattern);
    let mut t = TableBuilder::new(&[("ChildNodes", TSDataType::Text)]);
    let mut seen = std::collections::HashSet::new();
    for (p, _) in engine.child_paths(&pattern) {
        let node = p.last().to_string();
        if seen.insert(node.clone()) {
            t.row(vec![text(node)]);
        }
    }
    t.finish(true)
}

/// COUNT NODES p LEVEL = n.
pub fn count_nodes(engine: &Engine, path: &PathPattern, level: usize) -> QueryResult {
    count_result("count(nodes)", engine.nodes_at_level(path, level).len())
}

// ------------------------------------------------------------------ templates

/// CREATE SCHEMA TEMPLATE.
pub fn create_template(
    engine: &Engine,
    name: &str,
    aligned: bool,
    ms: &[(String, MeasurementSpec)],
) -> Result<Outcome> {
    let mut measurements = Vec::with_capacity(ms.len());
    for (m, spec) in ms {
        let encoding = spec
            .encoding
            .unwrap_or_else(|| spec.data_type.default_encoding());
        // the encoding is checked with the template (IoTDB's CREATE_TEMPLATE_ERROR)
        measurements.push(TemplateMeasurement {
            path: m.clone(),
            aligned,
            schema: MeasurementSchema {
                name: m.clone(),
                data_type: spec.data_type,
                encoding,
                compressor: spec
                    .compressor
                    .unwrap_or(engine.config().default_compressor),
            },
        });
    }
    engine.create_template(TemplateDef {
        name: name.to_string(),
        aligned,
        measurements,
    })?;
    Ok(Outcome::Done)
}

fn template_or_err(engine: &Engine, name: &str) -> Result<TemplateDef> {
    engine
        .template(name)
        .ok_or_else(|| Error::UndefinedTemplate(name.to_string()))
}

/// Template measurements in Java HashMap order of their paths.
fn template_nodes(t: &TemplateDef) -> Vec<TemplateMeasurement> {
    let mut map = JavaHashMap::new();
    for m in &t.measurements {
        map.insert(m.path.clone(), m.clone());
    }
    map.iter().map(|(_, m)| m.clone()).collect()
}

/// SHOW SCHEMA TEMPLATES.
pub fn show_templates(engine: &Engine) -> QueryResult {
    let mut t = TableBuilder::new(&[("TemplateName", TSDataType::Text)]);
    for n in engine.template_names() {
        t.row(vec![text(n)]);
    }
    t.finish(true)
}

/// SHOW NODES IN SCHEMA TEMPLATE.
pub fn show_template_nodes(engine: &Engine, name: &str) -> Result<QueryResult> {
    let def = template_or_err(engine, name)?;
    let mut t = TableBuilder::new(&[
        ("ChildNodes", TSDataType::Text),
        ("DataType", TSDataType::Text),
        ("Encoding", TSDataType::Text),
        ("Compression", TSDataType::Text),
    ]);
    for m in template_nodes(&def) {
        t.row(vec![
            text(&m.path),
            text(m.schema.data_type.name()),
            text(m.schema.encoding.name()),
            text(m.schema.compressor.name()),
        ]);
    }
    Ok(t.finish(true))
}

fn paths_table(paths: impl IntoIterator<Item = String>) -> QueryResult {
    let mut t = TableBuilder::new(&[("Paths", TSDataType::Text)]);
    for p in paths {
        t.row(vec![text(p)]);
    }
    t.finish(true)
}

/// SHOW PATHS SET SCHEMA TEMPLATE.
pub fn show_paths_set(engine: &Engine, name: &str) -> Result<QueryResult> {
    template_or_err(engine, name)?;
    let paths = engine.paths_template_set_on(name)?;
    Ok(paths_table(paths.into_iter().map(|p| p.to_string())))
}

/// SHOW PATHS [p] USING SCHEMA TEMPLATE.
pub fn show_paths_using(
    engine: &Engine,
    path: Option<&PathPattern>,
    name: &str,
) -> Result<QueryResult> {
    template_or_err(engine, name)?;
    let paths = engine.paths_template_using_on(name)?;
    Ok(paths_table(
        paths
            .into_iter()
            .filter(|p| path.is_none_or(|pat| pat.matches(p)))
            .map(|p| p.to_string()),
    ))
}

/// The `querySchemaTemplate` RPC, answered as a one-column result set:
/// `count` (INT32) for CountMeasurements, `result` (BOOLEAN) for IsMeasurement/PathExist,
/// `measurements` (TEXT rows) for the listing questions.
pub fn template_info(
    engine: &Engine,
    kind: TemplateInfoKind,
    name: &str,
    path: &str,
) -> Result<QueryResult> {
    let def = template_or_err(engine, name)?;
    let bool_answer = |b: bool| {
        let mut t = TableBuilder::new(&[("result", TSDataType::Boolean)]);
        t.row(vec![Some(Value::Boolean(b))]);
        t.finish(true)
    };
    let list = |items: Vec<String>| {
        let mut t = TableBuilder::new(&[("measurements", TSDataType::Text)]);
        for i in items {
            t.row(vec![text(i)]);
        }
        t.finish(true)
    };
    Ok(match kind {
        TemplateInfoKind::CountMeasurements => {
            let mut t = TableBuilder::new(&[("count", TSDataType::Int32)]);
            t.row(vec![Some(Value::Int32(
                i32::try_from(def.measurements.len()).unwrap_or(i32::MAX),
            ))]);
            t.finish(true)
        }
        TemplateInfoKind::IsMeasurement => {
            bool_answer(def.measurements.iter().any(|m| m.path == path))
        }
        TemplateInfoKind::PathExist => bool_answer(
            def.measurements
                .iter()
                .any(|m| m.path == path || m.path.starts_with(&format!("{path}."))),
        ),
        TemplateInfoKind::ShowMeasurements => list(
            template_nodes(&def)
                .into_iter()
                .map(|m| m.path)
                .filter(|p| path.is_empty() || p == path || p.starts_with(&format!("{path}.")))
                .collect(),
        ),
        TemplateInfoKind::ShowSetTemplates => list(
            engine
                .paths_template_set_on(name)?
                .into_iter()
                .map(|p| p.to_string())
                .collect(),
        ),
        TemplateInfoKind::ShowUsingTemplates => list(
            engine
                .paths_template_using_on(name)?
                .into_iter()
                .map(|p| p.to_string())
                .collect(),
        ),
    })
}

// ------------------------------------------------------------------ insert / delete

/// The value a literal gives for a measurement of type `target` (an existing series), or
/// `None` when it cannot be converted (the storage engine then reports the mismatch).
fn literal_for_type(l: &Literal, target: TSDataType) -> Option<Value> {
    let as_text = |s: String| Value::Text(s.into_bytes());
    if target == TSDataType::Date {
        // `'2024-04-01'`, or the stored form 20240401
        return match l {
            Literal::String(s) => Value::parse_as(s, target).ok(),
            Literal::Integer(v) => Value::parse_as(&v.to_string(), target).ok(),
            _ => None,
        };
    }
    match (l, target.physical()) {
        (Literal::Binary(b), TSDataType::Text) if target == TSDataType::Blob => {
            Some(Value::Text(b.clone()))
        }
        (Literal::Binary(_), _) => None,
        (Literal::String(s), TSDataType::Text) => Some(as_text(s.clone())),
        (Literal::String(_), _) => None,
        (Literal::Integer(v), TSDataType::Text) => Some(as_text(v.to_string())),
        (Literal::Float(_, s), TSDataType::Text) => Some(as_text(s.clone())),
        (Literal::Boolean(b), TSDataType::Text) => Some(as_text(b.to_string())),
        (Literal::NaN, TSDataType::Text) => Some(as_text("NaN".into())),
        (Literal::Integer(v), t) => Value::parse_as(&v.to_string(), t).ok(),
        (Literal::Float(_, s), t) if t != TSDataType::Boolean => Value::parse_as(s, t).ok(),
        (Literal::Boolean(b), TSDataType::Boolean) => Some(Value::Boolean(*b)),
        (Literal::NaN, TSDataType::Float) => Some(Value::Float(f32::NAN)),
        (Literal::NaN, TSDataType::Double) => Some(Value::Double(f64::NAN)),
        _ => None,
    }
}

/// The value of a literal for a series that does not exist yet, with IoTDB's type inference.
fn inferred_literal(engine: &Engine, l: &Literal) -> Result<Option<Value>> {
    let cfg = engine.config();
    let parse = |text: &str, t: TSDataType| Value::parse_as(text, t).map(Some);
    match l {
        Literal::Null => Ok(None),
        Literal::Boolean(b) => parse(&b.to_string(), cfg.boolean_string_infer_type),
        Literal::Integer(v) => {
            // IoTDB 1.0: `Long.parseLong(s) > 1 << 24` takes long_string_infer_type, any
            // other integer integer_string_infer_type.
            let t = if *v > (1i64 << 24) {
                cfg.long_string_infer_type
            } else {
                cfg.integer_string_infer_type
            };
            parse(&v.to_string(), t)
        }
        // A number written without a `.` (`1e3`) is not a Java long, and IoTDB 1.0 gives
        // such numbers long_string_infer_type; with a `.` it is floating_string_infer_type.
        Literal::Float(_, s) if !s.contains('.') => parse(s, cfg.long_string_infer_type),
        Literal::Float(_, s) => parse(s, cfg.floating_string_infer_type),
        Literal::NaN => parse("NaN", cfg.nan_string_infer_type),
        Literal::String(s) => Ok(Some(Value::Text(s.as_bytes().to_vec()))),
        Literal::Binary(b) => Ok(Some(Value::Text(b.clone()))),
        Literal::DateTime(_) | Literal::Now | Literal::Duration(_) => Err(Error::Semantic(
            "A time literal cannot be inserted as a value".into(),
        )),
    }
}

/// A literal as the value written for a series whose registered type is `existing`
/// (`None` for a series that does not exist yet), with the type it is written as: the
/// registered type when it fits, else its own (storage then reports the mismatch); a new
/// series gets IoTDB's inferred type (BLOB for `X'…'`).
fn insert_value(
    engine: &Engine,
    l: &Literal,
    existing: Option<TSDataType>,
    zone: &TimeZone,
) -> Result<Option<(TSDataType, Value)>> {
    if matches!(l, Literal::Null) {
        return Ok(None);
    }
    // A datetime literal (`2024-04-01T08:00:00+08:00`, `now()`) is a value of an existing
    // TIMESTAMP series, read in the session's time zone; elsewhere it is refused below.
    if existing == Some(TSDataType::Timestamp) {
        match l {
            Literal::DateTime(text) => {
                let ms = parse_datetime(text, zone)?;
                return Ok(Some((TSDataType::Timestamp, Value::Int64(ms))));
            }
            Literal::Now => return Ok(Some((TSDataType::Timestamp, Value::Int64(now_ms())))),
            _ => {}
        }
    }
    let own = |v: Value| Some((v.data_type(), v));
    Ok(match existing {
        Some(t) => match literal_for_type(l, t) {
            Some(v) => Some((t, v)),
            None => match l {
                Literal::String(s) => own(Value::Text(s.as_bytes().to_vec())),
                Literal::Binary(b) => Some((TSDataType::Blob, Value::Text(b.clone()))),
                Literal::Integer(v) => own(Value::Int64(*v)),
                Literal::Float(v, _) => own(Value::Double(*v)),
                Literal::Boolean(b) => own(Value::Boolean(*b)),
                Literal::NaN => own(Value::Double(f64::NAN)),
                _ => inferred_literal(engine, l)?.and_then(own),
            },
        },
        None if matches!(l, Literal::Binary(_)) => {
            inferred_literal(engine, l)?.map(|v| (TSDataType::Blob, v))
        }
        None => inferred_literal(engine, l)?.and_then(own),
    })
}

/// INSERT INTO … VALUES.
pub fn insert(engine: &Engine, s: &InsertStatement, ctx: &SessionContext) -> Result<Outcome> {
    if s.rows.len() > 1 && s.rows.iter().any(|r| r.time.is_none()) {
        return Err(Error::Semantic(
            "need timestamps when insert multi rows".into(),
        ));
    }
    // Registered types; a row that creates a series fixes its type for the rows after it
    // (IoTDB converts `(1, 1.5), (2, NaN)` to FLOAT, `(1, 'a'), (2, 3)` to TEXT).
    let mut existing: Vec<Option<TSDataType>> = s
        .measurements
        .iter()
        .map(|m| engine.insert_type(&s.device, m))
        .collect();
    let mut rows = Vec::with_capacity(s.rows.len());
    for r in &s.rows {
        if r.values.len() != s.measurements.len() {
            return Err(Error::Semantic(format!(
                "the number of measurements ({}) and values ({}) is not the same",
                s.measurements.len(),
                r.values.len()
            )));
        }
        let time = match &r.time {
            None => now_ms(),
            Some(e) => eval_time(e, &ctx.zone)?,
        };
        let mut measurements = Vec::new();
        let mut values = Vec::new();
        for ((m, l), t) in s.measurements.iter().zip(&r.values).zip(&mut existing) {
            if let Some(v) = insert_value(engine, l, *t, &ctx.zone)? {
                t.get_or_insert(v.0);
                measurements.push(m.clone());
                values.push(Some(v));
            }
        }
        if measurements.is_empty() {
            continue;
        }
        rows.push(InsertRow {
            device: s.device.clone(),
            time,
            measurements,
            values: RowValues::Typed(values),
            aligned: s.aligned,
        });
    }
    if !rows.is_empty() {
        engine.insert_rows(&InsertRows { rows })?;
    }
    Ok(Outcome::Done)
}

const DELETE_ATOMIC: &str = "For delete statement, where clause can only contain atomic expressions like : time > XXX, time <= XXX, or two atomic expressions connected by 'AND'";
const DELETE_VALUE_FILTER: &str = "For delete statement, where clause can only contain time expressions, value filter is not currently supported.";

fn delete_narrow(e: &Expression, range: &mut TimeRange, ctx: &SessionContext) -> Result<()> {
    match e {
        Expression::Binary {
            op: BinaryOp::And,
            left,
            right,
        } => {
            delete_narrow(left, range, ctx)?;
            delete_narrow(right, range, ctx)
        }
        Expression::Binary {
            op: BinaryOp::Or, ..
        } => Err(Error::Semantic(DELETE_ATOMIC.into())),
        Expression::Binary { op, left, right } => {
            let (op, value) = match (left.as_ref(), right.as_ref()) {
                (Expression::Time, v) => (*op, v),
                (v, Expression::Time) => (
                    match op {
                        BinaryOp::Lt => BinaryOp::Gt,
                        BinaryOp::LtEq => BinaryOp::GtEq,
                        BinaryOp::Gt => BinaryOp::Lt,
                        BinaryOp::GtEq => BinaryOp::LtEq,
                        o => *o,
                    },
                    v,
                ),
                _ => return Err(Error::Semantic(DELETE_VALUE_FILTER.into())),
            };
            let t = eval_time(value, &ctx.zone)
                .map_err(|_| Error::Semantic(DELETE_VALUE_FILTER.into()))?;
            let (lo, hi) = match op {
                BinaryOp::Eq => (t, t),
                BinaryOp::Gt => (t.saturating_add(1), i64::MAX),
                BinaryOp::GtEq => (t, i64::MAX),
                BinaryOp::Lt => (i64::MIN, t.saturating_sub(1)),
                BinaryOp::LtEq => (i64::MIN, t),
                _ => return Err(Error::Semantic(DELETE_ATOMIC.into())),
            };
            if (op == BinaryOp::Gt && t == i64::MAX) || (op == BinaryOp::Lt && t == i64::MIN) {
                *range = TimeRange::new(i64::MAX, i64::MIN);
            }
            range.start = range.start.max(lo);
            range.end = range.end.min(hi);
            Ok(())
        }
        // IoTDB takes only comparisons of time joined by AND: `time BETWEEN` is refused too
        Expression::Between { expr, .. } if matches!(**expr, Expression::Time) => {
            Err(Error::Semantic(DELETE_ATOMIC.into()))
        }
        Expression::Unary {
            op: UnaryOp::Not, ..
        } => Err(Error::Semantic(DELETE_ATOMIC.into())),
        _ => Err(Error::Semantic(DELETE_VALUE_FILTER.into())),
    }
}

/// DELETE FROM … [WHERE time conditions].
pub fn delete(
    engine: &Engine,
    paths: &[PathPattern],
    where_clause: Option<&Expression>,
    ctx: &SessionContext,
) -> Result<Outcome> {
    let mut range = TimeRange::ALL;
    if let Some(w) = where_clause {
        delete_narrow(w, &mut range, ctx)?;
    }
    // IoTDB refuses a time range that excludes every timestamp (an internal error, 305)
    if range.start > range.end {
        return Err(Error::internal(format!(
            "min:{} should not be larger than max: {}",
            range.start, range.end
        )));
    }
    if !range.is_empty() {
        engine.delete_data(paths, range)?;
    }
    Ok(Outcome::Done)
}

// ------------------------------------------------------------------ users

// ------------------------------------------------------------------ utility

/// SHOW VERSION.
pub fn show_version() -> QueryResult {
    let mut t = TableBuilder::new(&[
        ("Version", TSDataType::Text),
        ("BuildInfo", TSDataType::Text),
    ]);
    t.row(vec![
        text(IOTDB_VERSION),
        text(format!("iotdb-rs {}", env!("CARGO_PKG_VERSION"))),
    ]);
    t.finish(true)
}

/// SHOW CLUSTER [DETAILS]: this single process acts as one ConfigNode and one DataNode.
/// SHOW DATANODES: the one node of this server, holding every region.
pub fn show_data_nodes(engine: &Engine) -> QueryResult {
    let mut t = TableBuilder::new(&[
        ("NodeID", TSDataType::Int32),
        ("Status", TSDataType::Text),
        ("RpcAddress", TSDataType::Text),
        ("RpcPort", TSDataType::Int32),
        ("DataRegionNum", TSDataType::Int32),
        ("SchemaRegionNum", TSDataType::Int32),
    ]);
    // One schema and one data region per database (see SHOW REGIONS).
    let n = i32::try_from(engine.databases(&all_pattern()).len()).unwrap_or(i32::MAX);
    t.row(vec![
        Some(Value::Int32(DATA_NODE_ID)),
        text("Running"),
        text("127.0.0.1"),
        None,
        Some(Value::Int32(n)),
        Some(Value::Int32(n)),
    ]);
    t.finish(true)
}

/// SHOW CONFIGNODES: the single node's configuration role, always the leader.
pub fn show_config_nodes() -> QueryResult {
    let mut t = TableBuilder::new(&[
        ("NodeID", TSDataType::Int32),
        ("Status", TSDataType::Text),
        ("InternalAddress", TSDataType::Text),
        ("InternalPort", TSDataType::Int32),
        ("Role", TSDataType::Text),
    ]);
    t.row(vec![
        Some(Value::Int32(CONFIG_NODE_ID)),
        text("Running"),
        text("127.0.0.1"),
        Some(Value::Int32(CONFIG_NODE_PORT)),
        text("Leader"),
    ]);
    t.finish(true)
}

/// SHOW [SCHEMA|DATA] REGIONS [OF DATABASE …]: per database one schema region and one data
/// region (both numbered by the database's region id), all on the one node, all leaders.
/// There is no slot partitioning, so the slot counts are NULL.
pub fn show_regions(
    engine: &Engine,
    kind: Option<&sql::ast::RegionKind>,
    databases: &[PathPattern],
) -> QueryResult {
    use sql::ast::RegionKind;
    let mut t = TableBuilder::new(&[
        ("RegionId", TSDataType::Int32),
        ("Type", TSDataType::Text),
        ("Status", TSDataType::Text),
        ("Database", TSDataType::Text),
        ("SeriesSlotNum", TSDataType::Int32),
        ("TimeSlotNum", TSDataType::Int64),
        ("DataNodeId", TSDataType::Int32),
        ("RpcAddress", TSDataType::Text),
        ("RpcPort", TSDataType::Int32),
        ("Role", TSDataType::Text),
    ]);
    let patterns = if databases.is_empty() {
        vec![all_pattern()]
    } else {
        databases.to_vec()
    };
    let mut seen = std::collections::HashSet::new();
    let mut dbs = Vec::new();
    for p in &patterns {
        for db in engine.databases(p) {
            if seen.insert(db.path.clone()) {
                dbs.push(db);
            }
        }
    }
    for (k, name) in [
        (RegionKind::Schema, "SchemaRegion"),
        (RegionKind::Data, "DataRegion"),
    ] {
        if kind.is_some_and(|want| *want != k) {
            continue;
        }
        for db in &dbs {
            t.row(vec![
                Some(Value::Int32(
                    i32::try_from(db.region_id).unwrap_or(i32::MAX),
                )),
                text(name),
                text("Running"),
                text(db.path.to_string()),
                None,
                None,
                Some(Value::Int32(DATA_NODE_ID)),
                text("127.0.0.1"),
                None,
                text("Leader"),
            ]);
        }
    }
    t.finish(true)
}

/// SHOW VARIABLES: the settings of this server that IoTDB reports there.
pub fn show_variables(engine: &Engine) -> QueryResult {
    let c = engine.config();
    let mut t = TableBuilder::new(&[("Variable", TSDataType::Text), ("Value", TSDataType::Text)]);
    let vars: Vec<(&str, String)> = vec![
        ("ClusterName", "defaultCluster".into()),
        ("DataReplicationFactor", "1".into()),
        ("SchemaReplicationFactor", "1".into()),
        (
            "TimePartitionInterval",
            c.default_time_partition_interval_ms.to_string(),
        ),
        (
            "DefaultStorageGroupLevel",
            c.default_storage_group_level.to_string(),
        ),
        ("DefaultCompressor", c.default_compressor.name().to_string()),
        ("TimestampPrecision", "ms".into()),
        ("EnableAutoCreateSchema", c.auto_create_schema.to_string()),
        ("ReadConsistencyLevel", "strong".into()),
    ];
    for (k, v) in vars {
        t.row(vec![text(k), text(v)]);
    }
    t.finish(true)
}

/// SHOW FUNCTIONS: the built-in functions iotdb-rs evaluates (aggregations as `native`, the
/// others as `built-in UDTF`, IoTDB's types); there are no user-defined functions, and no Java
/// class behind any of them (NULL).
pub fn show_functions() -> QueryResult {
    let mut t = TableBuilder::new(&[
        ("FunctionName", TSDataType::Text),
        ("FunctionType", TSDataType::Text),
        ("ClassName(UDF)", TSDataType::Text),
    ]);
    let mut names: Vec<(String, &str)> = Vec::new();
    for n in crate::agg::AggKind::NAMES {
        names.push((n.to_ascii_uppercase(), "native"));
    }
    for n in crate::expr::MathFn::NAMES
        .iter()
        .chain(crate::rowfn::RowFn::NAMES)
        .chain(crate::seriesfn::SeriesFn::NAMES)
    {
        names.push((n.to_ascii_uppercase(), "built-in UDTF"));
    }
    names.sort();
    for (n, kind) in names {
        t.row(vec![text(n), text(kind), None]);
    }
    t.finish(true)
}

/// SHOW TRIGGERS: iotdb-rs has no triggers (CREATE TRIGGER is not supported), so no rows.
pub fn show_triggers() -> QueryResult {
    TableBuilder::new(&[
        ("TriggerName", TSDataType::Text),
        ("Event", TSDataType::Text),
        ("Type", TSDataType::Text),
        ("State", TSDataType::Text),
        ("PathPattern", TSDataType::Text),
        ("ClassName", TSDataType::Text),
        ("NodeID", TSDataType::Text),
    ])
    .finish(true)
}

/// SHOW CONTINUOUS QUERIES: none exist (CREATE CONTINUOUS QUERY is not supported), so no rows.
pub fn show_continuous_queries() -> QueryResult {
    TableBuilder::new(&[
        ("CQId", TSDataType::Text),
        ("Query", TSDataType::Text),
        ("State", TSDataType::Text),
    ])
    .finish(true)
}

/// Node id SHOW CLUSTER/DATANODES/REGIONS give the data-serving role of this server.
const DATA_NODE_ID: i32 = 1;
/// Node id of the configuration role (SHOW CLUSTER/CONFIGNODES).
const CONFIG_NODE_ID: i32 = 0;
/// Internal port SHOW CLUSTER/CONFIGNODES report for the configuration role.
const CONFIG_NODE_PORT: i32 = 10710;

/// SHOW CLUSTER [DETAILS].
pub fn show_cluster(details: bool) -> QueryResult {
    let mut header = vec![
        ("NodeID", TSDataType::Int32),
        ("NodeType", TSDataType::Text),
        ("Status", TSDataType::Text),
        ("InternalAddress", TSDataType::Text),
        ("InternalPort", TSDataType::Int32),
    ];
    if details {
        header.extend([
            ("ConfigConsensusPort", TSDataType::Text),
            ("RpcAddress", TSDataType::Text),
            ("RpcPort", TSDataType::Text),
            ("MppPort", TSDataType::Text),
            ("SchemaConsensusPort", TSDataType::Text),
            ("DataConsensusPort", TSDataType::Text),
        ]);
    }
    let mut t = TableBuilder::new(&header);
    for (id, kind, port) in [
        (CONFIG_NODE_ID, "ConfigNode", CONFIG_NODE_PORT),
        (DATA_NODE_ID, "DataNode", 10730),
    ] {
        let mut row = vec![
            Some(Value::Int32(id)),
            text(kind),
            text("Running"),
            text("127.0.0.1"),
            Some(Value::Int32(port)),
        ];
        if details {
            row.extend((0..6).map(|_| None));
        }
        t.row(row);
    }
    t.finish(true)
}
