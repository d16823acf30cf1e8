//! One flow-log record and its rendering in any record format.

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
            let field = rest.find("${").and_then(|open| Some((open, rest[open..].find('}')? + open)));
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
                    Some(value) => write!(line, "{value}").expect("writing to a String cannot fail"),
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
