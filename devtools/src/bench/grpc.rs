//! The benchmark's view of Grafana's stand-in (`crate::grafana`): QueryData
//! and CallResource timed, answers decoded from Arrow IPC into plain
//! [`Frame`]s for the checks.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use serde_json::Value;

use flowlens::pluginv2 as pb;

pub use crate::grafana::{Instance, Plugin, Window};

/// The instance settings of a benchmarked datasource (one uid for all, as
/// Grafana would have one datasource whose settings change).
pub fn instance(url: &str, json_data: Value) -> Instance {
    Instance { url: url.into(), json_data, uid: "bench".into(), ..Default::default() }
}

/// One query of a QueryData request: a target as the panel holds it.
#[derive(Debug, Clone)]
pub struct Target {
    pub ref_id: String,
    pub json: Value,
}

/// One decoded field: name, labels and values (times as ms, numbers as
/// f64 or u64, text as strings, nulls as `Value::Null`).
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub values: Vec<Value>,
}

/// One decoded data frame.
#[derive(Debug, Clone)]
pub struct Frame {
    pub fields: Vec<Field>,
    /// The size of its Arrow IPC encoding.
    pub bytes: usize,
    /// Its FrameMeta (`executedQueryString`, `notices`), `Null` when absent.
    pub meta: Value,
}

impl Frame {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Result<&Field, String> {
        self.fields.iter().find(|f| f.name == name).ok_or_else(|| {
            format!("no field {name} (fields: {:?})", self.fields.iter().map(|f| &f.name).collect::<Vec<_>>())
        })
    }
}

/// A refId's answer: frames, or the error the plugin reported.
pub type Answer = Result<Vec<Frame>, String>;

/// Sends one QueryData; returns the answers by refId and the ms it took.
pub async fn query(
    plugin: &Plugin,
    instance: &Instance,
    window: Window,
    targets: &[Target],
) -> Result<(HashMap<String, Answer>, f64), String> {
    let request = request(instance, window, targets);
    let started = Instant::now();
    let response = plugin.query_data(request).await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let answers = response
        .responses
        .into_iter()
        .map(|(ref_id, r)| {
            let answer =
                if r.error.is_empty() { r.frames.iter().map(|bytes| decode(bytes)).collect() } else { Err(r.error) };
            (ref_id, answer)
        })
        .collect();
    Ok((answers, ms))
}

/// Sends one CallResource (`render`, `values`, `fields`); returns the
/// status code and the ms it took.
pub async fn resource(
    plugin: &Plugin,
    instance: &Instance,
    method: &str,
    path: &str,
    body: &Value,
) -> Result<(i32, f64), String> {
    let started = Instant::now();
    let answer = plugin.call_resource(instance, method, path, body).await?;
    Ok((answer.code, started.elapsed().as_secs_f64() * 1_000.0))
}

/// The QueryData request Grafana would send for these targets.
pub fn request(instance: &Instance, window: Window, targets: &[Target]) -> pb::QueryDataRequest {
    let jsons: Vec<Value> = targets.iter().map(|t| t.json.clone()).collect();
    let mut queries = crate::grafana::queries(window, &jsons);
    for (q, t) in queries.iter_mut().zip(targets) {
        q.ref_id = t.ref_id.clone();
    }
    pb::QueryDataRequest { plugin_context: Some(instance.context()), queries, ..Default::default() }
}

/// Decodes one Arrow IPC file (a Grafana data frame).
fn decode(bytes: &[u8]) -> Result<Frame, String> {
    let reader =
        arrow_ipc::reader::FileReader::try_new(std::io::Cursor::new(bytes), None).map_err(|e| e.to_string())?;
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    let fields = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let labels = f.metadata().get("labels").and_then(|l| serde_json::from_str(l).ok()).unwrap_or_default();
            let mut values = Vec::new();
            for batch in &batches {
                let col = batch.column(i);
                for row in 0..col.len() {
                    values.push(if col.is_null(row) { Value::Null } else { cell(col.as_ref(), row) });
                }
            }
            Field { name: f.name().clone(), labels, values }
        })
        .collect();
    let meta = schema.metadata().get("meta").and_then(|m| serde_json::from_str(m).ok()).unwrap_or(Value::Null);
    Ok(Frame { fields, bytes: bytes.len(), meta })
}

/// One value: timestamps as ms, numbers, strings.
fn cell(col: &dyn Array, row: usize) -> Value {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{Float64Type, Int64Type, TimestampNanosecondType, UInt64Type};
    match col.data_type() {
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            Value::from(col.as_primitive::<TimestampNanosecondType>().value(row) / 1_000_000)
        }
        DataType::Float64 => Value::from(col.as_primitive::<Float64Type>().value(row)),
        DataType::UInt64 => Value::from(col.as_primitive::<UInt64Type>().value(row)),
        DataType::Int64 => Value::from(col.as_primitive::<Int64Type>().value(row)),
        DataType::Utf8 => Value::from(col.as_string::<i32>().value(row)),
        DataType::Binary => serde_json::from_slice(col.as_binary::<i32>().value(row)).unwrap_or(Value::Null),
        other => Value::String(format!("<{other}>")),
    }
}
