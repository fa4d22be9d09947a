//! Connection flags shared by the shell and the tools (IoTDB's `-h -p -u -pw -c`, plus
//! `--data-dir` for an embedded engine), and opening the session they describe.

use client::{EmbeddedConfig, EmbeddedSession, Interrupter, RemoteConfig, RemoteSession, Session};
use std::path::PathBuf;

/// Where to run statements: a server, or a data directory opened in this process.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectArgs {
    /// Server host.
    #[arg(short = 'h', long = "host", default_value = "127.0.0.1")]
    pub host: String,
    /// Server port.
    #[arg(short = 'p', long = "port", default_value_t = 6667)]
    pub port: u16,
    /// User name.
    #[arg(short = 'u', long = "username", default_value = "root")]
    pub user: String,
    /// Password (IoTDB's `-pw`).
    #[arg(long = "pw", visible_alias = "password", default_value = "root")]
    pub password: String,
    /// Use the compact Thrift protocol (IoTDB's `-c`, RPC compression).
    #[arg(short = 'c', long = "rpc-compress")]
    pub compact: bool,
    /// Open this data directory in-process (no server); the directory must not be in use
    /// by a server.
    #[arg(long = "data-dir")]
    pub data_dir: Option<PathBuf>,
}

/// A session and, for a remote one, the handle that interrupts its running call.
pub struct Connection {
    /// The session.
    pub session: Box<dyn Session>,
    /// Interrupts the running call (a remote one, or an embedded session's query).
    pub interrupter: Option<Interrupter>,
    /// `host:port` or `data directory …`, for messages.
    pub target: String,
}

impl ConnectArgs {
    /// Opens the session (zone id as the session zone, rows per fetch).
    pub fn open(&self, zone_id: &str, fetch_size: i32) -> Result<Connection, client::Error> {
        if let Some(dir) = &self.data_dir {
            let mut config = EmbeddedConfig::new(dir);
            config.user = self.user.clone();
            config.zone_id = zone_id.to_string();
            let session = EmbeddedSession::open(config)?;
            return Ok(Connection {
                interrupter: Some(session.interrupter()),
                session: Box::new(session),
                target: format!("data directory {}", dir.display()),
            });
        }
        let mut config = RemoteConfig::new(&self.host, self.port);
        config.user = self.user.clone();
        config.password = self.password.clone();
        config.compact = self.compact;
        config.zone_id = zone_id.to_string();
        config.fetch_size = fetch_size.max(1);
        let session = RemoteSession::open(config)?;
        Ok(Connection {
            interrupter: Some(session.interrupter()),
            session: Box::new(session),
            target: format!("{}:{}", self.host, self.port),
        })
    }
}

/// The zone of this machine now, as `+HH:MM` (IoTDB's CLI uses the system zone).
pub fn local_zone() -> String {
    chrono::Local::now().offset().to_string()
}

/// Rewrites IoTDB's single-dash long flags (`-pw root`, `-maxPRC 10`, `-disableISO8601`,
/// `-td dir`, `-tf long`, `-linesPerFile 100` …) into the double-dash form this binary's
/// parser takes, so IoTDB users' command lines work unchanged.
pub fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    const LONG: [(&str, &str); 21] = [
        ("-pw", "--pw"),
        ("-maxPRC", "--max-print-rows"),
        ("-disableISO8601", "--disable-iso8601"),
        ("-help", "--help"),
        ("-td", "--target-dir"),
        ("-tf", "--time-format"),
        ("-tz", "--time-zone"),
        ("-dt", "--datatype"),
        ("-lpf", "--lines-per-file"),
        ("-linesPerFile", "--lines-per-file"),
        ("-batch", "--batch-size"),
        ("-batchSize", "--batch-size"),
        ("-aligned", "--aligned"),
        ("-typeInfer", "--type-infer"),
        ("-fetchSize", "--fetch-size"),
        ("-timeout", "--timeout"),
        ("-sql", "--sql-file"),
        ("-os", "--on-success"),
        ("-sd", "--success-dir"),
        ("-of", "--on-fail"),
        ("-fd", "--fail-dir"),
    ];
    let mut out = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if a == "-e" {
            // the statement is the next argument, whatever it starts with
            out.push(a);
            out.extend(it.next());
            continue;
        }
        match LONG.iter().find(|(k, _)| *k == a) {
            Some((_, v)) => out.push(v.to_string()),
            None => out.push(a),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iotdb_flags() {
        let a: Vec<String> = [
            "x", "cli", "-h", "h", "-pw", "p", "-maxPRC", "5", "-e", "-pw",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            normalize_args(a),
            [
                "x",
                "cli",
                "-h",
                "h",
                "--pw",
                "p",
                "--max-print-rows",
                "5",
                "-e",
                "-pw"
            ]
        );
    }
}
