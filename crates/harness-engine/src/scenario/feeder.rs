//! Feeders: rows of a CSV or JSON file that fill `{column}` placeholders in a
//! transaction's path and body, as Gatling's feeders do. A scenario names the file and
//! how rows are taken: in order (shared by every user, wrapping round), at random, or
//! one row per user (user i always gets row i, so users never share a row while there
//! are rows enough).

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::Rng;
use serde::Deserialize;

use crate::datafile::DataFileError;

/// How a transaction takes its row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// The next row, shared by every user, wrapping round at the end.
    #[default]
    Sequential,
    /// A row drawn at random for every transaction.
    Random,
    /// One row per user: user i always gets row i (mod the row count).
    Unique,
}

/// `[feeder]` in a scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeederSpec {
    /// A `.csv` (header row first) or `.json` (an array of flat objects) file, relative
    /// to the fixtures directory.
    pub file: String,
    /// How rows are taken.
    #[serde(default)]
    pub strategy: Strategy,
}

/// The rows, loaded and checked.
#[derive(Debug)]
pub struct Feeder {
    columns: Vec<String>,
    rows: Vec<Vec<String>>,
    strategy: Strategy,
    next: AtomicUsize,
    /// Sequential rows taken by this process: `offset`, `offset + step`, … (one shard of
    /// `step` takes its own lane, so shards never take the same row).
    lane: (usize, usize),
}

impl Feeder {
    /// Reads `path` (CSV or JSON, by extension).
    pub fn load(path: &Path, strategy: Strategy) -> Result<Self, DataFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| DataFileError::read(path, e))?;
        let (columns, rows) = if path.extension().is_some_and(|e| e == "json") {
            json_rows(path, &text)?
        } else {
            csv_rows(path, &text)?
        };
        if rows.is_empty() {
            return Err(DataFileError::invalid(
                path,
                "rows",
                "the feeder has no rows",
            ));
        }
        Ok(Feeder {
            columns,
            rows,
            strategy,
            next: AtomicUsize::new(0),
            lane: (0, 1),
        })
    }

    /// The feeder of one of `step` processes that share the rows: sequential rows
    /// `offset`, `offset + step`, …, so that no two take the same row. (Unique rows
    /// follow the user number, which is already run-wide.)
    pub fn lane(mut self, offset: usize, step: usize) -> Self {
        self.lane = (offset, step.max(1));
        self
    }

    /// The column names.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The row for `user`'s next transaction, as (column, value) pairs.
    pub fn row(&self, user: usize) -> Vec<(&str, &str)> {
        let i = match self.strategy {
            Strategy::Sequential => {
                self.next.fetch_add(1, Ordering::Relaxed) * self.lane.1 + self.lane.0
            }
            Strategy::Random => rand::thread_rng().gen_range(0..self.rows.len()),
            Strategy::Unique => user,
        } % self.rows.len();
        self.columns
            .iter()
            .map(String::as_str)
            .zip(self.rows[i].iter().map(String::as_str))
            .collect()
    }
}

/// One CSV line split on commas; a field in double quotes may hold commas and `""`.
fn split_csv(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    out.push(field);
    out
}

type Rows = (Vec<String>, Vec<Vec<String>>);

fn csv_rows(path: &Path, text: &str) -> Result<Rows, DataFileError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(DataFileError::invalid(path, "header", "the file is empty"));
    };
    let columns = split_csv(header);
    let mut rows = Vec::new();
    for (i, line) in lines {
        let row = split_csv(line);
        if row.len() != columns.len() {
            let mut e = DataFileError::invalid(
                path,
                format!("line {}", i + 1),
                format!(
                    "{} fields where the header has {}",
                    row.len(),
                    columns.len()
                ),
            );
            e.line = Some(i + 1);
            return Err(e);
        }
        rows.push(row);
    }
    Ok((columns, rows))
}

fn json_rows(path: &Path, text: &str) -> Result<Rows, DataFileError> {
    let items: Vec<serde_json::Map<String, serde_json::Value>> =
        serde_json::from_str(text).map_err(|e| DataFileError::json(path, &e))?;
    let columns: Vec<String> = items
        .first()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    let mut rows = Vec::new();
    for (i, o) in items.iter().enumerate() {
        let row: Option<Vec<String>> = columns
            .iter()
            .map(|c| {
                o.get(c).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            })
            .collect();
        match row {
            Some(r) if o.len() == columns.len() => rows.push(r),
            _ => {
                return Err(DataFileError::invalid(
                    path,
                    format!("[{i}]"),
                    format!("every object needs exactly the keys {}", columns.join(", ")),
                ))
            }
        }
    }
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join(name);
        std::fs::write(&p, text).expect("write");
        (dir, p)
    }

    #[test]
    fn lanes_take_disjoint_sequential_rows() {
        let (_d, p) = file("f.csv", "n\n0\n1\n2\n3\n4\n5\n");
        let lanes: Vec<Feeder> = (0..2)
            .map(|i| {
                Feeder::load(&p, Strategy::Sequential)
                    .expect("feeder")
                    .lane(i, 2)
            })
            .collect();
        let take = |f: &Feeder| (0..3).map(|_| f.row(0)[0].1.to_owned()).collect::<Vec<_>>();
        assert_eq!(take(&lanes[0]), ["0", "2", "4"]);
        assert_eq!(take(&lanes[1]), ["1", "3", "5"]);
    }

    #[test]
    fn rows_come_in_order_per_user_or_at_random() {
        let (_d, p) = file("f.csv", "name,city\nAcme,\"Paris, FR\"\nGlobex,Rome\n");
        let f = Feeder::load(&p, Strategy::Sequential).expect("feeder");
        assert_eq!(f.row(9), vec![("name", "Acme"), ("city", "Paris, FR")]);
        assert_eq!(f.row(9)[0].1, "Globex");
        assert_eq!(f.row(9)[0].1, "Acme");
        let f = Feeder::load(&p, Strategy::Unique).expect("feeder");
        assert_eq!(
            (f.row(1)[0].1, f.row(1)[0].1, f.row(0)[0].1),
            ("Globex", "Globex", "Acme")
        );
        let (_d, p) = file(
            "f.json",
            r#"[{"name": "Acme", "n": 1}, {"name": "Globex", "n": 2}]"#,
        );
        let f = Feeder::load(&p, Strategy::Random).expect("feeder");
        let seen: std::collections::BTreeSet<String> =
            (0..64).map(|_| f.row(0)[1].1.to_owned()).collect();
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn a_bad_file_is_named_with_its_line() {
        let (_d, p) = file("bad.csv", "name,city\nAcme\n");
        let e = Feeder::load(&p, Strategy::Random).unwrap_err().to_string();
        assert!(
            e.contains("bad.csv:2") && e.contains("1 fields where the header has 2"),
            "{e}"
        );
        let (_d, p) = file("bad.json", r#"[{"a": 1}, {"b": 2}]"#);
        let e = Feeder::load(&p, Strategy::Random).unwrap_err().to_string();
        assert!(e.contains("bad.json") && e.contains("[1]"), "{e}");
        let (_d, p) = file("empty.csv", "name\n");
        assert!(Feeder::load(&p, Strategy::Random).is_err());
    }
}
