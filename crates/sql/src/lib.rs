//! `sql`: IoTDB's SQL dialect (tree model, 1.0 grammar) — lexer, parser and AST.
//!
//! It owns turning statement text into [`ast::Statement`] values, with IoTDB-style
//! `SqlParse` errors that name the position and what was expected, and the [`std::fmt::Display`]
//! of expressions that IoTDB prints as column headers.
//!
//! It must not resolve paths against a schema, evaluate anything, or know about storage,
//! sessions or the network: the executor (`query`) gives meaning to the tree.

pub mod ast;

pub use ast::Statement;

/// Parses one SQL statement (an optional `DEBUG` prefix and trailing `;` are accepted).
pub fn parse(sql: &str) -> model::Result<Statement> {
    let _ = sql;
    Err(model::Error::Unsupported(
        "SQL parsing is not supported yet".to_string(),
    ))
}
