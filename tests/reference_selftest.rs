//! Checks the test fixtures themselves: the reference against hand-computed
//! answers, the generator's invariants, and that loading into a real
//! VictoriaLogs loses no line.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::time::Instant;

use common::data::{self, FROM_MS, NAT_ENI, POD_CIDR, TO_MS};
use common::reference::{anchored, buckets, groups, matching, natural, total, Cidr, Dir, Metric, RefFilter, RefQuery};
use flowlens_devtools::gen::{
    generate, header_line, FlowRecord, GenConfig, Template, DEFAULT_V2_FORMAT, MISSION_FORMAT, NAT_PRIVATE_IP,
};
use flowlens_devtools::load::{LoadError, Loader};
use flowlens_devtools::vlserver::{VlOptions, VlServer};

// ---------------------------------------------------------------------------
// The reference on handmade records.

const NAT: &str = "eni-nat";

#[allow(clippy::too_many_arguments)]
fn record(
    t: i64,
    eni: &str,
    src: &str,
    dst: &str,
    sport: u64,
    dport: u64,
    bytes: u64,
    packets: u64,
    action: &str,
) -> FlowRecord {
    FlowRecord {
        time_ms: t,
        interface_id: Some(eni.to_string()),
        pkt_srcaddr: Some(src.to_string()),
        pkt_dstaddr: Some(dst.to_string()),
        srcport: Some(sport),
        dstport: Some(dport),
        bytes: Some(bytes),
        packets: Some(packets),
        action: Some(action.to_string()),
        ..FlowRecord::default()
    }
}

/// Window [1000, 6000): G (999) and F (6000) are outside; E is NODATA.
fn handmade() -> Vec<FlowRecord> {
    vec![
        record(999, NAT, "10.0.32.5", "1.2.3.4", 40000, 443, 777, 1, "ACCEPT"), // G
        record(1000, NAT, "10.0.32.5", "1.2.3.4", 40000, 443, 100, 2, "ACCEPT"), // A
        record(2000, NAT, "1.2.3.4", "10.0.32.5", 443, 40000, 1000, 3, "ACCEPT"), // B
        record(3000, NAT, "110.0.32.5", "10.0.32.50", 80, 40001, 50, 1, "REJECT"), // C
        record(4000, "eni-other", "10.0.32.5", "10.0.33.1", 1234, 9, 7, 1, "ACCEPT"), // D
        FlowRecord {
            time_ms: 5000,
            interface_id: Some(NAT.to_string()),
            log_status: Some("NODATA".into()),
            ..FlowRecord::default()
        }, // E
        record(6000, NAT, "10.0.32.5", "1.2.3.4", 40000, 443, 99999, 9, "ACCEPT"), // F
    ]
}

fn query(direction: Dir, interface: Option<&str>) -> RefQuery {
    RefQuery::new(direction, POD_CIDR, interface, 1000, 6000)
}

fn with(mut q: RefQuery, filter: RefFilter) -> RefQuery {
    q.filters.push(filter);
    q
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

#[test]
fn reference_totals_by_direction_and_interface() {
    let r = handmade();
    assert_eq!(total(&r, &query(Dir::In, Some(NAT))), 1050);
    assert_eq!(total(&r, &query(Dir::Out, Some(NAT))), 100);
    assert_eq!(total(&r, &query(Dir::Any, Some(NAT))), 1150);
    assert_eq!(total(&r, &query(Dir::All, Some(NAT))), 1150);
    assert_eq!(total(&r, &query(Dir::In, None)), 1057);
    assert_eq!(total(&r, &query(Dir::Out, None)), 107);
    assert_eq!(total(&r, &query(Dir::Any, None)), 1157);
    assert_eq!(total(&r, &RefQuery { metric: Metric::Records, ..query(Dir::All, Some(NAT)) }), 4);
    assert_eq!(total(&r, &RefQuery { metric: Metric::Records, ..query(Dir::Any, Some(NAT)) }), 3);
    assert_eq!(total(&r, &RefQuery { metric: Metric::Packets, ..query(Dir::All, Some(NAT)) }), 6);
}

#[test]
fn reference_filters() {
    let r = handmade();
    let nat_all = || query(Dir::All, Some(NAT));
    let t = |f: RefFilter| total(&r, &with(nat_all(), f));
    // Regexes are anchored: 10.0.32.5 does not match 110.0.32.5 or 10.0.32.50.
    assert_eq!(t(RefFilter::regex("pkt_srcaddr", "10.0.32.5")), 100);
    assert_eq!(t(RefFilter::regex("pkt_dstaddr", "10.0.32.5")), 1000);
    assert_eq!(t(RefFilter::regex("pkt_dstaddr", r"10\.0\.32\.5.*")), 1050);
    assert_eq!(t(RefFilter::regex("pkt_srcaddr", ".*")), 1150);
    assert_eq!(t(RefFilter::NotRegex("pkt_srcaddr".into(), anchored("10.0.32.5"))), 1050);
    assert_eq!(t(RefFilter::eq("action", "ACCEPT")), 1100);
    assert_eq!(t(RefFilter::Ne("action".into(), "ACCEPT".into())), 50);
    assert_eq!(t(RefFilter::cidr("pkt_dstaddr", "10.0.32.48/28")), 50);
    assert_eq!(t(RefFilter::cidr("pkt_srcaddr", "1.2.3.4")), 1000);
    assert_eq!(t(RefFilter::NotCidr("pkt_dstaddr".into(), Cidr::parse(POD_CIDR))), 100);
    assert_eq!(total(&r, &with(query(Dir::All, None), RefFilter::range("dstport", 400, 500))), 100);
    assert_eq!(total(&r, &with(query(Dir::All, None), RefFilter::range("dstport", 9, 9))), 7);
}

/// E (NODATA) has no value in its address, port and action fields, as AWS
/// means `-`: only "no value" filters and regexes matching "" find it.
#[test]
fn reference_no_value_is_not_a_value() {
    let r = handmade();
    let records =
        |f: RefFilter| total(&r, &with(RefQuery { metric: Metric::Records, ..query(Dir::All, Some(NAT)) }, f));
    assert_eq!(records(RefFilter::eq("action", "-")), 1);
    assert_eq!(records(RefFilter::eq("action", "")), 1);
    assert_eq!(records(RefFilter::Ne("action".into(), "-".into())), 3);
    assert_eq!(records(RefFilter::Ne("action".into(), "REJECT".into())), 3, "A, B and E");
    assert_eq!(records(RefFilter::regex("srcport", "(443)?")), 2, "B and E");
    assert_eq!(records(RefFilter::regex("srcport", ".+")), 3);
    assert_eq!(records(RefFilter::NotCidr("pkt_srcaddr".into(), Cidr::parse("0.0.0.0/0"))), 1);
    assert_eq!(records(RefFilter::range("dstport", 0, u64::MAX)), 3);
    assert_eq!(records(RefFilter::In("action".into(), strings(&["-", "REJECT"]))), 2);
    assert_eq!(records(RefFilter::NotIn("action".into(), strings(&["", "REJECT"]))), 2);
}

/// IPv6 networks hold IPv6 addresses only; own addresses are never inside.
#[test]
fn reference_ipv6_and_own_addresses() {
    let v6 = Cidr::parse("2001:db8::/32");
    assert!(v6.contains("2001:db8:85a3::8a2e:370:7334") && v6.contains("2001:0db8::1"));
    assert!(!v6.contains("2001:db9::1") && !v6.contains("10.0.0.1") && !v6.contains("-"));
    assert!(Cidr::parse("::/0").contains("2606:4700:4700::1111") && !Cidr::parse("::/0").contains("1.2.3.4"));
    assert!(Cidr::parse("0.0.0.0/0").contains("1.2.3.4") && !Cidr::parse("0.0.0.0/0").contains("::1"));
    assert!(Cidr::parse("10.0.32.0/20").contains("10.0.47.255") && !Cidr::parse("10.0.32.0/20").contains("10.0.48.0"));
    let r = handmade();
    let mut q = RefQuery::new(Dir::Any, "10.0.0.0/8", Some(NAT), 1000, 6000);
    assert_eq!(total(&r, &q), 1150);
    q.own = vec!["10.0.32.5".into()];
    assert_eq!(total(&r, &q), 50, "only C: 10.0.32.50 is inside, 10.0.32.5 is the interface's own");
}

#[test]
fn reference_groups_sort_by_value_then_natural_keys() {
    let r = handmade();
    let by_src = groups(&r, &query(Dir::All, Some(NAT)), &["pkt_srcaddr"]);
    let expected = vec![(strings(&["1.2.3.4"]), 1000), (strings(&["10.0.32.5"]), 100), (strings(&["110.0.32.5"]), 50)];
    // The records without a source address carry no bytes: a group whose
    // metric sums to 0 is no group (Loki never sees it).
    assert_eq!(by_src, expected);

    // All ties: keys in natural order ("" first, then numerically).
    let records = RefQuery { metric: Metric::Records, ..query(Dir::All, None) };
    let by_port = groups(&r, &records, &["dstport"]);
    let keys: Vec<&str> = by_port.iter().map(|(k, _)| k[0].as_str()).collect();
    assert_eq!(keys, ["", "9", "443", "40000", "40001"]);
    assert!(by_port.iter().all(|(_, v)| *v == 1));

    let two = groups(&r, &query(Dir::Any, None), &["pkt_srcaddr", "dstport"]);
    assert_eq!(two[0], (strings(&["1.2.3.4", "40000"]), 1000));
    assert_eq!(two.len(), 4);

    assert!(natural("9.1.1.1", "10.0.32.5").is_lt());
    assert!(natural("9", "10").is_lt());
    assert!(natural("10.0.32.5", "a").is_lt());
    assert!(natural("", "0").is_lt());
}

#[test]
fn reference_buckets_are_aligned_to_the_step() {
    let r = handmade();
    let series = buckets(&r, &query(Dir::Any, Some(NAT)), &[], 2000);
    let expected: BTreeMap<Vec<String>, BTreeMap<i64, u64>> =
        [(vec![], [(0, 100), (2000, 1050)].into_iter().collect())].into_iter().collect();
    assert_eq!(series, expected);

    let by_src = buckets(&r, &query(Dir::All, Some(NAT)), &["pkt_srcaddr"], 3000);
    assert_eq!(by_src[&strings(&["1.2.3.4"])], [(0, 1000)].into_iter().collect());
    assert_eq!(by_src[&strings(&["110.0.32.5"])], [(3000, 50)].into_iter().collect());
    assert_eq!(by_src[&strings(&[""])], [(3000, 0)].into_iter().collect());
}

// ---------------------------------------------------------------------------
// Generator invariants, on the shared fixture.

fn nat_query(direction: Dir) -> RefQuery {
    RefQuery::new(direction, POD_CIDR, Some(NAT_ENI), FROM_MS, TO_MS)
}

#[test]
fn generator_is_deterministic_and_seed_sensitive() {
    let small = GenConfig { connections: 2000, ..data::config() };
    let a = generate(&small);
    assert_eq!(a, generate(&small));
    assert_ne!(a, generate(&GenConfig { seed: 43, ..small.clone() }));
    assert_eq!(a.len(), generate(&small).len());
}

#[test]
fn generator_window_edges() {
    let records = data::records();
    assert!(records.windows(2).all(|w| w[0].time_ms <= w[1].time_ms), "sorted by time");
    assert!(records.iter().all(|r| (FROM_MS..TO_MS).contains(&r.time_ms)));
    assert_eq!(records[0].time_ms, FROM_MS);
    assert_eq!(records.last().unwrap().time_ms, TO_MS - 1);
    assert!(records.iter().filter(|r| r.time_ms >= TO_MS - 1000).count() >= 8);
    println!("fixture: {} records", records.len());
}

/// Per connection, the NAT legs in order; checks 1/2 and 3/4 byte and
/// packet equality.
#[test]
fn generator_nat_legs_pair_up() {
    let records = data::records();
    let mut last_leg: BTreeMap<u64, &FlowRecord> = BTreeMap::new();
    let (mut pairs12, mut pairs34) = (0, 0);
    for r in records.iter().filter(|r| r.nat_leg.is_some()) {
        let leg = r.nat_leg.unwrap();
        assert_eq!(r.interface_id.as_deref(), Some(NAT_ENI));
        if leg == 2 || leg == 4 {
            let prev = last_leg[&r.conn];
            assert_eq!(prev.nat_leg, Some(leg - 1), "conn {}", r.conn);
            assert_eq!((prev.bytes, prev.packets), (r.bytes, r.packets), "conn {} leg {leg}", r.conn);
            if leg == 2 {
                pairs12 += 1
            } else {
                pairs34 += 1
            }
        }
        last_leg.insert(r.conn, r);
        let n = Some(NAT_PRIVATE_IP);
        match leg {
            1 => assert!(
                r.dstaddr.as_deref() == n
                    && r.pkt_srcaddr == r.srcaddr
                    && r.flow_direction.as_deref() == Some("ingress")
            ),
            2 => assert!(
                r.srcaddr.as_deref() == n
                    && r.pkt_srcaddr.as_deref() == n
                    && r.flow_direction.as_deref() == Some("egress")
            ),
            3 => assert!(
                r.dstaddr.as_deref() == n
                    && r.pkt_dstaddr.as_deref() == n
                    && r.flow_direction.as_deref() == Some("ingress")
            ),
            _ => assert!(
                r.srcaddr.as_deref() == n
                    && r.pkt_dstaddr == r.dstaddr
                    && r.flow_direction.as_deref() == Some("egress")
            ),
        }
    }
    assert!(pairs12 > 10_000 && pairs34 > 10_000, "{pairs12} {pairs34}");
    assert!(pairs34 < pairs12, "some replies are rejected");
}

#[test]
fn generator_nat_directions() {
    let records = data::records();
    let pods = Cidr::parse(POD_CIDR);
    assert!(!pods.contains(NAT_PRIVATE_IP));
    let (inn, out, any, all) = (
        total(records, &nat_query(Dir::In)),
        total(records, &nat_query(Dir::Out)),
        total(records, &nat_query(Dir::Any)),
        total(records, &nat_query(Dir::All)),
    );
    println!("NAT bytes: in {inn} out {out} any {any} all {all}");
    assert_eq!(any, inn + out);
    assert!(all > any && inn > out && out > 0);
    // "out" sees leg 1 only, "in" leg 4 only.
    let legs = |q: RefQuery| -> BTreeSet<Option<u8>> { matching(records, &q).map(|r| r.nat_leg).collect() };
    assert_eq!(legs(nat_query(Dir::Out)), BTreeSet::from([Some(1)]));
    assert_eq!(legs(nat_query(Dir::In)), BTreeSet::from([Some(4)]));
    // Without the interface filter, pod ENIs add their own view.
    let everywhere = RefQuery { interface_id: None, ..nat_query(Dir::Out) };
    assert!(total(records, &everywhere) > out);
}

#[test]
fn generator_content_is_adversarial() {
    let records = data::records();
    let distinct = |field: &str| -> HashSet<String> { records.iter().filter_map(|r| r.get(field)).collect() };
    let pods = Cidr::parse(POD_CIDR);
    let enis = distinct("interface_id");
    assert!(enis.len() >= 5 && enis.contains(NAT_ENI), "{enis:?}");
    let sources = distinct("pkt_srcaddr");
    let pod_ips: Vec<&String> = sources.iter().filter(|a| pods.contains(a)).collect();
    assert!(pod_ips.len() >= 250, "{} pods", pod_ips.len());
    for trap in ["10.0.32.1", "10.0.32.13", "10.0.47.254"] {
        assert!(sources.contains(trap), "{trap}");
    }
    let remotes = distinct("pkt_dstaddr");
    let public = remotes.iter().filter(|a| a.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| !ip.is_private())).count();
    assert!(public >= 1000, "{public} remotes");
    assert!(remotes.contains("110.0.32.1"));
    assert!(sources.iter().any(|a| a.contains(':')), "IPv6 clients");
    for outside in ["10.0.31.254", "10.0.48.5"] {
        assert!(sources.contains(outside), "{outside}");
    }
    assert_eq!(distinct("action"), HashSet::from(["ACCEPT".into(), "REJECT".into()]));
    assert_eq!(distinct("log_status"), HashSet::from(["OK".into(), "NODATA".into(), "SKIPDATA".into()]));
    assert!(distinct("pkt_src_aws_service").contains("S3") && distinct("pkt_dst_aws_service").contains("AMAZON"));
    assert!(distinct("traffic_path").len() >= 4);
    assert_eq!(distinct("protocol"), HashSet::from(["6".into(), "17".into()]));
    let nodata = records.iter().find(|r| r.log_status.as_deref() == Some("NODATA")).unwrap();
    assert!(nodata.bytes.is_none() && nodata.srcaddr.is_none() && nodata.packets.is_none());
    for r in records.iter().filter(|r| r.bytes.is_some()) {
        let (bytes, packets) = (r.bytes.unwrap(), r.packets.unwrap());
        assert!((40..=10_000_000).contains(&bytes) && packets >= 1 && bytes >= 40 * packets, "{r:?}");
    }
    // A stable top 10: no tie at the boundary.
    let top = groups(records, &nat_query(Dir::In), &["pkt_srcaddr"]);
    assert!(top.len() > 500 && top[9].1 > top[10].1);
    println!("top remotes into pods: {:?}", &top[..10]);
}

/// Both formats render every record with exactly one token per header field,
/// and the tokens read back as the record's values.
#[test]
fn generator_render_round_trip() {
    let records = data::records();
    for format in [MISSION_FORMAT, DEFAULT_V2_FORMAT] {
        let header = header_line(format);
        let names: Vec<&str> = header.split(' ').collect();
        assert_eq!(names, Template::parse(format).fields().collect::<Vec<_>>());
        for r in records {
            let line = r.render(format);
            let tokens: Vec<&str> = line.split(' ').collect();
            assert_eq!(tokens.len(), names.len(), "{line}");
            for (name, token) in names.iter().zip(&tokens) {
                let expected = r.get(&name.replace('-', "_")).unwrap_or_else(|| "-".to_string());
                assert_eq!(*token, expected, "{name} in {line}");
            }
        }
    }
    assert_eq!(header_line(DEFAULT_V2_FORMAT), "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status");
}

// ---------------------------------------------------------------------------
// Loading into a real VictoriaLogs.

/// The single value `v` of a stats query.
async fn stat(url: &str, query: &str) -> f64 {
    let response = reqwest::Client::new()
        .post(format!("{url}/select/logsql/query"))
        .form(&[("query", query)])
        .send()
        .await
        .expect("query VictoriaLogs");
    assert!(response.status().is_success(), "{query}: {}", response.status());
    let body = response.text().await.unwrap();
    let row: serde_json::Value = serde_json::from_str(body.trim()).unwrap_or_else(|e| panic!("{body}: {e}"));
    row["v"].as_str().expect("stats value as string").parse().unwrap()
}

/// The number of log entries `query` selects.
async fn count(url: &str, query: &str) -> u64 {
    stat(url, &format!("{query} | stats count() v")).await as u64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixture_loads_into_victorialogs_without_loss() {
    let started = Instant::now();
    let server = VlServer::start(VlOptions::default()).await.expect("start VictoriaLogs");
    let up = started.elapsed();
    let loaded = data::load(&server.url).await;
    let load = started.elapsed() - up;
    let n = loaded.records.len();
    let batches = n.div_ceil(flowlens_devtools::load::BATCH_RECORDS);
    assert_eq!(loaded.raw_lines, n + batches);
    assert_eq!(loaded.v2_lines, n + batches);
    assert_eq!(loaded.field_entries, n);

    let url = &server.url;
    assert_eq!(count(url, r#"{logtype="flow", environment="ops"}"#).await, loaded.raw_lines as u64);
    assert_eq!(count(url, r#"{logtype="flow", environment="v2"}"#).await, loaded.v2_lines as u64);
    assert_eq!(count(url, r#"{logtype="flowfields", environment="ops"}"#).await, n as u64);
    assert_eq!(count(url, r#"{logtype="flow", environment="ops"} "region vpc-id""#).await, batches as u64);
    // component is a plain field, not part of the stream.
    assert_eq!(count(url, r#"{logtype="flow"} component:=devops"#).await, 2 * loaded.raw_lines as u64);
    assert_eq!(count(url, r#"{component="devops"}"#).await, 0);
    // Parsed fields are stored under the mapped names and skipped when `-`.
    let with_bytes = loaded.records.iter().filter(|r| r.bytes.is_some()).count() as u64;
    assert_eq!(count(url, r#"{logtype="flowfields"} bytes:*"#).await, with_bytes);
    assert_eq!(count(url, r#"{logtype="flowfields"} pkt_src_addr:*"#).await, with_bytes);
    // Stored values are exact: the byte sum over the parsed fields.
    let all = RefQuery::new(Dir::All, POD_CIDR, None, FROM_MS, TO_MS);
    assert_eq!(stat(url, r#"{logtype="flowfields"} | stats sum(bytes) v"#).await, total(loaded.records, &all) as f64);
    // Nothing outside the window.
    let window = format!("_time:[{}, {})", iso(data::FROM_MS), iso(data::TO_MS));
    assert_eq!(count(url, &window).await, (2 * loaded.raw_lines + n) as u64);
    println!("{n} records; VictoriaLogs up in {up:?}; 3 loads in {load:?}; total {:?}", started.elapsed());
}

/// A small fixture for the plumbing tests.
fn small() -> Vec<FlowRecord> {
    generate(&GenConfig { connections: 500, ..data::config() })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_spreads_logs_over_storage_nodes() {
    let cluster = VlServer::start_cluster(VlOptions::default()).await.expect("start cluster");
    let records = small();
    let lines = Loader::new(&cluster.insert_url)
        .push_raw(&records, MISSION_FORMAT, &data::RAW_STREAM)
        .await
        .expect("push to the insert node");
    for url in cluster.flush_urls() {
        Loader::new(&url).force_flush().await.expect("flush");
    }
    assert_eq!(lines, records.len() + 1);
    assert_eq!(count(&cluster.select_url, "*").await, lines as u64);
    let per_node = [count(&cluster.storage_urls[0], "*").await, count(&cluster.storage_urls[1], "*").await];
    assert!(per_node.iter().all(|n| *n > 0), "{per_node:?}");
    assert_eq!(per_node[0] + per_node[1], lines as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_auth_is_enforced_and_errors_carry_the_answer() {
    let opts = VlOptions { basic_auth: Some(("flow".into(), "s3cret".into())), ..VlOptions::default() };
    let server = VlServer::start(opts).await.expect("start with basic auth");
    let records = small();
    let denied = Loader::new(&server.url).push_raw(&records, DEFAULT_V2_FORMAT, &data::V2_STREAM).await;
    match denied {
        Err(LoadError::Status { status: 401, .. }) => {}
        other => panic!("expected 401, got {other:?}"),
    }
    let loader = Loader::new(&server.url).with_basic_auth("flow", "s3cret");
    let sent = loader.push_fields(&records, &data::FIELDS_STREAM, &data::field_name).await.expect("push with auth");
    assert_eq!(sent, records.len());
    loader.force_flush().await.expect("flush with auth");

    let bad = VlServer::start(VlOptions { extra_args: vec!["-noSuchFlag".into()], ..VlOptions::default() }).await;
    let error = bad.err().expect("an unknown flag fails the start");
    assert!(error.contains("noSuchFlag"), "{error}");
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
