//! FILL operator: PREVIOUS, LINEAR and constant fills over a result stream.

use super::*;

/// The value a FILL constant gives a column of type `t`, if the types are compatible.
pub(super) fn fill_constant(l: &Literal, t: TSDataType) -> Option<Value> {
    use TSDataType as T;
    let txt = |s: String| Some(Value::Text(s.into_bytes()));
    match (l, t.physical()) {
        (Literal::Boolean(b), T::Boolean) => Some(Value::Boolean(*b)),
        (Literal::Boolean(b), T::Text) => txt(b.to_string()),
        (Literal::Integer(v), T::Int32) => i32::try_from(*v).ok().map(Value::Int32),
        (Literal::Integer(v), T::Int64) => Some(Value::Int64(*v)),
        (Literal::Integer(v), T::Float) => Some(Value::Float(*v as f32)),
        (Literal::Integer(v), T::Double) => Some(Value::Double(*v as f64)),
        (Literal::Integer(v), T::Text) => txt(v.to_string()),
        (Literal::Float(v, _), T::Float) => Some(Value::Float(*v as f32)),
        (Literal::Float(v, _), T::Double) => Some(Value::Double(*v)),
        (Literal::Float(_, s), T::Text) => txt(s.clone()),
        (Literal::NaN, T::Float) => Some(Value::Float(f32::NAN)),
        (Literal::NaN, T::Double) => Some(Value::Double(f64::NAN)),
        (Literal::NaN, T::Text) => txt("NaN".into()),
        (Literal::String(s), T::Text) => txt(s.clone()),
        _ => None,
    }
}

pub(super) fn fill_stream(
    inner: Box<dyn ResultStream>,
    fill: &Fill,
    types: &[TSDataType],
) -> Result<Box<dyn ResultStream>> {
    Ok(match fill {
        Fill::Previous => Box::new(PreviousFill {
            inner,
            last: vec![None; types.len()],
            within: None,
        }),
        Fill::PreviousWithin(iv) => {
            if iv.months != 0 {
                return Err(Error::Unsupported(
                    "FILL(PREVIOUS, …) with a calendar-month bound is not supported yet".into(),
                ));
            }
            Box::new(PreviousFill {
                inner,
                last: vec![None; types.len()],
                within: Some(iv.millis),
            })
        }
        Fill::Constant(l) => {
            if matches!(
                l,
                Literal::Null | Literal::DateTime(_) | Literal::Now | Literal::Duration(_)
            ) {
                return Err(Error::Semantic(format!(
                    "Unsupported constant in FILL: {}",
                    crate::analyze::literal_text(l)
                )));
            }
            Box::new(ConstantFill {
                inner,
                values: types.iter().map(|t| fill_constant(l, *t)).collect(),
            })
        }
        Fill::Linear => {
            let mut inner = inner;
            let mut all: Option<RowBatch> = None;
            while let Some(b) = inner.next_batch(4096)? {
                match all.as_mut() {
                    None => all = Some(b),
                    Some(a) => append_batch(a, &b),
                }
            }
            let mut all = all.unwrap_or_default();
            linear_fill(&mut all);
            Box::new(MemStream::new(all))
        }
    })
}

/// Replaces nulls of column `c` at rows `rows` by `v`.
pub(super) fn set_cells(col: &mut Column, rows: &[(usize, Value)]) {
    if rows.is_empty() {
        return;
    }
    let mut b = ColumnBuilder::new(col.data.data_type(), col.len());
    let mut it = rows.iter().peekable();
    for i in 0..col.len() {
        match it.peek() {
            Some((r, v)) if *r == i => {
                b.push(Some(v));
                it.next();
            }
            _ => b.push(col.value(i).as_ref()),
        }
    }
    *col = b.finish();
}

pub(super) struct PreviousFill {
    pub(super) inner: Box<dyn ResultStream>,
    /// Per column the last value seen and its time.
    pub(super) last: Vec<Option<(i64, Value)>>,
    /// Fill only from values at most this many milliseconds older than the row.
    pub(super) within: Option<i64>,
}

impl ResultStream for PreviousFill {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let Some(mut b) = self.inner.next_batch(max_rows)? else {
            return Ok(None);
        };
        for (c, col) in b.columns.iter_mut().enumerate() {
            let Some(last) = self.last.get_mut(c) else {
                continue;
            };
            let mut cells = Vec::new();
            for i in 0..col.len() {
                let t = b.times.get(i).copied().unwrap_or(0);
                match col.value(i) {
                    Some(v) => *last = Some((t, v)),
                    None => {
                        if let Some((lt, v)) = last.as_ref() {
                            if self
                                .within
                                .is_none_or(|w| t.abs_diff(*lt) <= w.unsigned_abs())
                            {
                                cells.push((i, v.clone()));
                            }
                        }
                    }
                }
            }
            set_cells(col, &cells);
        }
        Ok(Some(b))
    }
}

pub(super) struct ConstantFill {
    pub(super) inner: Box<dyn ResultStream>,
    pub(super) values: Vec<Option<Value>>,
}

impl ResultStream for ConstantFill {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let Some(mut b) = self.inner.next_batch(max_rows)? else {
            return Ok(None);
        };
        for (c, col) in b.columns.iter_mut().enumerate() {
            if let Some(Some(v)) = self.values.get(c) {
                let cells: Vec<(usize, Value)> = (0..col.len())
                    .filter(|&i| col.is_null(i))
                    .map(|i| (i, v.clone()))
                    .collect();
                set_cells(col, &cells);
            }
        }
        Ok(Some(b))
    }
}

/// Linear interpolation by time between the nearest non-null neighbours (numeric columns).
pub(super) fn linear_fill(b: &mut RowBatch) {
    let times = b.times.clone();
    for col in &mut b.columns {
        let t = col.data.data_type();
        if !t.is_numeric() {
            continue;
        }
        let known: Vec<(usize, f64)> = (0..col.len())
            .filter_map(|i| col.value(i).and_then(|v| v.as_f64()).map(|x| (i, x)))
            .collect();
        let mut cells = Vec::new();
        for w in known.windows(2) {
            let ((i0, v0), (i1, v1)) = (w[0], w[1]);
            for i in i0 + 1..i1 {
                let (t0, t1, ti) = (times[i0] as f64, times[i1] as f64, times[i] as f64);
                let x = if t1 == t0 {
                    v0
                } else {
                    // the time ratio first, as IoTDB 2.0 does (its last bit agrees then)
                    v0 + (v1 - v0) * ((ti - t0) / (t1 - t0))
                };
                let v = match t {
                    TSDataType::Int32 => Value::Int32(x as i32),
                    TSDataType::Int64 => Value::Int64(x as i64),
                    TSDataType::Float => Value::Float(x as f32),
                    _ => Value::Double(x),
                };
                cells.push((i, v));
            }
        }
        set_cells(col, &cells);
    }
}
