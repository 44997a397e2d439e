//! Test doubles.

pub mod gitlab;
