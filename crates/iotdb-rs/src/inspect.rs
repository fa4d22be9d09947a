//! `iotdb-rs tsfile inspect <file>`: a person-readable description of a TsFile (V3 or V4):
//! format version and size, then per device its series with type, encoding, compressor,
//! point count, time range, chunk and page counts and value statistics.

use model::{Result, Value};
use std::fmt::Write as _;
use std::path::Path;
use tsfile::reader::TsFileReader;
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
}
