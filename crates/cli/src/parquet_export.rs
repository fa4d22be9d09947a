//! `iotdb-rs export-parquet`: a query's result into one Parquet file.
//!
//! The rows come batch by batch from the session and go out a row group at a time
//! (`--row-group-size` rows), so memory stays bounded whatever the result size. Every value
//! column is OPTIONAL (nulls kept) and typed after its IoTDB type:
//!
//! | IoTDB     | Parquet physical / logical        | Arrow (pyarrow, DuckDB)  |
//! |-----------|-----------------------------------|--------------------------|
//! | BOOLEAN   | BOOLEAN                           | bool                     |
//! | INT32     | INT32                             | int32                    |
//! | INT64     | INT64                             | int64                    |
//! | FLOAT     | FLOAT                             | float32                  |
//! | DOUBLE    | DOUBLE                            | float64                  |
//! | TEXT, STRING | BYTE_ARRAY / STRING            | utf8                     |
//! | BLOB      | BYTE_ARRAY                        | binary                   |
//! | DATE      | INT32 / DATE                      | date32                   |
//! | TIMESTAMP | INT64 / TIMESTAMP(MILLIS, UTC)    | timestamp[ms, UTC]       |
//!
//! The `Time` column (absent for results without times, such as aggregates) is a required
//! `TIMESTAMP(MILLIS, UTC)`, which pyarrow, pandas, Polars, DuckDB and Spark read as a
//! timestamp; `--time-type int64` writes plain epoch milliseconds instead.

use crate::conn::{self, ConnectArgs};
use crate::progress::Progress;
use crate::render::Header;
use client::Session;
use model::{TSDataType, Value};
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as PhysicalType};
use parquet::data_type::{
    BoolType, ByteArray, ByteArrayType, DoubleType, FloatType, Int32Type, Int64Type,
};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::{SerializedColumnWriter, SerializedFileWriter};
use parquet::schema::types::Type;
use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::Arc;

/// How the `Time` column is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimeType {
    /// INT64 with the TIMESTAMP(MILLIS, UTC) annotation (a timestamp to readers).
    Timestamp,
    /// Plain INT64 epoch milliseconds.
    Int64,
}

/// Column compression of the Parquet file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Codec {
    /// Snappy (what Spark and pyarrow write by default).
    Snappy,
    /// No compression.
    None,
}

/// `export-parquet` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ExportParquetArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// The Parquet file to write.
    #[arg(short = 't', long = "target", alias = "output")]
    pub target: PathBuf,
    /// The query to export (instead of --path).
    #[arg(short = 'q', long = "query", conflicts_with = "path")]
    pub query: Option<String>,
    /// A path pattern to export, e.g. root.sg.** or root.sg.*.s1 [default: root.**].
    #[arg(long = "path")]
    pub path: Option<String>,
    /// First time exported (inclusive; epoch milliseconds or ISO-8601), with --path.
    #[arg(long = "start-time", conflicts_with = "query")]
    pub start_time: Option<String>,
    /// End of the exported times (exclusive), with --path.
    #[arg(long = "end-time", conflicts_with = "query")]
    pub end_time: Option<String>,
    /// How the Time column is written.
    #[arg(long = "time-type", value_enum, default_value = "timestamp")]
    pub time_type: TimeType,
    /// Rows per Parquet row group (and the most rows held in memory).
    #[arg(long = "row-group-size", default_value_t = 100_000)]
    pub row_group_size: usize,
    /// Column compression.
    #[arg(long = "compression", value_enum, default_value = "snappy")]
    pub compression: Codec,
    /// Rows per fetch from the server.
    #[arg(long = "fetch-size", default_value_t = 10_000)]
    pub fetch_size: i32,
}

/// Runs `export-parquet`; returns the exit code.
pub fn main(args: &ExportParquetArgs) -> i32 {
    crate::exit_code("export-parquet", run(args))
}

/// The query of `--path` and the time range: the last node is selected from its parent.
pub fn path_query(path: &str, start: Option<&str>, end: Option<&str>) -> Result<String, String> {
    let path = path.trim();
    let (prefix, last) = path
        .rsplit_once('.')
        .filter(|(p, l)| !p.is_empty() && !l.is_empty())
        .ok_or_else(|| format!("--path {path:?} is not a path pattern such as root.sg.**"))?;
    let mut q = format!("select {last} from {prefix}");
    let mut conds = Vec::new();
    if let Some(s) = start {
        conds.push(format!("time >= {s}"));
    }
    if let Some(e) = end {
        conds.push(format!("time < {e}"));
    }
    if !conds.is_empty() {
        q.push_str(" where ");
        q.push_str(&conds.join(" and "));
    }
    Ok(q)
}

fn run(args: &ExportParquetArgs) -> Result<(), String> {
    let query = match &args.query {
        Some(q) => q.clone(),
        None => path_query(
            args.path.as_deref().unwrap_or("root.**"),
            args.start_time.as_deref(),
            args.end_time.as_deref(),
        )?,
    };
    let zone_id = conn::local_zone();
    let mut conn = args
        .connect
        .open(&zone_id, args.fetch_size)
        .map_err(|e| crate::connect_error(&args.connect, &e))?;
    let mut progress = Progress::new("exported");
    export_query(conn.session.as_mut(), &query, args, &mut progress)
        .map_err(|e| format!("query {query}: {e}"))?;
    conn.session.close().map_err(|e| e.to_string())?;
    progress.finish();
    eprintln!(
        "Export completely: {} rows into {}",
        progress.rows,
        args.target.display()
    );
    Ok(())
}

/// The Parquet type of a value column of IoTDB type `ty`.
fn column_type(name: &str, ty: TSDataType) -> parquet::errors::Result<Type> {
    let (physical, logical) = match ty {
        TSDataType::Boolean => (PhysicalType::BOOLEAN, None),
        TSDataType::Int32 => (PhysicalType::INT32, None),
        TSDataType::Int64 => (PhysicalType::INT64, None),
        TSDataType::Float => (PhysicalType::FLOAT, None),
        TSDataType::Double => (PhysicalType::DOUBLE, None),
        TSDataType::Text | TSDataType::String => {
            (PhysicalType::BYTE_ARRAY, Some(LogicalType::String))
        }
        TSDataType::Blob => (PhysicalType::BYTE_ARRAY, None),
        TSDataType::Date => (PhysicalType::INT32, Some(LogicalType::Date)),
        TSDataType::Timestamp => (PhysicalType::INT64, Some(millis())),
    };
    Type::primitive_type_builder(name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()
}

fn millis() -> LogicalType {
    LogicalType::Timestamp {
        is_adjusted_to_u_t_c: true,
        unit: TimeUnit::MILLIS,
    }
}

/// Column names made unique (`s1`, `s1_1`, …): Parquet readers reject duplicate names.
fn unique_names(names: &[String]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    names
        .iter()
        .map(|n| {
            let mut name = n.clone();
            let mut k = 1;
            while !seen.insert(name.clone()) {
                name = format!("{n}_{k}");
                k += 1;
            }
            name
        })
        .collect()
}

/// The values of one column of the row group being built, with definition levels
/// (1 = present, 0 = null); values hold only present entries.
enum Buf {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    Bytes(Vec<ByteArray>),
}

struct ColBuf {
    ty: TSDataType,
    values: Buf,
    defs: Vec<i16>,
}

impl ColBuf {
    fn new(ty: TSDataType) -> Self {
        let values = match ty {
            TSDataType::Boolean => Buf::Bool(Vec::new()),
            TSDataType::Int32 | TSDataType::Date => Buf::I32(Vec::new()),
            TSDataType::Int64 | TSDataType::Timestamp => Buf::I64(Vec::new()),
            TSDataType::Float => Buf::F32(Vec::new()),
            TSDataType::Double => Buf::F64(Vec::new()),
            TSDataType::Text | TSDataType::String | TSDataType::Blob => Buf::Bytes(Vec::new()),
        };
        ColBuf {
            ty,
            values,
            defs: Vec::new(),
        }
    }

    /// Appends one cell; a value of another kind than the column's type is an error.
    fn push(&mut self, v: Option<Value>) -> Result<(), String> {
        let Some(v) = v else {
            self.defs.push(0);
            return Ok(());
        };
        match (&mut self.values, v) {
            (Buf::Bool(b), Value::Boolean(x)) => b.push(x),
            (Buf::I32(b), Value::Int32(x)) if self.ty == TSDataType::Date => b.push(date32(x)?),
            (Buf::I32(b), Value::Int32(x)) => b.push(x),
            (Buf::I64(b), Value::Int64(x)) => b.push(x),
            (Buf::F32(b), Value::Float(x)) => b.push(x),
            (Buf::F64(b), Value::Double(x)) => b.push(x),
            (Buf::Bytes(b), Value::Text(x)) => b.push(ByteArray::from(x)),
            (_, v) => return Err(format!("a {} column holds the value {v:?}", self.ty.name())),
        }
        self.defs.push(1);
        Ok(())
    }

    /// Writes the buffered cells into `col` and empties the buffer.
    fn write(&mut self, col: &mut SerializedColumnWriter<'_>) -> parquet::errors::Result<()> {
        let defs = Some(&self.defs[..]);
        match &mut self.values {
            Buf::Bool(v) => col.typed::<BoolType>().write_batch(v, defs, None)?,
            Buf::I32(v) => col.typed::<Int32Type>().write_batch(v, defs, None)?,
            Buf::I64(v) => col.typed::<Int64Type>().write_batch(v, defs, None)?,
            Buf::F32(v) => col.typed::<FloatType>().write_batch(v, defs, None)?,
            Buf::F64(v) => col.typed::<DoubleType>().write_batch(v, defs, None)?,
            Buf::Bytes(v) => col.typed::<ByteArrayType>().write_batch(v, defs, None)?,
        };
        match &mut self.values {
            Buf::Bool(v) => v.clear(),
            Buf::I32(v) => v.clear(),
            Buf::I64(v) => v.clear(),
            Buf::F32(v) => v.clear(),
            Buf::F64(v) => v.clear(),
            Buf::Bytes(v) => v.clear(),
        }
        self.defs.clear();
        Ok(())
    }
}

/// A DATE (`yyyyMMdd`) as days since 1970-01-01 (Parquet's DATE).
fn date32(d: i32) -> Result<i32, String> {
    let date = chrono::NaiveDate::from_ymd_opt(d / 10000, (d / 100 % 100) as u32, (d % 100) as u32)
        .ok_or_else(|| format!("{d} is not a DATE"))?;
    let days = date
        .signed_duration_since(chrono::NaiveDate::default())
        .num_days();
    i32::try_from(days).map_err(|_| format!("{d} is out of the DATE range"))
}

/// Writes the result of `query` into `args.target`; returns the rows written.
pub fn export_query(
    session: &mut dyn Session,
    query: &str,
    args: &ExportParquetArgs,
    progress: &mut Progress,
) -> Result<u64, String> {
    let mut rs = crate::csv_export::query_rows(session, query, args.fetch_size)?;
    let header = Header::of(&rs);
    let names = unique_names(&header.names);
    let offset = usize::from(header.has_time);
    let pq = |e: parquet::errors::ParquetError| e.to_string();
    let mut fields = Vec::with_capacity(names.len());
    if header.has_time {
        let logical = (args.time_type == TimeType::Timestamp).then(millis);
        fields.push(Arc::new(
            Type::primitive_type_builder(&names[0], PhysicalType::INT64)
                .with_repetition(Repetition::REQUIRED)
                .with_logical_type(logical)
                .build()
                .map_err(pq)?,
        ));
    }
    for (i, &ty) in header.types.iter().enumerate() {
        fields.push(Arc::new(column_type(&names[i + offset], ty).map_err(pq)?));
    }
    let schema = Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(pq)?,
    );
    let props = WriterProperties::builder()
        .set_compression(match args.compression {
            Codec::Snappy => Compression::SNAPPY,
            Codec::None => Compression::UNCOMPRESSED,
        })
        .set_created_by(format!("iotdb-rs {}", env!("CARGO_PKG_VERSION")))
        .build();
    let file = File::create(&args.target)
        .map_err(|e| format!("cannot create {}: {e}", args.target.display()))?;
    let mut writer =
        SerializedFileWriter::new(BufWriter::new(file), schema, Arc::new(props)).map_err(pq)?;
    let mut times: Vec<i64> = Vec::new();
    let mut cols: Vec<ColBuf> = header.types.iter().map(|&t| ColBuf::new(t)).collect();
    let group = args.row_group_size.max(1);
    let mut rows = 0u64;
    let flush = |times: &mut Vec<i64>,
                 cols: &mut [ColBuf],
                 writer: &mut SerializedFileWriter<BufWriter<File>>|
     -> Result<(), String> {
        let mut rg = writer.next_row_group().map_err(pq)?;
        let mut i = 0;
        while let Some(mut col) = rg.next_column().map_err(pq)? {
            if header.has_time && i == 0 {
                col.typed::<Int64Type>()
                    .write_batch(times, None, None)
                    .map_err(pq)?;
            } else {
                cols[i - offset].write(&mut col).map_err(pq)?;
            }
            col.close().map_err(pq)?;
            i += 1;
        }
        rg.close().map_err(pq)?;
        times.clear();
        Ok(())
    };
    let mut buffered = 0usize;
    while let Some(batch) = rs.next_batch().map_err(|e| e.to_string())? {
        for r in 0..batch.len() {
            times.push(batch.times[r]);
            for (i, &ci) in rs.column_index.iter().enumerate() {
                cols[i].push(batch.columns.get(ci).and_then(|c| c.value(r)))?;
            }
            buffered += 1;
            if buffered >= group {
                flush(&mut times, &mut cols, &mut writer)?;
                buffered = 0;
            }
        }
        rows += batch.len() as u64;
        progress.add(batch.len() as u64, 0);
    }
    let _ = rs.close();
    if buffered > 0 {
        flush(&mut times, &mut cols, &mut writer)?;
    }
    writer.close().map_err(pq)?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_queries() {
        assert_eq!(
            path_query("root.sg.**", None, None).unwrap(),
            "select ** from root.sg"
        );
        assert_eq!(
            path_query("root.sg.*.s1", Some("10"), Some("2024-01-01T00:00:00")).unwrap(),
            "select s1 from root.sg.* where time >= 10 and time < 2024-01-01T00:00:00"
        );
        assert!(path_query("root", None, None).is_err());
        assert!(path_query("root.", None, None).is_err());
    }

    #[test]
    fn dates_and_names() {
        assert_eq!(date32(19700101), Ok(0));
        assert_eq!(date32(20240229), Ok(19782));
        assert_eq!(date32(19691231), Ok(-1));
        assert!(date32(20230229).is_err());
        assert_eq!(
            unique_names(&["a".into(), "a".into(), "a_1".into(), "b".into()]),
            ["a", "a_1", "a_1_1", "b"]
        );
    }
}
