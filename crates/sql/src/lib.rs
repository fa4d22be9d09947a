//! `sql` crate (being built).
