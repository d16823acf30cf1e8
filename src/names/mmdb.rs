//! ASN, organisation and country of an address from an MMDB file (the
//! `maxminddb` crate reads it): MaxMind's GeoLite2 ASN and Country/City
//! layouts, IPinfo Lite's, and the `@ip-location-db` ASN databases' (the
//! GeoLite2 layout). Pure: bytes in, lookups out.

use std::net::IpAddr;

use serde::Deserialize;

/// An open MMDB file.
pub struct Mmdb {
    reader: maxminddb::Reader<Vec<u8>>,
}

impl std::fmt::Debug for Mmdb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mmdb({})", self.reader.metadata().database_type)
    }
}

/// What one address is, as far as the file says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Network {
    /// The AS number, as digits (`16509`).
    pub asn: Option<String>,
    /// The AS's organisation.
    pub org: Option<String>,
    /// The ISO 3166 country code.
    pub country: Option<String>,
}

#[derive(Deserialize, Default)]
struct Entry {
    // GeoLite2 ASN, @ip-location-db: an unsigned number of any width
    // (read as any value: the decoder wants the exact width otherwise).
    autonomous_system_number: Option<serde_json::Value>,
    autonomous_system_organization: Option<String>,
    // IPinfo Lite: `AS15169`.
    asn: Option<serde_json::Value>,
    as_name: Option<String>,
    country_code: Option<String>,
    // GeoLite2 Country and City.
    country: Option<Country>,
}

#[derive(Deserialize)]
struct Country {
    iso_code: Option<String>,
}

impl Mmdb {
    /// The file's bytes as a database; what is wrong with them otherwise.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, String> {
        let reader = maxminddb::Reader::from_source(bytes).map_err(|e| format!("not an MMDB file: {e}"))?;
        Ok(Self { reader })
    }

    /// The database type its metadata names (`GeoLite2-ASN`).
    pub fn kind(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// What the file says of a textual address (nothing for a text that is
    /// not an address, or one it does not hold).
    pub fn lookup(&self, addr: &str) -> Result<Network, String> {
        let Ok(ip) = addr.parse::<IpAddr>() else { return Ok(Network::default()) };
        let found = self.reader.lookup(ip).map_err(|e| format!("lookup of {addr}: {e}"))?;
        let entry: Entry = found.decode().map_err(|e| format!("the record of {addr}: {e}"))?.unwrap_or_default();
        let text = |v: serde_json::Value| match v {
            serde_json::Value::String(s) => s.trim_start_matches("AS").to_string(),
            other => other.to_string(),
        };
        let asn = entry.autonomous_system_number.or(entry.asn).map(text).filter(|a| !a.is_empty());
        Ok(Network {
            asn,
            org: entry.autonomous_system_organization.or(entry.as_name).filter(|o| !o.is_empty()),
            country: entry.country.and_then(|c| c.iso_code).or(entry.country_code).filter(|c| !c.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built by `tests/names/make_mmdb.py` with PyPI's mmdb-writer.
    fn db(name: &str) -> Mmdb {
        let path = format!("{}/tests/names/{name}", env!("CARGO_MANIFEST_DIR"));
        Mmdb::from_bytes(std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn asn_org_and_country_in_each_layout() {
        let asn = db("asn.mmdb");
        assert_eq!(asn.kind(), "GeoLite2-ASN");
        let n = asn.lookup("52.217.3.4").unwrap();
        assert_eq!((n.asn.as_deref(), n.org.as_deref()), (Some("16509"), Some("AMAZON-02")), "the longest prefix");
        assert_eq!(asn.lookup("52.1.1.1").unwrap().asn.as_deref(), Some("64500"));
        assert_eq!(asn.lookup("2600:1f00::9").unwrap().org.as_deref(), Some("AMAZON-02"));
        assert_eq!(asn.lookup("-").unwrap(), Network::default());
        let country = db("country.mmdb");
        assert_eq!(country.lookup("52.1.1.1").unwrap().country.as_deref(), Some("IE"));
        assert_eq!(country.lookup("200.1.1.1").unwrap().country.as_deref(), Some("US"));
        assert_eq!(country.lookup("2001:db8::1").unwrap(), Network::default());
        let lite = db("ipinfo-lite.mmdb").lookup("8.8.8.8").unwrap();
        assert_eq!(
            (lite.asn.as_deref(), lite.org.as_deref(), lite.country.as_deref()),
            (Some("15169"), Some("Google LLC"), Some("US"))
        );
        assert!(Mmdb::from_bytes(b"not a database".to_vec()).unwrap_err().contains("not an MMDB file"));
    }
}
