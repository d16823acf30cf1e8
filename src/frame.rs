//! Grafana data frames and their wire form: Arrow IPC *file* format with the
//! metadata keys Grafana reads (`name`, `refId`, `meta` on the schema;
//! `name`, `labels`, `config` on each field), written with arrow-rs. This
//! replaces the SDK's arrow2 encoder, which drops labels when a field also
//! has a config and has no data-plane `type` in its metadata.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use arrow_array::{
    ArrayRef, BinaryArray, Float64Array, RecordBatch, StringArray, TimestampNanosecondArray, UInt64Array,
};
use arrow_schema::{DataType, Field as ArrowField, Schema, TimeUnit};
use serde::Serialize;
use serde_json::Value;

/// A column of values.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    /// Timestamps in ns since the epoch, never null.
    Time(Vec<i64>),
    /// Unsigned integers (sums, ports), null where absent.
    U64(Vec<Option<u64>>),
    /// Floats (rates).
    F64(Vec<Option<f64>>),
    /// Strings (addresses, ids).
    Str(Vec<Option<String>>),
    /// JSON documents (logs labels), already serialized.
    Json(Vec<Vec<u8>>),
}

impl Values {
    /// Number of rows.
    pub fn len(&self) -> usize {
        match self {
            Self::Time(v) => v.len(),
            Self::U64(v) => v.len(),
            Self::F64(v) => v.len(),
            Self::Str(v) => v.len(),
            Self::Json(v) => v.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A field's display configuration (Grafana's FieldConfig subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldConfig {
    /// Name shown in legends and headers, set by the datasource.
    #[serde(rename = "displayNameFromDS", skip_serializing_if = "Option::is_none")]
    pub display_name_from_ds: Option<String>,
    /// Unit id (`decbytes`, `Bps`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Data links.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// What Grafana shows for an empty (null) cell.
    #[serde(rename = "noValue", skip_serializing_if = "Option::is_none")]
    pub no_value: Option<String>,
}

/// A data link.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Link {
    /// Title.
    pub title: String,
    /// URL template.
    pub url: String,
    /// A query of a datasource Explore opens with the panel's time range
    /// (Grafana's internal link), instead of the URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internal: Option<InternalLink>,
}

/// Grafana's internal data link: a datasource's query.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InternalLink {
    /// The query (variables such as `${__value.raw}` expanded by Grafana).
    pub query: serde_json::Value,
    /// The datasource's uid.
    pub datasource_uid: String,
    /// Its name.
    pub datasource_name: String,
}

/// One field (column).
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Field name.
    pub name: String,
    /// Series labels.
    pub labels: BTreeMap<String, String>,
    /// Display config.
    pub config: Option<FieldConfig>,
    /// Values.
    pub values: Values,
}

impl Field {
    /// A field without labels or config.
    pub fn new(name: impl Into<String>, values: Values) -> Self {
        Self { name: name.into(), labels: BTreeMap::new(), config: None, values }
    }

    /// With a display config.
    pub fn with_config(mut self, config: FieldConfig) -> Self {
        self.config = Some(config);
        self
    }
}

/// Frame metadata (Grafana's FrameMeta subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FrameMeta {
    /// Data-plane type (`numeric-wide`, `timeseries-multi`, `log-lines`).
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Data-plane type version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub type_version: Option<[u32; 2]>,
    /// `table`, `logs`, `graph`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_visualisation_type: Option<String>,
    /// The backend queries that produced the frame.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executed_query_string: Option<String>,
    /// Notices shown in the panel (e.g. a limit was hit).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// Plugin-specific values (bucket width used, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
}

/// A notice on a frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// `info`, `warning` or `error`.
    pub severity: String,
    /// Text.
    pub text: String,
}

/// A data frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    /// Frame name.
    pub name: String,
    /// The query it answers.
    pub ref_id: String,
    /// Fields, all of the same length.
    pub fields: Vec<Field>,
    /// Metadata.
    pub meta: FrameMeta,
}

impl Frame {
    /// Encodes the frame as Grafana reads it: Arrow IPC file bytes.
    pub fn to_arrow(&self) -> Result<Vec<u8>, arrow_schema::ArrowError> {
        self.clone().into_arrow()
    }

    /// [`Frame::to_arrow`], consuming the frame: each field's values are
    /// dropped as soon as its Arrow column holds them, so a large frame is
    /// not held twice over.
    pub fn into_arrow(self) -> Result<Vec<u8>, arrow_schema::ArrowError> {
        let mut arrow_fields = Vec::with_capacity(self.fields.len());
        let mut columns: Vec<ArrayRef> = Vec::with_capacity(self.fields.len());
        for f in self.fields {
            let mut meta = HashMap::from([("name".to_string(), f.name.clone())]);
            if !f.labels.is_empty() {
                meta.insert("labels".into(), serde_json::to_string(&f.labels).expect("labels serialize"));
            }
            if let Some(c) = &f.config {
                meta.insert("config".into(), serde_json::to_string(c).expect("config serializes"));
            }
            let (data_type, nullable, column): (DataType, bool, ArrayRef) = match f.values {
                Values::Time(v) => (
                    DataType::Timestamp(TimeUnit::Nanosecond, None),
                    false,
                    Arc::new(TimestampNanosecondArray::from(v)),
                ),
                Values::U64(v) => (DataType::UInt64, v.iter().any(Option::is_none), Arc::new(UInt64Array::from(v))),
                Values::F64(v) => (DataType::Float64, v.iter().any(Option::is_none), Arc::new(Float64Array::from(v))),
                Values::Str(v) => (DataType::Utf8, v.iter().any(Option::is_none), Arc::new(StringArray::from(v))),
                Values::Json(v) => (DataType::Binary, false, Arc::new(BinaryArray::from_iter_values(v.iter()))),
            };
            arrow_fields.push(ArrowField::new(&f.name, data_type, nullable).with_metadata(meta));
            columns.push(column);
        }
        let mut schema_meta =
            HashMap::from([("name".to_string(), self.name.clone()), ("refId".to_string(), self.ref_id.clone())]);
        schema_meta.insert("meta".into(), serde_json::to_string(&self.meta).expect("meta serializes"));
        let schema = Arc::new(Schema::new(arrow_fields).with_metadata(schema_meta));
        let batch = if columns.is_empty() {
            RecordBatch::new_empty(schema.clone())
        } else {
            RecordBatch::try_new(schema.clone(), columns)?
        };
        let mut out = Vec::new();
        {
            let mut writer = arrow_ipc::writer::FileWriter::try_new(&mut out, &schema)?;
            writer.write(&batch)?;
            writer.finish()?;
        }
        Ok(out)
    }
}
