//! A single typed value, with IoTDB's casting and text rendering rules.

use crate::error::{Error, Result};
use crate::types::TSDataType;

/// One non-null value of a series. Text-like types hold raw bytes (UTF-8 for TEXT/STRING).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// BOOLEAN
    Boolean(bool),
    /// INT32 (also DATE as yyyyMMdd)
    Int32(i32),
    /// INT64 (also TIMESTAMP)
    Int64(i64),
    /// FLOAT
    Float(f32),
    /// DOUBLE
    Double(f64),
    /// TEXT, STRING or BLOB bytes
    Text(Vec<u8>),
}

impl Value {
    /// The physical data type of the value.
    pub fn data_type(&self) -> TSDataType {
        match self {
            Value::Boolean(_) => TSDataType::Boolean,
            Value::Int32(_) => TSDataType::Int32,
            Value::Int64(_) => TSDataType::Int64,
            Value::Float(_) => TSDataType::Float,
            Value::Double(_) => TSDataType::Double,
            Value::Text(_) => TSDataType::Text,
        }
    }

    /// The value as f64 if numeric.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int32(v) => Some(*v as f64),
            Value::Int64(v) => Some(*v as f64),
            Value::Float(v) => Some(*v as f64),
            Value::Double(v) => Some(*v),
            _ => None,
        }
    }

    /// Converts the value to `target`'s physical type the way IoTDB accepts on insert:
    /// same type, or widening (INT32→INT64/FLOAT/DOUBLE, INT64→DOUBLE, FLOAT→DOUBLE).
    /// Returns `None` when IoTDB would report a type mismatch.
    pub fn convert_for_insert(&self, target: TSDataType) -> Option<Value> {
        let t = target.physical();
        match (self, t) {
            (v, t) if v.data_type() == t => Some(v.clone()),
            (Value::Int32(v), TSDataType::Int64) => Some(Value::Int64(*v as i64)),
            (Value::Int32(v), TSDataType::Float) => Some(Value::Float(*v as f32)),
            (Value::Int32(v), TSDataType::Double) => Some(Value::Double(*v as f64)),
            (Value::Int64(v), TSDataType::Double) => Some(Value::Double(*v as f64)),
            (Value::Float(v), TSDataType::Double) => Some(Value::Double(*v as f64)),
            _ => None,
        }
    }

    /// Parses a string into a value of `target` (string records, SQL literals for existing series).
    pub fn parse_as(text: &str, target: TSDataType) -> Result<Value> {
        let s = text.trim();
        let bad = || {
            Error::Metadata(format!(
                "data type is not consistent, input {text}, registered {}",
                target.name()
            ))
        };
        if target == TSDataType::Date {
            // `yyyy-MM-dd`, or the stored form `yyyyMMdd`
            let v = crate::time::parse_date(s).or_else(|| {
                s.parse::<i32>()
                    .ok()
                    .and_then(|v| crate::time::parse_date(&crate::time::format_date(v)))
            });
            return v.map(Value::Int32).ok_or_else(bad);
        }
        Ok(match target.physical() {
            TSDataType::Boolean => match s.to_ascii_lowercase().as_str() {
                "true" | "1" => Value::Boolean(true),
                "false" | "0" => Value::Boolean(false),
                _ => return Err(bad()),
            },
            TSDataType::Int32 => Value::Int32(s.parse().map_err(|_| bad())?),
            TSDataType::Int64 => Value::Int64(s.parse().map_err(|_| bad())?),
            TSDataType::Float => Value::Float(s.parse().map_err(|_| bad())?),
            TSDataType::Double => Value::Double(s.parse().map_err(|_| bad())?),
            _ => Value::Text(text.as_bytes().to_vec()),
        })
    }

    /// Renders a value of a series of type `t` as IoTDB's server does in TEXT result columns
    /// (SELECT LAST): a DATE as `yyyy-MM-dd`, a BLOB as `0x` and lowercase hex, others as
    /// [`Value::to_iotdb_string`].
    pub fn to_iotdb_string_as(&self, t: TSDataType) -> String {
        match (t, self) {
            (TSDataType::Date, Value::Int32(v)) => crate::time::format_date(*v),
            (TSDataType::Blob, Value::Text(b)) => {
                let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
                format!("0x{hex}")
            }
            _ => self.to_iotdb_string(),
        }
    }

    /// Renders the value as IoTDB's server does in TEXT result columns (e.g. SELECT LAST).
    pub fn to_iotdb_string(&self) -> String {
        match self {
            Value::Boolean(b) => b.to_string(),
            Value::Int32(v) => v.to_string(),
            Value::Int64(v) => v.to_string(),
            Value::Float(v) => java_float_string(*v as f64, true),
            Value::Double(v) => java_float_string(*v, false),
            Value::Text(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }
}

/// Formats a float like Java's `Float.toString`/`Double.toString` for the common range
/// (`1.0`, `0.3`, `1.0E7`, `NaN`, `Infinity`).
pub fn java_float_string(v: f64, single: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let abs = v.abs();
    if v == 0.0 || (1e-3..1e7).contains(&abs) {
        let s = if single {
            format!("{}", v as f32)
        } else {
            format!("{v}")
        };
        if s.contains('.') || s.contains("inf") {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = if single {
            format!("{:E}", v as f32)
        } else {
            format!("{v:E}")
        };
        // Rust: 1E7 / 1.5E-5 ; Java: 1.0E7 / 1.5E-5
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
            _ => s,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_strings() {
        assert_eq!(java_float_string(1.0, false), "1.0");
        assert_eq!(java_float_string(0.3, false), "0.3");
        assert_eq!(java_float_string(1.1f32 as f64, true), "1.1");
        assert_eq!(java_float_string(1e7, false), "1.0E7");
        assert_eq!(java_float_string(1.5e-5, false), "1.5E-5");
        assert_eq!(java_float_string(-2.0, false), "-2.0");
    }

    #[test]
    fn insert_conversion() {
        assert_eq!(
            Value::Int32(3).convert_for_insert(TSDataType::Double),
            Some(Value::Double(3.0))
        );
        assert_eq!(
            Value::Double(3.0).convert_for_insert(TSDataType::Int32),
            None
        );
        assert_eq!(
            Value::parse_as("true", TSDataType::Boolean).unwrap(),
            Value::Boolean(true)
        );
        assert!(Value::parse_as("x", TSDataType::Int64).is_err());
    }
}
