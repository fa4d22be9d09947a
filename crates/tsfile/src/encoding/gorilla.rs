//! GORILLA (Java `GorillaEncoderV2` family): XOR with the previous value.
//!
//! The first value is written raw (32 or 64 bits). Then per value: `0` if equal to the previous
//! one; `10` + the meaningful bits when they fit in the previous leading/trailing-zero window;
//! `11` + leading zeros (5/6 bits) + meaningful-bit count − 1 (5/6 bits) + the bits otherwise.
//! The stream ends with a sentinel value (`i32::MIN`/`i64::MIN`, NaN for floats) and the
//! current byte is always written out (an extra zero byte when already aligned). Floats and
//! doubles are encoded through their raw IEEE bits. Readers here decode a known count of values,
//! so data equal to the sentinel round-trips too (Java readers would stop at it).

use crate::bits::{BitReader, BitWriter};
use crate::buf::{Corrupt, DResult};
use crate::encoding::GorillaWindows;
use std::mem::MaybeUninit;

/// Bit geometry of one value size.
#[derive(Clone, Copy)]
pub(crate) struct Geometry {
    pub bits: u32,
    pub lead_bits: u32,
    pub sig_bits: u32,
}

pub(crate) const G32: Geometry = Geometry {
    bits: 32,
    lead_bits: 5,
    sig_bits: 5,
};
pub(crate) const G64: Geometry = Geometry {
    bits: 64,
    lead_bits: 6,
    sig_bits: 6,
};

/// How many values ahead the encoder looks when it chooses a window (see [`encode_bits`]).
const LOOKAHEAD: usize = 4;

/// Encodes raw bit patterns (low `g.bits` bits of each u64) followed by `sentinel`, ending on a
/// byte boundary as Java does.
///
/// The format lets a writer open a new leading/trailing-zero window (`11` + header) whenever it
/// likes, and the window it opens may be wider than the value needs; Java's `GorillaEncoderV2`
/// opens one only when a value does not fit and makes it exactly as wide as that value. On data
/// whose windows vary (one value with a different exponent widens the window for the rest of
/// the page) that wastes bits on every later value. With [`GorillaWindows::LookAhead`] this
/// writer looks [`LOOKAHEAD`] values ahead: a window it opens covers those values, and it
/// re-opens a narrower one when the bits saved over them pay twice for the header.
/// [`GorillaWindows::Exact`] is Java's rule. Every reader of the format decodes both (ADR 0011).
pub(crate) fn encode_bits<T: Copy>(
    g: Geometry,
    windows: GorillaWindows,
    values: &[T],
    raw: impl Fn(T) -> u64,
    sentinel: u64,
    out: &mut Vec<u8>,
) {
    /// Leading/trailing zeros of an XOR of 0 (a repeated value), and past the end.
    const NONE: u8 = u8::MAX;
    let n = values.len() + 1;
    let at = |i: usize| values.get(i).map_or(sentinel, |v| raw(*v));
    // The leading and trailing zeros of each value's XOR with the previous one.
    let mut zeros: Vec<(u8, u8)> = Vec::with_capacity(n + LOOKAHEAD);
    let mut prev = at(0);
    zeros.push((NONE, NONE));
    for i in 1..n {
        let v = at(i);
        let x = prev ^ v;
        prev = v;
        zeros.push(if x == 0 {
            (NONE, NONE)
        } else {
            (
                (x.leading_zeros() - (64 - g.bits)) as u8,
                x.trailing_zeros() as u8,
            )
        });
    }
    zeros.resize(n + LOOKAHEAD, (NONE, NONE));
    let header = g.lead_bits + g.sig_bits;
    let mut w = BitWriter::new(out);
    let mut prev = at(0);
    w.write(prev, g.bits);
    // The open window's leading and trailing zeros (NONE: no window yet, nothing fits).
    let (mut sl, mut st) = (NONE as u32, 0u32);
    for i in 1..n {
        let v = at(i);
        let xor = prev ^ v;
        prev = v;
        let (l, t) = zeros[i];
        if l == NONE {
            w.bit(false);
            continue;
        }
        // The narrowest window holding this value and the next differing ones, computed
        // without branches: the keep-or-reopen choice below is hard to predict on noisy data.
        let (mut wl, mut wt, mut ahead) = (l, t, 1u32);
        for &(nl, nt) in &zeros[i + 1..i + LOOKAHEAD] {
            wl = wl.min(nl);
            wt = wt.min(nt);
            ahead += (nl != NONE) as u32;
        }
        let (l, t) = (l as u32, t as u32);
        let (al, at) = match windows {
            GorillaWindows::LookAhead => (wl as u32, wt as u32),
            GorillaWindows::Exact => (l, t),
        };
        // Keep the window if the value fits and a narrower one would not pay twice for its
        // header (Java's rule: whenever it fits). Twice: each re-opening also costs readers a
        // hard-to-predict branch, and half as many re-openings lose almost no bytes.
        let fits = (l >= sl) & (t >= st);
        let keep = fits
            & (windows == GorillaWindows::Exact
                || (al + at).saturating_sub(sl + st) * ahead <= 2 * header);
        if keep {
            let sig = g.bits - sl - st;
            if sig <= 62 {
                w.write((0b10 << sig) | (xor >> st), 2 + sig);
            } else {
                w.write(0b10, 2);
                w.write(xor >> st, sig);
            }
        } else {
            let sig = g.bits - al - at;
            let head = (0b11 << header) | ((al as u64) << g.sig_bits) | (sig - 1) as u64;
            w.write(head, 2 + header);
            w.write(xor >> at, sig);
            (sl, st) = (al, at);
        }
    }
    w.pad_always();
}

/// Streaming decoder over raw bit patterns.
pub(crate) struct GorillaReader {
    g: Geometry,
    first: bool,
    stored: u64,
    lead: u32,
    trail: u32,
}

impl GorillaReader {
    pub(crate) fn new(g: Geometry) -> Self {
        GorillaReader {
            g,
            first: true,
            stored: 0,
            lead: 0,
            trail: 0,
        }
    }

    #[inline]
    pub(crate) fn next(&mut self, r: &mut BitReader<'_>) -> DResult<u64> {
        let g = self.g;
        if self.first {
            self.first = false;
            self.stored = r.read(g.bits)?;
            return Ok(self.stored);
        }
        if !r.bit()? {
            return Ok(self.stored);
        }
        if r.bit()? {
            let lead = r.read(g.lead_bits)? as u32;
            let sig = r.read(g.sig_bits)? as u32 + 1;
            if lead + sig > g.bits {
                return Err(Corrupt::new(
                    r.byte_pos_ceil(),
                    format!("GORILLA window {lead}+{sig} exceeds {} bits", g.bits),
                ));
            }
            self.lead = lead;
            self.trail = g.bits - sig - lead;
        }
        let sig = g.bits - self.lead - self.trail;
        let xor = r.read(sig)? << self.trail;
        self.stored ^= xor;
        Ok(self.stored)
    }
}

impl GorillaReader {
    /// Decodes values into `slots` after the stream's first while 16 bytes remain from the
    /// cursor on: the 128 bits from the byte holding the cursor hold a value's control bits,
    /// a new window header and up to 64 meaningful bits (at most 85 bits from a byte
    /// boundary), so there are no bounds checks bit by bit. Most values need only the first
    /// word of those bits (one load and one shift): all 32-bit values, and doubles whose
    /// control bits, header and window fit in the word from the cursor's bit on. The window
    /// and the previous value live in locals for the run (no store per value). Stops early
    /// (leaving the cursor on the value) at a header the checked reader must report. Returns
    /// how many slots were filled.
    #[inline]
    fn run_windowed<T>(
        &mut self,
        r: &mut BitReader<'_>,
        slots: &mut [MaybeUninit<T>],
        conv: &impl Fn(u64) -> T,
    ) -> usize {
        if self.first {
            return 0;
        }
        let g = self.g;
        let header = g.lead_bits + g.sig_bits;
        let (data, mut pos) = r.parts();
        let (mut stored, mut lead, mut trail) = (self.stored, self.lead, self.trail);
        let mut sig = g.bits - lead - trail;
        let mut done = 0;
        for slot in slots.iter_mut() {
            let Some(bytes) = data.get(pos / 8..pos / 8 + 16) else {
                break;
            };
            let mut hi = [0u8; 8];
            hi.copy_from_slice(&bytes[..8]);
            let hi = u64::from_be_bytes(hi);
            // the bits from `pos` on: the first 64 - offset (at least 57) are the stream's
            let offset = (pos % 8) as u32;
            let w = hi << offset;
            if w >> 63 == 0 {
                pos += 1;
            } else {
                let mut used = 2;
                if (w >> 62) & 1 == 1 {
                    let l = ((w << 2) >> (64 - g.lead_bits)) as u32;
                    let s = ((w << (2 + g.lead_bits)) >> (64 - g.sig_bits)) as u32 + 1;
                    if l + s > g.bits {
                        break;
                    }
                    (lead, sig) = (l, s);
                    trail = g.bits - s - l;
                    used += header;
                }
                let bits = if offset + used + sig <= 64 {
                    w << used
                } else {
                    // the 64 bits from bit `offset + used` of the 16 bytes (that shift is
                    // below 64: the offset is at most 7, the control bits and a header 14)
                    let mut lo = [0u8; 8];
                    lo.copy_from_slice(&bytes[8..]);
                    let shift = offset + used;
                    (hi << shift) | ((u64::from_be_bytes(lo) >> 1) >> (63 - shift))
                };
                stored ^= (bits >> (64 - sig)) << trail;
                pos += (used + sig) as usize;
            }
            slot.write(conv(stored));
            done += 1;
        }
        (self.stored, self.lead, self.trail) = (stored, lead, trail);
        r.seek_bit(pos);
        done
    }
}

/// Decodes `n` raw bit patterns from the start of `data`, converted by `conv`, onto the end of
/// `out`; returns the bytes consumed as a Java reader would consume them (through the sentinel
/// and its closing byte). On an error, the values decoded before it stay appended.
pub(crate) fn decode_bits<T>(
    g: Geometry,
    data: &[u8],
    n: usize,
    out: &mut Vec<T>,
    conv: impl Fn(u64) -> T,
) -> DResult<usize> {
    let before = out.len();
    // every value takes at least one bit: a count the data cannot hold is not allocated
    let cap = n.min(data.len() * 8);
    out.reserve(cap);
    // values are written straight into the spare capacity (filling it with placeholders
    // first cost more than decoding on smooth data)
    let slots = &mut out.spare_capacity_mut()[..cap];
    let mut r = BitReader::new(data);
    let mut dec = GorillaReader::new(g);
    let mut done = 0;
    let decoded = (|| {
        while done < n {
            // the first value, the stream's last 16 bytes and bad headers take the checked path
            let v = conv(dec.next(&mut r)?);
            let Some(slot) = slots.get_mut(done) else {
                return Err(Corrupt::new(r.byte_pos_ceil(), "GORILLA data ends early"));
            };
            slot.write(v);
            done += 1;
            done += dec.run_windowed(&mut r, &mut slots[done..], &conv);
        }
        // The sentinel follows; consume it to find where the stream ends.
        dec.next(&mut r)
    })();
    // SAFETY: the first `done` slots of the spare capacity were written above (each slot
    // counted in `done` was written before it was counted), and `done <= cap`, which
    // `reserve` made available after `before`.
    unsafe { out.set_len(before + done) };
    decoded?;
    let bits = data.len() * 8 - r.remaining_bits();
    // Java always closes the stream with a (possibly empty) byte after the sentinel's bits.
    Ok((bits / 8 + 1).min(data.len()))
}

/// Encodes INT32 / DATE values.
pub fn encode_i32(values: &[i32], windows: GorillaWindows, out: &mut Vec<u8>) {
    encode_bits(
        G32,
        windows,
        values,
        |v| v as u32 as u64,
        i32::MIN as u32 as u64,
        out,
    );
}

/// Encodes INT64 / TIMESTAMP values.
pub fn encode_i64(values: &[i64], windows: GorillaWindows, out: &mut Vec<u8>) {
    encode_bits(G64, windows, values, |v| v as u64, i64::MIN as u64, out);
}

/// Encodes FLOAT values (raw bits; sentinel = canonical NaN).
pub fn encode_f32(values: &[f32], windows: GorillaWindows, out: &mut Vec<u8>) {
    encode_bits(
        G32,
        windows,
        values,
        |v| v.to_bits() as u64,
        f32::NAN.to_bits() as u64,
        out,
    );
}

/// Encodes DOUBLE values (raw bits; sentinel = canonical NaN).
pub fn encode_f64(values: &[f64], windows: GorillaWindows, out: &mut Vec<u8>) {
    encode_bits(
        G64,
        windows,
        values,
        |v| v.to_bits(),
        f64::NAN.to_bits(),
        out,
    );
}

/// Decodes `n` INT32 values; returns bytes consumed.
pub fn decode_i32(data: &[u8], n: usize, out: &mut Vec<i32>) -> DResult<usize> {
    decode_bits(G32, data, n, out, |v| v as u32 as i32)
}

/// Decodes `n` INT64 values; returns bytes consumed.
pub fn decode_i64(data: &[u8], n: usize, out: &mut Vec<i64>) -> DResult<usize> {
    decode_bits(G64, data, n, out, |v| v as i64)
}

/// Decodes `n` FLOAT values; returns bytes consumed.
pub fn decode_f32(data: &[u8], n: usize, out: &mut Vec<f32>) -> DResult<usize> {
    decode_bits(G32, data, n, out, |v| f32::from_bits(v as u32))
}

/// Decodes `n` DOUBLE values; returns bytes consumed.
pub fn decode_f64(data: &[u8], n: usize, out: &mut Vec<f64>) -> DResult<usize> {
    decode_bits(G64, data, n, out, f64::from_bits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn i32_round_trip(v in proptest::collection::vec(any::<i32>(), 0..300)) {
            let mut out = Vec::new();
            encode_i32(&v, GorillaWindows::LookAhead, &mut out);
            let mut got = Vec::new();
            let used = decode_i32(&out, v.len(), &mut got).unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(got, v);
        }

        #[test]
        fn i64_round_trip(v in proptest::collection::vec(any::<i64>(), 0..300)) {
            let mut out = Vec::new();
            encode_i64(&v, GorillaWindows::LookAhead, &mut out);
            let mut got = Vec::new();
            let used = decode_i64(&out, v.len(), &mut got).unwrap();
            prop_assert_eq!(used, out.len());
            prop_assert_eq!(got, v);
        }

        #[test]
        fn f64_round_trip_bits(v in proptest::collection::vec(any::<u64>(), 0..300)) {
            let vals: Vec<f64> = v.iter().map(|b| f64::from_bits(*b)).collect();
            let mut out = Vec::new();
            encode_f64(&vals, GorillaWindows::LookAhead, &mut out);
            let mut got = Vec::new();
            decode_f64(&out, vals.len(), &mut got).unwrap();
            let bits: Vec<u64> = got.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(bits, v);
        }

        /// Smooth runs with repeats and small changes: every control form (repeat, reused
        /// window, new window) in long streams.
        #[test]
        fn f64_round_trip_smooth(
            steps in proptest::collection::vec((0u8..4, -3i32..3), 0..2000),
        ) {
            let mut x = 1.5f64;
            let vals: Vec<f64> = steps
                .iter()
                .map(|&(kind, d)| {
                    match kind {
                        0 => {}
                        1 => x += d as f64 * 0.001,
                        2 => x = (x * 1e3).round() / 1e3 + d as f64,
                        _ => x = -x / 3.0,
                    }
                    x
                })
                .collect();
            let mut out = Vec::new();
            encode_f64(&vals, GorillaWindows::LookAhead, &mut out);
            let mut got = Vec::new();
            let used = decode_f64(&out, vals.len(), &mut got).unwrap();
            prop_assert_eq!(used, out.len());
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&got), bits(&vals));
        }

        /// A cut stream decodes to an error or to fewer values, and whatever it appends is
        /// a prefix of the values written, after what `out` held before.
        #[test]
        fn cut_streams_append_a_prefix(
            v in proptest::collection::vec(any::<u64>(), 1..300),
            cut in any::<prop::sample::Index>(),
        ) {
            let vals: Vec<f64> = v.iter().map(|b| f64::from_bits(*b)).collect();
            let mut out = Vec::new();
            encode_f64(&vals, GorillaWindows::LookAhead, &mut out);
            out.truncate(cut.index(out.len()));
            let mut got = vec![7.5];
            let _ = decode_f64(&out, vals.len(), &mut got);
            prop_assert_eq!(got[0].to_bits(), 7.5f64.to_bits());
            prop_assert!(got.len() - 1 <= vals.len());
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            prop_assert_eq!(bits(&got[1..]), bits(&vals[..got.len() - 1]));
        }

        #[test]
        fn f32_round_trip_bits(v in proptest::collection::vec(any::<u32>(), 0..300)) {
            let vals: Vec<f32> = v.iter().map(|b| f32::from_bits(*b)).collect();
            let mut out = Vec::new();
            encode_f32(&vals, GorillaWindows::LookAhead, &mut out);
            let mut got = Vec::new();
            decode_f32(&out, vals.len(), &mut got).unwrap();
            let bits: Vec<u32> = got.iter().map(|x| x.to_bits()).collect();
            prop_assert_eq!(bits, v);
        }
    }

    /// Bits per value of Java's policy (a window is opened only when a value does not fit, and
    /// exactly as wide as that value), for comparison.
    fn exact_window_bits(v: &[f64]) -> f64 {
        let (mut sl, mut st, mut bits) = (u32::MAX, 0, 64u64);
        for p in v.windows(2) {
            let x = p[0].to_bits() ^ p[1].to_bits();
            if x == 0 {
                bits += 1;
                continue;
            }
            let (l, t) = (x.leading_zeros(), x.trailing_zeros());
            if l >= sl && t >= st {
                bits += 2 + (64 - sl - st) as u64;
            } else {
                bits += 14 + (64 - l - t) as u64;
                (sl, st) = (l, t);
            }
        }
        bits as f64 / v.len() as f64
    }

    #[test]
    fn look_ahead_windows_beat_exact_windows() {
        // Uniform doubles in [0, 1000) (xorshift) and a smooth signal rounded to two decimals:
        // an occasional value with a different exponent widens an exact window for good.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let random: Vec<f64> = (0..8000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 * 1000.0
            })
            .collect();
        let smooth: Vec<f64> = (0..8000)
            .map(|i| {
                ((100.0 * (i as f64 / 500.0).sin() + (i % 7) as f64 * 0.25) * 100.0).round() / 100.0
            })
            .collect();
        for (name, vals) in [("random", &random), ("smooth", &smooth)] {
            let mut out = Vec::new();
            encode_f64(vals, GorillaWindows::LookAhead, &mut out);
            let ours = out.len() as f64 * 8.0 / vals.len() as f64;
            let exact = exact_window_bits(vals);
            assert!(
                ours < exact * 0.95,
                "{name}: {ours:.2} bits/value, exact windows {exact:.2}"
            );
            // Java's rule, on request: its size to the bit, plus the sentinel and padding
            let mut java = Vec::new();
            encode_f64(vals, GorillaWindows::Exact, &mut java);
            let extra = java.len() as f64 * 8.0 - exact * vals.len() as f64;
            assert!(
                (0.0..=2.0 + 12.0 + 64.0 + 8.0).contains(&extra),
                "{name}: {extra}"
            );
            let mut back = Vec::new();
            decode_f64(&java, vals.len(), &mut back).unwrap();
            assert_eq!(&back, vals);
            let mut got = Vec::new();
            decode_f64(&out, vals.len(), &mut got).unwrap();
            assert_eq!(&got, vals);
        }
    }
}
