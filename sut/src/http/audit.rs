//! `GET /api/v1/audit`: the chained audit trail, for the auditor and admin roles
//! (contract AUD-2).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::AppError;
use crate::auth::{AuthError, Caller, Permission};
use crate::documents::audit;
use crate::state::AppState;

/// `GET /api/v1/audit` query: records after `after` (a `seq`), at most `limit`.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// Records with a greater `seq` (default 0: from the start).
    #[serde(default)]
    pub after: i64,
    /// 1 to 1000 (default 100).
    #[serde(default = "default_limit")]
    pub limit: i64,
}

fn default_limit() -> i64 {
    100
}

/// The audit trail, oldest first, for the auditor and admin roles.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    page: Result<Query<Page>, QueryRejection>,
) -> Result<Json<Value>, AppError> {
    let Ok(Query(page)) = page else {
        return Err(AppError::BadRequest(
            "after, limit: whole numbers, each given once".into(),
        ));
    };
    if !caller.sees_all_records() {
        return Err(AuthError::Forbidden(Permission::AuditLogAccess).into());
    }
    if !(1..=1000).contains(&page.limit) || page.after < 0 {
        return Err(AppError::BadRequest(
            "limit: 1 to 1000; after: 0 or more".into(),
        ));
    }
    let (records, next) = audit::page(&state.db, page.after, page.limit).await?;
    Ok(Json(json!({"records": records, "next_after": next})))
}
