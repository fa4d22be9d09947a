//! TS_2DIFF (Java `DeltaBinaryEncoder`): blocks of a first value and up to 128 deltas.
//!
//! Block layout: `i32 deltaCount`, `i32 bitWidth`, `minDelta`, `firstValue` (both i32 for
//! 32-bit values, i64 for 64-bit values, big-endian), then `deltaCount` values of
//! `delta − minDelta`, each `bitWidth` bits MSB first, padded to a byte. A block holds
//! `deltaCount + 1` values. Arithmetic wraps, as in Java.

use crate::bits::{for_each_field, BitWriter};
use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};

/// Deltas per block (Java `BLOCK_DEFAULT_SIZE`).
pub const BLOCK_SIZE: usize = 128;

/// Encodes 32-bit values.
pub fn encode_i32(values: &[i32], out: &mut Vec<u8>) {
    let mut deltas = [0u32; BLOCK_SIZE];
    let mut i = 0;
    while i < values.len() {
        let first = values[i];
        let n = (values.len() - i - 1).min(BLOCK_SIZE);
        let mut min = i32::MAX;
        let mut prev = first;
        for (k, v) in values[i + 1..i + 1 + n].iter().enumerate() {
            let d = v.wrapping_sub(prev);
            deltas[k] = d as u32;
            min = min.min(d);
            prev = *v;
        }
        let mut width = 0;
        for d in deltas.iter_mut().take(n) {
            *d = d.wrapping_sub(min as u32);
            width = width.max(32 - d.leading_zeros());
        }
        out.put_i32(n as i32);
        out.put_i32(width as i32);
        out.put_i32(min);
        out.put_i32(first);
        let mut w = BitWriter::new(out);
        for d in deltas.iter().take(n) {
            w.write(*d as u64, width);
        }
        w.pad();
        i += n + 1;
    }
}

/// Encodes 64-bit values.
pub fn encode_i64(values: &[i64], out: &mut Vec<u8>) {
    let mut deltas = [0u64; BLOCK_SIZE];
    let mut i = 0;
    while i < values.len() {
        let first = values[i];
        let n = (values.len() - i - 1).min(BLOCK_SIZE);
        let mut min = i64::MAX;
        let mut prev = first;
        for (k, v) in values[i + 1..i + 1 + n].iter().enumerate() {
            let d = v.wrapping_sub(prev);
            deltas[k] = d as u64;
            min = min.min(d);
            prev = *v;
        }
        let mut width = 0;
        for d in deltas.iter_mut().take(n) {
            *d = d.wrapping_sub(min as u64);
            width = width.max(64 - d.leading_zeros());
        }
        out.put_i32(n as i32);
        out.put_i32(width as i32);
        out.put_i64(min);
        out.put_i64(first);
        let mut w = BitWriter::new(out);
        for d in deltas.iter().take(n) {
            w.write(*d, width);
        }
        w.pad();
        i += n + 1;
    }
}

fn block_header(r: &mut ByteReader<'_>, max_width: i32) -> DResult<(usize, u32)> {
    let at = r.pos();
    let count = r.i32()?;
    let width = r.i32()?;
    if count < 0 {
        return Err(Corrupt::new(
            at,
            format!("TS_2DIFF block with {count} values"),
        ));
    }
    if !(0..=max_width).contains(&width) {
        return Err(Corrupt::new(
            at + 4,
            format!("TS_2DIFF bit width {width} out of range"),
        ));
    }
    Ok((count as usize, width as u32))
}

fn packed<'a>(r: &mut ByteReader<'a>, count: usize, width: u32) -> DResult<&'a [u8]> {
    let bits = (count as u64) * width as u64;
    let bytes = bits.div_ceil(8);
    if bytes > r.remaining() as u64 {
        return Err(r.err(format!(
            "TS_2DIFF block needs {bytes} packed bytes but only {} remain",
            r.remaining()
        )));
    }
    r.take(bytes as usize)
}

/// The two value widths of TS_2DIFF, for one decoder over both.
trait Word: Copy {
    const BITS: i32;
    fn read(r: &mut ByteReader<'_>) -> DResult<Self>;
    fn wrapping_add(self, o: Self) -> Self;
    /// A packed field (its low `BITS` bits).
    fn field(v: u64) -> Self;
}

impl Word for i32 {
    const BITS: i32 = 32;
    fn read(r: &mut ByteReader<'_>) -> DResult<i32> {
        r.i32()
    }
    fn wrapping_add(self, o: i32) -> i32 {
        i32::wrapping_add(self, o)
    }
    fn field(v: u64) -> i32 {
        v as u32 as i32
    }
}

impl Word for i64 {
    const BITS: i32 = 64;
    fn read(r: &mut ByteReader<'_>) -> DResult<i64> {
        r.i64()
    }
    fn wrapping_add(self, o: i64) -> i64 {
        i64::wrapping_add(self, o)
    }
    fn field(v: u64) -> i64 {
        v as i64
    }
}

/// Reads one block's header, minimum delta and first value, and appends the first value and
/// the next `take(count)` values; returns `(count, take)`.
fn block<T: Word>(
    r: &mut ByteReader<'_>,
    out: &mut Vec<T>,
    take: impl FnOnce(usize, usize) -> DResult<usize>,
) -> DResult<(usize, usize)> {
    let at = r.pos();
    let (count, width) = block_header(r, T::BITS)?;
    let take = take(count, at)?;
    let min = T::read(r)?;
    let first = T::read(r)?;
    let data = packed(r, count, width)?;
    out.reserve(take + 1);
    out.push(first);
    if width == 0 {
        // constant deltas (regular timestamps): an arithmetic progression, the same
        // wrapping sums as the loop below
        let mut t = first;
        out.extend((0..take).map(|_| {
            t = t.wrapping_add(min);
            t
        }));
    } else {
        let mut prev = first;
        for_each_field(data, width, take, |v| {
            prev = prev.wrapping_add(min).wrapping_add(T::field(v));
            out.push(prev);
        })?;
    }
    Ok((count, take))
}

/// Decodes values until `n` were produced (or the data ends, which is an error).
fn decode_n<T: Word>(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<T>) -> DResult<()> {
    let mut produced = 0;
    while produced < n {
        let (_, took) = block(r, out, |count, _| Ok(count.min(n - produced - 1)))?;
        produced += took + 1;
    }
    Ok(())
}

/// Decodes every value of a stream, accepting at most `limit` values.
fn decode_all<T: Word>(data: &[u8], limit: usize, out: &mut Vec<T>) -> DResult<()> {
    let mut r = ByteReader::new(data);
    while !r.is_empty() {
        let before = out.len();
        block(&mut r, out, |count, at| {
            if before.saturating_add(count).saturating_add(1) > limit {
                return Err(Corrupt::new(
                    at,
                    format!("TS_2DIFF data holds more than {limit} values"),
                ));
            }
            Ok(count)
        })?;
    }
    Ok(())
}

/// Decodes 32-bit values until `n` were produced (or the data ends, which is an error).
pub fn decode_i32(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i32>) -> DResult<()> {
    decode_n(r, n, out)
}

/// Decodes 64-bit values until `n` were produced.
pub fn decode_i64(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i64>) -> DResult<()> {
    decode_n(r, n, out)
}

/// Decodes every value of a 64-bit TS_2DIFF stream (used for time columns, whose length is
/// only known from the stream itself), accepting at most `limit` values.
pub fn decode_all_i64(data: &[u8], limit: usize, out: &mut Vec<i64>) -> DResult<()> {
    decode_all(data, limit, out)
}

/// Decodes every value of a 32-bit TS_2DIFF stream, accepting at most `limit` values.
pub fn decode_all_i32(data: &[u8], limit: usize, out: &mut Vec<i32>) -> DResult<()> {
    decode_all(data, limit, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn java_layout_for_times() {
        // What PyPI tsfile writes for times 100, 101, 102.
        let mut out = Vec::new();
        encode_i64(&[100, 101, 102], &mut out);
        let mut expect = vec![0, 0, 0, 2, 0, 0, 0, 0];
        expect.extend_from_slice(&1i64.to_be_bytes());
        expect.extend_from_slice(&100i64.to_be_bytes());
        assert_eq!(out, expect);
    }

    proptest! {
        #[test]
        fn i32_round_trip(v in proptest::collection::vec(any::<i32>(), 0..400)) {
            let mut out = Vec::new();
            encode_i32(&v, &mut out);
            let mut got = Vec::new();
            let mut r = ByteReader::new(&out);
            decode_i32(&mut r, v.len(), &mut got).unwrap();
            prop_assert!(r.is_empty());
            prop_assert_eq!(&got, &v);
            let mut all = Vec::new();
            decode_all_i32(&out, usize::MAX, &mut all).unwrap();
            prop_assert_eq!(all, v);
        }

        /// Runs of constant steps (regular timestamps: blocks of packed width 0), also
        /// steps that wrap around, with occasional jumps between runs.
        #[test]
        fn constant_steps_round_trip(
            runs in proptest::collection::vec((any::<i64>(), any::<i64>(), 1usize..300), 1..4),
        ) {
            let mut v64 = Vec::new();
            for &(start, step, len) in &runs {
                v64.extend((0..len as i64).map(|k| start.wrapping_add(step.wrapping_mul(k))));
            }
            let v32: Vec<i32> = v64.iter().map(|&x| x as i32).collect();
            let mut out = Vec::new();
            encode_i64(&v64, &mut out);
            let (mut got, mut all) = (Vec::new(), Vec::new());
            decode_i64(&mut ByteReader::new(&out), v64.len(), &mut got).unwrap();
            decode_all_i64(&out, usize::MAX, &mut all).unwrap();
            prop_assert_eq!(&got, &v64);
            prop_assert_eq!(&all, &v64);
            let mut out = Vec::new();
            encode_i32(&v32, &mut out);
            let (mut got, mut all) = (Vec::new(), Vec::new());
            decode_i32(&mut ByteReader::new(&out), v32.len(), &mut got).unwrap();
            decode_all_i32(&out, usize::MAX, &mut all).unwrap();
            prop_assert_eq!(&got, &v32);
            prop_assert_eq!(&all, &v32);
        }

        #[test]
        fn i64_round_trip(v in proptest::collection::vec(any::<i64>(), 0..400)) {
            let mut out = Vec::new();
            encode_i64(&v, &mut out);
            let mut got = Vec::new();
            decode_i64(&mut ByteReader::new(&out), v.len(), &mut got).unwrap();
            prop_assert_eq!(&got, &v);
            let mut all = Vec::new();
            decode_all_i64(&out, usize::MAX, &mut all).unwrap();
            prop_assert_eq!(all, v);
        }
    }
}
