//! flowlens's developer tools, outside the plugin: generated flow records
//! (`gen`), Lambda-Promtail-style loading (`load`), local VictoriaLogs
//! processes (`vlserver`), the demo, the benchmark, frame printing and the
//! Loki comparison of the `flowlens` command line. The tests use them too.

pub mod bench;
pub mod cli;
pub mod compare;
pub mod demo;
pub mod gen;
pub mod grafana;
pub mod load;
pub mod print;
pub mod rules;
pub mod vlserver;
pub mod vmserver;
