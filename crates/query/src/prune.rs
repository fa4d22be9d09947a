//! Value-filter pushdown to statistics: deciding from a run's min/max and time bounds
//! whether a predicate holds for every point of the run, for none, or whether the points
//! must be looked at.
//!
//! Aggregations ask this of each flushed chunk and page ([`storage::SummaryUse`]): a run the
//! predicate accepts whole is aggregated from its statistics, a run it rejects whole is never
//! read, and only the rest is decoded and filtered point by point.
//!
//! Like IoTDB's statistics, min/max of FLOAT/DOUBLE runs do not see NaN values; a run whose
//! min or max is itself NaN is always decoded.

use crate::expr::{CmpOp, Expr};
use model::Value;
use storage::ChunkSummary;

/// Integers beyond this magnitude do not convert to f64 exactly; runs or constants past it
/// are decided by their points.
const EXACT_F64_INT: f64 = 9_007_199_254_740_992.0;

/// `Some(true)` if `pred` holds for every point of the run `s`, `Some(false)` if for none,
/// `None` if statistics cannot tell. `pred` may refer to `Input(series)` (the run's values)
/// and to the row time; anything else makes the answer `None`.
pub fn decide(pred: &Expr, series: usize, s: &ChunkSummary) -> Option<bool> {
    match pred {
        Expr::And(a, b) => match (decide(a, series, s), decide(b, series, s)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Expr::Or(a, b) => match (decide(a, series, s), decide(b, series, s)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Expr::Not(x) => decide(x, series, s).map(|v| !v),
        Expr::Cmp(op, a, b) => {
            if let (Some(r), Some(c)) = (range_of(a, series, s), constant(b)) {
                compare(*op, r, c)
            } else if let (Some(c), Some(r)) = (constant(a), range_of(b, series, s)) {
                compare(flip(*op), r, c)
            } else {
                None
            }
        }
        Expr::Between {
            expr,
            low,
            high,
            negated,
        } => {
            let r = range_of(expr, series, s)?;
            let inside = match (
                compare(CmpOp::Ge, r, constant(low)?),
                compare(CmpOp::Le, r, constant(high)?),
            ) {
                (Some(false), _) | (_, Some(false)) => Some(false),
                (Some(true), Some(true)) => Some(true),
                _ => None,
            };
            inside.map(|v| v != *negated)
        }
        _ => None,
    }
}

/// The closed interval of values `e` takes over the run, when `e` is the series or the time.
fn range_of(e: &Expr, series: usize, s: &ChunkSummary) -> Option<(f64, f64)> {
    match e {
        Expr::Input(i) if *i == series => {
            let lo = exact(s.min.as_ref()?)?;
            let hi = exact(s.max.as_ref()?)?;
            (lo <= hi).then_some((lo, hi))
        }
        Expr::Time => {
            let (lo, hi) = (s.start as f64, s.end as f64);
            (lo.abs() <= EXACT_F64_INT && hi.abs() <= EXACT_F64_INT).then_some((lo, hi))
        }
        _ => None,
    }
}

/// A numeric constant (possibly negated) as an exact f64.
fn constant(e: &Expr) -> Option<f64> {
    match e {
        Expr::Const(v, _) => exact(v),
        Expr::Neg(x) => constant(x).map(|v| -v),
        _ => None,
    }
}

fn exact(v: &Value) -> Option<f64> {
    let f = v.as_f64()?;
    let representable = match v {
        Value::Int64(i) => (*i as f64).abs() <= EXACT_F64_INT,
        _ => true,
    };
    (representable && !f.is_nan()).then_some(f)
}

/// `a op b` ⇔ `b flip(op) a`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// Whether `x op c` holds for every `x` in `[lo, hi]` (true), for none (false), or neither.
fn compare(op: CmpOp, (lo, hi): (f64, f64), c: f64) -> Option<bool> {
    let (all, none) = match op {
        CmpOp::Gt => (lo > c, hi <= c),
        CmpOp::Ge => (lo >= c, hi < c),
        CmpOp::Lt => (hi < c, lo >= c),
        CmpOp::Le => (hi <= c, lo > c),
        CmpOp::Eq => (lo == c && hi == c, c < lo || c > hi),
        CmpOp::Ne => (c < lo || c > hi, lo == c && hi == c),
    };
    if all {
        Some(true)
    } else if none {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(min: f64, max: f64) -> ChunkSummary {
        ChunkSummary {
            start: 100,
            end: 200,
            count: 2,
            sum: Some(min + max),
            min: Some(Value::Double(min)),
            max: Some(Value::Double(max)),
            first: Value::Double(min),
            last: Value::Double(max),
        }
    }

    fn c(v: f64) -> Box<Expr> {
        Box::new(Expr::Const(Value::Double(v), v.to_string()))
    }

    fn cmp(op: CmpOp, v: f64) -> Expr {
        Expr::Cmp(op, Box::new(Expr::Input(0)), c(v))
    }

    #[test]
    fn comparisons_and_connectives() {
        let r = run(10.0, 20.0);
        assert_eq!(decide(&cmp(CmpOp::Gt, -1e300), 0, &r), Some(true));
        assert_eq!(decide(&cmp(CmpOp::Gt, 20.0), 0, &r), Some(false));
        assert_eq!(decide(&cmp(CmpOp::Gt, 15.0), 0, &r), None);
        assert_eq!(decide(&cmp(CmpOp::Ge, 10.0), 0, &r), Some(true));
        assert_eq!(decide(&cmp(CmpOp::Eq, 30.0), 0, &r), Some(false));
        assert_eq!(decide(&cmp(CmpOp::Ne, 30.0), 0, &r), Some(true));
        // constant on the left: 25 > s  ⇔  s < 25
        let e = Expr::Cmp(CmpOp::Gt, c(25.0), Box::new(Expr::Input(0)));
        assert_eq!(decide(&e, 0, &r), Some(true));
        // another series, or an expression the statistics cannot bound
        assert_eq!(decide(&cmp(CmpOp::Gt, 0.0), 1, &r), None);
        let and = Expr::And(
            Box::new(cmp(CmpOp::Gt, 0.0)),
            Box::new(cmp(CmpOp::Lt, 15.0)),
        );
        assert_eq!(decide(&and, 0, &r), None);
        let and = Expr::And(
            Box::new(cmp(CmpOp::Gt, 50.0)),
            Box::new(cmp(CmpOp::Lt, 15.0)),
        );
        assert_eq!(decide(&and, 0, &r), Some(false));
        let or = Expr::Or(
            Box::new(cmp(CmpOp::Gt, 50.0)),
            Box::new(cmp(CmpOp::Lt, 25.0)),
        );
        assert_eq!(decide(&or, 0, &r), Some(true));
        assert_eq!(
            decide(&Expr::Not(Box::new(cmp(CmpOp::Gt, 50.0))), 0, &r),
            Some(true)
        );
        let time = Expr::Cmp(CmpOp::Ge, Box::new(Expr::Time), c(100.0));
        assert_eq!(decide(&time, 0, &r), Some(true));
        let between = Expr::Between {
            expr: Box::new(Expr::Input(0)),
            low: c(0.0),
            high: c(100.0),
            negated: true,
        };
        assert_eq!(decide(&between, 0, &r), Some(false));
        assert_eq!(decide(&cmp(CmpOp::Gt, 0.0), 0, &run(f64::NAN, 1.0)), None);
    }

    proptest! {
        /// Whatever the verdict, it agrees with evaluating the predicate on points in the run.
        #[test]
        fn verdicts_agree_with_points(
            lo in -50i32..50, span in 0i32..50, k in -60i32..60,
            op in 0usize..6, probes in proptest::collection::vec(0.0f64..=1.0, 1..8),
        ) {
            let (lo, hi) = (lo as f64, (lo + span) as f64);
            let ops = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge];
            let op = ops[op];
            let holds = |x: f64| match op {
                CmpOp::Eq => x == k as f64,
                CmpOp::Ne => x != k as f64,
                CmpOp::Lt => x < k as f64,
                CmpOp::Le => x <= k as f64,
                CmpOp::Gt => x > k as f64,
                CmpOp::Ge => x >= k as f64,
            };
            let mut points = vec![lo, hi];
            points.extend(probes.iter().map(|p| lo + p * (hi - lo)));
            if let Some(v) = decide(&cmp(op, k as f64), 0, &run(lo, hi)) {
                for x in points {
                    prop_assert_eq!(holds(x), v, "x={} in [{}, {}]", x, lo, hi);
                }
            }
        }
    }
}
