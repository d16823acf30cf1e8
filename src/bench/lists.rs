//! `flowlens bench --only lists`: how long rendering a filter's value list
//! (`=|`, the dashboard's multi-value variables) takes as the list grows to
//! [`MAX_LIST_VALUES`], in both dialects, without a backend. Linear growth
//! shows as a flat time per value; the quadratic de-duplication found by
//! issue 19 took 17.8 s for 80,000 values.

use std::time::Instant;

use crate::dialect::logql::LogQl;
use crate::dialect::logsql::LogsQl;
use crate::dialect::{Dialect, Target};
use crate::model::{FlowQuery, Request, TimeRange, MAX_LIST_VALUES};
use crate::plan::Step;
use crate::settings::{InstanceSettings, Settings};

/// Prints, per list length, the median render time of five runs per
/// dialect and the time per value.
pub fn run() -> Result<(), String> {
    let json = br#"{"streamSelector":"{logtype=\"flow\"}","insideCidrs":["10.0.32.0/20"],"interfaceId":"eni-0352f8c82da6aa229"}"#;
    let settings = Settings::from_instance(&InstanceSettings {
        url: "http://127.0.0.1:9428",
        json_data: json,
        ..Default::default()
    })
    .map_err(|e| e.to_string())?;
    let target = Target { stream: &settings.stream, schema: &settings.schema };
    let req = Request { range: TimeRange { from_ms: 0, to_ms: 86_400_000 }, interval_ms: 60_000, max_data_points: 0 };
    println!("| values | LogsQL ms | LogQL ms | LogsQL µs per value | LogQL µs per value |");
    println!("|---|---|---|---|---|");
    let mut per_value = Vec::new();
    for n in [625, 1_250, 2_500, 5_000, MAX_LIST_VALUES] {
        let values: Vec<String> =
            (0..n).map(|i| format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)).collect();
        let query =
            serde_json::json!({"format": "stat", "filters": [{"field": "srcaddr", "op": "=|", "value": values}]});
        let q = FlowQuery::parse(&serde_json::to_vec(&query).map_err(|e| e.to_string())?, &req, &settings)
            .map_err(|e| e.message)?;
        let logsql = median_ms(|| LogsQl.render(&target, &q, &Step::Total).len());
        let logql = median_ms(|| LogQl::of(&settings).render(&target, &q, &Step::Total).len());
        let (a, b) = (logsql * 1_000.0 / n as f64, logql * 1_000.0 / n as f64);
        println!("| {n} | {logsql:.2} | {logql:.2} | {a:.3} | {b:.3} |");
        per_value.push((a, b));
    }
    let (first, last) = (per_value[0], per_value[per_value.len() - 1]);
    println!(
        "time per value at {MAX_LIST_VALUES} / at 625: LogsQL {:.2}x, LogQL {:.2}x (1.0 = linear)",
        last.0 / first.0,
        last.1 / first.1
    );
    Ok(())
}

/// The median of five timed runs of `f` after a warm-up, in ms.
fn median_ms(f: impl Fn() -> usize) -> f64 {
    std::hint::black_box(f());
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(f());
            started.elapsed().as_secs_f64() * 1_000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}
