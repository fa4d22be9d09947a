//! Columnar batches: the shape in which writes travel from the protocol to storage
//! and in which series data travels from storage to queries.

use crate::path::PartialPath;
use crate::types::TSDataType;
use crate::value::Value;

/// A null bitmap: bit set = the position is null.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bitmap {
    words: Vec<u64>,
    len: usize,
}

impl Bitmap {
    /// An all-clear (no nulls) bitmap of `len` positions.
    pub fn new(len: usize) -> Self {
        Bitmap {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the bitmap has no positions.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Marks position `i` (ignored when out of range).
    pub fn set(&mut self, i: usize) {
        if i < self.len {
            self.words[i / 64] |= 1 << (i % 64);
        }
    }

    /// True if position `i` is marked (false when out of range).
    pub fn get(&self, i: usize) -> bool {
        i < self.len && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Number of marked positions.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// A bitmap of `len` positions, all marked.
    pub fn all_marked(len: usize) -> Self {
        let mut b = Bitmap::new(0);
        b.extend_marked(len, true);
        b
    }

    /// Appends `n` positions, all marked or all clear.
    pub fn extend_marked(&mut self, n: usize, marked: bool) {
        let end = self.len + n;
        self.words.resize(end.div_ceil(64), 0);
        if marked {
            for (w, mask) in word_masks(self.len..end) {
                self.words[w] |= mask;
            }
        }
        self.len = end;
    }

    /// Appends the marks of `src` at positions `range` (clamped to its length).
    pub fn extend_from(&mut self, src: &Bitmap, range: std::ops::Range<usize>) {
        let (lo, hi) = (range.start.min(src.len), range.end.min(src.len));
        if lo >= hi {
            return;
        }
        if !src.any_in(lo..hi) {
            self.extend_marked(hi - lo, false);
            return;
        }
        for i in lo..hi {
            self.push(src.get(i));
        }
    }

    /// Reserves room for `n` more positions.
    pub fn reserve(&mut self, n: usize) {
        let words = (self.len + n).div_ceil(64);
        self.words.reserve(words.saturating_sub(self.words.len()));
    }

    /// Keeps the first `len` positions.
    pub fn truncate(&mut self, len: usize) {
        if len >= self.len {
            return;
        }
        self.len = len;
        self.words.truncate(len.div_ceil(64));
        if !len.is_multiple_of(64) {
            if let Some(w) = self.words.last_mut() {
                *w &= (1u64 << (len % 64)) - 1;
            }
        }
    }

    /// True if any position in `range` (clamped to the length) is marked.
    pub fn any_in(&self, range: std::ops::Range<usize>) -> bool {
        let (lo, hi) = (range.start.min(self.len), range.end.min(self.len));
        word_masks(lo..hi).any(|(w, mask)| self.words[w] & mask != 0)
    }

    /// Appends one position.
    pub fn push(&mut self, marked: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        self.len += 1;
        if marked {
            self.set(self.len - 1);
        }
    }
}

/// The words of a bitmap that positions `range` fall in, each with the mask of those
/// positions.
fn word_masks(range: std::ops::Range<usize>) -> impl Iterator<Item = (usize, u64)> {
    let mut i = range.start;
    std::iter::from_fn(move || {
        if i >= range.end {
            return None;
        }
        let bit = i % 64;
        let span = (64 - bit).min(range.end - i);
        let mask = if span == 64 {
            u64::MAX
        } else {
            ((1u64 << span) - 1) << bit
        };
        let word = i / 64;
        i += span;
        Some((word, mask))
    })
}

/// The timestamps of a series' points, shared between series read together that have the
/// same ones (the columns of an aligned device): cloning shares them, and a change makes
/// the changed series a copy of its own first if they are shared.
#[derive(Clone, Default)]
pub struct Times(std::sync::Arc<Vec<i64>>);

impl Times {
    /// The timestamps as a vector of their own (a copy only when they are shared).
    pub fn into_vec(self) -> Vec<i64> {
        std::sync::Arc::try_unwrap(self.0).unwrap_or_else(|shared| (*shared).clone())
    }

    /// True when `self` and `other` are the same shared timestamps (so equal without a look
    /// at them).
    pub fn shared_with(&self, other: &Times) -> bool {
        std::sync::Arc::ptr_eq(&self.0, &other.0)
    }
}

impl std::ops::Deref for Times {
    type Target = Vec<i64>;
    fn deref(&self) -> &Vec<i64> {
        &self.0
    }
}

impl std::ops::DerefMut for Times {
    fn deref_mut(&mut self) -> &mut Vec<i64> {
        std::sync::Arc::make_mut(&mut self.0)
    }
}

impl From<Vec<i64>> for Times {
    fn from(v: Vec<i64>) -> Self {
        Times(std::sync::Arc::new(v))
    }
}

impl FromIterator<i64> for Times {
    fn from_iter<I: IntoIterator<Item = i64>>(iter: I) -> Self {
        Times::from(iter.into_iter().collect::<Vec<i64>>())
    }
}

impl PartialEq for Times {
    fn eq(&self, other: &Times) -> bool {
        self.shared_with(other) || *self.0 == *other.0
    }
}

impl PartialEq<Vec<i64>> for Times {
    fn eq(&self, other: &Vec<i64>) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<[i64]> for Times {
    fn eq(&self, other: &[i64]) -> bool {
        self.0.as_slice() == other
    }
}

impl Eq for Times {}

impl std::fmt::Debug for Times {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// The values of one column, one entry per position (null positions hold a placeholder).
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    /// BOOLEAN
    Boolean(Vec<bool>),
    /// INT32 / DATE
    Int32(Vec<i32>),
    /// INT64 / TIMESTAMP
    Int64(Vec<i64>),
    /// FLOAT
    Float(Vec<f32>),
    /// DOUBLE
    Double(Vec<f64>),
    /// TEXT / STRING / BLOB
    Binary(Vec<Vec<u8>>),
}

impl ColumnData {
    /// The bytes value `i` takes in a request: its width, or its length and a 4-byte
    /// length prefix for binary values.
    pub fn value_bytes(&self, i: usize) -> usize {
        match self {
            ColumnData::Boolean(_) => 1,
            ColumnData::Int32(_) | ColumnData::Float(_) => 4,
            ColumnData::Int64(_) | ColumnData::Double(_) => 8,
            ColumnData::Binary(v) => 4 + v[i].len(),
        }
    }

    /// The bytes of all values in a request: [`Self::value_bytes`] summed.
    pub fn bytes(&self) -> usize {
        match self {
            ColumnData::Binary(v) => v.iter().map(|b| 4 + b.len()).sum(),
            d => d.len() * d.value_bytes(0),
        }
    }

    /// An empty column of the physical type of `t`.
    pub fn empty(t: TSDataType) -> Self {
        Self::with_capacity(t, 0)
    }

    /// An empty column of the physical type of `t` with room for `n` values.
    pub fn with_capacity(t: TSDataType, n: usize) -> Self {
        match t.physical() {
            TSDataType::Boolean => ColumnData::Boolean(Vec::with_capacity(n)),
            TSDataType::Int32 => ColumnData::Int32(Vec::with_capacity(n)),
            TSDataType::Int64 => ColumnData::Int64(Vec::with_capacity(n)),
            TSDataType::Float => ColumnData::Float(Vec::with_capacity(n)),
            TSDataType::Double => ColumnData::Double(Vec::with_capacity(n)),
            _ => ColumnData::Binary(Vec::with_capacity(n)),
        }
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        match self {
            ColumnData::Boolean(v) => v.len(),
            ColumnData::Int32(v) => v.len(),
            ColumnData::Int64(v) => v.len(),
            ColumnData::Float(v) => v.len(),
            ColumnData::Double(v) => v.len(),
            ColumnData::Binary(v) => v.len(),
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The physical type.
    pub fn data_type(&self) -> TSDataType {
        match self {
            ColumnData::Boolean(_) => TSDataType::Boolean,
            ColumnData::Int32(_) => TSDataType::Int32,
            ColumnData::Int64(_) => TSDataType::Int64,
            ColumnData::Float(_) => TSDataType::Float,
            ColumnData::Double(_) => TSDataType::Double,
            ColumnData::Binary(_) => TSDataType::Text,
        }
    }

    /// The value at `i` (None when out of range).
    pub fn get(&self, i: usize) -> Option<Value> {
        Some(match self {
            ColumnData::Boolean(v) => Value::Boolean(*v.get(i)?),
            ColumnData::Int32(v) => Value::Int32(*v.get(i)?),
            ColumnData::Int64(v) => Value::Int64(*v.get(i)?),
            ColumnData::Float(v) => Value::Float(*v.get(i)?),
            ColumnData::Double(v) => Value::Double(*v.get(i)?),
            ColumnData::Binary(v) => Value::Text(v.get(i)?.clone()),
        })
    }

    /// Appends a value of the column's type; returns false (and appends nothing) on mismatch.
    pub fn push(&mut self, value: &Value) -> bool {
        match (self, value) {
            (ColumnData::Boolean(v), Value::Boolean(x)) => v.push(*x),
            (ColumnData::Int32(v), Value::Int32(x)) => v.push(*x),
            (ColumnData::Int64(v), Value::Int64(x)) => v.push(*x),
            (ColumnData::Float(v), Value::Float(x)) => v.push(*x),
            (ColumnData::Double(v), Value::Double(x)) => v.push(*x),
            (ColumnData::Binary(v), Value::Text(x)) => v.push(x.clone()),
            _ => return false,
        }
        true
    }

    /// The values at positions `idx`, in that order (positions past the end are skipped).
    pub fn take(&self, idx: &[usize]) -> ColumnData {
        fn t<T: Clone>(v: &[T], idx: &[usize]) -> Vec<T> {
            idx.iter().filter_map(|&i| v.get(i).cloned()).collect()
        }
        match self {
            ColumnData::Boolean(v) => ColumnData::Boolean(t(v, idx)),
            ColumnData::Int32(v) => ColumnData::Int32(t(v, idx)),
            ColumnData::Int64(v) => ColumnData::Int64(t(v, idx)),
            ColumnData::Float(v) => ColumnData::Float(t(v, idx)),
            ColumnData::Double(v) => ColumnData::Double(t(v, idx)),
            ColumnData::Binary(v) => ColumnData::Binary(t(v, idx)),
        }
    }

    /// Keeps the first `len` values.
    pub fn truncate(&mut self, len: usize) {
        match self {
            ColumnData::Boolean(v) => v.truncate(len),
            ColumnData::Int32(v) => v.truncate(len),
            ColumnData::Int64(v) => v.truncate(len),
            ColumnData::Float(v) => v.truncate(len),
            ColumnData::Double(v) => v.truncate(len),
            ColumnData::Binary(v) => v.truncate(len),
        }
    }

    /// Values it can hold without growing.
    pub fn capacity(&self) -> usize {
        match self {
            ColumnData::Boolean(v) => v.capacity(),
            ColumnData::Int32(v) => v.capacity(),
            ColumnData::Int64(v) => v.capacity(),
            ColumnData::Float(v) => v.capacity(),
            ColumnData::Double(v) => v.capacity(),
            ColumnData::Binary(v) => v.capacity(),
        }
    }

    /// Reserves room for `n` more values.
    pub fn reserve(&mut self, n: usize) {
        match self {
            ColumnData::Boolean(v) => v.reserve(n),
            ColumnData::Int32(v) => v.reserve(n),
            ColumnData::Int64(v) => v.reserve(n),
            ColumnData::Float(v) => v.reserve(n),
            ColumnData::Double(v) => v.reserve(n),
            ColumnData::Binary(v) => v.reserve(n),
        }
    }

    /// Removes the values at positions `range` (clamped to the length), keeping the order of
    /// the rest.
    pub fn remove_range(&mut self, range: std::ops::Range<usize>) {
        let len = self.len();
        let r = range.start.min(len)..range.end.min(len);
        match self {
            ColumnData::Boolean(v) => drop(v.drain(r)),
            ColumnData::Int32(v) => drop(v.drain(r)),
            ColumnData::Int64(v) => drop(v.drain(r)),
            ColumnData::Float(v) => drop(v.drain(r)),
            ColumnData::Double(v) => drop(v.drain(r)),
            ColumnData::Binary(v) => drop(v.drain(r)),
        }
    }

    /// Appends all values of `other`; returns false (and appends nothing) when its type
    /// differs.
    pub fn append(&mut self, other: ColumnData) -> bool {
        match (self, other) {
            (ColumnData::Boolean(d), ColumnData::Boolean(s)) => d.extend(s),
            (ColumnData::Int32(d), ColumnData::Int32(s)) => d.extend(s),
            (ColumnData::Int64(d), ColumnData::Int64(s)) => d.extend(s),
            (ColumnData::Float(d), ColumnData::Float(s)) => d.extend(s),
            (ColumnData::Double(d), ColumnData::Double(s)) => d.extend(s),
            (ColumnData::Binary(d), ColumnData::Binary(s)) => d.extend(s),
            _ => return false,
        }
        true
    }

    /// Keeps, in place and in order, the values whose position is marked in `keep`
    /// (positions past `keep` are dropped).
    pub fn retain_mask(&mut self, keep: &[bool]) {
        match self {
            ColumnData::Boolean(v) => compact(v, keep),
            ColumnData::Int32(v) => compact(v, keep),
            ColumnData::Int64(v) => compact(v, keep),
            ColumnData::Float(v) => compact(v, keep),
            ColumnData::Double(v) => compact(v, keep),
            ColumnData::Binary(v) => {
                let mut i = 0;
                v.retain(|_| {
                    i += 1;
                    keep.get(i - 1).copied().unwrap_or(false)
                });
            }
        }
    }

    /// Appends the values of `src` at positions `range`; returns false (and appends
    /// nothing) when its type differs or the range lies outside it.
    pub fn extend_from(&mut self, src: &ColumnData, range: std::ops::Range<usize>) -> bool {
        if range.start > range.end || range.end > src.len() {
            return false;
        }
        match (self, src) {
            (ColumnData::Boolean(d), ColumnData::Boolean(s)) => d.extend_from_slice(&s[range]),
            (ColumnData::Int32(d), ColumnData::Int32(s)) => d.extend_from_slice(&s[range]),
            (ColumnData::Int64(d), ColumnData::Int64(s)) => d.extend_from_slice(&s[range]),
            (ColumnData::Float(d), ColumnData::Float(s)) => d.extend_from_slice(&s[range]),
            (ColumnData::Double(d), ColumnData::Double(s)) => d.extend_from_slice(&s[range]),
            (ColumnData::Binary(d), ColumnData::Binary(s)) => d.extend_from_slice(&s[range]),
            _ => return false,
        }
        true
    }

    /// Appends `n` placeholders (see [`ColumnData::push_placeholder`]).
    pub fn extend_placeholders(&mut self, n: usize) {
        match self {
            ColumnData::Boolean(v) => v.resize(v.len() + n, false),
            ColumnData::Int32(v) => v.resize(v.len() + n, 0),
            ColumnData::Int64(v) => v.resize(v.len() + n, 0),
            ColumnData::Float(v) => v.resize(v.len() + n, 0.0),
            ColumnData::Double(v) => v.resize(v.len() + n, 0.0),
            ColumnData::Binary(v) => v.resize(v.len() + n, Vec::new()),
        }
    }

    /// Appends the type's placeholder (false / 0 / empty) for a null position.
    pub fn push_placeholder(&mut self) {
        match self {
            ColumnData::Boolean(v) => v.push(false),
            ColumnData::Int32(v) => v.push(0),
            ColumnData::Int64(v) => v.push(0),
            ColumnData::Float(v) => v.push(0.0),
            ColumnData::Double(v) => v.push(0.0),
            ColumnData::Binary(v) => v.push(Vec::new()),
        }
    }
}

/// Keeps, in place and in order, the values of `v` whose position is marked in `keep`
/// (positions past `keep` are dropped). Branch-free: every value is written to the next
/// free slot and the slot advances only when it is kept, so the cost does not depend on
/// how the kept positions are spread.
pub fn compact<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
    let n = v.len().min(keep.len());
    let (vals, keep) = (&mut v[..n], &keep[..n]);
    let mut w = 0usize;
    for i in 0..n {
        let x = vals[i];
        vals[w] = x;
        w += usize::from(keep[i]);
    }
    v.truncate(w);
}

/// A column with its optional null bitmap.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// Values, one per position.
    pub data: ColumnData,
    /// Null marks (bit set = null); `None` means no nulls.
    pub nulls: Option<Bitmap>,
}

impl Column {
    /// A column without nulls.
    pub fn new(data: ColumnData) -> Self {
        Column { data, nulls: None }
    }

    /// Number of positions.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Keeps, in place and in order, the positions marked in `keep` (values and null marks).
    pub fn retain_mask(&mut self, keep: &[bool]) {
        if let Some(b) = self.nulls.take() {
            let mut out = Bitmap::new(0);
            for (i, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
                if i < self.data.len() {
                    out.push(b.get(i));
                }
            }
            self.nulls = (out.count() > 0).then_some(out);
        }
        self.data.retain_mask(keep);
    }

    /// True if position `i` is null.
    pub fn is_null(&self, i: usize) -> bool {
        self.nulls.as_ref().is_some_and(|b| b.get(i))
    }

    /// The value at `i`, or None if null/out of range.
    pub fn value(&self, i: usize) -> Option<Value> {
        if self.is_null(i) {
            None
        } else {
            self.data.get(i)
        }
    }
}

/// A tablet insert: many rows of one device, same measurements in every row.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertTablet {
    /// Device path, e.g. `root.sg.d1`.
    pub device: PartialPath,
    /// Measurement names (last path node), one per column.
    pub measurements: Vec<String>,
    /// Declared data type per column.
    pub types: Vec<TSDataType>,
    /// Row timestamps.
    pub times: Vec<i64>,
    /// Value columns, each `times.len()` long.
    pub columns: Vec<Column>,
    /// True for aligned devices.
    pub aligned: bool,
}

/// Values of one row insert: typed (insertRecord) or strings needing inference (insertStringRecord).
#[derive(Debug, Clone, PartialEq)]
pub enum RowValues {
    /// Typed values, each with the data type the writer declared for it (DATE, TIMESTAMP,
    /// STRING and BLOB share a [`Value`] variant with INT32, INT64 and TEXT; the declared type
    /// is what an auto-created series gets); `None` = no value for that measurement.
    Typed(Vec<Option<(TSDataType, Value)>>),
    /// Text values to convert to the series type or infer a type from.
    Strings(Vec<String>),
}

impl RowValues {
    /// Typed values declared with their physical types (INT32, INT64, TEXT, …).
    pub fn physical(values: Vec<Option<Value>>) -> RowValues {
        RowValues::Typed(
            values
                .into_iter()
                .map(|v| v.map(|v| (v.data_type(), v)))
                .collect(),
        )
    }
}

/// One row of one device.
#[derive(Debug, Clone, PartialEq)]
pub struct InsertRow {
    /// Device path.
    pub device: PartialPath,
    /// Timestamp.
    pub time: i64,
    /// Measurement names.
    pub measurements: Vec<String>,
    /// Values, same length as `measurements`.
    pub values: RowValues,
    /// True for aligned devices.
    pub aligned: bool,
}

/// A batch of row inserts (insertRecord(s), insertStringRecord(s), SQL INSERT).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InsertRows {
    /// The rows, in request order.
    pub rows: Vec<InsertRow>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn compact_keeps_marked_values_in_order() {
        let mut v: Vec<i64> = (0..10).collect();
        let keep: Vec<bool> = (0..10).map(|i| i % 3 != 1).collect();
        compact(&mut v, &keep);
        assert_eq!(v, vec![0, 2, 3, 5, 6, 8, 9]);
        // positions past `keep` are dropped
        let mut v = vec![1.0f64, 2.0, 3.0];
        compact(&mut v, &[true]);
        assert_eq!(v, vec![1.0]);
        let mut v = vec![1u8, 2, 3];
        compact(&mut v, &[false, false, false]);
        assert!(v.is_empty());
    }

    use super::*;

    proptest::proptest! {
        /// The bulk bitmap operations agree with pushing one position at a time.
        #[test]
        fn bitmap_bulk_ops_match_pushes(
            marks in proptest::collection::vec(proptest::bool::ANY, 0..300),
            start in 0usize..320,
            len in 0usize..320,
            pad in 0usize..130,
            fill in proptest::bool::ANY,
        ) {
            let src = {
                let mut b = Bitmap::new(0);
                marks.iter().for_each(|m| b.push(*m));
                b
            };
            let (lo, hi) = (start.min(marks.len()), (start + len).min(marks.len()));
            let mut bulk = Bitmap::new(0);
            bulk.extend_marked(pad, fill);
            bulk.extend_from(&src, start..start + len);
            let mut one = Bitmap::new(0);
            (0..pad).for_each(|_| one.push(fill));
            (lo..hi).for_each(|i| one.push(marks[i]));
            proptest::prop_assert_eq!(&bulk, &one);
            proptest::prop_assert_eq!(
                src.any_in(start..start + len),
                marks[lo..hi.max(lo)].iter().any(|m| *m)
            );
            proptest::prop_assert_eq!(Bitmap::all_marked(pad).count(), pad);
            let mut cut = src.clone();
            cut.truncate(lo);
            let mut pushed = Bitmap::new(0);
            marks[..lo].iter().for_each(|m| pushed.push(*m));
            proptest::prop_assert_eq!(cut, pushed);
        }
    }

    #[test]
    fn times_are_shared_until_one_side_changes() {
        let a = Times::from(vec![1, 2, 3]);
        let mut b = a.clone();
        assert!(a.shared_with(&b) && a == b);
        b.push(4);
        assert!(!a.shared_with(&b));
        assert_eq!(a, vec![1, 2, 3]);
        assert_eq!(b, vec![1, 2, 3, 4]);
        // a shared vector is copied out, a sole one moved
        let c = a.clone();
        assert_eq!(c.into_vec(), vec![1, 2, 3]);
        assert_eq!(a.into_vec(), vec![1, 2, 3]);
        let d = Times::from(vec![5]);
        assert!(d == *[5i64].as_slice());
    }

    #[test]
    fn column_extends_from_ranges_and_placeholders() {
        let src = ColumnData::Double(vec![1.0, 2.0, 3.0]);
        let mut d = ColumnData::Double(vec![0.5]);
        assert!(d.extend_from(&src, 1..3));
        d.extend_placeholders(2);
        assert_eq!(d, ColumnData::Double(vec![0.5, 2.0, 3.0, 0.0, 0.0]));
        // another type, or a range past the end, appends nothing
        assert!(!d.extend_from(&ColumnData::Int32(vec![1]), 0..1));
        assert!(!d.extend_from(&src, 2..4));
        assert_eq!(d.len(), 5);
    }

    #[test]
    fn bitmap_basics() {
        let mut b = Bitmap::new(70);
        b.set(0);
        b.set(69);
        b.set(70);
        assert!(b.get(0) && b.get(69) && !b.get(1) && !b.get(70));
        assert_eq!(b.count(), 2);
        b.push(true);
        assert_eq!(b.len(), 71);
        assert!(b.get(70));
    }
}

/// Rows of a query result: one timestamp per row and one column per distinct output column.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowBatch {
    /// One timestamp per row (0 for results without a time column).
    pub times: Vec<i64>,
    /// Columns, each `times.len()` long, with null bitmaps.
    pub columns: Vec<Column>,
}

impl RowBatch {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }
}
