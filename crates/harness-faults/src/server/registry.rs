//! The proxies a Toxiproxy server holds, and their noxious runners.
//!
//! One async mutex serialises every change: the API is called a handful of times per run,
//! and serialising keeps start/stop of listeners free of races.

use std::collections::BTreeMap;
use std::time::Duration;

use bmrng::RequestSender;
use noxious::proxy::{ProxyConfig, ProxyRunner, Runner, Toxics};
use noxious::signal::{Close, Stop, Stopper};
use noxious::toxic::{
    StreamDirection, Toxic, ToxicEvent, ToxicEventKind, ToxicEventResult, ToxicKind,
};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use super::wire::{toxic_to_json, ProxyJson, ProxySpec, ProxyUpdate};
use super::ApiError;

/// noxious' bandwidth toxic panics when a chunk is larger than `rate * 100` bytes (it
/// splits off 100 bytes where Toxiproxy splits off `rate * 100`). Every bandwidth toxic
/// therefore runs behind a hidden slicer that keeps chunks at that size, which gives
/// Toxiproxy's pacing without the panic. The API never shows the slicer.
const CHUNKER_SUFFIX: &str = "__bandwidth_chunker";

fn expand(t: &Toxic) -> Vec<Toxic> {
    match t.kind {
        ToxicKind::Bandwidth { rate } if rate > 0 => vec![
            Toxic {
                kind: ToxicKind::Slicer {
                    average_size: rate.saturating_mul(100),
                    size_variation: 0,
                    delay: 0,
                },
                name: format!("{}{CHUNKER_SUFFIX}", t.name),
                toxicity: t.toxicity,
                direction: t.direction,
            },
            t.clone(),
        ],
        _ => vec![t.clone()],
    }
}

fn expand_all(t: &Toxics) -> Toxics {
    Toxics {
        upstream: t.upstream.iter().flat_map(expand).collect(),
        downstream: t.downstream.iter().flat_map(expand).collect(),
    }
}

/// How long a stopping proxy may take to release its listener.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

struct Running {
    stopper: Stopper,
    close: Close,
    events: RequestSender<ToxicEvent, ToxicEventResult>,
    task: JoinHandle<std::io::Result<()>>,
}

struct Entry {
    spec: ProxySpec,
    toxics: Toxics,
    running: Option<Running>,
}

impl Entry {
    fn json(&self) -> ProxyJson {
        ProxyJson {
            name: self.spec.name.clone(),
            listen: self.spec.listen.clone(),
            upstream: self.spec.upstream.clone(),
            enabled: self.running.is_some(),
            toxics: self
                .toxics
                .upstream
                .iter()
                .chain(&self.toxics.downstream)
                .map(toxic_to_json)
                .collect(),
        }
    }

    fn find(&self, toxic: &str) -> Option<&Toxic> {
        self.toxics
            .upstream
            .iter()
            .chain(&self.toxics.downstream)
            .find(|t| t.name == toxic)
    }

    async fn start(&mut self) -> Result<(), ApiError> {
        if self.running.is_some() {
            return Ok(());
        }
        let config = ProxyConfig {
            name: self.spec.name.clone(),
            listen: self.spec.listen.clone(),
            upstream: self.spec.upstream.clone(),
            enabled: true,
            rand_seed: None,
        };
        let (listener, info) = ProxyRunner::initialize_proxy::<noxious::socket::TcpListener>(
            config,
            expand_all(&self.toxics),
        )
        .await
        .map_err(|e| {
            ApiError::conflict(format!(
                "proxy {}: cannot listen on {}: {e}",
                self.spec.name, self.spec.listen
            ))
        })?;
        let (events, receiver) = bmrng::channel(16);
        let (stop, stopper) = Stop::new();
        let (close, closer) = Close::new();
        let task = tokio::spawn(ProxyRunner::run_proxy(
            listener, info, receiver, stop, closer,
        ));
        self.running = Some(Running {
            stopper,
            close,
            events,
            task,
        });
        Ok(())
    }

    async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            r.stopper.stop();
            let _ = tokio::time::timeout(STOP_TIMEOUT, r.close.recv()).await;
            if tokio::time::timeout(STOP_TIMEOUT, r.task).await.is_err() {
                tracing::warn!(proxy = %self.spec.name, "proxy task did not stop in time");
            }
        }
    }

    /// Applies a toxic change to the stored list and, if running, to live connections.
    async fn apply(&mut self, kind: ToxicEventKind) -> Result<(), ApiError> {
        match &kind {
            ToxicEventKind::AddToxic(t) => list_mut(&mut self.toxics, t.direction).push(t.clone()),
            ToxicEventKind::UpdateToxic(t) => {
                self.toxics.upstream.retain(|x| x.name != t.name);
                self.toxics.downstream.retain(|x| x.name != t.name);
                list_mut(&mut self.toxics, t.direction).push(t.clone());
            }
            ToxicEventKind::RemoveToxic(name) => {
                self.toxics.upstream.retain(|x| &x.name != name);
                self.toxics.downstream.retain(|x| &x.name != name);
            }
            ToxicEventKind::RemoveAllToxics => self.toxics = Toxics::empty(),
        }
        let Some(r) = &self.running else {
            return Ok(());
        };
        let ToxicEventKind::AddToxic(added) = kind else {
            // noxious re-links live connections when a toxic goes, and drops the bytes its
            // toxics still hold; a multiplexed connection (the SUT's Redis) never recovered
            // from that in our chaos runs. Toxiproxy flushes them instead.
            // A clean reset is what we can offer: open connections are closed, clients
            // reconnect, and new connections get the remaining toxics.
            self.stop().await;
            return self.start().await;
        };
        // Adding goes to live connections; a bandwidth toxic brings its hidden chunker.
        let events = expand(&added).into_iter().map(ToxicEventKind::AddToxic);
        for kind in events {
            let event = ToxicEvent::new(self.spec.name.clone(), kind);
            match r.events.send_receive(event).await {
                Ok(Ok(())) | Ok(Err(_)) => {}
                Err(e) => {
                    return Err(ApiError::internal(format!(
                        "proxy {}: runner unavailable: {e}",
                        self.spec.name
                    )))
                }
            }
        }
        Ok(())
    }
}

fn list_mut(t: &mut Toxics, dir: StreamDirection) -> &mut Vec<Toxic> {
    match dir {
        StreamDirection::Upstream => &mut t.upstream,
        StreamDirection::Downstream => &mut t.downstream,
    }
}

/// Every proxy of one server.
#[derive(Default)]
pub struct Registry {
    proxies: Mutex<BTreeMap<String, Entry>>,
}

impl Registry {
    /// All proxies by name.
    pub async fn list(&self) -> BTreeMap<String, ProxyJson> {
        let p = self.proxies.lock().await;
        p.iter().map(|(k, e)| (k.clone(), e.json())).collect()
    }

    /// One proxy.
    pub async fn get(&self, name: &str) -> Result<ProxyJson, ApiError> {
        let p = self.proxies.lock().await;
        p.get(name).map(Entry::json).ok_or_else(|| not_found(name))
    }

    /// Creates a proxy; 409 if the name is taken.
    pub async fn create(&self, spec: ProxySpec) -> Result<ProxyJson, ApiError> {
        spec.validate()?;
        let mut p = self.proxies.lock().await;
        if p.contains_key(&spec.name) {
            return Err(ApiError::conflict(format!(
                "proxy {} already exists",
                spec.name
            )));
        }
        let entry = new_entry(spec).await?;
        let json = entry.json();
        p.insert(json.name.clone(), entry);
        Ok(json)
    }

    /// Creates or replaces a set of proxies. A proxy whose addresses are unchanged keeps
    /// its toxics and connections; one whose addresses changed is recreated.
    pub async fn populate(&self, specs: Vec<ProxySpec>) -> Result<Vec<ProxyJson>, ApiError> {
        for s in &specs {
            s.validate()?;
        }
        let mut p = self.proxies.lock().await;
        let mut out = Vec::with_capacity(specs.len());
        for spec in specs {
            let same = p
                .get(&spec.name)
                .is_some_and(|e| e.spec.listen == spec.listen && e.spec.upstream == spec.upstream);
            if same {
                if let Some(e) = p.get_mut(&spec.name) {
                    if spec.enabled {
                        e.start().await?;
                    } else {
                        e.stop().await;
                    }
                    out.push(e.json());
                }
                continue;
            }
            if let Some(mut old) = p.remove(&spec.name) {
                old.stop().await;
            }
            let entry = new_entry(spec).await?;
            out.push(entry.json());
            p.insert(entry.spec.name.clone(), entry);
        }
        Ok(out)
    }

    /// Changes addresses or the enabled flag. Disabling closes every connection.
    pub async fn update(&self, name: &str, update: ProxyUpdate) -> Result<ProxyJson, ApiError> {
        let mut p = self.proxies.lock().await;
        let e = p.get_mut(name).ok_or_else(|| not_found(name))?;
        let mut spec = e.spec.clone();
        if let Some(l) = update.listen {
            spec.listen = l;
        }
        if let Some(u) = update.upstream {
            spec.upstream = u;
        }
        spec.enabled = update.enabled.unwrap_or(e.running.is_some());
        spec.validate()?;
        let moved = spec.listen != e.spec.listen || spec.upstream != e.spec.upstream;
        if moved || !spec.enabled {
            e.stop().await;
        }
        e.spec = spec;
        if e.spec.enabled {
            e.start().await?;
        }
        Ok(e.json())
    }

    /// Stops and forgets a proxy.
    pub async fn delete(&self, name: &str) -> Result<(), ApiError> {
        let mut p = self.proxies.lock().await;
        let mut e = p.remove(name).ok_or_else(|| not_found(name))?;
        e.stop().await;
        Ok(())
    }

    /// Enables every proxy and removes every toxic.
    pub async fn reset(&self) -> Result<(), ApiError> {
        let mut p = self.proxies.lock().await;
        for e in p.values_mut() {
            e.apply(ToxicEventKind::RemoveAllToxics).await?;
            e.start().await?;
        }
        Ok(())
    }

    /// Adds a toxic; 409 if its name is taken on this proxy.
    pub async fn add_toxic(&self, proxy: &str, toxic: Toxic) -> Result<Toxic, ApiError> {
        let mut p = self.proxies.lock().await;
        let e = p.get_mut(proxy).ok_or_else(|| not_found(proxy))?;
        if e.find(&toxic.name).is_some() {
            return Err(ApiError::conflict(format!(
                "toxic {} already exists on proxy {proxy}",
                toxic.name
            )));
        }
        e.apply(ToxicEventKind::AddToxic(toxic.clone())).await?;
        Ok(toxic)
    }

    /// One toxic of a proxy.
    pub async fn toxic(&self, proxy: &str, name: &str) -> Result<Toxic, ApiError> {
        let p = self.proxies.lock().await;
        let e = p.get(proxy).ok_or_else(|| not_found(proxy))?;
        e.find(name)
            .cloned()
            .ok_or_else(|| toxic_not_found(proxy, name))
    }

    /// Replaces a toxic by name with `merge(existing)`.
    pub async fn update_toxic(
        &self,
        proxy: &str,
        name: &str,
        merge: impl FnOnce(&Toxic) -> Result<Toxic, ApiError>,
    ) -> Result<Toxic, ApiError> {
        let mut p = self.proxies.lock().await;
        let e = p.get_mut(proxy).ok_or_else(|| not_found(proxy))?;
        let existing = e.find(name).ok_or_else(|| toxic_not_found(proxy, name))?;
        let updated = merge(existing)?;
        e.apply(ToxicEventKind::UpdateToxic(updated.clone()))
            .await?;
        Ok(updated)
    }

    /// Removes a toxic by name.
    pub async fn remove_toxic(&self, proxy: &str, name: &str) -> Result<(), ApiError> {
        let mut p = self.proxies.lock().await;
        let e = p.get_mut(proxy).ok_or_else(|| not_found(proxy))?;
        if e.find(name).is_none() {
            return Err(toxic_not_found(proxy, name));
        }
        e.apply(ToxicEventKind::RemoveToxic(name.to_owned())).await
    }

    /// Stops every proxy; used when the server shuts down.
    pub async fn shutdown(&self) {
        let mut p = self.proxies.lock().await;
        for e in p.values_mut() {
            e.stop().await;
        }
        p.clear();
    }
}

async fn new_entry(spec: ProxySpec) -> Result<Entry, ApiError> {
    let mut entry = Entry {
        spec,
        toxics: Toxics::empty(),
        running: None,
    };
    if entry.spec.enabled {
        entry.start().await?;
    }
    Ok(entry)
}

fn not_found(name: &str) -> ApiError {
    ApiError::not_found(format!("proxy {name} not found"))
}

fn toxic_not_found(proxy: &str, name: &str) -> ApiError {
    ApiError::not_found(format!("toxic {name} not found on proxy {proxy}"))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use noxious::signal::Stop;

    /// A client the listener accepted just as the proxy was told to stop gets its links
    /// from a fork of the listener's stop signal, made after the signal was sent. That
    /// fork must be stopped too: otherwise the connection outlives the disable, and a
    /// `db-down` leaves one live connection to the database (seen in CI: `/health`
    /// found the database up through it for the rest of the fault).
    #[tokio::test]
    async fn a_fork_made_after_the_stop_was_sent_is_stopped() {
        let (stop, stopper) = Stop::new();
        stopper.stop();
        let (mut forked, _own) = stop.fork();
        let stopped = tokio::time::timeout(Duration::from_secs(1), forked.recv()).await;
        assert!(stopped.is_ok(), "the fork never heard the stop");
        let (mut later, _own) = stop.clone().fork();
        assert!(
            tokio::time::timeout(Duration::from_secs(1), later.recv())
                .await
                .is_ok(),
            "a fork of a clone never heard the stop"
        );
    }
}
