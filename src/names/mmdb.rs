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
    // GeoLite2 ASN, @ip-location-db.
    autonomous_system_number: Option<u64>,
    autonomous_system_organization: Option<String>,
    // IPinfo Lite.
    asn: Option<String>,
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
        let asn = entry
            .autonomous_system_number
            .map(|n| n.to_string())
            .or_else(|| entry.asn.map(|a| a.trim_start_matches("AS").to_string()))
            .filter(|a| !a.is_empty());
        Ok(Network {
            asn,
            org: entry.autonomous_system_organization.or(entry.as_name).filter(|o| !o.is_empty()),
            country: entry.country.and_then(|c| c.iso_code).or(entry.country_code).filter(|c| !c.is_empty()),
        })
    }
}
