//! `iotdb-rs import-csv`: CSV files in IoTDB's formats into series.
//!
//! The header is `Time,root.sg.d1.s1,…` (aligned by time) or `Time,Device,s1,…` (aligned by
//! device); a column may declare its type, `root.sg.d1.s1(INT32)`. A series' type is the
//! declared one, else the existing series' type, else inferred from its first value as
//! IoTDB's tool infers it (`true`/`false` BOOLEAN, integers FLOAT (`int`) or DOUBLE
//! (`long`), decimals FLOAT or DOUBLE, `NaN` DOUBLE, anything else TEXT; `--type-infer
//! int=long,float=double` changes the mapping). Missing series are created by the insert with
//! that type. Times are epoch milliseconds or datetimes (`2017-11-01T00:08:00.000+08:00`,
//! `2017-11-01 00:08:00`, `2017/11/01` …, read in `--time-zone` when they carry no offset).
//! Empty fields are nulls; a TEXT value wrapped in double quotes (as IoTDB's export writes
//! them) loses one pair. A row that cannot be read is reported with its line number and
//! skipped (exit code 2 at the end), or stops the import with `--fail-fast` (exit code 1)
//! after the rows before it were written. Rows are sent as tablets of `--batch-size` rows;
//! rerunning an import writes the same points again (same times), it does not duplicate them.

use crate::conn::{self, ConnectArgs};
use crate::progress::Progress;
use client::{Response, Session};
use model::time::TimeZone;
use model::{Bitmap, Column, ColumnData, InsertTablet, PartialPath, TSDataType, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// `import-csv` flags (IoTDB's `-f -batch -tz -aligned -typeInfer`).
#[derive(Debug, Clone, clap::Args)]
pub struct ImportArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// A CSV file, or a directory whose `.csv` files are imported in name order.
    #[arg(short = 'f', long = "file")]
    pub file: PathBuf,
    /// Rows per insert request.
    #[arg(long = "batch-size", default_value_t = 10_000)]
    pub batch_size: usize,
    /// Zone of times written without an offset [default: this machine's].
    #[arg(long = "time-zone")]
    pub time_zone: Option<String>,
    /// Insert into aligned series (IoTDB's `-aligned true`).
    #[arg(long = "aligned", num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub aligned: bool,
    /// Type inference of untyped new series, e.g. `int=long,float=double,boolean=text`
    /// (keys boolean, int, long, float, double, NaN; values boolean, int, long, float,
    /// double, text).
    #[arg(long = "type-infer")]
    pub type_infer: Option<String>,
    /// Stop at the first bad row (rows before it are written) instead of skipping it.
    #[arg(long = "fail-fast")]
    pub fail_fast: bool,
    /// `iotdb`: Apache IoTDB's tools' CSV (backslash escapes, see `iotdb_csv`);
    /// `rfc4180`: double-quoted fields, as spreadsheets and pandas write them.
    #[arg(long = "csv-dialect", value_enum, default_value_t = Dialect::Iotdb)]
    pub dialect: Dialect,
}

/// The CSV dialect of `import-csv` and `export-csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// Apache IoTDB's import/export tools' format (backslash escapes, no quoting).
    Iotdb,
    /// RFC 4180 (fields with commas, quotes or line breaks in double quotes).
    Rfc4180,
}

/// The records of one file, in either dialect.
enum Records {
    Iotdb(crate::iotdb_csv::Reader<std::io::BufReader<std::fs::File>>),
    Rfc(csv::Reader<std::io::BufReader<std::fs::File>>),
}

/// One read: a record (its line and end offset), a bad record (its line and why), or an
/// I/O failure that ends the file.
enum Read {
    Record { line: u64, byte: u64 },
    Bad { line: u64, why: String },
    Failed(String),
    End,
}

impl Records {
    fn next(&mut self, rec: &mut csv::StringRecord, fields: &mut Vec<String>, line: u64) -> Read {
        match self {
            Records::Iotdb(r) => match r.read_record(fields) {
                Err(e) => Read::Failed(e.to_string()),
                Ok(None) => Read::End,
                Ok(Some(Err(bad))) => Read::Bad {
                    line: bad.line,
                    why: bad.message,
                },
                Ok(Some(Ok(line))) => {
                    rec.clear();
                    for f in fields.iter() {
                        rec.push_field(f);
                    }
                    Read::Record {
                        line,
                        byte: r.byte(),
                    }
                }
            },
            Records::Rfc(r) => match r.read_record(rec) {
                Ok(false) => Read::End,
                Ok(true) => {
                    let pos = rec.position();
                    Read::Record {
                        line: pos.map_or(line + 1, |p| p.line()),
                        byte: pos.map_or(0, |p| p.byte()),
                    }
                }
                // a malformed record (e.g. bad UTF-8): report and go on when possible
                Err(e) if !matches!(e.kind(), csv::ErrorKind::Io(_)) => Read::Bad {
                    line: e.position().map_or(line + 1, |p| p.line()),
                    why: e.to_string(),
                },
                Err(e) => Read::Failed(e.to_string()),
            },
        }
    }
}

/// What an untyped value looks like, for inference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Boolean,
    Int,
    Long,
    Float,
    Double,
    NaN,
    Text,
}

fn kind_of(s: &str) -> Kind {
    if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") {
        Kind::Boolean
    } else if s == "NaN" {
        Kind::NaN
    } else if s.parse::<i32>().is_ok() {
        Kind::Int
    } else if s.parse::<i64>().is_ok() {
        Kind::Long
    } else if s.parse::<f64>().is_ok_and(|v| v.is_finite()) && !s.starts_with(['+', '.']) {
        // decimals with few significant digits fit a FLOAT
        let digits = s.chars().filter(char::is_ascii_digit).count();
        if digits <= 7 {
            Kind::Float
        } else {
            Kind::Double
        }
    } else {
        Kind::Text
    }
}

/// IoTDB's default inference: boolean→BOOLEAN, int→FLOAT, long→DOUBLE, float→FLOAT,
/// double→DOUBLE, NaN→DOUBLE, text→TEXT.
fn default_inference() -> HashMap<Kind, TSDataType> {
    HashMap::from([
        (Kind::Boolean, TSDataType::Boolean),
        (Kind::Int, TSDataType::Float),
        (Kind::Long, TSDataType::Double),
        (Kind::Float, TSDataType::Float),
        (Kind::Double, TSDataType::Double),
        (Kind::NaN, TSDataType::Double),
        (Kind::Text, TSDataType::Text),
    ])
}

fn parse_inference(spec: &str) -> Result<HashMap<Kind, TSDataType>, String> {
    let mut map = default_inference();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| format!("type inference {part}: expected key=value"))?;
        let key = match k.trim() {
            "boolean" => Kind::Boolean,
            "int" => Kind::Int,
            "long" => Kind::Long,
            "float" => Kind::Float,
            "double" => Kind::Double,
            "NaN" => Kind::NaN,
            other => return Err(format!("Unknown type infer key: {other}")),
        };
        let value = match v.trim() {
            "boolean" => TSDataType::Boolean,
            "int" => TSDataType::Int32,
            "long" => TSDataType::Int64,
            "float" => TSDataType::Float,
            "double" => TSDataType::Double,
            "text" => TSDataType::Text,
            other => return Err(format!("Unknown type infer value: {other}")),
        };
        map.insert(key, value);
    }
    Ok(map)
}

/// Reads a CSV field as a value of `ty`.
fn parse_value(s: &str, ty: TSDataType, zone: &TimeZone) -> Option<Value> {
    let t = s.trim();
    Some(match ty {
        TSDataType::Text | TSDataType::String => {
            let inner = if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
                &s[1..s.len() - 1]
            } else {
                s
            };
            Value::Text(inner.as_bytes().to_vec())
        }
        TSDataType::Blob => {
            let hex = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X"))?;
            if hex.len() % 2 != 0 {
                return None;
            }
            let bytes = (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                .collect::<Option<Vec<u8>>>()?;
            Value::Text(bytes)
        }
        TSDataType::Date => {
            let d = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
                .or_else(|_| chrono::NaiveDate::parse_from_str(t, "%Y%m%d"))
                .ok()?;
            use chrono::Datelike;
            Value::Int32(d.year() * 10000 + d.month() as i32 * 100 + d.day() as i32)
        }
        TSDataType::Timestamp => Value::Int64(parse_time(t, zone)?),
        TSDataType::Boolean => match t.to_ascii_lowercase().as_str() {
            "true" => Value::Boolean(true),
            "false" => Value::Boolean(false),
            _ => return None,
        },
        TSDataType::Int32 => Value::Int32(t.parse().ok()?),
        TSDataType::Int64 => Value::Int64(t.parse().ok()?),
        TSDataType::Float => Value::Float(t.parse().ok()?),
        TSDataType::Double => Value::Double(t.parse().ok()?),
    })
}

/// Epoch milliseconds or a datetime.
fn parse_time(s: &str, zone: &TimeZone) -> Option<i64> {
    let t = s.trim();
    t.parse::<i64>()
        .ok()
        .or_else(|| model::time::parse_datetime(t, zone).ok())
}

/// One header column: the device (by time) or `None` (by device), the measurement and the
/// declared type.
struct HeaderColumn {
    device: Option<String>,
    measurement: String,
    declared: Option<TSDataType>,
}

fn parse_header(cells: &csv::StringRecord) -> Result<(bool, Vec<HeaderColumn>), String> {
    let first = cells.get(0).unwrap_or("").trim();
    if !first.eq_ignore_ascii_case("time") {
        return Err(format!("the first column must be Time, not {first:?}"));
    }
    let by_device = cells
        .get(1)
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("device"));
    let mut cols = Vec::new();
    for cell in cells.iter().skip(if by_device { 2 } else { 1 }) {
        let cell = cell.trim();
        let (name, declared) = match cell.strip_suffix(')').and_then(|c| c.rsplit_once('(')) {
            Some((n, t)) => (
                n.trim(),
                Some(
                    TSDataType::parse(t)
                        .map_err(|_| format!("unknown data type in column {cell}"))?,
                ),
            ),
            None => (cell, None),
        };
        let (device, measurement) = if by_device {
            (None, name.to_string())
        } else {
            let (d, m) = name
                .rsplit_once('.')
                .ok_or_else(|| format!("column {name} is not a series path"))?;
            PartialPath::parse(d).map_err(|e| format!("column {name}: {e}"))?;
            (Some(d.to_string()), m.to_string())
        };
        cols.push(HeaderColumn {
            device,
            measurement,
            declared,
        });
    }
    Ok((by_device, cols))
}

/// Rows waiting to be sent, per device.
#[derive(Default)]
struct DeviceRows {
    /// The import's row number that last added a time (one time per row and device).
    row: u64,
    times: Vec<i64>,
    /// measurement → (type, one entry per row)
    columns: BTreeMap<String, (TSDataType, Vec<Option<Value>>)>,
}

/// The state of one import.
struct Importer<'a> {
    session: &'a mut dyn Session,
    args: &'a ImportArgs,
    zone: TimeZone,
    inference: HashMap<Kind, TSDataType>,
    /// (device, measurement) → type, from declarations, the server, or inference
    types: HashMap<(String, String), TSDataType>,
    /// devices whose existing series were asked for
    known_devices: HashSet<String>,
    pending: BTreeMap<String, DeviceRows>,
    /// Batches go to a sender thread with its own session (parsing the next batch overlaps
    /// sending this one); `None` sends on `session`.
    sender: Option<std::sync::mpsc::SyncSender<Batch>>,
    /// The sender's first failure.
    send_failed: Arc<Mutex<Option<String>>>,
    /// Per column of the current file's header (aligned by time, where a column's device is
    /// fixed): its type once known, so that rows need no lookup.
    column_types: Vec<Option<TSDataType>>,
    pending_rows: usize,
    first_pending_line: u64,
    rows: u64,
    points: u64,
    bad: u64,
}

impl Importer<'_> {
    /// Types of the existing series of `device` (once per device).
    fn load_device(&mut self, device: &str) {
        if !self.known_devices.insert(device.to_string()) {
            return;
        }
        let sql = format!("show timeseries {device}.*");
        let Ok(Response::Rows(mut rs)) = self.session.execute(&sql) else {
            return;
        };
        let rows = rs.collect_rows().unwrap_or_default();
        let _ = rs.close();
        let col = |name: &str| {
            rs.columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| rows.columns.get(rs.column_index[i]))
        };
        let (Some(paths), Some(types)) = (col("Timeseries"), col("DataType")) else {
            return;
        };
        for r in 0..rows.len() {
            if let (Some(Value::Text(p)), Some(Value::Text(t))) = (paths.value(r), types.value(r)) {
                let p = String::from_utf8_lossy(&p).into_owned();
                if let (Some((d, m)), Some(t)) = (
                    p.rsplit_once('.'),
                    TSDataType::from_name(&String::from_utf8_lossy(&t)),
                ) {
                    self.types.insert((d.to_string(), m.to_string()), t);
                }
            }
        }
    }

    fn type_of(&mut self, device: &str, col: &HeaderColumn, text: &str) -> TSDataType {
        let key = (device.to_string(), col.measurement.clone());
        if let Some(t) = self.types.get(&key) {
            return *t;
        }
        self.load_device(device);
        if let Some(t) = self.types.get(&key) {
            return *t;
        }
        let t = col.declared.unwrap_or_else(|| {
            let quoted = text.len() >= 2 && text.starts_with('"') && text.ends_with('"');
            let kind = if quoted {
                Kind::Text
            } else {
                kind_of(text.trim())
            };
            self.inference[&kind]
        });
        self.types.insert(key, t);
        t
    }

    /// Reads one data row into the pending tablets.
    fn row(
        &mut self,
        rec: &csv::StringRecord,
        by_device: bool,
        cols: &[HeaderColumn],
        line: u64,
    ) -> Result<(), String> {
        let skip = if by_device { 2 } else { 1 };
        if rec.len() != cols.len() + skip {
            return Err(format!(
                "{} fields where the header has {}",
                rec.len(),
                cols.len() + skip
            ));
        }
        let time_text = rec.get(0).unwrap_or("");
        let time = parse_time(time_text, &self.zone)
            .ok_or_else(|| format!("cannot read time {time_text:?}"))?;
        let row_device = if by_device {
            let d = rec.get(1).unwrap_or("").trim();
            PartialPath::parse(d).map_err(|e| format!("device {d:?}: {e}"))?;
            Some(d.to_string())
        } else {
            None
        };
        // parse every value before keeping any, so that a bad row is skipped whole
        let mut values: Vec<(usize, TSDataType, Value)> = Vec::with_capacity(cols.len());
        for (i, col) in cols.iter().enumerate() {
            let text = rec.get(i + skip).unwrap_or("");
            if text.is_empty() {
                continue;
            }
            let device = row_device
                .as_deref()
                .or(col.device.as_deref())
                .unwrap_or_default();
            let known = match row_device {
                None => self.column_types.get(i).copied().flatten(),
                Some(_) => None,
            };
            let ty = match known {
                Some(t) => t,
                None => {
                    let t = self.type_of(device, col, text);
                    if row_device.is_none() {
                        if let Some(slot) = self.column_types.get_mut(i) {
                            *slot = Some(t);
                        }
                    }
                    t
                }
            };
            let v = parse_value(text, ty, &self.zone).ok_or_else(|| {
                format!(
                    "cannot read {text:?} as {} for {device}.{}",
                    ty.name(),
                    col.measurement
                )
            })?;
            values.push((i, ty, v));
        }
        if values.is_empty() {
            return Ok(());
        }
        if self.pending_rows == 0 {
            self.first_pending_line = line;
        }
        self.rows += 1;
        for (i, ty, v) in values {
            let col = &cols[i];
            let device = row_device
                .as_deref()
                .or(col.device.as_deref())
                .unwrap_or_default();
            if !self.pending.contains_key(device) {
                self.pending
                    .insert(device.to_string(), DeviceRows::default());
            }
            let Some(dev) = self.pending.get_mut(device) else {
                continue;
            };
            if dev.row != self.rows {
                dev.times.push(time);
                dev.row = self.rows;
            }
            let n = dev.times.len();
            if !dev.columns.contains_key(&col.measurement) {
                dev.columns
                    .insert(col.measurement.clone(), (ty, Vec::new()));
            }
            if let Some((_, vals)) = dev.columns.get_mut(&col.measurement) {
                vals.resize(n - 1, None);
                vals.push(Some(v));
            }
            self.points += 1;
        }
        self.pending_rows += 1;
        Ok(())
    }

    /// Sends the pending rows as one tablet per device.
    fn flush(&mut self, last_line: u64) -> Result<(), String> {
        if self.pending_rows == 0 {
            return Ok(());
        }
        let mut tablets = Vec::new();
        for (device, rows) in std::mem::take(&mut self.pending) {
            let n = rows.times.len();
            let mut order: Vec<usize> = (0..n).collect();
            order.sort_by_key(|&i| rows.times[i]);
            let mut measurements = Vec::new();
            let mut types = Vec::new();
            let mut columns = Vec::new();
            for (m, (ty, mut vals)) in rows.columns {
                vals.resize(n, None);
                let mut data = ColumnData::with_capacity(ty, n);
                let mut nulls = Bitmap::new(0);
                for &i in &order {
                    match &vals[i] {
                        Some(v) => {
                            data.push(v);
                            nulls.push(false);
                        }
                        None => {
                            data.push_placeholder();
                            nulls.push(true);
                        }
                    }
                }
                let any_null = nulls.count() > 0;
                measurements.push(m);
                types.push(ty);
                columns.push(Column {
                    data,
                    nulls: any_null.then_some(nulls),
                });
            }
            tablets.push(InsertTablet {
                device: PartialPath::parse(&device).map_err(|e| e.to_string())?,
                measurements,
                types,
                times: order.iter().map(|&i| rows.times[i]).collect(),
                columns,
                aligned: self.args.aligned,
            });
        }
        let first = self.first_pending_line;
        self.pending_rows = 0;
        if let Some(e) = self.send_failed.lock().map_or(None, |mut f| f.take()) {
            return Err(e);
        }
        let batch = Batch {
            tablets,
            lines: (first, last_line),
        };
        match &self.sender {
            Some(tx) => tx
                .send(batch)
                .map_err(|_| "the sending thread stopped".to_string()),
            None => send(self.session, batch),
        }
    }

    fn file(&mut self, path: &Path, progress: &mut Progress) -> Result<(), String> {
        let f = std::fs::File::open(path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let input = std::io::BufReader::new(f);
        let mut reader = match self.args.dialect {
            Dialect::Iotdb => Records::Iotdb(crate::iotdb_csv::Reader::new(input)),
            Dialect::Rfc4180 => Records::Rfc(
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .flexible(true)
                    .from_reader(input),
            ),
        };
        let mut rec = csv::StringRecord::new();
        let mut fields = Vec::new();
        let name = path.display().to_string();
        let header_line = match reader.next(&mut rec, &mut fields, 0) {
            Read::End => return Ok(()),
            Read::Record { line, .. } => line,
            Read::Bad { line, why } => return Err(format!("{name}: line {line}: {why}")),
            Read::Failed(e) => return Err(format!("{name}: {e}")),
        };
        let (by_device, cols) =
            parse_header(&rec).map_err(|e| format!("{name}: line {header_line}: {e}"))?;
        self.column_types = vec![None; cols.len()];
        for c in &cols {
            if let (Some(d), Some(t)) = (&c.device, c.declared) {
                self.types
                    .entry((d.clone(), c.measurement.clone()))
                    .or_insert(t);
            }
        }
        let mut last_byte = 0;
        let mut line = header_line;
        loop {
            let byte = match reader.next(&mut rec, &mut fields, line) {
                Read::End => break,
                Read::Failed(e) => {
                    self.bad(&name, line + 1, &e)?;
                    return Err(format!("{name}: {e}"));
                }
                Read::Bad { line: at, why } => {
                    line = at;
                    self.bad(&name, at, &why)?;
                    continue;
                }
                Read::Record { line: at, byte } => {
                    line = at;
                    byte.max(last_byte)
                }
            };
            if let Err(m) = self.row(&rec, by_device, &cols, line) {
                self.bad(&name, line, &m)?;
            }
            progress.add(1, byte.saturating_sub(last_byte));
            last_byte = byte;
            if self.pending_rows >= self.args.batch_size.max(1) {
                self.flush(line)?;
            }
        }
        self.flush(line)
    }

    /// Reports a bad row; with `--fail-fast` writes what came before it and stops.
    fn bad(&mut self, file: &str, line: u64, why: &str) -> Result<(), String> {
        self.bad += 1;
        if self.args.fail_fast {
            self.flush(line.saturating_sub(1))?;
            return Err(format!("{file}: line {line}: {why} (stopped by --fail-fast; the rows before it were imported)"));
        }
        eprintln!("{file}: line {line}: {why}; row skipped");
        Ok(())
    }
}

/// The CSV files named by `path` (a file, or the `.csv` files of a directory by name).
fn input_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_dir() {
        let mut v: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
            .collect();
        v.sort();
        Ok(v)
    } else if path.exists() {
        Ok(vec![path.to_path_buf()])
    } else {
        Err(format!("{} does not exist", path.display()))
    }
}

/// Runs `import-csv`; returns the exit code (0, 1 on an error or `--fail-fast` stop, 2 when
/// bad rows were skipped).
pub fn main(args: &ImportArgs) -> i32 {
    match run(args) {
        Ok(0) => 0,
        Ok(_) => 2,
        Err(m) => {
            eprintln!("import-csv: {m}");
            1
        }
    }
}

/// Tablets of the rows of some lines.
struct Batch {
    tablets: Vec<InsertTablet>,
    lines: (u64, u64),
}

/// Inserts a batch; the error names its lines.
fn send(session: &mut dyn Session, batch: Batch) -> Result<(), String> {
    let (first, last) = batch.lines;
    session
        .insert_tablets(batch.tablets)
        .map_err(|e| format!("inserting the rows of lines {first}-{last} failed: {e}"))
}

/// Imports; returns the number of skipped rows.
fn run(args: &ImportArgs) -> Result<u64, String> {
    let zone_id = args.time_zone.clone().unwrap_or_else(conn::local_zone);
    let zone = TimeZone::parse(&zone_id).map_err(|e| e.to_string())?;
    let inference = match &args.type_infer {
        Some(s) => parse_inference(s)?,
        None => default_inference(),
    };
    let files = input_files(&args.file)?;
    let mut conn = args
        .connect
        .open(&zone_id, 1000)
        .map_err(|e| crate::connect_error(&args.connect, &e))?;
    let mut progress = Progress::new("imported");
    progress.total_bytes = Some(
        files
            .iter()
            .filter_map(|f| std::fs::metadata(f).ok())
            .map(|m| m.len())
            .sum(),
    );
    // a second session sends the batches from its own thread; the first one asks the schema
    let mut sending = args
        .connect
        .open(&zone_id, 1000)
        .map_err(|e| crate::connect_error(&args.connect, &e))?;
    let send_failed = Arc::new(Mutex::new(None));
    let (result, rows, points, bad, sent) = std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(1);
        let failed = send_failed.clone();
        let session = sending.session.as_mut();
        let sender = scope.spawn(move || {
            for batch in rx {
                if failed.lock().is_ok_and(|f| f.is_some()) {
                    continue; // drain: nothing after a failed batch is sent
                }
                if let Err(e) = send(session, batch) {
                    if let Ok(mut f) = failed.lock() {
                        *f = Some(e);
                    }
                }
            }
            session.close()
        });
        let mut imp = Importer {
            session: conn.session.as_mut(),
            args,
            zone,
            inference,
            types: HashMap::new(),
            known_devices: HashSet::new(),
            pending: BTreeMap::new(),
            sender: Some(tx),
            send_failed: send_failed.clone(),
            column_types: Vec::new(),
            pending_rows: 0,
            first_pending_line: 0,
            rows: 0,
            points: 0,
            bad: 0,
        };
        let mut result = Ok(());
        for f in &files {
            result = imp.file(f, &mut progress);
            if result.is_err() {
                break;
            }
        }
        // every batch handed over is sent before the counts are reported
        imp.sender = None;
        let sent = sender.join().unwrap_or_else(|_| {
            Err(client::Error::Connection(
                "the sending thread panicked".into(),
            ))
        });
        (result, imp.rows, imp.points, imp.bad, sent)
    });
    let closed = conn.session.close();
    progress.finish();
    if let Some(e) = send_failed.lock().ok().and_then(|mut f| f.take()) {
        return Err(e);
    }
    result?;
    sent.map_err(|e| e.to_string())?;
    closed.map_err(|e| e.to_string())?;
    eprintln!(
        "Import completely: {rows} rows ({points} points) from {} file(s); {bad} bad row(s) skipped",
        files.len()
    );
    Ok(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_as_iotdb() {
        let m = default_inference();
        assert_eq!(m[&kind_of("true")], TSDataType::Boolean);
        assert_eq!(m[&kind_of("12")], TSDataType::Float);
        assert_eq!(m[&kind_of("12345678901")], TSDataType::Double);
        assert_eq!(m[&kind_of("1.5")], TSDataType::Float);
        assert_eq!(m[&kind_of("NaN")], TSDataType::Double);
        assert_eq!(m[&kind_of("abc")], TSDataType::Text);
        let m = parse_inference("int=long").unwrap();
        assert_eq!(m[&Kind::Int], TSDataType::Int64);
        assert!(parse_inference("int=bogus").is_err());
    }

    #[test]
    fn values() {
        let z = TimeZone::default();
        assert_eq!(
            parse_value("\"a,b\"", TSDataType::Text, &z),
            Some(Value::Text(b"a,b".to_vec()))
        );
        assert_eq!(
            parse_value("0x0aff", TSDataType::Blob, &z),
            Some(Value::Text(vec![10, 255]))
        );
        assert_eq!(
            parse_value("2024-02-29", TSDataType::Date, &z),
            Some(Value::Int32(20240229))
        );
        assert_eq!(parse_value("x", TSDataType::Int32, &z), None);
        assert_eq!(parse_time("1970-01-01T00:00:01.000+00:00", &z), Some(1000));
    }
}
