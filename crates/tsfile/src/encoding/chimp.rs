//! CHIMP (Java `IntChimpEncoder`, `LongChimpEncoder` and the float/double variants):
//! a GORILLA refinement that XORs with one of the last 64 (32-bit) or 128 (64-bit) values,
//! chosen through a hash of the low bits, and rounds leading-zero counts to 8 classes.
//!
//! Control codes: `00` + index (identical to a recent value); `01` + index, leading class,
//! meaningful-bit count, then the meaningful bits (many trailing zeros); `10` + XOR bits with
//! the previous leading-zero class; `11` + leading class + XOR bits. Ends like GORILLA with a
//! sentinel (`MIN_VALUE` / NaN) and a closing byte.

use crate::bits::{BitReader, BitWriter};
use crate::buf::{Corrupt, DResult};

const LEADING_ROUND: [u32; 64] = [
    0, 0, 0, 0, 0, 0, 0, 0, 8, 8, 8, 8, 12, 12, 12, 12, 16, 16, 18, 18, 20, 20, 22, 22, 24, 24, 24,
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
    24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
];
const LEADING_REPRESENTATION: [u64; 64] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
];
const LEADING_DECODE: [u32; 8] = [0, 8, 12, 16, 18, 20, 22, 24];

#[derive(Clone, Copy)]
struct Params {
    bits: u32,
    prev_log2: u32,
    sig_bits: u32,
}

impl Params {
    const fn prev(self) -> usize {
        1 << self.prev_log2
    }
    const fn threshold(self) -> u32 {
        self.sig_bits + self.prev_log2
    }
    const fn lsb_mask(self) -> u64 {
        (1u64 << (self.threshold() + 1)) - 1
    }
}

const P32: Params = Params {
    bits: 32,
    prev_log2: 6,
    sig_bits: 5,
};
const P64: Params = Params {
    bits: 64,
    prev_log2: 7,
    sig_bits: 6,
};

fn lz(p: Params, x: u64) -> u32 {
    x.leading_zeros() - (64 - p.bits)
}

fn tz(p: Params, x: u64) -> u32 {
    if x == 0 {
        p.bits
    } else {
        x.trailing_zeros()
    }
}

fn encode_bits(p: Params, values: impl Iterator<Item = u64>, sentinel: u64, out: &mut Vec<u8>) {
    let prev = p.prev();
    let mut stored = vec![0u64; prev];
    let mut indices = vec![0usize; 1 << (p.threshold() + 1)];
    let mut index = 0usize;
    let mut current = 0usize;
    let mut stored_lead = u32::MAX;
    let mut first = true;
    let mut w = BitWriter::new(out);
    for v in values.chain(std::iter::once(sentinel)) {
        if first {
            first = false;
            stored[current] = v;
            w.write(v, p.bits);
            indices[(v & p.lsb_mask()) as usize] = index;
            continue;
        }
        let key = (v & p.lsb_mask()) as usize;
        let mut trailing = 0;
        let curr_index = indices[key];
        let (previous_index, xor) = if index - curr_index < prev {
            let temp = v ^ stored[curr_index % prev];
            trailing = tz(p, temp);
            if trailing > p.threshold() {
                (curr_index % prev, temp)
            } else {
                let pi = index % prev;
                (pi, stored[pi] ^ v)
            }
        } else {
            let pi = index % prev;
            (pi, stored[pi] ^ v)
        };
        if xor == 0 {
            w.write(previous_index as u64, p.prev_log2 + 2);
            stored_lead = p.bits + 1;
        } else {
            let lead = LEADING_ROUND[lz(p, xor) as usize];
            if trailing > p.threshold() {
                let sig = p.bits - lead - trailing;
                let meta = (((prev + previous_index) as u64) << (3 + p.sig_bits))
                    | (LEADING_REPRESENTATION[lead as usize] << p.sig_bits)
                    | sig as u64;
                w.write(meta, p.prev_log2 + 5 + p.sig_bits);
                w.write(xor >> trailing, sig);
                stored_lead = p.bits + 1;
            } else if lead == stored_lead {
                w.bit(true);
                w.bit(false);
                w.write(xor, p.bits - lead);
            } else {
                stored_lead = lead;
                w.write(24 + LEADING_REPRESENTATION[lead as usize], 5);
                w.write(xor, p.bits - lead);
            }
        }
        current = (current + 1) % prev;
        stored[current] = v;
        index += 1;
        indices[key] = index;
    }
    w.pad_always();
}

fn decode_bits(p: Params, data: &[u8], n: usize, mut push: impl FnMut(u64)) -> DResult<()> {
    let prev = p.prev();
    let mut stored_values = vec![0u64; prev];
    let mut current = 0usize;
    let mut r = BitReader::new(data);
    let mut stored = 0u64;
    let mut lead = 0u32;
    for i in 0..n {
        if i == 0 {
            stored = r.read(p.bits)?;
            stored_values[current] = stored;
            push(stored);
            continue;
        }
        let c = (r.bit()? as u8) << 1 | r.bit()? as u8;
        match c {
            3 => {
                lead = LEADING_DECODE[r.read(3)? as usize];
                stored ^= r.read(p.bits - lead)?;
            }
            2 => {
                if lead > p.bits {
                    return Err(Corrupt::new(r.byte_pos_ceil(), "CHIMP reuses no window"));
                }
                stored ^= r.read(p.bits - lead)?;
            }
            1 => {
                let fill = p.prev_log2 + 3 + p.sig_bits;
                let temp = r.read(fill)?;
                let idx = ((temp >> (3 + p.sig_bits)) as usize) & (prev - 1);
                lead = LEADING_DECODE[((temp >> p.sig_bits) & 7) as usize];
                let mut sig = (temp & ((1 << p.sig_bits) - 1)) as u32;
                if sig == 0 {
                    sig = p.bits;
                }
                if sig + lead > p.bits {
                    return Err(Corrupt::new(
                        r.byte_pos_ceil(),
                        format!("CHIMP window {lead}+{sig} exceeds {} bits", p.bits),
                    ));
                }
                let trail = p.bits - sig - lead;
                stored = stored_values[idx] ^ (r.read(sig)? << trail);
            }
            _ => {
                let idx = r.read(p.prev_log2)? as usize;
                stored = stored_values[idx];
            }
        }
        current = (current + 1) % prev;
        stored_values[current] = stored;
        push(stored);
    }
    Ok(())
}

/// Encodes INT32 / DATE values.
pub fn encode_i32(values: &[i32], out: &mut Vec<u8>) {
    encode_bits(
        P32,
        values.iter().map(|v| *v as u32 as u64),
        i32::MIN as u32 as u64,
        out,
    );
}

/// Encodes INT64 / TIMESTAMP values.
pub fn encode_i64(values: &[i64], out: &mut Vec<u8>) {
    encode_bits(P64, values.iter().map(|v| *v as u64), i64::MIN as u64, out);
}

/// Encodes FLOAT values through their raw bits.
pub fn encode_f32(values: &[f32], out: &mut Vec<u8>) {
    encode_bits(
        P32,
        values.iter().map(|v| v.to_bits() as u64),
        f32::NAN.to_bits() as u64,
        out,
    );
}

/// Encodes DOUBLE values through their raw bits.
pub fn encode_f64(values: &[f64], out: &mut Vec<u8>) {
    encode_bits(
        P64,
        values.iter().map(|v| v.to_bits()),
        f64::NAN.to_bits(),
        out,
    );
}

/// Decodes `n` INT32 values.
pub fn decode_i32(data: &[u8], n: usize, out: &mut Vec<i32>) -> DResult<()> {
    out.reserve(n);
    decode_bits(P32, data, n, |v| out.push(v as u32 as i32))
}

/// Decodes `n` INT64 values.
pub fn decode_i64(data: &[u8], n: usize, out: &mut Vec<i64>) -> DResult<()> {
    out.reserve(n);
    decode_bits(P64, data, n, |v| out.push(v as i64))
}

/// Decodes `n` FLOAT values.
pub fn decode_f32(data: &[u8], n: usize, out: &mut Vec<f32>) -> DResult<()> {
    out.reserve(n);
    decode_bits(P32, data, n, |v| out.push(f32::from_bits(v as u32)))
}

/// Decodes `n` DOUBLE values.
pub fn decode_f64(data: &[u8], n: usize, out: &mut Vec<f64>) -> DResult<()> {
    out.reserve(n);
    decode_bits(P64, data, n, |v| out.push(f64::from_bits(v)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn smooth() -> impl Strategy<Value = Vec<f64>> {
        proptest::collection::vec(-1000i32..1000, 0..400)
            .prop_map(|v| v.iter().map(|x| *x as f64 / 8.0).collect())
    }

    proptest! {
        #[test]
        fn i32_round_trip(v in proptest::collection::vec(prop_oneof![any::<i32>(), -3i32..3], 0..400)) {
            let mut out = Vec::new();
            encode_i32(&v, &mut out);
            let mut got = Vec::new();
            decode_i32(&out, v.len(), &mut got).unwrap();
            prop_assert_eq!(got, v);
        }

        #[test]
        fn i64_round_trip(v in proptest::collection::vec(prop_oneof![any::<i64>(), -3i64..3], 0..400)) {
            let mut out = Vec::new();
            encode_i64(&v, &mut out);
            let mut got = Vec::new();
            decode_i64(&out, v.len(), &mut got).unwrap();
            prop_assert_eq!(got, v);
        }

        #[test]
        fn f64_round_trip(v in prop_oneof![smooth(), proptest::collection::vec(any::<u64>().prop_map(f64::from_bits), 0..300)]) {
            let mut out = Vec::new();
            encode_f64(&v, &mut out);
            let mut got = Vec::new();
            decode_f64(&out, v.len(), &mut got).unwrap();
            let a: Vec<u64> = got.iter().map(|x| x.to_bits()).collect();
            let b: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(a, b);
        }

        #[test]
        fn f32_round_trip(v in proptest::collection::vec(any::<u32>(), 0..300)) {
            let vals: Vec<f32> = v.iter().map(|b| f32::from_bits(*b)).collect();
            let mut out = Vec::new();
            encode_f32(&vals, &mut out);
            let mut got = Vec::new();
            decode_f32(&out, vals.len(), &mut got).unwrap();
            let a: Vec<u32> = got.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(a, v);
        }
    }
}
