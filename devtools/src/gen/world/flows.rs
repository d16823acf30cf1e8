//! The connections of the traffic model as the records AWS writes for them:
//! each interface's view of a flow per aggregation interval.

use super::*;

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
    fn new(src: &'a str, srcport: u64, dst: &'a str, dstport: u64, protocol: u64, bytes: u64) -> Self {
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
        Flow { pkt_src, pkt_dst, ..self }
    }

    /// Seen leaving the interface, towards `traffic_path`.
    fn egress(self, traffic_path: u64) -> Self {
        Flow { egress: true, traffic_path: Some(traffic_path), ..self }
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
pub(super) struct Generator<'a> {
    pub(super) cfg: &'a GenConfig,
    pub(super) world: World,
    pub(super) rng: Rng,
    pub(super) records: Vec<FlowRecord>,
}

impl Generator<'_> {
    pub(super) fn run(&mut self) {
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
        let intervals = if self.rng.chance(850) { 1 } else { self.rng.range(2, 6) };
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
        (0..intervals as i64).map(|i| t + i * AGGREGATION_MS).take_while(|&at| at < self.cfg.to_ms).collect()
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
    fn nat_connection(&mut self, conn: u64, t: i64, intervals: u64, client: &str, client_iface: Option<Iface>) {
        let remote = self.world.popular_remote(&mut self.rng);
        let (r, r_port, proto, svc) = (remote.ip.clone(), remote.port, remote.protocol, remote.aws_service);
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
                Flow::new(n, nat_port, &r, r_port, proto, req).egress(8).accepted(!request_rejected),
                Flow::new(&r, r_port, n, nat_port, proto, rep).accepted(!reply_rejected),
                Flow::new(n, r_port, client, client_port, proto, rep).packet_addrs(&r, client).egress(1),
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
                self.push(conn, Some(i as u8 + 1), Iface::Nat, time, leg.service(&r, svc));
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
            let out = Flow::new(&a_ip, a_port, &b_ip, port, TCP, req).accepted(accept).service(&b_ip, svc);
            let back = Flow::new(&b_ip, port, &a_ip, a_port, TCP, rep).accepted(accept).service(&b_ip, svc);
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
        let flow = Flow::new(&scanner, srcport, NAT_PRIVATE_IP, port, protocol, bytes).accepted(accept);
        self.push(conn, None, Iface::Nat, t, flow);
    }

    /// A `NODATA` or `SKIPDATA` record: every traffic field is `-`.
    fn no_data(&mut self, conn: u64, t: i64) {
        let iface = match self.rng.below(4) {
            0 => Iface::Nat,
            1 => Iface::Lb,
            _ => Iface::Node(self.rng.below(self.world.nodes.len() as u64) as usize),
        };
        let status = if self.rng.chance(700) { "NODATA" } else { "SKIPDATA" };
        let record = FlowRecord { log_status: Some(status.to_string()), ..self.base_record(conn, iface, t, 60) };
        self.records.push(record);
    }
}
