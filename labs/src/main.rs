//! `labs`: the student's command (grade a lab, boot to a shell). Not built yet: it says so
//! and points at what works today.

fn main() -> std::process::ExitCode {
    eprintln!(
        "labs: lab grading is not available yet.\n\
         Boot the kernel with a guest program instead: cargo run -p vkernel -- hello"
    );
    std::process::ExitCode::from(2)
}
