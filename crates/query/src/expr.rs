//! Resolved expressions and their vectorized evaluation over time-aligned columns.
//!
//! An [`Expr`] refers to its inputs by position (`Input(i)`): the i-th column of the
//! [`Chunk`] it is evaluated on. The analyzer builds expressions from the SQL AST after
//! wildcard expansion; the same type is used before aggregation (inputs = series) and
//! after it (inputs = aggregate results).

use crate::join::Chunk;
use crate::seriesfn::SeriesFn;
use model::{Bitmap, Column, ColumnData, Error, Result, TSDataType, Value};
use regex::Regex;
use std::cmp::Ordering;

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

impl ArithOp {
    fn symbol(self) -> &'static str {
        match self {
            ArithOp::Add => "+",
            ArithOp::Sub => "-",
            ArithOp::Mul => "*",
            ArithOp::Div => "/",
            ArithOp::Mod => "%",
        }
    }
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=` / `==`
    Eq,
    /// `!=` / `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }

    /// The operator with its operands swapped (`a < b` ⇔ `b > a`).
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            o => o,
        }
    }
}

/// Built-in scalar math functions (IoTDB's math UDTFs; DOUBLE results unless noted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathFn {
    /// sin
    Sin,
    /// cos
    Cos,
    /// tan
    Tan,
    /// asin
    Asin,
    /// acos
    Acos,
    /// atan
    Atan,
    /// sinh
    Sinh,
    /// cosh
    Cosh,
    /// tanh
    Tanh,
    /// degrees
    Degrees,
    /// radians
    Radians,
    /// abs (keeps the input type)
    Abs,
    /// sign (DOUBLE result)
    Sign,
    /// ceil
    Ceil,
    /// floor
    Floor,
    /// round
    Round,
    /// exp
    Exp,
    /// ln
    Ln,
    /// log10
    Log10,
    /// sqrt
    Sqrt,
    /// `round(x, places)` (IoTDB 2.0; 1.0 has only the one-argument form): half to even at
    /// that many decimal places (negative: tens, hundreds, …).
    RoundTo(i32),
}

impl MathFn {
    /// The names [`MathFn::from_name`] accepts.
    pub const NAMES: &'static [&'static str] = &[
        "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "degrees", "radians",
        "abs", "sign", "ceil", "floor", "round", "exp", "ln", "log10", "sqrt",
    ];

    /// The function for a (case-insensitive) name.
    pub fn from_name(name: &str) -> Option<MathFn> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sin" => MathFn::Sin,
            "cos" => MathFn::Cos,
            "tan" => MathFn::Tan,
            "asin" => MathFn::Asin,
            "acos" => MathFn::Acos,
            "atan" => MathFn::Atan,
            "sinh" => MathFn::Sinh,
            "cosh" => MathFn::Cosh,
            "tanh" => MathFn::Tanh,
            "degrees" => MathFn::Degrees,
            "radians" => MathFn::Radians,
            "abs" => MathFn::Abs,
            "sign" => MathFn::Sign,
            "ceil" => MathFn::Ceil,
            "floor" => MathFn::Floor,
            "round" => MathFn::Round,
            "exp" => MathFn::Exp,
            "ln" => MathFn::Ln,
            "log10" => MathFn::Log10,
            "sqrt" => MathFn::Sqrt,
            _ => return None,
        })
    }

    fn apply(self, x: f64) -> f64 {
        match self {
            MathFn::Sin => x.sin(),
            MathFn::Cos => x.cos(),
            MathFn::Tan => x.tan(),
            MathFn::Asin => x.asin(),
            MathFn::Acos => x.acos(),
            MathFn::Atan => x.atan(),
            MathFn::Sinh => x.sinh(),
            MathFn::Cosh => x.cosh(),
            MathFn::Tanh => x.tanh(),
            MathFn::Degrees => x.to_degrees(),
            MathFn::Radians => x.to_radians(),
            MathFn::Abs => x.abs(),
            MathFn::Sign => {
                if x.is_nan() {
                    x
                } else if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            MathFn::Ceil => x.ceil(),
            MathFn::Floor => x.floor(),
            // Java Math.rint: round half to even.
            MathFn::Round => x.round_ties_even(),
            MathFn::RoundTo(places) => {
                let scale = 10f64.powi(places);
                (x * scale).round_ties_even() / scale
            }
            MathFn::Exp => x.exp(),
            MathFn::Ln => x.ln(),
            MathFn::Log10 => x.log10(),
            MathFn::Sqrt => x.sqrt(),
        }
    }
}

/// A resolved expression.
#[derive(Debug, Clone)]
pub enum Expr {
    /// The row timestamp (INT64).
    Time,
    /// The i-th input column.
    Input(usize),
    /// A constant with the text it was written as.
    Const(Value, String),
    /// The `null` literal.
    Null,
    /// Unary minus.
    Neg(Box<Expr>),
    /// Logical NOT.
    Not(Box<Expr>),
    /// Arithmetic (DOUBLE result).
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// Comparison (BOOLEAN result).
    Cmp(CmpOp, Box<Expr>, Box<Expr>),
    /// Logical AND.
    And(Box<Expr>, Box<Expr>),
    /// Logical OR.
    Or(Box<Expr>, Box<Expr>),
    /// `e [NOT] BETWEEN low AND high`.
    Between {
        /// Tested expression.
        expr: Box<Expr>,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
        /// NOT BETWEEN.
        negated: bool,
    },
    /// `e [NOT] IN (v, …)`; values as written (converted to the operand's type when evaluated).
    In {
        /// Tested expression.
        expr: Box<Expr>,
        /// The list, as literal texts.
        list: Vec<String>,
        /// NOT IN.
        negated: bool,
    },
    /// `e IS [NOT] NULL`.
    IsNull {
        /// Tested expression.
        expr: Box<Expr>,
        /// IS NOT NULL.
        negated: bool,
    },
    /// `e [NOT] LIKE 'pattern'` (compiled to an anchored regex).
    Like {
        /// Tested expression (TEXT).
        expr: Box<Expr>,
        /// The compiled pattern.
        re: Regex,
        /// NOT LIKE.
        negated: bool,
    },
    /// `e [NOT] REGEXP 'regex'` (unanchored search, like Java's `Matcher.find`).
    Regexp {
        /// Tested expression (TEXT).
        expr: Box<Expr>,
        /// The compiled regex.
        re: Regex,
        /// The regex as written.
        text: String,
        /// NOT REGEXP.
        negated: bool,
    },
    /// A built-in scalar math function; `name` keeps the case it was written in.
    Math(MathFn, String, Box<Expr>),
    /// `CAST(e AS type)`.
    Cast(Box<Expr>, TSDataType),
    /// A built-in row-wise function (string, constant, `in_range`/`on_off`): the function, its
    /// name as written, the `"k"="v"` attribute text of the header, and its series arguments.
    Row(Box<crate::rowfn::RowFn>, String, String, Vec<Expr>),
    /// A built-in whole-series function (`difference`, `top_k`, …): the function, its name as
    /// written, the `"k"="v"` attribute text, and its input. Only valid where the chunk holds
    /// the whole series (see [`Expr::has_series_fn`]).
    Series(Box<crate::seriesfn::SeriesFn>, String, String, Box<Expr>),
}

/// Converts an SQL LIKE pattern (`%` any run, `_` one character, `\` escapes) into an
/// anchored regex, as IoTDB does.
pub fn like_to_regex(pattern: &str) -> Result<Regex> {
    let mut out = String::from("^");
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => out.push_str(&regex::escape(&n.to_string())),
                None => out.push_str(&regex::escape("\\")),
            },
            '%' => out.push_str("(?s:.*?)"),
            '_' => out.push_str("(?s:.)"),
            other => out.push_str(&regex::escape(&other.to_string())),
        }
    }
    out.push('$');
    Regex::new(&out).map_err(|e| Error::Semantic(format!("Illegal LIKE pattern {pattern}: {e}")))
}

/// Compiles a REGEXP pattern (Java-like syntax, handled by the `regex` crate).
pub fn compile_regexp(pattern: &str) -> Result<Regex> {
    Regex::new(pattern)
        .map_err(|e| Error::Semantic(format!("Illegal regular expression {pattern}: {e}")))
}

fn is_binary(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Arith(..) | Expr::Cmp(..) | Expr::And(..) | Expr::Or(..)
    )
}

fn is_negative_const(e: &Expr) -> bool {
    match e {
        Expr::Const(v, _) => v.as_f64().is_some_and(|x| x < 0.0),
        _ => false,
    }
}

fn type_name(t: Option<TSDataType>) -> &'static str {
    t.map(|t| t.name()).unwrap_or("null")
}

fn expect_type(what: &str, actual: Option<TSDataType>, expected: &[TSDataType]) -> Result<()> {
    match actual {
        None => Ok(()),
        Some(t) if expected.contains(&t.physical()) => Ok(()),
        Some(_) => Err(Error::Semantic(format!(
            "Invalid input expression data type. expression: {what}, actual data type: {}, expected data type(s): [{}].",
            type_name(actual),
            expected.iter().map(|t| t.name()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

const NUMERIC: [TSDataType; 4] = [
    TSDataType::Int32,
    TSDataType::Int64,
    TSDataType::Float,
    TSDataType::Double,
];

impl Expr {
    /// Boxes a binary arithmetic node.
    pub fn arith(op: ArithOp, l: Expr, r: Expr) -> Expr {
        Expr::Arith(op, Box::new(l), Box::new(r))
    }

    /// Boxes a comparison node.
    pub fn cmp(op: CmpOp, l: Expr, r: Expr) -> Expr {
        Expr::Cmp(op, Box::new(l), Box::new(r))
    }

    /// IoTDB's text for the expression (result-column header), with inputs named by `names`.
    pub fn display(&self, names: &[String]) -> String {
        let sub = |e: &Expr| {
            if is_binary(e) {
                format!("({})", e.display(names))
            } else {
                e.display(names)
            }
        };
        match self {
            Expr::Time => "Time".into(),
            Expr::Input(i) => names.get(*i).cloned().unwrap_or_else(|| format!("${i}")),
            Expr::Const(_, text) => text.clone(),
            Expr::Null => "null".into(),
            Expr::Neg(e) => match **e {
                Expr::Input(_) | Expr::Math(..) | Expr::Null => format!("-{}", e.display(names)),
                Expr::Const(..) if !is_negative_const(e) => format!("-{}", e.display(names)),
                _ => format!("-({})", e.display(names)),
            },
            Expr::Not(e) => match **e {
                Expr::Input(_) | Expr::Math(..) | Expr::Const(..) => {
                    format!("!{}", e.display(names))
                }
                _ => format!("!({})", e.display(names)),
            },
            Expr::Arith(op, l, r) => format!("{} {} {}", sub(l), op.symbol(), sub(r)),
            Expr::Cmp(op, l, r) => format!("{} {} {}", sub(l), op.symbol(), sub(r)),
            Expr::And(l, r) => format!("{} & {}", sub(l), sub(r)),
            Expr::Or(l, r) => format!("{} | {}", sub(l), sub(r)),
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => format!(
                "{} {}BETWEEN {} AND {}",
                expr.display(names),
                if *negated { "NOT " } else { "" },
                low.display(names),
                high.display(names)
            ),
            Expr::In { expr, list, .. } => {
                let head = match **expr {
                    Expr::Input(_) | Expr::Math(..) | Expr::Const(..) => expr.display(names),
                    _ => format!("({})", expr.display(names)),
                };
                format!("{head} IN ({})", list.join(","))
            }
            Expr::IsNull { expr, negated } => format!(
                "{} IS {}NULL",
                expr.display(names),
                if *negated { "NOT " } else { "" }
            ),
            Expr::Like { expr, re, .. } => {
                format!("{} LIKE '{}'", expr.display(names), re.as_str())
            }
            Expr::Regexp { expr, text, .. } => {
                format!("{} REGEXP '{}'", expr.display(names), text)
            }
            // IoTDB 2.0 names the two-argument form `ROUND(x,places)`
            Expr::Math(MathFn::RoundTo(places), _, e) => {
                format!("ROUND({},{places})", e.display(names))
            }
            Expr::Math(_, name, e) => format!("{name}({})", e.display(names)),
            Expr::Cast(e, t) => format!("CAST({} AS {})", e.display(names), t.name()),
            Expr::Series(_, name, attrs, arg) => {
                if attrs.is_empty() {
                    format!("{name}({})", arg.display(names))
                } else {
                    format!("{name}({}, {attrs})", arg.display(names))
                }
            }
            Expr::Row(_, name, attrs, args) => {
                let mut parts: Vec<String> = args.iter().map(|a| a.display(names)).collect();
                if !attrs.is_empty() {
                    parts.push(attrs.clone());
                }
                format!("{name}({})", parts.join(", "))
            }
        }
    }

    /// True when the expression uses a whole-series function anywhere.
    pub fn has_series_fn(&self) -> bool {
        self.any_series_fn(&|_| true)
    }

    /// True when the expression uses a whole-series function for which `pred` holds.
    pub fn any_series_fn(&self, pred: &dyn Fn(&SeriesFn) -> bool) -> bool {
        match self {
            Expr::Series(f, _, _, e) => pred(f) || e.any_series_fn(pred),
            Expr::Time | Expr::Input(_) | Expr::Const(..) | Expr::Null => false,
            Expr::Neg(e) | Expr::Not(e) | Expr::Math(_, _, e) | Expr::Cast(e, _) => {
                e.any_series_fn(pred)
            }
            Expr::IsNull { expr, .. }
            | Expr::In { expr, .. }
            | Expr::Like { expr, .. }
            | Expr::Regexp { expr, .. } => expr.any_series_fn(pred),
            Expr::Arith(_, l, r) | Expr::Cmp(_, l, r) | Expr::And(l, r) | Expr::Or(l, r) => {
                l.any_series_fn(pred) || r.any_series_fn(pred)
            }
            Expr::Between {
                expr, low, high, ..
            } => expr.any_series_fn(pred) || low.any_series_fn(pred) || high.any_series_fn(pred),
            Expr::Row(_, _, _, args) => args.iter().any(|a| a.any_series_fn(pred)),
        }
    }

    /// The indices of the inputs the expression reads.
    pub fn inputs(&self, out: &mut Vec<usize>) {
        match self {
            Expr::Input(i) => out.push(*i),
            Expr::Time | Expr::Const(..) | Expr::Null => {}
            Expr::Neg(e)
            | Expr::Not(e)
            | Expr::Math(_, _, e)
            | Expr::Cast(e, _)
            | Expr::Series(_, _, _, e) => e.inputs(out),
            Expr::Row(_, _, _, args) => {
                for a in args {
                    a.inputs(out);
                }
            }
            Expr::IsNull { expr, .. }
            | Expr::In { expr, .. }
            | Expr::Like { expr, .. }
            | Expr::Regexp { expr, .. } => expr.inputs(out),
            Expr::Arith(_, l, r) | Expr::Cmp(_, l, r) | Expr::And(l, r) | Expr::Or(l, r) => {
                l.inputs(out);
                r.inputs(out);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                expr.inputs(out);
                low.inputs(out);
                high.inputs(out);
            }
        }
    }

    /// Checks operand types like IoTDB's analyzer and returns the result type
    /// (`None` for the null literal). `names` are used in error messages.
    pub fn check_type(&self, types: &[TSDataType], names: &[String]) -> Result<Option<TSDataType>> {
        use TSDataType as T;
        Ok(match self {
            Expr::Time => Some(T::Int64),
            Expr::Input(i) => Some(
                *types
                    .get(*i)
                    .ok_or_else(|| Error::internal(format!("expression input {i} out of range")))?,
            ),
            Expr::Const(v, _) => Some(v.data_type()),
            Expr::Null => None,
            Expr::Neg(e) => {
                let t = e.check_type(types, names)?;
                expect_type(&e.display(names), t, &NUMERIC)?;
                t
            }
            Expr::Not(e) => {
                let t = e.check_type(types, names)?;
                expect_type(&e.display(names), t, &[T::Boolean])?;
                Some(T::Boolean)
            }
            Expr::Arith(_, l, r) => {
                let lt = l.check_type(types, names)?;
                expect_type(&l.display(names), lt, &NUMERIC)?;
                let rt = r.check_type(types, names)?;
                expect_type(&r.display(names), rt, &NUMERIC)?;
                Some(T::Double)
            }
            Expr::And(l, r) | Expr::Or(l, r) => {
                let lt = l.check_type(types, names)?;
                expect_type(&l.display(names), lt, &[T::Boolean])?;
                let rt = r.check_type(types, names)?;
                expect_type(&r.display(names), rt, &[T::Boolean])?;
                Some(T::Boolean)
            }
            Expr::Cmp(_, l, r) => {
                let lt = l.check_type(types, names)?;
                let rt = r.check_type(types, names)?;
                check_comparable(l, lt, r, rt, names)?;
                Some(T::Boolean)
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                let t = expr.check_type(types, names)?;
                let lt = low.check_type(types, names)?;
                let ht = high.check_type(types, names)?;
                check_comparable(expr, t, low, lt, names)?;
                check_comparable(expr, t, high, ht, names)?;
                Some(T::Boolean)
            }
            Expr::In { expr, list, .. } => {
                let t = expr.check_type(types, names)?;
                if let Some(t) = t {
                    for v in list {
                        parse_literal_as(v, t)?;
                    }
                }
                Some(T::Boolean)
            }
            Expr::IsNull { expr, .. } => {
                expr.check_type(types, names)?;
                Some(T::Boolean)
            }
            Expr::Like { expr, .. } | Expr::Regexp { expr, .. } => {
                let t = expr.check_type(types, names)?;
                expect_type(&expr.display(names), t, &[T::Text])?;
                Some(T::Boolean)
            }
            Expr::Math(f, _, e) => {
                let t = e.check_type(types, names)?;
                expect_type(&e.display(names), t, &NUMERIC)?;
                match f {
                    MathFn::Abs => t,
                    _ => Some(T::Double),
                }
            }
            Expr::Series(f, _, _, arg) => {
                let t = arg.check_type(types, names)?;
                if let Some(bad) = t.filter(|t| !f.accepts(*t)) {
                    if !matches!(**f, SeriesFn::TopK(_) | SeriesFn::BottomK(_)) {
                        expect_type(&arg.display(names), t, &NUMERIC)?;
                    }
                    return Err(Error::Semantic(format!(
                        "the data type of the input series (index: 0) is not valid. actual: {}.",
                        bad.name()
                    )));
                }
                t.map(|t| f.output_type(t))
            }
            Expr::Row(f, _, _, args) => {
                for a in args {
                    let t = a.check_type(types, names)?;
                    if let Some(allowed) = f.input_types() {
                        expect_type(&a.display(names), t, allowed)?;
                    }
                }
                Some(f.output_type())
            }
            Expr::Cast(e, t) => {
                e.check_type(types, names)?;
                if !t.is_v1() {
                    return Err(Error::Semantic(format!(
                        "Unsupported target data type of CAST: {}",
                        t.name()
                    )));
                }
                Some(*t)
            }
        })
    }

    /// Evaluates the expression on every row of `chunk`; the result has `chunk.len()` positions.
    pub fn eval(&self, chunk: &Chunk) -> Result<Column> {
        let n = chunk.len();
        Ok(match self {
            Expr::Time => Column::new(ColumnData::Int64(chunk.times.clone())),
            Expr::Input(i) => chunk
                .columns
                .get(*i)
                .cloned()
                .ok_or_else(|| Error::internal(format!("expression input {i} out of range")))?,
            Expr::Const(v, _) => broadcast(v, n),
            Expr::Null => all_null(TSDataType::Boolean, n),
            Expr::Neg(e) => negate(&e.eval(chunk)?),
            Expr::Not(e) => {
                let c = e.eval(chunk)?;
                let ColumnData::Boolean(v) = &c.data else {
                    return Ok(all_null(TSDataType::Boolean, n));
                };
                Column {
                    data: ColumnData::Boolean(v.iter().map(|b| !b).collect()),
                    nulls: c.nulls,
                }
            }
            Expr::Arith(op, l, r) => arith(*op, &l.eval(chunk)?, &r.eval(chunk)?),
            Expr::Cmp(op, l, r) => match (&**l, &**r) {
                // a series against a constant: compared in place, nothing broadcast or copied
                (Expr::Input(i), Expr::Const(v, _)) | (Expr::Const(v, _), Expr::Input(i)) => {
                    let flipped = matches!(&**l, Expr::Const(..));
                    match chunk
                        .columns
                        .get(*i)
                        .and_then(|c| compare_const(*op, c, v, flipped))
                    {
                        Some(c) => c,
                        None => compare(*op, &l.eval(chunk)?, &r.eval(chunk)?)?,
                    }
                }
                _ => compare(*op, &l.eval(chunk)?, &r.eval(chunk)?)?,
            },
            Expr::And(l, r) => logic(true, &l.eval(chunk)?, &r.eval(chunk)?),
            Expr::Or(l, r) => logic(false, &l.eval(chunk)?, &r.eval(chunk)?),
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let e = expr.eval(chunk)?;
                let lo = compare(CmpOp::Ge, &e, &low.eval(chunk)?)?;
                let hi = compare(CmpOp::Le, &e, &high.eval(chunk)?)?;
                let both = logic(true, &lo, &hi);
                if *negated {
                    not(both)
                } else {
                    both
                }
            }
            Expr::In {
                expr,
                list,
                negated,
            } => {
                let e = expr.eval(chunk)?;
                let t = e.data.data_type();
                let values: Vec<Value> = list
                    .iter()
                    .filter_map(|s| parse_literal_as(s, t).ok())
                    .collect();
                let mut out = Vec::with_capacity(n);
                for i in 0..n {
                    let hit = e
                        .value(i)
                        .is_some_and(|v| values.iter().any(|x| values_equal(x, &v)));
                    out.push(hit != *negated);
                }
                Column {
                    data: ColumnData::Boolean(out),
                    nulls: e.nulls.clone(),
                }
            }
            Expr::IsNull { expr, negated } => {
                let e = expr.eval(chunk)?;
                let v = (0..n).map(|i| e.is_null(i) != *negated).collect();
                Column::new(ColumnData::Boolean(v))
            }
            Expr::Like { expr, re, negated }
            | Expr::Regexp {
                expr, re, negated, ..
            } => {
                let e = expr.eval(chunk)?;
                let ColumnData::Binary(v) = &e.data else {
                    return Ok(all_null(TSDataType::Boolean, n));
                };
                let out = v
                    .iter()
                    .map(|b| re.is_match(&String::from_utf8_lossy(b)) != *negated)
                    .collect();
                Column {
                    data: ColumnData::Boolean(out),
                    nulls: e.nulls.clone(),
                }
            }
            Expr::Math(f, _, e) => math(*f, &e.eval(chunk)?),
            Expr::Cast(e, t) => cast(&e.eval(chunk)?, *t)?,
            Expr::Series(f, _, _, arg) => {
                let x = arg.eval(chunk)?;
                let out = f.output_type(x.data.data_type());
                f.eval(&chunk.times, &x, out)?
            }
            Expr::Row(f, _, _, args) => {
                let cols = args
                    .iter()
                    .map(|a| a.eval(chunk))
                    .collect::<Result<Vec<_>>>()?;
                f.eval(&cols, n)?
            }
        })
    }
}

fn check_comparable(
    l: &Expr,
    lt: Option<TSDataType>,
    r: &Expr,
    rt: Option<TSDataType>,
    names: &[String],
) -> Result<()> {
    use TSDataType as T;
    let (Some(a), Some(b)) = (lt, rt) else {
        return Ok(());
    };
    let (pa, pb) = (a.physical(), b.physical());
    if pa == pb {
        return Ok(());
    }
    let allowed: &[T] = if pa == T::Boolean || pb == T::Boolean {
        &[T::Boolean]
    } else if pa == T::Text || pb == T::Text {
        &[T::Text]
    } else {
        &NUMERIC
    };
    expect_type(&l.display(names), lt, allowed)?;
    expect_type(&r.display(names), rt, allowed)
}

/// Parses a literal text (as written in SQL, quotes already removed) as a value of `t`.
pub fn parse_literal_as(text: &str, t: TSDataType) -> Result<Value> {
    Value::parse_as(text, t)
        .map_err(|_| Error::Semantic(format!("Invalid value {text} for data type {}", t.name())))
}

fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Text(x), Value::Text(y)) => x == y,
        (Value::Boolean(x), Value::Boolean(y)) => x == y,
        _ => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

/// A column of `n` copies of `v`.
pub fn broadcast(v: &Value, n: usize) -> Column {
    Column::new(match v {
        Value::Boolean(x) => ColumnData::Boolean(vec![*x; n]),
        Value::Int32(x) => ColumnData::Int32(vec![*x; n]),
        Value::Int64(x) => ColumnData::Int64(vec![*x; n]),
        Value::Float(x) => ColumnData::Float(vec![*x; n]),
        Value::Double(x) => ColumnData::Double(vec![*x; n]),
        Value::Text(x) => ColumnData::Binary(vec![x.clone(); n]),
    })
}

/// A column of `n` nulls of type `t`.
pub fn all_null(t: TSDataType, n: usize) -> Column {
    let mut data = ColumnData::with_capacity(t, n);
    let mut bm = Bitmap::new(n);
    for i in 0..n {
        data.push_placeholder();
        bm.set(i);
    }
    Column {
        data,
        nulls: Some(bm),
    }
}

fn union_nulls(a: &Column, b: &Column, n: usize) -> Option<Bitmap> {
    match (&a.nulls, &b.nulls) {
        (None, None) => None,
        _ => {
            let mut bm = Bitmap::new(n);
            for i in 0..n {
                if a.is_null(i) || b.is_null(i) {
                    bm.set(i);
                }
            }
            Some(bm)
        }
    }
}

/// The column's values as f64 (None if not numeric).
pub fn as_f64s(c: &ColumnData) -> Option<Vec<f64>> {
    Some(match c {
        ColumnData::Int32(v) => v.iter().map(|&x| x as f64).collect(),
        ColumnData::Int64(v) => v.iter().map(|&x| x as f64).collect(),
        ColumnData::Float(v) => v.iter().map(|&x| x as f64).collect(),
        ColumnData::Double(v) => v.clone(),
        _ => return None,
    })
}

fn as_i64s(c: &ColumnData) -> Option<Vec<i64>> {
    Some(match c {
        ColumnData::Int32(v) => v.iter().map(|&x| x as i64).collect(),
        ColumnData::Int64(v) => v.clone(),
        _ => return None,
    })
}

fn arith(op: ArithOp, a: &Column, b: &Column) -> Column {
    let n = a.len().min(b.len());
    let (Some(x), Some(y)) = (as_f64s(&a.data), as_f64s(&b.data)) else {
        return all_null(TSDataType::Double, n);
    };
    let f = match op {
        ArithOp::Add => |p: f64, q: f64| p + q,
        ArithOp::Sub => |p: f64, q: f64| p - q,
        ArithOp::Mul => |p: f64, q: f64| p * q,
        ArithOp::Div => |p: f64, q: f64| p / q,
        ArithOp::Mod => |p: f64, q: f64| p % q,
    };
    let out: Vec<f64> = x.iter().zip(&y).map(|(&p, &q)| f(p, q)).collect();
    Column {
        data: ColumnData::Double(out),
        nulls: union_nulls(a, b, n),
    }
}

fn negate(c: &Column) -> Column {
    let data = match &c.data {
        ColumnData::Int32(v) => ColumnData::Int32(v.iter().map(|x| x.wrapping_neg()).collect()),
        ColumnData::Int64(v) => ColumnData::Int64(v.iter().map(|x| x.wrapping_neg()).collect()),
        ColumnData::Float(v) => ColumnData::Float(v.iter().map(|x| -x).collect()),
        ColumnData::Double(v) => ColumnData::Double(v.iter().map(|x| -x).collect()),
        _ => return all_null(TSDataType::Double, c.len()),
    };
    Column {
        data,
        nulls: c.nulls.clone(),
    }
}

fn math(f: MathFn, c: &Column) -> Column {
    // abs keeps the input type; sign, like the rest, answers DOUBLE.
    let keep_type = f == MathFn::Abs;
    let data = match (&c.data, keep_type) {
        (ColumnData::Int32(v), true) => {
            ColumnData::Int32(v.iter().map(|&x| x.wrapping_abs()).collect())
        }
        (ColumnData::Int64(v), true) => {
            ColumnData::Int64(v.iter().map(|&x| x.wrapping_abs()).collect())
        }
        (ColumnData::Float(v), true) => {
            ColumnData::Float(v.iter().map(|&x| f.apply(x as f64) as f32).collect())
        }
        (data, _) => match as_f64s(data) {
            Some(v) => ColumnData::Double(v.into_iter().map(|x| f.apply(x)).collect()),
            None => return all_null(TSDataType::Double, c.len()),
        },
    };
    Column {
        data,
        nulls: c.nulls.clone(),
    }
}

fn compare(op: CmpOp, a: &Column, b: &Column) -> Result<Column> {
    let n = a.len().min(b.len());
    let out: Vec<bool> = match (&a.data, &b.data) {
        (ColumnData::Boolean(x), ColumnData::Boolean(y)) => {
            x.iter().zip(y).map(|(p, q)| op.test(p.cmp(q))).collect()
        }
        (ColumnData::Binary(x), ColumnData::Binary(y)) => {
            x.iter().zip(y).map(|(p, q)| op.test(p.cmp(q))).collect()
        }
        (l, r) => {
            if let (Some(x), Some(y)) = (as_i64s(l), as_i64s(r)) {
                x.iter().zip(&y).map(|(p, q)| op.test(p.cmp(q))).collect()
            } else if let (Some(x), Some(y)) = (as_f64s(l), as_f64s(r)) {
                // Java's Double.compare-free primitive comparison: NaN compares false.
                x.iter()
                    .zip(&y)
                    .map(|(p, q)| {
                        p.partial_cmp(q).is_some_and(|o| op.test(o))
                            || (op == CmpOp::Ne && (p.is_nan() || q.is_nan()))
                    })
                    .collect()
            } else if a.nulls.as_ref().is_some_and(|m| m.count() == n)
                || b.nulls.as_ref().is_some_and(|m| m.count() == n)
            {
                return Ok(all_null(TSDataType::Boolean, n));
            } else {
                return Err(Error::Semantic(format!(
                    "Cannot compare {} with {}",
                    l.data_type().name(),
                    r.data_type().name()
                )));
            }
        }
    };
    Ok(Column {
        data: ColumnData::Boolean(out),
        nulls: union_nulls(a, b, n),
    })
}

/// `col op v` (`v op col` when `flipped`) for a numeric column and a numeric constant,
/// answering as [`compare`] does on the broadcast constant (integers compared exactly,
/// otherwise as doubles where NaN is only unequal), without copying the column; `None`
/// for the other combinations.
fn compare_const(op: CmpOp, col: &Column, v: &Value, flipped: bool) -> Option<Column> {
    Some(Column {
        data: ColumnData::Boolean(compare_const_values(op, &col.data, v, flipped)?),
        nulls: col.nulls.clone(),
    })
}

/// [`compare_const`] of the values alone (null marks are the caller's).
pub(crate) fn compare_const_values(
    op: CmpOp,
    data: &ColumnData,
    v: &Value,
    flipped: bool,
) -> Option<Vec<bool>> {
    let op = if flipped { op.flip() } else { op };
    let int = match v {
        Value::Int32(x) => Some(*x as i64),
        Value::Int64(x) => Some(*x),
        Value::Float(_) | Value::Double(_) => None,
        _ => return None,
    };
    let k = v.as_f64()?;
    // IEEE comparisons are what `compare` answers on doubles: NaN is only unequal
    Some(match (data, int) {
        (ColumnData::Int32(c), Some(k)) => compare_all(c, |x| x as i64, k, op),
        (ColumnData::Int64(c), Some(k)) => compare_all(c, |x| x, k, op),
        (ColumnData::Int32(c), None) => compare_all(c, |x| x as f64, k, op),
        (ColumnData::Int64(c), None) => compare_all(c, |x| x as f64, k, op),
        (ColumnData::Float(c), _) => compare_all(c, |x| x as f64, k, op),
        (ColumnData::Double(c), _) => compare_all(c, |x| x, k, op),
        _ => return None,
    })
}

/// `conv(x) op k` for every `x` of `v`, one loop per operator (vectorizable).
fn compare_all<T: Copy, U: PartialOrd + Copy>(
    v: &[T],
    conv: impl Fn(T) -> U,
    k: U,
    op: CmpOp,
) -> Vec<bool> {
    let it = v.iter().map(|&x| conv(x));
    match op {
        CmpOp::Eq => it.map(|x| x == k).collect(),
        CmpOp::Ne => it.map(|x| x != k).collect(),
        CmpOp::Lt => it.map(|x| x < k).collect(),
        CmpOp::Le => it.map(|x| x <= k).collect(),
        CmpOp::Gt => it.map(|x| x > k).collect(),
        CmpOp::Ge => it.map(|x| x >= k).collect(),
    }
}

/// Three-valued AND (`is_and`) / OR: false AND null = false, true OR null = true.
fn logic(is_and: bool, a: &Column, b: &Column) -> Column {
    let n = a.len().min(b.len());
    let get = |c: &Column, i: usize| -> Option<bool> {
        match &c.data {
            ColumnData::Boolean(v) if !c.is_null(i) => v.get(i).copied(),
            _ => None,
        }
    };
    let mut out = Vec::with_capacity(n);
    let mut nulls = Bitmap::new(n);
    let mut any_null = false;
    for i in 0..n {
        let r = match (get(a, i), get(b, i), is_and) {
            (Some(false), _, true) | (_, Some(false), true) => Some(false),
            (Some(true), Some(true), true) => Some(true),
            (Some(true), _, false) | (_, Some(true), false) => Some(true),
            (Some(false), Some(false), false) => Some(false),
            _ => None,
        };
        match r {
            Some(v) => out.push(v),
            None => {
                out.push(false);
                nulls.set(i);
                any_null = true;
            }
        }
    }
    Column {
        data: ColumnData::Boolean(out),
        nulls: any_null.then_some(nulls),
    }
}

fn not(c: Column) -> Column {
    match c.data {
        ColumnData::Boolean(v) => Column {
            data: ColumnData::Boolean(v.into_iter().map(|b| !b).collect()),
            nulls: c.nulls,
        },
        other => Column {
            data: other,
            nulls: c.nulls,
        },
    }
}

/// Java `Math.round`: the closest integer, halves rounded up (`floor(x + 0.5)`).
fn java_round(x: f64) -> f64 {
    (x + 0.5).floor()
}

/// Converts one value like IoTDB's CAST: floating point to integer with Java `Math.round`
/// (saturating, NaN → 0), booleans as 1/0 and ≠ 0, text parsed (an error when it does not
/// parse) or rendered.
pub fn cast_value(v: &Value, t: TSDataType) -> Result<Value> {
    use TSDataType as T;
    let bad = || {
        let shown = v.to_iotdb_string();
        Error::Semantic(if t == T::Boolean {
            format!("Invalid text input for boolean type: {shown}")
        } else {
            format!("Cannot cast {shown} to {} type", t.name())
        })
    };
    let num = |x: f64| -> Value {
        match t {
            T::Int32 => Value::Int32(java_round(x) as i32),
            T::Int64 => Value::Int64(java_round(x) as i64),
            T::Float => Value::Float(x as f32),
            _ => Value::Double(x),
        }
    };
    Ok(match (v, t.physical()) {
        (v, T::Text) => Value::Text(v.to_iotdb_string().into_bytes()),
        (Value::Boolean(b), T::Boolean) => Value::Boolean(*b),
        (Value::Boolean(b), _) => num(if *b { 1.0 } else { 0.0 }),
        (Value::Int32(x), T::Boolean) => Value::Boolean(*x != 0),
        (Value::Int64(x), T::Boolean) => Value::Boolean(*x != 0),
        (Value::Float(x), T::Boolean) => Value::Boolean(*x != 0.0),
        (Value::Double(x), T::Boolean) => Value::Boolean(*x != 0.0),
        (Value::Int32(x), _) => match t {
            T::Int64 => Value::Int64(*x as i64),
            _ => num(*x as f64),
        },
        (Value::Int64(x), _) => match t {
            T::Int32 => Value::Int32(*x as i32),
            T::Int64 => Value::Int64(*x),
            _ => num(*x as f64),
        },
        (Value::Float(x), _) => num(*x as f64),
        (Value::Double(x), _) => num(*x),
        (Value::Text(b), T::Boolean) => {
            match String::from_utf8_lossy(b)
                .trim()
                .to_ascii_lowercase()
                .as_str()
            {
                "true" => Value::Boolean(true),
                "false" => Value::Boolean(false),
                _ => return Err(bad()),
            }
        }
        (Value::Text(b), _) => {
            Value::parse_as(String::from_utf8_lossy(b).trim(), t).map_err(|_| bad())?
        }
    })
}

fn cast(c: &Column, t: TSDataType) -> Result<Column> {
    let mut b = crate::result::ColumnBuilder::new(t, c.len());
    for i in 0..c.len() {
        match c.value(i) {
            Some(v) => b.push(Some(&cast_value(&v, t)?)),
            None => b.push_null(),
        }
    }
    Ok(b.finish())
}

/// Row indices where a predicate column is true (null counts as false).
pub fn selected_rows(pred: &Column) -> Vec<usize> {
    match &pred.data {
        ColumnData::Boolean(v) => v
            .iter()
            .enumerate()
            .filter(|(i, b)| **b && !pred.is_null(*i))
            .map(|(i, _)| i)
            .collect(),
        _ => Vec::new(),
    }
}

/// Per row of `n`, whether `pred` (a BOOLEAN column) selects it: true and not null, as
/// [`selected_rows`] selects them (rows past the column are not selected).
pub fn selected_mask(pred: &Column, n: usize) -> std::borrow::Cow<'_, [bool]> {
    match (&pred.data, &pred.nulls) {
        (ColumnData::Boolean(v), None) if v.len() >= n => (&v[..n]).into(),
        (ColumnData::Boolean(v), _) => (0..n)
            .map(|i| v.get(i).copied().unwrap_or(false) && !pred.is_null(i))
            .collect::<Vec<bool>>()
            .into(),
        _ => vec![false; n].into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk() -> Chunk {
        // s0: INT32 [1, null, 3]; s1: DOUBLE [0.5, 2.5, null]; s2: TEXT ["abc", "xbz", "a_c"]
        let mut n0 = Bitmap::new(3);
        n0.set(1);
        let mut n1 = Bitmap::new(3);
        n1.set(2);
        Chunk {
            times: vec![10, 20, 30],
            columns: vec![
                Column {
                    data: ColumnData::Int32(vec![1, 0, 3]),
                    nulls: Some(n0),
                },
                Column {
                    data: ColumnData::Double(vec![0.5, 2.5, 0.0]),
                    nulls: Some(n1),
                },
                Column::new(ColumnData::Binary(vec![
                    b"abc".to_vec(),
                    b"xbz".to_vec(),
                    b"a_c".to_vec(),
                ])),
            ],
        }
    }

    fn names() -> Vec<String> {
        vec![
            "root.sg.d.a".into(),
            "root.sg.d.b".into(),
            "root.sg.d.t".into(),
        ]
    }

    fn i(n: usize) -> Expr {
        Expr::Input(n)
    }

    fn c(v: Value, s: &str) -> Expr {
        Expr::Const(v, s.into())
    }

    fn vals(col: &Column) -> Vec<Option<Value>> {
        (0..col.len()).map(|r| col.value(r)).collect()
    }

    #[test]
    fn arithmetic_is_double_and_null_propagating() {
        let e = Expr::arith(ArithOp::Add, i(0), i(1));
        let t = e.check_type(
            &[TSDataType::Int32, TSDataType::Double, TSDataType::Text],
            &names(),
        );
        assert_eq!(t.unwrap(), Some(TSDataType::Double));
        let col = e.eval(&chunk()).unwrap();
        assert_eq!(vals(&col), vec![Some(Value::Double(1.5)), None, None]);
        let m = Expr::arith(
            ArithOp::Mod,
            c(Value::Int64(7), "7"),
            c(Value::Int64(-3), "-3"),
        );
        assert_eq!(m.eval(&chunk()).unwrap().value(0), Some(Value::Double(1.0)));
    }

    #[test]
    fn headers_parenthesise_nested_binaries() {
        let e = Expr::arith(
            ArithOp::Mul,
            Expr::arith(ArithOp::Add, i(0), i(1)),
            c(Value::Int64(3), "3"),
        );
        assert_eq!(e.display(&names()), "(root.sg.d.a + root.sg.d.b) * 3");
        let n = Expr::Neg(Box::new(Expr::arith(ArithOp::Add, i(0), i(1))));
        assert_eq!(n.display(&names()), "-(root.sg.d.a + root.sg.d.b)");
        assert_eq!(Expr::Neg(Box::new(i(0))).display(&names()), "-root.sg.d.a");
        let a = Expr::And(
            Box::new(Expr::cmp(CmpOp::Gt, i(0), c(Value::Int64(1), "1"))),
            Box::new(Expr::IsNull {
                expr: Box::new(i(1)),
                negated: true,
            }),
        );
        assert_eq!(
            a.display(&names()),
            "(root.sg.d.a > 1) & root.sg.d.b IS NOT NULL"
        );
    }

    #[test]
    fn comparisons_and_three_valued_logic() {
        let gt = Expr::cmp(CmpOp::Gt, i(0), c(Value::Int64(1), "1"));
        assert_eq!(
            vals(&gt.eval(&chunk()).unwrap()),
            vec![
                Some(Value::Boolean(false)),
                None,
                Some(Value::Boolean(true))
            ]
        );
        let lt = Expr::cmp(CmpOp::Lt, i(1), c(Value::Double(1.0), "1.0"));
        let or = Expr::Or(Box::new(gt.clone()), Box::new(lt.clone()));
        let col = or.eval(&chunk()).unwrap();
        // row0: false|true = true; row1: null|false = null; row2: true|null = true
        assert_eq!(selected_rows(&col), vec![0, 2]);
        let and = Expr::And(Box::new(gt), Box::new(lt));
        let col = and.eval(&chunk()).unwrap();
        assert_eq!(
            vals(&col),
            vec![
                Some(Value::Boolean(false)),
                Some(Value::Boolean(false)),
                None
            ]
        );
    }

    #[test]
    fn type_errors_use_iotdb_message() {
        let e = Expr::arith(ArithOp::Add, i(2), c(Value::Int64(1), "1"));
        let err = e
            .check_type(
                &[TSDataType::Int32, TSDataType::Double, TSDataType::Text],
                &names(),
            )
            .unwrap_err();
        assert!(err.to_string().starts_with(
            "Invalid input expression data type. expression: root.sg.d.t, actual data type: TEXT"
        ));
        let cmp = Expr::cmp(CmpOp::Eq, i(2), c(Value::Int64(1), "1"));
        assert!(cmp
            .check_type(
                &[TSDataType::Int32, TSDataType::Double, TSDataType::Text],
                &names()
            )
            .is_err());
    }

    #[test]
    fn like_regexp_in_between_isnull() {
        let like = Expr::Like {
            expr: Box::new(i(2)),
            re: like_to_regex("a\\_%").unwrap(),
            negated: false,
        };
        assert_eq!(selected_rows(&like.eval(&chunk()).unwrap()), vec![2]);
        let like2 = Expr::Like {
            expr: Box::new(i(2)),
            re: like_to_regex("_b%").unwrap(),
            negated: false,
        };
        assert_eq!(selected_rows(&like2.eval(&chunk()).unwrap()), vec![0, 1]);
        let re = Expr::Regexp {
            expr: Box::new(i(2)),
            re: compile_regexp("b.").unwrap(),
            text: "b.".into(),
            negated: false,
        };
        assert_eq!(selected_rows(&re.eval(&chunk()).unwrap()), vec![0, 1]);
        let inn = Expr::In {
            expr: Box::new(i(0)),
            list: vec!["3".into(), "5".into()],
            negated: false,
        };
        assert_eq!(selected_rows(&inn.eval(&chunk()).unwrap()), vec![2]);
        assert_eq!(inn.display(&names()), "root.sg.d.a IN (3,5)");
        let btw = Expr::Between {
            expr: Box::new(Expr::Time),
            low: Box::new(c(Value::Int64(15), "15")),
            high: Box::new(c(Value::Int64(30), "30")),
            negated: true,
        };
        assert_eq!(selected_rows(&btw.eval(&chunk()).unwrap()), vec![0]);
        let isn = Expr::IsNull {
            expr: Box::new(i(0)),
            negated: false,
        };
        assert_eq!(selected_rows(&isn.eval(&chunk()).unwrap()), vec![1]);
    }

    #[test]
    fn casts_follow_java_rules() {
        assert_eq!(
            cast_value(&Value::Double(-2.7), TSDataType::Int32).unwrap(),
            Value::Int32(-3)
        );
        assert_eq!(
            cast_value(&Value::Double(-3.5), TSDataType::Int32).unwrap(),
            Value::Int32(-3)
        );
        assert_eq!(
            cast_value(&Value::Float(2.5), TSDataType::Int64).unwrap(),
            Value::Int64(3)
        );
        assert_eq!(
            cast_value(&Value::Double(f64::NAN), TSDataType::Int64).unwrap(),
            Value::Int64(0)
        );
        assert_eq!(
            cast_value(&Value::Double(1e300), TSDataType::Int32).unwrap(),
            Value::Int32(i32::MAX)
        );
        assert_eq!(
            cast_value(&Value::Boolean(true), TSDataType::Double).unwrap(),
            Value::Double(1.0)
        );
        assert_eq!(
            cast_value(&Value::Int32(0), TSDataType::Boolean).unwrap(),
            Value::Boolean(false)
        );
        assert_eq!(
            cast_value(&Value::Float(1.5), TSDataType::Text).unwrap(),
            Value::Text(b"1.5".to_vec())
        );
        assert_eq!(
            cast_value(&Value::Text(b" 42 ".to_vec()), TSDataType::Int64).unwrap(),
            Value::Int64(42)
        );
        assert!(cast_value(&Value::Text(b"x".to_vec()), TSDataType::Int32).is_err());
        assert!(cast_value(&Value::Text(b"maybe".to_vec()), TSDataType::Boolean).is_err());
        let e = Expr::Cast(Box::new(i(0)), TSDataType::Text);
        let col = e.eval(&chunk()).unwrap();
        assert_eq!(
            vals(&col),
            vec![
                Some(Value::Text(b"1".to_vec())),
                None,
                Some(Value::Text(b"3".to_vec()))
            ]
        );
    }

    #[test]
    fn negation_and_math_keep_or_change_types() {
        let n = Expr::Neg(Box::new(i(0)));
        assert_eq!(n.eval(&chunk()).unwrap().value(0), Some(Value::Int32(-1)));
        let a = Expr::Math(MathFn::Abs, "ABS".into(), Box::new(n));
        assert_eq!(a.eval(&chunk()).unwrap().value(2), Some(Value::Int32(3)));
        assert_eq!(a.display(&names()), "ABS(-root.sg.d.a)");
        let s = Expr::Math(MathFn::Sqrt, "sqrt".into(), Box::new(i(0)));
        assert_eq!(
            s.check_type(&[TSDataType::Int32], &names()).unwrap(),
            Some(TSDataType::Double)
        );
        assert_eq!(s.eval(&chunk()).unwrap().value(0), Some(Value::Double(1.0)));
    }

    proptest::proptest! {
        /// A series compared in place with a constant answers as the general comparison
        /// of the broadcast constant does, for every numeric type pairing and operator.
        #[test]
        fn constant_comparison_matches_the_general_one(
            raw in proptest::collection::vec(-3i64..4, 0..12),
            null_at in proptest::collection::vec(proptest::bool::ANY, 12),
            ty in 0usize..4, kty in 0usize..4, k in -3i64..4, op in 0usize..6, nan in proptest::bool::ANY,
        ) {
            let data = match ty {
                0 => ColumnData::Int32(raw.iter().map(|&x| x as i32).collect()),
                1 => ColumnData::Int64(raw.clone()),
                2 => ColumnData::Float(raw.iter().map(|&x| x as f32 / 2.0).collect()),
                _ => ColumnData::Double(
                    raw.iter().map(|&x| if nan && x == 0 { f64::NAN } else { x as f64 / 2.0 }).collect(),
                ),
            };
            let mut nulls = Bitmap::new(raw.len());
            for i in (0..raw.len()).filter(|&i| null_at[i]) {
                nulls.set(i);
            }
            let col = Column { data, nulls: null_at.iter().take(raw.len()).any(|&b| b).then_some(nulls) };
            let v = match kty {
                0 => Value::Int32(k as i32),
                1 => Value::Int64(k),
                2 => Value::Float(k as f32 / 2.0),
                _ => Value::Double(k as f64 / 2.0),
            };
            let op = [CmpOp::Eq, CmpOp::Ne, CmpOp::Lt, CmpOp::Le, CmpOp::Gt, CmpOp::Ge][op];
            let chunk = Chunk { times: (0..raw.len() as i64).collect(), columns: vec![col] };
            let konst = Expr::Const(v, "k".into());
            for (l, r) in [(Expr::Input(0), konst.clone()), (konst.clone(), Expr::Input(0))] {
                let fast = Expr::Cmp(op, Box::new(l.clone()), Box::new(r.clone())).eval(&chunk).unwrap();
                let slow = compare(op, &l.eval(&chunk).unwrap(), &r.eval(&chunk).unwrap()).unwrap();
                let rows = |c: &Column| (0..c.len()).map(|i| (!c.is_null(i)).then(|| c.data.get(i))).collect::<Vec<_>>();
                proptest::prop_assert_eq!(rows(&fast), rows(&slow));
            }
        }
    }
}
