//! flowlens: questions about network flow logs, answered from VictoriaLogs or
//! Loki as typed Grafana data frames. See ARCHITECTURE.md for the stages.

pub mod backends;
pub mod consistency;
pub mod datasource;
pub mod dialect;
pub mod error;
pub mod frame;
pub mod frames;
pub mod health;
pub mod model;
pub mod names;
pub mod plan;
pub mod plugin;
pub mod pluginv2;
pub mod predicate;
pub mod query;
pub mod re2;
pub mod reuse;
pub mod rollups;
pub mod schema;
pub mod selector;
pub mod settings;
pub mod source;
pub mod time;
