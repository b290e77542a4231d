//! The reference system under test. A placeholder until the SUT issue lands: the
//! workspace member exists so that `cargo build -p sut` already works.

fn main() {
    eprintln!("sut: not implemented yet");
    std::process::exit(2);
}
