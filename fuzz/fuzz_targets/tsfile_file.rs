//! The TsFile reader on a whole arbitrary file: open (tail, metadata index, bloom filter),
//! list every device and series, then read every series (non-aligned and aligned) whole
//! and every chunk page by page (the aligned read covers value pages).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tsfile::{ReadOptions, TimeRange, TsFileReader};

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        max_points_per_page: 1 << 16,
        ..ReadOptions::default()
    };
    let Ok(reader) = TsFileReader::new(data.to_vec(), opts) else {
        return;
    };
    let Ok(all) = reader.all_series() else {
        return;
    };
    for (device, series) in &all {
        let _ = reader.may_contain(device, "s");
        let mut aligned = Vec::new();
        for s in series {
            if s.is_aligned_value() {
                aligned.push(s.measurement.as_str());
            }
            if !s.is_aligned_time() {
                let all = TimeRange::new(i64::MIN, i64::MAX);
                let _ = reader.read_series_in(series, &s.measurement, all);
            }
            for meta in &s.chunks {
                let Ok(chunk) = reader.read_chunk(meta) else {
                    continue;
                };
                let Ok(pages) = chunk.pages(&meta.statistics) else {
                    continue;
                };
                for page in &pages {
                    // aligned value pages are decoded by read_aligned_in (they need the
                    // row count of their time page)
                    if s.is_aligned_time() {
                        let _ = chunk.decode_time_page(page);
                    } else if !s.is_aligned_value() {
                        let _ = chunk.decode_page(page);
                    }
                }
            }
        }
        if !aligned.is_empty() {
            let _ = reader.read_aligned_in(series, &aligned, TimeRange::new(0, 1 << 40));
        }
    }
});
