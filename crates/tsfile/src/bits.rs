//! MSB-first bit streams, the bit order every TsFile bit-level encoding uses
//! (RLE bit-packing, TS_2DIFF packing, GORILLA, CHIMP, RLBE).

use crate::buf::{Corrupt, DResult};

/// Appends bits, most significant first, to a byte vector.
///
/// Bits gather in a 64-bit accumulator that goes out as eight bytes when full, so a write is
/// a shift and an OR in the common case; [`BitWriter::pad`] (or [`BitWriter::pad_always`])
/// must end the stream, or the bits still pending are lost.
pub struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    /// The pending bits, in the low `n` bits.
    acc: u64,
    /// How many bits are pending (0..64).
    n: u32,
}

impl<'a> BitWriter<'a> {
    /// A writer appending to `out` (which may already hold bytes).
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Writes the low `bits` bits of `value` (0 ≤ bits ≤ 64).
    #[inline]
    pub fn write(&mut self, value: u64, bits: u32) {
        if bits == 0 {
            return;
        }
        let bits = bits.min(64);
        let v = if bits == 64 {
            value
        } else {
            value & ((1u64 << bits) - 1)
        };
        let free = 64 - self.n;
        if bits < free {
            self.acc = (self.acc << bits) | v;
            self.n += bits;
            return;
        }
        // The accumulator fills up: its bits and the top `free` bits of `v` go out.
        let over = bits - free;
        let top = if self.n == 0 {
            v
        } else {
            (self.acc << free) | (v >> over)
        };
        self.out.extend_from_slice(&top.to_be_bytes());
        self.acc = if over == 0 {
            0
        } else {
            v & ((1u64 << over) - 1)
        };
        self.n = over;
    }

    /// Writes one bit.
    #[inline]
    pub fn bit(&mut self, b: bool) {
        self.write(b as u64, 1);
    }

    /// Bits written into the current, incomplete byte.
    pub fn pending_bits(&self) -> u32 {
        self.n % 8
    }

    /// Writes out the pending bits, padding the last byte with zero bits (nothing if
    /// byte-aligned).
    pub fn pad(&mut self) {
        if self.n > 0 {
            let bytes = self.n.div_ceil(8) as usize;
            let aligned = self.acc << (64 - self.n);
            self.out.extend_from_slice(&aligned.to_be_bytes()[..bytes]);
            self.acc = 0;
            self.n = 0;
        }
    }

    /// Java's GORILLA/CHIMP ending: writes the current byte even when it is empty.
    pub fn pad_always(&mut self) {
        let aligned = self.n.is_multiple_of(8);
        self.pad();
        if aligned {
            self.out.push(0);
        }
    }
}

/// Reads bits, most significant first, from a byte slice.
/// The 128 bits of `data` from bit `pos` on (most significant first), if 16 bytes remain
/// from the byte holding `pos`; the low `pos % 8` bits are then zero fill.
#[inline]
pub(crate) fn window128(data: &[u8], pos: usize) -> Option<u128> {
    let bytes = data.get(pos / 8..pos / 8 + 16)?;
    let mut a = [0u8; 16];
    a.copy_from_slice(bytes);
    Some(u128::from_be_bytes(a) << (pos % 8))
}

/// Calls `f` with `count` consecutive `width`-bit fields (most significant bit first) from
/// the start of `data`; fails without calling `f` if `data` is too short. Fields are read
/// through one 128-bit window each while 16 bytes remain, the tail through [`BitReader`].
pub fn for_each_field(
    data: &[u8],
    width: u32,
    count: usize,
    mut f: impl FnMut(u64),
) -> DResult<()> {
    if width > 64 {
        return Err(Corrupt::new(0, "bit field wider than 64 bits"));
    }
    if (count as u64).saturating_mul(width as u64).div_ceil(8) > data.len() as u64 {
        return Err(Corrupt::new(data.len(), "bit stream ends early"));
    }
    if width == 0 {
        (0..count).for_each(|_| f(0));
        return Ok(());
    }
    let mut pos = 0usize;
    let mut done = 0;
    while done < count {
        let Some(w) = window128(data, pos) else {
            break;
        };
        f((w >> (128 - width)) as u64);
        pos += width as usize;
        done += 1;
    }
    let mut r = BitReader::new(data);
    r.seek_bit(pos);
    for _ in done..count {
        f(r.read(width)?);
    }
    Ok(())
}

/// Reads bits most-significant first from a byte slice, as TsFile's bit-packed encodings
/// store them; reads past the end fail instead of panicking.
#[derive(Debug, Clone)]
pub struct BitReader<'a> {
    data: &'a [u8],
    bitpos: usize,
}

impl<'a> BitReader<'a> {
    /// A reader at the first bit of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        BitReader { data, bitpos: 0 }
    }

    /// A reader starting at byte `byte_pos`.
    pub fn at_byte(data: &'a [u8], byte_pos: usize) -> Self {
        BitReader {
            data,
            bitpos: byte_pos * 8,
        }
    }

    /// The whole input and the cursor, for decoders with their own inner loop.
    pub(crate) fn parts(&self) -> (&'a [u8], usize) {
        (self.data, self.bitpos)
    }

    /// Moves the cursor to bit `pos` (at most the end of the input).
    pub(crate) fn seek_bit(&mut self, pos: usize) {
        self.bitpos = pos.min(self.data.len() * 8);
    }

    /// Bits left.
    pub fn remaining_bits(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.bitpos)
    }

    /// The byte position after the current bit, rounded up (bytes consumed so far).
    pub fn byte_pos_ceil(&self) -> usize {
        self.bitpos.div_ceil(8)
    }

    fn err(&self, what: &str) -> Corrupt {
        Corrupt::new(self.bitpos / 8, what)
    }

    /// Reads `bits` bits (0 ≤ bits ≤ 64) as an unsigned value.
    #[inline]
    pub fn read(&mut self, bits: u32) -> DResult<u64> {
        if bits == 0 {
            return Ok(0);
        }
        if bits > 64 {
            return Err(self.err("bit field wider than 64 bits"));
        }
        if (bits as usize) > self.remaining_bits() {
            return Err(self.err("bit stream ends early"));
        }
        if bits > 56 && self.data.len() >= self.bitpos / 8 + 16 {
            let hi = self.read(bits - 32)?;
            let lo = self.read(32)?;
            return Ok((hi << 32) | lo);
        }
        let byte = self.bitpos / 8;
        if bits <= 56 {
            if let Some(w) = self.data.get(byte..byte + 8) {
                // Fast path: one big-endian load holds the 0-7 bits already used of this
                // byte plus the (at most 56) wanted ones.
                let word = u64::from_be_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
                let used = (self.bitpos % 8) as u32;
                self.bitpos += bits as usize;
                return Ok((word << used) >> (64 - bits));
            }
        }
        let mut value: u64 = 0;
        let mut left = bits;
        while left > 0 {
            let byte = self.data[self.bitpos / 8];
            let used = (self.bitpos % 8) as u32;
            let avail = 8 - used;
            let take = avail.min(left);
            let chunk = ((byte as u32) >> (avail - take)) & ((1u32 << take) - 1);
            value = if take == 64 {
                chunk as u64
            } else {
                (value << take) | chunk as u64
            };
            left -= take;
            self.bitpos += take as usize;
        }
        Ok(value)
    }

    /// Reads one bit.
    #[inline]
    pub fn bit(&mut self) -> DResult<bool> {
        if self.bitpos >= self.data.len() * 8 {
            return Err(self.err("bit stream ends early"));
        }
        let byte = self.data[self.bitpos / 8];
        let b = (byte >> (7 - (self.bitpos % 8))) & 1;
        self.bitpos += 1;
        Ok(b == 1)
    }

    /// Skips to the next byte boundary.
    pub fn align(&mut self) {
        self.bitpos = self.bitpos.div_ceil(8) * 8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn bits_round_trip(fields in proptest::collection::vec((any::<u64>(), 0u32..=64), 0..50)) {
            let mut out = Vec::new();
            let mut w = BitWriter::new(&mut out);
            for (v, b) in &fields { w.write(*v, *b); }
            w.pad();
            let total: u32 = fields.iter().map(|(_, b)| *b).sum();
            prop_assert_eq!(out.len(), total.div_ceil(8) as usize);
            let mut r = BitReader::new(&out);
            for (v, b) in &fields {
                let mask = if *b == 64 { u64::MAX } else { (1u64 << b) - 1 };
                prop_assert_eq!(r.read(*b).unwrap(), v & mask);
            }
        }
    }

    #[test]
    fn msb_first() {
        let mut out = Vec::new();
        let mut w = BitWriter::new(&mut out);
        w.write(0b101, 3);
        w.pad();
        assert_eq!(out, vec![0b1010_0000]);
    }

    #[test]
    fn pad_always_writes_a_byte_when_aligned() {
        for (bits, len) in [(0u32, 1usize), (3, 1), (8, 2), (64, 9), (70, 9), (72, 10)] {
            let mut out = vec![7u8];
            let mut w = BitWriter::new(&mut out);
            for _ in 0..bits {
                w.bit(true);
            }
            w.pad_always();
            assert_eq!(out.len() - 1, len, "{bits} bits");
            assert!(out[1..].iter().take(bits as usize / 8).all(|b| *b == 0xff));
        }
    }
}
