//! The context section of the prompt: what the request is about, gathered from GitLab within a
//! size budget.
//!
//! [`gather()`] reads the issue or merge request, its discussions and (for a merge request) its
//! diffs with paginated lists only, so the number of requests grows with the number of items
//! divided by 100, never per item; [`render()`] cuts the result to a [`ContextBudget`], newest
//! comments first, and wraps everything users wrote in `<untrusted-data>` blocks. Inbound
//! text is cleaned by [`sanitize()`]. CI results (failed jobs and the end of their logs) come
//! from [`gather_ci()`], which redacts the logs before they are rendered.

pub mod budget;
pub mod ci;
pub mod diff_excerpt;
pub mod gather;
pub mod images;
pub mod render;
pub mod sanitize;

pub use budget::{BudgetError, ContextBudget};
pub use ci::{CiContext, gather_ci};
pub use gather::{Context, ContextNote, MergeRequestContext, gather};
pub use render::{Rendered, render};
pub use sanitize::sanitize;
