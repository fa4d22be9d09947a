//! Throughput of the hot-path codecs. Run: `cargo bench -p protocol --bench codec`.
//! Reports the best of several runs per case (nanoseconds, and values per second).

use model::{Bitmap, Column, ColumnData, PartialPath, RowBatch, TSDataType};
use protocol::codec::{dataset, tablet, tsblock};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn report(name: &str, values: usize, d: Duration) {
    let per_sec = values as f64 / d.as_secs_f64();
    println!(
        "{name:<48} {:>10.1} µs  {:>8.1} M values/s",
        d.as_secs_f64() * 1e6,
        per_sec / 1e6
    );
}

fn main() {
    let rows = 100_000usize;
    let device = PartialPath::parse("root.sg.d1").expect("path");
    let times: Vec<u8> = (0..rows as i64).flat_map(|t| t.to_be_bytes()).collect();

    // one DOUBLE column, no nulls
    let doubles: Vec<u8> = (0..rows)
        .flat_map(|i| (i as f64 * 0.5).to_be_bytes())
        .collect();
    let d = best_of(20, || {
        let t = tablet::decode_tablet(
            device.clone(),
            vec!["s1".into()],
            &[4],
            rows as i32,
            black_box(&times),
            black_box(&doubles),
            false,
        )
        .expect("decode");
        black_box(t);
    });
    report("tablet decode: 100k rows x 1 DOUBLE", rows, d);

    // 10 columns of mixed fixed-width types with a bitmap block
    let types = [4, 2, 1, 3, 0, 4, 2, 1, 3, 4];
    let mut values = Vec::new();
    for &t in &types {
        let w = match t {
            0 => 1,
            1 | 3 => 4,
            _ => 8,
        };
        values.resize(values.len() + rows * w, 1u8);
    }
    for _ in &types {
        values.push(1);
        values.resize(values.len() + rows / 8 + 1, 0x11u8);
    }
    let ms: Vec<String> = (0..types.len()).map(|i| format!("s{i}")).collect();
    let d = best_of(10, || {
        let t = tablet::decode_tablet(
            device.clone(),
            ms.clone(),
            &types,
            rows as i32,
            black_box(&times),
            black_box(&values),
            false,
        )
        .expect("decode");
        black_box(t);
    });
    report(
        "tablet decode: 100k rows x 10 mixed + bitmaps",
        rows * 10,
        d,
    );

    // query results: 100k rows x (DOUBLE, INT64 with nulls, TEXT)
    let mut nulls = Bitmap::new(rows);
    (0..rows).step_by(7).for_each(|i| nulls.set(i));
    let batch = RowBatch {
        times: (0..rows as i64).collect(),
        columns: vec![
            Column::new(ColumnData::Double((0..rows).map(|i| i as f64).collect())),
            Column {
                data: ColumnData::Int64((0..rows as i64).collect()),
                nulls: Some(nulls),
            },
            Column::new(ColumnData::Binary(
                (0..rows).map(|i| format!("v{i}").into_bytes()).collect(),
            )),
        ],
    };
    let types = [TSDataType::Double, TSDataType::Int64, TSDataType::Text];
    let d = best_of(10, || {
        black_box(dataset::encode_query_data_set(&batch, &types, 0..rows).expect("encode"));
    });
    report("TSQueryDataSet encode: 100k rows x 3", rows * 3, d);
    let ds = dataset::encode_query_data_set(&batch, &types, 0..rows).expect("encode");
    let d = best_of(10, || {
        black_box(dataset::decode_query_data_set(&ds, &types).expect("decode"));
    });
    report("TSQueryDataSet decode: 100k rows x 3", rows * 3, d);
    let d = best_of(10, || {
        black_box(tsblock::encode_tsblock(&batch, &types, 0..rows).expect("encode"));
    });
    report("TsBlock encode: 100k rows x 3", rows * 3, d);
    let blk = tsblock::encode_tsblock(&batch, &types, 0..rows).expect("encode");
    let d = best_of(10, || {
        black_box(tsblock::decode_tsblock(&blk).expect("decode"));
    });
    report("TsBlock decode: 100k rows x 3", rows * 3, d);
}
