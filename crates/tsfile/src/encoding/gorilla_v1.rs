//! GORILLA_V1 (IoTDB ≤ 1.x, FLOAT and DOUBLE only): the first XOR scheme of TsFile, still
//! written by IoTDB 1.x for series created with `ENCODING=GORILLA_V1`.
//!
//! Layout of one page: the first value's raw IEEE bits as 4 or 8 **little-endian** bytes, then a
//! bit stream (most significant bit first) with one entry per following value:
//!
//! - `0`: same bits as the previous value;
//! - `10` + bits: the XOR with the previous value fits inside the window given by the leading
//!   and trailing zeros *of the previous value itself* (not of the previous XOR, as in
//!   GORILLA); the bits between those zeros follow;
//! - `11` + leading zeros of the XOR (5 bits for FLOAT, 6 for DOUBLE) + count of meaningful
//!   bits (6 / 7 bits) + the meaningful bits.
//!
//! The page ends with an entry for a NaN (`0x7fc00000` / `0x7ff8000000000000`), Java readers
//! stop there, and the last byte is zero padded. NaN values are canonicalised as Java's
//! `floatToIntBits`/`doubleToLongBits` do. Readers here decode a known count of values.

use crate::bits::{BitReader, BitWriter};
use crate::buf::{Corrupt, DResult};

/// Bit geometry of one value width.
#[derive(Clone, Copy)]
struct Geometry {
    bits: u32,
    lead_bits: u32,
    len_bits: u32,
    nan: u64,
}

const G32: Geometry = Geometry {
    bits: 32,
    lead_bits: 5,
    len_bits: 6,
    nan: 0x7fc0_0000,
};
const G64: Geometry = Geometry {
    bits: 64,
    lead_bits: 6,
    len_bits: 7,
    nan: 0x7ff8_0000_0000_0000,
};

/// Leading and trailing zeros of a `g.bits`-wide pattern (both `g.bits` for zero).
fn zeros(g: Geometry, v: u64) -> (u32, u32) {
    if v == 0 {
        (g.bits, g.bits)
    } else {
        (v.leading_zeros() - (64 - g.bits), v.trailing_zeros())
    }
}

fn encode_bits(g: Geometry, values: impl Iterator<Item = u64>, out: &mut Vec<u8>) {
    let mut values = values.peekable();
    let Some(first) = values.next() else {
        return;
    };
    out.extend_from_slice(&first.to_le_bytes()[..(g.bits / 8) as usize]);
    let mut prev = first;
    let mut w = BitWriter::new(out);
    for v in values.chain(std::iter::once(g.nan)) {
        let x = v ^ prev;
        if x == 0 {
            w.bit(false);
        } else {
            let (lead, trail) = zeros(g, prev);
            let (xl, xt) = zeros(g, x);
            if xl >= lead && xt >= trail {
                w.write(0b10, 2);
                w.write(x >> trail, g.bits - lead - trail);
            } else {
                let len = g.bits - xl - xt;
                w.write(0b11, 2);
                w.write(xl as u64, g.lead_bits);
                w.write(len as u64, g.len_bits);
                w.write(x >> xt, len);
            }
        }
        prev = v;
    }
    w.pad();
}

fn decode_bits(g: Geometry, data: &[u8], n: usize, mut push: impl FnMut(u64)) -> DResult<()> {
    if n == 0 {
        return Ok(());
    }
    let head = (g.bits / 8) as usize;
    if data.len() < head {
        return Err(Corrupt::new(
            0,
            "GORILLA_V1 page shorter than its first value",
        ));
    }
    let mut raw = [0u8; 8];
    raw[..head].copy_from_slice(&data[..head]);
    let mut prev = u64::from_le_bytes(raw);
    push(prev);
    let mut r = BitReader::at_byte(data, head);
    for _ in 1..n {
        if !r.bit()? {
            push(prev);
            continue;
        }
        let x = if !r.bit()? {
            let (lead, trail) = zeros(g, prev);
            let count = g.bits.saturating_sub(lead + trail);
            r.read(count)? << trail
        } else {
            let lead = r.read(g.lead_bits)? as u32;
            let len = r.read(g.len_bits)? as u32;
            if lead + len > g.bits {
                return Err(Corrupt::new(
                    r.byte_pos_ceil(),
                    format!(
                        "GORILLA_V1 entry with {lead} leading zeros and {len} meaningful bits \
                         exceeds {} bits",
                        g.bits
                    ),
                ));
            }
            let v = r.read(len)?;
            if len == 0 {
                0
            } else {
                v << (g.bits - lead - len)
            }
        };
        prev ^= x;
        push(prev);
    }
    Ok(())
}

fn canonical_f32(v: f32) -> u64 {
    if v.is_nan() {
        G32.nan
    } else {
        v.to_bits() as u64
    }
}

fn canonical_f64(v: f64) -> u64 {
    if v.is_nan() {
        G64.nan
    } else {
        v.to_bits()
    }
}

/// Appends the GORILLA_V1 encoding of a page of FLOAT values.
pub fn encode_f32(values: &[f32], out: &mut Vec<u8>) {
    encode_bits(G32, values.iter().map(|v| canonical_f32(*v)), out);
}

/// Appends the GORILLA_V1 encoding of a page of DOUBLE values.
pub fn encode_f64(values: &[f64], out: &mut Vec<u8>) {
    encode_bits(G64, values.iter().map(|v| canonical_f64(*v)), out);
}

/// Reads `n` FLOAT values.
pub fn decode_f32(data: &[u8], n: usize, out: &mut Vec<f32>) -> DResult<()> {
    out.reserve(n.min(data.len() * 8));
    decode_bits(G32, data, n, |b| out.push(f32::from_bits(b as u32)))
}

/// Reads `n` DOUBLE values.
pub fn decode_f64(data: &[u8], n: usize, out: &mut Vec<f64>) -> DResult<()> {
    out.reserve(n.min(data.len() * 8));
    decode_bits(G64, data, n, |b| out.push(f64::from_bits(b)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_bytes() {
        // 1.0f64 = 0x3ff0000000000000: 8 LE bytes, then `0` (same value), then the NaN sentinel:
        // XOR 0x4008000000000000 has 1 leading / 51 trailing zeros, outside 1.0's window
        // (2 leading, 52 trailing) -> `11` + 000001 + 0001100 (12 bits) + 100000000001, padded.
        let mut out = Vec::new();
        encode_f64(&[1.0, 1.0], &mut out);
        assert_eq!(&out[..8], &0x3ff0_0000_0000_0000u64.to_le_bytes());
        assert_eq!(&out[8..], &[0x60, 0x8C, 0x80, 0x10]);
        let mut back = Vec::new();
        decode_f64(&out, 2, &mut back).unwrap();
        assert_eq!(back, vec![1.0, 1.0]);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        let mut out = Vec::new();
        encode_f32(&[1.5, 2.5, -7.25], &mut out);
        for cut in 0..out.len() {
            let mut back = Vec::new();
            // asking for more values than the stream holds must fail, not panic
            let _ = decode_f32(&out[..cut], 3, &mut back);
        }
        let mut back = Vec::new();
        assert!(decode_f32(&[0, 0, 0, 0, 0xFF, 0xFF], 3, &mut back).is_err());
    }

    proptest! {
        #[test]
        fn f64_round_trip(v in proptest::collection::vec(any::<f64>(), 0..300)) {
            let mut out = Vec::new();
            encode_f64(&v, &mut out);
            let mut back = Vec::new();
            decode_f64(&out, v.len(), &mut back).unwrap();
            let want: Vec<u64> = v.iter().map(|x| canonical_f64(*x)).collect();
            let got: Vec<u64> = back.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn f32_round_trip(v in proptest::collection::vec(any::<f32>(), 0..300)) {
            let mut out = Vec::new();
            encode_f32(&v, &mut out);
            let mut back = Vec::new();
            decode_f32(&out, v.len(), &mut back).unwrap();
            let want: Vec<u64> = v.iter().map(|x| canonical_f32(*x)).collect();
            let got: Vec<u64> = back.iter().map(|x| x.to_bits() as u64).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn smooth_f64_round_trip(start in -1e6f64..1e6, steps in proptest::collection::vec(-3i32..4, 0..300)) {
            let mut x = start;
            let v: Vec<f64> = steps.iter().map(|s| { x += *s as f64 * 0.25; x }).collect();
            let mut out = Vec::new();
            encode_f64(&v, &mut out);
            let mut back = Vec::new();
            decode_f64(&out, v.len(), &mut back).unwrap();
            prop_assert_eq!(back, v);
        }
    }
}
