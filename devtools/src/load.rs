//! Push flow records into VictoriaLogs the way real pipelines do: raw lines
//! through the Loki push API (Lambda Promtail reading S3 files), or fields
//! parsed at ingest through the JSON-lines API (Vector and the like).

use std::time::Duration;

use chrono::{DateTime, SecondsFormat};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::gen::{FlowRecord, Template, Value, MISSION_FORMAT};

/// Records per push request (an S3 flow-log file holds a few thousand).
pub const BATCH_RECORDS: usize = 5000;

/// The labels Lambda Promtail's VictoriaLogs target declares as stream fields.
pub const PROMTAIL_STREAM_FIELDS: &str = "logtype,environment,logger_type";

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The request could not be sent or its answer not read.
    #[error("request to {url} failed: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an error status.
    #[error("{url} answered {status}: {body}")]
    Status { url: String, status: u16, body: String },
}

/// Pushes records to one VictoriaLogs (single node or a cluster's insert node).
pub struct Loader {
    base_url: String,
    client: reqwest::Client,
    basic_auth: Option<(String, String)>,
}

/// Loki's JSON push body with one stream.
#[derive(serde::Serialize)]
struct LokiPush {
    streams: [LokiStream; 1],
}

/// One stream's labels and `[nanoseconds, line]` pairs.
#[derive(serde::Serialize)]
struct LokiStream {
    stream: serde_json::Map<String, serde_json::Value>,
    values: Vec<[String; 2]>,
}

impl Loader {
    /// A loader for the VictoriaLogs at `base_url` (e.g. `http://127.0.0.1:9428`).
    pub fn new(base_url: &str) -> Loader {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(120))
            .build()
            .expect("a reqwest client with default TLS builds");
        Loader { base_url: base_url.trim_end_matches('/').to_string(), client, basic_auth: None }
    }

    /// Send HTTP basic auth with every request.
    pub fn with_basic_auth(mut self, username: &str, password: &str) -> Loader {
        self.basic_auth = Some((username.to_string(), password.to_string()));
        self
    }

    /// Push `records` rendered in `format` as Lambda Promtail does: Loki push
    /// API, JSON body, stream fields `logtype,environment,logger_type`, labels
    /// `stream`, in batches of [`BATCH_RECORDS`] records each preceded by the
    /// format's header line (as every S3 file starts), stamped with the
    /// batch's first record's time.
    ///
    /// Lines in the same millisecond get consecutive nanosecond offsets
    /// (records should come sorted by time, as [`crate::gen::generate`] returns
    /// them), so no two lines of a stream share a timestamp: Loki would drop
    /// exact duplicates. Returns the number of lines sent, header lines included.
    pub async fn push_raw(
        &self,
        records: &[FlowRecord],
        format: &str,
        stream: &[(&str, &str)],
    ) -> Result<usize, LoadError> {
        let url = format!("{}/insert/loki/api/v1/push?_stream_fields={PROMTAIL_STREAM_FIELDS}", self.base_url);
        let template = Template::parse(format);
        let header = template.header();
        let mut clock = NanoClock::default();
        let mut sent = 0;
        for batch in records.chunks(BATCH_RECORDS) {
            let mut values = Vec::with_capacity(batch.len() + 1);
            values.push([clock.stamp(batch[0].time_ms).to_string(), header.clone()]);
            for record in batch {
                values.push([clock.stamp(record.time_ms).to_string(), template.render(record)]);
            }
            sent += values.len();
            let body = LokiPush { streams: [LokiStream { stream: labels(stream), values }] };
            let body = serde_json::to_vec(&body).expect("push body serializes");
            self.post(&url, "application/json", body).await?;
        }
        Ok(sent)
    }

    /// Push `records` with their fields parsed, as an ingest pipeline would:
    /// JSON-lines API, one object per record with the `stream` labels, every
    /// field of [`MISSION_FORMAT`] that is not `-` under the name
    /// `field_names(canonical)`, `_time` (RFC 3339, milliseconds) and a short
    /// `_msg`. The stream fields are the `stream` label names. Returns the
    /// number of records sent.
    pub async fn push_fields(
        &self,
        records: &[FlowRecord],
        stream: &[(&str, &str)],
        field_names: &dyn Fn(&str) -> String,
    ) -> Result<usize, LoadError> {
        let stream_fields: Vec<&str> = stream.iter().map(|(name, _)| *name).collect();
        let url = format!(
            "{}/insert/jsonline?_stream_fields={}&_time_field=_time&_msg_field=_msg",
            self.base_url,
            stream_fields.join(",")
        );
        let fields: Vec<(String, String)> = Template::parse(MISSION_FORMAT)
            .fields()
            .map(|aws| {
                let canonical = crate::gen::canonical(aws);
                let name = field_names(&canonical);
                (canonical, name)
            })
            .collect();
        for batch in records.chunks(BATCH_RECORDS) {
            let mut body = Vec::with_capacity(batch.len() * 700);
            for record in batch {
                let line = FieldLine { record, stream, fields: &fields };
                serde_json::to_writer(&mut body, &line).expect("a JSON object serializes");
                body.push(b'\n');
            }
            // A form content type would make VictoriaLogs silently drop lines.
            self.post(&url, "application/stream+json", body).await?;
        }
        Ok(records.len())
    }

    /// Make everything pushed so far searchable now (`/internal/force_flush`).
    /// On a cluster, call it on the insert node first (it buffers for about
    /// two seconds), then on every storage node: see
    /// [`crate::vlserver::VlCluster::flush_urls`].
    pub async fn force_flush(&self) -> Result<(), LoadError> {
        let url = format!("{}/internal/force_flush", self.base_url);
        let mut request = self.client.get(&url);
        if let Some((user, password)) = &self.basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        check(&url, request.send().await).await
    }

    async fn post(&self, url: &str, content_type: &str, body: Vec<u8>) -> Result<(), LoadError> {
        let mut request = self.client.post(url).header(reqwest::header::CONTENT_TYPE, content_type).body(body);
        if let Some((user, password)) = &self.basic_auth {
            request = request.basic_auth(user, Some(password));
        }
        check(url, request.send().await).await
    }
}

/// Turn a transport failure or an error status into a [`LoadError`] with the
/// server's answer.
async fn check(url: &str, response: Result<reqwest::Response, reqwest::Error>) -> Result<(), LoadError> {
    let http = |source| LoadError::Http { url: url.to_string(), source };
    let response = response.map_err(http)?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let body = response.text().await.map_err(http)?;
    Err(LoadError::Status { url: url.to_string(), status: status.as_u16(), body })
}

fn labels(stream: &[(&str, &str)]) -> serde_json::Map<String, serde_json::Value> {
    stream.iter().map(|(name, value)| (name.to_string(), serde_json::Value::from(*value))).collect()
}

/// The JSON-lines object of one record: stream labels, `_time`, `_msg`, then
/// each present field as `(canonical, log field name)` says.
struct FieldLine<'a> {
    record: &'a FlowRecord,
    stream: &'a [(&'a str, &'a str)],
    fields: &'a [(String, String)],
}

impl Serialize for FieldLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.stream {
            map.serialize_entry(name, value)?;
        }
        let time = DateTime::from_timestamp_millis(self.record.time_ms)
            .expect("record time is in chrono's range")
            .to_rfc3339_opts(SecondsFormat::Millis, true);
        map.serialize_entry("_time", &time)?;
        map.serialize_entry("_msg", &summary(self.record))?;
        for (canonical, name) in self.fields {
            match self.record.value(canonical) {
                Some(Value::Text(text)) => map.serialize_entry(name, text)?,
                Some(Value::Number(n)) => map.serialize_entry(name, &n)?,
                None => {}
            }
        }
        map.end()
    }
}

/// A short human summary of a record, e.g.
/// `ACCEPT 10.0.32.7:43211 > 52.216.8.5:443 1200 bytes`.
pub fn summary(record: &FlowRecord) -> String {
    let field = |name: &str| record.value(name).map_or_else(|| "-".to_string(), |v| v.to_string());
    format!(
        "{} {}:{} > {}:{} {} bytes",
        field("action"),
        field("pkt_srcaddr"),
        field("srcport"),
        field("pkt_dstaddr"),
        field("dstport"),
        field("bytes")
    )
}

/// Hands out nanosecond timestamps: a line's millisecond plus the number of
/// lines already stamped in that millisecond.
#[derive(Default)]
struct NanoClock {
    last_ms: Option<i64>,
    used: i64,
}

impl NanoClock {
    fn stamp(&mut self, time_ms: i64) -> i64 {
        if self.last_ms == Some(time_ms) {
            self.used += 1;
        } else {
            self.last_ms = Some(time_ms);
            self.used = 0;
        }
        time_ms * 1_000_000 + self.used
    }
}
