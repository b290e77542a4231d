//! The JSON shapes of the Toxiproxy REST API, and their mapping onto noxious' types.
//!
//! noxious serialises a toxic's direction as `direction`; the API (and `toxiproxy_rust`)
//! say `stream`, so toxics go through [`ToxicJson`] on the way out.

use noxious::toxic::Toxic;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::ApiError;

/// A proxy as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ProxyJson {
    /// Unique name.
    pub name: String,
    /// `host:port` the proxy listens on.
    pub listen: String,
    /// `host:port` it forwards to.
    pub upstream: String,
    /// Whether it accepts connections.
    pub enabled: bool,
    /// Active toxics, upstream first.
    pub toxics: Vec<ToxicJson>,
}

/// A toxic as the API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ToxicJson {
    /// Unique within its proxy; defaults to `<type>_<stream>`.
    pub name: String,
    /// latency, timeout, bandwidth, slow_close, slicer or limit_data.
    #[serde(rename = "type")]
    pub kind: String,
    /// `upstream` (client to server) or `downstream`.
    pub stream: String,
    /// Probability in [0, 1] that a connection is affected.
    pub toxicity: f32,
    /// Type-specific attributes.
    pub attributes: Map<String, Value>,
}

/// The body of a proxy create or populate entry.
#[derive(Debug, Clone, Deserialize)]
pub struct ProxySpec {
    /// Unique name.
    pub name: String,
    /// `host:port` to listen on.
    pub listen: String,
    /// `host:port` to forward to.
    pub upstream: String,
    /// Defaults to true, as in Toxiproxy.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// The body of a proxy update: any subset of the fields.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProxyUpdate {
    /// New listen address.
    pub listen: Option<String>,
    /// New upstream address.
    pub upstream: Option<String>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

impl ProxySpec {
    /// Rejects empty names and addresses that are not `host:port`.
    pub fn validate(&self) -> Result<(), ApiError> {
        if self.name.trim().is_empty() {
            return Err(ApiError::bad_request("proxy: missing name"));
        }
        check_addr("listen", &self.listen)?;
        check_addr("upstream", &self.upstream)
    }
}

/// Checks that `value` looks like `host:port` with a numeric port.
pub fn check_addr(field: &str, value: &str) -> Result<(), ApiError> {
    match value.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => Ok(()),
        _ => Err(ApiError::bad_request(format!(
            "proxy: {field} '{value}' is not host:port"
        ))),
    }
}

/// Parses a toxic from an API body, filling in the default name.
pub fn toxic_from_json(body: Value) -> Result<Toxic, ApiError> {
    let mut toxic: Toxic =
        serde_json::from_value(body).map_err(|e| ApiError::bad_request(format!("toxic: {e}")))?;
    if !(0.0..=1.0).contains(&toxic.toxicity) {
        return Err(ApiError::bad_request(format!(
            "toxic: toxicity {} is outside [0, 1]",
            toxic.toxicity
        )));
    }
    toxic.set_default_name();
    Ok(toxic)
}

/// Renders a toxic in the API's shape.
pub fn toxic_to_json(toxic: &Toxic) -> ToxicJson {
    let attributes = match serde_json::to_value(toxic.kind) {
        Ok(Value::Object(mut m)) => match m.remove("attributes") {
            Some(Value::Object(a)) => a,
            _ => Map::new(),
        },
        _ => Map::new(),
    };
    ToxicJson {
        name: toxic.name.clone(),
        kind: toxic.kind.get_name().to_owned(),
        stream: toxic.direction.to_string(),
        toxicity: toxic.toxicity,
        attributes,
    }
}

/// Applies an update body (new attributes and/or toxicity) to an existing toxic.
pub fn merge_toxic(existing: &Toxic, patch: Value) -> Result<Toxic, ApiError> {
    let mut current = serde_json::to_value(toxic_to_json(existing))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let Value::Object(patch) = patch else {
        return Err(ApiError::bad_request(
            "toxic: update body must be an object",
        ));
    };
    for (k, v) in patch {
        match (k.as_str(), current.get_mut(&k)) {
            ("attributes", Some(Value::Object(attrs))) => {
                if let Value::Object(new) = v {
                    attrs.extend(new);
                }
            }
            ("toxicity", _) => current["toxicity"] = v,
            _ => {}
        }
    }
    let mut merged = toxic_from_json(current)?;
    merged.name = existing.name.clone();
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn toxic_round_trips_in_the_api_shape() {
        let t = toxic_from_json(json!({"type":"latency","stream":"upstream","toxicity":0.5,
            "attributes":{"latency":300,"jitter":10}}))
        .expect("valid toxic");
        assert_eq!(t.name, "latency_upstream");
        let j = toxic_to_json(&t);
        assert_eq!(j.stream, "upstream");
        assert_eq!(j.kind, "latency");
        assert_eq!(j.attributes["latency"], 300);
    }

    #[test]
    fn update_merges_attributes() {
        let t =
            toxic_from_json(json!({"type":"latency","attributes":{"latency":300}})).expect("ok");
        let m = merge_toxic(&t, json!({"attributes":{"latency":50}})).expect("merge");
        assert_eq!(toxic_to_json(&m).attributes["latency"], 50);
        assert_eq!(m.name, t.name);
    }

    #[test]
    fn bad_toxics_and_addresses_are_rejected() {
        assert!(toxic_from_json(json!({"type":"nope"})).is_err());
        assert!(toxic_from_json(
            json!({"type":"latency","toxicity":2.0,"attributes":{"latency":1}})
        )
        .is_err());
        assert!(check_addr("listen", "localhost").is_err());
        assert!(check_addr("listen", "127.0.0.1:99999").is_err());
        assert!(check_addr("listen", "127.0.0.1:8474").is_ok());
    }
}
