//! Names of networks, longest prefix first: the datasource's own CIDR map
//! (`names.networks`) and AWS's published `ip-ranges.json`. Pure: text in,
//! lookups out.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;
use serde::Deserialize;

/// Values by network; a lookup finds the longest prefix holding an address.
#[derive(Debug, Clone)]
pub struct Prefixes<T> {
    v4: PrefixMap<Ipv4Net, T>,
    v6: PrefixMap<Ipv6Net, T>,
    len: usize,
}

impl<T> Default for Prefixes<T> {
    fn default() -> Self {
        Self { v4: PrefixMap::new(), v6: PrefixMap::new(), len: 0 }
    }
}

impl<T> Prefixes<T> {
    /// Sets the value of a network (its host bits cleared); returns the
    /// value it replaces.
    pub fn insert(&mut self, net: IpNet, value: T) -> Option<T> {
        let old = match net.trunc() {
            IpNet::V4(n) => self.v4.insert(n, value),
            IpNet::V6(n) => self.v6.insert(n, value),
        };
        self.len += usize::from(old.is_none());
        old
    }

    /// The value of the longest network holding `addr`.
    pub fn get(&self, addr: IpAddr) -> Option<&T> {
        match addr {
            IpAddr::V4(a) => self.v4.get_lpm(&Ipv4Net::from(a)).map(|(_, v)| v),
            IpAddr::V6(a) => match a.to_ipv4_mapped() {
                Some(v4) => self.get(IpAddr::V4(v4)),
                None => self.v6.get_lpm(&Ipv6Net::from(a)).map(|(_, v)| v),
            },
        }
    }

    /// The value of the longest network holding a textual address (`None`
    /// for a text that is not one: `-`, an empty value).
    pub fn get_text(&self, addr: &str) -> Option<&T> {
        addr.parse().ok().and_then(|a| self.get(a))
    }

    /// How many networks are held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no network is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// A CIDR map as the settings hold it: an object `{"10.20.0.0/16":
/// "office"}`, or text with one `CIDR name` per line (`#` starts a comment).
/// A network named twice is an error (which name would win is a guess).
pub fn parse_cidr_map(value: &serde_json::Value) -> Result<Prefixes<String>, String> {
    let pairs: Vec<(usize, String, String)> = match value {
        serde_json::Value::Object(map) => map
            .iter()
            .enumerate()
            .map(|(i, (k, v))| match v {
                serde_json::Value::String(s) => Ok((i + 1, k.clone(), s.clone())),
                other => Err(format!("the name of {k} must be a string, not {other}")),
            })
            .collect::<Result<_, _>>()?,
        serde_json::Value::String(text) => text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.split('#').next().unwrap_or("").trim()))
            .filter(|(_, line)| !line.is_empty())
            .map(|(i, line)| {
                let (cidr, name) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                (i, cidr.to_string(), name.trim().to_string())
            })
            .collect(),
        other => return Err(format!("must be text of `CIDR name` lines or an object, not {other}")),
    };
    let mut out = Prefixes::default();
    for (line, cidr, name) in pairs {
        let net =
            parse_net(&cidr).ok_or_else(|| format!("line {line}: `{cidr}` is not a CIDR such as 10.20.0.0/16"))?;
        if net != net.trunc() {
            return Err(format!("line {line}: `{cidr}` has host bits set; did you mean {}?", net.trunc()));
        }
        if name.is_empty() {
            return Err(format!("line {line}: {cidr} has no name"));
        }
        if name.chars().count() > 200 {
            return Err(format!("line {line}: the name of {cidr} is longer than 200 characters"));
        }
        if let Some(old) = out.insert(net, name.clone()) {
            return Err(format!("line {line}: {} is named twice ({old} and {name})", net.trunc()));
        }
    }
    Ok(out)
}

/// A network `a.b.c.d/n` (or an address alone: the host network).
fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>().ok().or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

/// What AWS says of one of its networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRange {
    /// The services using it (`S3`, `EC2`), `AMAZON` only when no other
    /// names it; several joined with `,` in order.
    pub service: String,
    /// Its region (`eu-west-1`, `GLOBAL`).
    pub region: String,
    /// Its network border group.
    pub border_group: String,
}

#[derive(Deserialize)]
struct IpRanges {
    #[serde(rename = "syncToken")]
    sync_token: String,
    prefixes: Vec<V4Prefix>,
    #[serde(default)]
    ipv6_prefixes: Vec<V6Prefix>,
}

#[derive(Deserialize)]
struct V4Prefix {
    ip_prefix: String,
    #[serde(flatten)]
    about: About,
}

#[derive(Deserialize)]
struct V6Prefix {
    ipv6_prefix: String,
    #[serde(flatten)]
    about: About,
}

#[derive(Deserialize)]
struct About {
    region: String,
    service: String,
    #[serde(default)]
    network_border_group: String,
}

/// AWS's `ip-ranges.json` (its documented format: `syncToken`,
/// `prefixes[].ip_prefix`, `ipv6_prefixes[].ipv6_prefix`, each with
/// `region`, `service`, `network_border_group`) as networks; its sync
/// token beside. A network listed under several services is named by all
/// but `AMAZON` (AWS lists every network under `AMAZON` too).
pub fn parse_ip_ranges(body: &[u8]) -> Result<(Prefixes<AwsRange>, String), String> {
    let doc: IpRanges = serde_json::from_slice(body).map_err(|e| format!("not AWS's ip-ranges.json format: {e}"))?;
    let mut by_net: std::collections::BTreeMap<IpNet, (Vec<String>, About)> = std::collections::BTreeMap::new();
    let all = doc
        .prefixes
        .into_iter()
        .map(|p| (p.ip_prefix, p.about))
        .chain(doc.ipv6_prefixes.into_iter().map(|p| (p.ipv6_prefix, p.about)));
    for (prefix, about) in all {
        let net: IpNet = prefix.parse().map_err(|_| format!("`{prefix}` is not a network such as 3.5.140.0/22"))?;
        let entry = by_net.entry(net.trunc()).or_insert_with(|| (Vec::new(), about_clone(&about)));
        if !entry.0.contains(&about.service) {
            entry.0.push(about.service.clone());
        }
        if entry.1.service == "AMAZON" && about.service != "AMAZON" {
            entry.1 = about;
        }
    }
    let mut out = Prefixes::default();
    for (net, (mut services, about)) in by_net {
        if services.len() > 1 {
            services.retain(|s| s != "AMAZON");
        }
        services.sort();
        out.insert(
            net,
            AwsRange { service: services.join(","), region: about.region, border_group: about.network_border_group },
        );
    }
    Ok((out, doc.sync_token))
}

fn about_clone(a: &About) -> About {
    About { region: a.region.clone(), service: a.service.clone(), network_border_group: a.network_border_group.clone() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_longest_prefix_names_an_address() {
        let map =
            parse_cidr_map(&json!("10.0.0.0/8 corp\n10.20.0.0/16 office # HQ\n\n2001:db8::/32 v6\n192.0.2.7 host"))
                .unwrap();
        assert_eq!(map.len(), 4);
        for (addr, want) in [
            ("10.1.2.3", Some("corp")),
            ("10.20.9.9", Some("office")),
            ("2001:db8::1", Some("v6")),
            ("::ffff:10.20.0.1", Some("office")),
            ("192.0.2.7", Some("host")),
            ("192.0.2.8", None),
            ("-", None),
        ] {
            assert_eq!(map.get_text(addr).map(String::as_str), want, "{addr}");
        }
        let object = parse_cidr_map(&json!({"10.20.0.0/16": "office"})).unwrap();
        assert_eq!(object.get_text("10.20.1.1").map(String::as_str), Some("office"));
    }

    #[test]
    fn a_bad_map_says_which_line() {
        for (bad, says) in [
            (json!("10.0.0.0/8 corp\n10.0.0.0/33 x"), "line 2: `10.0.0.0/33` is not a CIDR"),
            (json!("10.0.0.0/8"), "line 1: 10.0.0.0/8 has no name"),
            (json!("10.0.0.0/8 a\n10.0.0.0/8 b"), "line 2: 10.0.0.0/8 is named twice (a and b)"),
            (json!("10.0.0.1/8 a"), "line 1: `10.0.0.1/8` has host bits set; did you mean 10.0.0.0/8?"),
            (json!({"10.0.0.0/8": 3}), "the name of 10.0.0.0/8 must be a string"),
            (json!(7), "must be text"),
        ] {
            let got = parse_cidr_map(&bad).unwrap_err();
            assert!(got.contains(says), "{got} should say {says}");
        }
    }

    #[test]
    fn aws_ranges_name_the_specific_service_of_the_longest_prefix() {
        let body = json!({
            "syncToken": "1", "createDate": "2026-12-01-00-00-00",
            "prefixes": [
                {"ip_prefix": "52.0.0.0/10", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
                {"ip_prefix": "52.216.0.0/15", "region": "us-east-1", "service": "AMAZON", "network_border_group": "us-east-1"},
                {"ip_prefix": "52.216.0.0/15", "region": "us-east-1", "service": "S3", "network_border_group": "us-east-1"},
            ],
            "ipv6_prefixes": [
                {"ipv6_prefix": "2600:1f00::/24", "region": "GLOBAL", "service": "EC2", "network_border_group": "GLOBAL"}
            ]
        });
        let (ranges, token) = parse_ip_ranges(body.to_string().as_bytes()).unwrap();
        assert_eq!(token, "1");
        assert_eq!(ranges.get_text("52.217.1.1").unwrap().service, "S3");
        assert_eq!(ranges.get_text("52.1.1.1").unwrap().service, "AMAZON");
        assert_eq!(ranges.get_text("2600:1f00::5").unwrap().region, "GLOBAL");
        assert!(ranges.get_text("8.8.8.8").is_none());
        for bad in
            [&b"{}"[..], b"[]", br#"{"syncToken":"1","prefixes":[{"ip_prefix":"x","region":"a","service":"b"}]}"#]
        {
            assert!(parse_ip_ranges(bad).is_err());
        }
    }
}
