//! `autograder`: boots a student's vkernel with a scenario, checks, scores and reports.
//! Not built yet; this crate reserves its place in the workspace.
