//! flowlens: questions about network flow logs, answered from VictoriaLogs or
//! Loki as typed Grafana data frames. See ARCHITECTURE.md for the stages.

pub mod backend;
pub mod bench;
pub mod datasource;
pub mod demo;
pub mod dialect;
pub mod error;
pub mod frame;
pub mod frames;
pub mod gen;
pub mod health;
pub mod load;
pub mod model;
pub mod plan;
pub mod plugin;
pub mod print;
pub mod schema;
pub mod selector;
pub mod settings;
pub mod vlserver;
