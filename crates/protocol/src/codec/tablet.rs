//! Tablet buffers of `insertTablet` / `insertTablets` (protocol reference §3.3, §3.4).
//!
//! * `timestamps`: `size` × i64.
//! * `values`: column-major, one column per measurement: BOOLEAN 1 byte, INT32/FLOAT/DATE
//!   4 bytes, INT64/DOUBLE/TIMESTAMP 8 bytes, TEXT/STRING/BLOB i32 length + bytes; null
//!   cells hold a placeholder.
//! * optional bitmap block after the columns (present iff bytes remain): per column one
//!   flag byte (1 = a bitmap follows, 0 = none) and then `size / 8 + 1` bytes, LSB-first,
//!   bit set = null.

use super::{data_type, put_len_bytes, Reader};
use crate::client::{TSInsertTabletReq, TSInsertTabletsReq};
use model::{Bitmap, Column, ColumnData, Error, InsertTablet, PartialPath, Result, TSDataType};
use multiversion::multiversion;

/// Decodes `bytes.len() / W` fixed-width big-endian values (a trailing partial value is
/// ignored). Compiled for AVX2 and SSSE3 besides the baseline and chosen at run time: the
/// byte swaps vectorize only with those features (about 3x faster on tablet columns).
#[multiversion(targets("x86_64+avx2", "x86_64+ssse3"))]
fn decode_be<const W: usize, T>(bytes: &[u8], convert: impl Fn([u8; W]) -> T) -> Vec<T> {
    let mut out = Vec::with_capacity(bytes.len() / W);
    out.extend(bytes.chunks_exact(W).map(|c| {
        let mut a = [0u8; W];
        a.copy_from_slice(c);
        convert(a)
    }));
    out
}

/// The encoded form of a tablet, as the request fields carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TabletBuffers {
    /// Data type wire numbers, one per column (`types`).
    pub types: Vec<i32>,
    /// Row count (`size`).
    pub size: i32,
    /// `size` big-endian i64 timestamps.
    pub timestamps: Vec<u8>,
    /// Column-major values plus the bitmap block when any cell is null.
    pub values: Vec<u8>,
}

/// Decodes a tablet from its request fields.
///
/// `types` holds data type wire numbers (1.3+ numbers 8–11 included), one per entry of
/// `measurements`; `size` is the row count. Lengths are checked exactly: `timestamps`
/// must be `size * 8` bytes and `values` must hold the columns, optionally followed by a
/// complete bitmap block, and nothing else.
pub fn decode_tablet(
    device: PartialPath,
    measurements: Vec<String>,
    types: &[i32],
    size: i32,
    timestamps: &[u8],
    values: &[u8],
    aligned: bool,
) -> Result<InsertTablet> {
    if types.len() != measurements.len() {
        return Err(Error::IllegalParameter(format!(
            "tablet of {device} has {} measurements but {} data types",
            measurements.len(),
            types.len()
        )));
    }
    let rows = usize::try_from(size)
        .map_err(|_| Error::IllegalParameter(format!("negative tablet size {size}")))?;
    if Some(timestamps.len()) != rows.checked_mul(8) {
        return Err(Error::IllegalParameter(format!(
            "tablet of {device} has {rows} rows but {} timestamp bytes (expected {})",
            timestamps.len(),
            rows.saturating_mul(8)
        )));
    }
    let dtypes = types
        .iter()
        .map(|&t| data_type(i64::from(t), "tablet types"))
        .collect::<Result<Vec<_>>>()?;
    let times = decode_be::<8, _>(timestamps, i64::from_be_bytes);

    let mut r = Reader::new(values, "tablet values");
    let mut columns = Vec::with_capacity(dtypes.len());
    for &t in &dtypes {
        columns.push(Column::new(decode_column(&mut r, t, rows)?));
    }
    if r.remaining() > 0 {
        let bitmap_len = rows / 8 + 1;
        for col in &mut columns {
            match r.u8()? {
                0 => {}
                1 => {
                    let bits = r.take(bitmap_len)?;
                    let mut nulls = Bitmap::new(rows);
                    for (i, &b) in bits.iter().enumerate() {
                        if b == 0 {
                            continue;
                        }
                        for bit in 0..8 {
                            if b & (1 << bit) != 0 {
                                nulls.set(i * 8 + bit);
                            }
                        }
                    }
                    if nulls.count() > 0 {
                        col.nulls = Some(nulls);
                    }
                }
                other => return Err(r.error(format_args!("bitmap flag {other} is not 0 or 1"))),
            }
        }
        r.finish()?;
    }
    Ok(InsertTablet {
        device,
        measurements,
        types: dtypes,
        times,
        columns,
        aligned,
    })
}

fn fixed<'a>(r: &mut Reader<'a>, rows: usize, width: usize) -> Result<&'a [u8]> {
    let n = rows
        .checked_mul(width)
        .ok_or_else(|| r.error("column size overflows"))?;
    r.take(n)
}

fn decode_column(r: &mut Reader<'_>, t: TSDataType, rows: usize) -> Result<ColumnData> {
    Ok(match t.physical() {
        TSDataType::Boolean => {
            ColumnData::Boolean(fixed(r, rows, 1)?.iter().map(|&b| b == 1).collect())
        }
        TSDataType::Int32 => {
            ColumnData::Int32(decode_be::<4, _>(fixed(r, rows, 4)?, i32::from_be_bytes))
        }
        TSDataType::Int64 => {
            ColumnData::Int64(decode_be::<8, _>(fixed(r, rows, 8)?, i64::from_be_bytes))
        }
        TSDataType::Float => {
            ColumnData::Float(decode_be::<4, _>(fixed(r, rows, 4)?, f32::from_be_bytes))
        }
        TSDataType::Double => {
            ColumnData::Double(decode_be::<8, _>(fixed(r, rows, 8)?, f64::from_be_bytes))
        }
        _ => {
            // each value takes at least its 4-byte length
            if rows.saturating_mul(4) > r.remaining() {
                return Err(r.error(format_args!(
                    "{rows} text values cannot fit in {} bytes",
                    r.remaining()
                )));
            }
            let mut v = Vec::with_capacity(rows);
            for _ in 0..rows {
                v.push(r.len_bytes()?.to_vec());
            }
            ColumnData::Binary(v)
        }
    })
}

/// Decodes one `insertTablet` request (the device path is parsed; table-model and
/// compressed tablets of newer clients are refused as unsupported).
pub fn tablet_from_req(req: TSInsertTabletReq) -> Result<InsertTablet> {
    if req.write_to_table == Some(true) {
        return Err(Error::Unsupported(
            "table-model tablet writes are not supported yet".into(),
        ));
    }
    if req.is_compressed == Some(true) {
        return Err(Error::Unsupported(
            "compressed tablets are not supported yet".into(),
        ));
    }
    let device = PartialPath::parse(&req.prefix_path)?;
    decode_tablet(
        device,
        req.measurements,
        &req.types,
        req.size,
        &req.timestamps,
        &req.values,
        req.is_aligned.unwrap_or(false),
    )
}

/// Decodes every tablet of an `insertTablets` request; all lists must have one entry per
/// device.
pub fn tablets_from_req(req: TSInsertTabletsReq) -> Result<Vec<InsertTablet>> {
    let n = req.prefix_paths.len();
    let lens = [
        req.measurements_list.len(),
        req.values_list.len(),
        req.timestamps_list.len(),
        req.types_list.len(),
        req.size_list.len(),
    ];
    if lens.iter().any(|&l| l != n) {
        return Err(Error::IllegalParameter(format!(
            "insertTablets lists differ in length: {n} devices, measurements/values/timestamps/types/sizes {lens:?}"
        )));
    }
    let aligned = req.is_aligned.unwrap_or(false);
    let mut out = Vec::with_capacity(n);
    for ((((((path, ms), vals), ts), types), size), _) in req
        .prefix_paths
        .into_iter()
        .zip(req.measurements_list)
        .zip(req.values_list)
        .zip(req.timestamps_list)
        .zip(req.types_list)
        .zip(req.size_list)
        .zip(0..n)
    {
        let device = PartialPath::parse(&path)?;
        out.push(decode_tablet(
            device, ms, &types, size, &ts, &vals, aligned,
        )?);
    }
    Ok(out)
}

/// Encodes a tablet the way the official clients do (bitmap block only when some cell is
/// null). Columns must have the physical type of their declared type and `times.len()`
/// positions.
pub fn encode_tablet(t: &InsertTablet) -> Result<TabletBuffers> {
    let rows = t.times.len();
    let size = i32::try_from(rows)
        .map_err(|_| Error::IllegalParameter(format!("tablet of {rows} rows is too large")))?;
    if t.types.len() != t.columns.len() || t.measurements.len() != t.columns.len() {
        return Err(Error::IllegalParameter(format!(
            "tablet has {} measurements, {} types and {} columns",
            t.measurements.len(),
            t.types.len(),
            t.columns.len()
        )));
    }
    let mut timestamps = Vec::with_capacity(rows * 8);
    super::put_fixed(&mut timestamps, &t.times, i64::to_be_bytes);
    let mut values = Vec::new();
    for (col, &ty) in t.columns.iter().zip(&t.types) {
        if col.data.data_type() != ty.physical() || col.len() != rows {
            return Err(Error::IllegalParameter(format!(
                "column of type {ty} holds {} {} values for {rows} rows",
                col.len(),
                col.data.data_type()
            )));
        }
        match &col.data {
            ColumnData::Boolean(v) => values.extend(v.iter().map(|&b| u8::from(b))),
            ColumnData::Int32(v) => super::put_fixed(&mut values, v, i32::to_be_bytes),
            ColumnData::Int64(v) => super::put_fixed(&mut values, v, i64::to_be_bytes),
            ColumnData::Float(v) => super::put_fixed(&mut values, v, f32::to_be_bytes),
            ColumnData::Double(v) => super::put_fixed(&mut values, v, f64::to_be_bytes),
            ColumnData::Binary(v) => {
                for x in v {
                    put_len_bytes(&mut values, x)?;
                }
            }
        }
    }
    let has_nulls = |c: &Column| c.nulls.as_ref().is_some_and(|b| b.count() > 0);
    if t.columns.iter().any(has_nulls) {
        for col in &t.columns {
            match &col.nulls {
                Some(b) if b.count() > 0 => {
                    values.push(1);
                    let mut bits = vec![0u8; rows / 8 + 1];
                    for (i, byte) in bits.iter_mut().enumerate() {
                        for bit in 0..8 {
                            if b.get(i * 8 + bit) {
                                *byte |= 1 << bit;
                            }
                        }
                    }
                    values.extend_from_slice(&bits);
                }
                _ => values.push(0),
            }
        }
    }
    Ok(TabletBuffers {
        types: t.types.iter().map(|ty| i32::from(ty.id())).collect(),
        size,
        timestamps,
        values,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Value;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().filter(|w| *w != "|").collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn dev() -> PartialPath {
        PartialPath::parse("root.sg.d1").unwrap()
    }

    /// The dispatched decoder gives exactly what the portable loop gives, for every
    /// width, length (vector remainders included) and bit pattern.
    #[test]
    fn vectorized_decode_matches_portable_loop() {
        let mut x: u64 = 0x243f_6a88_85a3_08d3;
        let bytes: Vec<u8> = (0..8 * 67 + 5)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        for len in 0..bytes.len() {
            let b = &bytes[..len];
            assert_eq!(
                decode_be::<8, _>(b, i64::from_be_bytes),
                super::super::decode_fixed::<8, _>(b, i64::from_be_bytes)
            );
            assert_eq!(
                decode_be::<4, _>(b, i32::from_be_bytes),
                super::super::decode_fixed::<4, _>(b, i32::from_be_bytes)
            );
            let f64_bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
            assert_eq!(
                f64_bits(decode_be::<8, _>(b, f64::from_be_bytes)),
                f64_bits(super::super::decode_fixed::<8, _>(b, f64::from_be_bytes))
            );
            let f32_bits = |v: Vec<f32>| v.into_iter().map(f32::to_bits).collect::<Vec<_>>();
            assert_eq!(
                f32_bits(decode_be::<4, _>(b, f32::from_be_bytes)),
                f32_bits(super::super::decode_fixed::<4, _>(b, f32::from_be_bytes))
            );
        }
    }

    /// The captured example of the protocol reference §3.3.
    #[test]
    fn captured_tablet_with_nulls() {
        let ts = hex("0000000000000001 0000000000000002 0000000000000003");
        let vals = hex("000001 | 00000005 00000006 00000000 | 00000000 00000002 7a7a 00000001 78 | 01 01  01 04  01 01");
        let t = decode_tablet(
            dev(),
            vec!["b".into(), "i".into(), "t".into()],
            &[0, 1, 5],
            3,
            &ts,
            &vals,
            false,
        )
        .unwrap();
        assert_eq!(t.times, vec![1, 2, 3]);
        let cell = |c: usize, r: usize| t.columns[c].value(r);
        assert_eq!(cell(0, 0), None);
        assert_eq!(cell(0, 1), Some(Value::Boolean(false)));
        assert_eq!(cell(0, 2), Some(Value::Boolean(true)));
        assert_eq!(cell(1, 0), Some(Value::Int32(5)));
        assert_eq!(cell(1, 1), Some(Value::Int32(6)));
        assert_eq!(cell(1, 2), None);
        assert_eq!(cell(2, 0), None);
        assert_eq!(cell(2, 1), Some(Value::Text(b"zz".to_vec())));
        assert_eq!(cell(2, 2), Some(Value::Text(b"x".to_vec())));
        // and the official client's bytes are exactly what we encode
        let enc = encode_tablet(&t).unwrap();
        assert_eq!(enc.values, vals);
        assert_eq!(enc.timestamps, ts);
        assert_eq!(enc.types, vec![0, 1, 5]);
    }

    #[test]
    fn new_types_and_no_bitmap() {
        // TIMESTAMP, DATE, BLOB, STRING; NumpyTablet-style block of all-zero flags
        let ts = hex("0000000000000009");
        let mut vals = hex("000000000000002a 0134b3d1 00000002 0102 00000001 41");
        let t = decode_tablet(
            dev(),
            vec!["a".into(), "b".into(), "c".into(), "d".into()],
            &[8, 9, 10, 11],
            1,
            &ts,
            &vals,
            true,
        )
        .unwrap();
        assert_eq!(
            t.types,
            vec![
                TSDataType::Timestamp,
                TSDataType::Date,
                TSDataType::Blob,
                TSDataType::String
            ]
        );
        assert_eq!(t.columns[0].value(0), Some(Value::Int64(42)));
        assert_eq!(t.columns[1].value(0), Some(Value::Int32(20_231_121)));
        assert_eq!(t.columns[2].value(0), Some(Value::Text(vec![1, 2])));
        assert!(t.aligned);
        vals.extend_from_slice(&[0, 0, 0, 0]);
        let t2 = decode_tablet(
            dev(),
            vec!["a".into(), "b".into(), "c".into(), "d".into()],
            &[8, 9, 10, 11],
            1,
            &ts,
            &vals,
            true,
        )
        .unwrap();
        assert_eq!(t2.columns, t.columns);
    }

    #[test]
    fn length_errors() {
        let ts = hex("0000000000000001");
        let m = || vec!["s".to_string()];
        // short timestamps, negative size, wrong type count, unknown type
        assert!(decode_tablet(dev(), m(), &[1], 2, &ts, &[0; 8], false).is_err());
        assert!(decode_tablet(dev(), m(), &[1], -1, &[], &[], false).is_err());
        assert!(decode_tablet(dev(), m(), &[1, 1], 1, &ts, &[0; 4], false).is_err());
        assert!(decode_tablet(dev(), m(), &[6], 1, &ts, &[0; 4], false).is_err());
        // short values, trailing garbage, truncated bitmap, bad flag
        assert!(decode_tablet(dev(), m(), &[1], 1, &ts, &[0; 3], false).is_err());
        assert!(decode_tablet(dev(), m(), &[1], 1, &ts, &[0, 0, 0, 0, 1], false).is_err());
        assert!(decode_tablet(dev(), m(), &[1], 1, &ts, &[0, 0, 0, 0, 0, 0], false).is_err());
        assert!(decode_tablet(dev(), m(), &[1], 1, &ts, &[0, 0, 0, 0, 2, 0], false).is_err());
        // text longer than the buffer, negative text length
        assert!(decode_tablet(dev(), m(), &[5], 1, &ts, &[0, 0, 0, 9, 1], false).is_err());
        assert!(decode_tablet(dev(), m(), &[5], 1, &ts, &[0xff, 0xff, 0xff, 0xff], false).is_err());
        // a huge declared size with few bytes
        assert!(decode_tablet(dev(), m(), &[5], i32::MAX, &ts, &[], false).is_err());
    }

    #[test]
    fn requests() {
        let req = TSInsertTabletReq {
            session_id: 1,
            prefix_path: "root.sg.`d-1`".into(),
            measurements: vec!["s1".into()],
            values: vec![0, 0, 0, 7],
            timestamps: 5i64.to_be_bytes().to_vec(),
            types: vec![1],
            size: 1,
            is_aligned: None,
            write_to_table: None,
            column_categories: None,
            is_compressed: None,
            encoding_types: None,
            compress_type: None,
        };
        let t = tablet_from_req(req.clone()).unwrap();
        assert_eq!(t.device.to_string(), "root.sg.`d-1`");
        assert!(!t.aligned);
        let mut compressed = req.clone();
        compressed.is_compressed = Some(true);
        assert!(matches!(
            tablet_from_req(compressed),
            Err(Error::Unsupported(_))
        ));
        let many = TSInsertTabletsReq {
            session_id: 1,
            prefix_paths: vec![req.prefix_path.clone(), "root.sg.d2".into()],
            measurements_list: vec![req.measurements.clone(), req.measurements.clone()],
            values_list: vec![req.values.clone(), req.values.clone()],
            timestamps_list: vec![req.timestamps.clone(), req.timestamps.clone()],
            types_list: vec![req.types.clone(), req.types.clone()],
            size_list: vec![1, 1],
            is_aligned: Some(true),
        };
        let ts = tablets_from_req(many.clone()).unwrap();
        assert_eq!(ts.len(), 2);
        assert!(ts[1].aligned);
        let mut bad = many;
        bad.size_list.pop();
        assert!(tablets_from_req(bad).is_err());
    }

    fn arb_column(rows: usize) -> impl Strategy<Value = (TSDataType, Column)> {
        let t = prop::sample::select(TSDataType::ALL.to_vec());
        (t, prop::collection::vec(any::<bool>(), rows)).prop_flat_map(move |(t, nulls)| {
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
                TSDataType::Float => prop::collection::vec(any::<i32>(), rows)
                    .prop_map(|v| {
                        ColumnData::Float(v.into_iter().map(|b| f32::from_bits(b as u32)).collect())
                    })
                    .boxed(),
                TSDataType::Double => prop::collection::vec(any::<i64>(), rows)
                    .prop_map(|v| {
                        ColumnData::Double(
                            v.into_iter().map(|b| f64::from_bits(b as u64)).collect(),
                        )
                    })
                    .boxed(),
                _ => prop::collection::vec(prop::collection::vec(any::<u8>(), 0..5), rows)
                    .prop_map(ColumnData::Binary)
                    .boxed(),
            };
            data.prop_map(move |data| {
                let mut b = Bitmap::new(rows);
                nulls
                    .iter()
                    .enumerate()
                    .filter(|(_, n)| **n)
                    .for_each(|(i, _)| b.set(i));
                let nulls = (b.count() > 0).then_some(b);
                (t, Column { data, nulls })
            })
        })
    }

    fn arb_tablet() -> impl Strategy<Value = InsertTablet> {
        (0usize..20, 0usize..5).prop_flat_map(|(rows, cols)| {
            (
                prop::collection::vec(any::<i64>(), rows),
                prop::collection::vec(arb_column(rows), cols),
                any::<bool>(),
            )
                .prop_map(|(times, cols, aligned)| InsertTablet {
                    device: PartialPath::parse("root.sg.d").unwrap(),
                    measurements: (0..cols.len()).map(|i| format!("s{i}")).collect(),
                    types: cols.iter().map(|c| c.0).collect(),
                    times,
                    columns: cols.into_iter().map(|c| c.1).collect(),
                    aligned,
                })
        })
    }

    /// Cells as bytes, so that float columns compare by bits (NaN payloads must survive).
    fn cells(t: &InsertTablet) -> Vec<Vec<Option<Vec<u8>>>> {
        t.columns
            .iter()
            .map(|c| {
                (0..c.len())
                    .map(|i| {
                        c.value(i).map(|v| match v {
                            Value::Boolean(b) => vec![u8::from(b)],
                            Value::Int32(x) => x.to_be_bytes().to_vec(),
                            Value::Int64(x) => x.to_be_bytes().to_vec(),
                            Value::Float(x) => x.to_bits().to_be_bytes().to_vec(),
                            Value::Double(x) => x.to_bits().to_be_bytes().to_vec(),
                            Value::Text(x) => x,
                        })
                    })
                    .collect()
            })
            .collect()
    }

    fn bits_eq(a: &InsertTablet, b: &InsertTablet) -> bool {
        a.device == b.device
            && a.measurements == b.measurements
            && a.types == b.types
            && a.times == b.times
            && a.aligned == b.aligned
            && a.columns
                .iter()
                .map(|c| &c.nulls)
                .eq(b.columns.iter().map(|c| &c.nulls))
            && cells(a) == cells(b)
    }

    proptest! {
        #[test]
        fn round_trip(t in arb_tablet()) {
            let enc = encode_tablet(&t).unwrap();
            let back = decode_tablet(t.device.clone(), t.measurements.clone(), &enc.types, enc.size, &enc.timestamps, &enc.values, t.aligned).unwrap();
            prop_assert!(bits_eq(&t, &back), "{t:?} != {back:?}");
        }

        #[test]
        fn never_panics(types in prop::collection::vec(-2i32..14, 0..4), size in -2i32..40, ts in prop::collection::vec(any::<u8>(), 0..80), vals in prop::collection::vec(any::<u8>(), 0..200)) {
            let ms = (0..types.len()).map(|i| format!("s{i}")).collect();
            let _ = decode_tablet(dev(), ms, &types, size, &ts, &vals, false);
        }
    }
}
