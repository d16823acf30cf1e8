//! Deterministic synthetic AWS VPC Flow Log records: the fixture behind
//! `flowlens demo` and the end-to-end tests.
//!
//! One VPC with a NAT gateway, EKS nodes whose ENIs carry pod addresses, and
//! an internet-facing load balancer. Traffic is recorded the way AWS records
//! it, including the four NAT gateway legs of every pod connection to the
//! internet (so summing every NAT record double counts), rejected flows,
//! `NODATA`/`SKIPDATA` records whose traffic fields are `-`, IPv6 clients and
//! addresses chosen to trap unanchored regexes and off-by-one CIDR checks.
//!
//! Only integer arithmetic drives the output, with a SplitMix64 generator, so
//! a seed gives the same records on every platform.

use std::collections::HashSet;
use std::net::Ipv4Addr;

/// AWS's default version-2 record format.
pub const DEFAULT_V2_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// The custom record format of the mission's platform team.
pub const MISSION_FORMAT: &str = "${region} ${vpc-id} ${az-id} ${subnet-id} ${instance-id} ${interface-id} ${flow-direction} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${packets} ${bytes} ${action}";

/// The NAT gateway's private address, in the public subnet 10.0.0.0/24.
pub const NAT_PRIVATE_IP: &str = "10.0.0.57";

/// The load balancer's private address, in the public subnet 10.0.1.0/24.
pub const LB_PRIVATE_IP: &str = "10.0.1.20";

/// The load balancer's ENI (an interface that is neither NAT nor node).
pub const LB_ENI: &str = "eni-0b7e4d1c9a2f63580";

const REGION: &str = "us-east-1";
const ACCOUNT_ID: &str = "123456789012";
const VPC_ID: &str = "vpc-0a1b2c3d4e5f67890";
const AZ_IDS: [&str; 3] = ["use1-az1", "use1-az2", "use1-az4"];
const POD_SUBNETS: [&str; 3] = [
    "subnet-0c1d2e3f4a5b60001",
    "subnet-0c1d2e3f4a5b60002",
    "subnet-0c1d2e3f4a5b60003",
];
const PUBLIC_SUBNET: &str = "subnet-0f9e8d7c6b5a40001";
/// Private hosts outside the pod CIDR that also use the NAT gateway: the
/// neighbours of 10.0.32.0/20 on both sides and a bastion.
const OTHER_PRIVATE_HOSTS: [&str; 8] = [
    "10.0.31.250",
    "10.0.31.254",
    "10.0.48.5",
    "10.0.48.10",
    "10.0.48.11",
    "10.0.2.15",
    "10.0.2.16",
    "10.0.3.200",
];
/// Databases inside the VPC that pods talk to without the NAT gateway.
const DATABASES: [&str; 3] = ["10.0.64.10", "10.0.64.11", "10.0.64.12"];
/// IPv6 clients of the dual-stack load balancer.
const IPV6_CLIENTS: [&str; 4] = [
    "2600:1f18:4a3:6900:8c5e:2b1a:9f0e:1d2c",
    "2a01:4f8:c17:b8f::2",
    "2001:db8:85a3::8a2e:370:7334",
    "2606:4700:4700::1111",
];
/// Hourly traffic shape (UTC), percent of the peak.
const DAILY_SHAPE: [u64; 24] = [
    30, 25, 22, 20, 20, 25, 35, 50, 65, 80, 90, 95, 100, 100, 95, 90, 85, 80, 70, 60, 50, 45, 40,
    35,
];
/// A long-lived connection reports once per aggregation interval.
const AGGREGATION_MS: i64 = 60_000;
const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const TCP: u64 = 6;
const UDP: u64 = 17;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenConfig {
    /// Seed of the random generator; equal configs give equal records.
    pub seed: u64,
    /// First millisecond of the time window (inclusive).
    pub from_ms: i64,
    /// End of the time window (exclusive); no record is at or after it.
    pub to_ms: i64,
    /// Number of connections; each yields one to a few dozen records.
    pub connections: usize,
    /// Interface id of the NAT gateway.
    pub nat_eni: String,
    /// The pods' CIDR, e.g. `10.0.32.0/20`; must not contain the NAT and load
    /// balancer addresses (10.0.0.57, 10.0.1.20).
    pub pod_cidr: String,
    /// Number of distinct pod addresses (at least 2).
    pub pods: usize,
    /// Number of distinct remote (public) addresses.
    pub remotes: usize,
}

impl Default for GenConfig {
    /// Seed 42, 20 000 connections, 300 pods, 3 000 remotes, the mission's
    /// NAT ENI and pod CIDR, over the 24 hours ending at the last full hour.
    fn default() -> Self {
        let now_ms = chrono::Utc::now().timestamp_millis();
        let to_ms = now_ms - now_ms.rem_euclid(HOUR_MS);
        GenConfig {
            seed: 42,
            from_ms: to_ms - DAY_MS,
            to_ms,
            connections: 20_000,
            nat_eni: "eni-0352f8c82da6aa229".to_string(),
            pod_cidr: "10.0.32.0/20".to_string(),
            pods: 300,
            remotes: 3000,
        }
    }
}

/// One flow-log record. Every field of [`DEFAULT_V2_FORMAT`] and
/// [`MISSION_FORMAT`], named by its canonical name (AWS's with `-` -> `_`);
/// `None` is AWS's `-`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowRecord {
    /// When the record was written (log timestamp), Unix milliseconds.
    pub time_ms: i64,
    /// Generator bookkeeping, never rendered: the connection this record
    /// belongs to (records of one connection share it).
    pub conn: u64,
    /// Generator bookkeeping, never rendered: 1 to 4 for the NAT gateway legs
    /// (1 pod->NAT, 2 NAT->remote, 3 remote->NAT, 4 NAT->pod), else `None`.
    pub nat_leg: Option<u8>,
    pub version: Option<u64>,
    pub account_id: Option<String>,
    pub interface_id: Option<String>,
    pub srcaddr: Option<String>,
    pub dstaddr: Option<String>,
    pub srcport: Option<u64>,
    pub dstport: Option<u64>,
    pub protocol: Option<u64>,
    pub packets: Option<u64>,
    pub bytes: Option<u64>,
    /// Start of the aggregation interval, Unix seconds.
    pub start: Option<u64>,
    /// End of the aggregation interval, Unix seconds.
    pub end: Option<u64>,
    pub action: Option<String>,
    pub log_status: Option<String>,
    pub region: Option<String>,
    pub vpc_id: Option<String>,
    pub az_id: Option<String>,
    pub subnet_id: Option<String>,
    pub instance_id: Option<String>,
    pub flow_direction: Option<String>,
    pub pkt_srcaddr: Option<String>,
    pub pkt_dstaddr: Option<String>,
    pub pkt_src_aws_service: Option<String>,
    pub pkt_dst_aws_service: Option<String>,
    pub traffic_path: Option<u64>,
}

impl FlowRecord {
    /// Value of a field by canonical name (AWS name with `-` -> `_`, e.g.
    /// `pkt_srcaddr`); `None` for `-` and for fields the record does not have.
    pub fn get(&self, canonical: &str) -> Option<String> {
        self.value(canonical).map(|v| v.to_string())
    }

    /// Like [`FlowRecord::get`], without allocating.
    pub fn value(&self, canonical: &str) -> Option<Value<'_>> {
        fn text(v: &Option<String>) -> Option<Value<'_>> {
            v.as_deref().map(Value::Text)
        }
        let num = |v: Option<u64>| v.map(Value::Number);
        match canonical {
            "version" => num(self.version),
            "account_id" => text(&self.account_id),
            "interface_id" => text(&self.interface_id),
            "srcaddr" => text(&self.srcaddr),
            "dstaddr" => text(&self.dstaddr),
            "srcport" => num(self.srcport),
            "dstport" => num(self.dstport),
            "protocol" => num(self.protocol),
            "packets" => num(self.packets),
            "bytes" => num(self.bytes),
            "start" => num(self.start),
            "end" => num(self.end),
            "action" => text(&self.action),
            "log_status" => text(&self.log_status),
            "region" => text(&self.region),
            "vpc_id" => text(&self.vpc_id),
            "az_id" => text(&self.az_id),
            "subnet_id" => text(&self.subnet_id),
            "instance_id" => text(&self.instance_id),
            "flow_direction" => text(&self.flow_direction),
            "pkt_srcaddr" => text(&self.pkt_srcaddr),
            "pkt_dstaddr" => text(&self.pkt_dstaddr),
            "pkt_src_aws_service" => text(&self.pkt_src_aws_service),
            "pkt_dst_aws_service" => text(&self.pkt_dst_aws_service),
            "traffic_path" => num(self.traffic_path),
            _ => None,
        }
    }

    /// The record as AWS writes it in `format` (`${field}` placeholders with
    /// AWS names), `-` for missing values. To render many records, parse the
    /// format once with [`Template::parse`].
    pub fn render(&self, format: &str) -> String {
        Template::parse(format).render(self)
    }
}

/// A field value of a [`FlowRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    /// Addresses, ids, `ACCEPT`, ...
    Text(&'a str),
    /// Ports, counters, epoch seconds, ...
    Number(u64),
}

impl std::fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(text) => f.write_str(text),
            Value::Number(n) => write!(f, "{n}"),
        }
    }
}

/// A record format parsed once: literal text and canonical field names.
#[derive(Debug, Clone)]
pub struct Template {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone)]
enum Piece {
    Literal(String),
    /// AWS name and canonical name.
    Field(String, String),
}

impl Template {
    /// Parse a format string such as [`MISSION_FORMAT`]; text outside
    /// `${...}` is kept literally.
    pub fn parse(format: &str) -> Template {
        let mut pieces = Vec::new();
        let mut rest = format;
        while !rest.is_empty() {
            let field = rest
                .find("${")
                .and_then(|open| Some((open, rest[open..].find('}')? + open)));
            match field {
                Some((0, close)) => {
                    let name = &rest[2..close];
                    pieces.push(Piece::Field(name.to_string(), canonical(name)));
                    rest = &rest[close + 1..];
                }
                Some((open, _)) => {
                    pieces.push(Piece::Literal(rest[..open].to_string()));
                    rest = &rest[open..];
                }
                None => {
                    pieces.push(Piece::Literal(rest.to_string()));
                    rest = "";
                }
            }
        }
        Template { pieces }
    }

    /// The AWS field names, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|piece| match piece {
            Piece::Field(aws, _) => Some(aws.as_str()),
            Piece::Literal(_) => None,
        })
    }

    /// The header line that starts every S3 flow-log file of this format:
    /// the AWS field names, e.g. `version account-id interface-id ...`.
    pub fn header(&self) -> String {
        self.pieces
            .iter()
            .map(|piece| match piece {
                Piece::Literal(text) | Piece::Field(text, _) => text.as_str(),
            })
            .collect()
    }

    /// `record` as a log line, `-` for missing values.
    pub fn render(&self, record: &FlowRecord) -> String {
        use std::fmt::Write;
        let mut line = String::with_capacity(256);
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => line.push_str(text),
                Piece::Field(_, name) => match record.value(name) {
                    Some(value) => {
                        write!(line, "{value}").expect("writing to a String cannot fail")
                    }
                    None => line.push('-'),
                },
            }
        }
        line
    }
}

/// The header line that starts every S3 flow-log file of `format`: the AWS
/// field names, e.g. `version account-id interface-id ...`.
pub fn header_line(format: &str) -> String {
    Template::parse(format).header()
}

/// The canonical name of an AWS field name: `pkt-srcaddr` -> `pkt_srcaddr`.
pub fn canonical(aws_name: &str) -> String {
    aws_name.replace('-', "_")
}

/// Generate the records of `cfg`, sorted by time (stable: records of equal
/// time stay in generation order).
///
/// # Panics
/// If `pod_cidr` is not an IPv4 CIDR, contains the NAT or load balancer
/// address, or has room for fewer than `pods` addresses; if `pods < 2`,
/// `remotes < 16`, or the window is shorter than a second.
pub fn generate(cfg: &GenConfig) -> Vec<FlowRecord> {
    assert!(
        cfg.to_ms - cfg.from_ms >= 1000,
        "the time window must span at least a second"
    );
    let mut rng = Rng(cfg.seed);
    let world = World::new(cfg, &mut rng);
    let mut gen = Generator {
        cfg,
        world,
        rng,
        records: Vec::new(),
    };
    gen.run();
    let mut records = gen.records;
    records.sort_by_key(|r| r.time_ms);
    records
}

/// SplitMix64: tiny, seedable, identical on every platform.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Log-uniform in `lo..=hi` without floating point: a uniformly chosen
    /// decade, then uniform inside it.
    fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let decades = hi.ilog10() - lo.ilog10() + 1;
        let decade = lo.ilog10() + self.below(u64::from(decades)) as u32;
        let start = 10u64.pow(decade).max(lo);
        let end = (10u64.pow(decade + 1) - 1).min(hi);
        self.range(start, end)
    }

    /// Linux ephemeral port.
    fn ephemeral_port(&mut self) -> u64 {
        self.range(32_768, 60_999)
    }
}

/// An IPv4 CIDR.
#[derive(Clone, Copy)]
struct Cidr {
    base: u32,
    prefix: u8,
}

impl Cidr {
    fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32)?;
        Some(Cidr {
            base: u32::from(addr) & Self::mask(prefix),
            prefix,
        })
    }

    fn mask(prefix: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
    }

    fn size(self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    fn contains(self, addr: &str) -> bool {
        addr.parse::<Ipv4Addr>()
            .is_ok_and(|a| u32::from(a) & Self::mask(self.prefix) == self.base)
    }

    fn host(self, offset: u64) -> String {
        Ipv4Addr::from(self.base + offset as u32).to_string()
    }
}

/// A network interface that writes flow logs.
struct Eni {
    id: String,
    subnet_id: &'static str,
    az_id: &'static str,
    instance_id: Option<String>,
}

/// A pod address and the index of the node ENI that carries it.
struct Pod {
    ip: String,
    node: usize,
}

/// How a remote service behaves.
struct Remote {
    ip: String,
    port: u64,
    protocol: u64,
    aws_service: Option<&'static str>,
    request: (u64, u64),
    reply: (u64, u64),
}

impl Remote {
    fn new(ip: &str, port: u64, aws_service: Option<&'static str>, reply: (u64, u64)) -> Remote {
        let protocol = if port == 53 || port == 123 { UDP } else { TCP };
        let request = if protocol == UDP {
            (40, 120)
        } else {
            (40, 20_000)
        };
        Remote {
            ip: ip.to_string(),
            port,
            protocol,
            aws_service,
            request,
            reply,
        }
    }

    /// A random public service: mostly HTTPS APIs, some bulk downloads and
    /// uploads, NTP, SSH and odd high ports.
    fn random(ip: String, rng: &mut Rng) -> Remote {
        let port = match rng.below(100) {
            0..=61 => 443,
            62..=74 => 80,
            75..=79 => 123,
            80..=83 => 22,
            _ => rng.range(1024, 65_535),
        };
        let reply = if rng.chance(80) {
            (10_000, 10_000_000)
        } else {
            (40, 300_000)
        };
        let mut remote = Remote::new(&ip, port, None, reply);
        if remote.protocol == UDP {
            remote.reply = (40, 120);
        } else if rng.chance(20) {
            remote.request = (1_000, 5_000_000);
        }
        remote
    }
}

/// The VPC: its interfaces, pods and the internet they talk to.
struct World {
    nat: Eni,
    lb: Eni,
    nodes: Vec<Eni>,
    pods: Vec<Pod>,
    remotes: Vec<Remote>,
    /// Cumulative Zipf weights of `remotes` by rank.
    remote_weights: Vec<u64>,
}

impl World {
    fn new(cfg: &GenConfig, rng: &mut Rng) -> World {
        let pod_cidr = Cidr::parse(&cfg.pod_cidr)
            .unwrap_or_else(|| panic!("pod_cidr {:?} is not an IPv4 CIDR", cfg.pod_cidr));
        for fixed in [NAT_PRIVATE_IP, LB_PRIVATE_IP] {
            assert!(
                !pod_cidr.contains(fixed),
                "pod_cidr {} must not contain {fixed}",
                cfg.pod_cidr
            );
        }
        assert!(cfg.pods >= 2, "at least 2 pods are needed");
        assert!(cfg.remotes >= 16, "at least 16 remotes are needed");
        let node_count = (cfg.pods / 30).clamp(2, 16);
        let nodes = (0..node_count)
            .map(|i| Eni {
                id: format!("eni-0{:016x}", rng.next_u64() >> 4),
                subnet_id: POD_SUBNETS[i % 3],
                az_id: AZ_IDS[i % 3],
                instance_id: Some(format!("i-0{:016x}", rng.next_u64() >> 4)),
            })
            .collect();
        let pods = pod_addresses(pod_cidr, cfg.pods, rng)
            .into_iter()
            .enumerate()
            .map(|(i, ip)| Pod {
                ip,
                node: i % node_count,
            })
            .collect();
        let remotes = remote_services(cfg.remotes, rng);
        let remote_weights = (0..remotes.len() as u64)
            .scan(0u64, |sum, rank| {
                *sum += 1_000_000_000 / (rank + 1);
                Some(*sum)
            })
            .collect();
        World {
            nat: Eni {
                id: cfg.nat_eni.clone(),
                subnet_id: PUBLIC_SUBNET,
                az_id: AZ_IDS[0],
                instance_id: None,
            },
            lb: Eni {
                id: LB_ENI.to_string(),
                subnet_id: PUBLIC_SUBNET,
                az_id: AZ_IDS[0],
                instance_id: None,
            },
            nodes,
            pods,
            remotes,
            remote_weights,
        }
    }

    /// A remote by Zipf-distributed popularity.
    fn popular_remote(&self, rng: &mut Rng) -> &Remote {
        let total = *self.remote_weights.last().expect("remotes are not empty");
        let x = rng.below(total);
        &self.remotes[self.remote_weights.partition_point(|&w| w <= x)]
    }
}

/// `count` distinct host addresses of `cidr`: the first and last host, the
/// regex traps x.x.x.10 to x.x.x.19, then random hosts.
fn pod_addresses(cidr: Cidr, count: usize, rng: &mut Rng) -> Vec<String> {
    let hosts = cidr.size().saturating_sub(2);
    assert!(
        hosts >= count as u64,
        "pod_cidr {} has fewer than {count} host addresses",
        cidr.host(0)
    );
    let mut offsets: Vec<u64> = [1]
        .into_iter()
        .chain(10..=19)
        .chain([hosts])
        .filter(|&o| o >= 1 && o <= hosts)
        .collect();
    offsets.dedup();
    offsets.truncate(count);
    let mut seen: HashSet<u64> = offsets.iter().copied().collect();
    while offsets.len() < count {
        let offset = rng.range(1, hosts);
        if seen.insert(offset) {
            offsets.push(offset);
        }
    }
    offsets.into_iter().map(|o| cidr.host(o)).collect()
}

/// `count` distinct remote services, most popular first: named ones (AWS
/// services, DNS resolvers, regex traps such as 110.0.32.1), then random
/// public addresses.
fn remote_services(count: usize, rng: &mut Rng) -> Vec<Remote> {
    let bulk = (100_000, 10_000_000);
    let api = (40, 300_000);
    let dns = (40, 512);
    let mut remotes = vec![
        Remote::new("52.216.8.5", 443, Some("S3"), bulk),
        Remote::new("140.82.112.3", 443, None, api),
        Remote::new("8.8.8.8", 53, None, dns),
        Remote::new("110.0.32.1", 443, None, bulk),
        Remote::new("54.239.28.85", 443, Some("AMAZON"), api),
        Remote::new("151.101.1.69", 443, None, api),
        Remote::new("1.1.1.1", 53, None, dns),
        Remote::new("3.5.0.10", 443, Some("S3"), bulk),
        Remote::new("104.16.132.229", 80, None, api),
        Remote::new("35.171.100.4", 443, Some("EC2"), api),
        Remote::new("100.0.32.19", 443, None, api),
        Remote::new("210.0.32.15", 8443, None, api),
    ];
    let mut seen: HashSet<String> = remotes.iter().map(|r| r.ip.clone()).collect();
    while remotes.len() < count {
        let ip = Ipv4Addr::from(rng.next_u64() as u32);
        if is_public(ip) && seen.insert(ip.to_string()) {
            remotes.push(Remote::random(ip.to_string(), rng));
        }
    }
    remotes.truncate(count);
    remotes
}

/// Whether an address is globally routable (roughly; enough for fixtures).
fn is_public(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 224
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (18..20).contains(&b)))
}

/// The traffic of one aggregation interval as one interface sees it.
#[derive(Clone, Copy)]
struct Flow<'a> {
    src: &'a str,
    dst: &'a str,
    srcport: u64,
    dstport: u64,
    pkt_src: &'a str,
    pkt_dst: &'a str,
    protocol: u64,
    bytes: u64,
    egress: bool,
    accept: bool,
    traffic_path: Option<u64>,
    src_service: Option<&'static str>,
    dst_service: Option<&'static str>,
}

impl<'a> Flow<'a> {
    /// An accepted flow seen entering the interface (so without traffic
    /// path), whose packets carry the interface addresses.
    fn new(
        src: &'a str,
        srcport: u64,
        dst: &'a str,
        dstport: u64,
        protocol: u64,
        bytes: u64,
    ) -> Self {
        Flow {
            src,
            dst,
            srcport,
            dstport,
            pkt_src: src,
            pkt_dst: dst,
            protocol,
            bytes,
            egress: false,
            accept: true,
            traffic_path: None,
            src_service: None,
            dst_service: None,
        }
    }

    /// The packets' own addresses, when they differ (NAT gateway legs).
    fn packet_addrs(self, pkt_src: &'a str, pkt_dst: &'a str) -> Self {
        Flow {
            pkt_src,
            pkt_dst,
            ..self
        }
    }

    /// Seen leaving the interface, towards `traffic_path`.
    fn egress(self, traffic_path: u64) -> Self {
        Flow {
            egress: true,
            traffic_path: Some(traffic_path),
            ..self
        }
    }

    fn accepted(self, accept: bool) -> Self {
        Flow { accept, ..self }
    }

    /// Name the AWS service of `remote` on whichever packet side it is.
    fn service(self, remote: &str, service: Option<&'static str>) -> Self {
        Flow {
            src_service: service.filter(|_| self.pkt_src == remote),
            dst_service: service.filter(|_| self.pkt_dst == remote),
            ..self
        }
    }
}

/// Packet count for `bytes`: segments of 576 to 1500 bytes (a function of
/// `bytes`, so the legs of one NAT translation agree), at least one packet,
/// never fewer than 40 bytes a packet.
fn packets_for(bytes: u64) -> u64 {
    bytes.div_ceil(576 + bytes % 925).max(1)
}

/// Which interface records a flow.
#[derive(Clone, Copy)]
enum Iface {
    Nat,
    Lb,
    Node(usize),
}

/// Emits the records of every connection.
struct Generator<'a> {
    cfg: &'a GenConfig,
    world: World,
    rng: Rng,
    records: Vec<FlowRecord>,
}

impl Generator<'_> {
    fn run(&mut self) {
        // Connections pinned to the window's edges: its first millisecond and
        // the last second before its end.
        let (from, to) = (self.cfg.from_ms, self.cfg.to_ms);
        let pinned = [from, to - 1, to - 900];
        for conn in 0..self.cfg.connections as u64 {
            match pinned.get(conn as usize) {
                Some(&t) => self.nat_from_pod(conn, t, 1),
                None => self.random_connection(conn),
            }
        }
    }

    fn random_connection(&mut self, conn: u64) {
        let t = self.random_time();
        let intervals = if self.rng.chance(850) {
            1
        } else {
            self.rng.range(2, 6)
        };
        match self.rng.below(1000) {
            0..=739 => self.nat_from_pod(conn, t, intervals),
            740..=799 => self.nat_from_other_host(conn, t, intervals),
            800..=879 => self.pod_inside_vpc(conn, t, intervals),
            880..=949 => self.lb_to_pod(conn, t, intervals),
            950..=984 => self.scan_nat(conn, t),
            _ => self.no_data(conn, t),
        }
    }

    /// A time in the window following the daily shape (rejection sampling).
    fn random_time(&mut self) -> i64 {
        let span = (self.cfg.to_ms - self.cfg.from_ms) as u64;
        loop {
            let t = self.cfg.from_ms + self.rng.below(span) as i64;
            let hour = t.rem_euclid(DAY_MS) / HOUR_MS;
            if self.rng.below(100) < DAILY_SHAPE[hour as usize] {
                return t;
            }
        }
    }

    /// The times of a connection's intervals that fall in the window.
    fn interval_times(&self, t: i64, intervals: u64) -> Vec<i64> {
        (0..intervals as i64)
            .map(|i| t + i * AGGREGATION_MS)
            .take_while(|&at| at < self.cfg.to_ms)
            .collect()
    }

    /// `t + delay_ms`, but never past the window's last millisecond.
    fn at(&self, t: i64, delay_ms: i64) -> i64 {
        (t + delay_ms).min(self.cfg.to_ms - 1)
    }

    fn eni(&self, iface: Iface) -> &Eni {
        match iface {
            Iface::Nat => &self.world.nat,
            Iface::Lb => &self.world.lb,
            Iface::Node(i) => &self.world.nodes[i],
        }
    }

    /// The fields every record of `iface` at `time_ms` has, even `NODATA`.
    fn base_record(&self, conn: u64, iface: Iface, time_ms: i64, end_delay_s: u64) -> FlowRecord {
        let eni = self.eni(iface);
        let start = time_ms.div_euclid(1000) as u64;
        FlowRecord {
            time_ms,
            conn,
            version: Some(2),
            account_id: Some(ACCOUNT_ID.to_string()),
            interface_id: Some(eni.id.clone()),
            start: Some(start),
            end: Some(start + end_delay_s),
            region: Some(REGION.to_string()),
            vpc_id: Some(VPC_ID.to_string()),
            az_id: Some(eni.az_id.to_string()),
            subnet_id: Some(eni.subnet_id.to_string()),
            instance_id: eni.instance_id.clone(),
            ..FlowRecord::default()
        }
    }

    fn push(&mut self, conn: u64, nat_leg: Option<u8>, iface: Iface, time_ms: i64, flow: Flow) {
        let end_delay_s = self.rng.below(60);
        let record = FlowRecord {
            nat_leg,
            srcaddr: Some(flow.src.to_string()),
            dstaddr: Some(flow.dst.to_string()),
            srcport: Some(flow.srcport),
            dstport: Some(flow.dstport),
            protocol: Some(flow.protocol),
            packets: Some(packets_for(flow.bytes)),
            bytes: Some(flow.bytes),
            action: Some(if flow.accept { "ACCEPT" } else { "REJECT" }.to_string()),
            log_status: Some("OK".to_string()),
            flow_direction: Some(if flow.egress { "egress" } else { "ingress" }.to_string()),
            pkt_srcaddr: Some(flow.pkt_src.to_string()),
            pkt_dstaddr: Some(flow.pkt_dst.to_string()),
            pkt_src_aws_service: flow.src_service.map(str::to_string),
            pkt_dst_aws_service: flow.dst_service.map(str::to_string),
            traffic_path: flow.traffic_path,
            ..self.base_record(conn, iface, time_ms, end_delay_s)
        };
        self.records.push(record);
    }

    fn random_pod(&mut self) -> (String, usize) {
        let pod = &self.world.pods[self.rng.below(self.world.pods.len() as u64) as usize];
        (pod.ip.clone(), pod.node)
    }

    /// A pod connects to a remote service through the NAT gateway: the four
    /// NAT legs and the pod's view on its node's ENI.
    fn nat_from_pod(&mut self, conn: u64, t: i64, intervals: u64) {
        let (pod_ip, node) = self.random_pod();
        self.nat_connection(conn, t, intervals, &pod_ip, Some(Iface::Node(node)));
    }

    /// A private host outside the pod CIDR (no flow logs of its own here)
    /// uses the NAT gateway.
    fn nat_from_other_host(&mut self, conn: u64, t: i64, intervals: u64) {
        let host = *self.rng.pick(&OTHER_PRIVATE_HOSTS);
        self.nat_connection(conn, t, intervals, host, None);
    }

    /// The NAT gateway's four legs per interval, as AWS records them on the
    /// NAT ENI; legs 1 and 2 carry the request bytes, 3 and 4 the reply's.
    fn nat_connection(
        &mut self,
        conn: u64,
        t: i64,
        intervals: u64,
        client: &str,
        client_iface: Option<Iface>,
    ) {
        let remote = self.world.popular_remote(&mut self.rng);
        let (r, r_port, proto, svc) = (
            remote.ip.clone(),
            remote.port,
            remote.protocol,
            remote.aws_service,
        );
        let (request, reply) = (remote.request, remote.reply);
        let client_port = self.rng.ephemeral_port();
        let nat_port = self.rng.range(1024, 65_535);
        let n = NAT_PRIVATE_IP;
        for at in self.interval_times(t, intervals) {
            let req = self.rng.log_uniform(request.0, request.1);
            let rep = self.rng.log_uniform(reply.0, reply.1);
            // Rarely a NACL rejects the request (no reply) or the reply.
            let outcome = self.rng.below(1000);
            let request_rejected = outcome < 4;
            let reply_rejected = (4..8).contains(&outcome);
            let legs = [
                Flow::new(client, client_port, n, r_port, proto, req).packet_addrs(client, &r),
                Flow::new(n, nat_port, &r, r_port, proto, req)
                    .egress(8)
                    .accepted(!request_rejected),
                Flow::new(&r, r_port, n, nat_port, proto, rep).accepted(!reply_rejected),
                Flow::new(n, r_port, client, client_port, proto, rep)
                    .packet_addrs(&r, client)
                    .egress(1),
            ];
            let leg_count = if request_rejected {
                2
            } else if reply_rejected {
                3
            } else {
                4
            };
            for (i, leg) in legs.into_iter().take(leg_count).enumerate() {
                let time = self.at(at, i as i64);
                self.push(
                    conn,
                    Some(i as u8 + 1),
                    Iface::Nat,
                    time,
                    leg.service(&r, svc),
                );
            }
            if let Some(iface) = client_iface {
                let out = Flow::new(client, client_port, &r, r_port, proto, req).egress(1);
                self.push(conn, None, iface, at, out.service(&r, svc));
                if leg_count == 4 {
                    let back = Flow::new(&r, r_port, client, client_port, proto, rep);
                    let time = self.at(at, 3);
                    self.push(conn, None, iface, time, back.service(&r, svc));
                }
            }
        }
    }

    /// A pod talks to another pod, a database or S3 through the gateway
    /// endpoint: recorded on node ENIs only, never on the NAT gateway.
    fn pod_inside_vpc(&mut self, conn: u64, t: i64, intervals: u64) {
        let pods = self.world.pods.len();
        let a = self.rng.below(pods as u64) as usize;
        let (a_ip, a_node) = (self.world.pods[a].ip.clone(), self.world.pods[a].node);
        // Pods are spread round-robin, so consecutive pods sit on different nodes.
        let peer = &self.world.pods[(a + 1) % pods];
        let (b_ip, b_node, port, path, svc) = match self.rng.below(10) {
            0..=4 => (peer.ip.clone(), Some(peer.node), 8080, 1, None),
            5..=7 => (self.rng.pick(&DATABASES).to_string(), None, 5432, 1, None),
            _ => ("52.216.8.5".to_string(), None, 443, 7, Some("S3")),
        };
        let a_port = self.rng.ephemeral_port();
        let accept = !self.rng.chance(15);
        for at in self.interval_times(t, intervals) {
            let req = self.rng.log_uniform(40, 50_000);
            let rep = self.rng.log_uniform(40, 2_000_000);
            let out = Flow::new(&a_ip, a_port, &b_ip, port, TCP, req)
                .accepted(accept)
                .service(&b_ip, svc);
            let back = Flow::new(&b_ip, port, &a_ip, a_port, TCP, rep)
                .accepted(accept)
                .service(&b_ip, svc);
            self.push(conn, None, Iface::Node(a_node), at, out.egress(path));
            if accept {
                let time = self.at(at, 2);
                self.push(conn, None, Iface::Node(a_node), time, back);
            }
            if let Some(node) = b_node {
                let time = self.at(at, 1);
                self.push(conn, None, Iface::Node(node), time, out);
                if accept {
                    let time = self.at(at, 2);
                    self.push(conn, None, Iface::Node(node), time, back.egress(1));
                }
            }
        }
    }

    /// An internet client (sometimes IPv6) calls the load balancer, which
    /// forwards to a pod: recorded on the load balancer's and the pod's ENIs.
    fn lb_to_pod(&mut self, conn: u64, t: i64, intervals: u64) {
        let client = if self.rng.chance(50) {
            self.rng.pick(&IPV6_CLIENTS).to_string()
        } else {
            self.world.popular_remote(&mut self.rng).ip.clone()
        };
        let (pod_ip, node) = self.random_pod();
        let client_port = self.rng.range(1024, 65_535);
        let lb_port = self.rng.ephemeral_port();
        let lb = LB_PRIVATE_IP;
        let rejected = self.rng.chance(30);
        for at in self.interval_times(t, intervals) {
            let req = self.rng.log_uniform(100, 100_000);
            let rep = self.rng.log_uniform(100, 3_000_000);
            let inbound = Flow::new(&client, client_port, lb, 443, TCP, req);
            if rejected {
                self.push(conn, None, Iface::Lb, at, inbound.accepted(false));
                continue;
            }
            self.push(conn, None, Iface::Lb, at, inbound);
            let forward = Flow::new(lb, lb_port, &pod_ip, 8080, TCP, req);
            let answer = Flow::new(&pod_ip, 8080, lb, lb_port, TCP, rep);
            let time = self.at(at, 1);
            self.push(conn, None, Iface::Lb, time, forward.egress(1));
            self.push(conn, None, Iface::Node(node), time, forward);
            let time = self.at(at, 2);
            self.push(conn, None, Iface::Node(node), time, answer.egress(1));
            self.push(conn, None, Iface::Lb, time, answer);
            let time = self.at(at, 3);
            let reply = Flow::new(lb, 443, &client, client_port, TCP, rep).egress(2);
            self.push(conn, None, Iface::Lb, time, reply);
        }
    }

    /// Unsolicited packets from the internet to the NAT gateway, mostly
    /// rejected.
    fn scan_nat(&mut self, conn: u64, t: i64) {
        let scanner = self.rng.pick(&self.world.remotes).ip.clone();
        let port = *self.rng.pick(&[22, 23, 445, 3389, 8080, 6379]);
        let protocol = if self.rng.chance(100) { UDP } else { TCP };
        let srcport = self.rng.range(1024, 65_535);
        let bytes = self.rng.range(40, 180);
        let accept = self.rng.chance(300);
        let flow =
            Flow::new(&scanner, srcport, NAT_PRIVATE_IP, port, protocol, bytes).accepted(accept);
        self.push(conn, None, Iface::Nat, t, flow);
    }

    /// A `NODATA` or `SKIPDATA` record: every traffic field is `-`.
    fn no_data(&mut self, conn: u64, t: i64) {
        let iface = match self.rng.below(4) {
            0 => Iface::Nat,
            1 => Iface::Lb,
            _ => Iface::Node(self.rng.below(self.world.nodes.len() as u64) as usize),
        };
        let status = if self.rng.chance(700) {
            "NODATA"
        } else {
            "SKIPDATA"
        };
        let record = FlowRecord {
            log_status: Some(status.to_string()),
            ..self.base_record(conn, iface, t, 60)
        };
        self.records.push(record);
    }
}
