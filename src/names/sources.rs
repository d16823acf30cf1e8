//! The names' sources as a datasource holds them: files read when they
//! change, the `kube_pod_info` store asked per query; and one query's
//! [`Resolver`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use crate::backends::prometheus::Prometheus;
use crate::error::QueryError;
use crate::model::TimeRange;
use crate::settings::Settings;
use crate::source::Deadline;

use super::kube::{self, History};
use super::mmdb::Mmdb;
use super::networks::{parse_cidr_map, parse_ip_ranges, AwsRange, Prefixes};
use super::{Dim, Kind, NamesSettings, UNKNOWN};

/// A file read again when its modification time or size changes; or a
/// URL (`http(s)://`) fetched again every [`URL_REFRESH`] (a `304 Not
/// Modified` to its ETag keeps what was read; a failed fetch keeps the last
/// good copy).
struct Reloading<T> {
    path: String,
    parse: fn(Vec<u8>) -> Result<T, String>,
    held: Mutex<Option<Held<T>>>,
}

/// What a source held when last read: its version, and what it said.
type Held<T> = (Version, Result<Arc<T>, String>);

/// Which version of a source was read.
#[derive(Clone, PartialEq)]
enum Version {
    /// A file's modification time and size.
    File(Option<SystemTime>, u64),
    /// When a URL was fetched, and its ETag.
    Url(std::time::Instant, Option<String>),
}

/// How often a URL source is fetched again.
const URL_REFRESH: std::time::Duration = std::time::Duration::from_secs(3_600);
/// How long one fetch may take.
const URL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl<T> Reloading<T> {
    fn new(path: String, parse: fn(Vec<u8>) -> Result<T, String>) -> Self {
        Self { path, parse, held: Mutex::new(None) }
    }

    fn held(&self) -> Option<Held<T>> {
        self.held.lock().expect("names lock").clone()
    }

    fn keep(&self, version: Version, read: Result<Arc<T>, String>) -> Result<Arc<T>, String> {
        *self.held.lock().expect("names lock") = Some((version, read.clone()));
        read
    }

    /// The source as it is now (read again if it changed), or what is wrong.
    async fn current(&self) -> Result<Arc<T>, String> {
        if self.path.starts_with("http://") || self.path.starts_with("https://") {
            return self.fetched().await;
        }
        let meta = tokio::fs::metadata(&self.path).await.map_err(|e| format!("{} cannot be read: {e}", self.path))?;
        let version = Version::File(meta.modified().ok(), meta.len());
        if let Some((held_version, held)) = self.held() {
            if held_version == version {
                return held;
            }
        }
        let read = match tokio::fs::read(&self.path).await {
            Ok(bytes) => (self.parse)(bytes).map(Arc::new).map_err(|e| format!("{}: {e}", self.path)),
            Err(e) => Err(format!("{} cannot be read: {e}", self.path)),
        };
        self.keep(version, read)
    }

    /// A URL source: fetched again when [`URL_REFRESH`] has passed.
    async fn fetched(&self) -> Result<Arc<T>, String> {
        let held = self.held();
        let etag = match &held {
            Some((Version::Url(at, _), read)) if at.elapsed() < URL_REFRESH => return read.clone(),
            Some((Version::Url(_, etag), Ok(_))) => etag.clone(),
            _ => None,
        };
        let client = reqwest::Client::builder().timeout(URL_TIMEOUT).build().map_err(|e| e.to_string())?;
        let mut request = client.get(&self.path);
        if let Some(etag) = &etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let now = std::time::Instant::now();
        let answer = match request.send().await {
            Ok(r) if r.status() == reqwest::StatusCode::NOT_MODIFIED => None,
            Ok(r) if r.status().is_success() => {
                let etag = r.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).map(String::from);
                Some(r.bytes().await.map(|b| (b.to_vec(), etag)).map_err(|e| e.to_string()))
            }
            Ok(r) => Some(Err(format!("HTTP {}", r.status()))),
            Err(e) => Some(Err(e.without_url().to_string())),
        };
        match (answer, held) {
            // Not modified: what was read stands for another while.
            (None, Some((_, read))) => self.keep(Version::Url(now, etag), read),
            (Some(Ok((bytes, etag))), _) => {
                let read = (self.parse)(bytes).map(Arc::new).map_err(|e| format!("{}: {e}", self.path));
                self.keep(Version::Url(now, etag), read)
            }
            // A failed fetch keeps the last good copy until the next try.
            (Some(Err(_)), Some((_, Ok(last)))) => self.keep(Version::Url(now, etag), Ok(last)),
            (Some(Err(e)), _) => {
                self.keep(Version::Url(now, None), Err(format!("{} cannot be fetched: {e}", self.path)))
            }
            (None, None) => Err(format!("{} answered 304 to a first request", self.path)),
        }
    }
}

/// A datasource's names.
pub struct Names {
    error: Option<String>,
    networks: Option<Result<Arc<Prefixes<String>>, String>>,
    aws: Option<Reloading<Prefixes<AwsRange>>>,
    mmdb: Vec<Reloading<Mmdb>>,
    kube: Option<Result<(Prometheus, i64), String>>,
}

impl std::fmt::Debug for Names {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Names").field("error", &self.error).finish_non_exhaustive()
    }
}

fn ip_ranges(bytes: Vec<u8>) -> Result<Prefixes<AwsRange>, String> {
    parse_ip_ranges(&bytes).map(|(ranges, _)| ranges)
}

impl Names {
    /// The datasource's sources, each as far as it can be read now.
    pub fn new(settings: &Settings) -> Self {
        let s = NamesSettings::of(settings);
        Self {
            error: s.error,
            networks: s.networks.map(|v| parse_cidr_map(&v).map(Arc::new).map_err(|e| format!("names.networks: {e}"))),
            aws: s.aws_ip_ranges.map(|p| Reloading::new(p, ip_ranges)),
            mmdb: s.mmdb.into_iter().map(|p| Reloading::new(p, Mmdb::from_bytes)).collect(),
            kube: s.kubernetes.map(|k| {
                let k = k?;
                let store = Prometheus::open_store(settings, k.url, k.auth).map_err(|e| e.message)?;
                Ok((store, k.resolution_ms))
            }),
        }
    }

    /// Whether the source of `d` is set (read or not).
    pub fn configured(&self, d: &Dim) -> bool {
        match d.kind {
            Kind::Network => self.networks.is_some(),
            Kind::AwsService | Kind::AwsRegion => self.aws.is_some(),
            Kind::Asn | Kind::Org | Kind::Country => !self.mmdb.is_empty(),
            Kind::Pod | Kind::Namespace | Kind::Workload | Kind::Node => self.kube.is_some(),
        }
    }

    /// The resolution of pods' names.
    pub fn resolution_ms(&self) -> i64 {
        match &self.kube {
            Some(Ok((_, r))) => *r,
            _ => super::settings::DEFAULT_RESOLUTION_MS,
        }
    }

    /// What Save & test says of each configured source: (source, Ok(what it
    /// holds) or Err(what is wrong)). Asks the `kube_pod_info` store over
    /// `recent`.
    pub async fn check(&self, recent: TimeRange, deadline: Deadline) -> Vec<(&'static str, Result<String, String>)> {
        let mut out = Vec::new();
        if let Some(e) = &self.error {
            out.push(("names", Err(e.clone())));
        }
        if let Some(n) = &self.networks {
            out.push(("names.networks", n.as_ref().map(|n| format!("{} networks", n.len())).map_err(Clone::clone)));
        }
        if let Some(aws) = &self.aws {
            out.push(("names.awsIpRanges", aws.current().await.map(|r| format!("{} AWS networks", r.len()))));
        }
        for m in &self.mmdb {
            out.push(("names.mmdb", m.current().await.map(|db| format!("{} ({})", m.path, db.kind()))));
        }
        if let Some(kube) = &self.kube {
            let verdict = match kube {
                Err(e) => Err(e.clone()),
                Ok(_) => match self.history(recent, deadline).await {
                    Ok(h) if h.addresses() == 0 => Err(format!(
                        "the store holds no kube_pod_info with a pod_ip from {} to {}: is kube-state-metrics scraped \
                         into it?",
                        crate::time::rfc3339(recent.from_ms),
                        crate::time::rfc3339(recent.to_ms)
                    )),
                    Ok(h) => Ok(format!("kube_pod_info: {} pod addresses in the last hour", h.addresses())),
                    Err(e) => Err(format!("kube_pod_info could not be read: {}", e.message)),
                },
            };
            out.push(("names.kubernetes", verdict));
        }
        out
    }

    /// Which pod held which address over `range` (a bucket more on each
    /// side, so a handover at an edge is seen whole).
    async fn history(&self, range: TimeRange, deadline: Deadline) -> Result<History, QueryError> {
        let Some(Ok((store, resolution))) = &self.kube else {
            return Err(QueryError::plugin("names.kubernetes is not set"));
        };
        let r = *resolution;
        let part = TimeRange {
            from_ms: range.from_ms.div_euclid(r) * r - r,
            to_ms: (range.to_ms + r - 1).div_euclid(r) * r + r,
        };
        let labels: Vec<String> = kube::LABELS.iter().map(|l| l.to_string()).collect();
        let answer = store.presence(&kube::presence_query(r), &labels, part, r, deadline).await?;
        Ok(History::from_buckets(answer, r))
    }

    /// A resolver for the names `dims` of one query over `range`: each
    /// source read (or its problem kept as a notice) once.
    pub async fn resolver(&self, dims: &[&'static Dim], range: TimeRange, deadline: Deadline) -> Resolver {
        let mut r = Resolver::default();
        let mut problem = |d: &Dim, why: String| {
            r.notices.push(format!("{} shows addresses: {why}", d.name));
        };
        let wants = |kind: &[Kind]| dims.iter().copied().filter(|d| kind.contains(&d.kind)).collect::<Vec<_>>();
        let (network, aws, mmdb, pods) = (
            wants(&[Kind::Network]),
            wants(&[Kind::AwsService, Kind::AwsRegion]),
            wants(&[Kind::Asn, Kind::Org, Kind::Country]),
            wants(&[Kind::Pod, Kind::Namespace, Kind::Workload, Kind::Node]),
        );
        if let Some(d) = network.first() {
            match &self.networks {
                Some(Ok(n)) => r.networks = Some(n.clone()),
                Some(Err(e)) => problem(d, e.clone()),
                None => problem(d, "names.networks is not set in the datasource".into()),
            }
        }
        if let Some(d) = aws.first() {
            match &self.aws {
                Some(file) => match file.current().await {
                    Ok(a) => r.aws = Some(a),
                    Err(e) => problem(d, format!("names.awsIpRanges: {e}")),
                },
                None => problem(d, "names.awsIpRanges is not set in the datasource".into()),
            }
        }
        if let Some(d) = mmdb.first() {
            if self.mmdb.is_empty() {
                problem(d, "names.mmdb is not set in the datasource".into());
            }
            for file in &self.mmdb {
                match file.current().await {
                    Ok(db) => r.mmdb.push(db),
                    Err(e) => problem(d, format!("names.mmdb: {e}")),
                }
            }
            if r.mmdb.is_empty() {}
        }
        if let Some(d) = pods.first() {
            match &self.kube {
                Some(Ok(_)) => match self.history(range, deadline).await {
                    Ok(h) => r.kube = Some(h),
                    Err(e) => problem(d, format!("kube_pod_info could not be read: {}", e.message)),
                },
                Some(Err(e)) => problem(d, e.clone()),
                None => problem(d, "names.kubernetes is not set in the datasource".into()),
            }
        }
        r
    }
}

/// One query's names: each source as read for it.
#[derive(Default)]
pub struct Resolver {
    networks: Option<Arc<Prefixes<String>>>,
    aws: Option<Arc<Prefixes<AwsRange>>>,
    mmdb: Vec<Arc<Mmdb>>,
    kube: Option<History>,
    looked_up: HashMap<String, super::mmdb::Network>,
    /// What could not be named, and why: for the panel's notices.
    pub notices: Vec<String>,
}

impl Resolver {
    /// The name `d` gives `addr` in the bucket holding `t_ms`: the address
    /// itself when its source could not be read, [`UNKNOWN`] when the source
    /// does not know it.
    pub fn name(&mut self, d: &Dim, addr: &str, t_ms: i64) -> String {
        let known = |v: Option<&str>| v.filter(|v| !v.is_empty()).unwrap_or(UNKNOWN).to_string();
        match d.kind {
            Kind::Network => match &self.networks {
                Some(n) => known(n.get_text(addr).map(String::as_str)),
                None => addr.to_string(),
            },
            Kind::AwsService | Kind::AwsRegion => match &self.aws {
                Some(a) => {
                    known(a.get_text(addr).map(|r| if d.kind == Kind::AwsService { &*r.service } else { &*r.region }))
                }
                None => addr.to_string(),
            },
            Kind::Asn | Kind::Org | Kind::Country => {
                if self.mmdb.is_empty() {
                    return addr.to_string();
                }
                if !self.looked_up.contains_key(addr) {
                    let mut found = super::mmdb::Network::default();
                    for db in &self.mmdb {
                        match db.lookup(addr) {
                            Ok(n) => {
                                found.asn = found.asn.or(n.asn);
                                found.org = found.org.or(n.org);
                                found.country = found.country.or(n.country);
                            }
                            Err(e) => {
                                if self.notices.len() < 10 {
                                    self.notices.push(format!("names.mmdb: {e}"));
                                }
                            }
                        }
                    }
                    self.looked_up.insert(addr.to_string(), found);
                }
                let n = &self.looked_up[addr];
                known(match d.kind {
                    Kind::Asn => n.asn.as_deref(),
                    Kind::Org => n.org.as_deref(),
                    _ => n.country.as_deref(),
                })
            }
            Kind::Pod | Kind::Namespace | Kind::Workload | Kind::Node => match &self.kube {
                Some(h) => known(h.holder(addr, t_ms).map(|p| match d.kind {
                    Kind::Pod => &*p.pod,
                    Kind::Namespace => &*p.namespace,
                    Kind::Workload => &*p.workload,
                    _ => &*p.node,
                })),
                None => addr.to_string(),
            },
        }
    }
}
