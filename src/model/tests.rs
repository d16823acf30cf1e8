use super::validate::step_ms;
use super::*;
use crate::error::QueryError;
use crate::settings::InstanceSettings;

pub(crate) fn settings() -> Settings {
    Settings::from_instance(&InstanceSettings {
        url: "http://127.0.0.1:9428",
        json_data: br#"{"insideCidrs":["10.0.32.0/20"],"interfaceId":"eni-0352f8c82da6aa229",
          "recordFormat":"${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}"}"#,
        ..Default::default()
    })
    .unwrap()
}

fn req() -> Request {
    Request { range: TimeRange { from_ms: 0, to_ms: 86_400_000 }, interval_ms: 60_000, max_data_points: 1_000 }
}

fn parse(json: &str) -> Result<FlowQuery, QueryError> {
    FlowQuery::parse(json.as_bytes(), &req(), &settings())
}

#[test]
fn defaults_and_grafana_extras() {
    let q = parse(r#"{"refId":"A","datasource":{"uid":"x"},"hide":false,"intervalMs":5}"#).unwrap();
    assert_eq!((q.format, q.metric, q.direction), (Format::Series, Metric::Bytes, Direction::Any));
    assert_eq!(q.interface_ids, vec!["eni-0352f8c82da6aa229"]);
    assert_eq!(q.limit, None);
    assert_eq!(q.step_ms, 60_000);
    let q = parse(r#"{"format":"series","groupBy":["pkt_srcaddr"]}"#).unwrap();
    assert_eq!(q.limit, Some(10));
    let q = parse(r#"{"format":"table","groupBy":["pkt_srcaddr"],"interfaceId":""}"#).unwrap();
    assert_eq!((q.limit, q.interface_ids.len()), (Some(100), 0));
    let q = parse(r#"{"interfaceId":["eni-a"," eni-b "]}"#).unwrap();
    assert_eq!(q.interface_ids, vec!["eni-a", "eni-b"]);
}

#[test]
fn sided_fields_resolve_by_direction() {
    let q = parse(r#"{"direction":"out","groupBy":["inside_addr"],"filters":[{"field":"outside_addr","op":"cidr","value":"52.0.0.0/8"}]}"#).unwrap();
    assert_eq!(q.group_by, vec!["pkt_srcaddr"]);
    assert_eq!(q.filters, vec![Filter::Cidr("pkt_dstaddr".into(), "52.0.0.0/8".parse().unwrap())]);
    let q = parse(r#"{"direction":"any","filters":[{"field":"inside_addr","op":"=","value":"10.0.32.7"}]}"#).unwrap();
    assert_eq!(q.filters, vec![Filter::Eq(INSIDE_ADDR.into(), "10.0.32.7".into())]);
}

#[test]
fn set_and_comparison_ops() {
    let q = parse(r#"{"filters":[{"field":"action","op":"=|","value":["ACCEPT","REJECT"]},
        {"field":"dstport","op":"!=|","value":"443"},{"field":"srcport","op":"<","value":"1024"},
        {"field":"bytes","op":">","value":9},{"field":"packets","op":">=","value":"2"},{"field":"dstport","op":"<=","value":"80"}]}"#)
    .unwrap();
    assert_eq!(
        q.filters,
        vec![
            Filter::In("action".into(), vec!["ACCEPT".into(), "REJECT".into()]),
            Filter::NotIn("dstport".into(), vec!["443".into()]),
            Filter::Range("srcport".into(), 0, 1023),
            Filter::Range("bytes".into(), 10, u64::MAX),
            Filter::Range("packets".into(), 2, u64::MAX),
            Filter::Range("dstport".into(), 0, 80),
        ]
    );
}

#[test]
fn all_regex_is_dropped() {
    let q = parse(r#"{"filters":[{"field":"pkt_srcaddr","op":"=~","value":".*"},{"field":"dstport","op":"range","value":"1024-65535"}]}"#).unwrap();
    assert_eq!(q.filters, vec![Filter::Range("dstport".into(), 1024, 65535)]);
}

#[test]
fn errors_name_the_field() {
    for (json, want) in [
        (r#"{"format":"graph"}"#, "`format`: \"graph\" is not valid; expected stat, series, table, logs or nodegraph"),
        (r#"{"metric":7}"#, "`metric`"),
        (r#"{"groupBy":"pkt_srcaddr"}"#, "`groupBy`"),
        (r#"{"groupBy":["pod_name"]}"#, "`groupBy`: `pod_name` is not a field"),
        (
            r#"{"format":"nodegraph","groupBy":["srcaddr"]}"#,
            "`groupBy`: a node graph draws edges between the values of two fields",
        ),
        (
            r#"{"format":"nodegraph","groupBy":["srcaddr","dstaddr"],"other":true}"#,
            "`format`: a node graph shows its top edges",
        ),
        (
            r#"{"groupBy":["pod"]}"#,
            "`groupBy`: `pod` names the inside address of a flow, which the direction decides; use direction in or out",
        ),
        (
            r#"{"direction":"all","filters":[{"field":"remote_org","op":"=","value":"x"}]}"#,
            "`filters`: `remote_org` names the remote address",
        ),
        (r#"{"groupBy":["srcport","srcport"]}"#, "twice"),
        (r#"{"format":"table","limit":100000}"#, "maximum"),
        (r#"{"format":"series","groupBy":["srcport"],"limit":1000}"#, "1000 series of 1440 buckets"),
        (r#"{"filters":[{"field":"srcport","op":"<","value":"0"}]}"#, "matches nothing"),
        (r#"{"filters":[{"field":"srcport","op":">","value":"1.5"}]}"#, "whole number"),
        (r#"{"filters":[{"field":"action","op":">","value":"1"}]}"#, "not numeric"),
        (r#"{"filters":[{"field":"action","op":"=|","value":[]}]}"#, "at least one value"),
        (r#"{"filters":[{"field":"action","op":"=|","value":[{}]}]}"#, "must be strings"),
        (r#"{"filters":[{"field":"pod_name","op":"=","value":"x"}]}"#, "`pod_name` is not a field"),
        (r#"{"interfaceId":7}"#, "`interfaceId`"),
        (r#"{"format":"table","rate":true}"#, "`rate`"),
        (r#"{"cache":"no"}"#, "`cache`: \"no\" is not valid; expected true or false"),
        (r#"{"filters":[{"field":"srcport","op":"like","value":"1"}]}"#, "op `like`"),
        (r#"{"filters":[{"field":"srcport","op":"cidr","value":"10.0.0.0/8"}]}"#, "not an address"),
        (r#"{"filters":[{"field":"srcaddr","op":"cidr","value":"10.0.0.1/8"}]}"#, "host bits"),
        (r#"{"filters":[{"field":"srcaddr","op":"=~","value":"(10"}]}"#, "regex for `srcaddr` is invalid"),
        (r#"{"filters":[{"field":"dstport","op":"range","value":"9-1"}]}"#, "not a range"),
        (r#"{"filters":[{"field":"srcaddr","op":"=~","value":"a)|(b"}]}"#, "regex for `srcaddr` is invalid"),
        (r#"{"filters":[{"field":"dstport","op":"=","value":[1]}]}"#, "must be a string"),
        (r#"{"version":2}"#, "`version`"),
        (
            r#"{"direction":"all","filters":[{"field":"inside_addr","op":"=","value":"1"}]}"#,
            "use direction in, out or any",
        ),
        (r#"{"direction":"any","groupBy":["outside_addr"]}"#, "use direction in or out"),
        (r#"[]"#, "not a JSON object"),
    ] {
        let e = parse(json).unwrap_err().to_string();
        assert!(e.contains(want), "{json}: {e}");
    }
}

#[test]
fn value_lists_are_capped() {
    let list = |n: usize| -> Vec<String> { (0..n).map(|i| format!("eni-{i}")).collect() };
    let filter = |op: &str, n: usize| {
        serde_json::json!({"filters": [{"field": "interface_id", "op": op, "value": list(n)}]}).to_string()
    };
    let interfaces = |n: usize| serde_json::json!({"interfaceId": list(n)}).to_string();
    for json in [filter("=|", MAX_LIST_VALUES), filter("!=|", MAX_LIST_VALUES), interfaces(MAX_LIST_VALUES)] {
        assert!(parse(&json).is_ok(), "{} values are allowed", MAX_LIST_VALUES);
    }
    let over = MAX_LIST_VALUES + 1;
    for (json, want) in [
        (filter("=|", over), "`filters`: `=|` for `interface_id` has 10001 values, more than the maximum of 10000"),
        (filter("!=|", over), "`filters`: `!=|` for `interface_id` has 10001 values, more than the maximum of 10000"),
        (interfaces(over), "`interfaceId`: 10001 interfaces are more than the maximum of 10000"),
        (interfaces(100_000), "`interfaceId`: 100000 interfaces"),
    ] {
        let e = parse(&json).unwrap_err();
        assert!(e.to_string().contains(want), "{e}");
        assert_eq!(e.status, 400);
    }
}

#[test]
fn distinct_share_and_cost() {
    let q = parse(r#"{"format":"table","metric":"distinct","distinctField":"dstport","groupBy":["pkt_srcaddr"],"direction":"all"}"#).unwrap();
    assert_eq!(q.metric, Metric::Distinct { field: "dstport".into() });
    assert_eq!(q.filters, vec![Filter::NotIn("dstport".into(), vec!["-".into()])], "no value is not a value");
    assert!(q.fields_read(&settings().schema, true).contains("dstport"));
    let q = parse(r#"{"metric":"distinct","distinctField":"outside_addr","direction":"in"}"#).unwrap();
    assert_eq!(q.metric.distinct_field(), Some("pkt_srcaddr"));
    let q = parse(r#"{"metric":"bytes","distinctField":"dstport"}"#).unwrap();
    assert_eq!(q.metric, Metric::Bytes, "kept by an editor that switched metric");
    let q = parse(r#"{"metric":"cost","format":"stat"}"#).unwrap();
    assert_eq!((q.metric.field(), q.metric.clone()), (Some("bytes"), Metric::Cost { price_per_gb: 0.045 }));
    let q = parse(r#"{"format":"series","groupBy":["action"],"share":true}"#).unwrap();
    assert!(q.share);
    assert!(parse(r#"{"format":"logs","order":"asc"}"#).unwrap().oldest_first);
    assert!(!parse(r#"{"format":"logs","order":"desc"}"#).unwrap().oldest_first);
    for (json, want) in [
        (r#"{"metric":"distinct"}"#, "`distinctField`: metric distinct counts"),
        (r#"{"metric":"distinct","distinctField":"pod_name"}"#, "`distinctField`: `pod_name` is not a field"),
        (r#"{"metric":"distinct","distinctField":"inside_addr"}"#, "use direction in or out"),
        (
            r#"{"metric":"distinct","distinctField":"dstport","groupBy":["srcaddr"],"format":"table","other":true}"#,
            "`other`: distinct counts do not add up",
        ),
        (
            r#"{"metric":"distinct","distinctField":"dstport","groupBy":["srcaddr"],"format":"table","share":true}"#,
            "`share`: distinct",
        ),
        (r#"{"metric":"cost","rate":true}"#, "`rate`: only bytes, packets and records"),
        (r#"{"metric":"cost","price":"egress"}"#, "set egressPricePerGb"),
        (r#"{"metric":"cost","price":"gold"}"#, "`price`: \"gold\" is not valid; expected nat, egress or crossAz"),
        (r#"{"format":"stat","groupBy":["action"],"share":true}"#, "use format table or series with groupBy"),
        (r#"{"format":"series","share":true}"#, "use format table or series with groupBy"),
        (r#"{"format":"series","groupBy":["action"],"share":true,"rate":true}"#, "turn rate off"),
        (r#"{"format":"stat","order":"asc"}"#, "`order`: only logs have an order"),
        (r#"{"format":"logs","order":"up"}"#, "`order`: \"up\" is not valid; expected asc or desc"),
    ] {
        let e = parse(json).unwrap_err().to_string();
        assert!(e.contains(want), "{json}: {e}");
    }
}

#[test]
fn template_variables_left_in_a_query_are_errors() {
    for (text, variable) in [
        ("$pod", Some("$pod")),
        ("10.0.${octet}.1", Some("${octet}")),
        ("${pod:regex}", Some("${pod:regex}")),
        ("[[pod]]", Some("[[pod]]")),
        ("sum by (_time:$__interval)", Some("$__interval")),
        (r"^10\.0\.32\.1$", None),
        (r"price \$5", None),
        ("a$", None),
        ("(a$)|b", None),
    ] {
        assert_eq!(template_variable(text), variable, "{text}");
    }
    let alerting = |json: &str| FlowQuery::parse_for_alerting(json.as_bytes(), &req(), &settings());
    // On a dashboard, what looks like a variable after the frontend's interpolation is data.
    assert!(parse(r#"{"filters":[{"field":"action","op":"=","value":"$x"}]}"#).is_ok());
    for (json, want) in [
        (
            r#"{"filters":[{"field":"pkt_dstaddr","op":"=~","value":"$kubernetes_pod_ip"}]}"#,
            "`filters`: `$kubernetes_pod_ip` is a dashboard variable that was not replaced",
        ),
        (r#"{"filters":[{"field":"$field","op":"=","value":"1"}]}"#, "`filters`: `$field`"),
        (r#"{"metric":"distinct","distinctField":"${f}"}"#, "`distinctField`: `${f}`"),
        (r#"{"filters":[{"field":"action","op":"=|","value":["ACCEPT","$action"]}]}"#, "`$action`"),
        (r#"{"interfaceId":"${eni}"}"#, "`interfaceId`: `${eni}`"),
        (r#"{"groupBy":["$group"]}"#, "`groupBy`: `$group`"),
        (r#"{"rawQuery":"* | stats by (_time:$__interval) count()"}"#, "`rawQuery`: `$__interval`"),
    ] {
        let e = alerting(json).unwrap_err().to_string();
        assert!(e.contains(want), "{json}: {e}");
    }
}

#[test]
fn alerting_refuses_logs() {
    let alerting = |json: &str| FlowQuery::parse_for_alerting(json.as_bytes(), &req(), &settings());
    assert!(alerting(r#"{"format":"logs"}"#).unwrap_err().to_string().contains("logs cannot be an alert condition"));
    assert!(alerting(r#"{"format":"stat"}"#).unwrap().alerting);
    assert!(!parse(r#"{"format":"stat"}"#).unwrap().alerting);
}

#[test]
fn time_ranges_are_bounded() {
    let at = |from_ms, to_ms| Request { range: TimeRange { from_ms, to_ms }, ..req() };
    let parse_at = |r: Request| FlowQuery::parse(b"{}", &r, &settings()).map(|q| q.step_ms);
    let e = parse_at(at(5, 5)).unwrap_err().to_string();
    assert!(e.contains("empty or inverted") && e.contains("1970-01-01T00:00:00.005Z"), "{e}");
    assert!(parse_at(at(9, 5)).unwrap_err().to_string().contains("inverted"));
    for (from, to) in [(-62_135_596_800_000, 0), (0, 253_402_300_799_999), (0, i64::MAX), (i64::MIN, 0)] {
        let e = parse_at(at(from, to)).unwrap_err().to_string();
        assert!(e.contains("reaches outside 1700-01-01T00:00:00Z .. 2250-01-01T00:00:00Z"), "{e}");
    }
    let (lo, hi) = TIME_LIMITS_MS;
    assert_eq!(parse_at(at(lo, hi)).unwrap(), ceil_to_seconds((hi - lo) / MAX_BUCKETS + 1));
    let huge = Request { interval_ms: i64::MAX, ..at(lo, hi) };
    assert_eq!(parse_at(huge).unwrap(), MAX_STEP_MS);
}

fn ceil_to_seconds(ms: i64) -> i64 {
    (ms + 999) / 1_000 * 1_000
}

#[test]
fn steps_follow_grafana_and_cap_buckets() {
    let mut r = req();
    assert_eq!(step_ms(&r), 60_000);
    r.interval_ms = 200;
    assert_eq!(step_ms(&r), 8_000); // 86400 s / 11000 buckets, rounded up to whole seconds
    r.range.to_ms = 60_000;
    assert_eq!(step_ms(&r), 1_000);
    r.interval_ms = 0;
    r.max_data_points = 10;
    assert_eq!(step_ms(&r), 6_000);
}
