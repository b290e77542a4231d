//! `harness certify verify`: recompute a certificate's digests and say what no longer
//! matches.

use super::catalogue::Catalogue;
use super::verdict::results_sha256;
use crate::results::certificate::Certificate;

/// What a check of a certificate found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The results digest matches the file's contents.
    pub results_intact: bool,
    /// The catalogue digest is this harness's catalogue's.
    pub same_catalogue: bool,
    /// The digest recomputed from the file.
    pub recomputed: String,
}

impl Verified {
    /// Nothing was altered, and it was judged against this harness's catalogue.
    pub fn ok(&self) -> bool {
        self.results_intact && self.same_catalogue
    }
}

/// Checks `cert` against its own digests and `catalogue`.
pub fn verify(cert: &Certificate, catalogue: &Catalogue) -> Verified {
    let recomputed = results_sha256(cert);
    Verified {
        results_intact: recomputed == cert.digests.results_sha256,
        same_catalogue: catalogue.sha256() == cert.digests.catalogue_sha256,
        recomputed,
    }
}
