//! The authenticated caller as an extractor: the bearer token checked against the
//! contract (AUTH-4) before a handler runs.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::error::AppError;
use crate::auth::{verify, AuthError, Caller};
use crate::state::AppState;

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AuthError::Missing)?;
        Ok(verify(&state.config.jwt_secret, token.trim())?)
    }
}
