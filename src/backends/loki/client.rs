//! Grafana Loki HTTP client: runs a step's [`LokiRequest`]s (from
//! [`super::logql`]) on `/loki/api/v1/query` and `/query_range`
//! through the shared [`HttpClient`] (auth, headers such as `X-Scope-OrgID`,
//! request slots, one deadline, retries of 503/429, bounded reading), parses
//! Loki's documented JSON (`vector`, `matrix`, `streams`) into the dialect's
//! [`Answer`] (`answer.rs`), pages log queries backwards under `max_entries_limit_per_query`
//! and merges the answers with [`super::logql::merge`]. A ranking that Loki's
//! `max_query_series` refuses whole is ranked in disjoint parts of its first
//! `groupBy` field ([`KeyPart`]: `ip()` ranges, number ranges, no value),
//! halved while refused (at most [`MAX_PARTS`]), merged exactly, checked
//! against the total, and said so in the frames' notices.
//!
//! Loki's limit errors become errors that name the limit, the value and
//! what to change (`errors.rs`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use std::sync::Mutex;

use super::answer::answer_of;
use super::errors::{limit_error, loki_said, series_error, series_limit};
use super::logql::{answer_bytes, Answer, KeyPart, LogQl, LokiRequest, Merger, MAX_ENTRIES, MAX_PARTS};
use super::settings::LokiFields;
use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::{FlowQuery, TimeRange};
use crate::plan::{Record, Step, StepOutput};
use crate::source::budget::Budget;
use crate::source::{Deadline, HttpClient, Secrets};

/// The longest URL-encoded query string sent with GET (below the 4 KiB URL
/// limit of the strictest common gateways, with room for the path).
pub const MAX_GET_QUERY: usize = 3_072;

/// The length of a form once URL-encoded.
fn form_len(form: &[(&str, String)]) -> usize {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.iter().map(|(k, v)| (*k, v.as_str())))
        .finish()
        .len()
}

/// The share of `maxQueryMemoryMiB` a step keeps for log lines: past it,
/// paging stops and the oldest lines held are cut (with a notice). The
/// rest leaves room for the frames built from them and their encoding.
pub const LINES_SHARE: usize = 8;

/// A Loki datasource: the client and the dialect its settings ask for.
#[derive(Debug, Clone)]
pub struct Loki {
    http: HttpClient,
    dialect: LogQl,
    /// `maxQueryMemoryMiB` in bytes: what one step may hold.
    memory: usize,
}

impl Loki {
    /// A client for the settings' URL and credentials.
    pub fn new(http: HttpClient, dialect: LogQl, memory: usize) -> Self {
        Self { http, dialect, memory }
    }

    /// The datasource's secrets, to take out of quoted answers.
    pub fn secrets(&self) -> &Secrets {
        self.http.secrets()
    }

    /// The LogQL dialect of this datasource.
    pub fn dialect(&self) -> &LogQl {
        &self.dialect
    }

    /// Runs every request of a step (at once, within the request slots),
    /// pages log queries, and merges the answers. The text is each distinct
    /// LogQL query once, one per line; the notices say how the answer was
    /// obtained when that is worth knowing (a ranking split into parts).
    pub async fn run(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<(String, StepOutput, Vec<String>), QueryError> {
        let requests = self.dialect.requests(target, q, step)?;
        let text = distinct_text(&requests);
        let budget = Budget::new(self.memory);
        let merger = Mutex::new(Merger::new(q, step));
        match self.run_all(&requests, deadline, &budget, &merger).await {
            Ok(notices) => Ok((text, into_output(merger), notices)),
            Err(e) if in_parts(q, step).is_some() && series_limit(&e).is_some() => {
                drop(merger);
                self.rank_in_parts(target, q, step, deadline, e, &requests[0]).await
            }
            Err(e) => Err(limit_error(e, &requests[0])),
        }
    }

    /// Every request at once (within the request slots), log queries paged,
    /// each answer folded into `merger` as it arrives and counted against
    /// `budget`; errors as Loki sent them, or the budget's.
    async fn run_all(
        &self,
        requests: &[LokiRequest],
        deadline: Deadline,
        budget: &Budget,
        merger: &Mutex<Merger>,
    ) -> Result<Vec<String>, QueryError> {
        let notices = futures_util::future::try_join_all(
            requests.iter().map(|r| self.run_request(r.clone(), deadline, budget, merger)),
        )
        .await?;
        Ok(notices.into_iter().flatten().collect())
    }

    /// The sum of every point of every answer to `requests` (before any
    /// ranking cut).
    async fn answered_sum(
        &self,
        q: &FlowQuery,
        step: &Step,
        requests: &[LokiRequest],
        deadline: Deadline,
    ) -> Result<u64, QueryError> {
        let budget = Budget::new(self.memory);
        let merger = Mutex::new(Merger::new(q, step));
        self.run_all(requests, deadline, &budget, &merger).await?;
        let answered = merger.lock().map_or(0, |m| m.answered());
        Ok(answered)
    }

    /// A ranking that Loki's `max_query_series` refused whole: ranked in
    /// disjoint parts of the first `groupBy` field's key space (each part
    /// halved while Loki still refuses it, at most [`MAX_PARTS`]), merged
    /// exactly, and checked against the total (the parts must cover every
    /// record).
    async fn rank_in_parts(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
        refused: QueryError,
        whole: &LokiRequest,
    ) -> Result<(String, StepOutput, Vec<String>), QueryError> {
        let limit = series_limit(&refused).unwrap_or_else(|| "?".into());
        let said = loki_said(&refused);
        let field = &in_parts(q, step).unwrap_or_default();
        let mut pending = KeyPart::whole(field).map_err(|why| series_error(&limit, &said, &why))?;
        let budget = Budget::new(self.memory);
        let mut merged = Merger::new(q, step);
        let mut parts = 0;
        let mut queries: Vec<LokiRequest> = Vec::new();
        let mut parts_done: Vec<KeyPart> = Vec::new();
        while !pending.is_empty() {
            if parts + pending.len() > MAX_PARTS {
                return Err(series_error(
                    &limit,
                    &said,
                    &format!(
                        "flowlens ranked `{field}` in disjoint ranges, but more than {MAX_PARTS} ranges would be \
                         needed; group by a field with fewer values first, add filters or narrow the time range"
                    ),
                ));
            }
            let budget = &budget;
            let runs = pending.iter().map(|part| async move {
                let requests = self.dialect.part_requests(target, q, step, field, part)?;
                let merger = Mutex::new(Merger::new(q, step));
                let result = self.run_all(&requests, deadline, budget, &merger).await;
                let merger = merger.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner);
                if result.is_err() {
                    budget.give(merger.bytes());
                }
                Ok::<_, QueryError>((part, requests, result.map(|_| merger)))
            });
            let mut next = Vec::new();
            for (part, requests, result) in futures_util::future::try_join_all(runs).await? {
                match result {
                    Ok(merger) => {
                        parts += 1;
                        parts_done.push(part.clone());
                        let (before, part_bytes) = (merged.bytes(), merger.bytes());
                        merged.absorb(merger);
                        budget.resize(before + part_bytes, merged.bytes())?;
                        queries.extend(requests);
                    }
                    Err(e) if series_limit(&e).is_some() => match part.split() {
                        Some(halves) => next.extend(halves),
                        None => {
                            return Err(series_error(
                                &limit,
                                &said,
                                &format!(
                                    "flowlens ranked `{field}` in disjoint ranges, but the records with {part} \
                                     alone have too many groups; group by fewer fields after `{field}`"
                                ),
                            ))
                        }
                    },
                    Err(e) => return Err(limit_error(e, &requests[0])),
                }
            }
            pending = next;
        }
        self.parts_cover_every_record(target, q, field, &parts_done, merged.answered(), deadline, whole)
            .await
            .map_err(|why| {
                QueryError::downstream(
                    502,
                    format!(
                        "Loki refused the query whole (max_query_series = {limit}), and its {parts} disjoint parts \
                         by `{field}` {why}: some records hold a `{field}` that is neither a valid value nor empty. \
                         Loki said: {said}"
                    ),
                )
            })?;
        let kind = if matches!(KeyPart::whole(field).ok().as_deref(), Some([KeyPart::Net(_), ..])) {
            "address ranges"
        } else {
            "number ranges"
        };
        let notice = format!(
            "{} `{field}` in {parts} parts (disjoint {kind}, merged exactly) because Loki's max_query_series \
             ({limit}) refused the {} as one query.",
            if q.metric.distinct_field().is_some() { "Counted by" } else { "Ranked by" },
            if q.metric.distinct_field().is_some() { "count" } else { "ranking" },
        );
        Ok((distinct_text(&queries), merged.finish(), vec![notice]))
    }

    /// Whether the parts of a query cover every record the whole would
    /// read: for sums, the parts' answers (before any ranking cut) add up
    /// to the total; for distinct counts, whose parts add up to the number
    /// of distinct (group, value) pairs instead, the records of each part
    /// add up to the records of the whole. `Err` says what did not add up.
    #[allow(clippy::too_many_arguments)]
    async fn parts_cover_every_record(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        field: &str,
        parts: &[KeyPart],
        answered: u64,
        deadline: Deadline,
        whole: &LokiRequest,
    ) -> Result<(), String> {
        let fail = |e: QueryError| limit_error(e, whole).message;
        let distinct = q.metric.distinct_field().is_some();
        let q = if distinct { FlowQuery { metric: crate::model::Metric::Records, ..q.clone() } } else { q.clone() };
        let total_requests = self.dialect.requests(target, &q, &Step::Total).map_err(|e| e.message)?;
        // The whole's total, and (distinct counts) each part's records, at once.
        let parts_records = async {
            if !distinct {
                return Ok(answered);
            }
            let sums = futures_util::future::try_join_all(parts.iter().map(|part| async {
                let requests =
                    self.dialect.part_requests(target, &q, &Step::Total, field, part).map_err(|e| e.message.clone())?;
                self.answered_sum(&q, &Step::Total, &requests, deadline).await.map_err(fail)
            }))
            .await?;
            Ok::<u64, String>(sums.into_iter().sum())
        };
        let (total, parts_sum) = tokio::try_join!(
            async { self.answered_sum(&q, &Step::Total, &total_requests, deadline).await.map_err(fail) },
            parts_records
        )?;
        if parts_sum == total {
            Ok(())
        } else {
            let what = if q.metric == crate::model::Metric::Records { "records" } else { "values" };
            Err(format!("add up to {parts_sum} {what}, not to the total {total}"))
        }
    }

    /// One request, and for a log query its next pages (backwards, each at
    /// most [`MAX_ENTRIES`] lines) until the step has what it asked for.
    /// Lines are counted once however many pages hold them (a page ends
    /// just after the previous one's oldest line, so lines sharing that
    /// nanosecond come again). Loki pages by timestamp only: when a full
    /// page holds nothing new, more lines than a page share one nanosecond,
    /// and the rest of that nanosecond is skipped, said in a notice.
    async fn run_request(
        &self,
        request: LokiRequest,
        deadline: Deadline,
        budget: &Budget,
        merger: &Mutex<Merger>,
    ) -> Result<Vec<String>, QueryError> {
        let mut notices = Vec::new();
        let mut held: std::collections::HashSet<(i64, u64)> = std::collections::HashSet::new();
        let mut next = Some(request);
        let max_lines = budget.limit() / LINES_SHARE;
        while let Some(request) = next.take() {
            let answer = self.send_within(&request, deadline, budget).await?;
            let answer_size = answer_bytes(&answer);
            if let Answer::Streams(streams) = &answer {
                let before = held.len();
                for stream in streams {
                    for (t, line) in &stream.entries {
                        held.insert((*t, line_id(&stream.labels, line)));
                    }
                }
                next = request.next_page(&answer, held.len());
                let received: usize = streams.iter().map(|s| s.entries.len()).sum();
                let full = request.param("limit").and_then(|l| l.parse::<usize>().ok()) == Some(received);
                if full && held.len() == before && next.is_some() {
                    // Every line of a full page was held: its last nanosecond
                    // holds more lines than the page. A whole page of that
                    // nanosecond first, then past it.
                    next = if received < MAX_ENTRIES {
                        request.wider_page()
                    } else {
                        let at = streams.iter().flat_map(|s| s.entries.first().map(|e| e.0)).next().unwrap_or_default();
                        notices.push(format!(
                            "More than {MAX_ENTRIES} log lines share the timestamp {at} ns; Loki pages by timestamp \
                             only, so the lines of that nanosecond beyond one page were skipped"
                        ));
                        request.past_nanosecond(&answer, held.len())
                    };
                }
            }
            let mut merger = merger.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let before = merger.bytes();
            merger.add(&request, answer);
            if merger.line_bytes() > max_lines {
                let cut = merger.cut_lines_to(max_lines);
                next = None;
                notices.push(format!(
                    "The log lines were cut at {} lines: more would hold over {} MiB of text, the share of \
                     maxQueryMemoryMiB ({} MiB) a query keeps for log lines{}; narrow the time range or add \
                     filters to see the older lines, or raise maxQueryMemoryMiB",
                    merger.lines(),
                    max_lines >> 20,
                    budget.limit() >> 20,
                    if cut > 0 { format!(" ({cut} lines of the last page dropped)") } else { String::new() },
                ));
            }
            let after = merger.bytes();
            drop(merger);
            budget.give(answer_size);
            budget.resize(before, after)?;
        }
        Ok(notices)
    }

    /// Sends one request (GET, as Grafana's Loki datasource does) and parses
    /// its answer.
    pub async fn fetch(&self, request: &LokiRequest, deadline: Deadline) -> Result<Answer, QueryError> {
        self.send(request, deadline).await.map_err(|e| limit_error(e, request))
    }

    /// Sends one request and returns Loki's answer as it sent it (limit
    /// errors mapped as [`Self::fetch`] maps them).
    pub async fn fetch_text(&self, request: &LokiRequest, deadline: Deadline) -> Result<String, QueryError> {
        let body = self.ask(request, deadline, None).await.map_err(|e| limit_error(e, request))?;
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// [`Self::fetch`] with Loki's errors as it sent them.
    async fn send(&self, request: &LokiRequest, deadline: Deadline) -> Result<Answer, QueryError> {
        let body = self.ask(request, deadline, None).await?;
        answer_of(request, &body, self.http.secrets())
    }

    /// [`Self::send`] with the body counted against `budget` as it is read,
    /// then the parsed answer (given back by the caller once folded) in its
    /// place.
    async fn send_within(
        &self,
        request: &LokiRequest,
        deadline: Deadline,
        budget: &Budget,
    ) -> Result<Answer, QueryError> {
        let body = self.ask(request, deadline, Some(budget)).await?;
        let parsed = answer_of(request, &body, self.http.secrets());
        budget.give(body.capacity());
        drop(body);
        let answer = parsed?;
        budget.take(answer_bytes(&answer))?;
        Ok(answer)
    }

    /// Sends one request: GET, as Grafana's Loki datasource does, or a POST
    /// form when its parameters are longer than [`MAX_GET_QUERY`] (a
    /// ranking's series for many keys), which gateways' URL limits (8 KiB
    /// in nginx, 4 KiB in some) would refuse; Loki reads `/query` and
    /// `/query_range` parameters from either ("Loki HTTP API": the POST
    /// form "is useful when specifying a large or dynamic number of stream
    /// selectors that may breach server-side URL character limits").
    async fn ask(
        &self,
        request: &LokiRequest,
        deadline: Deadline,
        budget: Option<&Budget>,
    ) -> Result<Vec<u8>, QueryError> {
        let form = request.form();
        let answer = if form_len(&form) > MAX_GET_QUERY {
            self.http.post_form(request.path(), &form, deadline).await?
        } else {
            self.http.get(request.path(), &form, deadline).await?
        };
        answer.bytes_within(budget).await
    }

    /// Whether Loki says it is ready (`GET /ready`, which Loki answers
    /// "ready" once its modules have started, 503 with the reason before).
    /// A URL without `/ready` (a gateway that routes only the API) is
    /// fine: the queries that follow find out whether the API is there.
    pub async fn ready(&self, deadline: Deadline) -> Result<(), QueryError> {
        match self.http.get_once("/ready", &[], deadline.within(READY_WAIT)).await {
            Ok(_) | Err(QueryError { status: 404, .. }) => Ok(()),
            Err(e) if matches!(e.status, 503 | 504) => Err(QueryError::downstream(
                503,
                format!(
                    "Loki at {} is not ready yet (GET /ready): wait until it has started, or check its ingesters \
                     and ring. Loki said: {}",
                    self.http.url("/"),
                    loki_said(&e)
                ),
            )),
            Err(e) => Err(e),
        }
    }

    /// The label names of the streams Loki holds within `range`
    /// (`/loki/api/v1/labels`, from the index), sorted, at most 20.
    pub async fn label_names(&self, range: TimeRange, deadline: Deadline) -> Result<Vec<String>, QueryError> {
        #[derive(Deserialize)]
        struct Labels {
            #[serde(default)]
            data: Vec<String>,
        }
        let ns = |ms: i64| (i128::from(ms) * 1_000_000).to_string();
        let params = [("start", ns(range.from_ms)), ("end", ns(range.to_ms))];
        let answer = self.http.get("/loki/api/v1/labels", &params, deadline).await?;
        let body = answer.bytes().await?;
        let labels: Labels = serde_json::from_slice(&body).map_err(|e| {
            QueryError::downstream(
                502,
                format!(
                    "Loki answered /loki/api/v1/labels with something other than a label list: {}",
                    self.http.scrub(&e.to_string())
                ),
            )
        })?;
        let mut names = labels.data;
        names.sort();
        names.truncate(20);
        Ok(names)
    }

    /// A sampled record's fields: its labels, and for JSON or logfmt lines
    /// the line's own keys (queries extract only the fields they need).
    pub fn record_fields(&self, record: &Record) -> BTreeMap<String, String> {
        let mut fields = match self.dialect.fields {
            LokiFields::Json => json_fields(&record.body),
            LokiFields::Logfmt => logfmt_fields(&record.body),
            LokiFields::StructuredMetadata => BTreeMap::new(),
        };
        fields.extend(record.labels.to_map());
        fields
    }
}

/// How long Save & test waits for `/ready`.
const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// What Loki said, without the client's `Loki failed (HTTP n): ` prefix.
/// The field a query that `max_query_series` refused is asked in disjoint
/// parts of, if any: a distinct count in parts of the counted field (any
/// step: the counts of disjoint values add up, and one group with many
/// values, a port scan's source, still splits); a ranking in parts of its
/// first `groupBy` field.
fn in_parts(q: &FlowQuery, step: &Step) -> Option<String> {
    match (q.metric.distinct_field(), step) {
        (Some(field), Step::Total | Step::Rank { .. } | Step::Buckets { .. }) => Some(field.to_string()),
        (None, Step::Rank { .. }) => q.group_by.first().cloned(),
        _ => None,
    }
}

/// A log line's identity within a step (Loki's: stream, time and text;
/// the time is kept beside it).
fn line_id(labels: &BTreeMap<String, String>, line: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (labels, line).hash(&mut h);
    h.finish()
}

/// The output a step's merger built.
fn into_output(merger: Mutex<Merger>) -> StepOutput {
    merger.into_inner().unwrap_or_else(std::sync::PoisonError::into_inner).finish()
}

/// Each distinct query text once, one per line.
fn distinct_text(requests: &[LokiRequest]) -> String {
    let mut text: Vec<&str> = Vec::new();
    for r in requests {
        if !text.contains(&r.query.as_str()) {
            text.push(&r.query);
        }
    }
    text.join("\n")
}

/// The top-level keys of a JSON line (nested objects as `a.b`), as text.
fn json_fields(line: &str) -> BTreeMap<String, String> {
    fn walk(prefix: &str, v: &Value, out: &mut BTreeMap<String, String>) {
        match v {
            Value::Object(o) => {
                for (k, v) in o {
                    let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                    walk(&key, v, out);
                }
            }
            Value::String(s) => {
                out.insert(prefix.to_string(), s.clone());
            }
            Value::Null => {}
            other => {
                out.insert(prefix.to_string(), other.to_string());
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(line) {
        walk("", &v, &mut out);
    }
    out
}

/// The `key=value` pairs of a logfmt line (values may be double-quoted).
fn logfmt_fields(line: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut rest = line.trim_start();
    while !rest.is_empty() {
        let key_end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = &rest[key_end..];
        let value = if let Some(after) = rest.strip_prefix('=') {
            if let Some(quoted) = after.strip_prefix('"') {
                let mut value = String::new();
                let mut chars = quoted.char_indices();
                let mut end = quoted.len();
                while let Some((i, c)) = chars.next() {
                    match c {
                        '\\' => value.extend(chars.next().map(|(_, c)| c)),
                        '"' => {
                            end = i + 1;
                            break;
                        }
                        c => value.push(c),
                    }
                }
                rest = &quoted[end..];
                value
            } else {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                rest = &after[end..];
                after[..end].to_string()
            }
        } else {
            String::new()
        };
        if !key.is_empty() {
            out.insert(key.to_string(), value);
        }
        rest = rest.trim_start();
    }
    out
}

#[cfg(test)]
mod tests;
