//! `query` crate (being built).
