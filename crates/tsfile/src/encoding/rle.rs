//! RLE: the run-length / bit-packing hybrid of TsFile (Java `IntRleEncoder`, `LongRleEncoder`).
//!
//! One *block* is `uvarint byteLen` followed by `byteLen` bytes: a bit-width byte, then runs.
//! A run header is an unsigned varint: even = RLE run (`count << 1`, then the value in
//! ⌈bitWidth/8⌉ bytes: little-endian for 32-bit values, big-endian for 64-bit values);
//! odd = bit-packed run (`groups << 1 | 1`, then one byte with the number of valid values in the
//! last group, then `groups × bitWidth` bytes holding 8 values per group, MSB first).
//! The encoder reproduces Java's run-splitting state machine byte for byte.

use crate::bits::{BitReader, BitWriter};
use crate::buf::{ByteReader, Corrupt, DResult, PutBytes};

const MIN_REPEAT: usize = 8;
const MAX_REPEAT: usize = 0x7FFF;
const MAX_GROUPS: usize = 63;

/// Bit width of a value as Java computes it (`32 - numberOfLeadingZeros`), at least 1 for a set.
#[inline]
fn width32(v: u32) -> u32 {
    32 - v.leading_zeros()
}

#[inline]
fn width64(v: u64) -> u32 {
    64 - v.leading_zeros()
}

struct RleState<'o> {
    long: bool,
    bit_width: u32,
    cache: &'o mut Vec<u8>,
    packed: Vec<u8>,
    buffered: [u64; MIN_REPEAT],
    n_buffered: usize,
    repeat: usize,
    pre: u64,
    bitpack_run: bool,
    groups: usize,
}

impl RleState<'_> {
    fn write_value_bytes(&mut self, v: u64) {
        let n = self.bit_width.div_ceil(8) as usize;
        if self.long {
            // Java writeLongLittleEndianPaddedOnBitWidth really writes big-endian.
            for i in (0..n).rev() {
                self.cache.push((v >> (8 * i)) as u8);
            }
        } else {
            for i in 0..n.min(4) {
                self.cache.push((v >> (8 * i)) as u8);
            }
        }
    }

    fn end_bitpack_run(&mut self, last: usize) {
        if !self.bitpack_run {
            return;
        }
        self.cache.push(((self.groups << 1) | 1) as u8);
        self.cache.push(last as u8);
        self.cache.extend_from_slice(&self.packed);
        self.packed.clear();
        self.bitpack_run = false;
        self.groups = 0;
    }

    fn write_rle_run(&mut self) {
        self.end_bitpack_run(MIN_REPEAT);
        self.cache.put_uvarint((self.repeat << 1) as u32);
        let v = self.pre;
        self.write_value_bytes(v);
        self.repeat = 0;
        self.n_buffered = 0;
    }

    fn append_bitpacked(&mut self) {
        if self.groups >= MAX_GROUPS {
            self.end_bitpack_run(MIN_REPEAT);
        }
        self.bitpack_run = true;
        let mut w = BitWriter::new(&mut self.packed);
        for v in self.buffered {
            w.write(v, self.bit_width);
        }
        w.pad();
        self.n_buffered = 0;
        self.repeat = 0;
        self.groups += 1;
    }

    fn encode_value(&mut self, v: u64) {
        if v == self.pre {
            self.repeat += 1;
            if (MIN_REPEAT..=MAX_REPEAT).contains(&self.repeat) {
                return;
            } else if self.repeat == MAX_REPEAT + 1 {
                self.repeat = MAX_REPEAT;
                self.write_rle_run();
                self.repeat = 1;
                self.pre = v;
            }
        } else {
            if self.repeat >= MIN_REPEAT {
                self.write_rle_run();
            }
            self.repeat = 1;
            self.pre = v;
        }
        self.buffered[self.n_buffered] = v;
        self.n_buffered += 1;
        if self.n_buffered == MIN_REPEAT {
            self.append_bitpacked();
        }
    }

    fn flush(&mut self) {
        let last = self.n_buffered;
        if self.repeat >= MIN_REPEAT {
            self.write_rle_run();
        } else if self.n_buffered > 0 {
            for i in self.n_buffered..MIN_REPEAT {
                self.buffered[i] = 0;
            }
            self.append_bitpacked();
            self.end_bitpack_run(last);
        } else {
            self.end_bitpack_run(MIN_REPEAT);
        }
    }
}

fn encode_block(values: impl Iterator<Item = u64> + Clone, long: bool, out: &mut Vec<u8>) {
    let bit_width = values
        .clone()
        .map(|v| if long { width64(v) } else { width32(v as u32) })
        .max()
        .unwrap_or(1)
        .max(1);
    let mut cache = Vec::new();
    let mut st = RleState {
        long,
        bit_width,
        cache: &mut cache,
        packed: Vec::new(),
        buffered: [0; MIN_REPEAT],
        n_buffered: 0,
        repeat: 0,
        pre: 0,
        bitpack_run: false,
        groups: 0,
    };
    let mut any = false;
    for v in values {
        if !any {
            st.cache.push(bit_width as u8);
            any = true;
        }
        st.encode_value(v);
    }
    st.flush();
    out.put_uvarint(cache.len() as u32);
    out.extend_from_slice(&cache);
}

/// Encodes 32-bit values (INT32, DATE, BOOLEAN as 0/1, dictionary indexes) as one RLE block.
pub fn encode_i32(values: &[i32], out: &mut Vec<u8>) {
    encode_block(values.iter().map(|v| *v as u32 as u64), false, out);
}

/// Encodes booleans as one 32-bit RLE block of 0/1.
pub fn encode_bool(values: &[bool], out: &mut Vec<u8>) {
    encode_block(values.iter().map(|v| *v as u64), false, out);
}

/// Encodes 64-bit values (INT64, TIMESTAMP) as one RLE block.
pub fn encode_i64(values: &[i64], out: &mut Vec<u8>) {
    encode_block(values.iter().map(|v| *v as u64), true, out);
}

/// Decodes RLE blocks from `r` until `n` values were produced, calling `push` for each.
fn decode_blocks(
    r: &mut ByteReader<'_>,
    n: usize,
    long: bool,
    mut push: impl FnMut(u64),
) -> DResult<()> {
    let mut produced = 0usize;
    while produced < n {
        let block_start = r.pos();
        let len = r.uvarint_len()?;
        let block = r.take(len)?;
        let base = r.pos() - len;
        if block.is_empty() {
            return Err(Corrupt::new(block_start, "empty RLE block"));
        }
        let bit_width = block[0] as u32;
        let max_width = if long { 64 } else { 32 };
        if bit_width > max_width {
            return Err(Corrupt::new(
                base,
                format!("RLE bit width {bit_width} exceeds {max_width}"),
            ));
        }
        let mut br = ByteReader::new(&block[1..]);
        while !br.is_empty() && produced < n {
            let at = base + 1 + br.pos();
            let header = br
                .uvarint()
                .map_err(|e| Corrupt::new(base + 1 + e.pos, e.what))?;
            if header & 1 == 0 {
                let count = (header >> 1) as usize;
                let nbytes = bit_width.div_ceil(8) as usize;
                let bytes = br
                    .take(nbytes)
                    .map_err(|e| Corrupt::new(base + 1 + e.pos, e.what))?;
                let mut v: u64 = 0;
                if long {
                    for b in bytes {
                        v = (v << 8) | *b as u64;
                    }
                } else {
                    for (i, b) in bytes.iter().enumerate() {
                        v |= (*b as u64) << (8 * i);
                    }
                    v = v as u32 as u64;
                }
                let take = count.min(n - produced);
                for _ in 0..take {
                    push(v);
                }
                produced += take;
            } else {
                let groups = (header >> 1) as usize;
                if groups == 0 {
                    return Err(Corrupt::new(at, "bit-packed RLE run with no groups"));
                }
                let last = br
                    .u8()
                    .map_err(|e| Corrupt::new(base + 1 + e.pos, e.what))?
                    as usize;
                let count = (groups - 1) * MIN_REPEAT + last;
                // Java reads min(groups × width, remaining) bytes and treats the rest as zero.
                let want = groups * bit_width as usize;
                let avail = want.min(br.remaining());
                let bytes = br
                    .take(avail)
                    .map_err(|e| Corrupt::new(base + 1 + e.pos, e.what))?;
                let take = count.min(n - produced);
                let mut bits = BitReader::new(bytes);
                for _ in 0..take {
                    let v = if bits.remaining_bits() >= bit_width as usize {
                        bits.read(bit_width)?
                    } else {
                        let rem = bits.remaining_bits() as u32;
                        if rem == 0 {
                            0
                        } else {
                            bits.read(rem)? << (bit_width - rem)
                        }
                    };
                    push(v);
                }
                produced += take;
            }
        }
        if produced < n && r.is_empty() {
            break;
        }
    }
    if produced < n {
        return Err(r.err(format!("RLE data holds {produced} values, {n} expected")));
    }
    Ok(())
}

/// Decodes `n` 32-bit values.
pub fn decode_i32(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i32>) -> DResult<()> {
    out.reserve(n);
    decode_blocks(r, n, false, |v| out.push(v as u32 as i32))
}

/// Decodes `n` booleans (non-zero = true).
pub fn decode_bool(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<bool>) -> DResult<()> {
    out.reserve(n);
    decode_blocks(r, n, false, |v| out.push(v as u32 != 0))
}

/// Decodes `n` 64-bit values.
pub fn decode_i64(r: &mut ByteReader<'_>, n: usize, out: &mut Vec<i64>) -> DResult<()> {
    out.reserve(n);
    decode_blocks(r, n, true, |v| out.push(v as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt32(v: &[i32]) {
        let mut out = Vec::new();
        encode_i32(v, &mut out);
        let mut got = Vec::new();
        let mut r = ByteReader::new(&out);
        decode_i32(&mut r, v.len(), &mut got).unwrap();
        assert!(v.is_empty() || r.is_empty());
        assert_eq!(got, v);
    }

    #[test]
    fn java_bytes_small() {
        // IntRleEncoder of [1,1,1,1,1,1,1,1,1,1] (10 repeats): width 1, RLE run of 10.
        let mut out = Vec::new();
        encode_i32(&[1; 10], &mut out);
        assert_eq!(out, vec![3, 1, 20, 1]);
        rt32(&[1; 10]);
        rt32(&[0, 1, 2, 3]);
        rt32(&[-1, 5, -7]);
    }

    #[test]
    fn long_runs_and_groups() {
        let mut v: Vec<i32> = (0..1000).map(|i| i % 7).collect();
        v.extend(std::iter::repeat_n(3, 70_000));
        v.extend((0..600).map(|i| i * 3));
        rt32(&v);
    }

    proptest! {
        #[test]
        fn i32_round_trip(v in proptest::collection::vec(prop_oneof![any::<i32>(), 0i32..4], 0..600)) {
            rt32(&v);
        }

        #[test]
        fn i64_round_trip(v in proptest::collection::vec(prop_oneof![any::<i64>(), 0i64..4], 0..600)) {
            let mut out = Vec::new();
            encode_i64(&v, &mut out);
            let mut got = Vec::new();
            decode_i64(&mut ByteReader::new(&out), v.len(), &mut got).unwrap();
            prop_assert_eq!(got, v);
        }

        #[test]
        fn bool_round_trip(v in proptest::collection::vec(any::<bool>(), 0..600)) {
            let mut out = Vec::new();
            encode_bool(&v, &mut out);
            let mut got = Vec::new();
            decode_bool(&mut ByteReader::new(&out), v.len(), &mut got).unwrap();
            prop_assert_eq!(got, v);
        }
    }
}
