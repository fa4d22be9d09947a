//! `iotdb-rs`: the single binary of the project.
//!
//! `iotdb-rs serve [--host H] [--port P] [--data-dir D] [--config FILE]` starts the
//! IoTDB-compatible server; flags override the config file, which overrides defaults.
//! `iotdb-rs tsfile inspect <file>` describes a TsFile. `iotdb-rs cli` is the SQL shell,
//! `iotdb-rs export-csv` / `import-csv` move data in IoTDB's CSV formats and
//! `iotdb-rs export-parquet` writes a query's result as Parquet, `iotdb-rs export-tsfile` and
//! `load-tsfile` move series as TsFiles (crate `cli`).

mod inspect;

use clap::{Parser, Subcommand};
use server::{Server, ServerConfig};
use signal_hook::consts::{SIGINT, SIGTERM};
use std::path::PathBuf;
use std::process::ExitCode;

/// mimalloc reuses freed pages instead of returning large blocks to the kernel, which
/// avoids a page-fault storm on the ingestion path (every tablet request allocates
/// megabyte-sized buffers); see docs/adr/0005-allocator.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "iotdb-rs",
    version,
    about = "An Apache IoTDB-compatible time-series database"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (Thrift IClientRPCService, IoTDB SQL).
    Serve(ServeArgs),
    /// The SQL shell (IoTDB's start-cli flags: -h -p -u -pw -e -maxPRC -disableISO8601 -c),
    /// on a server or on a data directory (--data-dir).
    #[command(disable_help_flag = true)]
    Cli {
        #[command(flatten)]
        args: cli::CliArgs,
        /// Print help.
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
    },
    /// Export query results to CSV files in IoTDB's formats (export-csv.sh flags).
    #[command(name = "export-csv", disable_help_flag = true)]
    ExportCsv {
        #[command(flatten)]
        args: cli::csv_export::ExportArgs,
        /// Print help.
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
    },
    /// Import CSV files in IoTDB's formats (import-csv.sh flags).
    #[command(name = "import-csv", disable_help_flag = true)]
    ImportCsv {
        #[command(flatten)]
        args: cli::csv_import::ImportArgs,
        /// Print help.
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
    },
    /// Export a query's result (or a path pattern and time range) into a Parquet file.
    #[command(name = "export-parquet", disable_help_flag = true)]
    ExportParquet {
        #[command(flatten)]
        args: cli::parquet_export::ExportParquetArgs,
        /// Print help.
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
    },
    /// Export series (a query, or a path pattern and time range) into TsFiles
    /// (export-tsfile.sh flags).
    #[command(name = "export-tsfile", disable_help_flag = true)]
    ExportTsfile {
        #[command(flatten)]
        args: cli::tsfile_export::ExportTsFileArgs,
        /// Print help.
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
    },
    /// Load TsFiles of this machine into a server or a data directory (load-tsfile.sh flags).
    #[command(name = "load-tsfile", disable_help_flag = true)]
    LoadTsfile {
        #[command(flatten)]
        args: cli::tsfile_load::LoadTsFileArgs,
        /// Print help.
        #[arg(long, action = clap::ArgAction::Help)]
        help: Option<bool>,
    },
    /// TsFile tools.
    Tsfile {
        #[command(subcommand)]
        command: TsfileCommand,
    },
}

#[derive(Subcommand)]
enum TsfileCommand {
    /// Describe a TsFile: devices, series, types, encodings, compression, point counts,
    /// time ranges and statistics.
    Inspect {
        /// The TsFile (V3 or V4).
        file: PathBuf,
    },
    /// Print every point of a TsFile as `path,time,value` lines (floats exact, text quoted),
    /// as decoded; deletions in a `.mods` file beside it are not applied.
    Dump {
        /// The TsFile (V3 or V4).
        file: PathBuf,
        /// Only this series (full path, e.g. root.sg.d1.s1).
        #[arg(long)]
        series: Option<String>,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// IoTDB-style properties file (keys such as dn_rpc_port, wal_mode, integer_string_infer_type).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1].
    #[arg(long)]
    host: Option<String>,
    /// Client RPC port [default: 6667].
    #[arg(long)]
    port: Option<u16>,
    /// Data directory [default: ./data].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// WAL mode: DISABLE, ASYNC or SYNC [default: ASYNC].
    #[arg(long)]
    wal_mode: Option<String>,
    /// Serve Prometheus metrics at http://HOST:PORT/metrics (as
    /// dn_metric_reporter_list=PROMETHEUS with dn_metric_prometheus_reporter_port=PORT).
    #[arg(long)]
    metrics_port: Option<u16>,
}

fn build_config(args: &ServeArgs) -> model::Result<ServerConfig> {
    let mut config = ServerConfig::default();
    if let Some(file) = &args.config {
        config.apply_file(file)?;
    }
    let mut flags = std::collections::HashMap::new();
    if let Some(h) = &args.host {
        flags.insert("dn_rpc_address".to_string(), h.clone());
    }
    if let Some(p) = args.port {
        flags.insert("dn_rpc_port".to_string(), p.to_string());
    }
    if let Some(d) = &args.data_dir {
        flags.insert("dn_data_dirs".to_string(), d.display().to_string());
    }
    if let Some(w) = &args.wal_mode {
        flags.insert("wal_mode".to_string(), w.clone());
    }
    if let Some(p) = args.metrics_port {
        flags.insert("dn_metric_reporter_list".to_string(), "PROMETHEUS".into());
        flags.insert(
            "dn_metric_prometheus_reporter_port".to_string(),
            p.to_string(),
        );
    }
    config.apply_properties(&flags)?;
    Ok(config)
}

fn serve(args: ServeArgs) -> model::Result<()> {
    let mut config = build_config(&args)?;
    config.release_memory = Some(release_allocator_memory);
    config.purge_memory = Some(purge_allocator_memory);
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM])?;
    let data_dir = config.storage.data_dir.clone();
    let wal_mode = format!("{:?}", config.storage.wal_mode).to_ascii_uppercase();
    let config_file = config
        .config_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "none (defaults and flags)".into());
    // a test hook (simulated full disk), inert unless its variable is set
    storage::fault::install_from_env(&data_dir);
    let server = Server::start(config)?;
    let metrics = server
        .metrics_addr()
        .map(|a| format!("http://{a}/metrics"))
        .unwrap_or_else(|| "off".into());
    tracing::info!(
        "iotdb-rs {} listening on {}; data directory {}, WAL mode {wal_mode}, config file {config_file}, metrics {metrics}",
        env!("CARGO_PKG_VERSION"),
        server.local_addr(),
        data_dir.display(),
    );
    if let Some(sig) = signals.forever().next() {
        tracing::info!(signal = sig, "shutting down");
    }
    if let Err(e) = server.shutdown() {
        // a full disk, say: what could not be flushed is in the WAL, replayed at the next start
        tracing::error!(
            "stopped, but not everything could be written ({e}); unflushed points stay in the \
             WAL and are replayed at the next start"
        );
        return Err(e);
    }
    tracing::info!("stopped cleanly");
    Ok(())
}

/// Makes mimalloc commit arena memory only when used and keep freed pages for ten seconds
/// before handing them back (options `arena_eager_commit` = 0 and `purge_delay` = 10000 ms,
/// numbers 4 and 15 of `mi_option_e` in mimalloc.h, the same in v2 and v3), unless
/// `MIMALLOC_ARENA_EAGER_COMMIT` / `MIMALLOC_PURGE_DELAY` say otherwise. Eager commit kept
/// RSS near 1.4 GB under 64 busy sessions with 340 MB in memtables. A purge delay of 0
/// (purge on every free) cost 25 % of write + FLUSH throughput, and 10 ms made every query
/// that follows a pause fault its buffers in again (a 1 M x 4 result: 44 against 29 ms of
/// server CPU); at 1 s, a query every 2 s (as a dashboard polls) still faulted ~3,500 pages
/// each time, at 10 s none. Retained pages stay within the memory budget because the
/// governor calls [`release_allocator_memory`] when resident memory nears it
/// (docs/adr/0005-allocator.md).
///
/// Transparent huge pages are turned off for the process (`PR_SET_THP_DISABLE`, what
/// mimalloc itself does with `MIMALLOC_ALLOW_THP=0`, which still wins): mimalloc asks for
/// them on its arenas, and the kernel then keeps whole 2 MiB pages resident around the few
/// live blocks of each, and collapses purged ranges back into huge pages. Under
/// `scripts/bench-load` about 550 MB of the server's ~1 GB RSS were huge pages while the
/// heap's live bytes were ~350 MB; without them peak RSS fell to ~780 MB at the same write
/// rate (docs/adr/0005-allocator.md).
fn tune_allocator() {
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes integer arguments only and sets a flag of this
        // process's memory map; it cannot touch memory the program uses.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    for (option, env, value) in [
        (ARENA_EAGER_COMMIT, "MIMALLOC_ARENA_EAGER_COMMIT", 0),
        (PURGE_DELAY, "MIMALLOC_PURGE_DELAY", 10_000),
    ] {
        if std::env::var_os(env).is_none() {
            // SAFETY: mi_option_set only stores an option value; any option number is
            // accepted (unknown ones are ignored) and it may be called at any time.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
}

/// Purges every page mimalloc holds free now, whatever its purge delay (a forced collect
/// visits all arenas); the memory governor's release hook.
fn release_allocator_memory() {
    // SAFETY: mi_collect takes no pointers; it frees only memory no live block uses and is
    // safe to call from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
}

/// Lets mimalloc purge the free pages whose purge delay has passed (an ordinary collect,
/// which does nothing until a delay is up); the memory governor's periodic purge hook.
/// mimalloc purges only when it runs: without this an idle server kept what its last queries
/// freed (after a burst of 1 M x 4 DOUBLE queries, 56 MB against 18 MB with a 1 s delay, for
/// as long as it stayed idle).
fn purge_allocator_memory() {
    // SAFETY: as for `release_allocator_memory`: no pointers, only memory no live block uses.
    unsafe { libmimalloc_sys::mi_collect(false) };
}

fn main() -> ExitCode {
    tune_allocator();
    // Colour only on a terminal, and never when NO_COLOR is set: logs written to a file or a
    // pipe stay plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let cli = Cli::parse_from(cli::conn::normalize_args(std::env::args()));
    let code = match &cli.command {
        Command::Cli { args, .. } => Some(cli::cli_main(args.clone())),
        Command::ExportCsv { args, .. } => Some(cli::csv_export::main(args)),
        Command::ImportCsv { args, .. } => Some(cli::csv_import::main(args)),
        Command::ExportParquet { args, .. } => Some(cli::parquet_export::main(args)),
        Command::ExportTsfile { args, .. } => Some(cli::tsfile_export::main(args)),
        Command::LoadTsfile { args, .. } => Some(cli::tsfile_load::main(args)),
        _ => None,
    };
    if let Some(code) = code {
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let result = match cli.command {
        Command::Cli { .. }
        | Command::ExportCsv { .. }
        | Command::ImportCsv { .. }
        | Command::ExportParquet { .. }
        | Command::ExportTsfile { .. }
        | Command::LoadTsfile { .. } => Ok(()),
        Command::Serve(args) => serve(args),
        Command::Tsfile {
            command: TsfileCommand::Inspect { file },
        } => inspect::inspect(&file).map(|text| print!("{text}")),
        Command::Tsfile {
            command: TsfileCommand::Dump { file, series },
        } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            inspect::dump(&file, series.as_deref(), &mut out)
                .and_then(|()| std::io::Write::flush(&mut out).map_err(Into::into))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("iotdb-rs: {e}");
            ExitCode::FAILURE
        }
    }
}
