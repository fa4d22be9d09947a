//! DICTIONARY (Java `DictionaryEncoder`): `varint entryCount`, each entry as `varint length`
//! + bytes (in first-seen order), then the per-value entry indexes as one 32-bit RLE block.

use std::collections::HashMap;

use super::rle;
use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};

/// Encodes byte strings.
pub fn encode<B: AsRef<[u8]>>(values: &[B], out: &mut Vec<u8>) {
    let mut index: HashMap<&[u8], i32> = HashMap::new();
    let mut entries: Vec<&[u8]> = Vec::new();
    let mut codes = Vec::with_capacity(values.len());
    for v in values {
        let v = v.as_ref();
        let next = entries.len() as i32;
        let code = *index.entry(v).or_insert_with(|| {
            entries.push(v);
            next
        });
        codes.push(code);
    }
    out.put_varint(entries.len() as i32);
    for e in &entries {
        out.put_var_bytes(e);
    }
    rle::encode_i32(&codes, out);
}

/// Decodes `n` byte strings.
pub fn decode(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<Vec<u8>>) -> DResult<()> {
    let at = r.pos();
    let count = r.varint()?;
    if count < 0 || count as usize > r.remaining() {
        return Err(Corrupt::new(
            at,
            format!("dictionary with {count} entries in {} bytes", r.remaining()),
        ));
    }
    let mut entries: Vec<&[u8]> = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let at = r.pos();
        match r.var_bytes()? {
            Some(b) => entries.push(b),
            None => return Err(Corrupt::new(at, "null dictionary entry")),
        }
    }
    let codes_at = r.pos();
    let mut codes = Vec::with_capacity(n.min(r.remaining() * 8));
    rle::decode_i32(r, n, &mut codes)?;
    out.reserve(n);
    for c in codes {
        match entries.get(c as u32 as usize) {
            Some(e) => out.push(e.to_vec()),
            None => {
                return Err(Corrupt::new(
                    codes_at,
                    format!("dictionary index {c} out of {count} entries"),
                ))
            }
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
        fn round_trip(v in proptest::collection::vec(prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..6),
            Just(b"abc".to_vec()),
        ], 0..300)) {
            let mut out = Vec::new();
            encode(&v, &mut out);
            let mut got = Vec::new();
            let mut r = ByteReader::new(&out);
            decode(&mut r, v.len(), &mut got).unwrap();
            prop_assert!(v.is_empty() || r.is_empty());
            prop_assert_eq!(got, v);
        }
    }
}
