//! `sut-defects`: the reference with one deliberate contract breach, chosen by
//! `SUT_DEFECT` (src/defect.rs), for the tests of `harness certify`.

fn main() -> std::process::ExitCode {
    sut::entry::main()
}
