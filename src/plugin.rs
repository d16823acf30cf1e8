//! The Grafana plugin protocol (glue only): QueryData, CheckHealth and
//! CallResource on the `pluginv2` services generated from Grafana's current
//! proto (`crate::pluginv2`). Every query of a request runs in its own task;
//! a bad or failing query becomes an error on its own refId, with its status
//! and error source, and the others still answer.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{json, Value};
use tonic::{Request, Response, Status};

use crate::datasource::Datasource;
use crate::error::{ErrorSource, QueryError};
use crate::model::{FlowQuery, Format, QueryJson, Request as QueryRequest, TimeRange};
use crate::pluginv2 as pb;
use crate::settings::{InstanceSettings, Settings};

/// Most values a `values` resource call returns.
const MAX_VALUES: usize = 1_000;

/// Most datasources kept built at once; the least recently used is dropped
/// (and built again when asked), so requests naming ever new datasources
/// cannot grow the plugin without bound.
pub const MAX_DATASOURCES: usize = 256;

/// Longest resource path quoted in a 404 answer, in characters.
const MAX_QUOTED_PATH: usize = 100;

/// A datasource's key: Grafana's id and uid, and a hash of its settings.
type InstanceKey = (i64, String, u64);

/// The plugin: a cache of datasources by instance and settings.
#[derive(Debug, Default)]
pub struct FlowlensPlugin {
    instances: Mutex<Instances>,
}

/// Built datasources, each with when it was last asked for (a counter).
#[derive(Debug, Default)]
struct Instances {
    by_key: HashMap<InstanceKey, (Arc<Datasource>, u64)>,
    clock: u64,
}

impl Instances {
    fn get(&mut self, key: &InstanceKey) -> Option<Arc<Datasource>> {
        self.clock += 1;
        let clock = self.clock;
        self.by_key.get_mut(key).map(|(ds, used)| {
            *used = clock;
            ds.clone()
        })
    }

    /// Keeps `ds` as the only version of its datasource, dropping the least
    /// recently used others beyond [`MAX_DATASOURCES`].
    fn insert(&mut self, key: InstanceKey, ds: Arc<Datasource>) {
        self.by_key.retain(|(id, uid, _), _| (*id, uid) != (key.0, &key.1));
        while self.by_key.len() >= MAX_DATASOURCES {
            let oldest = self.by_key.iter().min_by_key(|(_, (_, used))| *used).map(|(k, _)| k.clone());
            match oldest {
                Some(k) => self.by_key.remove(&k),
                None => break,
            };
        }
        self.clock += 1;
        self.by_key.insert(key, (ds, self.clock));
    }
}

impl FlowlensPlugin {
    /// The datasource of a request, built once per settings version.
    fn datasource(&self, ctx: Option<&pb::PluginContext>) -> Result<Arc<Datasource>, QueryError> {
        let i = ctx
            .and_then(|c| c.data_source_instance_settings.as_ref())
            .ok_or_else(|| QueryError::plugin("the request carries no datasource settings"))?;
        // Keyed by the whole settings, not only Grafana's last-updated time,
        // so an edited datasource is never answered with stale settings.
        let fingerprint = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            prost::Message::encode_to_vec(i).hash(&mut h);
            h.finish()
        };
        let key = (i.id, i.uid.clone(), fingerprint);
        if let Some(ds) = self.instances.lock().expect("cache lock").get(&key) {
            return Ok(ds);
        }
        let settings = Settings::from_instance(&InstanceSettings {
            url: &i.url,
            basic_auth_enabled: i.basic_auth_enabled,
            basic_auth_user: &i.basic_auth_user,
            json_data: &i.json_data,
            secure: Some(&i.decrypted_secure_json_data),
        })
        .map_err(|e| QueryError::plugin(e.to_string()))?;
        let settings = Settings { uid: i.uid.clone(), name: i.name.clone(), ..settings };
        let ds = Arc::new(Datasource::new(settings)?);
        self.instances.lock().expect("cache lock").insert(key, ds.clone());
        Ok(ds)
    }
}

/// Grafana's name for who caused an error (`DataResponse.errorSource`).
fn error_source(origin: ErrorSource) -> &'static str {
    match origin {
        ErrorSource::Plugin => "plugin",
        ErrorSource::Downstream => "downstream",
    }
}

/// One refId's error as Grafana reads it: message, HTTP-like status and
/// error source, no frames.
fn error_response(e: &QueryError) -> pb::DataResponse {
    pb::DataResponse {
        error: e.message.clone(),
        status: i32::from(e.status),
        error_source: error_source(e.origin).to_string(),
        ..Default::default()
    }
}

/// Whether Grafana asks for alerting or a server-side expression (which
/// read numbers, not panels): the headers its alerting (`FromAlert`) and
/// expressions (`FromExpression`) set on the request.
fn for_alerting(headers: &HashMap<String, String>) -> bool {
    ["FromAlert", "FromExpression"].iter().any(|h| headers.get(*h).is_some_and(|v| v == "true"))
}

async fn answer(ds: Arc<Datasource>, q: pb::DataQuery, alerting: bool) -> Result<Vec<Vec<u8>>, QueryError> {
    let ref_id = q.ref_id.clone();
    let range = q.time_range.unwrap_or_default();
    let req = QueryRequest {
        range: TimeRange { from_ms: range.from_epoch_ms, to_ms: range.to_epoch_ms },
        interval_ms: q.interval_ms,
        max_data_points: q.max_data_points,
    };
    // Reading a query (up to 16 MiB of JSON, value lists de-duplicated) is
    // CPU work: on the blocking pool, as `render` is.
    let settings = ds.settings.clone();
    let mut query = off_the_workers(move || {
        if alerting {
            FlowQuery::parse_for_alerting(&q.json, &req, &settings)
        } else {
            FlowQuery::parse(&q.json, &req, &settings)
        }
    })
    .await?;
    query.ref_id = ref_id;
    let frames = ds.query(&query).await?;
    frames
        .into_iter()
        .map(|f| f.into_arrow().map_err(|e| QueryError::plugin(format!("encoding the frame failed: {e}"))))
        .collect()
}

#[tonic::async_trait]
impl pb::data_server::Data for FlowlensPlugin {
    async fn query_data(
        &self,
        request: Request<pb::QueryDataRequest>,
    ) -> Result<Response<pb::QueryDataResponse>, Status> {
        let request = request.into_inner();
        let ds = self.datasource(request.plugin_context.as_ref());
        let alerting = for_alerting(&request.headers);
        // A JoinSet aborts every query still running when Grafana cancels
        // the request (this future is dropped), so nothing outlives it.
        let mut tasks = tokio::task::JoinSet::new();
        let mut ref_ids = HashMap::new();
        for q in request.queries {
            let ref_id = q.ref_id.clone();
            let ds = ds.clone();
            let handle = tasks.spawn(async move { answer(ds?, q, alerting).await });
            ref_ids.insert(handle.id(), ref_id);
        }
        let mut responses = HashMap::new();
        // An error may quote the backend, which may have echoed the request's
        // credentials: scrubbed before it is answered or logged.
        let scrubbed = |e: QueryError| match &ds {
            Ok(ds) => QueryError { message: ds.scrub(&e.message), ..e },
            Err(_) => e,
        };
        while let Some(joined) = tasks.join_next_with_id().await {
            let (id, result) = match joined {
                Ok((id, result)) => (id, result),
                Err(e) => (e.id(), Err(QueryError::plugin(format!("internal error in the plugin: {e}")))),
            };
            let ref_id = ref_ids.remove(&id).unwrap_or_default();
            let response = match result {
                Ok(frames) => pb::DataResponse {
                    frames,
                    status: 200,
                    format: pb::DataFrameFormat::Arrow as i32,
                    ..Default::default()
                },
                Err(e) => {
                    let e = scrubbed(e);
                    tracing::info!(ref_id = %ref_id, error = %e.message, "query failed");
                    error_response(&e)
                }
            };
            responses.insert(ref_id, response);
        }
        Ok(Response::new(pb::QueryDataResponse { responses }))
    }

    type QueryChunkedDataStream = ChunkedStream;

    /// Not implemented, answered as the Go SDK answers for a plugin without a
    /// chunked handler: one message with status 501, so Grafana uses QueryData.
    async fn query_chunked_data(
        &self,
        _: Request<pb::QueryChunkedDataRequest>,
    ) -> Result<Response<ChunkedStream>, Status> {
        let response = pb::QueryChunkedDataResponse { status: 501, ..Default::default() };
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(response)))))
    }
}

type ChunkedStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::QueryChunkedDataResponse, Status>> + Send>>;

#[tonic::async_trait]
impl pb::diagnostics_server::Diagnostics for FlowlensPlugin {
    async fn check_health(
        &self,
        request: Request<pb::CheckHealthRequest>,
    ) -> Result<Response<pb::CheckHealthResponse>, Status> {
        let health = match self.datasource(request.get_ref().plugin_context.as_ref()) {
            Ok(ds) => {
                let health = crate::health::check(&ds).await;
                crate::health::Health { message: ds.scrub(&health.message), ..health }
            }
            Err(e) => crate::health::Health { ok: false, message: e.message },
        };
        let status = if health.ok {
            pb::check_health_response::HealthStatus::Ok
        } else {
            pb::check_health_response::HealthStatus::Error
        };
        Ok(Response::new(pb::CheckHealthResponse {
            status: status as i32,
            message: health.message,
            json_details: Vec::new(),
        }))
    }

    async fn collect_metrics(
        &self,
        _: Request<pb::CollectMetricsRequest>,
    ) -> Result<Response<pb::CollectMetricsResponse>, Status> {
        Ok(Response::new(pb::CollectMetricsResponse::default()))
    }
}

/// Body of the `render` and `values` resource calls.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ResourceBody {
    query: Option<Value>,
    range: Option<RangeJson>,
    interval_ms: i64,
    max_data_points: i64,
    field: Option<String>,
    limit: Option<usize>,
}

#[derive(Debug, Deserialize)]
struct RangeJson {
    from: i64,
    to: i64,
}

impl ResourceBody {
    fn flow_query(&self, ds: &Datasource, overrides: Value) -> Result<FlowQuery, QueryError> {
        let mut query = self.query.clone().unwrap_or_else(|| json!({}));
        if !query.is_object() {
            return Err(QueryError::plugin("`query` must be a query object"));
        }
        if let (Some(target), Some(extra)) = (query.as_object_mut(), overrides.as_object()) {
            target.extend(extra.clone());
        }
        let now = chrono::Utc::now().timestamp_millis();
        let range = self
            .range
            .as_ref()
            .map_or(TimeRange { from_ms: now - 3_600_000, to_ms: now }, |r| TimeRange { from_ms: r.from, to_ms: r.to });
        let req = QueryRequest { range, interval_ms: self.interval_ms, max_data_points: self.max_data_points };
        let json: QueryJson =
            serde_json::from_value(query).map_err(|e| QueryError::plugin(format!("the query is not valid: {e}")))?;
        FlowQuery::from_json(json, &req, &ds.settings)
    }
}

/// The HTTP method each resource path takes (as the frontend calls it:
/// `postResource('render' | 'values')`, `getResource('fields')`).
fn resource_method(path: &str) -> Option<&'static str> {
    match path {
        "render" | "values" => Some("POST"),
        "fields" => Some("GET"),
        _ => None,
    }
}

/// At most `max` characters of `text`, marked when cut.
fn cut_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// An unknown path (404) or a wrong method (405, with the method to use),
/// before any datasource is built.
fn resource_route(req: &pb::CallResourceRequest) -> Result<(), (QueryError, Option<&'static str>)> {
    let path = req.path.trim_matches('/');
    match resource_method(path) {
        None => Err((
            QueryError {
                status: 404,
                ..QueryError::plugin(format!(
                    "no resource `{}`; use render, values or fields",
                    cut_chars(path, MAX_QUOTED_PATH)
                ))
            },
            None,
        )),
        Some(method) if !req.method.eq_ignore_ascii_case(method) => Err((
            QueryError {
                status: 405,
                ..QueryError::plugin(format!(
                    "resource `{path}` is called with {method}, not `{}`",
                    cut_chars(&req.method, 20)
                ))
            },
            Some(method),
        )),
        Some(_) if req.body.len() > MAX_RESOURCE_BODY => Err((
            QueryError {
                status: 413,
                ..QueryError::plugin(format!(
                    "the request body of `{path}` has {} bytes, more than the {} MiB a resource call may send",
                    req.body.len(),
                    MAX_RESOURCE_BODY >> 20
                ))
            },
            None,
        )),
        Some(_) => Ok(()),
    }
}

/// The largest body a resource call may send (the editor's `render` and
/// `values` bodies are a query: kilobytes). Larger ones get a 413; gRPC
/// messages are read up to [`MAX_GRPC_MESSAGE`], so those between the two
/// reach this answer instead of a transport error.
const MAX_RESOURCE_BODY: usize = 4 << 20;

/// The largest gRPC message the resource service reads.
const MAX_GRPC_MESSAGE: usize = 16 << 20;

async fn resource(plugin: &FlowlensPlugin, req: &pb::CallResourceRequest) -> Result<Value, QueryError> {
    let ds = plugin.datasource(req.plugin_context.as_ref())?;
    let answer = if req.path.trim_matches('/') == "render" {
        // Reading and rendering a body of up to 4 MiB (lists of up to
        // MAX_LIST_VALUES values) is CPU work that never waits on a backend:
        // done on the blocking pool, so the runtime's workers keep answering
        // other calls meanwhile. It cannot be stopped halfway; the caps bound
        // it (tens of milliseconds, README "Guarantees and limits").
        let (ds, body) = (ds.clone(), req.body.clone());
        off_the_workers(move || render(&ds, &body)).await
    } else {
        resource_of(&ds, req).await
    };
    // An error may quote the backend: scrubbed of the datasource's secrets.
    answer.map_err(|e| QueryError { message: ds.scrub(&e.message), ..e })
}

/// CPU work that never waits on a backend, run on the blocking pool so the
/// runtime's workers keep answering other calls meanwhile.
async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, QueryError> + Send + 'static,
) -> Result<T, QueryError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(QueryError::plugin(format!("internal error in the plugin: {e}"))))
}

/// A resource call's body, read.
fn resource_body(body: &[u8]) -> Result<ResourceBody, QueryError> {
    if body.is_empty() {
        return Ok(ResourceBody::default());
    }
    serde_json::from_slice(body).map_err(|e| QueryError::plugin(format!("the request body is not valid: {e}")))
}

/// The `render` resource: the backend queries a query starts with.
fn render(ds: &Datasource, body: &[u8]) -> Result<Value, QueryError> {
    let q = resource_body(body)?.flow_query(ds, json!({}))?;
    Ok(json!({"queries": ds.render(&q)}))
}

async fn resource_of(ds: &Datasource, req: &pb::CallResourceRequest) -> Result<Value, QueryError> {
    let body = resource_body(&req.body)?;
    match req.path.trim_matches('/') {
        "values" => {
            let field = body.field.clone().ok_or_else(|| QueryError::plugin("`field` is required"))?;
            let limit = body.limit.unwrap_or(100).min(MAX_VALUES);
            let mut overrides = json!({"format": "table", "groupBy": [field], "limit": limit, "other": false});
            // A name's values: of the flows in, unless the variable says.
            let directed = body.query.as_ref().is_some_and(|q| q.get("direction").is_some());
            if crate::names::dim(&field).is_some() && !directed {
                overrides["direction"] = json!("in");
            }
            let q = body.flow_query(ds, overrides)?;
            let ranked = ds.ranking(&q, limit).await?;
            Ok(
                json!({"values": ranked.into_iter().map(|(k, _)| k.into_iter().next().unwrap_or_default()).collect::<Vec<_>>()}),
            )
        }
        "fields" => {
            let mut fields: Vec<Value> = ds
                .settings
                .schema
                .available_fields()
                .into_iter()
                .map(|(name, t)| json!({"name": name, "type": t, "label": crate::frames::header(&name)}))
                .collect();
            if !ds.settings.inside.is_empty() {
                for name in [crate::model::INSIDE_ADDR, crate::model::OUTSIDE_ADDR] {
                    fields.push(
                        json!({"name": name, "type": "ip", "label": crate::frames::header(name), "relative": true}),
                    );
                }
            }
            if !ds.settings.inside.is_empty() {
                for d in crate::names::DIMS.iter().filter(|d| ds.names.configured(d)) {
                    fields.push(json!({"name": d.name, "type": "string", "label": crate::frames::header(d.name), "relative": true, "name_of": d.source()}));
                }
            }
            Ok(json!({"fields": fields, "formats": [Format::Stat, Format::Series, Format::Table, Format::Logs]}))
        }
        other => Err(QueryError {
            status: 404,
            ..QueryError::plugin(format!("no resource `{}`", cut_chars(other, MAX_QUOTED_PATH)))
        }),
    }
}

type ResourceStream = Pin<Box<dyn tokio_stream::Stream<Item = Result<pb::CallResourceResponse, Status>> + Send>>;

#[tonic::async_trait]
impl pb::resource_server::Resource for FlowlensPlugin {
    type CallResourceStream = ResourceStream;

    async fn call_resource(
        &self,
        request: Request<pb::CallResourceRequest>,
    ) -> Result<Response<ResourceStream>, Status> {
        let (result, allow) = match resource_route(request.get_ref()) {
            Ok(()) => (resource(self, request.get_ref()).await, None),
            Err((e, allow)) => (Err(e), allow),
        };
        let (code, body) = match result {
            Ok(v) => (200, v),
            Err(e) => (i32::from(e.status), json!({"error": e.message})),
        };
        let mut headers =
            HashMap::from([("Content-Type".to_string(), pb::StringList { values: vec!["application/json".into()] })]);
        if let Some(method) = allow {
            headers.insert("Allow".to_string(), pb::StringList { values: vec![method.into()] });
        }
        let response =
            pb::CallResourceResponse { code, headers, body: serde_json::to_vec(&body).unwrap_or_default().into() };
        Ok(Response::new(Box::pin(tokio_stream::once(Ok(response)))))
    }
}

/// Serves the plugin the way Grafana's go-plugin host expects: listen on a
/// loopback port, print the handshake line, serve gRPC with health checks.
pub async fn serve() -> Result<(), Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(out, "1|2|tcp|{address}|grpc")?;
        out.flush()?;
    }
    // TCP_NODELAY, as Go's listeners set it: otherwise each answer's last
    // small HTTP/2 frame waits for the client's delayed ACK (~40 ms a query).
    let incoming = tonic::transport::server::TcpIncoming::from_listener(listener, true, None)
        .map_err(|e| -> Box<dyn std::error::Error> { e.to_string().into() })?;
    let plugin = Arc::new(FlowlensPlugin::default());
    let (mut reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("plugin", tonic_health::ServingStatus::Serving).await;
    tracing::info!(%address, "flowlens plugin serving");
    tonic::transport::Server::builder()
        .add_service(health)
        .add_service(pb::data_server::DataServer::from_arc(plugin.clone()))
        .add_service(pb::diagnostics_server::DiagnosticsServer::from_arc(plugin.clone()))
        .add_service(pb::resource_server::ResourceServer::from_arc(plugin).max_decoding_message_size(MAX_GRPC_MESSAGE))
        .serve_with_incoming(incoming)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(uid: &str, url: &str) -> pb::PluginContext {
        pb::PluginContext {
            data_source_instance_settings: Some(pb::DataSourceInstanceSettings {
                id: 1,
                uid: uid.into(),
                url: url.into(),
                json_data: b"{}".to_vec(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_datasource_cache_keeps_the_most_recently_used() {
        let plugin = FlowlensPlugin::default();
        let ds = |uid: &str| plugin.datasource(Some(&context(uid, "http://127.0.0.1:9428"))).unwrap();
        let first = ds("ds-0");
        assert!(Arc::ptr_eq(&first, &ds("ds-0")), "built once");
        for i in 1..MAX_DATASOURCES + 50 {
            ds(&format!("ds-{i}"));
            // ds-0 stays in use; ds-1 is never asked again.
            assert!(Arc::ptr_eq(&first, &ds("ds-0")), "ds-0 is recently used at {i}");
        }
        let cache = plugin.instances.lock().unwrap();
        assert_eq!(cache.by_key.len(), MAX_DATASOURCES);
        let kept = |uid: &str| cache.by_key.keys().any(|(_, u, _)| u == uid);
        assert!(kept("ds-0") && kept(&format!("ds-{}", MAX_DATASOURCES + 49)));
        assert!(!kept("ds-1") && !kept("ds-50"), "the least recently used were dropped");
        drop(cache);
        // An edited datasource replaces its older version.
        ds("edited");
        let edited = plugin.datasource(Some(&context("edited", "http://127.0.0.1:9429"))).unwrap();
        let cache = plugin.instances.lock().unwrap();
        assert_eq!(cache.by_key.keys().filter(|(_, u, _)| u == "edited").count(), 1);
        assert_eq!(edited.settings.url.port(), Some(9429));
    }

    #[test]
    fn resources_take_their_method_and_unknown_paths_are_cut() {
        let call = |path: &str, method: &str| pb::CallResourceRequest {
            path: path.into(),
            method: method.into(),
            ..Default::default()
        };
        for (path, method) in [("render", "POST"), ("values", "post"), ("fields", "GET"), ("/fields/", "GET")] {
            assert!(resource_route(&call(path, method)).is_ok(), "{method} {path}");
        }
        for (path, method, allow) in
            [("render", "GET", "POST"), ("values", "DELETE", "POST"), ("fields", "POST", "GET"), ("fields", "", "GET")]
        {
            let (e, allowed) = resource_route(&call(path, method)).unwrap_err();
            assert_eq!((e.status, allowed), (405, Some(allow)), "{method} {path}");
            assert!(e.message.contains(&format!("is called with {allow}")), "{}", e.message);
        }
        let long = "x".repeat(10_000);
        let (e, allowed) = resource_route(&call(&long, "GET")).unwrap_err();
        assert_eq!((e.status, allowed), (404, None));
        assert!(e.message.contains(&format!("`{}…`", "x".repeat(MAX_QUOTED_PATH))), "{}", e.message);
        assert!(e.message.len() < 200, "{}", e.message);
    }
}
