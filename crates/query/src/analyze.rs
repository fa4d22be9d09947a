//! From AST to resolved expressions: wildcard expansion against the schema, constant
//! time folding, typing, and splitting a WHERE clause into a pushed-down time range and
//! a residual filter.

use crate::agg::AggKind;
use crate::expr::{compile_regexp, like_to_regex, ArithOp, CmpOp, Expr, MathFn};
use model::time::{now_ms, parse_datetime, TimeZone};
use model::{Error, PartialPath, PathPattern, Result, TSDataType, Value};
use sql::ast::{BinaryOp, Expression, Literal, PathRef, UnaryOp};
use std::collections::HashMap;
use storage::{Engine, TimeRange};

/// Most result columns one statement may expand to.
pub const MAX_EXPANDED_COLUMNS: usize = 1_000_000;

/// The message IoTDB gives when raw and aggregated items are mixed.
pub const HYBRID_QUERY: &str = "Raw data and aggregation hybrid query is not supported.";

/// Evaluates a constant time expression (integer, datetime literal, `now()`, durations,
/// `+`/`-` between them) to epoch milliseconds in `zone`.
pub fn eval_time(e: &Expression, zone: &TimeZone) -> Result<i64> {
    let bad = || Error::Semantic(format!("Illegal time value: {e:?}"));
    match e {
        Expression::Constant(Literal::Integer(v)) => Ok(*v),
        Expression::Constant(Literal::DateTime(s)) => parse_datetime(s, zone),
        // IoTDB takes no quoted time, not even a datetime
        Expression::Constant(Literal::String(s)) => {
            Err(Error::Semantic(format!("Can not parse [{s}] to time")))
        }
        Expression::Constant(Literal::Now) => Ok(now_ms()),
        Expression::Constant(Literal::Duration(ms)) => Ok(*ms),
        Expression::Unary {
            op: UnaryOp::Neg,
            expr,
        } => eval_time(expr, zone)?.checked_neg().ok_or_else(bad),
        Expression::Unary {
            op: UnaryOp::Pos,
            expr,
        } => eval_time(expr, zone),
        Expression::Binary { op, left, right } => {
            let (l, r) = (eval_time(left, zone)?, eval_time(right, zone)?);
            match op {
                BinaryOp::Add => l.checked_add(r).ok_or_else(bad),
                BinaryOp::Sub => l.checked_sub(r).ok_or_else(bad),
                _ => Err(bad()),
            }
        }
        _ => Err(bad()),
    }
}

/// The first datetime literal of `e` that does not parse, if any.
fn first_bad_datetime(e: &Expression, zone: &TimeZone) -> Option<String> {
    match e {
        Expression::Constant(Literal::DateTime(s)) => {
            parse_datetime(s, zone).is_err().then(|| s.clone())
        }
        Expression::Unary { expr, .. } => first_bad_datetime(expr, zone),
        Expression::Binary { left, right, .. } => {
            first_bad_datetime(left, zone).or_else(|| first_bad_datetime(right, zone))
        }
        _ => None,
    }
}

/// True if the expression is built only from time-like constants and contains at least
/// one datetime literal, `now()` or duration (so it denotes a timestamp, not a number).
fn is_time_constant(e: &Expression) -> bool {
    fn walk(e: &Expression, seen: &mut bool) -> bool {
        match e {
            Expression::Constant(Literal::Integer(_)) => true,
            Expression::Constant(Literal::DateTime(_))
            | Expression::Constant(Literal::Now)
            | Expression::Constant(Literal::Duration(_)) => {
                *seen = true;
                true
            }
            Expression::Unary {
                op: UnaryOp::Neg | UnaryOp::Pos,
                expr,
            } => walk(expr, seen),
            Expression::Binary {
                op: BinaryOp::Add | BinaryOp::Sub,
                left,
                right,
            } => walk(left, seen) && walk(right, seen),
            _ => false,
        }
    }
    let mut seen = false;
    walk(e, &mut seen) && seen
}

/// Clause combinations IoTDB's analyzer refuses (701) before it plans a query: LAST with
/// ALIGN BY DEVICE, GROUP BY, ORDER BY DEVICE or SLIMIT/SOFFSET; ORDER BY DEVICE outside
/// ALIGN BY DEVICE; ORDER BY TIMESERIES outside LAST.
pub fn check_query_clauses(q: &sql::QueryStatement) -> Result<()> {
    use sql::ast::SortKey;
    let refuse = |m: &str| Err(Error::Semantic(m.into()));
    let orders = |k: SortKey| q.order_by.iter().any(|o| o.key == k);
    if q.last {
        if q.align_by_device {
            return refuse("Last query doesn't support align by device.");
        }
        if q.group_by.is_some() {
            return refuse(
                "Common queries and aggregated queries are not allowed to appear at the same time",
            );
        }
        if q.slimit.is_some() || q.soffset.is_some() {
            return refuse("SLIMIT and SOFFSET can not be used in LastQuery.");
        }
    } else if orders(SortKey::Timeseries) {
        return refuse("Sorting by timeseries is only supported in last queries.");
    }
    if !q.align_by_device && orders(SortKey::Device) {
        return refuse("Sorting by device is only supported in ALIGN BY DEVICE queries.");
    }
    Ok(())
}

/// The text of a literal as IoTDB prints it in headers and IN lists.
pub fn literal_text(l: &Literal) -> String {
    sql::literal_text(l)
}

/// Expands select items and filters against the schema and records each series' type.
pub struct Expander<'a> {
    engine: &'a Engine,
    from: &'a [PathPattern],
    types: HashMap<PartialPath, TSDataType>,
    cache: HashMap<PathPattern, Vec<PartialPath>>,
}

impl<'a> Expander<'a> {
    /// An expander for a statement with the given FROM prefixes.
    pub fn new(engine: &'a Engine, from: &'a [PathPattern]) -> Self {
        Expander {
            engine,
            from,
            types: HashMap::new(),
            cache: HashMap::new(),
        }
    }

    /// The type of an expanded series.
    pub fn type_of(&self, path: &PartialPath) -> Option<TSDataType> {
        self.types.get(path).copied()
    }

    /// The patterns a path reference stands for (joined with each FROM prefix unless full).
    pub fn patterns_for(&self, r: &PathRef) -> Vec<PathPattern> {
        if r.full {
            vec![PathPattern::from_nodes(r.nodes.clone())]
        } else {
            self.from
                .iter()
                .map(|p| {
                    let mut nodes = p.nodes().to_vec();
                    nodes.extend(r.nodes.iter().cloned());
                    PathPattern::from_nodes(nodes)
                })
                .collect()
        }
    }

    /// Concrete series a path reference matches, in expansion order.
    pub fn expand_ref(&mut self, r: &PathRef) -> Vec<PartialPath> {
        let mut out = Vec::new();
        for pattern in self.patterns_for(r) {
            if let Some(hit) = self.cache.get(&pattern) {
                out.extend(hit.iter().cloned());
                continue;
            }
            let found: Vec<PartialPath> = self
                .engine
                .series(&pattern)
                .into_iter()
                .map(|s| {
                    self.types.insert(s.path.clone(), s.schema.data_type);
                    s.path
                })
                .collect();
            out.extend(found.iter().cloned());
            self.cache.insert(pattern, found);
        }
        out
    }

    /// Every concrete expression `e` stands for (cartesian product over its path references).
    pub fn expand(&mut self, e: &Expression) -> Result<Vec<Expression>> {
        let one = |x: Expression| Ok(vec![x]);
        match e {
            Expression::Time | Expression::Constant(_) => one(e.clone()),
            Expression::Path(r) => Ok(self
                .expand_ref(r)
                .into_iter()
                .map(|p| {
                    Expression::Path(PathRef {
                        nodes: p.nodes().to_vec(),
                        full: true,
                    })
                })
                .collect()),
            Expression::Unary { op, expr } => Ok(self
                .expand(expr)?
                .into_iter()
                .map(|x| Expression::Unary {
                    op: *op,
                    expr: Box::new(x),
                })
                .collect()),
            Expression::Binary { op, left, right } => {
                let combos = self.cartesian(&[left.as_ref(), right.as_ref()])?;
                Ok(combos
                    .into_iter()
                    .map(|mut v| {
                        let r = v.pop();
                        let l = v.pop();
                        match (l, r) {
                            (Some(l), Some(r)) => Expression::Binary {
                                op: *op,
                                left: Box::new(l),
                                right: Box::new(r),
                            },
                            _ => Expression::Time,
                        }
                    })
                    .collect())
            }
            Expression::Function {
                name,
                args,
                attributes,
            } => {
                let refs: Vec<&Expression> = args.iter().collect();
                Ok(self
                    .cartesian(&refs)?
                    .into_iter()
                    .map(|a| Expression::Function {
                        name: name.clone(),
                        args: a,
                        attributes: attributes.clone(),
                    })
                    .collect())
            }
            Expression::In {
                expr,
                list,
                negated,
            } => Ok(self
                .expand(expr)?
                .into_iter()
                .map(|x| Expression::In {
                    expr: Box::new(x),
                    list: list.clone(),
                    negated: *negated,
                })
                .collect()),
            Expression::Like {
                expr,
                pattern,
                negated,
            } => Ok(self
                .expand(expr)?
                .into_iter()
                .map(|x| Expression::Like {
                    expr: Box::new(x),
                    pattern: pattern.clone(),
                    negated: *negated,
                })
                .collect()),
            Expression::Regexp {
                expr,
                pattern,
                negated,
            } => Ok(self
                .expand(expr)?
                .into_iter()
                .map(|x| Expression::Regexp {
                    expr: Box::new(x),
                    pattern: pattern.clone(),
                    negated: *negated,
                })
                .collect()),
            Expression::IsNull { expr, negated } => Ok(self
                .expand(expr)?
                .into_iter()
                .map(|x| Expression::IsNull {
                    expr: Box::new(x),
                    negated: *negated,
                })
                .collect()),
            Expression::Between {
                expr,
                low,
                high,
                negated,
            } => Ok(self
                .cartesian(&[expr.as_ref(), low.as_ref(), high.as_ref()])?
                .into_iter()
                .map(|mut v| {
                    let h = v.pop().unwrap_or(Expression::Time);
                    let l = v.pop().unwrap_or(Expression::Time);
                    let x = v.pop().unwrap_or(Expression::Time);
                    Expression::Between {
                        expr: Box::new(x),
                        low: Box::new(l),
                        high: Box::new(h),
                        negated: *negated,
                    }
                })
                .collect()),
            Expression::Cast { expr, ty } => Ok(self
                .expand(expr)?
                .into_iter()
                .map(|x| Expression::Cast {
                    expr: Box::new(x),
                    ty: *ty,
                })
                .collect()),
        }
    }

    fn cartesian(&mut self, parts: &[&Expression]) -> Result<Vec<Vec<Expression>>> {
        let mut acc: Vec<Vec<Expression>> = vec![Vec::new()];
        for p in parts {
            let options = self.expand(p)?;
            let total = acc.len().saturating_mul(options.len());
            if total > MAX_EXPANDED_COLUMNS {
                return Err(Error::Semantic(format!(
                    "The expression expands to more than {MAX_EXPANDED_COLUMNS} columns"
                )));
            }
            let mut next = Vec::with_capacity(total);
            for prefix in &acc {
                for o in &options {
                    let mut v = prefix.clone();
                    v.push(o.clone());
                    next.push(v);
                }
            }
            acc = next;
        }
        Ok(acc)
    }
}

/// True if the expression contains a call to an aggregation function.
pub fn has_aggregate(e: &Expression) -> bool {
    match e {
        Expression::Function { name, args, .. } => {
            AggKind::from_name(name).is_some()
                || AggKind::is_unimplemented_name(name)
                || args.iter().any(has_aggregate)
        }
        Expression::Time | Expression::Path(_) | Expression::Constant(_) => false,
        Expression::Unary { expr, .. }
        | Expression::In { expr, .. }
        | Expression::Like { expr, .. }
        | Expression::Regexp { expr, .. }
        | Expression::IsNull { expr, .. }
        | Expression::Cast { expr, .. } => has_aggregate(expr),
        Expression::Binary { left, right, .. } => has_aggregate(left) || has_aggregate(right),
        Expression::Between {
            expr, low, high, ..
        } => has_aggregate(expr) || has_aggregate(low) || has_aggregate(high),
    }
}

/// True if the expression reads some series.
pub fn has_path(e: &Expression) -> bool {
    any_path_ref(e, &|_| true)
}

/// True if some path reference in `e` satisfies `pred`.
pub fn any_path_ref(e: &Expression, pred: &dyn Fn(&PathRef) -> bool) -> bool {
    let any = |x: &Expression| any_path_ref(x, pred);
    match e {
        Expression::Path(r) => pred(r),
        Expression::Time | Expression::Constant(_) => false,
        Expression::Function { args, .. } => args.iter().any(any),
        Expression::Unary { expr, .. }
        | Expression::In { expr, .. }
        | Expression::Like { expr, .. }
        | Expression::Regexp { expr, .. }
        | Expression::IsNull { expr, .. }
        | Expression::Cast { expr, .. } => any(expr),
        Expression::Binary { left, right, .. } => any(left) || any(right),
        Expression::Between {
            expr, low, high, ..
        } => any(expr) || any(low) || any(high),
    }
}

/// The series a query reads, each once, with types and display names.
#[derive(Debug, Default)]
pub struct SeriesInputs {
    /// Series paths.
    pub paths: Vec<PartialPath>,
    /// Their data types.
    pub types: Vec<TSDataType>,
    /// Their display names (full paths).
    pub names: Vec<String>,
    index: HashMap<PartialPath, usize>,
}

impl SeriesInputs {
    /// The input index of a series, registering it on first use.
    pub fn input(&mut self, path: PartialPath, t: TSDataType) -> usize {
        if let Some(&i) = self.index.get(&path) {
            return i;
        }
        let i = self.paths.len();
        self.names.push(path.to_string());
        self.paths.push(path.clone());
        self.types.push(t);
        self.index.insert(path, i);
        i
    }
}

/// One aggregation to compute.
#[derive(Debug, Clone)]
pub struct AggSpec {
    /// The function.
    pub kind: AggKind,
    /// Its argument, over the series inputs.
    pub arg: Expr,
    /// Header text, e.g. `count(root.sg.d.s1)` (function name as typed).
    pub display: String,
    /// The function name as typed.
    pub name: String,
    /// Type of the argument.
    pub in_type: TSDataType,
    /// Result type.
    pub out_type: TSDataType,
}

/// The aggregations of a query, each once.
#[derive(Debug, Default)]
pub struct AggInputs {
    /// The aggregations.
    pub specs: Vec<AggSpec>,
    index: HashMap<String, usize>,
}

impl AggInputs {
    /// Display names of the aggregations (inputs of post-aggregation expressions).
    pub fn names(&self) -> Vec<String> {
        self.specs.iter().map(|s| s.display.clone()).collect()
    }

    /// Result types of the aggregations.
    pub fn types(&self) -> Vec<TSDataType> {
        self.specs.iter().map(|s| s.out_type).collect()
    }
}

/// Converts expanded AST expressions into [`Expr`]s.
pub struct Converter<'a, 'e> {
    /// Schema lookups of the expansion step.
    pub expander: &'a Expander<'e>,
    /// Series read by the query.
    pub series: SeriesInputs,
    /// Aggregations of the query (aggregation queries only).
    pub aggs: AggInputs,
    /// Session time zone, for datetime literals.
    pub zone: TimeZone,
}

impl<'a, 'e> Converter<'a, 'e> {
    /// A converter using the types found by `expander`.
    pub fn new(expander: &'a Expander<'e>, zone: TimeZone) -> Self {
        Converter {
            expander,
            series: SeriesInputs::default(),
            aggs: AggInputs::default(),
            zone,
        }
    }

    /// Converts a raw (non-aggregate) expression over series inputs.
    pub fn raw(&mut self, e: &Expression) -> Result<Expr> {
        self.convert(e, false)
    }

    /// Converts an expression of an aggregation query: series may only appear inside
    /// aggregation functions; the result reads aggregation results.
    pub fn aggregated(&mut self, e: &Expression) -> Result<Expr> {
        self.convert(e, true)
    }

    fn convert(&mut self, e: &Expression, agg_level: bool) -> Result<Expr> {
        if is_time_constant(e) {
            // IoTDB 1.0's query analyzer reports a malformed datetime as a metadata check
            // failure (507).
            if let Some(bad) = first_bad_datetime(e, &self.zone) {
                return Err(Error::Metadata(format!(
                    "Check metadata error: Input time format {bad} error. Input like yyyy-MM-dd HH:mm:ss, yyyy-MM-ddTHH:mm:ss or refer to user document for more info."
                )));
            }
            let v = eval_time(e, &self.zone)?;
            let text = match e {
                Expression::Constant(l) => literal_text(l),
                _ => v.to_string(),
            };
            return Ok(Expr::Const(Value::Int64(v), text));
        }
        let b = |x: Expr| Box::new(x);
        Ok(match e {
            Expression::Time => {
                if agg_level {
                    return Err(Error::Semantic(HYBRID_QUERY.into()));
                }
                Expr::Time
            }
            Expression::Path(r) => {
                if agg_level {
                    return Err(Error::Semantic(HYBRID_QUERY.into()));
                }
                let path = PartialPath::from_nodes(r.nodes.clone());
                let t = self
                    .expander
                    .type_of(&path)
                    .ok_or_else(|| Error::internal(format!("series {path} was not expanded")))?;
                Expr::Input(self.series.input(path, t))
            }
            Expression::Constant(l) => literal_expr(l)?,
            Expression::Unary { op, expr } => {
                let inner = self.convert(expr, agg_level)?;
                match op {
                    UnaryOp::Pos => inner,
                    UnaryOp::Neg => Expr::Neg(b(inner)),
                    UnaryOp::Not => Expr::Not(b(inner)),
                }
            }
            Expression::Binary { op, left, right } => {
                let l = self.convert(left, agg_level)?;
                let r = self.convert(right, agg_level)?;
                let comparison = matches!(
                    op,
                    BinaryOp::Eq
                        | BinaryOp::NotEq
                        | BinaryOp::Lt
                        | BinaryOp::LtEq
                        | BinaryOp::Gt
                        | BinaryOp::GtEq
                );
                let (l, r) = if comparison && !agg_level {
                    self.date_operands(l, r)?
                } else {
                    (l, r)
                };
                match op {
                    BinaryOp::Add => Expr::Arith(ArithOp::Add, b(l), b(r)),
                    BinaryOp::Sub => Expr::Arith(ArithOp::Sub, b(l), b(r)),
                    BinaryOp::Mul => Expr::Arith(ArithOp::Mul, b(l), b(r)),
                    BinaryOp::Div => Expr::Arith(ArithOp::Div, b(l), b(r)),
                    BinaryOp::Mod => Expr::Arith(ArithOp::Mod, b(l), b(r)),
                    BinaryOp::Eq => Expr::Cmp(CmpOp::Eq, b(l), b(r)),
                    BinaryOp::NotEq => Expr::Cmp(CmpOp::Ne, b(l), b(r)),
                    BinaryOp::Lt => Expr::Cmp(CmpOp::Lt, b(l), b(r)),
                    BinaryOp::LtEq => Expr::Cmp(CmpOp::Le, b(l), b(r)),
                    BinaryOp::Gt => Expr::Cmp(CmpOp::Gt, b(l), b(r)),
                    BinaryOp::GtEq => Expr::Cmp(CmpOp::Ge, b(l), b(r)),
                    BinaryOp::And => Expr::And(b(l), b(r)),
                    BinaryOp::Or => Expr::Or(b(l), b(r)),
                }
            }
            Expression::Function {
                name,
                args,
                attributes,
            } => {
                if let Some(kind) = AggKind::from_name(name) {
                    if !agg_level {
                        return Err(Error::Semantic(HYBRID_QUERY.into()));
                    }
                    if args.len() != 1 || !attributes.is_empty() {
                        return Err(Error::Semantic(format!(
                            "Builtin aggregation function only accepts 1 input expression. Actual {} input expressions.",
                            args.len()
                        )));
                    }
                    if has_aggregate(&args[0]) {
                        return Err(Error::Semantic(
                            "Aggregation results cannot be as input of the aggregation function."
                                .into(),
                        ));
                    }
                    let arg = self.convert(&args[0], false)?;
                    let in_type = arg
                        .check_type(&self.series.types, &self.series.names)?
                        .unwrap_or(TSDataType::Int64);
                    let out_type = kind.output_type(in_type)?;
                    let display = e.to_string();
                    let idx = match self.aggs.index.get(&display) {
                        Some(&i) => i,
                        None => {
                            let i = self.aggs.specs.len();
                            self.aggs.specs.push(AggSpec {
                                kind,
                                arg,
                                display: display.clone(),
                                name: name.clone(),
                                in_type,
                                out_type,
                            });
                            self.aggs.index.insert(display, i);
                            i
                        }
                    };
                    return Ok(Expr::Input(idx));
                }
                if AggKind::is_unimplemented_name(name) {
                    return Err(Error::Unsupported(format!(
                        "aggregation function {name} is not supported yet"
                    )));
                }
                if let Some(mut f) = MathFn::from_name(name) {
                    if f == MathFn::Round && args.len() == 2 && attributes.is_empty() {
                        f = MathFn::RoundTo(round_places(&args[1])?);
                    } else if args.len() != 1 || !attributes.is_empty() {
                        return Err(Error::Semantic(format!(
                            "Function {name} accepts exactly 1 input expression"
                        )));
                    }
                    let inner = self.convert(&args[0], agg_level)?;
                    return Ok(Expr::Math(f, name.clone(), b(inner)));
                }
                if let Some(f) = crate::rowfn::RowFn::resolve(name, args.len(), attributes) {
                    let f = f?;
                    let inner = args
                        .iter()
                        .map(|a| self.convert(a, agg_level))
                        .collect::<Result<Vec<_>>>()?;
                    let attrs = attributes
                        .iter()
                        .map(|(k, v)| format!("\"{k}\"=\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Ok(Expr::Row(Box::new(f), name.clone(), attrs, inner));
                }
                if let Some(f) = crate::seriesfn::SeriesFn::resolve(name, args.len(), attributes) {
                    let f = f?;
                    let inner = self.convert(&args[0], agg_level)?;
                    let attrs = attributes
                        .iter()
                        .map(|(k, v)| format!("\"{k}\"=\"{v}\""))
                        .collect::<Vec<_>>()
                        .join(", ");
                    return Ok(Expr::Series(Box::new(f), name.clone(), attrs, b(inner)));
                }
                if is_unimplemented_builtin(name) {
                    return Err(Error::Unsupported(format!(
                        "function {name} is not supported yet"
                    )));
                }
                // Anything else would be a user-defined function, and there is no UDF registry.
                return Err(Error::Semantic(format!(
                    "Error occurred during inferring UDF data type: \norg.apache.iotdb.udf.api.exception.UDFException: Failed to reflect UDF instance, because UDF {} has not been registered.",
                    name.to_ascii_uppercase()
                )));
            }
            Expression::In {
                expr,
                list,
                negated,
            } => Expr::In {
                expr: b(self.convert(expr, agg_level)?),
                list: list.iter().map(literal_text).collect(),
                negated: *negated,
            },
            Expression::Like {
                expr,
                pattern,
                negated,
            } => Expr::Like {
                expr: b(self.convert(expr, agg_level)?),
                re: like_to_regex(pattern)?,
                negated: *negated,
            },
            Expression::Regexp {
                expr,
                pattern,
                negated,
            } => Expr::Regexp {
                expr: b(self.convert(expr, agg_level)?),
                re: compile_regexp(pattern)?,
                text: pattern.clone(),
                negated: *negated,
            },
            Expression::IsNull { expr, negated } => Expr::IsNull {
                expr: b(self.convert(expr, agg_level)?),
                negated: *negated,
            },
            Expression::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let expr = self.convert(expr, agg_level)?;
                let low = self.convert(low, agg_level)?;
                let high = self.convert(high, agg_level)?;
                let (expr, low, high) = if agg_level {
                    (expr, low, high)
                } else {
                    let (expr, low) = self.date_operands(expr, low)?;
                    let (expr, high) = self.date_operands(expr, high)?;
                    (expr, low, high)
                };
                Expr::Between {
                    expr: b(expr),
                    low: b(low),
                    high: b(high),
                    negated: *negated,
                }
            }
            Expression::Cast { expr, ty } => Expr::Cast(b(self.convert(expr, agg_level)?), *ty),
        })
    }
}

impl Converter<'_, '_> {
    /// IoTDB compares a DATE with a date string (`dt >= '2024-04-01'`): the string becomes a
    /// DATE constant here, so the comparison runs on the stored `yyyyMMdd` integers; a number
    /// compared with a DATE is refused (701) as IoTDB refuses it.
    fn date_operands(&self, l: Expr, r: Expr) -> Result<(Expr, Expr)> {
        let is_date = |e: &Expr| {
            matches!(
                e.check_type(&self.series.types, &self.series.names),
                Ok(Some(TSDataType::Date))
            )
        };
        Ok(if is_date(&l) {
            let r = date_literal(r)?;
            (l, r)
        } else if is_date(&r) {
            (date_literal(l)?, r)
        } else {
            (l, r)
        })
    }
}

/// The DATE value of a constant compared with a DATE (see `Converter::date_operands`).
fn date_literal(e: Expr) -> Result<Expr> {
    match e {
        Expr::Const(Value::Text(bytes), text) => {
            let v = crate::expr::parse_literal_as(&String::from_utf8_lossy(&bytes), TSDataType::Date)?;
            Ok(Expr::Const(v, text))
        }
        Expr::Const(v, text) => Err(Error::Semantic(format!(
            "Invalid input expression data type. expression: {text}, actual data type: {}, expected data type(s): [DATE, TEXT].",
            v.data_type().name()
        ))),
        other => Ok(other),
    }
}

/// A literal as a constant expression.
pub fn literal_expr(l: &Literal) -> Result<Expr> {
    let text = literal_text(l);
    Ok(match l {
        Literal::Integer(v) => Expr::Const(Value::Int64(*v), text),
        Literal::Float(v, _) => Expr::Const(Value::Double(*v), text),
        Literal::Boolean(v) => Expr::Const(Value::Boolean(*v), text),
        Literal::String(s) => Expr::Const(Value::Text(s.as_bytes().to_vec()), text),
        Literal::Binary(b) => Expr::Const(Value::Text(b.clone()), text),
        Literal::Null => Expr::Null,
        Literal::NaN => Expr::Const(Value::Double(f64::NAN), text),
        Literal::DateTime(_) | Literal::Now | Literal::Duration(_) => {
            return Err(Error::internal("time literal not folded"))
        }
    })
}

fn flatten_and(e: Expr, out: &mut Vec<Expr>) {
    match e {
        Expr::And(l, r) => {
            flatten_and(*l, out);
            flatten_and(*r, out);
        }
        other => out.push(other),
    }
}

/// Narrows `range` by `time op c`; returns false if the conjunct is not such a comparison.
fn narrow(range: &mut TimeRange, e: &Expr) -> bool {
    const EMPTY: (i64, i64) = (i64::MAX, i64::MIN);
    let int_const = |x: &Expr| match x {
        Expr::Const(Value::Int64(v), _) => Some(*v),
        Expr::Const(Value::Int32(v), _) => Some(*v as i64),
        _ => None,
    };
    let bounds = |op: CmpOp, c: i64| -> Option<(i64, i64)> {
        Some(match op {
            CmpOp::Eq => (c, c),
            CmpOp::Gt => c.checked_add(1).map_or(EMPTY, |lo| (lo, i64::MAX)),
            CmpOp::Ge => (c, i64::MAX),
            CmpOp::Lt => c.checked_sub(1).map_or(EMPTY, |hi| (i64::MIN, hi)),
            CmpOp::Le => (i64::MIN, c),
            CmpOp::Ne => return None,
        })
    };
    let found = match e {
        Expr::Cmp(op, l, r) => match (l.as_ref(), r.as_ref()) {
            (Expr::Time, c) => int_const(c).and_then(|c| bounds(*op, c)),
            (c, Expr::Time) => int_const(c).and_then(|c| bounds(op.flip(), c)),
            _ => None,
        },
        Expr::Between {
            expr,
            low,
            high,
            negated: false,
        } if matches!(**expr, Expr::Time) => match (int_const(low), int_const(high)) {
            (Some(lo), Some(hi)) => Some((lo, hi)),
            _ => None,
        },
        _ => None,
    };
    match found {
        Some((lo, hi)) => {
            range.start = range.start.max(lo);
            range.end = range.end.min(hi);
            true
        }
        None => false,
    }
}

/// Splits a filter into the time range implied by its top-level AND-ed time comparisons
/// and the rest (`None` when nothing is left).
pub fn split_time_filter(filter: Option<Expr>) -> (TimeRange, Option<Expr>) {
    let mut range = TimeRange::ALL;
    let Some(filter) = filter else {
        return (range, None);
    };
    let mut conjuncts = Vec::new();
    flatten_and(filter, &mut conjuncts);
    let mut rest: Option<Expr> = None;
    for c in conjuncts {
        if !narrow(&mut range, &c) {
            rest = Some(match rest {
                None => c,
                Some(prev) => Expr::And(Box::new(prev), Box::new(c)),
            });
        }
    }
    (range, rest)
}

/// Built-in (not user-defined) function names of IoTDB 1.0/2.0 that iotdb-rs does not
/// evaluate yet: they answer "not supported yet" rather than "UDF not registered".
fn is_unimplemented_builtin(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "equal_size_bucket_random_sample",
        "equal_size_bucket_agg_sample",
        "equal_size_bucket_m4_sample",
        "equal_size_bucket_outlier_sample",
        "m4",
        "jexl",
        "replace",
        "substring",
        "change_points",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

/// The second argument of `round(x, places)`: an integer constant.
fn round_places(arg: &Expression) -> Result<i32> {
    match arg {
        Expression::Constant(Literal::Integer(n)) => i32::try_from(*n)
            .map_err(|_| Error::Semantic(format!("ROUND: places {n} is out of range"))),
        Expression::Unary {
            op: UnaryOp::Neg,
            expr,
        } => match expr.as_ref() {
            Expression::Constant(Literal::Integer(n)) => i32::try_from(-*n)
                .map_err(|_| Error::Semantic(format!("ROUND: places -{n} is out of range"))),
            _ => Err(Error::Semantic(
                "ROUND: the second argument must be an integer constant".into(),
            )),
        },
        _ => Err(Error::Semantic(
            "ROUND: the second argument must be an integer constant".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(op: CmpOp, c: i64) -> Expr {
        Expr::cmp(op, Expr::Time, Expr::Const(Value::Int64(c), c.to_string()))
    }

    #[test]
    fn time_range_from_conjuncts() {
        let f = Expr::And(
            Box::new(Expr::And(
                Box::new(t(CmpOp::Ge, 10)),
                Box::new(t(CmpOp::Lt, 20)),
            )),
            Box::new(Expr::cmp(
                CmpOp::Gt,
                Expr::Input(0),
                Expr::Const(Value::Int64(1), "1".into()),
            )),
        );
        let (r, rest) = split_time_filter(Some(f));
        assert_eq!(r, TimeRange::new(10, 19));
        assert!(matches!(rest, Some(Expr::Cmp(CmpOp::Gt, _, _))));
        let (r, rest) = split_time_filter(Some(Expr::cmp(
            CmpOp::Gt,
            Expr::Const(Value::Int64(5), "5".into()),
            Expr::Time,
        )));
        assert_eq!(r, TimeRange::new(i64::MIN, 4));
        assert!(rest.is_none());
        let (r, _) = split_time_filter(Some(t(CmpOp::Gt, i64::MAX)));
        assert!(r.is_empty());
        let (r, rest) = split_time_filter(Some(Expr::Or(
            Box::new(t(CmpOp::Lt, 1)),
            Box::new(t(CmpOp::Gt, 5)),
        )));
        assert_eq!(r, TimeRange::ALL);
        assert!(rest.is_some());
    }

    #[test]
    fn time_constants_fold_in_zone() {
        let zone = TimeZone::parse("+08:00").unwrap();
        let e = Expression::Binary {
            op: BinaryOp::Add,
            left: Box::new(Expression::Constant(Literal::DateTime(
                "1970-01-01T08:00:00".into(),
            ))),
            right: Box::new(Expression::Constant(Literal::Duration(1000))),
        };
        assert!(is_time_constant(&e));
        assert_eq!(eval_time(&e, &zone).unwrap(), 1000);
        assert!(!is_time_constant(&Expression::Constant(Literal::Integer(
            3
        ))));
    }
}
