//! A Server-Sent Events parser that takes bytes as they arrive, in chunks cut anywhere,
//! and hands back each event once its blank line has come (the WHATWG rules: `event:`
//! and `data:` fields, `data:` lines joined by a newline, `:` comments, lines ending in
//! LF, CRLF or CR). The stream reader times each event by the chunk that completed it.

/// One event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its `event:` field, or `message` when it has none.
    pub name: String,
    /// Its `data:` lines, joined by `\n`.
    pub data: String,
}

/// The parser's state between chunks.
#[derive(Debug, Default)]
pub struct Parser {
    line: Vec<u8>,
    /// The last chunk ended in CR: an LF that starts the next one ends no line.
    after_cr: bool,
    name: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Feeds `chunk`, calling `on_event` for each event it completes.
    ///
    /// ```
    /// use harness_support::sse::Parser;
    /// let mut p = Parser::default();
    /// let mut got = Vec::new();
    /// p.push(b"event: token\ndata: {\"t\":", |e| got.push(e));
    /// p.push(b"1}\n\n: keep-alive\n\n", |e| got.push(e));
    /// assert_eq!(got.len(), 1);
    /// assert_eq!((got[0].name.as_str(), got[0].data.as_str()), ("token", "{\"t\":1}"));
    /// ```
    pub fn push(&mut self, chunk: &[u8], mut on_event: impl FnMut(Event)) {
        for &b in chunk {
            match b {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    if let Some(e) = self.end_line() {
                        on_event(e);
                    }
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(b);
                }
            }
        }
    }

    /// Ends the line held; an empty line dispatches the event it closes.
    fn end_line(&mut self) -> Option<Event> {
        if self.line.is_empty() {
            let data = self.data.take();
            let name = self.name.take();
            return data.map(|data| Event {
                name: name.unwrap_or_else(|| "message".to_owned()),
                data,
            });
        }
        let line = String::from_utf8_lossy(&self.line).into_owned();
        self.line.clear();
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.name = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(chunks: &[&[u8]]) -> Vec<Event> {
        let mut p = Parser::default();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, |e| out.push(e));
        }
        out
    }

    #[test]
    fn events_cut_anywhere_come_out_whole() {
        let text = b"event: token\ndata: a\n\nevent: done\ndata: {\"x\":1}\n\n";
        let whole = all(&[text]);
        assert_eq!(whole.len(), 2);
        for cut in 1..text.len() {
            assert_eq!(all(&[&text[..cut], &text[cut..]]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(all(&bytes), whole);
    }

    #[test]
    fn crlf_cr_comments_multiline_data_and_unnamed_events() {
        let got = all(&[
            b"data: one\r\ndata: two\r\n\r\n: ping\r\revent: x\rdata\r\r",
            b"\n",
        ]);
        assert_eq!(
            got,
            [
                Event {
                    name: "message".into(),
                    data: "one\ntwo".into()
                },
                Event {
                    name: "x".into(),
                    data: String::new()
                }
            ]
        );
        // A blank line with no data dispatches nothing; a CRLF cut between chunks ends
        // one line, not two.
        assert_eq!(all(&[b"event: y\r", b"\n\r\n"]), []);
    }
}
