//! Text tables for the terminal: rows of cells in columns as wide as their widest
//! cell (counted in characters), two spaces apart and two in, each column aligned as
//! its own, with no trailing spaces. The comparison, the chaos matrix and the gate
//! print theirs with it.

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text: padded on the right.
    Left,
    /// Numbers: padded on the left.
    Right,
}

/// `rows` (the header first, if any) as lines of text, one a row, each ending in a
/// newline. A row shorter than `align` leaves its last columns empty; a cell past the
/// end of `align` is aligned left.
///
/// ```
/// use harness::report::columns::{columns, Align};
/// let rows = [vec!["name".to_owned(), "ms".to_owned()], vec!["e2e".into(), "12.5".into()]];
/// assert_eq!(columns(&rows, &[Align::Left, Align::Right]), "  name    ms\n  e2e   12.5\n");
/// ```
pub fn columns(rows: &[Vec<String>], align: &[Align]) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; n];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, w) in widths.iter().enumerate() {
            let cell = row.get(i).map_or("", String::as_str);
            let pad = " ".repeat(w - cell.chars().count());
            line.push_str("  ");
            match align.get(i).copied().unwrap_or(Align::Left) {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&pad);
                }
                Align::Right => {
                    line.push_str(&pad);
                    line.push_str(cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
