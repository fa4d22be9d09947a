//! `TSQueryDataSet`, the V1 result batch (protocol reference §4.3).
//!
//! * `time`: one big-endian i64 per row, always (0 for results without a time column);
//! * `valueList[j]`: the non-null values of column j in row order (BOOLEAN 1 byte,
//!   INT32/FLOAT/DATE 4, INT64/DOUBLE/TIMESTAMP 8, TEXT/STRING/BLOB i32 length + bytes);
//! * `bitmapList[j]`: exactly `ceil(rows / 8)` bytes, MSB-first, bit set = value present.

use super::Reader;
use crate::client::TSQueryDataSet;
use model::{Bitmap, Column, ColumnData, Error, Result, RowBatch, TSDataType};
use std::ops::Range;

/// Checks that `batch` has one column per type, each of the type's physical kind and
/// with one position per row, and that `rows` lies within the batch.
pub(crate) fn check_batch(
    batch: &RowBatch,
    types: &[TSDataType],
    rows: &Range<usize>,
) -> Result<()> {
    if types.len() != batch.columns.len() {
        return Err(Error::Internal(format!(
            "result batch has {} columns but {} column types",
            batch.columns.len(),
            types.len()
        )));
    }
    if rows.start > rows.end || rows.end > batch.len() {
        return Err(Error::Internal(format!(
            "row range {rows:?} outside a batch of {} rows",
            batch.len()
        )));
    }
    for (i, (c, t)) in batch.columns.iter().zip(types).enumerate() {
        if c.data.data_type() != t.physical() || c.len() != batch.len() {
            return Err(Error::Internal(format!(
                "result column {i} of type {t} holds {} {} values for {} rows",
                c.len(),
                c.data.data_type(),
                batch.len()
            )));
        }
    }
    Ok(())
}

/// Appends the non-null values of `col` in `rows` and returns the MSB-first presence
/// bitmap (bit set = present) of those rows.
fn encode_column(col: &Column, rows: Range<usize>, out: &mut Vec<u8>) -> Result<Vec<u8>> {
    let n = rows.len();
    if !rows.clone().any(|i| col.is_null(i)) {
        // fast path: every value present
        let mut bitmap = vec![0xffu8; n.div_ceil(8)];
        if !n.is_multiple_of(8) {
            if let Some(last) = bitmap.last_mut() {
                *last = 0xff << (8 - n % 8);
            }
        }
        put_values(&col.data, rows, out)?;
        return Ok(bitmap);
    }
    let mut bitmap = vec![0u8; n.div_ceil(8)];
    for (k, i) in rows.enumerate() {
        if col.is_null(i) {
            continue;
        }
        bitmap[k / 8] |= 0x80 >> (k % 8);
        match &col.data {
            ColumnData::Boolean(v) => out.push(u8::from(v[i])),
            ColumnData::Int32(v) => out.extend_from_slice(&v[i].to_be_bytes()),
            ColumnData::Int64(v) => out.extend_from_slice(&v[i].to_be_bytes()),
            ColumnData::Float(v) => out.extend_from_slice(&v[i].to_be_bytes()),
            ColumnData::Double(v) => out.extend_from_slice(&v[i].to_be_bytes()),
            ColumnData::Binary(v) => super::put_len_bytes(out, &v[i])?,
        }
    }
    Ok(bitmap)
}

/// Appends the values of `rows` of `data` (nulls not considered) in result layout.
pub(crate) fn put_values(data: &ColumnData, rows: Range<usize>, out: &mut Vec<u8>) -> Result<()> {
    match data {
        ColumnData::Boolean(v) => out.extend(v[rows].iter().map(|&b| u8::from(b))),
        ColumnData::Int32(v) => super::put_fixed(out, &v[rows], i32::to_be_bytes),
        ColumnData::Int64(v) => super::put_fixed(out, &v[rows], i64::to_be_bytes),
        ColumnData::Float(v) => super::put_fixed(out, &v[rows], f32::to_be_bytes),
        ColumnData::Double(v) => super::put_fixed(out, &v[rows], f64::to_be_bytes),
        ColumnData::Binary(v) => {
            for x in &v[rows] {
                super::put_len_bytes(out, x)?;
            }
        }
    }
    Ok(())
}

/// Encodes rows `rows` of `batch` (columns in `columnNameIndexMap` order, logical types
/// in `types`) as a `TSQueryDataSet`.
pub fn encode_query_data_set(
    batch: &RowBatch,
    types: &[TSDataType],
    rows: Range<usize>,
) -> Result<TSQueryDataSet> {
    check_batch(batch, types, &rows)?;
    let mut time = Vec::with_capacity(rows.len() * 8);
    super::put_fixed(&mut time, &batch.times[rows.clone()], i64::to_be_bytes);
    let mut value_list = Vec::with_capacity(types.len());
    let mut bitmap_list = Vec::with_capacity(types.len());
    for col in &batch.columns {
        let mut values = Vec::new();
        bitmap_list.push(encode_column(col, rows.clone(), &mut values)?);
        value_list.push(values);
    }
    Ok(TSQueryDataSet {
        time,
        value_list,
        bitmap_list,
    })
}

/// Decodes a `TSQueryDataSet` whose value columns have the given (logical) types.
/// Every buffer must have exactly the size its rows and bitmap imply.
pub fn decode_query_data_set(ds: &TSQueryDataSet, types: &[TSDataType]) -> Result<RowBatch> {
    let n = ds.time.len() / 8;
    if n * 8 != ds.time.len() {
        return Err(Error::IllegalParameter(format!(
            "TSQueryDataSet time buffer of {} bytes is not a whole number of timestamps",
            ds.time.len()
        )));
    }
    if ds.value_list.len() != types.len() || ds.bitmap_list.len() != types.len() {
        return Err(Error::IllegalParameter(format!(
            "TSQueryDataSet has {} value and {} bitmap buffers for {} columns",
            ds.value_list.len(),
            ds.bitmap_list.len(),
            types.len()
        )));
    }
    let times = super::decode_fixed::<8, _>(&ds.time, i64::from_be_bytes);
    let mut columns = Vec::with_capacity(types.len());
    for ((values, bitmap), &t) in ds.value_list.iter().zip(&ds.bitmap_list).zip(types) {
        if bitmap.len() != n.div_ceil(8) {
            return Err(Error::IllegalParameter(format!(
                "TSQueryDataSet bitmap of {} bytes for {n} rows",
                bitmap.len()
            )));
        }
        let mut r = Reader::new(values, "TSQueryDataSet values");
        let mut data = ColumnData::with_capacity(t, n);
        let mut nulls = Bitmap::new(n);
        for i in 0..n {
            if bitmap[i / 8] & (0x80 >> (i % 8)) == 0 {
                nulls.set(i);
                data.push_placeholder();
                continue;
            }
            match &mut data {
                ColumnData::Boolean(v) => v.push(r.u8()? != 0),
                ColumnData::Int32(v) => v.push(r.i32()?),
                ColumnData::Int64(v) => v.push(r.i64()?),
                ColumnData::Float(v) => v.push(r.f32()?),
                ColumnData::Double(v) => v.push(r.f64()?),
                ColumnData::Binary(v) => v.push(r.len_bytes()?.to_vec()),
            }
        }
        r.finish()?;
        columns.push(Column {
            data,
            nulls: (nulls.count() > 0).then_some(nulls),
        });
    }
    Ok(RowBatch { times, columns })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use model::Value;
    use proptest::prelude::*;

    /// The example of the protocol reference §4.3: 3 rows, INT32 column with row 1 null.
    #[test]
    fn reference_example() {
        let mut nulls = Bitmap::new(3);
        nulls.set(1);
        let batch = RowBatch {
            times: vec![10, 20, 30],
            columns: vec![Column {
                data: ColumnData::Int32(vec![7, 0, 9]),
                nulls: Some(nulls),
            }],
        };
        let ds = encode_query_data_set(&batch, &[TSDataType::Int32], 0..3).unwrap();
        assert_eq!(ds.bitmap_list, vec![vec![0xA0]]);
        assert_eq!(ds.value_list, vec![vec![0, 0, 0, 7, 0, 0, 0, 9]]);
        assert_eq!(ds.time.len(), 24);
        assert_eq!(&ds.time[16..], &30i64.to_be_bytes());
        assert_eq!(
            decode_query_data_set(&ds, &[TSDataType::Int32]).unwrap(),
            batch
        );
        // a sub-range re-bases the bitmap
        let ds = encode_query_data_set(&batch, &[TSDataType::Int32], 1..3).unwrap();
        assert_eq!(ds.bitmap_list, vec![vec![0x40]]);
        assert_eq!(ds.value_list, vec![vec![0, 0, 0, 9]]);
    }

    #[test]
    fn all_types_and_errors() {
        let batch = RowBatch {
            times: (0..9).collect(),
            columns: vec![
                Column::new(ColumnData::Boolean(vec![true; 9])),
                Column::new(ColumnData::Binary((0..9).map(|i| vec![b'a'; i]).collect())),
                Column::new(ColumnData::Double(vec![0.5; 9])),
            ],
        };
        let types = [TSDataType::Boolean, TSDataType::String, TSDataType::Double];
        let ds = encode_query_data_set(&batch, &types, 0..9).unwrap();
        assert_eq!(ds.bitmap_list[0], vec![0xff, 0x80]);
        let back = decode_query_data_set(&ds, &types).unwrap();
        assert_eq!(back, batch);
        assert_eq!(back.columns[1].value(3), Some(Value::Text(b"aaa".to_vec())));
        // wrong type for a column, bad range
        assert!(encode_query_data_set(
            &batch,
            &[TSDataType::Int32, TSDataType::Text, TSDataType::Double],
            0..9
        )
        .is_err());
        assert!(encode_query_data_set(&batch, &types, 0..10).is_err());
        // malformed buffers
        let mut bad = ds.clone();
        bad.time.pop();
        assert!(decode_query_data_set(&bad, &types).is_err());
        let mut bad = ds.clone();
        bad.bitmap_list[0].push(0);
        assert!(decode_query_data_set(&bad, &types).is_err());
        let mut bad = ds.clone();
        bad.value_list[2].push(0);
        assert!(decode_query_data_set(&bad, &types).is_err());
        let mut bad = ds.clone();
        bad.value_list[1].truncate(5);
        assert!(decode_query_data_set(&bad, &types).is_err());
        assert!(decode_query_data_set(&ds, &types[..2]).is_err());
    }

    /// Arbitrary batches with their logical column types (shared with the TsBlock tests).
    pub(crate) fn arb_batch() -> impl Strategy<Value = (RowBatch, Vec<TSDataType>)> {
        (0usize..20, 0usize..5).prop_flat_map(|(rows, cols)| {
            (
                prop::collection::vec(any::<i64>(), rows),
                prop::collection::vec(arb_column(rows), cols),
            )
                .prop_map(|(times, cols)| {
                    let (types, columns) = cols.into_iter().unzip();
                    (RowBatch { times, columns }, types)
                })
        })
    }

    fn arb_column(rows: usize) -> impl Strategy<Value = (TSDataType, Column)> {
        (
            prop::sample::select(TSDataType::ALL.to_vec()),
            prop::collection::vec(any::<bool>(), rows),
        )
            .prop_flat_map(move |(t, nulls)| {
                let data: BoxedStrategy<ColumnData> = match t.physical() {
                    TSDataType::Boolean => prop::collection::vec(any::<bool>(), rows)
                        .prop_map(ColumnData::Boolean)
                        .boxed(),
                    TSDataType::Int32 => prop::collection::vec(any::<i32>(), rows)
                        .prop_map(ColumnData::Int32)
                        .boxed(),
                    TSDataType::Int64 => prop::collection::vec(any::<i64>(), rows)
                        .prop_map(ColumnData::Int64)
                        .boxed(),
                    TSDataType::Float => prop::collection::vec(-1e30f32..1e30, rows)
                        .prop_map(ColumnData::Float)
                        .boxed(),
                    TSDataType::Double => prop::collection::vec(-1e300f64..1e300, rows)
                        .prop_map(ColumnData::Double)
                        .boxed(),
                    _ => prop::collection::vec(prop::collection::vec(any::<u8>(), 0..5), rows)
                        .prop_map(ColumnData::Binary)
                        .boxed(),
                };
                data.prop_map(move |mut data| {
                    let mut b = Bitmap::new(rows);
                    for (i, &null) in nulls.iter().enumerate() {
                        if null {
                            b.set(i);
                            // decoders fill null positions with placeholders
                            data = with_placeholder(data, i);
                        }
                    }
                    (
                        t,
                        Column {
                            data,
                            nulls: (b.count() > 0).then_some(b),
                        },
                    )
                })
            })
    }

    fn with_placeholder(mut d: ColumnData, i: usize) -> ColumnData {
        match &mut d {
            ColumnData::Boolean(v) => v[i] = false,
            ColumnData::Int32(v) => v[i] = 0,
            ColumnData::Int64(v) => v[i] = 0,
            ColumnData::Float(v) => v[i] = 0.0,
            ColumnData::Double(v) => v[i] = 0.0,
            ColumnData::Binary(v) => v[i] = Vec::new(),
        }
        d
    }

    proptest! {
        #[test]
        fn round_trip((batch, types) in arb_batch()) {
            let ds = encode_query_data_set(&batch, &types, 0..batch.len()).unwrap();
            prop_assert_eq!(decode_query_data_set(&ds, &types).unwrap(), batch);
        }

        #[test]
        fn never_panics(time in prop::collection::vec(any::<u8>(), 0..40), v in prop::collection::vec(any::<u8>(), 0..40), b in prop::collection::vec(any::<u8>(), 0..3), t in prop::sample::select(TSDataType::ALL.to_vec())) {
            let ds = TSQueryDataSet { time, value_list: vec![v], bitmap_list: vec![b] };
            let _ = decode_query_data_set(&ds, &[t]);
        }
    }
}
