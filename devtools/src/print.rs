//! Frames as text, for the CLI: stats as one line, tables as aligned
//! columns, series as one line each (points, sum, peak), logs as lines.

use flowlens::frame::{Frame, Values};

/// Renders frames as plain text.
pub fn frames(frames: &[Frame]) -> String {
    let mut out = String::new();
    for f in frames {
        let kind = f.meta.kind.as_deref().unwrap_or("");
        let text = match kind {
            "timeseries-multi" => series(f),
            "log-lines" => logs(f),
            "numeric-wide" if f.fields.len() <= 2 && f.fields.iter().all(|x| x.values.len() == 1) => stat(f),
            _ => table(f),
        };
        out.push_str(&text);
    }
    out
}

/// Human-readable bytes (decimal units, as Grafana's `decbytes`).
pub fn human_bytes(v: f64) -> String {
    const UNITS: [&str; 6] = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = v;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{v:.0} B")
    } else {
        format!("{v:.2} {}", UNITS[unit])
    }
}

fn cell(values: &Values, row: usize, unit: Option<&str>) -> String {
    let number = |v: f64| match unit {
        Some("decbytes") => format!("{} ({v})", human_bytes(v)),
        Some("Bps") => format!("{}/s", human_bytes(v)),
        _ => format!("{v}"),
    };
    match values {
        Values::Time(v) => chrono::DateTime::from_timestamp_nanos(v[row]).format("%Y-%m-%d %H:%M:%S").to_string(),
        Values::U64(v) => v[row].map(|x| number(x as f64)).unwrap_or_default(),
        Values::F64(v) => v[row].map(number).unwrap_or_default(),
        Values::Str(v) => v[row].clone().unwrap_or_default(),
        Values::Json(v) => String::from_utf8_lossy(&v[row]).into_owned(),
    }
}

fn display(f: &flowlens::frame::Field) -> String {
    f.config.as_ref().and_then(|c| c.display_name_from_ds.clone()).unwrap_or_else(|| f.name.clone())
}

fn unit(f: &flowlens::frame::Field) -> Option<&str> {
    f.config.as_ref().and_then(|c| c.unit.as_deref())
}

fn stat(f: &Frame) -> String {
    let parts: Vec<String> =
        f.fields.iter().map(|x| format!("{}: {}", display(x), cell(&x.values, 0, unit(x)))).collect();
    format!("  {}\n", parts.join("   "))
}

fn table(f: &Frame) -> String {
    let rows = f.fields.first().map_or(0, |x| x.values.len());
    let header: Vec<String> = f.fields.iter().map(display).collect();
    let cells: Vec<Vec<String>> =
        (0..rows).map(|r| f.fields.iter().map(|x| cell(&x.values, r, unit(x))).collect()).collect();
    let widths: Vec<usize> = (0..header.len())
        .map(|c| cells.iter().map(|r| r[c].len()).chain([header[c].len()]).max().unwrap_or(0))
        .collect();
    let line = |values: &[String]| {
        let padded: Vec<String> = values.iter().zip(&widths).map(|(v, w)| format!("{v:<w$}")).collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&header);
    for r in &cells {
        out.push_str(&line(r));
    }
    out
}

fn series(f: &Frame) -> String {
    let Some(value) = f.fields.get(1) else { return String::new() };
    let points: Vec<f64> = match &value.values {
        Values::U64(v) => v.iter().map(|x| x.unwrap_or(0) as f64).collect(),
        Values::F64(v) => v.iter().map(|x| x.unwrap_or(0.0)).collect(),
        _ => Vec::new(),
    };
    let peak = points.iter().cloned().fold(0.0, f64::max);
    let mean = if points.is_empty() { 0.0 } else { points.iter().sum::<f64>() / points.len() as f64 };
    let u = unit(value);
    let fmt = |v: f64| match u {
        Some("Bps") => format!("{}/s", human_bytes(v)),
        Some("decbytes") => human_bytes(v),
        _ => format!("{v:.2}"),
    };
    format!("  {:<28} {:>5} points  mean {:>12}  peak {:>12}\n", display(value), points.len(), fmt(mean), fmt(peak))
}

fn logs(f: &Frame) -> String {
    let (Some(time), Some(body)) =
        (f.fields.iter().find(|x| x.name == "timestamp"), f.fields.iter().find(|x| x.name == "body"))
    else {
        return String::new();
    };
    (0..body.values.len())
        .map(|r| format!("  {}  {}\n", cell(&time.values, r, None), cell(&body.values, r, None)))
        .collect()
}
