//! `iotdb-rs tsfile inspect <file>`: a person-readable description of a TsFile (V3 or V4):
//! format version and size, then per device its series with type, encoding, compressor,
//! point count, time range, chunk and page counts and value statistics.
//! `iotdb-rs tsfile dump <file>`: every decoded point as `path,time,value` lines.

use model::{Result, Value};
use std::fmt::Write as _;
use std::path::Path;
use tsfile::reader::{TimeRange, TsFileReader};
use tsfile::statistics::Statistics;

fn value_text(v: Option<Value>) -> String {
    match v {
        Some(Value::Text(b)) => {
            let s = String::from_utf8_lossy(&b);
            let mut short: String = s.chars().take(40).collect();
            if s.chars().count() > 40 {
                short.push('…');
            }
            format!("{short:?}")
        }
        Some(v) => v.to_iotdb_string(),
        None => "-".into(),
    }
}

fn stats_text(s: &Statistics) -> String {
    let mut parts = Vec::new();
    for (label, v) in [
        ("min", s.min_value()),
        ("max", s.max_value()),
        ("first", s.first_value()),
        ("last", s.last_value()),
    ] {
        if v.is_some() {
            parts.push(format!("{label}={}", value_text(v)));
        }
    }
    if let Some(sum) = s.sum() {
        parts.push(format!("sum={sum}"));
    }
    parts.join(" ")
}

/// Describes the TsFile at `path`.
pub fn inspect(path: &Path) -> Result<String> {
    let reader = TsFileReader::open(path)?;
    let mut out = String::new();
    let all = reader.all_series()?;
    let series_count: usize = all
        .iter()
        .map(|(_, s)| s.iter().filter(|m| !m.is_aligned_time()).count())
        .sum();
    let points: u64 = all
        .iter()
        .flat_map(|(_, s)| s.iter())
        .filter(|m| !m.is_aligned_time())
        .map(|m| m.statistics.count)
        .sum();
    let _ = writeln!(out, "file:     {}", path.display());
    let _ = writeln!(
        out,
        "format:   TsFile {:?}, {} bytes, metadata at offset {}",
        reader.version(),
        reader.file_size(),
        reader.metadata().meta_offset
    );
    let _ = writeln!(
        out,
        "content:  {} device(s), {} series, {} point(s); bloom filter: {}",
        all.len(),
        series_count,
        points,
        if reader.metadata().bloom.is_some() {
            "yes"
        } else {
            "no"
        }
    );
    for (dev, series) in &all {
        let aligned = series.iter().any(|s| s.is_aligned_time());
        let _ = writeln!(
            out,
            "\ndevice {}{}",
            dev.path(),
            if aligned { " (aligned)" } else { "" }
        );
        for s in series {
            let mut pages = 0usize;
            let mut encoding = String::from("?");
            let mut compression = String::from("?");
            for (i, c) in s.chunks.iter().enumerate() {
                let chunk = reader.read_chunk(c)?;
                if i == 0 {
                    encoding = chunk.header.encoding.to_string();
                    compression = chunk.header.compression.to_string();
                }
                pages += chunk.pages(&c.statistics)?.len();
            }
            let name = if s.is_aligned_time() {
                "(time)".to_string()
            } else {
                s.measurement.clone()
            };
            let dtype = s
                .data_type
                .map(|t| t.to_string())
                .unwrap_or_else(|| "VECTOR".into());
            let st = &s.statistics;
            let time = if st.count == 0 {
                "time=(none)".to_string()
            } else {
                format!("time=[{}, {}]", st.start_time, st.end_time)
            };
            let _ = writeln!(
                out,
                "  {name:<20} {dtype:<9} encoding={encoding:<10} compression={compression:<12} points={:<8} {time} chunks={} pages={}",
                st.count,
                s.chunks.len(),
                pages
            );
            if !s.is_aligned_time() && st.count > 0 {
                let text = stats_text(st);
                if !text.is_empty() {
                    let _ = writeln!(out, "  {:<20} {text}", "");
                }
            }
        }
    }
    Ok(out)
}

/// The exact text of one value for `tsfile dump`: floats in Rust's shortest round-trip
/// form, text and blobs as JSON-style quoted strings.
fn exact_text(v: &Value) -> String {
    match v {
        Value::Boolean(b) => b.to_string(),
        Value::Int32(x) => x.to_string(),
        Value::Int64(x) => x.to_string(),
        Value::Float(x) => format!("{x:?}"),
        Value::Double(x) => format!("{x:?}"),
        Value::Text(b) => format!("{:?}", String::from_utf8_lossy(b)),
    }
}

/// Every point of the TsFile at `path` (or of the series whose full path is `only`), one
/// `path,time,value` line each, in device and series order, as the reader decodes them
/// (no deletions applied: `.mods` files are not read).
pub fn dump(path: &Path, only: Option<&str>, out: &mut dyn std::io::Write) -> Result<()> {
    let reader = TsFileReader::open(path)?;
    for (dev, series) in reader.all_series()? {
        for s in series.iter().filter(|m| !m.is_aligned_time()) {
            let full = format!("{}.{}", dev.path(), s.measurement);
            if only.is_some_and(|o| o != full) {
                continue;
            }
            let Some(data) = reader.read_series(&dev, &s.measurement, TimeRange::ALL)? else {
                continue;
            };
            for (i, t) in data.times.iter().enumerate() {
                if let Some(v) = data.values.value(i) {
                    writeln!(out, "{full},{t},{}", exact_text(&v))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{ColumnData, CompressionType, MeasurementSchema, TSDataType, TSEncoding};
    use tsfile::writer::{SeriesInput, TsFileWriter, WriterOptions};

    #[test]
    fn describes_devices_series_and_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1-1-0-0.tsfile");
        let schema = MeasurementSchema {
            name: "temperature".into(),
            data_type: TSDataType::Double,
            encoding: TSEncoding::Gorilla,
            compressor: CompressionType::Snappy,
        };
        let times: Vec<i64> = (0..100).collect();
        let values = ColumnData::Double((0..100).map(|i| i as f64 * 0.5).collect());
        let mut w = TsFileWriter::create(&path, WriterOptions::default()).unwrap();
        w.write_device(
            "root.sg.d1",
            &[SeriesInput {
                schema: &schema,
                times: &times,
                values: &values,
                nulls: None,
            }],
        )
        .unwrap();
        w.finish().unwrap();
        let text = inspect(&path).unwrap();
        assert!(text.contains("TsFile V4"), "{text}");
        assert!(
            text.contains("1 device(s), 1 series, 100 point(s)"),
            "{text}"
        );
        assert!(text.contains("device root.sg.d1"), "{text}");
        assert!(text.contains("temperature"), "{text}");
        assert!(text.contains("DOUBLE"), "{text}");
        assert!(text.contains("encoding=GORILLA"), "{text}");
        assert!(text.contains("compression=SNAPPY"), "{text}");
        assert!(text.contains("time=[0, 99]"), "{text}");
        assert!(text.contains("max=49.5"), "{text}");
        // a truncated file is an error, not a panic
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        assert!(inspect(&path).is_err());
    }

    #[test]
    fn describes_the_v3_fixture() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tsfile/tests/fixtures/v3-d1-s1-s2.tsfile");
        let text = inspect(&path).unwrap();
        assert!(text.contains("TsFile V3, 378 bytes"), "{text}");
        assert!(text.contains("2 device(s), 3 series, 2 point(s)"), "{text}");
        assert!(text.contains("device d1"), "{text}");
        assert!(text.contains("encoding=RLE"), "{text}");
        assert!(text.contains("compression=LZ4"), "{text}");
        assert!(text.contains("time=(none)"), "{text}");
        assert!(text.contains("min=5 max=5"), "{text}");
    }

    #[test]
    fn dumps_every_point_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("1-1-0-0.tsfile");
        let schema = MeasurementSchema {
            name: "v".into(),
            data_type: TSDataType::Double,
            encoding: TSEncoding::Gorilla,
            compressor: CompressionType::Lz4,
        };
        let times = vec![5i64, 6, 7];
        let values = ColumnData::Double(vec![0.1, -2.5e-300, 1.0 / 3.0]);
        let mut w = TsFileWriter::create(&path, WriterOptions::default()).unwrap();
        for dev in ["root.sg.a", "root.sg.b"] {
            w.write_device(
                dev,
                &[SeriesInput {
                    schema: &schema,
                    times: &times,
                    values: &values,
                    nulls: None,
                }],
            )
            .unwrap();
        }
        w.finish().unwrap();
        let mut out = Vec::new();
        dump(&path, Some("root.sg.b.v"), &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "root.sg.b.v,5,0.1\nroot.sg.b.v,6,-2.5e-300\nroot.sg.b.v,7,0.3333333333333333\n"
        );
        let mut all = Vec::new();
        dump(&path, None, &mut all).unwrap();
        assert_eq!(String::from_utf8(all).unwrap().lines().count(), 6);
    }
}
