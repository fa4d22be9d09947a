//! The schema tree: databases, time series, devices, aliases, tags/attributes and schema
//! templates, with IoTDB 1.0's ordering (children in Java `HashMap` order at every level).
//!
//! Mutation happens only through [`Schema::apply`] with a [`SchemaOp`]; the `plan_*`
//! methods validate a request against the current tree and return the ops to apply
//! (and log). Replay of the schema log calls `apply` directly.

use crate::api::{DatabaseInfo, DeviceInfo, NodeKind, SeriesInfo};
use crate::schema_ops::SchemaOp;
use model::javahash::JavaHashMap;
use model::path::MatchState;
use model::stack::deep;
use model::{
    Error, MeasurementSchema, PartialPath, PathPattern, Result, TSDataType, TemplateDef,
    TemplateMeasurement,
};
use std::collections::HashMap;

/// A time series leaf.
#[derive(Debug, Clone)]
pub(crate) struct Measurement {
    pub(crate) schema: MeasurementSchema,
    pub(crate) alias: Option<String>,
    pub(crate) tags: JavaHashMap<String>,
    pub(crate) attributes: JavaHashMap<String>,
    pub(crate) props: Vec<(String, String)>,
}

/// A node of the tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct Node {
    children: JavaHashMap<Node>,
    measurement: Option<Box<Measurement>>,
    database: bool,
    /// Device flag: true if the series directly below are aligned.
    aligned: bool,
    /// Number of measurement children.
    measurements: usize,
    /// alias → measurement name, for measurement children.
    aliases: HashMap<String, String>,
    template_set: Option<String>,
    template_active: Option<String>,
}

/// Dropping a node drops its subtree; each level goes through [`deep`] so that a chain of
/// any depth (a series created before path-depth limits existed) cannot overflow the stack.
impl Drop for Node {
    fn drop(&mut self) {
        if !self.children.is_empty() {
            let children = std::mem::take(&mut self.children);
            deep(move || drop(children));
        }
    }
}

impl Node {
    fn is_removable(&self) -> bool {
        self.children.is_empty()
            && self.measurement.is_none()
            && !self.database
            && self.template_set.is_none()
            && self.template_active.is_none()
    }

    fn is_device(&self) -> bool {
        self.measurements > 0 || self.template_active.is_some()
    }
}

/// A node of the schema tree or of a template tree, for walks that treat both alike.
#[derive(Clone, Copy)]
enum TreeRef<'a> {
    Schema(&'a Node),
    Template(&'a TNode),
}

impl TreeRef<'_> {
    /// True for a measurement (leaf) of the schema tree.
    fn is_schema_measurement(self) -> bool {
        matches!(self, TreeRef::Schema(n) if n.measurement.is_some())
    }
}

/// A node of a template's measurement tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct TNode {
    children: JavaHashMap<TNode>,
    schema: Option<MeasurementSchema>,
    /// For group nodes (and the template root): whether the measurements below are aligned.
    aligned: bool,
}

impl TNode {
    fn lookup(&self, rel: &[String]) -> Option<&TNode> {
        let mut cur = self;
        for n in rel {
            cur = cur.children.get(n)?;
        }
        Some(cur)
    }
}

/// A template with its derived measurement tree.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    pub(crate) def: TemplateDef,
    tree: TNode,
}

/// Splits a template measurement path (`speed`, `GPS.x`) into canonical nodes.
pub(crate) fn template_nodes(path: &str) -> Result<Vec<String>> {
    let p = PartialPath::parse(&format!("root.{path}"))
        .map_err(|_| Error::IllegalPath(path.to_string(), None))?;
    Ok(p.nodes()[1..].to_vec())
}

fn build_tree(def: &TemplateDef) -> Result<TNode> {
    let mut root = TNode {
        aligned: def.aligned,
        ..Default::default()
    };
    for m in &def.measurements {
        let nodes = template_nodes(&m.path)?;
        let Some((leaf, groups)) = nodes.split_last() else {
            return Err(Error::IllegalPath(m.path.clone(), None));
        };
        let mut cur = &mut root;
        for g in groups {
            if cur.schema.is_some() {
                return Err(Error::CreateTemplate(format!(
                    "template measurement {} lies below another measurement",
                    m.path
                )));
            }
            cur = cur.children.get_or_insert_with(g, TNode::default);
            cur.aligned |= m.aligned;
        }
        if cur.schema.is_some() {
            return Err(Error::CreateTemplate(format!(
                "template measurement {} lies below another measurement",
                m.path
            )));
        }
        if groups.is_empty() && m.aligned {
            cur.aligned = true;
        }
        if cur.children.contains_key(leaf) {
            return Err(Error::CreateTemplate(format!(
                "Duplicated measurement [{}] in template {}",
                m.path, def.name
            )));
        }
        let mut schema = m.schema.clone();
        schema.name = leaf.clone();
        cur.children.insert(
            leaf.clone(),
            TNode {
                schema: Some(schema),
                ..Default::default()
            },
        );
    }
    Ok(root)
}

/// One database's metadata.
#[derive(Debug, Clone)]
pub(crate) struct DbMeta {
    pub(crate) path: PartialPath,
    pub(crate) ttl: Option<i64>,
    pub(crate) interval: i64,
    pub(crate) region_id: u64,
}

/// A series resolved for reading or writing.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) info: SeriesInfo,
    pub(crate) device: PartialPath,
    pub(crate) measurement: String,
    pub(crate) region_id: u64,
    pub(crate) ttl: Option<i64>,
}

/// What an insert finds for one measurement of a device.
#[derive(Debug, Clone)]
pub(crate) enum Lookup {
    /// An existing series: its real measurement name (alias resolved) and type.
    Found { name: String, data_type: TSDataType },
    /// Nothing yet.
    Missing,
}

/// What an insert finds for a device.
#[derive(Debug, Clone)]
pub(crate) struct DeviceLookup {
    pub(crate) db: Option<DbMeta>,
    pub(crate) measurements: Vec<Lookup>,
    /// Set when the path runs through an existing series.
    pub(crate) blocked: Option<PartialPath>,
}

/// The whole schema.
#[derive(Debug, Default)]
pub(crate) struct Schema {
    root: Node,
    databases: JavaHashMap<DbMeta>,
    templates: JavaHashMap<Template>,
    next_region_id: u64,
}

fn prefix(nodes: &[String], len: usize) -> PartialPath {
    PartialPath::from_nodes(nodes[..len].to_vec())
}

/// Tags/attributes in the order IoTDB 1.0 shows them. IoTDB reads them back from its tag file
/// into `new HashMap<>(n)` (n = number of entries) and iterates that map; its table then has
/// the capacity [`read_back_capacity`] of n, so the order is by bucket in that small table,
/// entries of one bucket in the order they were written (the previous map's order).
fn pairs(m: &JavaHashMap<String>) -> Vec<(String, String)> {
    if m.is_empty() {
        return Vec::new();
    }
    let cap = read_back_capacity(m.len());
    let mut v: Vec<(String, String)> = m.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    v.sort_by_key(|(k, _)| {
        let h = model::javahash::java_string_hash(k) as u32;
        ((h ^ (h >> 16)) as usize) & (cap - 1)
    });
    v
}

/// Capacity of a Java `new HashMap<>(n)` after `n` insertions: `tableSizeFor(n)`, doubled
/// whenever the size exceeds three quarters of the capacity.
fn read_back_capacity(n: usize) -> usize {
    let mut cap = n.max(1).next_power_of_two();
    while n * 4 > cap * 3 {
        cap *= 2;
    }
    cap
}

fn insertion_pairs(m: &JavaHashMap<String>) -> Vec<(String, String)> {
    m.insertion_order()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn to_map(v: &[(String, String)]) -> JavaHashMap<String> {
    let mut m = JavaHashMap::new();
    for (k, val) in v {
        m.insert(k.clone(), val.clone());
    }
    m
}

fn java_order_props(v: &[(String, String)]) -> Vec<(String, String)> {
    // most series have no properties: no map to build (every read resolves its series)
    if v.len() < 2 {
        return v.to_vec();
    }
    pairs(&to_map(v))
}

/// Walk state of a device path.
struct Walk<'a> {
    /// Deepest existing node reached and its depth (number of nodes).
    node: &'a Node,
    depth: usize,
    db_len: Option<usize>,
    /// (depth, template) of activated nodes on the way, root first.
    actives: Vec<(usize, &'a str)>,
    /// Depth (number of nodes) of a series the path runs through.
    blocked: Option<usize>,
}

impl Schema {
    // ----- lookups -------------------------------------------------------------------

    fn walk<'a>(&'a self, nodes: &[String]) -> Walk<'a> {
        let mut w = Walk {
            node: &self.root,
            depth: 1,
            db_len: None,
            actives: Vec::new(),
            blocked: None,
        };
        for (i, n) in nodes.iter().enumerate().skip(1) {
            let Some(c) = w.node.children.get(n) else {
                break;
            };
            if c.measurement.is_some() {
                w.blocked = Some(i + 1);
                break;
            }
            w.node = c;
            w.depth = i + 1;
            if c.database {
                w.db_len = Some(i + 1);
            }
            if let Some(t) = &c.template_active {
                w.actives.push((i + 1, t.as_str()));
            }
        }
        w
    }

    fn node(&self, nodes: &[String]) -> Option<&Node> {
        if nodes.first().map(String::as_str) != Some("root") {
            return None;
        }
        let mut cur = &self.root;
        for n in &nodes[1..] {
            cur = cur.children.get(n)?;
        }
        Some(cur)
    }

    fn node_mut(&mut self, nodes: &[String]) -> Option<&mut Node> {
        if nodes.first().map(String::as_str) != Some("root") {
            return None;
        }
        let mut cur = &mut self.root;
        for n in &nodes[1..] {
            cur = cur.children.get_mut(n)?;
        }
        Some(cur)
    }

    fn node_or_create(&mut self, nodes: &[String]) -> &mut Node {
        let mut cur = &mut self.root;
        for n in nodes.iter().skip(1) {
            cur = cur.children.get_or_insert_with(n, Node::default);
        }
        cur
    }

    /// Removes empty nodes from `nodes` upward (never the root): the leaf if it is empty,
    /// and each ancestor left empty by that. One walk down, so linear in the path's depth.
    fn prune(&mut self, nodes: &[String]) {
        if nodes.len() < 2 || !self.node(nodes).is_some_and(Node::is_removable) {
            return;
        }
        // Index (in `nodes`) of the deepest node that stays: the root, or an intermediate
        // node that still holds something once the chain below it is gone.
        let mut keep = 0;
        let mut cur = &self.root;
        for (i, n) in nodes.iter().enumerate().take(nodes.len() - 1).skip(1) {
            let Some(c) = cur.children.get(n) else {
                return;
            };
            cur = c;
            let empty_without_chain = c.children.len() == 1
                && c.measurement.is_none()
                && !c.database
                && c.template_set.is_none()
                && c.template_active.is_none();
            if !empty_without_chain {
                keep = i;
            }
        }
        if let Some(parent) = self.node_mut(&nodes[..keep + 1]) {
            parent.children.remove(&nodes[keep + 1]);
        }
    }

    fn db_meta(&self, nodes: &[String], len: usize) -> Option<&DbMeta> {
        self.databases.get(&nodes[..len].join("."))
    }

    /// The database covering `path` (the path itself or an ancestor).
    pub(crate) fn database_of(&self, path: &PartialPath) -> Option<DbMeta> {
        let w = self.walk(path.nodes());
        w.db_len
            .and_then(|l| self.db_meta(path.nodes(), l))
            .cloned()
    }

    /// The template with this name.
    pub(crate) fn template(&self, name: &str) -> Option<&Template> {
        self.templates.get(name)
    }

    /// The template set on `device` or its nearest ancestor that has one.
    pub(crate) fn covering_template(&self, device: &PartialPath) -> Option<(usize, &Template)> {
        let mut cur = &self.root;
        let mut found = None;
        for (i, n) in device.nodes().iter().enumerate().skip(1) {
            let Some(c) = cur.children.get(n) else {
                break;
            };
            cur = c;
            if let Some(t) = &c.template_set {
                found = Some((i + 1, t.as_str()));
            }
        }
        let (depth, name) = found?;
        Some((depth, self.templates.get(name)?))
    }

    fn template_series(
        &self,
        nodes: &[String],
        actives: &[(usize, &str)],
        dev_len: usize,
    ) -> Option<(String, MeasurementSchema, bool)> {
        self.template_series_at(nodes, actives, dev_len)
            .map(|(_, t, schema, aligned)| (t, schema, aligned))
    }

    /// As [`Self::template_series`], with the depth of the node the template is set on.
    fn template_series_at(
        &self,
        nodes: &[String],
        actives: &[(usize, &str)],
        dev_len: usize,
    ) -> Option<(usize, String, MeasurementSchema, bool)> {
        for &(depth, tname) in actives.iter().rev() {
            let t = self.templates.get(tname)?;
            let rel = &nodes[depth..];
            let leaf = t.tree.lookup(rel)?;
            if let Some(schema) = &leaf.schema {
                let group = t.tree.lookup(&nodes[depth..dev_len])?;
                return Some((depth, tname.to_string(), schema.clone(), group.aligned));
            }
        }
        None
    }

    /// Resolves a full series path (or `device.alias`).
    pub(crate) fn resolve(&self, path: &PartialPath) -> Option<Resolved> {
        let nodes = path.nodes();
        if nodes.len() < 3 {
            return None;
        }
        let dev_len = nodes.len() - 1;
        let w = self.walk(&nodes[..dev_len]);
        if w.blocked.is_some() {
            return None;
        }
        let db = self.db_meta(nodes, w.db_len?)?.clone();
        let name = &nodes[dev_len];
        if w.depth == dev_len {
            let dev = w.node;
            let real = match dev.children.get(name) {
                Some(c) if c.measurement.is_some() => Some(name.clone()),
                _ => dev.aliases.get(name).cloned(),
            };
            if let Some(real) = real {
                let leaf = dev.children.get(&real)?;
                let m = leaf.measurement.as_ref()?;
                let device = prefix(nodes, dev_len);
                return Some(Resolved {
                    info: SeriesInfo {
                        path: device.child(&real),
                        alias: m.alias.clone(),
                        database: db.path.clone(),
                        schema: m.schema.clone(),
                        tags: pairs(&m.tags),
                        attributes: pairs(&m.attributes),
                        props: java_order_props(&m.props),
                        aligned: dev.aligned,
                        template: None,
                    },
                    device,
                    measurement: real,
                    region_id: db.region_id,
                    ttl: db.ttl,
                });
            }
        }
        let (tname, schema, aligned) = self.template_series(nodes, &w.actives, dev_len)?;
        let device = prefix(nodes, dev_len);
        Some(Resolved {
            info: SeriesInfo {
                path: path.clone(),
                alias: None,
                database: db.path.clone(),
                schema,
                tags: Vec::new(),
                attributes: Vec::new(),
                props: Vec::new(),
                aligned,
                template: Some(tname),
            },
            device,
            measurement: name.clone(),
            region_id: db.region_id,
            ttl: db.ttl,
        })
    }

    /// Looks up a device and some of its measurements for an insert.
    pub(crate) fn lookup_device(
        &self,
        device: &PartialPath,
        measurements: &[String],
    ) -> DeviceLookup {
        let nodes = device.nodes();
        let w = self.walk(nodes);
        let db = w.db_len.and_then(|l| self.db_meta(nodes, l)).cloned();
        if let Some(b) = w.blocked {
            return DeviceLookup {
                db,
                measurements: vec![Lookup::Missing; measurements.len()],
                blocked: Some(prefix(nodes, b)),
            };
        }
        let exact = w.depth == nodes.len();
        let mut tmpl_group: Option<(&str, &TNode)> = None;
        for &(depth, tname) in w.actives.iter().rev() {
            if let Some(g) = self
                .templates
                .get(tname)
                .and_then(|t| t.tree.lookup(&nodes[depth..]))
            {
                if g.schema.is_none() {
                    tmpl_group = Some((tname, g));
                    break;
                }
            }
        }
        let looked = measurements
            .iter()
            .map(|m| {
                if exact {
                    let dev = w.node;
                    let real = match dev.children.get(m) {
                        Some(c) if c.measurement.is_some() => Some(m),
                        _ => dev.aliases.get(m),
                    };
                    if let Some(real) = real {
                        if let Some(meas) =
                            dev.children.get(real).and_then(|c| c.measurement.as_ref())
                        {
                            return Lookup::Found {
                                name: real.clone(),
                                data_type: meas.schema.data_type,
                            };
                        }
                    }
                }
                if let Some((_, g)) = tmpl_group {
                    if let Some(s) = g.children.get(m).and_then(|c| c.schema.as_ref()) {
                        return Lookup::Found {
                            name: m.clone(),
                            data_type: s.data_type,
                        };
                    }
                }
                Lookup::Missing
            })
            .collect();
        DeviceLookup {
            db,
            measurements: looked,
            blocked: None,
        }
    }

    // ----- listings ------------------------------------------------------------------

    /// Databases matching `pattern`, in Java HashMap order of their names.
    pub(crate) fn databases(&self, pattern: &PathPattern) -> Vec<DatabaseInfo> {
        self.databases
            .values()
            .filter(|d| pattern.matches(&d.path))
            .map(|d| DatabaseInfo {
                path: d.path.clone(),
                ttl_ms: d.ttl,
                time_partition_interval_ms: d.interval,
                region_id: d.region_id,
            })
            .collect()
    }

    /// All databases (any order).
    pub(crate) fn all_databases(&self) -> Vec<DbMeta> {
        self.databases.values().cloned().collect()
    }

    /// Series matching `pattern` (real and template-provided), in tree order.
    pub(crate) fn series(&self, pattern: &PathPattern) -> Vec<SeriesInfo> {
        let mut out = Vec::new();
        let st = pattern.step(&pattern.start(), "root");
        let mut path = vec!["root".to_string()];
        if pattern.can_extend(&st) {
            self.series_rec(&self.root, &mut path, &st, None, pattern, &mut out);
        }
        out
    }

    fn series_rec(
        &self,
        node: &Node,
        path: &mut Vec<String>,
        st: &MatchState,
        db: Option<&PartialPath>,
        pattern: &PathPattern,
        out: &mut Vec<SeriesInfo>,
    ) {
        // IoTDB 1.0's traverser visits the nodes of an activated template before the
        // node's own children.
        if let (Some(tname), Some(db)) = (&node.template_active, db) {
            if let Some(t) = self.templates.get(tname) {
                template_series_rec(&t.tree, tname, path, st, db, pattern, out);
            }
        }
        for (name, child) in node.children.iter() {
            let cst = pattern.step(st, name);
            if let Some(m) = &child.measurement {
                let hit = pattern.is_match(&cst)
                    || m.alias
                        .as_ref()
                        .is_some_and(|a| pattern.is_match(&pattern.step(st, a)));
                if hit {
                    if let Some(db) = db {
                        let mut nodes = path.clone();
                        nodes.push(name.clone());
                        out.push(SeriesInfo {
                            path: PartialPath::from_nodes(nodes),
                            alias: m.alias.clone(),
                            database: db.clone(),
                            schema: m.schema.clone(),
                            tags: pairs(&m.tags),
                            attributes: pairs(&m.attributes),
                            props: java_order_props(&m.props),
                            aligned: node.aligned,
                            template: None,
                        });
                    }
                }
                continue;
            }
            if !pattern.can_extend(&cst) {
                continue;
            }
            path.push(name.clone());
            let child_db;
            let db_here = if child.database {
                child_db = PartialPath::from_nodes(path.clone());
                Some(&child_db)
            } else {
                db
            };
            deep(|| self.series_rec(child, path, &cst, db_here, pattern, out));
            path.pop();
        }
    }

    /// Devices matching `pattern`, in tree order (a device before its descendants).
    pub(crate) fn devices(&self, pattern: &PathPattern) -> Vec<DeviceInfo> {
        let mut out = Vec::new();
        let st = pattern.step(&pattern.start(), "root");
        let mut path = vec!["root".to_string()];
        self.devices_rec(&self.root, &mut path, &st, None, pattern, &mut out);
        out
    }

    fn devices_rec(
        &self,
        node: &Node,
        path: &mut Vec<String>,
        st: &MatchState,
        db: Option<&PartialPath>,
        pattern: &PathPattern,
        out: &mut Vec<DeviceInfo>,
    ) {
        let tmpl = node
            .template_active
            .as_ref()
            .and_then(|t| self.templates.get(t));
        if node.is_device() && pattern.is_match(st) {
            if let Some(db) = db {
                let aligned = if node.measurements > 0 {
                    node.aligned
                } else {
                    tmpl.map(|t| t.tree.aligned).unwrap_or(false)
                };
                out.push(DeviceInfo {
                    path: PartialPath::from_nodes(path.clone()),
                    database: db.clone(),
                    aligned,
                    template: node.template_active.clone(),
                });
            }
        }
        if !pattern.can_extend(st) {
            return;
        }
        for (name, child) in node.children.iter() {
            if child.measurement.is_some() {
                continue;
            }
            let cst = pattern.step(st, name);
            if !pattern.is_match(&cst) && !pattern.can_extend(&cst) {
                continue;
            }
            path.push(name.clone());
            let child_db;
            let db_here = if child.database {
                child_db = PartialPath::from_nodes(path.clone());
                Some(&child_db)
            } else {
                db
            };
            deep(|| self.devices_rec(child, path, &cst, db_here, pattern, out));
            path.pop();
        }
        if let (Some(t), Some(db)) = (tmpl, db) {
            template_devices_rec(&t.tree, &t.def.name, path, st, db, pattern, out);
        }
    }

    fn kind_of(&self, child: &Node, in_db: bool) -> NodeKind {
        if child.measurement.is_some() {
            NodeKind::Timeseries
        } else if child.database {
            NodeKind::Database
        } else if !in_db {
            NodeKind::DatabaseInternal
        } else if child.is_device() {
            NodeKind::Device
        } else {
            NodeKind::Internal
        }
    }

    /// Children of every node matching `pattern` (SHOW CHILD PATHS), sorted by path.
    pub(crate) fn child_paths(&self, pattern: &PathPattern) -> Vec<(PartialPath, NodeKind)> {
        let mut out = Vec::new();
        let st = pattern.step(&pattern.start(), "root");
        let mut path = vec!["root".to_string()];
        self.children_rec(&self.root, &mut path, &st, false, pattern, &mut out);
        out.sort_by_cached_key(|a| a.0.to_string());
        out
    }

    fn children_rec(
        &self,
        node: &Node,
        path: &mut Vec<String>,
        st: &MatchState,
        in_db: bool,
        pattern: &PathPattern,
        out: &mut Vec<(PartialPath, NodeKind)>,
    ) {
        let tmpl = node
            .template_active
            .as_ref()
            .and_then(|t| self.templates.get(t));
        if pattern.is_match(st) {
            for (name, child) in node.children.iter() {
                let mut p = path.clone();
                p.push(name.clone());
                out.push((PartialPath::from_nodes(p), self.kind_of(child, in_db)));
            }
            if let Some(t) = tmpl {
                for (name, tn) in t.tree.children.iter() {
                    let mut p = path.clone();
                    p.push(name.clone());
                    let kind = if tn.schema.is_some() {
                        NodeKind::Timeseries
                    } else {
                        NodeKind::Device
                    };
                    out.push((PartialPath::from_nodes(p), kind));
                }
            }
        }
        if !pattern.can_extend(st) {
            return;
        }
        for (name, child) in node.children.iter() {
            if child.measurement.is_some() {
                continue;
            }
            let cst = pattern.step(st, name);
            if !pattern.is_match(&cst) && !pattern.can_extend(&cst) {
                continue;
            }
            path.push(name.clone());
            deep(|| self.children_rec(child, path, &cst, in_db || child.database, pattern, out));
            path.pop();
        }
        if let Some(t) = tmpl {
            template_children_rec(&t.tree, path, st, pattern, out);
        }
    }

    /// Nodes at `level` (root = 0) that lie on a path matching `pattern`: a node counts
    /// when it or an ancestor matches, or when something below it matches.
    pub(crate) fn nodes_at_level(&self, pattern: &PathPattern, level: usize) -> Vec<PartialPath> {
        let mut out = Vec::new();
        let st = pattern.step(&pattern.start(), "root");
        let mut path = vec!["root".to_string()];
        if level == 0 {
            if pattern.is_match(&st)
                || self.any_match_below(TreeRef::Schema(&self.root), &st, pattern)
            {
                out.push(PartialPath::from_nodes(path));
            }
            return out;
        }
        self.level_rec(
            TreeRef::Schema(&self.root),
            &mut path,
            &st,
            pattern.is_match(&st),
            level,
            pattern,
            &mut out,
        );
        out.sort();
        out
    }

    /// Children of a node in IoTDB's order: the node's own children first, then those of
    /// the template activated on it. Schema and template trees are walked alike this way.
    fn children_of<'a>(&'a self, node: TreeRef<'a>) -> Vec<(&'a String, TreeRef<'a>)> {
        match node {
            TreeRef::Schema(n) => {
                let mut out: Vec<_> = n
                    .children
                    .iter()
                    .map(|(k, c)| (k, TreeRef::Schema(c)))
                    .collect();
                if let Some(t) = n
                    .template_active
                    .as_ref()
                    .and_then(|t| self.templates.get(t))
                {
                    out.extend(
                        t.tree
                            .children
                            .iter()
                            .map(|(k, c)| (k, TreeRef::Template(c))),
                    );
                }
                out
            }
            TreeRef::Template(t) => t
                .children
                .iter()
                .map(|(k, c)| (k, TreeRef::Template(c)))
                .collect(),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn level_rec(
        &self,
        node: TreeRef<'_>,
        path: &mut Vec<String>,
        st: &MatchState,
        matched_above: bool,
        level: usize,
        pattern: &PathPattern,
        out: &mut Vec<PartialPath>,
    ) {
        for (name, child) in self.children_of(node) {
            let cst = pattern.step(st, name);
            let matched = matched_above || pattern.is_match(&cst);
            if !matched && !pattern.can_extend(&cst) {
                continue;
            }
            path.push(name.clone());
            if path.len() == level + 1 {
                if matched || self.any_match_below(child, &cst, pattern) {
                    out.push(PartialPath::from_nodes(path.clone()));
                }
            } else if !child.is_schema_measurement() {
                deep(|| self.level_rec(child, path, &cst, matched, level, pattern, out));
            }
            path.pop();
        }
    }

    fn any_match_below(&self, node: TreeRef<'_>, st: &MatchState, pattern: &PathPattern) -> bool {
        pattern.can_extend(st)
            && self.children_of(node).into_iter().any(|(name, child)| {
                let cst = pattern.step(st, name);
                pattern.is_match(&cst) || deep(|| self.any_match_below(child, &cst, pattern))
            })
    }

    /// Names of all templates (Java HashMap order).
    pub(crate) fn template_names(&self) -> Vec<String> {
        self.templates.keys().cloned().collect()
    }

    fn collect_nodes(
        node: &Node,
        path: &mut Vec<String>,
        pred: &dyn Fn(&Node) -> bool,
        out: &mut Vec<PartialPath>,
    ) {
        if pred(node) {
            out.push(PartialPath::from_nodes(path.clone()));
        }
        for (name, child) in node.children.iter() {
            if child.measurement.is_some() {
                continue;
            }
            path.push(name.clone());
            deep(|| Self::collect_nodes(child, path, pred, out));
            path.pop();
        }
    }

    /// Paths a template is set on.
    pub(crate) fn paths_set(&self, name: &str) -> Result<Vec<PartialPath>> {
        if !self.templates.contains_key(name) {
            return Err(Error::UndefinedTemplate(name.to_string()));
        }
        let mut out = Vec::new();
        let pred = |n: &Node| n.template_set.as_deref() == Some(name);
        Self::collect_nodes(&self.root, &mut vec!["root".into()], &pred, &mut out);
        Ok(out)
    }

    /// Devices a template is activated on.
    pub(crate) fn paths_using(&self, name: &str) -> Result<Vec<PartialPath>> {
        if !self.templates.contains_key(name) {
            return Err(Error::UndefinedTemplate(name.to_string()));
        }
        let mut out = Vec::new();
        let pred = |n: &Node| n.template_active.as_deref() == Some(name);
        Self::collect_nodes(&self.root, &mut vec!["root".into()], &pred, &mut out);
        Ok(out)
    }

    /// Activated devices under (or at) `nodes`, optionally only of one template.
    fn activated_under(&self, nodes: &[String], name: Option<&str>) -> Vec<PartialPath> {
        let mut out = Vec::new();
        if let Some(n) = self.node(nodes) {
            let pred = |n: &Node| match (&n.template_active, name) {
                (Some(_), None) => true,
                (Some(a), Some(b)) => a == b,
                _ => false,
            };
            Self::collect_nodes(n, &mut nodes.to_vec(), &pred, &mut out);
        }
        out
    }

    /// Every (device, measurement) a template provides on an activated device.
    pub(crate) fn template_series_of(&self, device: &PartialPath) -> Vec<(PartialPath, String)> {
        let mut out = Vec::new();
        let Some(t) = self
            .node(device.nodes())
            .and_then(|n| n.template_active.as_ref())
            .and_then(|t| self.templates.get(t))
        else {
            return out;
        };
        fn rec(t: &TNode, dev: &PartialPath, out: &mut Vec<(PartialPath, String)>) {
            for (name, c) in t.children.insertion_order() {
                if c.schema.is_some() {
                    out.push((dev.clone(), name.clone()));
                } else {
                    deep(|| rec(c, &dev.child(name), out));
                }
            }
        }
        rec(&t.tree, device, &mut out);
        out
    }

    // ----- planning (validation; no mutation) -----------------------------------------

    fn has_db_below(node: &Node) -> bool {
        node.children
            .values()
            .any(|c| c.database || deep(|| Self::has_db_below(c)))
    }

    /// Validates creating a database; returns the op.
    pub(crate) fn plan_create_database(
        &self,
        path: &PartialPath,
        interval: i64,
    ) -> Result<SchemaOp> {
        let nodes = path.nodes();
        if nodes.len() < 2 {
            return Err(Error::IllegalPath(path.to_string(), None));
        }
        let mut cur = &self.root;
        for (i, n) in nodes.iter().enumerate().skip(1) {
            let Some(c) = cur.children.get(n) else {
                break;
            };
            if c.database {
                return Err(Error::DatabaseAlreadyExists(format!(
                    "{} has already been created as database",
                    prefix(nodes, i + 1)
                )));
            }
            if c.measurement.is_some() {
                return Err(Error::PathAlreadyExist(prefix(nodes, i + 1).to_string()));
            }
            if i + 1 == nodes.len() && Self::has_db_below(c) {
                return Err(Error::DatabaseAlreadyExists(format!(
                    "some children of {path} have already been created as database"
                )));
            }
            cur = c;
        }
        Ok(SchemaOp::CreateDatabase {
            path: path.clone(),
            region_id: self.next_region_id,
            ttl: None,
            interval,
        })
    }

    /// The database an auto-create would make for `path` at `level`.
    pub(crate) fn auto_database_path(path: &PartialPath, level: usize) -> Result<PartialPath> {
        let n = path.len().min(level + 1);
        if n < 2 {
            return Err(Error::IllegalPath(path.to_string(), None));
        }
        Ok(prefix(path.nodes(), n))
    }

    /// Databases matched by any pattern.
    pub(crate) fn matching_databases(&self, patterns: &[PathPattern]) -> Vec<DbMeta> {
        self.databases
            .values()
            .filter(|d| patterns.iter().any(|p| p.matches(&d.path)))
            .cloned()
            .collect()
    }

    /// Databases a pattern matches or reaches below (IoTDB 1.0's "belonged" databases:
    /// `root.sg.**` and `root.sg.d.*` both name `root.sg`).
    pub(crate) fn belonged_databases(&self, pattern: &PathPattern) -> Vec<DbMeta> {
        self.databases
            .values()
            .filter(|d| pattern.may_match_under(&d.path))
            .cloned()
            .collect()
    }

    /// Validates creating one series (the database must exist); returns the op.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn plan_create_series(
        &self,
        path: &PartialPath,
        schema: MeasurementSchema,
        aligned: bool,
        alias: Option<String>,
        props: Vec<(String, String)>,
        tags: Vec<(String, String)>,
        attributes: Vec<(String, String)>,
    ) -> Result<SchemaOp> {
        let nodes = path.nodes();
        schema.encoding.check(schema.data_type)?;
        let dev_len = nodes.len().saturating_sub(1);
        let w = self.walk(&nodes[..dev_len.max(1)]);
        if let Some(b) = w.blocked {
            return Err(Error::PathAlreadyExist(prefix(nodes, b).to_string()));
        }
        let Some(db_len) = w.db_len else {
            return Err(Error::DatabaseNotSet(path.to_string()));
        };
        if nodes.len() <= db_len {
            return Err(Error::IllegalPath(
                path.to_string(),
                Some("a time series must lie below its database".into()),
            ));
        }
        let name = &nodes[dev_len];
        if w.depth == dev_len {
            let dev = w.node;
            if let Some(c) = dev.children.get(name) {
                return Err(if c.measurement.is_some() {
                    Error::TimeseriesAlreadyExist(path.to_string())
                } else {
                    Error::PathAlreadyExist(path.to_string())
                });
            }
            if dev.aliases.contains_key(name) {
                return Err(Error::TimeseriesAlreadyExist(path.to_string()));
            }
            if let Some(a) = &alias {
                if dev.aliases.contains_key(a) || dev.children.contains_key(a) || a == name {
                    return Err(Error::AliasAlreadyExist(a.clone(), path.to_string()));
                }
            }
            if dev.measurements > 0 && dev.aligned != aligned {
                return Err(aligned_mismatch(&prefix(nodes, dev_len), dev.aligned));
            }
        }
        if let Some((depth, tname, _, _)) = self.template_series_at(nodes, &w.actives, dev_len) {
            return Err(Error::TemplateIncompatible(format!(
                "Cannot create timeseries [{path}] since device template [{tname}] already set on path [{}].",
                prefix(nodes, depth)
            )));
        }
        let mut schema = schema;
        schema.name = name.clone();
        Ok(SchemaOp::CreateSeries {
            path: path.clone(),
            aligned,
            schema,
            alias,
            props,
            tags,
            attributes,
        })
    }

    /// Real series matched by any pattern.
    pub(crate) fn matching_real_series(&self, patterns: &[PathPattern]) -> Vec<SeriesInfo> {
        let mut out: Vec<SeriesInfo> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for p in patterns {
            for s in self.series(p) {
                if s.template.is_none() && seen.insert(s.path.clone()) {
                    out.push(s);
                }
            }
        }
        out
    }

    /// Computes the new alias/tags/attributes of a series after `op`.
    pub(crate) fn plan_alter(
        &self,
        path: &PartialPath,
        op: &crate::api::AlterOp,
    ) -> Result<SchemaOp> {
        use crate::api::AlterOp;
        let r = self
            .resolve(path)
            .filter(|r| r.info.template.is_none())
            .ok_or_else(|| Error::PathNotExist(path.to_string()))?;
        let dev = self
            .node(r.device.nodes())
            .ok_or_else(|| Error::PathNotExist(path.to_string()))?;
        let m = dev
            .children
            .get(&r.measurement)
            .and_then(|c| c.measurement.as_ref())
            .ok_or_else(|| Error::PathNotExist(path.to_string()))?;
        let full = r.info.path.to_string();
        let mut tags = m.tags.clone();
        let mut attrs = m.attributes.clone();
        let mut alias = m.alias.clone();
        let missing = |k: &str| {
            Error::Metadata(format!(
                "TimeSeries [{full}] does not have tag/attribute [{k}]."
            ))
        };
        match op {
            AlterOp::Rename { from, to } => {
                if tags.contains_key(to) || attrs.contains_key(to) {
                    return Err(Error::Metadata(format!(
                        "TimeSeries [{full}] already has a tag/attribute named [{to}]."
                    )));
                }
                if let Some(v) = tags.remove(from) {
                    tags.insert(to.clone(), v);
                } else if let Some(v) = attrs.remove(from) {
                    attrs.insert(to.clone(), v);
                } else {
                    return Err(missing(from));
                }
            }
            AlterOp::Set(kvs) => {
                for (k, v) in kvs {
                    if tags.contains_key(k) {
                        tags.insert(k.clone(), v.clone());
                    } else if attrs.contains_key(k) {
                        attrs.insert(k.clone(), v.clone());
                    } else {
                        return Err(missing(k));
                    }
                }
            }
            AlterOp::Drop(keys) => {
                for k in keys {
                    if tags.remove(k).is_none() {
                        attrs.remove(k);
                    }
                }
            }
            AlterOp::AddTags(kvs) => {
                for (k, v) in kvs {
                    if tags.contains_key(k) {
                        return Err(Error::Metadata(format!(
                            "TimeSeries [{full}] already has the tag [{k}]."
                        )));
                    }
                    tags.insert(k.clone(), v.clone());
                }
            }
            AlterOp::AddAttributes(kvs) => {
                for (k, v) in kvs {
                    if attrs.contains_key(k) {
                        return Err(Error::Metadata(format!(
                            "TimeSeries [{full}] already has the attribute [{k}]."
                        )));
                    }
                    attrs.insert(k.clone(), v.clone());
                }
            }
            AlterOp::Upsert {
                alias: new_alias,
                tags: t,
                attributes: a,
            } => {
                if let Some(na) = new_alias {
                    if Some(na) != m.alias.as_ref() {
                        let taken = dev.children.contains_key(na)
                            || dev
                                .aliases
                                .get(na)
                                .is_some_and(|owner| *owner != r.measurement);
                        if taken {
                            return Err(Error::AliasAlreadyExist(na.clone(), full.clone()));
                        }
                        alias = Some(na.clone());
                    }
                }
                for (k, v) in t {
                    tags.insert(k.clone(), v.clone());
                }
                for (k, v) in a {
                    attrs.insert(k.clone(), v.clone());
                }
            }
        }
        Ok(SchemaOp::UpdateSeries {
            path: r.info.path.clone(),
            alias,
            tags: insertion_pairs(&tags),
            attributes: insertion_pairs(&attrs),
        })
    }

    /// Validates a new template.
    pub(crate) fn plan_create_template(&self, def: TemplateDef) -> Result<SchemaOp> {
        if self.templates.contains_key(&def.name) {
            return Err(Error::DuplicatedTemplate(def.name));
        }
        if def.name.is_empty() {
            return Err(Error::CreateTemplate(
                "template name must not be empty".into(),
            ));
        }
        for m in &def.measurements {
            m.schema
                .encoding
                .check(m.schema.data_type)
                .map_err(|e| Error::CreateTemplate(format!("create template error -{e}")))?;
        }
        build_tree(&def)?;
        Ok(SchemaOp::CreateTemplate(def))
    }

    fn template_or_err(&self, name: &str) -> Result<&Template> {
        self.templates
            .get(name)
            .ok_or_else(|| Error::UndefinedTemplate(name.to_string()))
    }

    /// Validates dropping a template.
    pub(crate) fn plan_drop_template(&self, name: &str) -> Result<SchemaOp> {
        self.template_or_err(name)?;
        let set = self.paths_set(name)?;
        if !set.is_empty() {
            return Err(Error::Metadata(format!(
                "Template [{name}] has been set on MTree, cannot be dropped now."
            )));
        }
        Ok(SchemaOp::DropTemplate {
            name: name.to_string(),
        })
    }

    fn conflicts_on_device(&self, dev: &Node, tree: &TNode) -> Option<String> {
        tree.children
            .keys()
            .find(|k| dev.children.contains_key(k.as_str()) || dev.aliases.contains_key(k.as_str()))
            .cloned()
    }

    /// Validates appending measurements to a template.
    pub(crate) fn plan_append_template(
        &self,
        name: &str,
        ms: Vec<TemplateMeasurement>,
    ) -> Result<SchemaOp> {
        let t = self.template_or_err(name)?;
        for m in &ms {
            m.schema.encoding.check(m.schema.data_type)?;
        }
        let mut def = t.def.clone();
        def.measurements.extend(ms.iter().cloned());
        let tree = build_tree(&def).map_err(|e| match e {
            Error::CreateTemplate(msg) => Error::Metadata(msg),
            other => other,
        })?;
        for dev in self.paths_using(name)? {
            if let Some(n) = self.node(dev.nodes()) {
                if let Some(c) = self.conflicts_on_device(n, &tree) {
                    return Err(Error::TemplateIncompatible(format!(
                        "Template [{name}] conflicts with existing series {dev}.{c}"
                    )));
                }
            }
        }
        Ok(SchemaOp::AppendTemplate {
            name: name.to_string(),
            measurements: ms,
        })
    }

    /// Validates pruning a measurement (or group) from a template.
    pub(crate) fn plan_prune_template(&self, name: &str, path: &str) -> Result<SchemaOp> {
        let t = self.template_or_err(name)?;
        let nodes = template_nodes(path)?;
        if t.tree.lookup(&nodes).is_none() {
            return Err(Error::PathNotExist(format!("{path} in template {name}")));
        }
        let using = self.paths_using(name)?;
        if !using.is_empty() {
            return Err(Error::TemplateIsInUse(format!(
                "Template [{name}] is activated on {}, its measurements cannot be deleted",
                list(&using)
            )));
        }
        Ok(SchemaOp::PruneTemplate {
            name: name.to_string(),
            path: path.to_string(),
        })
    }

    /// Validates setting a template on a prefix path.
    pub(crate) fn plan_set_template(&self, name: &str, path: &PartialPath) -> Result<SchemaOp> {
        let t = self.template_or_err(name)?;
        let nodes = path.nodes();
        if nodes.len() < 2 {
            return Err(Error::IllegalPath(path.to_string(), None));
        }
        // ancestors (and the path itself)
        let mut cur = &self.root;
        let mut reached = true;
        for (i, n) in nodes.iter().enumerate().skip(1) {
            let Some(c) = cur.children.get(n) else {
                reached = false;
                break;
            };
            if c.measurement.is_some() {
                return Err(Error::Metadata(format!(
                    "Template cannot be set on or below the time series {}",
                    prefix(nodes, i + 1)
                )));
            }
            if let Some(other) = &c.template_set {
                return Err(Error::Metadata(format!(
                    "Template [{other}] has already been set on {}",
                    prefix(nodes, i + 1)
                )));
            }
            cur = c;
        }
        if reached {
            let mut below = Vec::new();
            let pred = |n: &Node| n.template_set.is_some();
            Self::collect_nodes(cur, &mut nodes.to_vec(), &pred, &mut below);
            if let Some(p) = below.first() {
                return Err(Error::Metadata(format!(
                    "A template has already been set on {p}, below {path}"
                )));
            }
            let mut conflict = None;
            let mut stack = vec![(cur, nodes.to_vec())];
            while let Some((n, p)) = stack.pop() {
                if let Some(c) = self.conflicts_on_device(n, &t.tree) {
                    conflict = Some(format!("{}.{c}", p.join(".")));
                    break;
                }
                for (name, child) in n.children.insertion_order() {
                    if child.measurement.is_none() {
                        let mut cp = p.clone();
                        cp.push(name.clone());
                        stack.push((child, cp));
                    }
                }
            }
            if let Some(c) = conflict {
                return Err(Error::TemplateIncompatible(format!(
                    "Template [{name}] conflicts with the existing time series {c}"
                )));
            }
        }
        Ok(SchemaOp::SetTemplate {
            name: name.to_string(),
            path: path.clone(),
        })
    }

    /// Validates unsetting a template from a prefix path.
    pub(crate) fn plan_unset_template(&self, name: &str, path: &PartialPath) -> Result<SchemaOp> {
        self.template_or_err(name)?;
        let set_here = self
            .node(path.nodes())
            .is_some_and(|n| n.template_set.as_deref() == Some(name));
        if !set_here {
            return Err(Error::TemplateNotSet(format!(
                "Template [{name}] is not set on {path}"
            )));
        }
        let using = self.activated_under(path.nodes(), Some(name));
        if !using.is_empty() {
            return Err(Error::TemplateIsInUse(format!(
                "Template [{name}] is activated on {}, deactivate it before unsetting",
                list(&using)
            )));
        }
        Ok(SchemaOp::UnsetTemplate {
            name: name.to_string(),
            path: path.clone(),
        })
    }

    /// Validates activating the covering template on `device` (database must exist).
    pub(crate) fn plan_activate(&self, device: &PartialPath) -> Result<SchemaOp> {
        let nodes = device.nodes();
        let (_, t) = self.covering_template(device).ok_or_else(|| {
            Error::TemplateNotSet(format!("Path [{device}] has not been set any template."))
        })?;
        let w = self.walk(nodes);
        if let Some(b) = w.blocked {
            return Err(Error::PathAlreadyExist(prefix(nodes, b).to_string()));
        }
        if w.db_len.is_none() {
            return Err(Error::DatabaseNotSet(device.to_string()));
        }
        if let Some(&(depth, _)) = w.actives.last() {
            return Err(Error::Metadata(format!(
                "Template has already been activated on {}",
                prefix(nodes, depth)
            )));
        }
        if w.depth == nodes.len() {
            if let Some(c) = self.conflicts_on_device(w.node, &t.tree) {
                return Err(Error::TemplateIncompatible(format!(
                    "Template [{}] conflicts with the existing time series {device}.{c}",
                    t.def.name
                )));
            }
        }
        Ok(SchemaOp::ActivateTemplate {
            device: device.clone(),
            name: t.def.name.clone(),
        })
    }

    /// Activated devices matching any pattern (optionally of one template).
    pub(crate) fn matching_activated(
        &self,
        name: Option<&str>,
        patterns: &[PathPattern],
    ) -> Vec<PartialPath> {
        let mut out = Vec::new();
        let all = self.activated_under(&["root".to_string()], name);
        for d in all {
            if patterns.iter().any(|p| p.matches(&d)) && !out.contains(&d) {
                out.push(d);
            }
        }
        out
    }

    // ----- mutation ------------------------------------------------------------------

    /// Applies one op. Live operations validate first; on replay an error means the log
    /// disagrees with itself and the op is skipped by the caller.
    pub(crate) fn apply(&mut self, op: &SchemaOp) -> Result<()> {
        match op {
            SchemaOp::CreateDatabase {
                path,
                region_id,
                ttl,
                interval,
            } => {
                let key = path.to_string();
                if self.databases.contains_key(&key) {
                    return Err(Error::DatabaseAlreadyExists(format!(
                        "{key} has already been created as database"
                    )));
                }
                let n = self.node_or_create(path.nodes());
                n.database = true;
                self.databases.insert(
                    key,
                    DbMeta {
                        path: path.clone(),
                        ttl: *ttl,
                        interval: *interval,
                        region_id: *region_id,
                    },
                );
                self.next_region_id = self.next_region_id.max(region_id + 1);
            }
            SchemaOp::DeleteDatabase { path } => {
                let key = path.to_string();
                if self.databases.remove(&key).is_none() {
                    return Err(Error::PathNotExist(key));
                }
                let nodes = path.nodes();
                // Template set points are not schema-region data: keep them.
                let mut sets = Vec::new();
                if let Some(n) = self.node(nodes) {
                    let mut found = Vec::new();
                    let pred = |n: &Node| n.template_set.is_some();
                    Self::collect_nodes(n, &mut nodes.to_vec(), &pred, &mut found);
                    for p in found {
                        if let Some(t) = self.node(p.nodes()).and_then(|n| n.template_set.clone()) {
                            sets.push((p, t));
                        }
                    }
                }
                if let Some(parent) = self.node_mut(&nodes[..nodes.len() - 1]) {
                    parent.children.remove(&nodes[nodes.len() - 1]);
                }
                for (p, t) in sets {
                    self.node_or_create(p.nodes()).template_set = Some(t);
                }
                self.prune(&nodes[..nodes.len() - 1]);
            }
            SchemaOp::SetTtl { path, ttl } => {
                let db = self
                    .databases
                    .get_mut(&path.to_string())
                    .ok_or_else(|| Error::DatabaseNotSet(path.to_string()))?;
                db.ttl = *ttl;
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
                let nodes = path.nodes();
                if nodes.len() < 3 {
                    return Err(Error::IllegalPath(path.to_string(), None));
                }
                let dev_len = nodes.len() - 1;
                let name = nodes[dev_len].clone();
                let dev = self.node_or_create(&nodes[..dev_len]);
                if dev.children.contains_key(&name) {
                    return Err(Error::TimeseriesAlreadyExist(path.to_string()));
                }
                if dev.measurements == 0 {
                    dev.aligned = *aligned;
                }
                dev.measurements += 1;
                if let Some(a) = alias {
                    dev.aliases.insert(a.clone(), name.clone());
                }
                let mut leaf = Node::default();
                leaf.measurement = Some(Box::new(Measurement {
                    schema: schema.clone(),
                    alias: alias.clone(),
                    tags: to_map(tags),
                    attributes: to_map(attributes),
                    props: props.clone(),
                }));
                dev.children.insert(name, leaf);
            }
            SchemaOp::DeleteSeries { path } => {
                let nodes = path.nodes();
                if nodes.len() < 3 {
                    return Err(Error::PathNotExist(path.to_string()));
                }
                let dev_len = nodes.len() - 1;
                let dev = self
                    .node_mut(&nodes[..dev_len])
                    .ok_or_else(|| Error::PathNotExist(path.to_string()))?;
                let is_series = dev
                    .children
                    .get(&nodes[dev_len])
                    .is_some_and(|c| c.measurement.is_some());
                if !is_series {
                    return Err(Error::PathNotExist(path.to_string()));
                }
                if let Some(mut removed) = dev.children.remove(&nodes[dev_len]) {
                    if let Some(a) = removed.measurement.take().and_then(|m| m.alias) {
                        dev.aliases.remove(&a);
                    }
                }
                dev.measurements = dev.measurements.saturating_sub(1);
                if dev.measurements == 0 {
                    dev.aligned = false;
                }
                self.prune(&nodes[..dev_len]);
            }
            SchemaOp::UpdateSeries {
                path,
                alias,
                tags,
                attributes,
            } => {
                let nodes = path.nodes();
                if nodes.len() < 3 {
                    return Err(Error::PathNotExist(path.to_string()));
                }
                let dev_len = nodes.len() - 1;
                let dev = self
                    .node_mut(&nodes[..dev_len])
                    .ok_or_else(|| Error::PathNotExist(path.to_string()))?;
                let name = nodes[dev_len].clone();
                let old_alias = {
                    let m = dev
                        .children
                        .get_mut(&name)
                        .and_then(|c| c.measurement.as_mut())
                        .ok_or_else(|| Error::PathNotExist(path.to_string()))?;
                    let old = m.alias.clone();
                    m.alias = alias.clone();
                    m.tags = to_map(tags);
                    m.attributes = to_map(attributes);
                    old
                };
                if old_alias != *alias {
                    if let Some(a) = old_alias {
                        dev.aliases.remove(&a);
                    }
                    if let Some(a) = alias {
                        dev.aliases.insert(a.clone(), name);
                    }
                }
            }
            SchemaOp::CreateTemplate(def) => {
                if self.templates.contains_key(&def.name) {
                    return Err(Error::DuplicatedTemplate(def.name.clone()));
                }
                let tree = build_tree(def)?;
                self.templates.insert(
                    def.name.clone(),
                    Template {
                        def: def.clone(),
                        tree,
                    },
                );
            }
            SchemaOp::DropTemplate { name } => {
                self.templates
                    .remove(name)
                    .ok_or_else(|| Error::UndefinedTemplate(name.clone()))?;
            }
            SchemaOp::AppendTemplate { name, measurements } => {
                let t = self
                    .templates
                    .get_mut(name)
                    .ok_or_else(|| Error::UndefinedTemplate(name.clone()))?;
                let mut def = t.def.clone();
                def.measurements.extend(measurements.iter().cloned());
                t.tree = build_tree(&def)?;
                t.def = def;
            }
            SchemaOp::PruneTemplate { name, path } => {
                let t = self
                    .templates
                    .get_mut(name)
                    .ok_or_else(|| Error::UndefinedTemplate(name.clone()))?;
                let target = template_nodes(path)?;
                let mut def = t.def.clone();
                def.measurements.retain(|m| {
                    template_nodes(&m.path)
                        .map(|n| !n.starts_with(&target))
                        .unwrap_or(true)
                });
                t.tree = build_tree(&def)?;
                t.def = def;
            }
            SchemaOp::SetTemplate { name, path } => {
                if !self.templates.contains_key(name) {
                    return Err(Error::UndefinedTemplate(name.clone()));
                }
                self.node_or_create(path.nodes()).template_set = Some(name.clone());
            }
            SchemaOp::UnsetTemplate { name, path } => {
                let n = self
                    .node_mut(path.nodes())
                    .filter(|n| n.template_set.as_deref() == Some(name.as_str()))
                    .ok_or_else(|| {
                        Error::TemplateNotSet(format!("Template [{name}] is not set on {path}"))
                    })?;
                n.template_set = None;
                self.prune(path.nodes());
            }
            SchemaOp::ActivateTemplate { device, name } => {
                if !self.templates.contains_key(name) {
                    return Err(Error::UndefinedTemplate(name.clone()));
                }
                self.node_or_create(device.nodes()).template_active = Some(name.clone());
            }
            SchemaOp::DeactivateTemplate { device } => {
                let n = self
                    .node_mut(device.nodes())
                    .filter(|n| n.template_active.is_some())
                    .ok_or_else(|| {
                        Error::TemplateNotActivated(format!(
                            "Template is not activated on {device}"
                        ))
                    })?;
                n.template_active = None;
                self.prune(device.nodes());
            }
            SchemaOp::RegionCounter { next } => {
                self.next_region_id = self.next_region_id.max(*next);
            }
        }
        Ok(())
    }

    /// The whole schema as ops that rebuild it (for snapshots), keeping insertion orders.
    pub(crate) fn snapshot_ops(&self) -> Vec<SchemaOp> {
        let mut ops = vec![SchemaOp::RegionCounter {
            next: self.next_region_id,
        }];
        for (_, t) in self.templates.insertion_order() {
            ops.push(SchemaOp::CreateTemplate(t.def.clone()));
        }
        for (_, d) in self.databases.insertion_order() {
            ops.push(SchemaOp::CreateDatabase {
                path: d.path.clone(),
                region_id: d.region_id,
                ttl: d.ttl,
                interval: d.interval,
            });
        }
        fn rec(node: &Node, path: &mut Vec<String>, ops: &mut Vec<SchemaOp>) {
            if let Some(t) = &node.template_set {
                ops.push(SchemaOp::SetTemplate {
                    name: t.clone(),
                    path: PartialPath::from_nodes(path.clone()),
                });
            }
            if let Some(t) = &node.template_active {
                ops.push(SchemaOp::ActivateTemplate {
                    device: PartialPath::from_nodes(path.clone()),
                    name: t.clone(),
                });
            }
            for (name, child) in node.children.insertion_order() {
                path.push(name.clone());
                if let Some(m) = &child.measurement {
                    ops.push(SchemaOp::CreateSeries {
                        path: PartialPath::from_nodes(path.clone()),
                        aligned: node.aligned,
                        schema: m.schema.clone(),
                        alias: m.alias.clone(),
                        props: m.props.clone(),
                        tags: insertion_pairs(&m.tags),
                        attributes: insertion_pairs(&m.attributes),
                    });
                } else {
                    deep(|| rec(child, path, ops));
                }
                path.pop();
            }
        }
        rec(&self.root, &mut vec!["root".to_string()], &mut ops);
        ops
    }
}

/// The AlignedTimeseries error for writing the wrong way to a device.
pub(crate) fn aligned_mismatch(device: &PartialPath, device_aligned: bool) -> Error {
    if device_aligned {
        Error::AlignedTimeseries(format!(
            "Timeseries under this device is aligned, please use createAlignedTimeseries/insertAligned or change device. (Path: {device})"
        ))
    } else {
        Error::AlignedTimeseries(format!(
            "Timeseries under this device is not aligned, please use createTimeseries/insert or change device. (Path: {device})"
        ))
    }
}

fn list(paths: &[PartialPath]) -> String {
    format!(
        "[{}]",
        paths
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn template_series_rec(
    t: &TNode,
    tname: &str,
    path: &mut Vec<String>,
    st: &MatchState,
    db: &PartialPath,
    pattern: &PathPattern,
    out: &mut Vec<SeriesInfo>,
) {
    for (name, c) in t.children.iter() {
        let cst = pattern.step(st, name);
        if let Some(schema) = &c.schema {
            if pattern.is_match(&cst) {
                let mut nodes = path.clone();
                nodes.push(name.clone());
                out.push(SeriesInfo {
                    path: PartialPath::from_nodes(nodes),
                    alias: None,
                    database: db.clone(),
                    schema: schema.clone(),
                    tags: Vec::new(),
                    attributes: Vec::new(),
                    props: Vec::new(),
                    aligned: t.aligned,
                    template: Some(tname.to_string()),
                });
            }
        } else if pattern.can_extend(&cst) {
            path.push(name.clone());
            deep(|| template_series_rec(c, tname, path, &cst, db, pattern, out));
            path.pop();
        }
    }
}

fn template_devices_rec(
    t: &TNode,
    tname: &str,
    path: &mut Vec<String>,
    st: &MatchState,
    db: &PartialPath,
    pattern: &PathPattern,
    out: &mut Vec<DeviceInfo>,
) {
    for (name, c) in t.children.iter() {
        if c.schema.is_some() {
            continue;
        }
        let cst = pattern.step(st, name);
        path.push(name.clone());
        if pattern.is_match(&cst) && c.children.values().any(|g| g.schema.is_some()) {
            out.push(DeviceInfo {
                path: PartialPath::from_nodes(path.clone()),
                database: db.clone(),
                aligned: c.aligned,
                template: Some(tname.to_string()),
            });
        }
        if pattern.can_extend(&cst) {
            deep(|| template_devices_rec(c, tname, path, &cst, db, pattern, out));
        }
        path.pop();
    }
}

fn template_children_rec(
    t: &TNode,
    path: &mut Vec<String>,
    st: &MatchState,
    pattern: &PathPattern,
    out: &mut Vec<(PartialPath, NodeKind)>,
) {
    for (name, c) in t.children.iter() {
        if c.schema.is_some() {
            continue;
        }
        let cst = pattern.step(st, name);
        path.push(name.clone());
        if pattern.is_match(&cst) {
            for (cn, cc) in c.children.iter() {
                let mut p = path.clone();
                p.push(cn.clone());
                let kind = if cc.schema.is_some() {
                    NodeKind::Timeseries
                } else {
                    NodeKind::Device
                };
                out.push((PartialPath::from_nodes(p), kind));
            }
        }
        if pattern.can_extend(&cst) {
            deep(|| template_children_rec(c, path, &cst, pattern, out));
        }
        path.pop();
    }
}
