//! The alert components as containers: Alertmanager, then Prometheus pointed at it,
//! both on the host network so that Prometheus reaches the SUT and the receiver, and
//! Alertmanager the receiver, on loopback, as in the native backend. Their files are
//! copied in when each container is created, so nothing of theirs is on the host: the
//! session's label is all the reaper needs to remove them.

use std::net::SocketAddr;
use std::time::Duration;

use testcontainers::core::WaitFor;
use testcontainers::runners::AsyncRunner;
use testcontainers::{ContainerAsync, ContainerRequest, GenericImage, ImageExt};

use super::config::{self, Files};
use super::{args, AlertServices, AlertsConfig, ReceiverUrls};
use crate::container::{ready, MANAGED_LABEL, SESSION_LABEL};
use crate::reaper;
use crate::{probe, EnvError, ImageRef, Images};

/// Running alert containers.
pub(crate) struct DockerAlerts {
    pub prometheus: ContainerAsync<GenericImage>,
    pub alertmanager: ContainerAsync<GenericImage>,
    pub services: AlertServices,
}

/// Starts both containers for `session`, each ready and serving this session's
/// configuration.
pub(crate) async fn start(
    session: &str,
    images: &Images,
    config: &AlertsConfig,
    receiver: &ReceiverUrls,
    timeout: Duration,
) -> Result<DockerAlerts, EnvError> {
    let files = Files::in_container();
    let path = |p: &std::path::Path| p.display().to_string();

    let am_addr = loopback_port()?;
    let am = request(
        session,
        &images.alertmanager,
        args::alertmanager(&files, am_addr),
    )
    .with_copy_to(
        path(&files.alertmanager),
        config::alertmanager(config, &receiver.alerts).into_bytes(),
    );
    let alertmanager = start_one(am, "alertmanager", &images.alertmanager).await?;
    let base = format!("http://{am_addr}");
    ready("alertmanager container", timeout, &alertmanager, || {
        probe::alertmanager_serves(&base, &receiver.alerts)
    })
    .await?;

    let prom_addr = loopback_port()?;
    let text = config::prometheus(&files, config, am_addr, &receiver.targets);
    let mut prom = request(
        session,
        &images.prometheus,
        args::prometheus(&files, prom_addr),
    )
    .with_copy_to(path(&files.prometheus), text.into_bytes());
    for r in &config.rules {
        prom = prom.with_copy_to(
            path(&files.rules.join(&r.name)),
            r.text.clone().into_bytes(),
        );
    }
    let prometheus = start_one(prom, "prometheus", &images.prometheus).await?;
    let base = format!("http://{prom_addr}");
    ready("prometheus container", timeout, &prometheus, || {
        probe::prometheus_serves(&base, &files.prometheus)
    })
    .await?;
    Ok(DockerAlerts {
        prometheus,
        alertmanager,
        services: AlertServices {
            prometheus: prom_addr,
            alertmanager: am_addr,
        },
    })
}

fn loopback_port() -> Result<SocketAddr, EnvError> {
    let port = harness_support::net::free_port().map_err(|e| EnvError::io("pick a port", e))?;
    Ok(SocketAddr::from(([127, 0, 0, 1], port)))
}

fn request(session: &str, image: &ImageRef, cmd: Vec<String>) -> ContainerRequest<GenericImage> {
    GenericImage::new(&image.name, &image.tag)
        .with_wait_for(WaitFor::Nothing)
        .with_network("host")
        .with_cmd(cmd)
        .with_label(MANAGED_LABEL, "true")
        .with_label(SESSION_LABEL, session)
        .with_label(reaper::OWNER_LABEL, reaper::owner())
}

async fn start_one(
    request: ContainerRequest<GenericImage>,
    service: &'static str,
    image: &ImageRef,
) -> Result<ContainerAsync<GenericImage>, EnvError> {
    request.start().await.map_err(|e| EnvError::Container {
        service,
        image: image.to_string(),
        message: e.to_string(),
    })
}
