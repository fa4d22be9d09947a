//! `protocol` crate (being built).
