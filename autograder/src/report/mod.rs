//! Reports: terminal, JSON, Gradescope `results.json`, JUnit XML and a CSV grade book.

pub mod csv;
pub mod gradescope;
pub mod json;
pub mod junit;
pub mod terminal;
