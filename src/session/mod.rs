//! What every command's orchestration shares: the observer that shows its steps, and
//! one way to print an error with its causes. Each command's own orchestration lives in
//! its folder under `commands/`.

mod observer;

pub use observer::{Observer, Recorder, Step};

/// An error and its causes on one line, each said once: the errors of this crate do
/// not repeat their source in their own message, so the chain reads cleanly.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !text.is_empty() {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}
