//! Running one statement or shell command and printing its answer.

use crate::conn::Connection;
use crate::render::{self, Format, Header, Style, TimeFormat};
use crate::split;
use client::{Interrupter, Response, Session};
use model::time::TimeZone;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// What the shell does after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next command.
    Continue,
    /// `quit` / `exit`.
    Quit,
}

/// Shared between the runner and a Ctrl-C watcher: whether a statement runs, and
/// whether it was asked to stop.
#[derive(Default)]
pub struct Cancel {
    running: AtomicBool,
    requested: AtomicBool,
    interrupter: Option<Interrupter>,
}

impl Cancel {
    /// A cancel state for a session with (remote) or without (embedded) an interrupter.
    pub fn new(interrupter: Option<Interrupter>) -> Self {
        Cancel {
            interrupter,
            ..Default::default()
        }
    }

    /// Ctrl-C: stops the running statement (a blocked remote call at once, an embedded
    /// query at its next page or window). Returns false when nothing was running.
    pub fn request(&self) -> bool {
        if !self.running.load(Ordering::SeqCst) {
            return false;
        }
        self.requested.store(true, Ordering::SeqCst);
        if let Some(i) = &self.interrupter {
            i.interrupt();
        }
        true
    }

    fn begin(&self) {
        self.requested.store(false, Ordering::SeqCst);
        self.running.store(true, Ordering::SeqCst);
    }

    fn end(&self) {
        self.running.store(false, Ordering::SeqCst);
    }

    fn requested(&self) -> bool {
        self.requested.load(Ordering::SeqCst)
    }
}

/// Output settings of the shell (changed by `set …` commands).
pub struct Settings {
    /// Output format.
    pub format: Format,
    /// Time format and zone.
    pub style: Style,
    /// Rows per fetch from the server.
    pub fetch_size: i32,
    /// Rows per printed table page (IoTDB's `-maxPRC`); in interactive table output the
    /// shell asks before each further page.
    pub max_print_rows: usize,
}

/// Asks whether to show the next page (true = show more).
pub type Pager<'a> = &'a mut dyn FnMut(usize) -> bool;

/// A session with its output settings.
pub struct Runner {
    session: Box<dyn Session>,
    /// Output settings.
    pub settings: Settings,
    cancel: Arc<Cancel>,
    /// `host:port` or the data directory.
    pub target: String,
}

const SUCCESS: &str = "The statement is executed successfully.";

fn interrupted() -> client::Error {
    client::Error::Status {
        code: model::TSStatusCode::QueryWasKilled.code(),
        message: "the statement was interrupted by the client".into(),
    }
}

/// An error as the shell prints it (after `Msg: `).
pub fn message(e: &client::Error) -> String {
    e.to_string()
}

impl Runner {
    /// A runner over an open connection.
    pub fn new(conn: Connection, settings: Settings) -> Self {
        Runner {
            session: conn.session,
            settings,
            cancel: Arc::new(Cancel::new(conn.interrupter)),
            target: conn.target,
        }
    }

    /// The cancel state (for a Ctrl-C watcher).
    pub fn cancel(&self) -> Arc<Cancel> {
        self.cancel.clone()
    }

    /// The session (for completion queries).
    pub fn session(&mut self) -> &mut dyn Session {
        self.session.as_mut()
    }

    /// Closes the session (flushes an embedded engine).
    pub fn close(&mut self) -> Result<(), client::Error> {
        self.session.close()
    }

    /// Runs one shell command or SQL statement, printing its answer to `out`.
    pub fn run(
        &mut self,
        text: &str,
        out: &mut dyn Write,
        pager: Option<Pager>,
    ) -> Result<Flow, String> {
        let text = text.trim().trim_end_matches(';').trim();
        if text.is_empty() {
            return Ok(Flow::Continue);
        }
        if split::is_client_command(text) {
            return self.client_command(text, out);
        }
        self.statement(text, out, pager)
            .map(|()| Flow::Continue)
            .map_err(|e| match e {
                StatementError::Client(e) => message(&e),
                StatementError::Io(e) => format!("cannot write the output: {e}"),
            })
    }

    fn client_command(&mut self, text: &str, out: &mut dyn Write) -> Result<Flow, String> {
        let lower = text.to_ascii_lowercase();
        let words = lower.split_whitespace().collect::<Vec<_>>().join(" ");
        let value = text.split_once('=').map(|(_, v)| v.trim().to_string());
        let need = |what: &str| {
            value
                .clone()
                .filter(|v| !v.is_empty())
                .ok_or_else(|| format!("{what} format error, please input like set {what}=…"))
        };
        let w = |out: &mut dyn Write, s: String| {
            writeln!(out, "{s}").map_err(|e| format!("cannot write the output: {e}"))
        };
        match words.as_str() {
            "quit" | "exit" => return Ok(Flow::Quit),
            "help" => w(out, HELP.trim_end().to_string())?,
            _ if words.starts_with("set time_display_type") => {
                let v = need("time_display_type")?;
                self.settings.style.time =
                    TimeFormat::parse(&v).map_err(|e| format!("time display format error, {e}"))?;
                w(out, format!("Time display type has set to {v}"))?;
            }
            _ if words.starts_with("show time_display_type") => w(
                out,
                format!("Current time format: {}", self.settings.style.time.name()),
            )?,
            _ if words.starts_with("set time_zone") => {
                let v = need("time_zone")?;
                let zone =
                    TimeZone::parse(&v).map_err(|e| format!("Time zone format error: {e}"))?;
                self.session
                    .set_time_zone(&v)
                    .map_err(|e| format!("Time zone format error: {}", message(&e)))?;
                self.settings.style.zone = zone;
                w(out, format!("Time zone has set to {v}"))?;
            }
            _ if words.starts_with("show time_zone") => w(
                out,
                format!("Current time zone: {}", self.session.time_zone()),
            )?,
            _ if words.starts_with("set fetch_size") => {
                let v = need("fetch_size")?;
                let n: i64 = v
                    .parse()
                    .map_err(|_| format!("Fetch size format error, {v} is not a number"))?;
                self.settings.fetch_size = n.clamp(1, i32::MAX as i64) as i32;
                w(out, format!("Fetch size has set to {v}"))?;
            }
            _ if words.starts_with("show fetch_size") => w(
                out,
                format!("Current fetch size: {}", self.settings.fetch_size),
            )?,
            _ if words.starts_with("set max_display_num") => {
                let v = need("max_display_num")?;
                let n: usize = v
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("Max display number format error, {v}"))?;
                self.settings.max_print_rows = n;
                w(out, format!("Max display number has set to {v}"))?;
            }
            _ if words.starts_with("show max_display_num") => w(
                out,
                format!(
                    "Current max display number: {}",
                    self.settings.max_print_rows
                ),
            )?,
            _ => return Err(format!("unknown shell command: {text}")),
        }
        Ok(Flow::Continue)
    }

    /// `e`, or the interruption when Ctrl-C stopped the statement (a killed embedded
    /// query fails with its own error).
    fn unless_interrupted(&self, e: client::Error) -> client::Error {
        if self.cancel.requested() {
            interrupted()
        } else {
            e
        }
    }

    fn statement(
        &mut self,
        sql: &str,
        out: &mut dyn Write,
        mut pager: Option<Pager>,
    ) -> Result<(), StatementError> {
        let start = Instant::now();
        self.cancel.begin();
        let result = self.session.execute(sql);
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                self.cancel.end();
                return Err(self.unless_interrupted(e).into());
            }
        };
        let mut rs = match resp {
            Response::Done => {
                self.cancel.end();
                if self.settings.format == Format::Table {
                    writeln!(out, "Msg: {SUCCESS}")?;
                }
                return Ok(());
            }
            Response::Rows(rs) => rs,
        };
        rs.set_fetch_size(self.settings.fetch_size);
        let header = Header::of(&rs);
        let s = &self.settings;
        let max = s.max_print_rows.max(1);
        let mut page: Vec<Vec<Option<String>>> = Vec::new();
        let mut total = 0usize;
        let mut cost_shown = false;
        let mut header_written = false;
        let mut ended = false;
        let cost = |out: &mut dyn Write, start: Instant| {
            writeln!(out, "It costs {:.3}s", start.elapsed().as_secs_f64())
        };
        let outcome: Result<(), StatementError> = (|| loop {
            if self.cancel.requested() {
                return Err(interrupted().into());
            }
            let batch = rs.next_batch().map_err(|e| self.unless_interrupted(e))?;
            if self.cancel.requested() {
                return Err(interrupted().into());
            }
            match batch {
                Some(b) => page.extend(render::rows_text(&b, &rs.column_index, &header, &s.style)),
                None => ended = true,
            }
            if s.format != Format::Table {
                match s.format {
                    Format::Json => render::write_json(out, &header, &page, &s.style)?,
                    f => {
                        let h = (!header_written).then_some(header.names.as_slice());
                        render::write_delimited(out, f, h, &page)?;
                    }
                }
                header_written = true;
                total += page.len();
                page.clear();
                if ended {
                    return Ok(());
                }
                continue;
            }
            // table: whole pages while more rows follow, the rest at the end
            while page.len() > max || (ended && (!page.is_empty() || total == 0)) {
                let n = page.len().min(max);
                let rows: Vec<_> = page.drain(..n).collect();
                render::write_table(out, &header.names, &rows)?;
                total += n;
                let last = ended && page.is_empty();
                if last {
                    if total == 0 {
                        writeln!(out, "Empty set.")?;
                    } else {
                        writeln!(out, "Total line number = {total}")?;
                    }
                }
                if !cost_shown {
                    cost(out, start)?;
                    cost_shown = true;
                }
                if last {
                    return Ok(());
                }
                if let Some(p) = pager.as_mut() {
                    out.flush()?;
                    self.cancel.end();
                    let more = p(max);
                    self.cancel.begin();
                    if !more {
                        return Ok(());
                    }
                }
            }
            if ended {
                return Ok(());
            }
        })();
        self.cancel.end();
        let _ = rs.close();
        outcome?;
        out.flush()?;
        Ok(())
    }
}

enum StatementError {
    Client(client::Error),
    Io(std::io::Error),
}

impl From<client::Error> for StatementError {
    fn from(e: client::Error) -> Self {
        StatementError::Client(e)
    }
}

impl From<std::io::Error> for StatementError {
    fn from(e: std::io::Error) -> Self {
        StatementError::Io(e)
    }
}

const HELP: &str = "\
    <your-sql>;                  run a SQL statement (end it with ';', it may span lines)
    show timeseries;             list the series
    set time_display_type=xxx    long, default (ISO-8601) or a pattern like yyyy-MM-dd HH:mm:ss
    show time_display_type       show the time display type
    set time_zone=xxx            e.g. +08:00, Asia/Shanghai
    show time_zone               show the session time zone
    set fetch_size=xxx           rows per fetch from the server
    show fetch_size              show the fetch size
    set max_display_num=xxx      rows per printed page
    quit / exit                  leave (Ctrl-D too); Ctrl-C cancels the line or the running query
";
