//! The backends flowlens can ask, one folder each, and the registry: the
//! only place that names them. Each folder holds its dialect (pure), its
//! client (I/O) and its [`crate::source::Source`] implementation; no backend imports
//! another's folder. Adding a backend is a folder and a line in
//! `REGISTRY` (ARCHITECTURE.md, "Adding a source").

use std::sync::Arc;

use crate::error::QueryError;
use crate::rollups::RollupStore;
use crate::settings::Settings;
use crate::source::Backend;

pub mod loki;
pub mod prometheus;
pub mod victorialogs;

/// Each backend's name in the `backend` setting, and how it opens a
/// datasource's settings.
type Open = fn(&Settings) -> Result<Backend, QueryError>;

const REGISTRY: &[(&str, Open)] = &[
    ("victorialogs", |s| Ok(Arc::new(victorialogs::VictoriaLogs::open(s)?))),
    ("loki", |s| Ok(Arc::new(loki::Loki::open(s)?))),
];

/// The backend the settings name, with a client for their URL and
/// credentials.
pub fn open(settings: &Settings) -> Result<Backend, QueryError> {
    match REGISTRY.iter().find(|(name, _)| *name == settings.backend) {
        Some((_, open)) => open(settings),
        None => Err(QueryError::plugin(format!(
            "datasource settings: backend \"{}\" is not one flowlens knows; set it to {}",
            settings.backend,
            names().join(" or ")
        ))),
    }
}

/// The rollup store the settings name (`rollups` section), if any: a
/// Prometheus-compatible query API (VictoriaMetrics, Prometheus, Mimir).
pub fn open_rollups(settings: &Settings) -> Result<Option<Arc<dyn RollupStore>>, QueryError> {
    let rollups = crate::rollups::RollupSettings::of(settings).map_err(|e| QueryError::plugin(e.to_string()))?;
    let Some(rollups) = rollups else { return Ok(None) };
    Ok(Some(Arc::new(prometheus::Prometheus::open(settings, &rollups)?)))
}

/// The names of every backend, in registry order.
pub fn names() -> Vec<&'static str> {
    REGISTRY.iter().map(|(name, _)| *name).collect()
}
