//! GitLab: identifiers and the REST v4 client used by every other module.

pub mod ids;
