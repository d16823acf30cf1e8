//! The names' settings, jsonData's `names` section:
//!
//! ```json
//! "names": {"networks": "10.20.0.0/16 office\n192.168.0.0/16 vpn",
//!           "awsIpRanges": "/var/lib/flowlens/ip-ranges.json",
//!           "mmdb": "/var/lib/flowlens/GeoLite2-ASN.mmdb, /var/lib/flowlens/GeoLite2-Country.mmdb",
//!           "kubernetes": {"url": "http://victoriametrics:8428", "resolution": "1m"}}
//! ```
//!
//! `kubernetes` without a `url` reads the rollup store (`rollups.url` and
//! its credentials); its own credentials are `kubernetes.basicAuthUser`
//! with secureJsonData `namesBasicAuthPassword`, or `namesBearerToken`.
//! Each source is read on its own: a problem with one is that source's
//! (Save & test says it, its names show addresses), never the datasource's.

use serde_json::Value;

use crate::settings::{Auth, Secret, Settings};

/// Default of `names.kubernetes.resolution`.
pub const DEFAULT_RESOLUTION_MS: i64 = 60_000;

/// The `names` section, each source as read or what is wrong with it.
#[derive(Debug, Clone, Default)]
pub struct NamesSettings {
    /// `networks`: the CIDR map's JSON value.
    pub networks: Option<Value>,
    /// `awsIpRanges`: the file.
    pub aws_ip_ranges: Option<String>,
    /// `mmdb`: the files, in lookup order.
    pub mmdb: Vec<String>,
    /// `kubernetes`: the store of `kube_pod_info`.
    pub kubernetes: Option<Result<KubeStore, String>>,
    /// A section that is not an object, or a key of the wrong type.
    pub error: Option<String>,
}

/// Where `kube_pod_info` is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeStore {
    /// The store's base URL.
    pub url: url::Url,
    /// Its authentication.
    pub auth: Auth,
    /// The buckets in which an address is a pod's.
    pub resolution_ms: i64,
}

impl NamesSettings {
    /// The datasource's `names` section.
    pub fn of(settings: &Settings) -> Self {
        let secret = |k: &str| settings.section_secrets.get(k).cloned();
        Self::read(&settings.json_data, &secret, &|| {
            crate::rollups::RollupSettings::of(settings).ok().flatten().map(|r| (r.url, r.auth))
        })
    }

    fn read(
        json_data: &Value,
        secret: &dyn Fn(&str) -> Option<Secret>,
        rollups: &dyn Fn() -> Option<(url::Url, Auth)>,
    ) -> Self {
        let mut out = Self::default();
        let Some(section) = json_data.get("names").filter(|v| !v.is_null()) else { return out };
        let Some(section) = section.as_object() else {
            out.error = Some("names must be an object such as {\"awsIpRanges\": \"/path/ip-ranges.json\"}".into());
            return out;
        };
        let text = |key: &str| text(section, "names", key);
        let mut errors = Vec::new();
        out.networks = section.get("networks").filter(|v| !v.is_null() && *v != "").cloned();
        match text("awsIpRanges") {
            Ok(v) => out.aws_ip_ranges = v,
            Err(e) => errors.push(e),
        }
        match text("mmdb") {
            Ok(v) => {
                out.mmdb = v
                    .unwrap_or_default()
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from)
                    .collect()
            }
            Err(e) => errors.push(e),
        }
        out.kubernetes = match section.get("kubernetes") {
            None | Some(Value::Null) | Some(Value::Bool(false)) => None,
            Some(k) => Some(kube_store(k, secret, rollups)),
        };
        out.error = (!errors.is_empty()).then(|| errors.join("; "));
        out
    }
}

/// A key of `section` (named `path` in messages) that holds text, if set.
fn text(section: &serde_json::Map<String, Value>, path: &str, key: &str) -> Result<Option<String>, String> {
    match section.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(other) => Err(format!("{path}.{key} must be a string, not {other}")),
    }
}

/// The `kubernetes` value: `true`, or an object of `url`, `resolution`,
/// `basicAuthUser`.
fn kube_store(
    value: &Value,
    secret: &dyn Fn(&str) -> Option<Secret>,
    rollups: &dyn Fn() -> Option<(url::Url, Auth)>,
) -> Result<KubeStore, String> {
    let empty = serde_json::Map::new();
    let section = match value {
        Value::Bool(true) => &empty,
        Value::Object(o) => o,
        other => {
            return Err(format!(
                "names.kubernetes must be an object such as {{\"url\": \"http://vm:8428\"}}, not {other}"
            ))
        }
    };
    let text = |key: &str| text(section, "names.kubernetes", key);
    let resolution_ms = match text("resolution")? {
        None => DEFAULT_RESOLUTION_MS,
        Some(r) => crate::rollups::settings::resolution_ms(&r).ok_or_else(|| {
            format!("names.kubernetes.resolution `{r}` must be whole seconds up to a day, such as 1m")
        })?,
    };
    let (url, auth) = match text("url")? {
        None => rollups().ok_or_else(|| {
            "names.kubernetes has no url and there is no rollup store (rollups.url) to read kube_pod_info from"
                .to_string()
        })?,
        Some(raw) => {
            let url = url::Url::parse(&raw)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host() && u.username().is_empty())
                .ok_or_else(|| {
                    format!(
                        "names.kubernetes.url `{raw}` must be an http(s) URL without credentials, such as \
                         http://victoriametrics:8428"
                    )
                })?;
            let auth = match (text("basicAuthUser")?, secret("namesBearerToken")) {
                (Some(user), _) => Auth::Basic {
                    user,
                    password: secret("namesBasicAuthPassword").unwrap_or_else(|| Secret::new(String::new())),
                },
                (None, Some(token)) => Auth::Bearer(token),
                (None, None) => Auth::None,
            };
            (url, auth)
        }
    };
    Ok(KubeStore { url, auth, resolution_ms })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(v: Value) -> NamesSettings {
        let rollups = || Some((url::Url::parse("http://vm:8428").unwrap(), Auth::None));
        NamesSettings::read(&v, &|_| None, &rollups)
    }

    #[test]
    fn each_source_is_read_on_its_own() {
        let s = of(json!({"names": {"awsIpRanges": " /a.json ", "mmdb": "/a.mmdb, /b.mmdb", "kubernetes": true}}));
        assert_eq!(s.aws_ip_ranges.as_deref(), Some("/a.json"));
        assert_eq!(s.mmdb, vec!["/a.mmdb", "/b.mmdb"]);
        let k = s.kubernetes.unwrap().unwrap();
        assert_eq!((k.url.as_str(), k.resolution_ms), ("http://vm:8428/", 60_000));
        assert!(of(json!({})).kubernetes.is_none());
        let k = of(json!({"names": {"kubernetes": {"url": "https://prom", "resolution": "30s"}}})).kubernetes;
        assert_eq!(k.unwrap().unwrap().resolution_ms, 30_000);
        for (bad, says) in [
            (json!({"names": {"kubernetes": {"url": "prom:9090"}}}), "names.kubernetes.url `prom:9090`"),
            (json!({"names": {"kubernetes": {"resolution": "1w"}}}), "names.kubernetes.resolution `1w`"),
            (json!({"names": {"kubernetes": 3}}), "names.kubernetes must be an object"),
        ] {
            let got = of(bad).kubernetes.unwrap().unwrap_err();
            assert!(got.contains(says), "{got} should say {says}");
        }
        assert!(of(json!({"names": {"awsIpRanges": 3}})).error.unwrap().contains("names.awsIpRanges must be a string"));
        assert!(of(json!({"names": []})).error.unwrap().contains("names must be an object"));
        let no_store = NamesSettings::read(&json!({"names": {"kubernetes": {}}}), &|_| None, &|| None);
        assert!(no_store.kubernetes.unwrap().unwrap_err().contains("no rollup store"));
    }
}
