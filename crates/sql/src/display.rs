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
        Literal::Binary(b) => {
            let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
            format!("X'{hex}'")
        }
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
        let mut out = String::new();
        push_expr(self, &mut out);
        f.write_str(&out)
    }
}

/// Appends `e` wrapped in parentheses when `wrap`.
fn push_operand(e: &Expression, wrap: bool, out: &mut String) {
    if wrap {
        out.push('(');
        push_expr(e, out);
        out.push(')');
    } else {
        push_expr(e, out);
    }
}

/// Renders `e` into `out`. One small frame per tree level, and deep trees continue on a
/// heap-allocated stack segment, so printing never overflows the caller's stack.
fn push_expr(e: &Expression, out: &mut String) {
    model::stack::deep(|| push_expr_inner(e, out))
}

fn push_expr_inner(e: &Expression, out: &mut String) {
    match e {
        Expression::Time => out.push_str("Time"),
        Expression::Path(p) => {
            for (i, n) in p.nodes.iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(n);
            }
        }
        Expression::Constant(Literal::String(s)) => {
            out.push('"');
            out.push_str(s);
            out.push('"');
        }
        Expression::Constant(l) => out.push_str(&literal_text(l)),
        Expression::Unary { op, expr } => {
            let bare = match op {
                UnaryOp::Pos => return push_expr(expr, out),
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
            out.push(if *op == UnaryOp::Neg { '-' } else { '!' });
            push_operand(expr, !bare, out);
        }
        Expression::Binary { op, left, right } => {
            let p = priority(e);
            push_operand(left, priority(left) < p, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            push_operand(right, priority(right) < p, out);
        }
        // IoTDB 2.0 names `round(x, places)` `ROUND(x,places)` (1.0 had no such form)
        Expression::Function {
            name,
            args,
            attributes,
        } if args.len() == 2 && attributes.is_empty() && name.eq_ignore_ascii_case("round") => {
            out.push_str("ROUND(");
            push_expr(&args[0], out);
            out.push(',');
            push_expr(&args[1], out);
            out.push(')');
        }
        Expression::Function {
            name,
            args,
            attributes,
        } => {
            out.push_str(name);
            out.push('(');
            let mut first = true;
            for a in args {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                push_expr(a, out);
            }
            for (k, v) in attributes {
                if !first {
                    out.push_str(", ");
                }
                first = false;
                out.push('"');
                out.push_str(k);
                out.push_str("\"=\"");
                out.push_str(v);
                out.push('"');
            }
            out.push(')');
        }
        Expression::In {
            expr,
            list,
            negated,
        } => {
            push_expr(expr, out);
            out.push_str(if *negated { " NOT IN (" } else { " IN (" });
            for (i, l) in list.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&literal_text(l));
            }
            out.push(')');
        }
        Expression::Like {
            expr,
            pattern,
            negated,
        }
        | Expression::Regexp {
            expr,
            pattern,
            negated,
        } => {
            push_expr(expr, out);
            if *negated {
                out.push_str(" NOT");
            }
            out.push_str(if matches!(e, Expression::Like { .. }) {
                " LIKE '"
            } else {
                " REGEXP '"
            });
            out.push_str(pattern);
            out.push('\'');
        }
        Expression::IsNull { expr, negated } => {
            push_expr(expr, out);
            out.push_str(if *negated { " IS NOT NULL" } else { " IS NULL" });
        }
        Expression::Between {
            expr,
            low,
            high,
            negated,
        } => {
            push_expr(expr, out);
            out.push_str(if *negated {
                " NOT BETWEEN "
            } else {
                " BETWEEN "
            });
            push_expr(low, out);
            out.push_str(" AND ");
            push_expr(high, out);
        }
        Expression::Cast { expr, ty } => {
            out.push_str("CAST(");
            push_expr(expr, out);
            out.push_str(" AS ");
            out.push_str(ty.name());
            out.push(')');
        }
    }
}
