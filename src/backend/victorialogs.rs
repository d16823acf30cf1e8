//! VictoriaLogs HTTP client: runs LogsQL on `/select/logsql/query` (JSON
//! lines, parsed as they stream in) or `/select/logsql/stats_query_range`,
//! and turns rows into step outputs. Works against single-node VictoriaLogs
//! and cluster `vlselect` URLs, which serve the same API.

use std::collections::BTreeMap;

use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::HttpClient;
use crate::error::QueryError;
use crate::model::{FlowQuery, Format, MAX_RAW_ROWS};
use crate::plan::{Key, Record, Step, StepOutput};
use crate::schema::RecordSchema;
use crate::time::{parse_time_ns, rfc3339};

/// One row of a LogsQL answer.
pub type Row = Map<String, Value>;

/// A VictoriaLogs datasource.
#[derive(Debug, Clone)]
pub struct VictoriaLogs {
    http: HttpClient,
}

impl VictoriaLogs {
    /// A client for the settings' URL and credentials.
    pub fn new(http: HttpClient) -> Self {
        Self { http }
    }

    /// Runs a LogsQL query and hands each row to `on_row` as it arrives.
    /// `on_row` returns `false` to stop reading (the rest is dropped).
    pub async fn stream_rows(
        &self,
        query: &str,
        extra: &[(&str, String)],
        mut on_row: impl FnMut(Row) -> Result<bool, QueryError>,
    ) -> Result<(), QueryError> {
        let mut form = vec![("query", query.to_string())];
        form.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let response = self.http.post_form("/select/logsql/query", &form).await?;
        let mut body = response.bytes_stream();
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| self.http.transport_error(&e))?;
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                if !handle_line(&line, &mut on_row)? {
                    return Ok(());
                }
            }
        }
        handle_line(&pending, &mut on_row)?;
        Ok(())
    }

    /// Runs one step's query text and reads its answer.
    pub async fn run(
        &self,
        q: &FlowQuery,
        schema: &RecordSchema,
        step: &Step,
        text: &str,
    ) -> Result<StepOutput, QueryError> {
        let keys = |row: &Row, grouped: bool| -> Key {
            if !grouped {
                return Vec::new();
            }
            q.group_by.iter().map(|f| text_of(row.get(schema.log_field(f)))).collect()
        };
        match step {
            Step::Total => {
                let mut total = 0;
                self.stream_rows(text, &[], |row| {
                    total += metric(&row)?;
                    Ok(true)
                })
                .await?;
                Ok(StepOutput::Total(total))
            }
            Step::Rank { .. } => {
                let mut ranked = Vec::new();
                self.stream_rows(text, &[], |row| {
                    ranked.push((keys(&row, true), metric(&row)?));
                    Ok(true)
                })
                .await?;
                Ok(StepOutput::Ranked(ranked))
            }
            Step::Buckets { grouped, .. } => {
                let mut buckets: BTreeMap<Key, BTreeMap<i64, u64>> = BTreeMap::new();
                self.stream_rows(text, &[], |row| {
                    let t = row
                        .get("_time")
                        .and_then(Value::as_str)
                        .and_then(parse_time_ns)
                        .ok_or_else(|| unexpected("a bucket row without a valid _time", &row))?;
                    *buckets.entry(keys(&row, *grouped)).or_default().entry(t / 1_000_000).or_default() +=
                        metric(&row)?;
                    Ok(true)
                })
                .await?;
                Ok(StepOutput::Buckets(buckets))
            }
            Step::Streams { .. } => {
                let mut streams = Vec::new();
                self.stream_rows(text, &[], |row| {
                    streams.push((vec![text_of(row.get("_stream"))], metric(&row)?));
                    Ok(true)
                })
                .await?;
                Ok(StepOutput::Ranked(streams))
            }
            Step::Records { .. } => {
                let mut records = Vec::new();
                self.stream_rows(text, &[], |row| {
                    records.push(record(row));
                    Ok(true)
                })
                .await?;
                Ok(StepOutput::Records(records))
            }
            Step::Raw if q.format == Format::Series => self.raw_series(q, text).await,
            Step::Raw => {
                let mut rows = Vec::new();
                let range = [("start", rfc3339(q.range.from_ms)), ("end", rfc3339(q.range.to_ms - 1))];
                self.stream_rows(text, &range, |row| {
                    rows.push(row);
                    Ok(rows.len() < MAX_RAW_ROWS)
                })
                .await?;
                Ok(StepOutput::Rows(rows))
            }
        }
    }

    /// A hand-written stats query as series, stepped by the plugin.
    async fn raw_series(&self, q: &FlowQuery, text: &str) -> Result<StepOutput, QueryError> {
        let form = [
            ("query", text.to_string()),
            ("start", rfc3339(q.range.from_ms)),
            ("end", rfc3339(q.range.to_ms - 1)),
            ("step", crate::dialect::logsql::duration(q.step_ms)),
        ];
        let response = self.http.post_form("/select/logsql/stats_query_range", &form).await?;
        let body: Value = response.json().await.map_err(|e| self.http.transport_error(&e))?;
        let result = body.pointer("/data/result").and_then(Value::as_array).ok_or_else(|| {
            QueryError::downstream(502, format!("VictoriaLogs answered stats_query_range without data.result: {body}"))
        })?;
        let series = result
            .iter()
            .map(|s| {
                let labels = s
                    .get("metric")
                    .and_then(Value::as_object)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), text_of(Some(v)))).collect())
                    .unwrap_or_default();
                let points = s
                    .get("values")
                    .and_then(Value::as_array)
                    .map(|vs| {
                        vs.iter()
                            .filter_map(|p| {
                                let t = p.get(0)?.as_f64()?;
                                let v: f64 = text_of(p.get(1)).parse().ok()?;
                                Some(((t * 1000.0).round() as i64, v))
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                (labels, points)
            })
            .collect();
        Ok(StepOutput::Series(series))
    }
}

fn handle_line(line: &[u8], on_row: &mut impl FnMut(Row) -> Result<bool, QueryError>) -> Result<bool, QueryError> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return Ok(true);
    }
    let row: Row = serde_json::from_slice(line).map_err(|_| {
        QueryError::downstream(
            502,
            format!(
                "VictoriaLogs sent a line that is not a JSON object: {}",
                String::from_utf8_lossy(&line[..line.len().min(300)])
            ),
        )
    })?;
    on_row(row)
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    }
}

fn unexpected(what: &str, row: &Row) -> QueryError {
    QueryError::downstream(502, format!("VictoriaLogs sent {what}: {}", Value::Object(row.clone())))
}

/// The aggregate of a row. Sums are exact integers below 2^53; a sum over
/// no numeric values (`NaN`) is 0.
fn metric(row: &Row) -> Result<u64, QueryError> {
    let text = text_of(row.get(crate::dialect::logsql::VALUE));
    let v: f64 = text.parse().map_err(|_| unexpected("a non-numeric aggregate", row))?;
    Ok(if v.is_finite() && v > 0.0 { v.round() as u64 } else { 0 })
}

fn record(row: Row) -> Record {
    let mut record = Record { time_ns: 0, body: String::new(), labels: BTreeMap::new() };
    for (k, v) in row {
        match k.as_str() {
            "_time" => record.time_ns = v.as_str().and_then(parse_time_ns).unwrap_or(0),
            "_msg" => record.body = owned_text(v),
            _ if k.starts_with('_') => {}
            _ => {
                record.labels.insert(k, owned_text(v));
            }
        }
    }
    record
}

/// A value as text, moved out rather than copied.
fn owned_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
