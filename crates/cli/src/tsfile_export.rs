//! `iotdb-rs export-tsfile`: the series of a query (or of a path pattern and time range)
//! into a TsFile written by the `tsfile` crate's writer (IoTDB's `export-tsfile.sh`).
//!
//! Every result column must be a series (`root.sg.d1.s1` aligned by time, or a measurement
//! of the `Device` column with `ALIGN BY DEVICE`): computed columns, aliases and aggregates
//! have no place in a TsFile and are refused with a message pointing at `export-csv` and
//! `export-parquet`. Each series keeps its type, encoding and compressor (`SHOW TIMESERIES`),
//! and aligned devices (`SHOW DEVICES`) are written aligned; nulls stay absent points
//! (non-aligned) or null cells (aligned; rows where all of a device's columns are null are
//! not written, as no query would return them).
//!
//! Rows are streamed: at most `--max-buffered-points` cells are held before every device
//! gets a chunk group, so memory stays bounded. The file is written as `<name>.tmp` and
//! renamed when complete, so a failed export leaves no file that looks whole.

use crate::conn::{self, ConnectArgs};
use crate::progress::Progress;
use client::{Response, Session};
use model::{Bitmap, Column, ColumnData, CompressionType, MeasurementSchema, PartialPath};
use model::{TSDataType, TSEncoding};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use tsfile::{AlignedColumn, SeriesInput, TsFileWriter, Version, WriterOptions};

/// The TsFile format version written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FileVersion {
    /// Version 3: IoTDB 1.x, TsFile 1.x.
    V3,
    /// Version 4: IoTDB 2.x, TsFile 2.x and the PyPI `tsfile` package.
    V4,
}

/// `export-tsfile` flags (IoTDB's `-td -f -q -s`, plus a path pattern and time range).
#[derive(Debug, Clone, clap::Args)]
pub struct ExportTsFileArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Directory of the TsFiles (IoTDB's `-td`).
    #[arg(long = "target-dir", default_value = ".")]
    pub target_dir: PathBuf,
    /// File name prefix (IoTDB's `-f`): query `i` goes to `<prefix><i>.tsfile`.
    #[arg(short = 'f', long = "file-prefix", default_value = "dump")]
    pub prefix: String,
    /// The query to export (instead of --path).
    #[arg(short = 'q', long = "query", conflicts_with_all = ["path", "sql_file"])]
    pub query: Option<String>,
    /// A file of queries ended by `;`, each exported to its own TsFile (IoTDB's `-s`).
    #[arg(short = 's', long = "sql-file", conflicts_with = "path")]
    pub sql_file: Option<PathBuf>,
    /// A path pattern to export, e.g. root.sg.** or root.sg.*.s1 [default: root.**].
    #[arg(long = "path")]
    pub path: Option<String>,
    /// First time exported (inclusive; epoch milliseconds or ISO-8601), with --path.
    #[arg(long = "start-time", conflicts_with_all = ["query", "sql_file"])]
    pub start_time: Option<String>,
    /// End of the exported times (exclusive), with --path.
    #[arg(long = "end-time", conflicts_with_all = ["query", "sql_file"])]
    pub end_time: Option<String>,
    /// TsFile format version.
    #[arg(long = "tsfile-version", value_enum, default_value = "v4")]
    pub version: FileVersion,
    /// Cells (rows × columns) held before chunk groups are written.
    #[arg(long = "max-buffered-points", default_value_t = 4_000_000)]
    pub max_buffered_points: usize,
    /// Rows per fetch from the server.
    #[arg(long = "fetch-size", default_value_t = 10_000)]
    pub fetch_size: i32,
}

/// Runs `export-tsfile`; returns the exit code.
pub fn main(args: &ExportTsFileArgs) -> i32 {
    crate::exit_code("export-tsfile", run(args))
}

fn run(args: &ExportTsFileArgs) -> Result<(), String> {
    let queries = crate::queries_of(&args.query, &args.sql_file, || {
        crate::parquet_export::path_query(
            args.path.as_deref().unwrap_or("root.**"),
            args.start_time.as_deref(),
            args.end_time.as_deref(),
        )
    })?;
    std::fs::create_dir_all(&args.target_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.target_dir.display()))?;
    let mut conn = args
        .connect
        .open(&conn::local_zone(), args.fetch_size)
        .map_err(|e| crate::connect_error(&args.connect, &e))?;
    let mut progress = Progress::new("exported");
    for (i, q) in queries.iter().enumerate() {
        let target = args.target_dir.join(format!("{}{i}.tsfile", args.prefix));
        let written = export_query(conn.session.as_mut(), q, &target, args, &mut progress)
            .map_err(|e| format!("query {q}: {e}"))?;
        eprintln!(
            "Export completely: {written} points into {}",
            target.display()
        );
    }
    conn.session.close().map_err(|e| e.to_string())?;
    progress.finish();
    Ok(())
}

/// Type, encoding and compressor of one series as the schema holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeriesInfo {
    /// Data type.
    pub data_type: TSDataType,
    /// Encoding.
    pub encoding: TSEncoding,
    /// Compressor.
    pub compressor: CompressionType,
}

/// The rows of a small query (SHOW …) as text cells, by column name.
fn show_rows(session: &mut dyn Session, sql: &str) -> Result<Vec<HashMap<String, String>>, String> {
    let mut rs = match session.execute(sql).map_err(|e| format!("{sql}: {e}"))? {
        Response::Rows(rs) => rs,
        Response::Done => return Ok(Vec::new()),
    };
    let batch = rs.collect_rows().map_err(|e| format!("{sql}: {e}"))?;
    let _ = rs.close();
    let mut rows = Vec::with_capacity(batch.len());
    for r in 0..batch.len() {
        let mut row = HashMap::new();
        for (name, &ci) in rs.columns.iter().zip(&rs.column_index) {
            if let Some(model::Value::Text(b)) = batch.columns.get(ci).and_then(|c| c.value(r)) {
                row.insert(name.clone(), String::from_utf8_lossy(&b).into_owned());
            }
        }
        rows.push(row);
    }
    Ok(rows)
}

/// The series directly under `device` (measurement → schema), from `SHOW TIMESERIES`.
pub fn device_series(
    session: &mut dyn Session,
    device: &PartialPath,
) -> Result<HashMap<String, SeriesInfo>, String> {
    let mut out = HashMap::new();
    for row in show_rows(session, &format!("show timeseries {device}.*"))? {
        let field = |k: &str| {
            row.get(k)
                .ok_or_else(|| format!("SHOW TIMESERIES gave no {k} column"))
        };
        let path = PartialPath::parse(field("Timeseries")?).map_err(|e| e.to_string())?;
        out.insert(
            path.last().to_string(),
            SeriesInfo {
                data_type: TSDataType::parse(field("DataType")?).map_err(|e| e.to_string())?,
                encoding: TSEncoding::parse(field("Encoding")?).map_err(|e| e.to_string())?,
                compressor: CompressionType::parse(field("Compression")?)
                    .map_err(|e| e.to_string())?,
            },
        );
    }
    Ok(out)
}

/// True when `device` is an aligned device (`SHOW DEVICES`).
fn device_aligned(session: &mut dyn Session, device: &PartialPath) -> Result<bool, String> {
    Ok(show_rows(session, &format!("show devices {device}"))?
        .iter()
        .any(|r| r.get("IsAligned").is_some_and(|v| v == "true")))
}

/// The rows of one device being gathered for its next chunk group.
struct DeviceBuffer {
    path: String,
    aligned: bool,
    /// One schema per buffered column.
    schemas: Vec<MeasurementSchema>,
    /// Per buffered column, the result column (display index) it comes from.
    sources: Vec<usize>,
    times: Vec<i64>,
    columns: Vec<Column>,
}

impl DeviceBuffer {
    fn cells(&self) -> usize {
        self.times.len() * self.columns.len().max(1)
    }

    /// Appends rows `lo..hi` of `batch` (data column `index[source]` for each column).
    fn append(&mut self, batch: &model::RowBatch, index: &[usize], lo: usize, hi: usize) {
        self.times.extend_from_slice(&batch.times[lo..hi]);
        for (col, &src) in self.columns.iter_mut().zip(&self.sources) {
            let from = batch.columns.get(index[src]);
            append_rows(col, from, lo, hi);
        }
    }

    /// Writes the buffered rows as one chunk group and empties the buffer; returns the
    /// points written.
    fn write<W: std::io::Write>(&mut self, writer: &mut TsFileWriter<W>) -> Result<u64, String> {
        let n = self.times.len();
        if self.aligned {
            // rows with no value in any of the device's columns are no rows of the device
            let keep: Vec<bool> = (0..n)
                .map(|i| self.columns.iter().any(|c| !c.is_null(i)))
                .collect();
            if keep.iter().any(|k| !k) {
                model::batch::compact(&mut self.times, &keep);
                for c in &mut self.columns {
                    c.retain_mask(&keep);
                }
            }
        }
        let points: u64 = self
            .columns
            .iter()
            .map(|c| (c.len() - c.nulls.as_ref().map_or(0, |b| b.count())) as u64)
            .sum();
        if points > 0 {
            let e = |e: model::Error| format!("device {}: {e}", self.path);
            if self.aligned {
                let cols: Vec<AlignedColumn<'_>> = self
                    .schemas
                    .iter()
                    .zip(&self.columns)
                    .map(|(schema, c)| AlignedColumn {
                        schema,
                        values: &c.data,
                        nulls: c.nulls.as_ref(),
                    })
                    .collect();
                writer
                    .write_aligned_device(&self.path, &self.times, &cols)
                    .map_err(e)?;
            } else {
                let series: Vec<SeriesInput<'_>> = self
                    .schemas
                    .iter()
                    .zip(&self.columns)
                    .map(|(schema, c)| SeriesInput {
                        schema,
                        times: &self.times,
                        values: &c.data,
                        nulls: c.nulls.as_ref(),
                    })
                    .collect();
                writer.write_device(&self.path, &series).map_err(e)?;
            }
        }
        self.times.clear();
        for (c, s) in self.columns.iter_mut().zip(&self.schemas) {
            *c = Column::new(ColumnData::empty(s.data_type.physical()));
        }
        Ok(points)
    }
}

/// Appends rows `lo..hi` of `from` (all null when the batch lacks the column) to `dst`.
fn append_rows(dst: &mut Column, from: Option<&Column>, lo: usize, hi: usize) {
    let before = dst.data.len();
    let null_at = |i: usize| from.is_none_or(|c| c.is_null(i));
    match from {
        Some(c) if lo == 0 && hi == c.len() => {
            dst.data.append(c.data.clone());
        }
        Some(c) => {
            let idx: Vec<usize> = (lo..hi).collect();
            dst.data.append(c.data.take(&idx));
        }
        None => {
            for _ in lo..hi {
                dst.data.push_placeholder();
            }
        }
    }
    if dst.nulls.is_some() || (lo..hi).any(null_at) {
        let nulls = dst.nulls.get_or_insert_with(|| Bitmap::new(before));
        for i in lo..hi {
            nulls.push(null_at(i));
        }
    }
}

/// The encoding written for a series: its own, unless the format or the type cannot take
/// it (GORILLA_V1 and FREQ are unknown to V4 readers), then the type's default.
fn encoding_for(info: Option<&SeriesInfo>, ty: TSDataType, version: Version) -> TSEncoding {
    match info.map(|i| i.encoding) {
        Some(TSEncoding::GorillaV1 | TSEncoding::Freq) if version == Version::V4 => {
            ty.default_encoding()
        }
        Some(e) if e.supports(ty) => e,
        _ => ty.default_encoding(),
    }
}

/// How the result's columns map to devices.
enum Layout {
    /// Aligned by time: result column `i` is series `paths[i]`.
    ByTime(Vec<PartialPath>),
    /// Aligned by device: column `device` names the device; the others are measurements.
    ByDevice { device: usize },
}

/// Exports the rows of `query` into the TsFile `target`; returns the points written.
pub fn export_query(
    session: &mut dyn Session,
    query: &str,
    target: &Path,
    args: &ExportTsFileArgs,
    progress: &mut Progress,
) -> Result<u64, String> {
    let version = match args.version {
        FileVersion::V3 => Version::V3,
        FileVersion::V4 => Version::V4,
    };
    let mut rs = crate::csv_export::query_rows(session, query, args.fetch_size)?;
    if rs.ignore_timestamp {
        return Err(
            "the result has no time column (an aggregate or SHOW statement); \
                    export-tsfile writes series, use export-csv or export-parquet"
                .into(),
        );
    }
    let names = rs.columns.clone();
    let types = rs.types.clone();
    let index = rs.column_index.clone();
    let layout = match names.iter().position(|n| n == "Device") {
        Some(device) => Layout::ByDevice { device },
        None => Layout::ByTime(
            names
                .iter()
                .map(|n| {
                    PartialPath::parse(n)
                        .ok()
                        .filter(|p| p.len() >= 3)
                        .ok_or_else(|| not_a_series(n))
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    let tmp = target.with_extension("tsfile.tmp");
    // every chunk in its series' encoding and compressor: a file for exchange carries the
    // schema (a LOAD creates unknown series from its chunk headers), so no PLAIN fallback
    let options = WriterOptions {
        plain_fallback: false,
        ..WriterOptions::for_version(version)
    };
    let mut writer = TsFileWriter::create(&tmp, options)
        .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    let result = (|| {
        let mut buffers: Vec<DeviceBuffer> = Vec::new();
        let mut by_path: HashMap<String, usize> = HashMap::new();
        let mut points = 0u64;
        let mut buffered = 0usize;
        // The buffer of `device` holding the result columns `cols` (column, measurement).
        let mut buffer_of = |session: &mut dyn Session,
                             buffers: &mut Vec<DeviceBuffer>,
                             device: &PartialPath,
                             cols: &[(usize, String)]|
         -> Result<usize, String> {
            let key = device.to_string();
            if let Some(&b) = by_path.get(&key) {
                return Ok(b);
            }
            let schema = device_series(session, device)?;
            let aligned = device_aligned(session, device)?;
            let mut buf = DeviceBuffer {
                path: key.clone(),
                aligned,
                schemas: Vec::new(),
                sources: Vec::new(),
                times: Vec::new(),
                columns: Vec::new(),
            };
            for (col, m) in cols {
                let ty = types[*col];
                let Some(info) = schema.get(m) else {
                    if matches!(layout, Layout::ByDevice { .. }) {
                        continue; // a measurement another device has
                    }
                    return Err(not_a_series(&names[*col]));
                };
                if buf.schemas.iter().any(|s| &s.name == m) {
                    continue; // selected twice
                }
                buf.schemas.push(MeasurementSchema {
                    name: m.clone(),
                    data_type: ty,
                    encoding: encoding_for(Some(info), ty, version),
                    compressor: info.compressor,
                });
                buf.sources.push(*col);
                buf.columns
                    .push(Column::new(ColumnData::empty(ty.physical())));
            }
            buffers.push(buf);
            by_path.insert(key, buffers.len() - 1);
            Ok(buffers.len() - 1)
        };
        // aligned by time: every device's columns are known before the first row
        let mut devices_by_time: Vec<usize> = Vec::new();
        if let Layout::ByTime(paths) = &layout {
            let mut groups: Vec<(PartialPath, Vec<(usize, String)>)> = Vec::new();
            for (i, p) in paths.iter().enumerate() {
                let dev = p.parent();
                let m = (i, p.last().to_string());
                match groups.iter_mut().find(|(d, _)| *d == dev) {
                    Some((_, cols)) => cols.push(m),
                    None => groups.push((dev, vec![m])),
                }
            }
            for (dev, cols) in &groups {
                devices_by_time.push(buffer_of(session, &mut buffers, dev, cols)?);
            }
        }
        let measurement_cols: Vec<(usize, String)> = match &layout {
            Layout::ByDevice { device } => (0..names.len())
                .filter(|i| i != device)
                .map(|i| {
                    let n = &names[i];
                    let node = if n.starts_with('`') {
                        n.clone()
                    } else {
                        model::path::quote_node(n)
                    };
                    (i, node)
                })
                .collect(),
            Layout::ByTime(_) => Vec::new(),
        };
        while let Some(batch) = rs.next_batch().map_err(|e| e.to_string())? {
            let n = batch.len();
            match &layout {
                Layout::ByTime(_) => {
                    for &b in &devices_by_time {
                        buffers[b].append(&batch, &index, 0, n);
                        buffered += n * buffers[b].columns.len();
                    }
                }
                Layout::ByDevice { device } => {
                    let dev_col = batch.columns.get(index[*device]);
                    let name = |r: usize| match dev_col.and_then(|c| c.value(r)) {
                        Some(model::Value::Text(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
                        _ => Err("a row has no Device value".to_string()),
                    };
                    let mut lo = 0;
                    while lo < n {
                        let dev = name(lo)?;
                        let mut hi = lo + 1;
                        while hi < n && name(hi)? == dev {
                            hi += 1;
                        }
                        let path = PartialPath::parse(&dev).map_err(|e| e.to_string())?;
                        let b = buffer_of(session, &mut buffers, &path, &measurement_cols)?;
                        buffers[b].append(&batch, &index, lo, hi);
                        buffered += (hi - lo) * buffers[b].columns.len();
                        lo = hi;
                    }
                }
            }
            progress.add(n as u64, 0);
            if buffered >= args.max_buffered_points {
                for b in &mut buffers {
                    points += b.write(&mut writer)?;
                }
                buffered = 0;
            }
        }
        for b in &mut buffers {
            if b.cells() > 0 {
                points += b.write(&mut writer)?;
            }
        }
        Ok::<u64, String>(points)
    })();
    let _ = rs.close();
    let finished = result.and_then(|points| {
        let out = writer.finish().map_err(|e| e.to_string())?;
        let file = out.into_inner().map_err(|e| e.error().to_string())?;
        file.sync_all().map_err(|e| e.to_string())?;
        Ok(points)
    });
    match finished {
        Ok(points) => {
            std::fs::rename(&tmp, target).map_err(|e| {
                format!(
                    "cannot rename {} to {}: {e}",
                    tmp.display(),
                    target.display()
                )
            })?;
            Ok(points)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn not_a_series(column: &str) -> String {
    format!(
        "column {column} is not a time series: export-tsfile writes the series themselves \
         (select them by path, without aliases or expressions); export computed columns \
         with export-csv or export-parquet"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_written() {
        let info = |encoding| SeriesInfo {
            data_type: TSDataType::Double,
            encoding,
            compressor: CompressionType::Snappy,
        };
        let g1 = info(TSEncoding::GorillaV1);
        assert_eq!(
            encoding_for(Some(&g1), TSDataType::Double, Version::V4),
            TSEncoding::Gorilla
        );
        assert_eq!(
            encoding_for(Some(&g1), TSDataType::Double, Version::V3),
            TSEncoding::GorillaV1
        );
        // a type the encoding cannot take (a cast in the query) gets the type's default
        let rle = info(TSEncoding::Ts2Diff);
        assert_eq!(
            encoding_for(Some(&rle), TSDataType::Text, Version::V4),
            TSEncoding::Plain
        );
        assert_eq!(
            encoding_for(None, TSDataType::Int64, Version::V4),
            TSEncoding::Rle
        );
    }

    #[test]
    fn rows_appended_with_nulls() {
        let mut src = Column::new(ColumnData::Int32(vec![1, 2, 3, 4]));
        let mut nulls = Bitmap::new(4);
        nulls.set(2);
        src.nulls = Some(nulls);
        let mut dst = Column::new(ColumnData::Int32(vec![9]));
        append_rows(&mut dst, Some(&src), 1, 4);
        assert_eq!(dst.data, ColumnData::Int32(vec![9, 2, 3, 4]));
        assert!(!dst.is_null(0) && !dst.is_null(1) && dst.is_null(2) && !dst.is_null(3));
        append_rows(&mut dst, None, 0, 2);
        assert_eq!(dst.len(), 6);
        assert!(dst.is_null(4) && dst.is_null(5));
    }
}
