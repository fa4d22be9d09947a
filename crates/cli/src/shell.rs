//! The interactive shell: line editing, persistent history, multi-line statements ended by
//! `;`, completion of keywords and of path nodes, Ctrl-C, paging.

use crate::run::{Flow, Runner};
use crate::split;
use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Config, Context, Editor, Helper};
use std::cell::RefCell;
use std::io::Write;
use std::path::PathBuf;
use std::rc::Rc;

/// The prompt, as IoTDB's CLI shows it.
pub const PROMPT: &str = "IoTDB> ";

/// SQL keywords offered by completion.
const KEYWORDS: &[&str] = &[
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP",
    "BY",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "SLIMIT",
    "SOFFSET",
    "ALIGN",
    "DEVICE",
    "FILL",
    "HAVING",
    "LEVEL",
    "LAST",
    "INSERT",
    "INTO",
    "VALUES",
    "DELETE",
    "CREATE",
    "DROP",
    "ALTER",
    "SHOW",
    "COUNT",
    "DATABASE",
    "DATABASES",
    "TIMESERIES",
    "DEVICES",
    "CHILD",
    "PATHS",
    "NODES",
    "ALIGNED",
    "WITH",
    "DATATYPE",
    "ENCODING",
    "COMPRESSOR",
    "TAGS",
    "ATTRIBUTES",
    "FLUSH",
    "TIME",
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "REGEXP",
    "BETWEEN",
    "IN",
    "ASC",
    "DESC",
    "AVG",
    "SUM",
    "MIN_VALUE",
    "MAX_VALUE",
    "MIN_TIME",
    "MAX_TIME",
    "FIRST_VALUE",
    "LAST_VALUE",
    "EXTREME",
    "QUERIES",
    "KILL",
    "USER",
    "ROLE",
    "GRANT",
    "REVOKE",
    "LIST",
    "PRIVILEGES",
    "SCHEMA",
    "TEMPLATE",
    "TEMPLATES",
    "SET",
    "UNSET",
    "TTL",
    "VERSION",
    "root",
    "BOOLEAN",
    "INT32",
    "INT64",
    "FLOAT",
    "DOUBLE",
    "TEXT",
    "STRING",
    "BLOB",
    "DATE",
    "TIMESTAMP",
    "quit",
    "exit",
    "help",
    "time_zone",
    "time_display_type",
    "fetch_size",
];

/// Line-editor helper: statement completeness (Enter inside an unfinished statement
/// continues it on a new line), keyword and path completion.
struct ShellHelper {
    runner: Rc<RefCell<Runner>>,
}

impl ShellHelper {
    /// Children of `prefix` (a path without wildcards) from `SHOW CHILD PATHS`.
    fn child_paths(&self, prefix: &str) -> Vec<String> {
        let Ok(mut runner) = self.runner.try_borrow_mut() else {
            return Vec::new();
        };
        let sql = format!("show child paths {prefix}");
        let Ok(client::Response::Rows(mut rs)) = runner.session().execute(&sql) else {
            return Vec::new();
        };
        let rows = rs.collect_rows().unwrap_or_default();
        let _ = rs.close();
        let Some(&ci) = rs.column_index.first() else {
            return Vec::new();
        };
        let Some(col) = rows.columns.get(ci) else {
            return Vec::new();
        };
        (0..rows.len())
            .filter_map(|i| match col.value(i) {
                Some(model::Value::Text(b)) => Some(String::from_utf8_lossy(&b).into_owned()),
                _ => None,
            })
            .collect()
    }
}

impl Completer for ShellHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let start = line[..pos]
            .rfind(|c: char| c.is_whitespace() || matches!(c, ',' | '(' | ')' | ';' | '='))
            .map_or(0, |i| i + 1);
        let word = &line[start..pos];
        if word.is_empty() {
            return Ok((pos, Vec::new()));
        }
        let pair = |s: String| Pair {
            display: s.clone(),
            replacement: s,
        };
        if let Some(dot) = word.rfind('.') {
            let prefix = &word[..dot];
            if prefix.contains('*') || !prefix.to_ascii_lowercase().starts_with("root") {
                return Ok((pos, Vec::new()));
            }
            let mut c: Vec<Pair> = self
                .child_paths(prefix)
                .into_iter()
                .filter(|p| p.starts_with(word))
                .map(pair)
                .collect();
            c.sort_by(|a, b| a.replacement.cmp(&b.replacement));
            return Ok((start, c));
        }
        let upper = word.to_ascii_uppercase();
        let lower_word = word.chars().all(|c| !c.is_ascii_uppercase());
        let c = KEYWORDS
            .iter()
            .filter(|k| k.to_ascii_uppercase().starts_with(&upper))
            .map(|k| {
                // keep the case the user types in
                if lower_word {
                    k.to_ascii_lowercase()
                } else {
                    k.to_string()
                }
            })
            .map(pair)
            .collect();
        Ok((start, c))
    }
}

impl Hinter for ShellHelper {
    type Hint = String;
}

impl Highlighter for ShellHelper {}

impl Validator for ShellHelper {
    fn validate(&self, ctx: &mut ValidationContext) -> rustyline::Result<ValidationResult> {
        Ok(if split::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Helper for ShellHelper {}

/// Where the history is kept: `$IOTDB_RS_HISTORY`, else `~/.iotdb_rs_history`.
pub fn default_history_file() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("IOTDB_RS_HISTORY").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".iotdb_rs_history"))
}

/// Runs the interactive shell until `quit`, `exit` or Ctrl-D. Returns the exit code.
pub fn interactive(runner: Runner, history: Option<PathBuf>) -> i32 {
    let cancel = runner.cancel();
    // Ctrl-C while a statement runs stops it; while a line is edited the editor sees it
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGINT]) {
        std::thread::spawn(move || {
            for _ in signals.forever() {
                cancel.request();
            }
        });
    }
    let runner = Rc::new(RefCell::new(runner));
    let config = Config::builder()
        .auto_add_history(false)
        .max_history_size(10_000)
        .map(|b| b.build())
        .unwrap_or_default();
    let mut editor: Editor<ShellHelper, DefaultHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("Msg: cannot start the line editor: {e}");
            return 1;
        }
    };
    editor.set_helper(Some(ShellHelper {
        runner: runner.clone(),
    }));
    if let Some(h) = &history {
        let _ = editor.load_history(h);
    }
    {
        let r = runner.borrow();
        println!(
            "iotdb-rs {} SQL shell, connected to {}.\nEnd statements with ';'. Type help for the shell's commands, quit or Ctrl-D to leave.",
            env!("CARGO_PKG_VERSION"),
            r.target
        );
    }
    let mut code = 0;
    loop {
        let line = match editor.readline(PROMPT) {
            Ok(l) => l,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("Msg: cannot read the input: {e}");
                code = 1;
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let _ = editor.add_history_entry(line.trim());
        if let Some(h) = &history {
            // saved after every statement, so that a killed shell keeps what was typed
            let _ = editor.save_history(h);
        }
        let commands = if split::is_client_command(&line) {
            vec![line.clone()]
        } else {
            split::split_statements(&line).0
        };
        let mut quit = false;
        for cmd in commands {
            let mut pager = |rows: usize| {
                print!("This display {rows} rows. Press ENTER to show more, input 'q' to quit.");
                let _ = std::io::stdout().flush();
                println!();
                matches!(editor_line(), Some(l) if l.trim().is_empty())
            };
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            let result = runner.borrow_mut().run(&cmd, &mut out, Some(&mut pager));

            drop(out);
            match result {
                Ok(Flow::Quit) => {
                    quit = true;
                    break;
                }
                Ok(Flow::Continue) => {}
                Err(m) => {
                    println!("Msg: {m}");
                    break;
                }
            }
        }
        if quit {
            break;
        }
    }
    if let Some(h) = &history {
        let _ = editor.save_history(h);
    }
    if let Err(e) = runner.borrow_mut().close() {
        eprintln!("Msg: {e}");
        code = 1;
    }
    code
}

/// Reads one plain line from standard input (the pager's answer); `None` at the end.
fn editor_line() -> Option<String> {
    let mut s = String::new();
    match std::io::stdin().read_line(&mut s) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(s),
    }
}
