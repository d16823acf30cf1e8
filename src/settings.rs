//! Datasource settings: Grafana's instance settings (URL, basic auth, jsonData,
//! decrypted secureJsonData) validated once into [`Settings`]. Pure. Secrets
//! live in [`Secret`], whose `Debug` never shows them.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;

use crate::schema::{RecordFormat, RecordSchema};
use crate::selector::StreamSelector;

/// The backend a datasource names when it names none.
pub const DEFAULT_BACKEND: &str = "victorialogs";

/// A secret value from secureJsonData. Printing it shows `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// A secret from its value.
    pub(crate) fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// How requests to the backend authenticate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// No authentication.
    None,
    /// HTTP basic auth.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: Secret,
    },
    /// `Authorization: Bearer <token>`.
    Bearer(Secret),
}

/// A data link on a table column or series field.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct DataLink {
    /// Canonical field the link is on (`pkt_srcaddr`).
    pub field: String,
    /// Link title.
    pub title: String,
    /// URL template; Grafana expands `${__value.raw}` etc.
    pub url: String,
}

/// Validated datasource settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The datasource's uid in Grafana (empty when unknown): the target of
    /// its own drill-down links.
    pub uid: String,
    /// Its name in Grafana (empty when unknown).
    pub name: String,
    /// Base URL of the backend (single node, `vlselect`, or Loki's query frontend).
    pub url: url::Url,
    /// The backend's name in the registry (`backends::open`), lowercase.
    pub backend: String,
    /// jsonData as saved, for the settings a backend reads itself (its
    /// own section, `backends/<name>/`).
    pub json_data: serde_json::Value,
    /// Authentication.
    pub auth: Auth,
    /// Extra headers sent with every request (values are secrets).
    pub headers: Vec<(String, Secret)>,
    /// Skip TLS certificate verification.
    pub tls_skip_verify: bool,
    /// Extra CA certificate (PEM).
    pub tls_ca_cert: Option<Secret>,
    /// Timeout of one query: all its backend requests, their waits for a
    /// request slot and their retries.
    pub timeout: Duration,
    /// Most backend requests this datasource runs at once
    /// ([`DEFAULT_MAX_CONCURRENT_REQUESTS`] unless set).
    pub max_concurrent_requests: usize,
    /// Which streams hold flow records.
    pub stream: StreamSelector,
    /// Where record fields live.
    pub schema: RecordSchema,
    /// The inside networks (pod subnets); `direction` is relative to them.
    pub inside: Vec<IpNet>,
    /// Default interface-id filter (the NAT gateway ENI).
    pub interface_id: Option<String>,
    /// The interface's own addresses (a NAT gateway's private IPs), neither
    /// inside nor outside; `None` = detected from the records.
    pub nat_addresses: Option<Vec<std::net::IpAddr>>,
    /// Data links by field.
    pub data_links: Vec<DataLink>,
    /// Byte stats and tables get a cost column priced at `prices.nat`
    /// (`costColumn`; earlier versions' `costPerGb`, see
    /// [`Settings::from_instance`]).
    pub cost_column: bool,
    /// Prices per GB (10^9 bytes) for `metric: cost` (and, NAT's, for the
    /// cost column).
    pub prices: Prices,
    /// Most bytes of settled per-bucket answers kept for reuse
    /// (`cacheMaxMiB`, [`DEFAULT_CACHE_MIB`] MiB unless set; 0 = no cache).
    pub cache_max_bytes: usize,
    /// A bucket is settled, and may be reused, once it ended this many ms
    /// before now (`cacheSettleMinutes`, [`DEFAULT_CACHE_SETTLE_MINUTES`]
    /// unless set): flow records reach the store minutes after their time.
    pub cache_settle_ms: i64,
    /// How long the first of a refresh's questions that one scan can answer
    /// waits for the others (`coalesceWindowMs`, [`DEFAULT_COALESCE_MS`]
    /// unless set; 0 = every question its own scan).
    pub coalesce_window: Duration,
    /// Most bytes one query step may hold of its backend's answers (bodies
    /// being read, parsed answers, merged outputs, log lines):
    /// `maxQueryMemoryMiB`, [`DEFAULT_QUERY_MEMORY_MIB`] MiB unless set.
    pub max_query_memory_bytes: usize,
    /// secureJsonData values of the settings sections (keys starting
    /// `rollups`), for the section's own reading (`rollups::settings`).
    pub section_secrets: BTreeMap<String, Secret>,
}

/// Prices per GB (10^9 bytes) that `metric: cost` multiplies bytes by, one
/// per `price` a query names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prices {
    /// NAT gateway data processing (`natPricePerGb`, [`DEFAULT_NAT_PRICE_PER_GB`] unless set).
    pub nat: f64,
    /// Data transfer out to the internet (`egressPricePerGb`), if set.
    pub egress: Option<f64>,
    /// Data transfer between Availability Zones (`crossAzPricePerGb`), if set.
    pub cross_az: Option<f64>,
}

/// Default of `natPricePerGb`: AWS's NAT gateway data processing price in
/// us-east-1, USD per GB.
pub const DEFAULT_NAT_PRICE_PER_GB: f64 = 0.045;

/// Default of `maxQueryMemoryMiB`.
pub const DEFAULT_QUERY_MEMORY_MIB: usize = 256;
/// Largest `maxQueryMemoryMiB` accepted.
pub const MAX_QUERY_MEMORY_MIB: usize = 16_384;

/// Default of `cacheMaxMiB`.
pub const DEFAULT_CACHE_MIB: usize = 16;
/// Largest `cacheMaxMiB` accepted.
pub const MAX_CACHE_MIB: usize = 4_096;
/// Default of `cacheSettleMinutes`: flow logs are published every 1 or 10
/// minutes per interface and delivered to S3 about every 5 minutes, then
/// shipped (Lambda Promtail): records of a minute are complete in the store
/// well within half an hour.
pub const DEFAULT_CACHE_SETTLE_MINUTES: i64 = 30;
/// Default of `coalesceWindowMs`: Grafana sends a dashboard's panels within
/// a few milliseconds.
pub const DEFAULT_COALESCE_MS: i64 = 10;
/// Largest `coalesceWindowMs` accepted.
pub const MAX_COALESCE_MS: i64 = 1_000;
/// Largest `cacheSettleMinutes` accepted (a week).
pub const MAX_CACHE_SETTLE_MINUTES: i64 = 7 * 24 * 60;

/// Default of `maxConcurrentRequests`: VictoriaLogs' own default
/// `-search.maxConcurrentRequests` on a 2-core server (2 x cores up to 4
/// cores, then cores, at most 16). One query already runs on every core of
/// the server, so more at once only queue there (and are refused with 503
/// after its `-search.maxQueueDuration`, 10 s); a dashboard's panels queue
/// in the plugin instead, within their timeout.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 4;

/// Largest `maxConcurrentRequests` accepted.
pub const MAX_CONCURRENT_REQUESTS: usize = 1_024;

/// jsonData as the frontend writes it. Lenient: unknown keys ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct JsonData {
    backend: Option<String>,
    stream_selector: Option<String>,
    record_mode: Option<String>,
    record_format: Option<String>,
    field_mapping: BTreeMap<String, String>,
    inside_cidrs: Vec<String>,
    interface_id: Option<String>,
    nat_addresses: Option<Vec<String>>,
    timeout_seconds: Option<f64>,
    max_concurrent_requests: Option<f64>,
    tls_skip_verify: bool,
    bearer_auth: bool,
    data_links: Vec<DataLink>,
    /// Earlier versions' cost column price: read as `costColumn: true` and,
    /// when `natPricePerGb` is unset, as `natPricePerGb`.
    cost_per_gb: Option<f64>,
    cost_column: Option<bool>,
    nat_price_per_gb: Option<f64>,
    egress_price_per_gb: Option<f64>,
    cross_az_price_per_gb: Option<f64>,
    #[serde(rename = "cacheMaxMiB")]
    cache_max_mib: Option<f64>,
    cache_settle_minutes: Option<f64>,
    coalesce_window_ms: Option<f64>,
    #[serde(rename = "maxQueryMemoryMiB")]
    max_query_memory_mib: Option<f64>,
    #[serde(flatten)]
    rest: HashMap<String, serde_json::Value>,
}

/// What Grafana hands a plugin for one datasource instance.
#[derive(Debug, Default, Clone)]
pub struct InstanceSettings<'a> {
    /// Datasource URL.
    pub url: &'a str,
    /// Grafana's basic-auth toggle.
    pub basic_auth_enabled: bool,
    /// Grafana's basic-auth user.
    pub basic_auth_user: &'a str,
    /// Raw jsonData.
    pub json_data: &'a [u8],
    /// Decrypted secureJsonData.
    pub secure: Option<&'a HashMap<String, String>>,
}

/// A setting that is invalid, named and explained.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("datasource settings: {0}")]
pub struct SettingsError(pub String);

impl Settings {
    /// Validates Grafana's instance settings.
    pub fn from_instance(i: &InstanceSettings<'_>) -> Result<Self, SettingsError> {
        let err = |m: String| SettingsError(m);
        let json_data: serde_json::Value = if i.json_data.is_empty() {
            serde_json::Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_slice(i.json_data).map_err(|e| err(format!("jsonData is not valid: {e}")))?
        };
        let jd = JsonData::deserialize(&json_data).map_err(|e| err(format!("jsonData is not valid: {e}")))?;
        let empty = HashMap::new();
        let secure = i.secure.unwrap_or(&empty);
        let secret = |k: &str| secure.get(k).filter(|v| !v.is_empty()).map(|v| Secret(v.clone()));

        let url = parse_url(i.url)?;
        let auth = if i.basic_auth_enabled {
            if i.basic_auth_user.is_empty() {
                return Err(err("basic auth is enabled but the user is empty".into()));
            }
            Auth::Basic {
                user: i.basic_auth_user.to_string(),
                password: secret("basicAuthPassword").unwrap_or(Secret(String::new())),
            }
        } else if jd.bearer_auth {
            Auth::Bearer(secret("bearerToken").ok_or_else(|| err("bearer auth is enabled but no token is set".into()))?)
        } else {
            Auth::None
        };
        let headers = header_settings(&jd.rest, secure)?;
        let section_secrets = secure
            .iter()
            .filter(|(k, v)| (k.starts_with("rollups") || k.starts_with("names")) && !v.is_empty())
            .map(|(k, v)| (k.clone(), Secret(v.clone())))
            .collect();
        let timeout = match jd.timeout_seconds {
            None => Duration::from_secs(60),
            Some(t) if t > 0.0 && t <= 3600.0 => Duration::from_secs_f64(t),
            Some(t) => return Err(err(format!("timeoutSeconds {t} must be between 0 and 3600"))),
        };
        let max_concurrent_requests = match jd.max_concurrent_requests {
            None => DEFAULT_MAX_CONCURRENT_REQUESTS,
            Some(n) if n.fract() == 0.0 && (1.0..=MAX_CONCURRENT_REQUESTS as f64).contains(&n) => n as usize,
            Some(n) => {
                return Err(err(format!(
                    "maxConcurrentRequests {n} must be a whole number from 1 to {MAX_CONCURRENT_REQUESTS} \
                     (default {DEFAULT_MAX_CONCURRENT_REQUESTS})"
                )))
            }
        };
        let stream =
            StreamSelector::parse(jd.stream_selector.as_deref().unwrap_or("")).map_err(|e| err(e.to_string()))?;
        let schema = match jd.record_mode.as_deref().unwrap_or("raw") {
            "raw" => RecordSchema::Raw(match jd.record_format.as_deref().map(str::trim) {
                None | Some("") => RecordFormat::default(),
                Some(f) => RecordFormat::parse(f).map_err(|e| err(e.to_string()))?,
            }),
            "fields" => {
                for (canonical, log_field) in &jd.field_mapping {
                    if crate::schema::field_type(canonical).is_none() {
                        return Err(err(format!("fieldMapping: `{canonical}` is not a flow-log field")));
                    }
                    if log_field.trim().is_empty() {
                        return Err(err(format!("fieldMapping: `{canonical}` maps to an empty field name")));
                    }
                    if let Some(why) = crate::schema::unusable_log_field(log_field) {
                        return Err(err(format!(
                            "fieldMapping: `{canonical}` maps to `{log_field}`, which queries cannot address ({why}); rename that field at ingest"
                        )));
                    }
                }
                RecordSchema::Fields(jd.field_mapping.clone())
            }
            other => return Err(err(format!("recordMode `{other}` must be `raw` or `fields`"))),
        };
        let inside = jd
            .inside_cidrs
            .iter()
            .map(|c| parse_cidr(c).map_err(|e| err(format!("insideCidrs: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let nat_addresses = jd
            .nat_addresses
            .as_ref()
            .map(|list| {
                list.iter()
                    .map(|a| {
                        a.trim()
                            .parse::<std::net::IpAddr>()
                            .map_err(|_| err(format!("natAddresses: `{a}` is not an IP address such as 10.0.0.57")))
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        for link in &jd.data_links {
            if !schema.has(&link.field) {
                return Err(err(format!("dataLinks: `{}` is not a field of the records", link.field)));
            }
        }
        let price = |name: &str, v: Option<f64>| match v {
            Some(c) if !(c.is_finite() && c >= 0.0) => {
                Err(err(format!("{name} {c} must be a non-negative number (a price in USD per GB)")))
            }
            v => Ok(v),
        };
        // One NAT price: earlier versions priced the cost column with
        // `costPerGb`, apart from `natPricePerGb`. A saved `costPerGb` turns
        // the column on and is the NAT price unless `natPricePerGb` is set
        // too (then that wins, for the column as well).
        let legacy_cost = price("costPerGb", jd.cost_per_gb)?;
        let cost_column = jd.cost_column.unwrap_or(legacy_cost.is_some());
        let prices = Prices {
            nat: price("natPricePerGb", jd.nat_price_per_gb)?.or(legacy_cost).unwrap_or(DEFAULT_NAT_PRICE_PER_GB),
            egress: price("egressPricePerGb", jd.egress_price_per_gb)?,
            cross_az: price("crossAzPricePerGb", jd.cross_az_price_per_gb)?,
        };
        let whole = |name: &str, v: Option<f64>, default: i64, max: i64| match v {
            None => Ok(default),
            Some(n) if n.fract() == 0.0 && (0.0..=max as f64).contains(&n) => Ok(n as i64),
            Some(n) => Err(err(format!("{name} {n} must be a whole number from 0 to {max} (default {default})"))),
        };
        let cache_mib = whole("cacheMaxMiB", jd.cache_max_mib, DEFAULT_CACHE_MIB as i64, MAX_CACHE_MIB as i64)?;
        let settle_minutes = whole(
            "cacheSettleMinutes",
            jd.cache_settle_minutes,
            DEFAULT_CACHE_SETTLE_MINUTES,
            MAX_CACHE_SETTLE_MINUTES,
        )?;
        let query_mib = whole(
            "maxQueryMemoryMiB",
            jd.max_query_memory_mib,
            DEFAULT_QUERY_MEMORY_MIB as i64,
            MAX_QUERY_MEMORY_MIB as i64,
        )?;
        if query_mib < 1 {
            return Err(err(format!(
                "maxQueryMemoryMiB 0 must be a whole number from 1 to {MAX_QUERY_MEMORY_MIB} (default {DEFAULT_QUERY_MEMORY_MIB})"
            )));
        }
        let coalesce_ms = whole("coalesceWindowMs", jd.coalesce_window_ms, DEFAULT_COALESCE_MS, MAX_COALESCE_MS)?;
        Ok(Self {
            uid: String::new(),
            name: String::new(),
            url,
            backend: jd
                .backend
                .as_deref()
                .map(str::trim)
                .filter(|b| !b.is_empty())
                .unwrap_or(DEFAULT_BACKEND)
                .to_ascii_lowercase(),
            json_data,
            auth,
            headers,
            tls_skip_verify: jd.tls_skip_verify,
            tls_ca_cert: secret("tlsCACert"),
            timeout,
            max_concurrent_requests,
            stream,
            schema,
            inside,
            interface_id: jd.interface_id.map(|s| s.trim().to_string()).filter(|s| !s.is_empty()),
            nat_addresses,
            data_links: jd.data_links,
            cost_column,
            prices,
            cache_max_bytes: cache_mib as usize * (1 << 20),
            max_query_memory_bytes: query_mib as usize * (1 << 20),
            section_secrets,
            cache_settle_ms: settle_minutes * 60_000,
            coalesce_window: Duration::from_millis(coalesce_ms as u64),
        })
    }
}

fn parse_url(raw: &str) -> Result<url::Url, SettingsError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(SettingsError(
            "the URL is empty; set it to the VictoriaLogs or Loki address, e.g. http://localhost:9428".into(),
        ));
    }
    // Quoted without credentials: a URL that fails to parse may still hold them.
    let shown = without_userinfo(raw);
    let url = url::Url::parse(raw).map_err(|e| SettingsError(format!("the URL `{shown}` is not valid: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SettingsError(format!("the URL `{shown}` must start with http:// or https://")));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SettingsError("the URL must not contain credentials; use basic auth instead".into()));
    }
    Ok(url)
}

/// A URL as text for messages, with what may be its user and password
/// replaced by `<redacted>`: read by hand, since it may not parse, and
/// cautiously (a password may hold `/`, `?` or `#`), everything between the
/// scheme and the last `@`.
fn without_userinfo(raw: &str) -> String {
    let start = raw.find("://").map_or(0, |i| i + 3);
    match raw[start..].rfind('@') {
        Some(at) => format!("{}<redacted>{}", &raw[..start], &raw[start + at..]),
        None => raw.to_string(),
    }
}

/// Grafana's custom-header convention: `httpHeaderName1` in jsonData,
/// `httpHeaderValue1` in secureJsonData.
fn header_settings(
    rest: &HashMap<String, serde_json::Value>,
    secure: &HashMap<String, String>,
) -> Result<Vec<(String, Secret)>, SettingsError> {
    let mut names: Vec<(u32, String)> = rest
        .iter()
        .filter_map(|(k, v)| {
            let n = k.strip_prefix("httpHeaderName")?.parse().ok()?;
            Some((n, v.as_str()?.trim().to_string()))
        })
        .filter(|(_, name)| !name.is_empty())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|(n, name)| {
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| SettingsError(format!("httpHeaderName{n} `{name}` is not a valid header name")))?;
            let value = secure.get(&format!("httpHeaderValue{n}")).cloned().unwrap_or_default();
            // Never quoted: the value is a secret.
            if reqwest::header::HeaderValue::from_str(&value).is_err() {
                return Err(SettingsError(format!(
                    "httpHeaderValue{n}, the value of header `{name}`, contains a line break or another control \
                     character; a header value is one line of text"
                )));
            }
            Ok((name, Secret(value)))
        })
        .collect()
}

/// Parses a CIDR (`10.0.32.0/20`) or a bare address (a /32 or /128).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        if net.trunc() != net {
            return Err(format!("`{text}` has host bits set; did you mean {}?", net.trunc()));
        }
        return Ok(net);
    }
    text.parse::<std::net::IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("`{text}` is not a CIDR such as 10.0.32.0/20"))
}

#[cfg(test)]
mod tests;
