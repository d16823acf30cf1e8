//! "Save & test": checks, in order, that the backend answers with these
//! credentials, that the stream selector matches recent records, that the
//! records fit the configured format or field mapping, and whether the
//! inside CIDRs hold the interface's own address. Each failure says what to
//! change. Every query goes through the dialect with a time filter, and the
//! whole check has one time budget.

mod rollups;

use std::time::Duration;

use crate::datasource::Datasource;
use crate::error::QueryError;
use crate::model::{address_field, FlowQuery, TimeRange};
use crate::plan::{Record, Step, StepOutput};
use crate::schema::{field_type, FieldType, RecordFormat, RecordSchema};

/// How many records are sampled to check the format.
const SAMPLE: usize = 20;

/// The outcome of a health check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// Whether the datasource can answer queries.
    pub ok: bool,
    /// What was found, or what to fix.
    pub message: String,
}

impl Health {
    fn error(message: impl Into<String>) -> Self {
        Self { ok: false, message: message.into() }
    }
}

/// The whole check answers within this time, however much data the store
/// holds: every query it sends has a time filter.
pub const BUDGET: Duration = Duration::from_secs(30);

/// The windows records are looked for in, ending now: the last hour, then
/// the last day when the hour holds none.
const WINDOWS: [(i64, &str); 2] = [(3_600_000, "hour"), (86_400_000, "24 hours")];

/// Runs the checks within [`BUDGET`] (or the datasource's timeout, if lower).
pub async fn check(ds: &Datasource) -> Health {
    let budget = BUDGET.min(ds.settings.timeout);
    let now = chrono::Utc::now().timestamp_millis();
    match tokio::time::timeout(budget, run(ds, now)).await {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => Health::error(e.message),
        Err(_) => Health::error(format!(
            "{} at {} did not finish the checks within {} s; is it overloaded, or the timeout too low?",
            product(ds),
            ds.settings.url,
            budget.as_secs()
        )),
    }
}

fn product(ds: &Datasource) -> &'static str {
    ds.backend().product()
}

async fn run(ds: &Datasource, now: i64) -> Result<Health, QueryError> {
    let s = &ds.settings;
    ds.backend().ready(crate::source::Deadline::after(s.timeout)).await?;
    let stream = if s.stream.matchers.is_empty() { "*".to_string() } else { s.stream.to_string() };
    // How many records the selector matches, in the last hour, else the last day.
    let mut found = None;
    for (span, label) in WINDOWS {
        let window = TimeRange { from_ms: now - span, to_ms: now };
        let (_, output) = ds.run_step(&FlowQuery::probe(window), &Step::Total).await?;
        if let StepOutput::Total(count) = output {
            if count > 0 {
                found = Some((window, count, label));
                break;
            }
        }
    }
    let last = WINDOWS[WINDOWS.len() - 1];
    let Some((window, count, label)) = found else {
        let window = TimeRange { from_ms: now - last.0, to_ms: now };
        let (_, output) = ds.run_step(&FlowQuery::probe(window), &Step::Streams { limit: 5 }).await?;
        let streams: Vec<String> = match output {
            StepOutput::Ranked(ranked) => ranked.into_iter().filter_map(|(k, _)| k.into_iter().next()).collect(),
            _ => Vec::new(),
        };
        let hint = if streams.is_empty() {
            ds.backend().no_streams_hint(&s.stream, window, last.1, crate::source::Deadline::after(s.timeout)).await?
        } else {
            format!("streams with records in the last {}: {}", last.1, streams.join(", "))
        };
        return Ok(Health::error(format!(
            "Connected to {} at {}, but no records of the last {} match the stream selector {stream}; fix streamSelector ({hint})",
            product(ds),
            s.url,
            last.1
        )));
    };
    let (_, output) = ds.run_step(&FlowQuery::probe(window), &Step::Records { limit: SAMPLE }).await?;
    let sample = match output {
        StepOutput::Records(records) => records,
        _ => Vec::new(),
    };
    let problem = match &s.schema {
        RecordSchema::Raw(format) => raw_format_problem(format, &sample, &|text| ds.scrub(text)),
        RecordSchema::Fields(_) => mapping_problem(ds, &sample),
    };
    if let Some(problem) = problem {
        return Ok(Health::error(problem));
    }
    if let Some(problem) = ds.backend().sample_problem(&sample) {
        return Ok(Health::error(problem));
    }
    let hour = crate::consistency::settled_hour(now, s.cache_settle_ms);
    let verdicts = crate::consistency::quick(ds, hour).await?;
    if verdicts.iter().any(|v| !v.ok()) {
        let found: Vec<String> = verdicts.iter().map(|v| v.describe()).collect();
        return Ok(Health::error(format!(
            "Connected to {}, but it answers one question two ways: {}. Likely cause: {}. Run `flowlens check` \
             for every question kind",
            product(ds),
            found.join("; "),
            crate::consistency::likely_cause(ds, &verdicts)
        )));
    }
    let mut message = format!(
        "Connected to {}: {count} records of the last {label} match {stream}, and the sampled records fit the {}",
        product(ds),
        match &s.schema {
            RecordSchema::Raw(f) => format!("record format ({} fields)", f.fields().len()),
            RecordSchema::Fields(_) => "field mapping".to_string(),
        }
    );
    if let Some(v) = verdicts.first().filter(|v| v.expected > 0) {
        message.push_str(&format!(
            ". Self-check: the last settled hour's {} records read the same as one total and as 5-minute buckets, twice{}",
            v.expected,
            if verdicts.len() > 2 { ", and its top source's bytes the same in the ranking and in its series" } else { "" }
        ));
    }
    if let Some(note) = own_address_note(ds, window).await? {
        message.push_str(". ");
        message.push_str(&note);
    }
    let recent = TimeRange { from_ms: now - 3_600_000, to_ms: now };
    let names = ds.names.check(recent, crate::source::Deadline::after(s.timeout)).await;
    let (read, broken): (Vec<_>, Vec<_>) = names.into_iter().partition(|(_, r)| r.is_ok());
    if !broken.is_empty() {
        let why: Vec<String> =
            broken.into_iter().map(|(source, r)| format!("{source}: {}", r.err().unwrap_or_default())).collect();
        return Ok(Health::error(format!(
            "{message}; but names could not be read ({}). Until fixed, panels show addresses in place of those names",
            ds.scrub(&why.join("; "))
        )));
    }
    if !read.is_empty() {
        let what: Vec<String> =
            read.into_iter().map(|(source, r)| format!("{source}: {}", r.unwrap_or_default())).collect();
        message.push_str(&format!(". Names: {}", what.join("; ")));
    }
    match rollups::coverage(ds, now).await {
        Ok(Some(note)) => {
            message.push_str(". ");
            message.push_str(&note);
        }
        Ok(None) => {}
        Err(e) => {
            return Ok(Health::error(format!(
                "{message}; but the rollup store at {} failed: {}. Fix rollups.url or its credentials \
                 (until then panels read raw records)",
                crate::rollups::RollupSettings::of(s).ok().flatten().map_or(String::new(), |r| r.url.to_string()),
                e.message
            )))
        }
    }
    Ok(Health { ok: true, message })
}

/// Warns when an inside CIDR holds the interface's own address (a NAT
/// gateway's), and says what the plugin does about it.
async fn own_address_note(ds: &Datasource, window: TimeRange) -> Result<Option<String>, QueryError> {
    let s = &ds.settings;
    let Some(eni) = &s.interface_id else { return Ok(None) };
    if s.inside.is_empty() {
        return Ok(None);
    }
    let (own, how) = match &s.nat_addresses {
        Some(set) => (set.clone(), "set in natAddresses"),
        None if s.schema.has("srcaddr") && s.schema.has("dstaddr") => {
            let deadline = crate::source::Deadline::after(s.timeout);
            (ds.own_addresses(std::slice::from_ref(eni), window, deadline).await?, "detected from its records")
        }
        None => return Ok(None),
    };
    let held: Vec<String> = own
        .iter()
        .filter_map(|a| s.inside.iter().find(|net| net.contains(a)).map(|net| format!("{net} holds {a}")))
        .collect();
    if held.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!(
        "Warning: the inside CIDRs contain the address of interface {eni} itself ({}; {how}): a NAT gateway's own address is neither inside nor outside, so flowlens excludes it from the inside networks and each byte is counted once{}",
        held.join(", "),
        if s.nat_addresses.is_none() { "; set natAddresses to fix the addresses explicitly" } else { "" }
    )))
}

/// Why raw records do not fit the format, from the first record that does
/// not: field count, then each typed field. The record is quoted `scrub`bed
/// before it is cut (a backend may echo the request's credentials), and a
/// field's value not at all if the record held a secret (it may be part of one).
fn raw_format_problem(format: &RecordFormat, sample: &[Record], scrub: &dyn Fn(&str) -> String) -> Option<String> {
    for record in sample {
        let msg = record.body.as_str();
        let shown = scrub(msg);
        let secret = shown != msg;
        let values: Vec<&str> = msg.split(' ').collect();
        if values.iter().all(|v| field_type(&v.replace('-', "_")).is_some()) {
            continue; // a header line of some format
        }
        if values.len() != format.fields().len() {
            return Some(format!(
                "The record format has {} fields but a record has {}: `{}`. Set the record format to the one the flow log was created with",
                format.fields().len(),
                values.len(),
                truncate(&shown)
            ));
        }
        for (field, value) in format.fields().iter().zip(&values) {
            if *value == "-" {
                continue;
            }
            let fits = match field_type(field) {
                Some(FieldType::Number) => value.parse::<u64>().is_ok(),
                Some(FieldType::Ip) => value.parse::<std::net::IpAddr>().is_ok(),
                _ => true,
            };
            if !fits {
                return Some(format!(
                    "The record format does not match the records: field `{field}` holds `{}` in `{}`. Check the order of the fields in the record format",
                    if secret { "<redacted>" } else { value },
                    truncate(&shown)
                ));
            }
        }
    }
    None
}

/// Which required field the parsed records lack.
fn mapping_problem(ds: &Datasource, sample: &[Record]) -> Option<String> {
    let s = &ds.settings;
    let mut required = vec!["bytes", "packets"];
    if s.interface_id.is_some() {
        required.push("interface_id");
    }
    if !s.inside.is_empty() {
        required.push(address_field(&s.schema, "src"));
        required.push(address_field(&s.schema, "dst"));
    }
    required.into_iter().find_map(|canonical| {
        let name = s.schema.log_field(canonical);
        let present = sample.iter().any(|r| ds.backend().record_fields(r).get(name).is_some_and(|v| !v.is_empty()));
        (!present).then(|| {
            format!(
                "The sampled records have no field `{name}` for `{canonical}`; set fieldMapping.{canonical} to the log field that holds it"
            )
        })
    })
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}
