//! Record schema: which flow-log fields exist, their types, and where they sit
//! in a record (a format string for raw lines, or a field mapping for records
//! whose fields were parsed at ingest). Pure.

use std::collections::BTreeMap;
use std::fmt;

/// AWS's default version-2 record format.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// What kind of value a field holds; decides column types and valid filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text (ids, names, `ACCEPT`).
    String,
    /// An IPv4 or IPv6 address.
    Ip,
    /// An unsigned integer (ports, counters, epoch seconds).
    Number,
}

/// Every field AWS documents for VPC Flow Logs (versions 2 to 8), by its AWS
/// name, with its type. The canonical field name is the AWS name with `-`
/// replaced by `_`.
const AWS_FIELDS: &[(&str, FieldType)] = &[
    ("version", FieldType::Number),
    ("account-id", FieldType::String),
    ("interface-id", FieldType::String),
    ("srcaddr", FieldType::Ip),
    ("dstaddr", FieldType::Ip),
    ("srcport", FieldType::Number),
    ("dstport", FieldType::Number),
    ("protocol", FieldType::Number),
    ("packets", FieldType::Number),
    ("bytes", FieldType::Number),
    ("start", FieldType::Number),
    ("end", FieldType::Number),
    ("action", FieldType::String),
    ("log-status", FieldType::String),
    ("vpc-id", FieldType::String),
    ("subnet-id", FieldType::String),
    ("instance-id", FieldType::String),
    ("tcp-flags", FieldType::Number),
    ("type", FieldType::String),
    ("pkt-srcaddr", FieldType::Ip),
    ("pkt-dstaddr", FieldType::Ip),
    ("region", FieldType::String),
    ("az-id", FieldType::String),
    ("sublocation-type", FieldType::String),
    ("sublocation-id", FieldType::String),
    ("pkt-src-aws-service", FieldType::String),
    ("pkt-dst-aws-service", FieldType::String),
    ("flow-direction", FieldType::String),
    ("traffic-path", FieldType::Number),
    ("ecs-cluster-arn", FieldType::String),
    ("ecs-cluster-name", FieldType::String),
    ("ecs-container-instance-arn", FieldType::String),
    ("ecs-container-instance-id", FieldType::String),
    ("ecs-container-id", FieldType::String),
    ("ecs-second-container-id", FieldType::String),
    ("ecs-service-name", FieldType::String),
    ("ecs-task-definition-arn", FieldType::String),
    ("ecs-task-arn", FieldType::String),
    ("ecs-task-id", FieldType::String),
    ("reject-reason", FieldType::String),
];

/// The type of a canonical field name (`pkt_srcaddr`), or `None` if AWS does
/// not define it.
pub fn field_type(canonical: &str) -> Option<FieldType> {
    AWS_FIELDS.iter().find(|(aws, _)| canonical_name(aws) == canonical).map(|(_, t)| *t)
}

/// Every canonical field name AWS defines, in AWS's order.
pub fn all_fields() -> impl Iterator<Item = (String, FieldType)> {
    AWS_FIELDS.iter().map(|(aws, t)| (canonical_name(aws), *t))
}

/// Why a log field name cannot hold a flow field when fields are parsed at
/// ingest, if it cannot: LogsQL reads a trailing `*` as a wildcard even in
/// quotes (`"ab*":=x` also matches the field `abc`), `value` is the name
/// the queries give their results, and `_time`, `_msg`, `_stream`,
/// `_stream_id` are VictoriaLogs' own fields.
pub fn unusable_log_field(name: &str) -> Option<&'static str> {
    match name {
        _ if name.ends_with('*') => Some("a name ending in `*` is a wildcard in LogsQL, even quoted"),
        "value" => Some("`value` is the name flowlens gives query results"),
        "_time" | "_msg" | "_stream" | "_stream_id" => Some("it is one of VictoriaLogs' own fields"),
        _ => None,
    }
}

fn canonical_name(aws: &str) -> String {
    aws.replace('-', "_")
}

/// A record format that failed to parse, with what would be valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record format: {0}")]
pub struct FormatError(String);

/// A parsed record format: the canonical field names in record order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFormat {
    fields: Vec<String>,
}

impl RecordFormat {
    /// Parses an AWS format string: `${name}` tokens separated by single
    /// spaces, each a documented field, none repeated.
    pub fn parse(format: &str) -> Result<Self, FormatError> {
        let format = format.trim();
        if format.is_empty() {
            return Err(FormatError("is empty; expected e.g. `${srcaddr} ${dstaddr} ${bytes}`".into()));
        }
        let mut fields = Vec::new();
        for token in format.split(' ') {
            let aws = token.strip_prefix("${").and_then(|t| t.strip_suffix('}')).ok_or_else(|| {
                FormatError(format!("`{token}` is not a `${{field}}` token (fields are separated by single spaces)"))
            })?;
            let canonical = canonical_name(aws);
            if field_type(&canonical).is_none() || aws.contains('_') {
                return Err(FormatError(format!(
                    "`{aws}` is not an AWS flow-log field; known fields: {}",
                    AWS_FIELDS.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )));
            }
            if fields.contains(&canonical) {
                return Err(FormatError(format!("`{aws}` appears twice")));
            }
            fields.push(canonical);
        }
        Ok(Self { fields })
    }

    /// The header line S3 flow-log files start with, for records stored raw.
    pub fn header_line(&self) -> String {
        self.fields().iter().map(|f| f.replace('_', "-")).collect::<Vec<_>>().join(" ")
    }

    /// Canonical field names in record order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Position of a canonical field in the record.
    pub fn position(&self, canonical: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == canonical)
    }
}

impl Default for RecordFormat {
    fn default() -> Self {
        Self::parse(DEFAULT_FORMAT).expect("default format parses")
    }
}

impl fmt::Display for RecordFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens: Vec<String> = self.fields.iter().map(|c| format!("${{{}}}", c.replace('_', "-"))).collect();
        f.write_str(&tokens.join(" "))
    }
}

/// Where a record's fields live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordSchema {
    /// One record per log message, fields separated by spaces, parsed at
    /// query time.
    Raw(RecordFormat),
    /// Fields were parsed at ingest into log fields; canonical name -> log
    /// field name (identity where absent).
    Fields(BTreeMap<String, String>),
}

impl RecordSchema {
    /// Whether this schema can answer questions about a canonical field.
    pub fn has(&self, canonical: &str) -> bool {
        match self {
            Self::Raw(format) => format.position(canonical).is_some(),
            Self::Fields(_) => field_type(canonical).is_some(),
        }
    }

    /// The log field name that holds a canonical field (mapped in `Fields`
    /// mode, the canonical name itself for raw records after extraction).
    pub fn log_field<'a>(&'a self, canonical: &'a str) -> &'a str {
        match self {
            Self::Raw(_) => canonical,
            Self::Fields(map) => map.get(canonical).map(String::as_str).unwrap_or(canonical),
        }
    }

    /// The fields a query can use, with their types.
    pub fn available_fields(&self) -> Vec<(String, FieldType)> {
        match self {
            Self::Raw(format) => {
                format.fields().iter().map(|f| (f.clone(), field_type(f).expect("validated at parse"))).collect()
            }
            Self::Fields(_) => all_fields().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MISSION: &str = "${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}";

    #[test]
    fn parses_default_and_mission_formats() {
        let d = RecordFormat::default();
        assert_eq!(d.fields().len(), 14);
        assert_eq!(d.position("interface_id"), Some(2));
        let m = RecordFormat::parse(MISSION).unwrap();
        assert_eq!(m.fields().len(), 19);
        assert_eq!(m.position("pkt_dstaddr"), Some(12));
        assert_eq!(m.to_string(), MISSION);
    }

    #[test]
    fn rejects_bad_formats_with_reasons() {
        let e = RecordFormat::parse("${srcaddr}  ${bytes}").unwrap_err().to_string();
        assert!(e.contains("single spaces"), "{e}");
        let e = RecordFormat::parse("${srcaddr} ${pkt_srcaddr}").unwrap_err().to_string();
        assert!(e.contains("`pkt_srcaddr` is not an AWS flow-log field"), "{e}");
        let e = RecordFormat::parse("${bytes} ${bytes}").unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
        let e = RecordFormat::parse("srcaddr bytes").unwrap_err().to_string();
        assert!(e.contains("`srcaddr` is not a `${field}` token"), "{e}");
        assert!(RecordFormat::parse("  ").is_err());
    }

    #[test]
    fn all_documented_fields_are_known() {
        assert_eq!(all_fields().count(), 40);
        assert_eq!(field_type("pkt_srcaddr"), Some(FieldType::Ip));
        assert_eq!(field_type("reject_reason"), Some(FieldType::String));
        assert_eq!(field_type("nope"), None);
    }
}
