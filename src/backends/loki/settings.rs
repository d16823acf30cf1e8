//! Loki's own settings, read from jsonData's `loki` section:
//!
//! ```json
//! "loki": {"fields": "json", "splitInterval": "1h", "timestamps": "milliseconds"}
//! ```
//!
//! The flat keys of earlier versions (`lokiFields`, `lokiSplitInterval`,
//! `lokiTimestamps`), in provisioned YAML and saved datasources, still load;
//! a key of the section wins over its flat spelling. Errors name the key as
//! it was written.

use serde::Deserialize;
use serde_json::Value;

use crate::settings::{Settings, SettingsError};

/// Where a Loki datasource in `recordMode: fields` finds the fields that
/// were parsed at ingest (`loki.fields`); the LogQL dialect reads them so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LokiFields {
    /// Structured metadata (Loki 3): label filters read them directly, no parser.
    #[default]
    StructuredMetadata,
    /// Log lines that are JSON objects: `| json` extracts the needed fields.
    Json,
    /// Log lines in logfmt: `| logfmt` extracts the needed fields.
    Logfmt,
}

/// How precise a Loki datasource's entry timestamps are (`loki.timestamps`);
/// it decides how a series' buckets are asked (`logql`, "Exact windows").
/// Loki's query frontend stamps every range-query point on a whole
/// millisecond, so a range query's windows can only begin and end on whole
/// milliseconds: exact for entries stamped on whole milliseconds (VPC flow
/// logs shipped from S3 carry their `start` second), not for entries
/// stamped in between.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LokiTimestamps {
    /// Whole milliseconds: a series is one range query per sub-range.
    #[default]
    Milliseconds,
    /// Any nanosecond: each bucket is its own instant query (exact at any
    /// precision, one request per bucket).
    Nanoseconds,
}

/// Default of `loki.splitInterval`: Loki's own default
/// `split_queries_by_interval` (1 h), so each sub-query is one that Loki's
/// query frontend would make itself and can answer from its results cache.
pub const DEFAULT_LOKI_SPLIT_MS: i64 = 3_600_000;

/// A Loki setting: its value and the key it was written under (the
/// section's, or the flat key of earlier versions); `None` when unset,
/// null or blank.
fn setting<'a>(settings: &'a Settings, key: &str, flat: &str) -> Option<(&'a Value, String)> {
    let section = settings.json_data.get("loki").and_then(Value::as_object);
    let found = match section.and_then(|s| s.get(key)) {
        Some(v) => Some((v, format!("loki.{key}"))),
        None => settings.json_data.get(flat).map(|v| (v, flat.to_string())),
    };
    found.filter(|(v, _)| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
}

/// A datasource's Loki settings, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LokiSettings {
    /// `loki.fields`.
    pub fields: LokiFields,
    /// `loki.splitInterval` in ms (0: never split).
    pub split_ms: i64,
    /// `loki.timestamps`.
    pub timestamps: LokiTimestamps,
}

impl LokiSettings {
    /// The Loki settings of a datasource's jsonData.
    pub fn of(settings: &Settings) -> Result<Self, SettingsError> {
        let err = SettingsError;
        let fields = match setting(settings, "fields", "lokiFields") {
            None => LokiFields::default(),
            Some((v, key)) => serde_json::from_value(v.clone())
                .map_err(|_| err(format!("{key} {v} must be \"structured-metadata\", \"json\" or \"logfmt\"")))?,
        };
        let split_ms = match setting(settings, "splitInterval", "lokiSplitInterval") {
            None => DEFAULT_LOKI_SPLIT_MS,
            Some((v, key)) => split_interval(v).map_err(|why| {
                err(format!(
                    "{key} {v} {why}: a duration such as \"1h\" (the default, Loki's split_queries_by_interval) \
                     or \"30m\", from 1m to 7d, or \"0\" to never split"
                ))
            })?,
        };
        let timestamps = match setting(settings, "timestamps", "lokiTimestamps") {
            None => LokiTimestamps::default(),
            Some((v, key)) => serde_json::from_value(v.clone()).map_err(|_| {
                err(format!(
                    "{key} {v} must be \"milliseconds\" (entries stamped on whole milliseconds, the default) or \
                     \"nanoseconds\""
                ))
            })?,
        };
        Ok(LokiSettings { fields, split_ms, timestamps })
    }
}

/// `loki.splitInterval` in ms: a duration (`1h`, `30m`, `1h30m`, `1d`) of
/// whole seconds from 1 minute to 7 days, or 0.
fn split_interval(v: &Value) -> Result<i64, &'static str> {
    let text = v.as_str().ok_or("is not a string")?.trim();
    if text == "0" {
        return Ok(0);
    }
    let d = humantime::parse_duration(text).map_err(|_| "is not a duration")?;
    if d.subsec_nanos() != 0 || !(60..=7 * 86_400).contains(&d.as_secs()) {
        return Err("is out of range");
    }
    Ok(d.as_secs() as i64 * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dialect(json: &str) -> Result<LokiSettings, SettingsError> {
        let s = Settings::from_instance(&crate::settings::InstanceSettings {
            url: "http://127.0.0.1:3100",
            json_data: json.as_bytes(),
            ..Default::default()
        })
        .unwrap();
        LokiSettings::of(&s)
    }

    #[test]
    fn defaults() {
        let d = dialect(r#"{"backend":"loki"}"#).unwrap();
        assert_eq!(
            (d.fields, d.split_ms, d.timestamps),
            (LokiFields::StructuredMetadata, 3_600_000, LokiTimestamps::Milliseconds)
        );
        assert_eq!(dialect(r#"{"loki":{}}"#), dialect("{}"));
        assert_eq!(dialect(r#"{"loki":{"timestamps":"","splitInterval":null}}"#), dialect("{}"));
    }

    #[test]
    fn fields() {
        for (value, want) in [
            ("structured-metadata", LokiFields::StructuredMetadata),
            ("json", LokiFields::Json),
            ("logfmt", LokiFields::Logfmt),
        ] {
            assert_eq!(dialect(&format!(r#"{{"loki":{{"fields":"{value}"}}}}"#)).unwrap().fields, want);
        }
        let e = dialect(r#"{"loki":{"fields":"xml"}}"#).unwrap_err();
        assert!(e.0.starts_with("loki.fields \"xml\" must be"), "{}", e.0);
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            dialect(r#"{"loki":{"timestamps":"nanoseconds"}}"#).unwrap().timestamps,
            LokiTimestamps::Nanoseconds
        );
        let e = dialect(r#"{"loki":{"timestamps":"seconds"}}"#).unwrap_err();
        assert!(e.0.starts_with("loki.timestamps \"seconds\" must be"), "{}", e.0);
    }

    #[test]
    fn split_interval() {
        let split = |json: &str| dialect(json).map(|d| d.split_ms);
        assert_eq!(split(r#"{"loki":{"splitInterval":""}}"#), Ok(DEFAULT_LOKI_SPLIT_MS));
        for (text, ms) in [("0", 0), ("30m", 1_800_000), ("1h30m", 5_400_000), ("1d", 86_400_000), ("7d", 604_800_000)]
        {
            assert_eq!(split(&format!(r#"{{"loki":{{"splitInterval":"{text}"}}}}"#)), Ok(ms), "{text}");
        }
        for bad in [r#""30s""#, r#""8d""#, r#""1.5s""#, r#""soon""#, "3600"] {
            let e = split(&format!(r#"{{"loki":{{"splitInterval":{bad}}}}}"#)).unwrap_err();
            assert!(
                e.0.starts_with(&format!("loki.splitInterval {bad} ")) && e.0.contains("\"0\" to never split"),
                "{e}"
            );
        }
    }

    /// Provisioned YAML and datasources saved by earlier versions carry flat
    /// keys: they load as before, errors name the key as written, and the
    /// section wins where both are set.
    #[test]
    fn flat_keys_of_earlier_versions_still_load() {
        let flat =
            dialect(r#"{"lokiFields":"logfmt","lokiSplitInterval":"30m","lokiTimestamps":"nanoseconds"}"#).unwrap();
        assert_eq!(
            flat,
            dialect(r#"{"loki":{"fields":"logfmt","splitInterval":"30m","timestamps":"nanoseconds"}}"#).unwrap()
        );
        let e = dialect(r#"{"lokiFields":"yaml"}"#).unwrap_err();
        assert_eq!(e.0, r#"lokiFields "yaml" must be "structured-metadata", "json" or "logfmt""#);
        let e = dialect(r#"{"lokiTimestamps":"seconds"}"#).unwrap_err();
        assert!(e.0.starts_with("lokiTimestamps \"seconds\" must be"), "{}", e.0);
        let e = dialect(r#"{"lokiSplitInterval":"8d"}"#).unwrap_err();
        assert!(e.0.starts_with("lokiSplitInterval \"8d\" is out of range"), "{}", e.0);
        let both = dialect(r#"{"lokiSplitInterval":"30m","loki":{"splitInterval":"2h"}}"#).unwrap();
        assert_eq!(both.split_ms, 7_200_000);
    }
}
