//! `sql`: IoTDB's SQL dialect (tree model, 1.0 grammar) — lexer, parser and AST.
//!
//! It owns turning statement text into [`ast::Statement`] values, with IoTDB-style
//! `SqlParse` errors that name the position and what was expected
//! (`line 1:7 mismatched input 'x' expecting FROM`), and the [`std::fmt::Display`] of
//! expressions that IoTDB prints as column headers.
//!
//! It must not resolve paths against a schema, evaluate anything, or know about storage,
//! sessions or the network: the executor (`query`) gives meaning to the tree. Input comes from
//! the network, so parsing never panics, is linear in the input, and caps expression nesting at
//! [`MAX_NESTING`] and expression-tree depth at [`MAX_DEPTH`].
//!
//! Statement families of IoTDB that iotdb-rs does not model (triggers, UDF registration,
//! continuous queries, pipes, region/slot administration, SETTLE, UNLOAD …) are recognised by
//! their leading keywords and answered with [`model::Error::Unsupported`].

#![warn(missing_docs)]

pub mod ast;
mod display;
mod expr;
pub mod lexer;
mod parser;

pub use ast::{Expression, Literal, QueryStatement, Statement};
pub use display::literal_text;
pub use parser::{MAX_DEPTH, MAX_NESTING};

/// Parses one SQL statement (an optional `DEBUG` prefix and trailing `;` are accepted).
///
/// Syntax errors are [`model::Error::SqlParse`]; statements that parse but that IoTDB rejects
/// while building its plan (bad LIMIT, value count mismatch …) are [`model::Error::Semantic`];
/// recognised but unmodelled statements are [`model::Error::Unsupported`].
pub fn parse(sql: &str) -> model::Result<Statement> {
    parser::parse_statement(sql)
}

/// Parses a standalone expression (e.g. `root.sg.d1.s1 + 1`).
pub fn parse_expression(text: &str) -> model::Result<Expression> {
    parser::parse_expression(text)
}
