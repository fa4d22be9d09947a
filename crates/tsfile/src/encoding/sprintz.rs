//! SPRINTZ (Java `*SprintzEncoder` with the default `fire` predictor).
//!
//! Values go in blocks of 9: a byte `bitWidth`, the first value (INT32: unsigned varint of its
//! bits; INT64: 8 bytes; FLOAT/DOUBLE: raw IEEE bits, 4/8 bytes), then 8 prediction errors,
//! zig-zag mapped and bit-packed at `bitWidth` bits (MSB first, `bitWidth` bytes). The FIRE
//! predictor (learning rate 2 / 3, shift 8 / 16) is reset per block. A trailing group of fewer
//! than 9 values is written as a byte `0x80 | count` followed by an RLE block (integers) or a
//! GORILLA stream (floats) of the raw values.
//!
//! Java's zig-zag mapping overflows when a prediction error exceeds 2^30 (2^62), which would
//! make those values unreadable; this encoder checks each block by decoding it and writes such
//! a block in the `0x80 | count` form instead, which every reader accepts at any position.

use super::{gorilla, rle};
use crate::bits::{BitReader, BitWriter};
use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};

const BLOCK: usize = 8;

#[derive(Default)]
struct IntFire {
    acc: i32,
    delta: i32,
}

impl IntFire {
    fn predict(&self, v: i32) -> i32 {
        let alpha = self.acc >> 2;
        v.wrapping_add(alpha.wrapping_mul(self.delta) >> 8)
    }
    fn train(&mut self, pre: i32, val: i32, err: i32) {
        let gradient = if err > 0 {
            self.delta.wrapping_neg()
        } else {
            self.delta
        };
        self.acc = self.acc.wrapping_sub(gradient);
        self.delta = val.wrapping_sub(pre);
    }
}

/// FIRE for 64-bit values. `wide` selects the C++ reading of `alpha * delta` (a 128-bit
/// product) instead of Java's wrapping 64-bit product; the two differ only on overflow.
#[derive(Default)]
struct LongFire {
    acc: i32,
    delta: i64,
    wide: bool,
}

impl LongFire {
    fn new(wide: bool) -> Self {
        LongFire {
            acc: 0,
            delta: 0,
            wide,
        }
    }

    fn predict(&self, v: i64) -> i64 {
        let alpha = (self.acc >> 3) as i64;
        let diff = if self.wide {
            ((alpha as i128 * self.delta as i128) >> 16) as i64
        } else {
            alpha.wrapping_mul(self.delta) >> 16
        };
        v.wrapping_add(diff)
    }
    fn train(&mut self, pre: i64, val: i64, err: i64) {
        let gradient = if err > 0 {
            self.delta.wrapping_neg()
        } else {
            self.delta
        };
        self.acc = (self.acc as i64).wrapping_sub(gradient) as i32;
        self.delta = val.wrapping_sub(pre);
    }
}

fn map32(err: i32) -> u32 {
    if err <= 0 {
        err.wrapping_mul(-2) as u32
    } else {
        err.wrapping_mul(2).wrapping_sub(1) as u32
    }
}

fn unmap32(x: i32) -> i32 {
    if x % 2 == 0 {
        x.wrapping_neg() / 2
    } else {
        x.wrapping_add(1) / 2
    }
}

fn map64(err: i64) -> u64 {
    if err <= 0 {
        err.wrapping_mul(-2) as u64
    } else {
        err.wrapping_mul(2).wrapping_sub(1) as u64
    }
}

fn unmap64(x: i64) -> i64 {
    if x % 2 == 0 {
        x.wrapping_neg() / 2
    } else {
        x.wrapping_add(1) / 2
    }
}

fn canon32(v: f32) -> i32 {
    if v.is_nan() {
        0x7fc0_0000
    } else {
        v.to_bits() as i32
    }
}

fn canon64(v: f64) -> i64 {
    if v.is_nan() {
        0x7ff8_0000_0000_0000
    } else {
        v.to_bits() as i64
    }
}

fn pack(out: &mut Vec<u8>, vals: &[u64; BLOCK], width: u32) {
    let mut w = BitWriter::new(out);
    for v in vals {
        w.write(*v, width);
    }
    w.pad();
}

fn unpack(r: &mut ByteReader<'_>, width: u32) -> DResult<[u64; BLOCK]> {
    let bytes = r.take(width as usize)?;
    let mut br = BitReader::new(bytes);
    let mut out = [0u64; BLOCK];
    for o in out.iter_mut() {
        *o = br.read(width)?;
    }
    Ok(out)
}

// ---- per-type block codecs -------------------------------------------------------------

fn int_block(v: &[i32], out: &mut Vec<u8>) {
    let mut fire = IntFire::default();
    let mut errs = [0u64; BLOCK];
    for i in 1..=BLOCK {
        let pred = fire.predict(v[i - 1]);
        let err = v[i].wrapping_sub(pred);
        fire.train(v[i - 1], v[i], err);
        errs[i - 1] = map32(err) as u64;
    }
    let width = errs
        .iter()
        .map(|e| 32 - (*e as u32).leading_zeros())
        .max()
        .unwrap_or(1)
        .max(1);
    out.push(width as u8);
    out.put_uvarint(v[0] as u32);
    pack(out, &errs, width);
}

fn int_read_block(r: &mut ByteReader<'_>, width: u32, _wide: bool) -> DResult<[i32; BLOCK + 1]> {
    if width > 32 {
        return Err(r.err(format!("SPRINTZ bit width {width} exceeds 32")));
    }
    let mut buf = [0i32; BLOCK + 1];
    buf[0] = r.uvarint()? as i32;
    let errs = unpack(r, width)?;
    let mut fire = IntFire::default();
    for i in 1..=BLOCK {
        let err = unmap32(errs[i - 1] as u32 as i32);
        let pred = fire.predict(buf[i - 1]);
        buf[i] = pred.wrapping_add(err);
        fire.train(buf[i - 1], buf[i], err);
    }
    Ok(buf)
}

fn long_block(v: &[i64], out: &mut Vec<u8>) {
    let mut fire = LongFire::default();
    let mut errs = [0u64; BLOCK];
    for i in 1..=BLOCK {
        let pred = fire.predict(v[i - 1]);
        let err = v[i].wrapping_sub(pred);
        fire.train(v[i - 1], v[i], err);
        errs[i - 1] = map64(err);
    }
    let width = errs
        .iter()
        .map(|e| 64 - e.leading_zeros())
        .max()
        .unwrap_or(1)
        .max(1);
    out.push(width as u8);
    out.put_i64(v[0]);
    pack(out, &errs, width);
}

fn long_read_block(r: &mut ByteReader<'_>, width: u32, wide: bool) -> DResult<[i64; BLOCK + 1]> {
    if width > 64 {
        return Err(r.err(format!("SPRINTZ bit width {width} exceeds 64")));
    }
    let mut buf = [0i64; BLOCK + 1];
    buf[0] = r.i64()?;
    let errs = unpack(r, width)?;
    let mut fire = LongFire::new(wide);
    for i in 1..=BLOCK {
        let err = unmap64(errs[i - 1] as i64);
        let pred = fire.predict(buf[i - 1]);
        buf[i] = pred.wrapping_add(err);
        fire.train(buf[i - 1], buf[i], err);
    }
    Ok(buf)
}

fn float_block(v: &[f32], out: &mut Vec<u8>) {
    let mut fire = IntFire::default();
    let mut errs = [0u64; BLOCK];
    for i in 1..=BLOCK {
        let prev = canon32(v[i - 1]);
        let val = canon32(v[i]);
        let pred = fire.predict(prev);
        let err = val.wrapping_sub(pred);
        fire.train(prev, val, err);
        errs[i - 1] = map32(err) as u64;
    }
    let width = errs
        .iter()
        .map(|e| 32 - (*e as u32).leading_zeros())
        .max()
        .unwrap_or(1)
        .max(1);
    out.push(width as u8);
    out.put_f32(v[0]);
    pack(out, &errs, width);
}

fn float_read_block(r: &mut ByteReader<'_>, width: u32, _wide: bool) -> DResult<[f32; BLOCK + 1]> {
    if width > 32 {
        return Err(r.err(format!("SPRINTZ bit width {width} exceeds 32")));
    }
    let mut out = [0f32; BLOCK + 1];
    out[0] = r.f32()?;
    let errs = unpack(r, width)?;
    let mut fire = IntFire::default();
    let mut prev = canon32(out[0]);
    for i in 1..=BLOCK {
        let err = unmap32(errs[i - 1] as u32 as i32);
        let cur = fire.predict(prev).wrapping_add(err);
        out[i] = f32::from_bits(cur as u32);
        fire.train(prev, cur, err);
        prev = cur;
    }
    Ok(out)
}

fn double_block(v: &[f64], out: &mut Vec<u8>) {
    let mut fire = LongFire::default();
    let mut errs = [0u64; BLOCK];
    for i in 1..=BLOCK {
        let prev = canon64(v[i - 1]);
        let val = canon64(v[i]);
        let pred = fire.predict(prev);
        let err = val.wrapping_sub(pred);
        fire.train(prev, val, err);
        errs[i - 1] = map64(err);
    }
    let width = errs
        .iter()
        .map(|e| 64 - e.leading_zeros())
        .max()
        .unwrap_or(1)
        .max(1);
    out.push(width as u8);
    out.put_f64(v[0]);
    pack(out, &errs, width);
}

fn double_read_block(r: &mut ByteReader<'_>, width: u32, wide: bool) -> DResult<[f64; BLOCK + 1]> {
    if width > 64 {
        return Err(r.err(format!("SPRINTZ bit width {width} exceeds 64")));
    }
    let mut out = [0f64; BLOCK + 1];
    out[0] = r.f64()?;
    let errs = unpack(r, width)?;
    let mut fire = LongFire::new(wide);
    let mut prev = canon64(out[0]);
    for i in 1..=BLOCK {
        let err = unmap64(errs[i - 1] as i64);
        let cur = fire.predict(prev).wrapping_add(err);
        out[i] = f64::from_bits(cur as u64);
        fire.train(prev, cur, err);
        prev = cur;
    }
    Ok(out)
}

// ---- streams -----------------------------------------------------------------------------

macro_rules! sprintz_codec {
    ($enc:ident, $dec:ident, $prefix:ident, $ok:ident, $t:ty, $block:ident, $read_block:ident, $tail_enc:expr, $tail_dec:expr, $same:expr) => {
        /// Encodes values as SPRINTZ blocks; `cpp`: blocks must also read back exactly
        /// under the C++ reader's arithmetic.
        pub fn $enc(values: &[$t], cpp: bool, out: &mut Vec<u8>) {
            let mut i = 0;
            let mut scratch = Vec::new();
            while i + BLOCK < values.len() {
                let chunk = &values[i..i + BLOCK + 1];
                scratch.clear();
                $block(chunk, &mut scratch);
                if $ok(&scratch, chunk, cpp) {
                    out.extend_from_slice(&scratch);
                } else {
                    out.push(0x80 | chunk.len() as u8);
                    $tail_enc(chunk, out);
                }
                i += BLOCK + 1;
            }
            if i < values.len() {
                let rest = &values[i..];
                out.push(0x80 | rest.len() as u8);
                $tail_enc(rest, out);
            }
        }

        /// True if a packed block reads back exactly under Java's FIRE (and C++'s if `cpp`).
        fn $ok(bytes: &[u8], chunk: &[$t], cpp: bool) -> bool {
            [false, true][..1 + cpp as usize].iter().all(|wide| {
                let mut r = ByteReader::new(bytes);
                r.u8()
                    .ok()
                    .and_then(|w| $read_block(&mut r, w as u32, *wide).ok())
                    .is_some_and(|back| back.iter().zip(chunk).all(|(a, b)| $same(*a, *b)))
            })
        }

        /// How many leading values fit in one page that every reader decodes exactly: a
        /// block whose prediction errors overflow must be written in the `0x80 | count` form,
        /// which the C++ reader only accepts at the end of a page (Java readers anywhere, so
        /// without `cpp` every value fits).
        pub fn $prefix(values: &[$t], cpp: bool) -> usize {
            if !cpp {
                return values.len();
            }
            let mut i = 0;
            let mut scratch = Vec::new();
            while i + BLOCK < values.len() {
                let chunk = &values[i..i + BLOCK + 1];
                scratch.clear();
                $block(chunk, &mut scratch);
                if !$ok(&scratch, chunk, cpp) {
                    return i + BLOCK + 1;
                }
                i += BLOCK + 1;
            }
            values.len()
        }

        /// Decodes `n` SPRINTZ values.
        pub fn $dec(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<$t>) -> DResult<()> {
            out.reserve(n);
            let mut produced = 0;
            while produced < n {
                let at = r.pos();
                let head = r.u8()?;
                if head & 0x80 != 0 {
                    let k = (head & 0x7F) as usize;
                    let mut tmp = Vec::with_capacity(k);
                    $tail_dec(r, k, &mut tmp)?;
                    if tmp.len() != k {
                        return Err(Corrupt::new(at, "SPRINTZ tail group is short"));
                    }
                    let take = k.min(n - produced);
                    out.extend_from_slice(&tmp[..take]);
                    produced += take;
                } else {
                    let block = $read_block(r, head as u32, false)?;
                    let take = (BLOCK + 1).min(n - produced);
                    out.extend_from_slice(&block[..take]);
                    produced += take;
                }
            }
            Ok(())
        }
    };
}

fn gorilla_f32_tail(v: &[f32], out: &mut Vec<u8>) {
    gorilla::encode_f32(v, out)
}
fn gorilla_f64_tail(v: &[f64], out: &mut Vec<u8>) {
    gorilla::encode_f64(v, out)
}
fn gorilla_f32_read(r: &mut ByteReader<'_>, k: usize, out: &mut Vec<f32>) -> DResult<()> {
    let at = r.pos();
    let used =
        gorilla::decode_f32(r.rest(), k, out).map_err(|e| Corrupt::new(at + e.pos, e.what))?;
    r.skip(used)
}
fn gorilla_f64_read(r: &mut ByteReader<'_>, k: usize, out: &mut Vec<f64>) -> DResult<()> {
    let at = r.pos();
    let used =
        gorilla::decode_f64(r.rest(), k, out).map_err(|e| Corrupt::new(at + e.pos, e.what))?;
    r.skip(used)
}

sprintz_codec!(
    encode_i32,
    decode_i32,
    page_prefix_i32,
    block_ok_i32,
    i32,
    int_block,
    int_read_block,
    rle::encode_i32,
    rle::decode_i32,
    |a: i32, b: i32| a == b
);
sprintz_codec!(
    encode_i64,
    decode_i64,
    page_prefix_i64,
    block_ok_i64,
    i64,
    long_block,
    long_read_block,
    rle::encode_i64,
    rle::decode_i64,
    |a: i64, b: i64| a == b
);
sprintz_codec!(
    encode_f32,
    decode_f32,
    page_prefix_f32,
    block_ok_f32,
    f32,
    float_block,
    float_read_block,
    gorilla_f32_tail,
    gorilla_f32_read,
    |a: f32, b: f32| a.to_bits() == b.to_bits()
);
sprintz_codec!(
    encode_f64,
    decode_f64,
    page_prefix_f64,
    block_ok_f64,
    f64,
    double_block,
    double_read_block,
    gorilla_f64_tail,
    gorilla_f64_read,
    |a: f64, b: f64| a.to_bits() == b.to_bits()
);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn i32_round_trip(v in proptest::collection::vec(prop_oneof![any::<i32>(), -50i32..50], 0..200)) {
            let mut out = Vec::new();
            encode_i32(&v, true, &mut out);
            let mut got = Vec::new();
            let mut r = ByteReader::new(&out);
            decode_i32(&mut r, v.len(), &mut got).unwrap();
            prop_assert!(r.is_empty());
            prop_assert_eq!(got, v);
        }

        #[test]
        fn i64_round_trip(v in proptest::collection::vec(prop_oneof![any::<i64>(), -50i64..50], 0..200)) {
            let mut out = Vec::new();
            encode_i64(&v, true, &mut out);
            let mut got = Vec::new();
            let mut r = ByteReader::new(&out);
            decode_i64(&mut r, v.len(), &mut got).unwrap();
            prop_assert!(r.is_empty());
            prop_assert_eq!(got, v);
        }

        #[test]
        fn f32_round_trip(v in proptest::collection::vec(prop_oneof![any::<u32>().prop_map(f32::from_bits), (-100i32..100).prop_map(|x| x as f32 / 4.0)], 0..200)) {
            let mut out = Vec::new();
            encode_f32(&v, true, &mut out);
            let mut got = Vec::new();
            let mut r = ByteReader::new(&out);
            decode_f32(&mut r, v.len(), &mut got).unwrap();
            prop_assert!(r.is_empty());
            prop_assert_eq!(got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), v.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        }

        #[test]
        fn f64_round_trip(v in proptest::collection::vec(prop_oneof![any::<u64>().prop_map(f64::from_bits), (-100i32..100).prop_map(|x| x as f64 / 4.0)], 0..200)) {
            let mut out = Vec::new();
            encode_f64(&v, true, &mut out);
            let mut got = Vec::new();
            let mut r = ByteReader::new(&out);
            decode_f64(&mut r, v.len(), &mut got).unwrap();
            prop_assert!(r.is_empty());
            prop_assert_eq!(got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), v.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
        }
    }
}
