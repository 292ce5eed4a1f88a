//! `autograder`: boots a student's vkernel binary with test scenarios, checks what comes
//! out, scores and reports.
//!
//! - [`lab::load`] reads a lab definition (TOML; the schema is in the README);
//! - [`run::run_test`] runs one test in a sandbox ([`sandbox`]) and checks it;
//! - [`grade::grade`] runs a lab's tests in parallel into a [`grade::LabReport`];
//! - [`report`] turns reports into terminal text, JSON, Gradescope, JUnit and CSV;
//! - [`build::build_kernel`] builds a submission from a pristine tree plus its student
//!   files; [`batch::run_batch`] builds and grades a folder of submissions.
//!
//! The grader never links the kernel: it runs kernel *binaries*.

pub mod batch;
pub mod build;
mod cgroup;
pub mod check;
pub mod cli;
pub mod error;
pub mod grade;
pub mod lab;
mod procfs;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod seed;
pub mod units;

pub use error::Error;
pub use grade::{grade, GradeOptions, LabReport};
pub use lab::{load, load_with_hidden, Lab, Test};
pub use run::{run_test, Outcome, RunOptions, TestResult};
