//! "Save & test": checks, in order, that the backend answers with these
//! credentials, that the stream selector matches records, and that the
//! records fit the configured format or field mapping. Each failure says
//! what to change.

use serde_json::Value;

use crate::datasource::Datasource;
use crate::dialect::logsql::header_line;
use crate::error::QueryError;
use crate::model::address_field;
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

/// Runs the checks.
pub async fn check(ds: &Datasource) -> Health {
    match run(ds).await {
        Ok(h) => h,
        Err(e) => Health::error(e.message),
    }
}

async fn run(ds: &Datasource) -> Result<Health, QueryError> {
    let s = &ds.settings;
    let stream = if s.stream.matchers.is_empty() { "*".to_string() } else { s.stream.to_string() };
    let mut count = 0u64;
    ds.client()
        .stream_rows(&format!("{stream} | stats count() as value"), &[], |row| {
            count = row.get("value").and_then(Value::as_str).and_then(|v| v.parse().ok()).unwrap_or(0);
            Ok(true)
        })
        .await?;
    if count == 0 {
        let mut streams = Vec::new();
        ds.client()
            .stream_rows("* | stats by (_stream) count() as value | sort by (value desc) limit 5", &[], |row| {
                streams.extend(row.get("_stream").and_then(Value::as_str).map(String::from));
                Ok(true)
            })
            .await?;
        let hint = if streams.is_empty() {
            "the database holds no logs at all".to_string()
        } else {
            format!("streams that exist: {}", streams.join(", "))
        };
        return Ok(Health::error(format!(
            "Connected to VictoriaLogs at {}, but no records match the stream selector {stream}; fix streamSelector ({hint})",
            s.url
        )));
    }
    let exclude_header = match &s.schema {
        RecordSchema::Raw(format) => format!(" !_msg:={}", crate::selector::quote(&header_line(format))),
        RecordSchema::Fields(_) => String::new(),
    };
    let mut sample = Vec::new();
    ds.client()
        .stream_rows(&format!("{stream}{exclude_header} | limit {SAMPLE}"), &[], |row| {
            sample.push(row);
            Ok(true)
        })
        .await?;
    let problem = match &s.schema {
        RecordSchema::Raw(format) => raw_format_problem(format, &sample),
        RecordSchema::Fields(_) => mapping_problem(ds, &sample),
    };
    if let Some(problem) = problem {
        return Ok(Health::error(problem));
    }
    Ok(Health {
        ok: true,
        message: format!(
            "Connected to VictoriaLogs: {count} records match {stream}, and the sampled records fit the {}",
            match &s.schema {
                RecordSchema::Raw(f) => format!("record format ({} fields)", f.fields().len()),
                RecordSchema::Fields(_) => "field mapping".to_string(),
            }
        ),
    })
}

/// Why raw records do not fit the format, from the first record that does
/// not: field count, then each typed field.
fn raw_format_problem(format: &RecordFormat, sample: &[serde_json::Map<String, Value>]) -> Option<String> {
    for row in sample {
        let msg = row.get("_msg").and_then(Value::as_str).unwrap_or_default();
        let values: Vec<&str> = msg.split(' ').collect();
        if values.iter().all(|v| field_type(&v.replace('-', "_")).is_some()) {
            continue; // a header line of some format
        }
        if values.len() != format.fields().len() {
            return Some(format!(
                "The record format has {} fields but a record has {}: `{}`. Set the record format to the one the flow log was created with",
                format.fields().len(),
                values.len(),
                truncate(msg)
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
                    "The record format does not match the records: field `{field}` holds `{value}` in `{}`. Check the order of the fields in the record format",
                    truncate(msg)
                ));
            }
        }
    }
    None
}

/// Which required field the parsed records lack.
fn mapping_problem(ds: &Datasource, sample: &[serde_json::Map<String, Value>]) -> Option<String> {
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
        let present = sample.iter().any(|row| row.get(name).is_some_and(|v| v.as_str() != Some("")));
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
