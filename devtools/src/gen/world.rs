//! The traffic model: interfaces, pods, remotes, connections and the records
//! AWS writes for them.

use std::collections::HashSet;
use std::net::Ipv4Addr;

use super::*;
use flows::Generator;

mod flows;

/// Generate the records of `cfg`, sorted by time (stable: records of equal
/// time stay in generation order).
///
/// # Panics
/// If `pod_cidr` is not an IPv4 CIDR, contains the NAT or load balancer
/// address, or has room for fewer than `pods` addresses; if `pods < 2`,
/// `remotes < 16`, or the window is shorter than a second.
pub fn generate(cfg: &GenConfig) -> Vec<FlowRecord> {
    assert!(cfg.to_ms - cfg.from_ms >= 1000, "the time window must span at least a second");
    let mut rng = Rng(cfg.seed);
    let world = World::new(cfg, &mut rng);
    let mut gen = Generator { cfg, world, rng, records: Vec::new() };
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
        Some(Cidr { base: u32::from(addr) & Self::mask(prefix), prefix })
    }

    fn mask(prefix: u8) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
    }

    fn size(self) -> u64 {
        1u64 << (32 - self.prefix)
    }

    fn contains(self, addr: &str) -> bool {
        addr.parse::<Ipv4Addr>().is_ok_and(|a| u32::from(a) & Self::mask(self.prefix) == self.base)
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
        let request = if protocol == UDP { (40, 120) } else { (40, 20_000) };
        Remote { ip: ip.to_string(), port, protocol, aws_service, request, reply }
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
        let reply = if rng.chance(80) { (10_000, 10_000_000) } else { (40, 300_000) };
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
        let pod_cidr =
            Cidr::parse(&cfg.pod_cidr).unwrap_or_else(|| panic!("pod_cidr {:?} is not an IPv4 CIDR", cfg.pod_cidr));
        for fixed in [NAT_PRIVATE_IP, LB_PRIVATE_IP] {
            assert!(!pod_cidr.contains(fixed), "pod_cidr {} must not contain {fixed}", cfg.pod_cidr);
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
            .map(|(i, ip)| Pod { ip, node: i % node_count })
            .collect();
        let remotes = remote_services(cfg.remotes, rng);
        let remote_weights = (0..remotes.len() as u64)
            .scan(0u64, |sum, rank| {
                *sum += 1_000_000_000 / (rank + 1);
                Some(*sum)
            })
            .collect();
        World {
            nat: Eni { id: cfg.nat_eni.clone(), subnet_id: PUBLIC_SUBNET, az_id: AZ_IDS[0], instance_id: None },
            lb: Eni { id: LB_ENI.to_string(), subnet_id: PUBLIC_SUBNET, az_id: AZ_IDS[0], instance_id: None },
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
    assert!(hosts >= count as u64, "pod_cidr {} has fewer than {count} host addresses", cidr.host(0));
    let mut offsets: Vec<u64> =
        [1].into_iter().chain(10..=19).chain([hosts]).filter(|&o| o >= 1 && o <= hosts).collect();
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
