//! A GitLab REST v4 double serving real git repositories over smart HTTP.

pub mod faults;
pub mod git_http;
pub mod repo;
pub mod server;
