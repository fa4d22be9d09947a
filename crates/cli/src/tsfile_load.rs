//! `iotdb-rs load-tsfile`: TsFiles on this machine (a file, or every `*.tsfile` under a
//! directory) into a server or a data directory (IoTDB's `load-tsfile.sh`).
//!
//! * Against a server, the files are read here (`storage::load_file_into`, the reader and
//!   deletion rules of SQL `LOAD`) and sent as tablets over the session, so the server need
//!   not see the files: missing series are created first with the file's type, encoding and
//!   compressor (aligned devices aligned), existing ones keep theirs.
//!   `--server-side` sends `LOAD '<absolute path>'` instead, for a server on this machine
//!   (what IoTDB's tool does).
//! * With `--data-dir` the engine runs in this process and each file goes through SQL
//!   `LOAD` (chunks are copied unchanged where they can be).
//!
//! Each file is loaded on its own: a failure is reported with the file's name, the file is
//! left (or moved to `--fail-dir` with `--on-fail mv`) and the next one is tried; the exit
//! code is 1 when any failed. A loaded file is left, moved to `--success-dir` or deleted
//! (`--on-success`), with its `.resource`, `.mods` and `.mods2` sidecars.

use crate::conn::{self, ConnectArgs};
use crate::tsfile_export::device_series;
use client::Session;
use model::{InsertTablet, PartialPath, TSDataType};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use storage::{LoadTarget, TimeseriesSpec};

/// What becomes of a file that loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnSuccess {
    /// Leave it.
    None,
    /// Move it to `--success-dir`.
    Mv,
    /// Delete it.
    Delete,
}

/// What becomes of a file that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnFail {
    /// Leave it.
    None,
    /// Move it to `--fail-dir`.
    Mv,
}

/// `load-tsfile` flags (IoTDB's `-s -os -sd -of -fd`).
#[derive(Debug, Clone, clap::Args)]
pub struct LoadTsFileArgs {
    /// Where to load.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// A TsFile, or a directory whose `*.tsfile` files (also in subdirectories) are loaded
    /// (IoTDB's `-s`).
    #[arg(short = 's', long = "source")]
    pub source: PathBuf,
    /// What to do with a loaded file (IoTDB's `-os`).
    #[arg(long = "on-success", value_enum, default_value = "none")]
    pub on_success: OnSuccess,
    /// Where `--on-success mv` moves files (IoTDB's `-sd`).
    #[arg(long = "success-dir")]
    pub success_dir: Option<PathBuf>,
    /// What to do with a file that failed (IoTDB's `-of`).
    #[arg(long = "on-fail", value_enum, default_value = "none")]
    pub on_fail: OnFail,
    /// Where `--on-fail mv` moves files (IoTDB's `-fd`).
    #[arg(long = "fail-dir")]
    pub fail_dir: Option<PathBuf>,
    /// Send `LOAD '<absolute path>'` to the server (which must see the files) instead of
    /// reading them here.
    #[arg(long = "server-side")]
    pub server_side: bool,
}

/// Runs `load-tsfile`; returns the exit code.
pub fn main(args: &LoadTsFileArgs) -> i32 {
    match run(args) {
        Ok(0) => 0,
        Ok(failed) => {
            eprintln!("load-tsfile: {failed} file(s) failed");
            1
        }
        Err(m) => {
            eprintln!("load-tsfile: {m}");
            1
        }
    }
}

/// Loads every file; returns how many failed.
fn run(args: &LoadTsFileArgs) -> Result<usize, String> {
    let dir_for = |flag: &str, dir: &Option<PathBuf>| -> Result<PathBuf, String> {
        let d = dir.clone().ok_or_else(|| format!("mv needs {flag} DIR"))?;
        std::fs::create_dir_all(&d).map_err(|e| format!("cannot create {}: {e}", d.display()))?;
        Ok(d)
    };
    let success_dir = match args.on_success {
        OnSuccess::Mv => Some(dir_for("--success-dir", &args.success_dir)?),
        _ => None,
    };
    let fail_dir = match args.on_fail {
        OnFail::Mv => Some(dir_for("--fail-dir", &args.fail_dir)?),
        OnFail::None => None,
    };
    let files = storage::tsfiles_at(&args.source).map_err(|e| e.to_string())?;
    if files.is_empty() {
        return Err(format!("no TsFile found at {}", args.source.display()));
    }
    let mut conn = args
        .connect
        .open(&conn::local_zone(), 1000)
        .map_err(|e| crate::connect_error(&args.connect, &e))?;
    let by_statement = args.server_side || args.connect.data_dir.is_some();
    let (mut loaded, mut failed, mut points) = (0usize, 0usize, 0u64);
    let started = std::time::Instant::now();
    for file in &files {
        let result = if by_statement {
            load_statement(conn.session.as_mut(), file).map(|()| None)
        } else {
            let mut target = SessionTarget::new(conn.session.as_mut());
            storage::load_file_into(&mut target, file)
                .and_then(|r| target.flush().map(|()| r))
                .map(|(_, p)| Some(p))
                .map_err(|e| e.to_string())
        };
        match result {
            Ok(p) => {
                loaded += 1;
                points += p.unwrap_or(0);
                let how = match p {
                    Some(p) => format!("{p} points"),
                    None => "LOAD".to_string(),
                };
                eprintln!("Loaded {} ({how})", file.display());
                let done = match (&success_dir, args.on_success) {
                    (Some(d), _) => move_with_sidecars(file, d),
                    (None, OnSuccess::Delete) => delete_with_sidecars(file),
                    _ => Ok(()),
                };
                if let Err(e) = done {
                    eprintln!("load-tsfile: {}: loaded, but {e}", file.display());
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!("load-tsfile: {}: {e}", file.display());
                if let Some(d) = &fail_dir {
                    if let Err(e) = move_with_sidecars(file, d) {
                        eprintln!("load-tsfile: {}: {e}", file.display());
                    }
                }
                if !conn.session.is_open() {
                    return Err(format!("the connection to {} is lost", conn.target));
                }
            }
        }
    }
    conn.session.close().map_err(|e| e.to_string())?;
    let secs = started.elapsed().as_secs_f64();
    let counted = if by_statement {
        String::new()
    } else {
        format!(", {points} points")
    };
    eprintln!("Load completely: {loaded} file(s){counted} in {secs:.3}s; {failed} failed");
    Ok(failed)
}

/// `LOAD '<absolute path>' ONSUCCESS=NONE` on the session (what becomes of the file is
/// this tool's business: LOAD alone would delete it).
fn load_statement(session: &mut dyn Session, file: &Path) -> Result<(), String> {
    let abs = std::path::absolute(file).map_err(|e| e.to_string())?;
    let text = abs
        .to_str()
        .ok_or_else(|| format!("{} is not UTF-8", abs.display()))?;
    session
        .execute(&format!(
            "load '{}' onsuccess=none",
            text.replace('\'', "''")
        ))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

const SIDECARS: [&str; 4] = ["", ".resource", ".mods", ".mods2"];

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut p = file.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Moves `file` and its sidecars into `dir` (a rename, or copy and delete across devices).
fn move_with_sidecars(file: &Path, dir: &Path) -> Result<(), String> {
    for suffix in SIDECARS {
        let from = with_suffix(file, suffix);
        if !from.exists() {
            continue;
        }
        let name = from.file_name().unwrap_or_default();
        let to = dir.join(name);
        if std::fs::rename(&from, &to).is_err() {
            std::fs::copy(&from, &to)
                .and_then(|_| std::fs::remove_file(&from))
                .map_err(|e| format!("cannot move {} to {}: {e}", from.display(), to.display()))?;
        }
    }
    Ok(())
}

fn delete_with_sidecars(file: &Path) -> Result<(), String> {
    for suffix in SIDECARS {
        let p = with_suffix(file, suffix);
        match std::fs::remove_file(&p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot delete {}: {e}", p.display())),
        }
    }
    Ok(())
}

/// Bytes of values in a tablet request (8 per time, the values' widths).
fn tablet_bytes(t: &InsertTablet) -> usize {
    let values: usize = t
        .columns
        .iter()
        .map(|c| {
            (0..c.data.len())
                .map(|i| c.data.value_bytes(i))
                .sum::<usize>()
        })
        .sum();
    t.times.len() * 8 + values
}

/// Most bytes of values sent in one request (well under the server's 64 MiB frame limit).
const REQUEST_BYTES: usize = 8 << 20;

/// A client session as the target of a load: series looked up with `SHOW TIMESERIES` once
/// per device, tablets sent in requests of up to [`REQUEST_BYTES`].
struct SessionTarget<'a> {
    session: &'a mut dyn Session,
    /// device → measurement → type
    known: HashMap<PartialPath, HashMap<String, TSDataType>>,
    pending: Vec<InsertTablet>,
    pending_bytes: usize,
}

impl<'a> SessionTarget<'a> {
    fn new(session: &'a mut dyn Session) -> Self {
        SessionTarget {
            session,
            known: HashMap::new(),
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    /// Sends the tablets held back.
    fn flush(&mut self) -> Result<(), client::Error> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.pending_bytes = 0;
        self.session
            .insert_tablets(std::mem::take(&mut self.pending))
    }
}

impl LoadTarget for SessionTarget<'_> {
    type Error = client::Error;

    fn series_type(&mut self, path: &PartialPath) -> client::Result<Option<TSDataType>> {
        let device = path.parent();
        if !self.known.contains_key(&device) {
            let series =
                device_series(self.session, &device).map_err(|m| client::Error::Status {
                    code: model::TSStatusCode::ExecuteStatementError.code(),
                    message: m,
                })?;
            let types = series
                .into_iter()
                .map(|(m, info)| (m, info.data_type))
                .collect();
            self.known.insert(device.clone(), types);
        }
        Ok(self.known[&device].get(path.last()).copied())
    }

    fn create_series(
        &mut self,
        device: &PartialPath,
        aligned: bool,
        specs: Vec<TimeseriesSpec>,
    ) -> client::Result<()> {
        if aligned {
            self.session
                .create_aligned_timeseries(&device.to_string(), &specs)?;
        } else {
            self.session.create_timeseries(&specs)?;
        }
        let known = self.known.entry(device.clone()).or_default();
        for s in specs {
            known.insert(s.path.last().to_string(), s.data_type);
        }
        Ok(())
    }

    fn insert_tablet(&mut self, tablet: InsertTablet) -> client::Result<()> {
        let bytes = tablet_bytes(&tablet);
        if self.pending_bytes + bytes > REQUEST_BYTES {
            self.flush()?;
        }
        self.pending_bytes += bytes;
        self.pending.push(tablet);
        Ok(())
    }

    fn max_tablet_bytes(&self) -> usize {
        REQUEST_BYTES
    }
}
