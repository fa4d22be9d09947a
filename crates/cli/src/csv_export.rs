//! `iotdb-rs export-csv`: query results into CSV files in IoTDB's export format.
//!
//! Aligned by time: `Time,root.sg.d1.s1,…`; a query with `ALIGN BY DEVICE` gives
//! `Time,Device,s1,…`. With `--datatype true` each value column carries its type
//! (`root.sg.d1.s1(INT32)`). Nulls are empty fields; TEXT and STRING values are wrapped in
//! an extra pair of double quotes as IoTDB's tool writes them (so `"abc"` in the field), and
//! the field is escaped as IoTDB's tool escapes it (`\,`, `\n`, see `iotdb_csv`; RFC 4180
//! quoting instead with `--csv-dialect rfc4180`); BLOBs are `0x…` hex, DATEs `yyyy-MM-dd`, TIMESTAMP values
//! epoch milliseconds. Each query `i` goes to `<dir>/<prefix><i>_<n>.csv`, a new file `n`
//! every `--lines-per-file` rows, each with the header.

use crate::conn::{self, ConnectArgs};
use crate::csv_import::Dialect;
use crate::progress::Progress;
use crate::render::{self, Header, Style, TimeFormat};
use client::{Response, Session};
use model::TSDataType;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// `export-csv` flags (IoTDB's `-td -f -q -s -tf -tz -dt -lpf`).
#[derive(Debug, Clone, clap::Args)]
pub struct ExportArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Directory of the CSV files (IoTDB's `-td`).
    #[arg(long = "target-dir", default_value = ".")]
    pub target_dir: PathBuf,
    /// File name prefix (IoTDB's `-f`).
    #[arg(short = 'f', long = "file-prefix", default_value = "dump")]
    pub prefix: String,
    /// The query to export [default: select * from root.**].
    #[arg(short = 'q', long = "query")]
    pub query: Option<String>,
    /// A file of queries ended by `;`, each exported to its own files (IoTDB's `-s`).
    #[arg(short = 's', long = "sql-file")]
    pub sql_file: Option<PathBuf>,
    /// Time format: default (ISO-8601), long/number/timestamp, or a pattern such as
    /// yyyy-MM-dd HH:mm:ss.SSS (IoTDB's `-tf`).
    #[arg(long = "time-format", default_value = "default")]
    pub time_format: String,
    /// Time zone of the times written [default: this machine's] (IoTDB's `-tz`).
    #[arg(long = "time-zone")]
    pub time_zone: Option<String>,
    /// Write the data type of each column in the header (IoTDB's `-dt true`).
    #[arg(long = "datatype", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub datatype: bool,
    /// Rows per file (IoTDB's `-lpf`).
    #[arg(long = "lines-per-file", default_value_t = 10_000)]
    pub lines_per_file: u64,
    /// Rows per fetch from the server.
    #[arg(long = "fetch-size", default_value_t = 10_000)]
    pub fetch_size: i32,
    /// `iotdb`: as Apache IoTDB's export writes CSV (backslash escapes, CRLF, see
    /// `iotdb_csv`); `rfc4180`: double-quoted fields, for spreadsheets and pandas.
    #[arg(long = "csv-dialect", value_enum, default_value_t = Dialect::Iotdb)]
    pub dialect: Dialect,
}

/// An open CSV file in one of the dialects.
enum CsvOut {
    Iotdb(BufWriter<File>),
    Rfc(Box<csv::Writer<BufWriter<File>>>),
}

impl CsvOut {
    fn record(&mut self, fields: &[String]) -> Result<(), String> {
        match self {
            CsvOut::Iotdb(w) => {
                crate::iotdb_csv::write_record(w, fields).map_err(|e| e.to_string())
            }
            CsvOut::Rfc(w) => w.write_record(fields).map_err(|e| e.to_string()),
        }
    }

    fn flush(&mut self) -> Result<(), String> {
        match self {
            CsvOut::Iotdb(w) => w.flush(),
            CsvOut::Rfc(w) => w.flush(),
        }
        .map_err(|e| e.to_string())
    }
}

/// Runs `export-csv`; returns the exit code.
pub fn main(args: &ExportArgs) -> i32 {
    crate::exit_code("export-csv", run(args))
}

fn run(args: &ExportArgs) -> Result<(), String> {
    let time = TimeFormat::parse(&args.time_format)?;
    let zone_id = args.time_zone.clone().unwrap_or_else(conn::local_zone);
    let zone = model::time::TimeZone::parse(&zone_id).map_err(|e| e.to_string())?;
    let queries = crate::queries_of(&args.query, &args.sql_file, || {
        Ok("select * from root.**".to_string())
    })?;
    std::fs::create_dir_all(&args.target_dir)
        .map_err(|e| format!("cannot create {}: {e}", args.target_dir.display()))?;
    let mut conn = args
        .connect
        .open(&zone_id, args.fetch_size)
        .map_err(|e| crate::connect_error(&args.connect, &e))?;
    let style = Style { time, zone };
    let mut progress = Progress::new("exported");
    let mut files = 0;
    for (i, q) in queries.iter().enumerate() {
        let base = args.target_dir.join(format!("{}{i}", args.prefix));
        files += export_query(conn.session.as_mut(), q, &base, args, &style, &mut progress)
            .map_err(|e| format!("query {q}: {e}"))?;
    }
    conn.session.close().map_err(|e| e.to_string())?;
    progress.finish();
    eprintln!(
        "Export completely: {} rows into {files} file(s) in {}",
        progress.rows,
        args.target_dir.display()
    );
    Ok(())
}

/// Runs `query`, which must return rows, fetching `fetch_size` rows at a time.
pub fn query_rows(
    session: &mut dyn Session,
    query: &str,
    fetch_size: i32,
) -> Result<client::ResultSet, String> {
    let mut rs = match session.execute(query).map_err(|e| e.to_string())? {
        Response::Rows(rs) => rs,
        Response::Done => return Err("the statement returns no rows".into()),
    };
    rs.set_fetch_size(fetch_size);
    Ok(rs)
}

/// Exports one query into `<base>_<n>.csv` files; returns how many were written.
pub fn export_query(
    session: &mut dyn Session,
    query: &str,
    base: &Path,
    args: &ExportArgs,
    style: &Style,
    progress: &mut Progress,
) -> Result<usize, String> {
    let mut rs = query_rows(session, query, args.fetch_size)?;
    let header = Header::of(&rs);
    let offset = usize::from(header.has_time);
    let device_col = header.names.iter().position(|n| n == "Device");
    let names: Vec<String> = header
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if args.datatype && i >= offset && Some(i) != device_col {
                format!("{n}({})", header.types[i - offset].name())
            } else {
                n.clone()
            }
        })
        .collect();
    let value_style = Style {
        time: TimeFormat::Long,
        zone: style.zone.clone(),
    };
    let lines = args.lines_per_file.max(1);
    let mut files = 0usize;
    let mut in_file = 0u64;
    let mut writer: Option<CsvOut> = None;
    let open = |n: usize| -> Result<CsvOut, String> {
        let path = PathBuf::from(format!("{}_{n}.csv", base.display()));
        let f =
            File::create(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        let f = BufWriter::new(f);
        let mut w = match args.dialect {
            Dialect::Iotdb => CsvOut::Iotdb(f),
            Dialect::Rfc4180 => CsvOut::Rfc(Box::new(csv::Writer::from_writer(f))),
        };
        w.record(&names)?;
        Ok(w)
    };
    while let Some(batch) = rs.next_batch().map_err(|e| e.to_string())? {
        for r in 0..batch.len() {
            if writer.is_none() || in_file >= lines {
                if let Some(mut w) = writer.take() {
                    w.flush()?;
                }
                writer = Some(open(files)?);
                files += 1;
                in_file = 0;
            }
            let mut rec: Vec<String> = Vec::with_capacity(names.len());
            if header.has_time {
                rec.push(style.time.format(batch.times[r], &style.zone));
            }
            for (i, &ci) in rs.column_index.iter().enumerate() {
                let ty = header.types[i];
                let v = batch.columns.get(ci).and_then(|c| c.value(r));
                let text = render::value_text(v, ty, &value_style);
                rec.push(match text {
                    None => String::new(),
                    Some(t)
                        if matches!(ty, TSDataType::Text | TSDataType::String)
                            && Some(i + offset) != device_col =>
                    {
                        format!("\"{t}\"")
                    }
                    Some(t) => t,
                });
            }
            if let Some(w) = writer.as_mut() {
                w.record(&rec)?;
            }
            in_file += 1;
        }
        progress.add(batch.len() as u64, 0);
    }
    let _ = rs.close();
    match writer {
        Some(mut w) => w.flush()?,
        None => {
            // an empty result still gets a file with its header
            open(0)?.flush()?;
            files = 1;
        }
    }
    Ok(files)
}
