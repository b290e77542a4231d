//! The bottom layer of harness: what every other crate leans on and nothing here leans
//! on them. One definition each of a duration, time, rate and percentage parser
//! ([`units`]), of an error that names a data file and its line ([`datafile`]), of a
//! free port and a wait for one ([`net`]), of a child process that is stopped on every
//! way out ([`process`]) and the CPU time it used ([`cpu`]), of the shutdown signals ([`shutdown`]), and of a Server-Sent
//! Events parser ([`sse`]), which the harness reads streams with and the reference SUT
//! reads the LLM's streams with.

pub mod cpu;
pub mod datafile;
pub mod net;
pub mod process;
pub mod shutdown;
pub mod sse;
pub mod units;
