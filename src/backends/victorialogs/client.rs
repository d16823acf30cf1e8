//! VictoriaLogs HTTP client: runs LogsQL on `/select/logsql/query` (JSON
//! lines, parsed as they stream in) or `/select/logsql/stats_query_range`,
//! and turns rows into step outputs. Works against single-node VictoriaLogs
//! and cluster `vlselect` URLs, which serve the same API.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::QueryError;
use crate::model::{FlowQuery, Format, MAX_RAW_ROWS};
use crate::plan::{Columns, Key, Labels, Record, Step, StepOutput};
use crate::schema::RecordSchema;
use crate::source::budget::{key_bytes, text_bytes, Budget, ENTRY};
use crate::source::{Deadline, HttpClient, MAX_ERROR_TEXT};
use crate::time::{parse_time_ns, rfc3339};

/// One row of a LogsQL answer.
pub type Row = Map<String, Value>;

/// A VictoriaLogs datasource.
#[derive(Debug, Clone)]
pub struct VictoriaLogs {
    http: HttpClient,
    /// `maxQueryMemoryMiB` in bytes: what one step may hold of its rows.
    memory: usize,
}

impl VictoriaLogs {
    /// A client for the settings' URL and credentials; each step holds at
    /// most `memory` bytes of rows.
    pub fn new(http: HttpClient, memory: usize) -> Self {
        Self { http, memory }
    }

    /// Runs a LogsQL query and hands each row to `on_row` as it arrives.
    /// `on_row` returns `false` to stop reading (the rest is dropped). The
    /// datasource's timeout from now is the deadline.
    pub async fn stream_rows(
        &self,
        query: &str,
        extra: &[(&str, String)],
        on_row: impl FnMut(Row) -> Result<bool, QueryError>,
    ) -> Result<(), QueryError> {
        self.stream_rows_within(self.http.deadline(), query, extra, on_row).await
    }

    /// [`Self::stream_rows`] within a deadline shared by the query's steps.
    pub async fn stream_rows_within(
        &self,
        deadline: Deadline,
        query: &str,
        extra: &[(&str, String)],
        mut on_row: impl FnMut(Row) -> Result<bool, QueryError>,
    ) -> Result<(), QueryError> {
        let mut form = vec![("query", query.to_string())];
        form.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        let answer = self.http.post_form("/select/logsql/query", &form, deadline).await?;
        answer.for_each_line(|line| handle_line(line, &self.http, &mut on_row)).await
    }

    /// Runs one step's query text and reads its answer before the deadline.
    pub async fn run(
        &self,
        q: &FlowQuery,
        schema: &RecordSchema,
        step: &Step,
        text: &str,
        deadline: Deadline,
    ) -> Result<StepOutput, QueryError> {
        let keys = |row: &Row, grouped: bool| -> Key {
            if !grouped {
                return Vec::new();
            }
            q.group_by.iter().map(|f| text_of(row.get(schema.log_field(f)))).collect()
        };
        // Every row kept is counted as it arrives.
        let budget = Budget::new(self.memory);
        match step {
            Step::Total => {
                let mut total = 0;
                self.stream_rows_within(deadline, text, &[], |row| {
                    total += metric(&row)?;
                    Ok(true)
                })
                .await?;
                Ok(StepOutput::Total(total))
            }
            Step::Rank { limit } => {
                // The query asks for at most `limit` rows (`sort … limit`):
                // reading stops there, whatever more a backend sends.
                let mut ranked = Vec::new();
                self.stream_rows_within(deadline, text, &[], |row| {
                    let key = keys(&row, true);
                    budget.take(key_bytes(&key))?;
                    ranked.push((key, metric(&row)?));
                    Ok(ranked.len() < *limit)
                })
                .await?;
                Ok(StepOutput::Ranked(ranked))
            }
            Step::Buckets { grouped, .. } => {
                let mut buckets: BTreeMap<Key, BTreeMap<i64, u64>> = BTreeMap::new();
                self.stream_rows_within(deadline, text, &[], |row| {
                    let t = bucket_ms(&row)?;
                    add_bucket(&mut buckets, keys(&row, *grouped), t, metric(&row)?, &budget)?;
                    Ok(true)
                })
                .await?;
                Ok(StepOutput::Buckets(buckets))
            }
            Step::Streams { limit } => {
                let mut streams = Vec::new();
                self.stream_rows(text, &[], |row| {
                    let key = vec![text_of(row.get("_stream"))];
                    budget.take(key_bytes(&key))?;
                    streams.push((key, metric(&row)?));
                    Ok(streams.len() < *limit)
                })
                .await?;
                Ok(StepOutput::Ranked(streams))
            }
            Step::Records { limit } => {
                let mut records = Vec::new();
                self.stream_rows_within(deadline, text, &[], |row| {
                    budget.take(row_bytes(&row))?;
                    records.push(record(row));
                    Ok(records.len() < *limit)
                })
                .await?;
                Ok(StepOutput::Records(records))
            }
            Step::Raw if q.format == Format::Series => self.raw_series(q, text, deadline, &budget).await,
            Step::Raw => {
                // Each row goes into the columns as it arrives: no row is held.
                let mut rows = Columns::default();
                let range = [("start", rfc3339(q.range.from_ms)), ("end", rfc3339(q.range.to_ms - 1))];
                self.stream_rows_within(deadline, text, &range, |row| {
                    budget.take(row_bytes(&row))?;
                    rows.push_row(row);
                    Ok(rows.len() < MAX_RAW_ROWS)
                })
                .await?;
                Ok(StepOutput::Rows(rows))
            }
        }
    }

    /// Runs a coalesced query ([`super::logsql::LogsQl::render_coalesced`])
    /// and splits its answer: the output of question `i` from column `i`.
    pub async fn run_columns(
        &self,
        step: &Step,
        questions: usize,
        text: &str,
        deadline: Deadline,
    ) -> Result<Vec<StepOutput>, QueryError> {
        if let Step::Buckets { grouped: true, .. } = step {
            return self.run_unrolled(questions, text, deadline).await;
        }
        let columns: Vec<String> = (0..questions).map(super::logsql::column).collect();
        let budget = Budget::new(self.memory);
        let mut totals = vec![0u64; questions];
        let mut buckets: Vec<BTreeMap<i64, u64>> = vec![BTreeMap::new(); questions];
        self.stream_rows_within(deadline, text, &[], |row| {
            let time = match step {
                Step::Buckets { .. } => Some(bucket_ms(&row)?),
                _ => None,
            };
            for (i, column) in columns.iter().enumerate() {
                let v = metric_in(&row, column)?;
                match time {
                    Some(t) => {
                        let bucket = match buckets[i].entry(t) {
                            std::collections::btree_map::Entry::Occupied(held) => held.into_mut(),
                            std::collections::btree_map::Entry::Vacant(new) => {
                                budget.take(ENTRY)?;
                                new.insert(0)
                            }
                        };
                        *bucket += v;
                    }
                    None => totals[i] += v,
                }
            }
            Ok(true)
        })
        .await?;
        Ok(match step {
            Step::Buckets { .. } => buckets
                .into_iter()
                .map(|b| {
                    StepOutput::Buckets(if b.is_empty() { BTreeMap::new() } else { BTreeMap::from([(Vec::new(), b)]) })
                })
                .collect(),
            _ => totals.into_iter().map(StepOutput::Total).collect(),
        })
    }

    /// Runs a grouped coalesced query and splits its answer by the question
    /// index each key starts with ([`super::logsql::unrolled_key`]).
    async fn run_unrolled(
        &self,
        questions: usize,
        text: &str,
        deadline: Deadline,
    ) -> Result<Vec<StepOutput>, QueryError> {
        use super::logsql::{unrolled_key, UNROLLED};
        let mut buckets: Vec<BTreeMap<Key, BTreeMap<i64, u64>>> = vec![BTreeMap::new(); questions];
        let budget = Budget::new(self.memory);
        self.stream_rows_within(deadline, text, &[], |row| {
            let t = bucket_ms(&row)?;
            let (i, key) = unrolled_key(&text_of(row.get(UNROLLED)))
                .filter(|(i, _)| *i < questions)
                .ok_or_else(|| unexpected("a row without a question's key", &row))?;
            add_bucket(&mut buckets[i], key, t, metric(&row)?, &budget)?;
            Ok(true)
        })
        .await?;
        Ok(buckets.into_iter().map(StepOutput::Buckets).collect())
    }

    /// A hand-written stats query as series, stepped by the plugin. The
    /// answer is one JSON document (at most the size limit), parsed into
    /// typed points.
    async fn raw_series(
        &self,
        q: &FlowQuery,
        text: &str,
        deadline: Deadline,
        budget: &Budget,
    ) -> Result<StepOutput, QueryError> {
        let form = [
            ("query", text.to_string()),
            ("start", rfc3339(q.range.from_ms)),
            ("end", rfc3339(q.range.to_ms - 1)),
            ("step", super::logsql::duration(q.step_ms)),
        ];
        let body = self
            .http
            .post_form("/select/logsql/stats_query_range", &form, deadline)
            .await?
            .bytes_within(Some(budget))
            .await?;
        let answer: RangeAnswer = serde_json::from_slice(&body).map_err(|e| {
            // Both the parser's message and the body may quote what the
            // backend echoed of the request: scrubbed.
            let secrets = self.http.secrets();
            QueryError::downstream(
                502,
                format!(
                    "VictoriaLogs answered stats_query_range with something other than its JSON ({}): {}",
                    secrets.quote(&e.to_string(), QUOTE_BYTES),
                    secrets.quote_bytes(&body, QUOTE_BYTES)
                ),
            )
        })?;
        budget.give(body.capacity());
        drop(body);
        let series = answer
            .data
            .result
            .into_iter()
            .map(|s| {
                budget.take(text_bytes(s.metric.keys().map(|k| (k.as_str(), 24))) + 16 * s.values.len())?;
                let labels = s.metric.into_iter().map(|(k, v)| (k, owned_text(v))).collect();
                let points = s
                    .values
                    .iter()
                    .filter_map(|(t, v)| {
                        let t = t.as_f64()?;
                        let v: f64 = text_of(Some(v)).parse().ok()?;
                        Some(((t * 1000.0).round() as i64, v))
                    })
                    .collect();
                Ok((labels, points))
            })
            .collect::<Result<_, QueryError>>()?;
        Ok(StepOutput::Series(series))
    }
}

/// `/select/logsql/stats_query_range`'s answer (Prometheus' matrix shape).
#[derive(Debug, Deserialize)]
struct RangeAnswer {
    data: RangeData,
}

#[derive(Debug, Deserialize)]
struct RangeData {
    result: Vec<RangeSeries>,
}

#[derive(Debug, Deserialize)]
struct RangeSeries {
    #[serde(default)]
    metric: BTreeMap<String, Value>,
    /// `[unix seconds, "value"]` pairs.
    #[serde(default)]
    values: Vec<(Value, Value)>,
}

/// A key's own bucket map when it is made: one B-tree leaf node (eleven
/// slots of 16 bytes, a header) with malloc's rounding.
const NEW_MAP: usize = 4 * ENTRY;

/// Adds a bucket row's value, counting a new key and a new bucket against
/// the step's budget.
fn add_bucket(
    buckets: &mut BTreeMap<Key, BTreeMap<i64, u64>>,
    key: Key,
    t: i64,
    v: u64,
    budget: &Budget,
) -> Result<(), QueryError> {
    let of_key = match buckets.get_mut(&key) {
        Some(held) => held,
        None => {
            budget.take(key_bytes(&key) + NEW_MAP)?;
            buckets.entry(key).or_default()
        }
    };
    match of_key.entry(t) {
        std::collections::btree_map::Entry::Occupied(mut held) => *held.get_mut() += v,
        std::collections::btree_map::Entry::Vacant(new) => {
            budget.take(ENTRY)?;
            new.insert(v);
        }
    }
    Ok(())
}

/// Estimated heap bytes of a row kept as a record or as columns.
fn row_bytes(row: &Row) -> usize {
    text_bytes(row.iter().map(|(k, v)| {
        let len = match v {
            Value::String(s) => s.len(),
            Value::Null => 0,
            other => other.to_string().len(),
        };
        (k.as_str(), len)
    }))
}

/// Most bytes of an answer quoted in an error.
const QUOTE_BYTES: usize = 300;

/// Parses one line and hands the row on. The line, or the row an error of
/// `on_row` quotes, is scrubbed of the datasource's secrets (a backend may
/// echo the request) and cut.
fn handle_line(
    line: &str,
    http: &HttpClient,
    on_row: &mut impl FnMut(Row) -> Result<bool, QueryError>,
) -> Result<bool, QueryError> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(true);
    }
    let row: Row = serde_json::from_str(line).map_err(|_| {
        QueryError::downstream(
            502,
            format!("VictoriaLogs sent a line that is not a JSON object: {}", http.secrets().quote(line, QUOTE_BYTES)),
        )
    })?;
    on_row(row).map_err(|e| QueryError { message: http.secrets().quote(&e.message, MAX_ERROR_TEXT), ..e })
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

/// A bucket row's start, ms.
fn bucket_ms(row: &Row) -> Result<i64, QueryError> {
    row.get("_time")
        .and_then(Value::as_str)
        .and_then(parse_time_ns)
        .map(|t| t / 1_000_000)
        .ok_or_else(|| unexpected("a bucket row without a valid _time", row))
}

/// The aggregate of a row.
fn metric(row: &Row) -> Result<u64, QueryError> {
    metric_in(row, super::logsql::VALUE)
}

/// The aggregate in a row's `column`. Sums are exact integers below 2^53; a
/// sum over no numeric values (`NaN`) is 0.
fn metric_in(row: &Row, column: &str) -> Result<u64, QueryError> {
    let text = text_of(row.get(column));
    let v: f64 = text.parse().map_err(|_| unexpected("a non-numeric aggregate", row))?;
    Ok(if v.is_finite() && v > 0.0 { v.round() as u64 } else { 0 })
}

/// A raw record from a row.
fn record(row: Row) -> Record {
    let (mut time_ns, mut body) = (0, String::new());
    let labels = row.into_iter().filter_map(|(k, v)| match k.as_str() {
        "_time" => {
            time_ns = v.as_str().and_then(parse_time_ns).unwrap_or(0);
            None
        }
        "_msg" => {
            body = owned_text(v);
            None
        }
        _ if k.starts_with('_') => None,
        _ => Some((k, owned_text(v))),
    });
    let labels = Labels::new(labels);
    Record { time_ns, body, labels }
}

/// A value as text, moved out rather than copied.
fn owned_text(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    }
}
