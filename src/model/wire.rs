//! A panel target's JSON as Grafana sends it, read leniently: every field
//! optional and untyped until `validate.rs` names what is wrong with it.

use serde::Deserialize;

use super::{FlowQuery, Request};
use crate::error::QueryError;
use crate::settings::Settings;

/// The target JSON as Grafana sends it: every field optional, unknown fields
/// (`datasource`, `hide`, ...) ignored, types checked later per refId.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct QueryJson {
    pub(super) ref_id: String,
    pub(super) version: Option<serde_json::Value>,
    pub(super) format: Option<serde_json::Value>,
    pub(super) metric: Option<serde_json::Value>,
    pub(super) direction: Option<serde_json::Value>,
    pub(super) group_by: Option<serde_json::Value>,
    pub(super) limit: Option<serde_json::Value>,
    pub(super) other: Option<serde_json::Value>,
    pub(super) rate: Option<serde_json::Value>,
    pub(super) share: Option<serde_json::Value>,
    pub(super) distinct_field: Option<serde_json::Value>,
    pub(super) price: Option<serde_json::Value>,
    pub(super) order: Option<serde_json::Value>,
    pub(super) filters: Option<serde_json::Value>,
    pub(super) interface_id: Option<serde_json::Value>,
    pub(super) raw_query: Option<serde_json::Value>,
    pub(super) cache: Option<serde_json::Value>,
}

impl QueryJson {
    /// A target from JSON bytes.
    fn read(json: &[u8]) -> Result<Self, QueryError> {
        let value: serde_json::Value = serde_json::from_slice(json)
            .map_err(|e| QueryError::plugin(format!("the query is not valid JSON: {e}")))?;
        if !value.is_object() {
            return Err(QueryError::plugin(format!("the query is not a JSON object: {value}")));
        }
        serde_json::from_value(value).map_err(|e| QueryError::plugin(format!("the query is not valid: {e}")))
    }

    /// An error naming the first template variable in a value of the target.
    fn no_variables(&self) -> Result<(), QueryError> {
        fn strings(v: &serde_json::Value) -> Vec<&str> {
            match v {
                serde_json::Value::String(s) => vec![s.as_str()],
                serde_json::Value::Array(items) => items.iter().flat_map(strings).collect(),
                _ => Vec::new(),
            }
        }
        let filters = self.filters.iter().flat_map(|f| f.as_array().into_iter().flatten());
        let values: Vec<(&str, &str)> = [
            ("rawQuery", &self.raw_query),
            ("interfaceId", &self.interface_id),
            ("groupBy", &self.group_by),
            ("distinctField", &self.distinct_field),
        ]
        .into_iter()
        .flat_map(|(what, v)| v.iter().flat_map(strings).map(move |s| (what, s)))
        .chain(filters.flat_map(|f| [&f["field"], &f["value"]]).flat_map(strings).map(|s| ("filters", s)))
        .collect();
        for (what, value) in values {
            if let Some(v) = template_variable(value) {
                return Err(QueryError::plugin(format!(
                    "`{what}`: `{v}` is a dashboard variable that was not replaced; alert rules and server-side expressions run the query as saved (Grafana replaces variables only in dashboards and Explore), so write the value itself"
                )));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct FilterJson {
    pub(super) field: String,
    pub(super) op: String,
    #[serde(default)]
    pub(super) value: serde_json::Value,
}

/// Reads one optional field with a typed error naming it.
pub(super) fn typed<T: serde::de::DeserializeOwned>(
    name: &str,
    value: &Option<serde_json::Value>,
    valid: &str,
) -> Result<Option<T>, QueryError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| QueryError::plugin(format!("`{name}`: {v} is not valid; expected {valid}"))),
    }
}

impl FlowQuery {
    /// Parses and validates a target. Errors name the field and what is valid.
    pub fn parse(json: &[u8], req: &Request, settings: &Settings) -> Result<Self, QueryError> {
        Self::from_json(QueryJson::read(json)?, req, settings)
    }

    /// Parses a target of Grafana's alerting or server-side expressions,
    /// which send it as saved: a template variable left in it is an error
    /// (in a dashboard, the frontend replaced every variable it knows, and
    /// what looks like one is data). Logs cannot be a condition.
    pub fn parse_for_alerting(json: &[u8], req: &Request, settings: &Settings) -> Result<Self, QueryError> {
        let q = QueryJson::read(json)?;
        q.no_variables()?;
        Self::from_json(q, req, settings)?.for_alerting()
    }
}

/// A Grafana template variable in a value (`$pod`, `${pod}`, `${pod:regex}`,
/// `[[pod]]`, `$__interval`): Grafana replaces them in dashboards and
/// Explore, never in alert rules, recorded queries or API calls.
pub fn template_variable(text: &str) -> Option<&str> {
    static VARIABLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"(?:^|[^\\])(\$\w+|\$\{\w+(?:[.:][^}]*)?\}|\[\[\w+(?::\w+)?\]\])").expect("valid regex")
    });
    VARIABLE.captures(text).and_then(|c| c.get(1)).map(|m| m.as_str())
}

/// A string, or a list of strings (a multi-value variable).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum StringOrList {
    One(String),
    Many(Vec<String>),
}

impl StringOrList {
    pub(super) fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}
