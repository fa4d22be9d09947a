//! Value encodings of TsFile, byte-compatible with the Java and C++ implementations.
//!
//! Each encoding works on a whole page of values of one physical type at once: [`encode`]
//! appends the encoded bytes of a slice (what Java produces with `encode` per value followed by
//! `flush`), [`decode`] reads a known number of values back. Time columns, whose length is only
//! known from the stream, are read with [`decode_times`].
//!
//! Supported (as `model::TSEncoding::supports` allows): PLAIN for every type; RLE for BOOLEAN,
//! INT32/DATE, INT64/TIMESTAMP and (fixed-point, lossy) FLOAT/DOUBLE; TS_2DIFF for integers and
//! (fixed-point) floats; GORILLA, CHIMP, SPRINTZ and RLBE for integers and floats; ZIGZAG for
//! integers; DICTIONARY for TEXT/STRING/BLOB; the IoTDB 1.x encodings GORILLA_V1 (FLOAT/DOUBLE)
//! and FREQ (lossy, integers and floats). REGULAR, DIFF and BITMAP, which no IoTDB release
//! accepts for a series, are reported as unsupported.

pub mod chimp;
pub mod dictionary;
pub mod float;
pub mod freq;
pub mod gorilla;
pub mod gorilla_v1;
pub mod plain;
pub mod rlbe;
pub mod rle;
pub mod sprintz;
pub mod ts2diff;
pub mod zigzag;

pub use rlbe::FloatRlbe;

use crate::buf::{ByteReader, Corrupt, DResult};
use model::{ColumnData, Error, Result, TSDataType, TSEncoding};

/// Default `max_point_number` (IoTDB `float_precision`) for RLE/TS_2DIFF on floats.
pub const DEFAULT_FLOAT_PRECISION: i32 = 2;

/// Options that change what bytes an encoding produces or how they are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodecOptions {
    /// Decimal digits kept by RLE/TS_2DIFF on FLOAT/DOUBLE (`max_point_number`).
    pub float_precision: i32,
    /// Meaning of RLBE on FLOAT/DOUBLE (differs between tsfile ≤ 2.0 and ≥ 2.1).
    pub float_rlbe: FloatRlbe,
    /// SPRINTZ output must also read back exactly with the C++ reader (PyPI tsfile), which
    /// costs page breaks on data whose predictions overflow; V3 files (read by Java only)
    /// do without.
    pub sprintz_for_cpp: bool,
    /// How the GORILLA writer opens leading/trailing-zero windows (both read the same).
    pub gorilla_windows: GorillaWindows,
}

/// How the GORILLA writer chooses its windows (see ADR 0011); readers cannot tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GorillaWindows {
    /// Windows chosen over a look-ahead of the next values: fewest bits, fewer on noisy data.
    #[default]
    LookAhead,
    /// Java's rule: a window opens only when a value does not fit, exactly as wide as the
    /// value. More bits, but steadier bit patterns, which general compressors (SNAPPY, ZSTD, …)
    /// may shrink further on quantised, periodic data.
    Exact,
}

impl GorillaWindows {
    /// The other rule.
    pub fn other(self) -> Self {
        match self {
            GorillaWindows::LookAhead => GorillaWindows::Exact,
            GorillaWindows::Exact => GorillaWindows::LookAhead,
        }
    }
}

impl Default for CodecOptions {
    fn default() -> Self {
        CodecOptions {
            float_precision: DEFAULT_FLOAT_PRECISION,
            float_rlbe: FloatRlbe::RawBits,
            sprintz_for_cpp: true,
            gorilla_windows: GorillaWindows::LookAhead,
        }
    }
}

/// A page of values of one physical type, borrowed.
#[derive(Debug, Clone, Copy)]
pub enum ValueSlice<'a> {
    /// BOOLEAN
    Boolean(&'a [bool]),
    /// INT32 / DATE
    Int32(&'a [i32]),
    /// INT64 / TIMESTAMP
    Int64(&'a [i64]),
    /// FLOAT
    Float(&'a [f32]),
    /// DOUBLE
    Double(&'a [f64]),
    /// TEXT / STRING / BLOB
    Binary(&'a [&'a [u8]]),
}

impl ValueSlice<'_> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            ValueSlice::Boolean(v) => v.len(),
            ValueSlice::Int32(v) => v.len(),
            ValueSlice::Int64(v) => v.len(),
            ValueSlice::Float(v) => v.len(),
            ValueSlice::Double(v) => v.len(),
            ValueSlice::Binary(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The physical data type.
    pub fn data_type(&self) -> TSDataType {
        match self {
            ValueSlice::Boolean(_) => TSDataType::Boolean,
            ValueSlice::Int32(_) => TSDataType::Int32,
            ValueSlice::Int64(_) => TSDataType::Int64,
            ValueSlice::Float(_) => TSDataType::Float,
            ValueSlice::Double(_) => TSDataType::Double,
            ValueSlice::Binary(_) => TSDataType::Text,
        }
    }
}

/// True if this crate can write and read `encoding` for values of `data_type`: every
/// combination IoTDB accepts for a series (`model::TSEncoding::supports`).
pub fn is_implemented(encoding: TSEncoding, data_type: TSDataType) -> bool {
    encoding.supports(data_type)
}

fn unsupported(encoding: TSEncoding, data_type: TSDataType) -> Error {
    Error::Unsupported(format!(
        "encoding {} for {} is not supported yet",
        encoding.name(),
        data_type.name()
    ))
}

/// Appends the encoding of `values` to `out`.
pub fn encode(
    encoding: TSEncoding,
    values: ValueSlice<'_>,
    opts: &CodecOptions,
    out: &mut Vec<u8>,
) -> Result<()> {
    use TSEncoding as E;
    use ValueSlice as V;
    match (values, encoding) {
        (V::Boolean(v), E::Plain) => plain::encode_bool(v, out),
        (V::Boolean(v), E::Rle) => rle::encode_bool(v, out),
        (V::Int32(v), E::Plain) => plain::encode_i32(v, out),
        (V::Int32(v), E::Rle) => rle::encode_i32(v, out),
        (V::Int32(v), E::Ts2Diff) => ts2diff::encode_i32(v, out),
        (V::Int32(v), E::Gorilla) => gorilla::encode_i32(v, opts.gorilla_windows, out),
        (V::Int32(v), E::Zigzag) => zigzag::encode_i32(v, out),
        (V::Int32(v), E::Chimp) => chimp::encode_i32(v, out),
        (V::Int32(v), E::Sprintz) => sprintz::encode_i32(v, opts.sprintz_for_cpp, out),
        (V::Int32(v), E::Rlbe) => rlbe::encode_i32(v, out),
        (V::Int32(v), E::Freq) => freq::encode_default(v.iter().map(|x| *x as f64), out),
        (V::Int64(v), E::Plain) => plain::encode_i64(v, out),
        (V::Int64(v), E::Rle) => rle::encode_i64(v, out),
        (V::Int64(v), E::Ts2Diff) => ts2diff::encode_i64(v, out),
        (V::Int64(v), E::Gorilla) => gorilla::encode_i64(v, opts.gorilla_windows, out),
        (V::Int64(v), E::Zigzag) => zigzag::encode_i64(v, out),
        (V::Int64(v), E::Chimp) => chimp::encode_i64(v, out),
        (V::Int64(v), E::Sprintz) => sprintz::encode_i64(v, opts.sprintz_for_cpp, out),
        (V::Int64(v), E::Rlbe) => rlbe::encode_i64(v, out),
        (V::Int64(v), E::Freq) => freq::encode_default(v.iter().map(|x| *x as f64), out),
        (V::Float(v), E::Plain) => plain::encode_f32(v, out),
        (V::Float(v), E::Rle | E::Ts2Diff) => {
            float::encode_f32(encoding, opts.float_precision, v, out)
        }
        (V::Float(v), E::Gorilla) => gorilla::encode_f32(v, opts.gorilla_windows, out),
        (V::Float(v), E::Chimp) => chimp::encode_f32(v, out),
        (V::Float(v), E::Sprintz) => sprintz::encode_f32(v, opts.sprintz_for_cpp, out),
        (V::Float(v), E::Rlbe) => rlbe::encode_f32(v, opts.float_rlbe, out),
        (V::Float(v), E::GorillaV1) => gorilla_v1::encode_f32(v, out),
        (V::Float(v), E::Freq) => freq::encode_default(v.iter().map(|x| *x as f64), out),
        (V::Double(v), E::Plain) => plain::encode_f64(v, out),
        (V::Double(v), E::Rle | E::Ts2Diff) => {
            float::encode_f64(encoding, opts.float_precision, v, out)
        }
        (V::Double(v), E::Gorilla) => gorilla::encode_f64(v, opts.gorilla_windows, out),
        (V::Double(v), E::Chimp) => chimp::encode_f64(v, out),
        (V::Double(v), E::Sprintz) => sprintz::encode_f64(v, opts.sprintz_for_cpp, out),
        (V::Double(v), E::Rlbe) => rlbe::encode_f64(v, opts.float_rlbe, out),
        (V::Double(v), E::GorillaV1) => gorilla_v1::encode_f64(v, out),
        (V::Double(v), E::Freq) => freq::encode_default(v.iter().copied(), out),
        (V::Binary(v), E::Plain) => plain::encode_binary(v, out),
        (V::Binary(v), E::Dictionary) => dictionary::encode(v, out),
        (v, e) => return Err(unsupported(e, v.data_type())),
    }
    Ok(())
}

/// How many leading `values` can form one page: all of them, except for SPRINTZ, where a
/// block that only the end-of-page form can hold exactly ends the page (see [`sprintz`]).
pub fn page_prefix(encoding: TSEncoding, values: ValueSlice<'_>, opts: &CodecOptions) -> usize {
    if encoding != TSEncoding::Sprintz {
        return values.len();
    }
    match values {
        ValueSlice::Int32(v) => sprintz::page_prefix_i32(v, opts.sprintz_for_cpp),
        ValueSlice::Int64(v) => sprintz::page_prefix_i64(v, opts.sprintz_for_cpp),
        ValueSlice::Float(v) => sprintz::page_prefix_f32(v, opts.sprintz_for_cpp),
        ValueSlice::Double(v) => sprintz::page_prefix_f64(v, opts.sprintz_for_cpp),
        other => other.len(),
    }
}

/// Reads exactly `n` values of physical type `column`'s type from `data`, appending to `column`.
///
/// `data` is the value section of one page; an error names the byte position inside it.
pub fn decode(
    encoding: TSEncoding,
    data: &[u8],
    n: usize,
    opts: &CodecOptions,
    column: &mut ColumnData,
) -> DResult<()> {
    use ColumnData as C;
    use TSEncoding as E;
    let mut r = ByteReader::new(data);
    match (column, encoding) {
        (C::Boolean(o), E::Plain) => plain::decode_bool(&mut r, n, o),
        (C::Boolean(o), E::Rle) => rle::decode_bool(&mut r, n, o),
        (C::Int32(o), E::Plain) => plain::decode_i32(&mut r, n, o),
        (C::Int32(o), E::Rle) => rle::decode_i32(&mut r, n, o),
        (C::Int32(o), E::Ts2Diff) => ts2diff::decode_i32(&mut r, n, o),
        (C::Int32(o), E::Gorilla) => gorilla::decode_i32(data, n, o).map(|_| ()),
        (C::Int32(o), E::Zigzag) => zigzag::decode_i32(&mut r, n, o),
        (C::Int32(o), E::Chimp) => chimp::decode_i32(data, n, o),
        (C::Int32(o), E::Sprintz) => sprintz::decode_i32(&mut r, n, o),
        (C::Int32(o), E::Rlbe) => rlbe::decode_i32(data, n, o),
        (C::Int32(o), E::Freq) => freq::decode_i32(data, n, o),
        (C::Int64(o), E::Plain) => plain::decode_i64(&mut r, n, o),
        (C::Int64(o), E::Rle) => rle::decode_i64(&mut r, n, o),
        (C::Int64(o), E::Ts2Diff) => ts2diff::decode_i64(&mut r, n, o),
        (C::Int64(o), E::Gorilla) => gorilla::decode_i64(data, n, o).map(|_| ()),
        (C::Int64(o), E::Zigzag) => zigzag::decode_i64(&mut r, n, o),
        (C::Int64(o), E::Chimp) => chimp::decode_i64(data, n, o),
        (C::Int64(o), E::Sprintz) => sprintz::decode_i64(&mut r, n, o),
        (C::Int64(o), E::Rlbe) => rlbe::decode_i64(data, n, o),
        (C::Int64(o), E::Freq) => freq::decode_i64(data, n, o),
        (C::Float(o), E::Plain) => plain::decode_f32(&mut r, n, o),
        (C::Float(o), E::Rle | E::Ts2Diff) => float::decode_f32(encoding, &mut r, n, o),
        (C::Float(o), E::Gorilla) => gorilla::decode_f32(data, n, o).map(|_| ()),
        (C::Float(o), E::Chimp) => chimp::decode_f32(data, n, o),
        (C::Float(o), E::Sprintz) => sprintz::decode_f32(&mut r, n, o),
        (C::Float(o), E::Rlbe) => rlbe::decode_f32(data, n, opts.float_rlbe, o),
        (C::Float(o), E::GorillaV1) => gorilla_v1::decode_f32(data, n, o),
        (C::Float(o), E::Freq) => freq::decode_f32(data, n, o),
        (C::Double(o), E::Plain) => plain::decode_f64(&mut r, n, o),
        (C::Double(o), E::Rle | E::Ts2Diff) => float::decode_f64(encoding, &mut r, n, o),
        (C::Double(o), E::Gorilla) => gorilla::decode_f64(data, n, o).map(|_| ()),
        (C::Double(o), E::Chimp) => chimp::decode_f64(data, n, o),
        (C::Double(o), E::Sprintz) => sprintz::decode_f64(&mut r, n, o),
        (C::Double(o), E::Rlbe) => rlbe::decode_f64(data, n, opts.float_rlbe, o),
        (C::Double(o), E::GorillaV1) => gorilla_v1::decode_f64(data, n, o),
        (C::Double(o), E::Freq) => freq::decode_f64(data, n, o),
        (C::Binary(o), E::Plain) => plain::decode_binary(&mut r, n, o),
        (C::Binary(o), E::Dictionary) => dictionary::decode(&mut r, n, o),
        (c, e) => Err(Corrupt::new(
            0,
            format!(
                "encoding {} for {} is not supported",
                e.name(),
                c.data_type().name()
            ),
        )),
    }
}

/// Decodes a whole time column (INT64) whose value count is only known from the stream.
///
/// At most `limit` values are accepted, so a corrupt stream cannot claim an unbounded count.
pub fn decode_times(
    encoding: TSEncoding,
    data: &[u8],
    limit: usize,
    out: &mut Vec<i64>,
) -> DResult<()> {
    let too_many = |n: usize| {
        Corrupt::new(
            0,
            format!("time column holds more than {limit} values (found {n})"),
        )
    };
    match encoding {
        TSEncoding::Ts2Diff => {
            ts2diff::decode_all_i64(data, limit, out)?;
        }
        TSEncoding::Plain => {
            if data.len() & 7 != 0 {
                return Err(Corrupt::new(
                    data.len() - data.len() % 8,
                    "PLAIN time column is not a whole number of longs",
                ));
            }
            if data.len() / 8 > limit {
                return Err(too_many(data.len() / 8));
            }
            plain::decode_i64(&mut ByteReader::new(data), data.len() / 8, out)?;
        }
        TSEncoding::Rle => {
            let mut r = ByteReader::new(data);
            while !r.is_empty() {
                let start = r.pos();
                let len = r.uvarint_len()?;
                r.skip(len)?;
                let block = &data[start..r.pos()];
                let shift = |e: Corrupt| Corrupt::new(start + e.pos, e.what);
                let n = count_rle_values(block).map_err(shift)?;
                if out.len().saturating_add(n) > limit {
                    return Err(too_many(out.len().saturating_add(n)));
                }
                rle::decode_i64(&mut ByteReader::new(block), n, out).map_err(shift)?;
            }
        }
        TSEncoding::Gorilla => {
            let mut r = crate::bits::BitReader::new(data);
            let mut g = gorilla::GorillaReader::new(gorilla::G64);
            loop {
                let v = g.next(&mut r)?;
                if v == i64::MIN as u64 {
                    break;
                }
                if out.len() >= limit {
                    return Err(too_many(out.len() + 1));
                }
                out.push(v as i64);
            }
        }
        TSEncoding::Zigzag => {
            let mut r = ByteReader::new(data);
            while !r.is_empty() {
                let mut peek = r.clone();
                let _len = peek.uvarint_len()?;
                let count = peek.uvarint_len()?;
                if count == 0 {
                    // would not advance: found by fuzzing (tsfile_page), looped forever
                    return Err(Corrupt::new(r.pos(), "ZIGZAG time block holds no values"));
                }
                if out.len() + count > limit {
                    return Err(too_many(out.len() + count));
                }
                zigzag::decode_i64(&mut r, count, out)?;
            }
        }
        other => {
            return Err(Corrupt::new(
                0,
                format!("time encoding {} is not supported", other.name()),
            ))
        }
    }
    if out.len() > limit {
        return Err(too_many(out.len()));
    }
    Ok(())
}

/// Counts the values one RLE block (with its length prefix) holds.
fn count_rle_values(block_with_len: &[u8]) -> DResult<usize> {
    let mut r = ByteReader::new(block_with_len);
    let len = r.uvarint_len()?;
    let block = r.take(len)?;
    if block.is_empty() {
        return Ok(0);
    }
    let width = block[0] as usize;
    let mut br = ByteReader::new(&block[1..]);
    let mut n: usize = 0;
    while !br.is_empty() {
        let h = br.uvarint()?;
        if h & 1 == 0 {
            br.skip(width.div_ceil(8))?;
            n = n.saturating_add((h >> 1) as usize);
        } else {
            let groups = (h >> 1) as usize;
            let last = br.u8()? as usize;
            if groups == 0 {
                return Err(br.err("bit-packed RLE run with no groups"));
            }
            let skip = (groups * width).min(br.remaining());
            br.skip(skip)?;
            n = n.saturating_add((groups - 1) * 8 + last);
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fuzzing regression (tsfile_page timeout): a ZIGZAG time block claiming zero values
    /// made decode_times loop forever.
    #[test]
    fn zigzag_time_block_without_values_is_an_error_not_a_hang() {
        let mut out = Vec::new();
        assert!(decode_times(TSEncoding::Zigzag, &[0, 0], 100, &mut out).is_err());
        let fuzzed = [
            0x25, 0x00, 0x00, 0x00, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        ];
        let _ = decode_times(TSEncoding::Zigzag, &fuzzed, 100, &mut out);
    }

    #[test]
    fn times_in_every_time_encoding() {
        let t: Vec<i64> = (0..1000)
            .map(|i| 1_600_000_000_000 + i * 7 + (i % 3))
            .collect();
        for e in [
            TSEncoding::Ts2Diff,
            TSEncoding::Plain,
            TSEncoding::Rle,
            TSEncoding::Gorilla,
            TSEncoding::Zigzag,
        ] {
            let mut out = Vec::new();
            encode(e, ValueSlice::Int64(&t), &CodecOptions::default(), &mut out).unwrap();
            let mut got = Vec::new();
            decode_times(e, &out, 1 << 20, &mut got).unwrap();
            assert_eq!(got, t, "{e}");
            let mut small = Vec::new();
            assert!(decode_times(e, &out, 10, &mut small).is_err(), "{e}");
        }
    }

    #[test]
    fn unsupported_is_reported() {
        let mut out = Vec::new();
        let e = encode(
            TSEncoding::Zigzag,
            ValueSlice::Double(&[1.0]),
            &CodecOptions::default(),
            &mut out,
        )
        .unwrap_err();
        assert!(matches!(e, Error::Unsupported(_)));
        assert!(!is_implemented(TSEncoding::Regular, TSDataType::Int64));
    }
}
