//! Backend dialects: a plan [`Step`] of a [`FlowQuery`] rendered into query
//! text. Pure; one module per language, nothing else knows their syntax.

pub mod logql;
pub mod logsql;

use crate::model::FlowQuery;
use crate::plan::Step;
use crate::schema::RecordSchema;
use crate::selector::StreamSelector;

/// Where the records are: the datasource's part of every query.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Which streams hold flow records.
    pub stream: &'a StreamSelector,
    /// Where record fields live.
    pub schema: &'a RecordSchema,
}

/// A query language.
pub trait Dialect {
    /// The query text for one step.
    fn render(&self, target: &Target<'_>, q: &FlowQuery, step: &Step) -> String;
}
