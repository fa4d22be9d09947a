//! Progress of long imports and exports on standard error: one updating line on a
//! terminal, a plain line every few seconds otherwise.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// Counts rows and reports them now and then.
pub struct Progress {
    what: &'static str,
    start: Instant,
    last: Instant,
    terminal: bool,
    every: Duration,
    /// Rows so far.
    pub rows: u64,
    /// Bytes so far (input bytes of an import, 0 for exports).
    pub bytes: u64,
    /// Total bytes when known (the input files of an import), for the ETA.
    pub total_bytes: Option<u64>,
}

impl Progress {
    /// Starts counting `what` ("imported", "exported").
    pub fn new(what: &'static str) -> Self {
        let terminal = std::io::stderr().is_terminal();
        Progress {
            what,
            start: Instant::now(),
            last: Instant::now(),
            terminal,
            every: if terminal {
                Duration::from_millis(200)
            } else {
                Duration::from_secs(5)
            },
            rows: 0,
            bytes: 0,
            total_bytes: None,
        }
    }

    /// Adds rows (and bytes) and reports when it is time.
    pub fn add(&mut self, rows: u64, bytes: u64) {
        self.rows += rows;
        self.bytes += bytes;
        if self.last.elapsed() >= self.every {
            self.last = Instant::now();
            self.report(false);
        }
    }

    fn line(&self, done: bool) -> String {
        let secs = self.start.elapsed().as_secs_f64().max(1e-9);
        let rate = self.rows as f64 / secs;
        let mut s = format!("{} {} rows ({:.0} rows/s", self.what, self.rows, rate);
        if self.bytes > 0 {
            s.push_str(&format!(", {:.1} MiB", self.bytes as f64 / 1048576.0));
            if let Some(total) = self.total_bytes.filter(|&t| t > 0 && !done) {
                let done = self.bytes as f64 / total as f64;
                if done > 0.0 && done < 1.0 {
                    let eta = secs * (1.0 - done) / done;
                    s.push_str(&format!(", {:.0} %, ETA {eta:.0} s", done * 100.0));
                }
            }
        }
        s.push(')');
        s
    }

    fn report(&self, done: bool) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r{}\x1b[K", self.line(done));
            if done {
                let _ = writeln!(err);
            }
        } else {
            let _ = writeln!(err, "{}", self.line(done));
        }
    }

    /// The final line.
    pub fn finish(&self) {
        self.report(true);
    }
}
