//! The bloom filter of full series paths in TsFileMetadata (Java `BloomFilter`,
//! `Murmur128Hash`).
//!
//! Size: `max(256, ⌊−n·ln(p)/ln²2⌋ + 1)` bits and `min(8, ⌊−ln(p)/ln 2⌋ + 1)` hash functions for
//! `n` paths at error rate `p` (default 0.05, clamped to [0.01, 0.1]); seeds 5, 7, 11, 19, 31,
//! 37, 43, 59. Each hash is the low 32 bits of the sum of the two 64-bit halves of MurmurHash3
//! x64/128 of the UTF-8 path (tail bytes sign-extended, as in Java), mapped to
//! `abs(h) % size` (with `i32::MIN` → 0). Serialized as `uvarint byteLen`, the bits in Java
//! `BitSet.toByteArray` order (bit i in byte i/8 at position i%8, trailing zero bytes dropped),
//! `uvarint size`, `uvarint hashCount`.

use crate::buf::{ByteReader, DResult, PutBytes};

const SEEDS: [u64; 8] = [5, 7, 11, 19, 31, 37, 43, 59];
const MIN_SIZE: usize = 256;
const MAX_HASHES: usize = 8;
/// Largest filter accepted when reading (bits).
pub const MAX_BITS: usize = 1 << 30;

fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51afd7ed558ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ceb9fe1a85ec53);
    k ^= k >> 33;
    k
}

/// Java `Murmur128Hash.hash(String, seed)` over the string's UTF-8 bytes.
pub fn murmur128(key: &[u8], seed: u64) -> i32 {
    let len = key.len();
    let nblocks = len >> 4;
    let (mut h1, mut h2) = (seed, seed);
    let c1: u64 = 0x87c37b91114253d5;
    let c2: u64 = 0x4cf5ad432745937f;
    let block = |i: usize| {
        let mut b = [0u8; 8];
        b.copy_from_slice(&key[i * 8..i * 8 + 8]);
        u64::from_le_bytes(b)
    };
    for i in 0..nblocks {
        let mut k1 = block(i * 2);
        let mut k2 = block(i * 2 + 1);
        k1 = k1.wrapping_mul(c1).rotate_left(31).wrapping_mul(c2);
        h1 ^= k1;
        h1 = h1.rotate_left(27).wrapping_add(h2);
        h1 = h1.wrapping_mul(5).wrapping_add(0x52dce729);
        k2 = k2.wrapping_mul(c2).rotate_left(33).wrapping_mul(c1);
        h2 ^= k2;
        h2 = h2.rotate_left(31).wrapping_add(h1);
        h2 = h2.wrapping_mul(5).wrapping_add(0x38495ab5);
    }
    let tail = &key[nblocks * 16..];
    // Java sign-extends each tail byte before shifting.
    let sx = |i: usize| tail[i] as i8 as i64 as u64;
    let rem = len & 15;
    let (mut k1, mut k2) = (0u64, 0u64);
    if rem > 8 {
        for i in (8..rem).rev() {
            k2 ^= sx(i) << ((i - 8) * 8);
        }
        k2 = k2.wrapping_mul(c2).rotate_left(33).wrapping_mul(c1);
        h2 ^= k2;
    }
    if rem > 0 {
        for i in (0..rem.min(8)).rev() {
            k1 ^= sx(i) << (i * 8);
        }
        k1 = k1.wrapping_mul(c1).rotate_left(31).wrapping_mul(c2);
        h1 ^= k1;
    }
    h1 ^= len as u64;
    h2 ^= len as u64;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1.wrapping_add(h2) as i32
}

/// A bloom filter over full series paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BloomFilter {
    bits: Vec<u64>,
    size: usize,
    hashes: usize,
}

impl BloomFilter {
    /// An empty filter sized for `n` paths at `error_rate`.
    pub fn with_capacity(n: usize, error_rate: f64) -> Self {
        let p = error_rate.clamp(0.01, 0.1);
        let ln2 = std::f64::consts::LN_2;
        let size = ((-(n as f64) * p.ln() / ln2 / ln2) as usize + 1).max(MIN_SIZE);
        let hashes = ((-p.ln() / ln2) as usize + 1).min(MAX_HASHES);
        BloomFilter {
            bits: vec![0; size.div_ceil(64)],
            size,
            hashes,
        }
    }

    /// Number of bits.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Number of hash functions.
    pub fn hash_count(&self) -> usize {
        self.hashes
    }

    fn index(&self, path: &str, seed: u64) -> usize {
        let mut h = murmur128(path.as_bytes(), seed);
        if h == i32::MIN {
            h = 0;
        }
        (h.unsigned_abs() as usize) % self.size
    }

    /// Adds a full path (`device.measurement`).
    pub fn add(&mut self, path: &str) {
        for seed in SEEDS.iter().take(self.hashes) {
            let i = self.index(path, *seed);
            self.bits[i / 64] |= 1 << (i % 64);
        }
    }

    /// False means the path is certainly absent.
    pub fn might_contain(&self, path: &str) -> bool {
        SEEDS.iter().take(self.hashes).all(|seed| {
            let i = self.index(path, *seed);
            self.bits
                .get(i / 64)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
        })
    }

    /// Java `BitSet.toByteArray`.
    fn bytes(&self) -> Vec<u8> {
        let mut out: Vec<u8> = self.bits.iter().flat_map(|w| w.to_le_bytes()).collect();
        while out.last() == Some(&0) {
            out.pop();
        }
        out
    }

    /// V3 layout: always byte length, bytes, size, hash count.
    pub fn write_v3(&self, out: &mut Vec<u8>) {
        let b = self.bytes();
        out.put_uvarint(b.len() as u32);
        out.extend_from_slice(&b);
        out.put_uvarint(self.size as u32);
        out.put_uvarint(self.hashes as u32);
    }

    /// V4 layout: size and hash count only follow a non-empty byte array.
    pub fn write_v4(&self, out: &mut Vec<u8>) {
        let b = self.bytes();
        out.put_uvarint(b.len() as u32);
        if !b.is_empty() {
            out.extend_from_slice(&b);
            out.put_uvarint(self.size as u32);
            out.put_uvarint(self.hashes as u32);
        }
    }

    /// Reads a filter; `v4` selects the V4 rule for an empty byte array. Returns `None` for an
    /// absent (empty) filter.
    pub fn read(r: &mut ByteReader<'_>, v4: bool) -> DResult<Option<BloomFilter>> {
        let at = r.pos();
        let len = r.uvarint_len()?;
        let bytes = r.take(len)?;
        if v4 && bytes.is_empty() {
            return Ok(None);
        }
        let size = r.uvarint_len()?;
        let hashes = r.uvarint_len()?.min(MAX_HASHES);
        if size == 0 || size > MAX_BITS || bytes.len() > size.div_ceil(8) {
            return Err(crate::buf::Corrupt::new(
                at,
                format!("bloom filter of {size} bits with {} bytes", bytes.len()),
            ));
        }
        let mut bits = vec![0u64; size.div_ceil(64)];
        for (i, b) in bytes.iter().enumerate() {
            bits[i / 8] |= (*b as u64) << ((i % 8) * 8);
        }
        Ok(Some(BloomFilter { bits, size, hashes }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_sizes() {
        let f = BloomFilter::with_capacity(2, 0.05);
        assert_eq!((f.size(), f.hash_count()), (256, 5));
        let f = BloomFilter::with_capacity(1000, 0.05);
        assert_eq!(f.size(), 6236);
    }

    #[test]
    fn matches_a_filter_written_by_pypi_tsfile() {
        // From a PyPI tsfile 2.5 file with series root.sg1.d1.s1 and root.sg1.d1.s2.
        let bytes = [
            0x1f, 0x01, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x80, 0x10, 0x40, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x14, 0x80, 0x02, 0x05,
        ];
        let read = BloomFilter::read(&mut ByteReader::new(&bytes), true)
            .unwrap()
            .unwrap();
        let mut ours = BloomFilter::with_capacity(2, 0.05);
        ours.add("root.sg1.d1.s1");
        ours.add("root.sg1.d1.s2");
        assert_eq!(ours, read);
        let mut out = Vec::new();
        ours.write_v4(&mut out);
        assert_eq!(out, bytes);
        assert!(read.might_contain("root.sg1.d1.s1"));
    }
}
