//! The normalised trigger: what started this job, from whichever entry point. (Being written.)
