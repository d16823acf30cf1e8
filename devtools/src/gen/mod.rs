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
const POD_SUBNETS: [&str; 3] = ["subnet-0c1d2e3f4a5b60001", "subnet-0c1d2e3f4a5b60002", "subnet-0c1d2e3f4a5b60003"];
const PUBLIC_SUBNET: &str = "subnet-0f9e8d7c6b5a40001";
/// Private hosts outside the pod CIDR that also use the NAT gateway: the
/// neighbours of 10.0.32.0/20 on both sides and a bastion.
const OTHER_PRIVATE_HOSTS: [&str; 8] =
    ["10.0.31.250", "10.0.31.254", "10.0.48.5", "10.0.48.10", "10.0.48.11", "10.0.2.15", "10.0.2.16", "10.0.3.200"];
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
const DAILY_SHAPE: [u64; 24] =
    [30, 25, 22, 20, 20, 25, 35, 50, 65, 80, 90, 95, 100, 100, 95, 90, 85, 80, 70, 60, 50, 45, 40, 35];
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

mod record;
mod world;

pub use record::{canonical, header_line, FlowRecord, Template, Value};
pub use world::generate;
