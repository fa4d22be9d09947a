//! FREQ (IoTDB 1.x, INT32/INT64/FLOAT/DOUBLE): lossy frequency-domain encoding.
//!
//! Values are cut into blocks (1024 values by default). Each block is transformed with an
//! orthonormal DCT-II; the components carrying the most energy are kept until the error energy
//! falls under `10^(-snr/10)` of the total (snr = 40 dB by default), quantised to multiples of
//! `2^beta`, and written as a bit stream (most significant bit first), byte padded per block:
//!
//! ```text
//! u16 block length n | u16 kept components m | i16 beta
//! indexes: per group of 8, a width w (width(width(n-1)) bits) then 8 indexes of w bits
//! values (if m > 0): u8 width b of the first |value|, min |value| (b bits), then per value
//!   a sign bit and |value| - min in b bits, b becoming the width of that difference
//! ```
//!
//! Decoding places `value * 2^beta` at each index, zero elsewhere, and applies the orthonormal
//! inverse (DCT-III). Integer series round half up (Java `Math.round`), FLOAT narrows the
//! double. Both transforms come from `rustdct`; results can differ from IoTDB's JTransforms in
//! the last bits of a double, which the encoding's own loss dwarfs.

use crate::bits::{BitReader, BitWriter};
use crate::buf::{Corrupt, DResult};
use rustdct::DctPlanner;
use std::cell::RefCell;

/// Values per block, IoTDB's default `freq_encoding_block_size`.
pub const DEFAULT_BLOCK_SIZE: usize = 1024;
/// IoTDB's default `freq_encoding_snr` in dB.
pub const DEFAULT_SNR: f64 = 40.0;

thread_local! {
    static PLANNER: RefCell<DctPlanner<f64>> = RefCell::new(DctPlanner::new());
}

/// In place orthonormal DCT-II.
fn dct2_ortho(x: &mut [f64]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    let dct = PLANNER.with(|p| p.borrow_mut().plan_dct2(n));
    dct.process_dct2(x);
    let k0 = (1.0 / n as f64).sqrt();
    let k = (2.0 / n as f64).sqrt();
    x[0] *= k0;
    for v in &mut x[1..] {
        *v *= k;
    }
}

/// In place orthonormal DCT-III (the inverse of [`dct2_ortho`]).
fn dct3_ortho(x: &mut [f64]) {
    let n = x.len();
    if n == 0 {
        return;
    }
    // rustdct's DCT-III halves the first coefficient.
    x[0] *= 2.0 * (1.0 / n as f64).sqrt();
    let k = (2.0 / n as f64).sqrt();
    for v in &mut x[1..] {
        *v *= k;
    }
    let dct = PLANNER.with(|p| p.borrow_mut().plan_dct3(n));
    dct.process_dct3(x);
}

/// Java `Math.round(double)`: half up, NaN to 0, saturating.
pub(crate) fn java_round(x: f64) -> i64 {
    if x.is_nan() {
        return 0;
    }
    let f = x.floor();
    let r = if x - f >= 0.5 { f + 1.0 } else { f };
    r as i64
}

/// Bits needed for `x` (0 for 0).
fn width(x: u64) -> u32 {
    64 - x.leading_zeros()
}

/// Exponent of the largest power of two not above `x` (IoTDB's `max2Power`, which walks
/// powers of two; bounded here so an infinite input cannot loop forever).
fn max2_power(x: f64) -> i32 {
    let mut ans = 1.0f64;
    let mut exp = 0i32;
    if x > 1.0 {
        while ans * 2.0 <= x && exp < 1100 {
            ans *= 2.0;
            exp += 1;
        }
    } else {
        while ans > x && exp > -1100 {
            ans /= 2.0;
            exp -= 1;
        }
    }
    exp
}

/// Chooses the kept components and the quantisation exponent the way IoTDB's encoder does.
fn select(coef: &[f64], threshold: f64) -> (Vec<usize>, i32) {
    let n = coef.len();
    let power = |i: usize| coef[i] * coef[i];
    let sum2: f64 = (0..n).map(power).sum();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| power(b).total_cmp(&power(a)));
    let mut queue = order.into_iter();
    let temp = (threshold * sum2 / (n as f64 * n as f64)).sqrt();
    let mut beta = (max2_power(temp) as f64).max(sum2.ln() / (2.0 * 2f64.ln()) - 60.0) as i32;
    let mut system_error = sum2;
    let mut kept: Vec<usize> = Vec::new();
    let mut m = 0usize;
    let mut rounding_error = 0.0f64;
    let mut reduce_bits = f64::MAX;
    let mut first = true;
    loop {
        while system_error + rounding_error > threshold * sum2 {
            match queue.next() {
                None => {
                    system_error = 0.0;
                    break;
                }
                Some(i) => {
                    kept.push(i);
                    system_error -= power(i);
                    rounding_error = 2f64.powi(beta.saturating_mul(2)) * kept.len() as f64;
                }
            }
        }
        let eps = 2f64.powi(beta);
        let increase_bits: f64 = kept[m..]
            .iter()
            .map(|&i| {
                (width((n - 1) as u64) + width(java_round(coef[i].abs() / eps).unsigned_abs()) + 1)
                    as f64
            })
            .sum();
        if reduce_bits <= increase_bits || system_error + rounding_error > threshold * sum2 {
            if !first {
                kept.truncate(m);
                beta -= 1;
            }
            break;
        }
        first = false;
        m = kept.len();
        reduce_bits = m as f64;
        beta += 1;
        rounding_error = 2f64.powi(beta.saturating_mul(2)) * m as f64;
    }
    (kept, beta)
}

fn encode_block(block: &[f64], threshold: f64, out: &mut Vec<u8>) {
    let n = block.len();
    let mut coef = block.to_vec();
    dct2_ortho(&mut coef);
    let (kept, beta) = select(&coef, threshold);
    let eps = 2f64.powi(beta);
    let mut comps: Vec<(u16, i64)> = kept
        .iter()
        .map(|&i| (i as u16, java_round(coef[i] / eps)))
        .collect();
    // Non-increasing magnitudes keep every difference to the minimum within the running width.
    comps.sort_by_key(|c| std::cmp::Reverse(c.1.unsigned_abs()));
    let mut w = BitWriter::new(out);
    w.write(n as u64, 16);
    w.write(comps.len() as u64, 16);
    w.write(beta as i16 as u16 as u64, 16);
    let group_width = width(width((n - 1) as u64) as u64);
    for group in comps.chunks(8) {
        let bits = group.iter().map(|c| width(c.0 as u64)).max().unwrap_or(0);
        w.write(bits as u64, group_width);
        for c in group {
            w.write(c.0 as u64, bits);
        }
    }
    if let (Some(first), Some(last)) = (comps.first(), comps.last()) {
        let mut bits = width(first.1.unsigned_abs());
        let min = last.1.unsigned_abs();
        w.write(bits as u64, 8);
        w.write(min, bits);
        for c in &comps {
            w.bit(c.1 < 0);
            let off = c.1.unsigned_abs() - min;
            w.write(off, bits);
            bits = width(off);
        }
    }
    w.pad();
}

/// Appends the FREQ encoding of a page of values (any numeric type, as doubles).
pub fn encode(values: &[f64], block_size: usize, snr: f64, out: &mut Vec<u8>) {
    let threshold = 10f64.powf(-snr.max(0.0) / 10.0);
    let block_size = block_size.clamp(1, u16::MAX as usize);
    for block in values.chunks(block_size) {
        encode_block(block, threshold, out);
    }
}

/// Appends the FREQ encoding of a page with IoTDB's default block size and SNR.
pub fn encode_default(values: impl Iterator<Item = f64>, out: &mut Vec<u8>) {
    let v: Vec<f64> = values.collect();
    encode(&v, DEFAULT_BLOCK_SIZE, DEFAULT_SNR, out);
}

fn corrupt(r: &BitReader<'_>, what: String) -> Corrupt {
    Corrupt::new(r.byte_pos_ceil(), what)
}

/// Reads `n` values as doubles, handing each to `push`.
pub fn decode(data: &[u8], n: usize, mut push: impl FnMut(f64)) -> DResult<()> {
    let mut r = BitReader::new(data);
    let mut done = 0usize;
    while done < n {
        let count = r.read(16)? as usize;
        let m = r.read(16)? as usize;
        let beta = r.read(16)? as u16 as i16 as i32;
        if count == 0 || m > count {
            return Err(corrupt(
                &r,
                format!("FREQ block of {count} values claims {m} components"),
            ));
        }
        if count > n - done {
            return Err(corrupt(
                &r,
                format!(
                    "FREQ block of {count} values overruns the page ({} left)",
                    n - done
                ),
            ));
        }
        let group_width = width(width((count - 1) as u64) as u64);
        let mut index = Vec::with_capacity(m);
        while index.len() < m {
            let bits = r.read(group_width)? as u32;
            for _ in 0..(m - index.len()).min(8) {
                let i = r.read(bits)? as usize;
                if i >= count {
                    return Err(corrupt(
                        &r,
                        format!("FREQ component index {i} outside a block of {count}"),
                    ));
                }
                index.push(i);
            }
        }
        let mut block = vec![0.0f64; count];
        if m > 0 {
            let mut bits = r.read(8)? as u32;
            if bits > 64 {
                return Err(corrupt(&r, format!("FREQ value width {bits} > 64")));
            }
            let min = r.read(bits)?;
            let eps = 2f64.powi(beta);
            for &i in &index {
                let negative = r.bit()?;
                let off = r.read(bits)?;
                bits = width(off);
                let mag = off.wrapping_add(min) as i64;
                let v = if negative { mag.wrapping_neg() } else { mag };
                block[i] = v as f64 * eps;
            }
        }
        r.align();
        dct3_ortho(&mut block);
        block.iter().for_each(|v| push(*v));
        done += count;
    }
    Ok(())
}

/// Reads `n` INT32 values (rounded half up, then narrowed as Java's `(int)` does).
pub fn decode_i32(data: &[u8], n: usize, out: &mut Vec<i32>) -> DResult<()> {
    decode(data, n, |v| out.push(java_round(v) as i32))
}

/// Reads `n` INT64 values (rounded half up).
pub fn decode_i64(data: &[u8], n: usize, out: &mut Vec<i64>) -> DResult<()> {
    decode(data, n, |v| out.push(java_round(v)))
}

/// Reads `n` FLOAT values.
pub fn decode_f32(data: &[u8], n: usize, out: &mut Vec<f32>) -> DResult<()> {
    decode(data, n, |v| out.push(v as f32))
}

/// Reads `n` DOUBLE values.
pub fn decode_f64(data: &[u8], n: usize, out: &mut Vec<f64>) -> DResult<()> {
    decode(data, n, |v| out.push(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive_dct2(x: &[f64]) -> Vec<f64> {
        let n = x.len() as f64;
        (0..x.len())
            .map(|k| {
                let s: f64 = x
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v * (std::f64::consts::PI * k as f64 * (2.0 * i as f64 + 1.0) / (2.0 * n))
                            .cos()
                    })
                    .sum();
                s * if k == 0 {
                    (1.0 / n).sqrt()
                } else {
                    (2.0 / n).sqrt()
                }
            })
            .collect()
    }

    #[test]
    fn transforms_are_orthonormal_and_inverse() {
        for n in [1usize, 2, 3, 7, 100, 250, 1024] {
            let x: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 - 3.5).collect();
            let mut y = x.clone();
            dct2_ortho(&mut y);
            for (a, b) in y.iter().zip(naive_dct2(&x)) {
                assert!((a - b).abs() < 1e-9, "n={n}");
            }
            dct3_ortho(&mut y);
            for (a, b) in y.iter().zip(&x) {
                assert!((a - b).abs() < 1e-9, "n={n}");
            }
        }
    }

    #[test]
    fn java_round_matches_math_round() {
        assert_eq!(java_round(2.5), 3);
        assert_eq!(java_round(-2.5), -2);
        assert_eq!(java_round(-2.51), -3);
        assert_eq!(java_round(0.49999999999999994), 0);
        assert_eq!(java_round(f64::NAN), 0);
        assert_eq!(java_round(1e300), i64::MAX);
        assert_eq!(java_round(-1e300), i64::MIN);
    }

    fn snr_db(x: &[f64], y: &[f64]) -> f64 {
        let sig: f64 = x.iter().map(|v| v * v).sum();
        let err: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
        if err == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (sig / err).log10()
        }
    }

    #[test]
    fn smooth_signal_is_kept_within_the_snr_and_small() {
        let x: Vec<f64> = (0..3000)
            .map(|i| 20.0 + 5.0 * (i as f64 / 50.0).sin() + 0.5 * (i as f64 / 7.0).cos())
            .collect();
        let mut out = Vec::new();
        encode(&x, DEFAULT_BLOCK_SIZE, DEFAULT_SNR, &mut out);
        let mut y = Vec::new();
        decode_f64(&out, x.len(), &mut y).unwrap();
        assert_eq!(y.len(), x.len());
        assert!(snr_db(&x, &y) >= 39.0, "snr {}", snr_db(&x, &y));
        assert!(out.len() < x.len() * 2, "{} bytes", out.len());
    }

    #[test]
    fn zeros_and_constants() {
        for x in [vec![0.0; 10], vec![7.0; 300], vec![1.0], vec![-1e12; 5]] {
            let mut out = Vec::new();
            encode(&x, DEFAULT_BLOCK_SIZE, DEFAULT_SNR, &mut out);
            let mut y = Vec::new();
            decode_i64(&out, x.len(), &mut y).unwrap();
            let y: Vec<f64> = y.iter().map(|v| *v as f64).collect();
            if x[0].abs() < 1e6 {
                assert_eq!(y, x);
            } else {
                // quantised: only the 40 dB bound holds
                assert!(snr_db(&x, &y) >= 40.0, "{y:?}");
            }
        }
    }

    #[test]
    fn corrupt_blocks_are_errors() {
        let x: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let mut out = Vec::new();
        encode(&x, DEFAULT_BLOCK_SIZE, DEFAULT_SNR, &mut out);
        for cut in 0..out.len() {
            let mut y = Vec::new();
            assert!(decode_f64(&out[..cut], 100, &mut y).is_err(), "cut {cut}");
        }
        let mut y = Vec::new();
        // block claims more values than the page has
        assert!(decode_f64(&out, 50, &mut y).is_err());
        // zero-length block
        assert!(decode_f64(&[0, 0, 0, 0, 0, 0], 1, &mut y).is_err());
        // more components than values
        assert!(decode_f64(&[0, 1, 0, 2, 0, 0], 1, &mut y).is_err());
    }

    proptest! {
        #[test]
        fn round_trip_within_snr(v in proptest::collection::vec(-1e6f64..1e6, 1..2500), block in 1usize..1500) {
            let mut out = Vec::new();
            encode(&v, block, DEFAULT_SNR, &mut out);
            let mut y = Vec::new();
            decode_f64(&out, v.len(), &mut y).unwrap();
            prop_assert_eq!(y.len(), v.len());
            for (bx, by) in v.chunks(block).zip(y.chunks(block)) {
                let s = snr_db(bx, by);
                prop_assert!(s >= 39.0 || bx.iter().all(|a| a.abs() < 1e-3), "snr {}", s);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..64), n in 0usize..5000) {
            let mut y = Vec::new();
            let _ = decode_f64(&data, n, &mut y);
            prop_assert!(y.len() <= n);
        }
    }
}
