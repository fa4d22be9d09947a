//! How an aggregation over one raw series reads flushed runs of points (see
//! `storage::SummaryPolicy`): statistics wherever they answer, runs a value filter rejects
//! whole left unread, and a page the filter splits decoded, filtered and summarised at once,
//! so its points never reach the operator (no point vectors, no filter-and-compact pass).

use super::*;
use crate::expr::{compare_const_values, selected_mask, CmpOp};
use storage::{PageReduction, SummaryPolicy};

/// The reading policy of one series' aggregation: `residual` is the value filter on the
/// series (`Input(0)`), `windows` the GROUP BY windows a summary must fit into.
pub(super) struct AggPolicy<'a> {
    pub(super) residual: Option<&'a Expr>,
    pub(super) windows: Option<&'a WindowPlan>,
    /// Whether an aggregation of the series needs the least and greatest value
    /// (MAX_VALUE, MIN_VALUE, EXTREME); reduced pages leave them out otherwise.
    pub(super) extremes: bool,
}

impl SummaryPolicy for AggPolicy<'_> {
    fn verdict(&self, run: &ChunkSummary) -> SummaryUse {
        let fits = self.windows.is_none_or(|w| w.holds(run.start, run.end));
        match self
            .residual
            .map_or(Some(true), |f| crate::prune::decide(f, 0, run))
        {
            Some(false) => SummaryUse::Skip,
            Some(true) if fits => SummaryUse::Use,
            // only a filter leaves the verdict open: its passing points are summarised
            None if fits => SummaryUse::Reduce,
            _ => SummaryUse::Decode,
        }
    }

    fn reduce(&self, times: &[i64], values: &ColumnData) -> Result<PageReduction> {
        let Some(filter) = self.residual else {
            return Ok(PageReduction::Points);
        };
        if !matches!(
            values,
            ColumnData::Int32(_)
                | ColumnData::Int64(_)
                | ColumnData::Float(_)
                | ColumnData::Double(_)
        ) {
            return Ok(PageReduction::Points);
        }
        // a single comparison with a constant is tested as the values are summarised; any
        // other filter selects through a mask first
        if let Some(reduced) = summarise_compared(filter, times, values, self.extremes) {
            return Ok(reduced);
        }
        let keep = match mask_in_place(filter, values) {
            Some(keep) => keep,
            None => {
                let chunk = Chunk {
                    times: times.to_vec(),
                    columns: vec![Column::new(values.clone())],
                };
                selected_mask(&filter.eval(&chunk)?, times.len()).into_owned()
            }
        };
        let keep = |i: usize| keep.get(i).copied().unwrap_or(false);
        macro_rules! masked {
            ($v:expr, $conv:expr, $value:expr) => {
                summarise(times, $v, |i, _| keep(i), $conv, $value, self.extremes)
            };
        }
        Ok(match values {
            ColumnData::Int32(v) => masked!(v, |x| x as f64, Value::Int32),
            ColumnData::Int64(v) => masked!(v, |x| x as f64, Value::Int64),
            ColumnData::Float(v) => masked!(v, |x| x as f64, Value::Float),
            ColumnData::Double(v) => masked!(v, |x| x, Value::Double),
            _ => PageReduction::Points,
        })
    }
}

/// [`summarise`] for a filter `series op constant` (either side) on a floating-point series
/// with a numeric constant, compared as `compare_const_values` compares (as doubles, NaN
/// only unequal); `None` for other filters and types.
fn summarise_compared(
    filter: &Expr,
    times: &[i64],
    values: &ColumnData,
    extremes: bool,
) -> Option<PageReduction> {
    let Expr::Cmp(op, l, r) = filter else {
        return None;
    };
    let (op, k) = match (&**l, &**r) {
        (Expr::Input(0), Expr::Const(v, _)) => (*op, v),
        (Expr::Const(v, _), Expr::Input(0)) => (op.flip(), v),
        _ => return None,
    };
    if !matches!(
        k,
        Value::Int32(_) | Value::Int64(_) | Value::Float(_) | Value::Double(_)
    ) {
        return None;
    }
    let k = k.as_f64()?;
    macro_rules! each_op {
        ($v:expr, $conv:expr, $value:expr) => {{
            let conv = $conv;
            Some(match op {
                CmpOp::Eq => summarise(times, $v, |_, x| conv(x) == k, conv, $value, extremes),
                CmpOp::Ne => summarise(times, $v, |_, x| conv(x) != k, conv, $value, extremes),
                CmpOp::Lt => summarise(times, $v, |_, x| conv(x) < k, conv, $value, extremes),
                CmpOp::Le => summarise(times, $v, |_, x| conv(x) <= k, conv, $value, extremes),
                CmpOp::Gt => summarise(times, $v, |_, x| conv(x) > k, conv, $value, extremes),
                CmpOp::Ge => summarise(times, $v, |_, x| conv(x) >= k, conv, $value, extremes),
            })
        }};
    }
    match values {
        ColumnData::Double(v) => each_op!(v, |x: f64| x, Value::Double),
        ColumnData::Float(v) => each_op!(v, |x: f32| x as f64, Value::Float),
        _ => None,
    }
}

/// The rows `filter` selects, for filters made of comparisons of the series with constants
/// joined by AND (evaluated on the values where they lie); `None` for any other filter.
fn mask_in_place(filter: &Expr, values: &ColumnData) -> Option<Vec<bool>> {
    match filter {
        Expr::Cmp(op, l, r) => match (&**l, &**r) {
            (Expr::Input(0), Expr::Const(v, _)) => compare_const_values(*op, values, v, false),
            (Expr::Const(v, _), Expr::Input(0)) => compare_const_values(*op, values, v, true),
            _ => None,
        },
        Expr::And(a, b) => {
            let mut keep = mask_in_place(a, values)?;
            let other = mask_in_place(b, values)?;
            keep.iter_mut().zip(other).for_each(|(k, o)| *k &= o);
            Some(keep)
        }
        _ => None,
    }
}

/// The statistics of the points `keep` selects (by position and value), as a flushed
/// page's would read (sum as doubles, first greatest / least value); `Points` when one of
/// them is NaN (whose ordering the accumulators settle point by point). The first and last
/// selected points are found from either end; one branch-free pass between them counts and
/// sums (in point order, as a page's statistics are summed) and, when `extremes`, keeps the
/// least and greatest value (left out otherwise: no aggregation asked for them).
fn summarise<T: Copy + PartialOrd>(
    times: &[i64],
    values: &[T],
    keep: impl Fn(usize, T) -> bool,
    to_f64: impl Fn(T) -> f64,
    to_value: impl Fn(T) -> Value,
    extremes: bool,
) -> PageReduction {
    let values = &values[..times.len().min(values.len())];
    let Some(a) = (0..values.len()).find(|&i| keep(i, values[i])) else {
        return PageReduction::Nothing;
    };
    let last = (a..values.len())
        .rev()
        .find(|&i| keep(i, values[i]))
        .unwrap_or(a);
    let span = &values[a..=last];
    let pass = if extremes {
        pass::<true, T>(span, |i, x| keep(a + i, x), &to_f64)
    } else {
        pass::<false, T>(span, |i, x| keep(a + i, x), &to_f64)
    };
    let Some(Pass {
        count,
        sum,
        min,
        max,
    }) = pass
    else {
        return PageReduction::Points;
    };
    PageReduction::Summary(ChunkSummary {
        start: times[a],
        end: times[last],
        count,
        sum: Some(sum),
        min: extremes.then(|| to_value(min)),
        max: extremes.then(|| to_value(max)),
        first: to_value(values[a]),
        last: to_value(values[last]),
    })
}

/// What one pass over the selected span of a page gathers.
struct Pass<T> {
    count: u64,
    sum: f64,
    min: T,
    max: T,
}

/// The count, sum and (with `EXTREMES`) least and greatest of the points of `span` (which
/// starts with a selected point) that `keep` selects; `None` when one of them is NaN.
#[inline]
fn pass<const EXTREMES: bool, T: Copy + PartialOrd>(
    span: &[T],
    keep: impl Fn(usize, T) -> bool,
    to_f64: &impl Fn(T) -> f64,
) -> Option<Pass<T>> {
    let (mut min, mut max) = (span[0], span[0]);
    let mut count = 0u64;
    let mut sum = 0.0f64;
    let mut nan = false;
    for (i, &x) in span.iter().enumerate() {
        let k = keep(i, x);
        // NaN is the only value unequal to itself (integers never are)
        #[allow(clippy::eq_op)]
        let is_nan = x != x;
        nan |= k & is_nan;
        count += k as u64;
        sum += if k { to_f64(x) } else { 0.0 };
        if EXTREMES {
            min = if k & (x < min) { x } else { min };
            max = if k & (x > max) { x } else { max };
        }
    }
    (!nan).then_some(Pass {
        count,
        sum,
        min,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cmp(op: CmpOp, k: Value, flipped: bool) -> Expr {
        let (s, c) = (Expr::Input(0), Expr::Const(k, String::new()));
        if flipped {
            Expr::Cmp(op.flip(), Box::new(c), Box::new(s))
        } else {
            Expr::Cmp(op, Box::new(s), Box::new(c))
        }
    }

    /// The summary of the points `filter` keeps, point by point through the general
    /// evaluator (`None` when none is kept).
    fn reference(filter: &Expr, times: &[i64], values: &ColumnData) -> Option<ChunkSummary> {
        let chunk = Chunk {
            times: times.to_vec(),
            columns: vec![Column::new(values.clone())],
        };
        let kept = selected_rows(&filter.eval(&chunk).unwrap());
        let (&a, &b) = (kept.first()?, kept.last()?);
        let vals: Vec<Value> = kept.iter().map(|&i| values.get(i).unwrap()).collect();
        let f = |v: &Value| v.as_f64().unwrap();
        let best = |want: std::cmp::Ordering| {
            vals.iter().cloned().reduce(|b, x| {
                if f(&x).partial_cmp(&f(&b)) == Some(want) {
                    x
                } else {
                    b
                }
            })
        };
        Some(ChunkSummary {
            start: times[a],
            end: times[b],
            count: kept.len() as u64,
            sum: Some(vals.iter().map(f).sum()),
            min: best(std::cmp::Ordering::Less),
            max: best(std::cmp::Ordering::Greater),
            first: values.get(a).unwrap(),
            last: values.get(b).unwrap(),
        })
    }

    fn op() -> impl Strategy<Value = CmpOp> {
        prop_oneof![
            Just(CmpOp::Eq),
            Just(CmpOp::Ne),
            Just(CmpOp::Lt),
            Just(CmpOp::Le),
            Just(CmpOp::Gt),
            Just(CmpOp::Ge),
        ]
    }

    proptest! {
        /// A page reduced under a comparison (or two joined by AND) summarises exactly the
        /// points the general evaluator keeps (the least and greatest only when asked for);
        /// NaN among them leaves the points to the accumulators.
        #[test]
        fn reduced_pages_summarise_the_kept_points(
            raw in proptest::collection::vec((-8i32..8, 0u8..20), 1..200),
            ops in (op(), op()),
            k in (-6i32..6, -6i32..6),
            shape in 0u8..4,
            flipped in any::<bool>(),
            extremes in any::<bool>(),
        ) {
            let times: Vec<i64> = (0..raw.len() as i64).map(|t| t * 3 + 1).collect();
            let double = |(v, nan): &(i32, u8)| if *nan == 0 { f64::NAN } else { *v as f64 / 2.0 };
            let (values, konst) = match shape % 2 {
                0 => (ColumnData::Double(raw.iter().map(double).collect()), Value::Double(k.0 as f64 / 2.0)),
                _ => (ColumnData::Int64(raw.iter().map(|(v, _)| *v as i64).collect()), Value::Int64(k.0 as i64)),
            };
            let mut filter = cmp(ops.0, konst, flipped);
            if shape >= 2 {
                filter = Expr::And(Box::new(filter), Box::new(cmp(ops.1, Value::Int32(k.1), false)));
            }
            let policy = AggPolicy { residual: Some(&filter), windows: None, extremes };
            // without extremes, a reduced page leaves out the least and greatest value
            let want = reference(&filter, &times, &values).map(|w| ChunkSummary {
                min: w.min.filter(|_| extremes),
                max: w.max.filter(|_| extremes),
                ..w
            });
            let chunk = Chunk { times: times.clone(), columns: vec![Column::new(values.clone())] };
            let nan_kept = selected_rows(&filter.eval(&chunk).unwrap())
                .iter()
                .any(|&i| values.get(i).and_then(|v| v.as_f64()).is_some_and(f64::is_nan));
            match policy.reduce(&times, &values).unwrap() {
                PageReduction::Nothing => prop_assert!(want.is_none()),
                PageReduction::Points => prop_assert!(nan_kept),
                PageReduction::Summary(got) => {
                    prop_assert!(!nan_kept);
                    prop_assert_eq!(Some(got), want);
                }
            }
        }
    }

    #[test]
    fn verdicts_follow_the_filter_and_the_windows() {
        let run = |min: f64, max: f64| ChunkSummary {
            start: 0,
            end: 9,
            count: 10,
            sum: Some(0.0),
            min: Some(Value::Double(min)),
            max: Some(Value::Double(max)),
            first: Value::Double(min),
            last: Value::Double(max),
        };
        let filter = cmp(CmpOp::Gt, Value::Double(0.0), false);
        let policy = AggPolicy {
            residual: Some(&filter),
            windows: None,
            extremes: true,
        };
        assert_eq!(policy.verdict(&run(1.0, 2.0)), SummaryUse::Use);
        assert_eq!(policy.verdict(&run(-2.0, -1.0)), SummaryUse::Skip);
        assert_eq!(policy.verdict(&run(-1.0, 1.0)), SummaryUse::Reduce);
        let plain = AggPolicy {
            residual: None,
            windows: None,
            extremes: true,
        };
        assert_eq!(plain.verdict(&run(-1.0, 1.0)), SummaryUse::Use);
        assert_eq!(
            plain.reduce(&[1], &ColumnData::Double(vec![1.0])).unwrap(),
            PageReduction::Points
        );
    }
}
