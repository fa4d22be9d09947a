//! IoTDB's text form of expressions, used as result column headers.
//!
//! Rules (IoTDB 1.0 `Expression#getExpressionString`):
//! * paths print their nodes joined with `.`, `time` prints `Time`;
//! * constants print as written; text constants are double-quoted;
//! * `left op right` with a space around the operator; an operand is parenthesised when its
//!   operator binds less tightly than the parent's (`(a + b) * 3`, `a * b + 1`);
//! * `-x` / `!x` for paths, functions and (non-negative) constants, `-(…)` / `!(…)` otherwise;
//!   a unary `+` prints its operand only;
//! * functions print the name as typed, arguments separated by `, `, then `"k"="v"` attributes;
//! * `x IN (a, b)`, `x LIKE 'p'`, `x REGEXP 'p'`, `x IS NULL`, `x BETWEEN a AND b`, each with
//!   `NOT` where negated.

use crate::ast::{BinaryOp, Expression, Literal, PathRef, UnaryOp};
use std::fmt;

/// Binding strength of an expression's top operator (higher binds tighter).
fn priority(e: &Expression) -> u16 {
    match e {
        Expression::Constant(_) => 1400,
        Expression::Time => 1300,
        Expression::Path(_) => 1200,
        Expression::Function { .. } | Expression::Cast { .. } => 1100,
        Expression::Unary {
            op: UnaryOp::Pos,
            expr,
        } => priority(expr),
        Expression::Unary { .. } => 1000,
        Expression::Binary { op, .. } => match op {
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod => 900,
            BinaryOp::Add | BinaryOp::Sub => 800,
            BinaryOp::Eq
            | BinaryOp::NotEq
            | BinaryOp::Lt
            | BinaryOp::LtEq
            | BinaryOp::Gt
            | BinaryOp::GtEq => 600,
            BinaryOp::And => 300,
            BinaryOp::Or => 200,
        },
        Expression::Like { .. } | Expression::Regexp { .. } => 500,
        Expression::IsNull { .. } => 475,
        Expression::Between { .. } => 450,
        Expression::In { .. } => 400,
    }
}

impl BinaryOp {
    /// The operator as IoTDB prints it.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Eq => "=",
            BinaryOp::NotEq => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::LtEq => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::GtEq => ">=",
            BinaryOp::And => "&",
            BinaryOp::Or => "|",
        }
    }
}

/// The raw text of a literal: numbers as written, strings without quotes.
pub fn literal_text(l: &Literal) -> String {
    match l {
        Literal::Integer(v) => v.to_string(),
        Literal::Float(_, text) => text.clone(),
        Literal::Boolean(b) => b.to_string(),
        Literal::String(s) => s.clone(),
        Literal::Null => "null".to_string(),
        Literal::NaN => "NaN".to_string(),
        Literal::DateTime(s) => s.clone(),
        Literal::Now => "now()".to_string(),
        Literal::Duration(ms) => format!("{ms}ms"),
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => write!(f, "\"{s}\""),
            other => f.write_str(&literal_text(other)),
        }
    }
}

impl fmt::Display for PathRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.nodes.join("."))
    }
}

fn is_negative_number(l: &Literal) -> bool {
    match l {
        Literal::Integer(v) => *v < 0,
        Literal::Float(v, _) => *v < 0.0,
        _ => false,
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expression::Time => f.write_str("Time"),
            Expression::Path(p) => p.fmt(f),
            Expression::Constant(l) => l.fmt(f),
            Expression::Unary { op, expr } => {
                let bare = match op {
                    UnaryOp::Pos => return expr.fmt(f),
                    UnaryOp::Neg => match expr.as_ref() {
                        Expression::Path(_) | Expression::Function { .. } => true,
                        Expression::Constant(l) => !is_negative_number(l),
                        _ => false,
                    },
                    UnaryOp::Not => matches!(
                        expr.as_ref(),
                        Expression::Path(_) | Expression::Function { .. } | Expression::Constant(_)
                    ),
                };
                let sym = if *op == UnaryOp::Neg { "-" } else { "!" };
                if bare {
                    write!(f, "{sym}{expr}")
                } else {
                    write!(f, "{sym}({expr})")
                }
            }
            Expression::Binary { op, left, right } => {
                let p = priority(self);
                if priority(left) < p {
                    write!(f, "({left})")?;
                } else {
                    write!(f, "{left}")?;
                }
                write!(f, " {} ", op.symbol())?;
                if priority(right) < p {
                    write!(f, "({right})")
                } else {
                    write!(f, "{right}")
                }
            }
            Expression::Function {
                name,
                args,
                attributes,
            } => {
                write!(f, "{name}(")?;
                let mut first = true;
                for a in args {
                    if !first {
                        f.write_str(", ")?;
                    }
                    first = false;
                    write!(f, "{a}")?;
                }
                for (k, v) in attributes {
                    if !first {
                        f.write_str(", ")?;
                    }
                    first = false;
                    write!(f, "\"{k}\"=\"{v}\"")?;
                }
                f.write_str(")")
            }
            Expression::In {
                expr,
                list,
                negated,
            } => {
                let values: Vec<String> = list.iter().map(literal_text).collect();
                let not = if *negated { " NOT" } else { "" };
                write!(f, "{expr}{not} IN ({})", values.join(", "))
            }
            Expression::Like {
                expr,
                pattern,
                negated,
            } => {
                let not = if *negated { " NOT" } else { "" };
                write!(f, "{expr}{not} LIKE '{pattern}'")
            }
            Expression::Regexp {
                expr,
                pattern,
                negated,
            } => {
                let not = if *negated { " NOT" } else { "" };
                write!(f, "{expr}{not} REGEXP '{pattern}'")
            }
            Expression::IsNull { expr, negated } => {
                let not = if *negated { "NOT " } else { "" };
                write!(f, "{expr} IS {not}NULL")
            }
            Expression::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let not = if *negated { " NOT" } else { "" };
                write!(f, "{expr}{not} BETWEEN {low} AND {high}")
            }
            Expression::Cast { expr, ty } => write!(f, "CAST({expr} AS {ty})"),
        }
    }
}
