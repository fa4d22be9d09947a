//! Schema changes as records: what the schema log and snapshots store, and the only
//! way the in-memory schema tree is mutated (live operations and replay share it).

use crate::codec::{Reader, Writer};
use model::{Error, MeasurementSchema, PartialPath, Result, TemplateDef, TemplateMeasurement};

/// One schema change.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SchemaOp {
    CreateDatabase {
        path: PartialPath,
        region_id: u64,
        ttl: Option<i64>,
        interval: i64,
    },
    DeleteDatabase {
        path: PartialPath,
    },
    SetTtl {
        path: PartialPath,
        ttl: Option<i64>,
    },
    CreateSeries {
        path: PartialPath,
        aligned: bool,
        schema: MeasurementSchema,
        alias: Option<String>,
        props: Vec<(String, String)>,
        tags: Vec<(String, String)>,
        attributes: Vec<(String, String)>,
    },
    DeleteSeries {
        path: PartialPath,
    },
    /// Full new alias/tags/attributes of a series (tags/attributes in insertion order).
    UpdateSeries {
        path: PartialPath,
        alias: Option<String>,
        tags: Vec<(String, String)>,
        attributes: Vec<(String, String)>,
    },
    CreateTemplate(TemplateDef),
    DropTemplate {
        name: String,
    },
    AppendTemplate {
        name: String,
        measurements: Vec<TemplateMeasurement>,
    },
    PruneTemplate {
        name: String,
        path: String,
    },
    SetTemplate {
        name: String,
        path: PartialPath,
    },
    UnsetTemplate {
        name: String,
        path: PartialPath,
    },
    ActivateTemplate {
        device: PartialPath,
        name: String,
    },
    DeactivateTemplate {
        device: PartialPath,
    },
    /// Next region id to hand out (snapshots only).
    RegionCounter {
        next: u64,
    },
}

fn put_tm(w: &mut Writer, m: &TemplateMeasurement) {
    w.str(&m.path);
    w.bool(m.aligned);
    w.schema(&m.schema);
}

fn get_tm(r: &mut Reader) -> Result<TemplateMeasurement> {
    let path = r.string()?;
    let aligned = r.bool()?;
    let schema = r.schema()?;
    Ok(TemplateMeasurement {
        path,
        aligned,
        schema,
    })
}

fn put_tms(w: &mut Writer, ms: &[TemplateMeasurement]) {
    w.len(ms.len());
    for m in ms {
        put_tm(w, m);
    }
}

fn get_tms(r: &mut Reader) -> Result<Vec<TemplateMeasurement>> {
    let n = r.count(12)?;
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        v.push(get_tm(r)?);
    }
    Ok(v)
}

impl SchemaOp {
    /// Encodes the op as a record payload.
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut w = Writer::new(out);
        match self {
            SchemaOp::CreateDatabase {
                path,
                region_id,
                ttl,
                interval,
            } => {
                w.u8(1);
                w.path(path);
                w.u64(*region_id);
                w.opt_i64(*ttl);
                w.i64(*interval);
            }
            SchemaOp::DeleteDatabase { path } => {
                w.u8(2);
                w.path(path);
            }
            SchemaOp::SetTtl { path, ttl } => {
                w.u8(3);
                w.path(path);
                w.opt_i64(*ttl);
            }
            SchemaOp::CreateSeries {
                path,
                aligned,
                schema,
                alias,
                props,
                tags,
                attributes,
            } => {
                w.u8(4);
                w.path(path);
                w.bool(*aligned);
                w.schema(schema);
                w.opt_str(alias.as_deref());
                w.pairs(props);
                w.pairs(tags);
                w.pairs(attributes);
            }
            SchemaOp::DeleteSeries { path } => {
                w.u8(5);
                w.path(path);
            }
            SchemaOp::UpdateSeries {
                path,
                alias,
                tags,
                attributes,
            } => {
                w.u8(6);
                w.path(path);
                w.opt_str(alias.as_deref());
                w.pairs(tags);
                w.pairs(attributes);
            }
            SchemaOp::CreateTemplate(def) => {
                w.u8(7);
                w.str(&def.name);
                w.bool(def.aligned);
                put_tms(&mut w, &def.measurements);
            }
            SchemaOp::DropTemplate { name } => {
                w.u8(8);
                w.str(name);
            }
            SchemaOp::AppendTemplate { name, measurements } => {
                w.u8(9);
                w.str(name);
                put_tms(&mut w, measurements);
            }
            SchemaOp::PruneTemplate { name, path } => {
                w.u8(10);
                w.str(name);
                w.str(path);
            }
            SchemaOp::SetTemplate { name, path } => {
                w.u8(11);
                w.str(name);
                w.path(path);
            }
            SchemaOp::UnsetTemplate { name, path } => {
                w.u8(12);
                w.str(name);
                w.path(path);
            }
            SchemaOp::ActivateTemplate { device, name } => {
                w.u8(13);
                w.path(device);
                w.str(name);
            }
            SchemaOp::DeactivateTemplate { device } => {
                w.u8(14);
                w.path(device);
            }
            SchemaOp::RegionCounter { next } => {
                w.u8(15);
                w.u64(*next);
            }
        }
    }

    /// Decodes a record payload, bounds-checked.
    pub(crate) fn decode(payload: &[u8]) -> Result<SchemaOp> {
        let mut r = Reader::new(payload);
        let op = match r.u8()? {
            1 => SchemaOp::CreateDatabase {
                path: r.path()?,
                region_id: r.u64()?,
                ttl: r.opt_i64()?,
                interval: r.i64()?,
            },
            2 => SchemaOp::DeleteDatabase { path: r.path()? },
            3 => SchemaOp::SetTtl {
                path: r.path()?,
                ttl: r.opt_i64()?,
            },
            4 => SchemaOp::CreateSeries {
                path: r.path()?,
                aligned: r.bool()?,
                schema: r.schema()?,
                alias: r.opt_string()?,
                props: r.pairs()?,
                tags: r.pairs()?,
                attributes: r.pairs()?,
            },
            5 => SchemaOp::DeleteSeries { path: r.path()? },
            6 => SchemaOp::UpdateSeries {
                path: r.path()?,
                alias: r.opt_string()?,
                tags: r.pairs()?,
                attributes: r.pairs()?,
            },
            7 => SchemaOp::CreateTemplate(TemplateDef {
                name: r.string()?,
                aligned: r.bool()?,
                measurements: get_tms(&mut r)?,
            }),
            8 => SchemaOp::DropTemplate { name: r.string()? },
            9 => SchemaOp::AppendTemplate {
                name: r.string()?,
                measurements: get_tms(&mut r)?,
            },
            10 => SchemaOp::PruneTemplate {
                name: r.string()?,
                path: r.string()?,
            },
            11 => SchemaOp::SetTemplate {
                name: r.string()?,
                path: r.path()?,
            },
            12 => SchemaOp::UnsetTemplate {
                name: r.string()?,
                path: r.path()?,
            },
            13 => SchemaOp::ActivateTemplate {
                device: r.path()?,
                name: r.string()?,
            },
            14 => SchemaOp::DeactivateTemplate { device: r.path()? },
            15 => SchemaOp::RegionCounter { next: r.u64()? },
            k => {
                return Err(Error::StorageEngine(format!(
                    "corrupt schema record: unknown kind {k}"
                )))
            }
        };
        if !r.is_empty() {
            return Err(Error::StorageEngine(
                "corrupt schema record: trailing bytes".into(),
            ));
        }
        Ok(op)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{CompressionType, TSDataType, TSEncoding};

    #[test]
    fn ops_round_trip_and_reject_truncation() {
        let p = PartialPath::parse("root.sg.d.`1`").unwrap();
        let schema = MeasurementSchema {
            name: "`1`".into(),
            data_type: TSDataType::Int64,
            encoding: TSEncoding::Rle,
            compressor: CompressionType::Snappy,
        };
        let ops = vec![
            SchemaOp::CreateDatabase {
                path: p.parent().parent(),
                region_id: 7,
                ttl: Some(1000),
                interval: 604800000,
            },
            SchemaOp::CreateSeries {
                path: p.clone(),
                aligned: true,
                schema: schema.clone(),
                alias: Some("a".into()),
                props: vec![("LOSS".into(), "SDT".into())],
                tags: vec![("t".into(), "v".into())],
                attributes: vec![],
            },
            SchemaOp::CreateTemplate(TemplateDef {
                name: "t1".into(),
                aligned: false,
                measurements: vec![TemplateMeasurement {
                    path: "GPS.x".into(),
                    aligned: true,
                    schema,
                }],
            }),
            SchemaOp::ActivateTemplate {
                device: p.parent(),
                name: "t1".into(),
            },
            SchemaOp::RegionCounter { next: 3 },
        ];
        for op in ops {
            let mut buf = Vec::new();
            op.encode(&mut buf);
            assert_eq!(SchemaOp::decode(&buf).unwrap(), op);
            for cut in 0..buf.len() {
                assert!(SchemaOp::decode(&buf[..cut]).is_err());
            }
        }
    }
}
