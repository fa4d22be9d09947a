//! RLBE (Java `IntRLBE`, `LongRLBE`, `FloatRLBE`, `DoubleRLBE`): delta, bit length,
//! run-length of equal lengths in Fibonacci code, bit-packing.
//!
//! A block (≤ 10,000 values) is: 32 bits value count; then segments, each a length code
//! (6 bits for 32-bit values, 7 bits for 64-bit values), the run length as a Fibonacci code
//! (Zeckendorf bits least significant first, closed by an extra `1`), and the run's values at
//! that many bits each (MSB first). The first value is stored as is, the others as deltas.
//! A value whose length is the full width has its top bit written as `0` (readers put it back).
//! Blocks end on a byte boundary.
//!
//! FLOAT/DOUBLE come in two flavours that share the byte layout but differ in meaning:
//! tsfile ≤ 2.0 (and so every V3 file) stores float-arithmetic differences of the values,
//! which is lossy whenever the subtraction rounds; tsfile ≥ 2.1 stores integer differences of
//! the raw IEEE bits, which is exact. See [`FloatRlbe`].

use crate::bits::{BitReader, BitWriter};
use crate::buf::{Corrupt, DResult};

/// Values per block (Java `BLOCK_DEFAULT_SIZE`).
pub const BLOCK_SIZE: usize = 10_000;

/// How FLOAT/DOUBLE values are turned into integers before RLBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FloatRlbe {
    /// Differences computed in float arithmetic (tsfile ≤ 2.0; IoTDB 1.x; V3 files).
    FloatArithmetic,
    /// Integer differences of raw IEEE bits (tsfile ≥ 2.1; PyPI tsfile 2.x; our V4 default).
    #[default]
    RawBits,
}

/// Binary length of a pattern (1 for zero), as Java's `calBinarylength`.
fn len_of(v: u64) -> u32 {
    if v == 0 {
        1
    } else {
        64 - v.leading_zeros()
    }
}

/// Encodes one stream of raw diff patterns (first value then deltas), `bits` = 32 or 64.
fn encode_patterns(patterns: &[u64], bits: u32, out: &mut Vec<u8>) {
    let code_bits = if bits == 32 { 6 } else { 7 };
    for block in patterns.chunks(BLOCK_SIZE) {
        let mut w = BitWriter::new(out);
        w.write(block.len() as u64, 32);
        let mut i = 0;
        while i < block.len() {
            let l = len_of(block[i]);
            let mut j = i + 1;
            while j < block.len() && len_of(block[j]) == l {
                j += 1;
            }
            w.write(l as u64, code_bits);
            write_fib(&mut w, (j - i) as u64);
            for v in &block[i..j] {
                let mut v = *v;
                if l == bits {
                    // Java's `(x & (1 << top)) > 0` is false for the sign bit.
                    v &= !(1u64 << (bits - 1));
                }
                w.write(v, l);
            }
            i = j;
        }
        w.pad();
    }
}

fn write_fib(w: &mut BitWriter<'_>, mut val: u64) {
    // fib[1] = 1, fib[2] = 2, fib[3] = 3, ... ; bit (i-1) stands for fib[i].
    let mut fib = vec![1u64, 1];
    while *fib.last().unwrap_or(&1) <= val {
        let n = fib.len();
        fib.push(fib[n - 1] + fib[n - 2]);
    }
    let mut code: u64 = 0;
    let mut i = fib.len() - 1;
    while val > 0 {
        while fib[i] > val && i >= 1 {
            i -= 1;
        }
        code |= 1 << (i - 1);
        val -= fib[i];
    }
    let len = 64 - code.leading_zeros();
    for k in 0..len {
        w.bit(code >> k & 1 == 1);
    }
    w.bit(true);
}

/// Decodes patterns until `n` values were produced; `push(pattern, is_first_of_block)`.
fn decode_patterns(
    data: &[u8],
    n: usize,
    bits: u32,
    mut push: impl FnMut(u64, bool),
) -> DResult<()> {
    let code_bits = if bits == 32 { 6 } else { 7 };
    let mut r = BitReader::new(data);
    let mut produced = 0;
    while produced < n {
        r.align();
        let at = r.byte_pos_ceil();
        let count = r.read(32)? as usize;
        if count == 0 {
            return Err(Corrupt::new(at, "RLBE block with no values"));
        }
        let mut in_block = 0usize;
        while in_block < count {
            let seg_at = r.byte_pos_ceil();
            let l = r.read(code_bits)? as u32;
            if l > bits {
                return Err(Corrupt::new(
                    seg_at,
                    format!("RLBE value length {l} exceeds {bits}"),
                ));
            }
            // Fibonacci-coded run length.
            let (mut f1, mut f2) = (1u64, 1u64); // fib[j-1], fib[j] with fib[0] = fib[1] = 1
            let mut run: u64 = 0;
            let mut now = r.bit()?;
            let mut next = r.bit()?;
            loop {
                if now {
                    run = run.saturating_add(f2);
                }
                if now && next {
                    break;
                }
                let f3 = f1.saturating_add(f2);
                f1 = f2;
                f2 = f3;
                now = next;
                next = r.bit()?;
                if run > (count - in_block) as u64 {
                    break;
                }
            }
            if run == 0 || run > (count - in_block) as u64 {
                return Err(Corrupt::new(
                    seg_at,
                    format!("RLBE run of {run} values in a block of {count}"),
                ));
            }
            for _ in 0..run {
                let mut v = r.read(l)?;
                if l == bits {
                    v |= 1u64 << (bits - 1);
                }
                push(v, in_block == 0);
                produced += 1;
                in_block += 1;
                if produced == n {
                    // Nothing more is needed (and zero-width runs would cost time, not data).
                    return Ok(());
                }
            }
        }
    }
    Ok(())
}

/// Encodes INT32 / DATE values.
pub fn encode_i32(values: &[i32], out: &mut Vec<u8>) {
    let mut p = Vec::with_capacity(values.len());
    for block in values.chunks(BLOCK_SIZE) {
        let mut prev = 0i32;
        for (i, v) in block.iter().enumerate() {
            p.push(if i == 0 { *v } else { v.wrapping_sub(prev) } as u32 as u64);
            prev = *v;
        }
    }
    encode_patterns(&p, 32, out);
}

/// Encodes INT64 / TIMESTAMP values.
pub fn encode_i64(values: &[i64], out: &mut Vec<u8>) {
    let mut p = Vec::with_capacity(values.len());
    for block in values.chunks(BLOCK_SIZE) {
        let mut prev = 0i64;
        for (i, v) in block.iter().enumerate() {
            p.push(if i == 0 { *v } else { v.wrapping_sub(prev) } as u64);
            prev = *v;
        }
    }
    encode_patterns(&p, 64, out);
}

/// Encodes FLOAT values in the given flavour.
pub fn encode_f32(values: &[f32], flavor: FloatRlbe, out: &mut Vec<u8>) {
    match flavor {
        FloatRlbe::RawBits => {
            let ints: Vec<i32> = values.iter().map(|v| v.to_bits() as i32).collect();
            encode_i32(&ints, out)
        }
        FloatRlbe::FloatArithmetic => {
            let mut p = Vec::with_capacity(values.len());
            for block in values.chunks(BLOCK_SIZE) {
                let mut prev = 0f32;
                for (i, v) in block.iter().enumerate() {
                    let d = if i == 0 { *v } else { *v - prev };
                    p.push(d.to_bits() as u64);
                    prev = *v;
                }
            }
            encode_patterns(&p, 32, out)
        }
    }
}

/// Encodes DOUBLE values in the given flavour.
pub fn encode_f64(values: &[f64], flavor: FloatRlbe, out: &mut Vec<u8>) {
    match flavor {
        FloatRlbe::RawBits => {
            let longs: Vec<i64> = values.iter().map(|v| v.to_bits() as i64).collect();
            encode_i64(&longs, out)
        }
        FloatRlbe::FloatArithmetic => {
            let mut p = Vec::with_capacity(values.len());
            for block in values.chunks(BLOCK_SIZE) {
                let mut prev = 0f64;
                for (i, v) in block.iter().enumerate() {
                    let d = if i == 0 { *v } else { *v - prev };
                    p.push(d.to_bits());
                    prev = *v;
                }
            }
            encode_patterns(&p, 64, out)
        }
    }
}

/// Decodes `n` INT32 values.
pub fn decode_i32(data: &[u8], n: usize, out: &mut Vec<i32>) -> DResult<()> {
    out.reserve(n);
    let mut prev = 0i32;
    decode_patterns(data, n, 32, |p, first| {
        let v = p as u32 as i32;
        prev = if first { v } else { prev.wrapping_add(v) };
        out.push(prev);
    })
}

/// Decodes `n` INT64 values.
pub fn decode_i64(data: &[u8], n: usize, out: &mut Vec<i64>) -> DResult<()> {
    out.reserve(n);
    let mut prev = 0i64;
    decode_patterns(data, n, 64, |p, first| {
        let v = p as i64;
        prev = if first { v } else { prev.wrapping_add(v) };
        out.push(prev);
    })
}

/// Decodes `n` FLOAT values in the given flavour.
pub fn decode_f32(data: &[u8], n: usize, flavor: FloatRlbe, out: &mut Vec<f32>) -> DResult<()> {
    out.reserve(n);
    match flavor {
        FloatRlbe::RawBits => {
            let mut prev = 0i32;
            decode_patterns(data, n, 32, |p, first| {
                let v = p as u32 as i32;
                prev = if first { v } else { prev.wrapping_add(v) };
                out.push(f32::from_bits(prev as u32));
            })
        }
        FloatRlbe::FloatArithmetic => {
            let mut prev = 0f32;
            decode_patterns(data, n, 32, |p, first| {
                let v = f32::from_bits(p as u32);
                prev = if first { v } else { prev + v };
                out.push(prev);
            })
        }
    }
}

/// Decodes `n` DOUBLE values in the given flavour.
pub fn decode_f64(data: &[u8], n: usize, flavor: FloatRlbe, out: &mut Vec<f64>) -> DResult<()> {
    out.reserve(n);
    match flavor {
        FloatRlbe::RawBits => {
            let mut prev = 0i64;
            decode_patterns(data, n, 64, |p, first| {
                let v = p as i64;
                prev = if first { v } else { prev.wrapping_add(v) };
                out.push(f64::from_bits(prev as u64));
            })
        }
        FloatRlbe::FloatArithmetic => {
            let mut prev = 0f64;
            decode_patterns(data, n, 64, |p, first| {
                let v = f64::from_bits(p);
                prev = if first { v } else { prev + v };
                out.push(prev);
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn java_float_bytes() {
        // tsfile 1.1.3 / 2.0.1 FloatRLBE of [1.5, 2.25, -3.0] and tsfile ≥ 2.1 of the same.
        let v = [1.5f32, 2.25, -3.0];
        let mut old = Vec::new();
        encode_f32(&v, FloatRlbe::FloatArithmetic, &mut old);
        assert_eq!(hex(&old), "0000000379ff800001fa0000041a05400000");
        let mut new = Vec::new();
        encode_f32(&v, FloatRlbe::RawBits, &mut new);
        assert_eq!(hex(&new), "000000037bff0000017e8000041801800000");
        for (bytes, fl) in [
            (&old, FloatRlbe::FloatArithmetic),
            (&new, FloatRlbe::RawBits),
        ] {
            let mut got = Vec::new();
            decode_f32(bytes, 3, fl, &mut got).unwrap();
            assert_eq!(got, v);
        }
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    proptest! {
        #[test]
        fn i32_round_trip(v in proptest::collection::vec(prop_oneof![any::<i32>(), -9i32..9], 0..300)) {
            let mut out = Vec::new();
            encode_i32(&v, &mut out);
            let mut got = Vec::new();
            decode_i32(&out, v.len(), &mut got).unwrap();
            prop_assert_eq!(got, v);
        }

        #[test]
        fn i64_round_trip(v in proptest::collection::vec(prop_oneof![any::<i64>(), -9i64..9], 0..300)) {
            let mut out = Vec::new();
            encode_i64(&v, &mut out);
            let mut got = Vec::new();
            decode_i64(&out, v.len(), &mut got).unwrap();
            prop_assert_eq!(got, v);
        }

        #[test]
        fn raw_bits_floats_exact(v in proptest::collection::vec(any::<u64>(), 0..300)) {
            let d: Vec<f64> = v.iter().map(|b| f64::from_bits(*b)).collect();
            let mut out = Vec::new();
            encode_f64(&d, FloatRlbe::RawBits, &mut out);
            let mut got = Vec::new();
            decode_f64(&out, d.len(), FloatRlbe::RawBits, &mut got).unwrap();
            prop_assert_eq!(got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), v);
        }

        #[test]
        fn float_arithmetic_matches_java_semantics(v in proptest::collection::vec(-1.0e6f32..1.0e6, 0..300)) {
            // The old flavour reconstructs prev + (v - prev) in float arithmetic.
            let mut out = Vec::new();
            encode_f32(&v, FloatRlbe::FloatArithmetic, &mut out);
            let mut got = Vec::new();
            decode_f32(&out, v.len(), FloatRlbe::FloatArithmetic, &mut got).unwrap();
            let mut expect = Vec::new();
            let mut prev = 0f32;
            for (i, x) in v.iter().enumerate() {
                prev = if i == 0 { *x } else { prev + (*x - v[i - 1]) };
                expect.push(prev);
            }
            prop_assert_eq!(got, expect);
        }

        #[test]
        fn float_arithmetic_exact_on_a_grid(v in proptest::collection::vec(-100_000i32..100_000, 0..300)) {
            let d: Vec<f64> = v.iter().map(|x| *x as f64 / 4.0).collect();
            let mut out = Vec::new();
            encode_f64(&d, FloatRlbe::FloatArithmetic, &mut out);
            let mut got = Vec::new();
            decode_f64(&out, d.len(), FloatRlbe::FloatArithmetic, &mut got).unwrap();
            prop_assert_eq!(got, d);
        }
    }
}
