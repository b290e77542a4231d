//! The clause catalogue, generated from `sut/CONTRACT.md` (built in): every clause in
//! force with its level, seed reference and text, and the cases its *Checked by* column
//! names (`sut::…` entries; the case is the last segment).

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::results::certificate::Level;

/// The contract this harness certifies against.
pub const CONTRACT: &str = include_str!("../../../../sut/CONTRACT.md");

/// One clause in force.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Clause {
    /// Its stable ID, e.g. `AUTH-2`.
    pub id: String,
    /// MUST, SHOULD or INFO.
    pub level: Level,
    /// Its text, with the table's line breaks as newlines.
    pub text: String,
    /// The seed it comes from.
    pub seed: String,
    /// The cases that judge it, in the contract's order.
    pub cases: Vec<String>,
}

/// A contract row that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// A row's level is neither MUST, SHOULD, INFO nor withdrawn (—).
    #[error("sut/CONTRACT.md: clause {0} has level '{1}'")]
    Level(String, String),
    /// An ID appears twice.
    #[error("sut/CONTRACT.md: clause {0} appears twice")]
    Duplicate(String),
}

/// The catalogue.
#[derive(Debug, Clone)]
pub struct Catalogue {
    /// Every clause in force, in the contract's order.
    pub clauses: Vec<Clause>,
}

impl Catalogue {
    /// The catalogue of the built-in contract.
    pub fn built_in() -> Result<Self, CatalogueError> {
        Self::parse(CONTRACT)
    }

    /// Reads the clause tables of a contract document.
    pub fn parse(text: &str) -> Result<Self, CatalogueError> {
        let mut clauses: Vec<Clause> = Vec::new();
        for line in text.lines() {
            let cells: Vec<&str> = line.trim().split('|').map(str::trim).collect();
            // | ID | Level | Clause | Seed | Checked by |  → 7 cells with the outer empties.
            if cells.len() != 7 || !is_id(cells[1]) {
                continue;
            }
            let level = match cells[2] {
                "MUST" => Level::Must,
                "SHOULD" => Level::Should,
                "INFO" => Level::Info,
                "—" | "-" => continue,
                other => return Err(CatalogueError::Level(cells[1].into(), other.into())),
            };
            if clauses.iter().any(|c| c.id == cells[1]) {
                return Err(CatalogueError::Duplicate(cells[1].into()));
            }
            clauses.push(Clause {
                id: cells[1].to_owned(),
                level,
                text: cells[3].replace("<br>", "\n"),
                seed: cells[4].to_owned(),
                cases: black_box_cases(cells[5]),
            });
        }
        Ok(Catalogue { clauses })
    }

    /// Every case any clause names, each once, with the clauses it judges.
    pub fn cases(&self) -> BTreeMap<String, Vec<String>> {
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for c in &self.clauses {
            for case in &c.cases {
                map.entry(case.clone()).or_default().push(c.id.clone());
            }
        }
        map
    }

    /// The clause with this ID.
    pub fn clause(&self, id: &str) -> Option<&Clause> {
        self.clauses.iter().find(|c| c.id == id)
    }

    /// SHA-256 (hex) over the catalogue's canonical JSON: what a certificate was judged
    /// against.
    pub fn sha256(&self) -> String {
        let text = serde_json::to_string(&self.clauses).unwrap_or_default();
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

fn is_id(cell: &str) -> bool {
    match cell.split_once('-') {
        Some((prefix, n)) => {
            !prefix.is_empty()
                && prefix.chars().all(|c| c.is_ascii_uppercase())
                && !n.is_empty()
                && n.chars().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// The `sut::…` names of a *Checked by* cell, as case IDs.
fn black_box_cases(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|name| name.strip_prefix("sut::"))
        .filter_map(|path| path.rsplit("::").next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_clauses_and_withdrawn_ones_are_left_out() {
        let text = "| ID | Level | Clause | Seed | Checked by |\n|---|---|---|---|---|\n\
            | AB-1 | MUST | One<br>two | 002 §1 | `sut::x::first`, `sut/src/a.rs` `unit` |\n\
            | AB-2 | — | Withdrawn | — | — |\n\
            | AB-3 | SHOULD | Three | — | `sut::first`, `reference::no` |\n";
        let cat = Catalogue::parse(text).expect("parses");
        let ids: Vec<&str> = cat.clauses.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["AB-1", "AB-3"]);
        assert_eq!(cat.clauses[0].text, "One\ntwo");
        assert_eq!(cat.clauses[0].cases, ["first"]);
        assert_eq!(cat.clauses[1].level, Level::Should);
        assert_eq!(cat.cases()["first"], ["AB-1", "AB-3"]);
    }

    #[test]
    fn a_duplicate_id_or_an_unknown_level_is_refused() {
        let row = "| AB-1 | MUST | x | - | `sut::a` |\n";
        assert_eq!(
            Catalogue::parse(&format!("{row}{row}")).err(),
            Some(CatalogueError::Duplicate("AB-1".into()))
        );
        assert!(matches!(
            Catalogue::parse("| AB-1 | MAY | x | - | `sut::a` |"),
            Err(CatalogueError::Level(..))
        ));
    }

    #[test]
    fn the_digest_changes_with_any_clause() {
        let a = Catalogue::parse("| AB-1 | MUST | x | - | `sut::a` |").expect("parses");
        let b = Catalogue::parse("| AB-1 | MUST | y | - | `sut::a` |").expect("parses");
        assert_ne!(a.sha256(), b.sha256());
        assert_eq!(a.sha256().len(), 64);
    }
}
