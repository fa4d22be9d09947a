//! Page, chunk and time-series statistics (Java `Statistics` and subclasses).
//!
//! Layout: `uvarint count`, `i64 startTime`, `i64 endTime`, then per type:
//!
//! | Type | Fields |
//! |---|---|
//! | BOOLEAN | `bool first`, `bool last`, `i64 sum` (number of `true`) |
//! | INT32, DATE | `i32 min, max, first, last`, `i64 sum` |
//! | INT64, TIMESTAMP | `i64 min, max, first, last`, `f64 sum` |
//! | FLOAT | `f32 min, max, first, last`, `f64 sum` |
//! | DOUBLE | `f64 min, max, first, last, sum` |
//! | TEXT | `first`, `last` (each `i32 length` + bytes) |
//! | STRING | `first`, `last`, `min`, `max` (each `i32 length` + bytes; unsigned byte order) |
//! | BLOB | nothing |
//! | VECTOR (aligned time column) | nothing |
//!
//! Updates and merges follow Java exactly (NaN never replaces a min/max, ties on start time
//! take the merged side's first value), so files carry the numbers Java would write.

use crate::buf::{ByteReader, DResult, PutBytes};
use model::{TSDataType, Value};

/// Type-specific part of [`Statistics`].
#[derive(Debug, Clone, PartialEq)]
pub enum StatValues {
    /// BOOLEAN
    Boolean {
        /// Value at the earliest time.
        first: bool,
        /// Value at the latest time.
        last: bool,
        /// Number of `true` values.
        sum: i64,
    },
    /// INT32 and DATE
    Int32 {
        /// Smallest value.
        min: i32,
        /// Largest value.
        max: i32,
        /// Value at the earliest time.
        first: i32,
        /// Value at the latest time.
        last: i32,
        /// Sum of values.
        sum: i64,
    },
    /// INT64 and TIMESTAMP
    Int64 {
        /// Smallest value.
        min: i64,
        /// Largest value.
        max: i64,
        /// Value at the earliest time.
        first: i64,
        /// Value at the latest time.
        last: i64,
        /// Sum of values (as a double, like Java).
        sum: f64,
    },
    /// FLOAT
    Float {
        /// Smallest value.
        min: f32,
        /// Largest value.
        max: f32,
        /// Value at the earliest time.
        first: f32,
        /// Value at the latest time.
        last: f32,
        /// Sum of values.
        sum: f64,
    },
    /// DOUBLE
    Double {
        /// Smallest value.
        min: f64,
        /// Largest value.
        max: f64,
        /// Value at the earliest time.
        first: f64,
        /// Value at the latest time.
        last: f64,
        /// Sum of values.
        sum: f64,
    },
    /// TEXT
    Text {
        /// Value at the earliest time.
        first: Vec<u8>,
        /// Value at the latest time.
        last: Vec<u8>,
    },
    /// STRING
    String {
        /// Value at the earliest time.
        first: Vec<u8>,
        /// Value at the latest time.
        last: Vec<u8>,
        /// Smallest value (unsigned byte order).
        min: Vec<u8>,
        /// Largest value (unsigned byte order).
        max: Vec<u8>,
    },
    /// BLOB (no values kept)
    Blob,
    /// Aligned time column (no values kept)
    Time,
}

/// Statistics of a page, chunk or whole series.
#[derive(Debug, Clone, PartialEq)]
pub struct Statistics {
    /// Number of (non-null) points.
    pub count: u64,
    /// Smallest time.
    pub start_time: i64,
    /// Largest time.
    pub end_time: i64,
    /// Type-specific values.
    pub values: StatValues,
}

/// The data type of an aligned time column's statistics (Java `VECTOR`, id 6).
pub const VECTOR_TYPE_ID: u8 = 6;

impl Statistics {
    /// About how many of the points these statistics describe lie in `[start, end]`: their
    /// count scaled by the part of their time span inside it (points assumed evenly spread).
    pub fn points_in(&self, start: i64, end: i64) -> u64 {
        let (s, e) = (self.start_time, self.end_time);
        let (lo, hi) = (s.max(start), e.min(end));
        if hi < lo || e < s {
            return 0;
        }
        let span = (e as i128 - s as i128) as u128 + 1;
        let inside = (hi as i128 - lo as i128) as u128 + 1;
        u64::try_from(self.count as u128 * inside / span).unwrap_or(u64::MAX)
    }

    /// Empty statistics for `data_type` (`None` = aligned time column).
    pub fn empty(data_type: Option<TSDataType>) -> Statistics {
        let values = match data_type {
            None => StatValues::Time,
            Some(t) => match t {
                TSDataType::Boolean => StatValues::Boolean {
                    first: false,
                    last: false,
                    sum: 0,
                },
                TSDataType::Int32 | TSDataType::Date => StatValues::Int32 {
                    min: 0,
                    max: 0,
                    first: 0,
                    last: 0,
                    sum: 0,
                },
                TSDataType::Int64 | TSDataType::Timestamp => StatValues::Int64 {
                    min: 0,
                    max: 0,
                    first: 0,
                    last: 0,
                    sum: 0.0,
                },
                TSDataType::Float => StatValues::Float {
                    min: 0.0,
                    max: 0.0,
                    first: 0.0,
                    last: 0.0,
                    sum: 0.0,
                },
                TSDataType::Double => StatValues::Double {
                    min: 0.0,
                    max: 0.0,
                    first: 0.0,
                    last: 0.0,
                    sum: 0.0,
                },
                TSDataType::Text => StatValues::Text {
                    first: Vec::new(),
                    last: Vec::new(),
                },
                TSDataType::String => StatValues::String {
                    first: Vec::new(),
                    last: Vec::new(),
                    min: Vec::new(),
                    max: Vec::new(),
                },
                TSDataType::Blob => StatValues::Blob,
            },
        };
        Statistics {
            count: 0,
            start_time: i64::MAX,
            end_time: i64::MIN,
            values,
        }
    }

    /// True when no point was recorded.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Records a time only (aligned time column, or any type before its value update).
    #[inline]
    pub fn update_time(&mut self, t: i64) {
        if t < self.start_time {
            self.start_time = t;
        }
        if t > self.end_time {
            self.end_time = t;
        }
        self.count += 1;
    }

    /// Records one boolean point.
    pub fn update_bool(&mut self, t: i64, v: bool) {
        let empty = self.count == 0;
        self.update_time(t);
        if let StatValues::Boolean { first, last, sum } = &mut self.values {
            if empty {
                *first = v;
            }
            *last = v;
            *sum += v as i64;
        }
    }

    /// Records one INT32/DATE point.
    pub fn update_i32(&mut self, t: i64, v: i32) {
        let empty = self.count == 0;
        self.update_time(t);
        if let StatValues::Int32 {
            min,
            max,
            first,
            last,
            sum,
        } = &mut self.values
        {
            if empty {
                (*min, *max, *first, *sum) = (v, v, v, v as i64);
            } else {
                if v < *min {
                    *min = v;
                }
                if v > *max {
                    *max = v;
                }
                *sum = sum.wrapping_add(v as i64);
            }
            *last = v;
        }
    }

    /// Records one INT64/TIMESTAMP point.
    pub fn update_i64(&mut self, t: i64, v: i64) {
        let empty = self.count == 0;
        self.update_time(t);
        if let StatValues::Int64 {
            min,
            max,
            first,
            last,
            sum,
        } = &mut self.values
        {
            if empty {
                (*min, *max, *first, *sum) = (v, v, v, v as f64);
            } else {
                if v < *min {
                    *min = v;
                }
                if v > *max {
                    *max = v;
                }
                *sum += v as f64;
            }
            *last = v;
        }
    }

    /// Records one FLOAT point.
    pub fn update_f32(&mut self, t: i64, v: f32) {
        let empty = self.count == 0;
        self.update_time(t);
        if let StatValues::Float {
            min,
            max,
            first,
            last,
            sum,
        } = &mut self.values
        {
            if empty {
                (*min, *max, *first, *sum) = (v, v, v, v as f64);
            } else {
                if v < *min {
                    *min = v;
                }
                if v > *max {
                    *max = v;
                }
                *sum += v as f64;
            }
            *last = v;
        }
    }

    /// Records one DOUBLE point.
    pub fn update_f64(&mut self, t: i64, v: f64) {
        let empty = self.count == 0;
        self.update_time(t);
        if let StatValues::Double {
            min,
            max,
            first,
            last,
            sum,
        } = &mut self.values
        {
            if empty {
                (*min, *max, *first, *sum) = (v, v, v, v);
            } else {
                if v < *min {
                    *min = v;
                }
                if v > *max {
                    *max = v;
                }
                *sum += v;
            }
            *last = v;
        }
    }

    /// Records one TEXT/STRING/BLOB point.
    pub fn update_bytes(&mut self, t: i64, v: &[u8]) {
        let empty = self.count == 0;
        self.update_time(t);
        match &mut self.values {
            StatValues::Text { first, last } => {
                if empty {
                    *first = v.to_vec();
                }
                *last = v.to_vec();
            }
            StatValues::String {
                first,
                last,
                min,
                max,
            } => {
                if empty {
                    *first = v.to_vec();
                    *min = v.to_vec();
                    *max = v.to_vec();
                } else {
                    if min.as_slice() > v {
                        *min = v.to_vec();
                    }
                    if max.as_slice() < v {
                        *max = v.to_vec();
                    }
                }
                *last = v.to_vec();
            }
            _ => {}
        }
    }

    /// Merges `other` (of the same type) into `self`, as Java's `mergeStatistics`.
    pub fn merge(&mut self, other: &Statistics) {
        if other.count == 0 {
            return;
        }
        let was_empty = self.count == 0;
        if other.start_time < self.start_time {
            self.start_time = other.start_time;
        }
        if other.end_time > self.end_time {
            self.end_time = other.end_time;
        }
        self.count += other.count;
        if was_empty {
            self.values = other.values.clone();
            return;
        }
        let take_first = other.start_time <= self.start_time;
        let take_last = other.end_time >= self.end_time;
        macro_rules! numeric {
            ($min:ident, $max:ident, $first:ident, $last:ident, $sum:ident,
             $omin:ident, $omax:ident, $ofirst:ident, $olast:ident, $osum:ident, $add:expr) => {{
                if *$omin < *$min {
                    *$min = *$omin;
                }
                if *$omax > *$max {
                    *$max = *$omax;
                }
                if take_first {
                    *$first = *$ofirst;
                }
                if take_last {
                    *$last = *$olast;
                }
                *$sum = $add(*$sum, *$osum);
            }};
        }
        match (&mut self.values, &other.values) {
            (
                StatValues::Boolean { first, last, sum },
                StatValues::Boolean {
                    first: of,
                    last: ol,
                    sum: os,
                },
            ) => {
                if take_first {
                    *first = *of;
                }
                if take_last {
                    *last = *ol;
                }
                *sum += os;
            }
            (
                StatValues::Int32 {
                    min,
                    max,
                    first,
                    last,
                    sum,
                },
                StatValues::Int32 {
                    min: omin,
                    max: omax,
                    first: ofirst,
                    last: olast,
                    sum: osum,
                },
            ) => numeric!(
                min,
                max,
                first,
                last,
                sum,
                omin,
                omax,
                ofirst,
                olast,
                osum,
                |a: i64, b: i64| a.wrapping_add(b)
            ),
            (
                StatValues::Int64 {
                    min,
                    max,
                    first,
                    last,
                    sum,
                },
                StatValues::Int64 {
                    min: omin,
                    max: omax,
                    first: ofirst,
                    last: olast,
                    sum: osum,
                },
            ) => numeric!(
                min,
                max,
                first,
                last,
                sum,
                omin,
                omax,
                ofirst,
                olast,
                osum,
                |a: f64, b: f64| a + b
            ),
            (
                StatValues::Float {
                    min,
                    max,
                    first,
                    last,
                    sum,
                },
                StatValues::Float {
                    min: omin,
                    max: omax,
                    first: ofirst,
                    last: olast,
                    sum: osum,
                },
            ) => numeric!(
                min,
                max,
                first,
                last,
                sum,
                omin,
                omax,
                ofirst,
                olast,
                osum,
                |a: f64, b: f64| a + b
            ),
            (
                StatValues::Double {
                    min,
                    max,
                    first,
                    last,
                    sum,
                },
                StatValues::Double {
                    min: omin,
                    max: omax,
                    first: ofirst,
                    last: olast,
                    sum: osum,
                },
            ) => numeric!(
                min,
                max,
                first,
                last,
                sum,
                omin,
                omax,
                ofirst,
                olast,
                osum,
                |a: f64, b: f64| a + b
            ),
            (
                StatValues::Text { first, last },
                StatValues::Text {
                    first: of,
                    last: ol,
                },
            ) => {
                if take_first {
                    *first = of.clone();
                }
                if take_last {
                    *last = ol.clone();
                }
            }
            (
                StatValues::String {
                    first,
                    last,
                    min,
                    max,
                },
                StatValues::String {
                    first: of,
                    last: ol,
                    min: omin,
                    max: omax,
                },
            ) => {
                if *min > *omin {
                    *min = omin.clone();
                }
                if *max < *omax {
                    *max = omax.clone();
                }
                if take_first {
                    *first = of.clone();
                }
                if take_last {
                    *last = ol.clone();
                }
            }
            _ => {}
        }
    }

    /// Appends the serialized form.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        out.put_uvarint(self.count.min(u32::MAX as u64) as u32);
        out.put_i64(self.start_time);
        out.put_i64(self.end_time);
        match &self.values {
            StatValues::Boolean { first, last, sum } => {
                out.put_u8(*first as u8);
                out.put_u8(*last as u8);
                out.put_i64(*sum);
            }
            StatValues::Int32 {
                min,
                max,
                first,
                last,
                sum,
            } => {
                for v in [min, max, first, last] {
                    out.put_i32(*v);
                }
                out.put_i64(*sum);
            }
            StatValues::Int64 {
                min,
                max,
                first,
                last,
                sum,
            } => {
                for v in [min, max, first, last] {
                    out.put_i64(*v);
                }
                out.put_f64(*sum);
            }
            StatValues::Float {
                min,
                max,
                first,
                last,
                sum,
            } => {
                for v in [min, max, first, last] {
                    out.put_f32(*v);
                }
                out.put_f64(*sum);
            }
            StatValues::Double {
                min,
                max,
                first,
                last,
                sum,
            } => {
                for v in [min, max, first, last, sum] {
                    out.put_f64(*v);
                }
            }
            StatValues::Text { first, last } => {
                out.put_int_bytes(first);
                out.put_int_bytes(last);
            }
            StatValues::String {
                first,
                last,
                min,
                max,
            } => {
                for v in [first, last, min, max] {
                    out.put_int_bytes(v);
                }
            }
            StatValues::Blob | StatValues::Time => {}
        }
    }

    /// Reads statistics of `data_type` (`None` = aligned time column).
    pub fn read(r: &mut ByteReader<'_>, data_type: Option<TSDataType>) -> DResult<Statistics> {
        let count = r.uvarint()? as u64;
        let start_time = r.i64()?;
        let end_time = r.i64()?;
        let values = match data_type {
            None => StatValues::Time,
            Some(t) => match t {
                TSDataType::Boolean => StatValues::Boolean {
                    first: r.bool()?,
                    last: r.bool()?,
                    sum: r.i64()?,
                },
                TSDataType::Int32 | TSDataType::Date => StatValues::Int32 {
                    min: r.i32()?,
                    max: r.i32()?,
                    first: r.i32()?,
                    last: r.i32()?,
                    sum: r.i64()?,
                },
                TSDataType::Int64 | TSDataType::Timestamp => StatValues::Int64 {
                    min: r.i64()?,
                    max: r.i64()?,
                    first: r.i64()?,
                    last: r.i64()?,
                    sum: r.f64()?,
                },
                TSDataType::Float => StatValues::Float {
                    min: r.f32()?,
                    max: r.f32()?,
                    first: r.f32()?,
                    last: r.f32()?,
                    sum: r.f64()?,
                },
                TSDataType::Double => StatValues::Double {
                    min: r.f64()?,
                    max: r.f64()?,
                    first: r.f64()?,
                    last: r.f64()?,
                    sum: r.f64()?,
                },
                TSDataType::Text => StatValues::Text {
                    first: r.int_bytes()?.to_vec(),
                    last: r.int_bytes()?.to_vec(),
                },
                TSDataType::String => StatValues::String {
                    first: r.int_bytes()?.to_vec(),
                    last: r.int_bytes()?.to_vec(),
                    min: r.int_bytes()?.to_vec(),
                    max: r.int_bytes()?.to_vec(),
                },
                TSDataType::Blob => StatValues::Blob,
            },
        };
        Ok(Statistics {
            count,
            start_time,
            end_time,
            values,
        })
    }

    /// Size of the serialized form.
    pub fn serialized_size(&self) -> usize {
        let mut v = Vec::new();
        self.write_to(&mut v);
        v.len()
    }

    /// The minimum value, when the type keeps one.
    pub fn min_value(&self) -> Option<Value> {
        match &self.values {
            StatValues::Int32 { min, .. } => Some(Value::Int32(*min)),
            StatValues::Int64 { min, .. } => Some(Value::Int64(*min)),
            StatValues::Float { min, .. } => Some(Value::Float(*min)),
            StatValues::Double { min, .. } => Some(Value::Double(*min)),
            StatValues::String { min, .. } => Some(Value::Text(min.clone())),
            _ => None,
        }
    }

    /// The maximum value, when the type keeps one.
    pub fn max_value(&self) -> Option<Value> {
        match &self.values {
            StatValues::Int32 { max, .. } => Some(Value::Int32(*max)),
            StatValues::Int64 { max, .. } => Some(Value::Int64(*max)),
            StatValues::Float { max, .. } => Some(Value::Float(*max)),
            StatValues::Double { max, .. } => Some(Value::Double(*max)),
            StatValues::String { max, .. } => Some(Value::Text(max.clone())),
            _ => None,
        }
    }

    /// The value at the earliest time, when the type keeps one.
    pub fn first_value(&self) -> Option<Value> {
        match &self.values {
            StatValues::Boolean { first, .. } => Some(Value::Boolean(*first)),
            StatValues::Int32 { first, .. } => Some(Value::Int32(*first)),
            StatValues::Int64 { first, .. } => Some(Value::Int64(*first)),
            StatValues::Float { first, .. } => Some(Value::Float(*first)),
            StatValues::Double { first, .. } => Some(Value::Double(*first)),
            StatValues::Text { first, .. } | StatValues::String { first, .. } => {
                Some(Value::Text(first.clone()))
            }
            _ => None,
        }
    }

    /// The value at the latest time, when the type keeps one.
    pub fn last_value(&self) -> Option<Value> {
        match &self.values {
            StatValues::Boolean { last, .. } => Some(Value::Boolean(*last)),
            StatValues::Int32 { last, .. } => Some(Value::Int32(*last)),
            StatValues::Int64 { last, .. } => Some(Value::Int64(*last)),
            StatValues::Float { last, .. } => Some(Value::Float(*last)),
            StatValues::Double { last, .. } => Some(Value::Double(*last)),
            StatValues::Text { last, .. } | StatValues::String { last, .. } => {
                Some(Value::Text(last.clone()))
            }
            _ => None,
        }
    }

    /// The sum as a double, when the type keeps one.
    pub fn sum(&self) -> Option<f64> {
        match &self.values {
            StatValues::Boolean { sum, .. } => Some(*sum as f64),
            StatValues::Int32 { sum, .. } => Some(*sum as f64),
            StatValues::Int64 { sum, .. }
            | StatValues::Float { sum, .. }
            | StatValues::Double { sum, .. } => Some(*sum),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int32_stats_round_trip_and_java_layout() {
        let mut s = Statistics::empty(Some(TSDataType::Int32));
        for (t, v) in [(10, 5), (11, -3), (12, 9)] {
            s.update_i32(t, v);
        }
        assert_eq!(s.count, 3);
        assert_eq!(
            s.values,
            StatValues::Int32 {
                min: -3,
                max: 9,
                first: 5,
                last: 9,
                sum: 11
            }
        );
        let mut b = Vec::new();
        s.write_to(&mut b);
        assert_eq!(b.len(), 1 + 16 + 24);
        let back = Statistics::read(&mut ByteReader::new(&b), Some(TSDataType::Int32)).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn merge_follows_java() {
        let mut a = Statistics::empty(Some(TSDataType::Double));
        a.update_f64(1, 1.0);
        a.update_f64(2, 2.0);
        let mut b = Statistics::empty(Some(TSDataType::Double));
        b.update_f64(3, -1.0);
        let mut m = Statistics::empty(Some(TSDataType::Double));
        m.merge(&a);
        m.merge(&b);
        assert_eq!(m.count, 3);
        assert_eq!((m.start_time, m.end_time), (1, 3));
        assert_eq!(m.first_value(), Some(Value::Double(1.0)));
        assert_eq!(m.last_value(), Some(Value::Double(-1.0)));
        assert_eq!(m.min_value(), Some(Value::Double(-1.0)));
        assert_eq!(m.sum(), Some(2.0));
        let mut s = Statistics::empty(Some(TSDataType::String));
        s.update_bytes(1, b"b");
        s.update_bytes(2, b"\xffa");
        s.update_bytes(3, b"a");
        assert_eq!(s.min_value(), Some(Value::Text(b"a".to_vec())));
        assert_eq!(s.max_value(), Some(Value::Text(b"\xffa".to_vec())));
    }

    #[test]
    fn every_type_round_trips() {
        for t in TSDataType::ALL {
            let mut s = Statistics::empty(Some(*t));
            match t.physical() {
                TSDataType::Boolean => s.update_bool(5, true),
                TSDataType::Int32 => s.update_i32(5, 7),
                TSDataType::Int64 => s.update_i64(5, 7),
                TSDataType::Float => s.update_f32(5, 7.5),
                TSDataType::Double => s.update_f64(5, 7.5),
                _ => s.update_bytes(5, b"xy"),
            }
            let mut b = Vec::new();
            s.write_to(&mut b);
            assert_eq!(
                Statistics::read(&mut ByteReader::new(&b), Some(*t)).unwrap(),
                s,
                "{t}"
            );
            assert!(
                Statistics::read(&mut ByteReader::new(&b[..b.len() - 1]), Some(*t)).is_err()
                    || b.len() == 17
            );
        }
    }
}
