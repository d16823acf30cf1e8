//! Loki's answers as its HTTP API documents them (`vector`, `matrix`,
//! `streams`), parsed into typed values as they are read: no JSON tree.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;

use super::logql::{Answer, LogStream, LokiRequest, Sample};
use crate::error::QueryError;
use crate::source::Secrets;

/// A Loki answer's body parsed, or an error that quotes its start.
pub fn answer_of(request: &LokiRequest, body: &[u8], secrets: &Secrets) -> Result<Answer, QueryError> {
    parse_answer(body).map_err(|e| {
        QueryError::downstream(
            502,
            format!(
                "Loki answered {} with something other than its query JSON ({}): {}",
                request.path(),
                secrets.quote(&e.to_string(), 300),
                secrets.quote_bytes(body, 300)
            ),
        )
    })
}

/// `{"status": "success", "data": {"resultType": …, "result": […]}}`, or
/// for `/series` `{"status": "success", "data": [{label: value, …}, …]}`.
/// `data` and `result` are kept as the answer's own text until their type
/// is known, then read into typed values: no JSON tree is built.
#[derive(Debug, Deserialize)]
struct Body<'a> {
    status: String,
    #[serde(default, borrow)]
    data: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
struct Data<'a> {
    #[serde(rename = "resultType")]
    result_type: String,
    #[serde(default, borrow)]
    result: Option<&'a RawValue>,
}

/// One series of a `vector`: `value` is `[unix seconds, "value"]`.
#[derive(Debug, Deserialize)]
struct VectorSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Point,
}

/// One series of a `matrix`.
#[derive(Debug, Deserialize)]
struct MatrixSeries {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Point>,
}

/// One stream of `streams`: `values` are `["unix ns", "line"]` (a third
/// element, structured metadata with `categorize-labels`, is not read).
#[derive(Debug, Deserialize)]
struct Stream {
    #[serde(default)]
    stream: BTreeMap<String, String>,
    #[serde(default)]
    values: Vec<Entry>,
}

/// `[unix seconds, "value"]` as (ms, value), read without keeping the text.
#[derive(Debug)]
struct Point(i64, f64);

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Point;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("[unix seconds, \"value\"]")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Point, A::Error> {
                use serde::de::Error;
                let t: f64 = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
                let Number(v) = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(1, &self))?;
                if seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(A::Error::invalid_length(3, &self));
                }
                Ok(Point((t * 1000.0).round() as i64, v))
            }
        }
        d.deserialize_seq(Visit)
    }
}

/// A sample value: a JSON string holding a number.
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number as a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Number, E> {
                v.parse().map(Number).map_err(|_| E::custom(format!("a value that is no number: {v:?}")))
            }
        }
        d.deserialize_str(Visit)
    }
}

/// `["unix ns", "line", …]` as (ns, line).
#[derive(Debug)]
struct Entry(i64, String);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        const NOT: &str = "an entry that is not [\"unix ns\", \"line\"]";
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Entry;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(NOT)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Entry, A::Error> {
                use serde::de::Error;
                let t: std::borrow::Cow<'de, str> = seq.next_element()?.ok_or_else(|| A::Error::custom(NOT))?;
                let t: i64 = t.parse().map_err(|_| A::Error::custom(NOT))?;
                let line: String = seq.next_element()?.ok_or_else(|| A::Error::custom(NOT))?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Entry(t, line))
            }
        }
        d.deserialize_seq(Visit)
    }
}

/// A Loki query answer as the dialect's [`Answer`]: points as (ms, value),
/// entries as (ns, line). Errors say what was not as documented.
pub fn parse_answer(body: &[u8]) -> Result<Answer, String> {
    let body: Body = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if body.status != "success" {
        return Err(format!("status {:?}", body.status));
    }
    let data = body.data.ok_or("no data")?.get();
    if data.trim_start().starts_with('[') {
        let sets: Vec<BTreeMap<String, String>> = serde_json::from_str(data).map_err(|e| e.to_string())?;
        return Ok(Answer::Streams(sets.into_iter().map(|labels| LogStream { labels, entries: Vec::new() }).collect()));
    }
    if data.trim() == "null" {
        return Err("no data".into());
    }
    let data: Data = serde_json::from_str(data).map_err(|e| e.to_string())?;
    let result = data.result.map_or("null", RawValue::get);
    match data.result_type.as_str() {
        "vector" => {
            let series: Vec<VectorSeries> = serde_json::from_str(result).map_err(|e| e.to_string())?;
            Ok(Answer::Series(
                series.into_iter().map(|s| Sample { labels: s.metric, points: vec![(s.value.0, s.value.1)] }).collect(),
            ))
        }
        "matrix" => {
            let series: Vec<MatrixSeries> = serde_json::from_str(result).map_err(|e| e.to_string())?;
            Ok(Answer::Series(
                series
                    .into_iter()
                    .map(|s| Sample { labels: s.metric, points: s.values.into_iter().map(|p| (p.0, p.1)).collect() })
                    .collect(),
            ))
        }
        "streams" => {
            let streams: Vec<Stream> = serde_json::from_str(result).map_err(|e| e.to_string())?;
            Ok(Answer::Streams(
                streams
                    .into_iter()
                    .map(|s| LogStream {
                        labels: s.stream,
                        entries: s.values.into_iter().map(|e| (e.0, e.1)).collect(),
                    })
                    .collect(),
            ))
        }
        other => Err(format!("resultType {other:?}")),
    }
}
