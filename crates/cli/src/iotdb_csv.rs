//! The CSV dialect of Apache IoTDB's import/export tools (see docs/adr/0012-iotdb-csv-dialect.md).
//!
//! IoTDB's export writes fields without quoting and escapes with a backslash instead: `\\`,
//! `\,`, and line breaks as `\n` / `\r`; records end with CRLF; a double quote is an ordinary
//! character (TEXT values carry a pair of them around the value, added by the tool itself).
//! IoTDB's import reads with the backslash as escape character and the backquote as quote
//! character: `\n`, `\r`, `\t`, `\b`, `\f` are control characters, `\,` `\\` and `` \` ``
//! the character itself, any other escape is kept as written; a field that starts with a
//! backquote runs to the next single backquote (a doubled one is a literal backquote); empty
//! lines are skipped. RFC 4180 readers and writers (the `csv` crate) do not do this.

use std::io::{self, BufRead, Write};

/// Appends `field` to `out` as IoTDB's export writes it.
pub fn write_field(out: &mut impl Write, field: &str) -> io::Result<()> {
    let bytes = field.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b',' => b"\\,",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            // a leading backquote would start a quoted field for IoTDB's reader
            b'`' if i == 0 => b"\\`",
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        out.write_all(escaped)?;
        start = i + 1;
    }
    out.write_all(&bytes[start..])
}

/// Writes one record (fields separated by commas, ended by CRLF).
pub fn write_record<S: AsRef<str>>(out: &mut impl Write, fields: &[S]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_field(out, f.as_ref())?;
    }
    out.write_all(b"\r\n")
}

/// A record that could not be read: its first line and why.
#[derive(Debug)]
pub struct BadRecord {
    /// Line (1-based) the record starts on.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// Reads records of IoTDB's dialect.
pub struct Reader<R> {
    input: R,
    buf: Vec<u8>,
    /// Lines consumed so far.
    line: u64,
    /// Bytes consumed so far.
    byte: u64,
}

#[derive(PartialEq)]
enum State {
    FieldStart,
    Plain,
    Quoted,
    AfterQuote,
}

impl<R: BufRead> Reader<R> {
    /// A reader over `input`.
    pub fn new(input: R) -> Self {
        Reader {
            input,
            buf: Vec::new(),
            line: 0,
            byte: 0,
        }
    }

    /// Bytes read so far.
    pub fn byte(&self) -> u64 {
        self.byte
    }

    /// The next record's fields into `fields`: `Ok(Some(Ok(line)))` with the line it starts
    /// on, `Ok(Some(Err(_)))` for a record that cannot be read (the reader goes on after
    /// it), `Ok(None)` at the end. I/O errors are `Err`.
    pub fn read_record(
        &mut self,
        fields: &mut Vec<String>,
    ) -> io::Result<Option<Result<u64, BadRecord>>> {
        fields.clear();
        let mut field: Vec<u8> = Vec::new();
        let mut state = State::FieldStart;
        let mut first_line = None;
        let mut bad: Option<String> = None;
        loop {
            self.buf.clear();
            let n = self.input.read_until(b'\n', &mut self.buf)?;
            if n == 0 {
                return Ok(first_line.map(|line| {
                    Err(BadRecord {
                        line,
                        message: "the file ends inside a quoted field".into(),
                    })
                }));
            }
            self.line += 1;
            self.byte += n as u64;
            let line = *first_line.get_or_insert(self.line);
            if state == State::FieldStart
                && fields.is_empty()
                && matches!(&self.buf[..], b"\n" | b"\r\n")
            {
                // an empty line is no record
                first_line = None;
                continue;
            }
            let buf = std::mem::take(&mut self.buf);
            let mut i = 0;
            let mut ended = false;
            while i < buf.len() {
                let b = buf[i];
                i += 1;
                match state {
                    State::FieldStart if b == b'`' => state = State::Quoted,
                    State::FieldStart | State::Plain => match b {
                        b',' => {
                            fields.push(take_text(&mut field, &mut bad));
                            state = State::FieldStart;
                        }
                        b'\n' => {
                            ended = true;
                            break;
                        }
                        b'\r' if matches!(buf.get(i), None | Some(b'\n')) => {
                            ended = true;
                            break;
                        }
                        b'\\' => {
                            state = State::Plain;
                            match buf.get(i) {
                                Some(&c) => {
                                    i += 1;
                                    unescape(c, &mut field);
                                }
                                None => field.push(b'\\'),
                            }
                        }
                        _ => {
                            state = State::Plain;
                            field.push(b);
                        }
                    },
                    State::Quoted => match b {
                        b'`' if buf.get(i) == Some(&b'`') => {
                            i += 1;
                            field.push(b'`');
                        }
                        b'`' => state = State::AfterQuote,
                        b'\\' => match buf.get(i) {
                            Some(&c) => {
                                i += 1;
                                unescape(c, &mut field);
                            }
                            None => field.push(b'\\'),
                        },
                        _ => field.push(b),
                    },
                    State::AfterQuote => match b {
                        b',' => {
                            fields.push(take_text(&mut field, &mut bad));
                            state = State::FieldStart;
                        }
                        b'\n' | b'\r' => {
                            ended = true;
                            break;
                        }
                        b' ' | b'\t' => {}
                        other => {
                            bad.get_or_insert_with(|| {
                                format!(
                                    "{:?} after the closing backquote of a field",
                                    other as char
                                )
                            });
                        }
                    },
                }
            }
            self.buf = buf;
            if ended {
                fields.push(take_text(&mut field, &mut bad));
                return Ok(Some(match bad {
                    None => Ok(line),
                    Some(message) => Err(BadRecord { line, message }),
                }));
            }
            if state != State::Quoted && self.buf.last() != Some(&b'\n') {
                // the last line without a line break
                fields.push(take_text(&mut field, &mut bad));
                return Ok(Some(match bad {
                    None => Ok(line),
                    Some(message) => Err(BadRecord { line, message }),
                }));
            }
            // a quoted field goes on on the next line
        }
    }
}

/// The character an escape `\c` stands for (unknown escapes are kept as written).
fn unescape(c: u8, out: &mut Vec<u8>) {
    match c {
        b'n' => out.push(b'\n'),
        b'r' => out.push(b'\r'),
        b't' => out.push(b'\t'),
        b'b' => out.push(0x08),
        b'f' => out.push(0x0c),
        b'\\' | b',' | b'`' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => out.push(c),
        other => out.extend_from_slice(&[b'\\', other]),
    }
}

fn take_text(field: &mut Vec<u8>, bad: &mut Option<String>) -> String {
    match String::from_utf8(std::mem::take(field)) {
        Ok(s) => s,
        Err(e) => {
            bad.get_or_insert_with(|| format!("a field is not UTF-8: {e}"));
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(text: &str) -> Vec<Result<(u64, Vec<String>), u64>> {
        let mut r = Reader::new(text.as_bytes());
        let mut out = Vec::new();
        let mut fields = Vec::new();
        while let Some(rec) = r.read_record(&mut fields).unwrap() {
            out.push(rec.map(|l| (l, fields.clone())).map_err(|b| b.line));
        }
        out
    }

    #[test]
    fn reads_what_iotdb_export_writes() {
        // as Apache IoTDB 2.0.1's export wrote them (CRLF, escaped commas and line breaks)
        let text = "Time,t(TEXT),v\r\n1,\"a\\, b\",2\r\n\r\n2,\"two\\nlines\",\r\n3,\"she said \"hi\"\",\\x\n";
        assert_eq!(
            records(text),
            vec![
                Ok((1, vec!["Time".into(), "t(TEXT)".into(), "v".into()])),
                Ok((2, vec!["1".into(), "\"a, b\"".into(), "2".into()])),
                Ok((4, vec!["2".into(), "\"two\nlines\"".into(), String::new()])),
                Ok((
                    5,
                    vec!["3".into(), "\"she said \"hi\"\"".into(), "\\x".into()]
                )),
            ]
        );
        // backquoted fields may hold line breaks; a bad record does not hide the next one
        let text = "`a,\nb`,`x``y`\n`q`z,1\nlast,\\`";
        assert_eq!(
            records(text),
            vec![
                Ok((1, vec!["a,\nb".into(), "x`y".into()])),
                Err(3),
                Ok((4, vec!["last".into(), "`".into()])),
            ]
        );
        assert_eq!(records("`open\n"), vec![Err(1)]);
    }

    #[test]
    fn written_fields_read_back() {
        let fields = ["`lead", "a,b", "back\\slash", "cr\rlf\n", "\"q\"", ""];
        let mut out = Vec::new();
        write_record(&mut out, &fields).unwrap();
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "\\`lead,a\\,b,back\\\\slash,cr\\rlf\\n,\"q\",\r\n"
        );
        let got = records(std::str::from_utf8(&out).unwrap());
        assert_eq!(
            got,
            vec![Ok((1, fields.iter().map(|s| s.to_string()).collect()))]
        );
    }
}
