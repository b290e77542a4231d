//! `sut`: serve the reference service, or `sut seed FILE` to migrate and load seed data.

fn main() -> std::process::ExitCode {
    sut::entry::main()
}
