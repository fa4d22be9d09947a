//! Turning result values into text: time formats, IoTDB's rendering of each data type, and
//! the output formats of the shell (boxed table, CSV, TSV, JSON lines).

use model::time::TimeZone;
use model::{RowBatch, TSDataType, Value};
use std::io::{self, Write};

/// How times are shown.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeFormat {
    /// Epoch milliseconds (`long`, `number`, `timestamp`).
    Long,
    /// ISO-8601 with the zone offset (`default`, `iso8601`): `2017-11-01T00:08:00.000+08:00`.
    Iso,
    /// A pattern in Java's `DateTimeFormatter` letters (`yyyy-MM-dd HH:mm:ss.SSS`),
    /// translated to a chrono format string.
    Pattern(String),
}

impl TimeFormat {
    /// Parses IoTDB's names (`long`, `number`, `timestamp`, `default`, `iso8601`) or a
    /// pattern of the letters `yyyy MM dd HH mm ss SSS` (and `XXX`/`Z` for the offset).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        match t.to_ascii_lowercase().as_str() {
            "long" | "number" | "timestamp" => Ok(TimeFormat::Long),
            "default" | "iso8601" | "iso" => Ok(TimeFormat::Iso),
            "" => Err("empty time format".into()),
            _ => java_pattern(t).map(TimeFormat::Pattern),
        }
    }

    /// `epoch_ms` as text in `zone`.
    pub fn format(&self, epoch_ms: i64, zone: &TimeZone) -> String {
        match self {
            TimeFormat::Long => epoch_ms.to_string(),
            TimeFormat::Iso => model::time::format_iso(epoch_ms, zone),
            TimeFormat::Pattern(p) => {
                let off = zone.offset_secs_at(epoch_ms);
                match (
                    chrono::FixedOffset::east_opt(off),
                    chrono::DateTime::from_timestamp_millis(epoch_ms),
                ) {
                    (Some(o), Some(dt)) => dt.with_timezone(&o).format(p).to_string(),
                    _ => epoch_ms.to_string(),
                }
            }
        }
    }

    /// The name shown by `show time_display_type`.
    pub fn name(&self) -> String {
        match self {
            TimeFormat::Long => "long".into(),
            TimeFormat::Iso => "default".into(),
            TimeFormat::Pattern(p) => p.clone(),
        }
    }
}

/// Translates the common letters of a Java date pattern to chrono's `%` format.
fn java_pattern(p: &str) -> Result<String, String> {
    const MAP: [(&str, &str); 11] = [
        ("yyyy", "%Y"),
        ("SSS", "%3f"),
        ("XXX", "%:z"),
        ("MM", "%m"),
        ("dd", "%d"),
        ("HH", "%H"),
        ("mm", "%M"),
        ("ss", "%S"),
        ("yy", "%y"),
        ("ZZ", "%:z"),
        ("Z", "%z"),
    ];
    let mut out = String::new();
    let mut rest = p;
    let mut letters = 0;
    'outer: while let Some(c) = rest.chars().next() {
        for (java, chrono) in MAP {
            if let Some(r) = rest.strip_prefix(java) {
                out.push_str(chrono);
                rest = r;
                letters += 1;
                continue 'outer;
            }
        }
        if c.is_ascii_alphabetic() && c != 'T' {
            return Err(format!("unsupported time format {p}: letter {c}"));
        }
        if c == '%' {
            out.push('%');
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    if letters == 0 {
        return Err(format!("unsupported time format {p}"));
    }
    Ok(out)
}

/// What a column's values are shown with.
#[derive(Debug, Clone)]
pub struct Style {
    /// Time format (also for TIMESTAMP values).
    pub time: TimeFormat,
    /// Zone for times.
    pub zone: TimeZone,
}

/// A value of `ty` as IoTDB's CLI shows it (`None` = null).
pub fn value_text(v: Option<Value>, ty: TSDataType, style: &Style) -> Option<String> {
    let v = v?;
    Some(match (ty, v) {
        (TSDataType::Timestamp, Value::Int64(t)) => style.time.format(t, &style.zone),
        // a BLOB as `0x` and hex digits, a DATE as `yyyy-MM-dd`, as IoTDB prints them
        (ty, v) => v.to_iotdb_string_as(ty),
    })
}

/// The output format of query results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Boxed table as IoTDB's CLI prints it, with row count and elapsed time.
    Table,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
    /// Tab-separated values with a header line (tab, newline and backslash escaped).
    Tsv,
    /// One JSON object per row (JSON lines), columns by name.
    Json,
}

/// The header of a result: display names and types, `Time` first unless absent.
pub struct Header {
    /// Column names as shown (with `Time` first when the result has times).
    pub names: Vec<String>,
    /// Types of the non-time columns.
    pub types: Vec<TSDataType>,
    /// True when the first name is `Time`.
    pub has_time: bool,
}

impl Header {
    /// The header of a client result set.
    pub fn of(rs: &client::ResultSet) -> Self {
        let has_time = !rs.ignore_timestamp;
        let mut names = Vec::with_capacity(rs.columns.len() + 1);
        if has_time {
            names.push("Time".to_string());
        }
        names.extend(rs.columns.iter().cloned());
        Header {
            names,
            types: rs.types.clone(),
            has_time,
        }
    }
}

/// Text cells of the rows of `batch` (`None` = null), in header order.
pub fn rows_text(
    batch: &RowBatch,
    column_index: &[usize],
    header: &Header,
    style: &Style,
) -> Vec<Vec<Option<String>>> {
    (0..batch.len())
        .map(|r| {
            let mut row = Vec::with_capacity(header.names.len());
            if header.has_time {
                row.push(Some(style.time.format(batch.times[r], &style.zone)));
            }
            for (i, &ci) in column_index.iter().enumerate() {
                let v = batch.columns.get(ci).and_then(|c| c.value(r));
                row.push(value_text(v, header.types[i], style));
            }
            row
        })
        .collect()
}

/// Display width of a cell: CJK characters count twice, as IoTDB's printer counts them.
fn width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

/// Writes one boxed table (header and `rows`, cells right-aligned, `null` for nulls).
pub fn write_table(
    out: &mut dyn Write,
    names: &[String],
    rows: &[Vec<Option<String>>],
) -> io::Result<()> {
    let cell = |c: &Option<String>| c.clone().unwrap_or_else(|| "null".into());
    let mut widths: Vec<usize> = names.iter().map(|n| width(n)).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.as_deref().map_or(4, width));
        }
    }
    let line: String = widths
        .iter()
        .map(|w| format!("+{}", "-".repeat(*w)))
        .collect::<String>()
        + "+";
    let write_row = |out: &mut dyn Write, cells: &mut dyn Iterator<Item = String>| {
        let mut s = String::from("|");
        for (c, w) in cells.zip(&widths) {
            s.push_str(&" ".repeat(w.saturating_sub(width(&c))));
            s.push_str(&c);
            s.push('|');
        }
        writeln!(out, "{s}")
    };
    writeln!(out, "{line}")?;
    write_row(out, &mut names.iter().cloned())?;
    writeln!(out, "{line}")?;
    for row in rows {
        write_row(out, &mut row.iter().map(cell))?;
    }
    writeln!(out, "{line}")
}

/// Writes rows as delimited text (`header` first when given).
pub fn write_delimited(
    out: &mut dyn Write,
    format: Format,
    header: Option<&[String]>,
    rows: &[Vec<Option<String>>],
) -> io::Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::WriterBuilder::new().from_writer(out);
            if let Some(h) = header {
                w.write_record(h)?;
            }
            for row in rows {
                w.write_record(row.iter().map(|c| c.as_deref().unwrap_or("")))?;
            }
            w.flush()
        }
        Format::Tsv => {
            let esc = |s: &str| {
                s.replace('\\', "\\\\")
                    .replace('\t', "\\t")
                    .replace('\n', "\\n")
                    .replace('\r', "\\r")
            };
            if let Some(h) = header {
                writeln!(
                    out,
                    "{}",
                    h.iter().map(|s| esc(s)).collect::<Vec<_>>().join("\t")
                )?;
            }
            for row in rows {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| c.as_deref().map_or(String::new(), esc))
                    .collect();
                writeln!(out, "{}", cells.join("\t"))?;
            }
            Ok(())
        }
        Format::Json | Format::Table => Ok(()),
    }
}

/// Writes rows as JSON lines: numbers and booleans as JSON values, the rest as strings,
/// nulls as `null`; `Time` as epoch milliseconds when shown as `long`.
pub fn write_json(
    out: &mut dyn Write,
    header: &Header,
    rows: &[Vec<Option<String>>],
    style: &Style,
) -> io::Result<()> {
    let offset = usize::from(header.has_time);
    for row in rows {
        // columns in result order (a JSON map would sort them)
        let mut fields = Vec::with_capacity(row.len());
        for (i, (name, cell)) in header.names.iter().zip(row).enumerate() {
            let ty = if i < offset {
                if style.time == TimeFormat::Long {
                    TSDataType::Int64
                } else {
                    TSDataType::Text
                }
            } else {
                header.types[i - offset]
            };
            let v = match cell {
                None => serde_json::Value::Null,
                Some(s) => json_value(s, ty),
            };
            fields.push(format!("{}:{v}", serde_json::Value::String(name.clone())));
        }
        writeln!(out, "{{{}}}", fields.join(","))?;
    }
    Ok(())
}

fn json_value(s: &str, ty: TSDataType) -> serde_json::Value {
    use serde_json::Value as J;
    let parsed = match ty {
        TSDataType::Boolean => s.parse::<bool>().ok().map(J::Bool),
        TSDataType::Int32 | TSDataType::Int64 => s.parse::<i64>().ok().map(J::from),
        TSDataType::Float | TSDataType::Double => s
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(J::Number),
        _ => None,
    };
    parsed.unwrap_or_else(|| J::String(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        let z = TimeZone::parse("+08:00").unwrap();
        assert_eq!(
            TimeFormat::Iso.format(1, &z),
            "1970-01-01T08:00:00.001+08:00"
        );
        assert_eq!(TimeFormat::Long.format(1, &z), "1");
        let p = TimeFormat::parse("yyyy-MM-dd HH:mm:ss.SSS").unwrap();
        assert_eq!(p.format(1, &z), "1970-01-01 08:00:00.001");
        assert!(TimeFormat::parse("qqq").is_err());
    }

    #[test]
    fn table_is_right_aligned() {
        let mut out = Vec::new();
        let names = vec!["Time".to_string(), "root.sg.d1.s1".to_string()];
        write_table(&mut out, &names, &[vec![Some("1".into()), None]]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "+----+-------------+\n|Time|root.sg.d1.s1|\n+----+-------------+\n|   1|         null|\n+----+-------------+\n"
        );
    }
}
