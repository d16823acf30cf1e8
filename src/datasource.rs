//! One configured datasource: validated settings plus its backend client,
//! what its queries share (request reuse, detected interface addresses, the
//! backend's self-check verdict) and the running of one step. A panel query
//! is answered in `query.rs`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::{own_inside, Direction, Filter, FlowQuery, TimeRange};
use crate::plan::{first_step, Step, StepOutput};
use crate::reuse::Reuse;
use crate::settings::Settings;
use crate::source::{Backend, Deadline, Secrets};

/// A datasource ready to answer queries.
#[derive(Debug, Clone)]
pub struct Datasource {
    /// Its settings.
    pub settings: Settings,
    backend: Backend,
    /// Interface addresses detected from the records, by interface set.
    own: Arc<Mutex<HashMap<Vec<String>, Detected>>>,
    /// Held while detecting, so concurrent panels wait for one detection
    /// instead of each sending their own probes.
    detecting: Arc<tokio::sync::Mutex<()>>,
    /// Requests in flight and settled buckets, shared by its queries.
    pub(crate) reuse: Arc<Reuse>,
    /// Whether the backend passed its self-check ([`crate::consistency`])
    /// and when: settled buckets are kept only from a backend that did.
    pub(crate) trust: Arc<tokio::sync::Mutex<Option<Trust>>>,
    /// Its secrets, to take out of what reaches a message or a log.
    secrets: Secrets,
    /// Its names' sources.
    pub names: Arc<crate::names::Names>,
}

/// A self-check's verdict and when it was given (`Err`: why the backend's
/// buckets are not kept).
pub(crate) type Trust = (Instant, Result<(), String>);

/// How long a self-check's verdict is reused.
pub(crate) const TRUST_TTL: Duration = Duration::from_secs(1_800);

/// Addresses detected from the records, and when.
type Detected = (Instant, Vec<IpAddr>);

/// How long addresses detected from the records are reused.
const OWN_ADDRESSES_TTL: Duration = Duration::from_secs(600);
/// Records a 10-minute detection window must hold to be trusted: with few
/// records, an outside address in all of them (one long connection) would
/// look like the interface's own.
const DETECT_MIN_RECORDS: u64 = 500;
/// Records an interface must hold in a window for any address to be taken
/// as its own: in two or three records an outside address is in every one
/// by chance (a hostile-values property test found one).
const DETECT_MIN_EVIDENCE: u64 = 50;

/// The windows the interface's addresses are detected in, tried in order,
/// each with the records (with addresses) it must hold to be used: the last
/// 10 minutes of the range when they hold [`DETECT_MIN_RECORDS`] (at the
/// user's scale a sixth of the hour's cost), else the last hour when it
/// holds any, else the whole range. Windows equal to the range end the list.
pub fn detect_windows(range: TimeRange) -> Vec<(TimeRange, u64)> {
    let mut windows = Vec::new();
    for (width, min_records) in [(600_000, DETECT_MIN_RECORDS), (3_600_000, 1)] {
        let window = TimeRange { from_ms: range.from_ms.max(range.to_ms - width), to_ms: range.to_ms };
        if window == range {
            break;
        }
        windows.push((window, min_records));
    }
    windows.push((range, 0));
    windows
}

impl Datasource {
    /// Builds the datasource; fails for settings no backend can serve.
    pub fn new(settings: Settings) -> Result<Self, QueryError> {
        let backend = crate::backends::open(&settings)?;
        let reuse = Arc::new(Reuse::new(&settings, crate::backends::open_rollups(&settings)?));
        let secrets = Secrets::of(&settings);
        let names = Arc::new(crate::names::Names::new(&settings));
        Ok(Self {
            settings,
            backend,
            own: Arc::default(),
            detecting: Arc::default(),
            reuse,
            trust: Arc::default(),
            secrets,
            names,
        })
    }

    /// `text` without any of this datasource's secrets, in any form a
    /// backend may quote them ([`Secrets::scrub`]): for every message and
    /// log line that may carry backend text.
    pub fn scrub(&self, text: &str) -> String {
        self.secrets.scrub(text)
    }

    /// The backend, for health checks and tools.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// Where this datasource's records are: the stream and the schema.
    pub fn target(&self) -> Target<'_> {
        Target { stream: &self.settings.stream, schema: &self.settings.schema }
    }

    /// The query text of one step.
    pub fn render_step(&self, q: &FlowQuery, step: &Step) -> String {
        self.backend.render_step(&self.target(), q, step)
    }

    /// The backend queries a query starts with (later steps depend on the
    /// answers; they are shown in the frames' executed query string). Uses
    /// interface addresses already detected, never asks the backend.
    pub fn render(&self, q: &FlowQuery) -> Vec<String> {
        let mut q = q.clone();
        if self.needs_own_addresses(&q) {
            if let Some((_, own)) = self.own.lock().expect("own lock").get(&q.interface_ids) {
                q.own_addresses = own_inside(&self.settings, own);
            }
        }
        match crate::names::regroup::ask(&q, self.names.resolution_ms()) {
            Ok(Some(asked)) => vec![self.render_step(&asked.inner, &asked.step)],
            _ => vec![self.render_step(&q, &first_step(&q))],
        }
    }

    /// The query with the interfaces' own addresses it needs (detected, or
    /// cached), as every step of it is run.
    pub async fn resolve(&self, q: &FlowQuery, deadline: Deadline) -> Result<FlowQuery, QueryError> {
        let mut q = q.clone();
        if self.needs_own_addresses(&q) {
            let own = self.own_addresses(&q.interface_ids, q.range, deadline).await?;
            q.own_addresses = own_inside(&self.settings, &own);
        }
        Ok(q)
    }

    /// Whether the query's direction depends on addresses to detect: a
    /// direction on an interface, with no `natAddresses` in the settings.
    fn needs_own_addresses(&self, q: &FlowQuery) -> bool {
        self.settings.nat_addresses.is_none()
            && q.raw_query.is_none()
            && q.direction != Direction::All
            && !q.interface_ids.is_empty()
            && self.settings.schema.has("srcaddr")
            && self.settings.schema.has("dstaddr")
    }

    /// The interfaces' own addresses, detected from their records (cached
    /// for [`OWN_ADDRESSES_TTL`]): an address in the `srcaddr` or `dstaddr`
    /// of every record on the interfaces is the interface's own, as a NAT
    /// gateway's private address is on each of its four legs.
    pub async fn own_addresses(
        &self,
        interface_ids: &[String],
        range: TimeRange,
        deadline: Deadline,
    ) -> Result<Vec<IpAddr>, QueryError> {
        let cached = || {
            let cache = self.own.lock().expect("own lock");
            cache.get(interface_ids).filter(|(at, _)| at.elapsed() < OWN_ADDRESSES_TTL).map(|(_, own)| own.clone())
        };
        if let Some(own) = cached() {
            return Ok(own);
        }
        let _detecting = self.detecting.lock().await;
        if let Some(own) = cached() {
            return Ok(own); // found by the panel that held the lock
        }
        let mut found = None;
        for (window, min_records) in detect_windows(range) {
            found = self.detect_own_addresses(interface_ids, window, deadline).await?;
            if found.as_ref().map_or(0, |(records, _)| *records) >= min_records {
                break;
            }
        }
        let found = found.map(|(_, own)| own);
        match found {
            Some(own) => {
                self.own.lock().expect("own lock").insert(interface_ids.to_vec(), (Instant::now(), own.clone()));
                Ok(own)
            }
            None => Ok(Vec::new()),
        }
    }

    /// The records with both addresses in the window and the addresses in
    /// all of them; `None` when there are no such records.
    async fn detect_own_addresses(
        &self,
        interface_ids: &[String],
        range: TimeRange,
        deadline: Deadline,
    ) -> Result<Option<(u64, Vec<IpAddr>)>, QueryError> {
        let probe = |group_by: &[&str]| FlowQuery {
            group_by: group_by.iter().map(|f| f.to_string()).collect(),
            // Records without an address (NODATA, SKIPDATA) are not counted.
            filters: ["srcaddr", "dstaddr"].map(|f| Filter::NotRe(f.into(), "-|".into())).to_vec(),
            interface_ids: interface_ids.to_vec(),
            ..FlowQuery::probe(range)
        };
        let (all, src, dst) = (probe(&[]), probe(&["srcaddr"]), probe(&["dstaddr"]));
        let (total, by_src, by_dst) = tokio::try_join!(
            self.run_step_within(&all, &Step::Total, deadline),
            self.run_step_within(&src, &Step::Rank { limit: 2 }, deadline),
            self.run_step_within(&dst, &Step::Rank { limit: 2 }, deadline),
        )?;
        let (StepOutput::Total(total), StepOutput::Ranked(by_src), StepOutput::Ranked(by_dst)) =
            (total.1, by_src.1, by_dst.1)
        else {
            return Ok(None);
        };
        if total == 0 {
            return Ok(None);
        }
        if total < DETECT_MIN_EVIDENCE {
            return Ok(Some((total, Vec::new())));
        }
        let count = |ranked: &[(Vec<String>, u64)], addr: &str| {
            ranked.iter().find(|(k, _)| k.first().is_some_and(|a| a == addr)).map_or(0, |(_, n)| *n)
        };
        let mut own: Vec<IpAddr> = by_src
            .iter()
            .chain(&by_dst)
            .filter_map(|(k, _)| k.first())
            .filter(|a| count(&by_src, a) + count(&by_dst, a) == total)
            .filter_map(|a| a.parse().ok())
            .collect();
        own.sort();
        own.dedup();
        Ok(Some((total, own)))
    }

    /// Runs a step within the datasource's timeout from now.
    pub async fn run_step(&self, q: &FlowQuery, step: &Step) -> Result<(String, StepOutput), QueryError> {
        self.run_step_within(q, step, Deadline::after(self.settings.timeout)).await
    }

    /// Runs a step before a deadline.
    pub async fn run_step_within(
        &self,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<(String, StepOutput), QueryError> {
        let (text, output, _) = self.run(q, step, deadline).await?;
        Ok((text, output))
    }

    /// Runs a step through the datasource's reuse layer.
    pub(crate) async fn run(
        &self,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<crate::reuse::Answer, QueryError> {
        self.reuse.run(&self.backend, &self.target(), q, step, deadline).await
    }

    /// Bytes of settled buckets the datasource keeps, about.
    pub fn cached_bytes(&self) -> usize {
        self.reuse.cached_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(minutes: i64) -> TimeRange {
        TimeRange { from_ms: 1_000_000_000_000 - minutes * 60_000, to_ms: 1_000_000_000_000 }
    }

    #[test]
    fn detection_narrows_to_the_last_ten_minutes_then_widens() {
        let day = range(24 * 60);
        let windows = detect_windows(day);
        let widths: Vec<(i64, u64)> = windows.iter().map(|(w, n)| ((w.to_ms - w.from_ms) / 60_000, *n)).collect();
        assert_eq!(widths, vec![(10, DETECT_MIN_RECORDS), (60, 1), (24 * 60, 0)]);
        assert!(windows.iter().all(|(w, _)| w.to_ms == day.to_ms));
        // A range no longer than a window is asked once, whole.
        assert_eq!(detect_windows(range(10)), vec![(range(10), 0)]);
        assert_eq!(detect_windows(range(30)), vec![(range(10), DETECT_MIN_RECORDS), (range(30), 0)]);
        assert_eq!(detect_windows(range(60)), vec![(range(10), DETECT_MIN_RECORDS), (range(60), 0)]);
    }
}
