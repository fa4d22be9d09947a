//! `iotdb._native`: the Rust core of the `iotdb` Python package.
//!
//! A thin PyO3 layer over the `client` crate: it converts Python/numpy arguments into
//! `model` batches (tablets are read straight from numpy buffers), runs the session call
//! with the GIL released, and turns result batches into numpy arrays (for `todf()`) or
//! Python values (for row iteration). The Python package (`python/iotdb`) keeps the
//! official client's classes and signatures and calls only this module.

#![warn(missing_docs)]

use client::{Response, ResultSet, Session, TemplateAnswer, TemplateQuery, TimeseriesSpec};
use model::schema::{MeasurementSchema, TemplateMeasurement};
use model::{
    Bitmap, Column, ColumnData, CompressionType, InsertRow, InsertRows, InsertTablet, PartialPath,
    RowBatch, RowValues, TSDataType, TSEncoding, TemplateDef, Value,
};
use numpy::{PyArray1, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyCapsule, PyList, PyString, PyTuple};
use std::sync::Mutex;

mod arrow;

// ----------------------------------------------------------------------------- errors

/// Raises the package's exception for a client error: `IoTDBConnectionException` or
/// `StatementExecutionException` (with `.code`), both defined in `iotdb.utils.exception`.
fn py_err(e: client::Error) -> PyErr {
    Python::attach(|py| {
        let made = (|| -> PyResult<PyErr> {
            let m = py.import("iotdb.utils.exception")?;
            let exc = match &e {
                client::Error::Connection(msg) => m
                    .getattr("IoTDBConnectionException")?
                    .call1((msg.as_str(),))?,
                client::Error::Status { code, message } => m
                    .getattr("StatementExecutionException")?
                    .call1((py.None(), format!("{code}: {message}"), *code))?,
            };
            Ok(PyErr::from_value(exc))
        })();
        made.unwrap_or_else(|err| err)
    })
}

fn model_err(e: model::Error) -> PyErr {
    py_err(e.into())
}

fn closed() -> PyErr {
    py_err(client::Error::Connection("the session is closed".into()))
}

fn data_type(id: i32) -> PyResult<TSDataType> {
    TSDataType::from_id(i64::from(id))
        .ok_or_else(|| PyValueError::new_err(format!("unknown TSDataType value {id}")))
}

fn encoding(id: i32) -> PyResult<TSEncoding> {
    TSEncoding::from_id(i64::from(id))
        .ok_or_else(|| PyValueError::new_err(format!("unknown TSEncoding value {id}")))
}

fn compressor(id: i32) -> PyResult<CompressionType> {
    CompressionType::from_id(i64::from(id))
        .ok_or_else(|| PyValueError::new_err(format!("unknown Compressor value {id}")))
}

// ----------------------------------------------------------------------------- input

/// Copies a 1-d numpy array of `T`, or extracts a Python sequence: the values and a null flag
/// per value (`None` = null; no flags at all for a numpy array, which cannot hold nulls).
fn numbers<'py, T>(obj: &Bound<'py, PyAny>, what: &str) -> PyResult<(Vec<T>, Vec<bool>)>
where
    T: numpy::Element + Copy + Default + for<'a> FromPyObject<'a, 'py>,
{
    if let Ok(arr) = obj.cast::<PyArray1<T>>() {
        let ro = arr.readonly();
        let v = match ro.as_slice() {
            Ok(s) => s.to_vec(),
            Err(_) => ro.as_array().iter().copied().collect(),
        };
        return Ok((v, Vec::new())); // a numpy number array holds no nulls
    }
    if let Ok(arr) = obj.cast::<PyUntypedArray>() {
        return Err(PyTypeError::new_err(format!(
            "{what}: expected a numpy array of {}, got dtype {} (ndim {})",
            std::any::type_name::<T>(),
            arr.dtype(),
            arr.ndim()
        )));
    }
    let mut values = Vec::new();
    let mut nulls = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        if item.is_none() {
            values.push(T::default());
            nulls.push(true);
        } else {
            values.push(item.extract::<T>().map_err(|_| {
                PyTypeError::new_err(format!(
                    "{what}: value {} is not a {}",
                    item.repr().map(|r| r.to_string()).unwrap_or_default(),
                    std::any::type_name::<T>()
                ))
            })?);
            nulls.push(false);
        }
    }
    Ok((values, nulls))
}

/// Bytes of a TEXT/STRING/BLOB value (`str` as UTF-8, `bytes` as is).
fn binary(item: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
    if let Ok(s) = item.cast::<PyString>() {
        return Ok(s.to_cow()?.as_bytes().to_vec());
    }
    if let Ok(b) = item.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = item.extract::<Vec<u8>>() {
        return Ok(b);
    }
    Err(PyTypeError::new_err(format!(
        "{what}: value {} is neither str nor bytes",
        item.repr().map(|r| r.to_string()).unwrap_or_default()
    )))
}

fn binaries(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<Vec<u8>>, Vec<bool>)> {
    let mut values = Vec::new();
    let mut nulls = Vec::new();
    for item in obj.try_iter()? {
        let item = item?;
        if item.is_none() {
            values.push(Vec::new());
            nulls.push(true);
        } else {
            values.push(binary(&item, what)?);
            nulls.push(false);
        }
    }
    Ok((values, nulls))
}

/// One tablet column of type `t` from a numpy array (copied once) or a sequence, plus an optional
/// LSB-first null bitmap (bit set = null, the official `BitMap` layout).
fn column(
    obj: &Bound<'_, PyAny>,
    t: TSDataType,
    bitmap: Option<&[u8]>,
    what: &str,
) -> PyResult<Column> {
    let (data, flags) = match t.physical() {
        TSDataType::Boolean => {
            let (v, n) = numbers::<bool>(obj, what)?;
            (ColumnData::Boolean(v), n)
        }
        TSDataType::Int32 => {
            let (v, n) = numbers::<i32>(obj, what)?;
            (ColumnData::Int32(v), n)
        }
        TSDataType::Int64 => {
            let (v, n) = numbers::<i64>(obj, what)?;
            (ColumnData::Int64(v), n)
        }
        TSDataType::Float => {
            let (v, n) = numbers::<f32>(obj, what)?;
            (ColumnData::Float(v), n)
        }
        TSDataType::Double => {
            let (v, n) = numbers::<f64>(obj, what)?;
            (ColumnData::Double(v), n)
        }
        _ => {
            let (v, n) = binaries(obj, what)?;
            (ColumnData::Binary(v), n)
        }
    };
    let n = data.len();
    // no per-row work unless there are nulls: `flags` is empty for numpy arrays, and only
    // the non-zero bytes of a bitmap are looked into
    let mut nulls: Option<Bitmap> = None;
    let mut mark = |i: usize| nulls.get_or_insert_with(|| Bitmap::new(n)).set(i);
    for (i, _) in flags.iter().enumerate().filter(|(_, &null)| null) {
        mark(i);
    }
    if let Some(bits) = bitmap {
        if bits.len() * 8 < n {
            return Err(PyValueError::new_err(format!(
                "{what}: bitmap of {} bytes is too short for {n} rows",
                bits.len()
            )));
        }
        for (b, &byte) in bits[..n.div_ceil(8)].iter().enumerate() {
            if byte != 0 {
                (0..8)
                    .map(|k| (b * 8 + k, byte & (1 << k) != 0))
                    .filter(|&(i, null)| null && i < n)
                    .for_each(|(i, _)| mark(i));
            }
        }
    }
    Ok(Column { data, nulls })
}

/// One row value of type `t` (`None` = null).
fn value(item: &Bound<'_, PyAny>, t: TSDataType, what: &str) -> PyResult<Option<Value>> {
    if item.is_none() {
        return Ok(None);
    }
    let bad = |_| {
        PyTypeError::new_err(format!(
            "{what}: value {} does not fit {t}",
            item.repr().map(|r| r.to_string()).unwrap_or_default()
        ))
    };
    Ok(Some(match t.physical() {
        TSDataType::Boolean => Value::Boolean(item.extract().map_err(bad)?),
        TSDataType::Int32 => Value::Int32(item.extract().map_err(bad)?),
        TSDataType::Int64 => Value::Int64(item.extract().map_err(bad)?),
        TSDataType::Float => Value::Float(item.extract().map_err(bad)?),
        TSDataType::Double => Value::Double(item.extract().map_err(bad)?),
        _ => Value::Text(binary(item, what)?),
    }))
}

#[allow(clippy::too_many_arguments)]
fn tablet(
    device: &str,
    measurements: Vec<String>,
    types: Vec<i32>,
    timestamps: &Bound<'_, PyAny>,
    columns: Vec<Bound<'_, PyAny>>,
    bitmaps: Vec<Option<Vec<u8>>>,
    aligned: bool,
) -> PyResult<InsertTablet> {
    let (times, time_nulls) = numbers::<i64>(timestamps, "timestamps")?;
    if time_nulls.iter().any(|&n| n) {
        return Err(PyValueError::new_err("timestamps must not contain None"));
    }
    let n = measurements.len();
    if types.len() != n || columns.len() != n {
        return Err(PyValueError::new_err(format!(
            "tablet of {device}: {n} measurements, {} data types, {} value columns",
            types.len(),
            columns.len()
        )));
    }
    if !bitmaps.is_empty() && bitmaps.len() != n {
        return Err(PyValueError::new_err(format!(
            "tablet of {device}: {n} columns but {} bitmaps",
            bitmaps.len()
        )));
    }
    let types = types
        .into_iter()
        .map(data_type)
        .collect::<PyResult<Vec<_>>>()?;
    let mut cols = Vec::with_capacity(n);
    for (i, obj) in columns.iter().enumerate() {
        let what = format!("column {} of {device}", measurements[i]);
        let bits = bitmaps.get(i).and_then(|b| b.as_deref());
        let c = column(obj, types[i], bits, &what)?;
        if c.len() != times.len() {
            return Err(PyValueError::new_err(format!(
                "{what}: {} values for {} timestamps",
                c.len(),
                times.len()
            )));
        }
        cols.push(c);
    }
    Ok(InsertTablet {
        device: PartialPath::parse(device).map_err(model_err)?,
        measurements,
        types,
        times,
        columns: cols,
        aligned,
    })
}

type TabletArgs<'py> = (
    String,
    Vec<String>,
    Vec<i32>,
    Bound<'py, PyAny>,
    Vec<Bound<'py, PyAny>>,
    Vec<Option<Vec<u8>>>,
);

type SpecArgs = (
    String,
    i32,
    i32,
    i32,
    Option<Vec<(String, String)>>,
    Option<Vec<(String, String)>>,
    Option<Vec<(String, String)>>,
    Option<String>,
);

/// Series specs; with `device`, each path is a measurement name under it (aligned series).
fn specs(device: Option<&str>, args: Vec<SpecArgs>) -> PyResult<Vec<TimeseriesSpec>> {
    args.into_iter()
        .map(|(path, dt, enc, comp, props, tags, attributes, alias)| {
            let full = match device {
                Some(d) => format!("{d}.{path}"),
                None => path,
            };
            Ok(TimeseriesSpec {
                path: PartialPath::parse(&full).map_err(model_err)?,
                data_type: data_type(dt)?,
                encoding: encoding(enc)?,
                compressor: compressor(comp)?,
                props: props.unwrap_or_default(),
                tags: tags.unwrap_or_default(),
                attributes: attributes.unwrap_or_default(),
                alias,
            })
        })
        .collect()
}

/// `(path, aligned, data type, encoding, compressor)` per template measurement.
type TemplateArgs = (String, bool, i32, i32, i32);

fn template_measurements(args: Vec<TemplateArgs>) -> PyResult<Vec<TemplateMeasurement>> {
    args.into_iter()
        .map(|(path, aligned, dt, enc, comp)| {
            let name = path.rsplit('.').next().unwrap_or(&path).to_string();
            Ok(TemplateMeasurement {
                path,
                aligned,
                schema: MeasurementSchema {
                    name,
                    data_type: data_type(dt)?,
                    encoding: encoding(enc)?,
                    compressor: compressor(comp)?,
                },
            })
        })
        .collect()
}

// ----------------------------------------------------------------------------- output

/// A Python value for position `i` of `col` read as logical type `t` (`None` for null).
/// TEXT/STRING become `str`, BLOB `bytes`; DATE stays the `yyyymmdd` int (the Python
/// layer makes `datetime.date`s).
fn py_value<'py>(
    py: Python<'py>,
    col: &Column,
    t: TSDataType,
    i: usize,
) -> PyResult<Bound<'py, PyAny>> {
    if col.is_null(i) {
        return Ok(py.None().into_bound(py));
    }
    Ok(match &col.data {
        ColumnData::Boolean(v) => v[i].into_pyobject(py)?.to_owned().into_any(),
        ColumnData::Int32(v) => v[i].into_pyobject(py)?.into_any(),
        ColumnData::Int64(v) => v[i].into_pyobject(py)?.into_any(),
        ColumnData::Float(v) => f64::from(v[i]).into_pyobject(py)?.into_any(),
        ColumnData::Double(v) => v[i].into_pyobject(py)?.into_any(),
        ColumnData::Binary(v) if t == TSDataType::Blob => PyBytes::new(py, &v[i]).into_any(),
        ColumnData::Binary(v) => PyString::new(py, &String::from_utf8_lossy(&v[i])).into_any(),
    })
}

fn null_mask(col: &Column) -> Option<Vec<bool>> {
    col.nulls
        .as_ref()
        .filter(|b| b.count() > 0)
        .map(|b| (0..col.len()).map(|i| b.get(i)).collect())
}

/// A numpy array for `todf()`: numbers as their numpy dtype (FLOAT/DOUBLE nulls as NaN),
/// the rest as an object array. Returns `(values, null mask or None)`. Numeric buffers
/// move into numpy without a copy.
fn np_column<'py>(
    py: Python<'py>,
    col: Column,
    t: TSDataType,
) -> PyResult<(Bound<'py, PyAny>, Option<Bound<'py, PyAny>>)> {
    let mask = null_mask(&col);
    let values = match col.data {
        ColumnData::Boolean(v) => PyArray1::from_vec(py, v).into_any(),
        ColumnData::Int32(v) => PyArray1::from_vec(py, v).into_any(),
        ColumnData::Int64(v) => PyArray1::from_vec(py, v).into_any(),
        ColumnData::Float(mut v) => {
            if let Some(m) = &mask {
                v.iter_mut()
                    .zip(m)
                    .filter(|(_, &n)| n)
                    .for_each(|(x, _)| *x = f32::NAN);
            }
            PyArray1::from_vec(py, v).into_any()
        }
        ColumnData::Double(mut v) => {
            if let Some(m) = &mask {
                v.iter_mut()
                    .zip(m)
                    .filter(|(_, &n)| n)
                    .for_each(|(x, _)| *x = f64::NAN);
            }
            PyArray1::from_vec(py, v).into_any()
        }
        ColumnData::Binary(_) => {
            let objs = (0..col.len())
                .map(|i| py_value(py, &col, t, i).map(Bound::unbind))
                .collect::<PyResult<Vec<Py<PyAny>>>>()?;
            PyArray1::from_vec(py, objs).into_any()
        }
    };
    let mask = mask.map(|m| PyArray1::from_vec(py, m).into_any());
    Ok((values, mask))
}

// ----------------------------------------------------------------------------- classes

/// The data column of each of `displayed` display columns (`column_index[i]` is the data
/// column of display column `i`; `None` when it has none). A data column shown once moves,
/// one shown several times is copied.
pub(crate) fn display_columns(
    columns: Vec<Column>,
    column_index: &[usize],
    displayed: usize,
) -> Vec<Option<Column>> {
    let mut uses = vec![0usize; columns.len()];
    for &d in column_index {
        if let Some(u) = uses.get_mut(d) {
            *u += 1;
        }
    }
    let mut data: Vec<Option<Column>> = columns.into_iter().map(Some).collect();
    (0..displayed)
        .map(|i| {
            let d = *column_index.get(i)?;
            let slot = data.get_mut(d)?;
            uses[d] -= 1;
            if uses[d] == 0 {
                slot.take()
            } else {
                slot.clone()
            }
        })
        .collect()
}

/// A query result being read.
#[pyclass(module = "iotdb._native")]
struct NativeResult {
    inner: Mutex<Option<ResultSet>>,
    /// The batch `fetch_rows` returned last (Arrow export starts inside it).
    last: Mutex<Option<RowBatch>>,
    columns: Vec<String>,
    types: Vec<TSDataType>,
    column_index: Vec<usize>,
    ignore_timestamp: bool,
}

impl NativeResult {
    fn new(r: ResultSet) -> Self {
        NativeResult {
            columns: r.columns.clone(),
            types: r.types.clone(),
            column_index: r.column_index.clone(),
            ignore_timestamp: r.ignore_timestamp,
            inner: Mutex::new(Some(r)),
            last: Mutex::new(None),
        }
    }

    fn with<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut ResultSet) -> client::Result<T> + Send,
    ) -> PyResult<Option<T>> {
        py.detach(|| {
            let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_mut() {
                Some(r) => f(r).map(Some),
                None => Ok(None),
            }
        })
        .map_err(py_err)
    }

    fn display<'a>(&self, batch: &'a RowBatch, i: usize) -> PyResult<&'a Column> {
        self.column_index
            .get(i)
            .and_then(|&d| batch.columns.get(d))
            .ok_or_else(|| {
                py_err(client::Error::Connection(format!(
                    "result batch has no data column for display column {i}"
                )))
            })
    }
}

#[pymethods]
impl NativeResult {
    /// Display column names (without Time).
    #[getter]
    fn columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    /// Data type names per display column.
    #[getter]
    fn types(&self) -> Vec<&'static str> {
        self.types.iter().map(|t| t.name()).collect()
    }

    /// True when the rows have no meaningful time column.
    #[getter]
    fn ignore_timestamp(&self) -> bool {
        self.ignore_timestamp
    }

    /// The next batch as `(times, columns)` of Python lists (`None` for nulls), or `None`
    /// at the end.
    fn fetch_rows<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let Some(Some(batch)) = self.with(py, |r| r.next_batch())? else {
            return Ok(None);
        };
        let times = PyList::new(py, &batch.times)?;
        let cols = PyList::empty(py);
        for (i, &t) in self.types.iter().enumerate() {
            let col = self.display(&batch, i)?;
            let vals = (0..batch.len())
                .map(|k| py_value(py, col, t, k))
                .collect::<PyResult<Vec<_>>>()?;
            cols.append(PyList::new(py, vals)?)?;
        }
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(batch);
        Ok(Some(PyTuple::new(py, [times.into_any(), cols.into_any()])?))
    }

    /// The remaining rows as an Arrow C stream capsule (`arrow_array_stream`), starting at
    /// row `skip` of the batch `fetch_rows` returned last. The stream takes the result over:
    /// batches are fetched as the consumer reads them.
    fn arrow_stream<'py>(&self, py: Python<'py>, skip: usize) -> PyResult<Bound<'py, PyCapsule>> {
        let result = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        let pending = self
            .last
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .map(|b| (b, skip));
        let reader = arrow::ResultReader::new(
            &self.columns,
            self.types.clone(),
            self.column_index.clone(),
            !self.ignore_timestamp,
            pending,
            result,
        );
        PyCapsule::new_with_value(py, reader.into_ffi(), c"arrow_array_stream")
    }

    /// Reads every remaining row: `(times: int64 ndarray, [(values ndarray, null mask
    /// ndarray or None)] per display column)`.
    fn fetch_columns<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        let batch = self.with(py, |r| r.collect_rows())?.unwrap_or_default();
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let times = PyArray1::from_vec(py, batch.times);
        let display = display_columns(batch.columns, &self.column_index, self.types.len());
        let cols = PyList::empty(py);
        for (&t, col) in self.types.iter().zip(display) {
            let col = col.unwrap_or_else(|| Column::new(ColumnData::empty(t)));
            let (values, mask) = np_column(py, col, t)?;
            let mask = mask.unwrap_or_else(|| py.None().into_bound(py));
            cols.append(PyTuple::new(py, [values, mask])?)?;
        }
        PyTuple::new(py, [times.into_any(), cols.into_any()])
    }

    /// Rows per later fetch from the server.
    fn set_fetch_size(&self, py: Python<'_>, rows: i32) -> PyResult<()> {
        self.with(py, |r| {
            r.set_fetch_size(rows);
            Ok(())
        })
        .map(|_| ())
    }

    /// Releases the query.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let r = py.detach(|| {
            let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            match guard.take() {
                Some(mut r) => r.close(),
                None => Ok(()),
            }
        });
        r.map_err(py_err)
    }
}

/// A session (remote or embedded).
#[pyclass(module = "iotdb._native")]
struct NativeSession {
    inner: Mutex<Option<Box<dyn Session>>>,
}

impl NativeSession {
    fn call<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut dyn Session) -> client::Result<T> + Send,
    ) -> PyResult<T> {
        py.detach(|| {
            let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            match guard.as_mut() {
                Some(s) if s.is_open() => f(s.as_mut()).map_err(Some),
                _ => Err(None),
            }
        })
        .map_err(|e| e.map_or_else(closed, py_err))
    }
}

fn wal_mode(name: Option<&str>) -> PyResult<Option<storage::WalMode>> {
    Ok(match name.map(str::to_ascii_uppercase).as_deref() {
        None => None,
        Some("DISABLE") => Some(storage::WalMode::Disable),
        Some("ASYNC") => Some(storage::WalMode::Async),
        Some("SYNC") => Some(storage::WalMode::Sync),
        Some(other) => {
            return Err(PyValueError::new_err(format!(
                "unknown WAL mode {other} (expected DISABLE, ASYNC or SYNC)"
            )))
        }
    })
}

#[pymethods]
impl NativeSession {
    /// Connects to a server: `nodes` are `host:port` strings, tried in order.
    #[staticmethod]
    #[pyo3(signature = (nodes, user, password, fetch_size, zone_id, compact=false, connect_timeout_ms=10_000, socket_timeout_ms=None))]
    #[allow(clippy::too_many_arguments)]
    fn remote(
        py: Python<'_>,
        nodes: Vec<String>,
        user: String,
        password: String,
        fetch_size: i32,
        zone_id: String,
        compact: bool,
        connect_timeout_ms: u64,
        socket_timeout_ms: Option<u64>,
    ) -> PyResult<Self> {
        let config = client::RemoteConfig {
            nodes,
            user,
            password,
            fetch_size: if fetch_size > 0 { fetch_size } else { 5000 },
            zone_id,
            compact,
            connect_timeout: std::time::Duration::from_millis(connect_timeout_ms.max(1)),
            socket_timeout: socket_timeout_ms
                .filter(|&ms| ms > 0)
                .map(std::time::Duration::from_millis),
        };
        let s = py
            .detach(|| client::RemoteSession::open(config))
            .map_err(py_err)?;
        Ok(NativeSession {
            inner: Mutex::new(Some(Box::new(s))),
        })
    }

    /// Opens an in-process engine on data directory `path`.
    #[staticmethod]
    #[pyo3(signature = (path, zone_id="UTC".to_string(), user="root".to_string(), wal_mode=None, memory_budget_mb=None))]
    fn embedded(
        py: Python<'_>,
        path: std::path::PathBuf,
        zone_id: String,
        user: String,
        wal_mode: Option<&str>,
        memory_budget_mb: Option<u64>,
    ) -> PyResult<Self> {
        let mut config = client::EmbeddedConfig::new(path);
        config.zone_id = zone_id;
        config.user = user;
        if let Some(m) = self::wal_mode(wal_mode)? {
            config = config.wal_mode(m);
        }
        if let Some(mb) = memory_budget_mb {
            config = config.memory_budget_mb(mb);
        }
        let s = py
            .detach(|| client::EmbeddedSession::open(config))
            .map_err(py_err)?;
        Ok(NativeSession {
            inner: Mutex::new(Some(Box::new(s))),
        })
    }

    /// Runs SQL; a result for queries, `None` otherwise.
    fn execute(&self, py: Python<'_>, sql: &str) -> PyResult<Option<NativeResult>> {
        Ok(match self.call(py, |s| s.execute(sql))? {
            Response::Done => None,
            Response::Rows(r) => Some(NativeResult::new(r)),
        })
    }

    fn raw_data_query(
        &self,
        py: Python<'_>,
        paths: Vec<String>,
        start: i64,
        end: i64,
    ) -> PyResult<NativeResult> {
        self.call(py, |s| s.raw_data_query(&paths, start, end))
            .map(NativeResult::new)
    }

    fn last_data_query(
        &self,
        py: Python<'_>,
        paths: Vec<String>,
        min_time: i64,
    ) -> PyResult<NativeResult> {
        self.call(py, |s| s.last_data_query(&paths, min_time))
            .map(NativeResult::new)
    }

    /// Inserts tablets: each `(device, measurements, type ids, timestamps, columns,
    /// bitmaps)`; columns are numpy arrays of the native dtype or sequences.
    fn insert_tablets(
        &self,
        py: Python<'_>,
        tablets: Vec<TabletArgs<'_>>,
        aligned: bool,
    ) -> PyResult<()> {
        let tablets = tablets
            .into_iter()
            .map(|(device, ms, types, ts, cols, bitmaps)| {
                tablet(&device, ms, types, &ts, cols, bitmaps, aligned)
            })
            .collect::<PyResult<Vec<_>>>()?;
        self.call(py, |s| s.insert_tablets(tablets))
    }

    /// Inserts typed records: per row device, time, measurements, type ids, values.
    #[allow(clippy::too_many_arguments)]
    fn insert_records(
        &self,
        py: Python<'_>,
        devices: Vec<String>,
        times: Vec<i64>,
        measurements: Vec<Vec<String>>,
        types: Vec<Vec<i32>>,
        values: Vec<Vec<Bound<'_, PyAny>>>,
        aligned: bool,
    ) -> PyResult<()> {
        let n = devices.len();
        if times.len() != n || measurements.len() != n || types.len() != n || values.len() != n {
            return Err(PyValueError::new_err(format!(
                "insert_records: {n} devices, {} timestamps, {} measurement lists, {} type lists, {} value lists",
                times.len(),
                measurements.len(),
                types.len(),
                values.len()
            )));
        }
        let mut rows = Vec::with_capacity(n);
        for (i, ((device, ms), (ts, vs))) in devices
            .iter()
            .zip(measurements)
            .zip(types.into_iter().zip(values))
            .enumerate()
        {
            if ts.len() != ms.len() || vs.len() != ms.len() {
                return Err(PyValueError::new_err(format!(
                    "record {i} of {device}: {} measurements, {} data types, {} values",
                    ms.len(),
                    ts.len(),
                    vs.len()
                )));
            }
            let vals = ts
                .iter()
                .zip(&vs)
                .zip(&ms)
                .map(|((&t, v), m)| {
                    let t = data_type(t)?;
                    Ok(value(v, t, &format!("{device}.{m}"))?.map(|v| (t, v)))
                })
                .collect::<PyResult<Vec<_>>>()?;
            rows.push(InsertRow {
                device: PartialPath::parse(device).map_err(model_err)?,
                time: times[i],
                measurements: ms,
                values: RowValues::Typed(vals),
                aligned,
            });
        }
        self.call(py, |s| s.insert_rows(InsertRows { rows }))
    }

    /// Inserts records of string values (types inferred by the server).
    fn insert_string_records(
        &self,
        py: Python<'_>,
        devices: Vec<String>,
        times: Vec<i64>,
        measurements: Vec<Vec<String>>,
        values: Vec<Vec<String>>,
        aligned: bool,
    ) -> PyResult<()> {
        let n = devices.len();
        if times.len() != n || measurements.len() != n || values.len() != n {
            return Err(PyValueError::new_err(format!(
                "insert_str_records: {n} devices, {} timestamps, {} measurement lists, {} value lists",
                times.len(),
                measurements.len(),
                values.len()
            )));
        }
        let mut rows = Vec::with_capacity(n);
        for (i, ((device, ms), vs)) in devices.iter().zip(measurements).zip(values).enumerate() {
            if vs.len() != ms.len() {
                return Err(PyValueError::new_err(format!(
                    "record {i} of {device}: {} measurements, {} values",
                    ms.len(),
                    vs.len()
                )));
            }
            rows.push(InsertRow {
                device: PartialPath::parse(device).map_err(model_err)?,
                time: times[i],
                measurements: ms,
                values: RowValues::Strings(vs),
                aligned,
            });
        }
        self.call(py, |s| s.insert_rows(InsertRows { rows }))
    }

    fn create_database(&self, py: Python<'_>, path: String) -> PyResult<()> {
        self.call(py, |s| s.create_database(&path))
    }

    fn delete_databases(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<()> {
        self.call(py, |s| s.delete_databases(&paths))
    }

    /// Creates series: each `(path, type, encoding, compressor, props, tags,
    /// attributes, alias)`.
    fn create_timeseries(&self, py: Python<'_>, series: Vec<SpecArgs>) -> PyResult<()> {
        let specs = specs(None, series)?;
        self.call(py, |s| s.create_timeseries(&specs))
    }

    fn create_aligned_timeseries(
        &self,
        py: Python<'_>,
        device: String,
        series: Vec<SpecArgs>,
    ) -> PyResult<()> {
        let specs = specs(Some(&device), series)?;
        self.call(py, |s| s.create_aligned_timeseries(&device, &specs))
    }

    fn delete_timeseries(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<()> {
        self.call(py, |s| s.delete_timeseries(&paths))
    }

    fn delete_data(
        &self,
        py: Python<'_>,
        paths: Vec<String>,
        start: i64,
        end: i64,
    ) -> PyResult<()> {
        self.call(py, |s| s.delete_data(&paths, start, end))
    }

    /// Creates a template from its flattened measurements.
    fn create_template(
        &self,
        py: Python<'_>,
        name: String,
        aligned: bool,
        measurements: Vec<TemplateArgs>,
    ) -> PyResult<()> {
        let def = TemplateDef {
            name,
            aligned,
            measurements: template_measurements(measurements)?,
        };
        self.call(py, |s| s.create_template(&def))
    }

    fn append_template(
        &self,
        py: Python<'_>,
        name: String,
        measurements: Vec<TemplateArgs>,
    ) -> PyResult<()> {
        let ms = template_measurements(measurements)?;
        self.call(py, |s| s.append_template(&name, &ms))
    }

    fn prune_template(&self, py: Python<'_>, name: String, path: String) -> PyResult<()> {
        self.call(py, |s| s.prune_template(&name, &path))
    }

    fn set_template(&self, py: Python<'_>, name: String, prefix: String) -> PyResult<()> {
        self.call(py, |s| s.set_template(&name, &prefix))
    }

    fn unset_template(&self, py: Python<'_>, name: String, prefix: String) -> PyResult<()> {
        self.call(py, |s| s.unset_template(&name, &prefix))
    }

    fn drop_template(&self, py: Python<'_>, name: String) -> PyResult<()> {
        self.call(py, |s| s.drop_template(&name))
    }

    fn activate_template(&self, py: Python<'_>, paths: Vec<String>) -> PyResult<()> {
        self.call(py, |s| s.activate_template(&paths))
    }

    /// A template question by IoTDB's `TemplateQueryType` number; an int, a bool or a
    /// list of names.
    fn template_query<'py>(
        &self,
        py: Python<'py>,
        code: i32,
        name: String,
        path: String,
    ) -> PyResult<Bound<'py, PyAny>> {
        let q = TemplateQuery::from_code(code).map_err(model_err)?;
        Ok(
            match self.call(py, |s| s.template_query(q, &name, &path))? {
                TemplateAnswer::Count(n) => n.into_pyobject(py)?.into_any(),
                TemplateAnswer::Flag(b) => b.into_pyobject(py)?.to_owned().into_any(),
                TemplateAnswer::Names(v) => PyList::new(py, v)?.into_any(),
            },
        )
    }

    fn time_zone(&self, py: Python<'_>) -> PyResult<String> {
        self.call(py, |s| Ok(s.time_zone()))
    }

    fn set_time_zone(&self, py: Python<'_>, zone: String) -> PyResult<()> {
        self.call(py, |s| s.set_time_zone(&zone))
    }

    fn is_open(&self) -> bool {
        let guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.as_ref().is_some_and(|s| s.is_open())
    }

    /// Closes the session (idempotent).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let mut guard = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            match guard.take() {
                Some(mut s) => s.close(),
                None => Ok(()),
            }
        })
        .map_err(py_err)
    }
}

/// The wire buffers of a tablet `(timestamps, values)` as `insertTablet` carries them
/// (the official `Tablet.get_binary_timestamps()` / `get_binary_values()`).
#[pyfunction]
fn tablet_buffers<'py>(
    py: Python<'py>,
    args: TabletArgs<'py>,
    aligned: bool,
) -> PyResult<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)> {
    let (device, ms, types, ts, cols, bitmaps) = args;
    let t = tablet(&device, ms, types, &ts, cols, bitmaps, aligned)?;
    let b = protocol::codec::tablet::encode_tablet(&t).map_err(model_err)?;
    Ok((PyBytes::new(py, &b.timestamps), PyBytes::new(py, &b.values)))
}

/// The native module.
/// The module's Rust allocations (tablet columns and their wire buffers, request frames,
/// decoded results, an embedded engine's memtables) use mimalloc, as the server does: with
/// the system allocator every megabyte-sized tablet buffer was mapped fresh and unmapped
/// again (half of the client's time in `insert_tablet` went to page faults), while mimalloc
/// reuses the freed pages for the next tablet. Python's own objects are not affected
/// (docs/adr/0005-allocator.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Commits arenas lazily (`arena_eager_commit` = 0, as the server) and gives freed memory
/// back to the kernel 10 s after it is free (`purge_delay` = 10000; numbers 4 and 15 of
/// `mi_option_e`, the same in v2 and v3), unless `MIMALLOC_ARENA_EAGER_COMMIT` /
/// `MIMALLOC_PURGE_DELAY` say otherwise. With 10 ms an embedded session faulted the memory
/// of flushed memtables in again for the next ones (page faults per 10 M-point round:
/// 23,000–37,000 against 3,000–5,500 with 1 s). With 1 s (mimalloc v3's default, whose
/// deadline runs from a range's first free and is not moved by reuse) the result buffers of
/// a query that came a second or so after the last one were faulted in again: ~1,000–1,300
/// faults and about twice the CPU for the first queries after a pause
/// (docs/adr/0005-allocator.md).
fn tune_allocator() {
    const OPTIONS: [(libmimalloc_sys::mi_option_t, &str, std::ffi::c_long); 2] = [
        (4, "MIMALLOC_ARENA_EAGER_COMMIT", 0),
        (15, "MIMALLOC_PURGE_DELAY", 10_000),
    ];
    for (option, env, value) in OPTIONS {
        if std::env::var_os(env).is_none() {
            // SAFETY: mi_option_set only stores an option value; any option number is
            // accepted (unknown ones are ignored) and it may be called at any time.
            unsafe { libmimalloc_sys::mi_option_set(option, value) };
        }
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    tune_allocator();
    m.add_class::<NativeSession>()?;
    m.add_class::<NativeResult>()?;
    m.add_function(wrap_pyfunction!(tablet_buffers, m)?)?;
    Ok(())
}
