//! Bearer authentication (JWT HS256) and the seed 000 role → permission map.
//!
//! Permissions are derived from the signed `roles` claim on the server, so a token can
//! only ever carry what its roles grant. Only HS256 is accepted: `alg: none` and any
//! other algorithm fail validation.

use std::collections::HashSet;

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Why a caller was refused (the HTTP layer renders these as 401 and 403).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token")]
    Missing,
    /// A token that fails any check; which one is logged, not told (contract ERR-1).
    #[error("invalid bearer token")]
    Invalid,
    /// A valid token whose roles lack the permission.
    #[error("permission {} required", .0.as_str())]
    Forbidden(Permission),
}

/// Seed 000 permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read documents.
    ReadDocument,
    /// Submit documents for processing.
    ProcessDocument,
    /// See results (chat answers, job status).
    ViewResults,
    /// Administer the service.
    AdminAccess,
    /// Read the audit log.
    AuditLogAccess,
}

impl Permission {
    /// The seed's name for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ReadDocument => "read_document",
            Permission::ProcessDocument => "process_document",
            Permission::ViewResults => "view_results",
            Permission::AdminAccess => "admin_access",
            Permission::AuditLogAccess => "audit_log_access",
        }
    }
}

/// The permissions a seed 000 role grants; unknown roles grant nothing.
pub fn role_permissions(role: &str) -> &'static [Permission] {
    use Permission::*;
    match role {
        "viewer" => &[ReadDocument, ViewResults],
        "processor" => &[ReadDocument, ProcessDocument, ViewResults],
        "admin" => &[ReadDocument, ProcessDocument, ViewResults, AdminAccess],
        "auditor" => &[AuditLogAccess, ViewResults],
        _ => &[],
    }
}

/// The token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Who.
    pub user_id: String,
    /// Seed 000 roles.
    pub roles: Vec<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at.
    #[serde(default)]
    pub iat: u64,
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// From the token.
    pub user_id: String,
    /// Derived from the roles.
    pub permissions: HashSet<Permission>,
}

impl Caller {
    /// Whether the caller's roles grant `p`.
    pub fn has(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }

    /// Whether the caller may see every user's records (jobs, the audit trail): the
    /// auditor and admin roles (contract DOC-9, AUD-2).
    pub fn sees_all_records(&self) -> bool {
        self.has(Permission::AuditLogAccess) || self.has(Permission::AdminAccess)
    }

    /// `Err(Forbidden)` unless the caller has `p`.
    pub fn require(&self, p: Permission) -> Result<(), AuthError> {
        if self.permissions.contains(&p) {
            Ok(())
        } else {
            Err(AuthError::Forbidden(p))
        }
    }
}

/// Signs a token: for tests and the load generator, which mint tokens per user.
pub fn mint(
    secret: &str,
    user_id: &str,
    roles: &[&str],
    ttl_secs: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        user_id: user_id.into(),
        roles: roles.iter().map(|r| r.to_string()).collect(),
        exp: (now + ttl_secs).max(0) as u64,
        iat: now.max(0) as u64,
    };
    encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
}

/// Verifies a bearer token.
pub fn verify(secret: &str, token: &str) -> Result<Caller, AuthError> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp"]);
    validation.validate_nbf = true;
    let data = decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|e| {
        tracing::debug!(reason = ?e.kind(), "token refused");
        AuthError::Invalid
    })?;
    let permissions = data
        .claims
        .roles
        .iter()
        .flat_map(|r| role_permissions(r).iter().copied())
        .collect();
    Ok(Caller {
        user_id: data.claims.user_id,
        permissions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_map_to_the_seed_permissions() {
        let t = mint("s", "u", &["viewer"], 60).expect("mint");
        let c = verify("s", &t).expect("valid");
        assert!(c.require(Permission::ViewResults).is_ok());
        assert!(c.require(Permission::ProcessDocument).is_err());
    }

    #[test]
    fn attacks_are_rejected() {
        let good = mint("s", "u", &["admin"], 60).expect("mint");
        assert!(verify("other", &good).is_err(), "wrong signature");
        let expired = mint("s", "u", &["admin"], -10).expect("mint");
        assert!(verify("s", &expired).is_err(), "expired");
        // alg: none, same claims, empty signature.
        let parts: Vec<&str> = good.split('.').collect();
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"; // {"alg":"none","typ":"JWT"}
        assert!(
            verify("s", &format!("{none_header}.{}.", parts[1])).is_err(),
            "alg none"
        );
        assert!(verify("s", "garbage").is_err());
    }
}
