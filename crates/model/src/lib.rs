//! `model`: the vocabulary every other crate of iotdb-rs speaks.
//!
//! It owns the IoTDB enums (data types, encodings, compressors) with their wire
//! numbers and names, values and columnar batches, paths and path patterns,
//! time-zone and datetime-literal handling, and the single error enum whose
//! variants are mapped to IoTDB status codes in exactly one place
//! ([`Error::status_code`]).
//!
//! It must not know about files, the network, SQL parsing or Thrift.

#![warn(missing_docs)]

pub mod batch;
pub mod cancel;
pub mod error;
pub mod javahash;
pub mod path;
pub mod schema;
pub mod stack;
pub mod status;
pub mod time;
pub mod types;
pub mod value;

pub use batch::{
    Bitmap, Column, ColumnData, InsertRow, InsertRows, InsertTablet, RowBatch, RowValues, Times,
};
pub use error::{Error, Result};
pub use path::{PartialPath, PathPattern};
pub use schema::{MeasurementSchema, TemplateDef, TemplateMeasurement};
pub use status::TSStatusCode;
pub use types::{CompressionType, TSDataType, TSEncoding};
pub use value::Value;
