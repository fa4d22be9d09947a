//! `cli`: the iotdb-rs SQL shell (`iotdb-rs cli`) and data tools (`iotdb-rs export-csv`,
//! `import-csv`, `export-parquet`, `export-tsfile`, `load-tsfile`), on the `client` session API so that they run the same against
//! a server (Thrift) or a data directory opened in-process.
//!
//! * [`shell`]: the interactive shell (line editing, history, completion, paging, Ctrl-C).
//! * [`run`]: one statement or shell command and its printed answer.
//! * [`render`]: time formats, IoTDB's rendering of values, table/CSV/TSV/JSON output.
//! * [`split`]: statements ended by `;` outside quotes.
//! * [`conn`]: IoTDB's connection flags and opening the session.
//! * [`csv_export`], [`csv_import`]: IoTDB's CSV formats.
//! * [`parquet_export`]: a query's result as a Parquet file.
//! * [`tsfile_export`], [`tsfile_load`]: series into a TsFile, TsFiles into a server or a
//!   data directory.

#![warn(missing_docs)]

pub mod conn;
pub mod csv_export;
pub mod csv_import;
pub mod iotdb_csv;
pub mod parquet_export;
pub mod progress;
pub mod render;
pub mod run;
pub mod shell;
pub mod split;
pub mod tsfile_export;
pub mod tsfile_load;

use conn::ConnectArgs;
use render::{Format, Style, TimeFormat};
use run::{Flow, Runner, Settings};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

/// `iotdb-rs cli`: IoTDB's `start-cli` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct CliArgs {
    /// Where to connect.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Run these statements (separated by `;`) and exit; the exit code is 1 at the first
    /// failure.
    #[arg(short = 'e', long = "execute")]
    pub execute: Option<String>,
    /// Rows per printed table page (IoTDB's `-maxPRC`).
    #[arg(long = "max-print-rows", default_value_t = 1000)]
    pub max_print_rows: usize,
    /// Rows per fetch from the server.
    #[arg(long = "fetch-size", default_value_t = 1000)]
    pub fetch_size: i32,
    /// Show times as epoch milliseconds (IoTDB's `-disableISO8601`).
    #[arg(long = "disable-iso8601")]
    pub disable_iso8601: bool,
    /// Session time zone [default: this machine's].
    #[arg(long = "time-zone")]
    pub time_zone: Option<String>,
    /// Output format [default: table on a terminal, csv otherwise].
    #[arg(long = "format", value_enum)]
    pub format: Option<Format>,
    /// History file [default: $IOTDB_RS_HISTORY or ~/.iotdb_rs_history].
    #[arg(long = "history-file")]
    pub history_file: Option<PathBuf>,
}

/// Runs `iotdb-rs cli`; returns the process exit code.
pub fn cli_main(args: CliArgs) -> i32 {
    let zone_id = args.time_zone.clone().unwrap_or_else(conn::local_zone);
    let zone = match model::time::TimeZone::parse(&zone_id) {
        Ok(z) => z,
        Err(e) => {
            eprintln!("Msg: {e}");
            return 1;
        }
    };
    let conn = match args.connect.open(&zone_id, args.fetch_size) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Msg: {}", connect_error(&args.connect, &e));
            return 1;
        }
    };
    let stdin_tty = std::io::stdin().is_terminal();
    let stdout_tty = std::io::stdout().is_terminal();
    let interactive = args.execute.is_none() && stdin_tty;
    let format = args.format.unwrap_or(if stdout_tty || interactive {
        Format::Table
    } else {
        Format::Csv
    });
    let settings = Settings {
        format,
        style: Style {
            time: if args.disable_iso8601 {
                TimeFormat::Long
            } else {
                TimeFormat::Iso
            },
            zone,
        },
        fetch_size: args.fetch_size.max(1),
        max_print_rows: args.max_print_rows.max(1),
    };
    let runner = Runner::new(conn, settings);
    if interactive {
        let history = args
            .history_file
            .clone()
            .or_else(shell::default_history_file);
        return shell::interactive(runner, history);
    }
    let text = match &args.execute {
        Some(e) => e.clone(),
        None => {
            let mut s = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut s) {
                eprintln!("Msg: cannot read standard input: {e}");
                return 1;
            }
            s
        }
    };
    batch(runner, &text)
}

/// Runs the statements of `text` in order, stopping at the first failure (exit code 1).
fn batch(mut runner: Runner, text: &str) -> i32 {
    let stmts = split::all_statements(text);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut code = 0;
    for stmt in &stmts {
        match runner.run(stmt, &mut out, None) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => break,
            Err(m) => {
                let _ = out.flush();
                eprintln!("Msg: {m}");
                code = 1;
                break;
            }
        }
    }
    let _ = out.flush();
    if let Err(e) = runner.close() {
        eprintln!("Msg: {e}");
        code = 1;
    }
    code
}

/// A tool's exit code: 0, or 1 after printing `<tool>: <message>` on standard error.
pub fn exit_code(tool: &str, result: Result<(), String>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(m) => {
            eprintln!("{tool}: {m}");
            1
        }
    }
}

/// The queries a tool exports: `-q`, else the statements of `-s file`, else `default`.
pub fn queries_of(
    query: &Option<String>,
    sql_file: &Option<PathBuf>,
    default: impl FnOnce() -> Result<String, String>,
) -> Result<Vec<String>, String> {
    match (query, sql_file) {
        (Some(q), _) => Ok(vec![q.clone()]),
        (None, Some(f)) => split::statements_of_file(f),
        (None, None) => Ok(vec![default()?]),
    }
}

/// One line for a failed connection or login.
pub fn connect_error(args: &ConnectArgs, e: &client::Error) -> String {
    match (e, &args.data_dir) {
        (_, Some(dir)) => format!("cannot open data directory {}: {e}", dir.display()),
        (client::Error::Connection(m), None) => m.clone(),
        (client::Error::Status { .. }, None) => {
            format!("login to {}:{} refused: {e}", args.host, args.port)
        }
    }
}
