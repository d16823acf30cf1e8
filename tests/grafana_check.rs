//! The Go checker the harness runs on every QueryData answer
//! (`tests/grafana-go`, Grafana's own plugin SDK) can fail: hand-built
//! answers that break the data-plane contract or lack an error source are
//! reported, and well-formed ones pass with the errorSource Grafana reads.

mod common;

use std::collections::{BTreeMap, HashMap};

use common::harness::{grafana_check, pb, GrafanaReport};
use flowlens::frame::{Field, FieldConfig, Frame, FrameMeta, Values};
use serde_json::json;

const MINUTE_NS: i64 = 60_000_000_000;

fn request(targets: &[(&str, serde_json::Value)]) -> pb::QueryDataRequest {
    let queries = targets
        .iter()
        .map(|(ref_id, target)| pb::DataQuery {
            ref_id: ref_id.to_string(),
            json: serde_json::to_vec(target).unwrap(),
            time_range: Some(pb::TimeRange { from_epoch_ms: 0, to_epoch_ms: 3_600_000 }),
            ..Default::default()
        })
        .collect();
    pb::QueryDataRequest { plugin_context: Some(pb::PluginContext::default()), queries, ..Default::default() }
}

/// A builder series of `pkt_srcaddr` = 10.0.32.1 at the given times.
fn series(times_ns: Vec<i64>) -> Frame {
    let value = Field {
        name: "bytes".into(),
        labels: BTreeMap::from([("pkt_srcaddr".to_string(), "10.0.32.1".to_string())]),
        config: Some(FieldConfig {
            display_name_from_ds: Some("10.0.32.1".into()),
            unit: Some("decbytes".into()),
            ..Default::default()
        }),
        values: Values::U64(times_ns.iter().map(|_| Some(1)).collect()),
    };
    Frame {
        name: "10.0.32.1".into(),
        ref_id: "A".into(),
        fields: vec![Field::new("time", Values::Time(times_ns)), value],
        meta: FrameMeta { kind: Some("timeseries-multi".into()), type_version: Some([0, 1]), ..Default::default() },
    }
}

fn frames(frames: &[Frame]) -> pb::DataResponse {
    pb::DataResponse {
        frames: frames.iter().map(|f| f.to_arrow().unwrap()).collect(),
        status: 200,
        ..Default::default()
    }
}

fn check(a: pb::DataResponse, b: pb::DataResponse) -> GrafanaReport {
    let request = request(&[
        ("A", json!({"format": "series", "groupBy": ["pkt_srcaddr"]})),
        ("B", json!({"format": "stat", "filters": [{"field": "pkt_srcaddr", "op": "like", "value": "x"}]})),
    ]);
    let response = pb::QueryDataResponse { responses: HashMap::from([("A".to_string(), a), ("B".to_string(), b)]) };
    grafana_check(&request, &response)
}

#[test]
fn well_formed_answers_pass_with_the_error_source_grafana_reads() {
    let error = pb::DataResponse {
        error: "op `like` is not valid".into(),
        status: 400,
        error_source: "plugin".into(),
        ..Default::default()
    };
    let report = check(frames(&[series(vec![0, MINUTE_NS, 2 * MINUTE_NS])]), error);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.responses["B"].error_source, "plugin");
    assert_eq!(report.responses["B"].status, 400);
    let frame = &report.responses["A"].frames[0];
    assert_eq!(
        (frame.kind.as_str(), frame.type_version.as_str(), frame.fields, frame.rows),
        ("timeseries-multi", "0.1", 2, 3)
    );
}

#[test]
fn a_descending_series_and_an_error_without_source_are_reported() {
    let error = pb::DataResponse { error: "op `like` is not valid".into(), status: 400, ..Default::default() };
    let report = check(frames(&[series(vec![MINUTE_NS, 0])]), error);
    let all = report.violations.join("\n");
    assert!(
        all.contains(r#"refId "A": frame 0 "10.0.32.1" (timeseries-multi): time field "time" goes back at row 1"#),
        "{all}"
    );
    assert!(
        all.contains(r#"refId "B": the error "op `like` is not valid" reaches Grafana with errorSource """#),
        "{all}"
    );
    assert_eq!(report.violations.len(), 2, "{all}");
    assert_eq!(report.responses["B"].error_source, "");
}

#[test]
fn a_success_without_status_and_a_frame_for_another_ref_id_are_reported() {
    let mut other = series(vec![0]);
    other.ref_id = "B".into();
    let mut no_status = frames(&[other]);
    no_status.status = 0;
    let ok = pb::DataResponse { status: 200, ..Default::default() };
    let all = check(no_status, ok).violations.join("\n");
    assert!(all.contains(r#"refId "A": an answer without error reaches Grafana with status 500"#), "{all}");
    assert!(all.contains(r#"carries refId "B""#), "{all}");
}

/// A table of `pkt_srcaddr` and the given numeric columns, one row.
fn table(kind: Option<&str>, numbers: &[&str]) -> Frame {
    let mut fields =
        vec![Field::new("pkt_srcaddr", Values::Str(vec![Some("10.0.32.1".into())])).with_config(FieldConfig {
            display_name_from_ds: Some("Source address (packet)".into()),
            ..Default::default()
        })];
    fields.extend(numbers.iter().map(|n| {
        Field::new(*n, Values::U64(vec![Some(7)])).with_config(FieldConfig {
            display_name_from_ds: Some(n.to_string()),
            unit: Some("decbytes".into()),
            ..Default::default()
        })
    }));
    Frame {
        name: "bytes".into(),
        ref_id: "A".into(),
        fields,
        meta: FrameMeta { kind: kind.map(String::from), type_version: Some([0, 1]), ..Default::default() },
    }
}

/// The same exchange as alerting sends it (header `FromAlert`).
fn check_alerting(a: pb::DataResponse) -> GrafanaReport {
    let mut request = request(&[("A", json!({"format": "table", "groupBy": ["pkt_srcaddr"]}))]);
    request.headers.insert("FromAlert".into(), "true".into());
    grafana_check(&request, &pb::QueryDataResponse { responses: HashMap::from([("A".to_string(), a)]) })
}

#[test]
fn alerting_reads_one_instance_per_row_and_reports_what_it_cannot_read() {
    let report = check_alerting(frames(&[table(Some("numeric-long"), &["bytes"])]));
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    let instance = &report.responses["A"].alert;
    assert_eq!(instance.len(), 1);
    assert_eq!(instance[0].labels, BTreeMap::from([("pkt_srcaddr".to_string(), "10.0.32.1".to_string())]));
    assert_eq!(instance[0].values, vec![Some(7.0)]);

    let all = check_alerting(frames(&[table(None, &["bytes"])])).violations.join("\n");
    assert!(all.contains(r#"refId "A": alerting: alerting cannot read this answer: unsupported frame type"#), "{all}");
    let all = check_alerting(frames(&[table(Some("numeric-long"), &["bytes", "cost"])])).violations.join("\n");
    assert!(all.contains("frame 0 has 2 numeric fields; each row must be one alert instance"), "{all}");
    let all = check_alerting(frames(&[series(vec![0]), series(vec![MINUTE_NS])])).violations.join("\n");
    assert!(all.contains(r#"two alert instances with labels pkt_srcaddr=10.0.32.1"#), "{all}");
}
