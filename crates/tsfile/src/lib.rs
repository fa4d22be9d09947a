//! `tsfile` crate (being built).
