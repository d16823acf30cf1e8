//! `flowlens bench --only lists`: how long rendering a filter's value list
//! (`=|`, the dashboard's multi-value variables) takes as the list grows to
//! [`MAX_LIST_VALUES`], in both dialects, without a backend. Linear growth
//! shows as a flat time per value; the quadratic de-duplication found by
//! issue 19 took 17.8 s for 80,000 values.

use std::time::Instant;

use flowlens::backends::loki::logql::LogQl;
use flowlens::backends::victorialogs::logsql::LogsQl;
use flowlens::dialect::{Dialect, Target};
use flowlens::model::{FlowQuery, Request, TimeRange, MAX_LIST_VALUES};
use flowlens::plan::Step;
use flowlens::settings::{InstanceSettings, Settings};

/// The list lengths rendered, up to the cap.
const SIZES: [usize; 5] = [625, 1_250, 2_500, 5_000, MAX_LIST_VALUES];

/// Render times by list length, then a small `render` call to the plugin binary
/// alone and while two callers keep rendering the longest lists through
/// its `render` resource.
pub async fn run() -> Result<(), String> {
    render_times()?;
    concurrent_call().await
}

/// `n` distinct addresses.
fn addresses(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255)).collect()
}

/// Prints, per list length, the median render time of five runs per
/// dialect and the time per value.
fn render_times() -> Result<(), String> {
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
    for n in SIZES {
        let values = addresses(n);
        let query =
            serde_json::json!({"format": "stat", "filters": [{"field": "srcaddr", "op": "=|", "value": values}]});
        let q = FlowQuery::parse(&serde_json::to_vec(&query).map_err(|e| e.to_string())?, &req, &settings)
            .map_err(|e| e.message)?;
        let logsql = median_ms(|| LogsQl.render(&target, &q, &Step::Total).len());
        let dialect = LogQl::of(&settings).map_err(|e| e.to_string())?;
        let logql = median_ms(|| dialect.render(&target, &q, &Step::Total).len());
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

/// A small `render` call's time alone, and while two callers render
/// [`MAX_LIST_VALUES`]-value lists through the plugin binary's `render`
/// resource without pause (medians of nine calls).
async fn concurrent_call() -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("gpx_flowlens");
    let plugin = super::grpc::Plugin::start(&exe).await?;
    let instance = super::grpc::instance(
        "http://127.0.0.1:9",
        serde_json::json!({"streamSelector": "{logtype=\"flow\"}", "insideCidrs": ["10.0.32.0/20"],
            "recordFormat": crate::gen::MISSION_FORMAT}),
    );
    let small = serde_json::json!({"query": {"format": "stat", "direction": "in"}});
    let small_calls = || async {
        let mut times = Vec::new();
        for _ in 0..9 {
            let (code, ms) = super::grpc::resource(&plugin, &instance, "POST", "render", &small).await?;
            if code != 200 {
                return Err(format!("a small render answered {code}"));
            }
            times.push(ms);
        }
        times.sort_by(f64::total_cmp);
        Ok::<f64, String>(times[4])
    };
    let alone = small_calls().await?;
    let body = serde_json::json!({"query": {"format": "stat",
        "filters": [{"field": "srcaddr", "op": "=|", "value": addresses(MAX_LIST_VALUES)}]}});
    let stop = std::sync::atomic::AtomicBool::new(false);
    let render = || async {
        let mut calls = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            let (code, _) = super::grpc::resource(&plugin, &instance, "POST", "render", &body).await?;
            if code != 200 {
                return Err(format!("render answered {code}"));
            }
            calls += 1;
        }
        Ok::<usize, String>(calls)
    };
    let busy = async {
        let result = small_calls().await;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        result
    };
    let (during, a, b) = tokio::join!(busy, render(), render());
    let (during, renders) = (during?, a? + b?);
    println!(
        "a small render call: {alone:.2} ms alone, {during:.2} ms while two callers rendered {MAX_LIST_VALUES}-value lists ({renders} renders meanwhile)"
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
