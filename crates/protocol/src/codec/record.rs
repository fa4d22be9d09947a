//! Record value buffers of `insertRecord` / `insertRecords` / `insertRecordsOfOneDevice`
//! (protocol reference §3.2).
//!
//! Per measurement, in request order: one type byte, then the value: BOOLEAN 1 byte,
//! INT32/DATE 4, INT64/TIMESTAMP 8, FLOAT 4, DOUBLE 8, TEXT/STRING/BLOB i32 length +
//! bytes. Type byte `-2` (0xFE) marks a null value with no payload (sent by IoTDB's Java
//! session for `null` values).

use super::{data_type, put_len_bytes, Reader};
use model::{Error, Result, TSDataType, Value};

/// Type byte of a null value.
pub const TYPE_NULL: u8 = 0xFE;

/// Decoded record values: one entry per measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordValues {
    /// Declared data types (`None` for null values).
    pub types: Vec<Option<TSDataType>>,
    /// Values in their physical representation (`None` for null values).
    pub values: Vec<Option<Value>>,
}

/// Decodes exactly `count` values from `buf` (the number of measurements of the row);
/// missing values, unknown type bytes and trailing bytes are errors.
pub fn decode_record_values(buf: &[u8], count: usize) -> Result<RecordValues> {
    let mut r = Reader::new(buf, "record values");
    // every value takes at least its type byte
    if count > buf.len() {
        return Err(Error::IllegalParameter(format!(
            "record values hold {} bytes, too few for {count} values",
            buf.len()
        )));
    }
    let mut types = Vec::with_capacity(count);
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        let tb = r.u8()?;
        if tb == TYPE_NULL {
            types.push(None);
            values.push(None);
            continue;
        }
        let t = data_type(i64::from(tb), "record values")?;
        let v = match t.physical() {
            TSDataType::Boolean => Value::Boolean(r.u8()? == 1),
            TSDataType::Int32 => Value::Int32(r.i32()?),
            TSDataType::Int64 => Value::Int64(r.i64()?),
            TSDataType::Float => Value::Float(r.f32()?),
            TSDataType::Double => Value::Double(r.f64()?),
            _ => Value::Text(r.len_bytes()?.to_vec()),
        };
        types.push(Some(t));
        values.push(Some(v));
    }
    r.finish()?;
    Ok(RecordValues { types, values })
}

/// Encodes record values; each value must have the physical type of its declared type.
pub fn encode_record_values(
    types: &[Option<TSDataType>],
    values: &[Option<Value>],
) -> Result<Vec<u8>> {
    if types.len() != values.len() {
        return Err(Error::IllegalParameter(format!(
            "{} types for {} values",
            types.len(),
            values.len()
        )));
    }
    let mut out = Vec::new();
    for (t, v) in types.iter().zip(values) {
        let (t, v) = match (t, v) {
            (_, None) => {
                out.push(TYPE_NULL);
                continue;
            }
            (Some(t), Some(v)) if v.data_type() == t.physical() => (*t, v),
            (t, Some(v)) => {
                return Err(Error::IllegalParameter(format!(
                    "value {v:?} does not match declared type {t:?}"
                )))
            }
        };
        out.push(t.id());
        match v {
            Value::Boolean(b) => out.push(u8::from(*b)),
            Value::Int32(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Int64(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Float(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Double(x) => out.extend_from_slice(&x.to_be_bytes()),
            Value::Text(x) => put_len_bytes(&mut out, x)?,
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The captured example of the protocol reference §3.2: `[True, 1, 2, 3.5, 4.25, 'hé']`.
    #[test]
    fn captured_record() {
        let buf = [
            0x00, 0x01, 0x01, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 0, 0, 0, 2, 0x03, 0x40, 0x60, 0, 0,
            0x04, 0x40, 0x11, 0, 0, 0, 0, 0, 0, 0x05, 0, 0, 0, 3, 0x68, 0xc3, 0xa9,
        ];
        let r = decode_record_values(&buf, 6).unwrap();
        assert_eq!(
            r.values,
            vec![
                Some(Value::Boolean(true)),
                Some(Value::Int32(1)),
                Some(Value::Int64(2)),
                Some(Value::Float(3.5)),
                Some(Value::Double(4.25)),
                Some(Value::Text("hé".as_bytes().to_vec())),
            ]
        );
        assert_eq!(r.types[5], Some(TSDataType::Text));
        assert_eq!(encode_record_values(&r.types, &r.values).unwrap(), buf);
        // count mismatches in both directions
        assert!(decode_record_values(&buf, 5).is_err());
        assert!(decode_record_values(&buf, 7).is_err());
    }

    #[test]
    fn new_types_and_nulls() {
        let buf = [
            0x08, 0, 0, 0, 0, 0, 0, 0, 9, 0xFE, 0x09, 0x01, 0x34, 0xb3, 0xd1, 0x0a, 0, 0, 0, 1, 7,
            0x0b, 0, 0, 0, 0,
        ];
        let r = decode_record_values(&buf, 5).unwrap();
        assert_eq!(
            r.types,
            vec![
                Some(TSDataType::Timestamp),
                None,
                Some(TSDataType::Date),
                Some(TSDataType::Blob),
                Some(TSDataType::String)
            ]
        );
        assert_eq!(r.values[0], Some(Value::Int64(9)));
        assert_eq!(r.values[1], None);
        assert_eq!(r.values[2], Some(Value::Int32(20_231_121)));
        assert_eq!(r.values[4], Some(Value::Text(vec![])));
        assert_eq!(encode_record_values(&r.types, &r.values).unwrap(), buf);
    }

    #[test]
    fn bad_input() {
        assert!(decode_record_values(&[0x06, 0], 1).is_err()); // type 6 (VECTOR)
        assert!(decode_record_values(&[0x05, 0xff, 0xff, 0xff, 0xff], 1).is_err());
        assert!(decode_record_values(&[0x05, 0x7f, 0xff, 0xff, 0xff, 1], 1).is_err());
        assert!(decode_record_values(&[0x01, 0, 0], 1).is_err());
        assert!(decode_record_values(&[], usize::MAX).is_err());
        assert!(decode_record_values(&[], 0).unwrap().values.is_empty());
    }

    fn arb_value() -> impl Strategy<Value = (Option<TSDataType>, Option<Value>)> {
        prop_oneof![
            Just((None, None)),
            any::<bool>().prop_map(|b| (Some(TSDataType::Boolean), Some(Value::Boolean(b)))),
            any::<i32>().prop_map(|x| (Some(TSDataType::Int32), Some(Value::Int32(x)))),
            any::<i32>().prop_map(|x| (Some(TSDataType::Date), Some(Value::Int32(x)))),
            any::<i64>().prop_map(|x| (Some(TSDataType::Int64), Some(Value::Int64(x)))),
            any::<i64>().prop_map(|x| (Some(TSDataType::Timestamp), Some(Value::Int64(x)))),
            (-1e30f32..1e30).prop_map(|x| (Some(TSDataType::Float), Some(Value::Float(x)))),
            (-1e300f64..1e300).prop_map(|x| (Some(TSDataType::Double), Some(Value::Double(x)))),
            prop::collection::vec(any::<u8>(), 0..8)
                .prop_map(|x| (Some(TSDataType::Text), Some(Value::Text(x)))),
            prop::collection::vec(any::<u8>(), 0..8)
                .prop_map(|x| (Some(TSDataType::Blob), Some(Value::Text(x)))),
            prop::collection::vec(any::<u8>(), 0..8)
                .prop_map(|x| (Some(TSDataType::String), Some(Value::Text(x)))),
        ]
    }

    proptest! {
        #[test]
        fn round_trip(items in prop::collection::vec(arb_value(), 0..10)) {
            let (types, values): (Vec<_>, Vec<_>) = items.into_iter().unzip();
            let buf = encode_record_values(&types, &values).unwrap();
            let back = decode_record_values(&buf, types.len()).unwrap();
            prop_assert_eq!(back.types, types);
            prop_assert_eq!(back.values, values);
        }

        #[test]
        fn never_panics(buf in prop::collection::vec(any::<u8>(), 0..64), count in 0usize..20) {
            let _ = decode_record_values(&buf, count);
        }
    }
}
