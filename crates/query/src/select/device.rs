//! ALIGN BY DEVICE: every device planned up front, then read one after another with the
//! Device column in front.

use super::*;

pub(super) fn run_align_by_device(
    engine: &Arc<Engine>,
    q: &QueryStatement,
    ctx: &SessionContext,
) -> Result<QueryResult> {
    let (_, device_desc) = sort_order(q)?;
    let mut devices: Vec<PartialPath> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &q.from {
        for d in engine.devices(p) {
            if seen.insert(d.path.clone()) {
                devices.push(d.path);
            }
        }
    }
    devices.sort_by_key(|d| d.to_string());
    if device_desc {
        devices.reverse();
    }
    for c in &q.select {
        if c.expr.has_full_path() {
            return Err(Error::Semantic(
                "ALIGN BY DEVICE: the paths in the SELECT clause can only be measurements or wildcards"
                    .into(),
            ));
        }
    }
    let mut sub = q.clone();
    sub.align_by_device = false;
    sub.limit = None;
    sub.offset = None;
    sub.slimit = None;
    sub.soffset = None;
    sub.order_by.retain(|o| o.key == SortKey::Time);
    // Plan every device. The measurement columns are collected over the devices in the
    // iteration order of IoTDB 1.0's device set (a Java HashSet of the device paths), each
    // device contributing its columns in its own order; SLIMIT/SOFFSET then pick among them,
    // and only the kept columns must agree on their type across devices.
    let mut plans: Vec<PlannedDevice> = Vec::new();
    let mut ignore_timestamp = None;
    for d in devices {
        sub.from = vec![d.to_pattern()];
        let plan = plan_query(engine, &sub, ctx)?;
        if plan.columns.is_empty() {
            continue;
        }
        ignore_timestamp.get_or_insert(plan.ignore_timestamp);
        let prefix = format!("{d}.");
        let cols: Vec<(usize, String)> = plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| (plan.column_index[i], c.replace(&prefix, "")))
            .collect();
        plans.push((d, plan, cols));
    }
    // ORDER BY DEVICE came after IoTDB 1.0; with it, columns follow the output device order
    // (IoTDB 2.0's rule).
    let column_order: Vec<usize> = if q.order_by.iter().any(|o| o.key == SortKey::Device) {
        (0..plans.len()).collect()
    } else {
        let mut device_set: model::javahash::JavaHashMap<usize> =
            model::javahash::JavaHashMap::new();
        for (i, (d, _, _)) in plans.iter().enumerate() {
            device_set.insert(d.to_string(), i);
        }
        device_set.values().copied().collect()
    };
    let mut headers: Vec<String> = Vec::new();
    let mut header_types: Vec<TSDataType> = Vec::new();
    let mut header_conflict: Vec<Option<TSDataType>> = Vec::new();
    let mut header_index: HashMap<String, usize> = HashMap::new();
    for &pi in &column_order {
        let (_, plan, _) = &plans[pi];
        let prefix = format!("{}.", plans[pi].0);
        for (i, c) in plan.columns.iter().enumerate() {
            let h = c.replace(&prefix, "");
            let t = plan.types[i];
            match header_index.get(&h) {
                Some(&j) => {
                    if header_types[j] != t && header_conflict[j].is_none() {
                        header_conflict[j] = Some(t);
                    }
                }
                None => {
                    header_index.insert(h.clone(), headers.len());
                    headers.push(h);
                    header_types.push(t);
                    header_conflict.push(None);
                }
            }
        }
    }
    // SLIMIT/SOFFSET pick among the measurement columns.
    let keep: Vec<usize> = (0..headers.len())
        .skip(clamp_usize(q.soffset.unwrap_or(0)))
        .take(clamp_usize(q.slimit.unwrap_or(u64::MAX)))
        .collect();
    for &j in &keep {
        if let Some(other) = header_conflict[j] {
            return Err(Error::Semantic(format!(
                "ALIGN BY DEVICE: the data types of the same measurement column {} should be the same across devices ({} and {})",
                headers[j],
                header_types[j].name(),
                other.name()
            )));
        }
    }
    // Nothing matched in any device: IoTDB answers with the time column alone.
    let (mut columns, mut types) = if headers.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        (vec!["Device".to_string()], vec![TSDataType::Text])
    };
    let mut global: HashMap<String, usize> = HashMap::new();
    for &j in &keep {
        global.insert(headers[j].clone(), columns.len());
        columns.push(headers[j].clone());
        types.push(header_types[j]);
    }
    // A device none of whose columns survived SLIMIT/SOFFSET is left out.
    let pending: VecDeque<DevicePlan> = plans
        .into_iter()
        .filter_map(|(d, plan, cols)| {
            let mut mapping = vec![None; columns.len()];
            let total = cols.len();
            for (data_col, h) in cols {
                if let Some(&g) = global.get(&h) {
                    mapping[g] = Some(data_col);
                }
            }
            let kept = mapping.iter().filter(|m| m.is_some()).count();
            (kept > 0).then(|| DevicePlan {
                device: d.to_string(),
                plan,
                mapping,
                partial: kept < total,
            })
        })
        .collect();
    let stream = DeviceStream {
        engine: engine.clone(),
        pending,
        current: None,
        types: types.clone(),
    };
    let column_index = (0..columns.len()).collect();
    Ok(QueryResult {
        columns,
        types,
        ignore_timestamp: ignore_timestamp.unwrap_or(false),
        column_index,
        stream: Box::new(LimitStream::new(
            Box::new(stream),
            q.offset.unwrap_or(0),
            q.limit,
        )),
    })
}

/// A device being read: name, rows, column mapping and `partial` (as in [`DevicePlan`]).
pub(super) type OpenDevice = (String, Box<dyn ResultStream>, Vec<Option<usize>>, bool);

pub(super) struct DevicePlan {
    pub(super) device: String,
    pub(super) plan: QueryPlan,
    /// For each output column (0 = Device): the device result's data column, if it has one.
    pub(super) mapping: Vec<Option<usize>>,
    /// SLIMIT/SOFFSET dropped some of the device's columns: rows that have no value in the
    /// kept ones are left out (they only exist because of the dropped columns).
    pub(super) partial: bool,
}

/// Rows of each device in turn, with the Device column in front.
pub(super) struct DeviceStream {
    pub(super) engine: Arc<Engine>,
    pub(super) pending: VecDeque<DevicePlan>,
    pub(super) current: Option<OpenDevice>,
    pub(super) types: Vec<TSDataType>,
}

impl ResultStream for DeviceStream {
    fn next_batch(&mut self, max_rows: usize) -> Result<Option<RowBatch>> {
        loop {
            if self.current.is_none() {
                let Some(next) = self.pending.pop_front() else {
                    return Ok(None);
                };
                let stream = next.plan.open_with(&self.engine, 0, None)?;
                self.current = Some((next.device, stream, next.mapping, next.partial));
            }
            let Some((device, stream, mapping, partial)) = self.current.as_mut() else {
                continue;
            };
            let Some(mut b) = stream.next_batch(max_rows)? else {
                self.current = None;
                continue;
            };
            if *partial {
                let kept: Vec<usize> = (0..b.len())
                    .filter(|&r| {
                        mapping
                            .iter()
                            .flatten()
                            .any(|&c| b.columns.get(c).is_some_and(|col| !col.is_null(r)))
                    })
                    .collect();
                if kept.is_empty() {
                    continue;
                }
                if kept.len() != b.len() {
                    b = RowBatch {
                        times: kept.iter().map(|&r| b.times[r]).collect(),
                        columns: b.columns.iter().map(|c| take_column(c, &kept)).collect(),
                    };
                }
            }
            let n = b.len();
            let mut columns = Vec::with_capacity(self.types.len());
            columns.push(broadcast(&Value::Text(device.as_bytes().to_vec()), n));
            for (g, t) in self.types.iter().enumerate().skip(1) {
                columns.push(match mapping.get(g).copied().flatten() {
                    Some(c) => b.columns.get(c).cloned().unwrap_or_else(|| all_null(*t, n)),
                    None => all_null(*t, n),
                });
            }
            return Ok(Some(RowBatch {
                times: b.times,
                columns,
            }));
        }
    }
}
