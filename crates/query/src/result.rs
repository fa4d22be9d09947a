//! Result sets: what a statement returns, and streams of row batches.

use model::{Bitmap, Column, ColumnData, Result, RowBatch, TSDataType, Value};

/// What executing one statement produced.
pub enum Outcome {
    /// The statement changed something and returns no rows.
    Done,
    /// The statement returns a result set.
    Rows(QueryResult),
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Done => f.write_str("Done"),
            Outcome::Rows(r) => f
                .debug_struct("Rows")
                .field("columns", &r.columns)
                .field("types", &r.types)
                .field("ignore_timestamp", &r.ignore_timestamp)
                .field("column_index", &r.column_index)
                .finish_non_exhaustive(),
        }
    }
}

/// A result set: header plus a stream of row batches.
pub struct QueryResult {
    /// Display names, excluding Time; duplicates allowed (`select s1, s1`).
    pub columns: Vec<String>,
    /// One data type per entry of `columns`.
    pub types: Vec<TSDataType>,
    /// True when rows have no time column (SHOW/COUNT, aggregations without GROUP BY).
    pub ignore_timestamp: bool,
    /// `columns[i]` is data column `column_index[i]` of each [`RowBatch`].
    pub column_index: Vec<usize>,
    /// The rows.
    pub stream: Box<dyn ResultStream>,
}

impl QueryResult {
    /// Reads every remaining row into one batch (tests, small results).
    pub fn collect_rows(&mut self) -> Result<RowBatch> {
        let mut all = RowBatch::default();
        let mut first = true;
        while let Some(b) = self.stream.next_batch(4096)? {
            if first {
                all = b;
                first = false;
            } else {
                append_batch(&mut all, &b);
            }
        }
        Ok(all)
    }
}

/// A pull-based source of result rows.
pub trait ResultStream: Send {
    /// Returns up to `max_rows` more rows (at least one), or `None` when no rows remain.
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>>;

    /// As [`ResultStream::next_batch`], except that the batch may hold more than
    /// `max_rows` rows when the stream has them at hand already (a decoded slice of its
    /// series): a caller that encodes pages from it takes the rows it needs and keeps the
    /// rest for later, where cutting them off here would copy them. By default,
    /// [`ResultStream::next_batch`].
    fn next_block(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        self.next_batch(max_rows)
    }

    /// An error when the query behind the stream was killed or ran out of time: a caller
    /// handing out rows it kept from [`ResultStream::next_block`] asks before each page, as
    /// the stream itself would. By default, never.
    fn check(&self) -> Result<()> {
        Ok(())
    }
}

/// A stream over rows that are already materialized; hands them out in slices.
pub struct MemStream {
    batch: RowBatch,
    pos: usize,
}

impl MemStream {
    /// A stream over `batch`.
    pub fn new(batch: RowBatch) -> Self {
        MemStream { batch, pos: 0 }
    }
}

impl ResultStream for MemStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        let n = self.batch.len();
        if self.pos >= n {
            return Ok(None);
        }
        let take = max_rows.max(1).min(n - self.pos);
        if self.pos == 0 && take == n {
            self.pos = n;
            return Ok(Some(std::mem::take(&mut self.batch)));
        }
        let range = self.pos..self.pos + take;
        self.pos += take;
        Ok(Some(slice_batch(&self.batch, range)))
    }
}

/// A stream with no rows.
pub struct EmptyStream;

impl ResultStream for EmptyStream {
    fn next_batch(&mut self, _max_rows: usize) -> Result<Option<RowBatch>> {
        Ok(None)
    }
}

/// Rows `range` of `batch` as a new batch.
pub fn slice_batch(batch: &RowBatch, range: std::ops::Range<usize>) -> RowBatch {
    let idx: Vec<usize> = range.collect();
    RowBatch {
        times: idx.iter().map(|&i| batch.times[i]).collect(),
        columns: batch.columns.iter().map(|c| take_column(c, &idx)).collect(),
    }
}

/// Appends the rows of `b` to `a` (same column layout).
pub fn append_batch(a: &mut RowBatch, b: &RowBatch) {
    let base = a.times.len();
    a.times.extend_from_slice(&b.times);
    for (ca, cb) in a.columns.iter_mut().zip(&b.columns) {
        append_column(ca, cb, base);
    }
}

/// Joins batches of one column layout into one batch: every column is allocated once at
/// its final length (the first batch's buffers grow in place), so each value is copied once.
pub fn concat_batches(batches: Vec<RowBatch>) -> RowBatch {
    let total: usize = batches.iter().map(RowBatch::len).sum();
    let mut it = batches.into_iter();
    let Some(mut all) = it.next() else {
        return RowBatch::default();
    };
    let more = total - all.len();
    if more > 0 {
        all.times.reserve_exact(more);
        for c in &mut all.columns {
            match &mut c.data {
                ColumnData::Boolean(v) => v.reserve_exact(more),
                ColumnData::Int32(v) => v.reserve_exact(more),
                ColumnData::Int64(v) => v.reserve_exact(more),
                ColumnData::Float(v) => v.reserve_exact(more),
                ColumnData::Double(v) => v.reserve_exact(more),
                ColumnData::Binary(v) => v.reserve_exact(more),
            }
        }
    }
    for b in it {
        append_batch(&mut all, &b);
    }
    all
}

fn append_column(a: &mut Column, b: &Column, base: usize) {
    match (&mut a.data, &b.data) {
        (ColumnData::Boolean(x), ColumnData::Boolean(y)) => x.extend_from_slice(y),
        (ColumnData::Int32(x), ColumnData::Int32(y)) => x.extend_from_slice(y),
        (ColumnData::Int64(x), ColumnData::Int64(y)) => x.extend_from_slice(y),
        (ColumnData::Float(x), ColumnData::Float(y)) => x.extend_from_slice(y),
        (ColumnData::Double(x), ColumnData::Double(y)) => x.extend_from_slice(y),
        (ColumnData::Binary(x), ColumnData::Binary(y)) => x.extend_from_slice(y),
        (x, y) => {
            // Layouts differ (cannot happen for batches of one result); keep lengths right.
            for i in 0..y.len() {
                match y.get(i) {
                    Some(v) if x.push(&v) => {}
                    _ => x.push_placeholder(),
                }
            }
        }
    }
    if a.nulls.is_some() || b.nulls.is_some() {
        let total = a.data.len();
        let mut bm = a.nulls.take().unwrap_or_else(|| Bitmap::new(base));
        for i in base..total {
            bm.push(b.is_null(i - base));
        }
        a.nulls = Some(bm);
    }
}

/// The positions `idx` of `col`, in that order.
pub fn take_column(col: &Column, idx: &[usize]) -> Column {
    fn pick<T: Clone + Default>(v: &[T], idx: &[usize]) -> Vec<T> {
        idx.iter()
            .map(|&i| v.get(i).cloned().unwrap_or_default())
            .collect()
    }
    let data = match &col.data {
        ColumnData::Boolean(v) => ColumnData::Boolean(pick(v, idx)),
        ColumnData::Int32(v) => ColumnData::Int32(pick(v, idx)),
        ColumnData::Int64(v) => ColumnData::Int64(pick(v, idx)),
        ColumnData::Float(v) => ColumnData::Float(pick(v, idx)),
        ColumnData::Double(v) => ColumnData::Double(pick(v, idx)),
        ColumnData::Binary(v) => ColumnData::Binary(pick(v, idx)),
    };
    let nulls = col.nulls.as_ref().and_then(|b| {
        let mut out = Bitmap::new(idx.len());
        let mut any = false;
        for (j, &i) in idx.iter().enumerate() {
            if b.get(i) {
                out.set(j);
                any = true;
            }
        }
        any.then_some(out)
    });
    Column { data, nulls }
}

/// Builds a column value by value (nulls allowed).
pub struct ColumnBuilder {
    data: ColumnData,
    nulls: Bitmap,
    any_null: bool,
}

impl ColumnBuilder {
    /// A builder for the physical type of `t`.
    pub fn new(t: TSDataType, capacity: usize) -> Self {
        ColumnBuilder {
            data: ColumnData::with_capacity(t, capacity),
            nulls: Bitmap::new(0),
            any_null: false,
        }
    }

    /// Appends a value, or a null for `None` (or a value of the wrong type).
    pub fn push(&mut self, v: Option<&Value>) {
        match v {
            Some(v) if self.data.push(v) => self.nulls.push(false),
            _ => self.push_null(),
        }
    }

    /// Appends a null.
    pub fn push_null(&mut self) {
        self.data.push_placeholder();
        self.nulls.push(true);
        self.any_null = true;
    }

    /// Number of positions so far.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// True when nothing was appended.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The finished column.
    pub fn finish(self) -> Column {
        Column {
            data: self.data,
            nulls: self.any_null.then_some(self.nulls),
        }
    }
}

/// A small table built row by row: SHOW/COUNT results and other materialized answers.
pub struct TableBuilder {
    columns: Vec<String>,
    types: Vec<TSDataType>,
    builders: Vec<ColumnBuilder>,
    times: Vec<i64>,
}

impl TableBuilder {
    /// A table with the given header.
    pub fn new(header: &[(&str, TSDataType)]) -> Self {
        TableBuilder {
            columns: header.iter().map(|(n, _)| n.to_string()).collect(),
            types: header.iter().map(|(_, t)| *t).collect(),
            builders: header
                .iter()
                .map(|(_, t)| ColumnBuilder::new(*t, 0))
                .collect(),
            times: Default::default(),
        }
    }

    /// Appends a row without a meaningful time (time 0).
    pub fn row(&mut self, values: Vec<Option<Value>>) {
        self.timed_row(0, values);
    }

    /// Appends a row with a time.
    pub fn timed_row(&mut self, time: i64, values: Vec<Option<Value>>) {
        self.times.push(time);
        for (i, b) in self.builders.iter_mut().enumerate() {
            b.push(values.get(i).and_then(|v| v.as_ref()));
        }
    }

    /// Number of rows so far.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// True when no row was added.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The finished batch, without header.
    pub fn into_batch(self) -> RowBatch {
        RowBatch {
            times: self.times,
            columns: self.builders.into_iter().map(|b| b.finish()).collect(),
        }
    }

    /// The finished result set.
    pub fn finish(self, ignore_timestamp: bool) -> QueryResult {
        let columns = self.columns.clone();
        let types = self.types.clone();
        let column_index = (0..columns.len()).collect();
        QueryResult {
            columns,
            types,
            ignore_timestamp,
            column_index,
            stream: Box::new(MemStream::new(self.into_batch())),
        }
    }
}

/// A TEXT value.
pub fn text(s: impl AsRef<str>) -> Option<Value> {
    Some(Value::Text(s.as_ref().as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_builder_and_mem_stream_slices() {
        let mut t = TableBuilder::new(&[("A", TSDataType::Text), ("B", TSDataType::Int64)]);
        for i in 0..5 {
            t.row(vec![
                text(format!("r{i}")),
                (i % 2 == 0).then_some(Value::Int64(i)),
            ]);
        }
        let mut r = t.finish(true);
        let b1 = r.stream.next_batch(2).unwrap().unwrap();
        assert_eq!(b1.len(), 2);
        assert_eq!(b1.columns[1].value(0), Some(Value::Int64(0)));
        assert!(b1.columns[1].is_null(1));
        let b2 = r.stream.next_batch(10).unwrap().unwrap();
        assert_eq!(b2.len(), 3);
        assert_eq!(b2.columns[0].value(2), text("r4"));
        assert!(r.stream.next_batch(10).unwrap().is_none());
    }

    #[test]
    fn append_keeps_nulls_aligned() {
        let mut a = RowBatch {
            times: vec![1],
            columns: vec![Column::new(ColumnData::Int32(vec![7]))],
        };
        let mut cb = ColumnBuilder::new(TSDataType::Int32, 2);
        cb.push_null();
        cb.push(Some(&Value::Int32(9)));
        let b = RowBatch {
            times: vec![2, 3],
            columns: vec![cb.finish()],
        };
        append_batch(&mut a, &b);
        assert_eq!(a.columns[0].value(0), Some(Value::Int32(7)));
        assert!(a.columns[0].is_null(1));
        assert_eq!(a.columns[0].value(2), Some(Value::Int32(9)));
    }
}
