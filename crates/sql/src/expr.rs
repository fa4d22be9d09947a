//! Expressions, literals and time values (the continuation of the parser in `parser.rs`).
//!
//! Precedence, lowest first (IoTDB 1.0 grammar order): `OR` < `AND` < `[NOT] IN` <
//! `IS [NOT] NULL` < `[NOT] BETWEEN` < `[NOT] LIKE|REGEXP` < comparisons < `+ -` < `* / %` <
//! unary `- + ! NOT` < primaries.

use crate::ast::*;
use crate::lexer::{line_col, Tok};
use crate::parser::{is_number_word, parse_duration, Parser, MAX_DEPTH, MAX_NESTING};
use model::{Error, Result, TSDataType};

/// An expression with the depth of its tree (a leaf is 1).
type Sized = (Expression, usize);

/// An infix or postfix operator and its binding power (higher binds tighter).
#[derive(Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    /// `[NOT] IN (…)` / `[NOT] CONTAINS (…)`; the bool is NOT.
    In(bool),
    /// `IS [NOT] NULL`.
    IsNull,
    /// `[NOT] BETWEEN … AND …`.
    Between(bool),
    /// `[NOT] LIKE '…'` (true) / `[NOT] REGEXP '…'` (false); second bool is NOT.
    Like(bool, bool),
}

const BP_OR: u8 = 1;
const BP_AND: u8 = 2;
const BP_IN: u8 = 3;
const BP_IS_NULL: u8 = 4;
const BP_BETWEEN: u8 = 5;
const BP_LIKE: u8 = 6;
const BP_CMP: u8 = 7;
const BP_ADD: u8 = 8;
const BP_MUL: u8 = 9;

impl<'a> Parser<'a> {
    fn too_deep(&self, cap: usize) -> Error {
        let t = self.token(0);
        let (line, col) = line_col(self.src, t.start);
        Error::SqlParse(format!(
            "line {line}:{col} expression nested too deeply (more than {cap} levels)"
        ))
    }

    /// Checks the depth of a node about to be built.
    fn check_depth(&self, depth: usize) -> Result<usize> {
        if depth > MAX_DEPTH {
            Err(self.too_deep(MAX_DEPTH))
        } else {
            Ok(depth)
        }
    }

    /// Runs `f` one parser recursion level deeper; fails cleanly past [`MAX_NESTING`].
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T>) -> Result<T> {
        if self.nesting >= MAX_NESTING {
            return Err(self.too_deep(MAX_NESTING));
        }
        self.nesting += 1;
        // Unoptimised builds spend >10 KB of stack per nesting level; when less than the red
        // zone is left, continue on a fresh heap-allocated segment instead of overflowing.
        let r = model::stack::deep(|| f(self));
        self.nesting -= 1;
        r
    }

    /// True if the token `n` ahead can begin an operand (so a `not` before it is unary).
    fn operand_at(&self, n: usize) -> bool {
        match self.peek_at(n) {
            Tok::Word(w) => !crate::parser::ends_operand(w),
            Tok::Comma | Tok::RParen | Tok::Eof => false,
            Tok::Eq
            | Tok::DEq
            | Tok::NotEq
            | Tok::Lt
            | Tok::LtEq
            | Tok::Gt
            | Tok::GtEq
            | Tok::And
            | Tok::Or
            | Tok::Star
            | Tok::Div
            | Tok::Mod => false,
            _ => true,
        }
    }

    fn is_not_at(&self, n: usize) -> bool {
        matches!(self.peek_at(n), Tok::Not) || self.is_kw_at(n, "NOT")
    }

    /// A full expression.
    pub(crate) fn expr(&mut self) -> Result<Expression> {
        Ok(self.nested(|p| p.expr_bp(0))?.0)
    }

    /// The operator at the cursor, its binding power and how many tokens it takes.
    fn peek_infix(&self) -> Option<(Infix, u8, usize)> {
        let bin = |op, bp| Some((Infix::Binary(op), bp, 1));
        match self.peek() {
            Tok::Or => return bin(BinaryOp::Or, BP_OR),
            Tok::And => return bin(BinaryOp::And, BP_AND),
            Tok::Eq | Tok::DEq => return bin(BinaryOp::Eq, BP_CMP),
            Tok::NotEq => return bin(BinaryOp::NotEq, BP_CMP),
            Tok::Lt => return bin(BinaryOp::Lt, BP_CMP),
            Tok::LtEq => return bin(BinaryOp::LtEq, BP_CMP),
            Tok::Gt => return bin(BinaryOp::Gt, BP_CMP),
            Tok::GtEq => return bin(BinaryOp::GtEq, BP_CMP),
            Tok::Plus => return bin(BinaryOp::Add, BP_ADD),
            Tok::Minus => return bin(BinaryOp::Sub, BP_ADD),
            Tok::Star => return bin(BinaryOp::Mul, BP_MUL),
            Tok::Div => return bin(BinaryOp::Div, BP_MUL),
            Tok::Mod => return bin(BinaryOp::Mod, BP_MUL),
            Tok::Word(_) | Tok::Not => {}
            _ => return None,
        }
        let not = usize::from(self.is_not_at(0));
        let kw = |k: &str| self.is_kw_at(not, k);
        if not == 0 && self.is_kw("OR") {
            bin(BinaryOp::Or, BP_OR)
        } else if not == 0 && self.is_kw("AND") {
            bin(BinaryOp::And, BP_AND)
        } else if kw("IN") || kw("CONTAINS") {
            Some((Infix::In(not == 1), BP_IN, 1 + not))
        } else if not == 0 && self.is_kw("IS") {
            Some((Infix::IsNull, BP_IS_NULL, 1))
        } else if kw("BETWEEN") {
            Some((Infix::Between(not == 1), BP_BETWEEN, 1 + not))
        } else if kw("LIKE") || kw("REGEXP") {
            Some((Infix::Like(kw("LIKE"), not == 1), BP_LIKE, 1 + not))
        } else {
            None
        }
    }

    /// Precedence climbing: operators binding tighter than `min`.
    fn expr_bp(&mut self, min: u8) -> Result<Sized> {
        let (mut lhs, mut depth) = self.unary_expr()?;
        while let Some((op, bp, len)) = self.peek_infix() {
            if bp <= min {
                break;
            }
            for _ in 0..len {
                self.advance();
            }
            let expr = Box::new(lhs);
            (lhs, depth) = match op {
                Infix::Binary(op) => {
                    let (right, rd) = self.nested(|p| p.expr_bp(bp))?;
                    let d = self.check_depth(1 + depth.max(rd))?;
                    let e = Expression::Binary {
                        op,
                        left: expr,
                        right: Box::new(right),
                    };
                    (e, d)
                }
                Infix::In(negated) => {
                    self.expect(&Tok::LParen, "'('")?;
                    let mut list = vec![self.literal()?];
                    while self.eat(&Tok::Comma) {
                        list.push(self.literal()?);
                    }
                    self.expect(&Tok::RParen, "')'")?;
                    let d = self.check_depth(1 + depth)?;
                    (
                        Expression::In {
                            expr,
                            list,
                            negated,
                        },
                        d,
                    )
                }
                Infix::IsNull => {
                    let negated = self.is_not_at(0);
                    if negated {
                        self.advance();
                    }
                    self.expect_kw("NULL")?;
                    let d = self.check_depth(1 + depth)?;
                    (Expression::IsNull { expr, negated }, d)
                }
                Infix::Between(negated) => {
                    let (low, ld) = self.nested(|p| p.expr_bp(bp))?;
                    if !(self.eat(&Tok::And) || self.eat_kw("AND")) {
                        return Err(self.expecting("AND"));
                    }
                    let (high, hd) = self.nested(|p| p.expr_bp(bp))?;
                    let d = self.check_depth(1 + depth.max(ld).max(hd))?;
                    let e = Expression::Between {
                        expr,
                        low: Box::new(low),
                        high: Box::new(high),
                        negated,
                    };
                    (e, d)
                }
                Infix::Like(like, negated) => {
                    let pattern = match self.peek().clone() {
                        Tok::Str(s) => {
                            self.advance();
                            s
                        }
                        _ => return Err(self.expecting("STRING_LITERAL")),
                    };
                    let d = self.check_depth(1 + depth)?;
                    let e = if like {
                        Expression::Like {
                            expr,
                            pattern,
                            negated,
                        }
                    } else {
                        Expression::Regexp {
                            expr,
                            pattern,
                            negated,
                        }
                    };
                    (e, d)
                }
            };
        }
        Ok((lhs, depth))
    }

    fn unary_expr(&mut self) -> Result<Sized> {
        let op = match self.peek() {
            Tok::Minus | Tok::Plus => {
                // `-1`, `+2.5` are constants (IoTDB's `constant` rule), `-s1` is a negation.
                if let Some(lit) = self.try_number()? {
                    return Ok((Expression::Constant(lit), 1));
                }
                if self.peek() == &Tok::Minus {
                    UnaryOp::Neg
                } else {
                    UnaryOp::Pos
                }
            }
            Tok::Not => UnaryOp::Not,
            // `not` followed by an operand negates it; alone (`SELECT not FROM …`,
            // `not > 1`) it is a node name.
            Tok::Word(w) if w.eq_ignore_ascii_case("NOT") && self.operand_at(1) => UnaryOp::Not,
            _ => return self.primary(),
        };
        self.advance();
        let (operand, d) = self.nested(|p| p.unary_expr())?;
        let d = self.check_depth(1 + d)?;
        Ok((
            Expression::Unary {
                op,
                expr: Box::new(operand),
            },
            d,
        ))
    }

    fn primary(&mut self) -> Result<Sized> {
        let leaf = |e: Expression| Ok((e, 1));
        match self.peek().clone() {
            Tok::LParen => {
                self.advance();
                let e = self.nested(|p| p.expr_bp(0))?;
                self.expect(&Tok::RParen, "')'")?;
                Ok(e)
            }
            Tok::Str(s) => {
                self.advance();
                leaf(Expression::Constant(Literal::String(s)))
            }
            Tok::DateTime(s) => {
                self.advance();
                leaf(Expression::Constant(Literal::DateTime(s)))
            }
            Tok::Binary(b) => {
                self.advance();
                leaf(Expression::Constant(Literal::Binary(b)))
            }
            Tok::Dot => match self.try_number()? {
                Some(lit) => leaf(Expression::Constant(lit)),
                None => Err(self.expecting("an expression")),
            },
            Tok::Star | Tok::DoubleStar | Tok::QuotedId(_) => self.path_expr(false),
            Tok::Word(w) => {
                let lower = w.to_ascii_lowercase();
                match lower.as_str() {
                    "time" | "timestamp" => {
                        self.advance();
                        return leaf(Expression::Time);
                    }
                    "true" | "false" | "null" | "nan" => {
                        return leaf(Expression::Constant(self.literal()?));
                    }
                    "now" if self.peek_at(1) == &Tok::LParen && self.peek_at(2) == &Tok::RParen => {
                        return leaf(Expression::Constant(self.literal()?));
                    }
                    "root" => return self.path_expr(true),
                    _ => {}
                }
                if w.as_bytes()[0].is_ascii_digit() {
                    if let Some(lit) = self.try_number()? {
                        return leaf(Expression::Constant(lit));
                    }
                    if let Some(ms) = duration_ms(&w) {
                        self.advance();
                        return leaf(Expression::Constant(Literal::Duration(ms)));
                    }
                }
                if self.peek_at(1) == &Tok::LParen && !crate::parser::is_reserved(&w) {
                    return self.nested(|p| p.function());
                }
                self.path_expr(false)
            }
            _ => Err(self.expecting("an expression")),
        }
    }

    /// A path inside an expression: `root.a.b` (full) or `a.b`, `*`, `s*` (suffix).
    fn path_expr(&mut self, full: bool) -> Result<Sized> {
        let mut nodes = Vec::new();
        if full {
            self.advance();
            nodes.push("root".to_string());
        } else {
            nodes.push(self.node(true, true)?);
        }
        while self.peek() == &Tok::Dot {
            self.advance();
            nodes.push(self.node(true, true)?);
        }
        model::path::check_limits(&nodes)?;
        Ok((Expression::Path(PathRef { nodes, full }), 1))
    }

    fn function(&mut self) -> Result<Sized> {
        let first = self.pos;
        let name = match self.advance().tok {
            Tok::Word(w) => w,
            _ => return Err(self.expecting("a function name")),
        };
        self.expect(&Tok::LParen, "'('")?;
        let mut args = Vec::new();
        let mut attributes = Vec::new();
        let mut depth = 1;
        // IoTDB's grammar wants at least one argument (`count()` is a parse error, 700)
        if self.peek() == &Tok::RParen {
            return Err(self.expecting("an expression"));
        }
        loop {
            let (arg, d) = self.nested(|p| p.expr_bp(0))?;
            depth = depth.max(d + 1);
            if args.is_empty()
                && attributes.is_empty()
                && name.eq_ignore_ascii_case("cast")
                && self.eat_kw("AS")
            {
                let ty = match self.peek().clone() {
                    Tok::Word(t) => TSDataType::parse(&t)?,
                    _ => return Err(self.expecting("a data type")),
                };
                self.advance();
                self.expect(&Tok::RParen, "')'")?;
                let d = self.check_depth(depth)?;
                let e = Expression::Cast {
                    expr: Box::new(arg),
                    ty,
                };
                return Ok((e, d));
            }
            match arg {
                Expression::Binary {
                    op: BinaryOp::Eq,
                    left,
                    right,
                } if matches!(*left, Expression::Constant(_)) => match (*left, *right) {
                    (Expression::Constant(k), Expression::Constant(Literal::String(v))) => {
                        attributes.push((crate::display::literal_text(&k), v));
                    }
                    _ => {
                        return Err(Self::semantic(
                            "Attributes of functions should be quoted with '' or \"\"",
                        ))
                    }
                },
                other => args.push(other),
            }
            if !self.eat(&Tok::Comma) {
                break;
            }
        }
        self.expect(&Tok::RParen, "')'")?;
        if !args.iter().any(|a| !matches!(a, Expression::Constant(_))) {
            let text: String = self.toks[first..self.pos]
                .iter()
                .map(|t| self.text_of(t))
                .collect();
            return Err(Self::semantic(format!(
                "Invalid function expression, all the arguments are constant operands: {text}"
            )));
        }
        let d = self.check_depth(depth)?;
        Ok((
            Expression::Function {
                name,
                args,
                attributes,
            },
            d,
        ))
    }

    /// A number with optional sign (`1`, `-2`, `1.5`, `.5`, `1.`, `1e10`, `-1.5E-3`), consumed
    /// only if one is there.
    pub(crate) fn try_number(&mut self) -> Result<Option<Literal>> {
        let (sign, n) = match self.peek() {
            Tok::Minus => ("-", 1),
            Tok::Plus => ("+", 1),
            _ => ("", 0),
        };
        let frac_word = |t: &Tok| match t {
            Tok::Word(f) if is_number_word(f) => Some(f.clone()),
            _ => None,
        };
        let (text, used) = match self.peek_at(n).clone() {
            Tok::Word(w) if !w.is_empty() && w.bytes().all(|c| c.is_ascii_digit()) => {
                if self.peek_at(n + 1) == &Tok::Dot && self.adjacent(n) {
                    match frac_word(self.peek_at(n + 2)) {
                        Some(f) if self.adjacent(n + 1) => (format!("{w}.{f}"), n + 3),
                        _ => (format!("{w}."), n + 2),
                    }
                } else {
                    (w, n + 1)
                }
            }
            Tok::Word(w) if is_number_word(&w) => (w, n + 1),
            Tok::Dot if self.adjacent(n) => match frac_word(self.peek_at(n + 1)) {
                Some(f) => (format!(".{f}"), n + 2),
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        for _ in 0..used {
            self.advance();
        }
        let full = format!("{sign}{text}");
        let is_real = text.contains(['.', 'e', 'E']);
        if !is_real {
            if let Ok(v) = full.parse::<i64>() {
                return Ok(Some(Literal::Integer(v)));
            }
        }
        let v: f64 = full
            .parse()
            .map_err(|_| Self::semantic(format!("{full} is not a valid number")))?;
        Ok(Some(Literal::Float(v, full)))
    }

    /// A constant (`constant` rule): number, string, boolean, null, NaN, datetime, `now()`.
    pub(crate) fn literal(&mut self) -> Result<Literal> {
        if let Some(n) = self.try_number()? {
            return Ok(n);
        }
        let lit = match self.peek().clone() {
            Tok::Str(s) => Literal::String(s),
            Tok::Binary(b) => Literal::Binary(b),
            Tok::DateTime(s) => Literal::DateTime(s),
            Tok::Word(w) => match w.to_ascii_lowercase().as_str() {
                "true" => Literal::Boolean(true),
                "false" => Literal::Boolean(false),
                "null" => Literal::Null,
                "nan" => Literal::NaN,
                "now" if self.peek_at(1) == &Tok::LParen && self.peek_at(2) == &Tok::RParen => {
                    self.advance();
                    self.advance();
                    Literal::Now
                }
                _ => return Err(self.expecting("a constant")),
            },
            _ => return Err(self.expecting("a constant")),
        };
        self.advance();
        Ok(lit)
    }

    /// A value of INSERT: a constant.
    pub(crate) fn insert_value(&mut self) -> Result<Literal> {
        self.literal()
    }

    /// `timeValue`: `[+|-]integer`, or a datetime / `now()` followed by `± duration`s.
    pub(crate) fn time_value(&mut self) -> Result<Expression> {
        let at = self.pos;
        if let Some(lit) = self.try_number()? {
            return match lit {
                Literal::Integer(_) => Ok(Expression::Constant(lit)),
                _ => {
                    self.pos = at;
                    Err(self.expecting("a time value (integer, datetime or now())"))
                }
            };
        }
        let base = match self.peek() {
            Tok::DateTime(_) => self.literal()?,
            Tok::Word(w) if w.eq_ignore_ascii_case("now") => self.literal()?,
            _ => return Err(self.expecting("a time value (integer, datetime or now())")),
        };
        let mut e = Expression::Constant(base);
        let mut depth = 1;
        loop {
            let op = match self.peek() {
                Tok::Plus => BinaryOp::Add,
                Tok::Minus => BinaryOp::Sub,
                _ => break,
            };
            let ms = match self.peek_at(1) {
                Tok::Word(w) => duration_ms(w),
                _ => None,
            };
            let Some(ms) = ms else {
                self.advance();
                return Err(self.expecting("a duration"));
            };
            depth = self.check_depth(depth + 1)?;
            self.advance();
            self.advance();
            e = Expression::Binary {
                op,
                left: Box::new(e),
                right: Box::new(Expression::Constant(Literal::Duration(ms))),
            };
        }
        Ok(e)
    }
}

/// A duration word in milliseconds, `mo` counted as 30 days.
fn duration_ms(w: &str) -> Option<i64> {
    let (months, millis) = parse_duration(w)?;
    months.checked_mul(30 * 86_400_000)?.checked_add(millis)
}
