//! The rollup store's settings, jsonData's `rollups` section:
//!
//! ```json
//! "rollups": {"url": "http://victoriametrics:8428", "resolution": "1m", "stamps": "end",
//!             "basicAuthUser": "reader"}
//! ```
//!
//! with secureJsonData `rollupsBasicAuthPassword` or `rollupsBearerToken`.
//! No `url`: no rollups. TLS settings are the datasource's.

use serde_json::Value;

use crate::settings::{Auth, Secret, SettingsError};

/// Default of `rollups.resolution`: the rules' evaluation interval.
pub const DEFAULT_RESOLUTION_MS: i64 = 60_000;

/// How the rule engine stamps an interval's sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Stamps {
    /// At the interval's end (vmalert evaluating live, the Loki ruler).
    #[default]
    End,
    /// At the interval's start (vmalert's `-replay.timeFrom` backfill).
    Start,
}

/// A datasource's rollup store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RollupSettings {
    /// The store's base URL (its `/api/v1/query_range` is under it).
    pub url: url::Url,
    /// Its authentication.
    pub auth: Auth,
    /// The rules' evaluation interval in ms.
    pub resolution_ms: i64,
    /// How the rules' sums are stamped.
    pub stamps: Stamps,
}

impl RollupSettings {
    /// The `rollups` section of jsonData; `secret` reads secureJsonData.
    pub fn of(json_data: &Value, secret: &dyn Fn(&str) -> Option<Secret>) -> Result<Option<Self>, SettingsError> {
        let err = |m: String| SettingsError(format!("rollups.{m}"));
        let Some(section) = json_data.get("rollups").filter(|v| !v.is_null()) else {
            return Ok(None);
        };
        let Some(section) = section.as_object() else {
            return Err(SettingsError("rollups must be an object such as {\"url\": \"http://vm:8428\"}".into()));
        };
        let text = |key: &str| -> Result<Option<String>, SettingsError> {
            match section.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
                Some(other) => Err(err(format!("{key} must be a string, not {other}"))),
            }
        };
        let Some(raw_url) = text("url")? else {
            return Ok(None);
        };
        let url = url::Url::parse(&raw_url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
            .ok_or_else(|| {
                err(format!("url `{raw_url}` must be an http(s) URL such as http://victoriametrics:8428"))
            })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("url must not hold credentials; set rollups.basicAuthUser and the password".into()));
        }
        let resolution_ms = match text("resolution")? {
            None => DEFAULT_RESOLUTION_MS,
            Some(r) => match humantime::parse_duration(&r) {
                Ok(d) if d.as_millis() >= 1_000 && d.as_millis() % 1_000 == 0 && d.as_secs() <= 86_400 => {
                    d.as_millis() as i64
                }
                _ => return Err(err(format!("resolution `{r}` must be whole seconds up to a day, such as 1m or 5m"))),
            },
        };
        let stamps = match text("stamps")?.as_deref() {
            None | Some("end") => Stamps::End,
            Some("start") => Stamps::Start,
            Some(other) => {
                return Err(err(format!(
                    "stamps `{other}` must be `end` (vmalert evaluating live, the Loki ruler) or `start` (vmalert's replay)"
                )))
            }
        };
        let auth = match (text("basicAuthUser")?, secret("rollupsBearerToken")) {
            (Some(user), _) => Auth::Basic {
                user,
                password: secret("rollupsBasicAuthPassword").unwrap_or_else(|| Secret::new(String::new())),
            },
            (None, Some(token)) => Auth::Bearer(token),
            (None, None) => Auth::None,
        };
        Ok(Some(Self { url, auth, resolution_ms, stamps }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(v: Value) -> Result<Option<RollupSettings>, SettingsError> {
        RollupSettings::of(&v, &|k| (k == "rollupsBasicAuthPassword").then(|| Secret::new("pw".into())))
    }

    #[test]
    fn no_section_or_no_url_is_no_rollups() {
        assert_eq!(of(json!({})), Ok(None));
        assert_eq!(of(json!({"rollups": {"url": " "}})), Ok(None));
    }

    #[test]
    fn a_store_with_defaults_and_errors_naming_the_key() {
        let s = of(json!({"rollups": {"url": "http://vm:8428/"}})).unwrap().unwrap();
        assert_eq!((s.resolution_ms, s.stamps, s.auth), (60_000, Stamps::End, Auth::None));
        let s =
            of(json!({"rollups": {"url": "https://vm", "resolution": "5m", "stamps": "start", "basicAuthUser": "u"}}))
                .unwrap()
                .unwrap();
        assert_eq!((s.resolution_ms, s.stamps), (300_000, Stamps::Start));
        assert!(matches!(s.auth, Auth::Basic { ref user, .. } if user == "u"));
        for (bad, says) in [
            (json!({"rollups": "http://vm"}), "rollups must be an object"),
            (json!({"rollups": {"url": "vm:8428"}}), "rollups.url `vm:8428`"),
            (json!({"rollups": {"url": "http://a:b@vm"}}), "rollups.url must not hold credentials"),
            (json!({"rollups": {"url": "http://vm", "resolution": "90ms"}}), "rollups.resolution `90ms`"),
            (json!({"rollups": {"url": "http://vm", "stamps": "middle"}}), "rollups.stamps `middle`"),
            (json!({"rollups": {"url": 7}}), "rollups.url must be a string"),
        ] {
            let got = of(bad).unwrap_err().0;
            assert!(got.contains(says), "{got} should say {says}");
        }
    }
}
