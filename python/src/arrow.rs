//! Query results as an Arrow C stream (the Arrow PyCapsule interface): pyarrow, polars,
//! duckdb … read the batches straight from Rust buffers, and pyarrow is not needed to
//! produce them.
//!
//! Types: BOOLEAN → Boolean, INT32 → Int32, INT64 and TIMESTAMP → Int64 (the session does
//! not know the server's time precision, so TIMESTAMP stays a number, like `todf()`),
//! FLOAT → Float32, DOUBLE → Float64, TEXT/STRING → Utf8, BLOB → Binary, DATE → Date32.
//! The row time is a non-null Int64 column `Time` first (absent when the result has no
//! time column). Every field carries its IoTDB type in metadata key `iotdb.type`.

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{
    new_null_array, Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Float32Array,
    Float64Array, Int32Array, Int64Array, RecordBatch, RecordBatchOptions, RecordBatchReader,
    StringArray,
};
use arrow_buffer::NullBuffer;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use client::ResultSet;
use model::{Column, ColumnData, RowBatch, TSDataType};
use std::collections::HashMap;
use std::sync::Arc;

/// The Arrow type of IoTDB type `t`.
fn arrow_type(t: TSDataType) -> DataType {
    match t {
        TSDataType::Boolean => DataType::Boolean,
        TSDataType::Int32 => DataType::Int32,
        TSDataType::Int64 | TSDataType::Timestamp => DataType::Int64,
        TSDataType::Float => DataType::Float32,
        TSDataType::Double => DataType::Float64,
        TSDataType::Text | TSDataType::String => DataType::Utf8,
        TSDataType::Blob => DataType::Binary,
        TSDataType::Date => DataType::Date32,
    }
}

/// The schema of a result with display `columns` of `types`.
pub fn schema(columns: &[String], types: &[TSDataType], with_time: bool) -> SchemaRef {
    let typed = |name: &str, t: TSDataType, nullable: bool| {
        Field::new(name, arrow_type(t), nullable).with_metadata(HashMap::from([(
            "iotdb.type".to_string(),
            t.name().to_string(),
        )]))
    };
    let mut fields = Vec::with_capacity(columns.len() + 1);
    if with_time {
        fields.push(typed("Time", TSDataType::Int64, false));
    }
    fields.extend(columns.iter().zip(types).map(|(c, &t)| typed(c, t, true)));
    Arc::new(Schema::new(fields))
}

/// Days since 1970-01-01 of an IoTDB DATE (`yyyymmdd`).
fn date32(yyyymmdd: i32) -> Result<i32, ArrowError> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("valid date");
    chrono::NaiveDate::from_ymd_opt(
        yyyymmdd / 10_000,
        (yyyymmdd / 100 % 100) as u32,
        (yyyymmdd % 100) as u32,
    )
    .map(|d| d.signed_duration_since(epoch).num_days() as i32)
    .ok_or_else(|| ArrowError::InvalidArgumentError(format!("invalid DATE value {yyyymmdd}")))
}

/// One display column as an Arrow array of `t`'s type; the values move, not copy.
fn array(col: Column, t: TSDataType) -> Result<ArrayRef, ArrowError> {
    let len = col.len();
    let nulls = col
        .nulls
        .as_ref()
        .filter(|b| b.count() > 0)
        .map(|b| NullBuffer::from_iter((0..len).map(|i| !b.get(i))));
    let all_null = nulls.as_ref().is_some_and(|n| n.null_count() == len);
    Ok(match (col.data, t) {
        (ColumnData::Boolean(v), TSDataType::Boolean) => {
            Arc::new(BooleanArray::new(v.into_iter().collect(), nulls))
        }
        (ColumnData::Int32(v), TSDataType::Int32) => Arc::new(Int32Array::new(v.into(), nulls)),
        (ColumnData::Int32(v), TSDataType::Date) => {
            let valid = |i: usize| nulls.as_ref().is_none_or(|n| n.is_valid(i));
            let days = v
                .iter()
                .enumerate()
                .map(|(i, &d)| if valid(i) { date32(d) } else { Ok(0) })
                .collect::<Result<Vec<_>, _>>()?;
            Arc::new(Date32Array::new(days.into(), nulls))
        }
        (ColumnData::Int64(v), TSDataType::Int64 | TSDataType::Timestamp) => {
            Arc::new(Int64Array::new(v.into(), nulls))
        }
        (ColumnData::Float(v), TSDataType::Float) => Arc::new(Float32Array::new(v.into(), nulls)),
        (ColumnData::Double(v), TSDataType::Double) => Arc::new(Float64Array::new(v.into(), nulls)),
        (ColumnData::Binary(v), TSDataType::Blob) => Arc::new(
            v.iter()
                .enumerate()
                .map(|(i, b)| nulls.as_ref().is_none_or(|n| n.is_valid(i)).then_some(b))
                .collect::<BinaryArray>(),
        ),
        (ColumnData::Binary(v), TSDataType::Text | TSDataType::String) => Arc::new(
            v.iter()
                .enumerate()
                .map(|(i, b)| {
                    nulls
                        .as_ref()
                        .is_none_or(|n| n.is_valid(i))
                        .then(|| String::from_utf8_lossy(b))
                })
                .collect::<StringArray>(),
        ),
        // an all-null column may carry placeholders of another physical type
        _ if all_null || len == 0 => new_null_array(&arrow_type(t), len),
        (data, t) => {
            return Err(ArrowError::InvalidArgumentError(format!(
                "result column of type {t} holds {} values",
                data.data_type()
            )))
        }
    })
}

/// A record batch of the display columns of `batch`, rows `skip..`.
pub fn record_batch(
    schema: &SchemaRef,
    batch: RowBatch,
    types: &[TSDataType],
    column_index: &[usize],
    with_time: bool,
    skip: usize,
) -> Result<RecordBatch, ArrowError> {
    let rows = batch.len();
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(types.len() + 1);
    if with_time {
        arrays.push(Arc::new(Int64Array::from(batch.times)));
    }
    let display = crate::display_columns(batch.columns, column_index, types.len());
    for (i, (&t, col)) in types.iter().zip(display).enumerate() {
        arrays.push(match col {
            Some(c) if c.len() == rows => array(c, t)?,
            Some(c) => {
                return Err(ArrowError::InvalidArgumentError(format!(
                    "result column {i} has {} values for {rows} rows",
                    c.len()
                )))
            }
            None => new_null_array(&arrow_type(t), rows),
        });
    }
    let skip = skip.min(rows);
    let arrays = arrays
        .into_iter()
        .map(|a| a.slice(skip, rows - skip))
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows - skip));
    RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
}

/// The remaining rows of a result as record batches (fetched as they are read).
pub struct ResultReader {
    schema: SchemaRef,
    types: Vec<TSDataType>,
    column_index: Vec<usize>,
    with_time: bool,
    /// A batch already fetched (by row iteration) and the rows of it already read.
    pending: Option<(RowBatch, usize)>,
    result: Option<ResultSet>,
}

impl ResultReader {
    /// A reader over `pending` (rows `skip..`) and then the rest of `result`.
    pub fn new(
        columns: &[String],
        types: Vec<TSDataType>,
        column_index: Vec<usize>,
        with_time: bool,
        pending: Option<(RowBatch, usize)>,
        result: Option<ResultSet>,
    ) -> Self {
        ResultReader {
            schema: schema(columns, &types, with_time),
            types,
            column_index,
            with_time,
            pending,
            result,
        }
    }

    /// The reader as an Arrow C stream.
    pub fn into_ffi(self) -> FFI_ArrowArrayStream {
        FFI_ArrowArrayStream::new(Box::new(self))
    }

    fn next_batch(&mut self) -> Result<Option<RecordBatch>, ArrowError> {
        let (batch, skip) = match self.pending.take() {
            Some((b, skip)) if skip < b.len() => (b, skip),
            _ => {
                let Some(result) = self.result.as_mut() else {
                    return Ok(None);
                };
                match result.next_batch() {
                    Ok(Some(b)) => (b, 0),
                    Ok(None) => {
                        if let Some(mut r) = self.result.take() {
                            r.close()
                                .map_err(|e| ArrowError::ExternalError(Box::new(e)))?;
                        }
                        return Ok(None);
                    }
                    Err(e) => return Err(ArrowError::ExternalError(Box::new(e))),
                }
            }
        };
        record_batch(
            &self.schema,
            batch,
            &self.types,
            &self.column_index,
            self.with_time,
            skip,
        )
        .map(Some)
    }
}

impl Iterator for ResultReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch().transpose()
    }
}

impl RecordBatchReader for ResultReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}
