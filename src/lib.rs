//! flowlens: questions about network flow logs, answered from VictoriaLogs or
//! Loki as typed Grafana data frames. See ARCHITECTURE.md for the stages.

pub mod dialect;
pub mod error;
pub mod model;
pub mod plan;
pub mod schema;
pub mod selector;
pub mod settings;
