//! The rollup store's settings, jsonData's `rollups` section:
//!
//! ```json
//! "rollups": {"url": "http://victoriametrics:8428", "resolution": "1m,1h", "stamps": "end",
//!             "basicAuthUser": "reader"}
//! ```
//!
//! with secureJsonData `rollupsBasicAuthPassword` or `rollupsBearerToken`.
//! No `url`: no rollups. TLS settings are the datasource's.

use serde_json::Value;

use crate::settings::{Auth, Secret, Settings, SettingsError};

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
    /// The rules' evaluation intervals in ms, finest first: one or more,
    /// comma-separated (`1m,1h`); each question is read from the one whose
    /// evaluated run is longest, coarser first on a tie.
    pub resolutions_ms: Vec<i64>,
    /// How the rules' sums are stamped.
    pub stamps: Stamps,
}

/// A resolution: numbers each with a unit `s`, `m`, `h` or `d` (`1m`,
/// `90s`, `1h30m`), from 1 s to a day, in ms. The settings page reads it
/// the same way (`validation.ts` `rollupsResolutionMs`).
pub fn resolution_ms(text: &str) -> Option<i64> {
    static SYNTAX: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let syntax = SYNTAX.get_or_init(|| regex::Regex::new(r"^(?:[0-9]{1,9}[smhd])+$").expect("a valid regex"));
    if !syntax.is_match(text) {
        return None;
    }
    let parts = text.split_inclusive(['s', 'm', 'h', 'd']);
    let ms: i64 = parts
        .map(|p| {
            let (n, unit) = p.split_at(p.len() - 1);
            let size = match unit {
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                _ => 86_400_000,
            };
            n.parse::<i64>().unwrap_or(i64::MAX / 2) * size
        })
        .fold(0i64, i64::saturating_add);
    (1_000..=86_400_000).contains(&ms).then_some(ms)
}

/// One or more resolutions separated by commas (`1m,1h`), finest first,
/// each once. The settings page reads them the same way.
pub fn resolutions_ms(text: &str) -> Option<Vec<i64>> {
    let mut out = text.split(',').map(|r| resolution_ms(r.trim())).collect::<Option<Vec<i64>>>()?;
    out.sort_unstable();
    out.dedup();
    Some(out)
}

impl RollupSettings {
    /// The datasource's `rollups` section, if it names a store.
    pub fn of(settings: &Settings) -> Result<Option<Self>, SettingsError> {
        Self::read(&settings.json_data, &|k| settings.section_secrets.get(k).cloned())
    }

    /// The `rollups` section of jsonData; `secret` reads secureJsonData.
    fn read(json_data: &Value, secret: &dyn Fn(&str) -> Option<Secret>) -> Result<Option<Self>, SettingsError> {
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
        let resolutions_ms = match text("resolution")? {
            None => vec![DEFAULT_RESOLUTION_MS],
            Some(r) => resolutions_ms(&r).ok_or_else(|| {
                err(format!(
                    "resolution `{r}` must be whole seconds up to a day, such as 1m or 5m, or several separated by \
                     commas, such as 1m,1h"
                ))
            })?,
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
        Ok(Some(Self { url, auth, resolutions_ms, stamps }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn of(v: Value) -> Result<Option<RollupSettings>, SettingsError> {
        RollupSettings::read(&v, &|k| (k == "rollupsBasicAuthPassword").then(|| Secret::new("pw".into())))
    }

    #[test]
    fn resolutions_are_numbers_with_units() {
        for (text, ms) in [("1s", 1_000), ("90s", 90_000), ("1m30s", 90_000), ("1h30m", 5_400_000), ("1d", 86_400_000)]
        {
            assert_eq!(resolution_ms(text), Some(ms), "{text}");
        }
        for bad in ["", "0s", "999ms", "1.5m", "1 m", "25h", "1d1s", "1w", "m", "1", "-1m", "9999999999s"] {
            assert_eq!(resolution_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_section_or_no_url_is_no_rollups() {
        assert_eq!(of(json!({})), Ok(None));
        assert_eq!(of(json!({"rollups": {"url": " "}})), Ok(None));
    }

    #[test]
    fn a_store_with_defaults_and_errors_naming_the_key() {
        let s = of(json!({"rollups": {"url": "http://vm:8428/"}})).unwrap().unwrap();
        assert_eq!((s.resolutions_ms.clone(), s.stamps, s.auth), (vec![60_000], Stamps::End, Auth::None));
        let s =
            of(json!({"rollups": {"url": "https://vm", "resolution": "5m", "stamps": "start", "basicAuthUser": "u"}}))
                .unwrap()
                .unwrap();
        assert_eq!((s.resolutions_ms.clone(), s.stamps), (vec![300_000], Stamps::Start));
        let several = of(json!({"rollups": {"url": "https://vm", "resolution": "1h, 1m,1h"}})).unwrap().unwrap();
        assert_eq!(several.resolutions_ms, vec![60_000, 3_600_000]);
        assert!(matches!(s.auth, Auth::Basic { ref user, .. } if user == "u"));
        for (bad, says) in [
            (json!({"rollups": "http://vm"}), "rollups must be an object"),
            (json!({"rollups": {"url": "vm:8428"}}), "rollups.url `vm:8428`"),
            (json!({"rollups": {"url": "http://a:b@vm"}}), "rollups.url must not hold credentials"),
            (json!({"rollups": {"url": "http://vm", "resolution": "90ms"}}), "rollups.resolution `90ms`"),
            (json!({"rollups": {"url": "http://vm", "resolution": "1h 30m"}}), "rollups.resolution `1h 30m`"),
            (json!({"rollups": {"url": "http://vm", "resolution": "25h"}}), "rollups.resolution `25h`"),
            (json!({"rollups": {"url": "http://vm", "resolution": "1m,"}}), "rollups.resolution `1m,`"),
            (json!({"rollups": {"url": "http://vm", "stamps": "middle"}}), "rollups.stamps `middle`"),
            (json!({"rollups": {"url": 7}}), "rollups.url must be a string"),
        ] {
            let got = of(bad).unwrap_err().0;
            assert!(got.contains(says), "{got} should say {says}");
        }
    }
}
