//! Serialized TsBlocks, the V2 result format (`queryResult`, protocol reference §4.7).
//!
//! ```text
//! i32 value column count N | N x u8 physical types | i32 position count n
//! (N+1) x u8 column encodings (time column first)
//! time column: INT64_ARRAY, mayHaveNull 0, n x i64
//! value columns: u8 mayHaveNull [+ ceil(n/8) null bytes, MSB-first, 1 = null] + values
//!   BYTE_ARRAY (BOOLEAN): ceil(n/8) bytes, all n positions, MSB-first, 1 = true
//!   INT32_ARRAY / INT64_ARRAY: 4 / 8 bytes per non-null position
//!   BINARY_ARRAY: i32 length + bytes per non-null position
//!   RLE: u8 inner encoding + one inner column of 1 position, repeated n times
//! ```

use super::dataset::check_batch;
use super::Reader;
use model::{Bitmap, Column, ColumnData, Error, Result, RowBatch, TSDataType};
use std::ops::Range;

const BYTE_ARRAY: u8 = 0;
const INT32_ARRAY: u8 = 1;
const INT64_ARRAY: u8 = 2;
const BINARY_ARRAY: u8 = 3;
const RLE: u8 = 4;

/// A decoded TsBlock: rows plus the physical type of each value column (the logical
/// types travel separately, in `dataTypeList`).
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedTsBlock {
    /// Times and value columns.
    pub batch: RowBatch,
    /// Physical type per value column (BOOLEAN, INT32, INT64, FLOAT, DOUBLE or TEXT).
    pub types: Vec<TSDataType>,
}

fn encoding_for(t: TSDataType) -> u8 {
    match t.physical() {
        TSDataType::Boolean => BYTE_ARRAY,
        TSDataType::Int32 | TSDataType::Float => INT32_ARRAY,
        TSDataType::Int64 | TSDataType::Double => INT64_ARRAY,
        _ => BINARY_ARRAY,
    }
}

/// Encodes rows `rows` of `batch` (value columns with logical types `types`) as one
/// serialized TsBlock.
pub fn encode_tsblock(
    batch: &RowBatch,
    types: &[TSDataType],
    rows: Range<usize>,
) -> Result<Vec<u8>> {
    let parts = [(batch, rows)];
    let mut out = Vec::with_capacity(tsblock_len(&parts, types)?);
    encode_tsblock_into(&mut out, &parts, types)?;
    Ok(out)
}

/// Rows `range` of `batch`, one piece of a TsBlock made of several batches.
pub type Part<'a> = (&'a RowBatch, Range<usize>);

/// Whether any row of `parts` is null in column `c`.
fn parts_have_null(parts: &[Part<'_>], c: usize) -> bool {
    parts.iter().any(|(b, rows)| {
        let col = &b.columns[c];
        col.nulls.is_some() && rows.clone().any(|i| col.is_null(i))
    })
}

/// The exact length of the TsBlock [`encode_tsblock_into`] writes for `parts`.
pub fn tsblock_len(parts: &[Part<'_>], types: &[TSDataType]) -> Result<usize> {
    for (b, rows) in parts {
        check_batch(b, types, rows)?;
    }
    let n: usize = parts.iter().map(|(_, r)| r.len()).sum();
    let mut len = 4 + types.len() + 4 + types.len() + 1 + 1 + n * 8;
    for (c, t) in types.iter().enumerate() {
        let has_null = parts_have_null(parts, c);
        len += 1 + if has_null { n.div_ceil(8) } else { 0 };
        len += match t.physical() {
            TSDataType::Boolean => n.div_ceil(8),
            _ => parts
                .iter()
                .map(|(b, rows)| {
                    let col = &b.columns[c];
                    let present = rows.clone().filter(|&i| !col.is_null(i));
                    match &col.data {
                        ColumnData::Binary(v) => present.map(|i| 4 + v[i].len()).sum(),
                        data if col.nulls.is_none() => rows.len() * data.value_bytes(0),
                        data => present.count() * data.value_bytes(0),
                    }
                })
                .sum(),
        };
    }
    Ok(len)
}

/// Packs the flags of the rows of `parts` MSB-first (`flag(batch, row)`), appending.
fn put_msb(out: &mut Vec<u8>, parts: &[Part<'_>], flag: impl Fn(&RowBatch, usize) -> bool) {
    let mut byte = 0u8;
    let mut k = 0usize;
    for (b, rows) in parts {
        for i in rows.clone() {
            if flag(b, i) {
                byte |= 0x80 >> (k % 8);
            }
            k += 1;
            if k.is_multiple_of(8) {
                out.push(byte);
                byte = 0;
            }
        }
    }
    if !k.is_multiple_of(8) {
        out.push(byte);
    }
}

/// Appends one serialized TsBlock holding the rows of `parts` in order (value columns with
/// logical types `types`): the batches of a result page are encoded where the page goes,
/// without joining them first.
pub fn encode_tsblock_into(
    out: &mut Vec<u8>,
    parts: &[Part<'_>],
    types: &[TSDataType],
) -> Result<()> {
    for (b, rows) in parts {
        check_batch(b, types, rows)?;
    }
    let n: usize = parts.iter().map(|(_, r)| r.len()).sum();
    let count = i32::try_from(types.len())
        .map_err(|_| Error::Internal("too many result columns".into()))?;
    let positions = i32::try_from(n).map_err(|_| Error::Internal("too many result rows".into()))?;
    out.extend_from_slice(&count.to_be_bytes());
    out.extend(types.iter().map(|t| t.physical().id()));
    out.extend_from_slice(&positions.to_be_bytes());
    out.push(INT64_ARRAY);
    out.extend(types.iter().map(|&t| encoding_for(t)));
    out.push(0);
    for (b, rows) in parts {
        super::put_fixed(out, &b.times[rows.clone()], i64::to_be_bytes);
    }
    for (c, t) in types.iter().enumerate() {
        let has_null = parts_have_null(parts, c);
        out.push(u8::from(has_null));
        if has_null {
            put_msb(out, parts, |b, i| b.columns[c].is_null(i));
        }
        if t.physical() == TSDataType::Boolean {
            put_msb(
                out,
                parts,
                |b, i| matches!(&b.columns[c].data, ColumnData::Boolean(v) if v[i]),
            );
            continue;
        }
        for (b, rows) in parts {
            let col = &b.columns[c];
            if !has_null {
                super::dataset::put_values(&col.data, rows.clone(), out)?;
                continue;
            }
            for i in rows.clone().filter(|&i| !col.is_null(i)) {
                match &col.data {
                    ColumnData::Int32(v) => out.extend_from_slice(&v[i].to_be_bytes()),
                    ColumnData::Int64(v) => out.extend_from_slice(&v[i].to_be_bytes()),
                    ColumnData::Float(v) => out.extend_from_slice(&v[i].to_be_bytes()),
                    ColumnData::Double(v) => out.extend_from_slice(&v[i].to_be_bytes()),
                    ColumnData::Binary(v) => super::put_len_bytes(out, &v[i])?,
                    ColumnData::Boolean(_) => {}
                }
            }
        }
    }
    Ok(())
}

/// Reads `n` MSB-first flags.
fn read_msb(r: &mut Reader<'_>, n: usize) -> Result<Vec<bool>> {
    let bytes = r.take(n.div_ceil(8))?;
    Ok((0..n)
        .map(|i| bytes[i / 8] & (0x80 >> (i % 8)) != 0)
        .collect())
}

/// Reads one column of `n` positions in `encoding` with physical type `t`.
fn read_column(
    r: &mut Reader<'_>,
    encoding: u8,
    t: TSDataType,
    n: usize,
    depth: u8,
) -> Result<Column> {
    if encoding == RLE {
        if depth > 0 {
            return Err(r.error("nested RLE column"));
        }
        let inner = r.u8()?;
        let one = read_column(r, inner, t, 1, depth + 1)?;
        let mut data = ColumnData::with_capacity(t, n);
        let null = one.is_null(0);
        let value = one.data.get(0);
        for _ in 0..n {
            match &value {
                Some(v) if !null => {
                    data.push(v);
                }
                _ => data.push_placeholder(),
            }
        }
        let nulls = null.then(|| {
            let mut b = Bitmap::new(n);
            (0..n).for_each(|i| b.set(i));
            b
        });
        return Ok(Column {
            data,
            nulls: nulls.filter(|b| b.count() > 0),
        });
    }
    let expected = encoding_for(t);
    if encoding != expected {
        return Err(r.error(format_args!(
            "column encoding {encoding} does not fit a {t} column"
        )));
    }
    let nulls = match r.u8()? {
        0 => None,
        1 => Some(read_msb(r, n)?),
        other => return Err(r.error(format_args!("mayHaveNull byte {other}"))),
    };
    let is_null = |i: usize| nulls.as_ref().is_some_and(|v| v[i]);
    let present = (0..n).filter(|&i| !is_null(i)).count();
    let data = match t.physical() {
        TSDataType::Boolean => ColumnData::Boolean(read_msb(r, n)?),
        TSDataType::Int32 | TSDataType::Float | TSDataType::Int64 | TSDataType::Double => {
            let width = if matches!(t.physical(), TSDataType::Int32 | TSDataType::Float) {
                4
            } else {
                8
            };
            let need = present
                .checked_mul(width)
                .ok_or_else(|| r.error("column size overflows"))?;
            let bytes = r.take(need)?;
            // present values in one vectorized pass, then spread over the null positions
            let flags = nulls.as_deref();
            match t.physical() {
                TSDataType::Int32 => ColumnData::Int32(spread_present(
                    super::decode_fixed(bytes, i32::from_be_bytes),
                    flags,
                )),
                TSDataType::Float => ColumnData::Float(spread_present(
                    super::decode_fixed(bytes, f32::from_be_bytes),
                    flags,
                )),
                TSDataType::Int64 => ColumnData::Int64(spread_present(
                    super::decode_fixed(bytes, i64::from_be_bytes),
                    flags,
                )),
                _ => ColumnData::Double(spread_present(
                    super::decode_fixed(bytes, f64::from_be_bytes),
                    flags,
                )),
            }
        }
        _ => {
            if present.saturating_mul(4) > r.remaining() {
                return Err(r.error(format_args!(
                    "{present} binary values cannot fit in {} bytes",
                    r.remaining()
                )));
            }
            let mut v = Vec::with_capacity(n);
            for i in 0..n {
                v.push(if is_null(i) {
                    Vec::new()
                } else {
                    r.len_bytes()?.to_vec()
                });
            }
            ColumnData::Binary(v)
        }
    };
    let nulls = nulls.and_then(|flags| {
        let mut b = Bitmap::new(n);
        flags
            .iter()
            .enumerate()
            .filter(|(_, &f)| f)
            .for_each(|(i, _)| b.set(i));
        (b.count() > 0).then_some(b)
    });
    Ok(Column { data, nulls })
}

/// `present` values placed at the positions `nulls` marks as not null, in order; null
/// positions get the default value (a placeholder). Without `nulls`, `present` as it is.
fn spread_present<T: Copy + Default>(present: Vec<T>, nulls: Option<&[bool]>) -> Vec<T> {
    let Some(nulls) = nulls else {
        return present;
    };
    let mut it = present.into_iter();
    nulls
        .iter()
        .map(|&null| {
            if null {
                T::default()
            } else {
                it.next().unwrap_or_default()
            }
        })
        .collect()
}

/// Decodes one serialized TsBlock. Physical type numbers of 1.3+ logical types (8–11)
/// are accepted and mapped to their physical type; DICTIONARY-encoded columns are not
/// supported.
pub fn decode_tsblock(buf: &[u8]) -> Result<DecodedTsBlock> {
    let mut batch = RowBatch::default();
    let types = decode_tsblock_into(buf, &mut batch)?;
    Ok(DecodedTsBlock { batch, types })
}

/// The header of a serialized TsBlock: physical type per value column and row count.
fn read_header<'a>(r: &mut Reader<'a>) -> Result<(Vec<TSDataType>, usize, &'a [u8])> {
    let count = r.i32()?;
    let count = usize::try_from(count)
        .map_err(|_| r.error(format_args!("negative column count {count}")))?;
    let type_bytes = r.take(count)?;
    let types = type_bytes
        .iter()
        .map(|&b| super::data_type(i64::from(b), "TsBlock").map(TSDataType::physical))
        .collect::<Result<Vec<_>>>()?;
    let n = r.i32()?;
    let n = usize::try_from(n).map_err(|_| r.error(format_args!("negative position count {n}")))?;
    let encodings = r.take(count + 1)?;
    Ok((types, n, encodings))
}

/// The number of rows of a serialized TsBlock (read from its header only), to make room
/// before [`decode_tsblock_into`].
pub fn tsblock_rows(buf: &[u8]) -> Result<usize> {
    Ok(read_header(&mut Reader::new(buf, "TsBlock"))?.1)
}

/// Decodes one serialized TsBlock and appends its rows to `out`, whose columns must have
/// the block's physical types (an empty batch without columns takes the block's columns):
/// a result read page by page is decoded into its final buffers, without a batch per page
/// joined afterwards. Returns the physical type per value column. On error `out` may hold
/// part of the block.
pub fn decode_tsblock_into(buf: &[u8], out: &mut RowBatch) -> Result<Vec<TSDataType>> {
    let mut r = Reader::new(buf, "TsBlock");
    let (types, n, encodings) = read_header(&mut r)?;
    if out.columns.is_empty() && out.times.is_empty() {
        out.columns = types
            .iter()
            .map(|&t| Column::new(ColumnData::with_capacity(t, n)))
            .collect();
    }
    if out.columns.len() != types.len()
        || out
            .columns
            .iter()
            .zip(&types)
            .any(|(c, t)| c.data.data_type() != *t)
    {
        return Err(r.error("its columns differ from the earlier pages of the result"));
    }
    if encodings[0] != INT64_ARRAY {
        return Err(r.error(format_args!("time column encoding {}", encodings[0])));
    }
    if r.u8()? != 0 {
        return Err(r.error("time column has nulls"));
    }
    let need = n
        .checked_mul(8)
        .ok_or_else(|| r.error("time column size overflows"))?;
    let base = out.times.len();
    extend_fixed(&mut out.times, r.take(need)?, None, i64::from_be_bytes);
    for ((&t, &enc), col) in types.iter().zip(&encodings[1..]).zip(&mut out.columns) {
        if enc > RLE {
            return Err(Error::Unsupported(format!(
                "TsBlock column encoding {enc} is not supported yet"
            )));
        }
        let fixed = matches!(
            t,
            TSDataType::Int32 | TSDataType::Float | TSDataType::Int64 | TSDataType::Double
        );
        if enc == RLE || !fixed {
            let part = read_column(&mut r, enc, t, n, 0)?;
            append_column(col, part, base);
            continue;
        }
        if enc != encoding_for(t) {
            return Err(r.error(format_args!(
                "column encoding {enc} does not fit a {t} column"
            )));
        }
        let nulls = match r.u8()? {
            0 => None,
            1 => Some(read_msb(&mut r, n)?),
            other => return Err(r.error(format_args!("mayHaveNull byte {other}"))),
        };
        let flags = nulls.as_deref();
        let present = flags.map_or(n, |f| f.iter().filter(|&&null| !null).count());
        let width = if matches!(t, TSDataType::Int32 | TSDataType::Float) {
            4
        } else {
            8
        };
        let bytes = r.take(
            present
                .checked_mul(width)
                .ok_or_else(|| r.error("column size overflows"))?,
        )?;
        match &mut col.data {
            ColumnData::Int32(v) => extend_fixed(v, bytes, flags, i32::from_be_bytes),
            ColumnData::Float(v) => extend_fixed(v, bytes, flags, f32::from_be_bytes),
            ColumnData::Int64(v) => extend_fixed(v, bytes, flags, i64::from_be_bytes),
            ColumnData::Double(v) => extend_fixed(v, bytes, flags, f64::from_be_bytes),
            _ => {}
        }
        if flags.is_some() || col.nulls.is_some() {
            append_nulls(col, base, n, |k| flags.is_some_and(|f| f[k]));
        }
    }
    r.finish()?;
    Ok(types)
}

/// Columns of at least this many bytes are decoded with stores that bypass the cache (see
/// [`super::extend_be_streaming`]): a page of a bulk read, whose values go to buffers that
/// are not read again before the whole result is in.
const STREAM_MIN_BYTES: usize = 64 << 10;

/// Appends `bytes` as big-endian `W`-byte values; with `nulls`, the values go to the
/// positions not marked null, in order, and null positions get a placeholder (`bytes`
/// holds exactly one value per such position).
fn extend_fixed<T: Copy + Default, const W: usize>(
    v: &mut Vec<T>,
    bytes: &[u8],
    nulls: Option<&[bool]>,
    convert: fn([u8; W]) -> T,
) {
    let mut values = bytes.chunks_exact(W).map(|c| {
        let mut a = [0u8; W];
        a.copy_from_slice(c);
        convert(a)
    });
    match nulls {
        None if bytes.len() >= STREAM_MIN_BYTES && super::extend_be_streaming::<T, W>(v, bytes) => {
        }
        None => v.extend(values),
        Some(flags) => v.extend(flags.iter().map(|&null| {
            if null {
                T::default()
            } else {
                values.next().unwrap_or_default()
            }
        })),
    }
}

/// Extends the null bitmap of `col` (rows from `base` on) by `n` positions, `null(k)`
/// telling position `base + k`; a column without nulls so far gets a bitmap only when one
/// of them is null.
fn append_nulls(col: &mut Column, base: usize, n: usize, null: impl Fn(usize) -> bool) {
    if col.nulls.is_none() && !(0..n).any(&null) {
        return;
    }
    let mut bm = col.nulls.take().unwrap_or_else(|| Bitmap::new(base));
    (0..n).for_each(|k| bm.push(null(k)));
    col.nulls = Some(bm);
}

/// Appends the rows of `part` (same physical type) to `col`, which holds `base` rows.
fn append_column(col: &mut Column, part: Column, base: usize) {
    let n = part.len();
    if base == 0 && col.data.is_empty() && col.nulls.is_none() {
        *col = part;
        return;
    }
    if part.nulls.is_some() || col.nulls.is_some() {
        append_nulls(col, base, n, |k| part.is_null(k));
    }
    match (&mut col.data, part.data) {
        (ColumnData::Boolean(x), ColumnData::Boolean(y)) => x.extend(y),
        (ColumnData::Int32(x), ColumnData::Int32(y)) => x.extend(y),
        (ColumnData::Int64(x), ColumnData::Int64(y)) => x.extend(y),
        (ColumnData::Float(x), ColumnData::Float(y)) => x.extend(y),
        (ColumnData::Double(x), ColumnData::Double(y)) => x.extend(y),
        (ColumnData::Binary(x), ColumnData::Binary(y)) => x.extend(y),
        // the caller checked the types
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::dataset::tests::arb_batch;
    use model::Value;
    use proptest::prelude::*;

    #[test]
    fn layout_by_hand() {
        let mut nulls = Bitmap::new(3);
        nulls.set(1);
        let batch = RowBatch {
            times: vec![1, 2, 3],
            columns: vec![
                Column::new(ColumnData::Boolean(vec![true, false, true])),
                Column {
                    data: ColumnData::Int32(vec![5, 0, 7]),
                    nulls: Some(nulls.clone()),
                },
                Column {
                    data: ColumnData::Binary(vec![b"a".to_vec(), vec![], b"bc".to_vec()]),
                    nulls: Some(nulls),
                },
            ],
        };
        let types = [TSDataType::Boolean, TSDataType::Date, TSDataType::Text];
        let b = encode_tsblock(&batch, &types, 0..3).unwrap();
        let mut want = vec![0, 0, 0, 3, 0, 1, 5, 0, 0, 0, 3, 2, 0, 1, 3, 0];
        for t in 1i64..=3 {
            want.extend_from_slice(&t.to_be_bytes());
        }
        want.extend_from_slice(&[0, 0xA0]); // boolean: no nulls, packed 1 0 1
        want.extend_from_slice(&[1, 0x40, 0, 0, 0, 5, 0, 0, 0, 7]); // int32 with row 1 null
        want.extend_from_slice(&[1, 0x40, 0, 0, 0, 1, b'a', 0, 0, 0, 2, b'b', b'c']);
        assert_eq!(b, want);
        let d = decode_tsblock(&b).unwrap();
        assert_eq!(d.batch, batch);
        assert_eq!(
            d.types,
            vec![TSDataType::Boolean, TSDataType::Int32, TSDataType::Text]
        );
        // truncations and trailing bytes are rejected
        for cut in 0..b.len() {
            assert!(decode_tsblock(&b[..cut]).is_err(), "cut {cut}");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert!(decode_tsblock(&longer).is_err());
    }

    #[test]
    fn rle_columns() {
        // 1 DOUBLE column, 4 positions, RLE of INT64_ARRAY holding 2.5
        let mut b = vec![0, 0, 0, 1, 4, 0, 0, 0, 4, INT64_ARRAY, RLE, 0];
        for t in 0i64..4 {
            b.extend_from_slice(&t.to_be_bytes());
        }
        b.extend_from_slice(&[INT64_ARRAY, 0]);
        b.extend_from_slice(&2.5f64.to_be_bytes());
        let d = decode_tsblock(&b).unwrap();
        assert_eq!(d.batch.columns[0].data, ColumnData::Double(vec![2.5; 4]));
        assert!(d.batch.columns[0].nulls.is_none());
        // RLE of a null
        let mut b = vec![0, 0, 0, 1, 1, 0, 0, 0, 2, INT64_ARRAY, RLE, 0];
        b.extend_from_slice(&[0; 16]);
        b.extend_from_slice(&[INT32_ARRAY, 1, 0x80]);
        let d = decode_tsblock(&b).unwrap();
        assert_eq!(d.batch.columns[0].value(0), None);
        assert_eq!(d.batch.columns[0].value(1), None);
        // nested RLE and dictionary encoding are refused
        let mut b = vec![0, 0, 0, 1, 1, 0, 0, 0, 0, INT64_ARRAY, RLE, 0, RLE, RLE];
        assert!(decode_tsblock(&b).is_err());
        b[10] = 5;
        assert!(matches!(
            decode_tsblock(&b[..12]),
            Err(Error::Unsupported(_))
        ));
    }

    #[test]
    fn forged_sizes() {
        // huge column count / position count with no bytes behind them
        assert!(decode_tsblock(&[0x7f, 0xff, 0xff, 0xff]).is_err());
        assert!(decode_tsblock(&[0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 2, 0]).is_err());
        assert!(decode_tsblock(&[0xff, 0xff, 0xff, 0xff]).is_err());
    }

    #[test]
    fn empty_block() {
        let b = encode_tsblock(&RowBatch::default(), &[], 0..0).unwrap();
        assert_eq!(b, vec![0, 0, 0, 0, 0, 0, 0, 0, INT64_ARRAY, 0]);
        let d = decode_tsblock(&b).unwrap();
        assert!(d.batch.is_empty());
        assert_eq!(decode_tsblock(&b).unwrap().batch.columns.len(), 0);
        let _ = Value::Int32(0);
    }

    proptest! {
        #[test]
        fn round_trip((batch, types) in arb_batch()) {
            let b = encode_tsblock(&batch, &types, 0..batch.len()).unwrap();
            let d = decode_tsblock(&b).unwrap();
            prop_assert_eq!(&d.batch, &batch);
            let phys: Vec<_> = types.iter().map(|t| t.physical()).collect();
            prop_assert_eq!(d.types, phys);
        }

        #[test]
        fn sub_ranges((batch, types) in arb_batch(), a in 0usize..20, b in 0usize..20) {
            let (lo, hi) = (a.min(b).min(batch.len()), a.max(b).min(batch.len()));
            let d = decode_tsblock(&encode_tsblock(&batch, &types, lo..hi).unwrap()).unwrap();
            prop_assert_eq!(&d.batch.times[..], &batch.times[lo..hi]);
            for (c, orig) in d.batch.columns.iter().zip(&batch.columns) {
                for i in lo..hi {
                    prop_assert_eq!(c.value(i - lo), orig.value(i));
                }
            }
        }

        #[test]
        fn paged_decoding_equals_whole(
            (batch, types) in arb_batch(),
            cuts in prop::collection::vec(0usize..20, 0..4),
        ) {
            // pages cut anywhere (empty ones too), decoded one after the other into one batch
            let n = batch.len();
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(n)).collect();
            points.extend([0, n]);
            points.sort_unstable();
            let mut out = RowBatch::default();
            for w in points.windows(2) {
                let page = encode_tsblock(&batch, &types, w[0]..w[1]).unwrap();
                prop_assert_eq!(tsblock_rows(&page).unwrap(), w[1] - w[0]);
                let phys: Vec<_> = types.iter().map(|t| t.physical()).collect();
                prop_assert_eq!(decode_tsblock_into(&page, &mut out).unwrap(), phys);
            }
            prop_assert_eq!(&out.times, &batch.times);
            prop_assert_eq!(out.columns.len(), batch.columns.len());
            for (c, orig) in out.columns.iter().zip(&batch.columns) {
                prop_assert_eq!(c.len(), n);
                for i in 0..n {
                    prop_assert_eq!(c.value(i), orig.value(i));
                }
            }
        }

        #[test]
        fn parts_encode_as_their_concatenation((batch, types) in arb_batch(), cut in 0usize..20) {
            let n = batch.len();
            let cut = cut.min(n);
            let parts = [(&batch, 0..cut), (&batch, cut..n)];
            let mut out = vec![9];
            encode_tsblock_into(&mut out, &parts, &types).unwrap();
            prop_assert_eq!(out.len() - 1, tsblock_len(&parts, &types).unwrap());
            prop_assert_eq!(&out[1..], &encode_tsblock(&batch, &types, 0..n).unwrap()[..]);
        }

        #[test]
        fn pages_of_another_layout_are_refused((batch, types) in arb_batch()) {
            let page = encode_tsblock(&batch, &types, 0..batch.len()).unwrap();
            let mut out = RowBatch {
                times: vec![1],
                columns: vec![Column::new(ColumnData::Binary(vec![vec![]]))],
            };
            if types.len() != 1 || types[0].physical() != TSDataType::Text {
                prop_assert!(decode_tsblock_into(&page, &mut out).is_err());
            }
        }

        #[test]
        fn never_panics(buf in prop::collection::vec(any::<u8>(), 0..120)) {
            let _ = decode_tsblock(&buf);
        }
    }
}
