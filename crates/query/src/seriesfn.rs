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
    /// `diff(x)`: DOUBLE `x[i] - x[i-1]`.
    Diff,
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
            "diff" => Ok(SeriesFn::Diff),
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
            | SeriesFn::BottomK(_) => input,
            SeriesFn::TimeDifference | SeriesFn::RunCount { .. } | SeriesFn::RunDuration { .. } => {
                TSDataType::Int64
            }
            SeriesFn::Derivative | SeriesFn::NonNegativeDerivative | SeriesFn::Diff => {
                TSDataType::Double
            }
        }
    }

    /// The input types IoTDB accepts: numbers for all, and for `top_k`/`bottom_k` also
    /// TEXT, STRING, DATE and TIMESTAMP (not BOOLEAN or BLOB).
    pub fn accepts(&self, input: TSDataType) -> bool {
        match self {
            SeriesFn::TopK(_) | SeriesFn::BottomK(_) => {
                !matches!(input, TSDataType::Boolean | TSDataType::Blob)
            }
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
            SeriesFn::Diff => {
                for w in points.windows(2) {
                    out[w[1].0] = Some(Value::Double(num(&w[1].1) - num(&w[0].1)));
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
}
