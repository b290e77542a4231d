//! The `harness` binary: parse, plan, run, and turn the outcome into an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    harness::cli::main()
}
