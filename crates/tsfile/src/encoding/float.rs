//! RLE and TS_2DIFF on FLOAT/DOUBLE (Java `FloatEncoder` / `FloatDecoder`): IoTDB's lossy
//! fixed-point handling.
//!
//! Each value is scaled by 10^p (`p` = `max_point_number`, IoTDB's `float_precision`, default 2),
//! rounded to an integer and encoded with the 32-bit (FLOAT) or 64-bit (DOUBLE) integer
//! encoder. The stream starts with `uvarint p`. Values that do not fit after scaling (or NaN)
//! are stored through a page-level escape that tsfile ≥ 1.1 readers understand: the stream then
//! starts with `uvarint 0x7FFFFFFE`, `uvarint valueCount`, a bitmap of scaled values and a
//! bitmap of raw-bit values (each `valueCount/8 + 1` bytes, LSB first), then `uvarint p` and
//! the integer data. (`0x7FFFFFFF` is the same without the raw-bit bitmap; a value neither
//! scaled nor raw was stored as a plain rounded integer.) Precision: a scaled value reads back
//! within `0.5 × 10^-p` of what was written; raw-bit values read back exactly.

use super::{rle, ts2diff};
use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};
use model::TSEncoding;

const ESCAPE_WITH_RAW: u32 = i32::MAX as u32 - 1;
const ESCAPE: u32 = i32::MAX as u32;

fn scale(p: i32) -> f64 {
    if p <= 0 {
        1.0
    } else {
        10f64.powi(p)
    }
}

/// Java `Math.round(double)`: floor(x + 0.5), saturating.
fn java_round(x: f64) -> i64 {
    let r = (x + 0.5).floor();
    if r.is_nan() {
        0
    } else {
        r as i64
    }
}

fn write_header(out: &mut Vec<u8>, p: i32, raw: &[bool]) {
    if raw.iter().any(|r| *r) {
        let n = raw.len();
        out.put_uvarint(ESCAPE_WITH_RAW);
        out.put_uvarint(n as u32);
        let mut scaled = vec![0u8; n / 8 + 1];
        let mut rawbits = vec![0u8; n / 8 + 1];
        for (i, r) in raw.iter().enumerate() {
            if *r {
                rawbits[i / 8] |= 1 << (i % 8);
            } else {
                scaled[i / 8] |= 1 << (i % 8);
            }
        }
        out.extend_from_slice(&scaled);
        out.extend_from_slice(&rawbits);
    }
    out.put_uvarint(p.max(0) as u32);
}

fn encode_ints(encoding: TSEncoding, ints: &[i32], out: &mut Vec<u8>) {
    if encoding == TSEncoding::Rle {
        rle::encode_i32(ints, out)
    } else {
        ts2diff::encode_i32(ints, out)
    }
}

fn encode_longs(encoding: TSEncoding, longs: &[i64], out: &mut Vec<u8>) {
    if encoding == TSEncoding::Rle {
        rle::encode_i64(longs, out)
    } else {
        ts2diff::encode_i64(longs, out)
    }
}

/// Encodes FLOAT values with RLE or TS_2DIFF at precision `p`.
pub fn encode_f32(encoding: TSEncoding, p: i32, values: &[f32], out: &mut Vec<u8>) {
    let m = scale(p);
    let mut raw = Vec::with_capacity(values.len());
    let mut ints = Vec::with_capacity(values.len());
    for v in values {
        let scaled = *v as f64 * m;
        let r = java_round(scaled);
        if v.is_finite() && (i32::MIN as i64..=i32::MAX as i64).contains(&r) {
            raw.push(false);
            ints.push(r as i32);
        } else {
            raw.push(true);
            ints.push(v.to_bits() as i32);
        }
    }
    write_header(out, p, &raw);
    encode_ints(encoding, &ints, out);
}

/// Encodes DOUBLE values with RLE or TS_2DIFF at precision `p`.
pub fn encode_f64(encoding: TSEncoding, p: i32, values: &[f64], out: &mut Vec<u8>) {
    let m = scale(p);
    let mut raw = Vec::with_capacity(values.len());
    let mut longs = Vec::with_capacity(values.len());
    for v in values {
        let scaled = v * m;
        // Stay well inside i64 so the rounding is exact and never saturates.
        if v.is_finite() && scaled.abs() < 4.0e18 {
            raw.push(false);
            longs.push(java_round(scaled));
        } else {
            raw.push(true);
            longs.push(v.to_bits() as i64);
        }
    }
    write_header(out, p, &raw);
    encode_longs(encoding, &longs, out);
}

/// Per-value scaling read from a stream header.
struct Header {
    m: f64,
    scaled: Option<Vec<u8>>,
    raw: Option<Vec<u8>>,
    count: usize,
}

impl Header {
    fn read(r: &mut ByteReader<'_>) -> DResult<Header> {
        let at = r.pos();
        let first = r.uvarint()?;
        let (scaled, raw, count, p) = if first == ESCAPE || first == ESCAPE_WITH_RAW {
            let count = r.uvarint_len()?;
            let bytes = count / 8 + 1;
            if bytes > r.remaining() {
                return Err(Corrupt::new(at, "float escape bitmap exceeds the data"));
            }
            let scaled = r.take(bytes)?.to_vec();
            let raw = if first == ESCAPE_WITH_RAW {
                Some(r.take(bytes)?.to_vec())
            } else {
                None
            };
            (Some(scaled), raw, count, r.uvarint()?)
        } else {
            (None, None, usize::MAX, first)
        };
        let p = p.min(i32::MAX as u32) as i32;
        Ok(Header {
            m: scale(p),
            scaled,
            raw,
            count,
        })
    }

    /// 0 = scaled, 1 = plain integer, 2 = raw bits.
    fn kind(&self, i: usize, at: usize) -> DResult<u8> {
        if self.scaled.is_none() {
            return Ok(0);
        }
        if i >= self.count {
            return Err(Corrupt::new(
                at,
                "more values than the float escape bitmap covers",
            ));
        }
        let bit = |b: &Option<Vec<u8>>| b.as_ref().is_some_and(|b| b[i / 8] & (1 << (i % 8)) != 0);
        Ok(if bit(&self.raw) {
            2
        } else if bit(&self.scaled) {
            0
        } else {
            1
        })
    }
}

/// Decodes `n` FLOAT values.
pub fn decode_f32(
    encoding: TSEncoding,
    r: &mut ByteReader<'_>,
    n: usize,
    out: &mut Vec<f32>,
) -> DResult<()> {
    let at = r.pos();
    let h = Header::read(r)?;
    let mut ints = Vec::new();
    if encoding == TSEncoding::Rle {
        rle::decode_i32(r, n, &mut ints)?;
    } else {
        ts2diff::decode_i32(r, n, &mut ints)?;
    }
    out.reserve(n);
    for (i, v) in ints.into_iter().enumerate() {
        out.push(match h.kind(i, at)? {
            0 => (v as f64 / h.m) as f32,
            1 => v as f32,
            _ => f32::from_bits(v as u32),
        });
    }
    Ok(())
}

/// Decodes `n` DOUBLE values.
pub fn decode_f64(
    encoding: TSEncoding,
    r: &mut ByteReader<'_>,
    n: usize,
    out: &mut Vec<f64>,
) -> DResult<()> {
    let at = r.pos();
    let h = Header::read(r)?;
    let mut longs = Vec::new();
    if encoding == TSEncoding::Rle {
        rle::decode_i64(r, n, &mut longs)?;
    } else {
        ts2diff::decode_i64(r, n, &mut longs)?;
    }
    out.reserve(n);
    for (i, v) in longs.into_iter().enumerate() {
        out.push(match h.kind(i, at)? {
            0 => v as f64 / h.m,
            1 => v as f64,
            _ => f64::from_bits(v as u64),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn within(a: f64, b: f64, p: i32) -> bool {
        if a.is_nan() || b.is_nan() {
            return a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
        }
        if a.is_infinite() || b.is_infinite() {
            return a == b;
        }
        (a - b).abs() <= 0.5 * 10f64.powi(-p) * (1.0 + 1e-9) + a.abs() * 1e-15
    }

    #[test]
    fn java_bytes_with_overflow_escape() {
        // tsfile 1.1.3 FloatEncoder(TS_2DIFF, FLOAT, 2) of [1.5, 3e9, NaN, 1e8] starts with
        // fe ff ff ff 07 | 04 | 01 | 06 | 02 (escape, 4 values, scaled bitmap, raw bitmap, p);
        // Java keeps 1e8 as a rounded integer (neither bit set), we keep its raw bits (exact).
        let v = [1.5f32, 3e9, f32::NAN, 1e8];
        let mut out = Vec::new();
        encode_f32(TSEncoding::Ts2Diff, 2, &v, &mut out);
        assert_eq!(&out[..5], &[0xfe, 0xff, 0xff, 0xff, 0x07]);
        assert_eq!(out[5], 4);
        assert_eq!(out[6], 0b0000_0001);
        assert_eq!(out[7], 0b0000_1110);
        assert_eq!(out[8], 2);
        let mut got = Vec::new();
        decode_f32(TSEncoding::Ts2Diff, &mut ByteReader::new(&out), 4, &mut got).unwrap();
        assert_eq!(got[0], 1.5);
        assert_eq!(got[1], 3e9);
        assert!(got[2].is_nan());
        assert_eq!(got[3], 1e8);
    }

    proptest! {
        #[test]
        fn f64_within_precision(v in proptest::collection::vec(prop_oneof![
            -1.0e6f64..1.0e6, any::<u64>().prop_map(f64::from_bits)], 0..300),
            p in 0i32..6, rle_enc in any::<bool>()) {
            let enc = if rle_enc { TSEncoding::Rle } else { TSEncoding::Ts2Diff };
            let mut out = Vec::new();
            encode_f64(enc, p, &v, &mut out);
            let mut got = Vec::new();
            decode_f64(enc, &mut ByteReader::new(&out), v.len(), &mut got).unwrap();
            for (a, b) in v.iter().zip(&got) {
                prop_assert!(within(*a, *b, p), "{} vs {} at p={}", a, b, p);
            }
        }

        #[test]
        fn f32_within_precision(v in proptest::collection::vec(prop_oneof![
            -1.0e4f32..1.0e4, any::<u32>().prop_map(f32::from_bits)], 0..300),
            p in 0i32..4, rle_enc in any::<bool>()) {
            let enc = if rle_enc { TSEncoding::Rle } else { TSEncoding::Ts2Diff };
            let mut out = Vec::new();
            encode_f32(enc, p, &v, &mut out);
            let mut got = Vec::new();
            decode_f32(enc, &mut ByteReader::new(&out), v.len(), &mut got).unwrap();
            for (a, b) in v.iter().zip(&got) {
                let tol = 0.5 * 10f64.powi(-p) + (a.abs() as f64) * 2f64.powi(-22);
                let tol_ok = within(*a as f64, *b as f64, p) || (*a as f64 - *b as f64).abs() <= tol;
                prop_assert!(tol_ok, "{} vs {} at p={}", a, b, p);
            }
        }
    }
}
