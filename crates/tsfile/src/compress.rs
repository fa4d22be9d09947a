//! Page compressors, byte-compatible with what Java's `ICompressor` writes:
//!
//! | Type | Framing (as Java writes it) | Crate |
//! |---|---|---|
//! | UNCOMPRESSED | none | — |
//! | SNAPPY | raw Snappy block (xerial `Snappy.compress`) | `snap::raw` |
//! | GZIP | gzip member (`GZIPOutputStream`) | `flate2` |
//! | LZ4 | raw LZ4 block, no size prefix (lz4-java `fastCompressor`) | `lz4_flex::block` |
//! | ZSTD | zstd frame | `zstd` |
//! | LZMA2 | `.xz` stream (`XZOutputStream`, CRC64) | `lzma-rust2` |
//!
//! The uncompressed size is stored in the page header; decompression checks that exactly that
//! many bytes come out and never allocates more than the declared size, itself bounded by
//! [`MAX_PAGE_BYTES`] and, for LZ4/Snappy, by the format's maximum expansion ratio.

use std::io::{Read, Write};

use model::{CompressionType, Error, Result};

/// Largest uncompressed page this crate accepts when reading (512 MiB).
pub const MAX_PAGE_BYTES: usize = 512 << 20;

/// Largest LZMA2 dictionary accepted when reading (64 MiB, xz preset 9).
const MAX_XZ_DICT: u32 = 64 << 20;

/// True if this crate can compress and decompress with `kind`.
pub fn is_implemented(kind: CompressionType) -> bool {
    matches!(
        kind,
        CompressionType::Uncompressed
            | CompressionType::Snappy
            | CompressionType::Gzip
            | CompressionType::Lz4
            | CompressionType::Zstd
            | CompressionType::Lzma2
    )
}

fn unsupported(kind: CompressionType) -> Error {
    Error::Unsupported(format!("compressor {} is not supported yet", kind.name()))
}

/// Appends the compressed form of `input` to `out`.
pub fn compress(kind: CompressionType, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
    let io =
        |e: std::io::Error| Error::Internal(format!("{} compression failed: {e}", kind.name()));
    match kind {
        CompressionType::Uncompressed => out.extend_from_slice(input),
        CompressionType::Snappy => {
            let start = out.len();
            out.resize(start + snap::raw::max_compress_len(input.len()), 0);
            let n = snap::raw::Encoder::new()
                .compress(input, &mut out[start..])
                .map_err(|e| Error::Internal(format!("SNAPPY compression failed: {e}")))?;
            out.truncate(start + n);
        }
        CompressionType::Gzip => {
            let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            enc.write_all(input).map_err(io)?;
            enc.finish().map_err(io)?;
        }
        CompressionType::Lz4 => {
            let start = out.len();
            out.resize(
                start + lz4_flex::block::get_maximum_output_size(input.len()),
                0,
            );
            let n = lz4_flex::block::compress_into(input, &mut out[start..])
                .map_err(|e| Error::Internal(format!("LZ4 compression failed: {e}")))?;
            out.truncate(start + n);
        }
        CompressionType::Zstd => {
            let c = zstd::bulk::compress(input, zstd::DEFAULT_COMPRESSION_LEVEL).map_err(io)?;
            out.extend_from_slice(&c);
        }
        CompressionType::Lzma2 => {
            let mut opts = lzma_rust2::XzOptions::with_preset(6);
            // A dictionary larger than the input buys nothing; keep it small for small pages.
            let dict = (input.len() as u32).clamp(4096, opts.lzma_options.dict_size);
            opts.lzma_options.dict_size = dict;
            opts.set_check_sum_type(lzma_rust2::CheckType::Crc64);
            let mut w = lzma_rust2::XzWriter::new(&mut *out, opts).map_err(io)?;
            w.write_all(input).map_err(io)?;
            w.finish().map_err(io)?;
        }
        other => return Err(unsupported(other)),
    }
    Ok(())
}

/// Decompresses `input`, which must yield exactly `uncompressed_len` bytes, into `out`
/// (whose previous contents are replaced; a buffer reused across pages is not zeroed again
/// by the codecs that write into a sized buffer). Errors are plain messages; the caller
/// adds the file offset.
pub fn decompress(
    kind: CompressionType,
    input: &[u8],
    uncompressed_len: usize,
    out: &mut Vec<u8>,
) -> std::result::Result<(), String> {
    if uncompressed_len > MAX_PAGE_BYTES {
        out.clear();
        return Err(format!(
            "page claims {uncompressed_len} uncompressed bytes, more than the {MAX_PAGE_BYTES} allowed"
        ));
    }
    let bounded_read = |r: &mut dyn Read, out: &mut Vec<u8>| -> std::result::Result<(), String> {
        out.reserve(uncompressed_len.min(input.len().saturating_mul(8) + 4096));
        let mut limited = r.take(uncompressed_len as u64 + 1);
        limited
            .read_to_end(out)
            .map_err(|e| format!("{} data is corrupt: {e}", kind.name()))?;
        Ok(())
    };
    // the codecs that fill a sized buffer overwrite every byte of it
    let sized = |out: &mut Vec<u8>, n: usize| {
        if out.len() < n {
            out.resize(n, 0);
        } else {
            out.truncate(n);
        }
    };
    if !matches!(kind, CompressionType::Snappy | CompressionType::Lz4) {
        out.clear();
    }
    match kind {
        CompressionType::Uncompressed => {
            if input.len() != uncompressed_len {
                return Err(format!(
                    "uncompressed page of {} bytes declares {uncompressed_len}",
                    input.len()
                ));
            }
            out.extend_from_slice(input);
        }
        CompressionType::Snappy => {
            let n = snap::raw::decompress_len(input)
                .map_err(|e| format!("SNAPPY data is corrupt: {e}"))?;
            if n != uncompressed_len || n > input.len().saturating_mul(24) + 64 {
                return Err(format!(
                    "SNAPPY data holds {n} bytes, page declares {uncompressed_len}"
                ));
            }
            sized(out, n);
            snap::raw::Decoder::new()
                .decompress(input, out)
                .map_err(|e| format!("SNAPPY data is corrupt: {e}"))?;
        }
        CompressionType::Lz4 => {
            if uncompressed_len > input.len().saturating_mul(256) + 64 {
                return Err(format!(
                    "LZ4 data of {} bytes cannot hold the {uncompressed_len} bytes the page declares",
                    input.len()
                ));
            }
            sized(out, uncompressed_len);
            let n = lz4_flex::block::decompress_into(input, out)
                .map_err(|e| format!("LZ4 data is corrupt: {e}"))?;
            out.truncate(n);
        }
        CompressionType::Gzip => {
            let mut d = flate2::read::GzDecoder::new(input);
            bounded_read(&mut d, out)?;
        }
        CompressionType::Zstd => {
            let mut d = zstd::stream::read::Decoder::with_buffer(input)
                .map_err(|e| format!("ZSTD data is corrupt: {e}"))?;
            bounded_read(&mut d, out)?;
        }
        CompressionType::Lzma2 => xz_decode(input, uncompressed_len, out)?,
        other => return Err(format!("compressor {} is not supported yet", other.name())),
    }
    if out.len() != uncompressed_len {
        return Err(format!(
            "{} data decompresses to {} bytes, page declares {uncompressed_len}",
            kind.name(),
            out.len()
        ));
    }
    Ok(())
}

fn read_vli(b: &[u8], pos: &mut usize) -> std::result::Result<u64, String> {
    let mut v: u64 = 0;
    for i in 0..9 {
        let byte = *b.get(*pos).ok_or("xz header ends early")?;
        *pos += 1;
        v |= ((byte & 0x7F) as u64) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("xz variable-length integer is too long".into())
}

/// Decodes an `.xz` stream whose blocks use only the LZMA2 filter, walking the container
/// ourselves so that each block's dictionary is capped by the bytes it can produce.
fn xz_decode(input: &[u8], expected: usize, out: &mut Vec<u8>) -> std::result::Result<(), String> {
    const MAGIC: [u8; 6] = [0xFD, b'7', b'z', b'X', b'Z', 0];
    if input.len() < 12 || input[..6] != MAGIC {
        return Err("LZMA2 data is not an xz stream".into());
    }
    let check = input[7] & 0x0F;
    let check_size = match check {
        0 => 0,
        1..=3 => 4,
        4..=6 => 8,
        7..=9 => 16,
        10..=12 => 32,
        _ => 64,
    };
    let mut pos = 12;
    loop {
        let b = *input.get(pos).ok_or("xz stream ends before its index")?;
        if b == 0 {
            break; // index follows; the data has been fully produced
        }
        let hsize = (b as usize + 1) * 4;
        let header = input
            .get(pos..pos + hsize)
            .ok_or("xz block header exceeds the data")?;
        let flags = header[1];
        let nfilters = (flags & 3) as usize + 1;
        let mut p = 2;
        if flags & 0x40 != 0 {
            read_vli(header, &mut p)?;
        }
        if flags & 0x80 != 0 {
            read_vli(header, &mut p)?;
        }
        let mut dict: Option<u32> = None;
        for _ in 0..nfilters {
            let id = read_vli(header, &mut p)?;
            let psize = read_vli(header, &mut p)? as usize;
            let props = header
                .get(p..p + psize)
                .ok_or("xz filter properties exceed the header")?;
            p += psize;
            if id != 0x21 || psize != 1 {
                return Err(format!("xz filter {id:#x} is not supported (only LZMA2)"));
            }
            let code = props[0];
            if code > 40 {
                return Err(format!("xz LZMA2 dictionary code {code} is invalid"));
            }
            let size = if code == 40 {
                u32::MAX
            } else {
                (2 | (code as u32 & 1)) << (code / 2 + 11)
            };
            dict = Some(size);
        }
        let declared = dict.ok_or("xz block has no LZMA2 filter")?;
        if declared > MAX_XZ_DICT {
            return Err(format!(
                "xz dictionary of {declared} bytes exceeds {MAX_XZ_DICT}"
            ));
        }
        // Distances never reach before the block start, so the bytes still to come bound it.
        let room = expected.saturating_sub(out.len());
        let dict = declared.min(room.max(4096) as u32);
        let data_start = pos + hsize;
        let mut cursor = std::io::Cursor::new(&input[data_start..]);
        {
            let mut reader = lzma_rust2::Lzma2Reader::new(&mut cursor, dict, None);
            let mut limited = (&mut reader).take(room as u64 + 1);
            limited
                .read_to_end(out)
                .map_err(|e| format!("LZMA2 data is corrupt: {e}"))?;
        }
        if out.len() > expected {
            return Err("LZMA2 data holds more bytes than the page declares".into());
        }
        let consumed = cursor.position() as usize;
        let block_len = hsize + consumed;
        let pad = (4 - block_len % 4) % 4;
        pos = data_start + consumed + pad + check_size;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ALL: [CompressionType; 6] = [
        CompressionType::Uncompressed,
        CompressionType::Snappy,
        CompressionType::Gzip,
        CompressionType::Lz4,
        CompressionType::Zstd,
        CompressionType::Lzma2,
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn round_trip(data in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..3000),
            proptest::collection::vec(0u8..3, 0..20000),
        ]) {
            for kind in ALL {
                let mut c = Vec::new();
                compress(kind, &data, &mut c).unwrap();
                let mut d = Vec::new();
                decompress(kind, &c, data.len(), &mut d).unwrap();
                prop_assert_eq!(&d, &data, "{}", kind);
            }
        }

        #[test]
        fn corrupt_input_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), len in 0usize..100_000) {
            for kind in ALL {
                let mut d = Vec::new();
                let _ = decompress(kind, &data, len, &mut d);
            }
        }
    }

    #[test]
    fn wrong_sizes_are_rejected() {
        let data = vec![7u8; 1000];
        for kind in ALL {
            let mut c = Vec::new();
            compress(kind, &data, &mut c).unwrap();
            let mut d = Vec::new();
            assert!(decompress(kind, &c, 999, &mut d).is_err(), "{kind}");
            assert!(decompress(kind, &c, 1001, &mut d).is_err(), "{kind}");
            assert!(
                decompress(kind, &c, usize::MAX / 2, &mut d).is_err(),
                "{kind}"
            );
        }
    }
}
