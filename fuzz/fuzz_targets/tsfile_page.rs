//! One TsFile page of any encoding, data type and compressor: the page body is
//! decompressed and decoded as `Chunk::decode_page` does (a uvarint-prefixed time column,
//! then `n` values). Input layout: encoding id, data type id, compression id, then the
//! stored page body; `n` is the number of times decoded.
#![no_main]
use libfuzzer_sys::fuzz_target;
use model::{ColumnData, CompressionType, TSDataType, TSEncoding};
use tsfile::buf::ByteReader;
use tsfile::encoding::{self, CodecOptions, FloatRlbe};

/// Most points decoded from one page (bounds the time column, as ReadOptions does).
const MAX_POINTS: usize = 1 << 16;
/// Largest uncompressed page accepted here.
const MAX_BODY: usize = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let [enc, dt, comp, flags, stored @ ..] = data else {
        return;
    };
    let (Some(enc), Some(dt), Some(comp)) = (
        TSEncoding::from_id(*enc as i64),
        TSDataType::from_id(*dt as i64),
        CompressionType::from_id(*comp as i64),
    ) else {
        return;
    };
    let opts = CodecOptions {
        float_rlbe: if flags & 1 == 0 {
            FloatRlbe::RawBits
        } else {
            FloatRlbe::FloatArithmetic
        },
        ..CodecOptions::default()
    };
    let mut body = Vec::new();
    if comp == CompressionType::Uncompressed {
        body.extend_from_slice(stored);
    } else {
        // the uncompressed size (a page header field) is the first 3 bytes
        let [a, b, c, stored @ ..] = stored else {
            return;
        };
        let len = u32::from_le_bytes([*a, *b, *c, 0]) as usize;
        if tsfile::compress::decompress(comp, stored, len.min(MAX_BODY), &mut body).is_err() {
            return;
        }
    }
    let mut r = ByteReader::new(&body);
    let Ok(tlen) = r.uvarint_len() else { return };
    let Ok(tbytes) = r.take(tlen) else { return };
    let mut times = Vec::new();
    let time_enc = if flags & 2 == 0 {
        TSEncoding::Ts2Diff
    } else {
        enc
    };
    if encoding::decode_times(time_enc, tbytes, MAX_POINTS, &mut times).is_err() {
        return;
    }
    let mut values = ColumnData::with_capacity(dt, times.len());
    if encoding::decode(enc, r.rest(), times.len(), &opts, &mut values).is_ok() {
        assert_eq!(values.len(), times.len(), "{enc:?} {dt:?}");
    }
});
