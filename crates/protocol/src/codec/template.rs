//! Serialized schema templates of `createSchemaTemplate` (protocol reference §3.5).
//!
//! Layout: template name (i32 length + UTF-8), template-level aligned flag (1 byte), then
//! until the end one record per measurement: prefix (string, `""` for top level), aligned
//! flag of that prefix (1 byte), measurement name (string), data type, encoding and
//! compressor (1 byte each). Records are kept in wire order.

use super::{put_len_bytes, Reader};
use model::{
    CompressionType, Error, MeasurementSchema, Result, TSDataType, TSEncoding, TemplateDef,
    TemplateMeasurement,
};
use std::collections::HashMap;

/// Decodes a serialized template. Measurements under one prefix must agree on the
/// aligned flag (as IoTDB requires), otherwise this is a metadata error.
pub fn decode_template(buf: &[u8]) -> Result<TemplateDef> {
    let mut r = Reader::new(buf, "schema template");
    let name = r.string()?;
    let aligned = r.u8()? != 0;
    let mut measurements = Vec::new();
    let mut prefix_aligned: HashMap<String, bool> = HashMap::new();
    while r.remaining() > 0 {
        let prefix = r.string()?;
        let is_aligned = r.u8()? != 0;
        let m = r.string()?;
        let [dt, enc, comp] = {
            let b = r.take(3)?;
            [b[0], b[1], b[2]]
        };
        let data_type = TSDataType::from_id(i64::from(dt))
            .ok_or_else(|| r.error(format_args!("unknown data type {dt}")))?;
        let encoding = TSEncoding::from_id(i64::from(enc))
            .ok_or_else(|| r.error(format_args!("unknown encoding {enc}")))?;
        let compressor = CompressionType::from_id(i64::from(comp))
            .ok_or_else(|| r.error(format_args!("unknown compressor {comp}")))?;
        if *prefix_aligned.entry(prefix.clone()).or_insert(is_aligned) != is_aligned {
            return Err(Error::Metadata(format!(
                "Align designation incorrect at: {prefix}"
            )));
        }
        let path = if prefix.is_empty() {
            m.clone()
        } else {
            format!("{prefix}.{m}")
        };
        measurements.push(TemplateMeasurement {
            path,
            aligned: is_aligned,
            schema: MeasurementSchema {
                name: m,
                data_type,
                encoding,
                compressor,
            },
        });
    }
    Ok(TemplateDef {
        name,
        aligned,
        measurements,
    })
}

/// Encodes a template in the clients' layout (records in the order given).
pub fn encode_template(t: &TemplateDef) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    put_len_bytes(&mut out, t.name.as_bytes())?;
    out.push(u8::from(t.aligned));
    for m in &t.measurements {
        let prefix = match m.path.rsplit_once('.') {
            Some((p, last)) if last == m.schema.name => p,
            None if m.path == m.schema.name => "",
            _ => {
                return Err(Error::IllegalParameter(format!(
                    "template measurement path {} does not end with its name {}",
                    m.path, m.schema.name
                )))
            }
        };
        put_len_bytes(&mut out, prefix.as_bytes())?;
        out.push(u8::from(m.aligned));
        put_len_bytes(&mut out, m.schema.name.as_bytes())?;
        out.push(m.schema.data_type.id());
        out.push(m.schema.encoding.id());
        out.push(m.schema.compressor.id());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().filter(|w| *w != "|").collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The captured example of the protocol reference §3.5.
    #[test]
    fn captured_template() {
        let buf = hex("0000000374706c 00 | 00000000 00 00000005 7370656564 04 08 07 | 00000003 475053 01 00000001 79 03 02 01 | 00000003 475053 01 00000001 78 03 02 01");
        let t = decode_template(&buf).unwrap();
        assert_eq!(t.name, "tpl");
        assert!(!t.aligned);
        let paths: Vec<_> = t
            .measurements
            .iter()
            .map(|m| (m.path.as_str(), m.aligned))
            .collect();
        assert_eq!(paths, [("speed", false), ("GPS.y", true), ("GPS.x", true)]);
        let speed = &t.measurements[0].schema;
        assert_eq!(
            (speed.data_type, speed.encoding, speed.compressor),
            (
                TSDataType::Double,
                TSEncoding::Gorilla,
                CompressionType::Lz4
            )
        );
        let x = &t.measurements[2].schema;
        assert_eq!(x.name, "x");
        assert_eq!(
            (x.data_type, x.encoding, x.compressor),
            (TSDataType::Float, TSEncoding::Rle, CompressionType::Snappy)
        );
        assert_eq!(encode_template(&t).unwrap(), buf);
    }

    #[test]
    fn bad_templates() {
        let ok = hex("00000001 74 00");
        assert!(decode_template(&ok).unwrap().measurements.is_empty());
        assert!(decode_template(&hex("00000001 74")).is_err());
        assert!(decode_template(&hex("ffffffff 00")).is_err());
        // unknown data type / encoding / compressor, truncated record
        assert!(decode_template(&hex("00000001 74 00 00000000 00 00000001 61 07 00 00")).is_err());
        assert!(decode_template(&hex("00000001 74 00 00000000 00 00000001 61 01 63 00")).is_err());
        assert!(decode_template(&hex("00000001 74 00 00000000 00 00000001 61 01 00 63")).is_err());
        assert!(decode_template(&hex("00000001 74 00 00000000 00 00000001 61 01 00")).is_err());
        // mixed aligned flags under one prefix
        let mixed = hex("00000001 74 00 00000001 47 01 00000001 61 01 00 00 00000001 47 00 00000001 62 01 00 00");
        assert!(matches!(decode_template(&mixed), Err(Error::Metadata(_))));
    }

    fn arb_measurement() -> impl Strategy<Value = TemplateMeasurement> {
        (
            prop::sample::select(vec!["", "GPS", "a.b"]),
            "[a-z]{1,4}",
            prop::sample::select(TSDataType::ALL.to_vec()),
            prop::sample::select(TSEncoding::ALL.to_vec()),
            prop::sample::select(CompressionType::ALL.to_vec()),
        )
            .prop_map(|(prefix, name, data_type, encoding, compressor)| {
                TemplateMeasurement {
                    path: if prefix.is_empty() {
                        name.clone()
                    } else {
                        format!("{prefix}.{name}")
                    },
                    // one fixed flag per prefix keeps the template valid
                    aligned: prefix == "GPS",
                    schema: MeasurementSchema {
                        name,
                        data_type,
                        encoding,
                        compressor,
                    },
                }
            })
    }

    proptest! {
        #[test]
        fn round_trip(name in "[a-z]{0,6}", aligned in any::<bool>(), ms in prop::collection::vec(arb_measurement(), 0..6)) {
            let t = TemplateDef { name, aligned, measurements: ms };
            let back = decode_template(&encode_template(&t).unwrap()).unwrap();
            prop_assert_eq!(back, t);
        }

        #[test]
        fn never_panics(buf in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode_template(&buf);
        }
    }
}
