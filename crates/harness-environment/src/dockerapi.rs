//! The few Docker Engine API calls the harness makes itself (testcontainers makes the
//! rest): ping, list and remove the containers with a label. Plain HTTP/1.0 over the
//! daemon's socket, so the reaper needs no client library and no `docker` program.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A Docker API call that failed.
#[derive(Debug, thiserror::Error)]
pub enum DockerApiError {
    /// The daemon could not be reached.
    #[error("{endpoint}: {source}")]
    Connect {
        /// `DOCKER_HOST` or the default socket.
        endpoint: String,
        /// What the OS said.
        source: std::io::Error,
    },
    /// No answer in time.
    #[error("{0}: no answer within 10 s")]
    Timeout(String),
    /// An answer that is not the one asked for.
    #[error("{method} {path}: HTTP {status}")]
    Status {
        /// The method.
        method: &'static str,
        /// The path.
        path: String,
        /// The status code (0 when the answer was not HTTP).
        status: u16,
    },
    /// A list that is not JSON.
    #[error("GET {0}: not the JSON the API documents")]
    Body(String),
}

/// Where the Docker daemon is: `DOCKER_HOST`, else the default socket.
pub fn endpoint() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into())
}

/// One request; returns the status and the body.
pub async fn call(method: &'static str, path: &str) -> Result<(u16, Vec<u8>), DockerApiError> {
    let endpoint = endpoint();
    let request = format!("{method} {path} HTTP/1.0\r\nHost: docker\r\n\r\n");
    let connect = |source| DockerApiError::Connect {
        endpoint: endpoint.clone(),
        source,
    };
    let exchange = async {
        let mut reply = Vec::new();
        if let Some(p) = endpoint.strip_prefix("unix://") {
            let mut s = tokio::net::UnixStream::connect(p).await?;
            s.write_all(request.as_bytes()).await?;
            s.read_to_end(&mut reply).await?;
        } else if let Some(addr) = endpoint.strip_prefix("tcp://") {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            s.write_all(request.as_bytes()).await?;
            s.read_to_end(&mut reply).await?;
        } else {
            return Err(std::io::Error::other("unsupported DOCKER_HOST scheme"));
        }
        Ok(reply)
    };
    let reply = tokio::time::timeout(Duration::from_secs(10), exchange)
        .await
        .map_err(|_| DockerApiError::Timeout(endpoint.clone()))?
        .map_err(connect)?;
    let status = reply
        .get(9..12)
        .and_then(|s| std::str::from_utf8(s).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or_else(Vec::new, |i| reply[i + 4..].to_vec());
    Ok((status, body))
}

/// A container as the list call describes it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ContainerSummary {
    /// Its id.
    #[serde(rename = "Id")]
    pub id: String,
    /// Its labels.
    #[serde(rename = "Labels", default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Every container, running or not, that carries `label` (`key` or `key=value`).
pub async fn containers_with(label: &str) -> Result<Vec<ContainerSummary>, DockerApiError> {
    let filters = serde_json::json!({ "label": [label] }).to_string();
    let path = format!(
        "/containers/json?all=1&filters={}",
        percent_encode(&filters)
    );
    let (status, body) = call("GET", &path).await?;
    if status != 200 {
        return Err(DockerApiError::Status {
            method: "GET",
            path,
            status,
        });
    }
    serde_json::from_slice(&body).map_err(|_| DockerApiError::Body(path))
}

/// Removes a container, stopping it first, with its anonymous volumes. One already gone
/// is not an error.
pub async fn remove_container(id: &str) -> Result<(), DockerApiError> {
    let path = format!("/containers/{id}?force=1&v=1");
    match call("DELETE", &path).await? {
        (204 | 404, _) => Ok(()),
        (status, _) => Err(DockerApiError::Status {
            method: "DELETE",
            path,
            status,
        }),
    }
}

/// `text` with everything but unreserved characters percent-encoded, for a query.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_filter_is_encoded_for_the_query() {
        assert_eq!(
            super::percent_encode(r#"{"label":["a=b"]}"#),
            "%7B%22label%22%3A%5B%22a%3Db%22%5D%7D"
        );
    }
}
