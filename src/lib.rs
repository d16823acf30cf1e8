//! flowlens: questions about network flow logs, answered from VictoriaLogs or
//! Loki as typed Grafana data frames. See ARCHITECTURE.md for the stages.

pub mod backends;
#[cfg(feature = "devtools")]
pub mod bench;
#[cfg(feature = "devtools")]
pub mod compare;
pub mod consistency;
pub mod datasource;
#[cfg(feature = "devtools")]
pub mod demo;
pub mod dialect;
pub mod error;
pub mod frame;
pub mod frames;
#[cfg(feature = "devtools")]
pub mod gen;
pub mod health;
#[cfg(feature = "devtools")]
pub mod load;
pub mod model;
pub mod plan;
pub mod plugin;
pub mod pluginv2;
pub mod predicate;
#[cfg(feature = "devtools")]
pub mod print;
pub mod query;
pub mod re2;
pub mod reuse;
pub mod schema;
pub mod selector;
pub mod settings;
pub mod source;
pub mod time;
#[cfg(feature = "devtools")]
pub mod vlserver;
