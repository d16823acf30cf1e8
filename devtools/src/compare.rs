//! `flowlens query --backend loki --compare`: a panel query on the user's
//! own Loki, answered twice. First as the plugin answers it (the frames:
//! sub-ranges of `lokiSplitInterval`, rankings in parts when Loki refuses
//! them whole, edge buckets), then each of its plan steps as Loki itself
//! answers the same question sent whole (one request per step and edge
//! bucket, no splitting), with Loki's raw answer printed beside it and the
//! two step outputs compared exactly. No live Loki was available where
//! flowlens was built: this is how a user checks the Loki path on theirs.

use std::fmt::Write;

use flowlens::backends::loki::answer_of;
use flowlens::backends::loki::logql::{merge, Answer, LogQl, LokiRequest};
use flowlens::backends::loki::Loki;
use flowlens::datasource::Datasource;
use flowlens::error::QueryError;
use flowlens::model::FlowQuery;
use flowlens::plan::{first_step, follow_up, Step, StepOutput};
use flowlens::source::Deadline;

/// Most characters of one raw Loki answer printed.
const RAW_SHOWN: usize = 1_500;

/// The report, and whether every step Loki answered whole equals the
/// plugin's answer.
pub async fn run(ds: &Datasource, q: &FlowQuery) -> Result<(String, bool), QueryError> {
    let Some(loki) = ds.backend().as_any().downcast_ref::<Loki>() else {
        return Err(QueryError::plugin("--compare compares with Loki's own answers: use --backend loki"));
    };
    let deadline = Deadline::after(ds.settings.timeout);
    let q = ds.resolve(q, deadline).await?;
    let mut out = String::from("== flowlens: the plugin's frames\n");
    out.push_str(&crate::print::frames(&ds.query(&q).await?));
    let whole = LogQl { split_ms: 0, ..*loki.dialect() };
    let mut steps = vec![first_step(&q)];
    let mut all_equal = true;
    let mut i = 0;
    while i < steps.len() {
        let step = steps[i].clone();
        let (_, ours) = ds.run_step_within(&q, &step, deadline).await?;
        if i == 0 {
            steps.extend(follow_up(&q, &ours));
        }
        let _ = writeln!(out, "\n== step {}: {step:?}, sent whole to Loki", i + 1);
        match loki_answers(ds, &whole, &q, &step, deadline, &mut out).await {
            Ok(answers) => {
                let theirs = merge(&q, &step, &answers);
                if theirs == ours {
                    let _ = writeln!(out, "-- equal: {}", summary(&ours));
                } else {
                    all_equal = false;
                    let _ = writeln!(
                        out,
                        "-- DIFFERENT\n   flowlens: {}\n   Loki:     {}",
                        summary(&ours),
                        summary(&theirs)
                    );
                }
            }
            // Loki refusing the whole query (the series limit, its length or
            // timeout) is why the plugin splits: nothing to compare.
            Err(e) => {
                let _ = writeln!(out, "-- Loki refused the step sent whole, so it cannot be compared: {}", e.message);
            }
        }
        i += 1;
    }
    Ok((out, all_equal))
}

/// Each request of a step sent whole (log queries paged), printed with
/// Loki's raw answer.
async fn loki_answers(
    ds: &Datasource,
    whole: &LogQl,
    q: &FlowQuery,
    step: &Step,
    deadline: Deadline,
    out: &mut String,
) -> Result<Vec<(LokiRequest, Answer)>, QueryError> {
    let loki = ds.backend().as_any().downcast_ref::<Loki>().expect("a Loki datasource");
    let mut answers = Vec::new();
    let mut held = 0;
    for request in whole.requests(&ds.target(), q, step)? {
        let mut next = Some(request);
        while let Some(request) = next.take() {
            let params: Vec<String> = request.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(out, "GET {} {}\n{}", request.path(), params.join(" "), request.query);
            let text = loki.fetch_text(&request, deadline).await?;
            let _ = writeln!(out, "{}", excerpt(&text));
            let answer = answer_of(&request, text.as_bytes(), loki.secrets())?;
            if let Answer::Streams(streams) = &answer {
                held += streams.iter().map(|s| s.entries.len()).sum::<usize>();
                next = request.next_page(&answer, held);
            }
            answers.push((request, answer));
        }
    }
    Ok(answers)
}

/// The start of a raw answer, cut at a character boundary.
fn excerpt(text: &str) -> String {
    if text.len() <= RAW_SHOWN {
        return text.trim_end().to_string();
    }
    let mut cut = RAW_SHOWN;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{} … ({} bytes in all)", &text[..cut], text.len())
}

/// A step output in one line: the total, the ranking, bucket and record
/// counts with their sums.
fn summary(output: &StepOutput) -> String {
    match output {
        StepOutput::Total(n) => format!("total {n}"),
        StepOutput::Ranked(ranked) => {
            let rows: Vec<String> = ranked.iter().map(|(k, v)| format!("{} = {v}", k.join(" "))).collect();
            format!("{} ranked: {}", ranked.len(), rows.join(", "))
        }
        StepOutput::Buckets(series) => {
            let rows: Vec<String> = series
                .iter()
                .map(|(k, b)| format!("{{{}}}: {} buckets, sum {}", k.join(" "), b.len(), b.values().sum::<u64>()))
                .collect();
            format!("{} series: {}", series.len(), rows.join(", "))
        }
        StepOutput::Records(records) => {
            let newest = records.first().map(|r| r.time_ns).unwrap_or_default();
            format!("{} records, newest at {newest} ns", records.len())
        }
        StepOutput::Rows(rows) => format!("{} rows", rows.len()),
        StepOutput::Series(series) => format!("{} series", series.len()),
    }
}
