//! Rankings in parts: when Loki's `max_query_series` refuses a ranking
//! whole, its first `groupBy` field's key space is cut into disjoint parts,
//! each ranked on its own; the parts add up to the whole exactly.

use ipnet::IpNet;

use super::merge::count;
use super::{Answer, LogQl, LokiRequest, NO_VALUE};
use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::{Filter, FlowQuery};
use crate::plan::Step;

/// The most parts a ranking is split into when Loki's `max_query_series`
/// refuses it whole (each part is one request).
pub const MAX_PARTS: usize = 64;

/// A part of a ranking's key space, on the first `groupBy` field: the parts
/// a field starts with ([`KeyPart::whole`]) are disjoint and cover every
/// value, and so are the halves of [`KeyPart::split`], so rankings of the
/// parts add up to the whole ranking exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPart {
    /// Addresses in this network (`ip("a.b.c.d/n")`).
    Net(IpNet),
    /// Numbers in this inclusive range.
    Numbers(u64, u64),
    /// No value (`-` or absent).
    NoValue,
}

impl KeyPart {
    /// The whole key space of a canonical field as disjoint parts: all of
    /// IPv4, all of IPv6 and no value for addresses; the field's numbers and
    /// no value for numbers. `Err` says why a field cannot be partitioned.
    pub fn whole(field: &str) -> Result<Vec<KeyPart>, String> {
        use crate::schema::FieldType;
        match crate::schema::field_type(field) {
            Some(FieldType::Ip) => Ok(vec![
                KeyPart::Net("0.0.0.0/0".parse().expect("a network")),
                KeyPart::Net("::/0".parse().expect("a network")),
                KeyPart::NoValue,
            ]),
            Some(FieldType::Number) => {
                let max = match field {
                    "srcport" | "dstport" => 65_535,
                    "protocol" => 255,
                    _ => u64::MAX,
                };
                Ok(vec![KeyPart::Numbers(0, max), KeyPart::NoValue])
            }
            _ => Err(format!(
                "`{field}` is neither an address nor a number, so flowlens cannot split its ranking into disjoint \
                 ranges; put an address or number field first in groupBy"
            )),
        }
    }

    /// The two disjoint halves that cover this part, or `None` when it is a
    /// single value (or no value).
    pub fn split(&self) -> Option<[KeyPart; 2]> {
        match self {
            KeyPart::Net(net) if net.prefix_len() < net.max_prefix_len() => {
                let mut halves = net.subnets(net.prefix_len() + 1).ok()?;
                Some([KeyPart::Net(halves.next()?), KeyPart::Net(halves.next()?)])
            }
            KeyPart::Numbers(lo, hi) if lo < hi => {
                let mid = lo + (hi - lo) / 2;
                Some([KeyPart::Numbers(*lo, mid), KeyPart::Numbers(mid + 1, *hi)])
            }
            _ => None,
        }
    }

    /// The part as a filter on `field`: `ip()`, a numeric range, or no value.
    pub fn filter(&self, field: &str) -> Filter {
        match self {
            KeyPart::Net(net) => Filter::Cidr(field.to_string(), *net),
            KeyPart::Numbers(lo, hi) => Filter::Range(field.to_string(), *lo, *hi),
            KeyPart::NoValue => Filter::In(field.to_string(), vec![NO_VALUE.to_string()]),
        }
    }
}

impl std::fmt::Display for KeyPart {
    /// `ip("10.0.0.0/8")`, `1024..=2047`, `no value`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyPart::Net(net) => write!(f, "ip(\"{net}\")"),
            KeyPart::Numbers(lo, hi) => write!(f, "{lo}..={hi}"),
            KeyPart::NoValue => write!(f, "no value"),
        }
    }
}

impl LogQl {
    /// The requests of a step restricted to one part of `field`'s key space
    /// (the part as one more filter).
    pub fn part_requests(
        &self,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        field: &str,
        part: &KeyPart,
    ) -> Result<Vec<LokiRequest>, QueryError> {
        let mut q = q.clone();
        q.filters.push(part.filter(field));
        self.requests(target, &q, step)
    }
}

/// The sum of every point of every series answer, before any ranking cut
/// (a partitioned ranking's parts must add up to the total).
pub fn answered_sum(answers: &[(LokiRequest, Answer)]) -> u64 {
    answers
        .iter()
        .flat_map(|(_, a)| match a {
            Answer::Series(series) => series.iter().flat_map(|s| s.points.iter().map(|p| count(p.1))).collect(),
            Answer::Streams(_) => Vec::new(),
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_parts_are_disjoint_halves_that_cover_the_key_space() {
        let whole = KeyPart::whole("pkt_srcaddr").unwrap();
        assert_eq!(
            whole.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["ip(\"0.0.0.0/0\")", "ip(\"::/0\")", "no value"]
        );
        let [a, b] = whole[0].split().unwrap();
        assert_eq!((a.to_string(), b.to_string()), ("ip(\"0.0.0.0/1\")".into(), "ip(\"128.0.0.0/1\")".into()));
        assert_eq!(KeyPart::Net("10.0.0.7/32".parse().unwrap()).split(), None);
        assert_eq!(KeyPart::NoValue.split(), None);
        assert_eq!(KeyPart::whole("dstport").unwrap(), [KeyPart::Numbers(0, 65_535), KeyPart::NoValue]);
        assert_eq!(
            KeyPart::Numbers(0, 65_535).split(),
            Some([KeyPart::Numbers(0, 32_767), KeyPart::Numbers(32_768, 65_535)])
        );
        assert_eq!(KeyPart::Numbers(7, 7).split(), None);
        assert!(KeyPart::whole("action").unwrap_err().contains("`action` is neither an address nor a number"));
    }
}
