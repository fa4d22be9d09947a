//! PLAIN (Java `PlainEncoder`): BOOLEAN one byte; INT32 zig-zag varint; INT64 8 bytes;
//! FLOAT 4 bytes; DOUBLE 8 bytes (all big-endian); TEXT/STRING/BLOB zig-zag varint length + bytes.

use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};

/// Encodes booleans.
pub fn encode_bool(values: &[bool], out: &mut Vec<u8>) {
    out.extend(values.iter().map(|b| *b as u8));
}

/// Encodes 32-bit integers as zig-zag varints.
pub fn encode_i32(values: &[i32], out: &mut Vec<u8>) {
    out.reserve(values.len() * 2);
    for v in values {
        out.put_varint(*v);
    }
}

/// Encodes 64-bit integers.
pub fn encode_i64(values: &[i64], out: &mut Vec<u8>) {
    out.reserve(values.len() * 8);
    for v in values {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Encodes floats.
pub fn encode_f32(values: &[f32], out: &mut Vec<u8>) {
    out.reserve(values.len() * 4);
    for v in values {
        out.extend_from_slice(&v.to_bits().to_be_bytes());
    }
}

/// Encodes doubles.
pub fn encode_f64(values: &[f64], out: &mut Vec<u8>) {
    out.reserve(values.len() * 8);
    for v in values {
        out.extend_from_slice(&v.to_bits().to_be_bytes());
    }
}

/// Encodes byte strings.
pub fn encode_binary<B: AsRef<[u8]>>(values: &[B], out: &mut Vec<u8>) {
    for v in values {
        out.put_var_bytes(v.as_ref());
    }
}

fn need(r: &ByteReader<'_>, n: usize, width: usize) -> DResult<()> {
    match n.checked_mul(width) {
        Some(b) if b <= r.remaining() => Ok(()),
        _ => Err(r.err(format!(
            "PLAIN data holds {} bytes, {n} values of {width} bytes expected",
            r.remaining()
        ))),
    }
}

/// Decodes `n` booleans.
pub fn decode_bool(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<bool>) -> DResult<()> {
    need(r, n, 1)?;
    out.extend(r.take(n)?.iter().map(|b| *b != 0));
    Ok(())
}

/// Decodes `n` zig-zag varint integers.
pub fn decode_i32(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i32>) -> DResult<()> {
    need(r, n, 1)?;
    out.reserve(n);
    for _ in 0..n {
        out.push(r.varint()?);
    }
    Ok(())
}

/// Decodes `n` 64-bit integers.
pub fn decode_i64(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i64>) -> DResult<()> {
    need(r, n, 8)?;
    out.extend(
        r.take(n * 8)?
            .chunks_exact(8)
            .map(|c| i64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
    );
    Ok(())
}

/// Decodes `n` floats.
pub fn decode_f32(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<f32>) -> DResult<()> {
    need(r, n, 4)?;
    out.extend(
        r.take(n * 4)?
            .chunks_exact(4)
            .map(|c| f32::from_bits(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
    );
    Ok(())
}

/// Decodes `n` doubles.
pub fn decode_f64(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<f64>) -> DResult<()> {
    need(r, n, 8)?;
    out.extend(r.take(n * 8)?.chunks_exact(8).map(|c| {
        f64::from_bits(u64::from_be_bytes([
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
        ]))
    }));
    Ok(())
}

/// Decodes `n` byte strings.
pub fn decode_binary(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<Vec<u8>>) -> DResult<()> {
    need(r, n, 1)?;
    out.reserve(n);
    for _ in 0..n {
        let at = r.pos();
        match r.var_bytes()? {
            Some(b) => out.push(b.to_vec()),
            None => return Err(Corrupt::new(at, "null value in PLAIN text data")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn all_round_trip(
            b in proptest::collection::vec(any::<bool>(), 0..50),
            i in proptest::collection::vec(any::<i32>(), 0..50),
            l in proptest::collection::vec(any::<i64>(), 0..50),
            f in proptest::collection::vec(any::<u32>(), 0..50),
            d in proptest::collection::vec(any::<u64>(), 0..50),
            t in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..20),
        ) {
            let f: Vec<f32> = f.into_iter().map(f32::from_bits).collect();
            let d: Vec<f64> = d.into_iter().map(f64::from_bits).collect();
            let mut out = Vec::new();
            encode_bool(&b, &mut out);
            encode_i32(&i, &mut out);
            encode_i64(&l, &mut out);
            encode_f32(&f, &mut out);
            encode_f64(&d, &mut out);
            encode_binary(&t, &mut out);
            let mut r = ByteReader::new(&out);
            let (mut b2, mut i2, mut l2, mut f2, mut d2, mut t2) = (vec![], vec![], vec![], vec![], vec![], vec![]);
            decode_bool(&mut r, b.len(), &mut b2).unwrap();
            decode_i32(&mut r, i.len(), &mut i2).unwrap();
            decode_i64(&mut r, l.len(), &mut l2).unwrap();
            decode_f32(&mut r, f.len(), &mut f2).unwrap();
            decode_f64(&mut r, d.len(), &mut d2).unwrap();
            decode_binary(&mut r, t.len(), &mut t2).unwrap();
            prop_assert!(r.is_empty());
            prop_assert_eq!(b2, b);
            prop_assert_eq!(i2, i);
            prop_assert_eq!(l2, l);
            prop_assert_eq!(f2.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), f.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
            prop_assert_eq!(d2.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), d.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
            prop_assert_eq!(t2, t);
        }
    }
}
