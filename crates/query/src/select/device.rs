//! ALIGN BY DEVICE: every device planned up front, then read one after another with the
//! Device column in front.

use super::*;

pub(super) fn run_align_by_device(
    engine: &Arc<Engine>,
    q: &QueryStatement,
    ctx: &SessionContext,
) -> Result<QueryResult> {
    plan_align_by_device(engine, q, ctx).map(|(result, _)| result)
}

/// The ALIGN BY DEVICE result and the devices it reads, in output order.
pub(super) fn plan_align_by_device(
    engine: &Arc<Engine>,
    q: &QueryStatement,
    ctx: &SessionContext,
) -> Result<(QueryResult, Vec<String>)> {
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
    // FILL works on the rows of all devices in output order (a device's gaps take the values
    // of the device before it), as in IoTDB, where it sits above the device view.
    sub.fill = None;
    // Plan every device. The measurement columns follow the SELECT list: each item
    // contributes the columns it expands to over the devices, once each (a wildcard matching
    // `s1` on several devices gives one `s1` column), and the items' columns are concatenated
    // (`SELECT s1, *` has `s1` twice). SLIMIT/SOFFSET then pick among them, and only the kept
    // columns must agree on their type across devices.
    let mut plans: Vec<(PartialPath, QueryPlan)> = Vec::new();
    let mut ignore_timestamp = None;
    // Per SELECT item: its columns (header -> index into `headers`).
    let mut item_columns: Vec<HashMap<String, usize>> = vec![HashMap::new(); q.select.len()];
    let mut per_device: Vec<Vec<(usize, usize, String)>> = Vec::new();
    for d in devices {
        sub.from = vec![d.to_pattern()];
        let plan = plan_query(engine, &sub, ctx)?;
        if plan.columns.is_empty() {
            continue;
        }
        ignore_timestamp.get_or_insert(plan.ignore_timestamp);
        let prefix = format!("{d}.");
        // (select item, data column, header) of each of the device's columns.
        let cols: Vec<(usize, usize, String)> = plan
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    plan.column_items.get(i).copied().unwrap_or(0),
                    plan.column_index[i],
                    c.replace(&prefix, ""),
                )
            })
            .collect();
        per_device.push(cols);
        plans.push((d, plan));
    }
    // Within an item, devices contribute in the iteration order of IoTDB 1.0's device set
    // (a Java hash set of the device paths); ORDER BY DEVICE came after IoTDB 1.0, and with
    // it they follow the output order (IoTDB 2.0's rule, which follows the output order
    // always).
    let column_order: Vec<usize> = if q.order_by.iter().any(|o| o.key == SortKey::Device) {
        (0..plans.len()).collect()
    } else {
        let mut device_set: model::javahash::JavaHashMap<usize> =
            model::javahash::JavaHashMap::new();
        for (i, (d, _)) in plans.iter().enumerate() {
            device_set.insert(d.to_string(), i);
        }
        device_set.values().copied().collect()
    };
    // Column (index into `headers`) of each device column, items in SELECT order.
    let mut headers: Vec<String> = Vec::new();
    let mut header_types: Vec<TSDataType> = Vec::new();
    let mut header_conflict: Vec<Option<TSDataType>> = Vec::new();
    let mut device_columns: Vec<Vec<(usize, usize)>> = vec![Vec::new(); plans.len()];
    for (item, seen) in item_columns.iter_mut().enumerate() {
        for &pi in &column_order {
            for (k, (it, data_col, h)) in per_device[pi].iter().enumerate() {
                if *it != item {
                    continue;
                }
                let t = plans[pi].1.types[k];
                let j = match seen.get(h) {
                    Some(&j) => {
                        if header_types[j] != t && header_conflict[j].is_none() {
                            header_conflict[j] = Some(t);
                        }
                        j
                    }
                    None => {
                        let j = headers.len();
                        seen.insert(h.clone(), j);
                        headers.push(h.clone());
                        header_types.push(t);
                        header_conflict.push(None);
                        j
                    }
                };
                device_columns[pi].push((j, *data_col));
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
    let (mut columns, mut types, mut column_index, mut data_types) = if headers.is_empty() {
        (Vec::new(), Vec::new(), Vec::new(), Vec::new())
    } else {
        (
            vec!["Device".to_string()],
            vec![TSDataType::Text],
            vec![0],
            vec![TSDataType::Text],
        )
    };
    // Columns of the same name (`SELECT s1, *`) show the same data: one data column each
    // name, as IoTDB sends them. `global`: the data column of each kept header.
    let mut global: Vec<Option<usize>> = vec![None; headers.len()];
    let mut data_of_name: HashMap<&str, usize> = HashMap::new();
    for &j in &keep {
        let d = *data_of_name.entry(headers[j].as_str()).or_insert_with(|| {
            data_types.push(header_types[j]);
            data_types.len() - 1
        });
        global[j] = Some(d);
        column_index.push(d);
        columns.push(headers[j].clone());
        types.push(header_types[j]);
    }
    // A device none of whose columns survived SLIMIT/SOFFSET is left out.
    let pending: VecDeque<DevicePlan> = plans
        .into_iter()
        .zip(device_columns)
        .filter_map(|((d, plan), cols)| {
            let mut mapping = vec![None; data_types.len()];
            let total = cols.len();
            let mut kept = 0;
            for (j, data_col) in cols {
                if let Some(g) = global[j] {
                    mapping[g] = Some(data_col);
                    kept += 1;
                }
            }
            (kept > 0).then(|| DevicePlan {
                device: d.to_string(),
                plan,
                mapping,
                partial: kept < total,
            })
        })
        .collect();
    let device_names: Vec<String> = pending.iter().map(|p| p.device.clone()).collect();
    let stream = DeviceStream {
        engine: engine.clone(),
        pending,
        current: None,
        types: data_types.clone(),
    };
    let stream: Box<dyn ResultStream> = match &q.fill {
        Some(fill) => fill_stream(Box::new(stream), fill, &data_types)?,
        None => Box::new(stream),
    };
    let result = QueryResult {
        columns,
        types,
        ignore_timestamp: ignore_timestamp.unwrap_or(false),
        column_index,
        stream: Box::new(LimitStream::new(stream, q.offset.unwrap_or(0), q.limit)),
    };
    Ok((result, device_names))
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
