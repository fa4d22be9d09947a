//! ZIGZAG (Java `IntZigzagEncoder`, `LongZigzagEncoder`): a block is `uvarint byteLen`,
//! `uvarint valueCount`, then the zig-zag LEB128 values (32- or 64-bit). An empty page writes
//! nothing.

use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};

fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v & !0x7F != 0 {
        out.push((v as u8 & 0x7F) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Encodes 32-bit values.
pub fn encode_i32(values: &[i32], out: &mut Vec<u8>) {
    if values.is_empty() {
        return;
    }
    let mut body = Vec::with_capacity(values.len() * 2);
    for v in values {
        body.put_uvarint(((v << 1) ^ (v >> 31)) as u32);
    }
    out.put_uvarint(body.len() as u32);
    out.put_uvarint(values.len() as u32);
    out.extend_from_slice(&body);
}

/// Encodes 64-bit values.
pub fn encode_i64(values: &[i64], out: &mut Vec<u8>) {
    if values.is_empty() {
        return;
    }
    let mut body = Vec::with_capacity(values.len() * 3);
    for v in values {
        put_u64(&mut body, ((v << 1) ^ (v >> 63)) as u64);
    }
    out.put_uvarint(body.len() as u32);
    out.put_uvarint(values.len() as u32);
    out.extend_from_slice(&body);
}

fn decode(r: &mut ByteReader<'_>, n: usize, long: bool, mut push: impl FnMut(u64)) -> DResult<()> {
    let mut produced = 0;
    while produced < n {
        let len = r.uvarint_len()?;
        let count = r.uvarint_len()?;
        let start = r.pos();
        let body = r.take(len)?;
        let mut br = ByteReader::new(body);
        for _ in 0..count.min(n - produced) {
            let v = if long {
                br.uvarint64()
            } else {
                br.uvarint().map(|v| v as u64)
            }
            .map_err(|e| Corrupt::new(start + e.pos, e.what))?;
            push(v);
            produced += 1;
        }
    }
    Ok(())
}

/// Decodes `n` 32-bit values.
pub fn decode_i32(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i32>) -> DResult<()> {
    decode(r, n, false, |u| {
        let u = u as u32;
        out.push(((u >> 1) as i32) ^ -((u & 1) as i32))
    })
}

/// Decodes `n` 64-bit values.
pub fn decode_i64(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i64>) -> DResult<()> {
    decode(r, n, true, |u| {
        out.push(((u >> 1) as i64) ^ -((u & 1) as i64))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(i in proptest::collection::vec(any::<i32>(), 0..200), l in proptest::collection::vec(any::<i64>(), 0..200)) {
            let mut out = Vec::new();
            encode_i32(&i, &mut out);
            encode_i64(&l, &mut out);
            let mut r = ByteReader::new(&out);
            let (mut i2, mut l2) = (vec![], vec![]);
            decode_i32(&mut r, i.len(), &mut i2).unwrap();
            decode_i64(&mut r, l.len(), &mut l2).unwrap();
            prop_assert!(r.is_empty());
            prop_assert_eq!(i2, i);
            prop_assert_eq!(l2, l);
        }
    }
}
