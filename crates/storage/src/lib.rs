//! `storage` crate (being built).
