//! Names end to end: the fixture's day in a real VictoriaLogs,
//! kube-state-metrics' `kube_pod_info` with pod churn (an address handed
//! to a new pod mid-minute, a Deployment rolled, an address reused in
//! another namespace, an address nobody held for 40 minutes, addresses no
//! pod ever held) written into a real VictoriaMetrics, a generated AWS
//! `ip-ranges.json` (overlapping prefixes, IPv6) and a CIDR map; panels by
//! workload, namespace, pod, AWS service and region and network through the
//! plugin binary over gRPC, equal to an independent reference that names
//! each record from the same history by the documented rule. Then what
//! must not change a number: a source that cannot be read (its names are
//! the addresses, with a notice), and what Save & test says of each source.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::sync::Arc;

use common::dashboards::{provisioned_datasource, with_values};
use common::data;
use common::harness::{notices, Instance, Plugin};
use common::loki::{raw_lines, Engine};
use common::panels::{reference_for, Checker, Window};
use common::reference::{Cidr, Namer};
use flowlens_devtools::gen::{generate, FlowRecord, GenConfig, MISSION_FORMAT};
use flowlens_devtools::load::Loader;
use flowlens_devtools::vlserver::{VlOptions, VlServer};
use flowlens_devtools::vmserver::VmServer;
use serde_json::{json, Value};

const DAY: (i64, i64) = (data::FROM_MS, data::TO_MS);
const H: i64 = 3_600_000;
const MIN: i64 = 60_000;

/// One pod's hold of an address: reported every 30 s from `from` while
/// before `to`.
#[derive(Debug, Clone)]
struct Tenure {
    ip: String,
    namespace: String,
    pod: String,
    kind: &'static str,
    owner: String,
    workload: String,
    node: String,
    from: i64,
    to: i64,
}

impl Tenure {
    fn samples(&self) -> Vec<i64> {
        (0..).map(|k| self.from + k * 30_000).take_while(|t| *t < self.to).collect()
    }
}

/// A day of pods on the fixture's inside addresses, with churn.
fn history(inside: &[String]) -> Vec<Tenure> {
    let namespaces = ["shop", "pay", "ops"];
    let apps = ["web", "api", "worker", "db"];
    let mut out = Vec::new();
    for (i, ip) in inside.iter().enumerate() {
        if i % 5 == 4 {
            continue; // never a pod's
        }
        let tenure = |ns: &str, app: &str, hash: &str, from: i64, to: i64| {
            let stateful = app == "db";
            let (kind, owner, pod) = if stateful {
                ("StatefulSet", app.to_string(), format!("{app}-{i}"))
            } else {
                ("ReplicaSet", format!("{app}-{hash}"), format!("{app}-{hash}-q{i:03}"))
            };
            Tenure {
                ip: ip.clone(),
                namespace: ns.into(),
                workload: format!("{ns}/{app}"),
                pod,
                kind,
                owner,
                node: format!("node-{}", i % 4),
                from,
                to,
            }
        };
        let (ns, app) = (namespaces[i % 3], apps[i % 4]);
        // Handed over mid-minute, at a different time for each address.
        let change = DAY.0 + (2 + (i as i64 % 20)) * H + 17_000 + (i as i64 * 7_000) % 50_000;
        out.push(tenure(ns, app, "5d9f8", DAY.0 - H, change));
        let next_from = if i % 5 == 1 { change + 40 * MIN } else { change + 20_000 };
        if i % 3 == 0 {
            // Reused by another namespace's workload.
            let (ns2, app2) = (namespaces[(i + 1) % 3], apps[(i + 1) % 4]);
            out.push(tenure(ns2, app2, "c4b7a", next_from, DAY.1 + H));
        } else {
            // The Deployment rolled: a new pod of the same workload.
            out.push(tenure(ns, app, "7c6b4", next_from, DAY.1 + H));
        }
    }
    out
}

/// The name of `ip` in the minute holding `t`, by the README's rule from
/// the true reports: the pods reported with it in that minute; of several,
/// the one first reported latest, then the greatest namespace and pod.
fn holder<'a>(by_ip: &'a BTreeMap<String, Vec<Tenure>>, ip: &str, t: i64) -> Option<&'a Tenure> {
    let bucket = t - t.rem_euclid(MIN);
    let first_bucket = |x: &Tenure| x.from - x.from.rem_euclid(MIN);
    by_ip
        .get(ip)?
        .iter()
        .filter(|x| x.samples().iter().any(|s| (bucket..bucket + MIN).contains(s)))
        .max_by(|a, b| (first_bucket(a), &a.namespace, &a.pod).cmp(&(first_bucket(b), &b.namespace, &b.pod)))
}

/// Writes the history as `kube_pod_info` samples (with kube-state-metrics'
/// labels, and a host-network pod on a node address that must be ignored).
async fn write_history(vm: &VmServer, tenures: &[Tenure]) {
    let mut body = String::new();
    let mut line = |labels: Value, samples: Vec<i64>| {
        let values: Vec<u8> = samples.iter().map(|_| 1).collect();
        body.push_str(&json!({"metric": labels, "values": values, "timestamps": samples}).to_string());
        body.push('\n');
    };
    for t in tenures {
        line(
            json!({"__name__": "kube_pod_info", "namespace": t.namespace, "pod": t.pod, "uid": format!("uid-{}", t.pod),
                   "pod_ip": t.ip, "host_ip": "10.0.0.9", "node": t.node, "created_by_kind": t.kind,
                   "created_by_name": t.owner, "host_network": "false", "priority_class": "",
                   "job": "kube-state-metrics"}),
            t.samples(),
        );
    }
    if let Some(t) = tenures.first() {
        line(
            json!({"__name__": "kube_pod_info", "namespace": "kube-system", "pod": "kube-proxy-x", "pod_ip": t.ip,
                   "node": "node-0", "created_by_kind": "DaemonSet", "created_by_name": "kube-proxy",
                   "host_network": "true"}),
            t.samples(),
        );
    }
    let url = format!("{}/api/v1/import", vm.url());
    let response = reqwest::Client::new().post(&url).body(body).send().await.expect("import");
    assert!(response.status().is_success(), "import: {}", response.status());
    vm.flush().await.expect("flush");
}

/// AWS's ip-ranges.json for some of the remote addresses: a wide AMAZON
/// network over the first, services on /24s inside it and elsewhere
/// (listed under AMAZON too, as AWS does), an IPv6 network.
fn ip_ranges(remote: &[String]) -> (Value, Vec<(Cidr, &'static str, &'static str)>) {
    let services = [("S3", "us-east-1"), ("EC2", "eu-west-1"), ("DYNAMODB", "us-east-1")];
    let mut prefixes = Vec::new();
    let mut expected = Vec::new();
    let first: Ipv4Addr = remote[0].parse().unwrap();
    let wide = format!("{}.0.0.0/8", first.octets()[0]);
    prefixes
        .push(json!({"ip_prefix": wide, "region": "GLOBAL", "service": "AMAZON", "network_border_group": "GLOBAL"}));
    expected.push((Cidr::parse(&wide), "AMAZON", "GLOBAL"));
    for (i, addr) in remote.iter().enumerate().filter(|(i, _)| i % 3 == 0).take(12) {
        let a: Ipv4Addr = addr.parse().unwrap();
        let [x, y, z, _] = a.octets();
        let net = format!("{x}.{y}.{z}.0/24");
        if expected.iter().any(|(c, _, _): &(Cidr, _, _)| c.contains(addr) && c.prefix() == 24) {
            continue;
        }
        let (service, region) = services[i % 3];
        for s in ["AMAZON", service] {
            prefixes.push(json!({"ip_prefix": net, "region": region, "service": s, "network_border_group": region}));
        }
        expected.push((Cidr::parse(&net), service, region));
    }
    let doc = json!({"syncToken": "1796000000", "createDate": "2026-12-01-00-00-00", "prefixes": prefixes,
        "ipv6_prefixes": [{"ipv6_prefix": "2600:1f14::/35", "region": "us-west-2", "service": "S3", "network_border_group": "us-west-2"}]});
    (doc, expected)
}

/// The MMDB files `tests/names/make_mmdb.py` built, and their networks.
const MMDB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/names");
const ASN: [(&str, u32, &str); 5] = [
    ("0.0.0.0/2", 64500, "LOW-NET"),
    ("64.0.0.0/2", 64501, "MID-NET"),
    ("128.0.0.0/1", 64502, "HIGH-NET"),
    ("52.216.0.0/15", 16509, "AMAZON-02"),
    ("2600:1f00::/24", 16509, "AMAZON-02"),
];
const COUNTRY: [(&str, &str); 3] = [("0.0.0.0/1", "DE"), ("128.0.0.0/1", "US"), ("52.0.0.0/8", "IE")];

/// The AS of `addr` by [`ASN`], longest prefix first.
fn asn_of(addr: &str) -> Option<(u32, &'static str)> {
    let held = ASN.iter().map(|(c, n, o)| (Cidr::parse(c), *n, *o)).filter(|(c, _, _)| c.contains(addr));
    held.max_by_key(|(c, _, _)| c.prefix()).map(|(_, n, o)| (n, o))
}

/// The country of `addr` by [`COUNTRY`], longest prefix first.
fn country_of(addr: &str) -> Option<&'static str> {
    let held = COUNTRY.iter().map(|(c, iso)| (Cidr::parse(c), *iso)).filter(|(c, _)| c.contains(addr));
    held.max_by_key(|(c, _)| c.prefix()).map(|(_, iso)| iso)
}

/// The longest of `nets` holding `addr`.
fn longest<'a, T>(nets: &'a [(Cidr, T, T)], addr: &str) -> Option<&'a (Cidr, T, T)> {
    nets.iter().filter(|(c, _, _)| c.contains(addr)).max_by_key(|(c, _, _)| c.prefix())
}

/// What the names' sources hold for the fixture, and the reference's
/// names from the same history and files.
struct Sources {
    names: Value,
    namer: Namer,
    tenures: Vec<Tenure>,
    ranges_doc: Value,
    ranges_path: std::path::PathBuf,
    aws_networks: usize,
    dir: std::path::PathBuf,
}

/// The history written into `vm`, the files written, the settings naming them.
async fn sources(records: &[FlowRecord], vm: &VmServer, tag: &str) -> Sources {
    let pods = Cidr::parse(data::POD_CIDR);
    let (mut inside, mut remote) = (BTreeSet::new(), BTreeSet::new());
    for r in records {
        for (a, b) in [(r.get("pkt_srcaddr"), r.get("pkt_dstaddr")), (r.get("pkt_dstaddr"), r.get("pkt_srcaddr"))] {
            if let (Some(a), Some(b)) = (a, b) {
                if pods.contains(&a) && !pods.contains(&b) && b.parse::<Ipv4Addr>().is_ok() {
                    inside.insert(a);
                    remote.insert(b);
                }
            }
        }
    }
    let inside: Vec<String> = inside.into_iter().collect();
    let mut remote: Vec<String> = remote.into_iter().collect();
    remote.sort_by_key(|a| a.parse::<Ipv4Addr>().unwrap());
    assert!(inside.len() >= 10 && remote.len() >= 20, "the fixture has pods and remote ends");
    let tenures = history(&inside);
    write_history(vm, &tenures).await;

    let dir = std::env::temp_dir().join(format!("flowlens-names-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ranges_doc, ranges) = ip_ranges(&remote);
    let ranges_path = dir.join("ip-ranges.json");
    std::fs::write(&ranges_path, ranges_doc.to_string()).unwrap();
    let r0: Ipv4Addr = remote[remote.len() / 2].parse().unwrap();
    let [x, y, z, _] = r0.octets();
    let networks = vec![
        (Cidr::parse(&format!("{x}.{y}.0.0/16")), "partner", ""),
        (Cidr::parse(&format!("{x}.{y}.{z}.0/24")), "partner-vpn", ""),
        (Cidr::parse("10.0.32.0/22"), "pods-a", ""),
        (Cidr::parse("10.0.36.0/22"), "pods-b", ""),
    ];
    let map_text = format!(
        "{x}.{y}.0.0/16 partner\n{x}.{y}.{z}.0/24 partner-vpn # overlapping\n10.0.32.0/22 pods-a\n10.0.36.0/22 pods-b\n"
    );

    let names = json!({
        "networks": map_text,
        "awsIpRanges": ranges_path.to_str().unwrap(),
        "kubernetes": {"url": vm.url(), "resolution": "1m"},
        "mmdb": format!("{MMDB}/asn.mmdb, {MMDB}/country.mmdb"),
    });

    // The reference's names, from the history and the files' contents.
    let mut by_ip: BTreeMap<String, Vec<Tenure>> = BTreeMap::new();
    for t in &tenures {
        by_ip.entry(t.ip.clone()).or_default().push(t.clone());
    }
    let by_ip = Arc::new(by_ip);
    let aws_networks = ranges.len() + 1; // and the IPv6 one
    let (ranges, networks) = (Arc::new(ranges), Arc::new(networks));
    let namer = Namer(Arc::new(move |record: &FlowRecord, field: &str, (inside, outside): (&str, &str)| {
        let (side, what) = match field.strip_prefix("remote_") {
            Some(what) => (outside, what),
            None => (inside, field),
        };
        let addr = record.get(side).unwrap_or_default();
        let unknown = || "(unknown)".to_string();
        Some(match (field, what) {
            ("local_name" | "remote_name", _) => {
                longest(&networks, &addr).map_or_else(unknown, |(_, n, _)| n.to_string())
            }
            ("remote_service", _) => longest(&ranges, &addr).map_or_else(unknown, |(_, s, _)| s.to_string()),
            ("remote_region", _) => longest(&ranges, &addr).map_or_else(unknown, |(_, _, r)| r.to_string()),
            ("remote_asn", _) => asn_of(&addr).map_or_else(unknown, |(n, _)| n.to_string()),
            ("remote_org", _) => asn_of(&addr).map_or_else(unknown, |(_, o)| o.to_string()),
            ("remote_country", _) => country_of(&addr).map_or_else(unknown, str::to_string),
            (_, "pod" | "namespace" | "workload" | "node") => match holder(&by_ip, &addr, record.time_ms) {
                None => unknown(),
                Some(t) => match what {
                    "pod" => format!("{}/{}", t.namespace, t.pod),
                    "namespace" => t.namespace.clone(),
                    "workload" => t.workload.clone(),
                    _ => t.node.clone(),
                },
            },
            _ => return None,
        })
    }));

    Sources { names, namer, tenures, ranges_doc, ranges_path, aws_networks, dir }
}

/// Every kind of panel by name, over the day and an unaligned window, equal
/// to the reference; no source reported unreadable.
async fn check_panels(plugin: &Plugin, ds: &Instance, records: &[FlowRecord], namer: &Namer) {
    let targets = [
        json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["workload"], "limit": 5, "other": true}),
        json!({"refId": "A", "format": "table", "direction": "in", "metric": "cost", "groupBy": ["namespace"], "limit": 10, "share": true}),
        json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["inside_addr", "pod"], "limit": 40}),
        json!({"refId": "A", "format": "table", "direction": "out", "groupBy": ["workload", "node"], "limit": 15}),
        json!({"refId": "A", "format": "series", "direction": "in", "groupBy": ["workload"], "limit": 3, "rate": true, "other": true}),
        json!({"refId": "A", "format": "series", "direction": "out", "filters": [{"field": "workload", "op": "=~", "value": "shop/.*"}]}),
        json!({"refId": "A", "format": "stat", "direction": "in", "filters": [{"field": "namespace", "op": "=", "value": "shop"}]}),
        json!({"refId": "A", "format": "stat", "direction": "in", "filters": [{"field": "workload", "op": "=", "value": "(unknown)"}]}),
        json!({"refId": "A", "format": "table", "direction": "out", "groupBy": ["remote_service", "remote_region"], "limit": 10, "other": true}),
        json!({"refId": "A", "format": "table", "direction": "out", "groupBy": ["local_name", "remote_name"], "limit": 20}),
        json!({"refId": "A", "format": "table", "direction": "out", "groupBy": ["remote_org", "remote_asn", "remote_country"], "limit": 10, "other": true}),
        json!({"refId": "A", "format": "series", "direction": "in", "groupBy": ["remote_country"], "limit": 5, "filters": [{"field": "remote_org", "op": "!=", "value": "HIGH-NET"}]}),
        json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["remote_service", "namespace"], "limit": 20,
               "filters": [{"field": "remote_service", "op": "!=", "value": "(unknown)"}]}),
    ];
    let unaligned = (DAY.0 + 7 * MIN + 13_000, DAY.1 - 3 * MIN - 500);
    for (from_ms, to_ms, interval_ms) in [(DAY.0, DAY.1, 300_000), (unaligned.0, unaligned.1, 600_000)] {
        let w = Window { from_ms, to_ms, interval_ms };
        let check = Checker { plugin, ds, records, w };
        for target in &targets {
            let mut reference = reference_for(target, ds, &w);
            reference.namer = Some(namer.clone());
            let rows = check.check_target(target, &reference).await;
            assert!(!rows.is_empty(), "{target}: the check must see rows");
            let frames = check.frames(target).await;
            assert!(!notices(&frames).contains("shows addresses"), "{target}: {}", notices(&frames));
        }
    }
    check_node_graph(plugin, ds, records, namer).await;
    every_names_panel(plugin, ds, records, namer).await;
}

/// A node graph of workloads and the AWS services they send to: its edges
/// the top pairs with bytes and cost, its nodes the sums of their edges,
/// exact; read by Grafana's Go SDK like every answer here.
async fn check_node_graph(plugin: &Plugin, ds: &Instance, records: &[FlowRecord], namer: &Namer) {
    let w = Window { from_ms: DAY.0, to_ms: DAY.1, interval_ms: 300_000 };
    let check = Checker { plugin, ds, records, w };
    let target = json!({"refId": "G", "format": "nodegraph", "direction": "out", "groupBy": ["workload", "remote_service"], "limit": 12});
    let pairs = verify_node_graph(&check, &target, namer).await;
    assert_eq!(pairs, 12, "the fixture has more than 12 pairs");
}

/// A node graph target's frames against the reference: edges the top pairs
/// of its two fields with bytes and cost, nodes the sums of their edges.
/// Returns how many edges.
async fn verify_node_graph(check: &Checker<'_>, target: &Value, namer: &Namer) -> usize {
    let (ds, records, w) = (check.ds, check.records, check.w);
    let mut reference = reference_for(target, ds, &w);
    reference.namer = Some(namer.clone());
    let fields: Vec<String> = serde_json::from_value(target["groupBy"].clone()).unwrap();
    let limit = target["limit"].as_u64().unwrap() as usize;
    let pairs: Vec<(Vec<String>, u64)> =
        common::reference::groups(records, &reference, &[fields[0].as_str(), fields[1].as_str()])
            .into_iter()
            .take(limit)
            .collect();
    let frames = check.frames(target).await;
    let names: Vec<&str> = frames.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["nodes", "edges"]);
    assert!(frames.iter().all(|f| f.meta["preferredVisualisationType"] == "nodeGraph"), "{:?}", frames[0].meta);
    let price = ds.json_data["natPricePerGb"].as_f64().unwrap_or(0.045);
    let texts = |f: &common::harness::DecodedField| -> Vec<String> {
        f.values.iter().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    let edges = &frames[1];
    let want_source: Vec<String> = pairs.iter().map(|(k, _)| format!("{}:{}", fields[0], k[0])).collect();
    let want_target: Vec<String> = pairs.iter().map(|(k, _)| format!("{}:{}", fields[1], k[1])).collect();
    assert_eq!(texts(edges.field("source")), want_source);
    assert_eq!(texts(edges.field("target")), want_target);
    let bytes: Vec<u64> = pairs.iter().map(|(_, v)| *v).collect();
    let got: Vec<u64> = edges.field("mainstat").values.iter().map(|v| v.as_u64().unwrap()).collect();
    assert_eq!(got, bytes);
    let cost: Vec<f64> = edges.field("secondarystat").values.iter().map(|v| v.as_f64().unwrap()).collect();
    assert_eq!(cost, bytes.iter().map(|b| *b as f64 / 1e9 * price).collect::<Vec<_>>());
    let mut sums: BTreeMap<String, u64> = BTreeMap::new();
    for (s, t, v) in want_source.iter().zip(&want_target).zip(&bytes).map(|((s, t), v)| (s, t, v)) {
        *sums.entry(s.clone()).or_default() += v;
        *sums.entry(t.clone()).or_default() += v;
    }
    let nodes = &frames[0];
    let ids = texts(nodes.field("id"));
    let node_bytes: BTreeMap<String, u64> =
        ids.iter().cloned().zip(nodes.field("mainstat").values.iter().map(|v| v.as_u64().unwrap())).collect();
    assert_eq!(node_bytes, sums);
    let titles = texts(nodes.field("title"));
    assert!(ids.iter().zip(&titles).all(|(id, title)| id.ends_with(&format!(":{title}"))), "{ids:?} {titles:?}");
    pairs.len()
}

/// Every panel of the provisioned workloads dashboard, its variables at All
/// and at one namespace and workload (as the shipped frontend interpolates
/// them), equal to the reference.
async fn every_names_panel(plugin: &Plugin, ds: &Instance, records: &[FlowRecord], namer: &Namer) {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/provisioning/dashboards/nat-gateway-workloads.json");
    let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    let w = Window { from_ms: DAY.0, to_ms: DAY.1, interval_ms: 600_000 };
    let check = Checker { plugin, ds, records, w };
    let mut targets = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            targets.push((panel["title"].as_str().unwrap().to_string(), target.clone()));
        }
    }
    let sent: Vec<Value> = targets.iter().map(|(_, t)| t.clone()).collect();
    let mut checked = 0;
    for vars in [[("namespace", ".*"), ("workload", ".*")], [("namespace", "shop"), ("workload", "shop/web")]] {
        // All: Grafana's `$__all`, which the variables' allValue `.*` stands for.
        let mut variables = with_values(&dashboard, &vars);
        for v in variables.as_array_mut().unwrap() {
            if v["current"]["value"] == ".*" {
                v["current"] = json!({"selected": true, "text": ["All"], "value": ["$__all"]});
            }
        }
        let interpolated = common::frontend::interpolate(&variables, &sent, None);
        for ((title, _), target) in targets.iter().zip(interpolated) {
            let target = target.target();
            assert!(!target.to_string().contains('$'), "{title}: a variable left in {target}");
            if target["format"] == "nodegraph" {
                assert!(verify_node_graph(&check, &target, namer).await > 0, "{title}: edges");
            } else {
                let mut reference = reference_for(&target, ds, &w);
                reference.namer = Some(namer.clone());
                let rows = check.check_target(&target, &reference).await;
                assert!(!rows.is_empty(), "{title} {vars:?}: rows");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 14, "every panel, twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panels_by_name_are_exact_with_churn() {
    let vl = VlServer::start(VlOptions::default()).await.expect("VictoriaLogs must start");
    let loaded = data::load(&vl.url).await;
    let vm = VmServer::start().await.expect("VictoriaMetrics must start");
    let records: &[FlowRecord] = loaded.records;
    let Sources { names, namer, tenures, ranges_doc, ranges_path, aws_networks, dir } =
        sources(records, &vm, "vl").await;
    let mut ds = provisioned_datasource(&vl.url);
    ds.uid = "names".into();
    ds.json_data["cacheMaxMiB"] = json!(0);
    ds.json_data["names"] = names;
    let plugin = Plugin::start().await;
    check_panels(&plugin, &ds, records, &namer).await;

    // The churn is in the answer: some address held by two workloads in the
    // day, some minutes of an address nobody held.
    let w = Window { from_ms: DAY.0, to_ms: DAY.1, interval_ms: 300_000 };
    let check = Checker { plugin: &plugin, ds: &ds, records, w };
    let by_pod = check
        .frames(&json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["inside_addr", "workload"], "limit": 1000}))
        .await;
    let addrs = by_pod[0].fields[0].values.clone();
    let names: Vec<String> = by_pod[0].fields[1].values.iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let mut per_addr: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, n) in addrs.iter().zip(&names) {
        per_addr.entry(a.as_str().unwrap().to_string()).or_default().insert(n.clone());
    }
    assert!(
        per_addr.values().any(|n| n.len() >= 2 && !n.contains("(unknown)")),
        "an address of two workloads: {per_addr:?}"
    );
    assert!(names.iter().any(|n| n == "(unknown)"), "addresses no pod held stay visible");

    // A variable's values: the names of the flows in, the largest first.
    let body = json!({"field": "workload", "limit": 100, "range": {"from": DAY.0, "to": DAY.1}});
    let (code, values) = plugin.resource(&ds, "POST", "values", body).await;
    assert_eq!(code, 200, "{values}");
    let mut reference = reference_for(&json!({"direction": "in"}), &ds, &w);
    reference.namer = Some(namer.clone());
    let want: Vec<String> =
        common::reference::groups(records, &reference, &["workload"]).into_iter().map(|(k, _)| k[0].clone()).collect();
    assert_eq!(values["values"], json!(want));

    // A name's drill-down: Explore on the addresses behind it, over the
    // panel's range; those addresses' rows add up to the name's.
    let target = json!({"refId": "A", "format": "table", "direction": "in", "groupBy": ["workload"], "limit": 5});
    let frames = check.frames(&target).await;
    let links = frames[0].field("workload").config["links"].clone();
    let internal = &links[0]["internal"];
    assert_eq!(internal["datasourceUid"], "names", "{links}");
    let (name, bytes) = (
        frames[0].field("workload").values[1].as_str().unwrap().to_string(),
        frames[0].field("bytes").values[1].as_u64().unwrap(),
    );
    let drill = internal["query"].to_string().replace("${__value.raw}", &name);
    let drill: Value = serde_json::from_str(&drill).unwrap();
    let rows = check.frames(&drill).await;
    assert_eq!(rows[0].fields[0].name, "pkt_dstaddr", "{drill}");
    assert!(rows[0].field("workload").values.iter().all(|v| v.as_str() == Some(name.as_str())), "{drill}");
    let sum: u64 = rows[0].field("bytes").values.iter().map(|v| v.as_u64().unwrap()).sum();
    assert_eq!(sum, bytes, "the addresses behind {name} add up to its row");

    // The builder lists the names the datasource can resolve.
    let (code, fields) = plugin.resource(&ds, "GET", "fields", json!({})).await;
    assert_eq!(code, 200);
    let listed: Vec<&str> = fields["fields"].as_array().unwrap().iter().filter_map(|f| f["name"].as_str()).collect();
    for name in ["workload", "namespace", "pod", "remote_service", "remote_region", "remote_name", "local_name"] {
        assert!(listed.contains(&name), "{name} in {listed:?}");
    }
    assert!(listed.contains(&"remote_asn") && listed.contains(&"remote_country"), "{listed:?}");

    // Save & test says what each source holds (it looks at the last hour:
    // recent records, and a pod reported in it).
    let now = chrono::Utc::now().timestamp_millis();
    let cfg = GenConfig { connections: 50, from_ms: now - 50 * MIN, to_ms: now - 10 * MIN, ..data::config() };
    let loader = Loader::new(&vl.url);
    loader.push_raw(&generate(&cfg), MISSION_FORMAT, &data::RAW_STREAM).await.unwrap();
    loader.force_flush().await.unwrap();
    let recent = Tenure { from: now - 2 * H, to: now, ..tenures[0].clone() };
    write_history(&vm, &[recent]).await;
    let (ok, message) = plugin.check_health(&ds).await;
    assert!(ok, "{message}");
    assert!(
        message.contains(&format!("names.awsIpRanges: {aws_networks} AWS networks"))
            && message.contains("names.networks: 4 networks")
            && message.contains("asn.mmdb (GeoLite2-ASN)")
            && message.contains("names.kubernetes: kube_pod_info: 1 pod addresses in the last hour"),
        "{message}"
    );

    // A source that cannot be read: its names are the addresses, with a
    // notice; the numbers are those of the addresses, unchanged.
    std::fs::write(&ranges_path, "{\"prefixes\": 3}").unwrap();
    let target =
        json!({"refId": "A", "format": "table", "direction": "out", "groupBy": ["remote_service"], "limit": 10});
    let frames = check.frames(&target).await;
    let said = notices(&frames);
    assert!(
        said.contains("remote_service shows addresses: names.awsIpRanges:") && said.contains("ip-ranges.json"),
        "{said}"
    );
    let by_addr =
        json!({"refId": "A", "format": "table", "direction": "out", "groupBy": ["outside_addr"], "limit": 10});
    let want = check.frames(&by_addr).await;
    assert_eq!(frames[0].fields[0].values, want[0].fields[0].values, "the addresses in place of the names");
    assert_eq!(frames[0].fields[1].values, want[0].fields[1].values, "the same numbers");
    let (ok, message) = plugin.check_health(&ds).await;
    assert!(
        !ok && message.contains("names.awsIpRanges:") && message.contains("not AWS's ip-ranges.json format"),
        "{message}"
    );
    // Mended, it is read again.
    std::fs::write(&ranges_path, ranges_doc.to_string()).unwrap();
    let frames = check.frames(&target).await;
    assert!(!notices(&frames).contains("shows addresses"), "{}", notices(&frames));

    // A store without kube_pod_info: Save & test says so; panels answer
    // with addresses.
    let empty = VmServer::start().await.expect("VictoriaMetrics must start");
    let mut no_pods: Instance = ds.clone();
    no_pods.uid = "no-pods".into();
    no_pods.json_data["names"]["kubernetes"] = json!({"url": empty.url()});
    let (ok, message) = plugin.check_health(&no_pods).await;
    assert!(!ok && message.contains("no kube_pod_info"), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same panels on Loki (a real LogQL engine, oteldb's): names are
/// resolved above the backend, so they are exact there too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panels_by_name_on_loki_are_exact() {
    let Some(engine) = Engine::start().await else { return };
    let records = data::records();
    engine.push(&[("logtype", "flow"), ("environment", "ops")], raw_lines(records)).await;
    let vm = VmServer::start().await.expect("VictoriaMetrics must start");
    let sources = sources(records, &vm, "loki").await;
    let mut ds = provisioned_datasource(&engine.url);
    ds.uid = "names-loki".into();
    ds.json_data["backend"] = json!("loki");
    ds.json_data["cacheMaxMiB"] = json!(0);
    ds.json_data["names"] = sources.names.clone();
    // ip-ranges.json from a URL, as AWS publishes it.
    let (url, fetches) = serve(sources.ranges_doc.to_string()).await;
    ds.json_data["names"]["awsIpRanges"] = json!(url);
    let plugin = Plugin::start().await;
    check_panels(&plugin, &ds, records, &sources.namer).await;
    assert_eq!(fetches.load(std::sync::atomic::Ordering::SeqCst), 1, "fetched once, then kept for an hour");
    let _ = std::fs::remove_dir_all(&sources.dir);
}

/// A loopback HTTP server answering every GET with `body` (and an ETag);
/// its URL and how many requests it answered.
async fn serve(body: String) -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/ip-ranges.json", listener.local_addr().unwrap());
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nETag: \"v1\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = socket.write_all(head.as_bytes()).await;
                let _ = socket.write_all(body.as_bytes()).await;
            });
        }
    });
    (url, count)
}
