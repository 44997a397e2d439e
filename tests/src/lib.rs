//! Test doubles.
pub mod model;
