//! Schema descriptions shared by protocol decoding, storage and queries.

use crate::types::{CompressionType, TSDataType, TSEncoding};

/// How one measurement is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasurementSchema {
    /// Measurement name (last node, canonical form).
    pub name: String,
    /// Data type.
    pub data_type: TSDataType,
    /// Value encoding.
    pub encoding: TSEncoding,
    /// Page compressor.
    pub compressor: CompressionType,
}

/// One measurement of a schema template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateMeasurement {
    /// Dotted path relative to the node the template is set on: `speed`, `GPS.x`.
    pub path: String,
    /// True if the measurement belongs to an aligned group.
    pub aligned: bool,
    /// Type, encoding and compressor (`name` = last node of `path`).
    pub schema: MeasurementSchema,
}

/// A schema template definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateDef {
    /// Template name.
    pub name: String,
    /// Template-level aligned flag (`share_time`).
    pub aligned: bool,
    /// Measurements, in definition order.
    pub measurements: Vec<TemplateMeasurement>,
}
