//! What every container the environment starts has in common, whichever part starts
//! it (the backend's services, the alert components, the reaper): the labels that name
//! its session, and the wait for it to answer. A leaf, so that each of those parts can
//! use it without reaching into another.

use testcontainers::{ContainerAsync, GenericImage};

use crate::EnvError;

/// Label every container carries, for leak checks and manual cleanup.
pub const MANAGED_LABEL: &str = "harness.managed";
/// Label with the environment's session id.
pub const SESSION_LABEL: &str = "harness.session";

/// Waits until `probe` succeeds against `container`, for at most `timeout`; on failure
/// the error ends with the container's log.
pub(crate) async fn ready<F, Fut>(
    service: &'static str,
    timeout: std::time::Duration,
    container: &ContainerAsync<GenericImage>,
    probe: F,
) -> Result<(), EnvError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), crate::probe::ProbeError>>,
{
    match crate::probe::retry_until(timeout, || Ok(()), probe).await {
        Ok(()) => Ok(()),
        Err(reason) => {
            let log = container.stderr_to_vec().await.ok();
            Err(EnvError::NotReady {
                service,
                timeout,
                reason: reason.to_string(),
                log_tail: log.map(|l| String::from_utf8_lossy(&l).into_owned()),
            })
        }
    }
}
