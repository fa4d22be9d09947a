//! `server` crate (being built).
