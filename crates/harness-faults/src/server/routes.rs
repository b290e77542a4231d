//! The REST routes, as `fn app(registry) -> Router` so tests can drive them with `oneshot`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::wire::{self, ProxyJson, ProxySpec, ProxyUpdate, ToxicJson};
use super::{ApiError, Registry, VERSION};

type Reg = State<Arc<Registry>>;
type ApiResult<T> = Result<T, ApiError>;

/// The Toxiproxy API router over `registry`.
pub fn app(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/version", get(version))
        .route("/reset", post(reset))
        .route("/populate", post(populate))
        .route("/proxies", get(list).post(create))
        .route(
            "/proxies/{proxy}",
            get(show).post(update).patch(update).delete(remove),
        )
        .route("/proxies/{proxy}/toxics", get(toxics).post(add_toxic))
        .route(
            "/proxies/{proxy}/toxics/{toxic}",
            get(show_toxic)
                .post(update_toxic)
                .patch(update_toxic)
                .delete(remove_toxic),
        )
        .with_state(registry)
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    b.map(|Json(v)| v)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

async fn version() -> Json<Value> {
    Json(json!({ "version": VERSION }))
}

async fn reset(State(r): Reg) -> ApiResult<StatusCode> {
    r.reset().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `/populate` takes a JSON array of proxies (or `{"proxies": [...]}`).
#[derive(Deserialize)]
#[serde(untagged)]
enum PopulateBody {
    List(Vec<ProxySpec>),
    Wrapped { proxies: Vec<ProxySpec> },
}

async fn populate(
    State(r): Reg,
    b: Result<Json<PopulateBody>, JsonRejection>,
) -> ApiResult<impl IntoResponse> {
    let specs = match body(b)? {
        PopulateBody::List(l) | PopulateBody::Wrapped { proxies: l } => l,
    };
    let proxies = r.populate(specs).await?;
    Ok((StatusCode::CREATED, Json(json!({ "proxies": proxies }))))
}

async fn list(State(r): Reg) -> Json<BTreeMap<String, ProxyJson>> {
    Json(r.list().await)
}

async fn create(
    State(r): Reg,
    b: Result<Json<ProxySpec>, JsonRejection>,
) -> ApiResult<impl IntoResponse> {
    let p = r.create(body(b)?).await?;
    Ok((StatusCode::CREATED, Json(p)))
}

async fn show(State(r): Reg, Path(proxy): Path<String>) -> ApiResult<Json<ProxyJson>> {
    Ok(Json(r.get(&proxy).await?))
}

async fn update(
    State(r): Reg,
    Path(proxy): Path<String>,
    b: Result<Json<ProxyUpdate>, JsonRejection>,
) -> ApiResult<Json<ProxyJson>> {
    Ok(Json(r.update(&proxy, body(b)?).await?))
}

async fn remove(State(r): Reg, Path(proxy): Path<String>) -> ApiResult<StatusCode> {
    r.delete(&proxy).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn toxics(State(r): Reg, Path(proxy): Path<String>) -> ApiResult<Json<Vec<ToxicJson>>> {
    Ok(Json(r.get(&proxy).await?.toxics))
}

async fn add_toxic(
    State(r): Reg,
    Path(proxy): Path<String>,
    b: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<ToxicJson>> {
    let toxic = wire::toxic_from_json(body(b)?)?;
    let t = r.add_toxic(&proxy, toxic).await?;
    Ok(Json(wire::toxic_to_json(&t)))
}

async fn show_toxic(
    State(r): Reg,
    Path((proxy, toxic)): Path<(String, String)>,
) -> ApiResult<Json<ToxicJson>> {
    Ok(Json(wire::toxic_to_json(&r.toxic(&proxy, &toxic).await?)))
}

async fn update_toxic(
    State(r): Reg,
    Path((proxy, toxic)): Path<(String, String)>,
    b: Result<Json<Value>, JsonRejection>,
) -> ApiResult<Json<ToxicJson>> {
    let patch = body(b)?;
    let t = r
        .update_toxic(&proxy, &toxic, |existing| {
            wire::merge_toxic(existing, patch)
        })
        .await?;
    Ok(Json(wire::toxic_to_json(&t)))
}

async fn remove_toxic(
    State(r): Reg,
    Path((proxy, toxic)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    r.remove_toxic(&proxy, &toxic).await?;
    Ok(StatusCode::NO_CONTENT)
}
