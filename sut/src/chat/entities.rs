//! Entity resolution (seed 002 §2.1): aliases and pg_trgm word similarity in Postgres,
//! with an in-process directory of names and aliases as the fallback when the database
//! is slow or down.

use std::sync::RwLock;
use std::time::Duration;

use serde::Serialize;
use sqlx::PgPool;

/// A customer the query mentions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entity {
    /// Customer id.
    pub id: String,
    /// Display name.
    pub name: String,
}

/// Names and aliases of every customer, refreshed from the database.
#[derive(Default)]
pub struct EntityDirectory {
    entries: RwLock<Vec<(String, Entity)>>,
}

impl EntityDirectory {
    /// Reloads from the database.
    pub async fn refresh(&self, db: &PgPool) -> Result<usize, sqlx::Error> {
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT c.id, c.name, a.alias FROM domain.customers c \
             LEFT JOIN app.entity_aliases a ON a.customer_id = c.id",
        )
        .fetch_all(db)
        .await?;
        let mut entries = Vec::new();
        for (id, name, alias) in rows {
            let e = Entity { id, name };
            entries.push((e.name.to_lowercase(), e.clone()));
            if let Some(a) = alias {
                entries.push((a.to_lowercase(), e));
            }
        }
        let n = entries.len();
        *self.entries.write().unwrap_or_else(|p| p.into_inner()) = entries;
        Ok(n)
    }

    /// Entities whose name or alias appears in `text` as whole words.
    pub fn find(&self, text: &str) -> Vec<Entity> {
        let lower = text.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect();
        let joined = format!(" {} ", words.join(" "));
        let mut found: Vec<Entity> = Vec::new();
        for (key, e) in self
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            if joined.contains(&format!(" {key} ")) && !found.contains(e) {
                found.push(e.clone());
            }
        }
        found
    }
}

/// Entity resolution's query: `$1` is the user's question, `$2` its [`phrases`].
///
/// Each phrase is matched with `c.name % phrase`, the column on the left, which the
/// `gin_trgm_ops` index serves (`c.name <% question` cannot use it). A phrase counts as
/// naming a customer at similarity 0.5 or more, which keeps misspellings and drops a lone
/// shared word ("Delta" against "Delta Industries" is 0.35).
pub const RESOLVE_SQL: &str = "SELECT id, name FROM ( \
                 SELECT c.id, c.name, similarity(c.name, q.phrase) AS score \
                   FROM unnest($2::text[]) AS q(phrase) \
                   JOIN domain.customers c ON c.name % q.phrase \
                  WHERE similarity(c.name, q.phrase) >= 0.5 \
                 UNION ALL \
                 SELECT c.id, c.name, 1.0 FROM app.entity_aliases a \
                   JOIN domain.customers c ON c.id = a.customer_id \
                  WHERE $1 ILIKE '%' || a.alias || '%' \
               ) m GROUP BY id, name ORDER BY max(score) DESC LIMIT 5";

/// Resolves entities in `query`: the database first, the directory if it fails.
/// Returns the entities and whether they came from the directory (a cache).
pub async fn resolve(
    db: &PgPool,
    directory: &EntityDirectory,
    query: &str,
    timeout: Duration,
) -> (Vec<Entity>, bool) {
    let q = sqlx::query_as::<_, (String, String)>(RESOLVE_SQL)
        .bind(query)
        .bind(phrases(query))
        .fetch_all(db);
    match tokio::time::timeout(timeout, q).await {
        Ok(Ok(rows)) => (
            rows.into_iter()
                .map(|(id, name)| Entity { id, name })
                .collect(),
            false,
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "entity resolution query failed; using directory");
            (directory.find(query), true)
        }
        Err(_) => {
            tracing::warn!("entity resolution timed out; using directory");
            (directory.find(query), true)
        }
    }
}

/// The runs of one to four consecutive words in the first 64 words of `query`: the
/// candidates for a customer's name.
pub fn phrases(query: &str) -> Vec<String> {
    let words: Vec<&str> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(64)
        .collect();
    let mut out: Vec<String> = Vec::new();
    for len in 1..=4 {
        for window in words.windows(len) {
            let phrase = window.join(" ");
            if !out.contains(&phrase) {
                out.push(phrase);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phrases_are_runs_of_up_to_four_words() {
        let p = phrases("Is Delta Industries late?");
        assert!(p.contains(&"Delta Industries".to_owned()));
        assert!(p.contains(&"Is Delta Industries late".to_owned()));
        assert!(!p.iter().any(|x| x.contains('?')));
        assert_eq!(p.len(), 4 + 3 + 2 + 1);
        assert!(phrases(&"w ".repeat(1000)).len() <= 64 * 4);
    }

    #[test]
    fn directory_matches_whole_words_case_insensitively() {
        let d = EntityDirectory::default();
        let delta = Entity {
            id: "cust-delta".into(),
            name: "Delta Industries".into(),
        };
        *d.entries.write().unwrap() = vec![
            ("delta industries".into(), delta.clone()),
            ("delta".into(), delta.clone()),
        ];
        assert_eq!(
            d.find("What is the status of DELTA industries?"),
            vec![delta]
        );
        assert!(d.find("Deltas and deltoids").is_empty());
    }
}
