//! IoTDB's built-in functions that read a whole series rather than one point: the variation
//! functions (`difference`, `non_negative_difference`, `time_difference`, `derivative`,
//! `non_negative_derivative`, and 2.0's `diff`), the selectors `top_k`/`bottom_k`, and the
//! continuous-interval functions (`zero_count`, `non_zero_count`, `zero_duration`,
//! `non_zero_duration`).
//!
//! Each maps the non-null points of its input (in time order) to output points at some of
//! those times; the result column is null elsewhere. They need every point of the series at
//! once, so raw queries that use them evaluate over the whole (filtered) series in one chunk
//! (see `select::RawStream`); they are refused in WHERE, aggregations and GROUP BY.
//!
//! `diff` differs: IoTDB 2.0 has it as a scalar function with state, not as a UDTF. It
//! gives a value (NULL at the first point) on every row of the query, so a query whose
//! whole-series functions are all `diff` keeps every row ([`SeriesFn::keeps_rows`]).

use model::{Column, Error, Result, TSDataType, Value};

/// A whole-series function with its parsed attributes.
#[derive(Debug, Clone, PartialEq)]
pub enum SeriesFn {
    /// `difference(x)`: `x[i] - x[i-1]`, input type; no output at the first point.
    Difference,
    /// `non_negative_difference(x)`: `|x[i] - x[i-1]|`.
    NonNegativeDifference,
    /// `time_difference(x)`: `t[i] - t[i-1]` (INT64).
    TimeDifference,
    /// `derivative(x)`: `(x[i] - x[i-1]) / (t[i] - t[i-1])` (DOUBLE).
    Derivative,
    /// `non_negative_derivative(x)`: absolute derivative.
    NonNegativeDerivative,
    /// `diff(x)`: DOUBLE `x[i] - x[i-1]` on every row (NULL at the first point and where
    /// `x` is null).
    Diff {
        /// `'ignoreNull'` (default true): a row without `x` leaves the previous point for
        /// the next one; when false, the row after it has no previous point (NULL).
        ignore_null: bool,
    },
    /// `change_points(x)`: the first point and every point whose value differs from the
    /// point before it (any type; a NaN differs from everything, itself included).
    ChangePoints,
    /// `top_k(x, 'k'='n')`: the n largest points.
    TopK(usize),
    /// `bottom_k(x, 'k'='n')`: the n smallest points.
    BottomK(usize),
    /// `zero_count(x)` / `non_zero_count(x)`: points in each run of (non-)zero values, at the
    /// run's first time (INT64).
    RunCount {
        /// Runs of zeros (else of non-zeros).
        zero: bool,
    },
    /// `zero_duration(x)` / `non_zero_duration(x)`: last minus first time of each run (INT64).
    RunDuration {
        /// Runs of zeros (else of non-zeros).
        zero: bool,
    },
}

fn k_attr(attrs: &[(String, String)], name: &str) -> Result<usize> {
    let v = attrs
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("k"))
        .map(|(_, v)| v.trim())
        .ok_or_else(|| {
            Error::Semantic(format!(
                "Error occurred during inferring UDF data type: attribute \"k\" is required but was not provided for function {name}."
            ))
        })?;
    match v.parse::<usize>() {
        Ok(k) if k > 0 && k <= 1000 => Ok(k),
        _ => Err(Error::Semantic(format!(
            "Illegal attribute k={v}: expected an integer in [1, 1000]"
        ))),
    }
}

impl SeriesFn {
    /// The names [`SeriesFn::resolve`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "difference",
        "non_negative_difference",
        "time_difference",
        "derivative",
        "non_negative_derivative",
        "diff",
        "change_points",
        "top_k",
        "bottom_k",
        "zero_count",
        "non_zero_count",
        "zero_duration",
        "non_zero_duration",
    ];

    /// The function named `name` (case-insensitive) over `args` input series; `None` when the
    /// name is not one of these functions.
    pub fn resolve(
        name: &str,
        args: usize,
        attrs: &[(String, String)],
    ) -> Option<Result<SeriesFn>> {
        let f = match name.to_ascii_lowercase().as_str() {
            "difference" => Ok(SeriesFn::Difference),
            "non_negative_difference" => Ok(SeriesFn::NonNegativeDifference),
            "time_difference" => Ok(SeriesFn::TimeDifference),
            "derivative" => Ok(SeriesFn::Derivative),
            "non_negative_derivative" => Ok(SeriesFn::NonNegativeDerivative),
            "diff" => Ok(SeriesFn::Diff {
                ignore_null: attrs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("ignoreNull"))
                    .is_none_or(|(_, v)| !v.trim().eq_ignore_ascii_case("false")),
            }),
            "change_points" => Ok(SeriesFn::ChangePoints),
            "top_k" => k_attr(attrs, name).map(SeriesFn::TopK),
            "bottom_k" => k_attr(attrs, name).map(SeriesFn::BottomK),
            "zero_count" => Ok(SeriesFn::RunCount { zero: true }),
            "non_zero_count" => Ok(SeriesFn::RunCount { zero: false }),
            "zero_duration" => Ok(SeriesFn::RunDuration { zero: true }),
            "non_zero_duration" => Ok(SeriesFn::RunDuration { zero: false }),
            _ => return None,
        };
        Some(if args == 1 {
            f
        } else {
            Err(Error::Semantic(format!(
                "Error occurred during inferring UDF data type: the number of the input series is not valid. expected: 1. actual: {args}."
            )))
        })
    }

    /// The result type for an input of type `input`.
    pub fn output_type(&self, input: TSDataType) -> TSDataType {
        match self {
            SeriesFn::Difference
            | SeriesFn::NonNegativeDifference
            | SeriesFn::TopK(_)
            | SeriesFn::BottomK(_)
            | SeriesFn::ChangePoints => input,
            SeriesFn::TimeDifference | SeriesFn::RunCount { .. } | SeriesFn::RunDuration { .. } => {
                TSDataType::Int64
            }
            SeriesFn::Derivative | SeriesFn::NonNegativeDerivative | SeriesFn::Diff { .. } => {
                TSDataType::Double
            }
        }
    }

    /// True for `diff`, which gives a value on every row (see the module doc): rows where
    /// its output is NULL are kept; the others' output rows are their points only.
    pub fn keeps_rows(&self) -> bool {
        matches!(self, SeriesFn::Diff { .. })
    }

    /// The input types IoTDB accepts: numbers for all, and for `top_k`/`bottom_k` also
    /// TEXT, STRING, DATE and TIMESTAMP (not BOOLEAN or BLOB).
    pub fn accepts(&self, input: TSDataType) -> bool {
        match self {
            SeriesFn::TopK(_) | SeriesFn::BottomK(_) => {
                !matches!(input, TSDataType::Boolean | TSDataType::Blob)
            }
            SeriesFn::ChangePoints => true,
            _ => input.is_numeric(),
        }
    }

    /// Evaluates over the whole series: `times` and the input column `x` of equal length.
    pub fn eval(&self, times: &[i64], x: &Column, out_type: TSDataType) -> Result<Column> {
        let n = times.len();
        // The non-null points in order.
        let points: Vec<(usize, Value)> = (0..n)
            .filter(|&i| !x.is_null(i))
            .filter_map(|i| x.value(i).map(|v| (i, v)))
            .collect();
        let mut out: Vec<Option<Value>> = vec![None; n];
        let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        match self {
            SeriesFn::Difference | SeriesFn::NonNegativeDifference => {
                let abs = *self == SeriesFn::NonNegativeDifference;
                for w in points.windows(2) {
                    let (prev, (i, cur)) = (&w[0].1, &w[1]);
                    out[*i] = Some(match (prev, cur) {
                        (Value::Int32(a), Value::Int32(b)) => {
                            let d = b.wrapping_sub(*a);
                            Value::Int32(if abs { d.wrapping_abs() } else { d })
                        }
                        (Value::Int64(a), Value::Int64(b)) => {
                            let d = b.wrapping_sub(*a);
                            Value::Int64(if abs { d.wrapping_abs() } else { d })
                        }
                        (Value::Float(a), Value::Float(b)) => {
                            let d = b - a;
                            Value::Float(if abs { d.abs() } else { d })
                        }
                        (a, b) => {
                            let d = num(b) - num(a);
                            Value::Double(if abs { d.abs() } else { d })
                        }
                    });
                }
            }
            SeriesFn::Diff { ignore_null } => {
                let mut prev: Option<f64> = None;
                for (i, slot) in out.iter_mut().enumerate() {
                    match x.value(i).filter(|_| !x.is_null(i)) {
                        Some(v) => {
                            let cur = num(&v);
                            *slot = prev.map(|p| Value::Double(cur - p));
                            prev = Some(cur);
                        }
                        None if !ignore_null => prev = None,
                        None => {}
                    }
                }
            }
            SeriesFn::TimeDifference => {
                for w in points.windows(2) {
                    out[w[1].0] = Some(Value::Int64(times[w[1].0].wrapping_sub(times[w[0].0])));
                }
            }
            SeriesFn::Derivative | SeriesFn::NonNegativeDerivative => {
                for w in points.windows(2) {
                    let dt = times[w[1].0].wrapping_sub(times[w[0].0]) as f64;
                    let d = (num(&w[1].1) - num(&w[0].1)) / dt;
                    out[w[1].0] =
                        Some(Value::Double(if *self == SeriesFn::NonNegativeDerivative {
                            d.abs()
                        } else {
                            d
                        }));
                }
            }
            SeriesFn::ChangePoints => {
                let mut prev: Option<&Value> = None;
                for (i, v) in &points {
                    let changed = match (prev, v) {
                        (None, _) => true,
                        (Some(Value::Float(a)), Value::Float(b)) => a != b,
                        (Some(Value::Double(a)), Value::Double(b)) => a != b,
                        (Some(a), b) => a != b,
                    };
                    if changed {
                        out[*i] = Some(v.clone());
                    }
                    prev = Some(v);
                }
            }
            SeriesFn::TopK(k) | SeriesFn::BottomK(k)
                if !points.iter().any(|(_, v)| matches!(v, Value::Text(_))) =>
            {
                let top = matches!(self, SeriesFn::TopK(_));
                for i in java_heap_select(&points, *k, top) {
                    out[points[i].0] = Some(points[i].1.clone());
                }
            }
            SeriesFn::TopK(k) | SeriesFn::BottomK(k) => {
                let mut order: Vec<&(usize, Value)> = points.iter().collect();
                let top = matches!(self, SeriesFn::TopK(_));
                // Java's `<`/`>` as IoTDB's selector compares: a NaN never makes the cut
                // ahead of a number, so NaNs go last either way.
                order.sort_by(|a, b| {
                    let o = match (&a.1, &b.1) {
                        (Value::Text(x), Value::Text(y)) => x.cmp(y),
                        _ => {
                            let (x, y) = (num(&a.1), num(&b.1));
                            match (x.is_nan(), y.is_nan()) {
                                (false, false) => x.total_cmp(&y),
                                (nx, ny) => return nx.cmp(&ny),
                            }
                        }
                    };
                    if top {
                        o.reverse()
                    } else {
                        o
                    }
                });
                for (i, v) in order.into_iter().take(*k) {
                    out[*i] = Some(v.clone());
                }
            }
            SeriesFn::RunCount { zero } | SeriesFn::RunDuration { zero } => {
                let mut run: Option<(usize, i64, i64, i64)> = None; // (row, start, last, count)
                let flush = |out: &mut Vec<Option<Value>>, r: (usize, i64, i64, i64)| {
                    out[r.0] = Some(Value::Int64(match self {
                        SeriesFn::RunCount { .. } => r.3,
                        _ => r.2.wrapping_sub(r.1),
                    }));
                };
                for (i, v) in &points {
                    let is_zero = num(v) == 0.0;
                    if is_zero == *zero {
                        run = Some(match run {
                            Some((row, start, _, c)) => (row, start, times[*i], c + 1),
                            None => (*i, times[*i], times[*i], 1),
                        });
                    } else if let Some(r) = run.take() {
                        flush(&mut out, r);
                    }
                }
                if let Some(r) = run {
                    flush(&mut out, r);
                }
            }
        }
        let mut b = crate::result::ColumnBuilder::new(out_type, n);
        for v in &out {
            match v {
                Some(v) => b.push(Some(v)),
                None => b.push_null(),
            }
        }
        Ok(b.finish())
    }
}

/// IoTDB's numeric `top_k`/`bottom_k`: the indices (into `points`) that a Java
/// `PriorityQueue` of capacity `k` holds after taking the points in order. The queue orders by
/// the value (`top`) or its negation (bottom) as Java's boxed `compareTo` does (NaN above
/// everything, -0.0 below 0.0); once full, a point replaces the head only when it is
/// strictly greater (smaller for bottom) by the primitive comparison, which a NaN never is.
/// So a NaN taken while the queue fills up stays in it, and ties resolve as Java's heap does.
fn java_heap_select(points: &[(usize, Value)], k: usize, top: bool) -> Vec<usize> {
    use std::cmp::Ordering;
    // The ordering key of point `i`: an exact integer where the input is one, else a float.
    #[derive(Clone, Copy)]
    enum Key {
        Int(i64),
        Float(f64),
    }
    let key = |i: usize| -> Key {
        match &points[i].1 {
            Value::Int32(v) => Key::Int(i64::from(if top { *v } else { v.wrapping_neg() })),
            Value::Int64(v) => Key::Int(if top { *v } else { v.wrapping_neg() }),
            v => {
                let f = v.as_f64().unwrap_or(f64::NAN);
                Key::Float(if top { f } else { -f })
            }
        }
    };
    let cmp = |a: usize, b: usize| -> Ordering {
        match (key(a), key(b)) {
            (Key::Int(x), Key::Int(y)) => x.cmp(&y),
            (Key::Float(x), Key::Float(y)) => java_float_compare(x, y),
            (Key::Int(x), Key::Float(y)) => java_float_compare(x as f64, y),
            (Key::Float(x), Key::Int(y)) => java_float_compare(x, y as f64),
        }
    };
    // The primitive `>` (top) / `<` (bottom) of the original values.
    let beats = |a: usize, b: usize| -> bool {
        let (x, y) = (&points[a].1, &points[b].1);
        match (x, y) {
            (Value::Int32(p), Value::Int32(q)) => {
                if top {
                    p > q
                } else {
                    p < q
                }
            }
            (Value::Int64(p), Value::Int64(q)) => {
                if top {
                    p > q
                } else {
                    p < q
                }
            }
            _ => {
                let (p, q) = (
                    x.as_f64().unwrap_or(f64::NAN),
                    y.as_f64().unwrap_or(f64::NAN),
                );
                if top {
                    p > q
                } else {
                    p < q
                }
            }
        }
    };
    // offer: `i` joins the heap and sifts up
    let offer = |heap: &mut Vec<usize>, i: usize| {
        let mut pos = heap.len();
        heap.push(i);
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if cmp(i, heap[parent]) != Ordering::Less {
                break;
            }
            heap[pos] = heap[parent];
            pos = parent;
        }
        heap[pos] = i;
    };
    let mut heap: Vec<usize> = Vec::with_capacity(k.min(points.len()));
    for i in 0..points.len() {
        if heap.len() < k {
            offer(&mut heap, i);
        } else if !heap.is_empty() && beats(i, heap[0]) {
            // poll, then offer: the last element sifts down from the root, then `i` sifts up
            let last = heap.pop().unwrap_or(i);
            if !heap.is_empty() {
                let n = heap.len();
                let mut pos = 0;
                while pos < n / 2 {
                    let mut child = 2 * pos + 1;
                    if child + 1 < n && cmp(heap[child], heap[child + 1]) == Ordering::Greater {
                        child += 1;
                    }
                    if cmp(last, heap[child]) != Ordering::Greater {
                        break;
                    }
                    heap[pos] = heap[child];
                    pos = child;
                }
                heap[pos] = last;
            }
            offer(&mut heap, i);
        }
    }
    heap
}

/// Java's `Double.compare`: NaN equals NaN and is above everything, -0.0 is below 0.0.
fn java_float_compare(x: f64, y: f64) -> std::cmp::Ordering {
    match (x.is_nan(), y.is_nan()) {
        (false, false) => x.total_cmp(&y),
        (nx, ny) => nx.cmp(&ny),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::ColumnData;

    fn ints(v: &[Option<i32>]) -> Column {
        let mut b = crate::result::ColumnBuilder::new(TSDataType::Int32, v.len());
        for x in v {
            match x {
                Some(x) => b.push(Some(&Value::Int32(*x))),
                None => b.push_null(),
            }
        }
        b.finish()
    }

    fn vals(c: &Column) -> Vec<Option<Value>> {
        (0..c.len())
            .map(|i| if c.is_null(i) { None } else { c.value(i) })
            .collect()
    }

    #[test]
    fn variation_selectors_and_runs() {
        let t = [1, 2, 3, 5, 6];
        let x = ints(&[Some(1), Some(-2), None, Some(8), Some(0)]);
        let d = SeriesFn::Difference
            .eval(&t, &x, TSDataType::Int32)
            .unwrap();
        assert_eq!(
            vals(&d),
            vec![
                None,
                Some(Value::Int32(-3)),
                None,
                Some(Value::Int32(10)),
                Some(Value::Int32(-8))
            ]
        );
        let td = SeriesFn::TimeDifference
            .eval(&t, &x, TSDataType::Int64)
            .unwrap();
        assert_eq!(vals(&td)[3], Some(Value::Int64(3)));
        let dv = SeriesFn::Derivative
            .eval(&t, &x, TSDataType::Double)
            .unwrap();
        assert_eq!(vals(&dv)[3], Some(Value::Double(10.0 / 3.0)));
        let top = SeriesFn::TopK(2).eval(&t, &x, TSDataType::Int32).unwrap();
        assert_eq!(
            vals(&top),
            vec![
                Some(Value::Int32(1)),
                None,
                None,
                Some(Value::Int32(8)),
                None
            ]
        );
        let nz = SeriesFn::RunCount { zero: false }
            .eval(&t, &x, TSDataType::Int64)
            .unwrap();
        assert_eq!(
            vals(&nz),
            vec![Some(Value::Int64(3)), None, None, None, None]
        );
        let zd = SeriesFn::RunDuration { zero: true }
            .eval(&t, &x, TSDataType::Int64)
            .unwrap();
        assert_eq!(
            vals(&zd),
            vec![None, None, None, None, Some(Value::Int64(0))]
        );
        assert!(matches!(d.data, ColumnData::Int32(_)));
        assert!(SeriesFn::resolve("top_k", 1, &[]).unwrap().is_err());
        assert!(SeriesFn::resolve("difference", 2, &[]).unwrap().is_err());
        assert!(SeriesFn::resolve("nope", 1, &[]).is_none());
    }

    #[test]
    fn diff_gives_every_row_and_honours_ignore_null() {
        let t = [1, 2, 3, 4];
        let x = ints(&[Some(1), None, Some(4), Some(10)]);
        let keep = SeriesFn::resolve("diff", 1, &[]).unwrap().unwrap();
        assert!(keep.keeps_rows());
        let d = keep.eval(&t, &x, TSDataType::Double).unwrap();
        assert_eq!(
            vals(&d),
            vec![
                None,
                None,
                Some(Value::Double(3.0)),
                Some(Value::Double(6.0))
            ]
        );
        let attrs = [("ignoreNull".to_string(), "false".to_string())];
        let reset = SeriesFn::resolve("diff", 1, &attrs).unwrap().unwrap();
        let d = reset.eval(&t, &x, TSDataType::Double).unwrap();
        assert_eq!(vals(&d), vec![None, None, None, Some(Value::Double(6.0))]);
        assert!(!SeriesFn::TopK(1).keeps_rows());
    }

    #[test]
    fn top_and_bottom_k_keep_a_nan_taken_while_filling() {
        let f = |v: f32| (0usize, Value::Float(v));
        let pts: Vec<(usize, Value)> = [1.5, f32::NAN, 0.5, -2.5, f32::NAN, 3.0, -1.0]
            .into_iter()
            .map(f)
            .collect();
        let mut top = java_heap_select(&pts, 2, true);
        top.sort_unstable();
        assert_eq!(top, vec![1, 5]);
        let mut bottom = java_heap_select(&pts, 3, false);
        bottom.sort_unstable();
        assert_eq!(bottom, vec![1, 3, 6]);
        assert!(java_heap_select(&pts, 0, true).is_empty());
    }

    #[test]
    fn change_points_keep_the_first_and_each_change() {
        let t = [1, 2, 3, 4, 5];
        let x = ints(&[Some(1), Some(1), None, Some(2), Some(1)]);
        let c = SeriesFn::ChangePoints
            .eval(&t, &x, TSDataType::Int32)
            .unwrap();
        assert_eq!(
            vals(&c),
            vec![
                Some(Value::Int32(1)),
                None,
                None,
                Some(Value::Int32(2)),
                Some(Value::Int32(1))
            ]
        );
        assert!(SeriesFn::ChangePoints.accepts(TSDataType::Boolean));
    }
}
