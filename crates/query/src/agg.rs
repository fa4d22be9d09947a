//! Built-in aggregation functions and their accumulators.

use model::{Column, ColumnData, Error, Result, TSDataType, Value};
use storage::ChunkSummary;

/// A built-in aggregation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    /// count: non-null values (INT64, 0 on empty input).
    Count,
    /// sum (DOUBLE).
    Sum,
    /// avg (DOUBLE).
    Avg,
    /// extreme: largest absolute value, the positive one on ties (input type).
    Extreme,
    /// max_value (input type).
    MaxValue,
    /// min_value (input type).
    MinValue,
    /// first_value: value with the smallest time (input type).
    FirstValue,
    /// last_value: value with the largest time (input type).
    LastValue,
    /// max_time (INT64).
    MaxTime,
    /// min_time (INT64).
    MinTime,
}

/// IoTDB's message for an aggregation of a type it does not take.
const NUMERIC_ONLY: &str = "Aggregate functions [AVG, SUM, EXTREME, MIN_VALUE, MAX_VALUE] only support numeric data types [INT32, INT64, FLOAT, DOUBLE]";

/// IoTDB's message for MIN_VALUE / MAX_VALUE of a type without an order (TEXT, BLOB, BOOLEAN).
const ORDERED_ONLY: &str = "Aggregate functions [MIN_VALUE, MAX_VALUE] only support data types [INT32, INT64, FLOAT, DOUBLE, STRING, DATE, TIMESTAMP]";

impl AggKind {
    /// The names [`AggKind::from_name`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "count",
        "sum",
        "avg",
        "extreme",
        "max_value",
        "min_value",
        "first_value",
        "last_value",
        "max_time",
        "min_time",
    ];

    /// The aggregation for a (case-insensitive) function name.
    pub fn from_name(name: &str) -> Option<AggKind> {
        Some(match name.to_ascii_lowercase().as_str() {
            "count" => AggKind::Count,
            "sum" => AggKind::Sum,
            "avg" => AggKind::Avg,
            "extreme" => AggKind::Extreme,
            "max_value" => AggKind::MaxValue,
            "min_value" => AggKind::MinValue,
            "first_value" => AggKind::FirstValue,
            "last_value" => AggKind::LastValue,
            "max_time" => AggKind::MaxTime,
            "min_time" => AggKind::MinTime,
            _ => return None,
        })
    }

    /// True for names of aggregation functions IoTDB has but iotdb-rs does not implement yet.
    pub fn is_unimplemented_name(name: &str) -> bool {
        matches!(
            name.to_ascii_lowercase().as_str(),
            "stddev"
                | "stddev_pop"
                | "stddev_samp"
                | "variance"
                | "var_pop"
                | "var_samp"
                | "mode"
                | "count_if"
                | "time_duration"
                | "max_by"
                | "min_by"
                | "count_time"
        )
    }

    /// The result type for an input type, checking the input like IoTDB does: SUM, AVG and
    /// EXTREME take the numeric types, MIN_VALUE/MAX_VALUE also DATE and TIMESTAMP (IoTDB
    /// 1.3; its STRING is not ordered here yet).
    pub fn output_type(self, input: TSDataType) -> Result<TSDataType> {
        // IoTDB 1.3+: DATE, TIMESTAMP and STRING are ordered (STRING by unsigned bytes), TEXT
        // and BLOB are not.
        let ordered = input.is_numeric()
            || matches!(
                input,
                TSDataType::Date | TSDataType::Timestamp | TSDataType::String
            );
        match self {
            AggKind::Count | AggKind::MaxTime | AggKind::MinTime => Ok(TSDataType::Int64),
            AggKind::Sum | AggKind::Avg | AggKind::Extreme if !input.is_numeric() => {
                Err(Error::Semantic(NUMERIC_ONLY.into()))
            }
            AggKind::MaxValue | AggKind::MinValue if !ordered => {
                Err(Error::Semantic(ORDERED_ONLY.into()))
            }
            AggKind::Sum | AggKind::Avg => Ok(TSDataType::Double),
            _ => Ok(input),
        }
    }
}

/// Running state of one aggregation.
#[derive(Debug, Clone)]
pub struct Accumulator {
    kind: AggKind,
    count: i64,
    sum: f64,
    best: Option<Value>,
    first: Option<(i64, Value)>,
    last: Option<(i64, Value)>,
}

fn num_cmp(a: &Value, b: &Value) -> std::cmp::Ordering {
    match (a, b) {
        (Value::Int32(x), Value::Int32(y)) => x.cmp(y),
        (Value::Int64(x), Value::Int64(y)) => x.cmp(y),
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        _ => {
            let (x, y) = (
                a.as_f64().unwrap_or(f64::NAN),
                b.as_f64().unwrap_or(f64::NAN),
            );
            // NaN compares as neither smaller nor larger (Java's `<`/`>`)
            x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
        }
    }
}

fn abs_value(v: &Value) -> Value {
    match v {
        Value::Int32(x) => Value::Int32(x.wrapping_abs()),
        Value::Int64(x) => Value::Int64(x.wrapping_abs()),
        Value::Float(x) => Value::Float(x.abs()),
        Value::Double(x) => Value::Double(x.abs()),
        other => other.clone(),
    }
}

impl Accumulator {
    /// A fresh accumulator.
    pub fn new(kind: AggKind) -> Self {
        Accumulator {
            kind,
            count: 0,
            sum: 0.0,
            best: None,
            first: None,
            last: None,
        }
    }

    /// Clears the state (next GROUP BY window).
    /// The aggregation this accumulator computes.
    pub fn kind(&self) -> AggKind {
        self.kind
    }

    /// Forgets everything accumulated.
    pub fn reset(&mut self) {
        *self = Accumulator::new(self.kind);
    }

    /// Adds rows `rows` of `col` (nulls skipped); `times[r]` is row r's time.
    pub fn update(&mut self, times: &[i64], col: &Column, rows: impl Iterator<Item = usize>) {
        match self.kind {
            AggKind::Count => {
                self.count += rows.filter(|&r| r < col.len() && !col.is_null(r)).count() as i64;
            }
            AggKind::Sum | AggKind::Avg => {
                for r in rows {
                    if col.is_null(r) {
                        continue;
                    }
                    let x = match &col.data {
                        ColumnData::Int32(v) => v.get(r).map(|&x| x as f64),
                        ColumnData::Int64(v) => v.get(r).map(|&x| x as f64),
                        ColumnData::Float(v) => v.get(r).map(|&x| x as f64),
                        ColumnData::Double(v) => v.get(r).copied(),
                        _ => None,
                    };
                    if let Some(x) = x {
                        self.sum += x;
                        self.count += 1;
                    }
                }
            }
            _ => {
                for r in rows {
                    if let (Some(&t), Some(v)) = (times.get(r), col.value(r)) {
                        self.add(t, v);
                    }
                }
            }
        }
    }

    /// Adds rows `range` of `col`, whose times `times[range]` are ascending: first/last
    /// values and times look only at the ends of the range.
    pub fn update_sorted(&mut self, times: &[i64], col: &Column, range: std::ops::Range<usize>) {
        let end = range.end.min(times.len()).min(col.len());
        let range = range.start.min(end)..end;
        match self.kind {
            AggKind::FirstValue | AggKind::MinTime => {
                if let Some(r) = range.clone().find(|&r| !col.is_null(r)) {
                    if let Some(v) = col.value(r) {
                        self.add(times[r], v);
                    }
                }
            }
            AggKind::LastValue | AggKind::MaxTime => {
                if let Some(r) = range.clone().rev().find(|&r| !col.is_null(r)) {
                    if let Some(v) = col.value(r) {
                        self.add(times[r], v);
                    }
                }
            }
            _ => {
                if col.nulls.is_some() || !self.update_dense(&col.data, range.clone()) {
                    self.update(times, col, range);
                }
            }
        }
    }

    /// [`Accumulator::update`] of a null-free run of a numeric column, one typed loop per
    /// kind (no per-row dispatch, same order of additions, same comparisons). False when
    /// the kind or type has no such loop (the caller then goes row by row).
    fn update_dense(&mut self, data: &ColumnData, range: std::ops::Range<usize>) -> bool {
        fn sum<T: Copy>(v: &[T], f: impl Fn(T) -> f64, acc: &mut f64) {
            for &x in v {
                *acc += f(x);
            }
        }
        /// The first greatest value under `cmp` (`want` = Greater) or least (Less).
        fn best<T: Copy>(
            v: &[T],
            want: std::cmp::Ordering,
            cmp: impl Fn(&T, &T) -> std::cmp::Ordering,
        ) -> Option<T> {
            v.iter()
                .copied()
                .reduce(|b, x| if cmp(&x, &b) == want { x } else { b })
        }
        if range.end > data.len() {
            return false;
        }
        let n = range.len();
        match self.kind {
            AggKind::Count => self.count += n as i64,
            AggKind::Sum | AggKind::Avg => {
                match data {
                    ColumnData::Int32(v) => sum(&v[range], |x| x as f64, &mut self.sum),
                    ColumnData::Int64(v) => sum(&v[range], |x| x as f64, &mut self.sum),
                    ColumnData::Float(v) => sum(&v[range], |x| x as f64, &mut self.sum),
                    ColumnData::Double(v) => sum(&v[range], |x| x, &mut self.sum),
                    _ => return false,
                }
                self.count += n as i64;
            }
            AggKind::MaxValue | AggKind::MinValue => {
                use std::cmp::Ordering::{Greater, Less};
                let want = if self.kind == AggKind::MaxValue {
                    Greater
                } else {
                    Less
                };
                let found = match data {
                    ColumnData::Int32(v) => best(&v[range], want, Ord::cmp).map(Value::Int32),
                    ColumnData::Int64(v) => best(&v[range], want, Ord::cmp).map(Value::Int64),
                    // Java's `<`/`>` as IoTDB compares: a NaN never wins (it is kept only
                    // when it comes first)
                    ColumnData::Float(v) => best(&v[range], want, |a, b| {
                        a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
                    })
                    .map(Value::Float),
                    ColumnData::Double(v) => best(&v[range], want, |a, b| {
                        a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal)
                    })
                    .map(Value::Double),
                    _ => return false,
                };
                if let Some(v) = found {
                    // times do not matter to MAX_VALUE / MIN_VALUE
                    self.add(0, v);
                }
            }
            _ => return false,
        }
        true
    }

    /// Adds a run of points known only by its statistics (a flushed chunk no other point
    /// overlaps).
    pub fn merge_summary(&mut self, c: &ChunkSummary) {
        match self.kind {
            AggKind::Count => self.count += c.count as i64,
            AggKind::Sum | AggKind::Avg => {
                if let Some(sum) = c.sum {
                    self.sum += sum;
                    self.count += c.count as i64;
                }
            }
            AggKind::MaxValue | AggKind::MinValue | AggKind::Extreme => {
                for v in [&c.max, &c.min].into_iter().flatten() {
                    self.add(c.start, v.clone());
                }
            }
            AggKind::FirstValue | AggKind::MinTime => self.add(c.start, c.first.clone()),
            AggKind::LastValue | AggKind::MaxTime => self.add(c.end, c.last.clone()),
        }
    }

    /// Adds one point.
    pub fn add(&mut self, t: i64, v: Value) {
        match self.kind {
            AggKind::Count => self.count += 1,
            AggKind::Sum | AggKind::Avg => {
                if let Some(x) = v.as_f64() {
                    self.sum += x;
                    self.count += 1;
                }
            }
            AggKind::MaxValue => {
                if self.best.as_ref().is_none_or(|b| num_cmp(&v, b).is_gt()) {
                    self.best = Some(v);
                }
            }
            AggKind::MinValue => {
                if self.best.as_ref().is_none_or(|b| num_cmp(&v, b).is_lt()) {
                    self.best = Some(v);
                }
            }
            AggKind::Extreme => {
                let better = match &self.best {
                    None => true,
                    Some(b) => match num_cmp(&abs_value(&v), &abs_value(b)) {
                        std::cmp::Ordering::Greater => true,
                        std::cmp::Ordering::Equal => num_cmp(&v, b).is_gt(),
                        std::cmp::Ordering::Less => false,
                    },
                };
                if better {
                    self.best = Some(v);
                }
            }
            AggKind::FirstValue | AggKind::MinTime => {
                if self.first.as_ref().is_none_or(|(ft, _)| t < *ft) {
                    self.first = Some((t, v));
                }
            }
            AggKind::LastValue | AggKind::MaxTime => {
                if self.last.as_ref().is_none_or(|(lt, _)| t > *lt) {
                    self.last = Some((t, v));
                }
            }
        }
    }

    /// The aggregate's value: `count` gives 0 on no input, the others null.
    pub fn result(&self) -> Option<Value> {
        match self.kind {
            AggKind::Count => Some(Value::Int64(self.count)),
            AggKind::Sum => (self.count > 0).then_some(Value::Double(self.sum)),
            AggKind::Avg => (self.count > 0).then(|| Value::Double(self.sum / self.count as f64)),
            AggKind::Extreme | AggKind::MaxValue | AggKind::MinValue => self.best.clone(),
            AggKind::FirstValue => self.first.as_ref().map(|(_, v)| v.clone()),
            AggKind::LastValue => self.last.as_ref().map(|(_, v)| v.clone()),
            AggKind::MinTime => self.first.as_ref().map(|(t, _)| Value::Int64(*t)),
            AggKind::MaxTime => self.last.as_ref().map(|(t, _)| Value::Int64(*t)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Bitmap;

    fn run(kind: AggKind, times: &[i64], col: &Column) -> Option<Value> {
        let mut a = Accumulator::new(kind);
        a.update(times, col, 0..times.len());
        a.result()
    }

    #[test]
    fn string_min_max_order_by_unsigned_bytes() {
        let words: Vec<Vec<u8>> = ["beta", "alpha", "\u{e9}t\u{e9}", "b"]
            .iter()
            .map(|w| w.as_bytes().to_vec())
            .collect();
        let col = Column::new(ColumnData::Binary(words));
        let t = [1, 2, 3, 4];
        assert_eq!(
            run(AggKind::MaxValue, &t, &col),
            Some(Value::Text("\u{e9}t\u{e9}".as_bytes().to_vec()))
        );
        assert_eq!(
            run(AggKind::MinValue, &t, &col),
            Some(Value::Text(b"alpha".to_vec()))
        );
    }

    #[test]
    fn all_aggregates_skip_nulls() {
        let mut nulls = Bitmap::new(4);
        nulls.set(1);
        let col = Column {
            data: ColumnData::Int32(vec![3, 100, -7, 5]),
            nulls: Some(nulls),
        };
        let t = [40, 10, 20, 30]; // arrival order need not be time order
        assert_eq!(run(AggKind::Count, &t, &col), Some(Value::Int64(3)));
        assert_eq!(run(AggKind::Sum, &t, &col), Some(Value::Double(1.0)));
        assert_eq!(run(AggKind::Avg, &t, &col), Some(Value::Double(1.0 / 3.0)));
        assert_eq!(run(AggKind::MaxValue, &t, &col), Some(Value::Int32(5)));
        assert_eq!(run(AggKind::MinValue, &t, &col), Some(Value::Int32(-7)));
        assert_eq!(run(AggKind::Extreme, &t, &col), Some(Value::Int32(-7)));
        assert_eq!(run(AggKind::FirstValue, &t, &col), Some(Value::Int32(-7)));
        assert_eq!(run(AggKind::LastValue, &t, &col), Some(Value::Int32(3)));
        assert_eq!(run(AggKind::MinTime, &t, &col), Some(Value::Int64(20)));
        assert_eq!(run(AggKind::MaxTime, &t, &col), Some(Value::Int64(40)));
    }

    #[test]
    fn sorted_update_matches_plain_update() {
        let mut nulls = Bitmap::new(5);
        nulls.set(0);
        nulls.set(4);
        let col = Column {
            data: ColumnData::Binary(vec![
                b"a".to_vec(),
                b"b".to_vec(),
                b"c".to_vec(),
                b"d".to_vec(),
                b"e".to_vec(),
            ]),
            nulls: Some(nulls),
        };
        let t = [1, 2, 3, 4, 5];
        for kind in [
            AggKind::FirstValue,
            AggKind::LastValue,
            AggKind::MinTime,
            AggKind::MaxTime,
            AggKind::Count,
        ] {
            for range in [0..5, 1..3, 4..5, 2..2] {
                let mut a = Accumulator::new(kind);
                a.update(&t, &col, range.clone());
                let mut b = Accumulator::new(kind);
                b.update_sorted(&t, &col, range.clone());
                assert_eq!(a.result(), b.result(), "{kind:?} {range:?}");
            }
        }
    }

    #[test]
    fn summaries_merge_like_their_points() {
        let times = [10i64, 11, 12, 20, 21];
        let vals = [4.0f64, -9.0, 2.5, 8.0, -1.0];
        // the first three points as a summary, the last two as points
        let summary = ChunkSummary {
            start: 10,
            end: 12,
            count: 3,
            sum: Some(-2.5),
            min: Some(Value::Double(-9.0)),
            max: Some(Value::Double(4.0)),
            first: Value::Double(4.0),
            last: Value::Double(2.5),
        };
        let all = Column::new(ColumnData::Double(vals.to_vec()));
        let tail = Column::new(ColumnData::Double(vals[3..].to_vec()));
        for kind in AggKind::NAMES
            .iter()
            .map(|n| AggKind::from_name(n).unwrap())
        {
            let mut want = Accumulator::new(kind);
            want.update_sorted(&times, &all, 0..5);
            let mut got = Accumulator::new(kind);
            got.update_sorted(&times[3..], &tail, 0..2);
            got.merge_summary(&summary);
            assert_eq!(got.result(), want.result(), "{kind:?}");
        }
    }

    #[test]
    fn empty_input_and_extreme_ties() {
        let empty = Column::new(ColumnData::Double(vec![]));
        assert_eq!(run(AggKind::Count, &[], &empty), Some(Value::Int64(0)));
        assert_eq!(run(AggKind::Sum, &[], &empty), None);
        assert_eq!(run(AggKind::FirstValue, &[], &empty), None);
        let tie = Column::new(ColumnData::Double(vec![-2.0, 2.0, 1.0]));
        assert_eq!(
            run(AggKind::Extreme, &[1, 2, 3], &tie),
            Some(Value::Double(2.0))
        );
    }

    #[test]
    fn output_types_follow_iotdb() {
        assert_eq!(
            AggKind::Count.output_type(TSDataType::Text).unwrap(),
            TSDataType::Int64
        );
        assert_eq!(
            AggKind::Avg.output_type(TSDataType::Int32).unwrap(),
            TSDataType::Double
        );
        assert_eq!(
            AggKind::MaxValue.output_type(TSDataType::Float).unwrap(),
            TSDataType::Float
        );
        assert_eq!(
            AggKind::FirstValue.output_type(TSDataType::Text).unwrap(),
            TSDataType::Text
        );
        assert!(AggKind::Sum.output_type(TSDataType::Boolean).is_err());
        // IoTDB 1.3: DATE and TIMESTAMP are ordered but not summed.
        assert_eq!(
            AggKind::MaxValue.output_type(TSDataType::Date).unwrap(),
            TSDataType::Date
        );
        assert_eq!(
            AggKind::MinValue
                .output_type(TSDataType::Timestamp)
                .unwrap(),
            TSDataType::Timestamp
        );
        assert!(AggKind::Sum.output_type(TSDataType::Date).is_err());
        assert!(AggKind::Avg.output_type(TSDataType::Timestamp).is_err());
        assert!(AggKind::MaxValue.output_type(TSDataType::Blob).is_err());
        assert!(AggKind::MaxValue.output_type(TSDataType::Text).is_err());
        assert_eq!(
            AggKind::MinValue.output_type(TSDataType::String).unwrap(),
            TSDataType::String
        );
        assert!(AggKind::from_name("MAX_VALUE") == Some(AggKind::MaxValue));
    }
}
