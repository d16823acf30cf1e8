//! A panel query answered: its plan run step by step (render, execute,
//! follow up) within one deadline and one memory budget, behind the
//! backend's self-check when the backend needs one before its buckets are
//! cached, and shaped into frames. The same path serves Grafana, the CLI
//! and the tests.

use std::time::Instant;

use crate::datasource::{Datasource, TRUST_TTL};
use crate::error::QueryError;
use crate::frame::Frame;
use crate::model::{FlowQuery, TimeRange};
use crate::plan::{alongside, first_step, follow_up, Answers, StepOutput};
use crate::source::Deadline;

impl Datasource {
    /// Answers a query with frames. All of its steps (their waits for a
    /// request slot, retries and answers) share one deadline, the
    /// datasource's timeout, and one memory budget, `maxQueryMemoryMiB`.
    pub async fn query(&self, q: &FlowQuery) -> Result<Vec<Frame>, QueryError> {
        crate::source::budget::for_query(self.settings.max_query_memory_bytes, self.query_within_budget(q)).await
    }

    async fn query_within_budget(&self, q: &FlowQuery) -> Result<Vec<Frame>, QueryError> {
        let deadline = Deadline::after(self.settings.timeout);
        let mut q = self.resolve(q, deadline).await?;
        let mut notices = Vec::new();
        if q.cache && self.reuse.caches() && self.backend().capabilities().checks_itself_before_caching {
            if let Err(why) = self.trusted(&q, deadline).await {
                q.cache = false;
                notices.extend(Some(why).filter(|w| !w.is_empty()));
            }
        }
        if let Some(asked) = crate::names::regroup::ask(&q, self.names.resolution_ms())? {
            return self.query_named(&q, asked, notices, deadline).await;
        }
        let q = &q;
        let (first_step, early) = (first_step(q), alongside(q));
        let (first, mut early_answer) = tokio::try_join!(self.run(q, &first_step, deadline), async {
            match &early {
                Some(step) => self.run(q, step, deadline).await.map(Some),
                None => Ok(None),
            }
        })?;
        let (text, mut first, more) = first;
        notices.extend(more);
        if let StepOutput::Ranked(groups) = &mut first {
            // A group whose records have no bytes (or packets) at all sums to
            // 0 (VictoriaLogs: NaN, read as 0) and is no group of the ranking:
            // Loki drops such records at `unwrap` and never sees the group.
            groups.retain(|(_, v)| *v > 0);
        }
        let steps = follow_up(q, &first);
        let later = steps.iter().map(|step| {
            let ready = if Some(step) == early.as_ref() { early_answer.take() } else { None };
            async move {
                match ready {
                    Some(answer) => Ok(answer),
                    None => self.run(q, step, deadline).await,
                }
            }
        });
        let later = futures_util::future::try_join_all(later).await?;
        let mut executed = vec![text];
        let mut answers = Answers::new();
        answers.push(&first_step, first)?;
        for (step, (text, output, more)) in steps.iter().zip(later) {
            executed.push(text);
            answers.push(step, output)?;
            notices.extend(more);
        }
        crate::frames::shape_noted(q, &self.settings, answers, &executed.join("\n\n"), &notices)
    }

    /// A query of names: asked about their addresses, named, summed
    /// (`crate::names::regroup`).
    async fn query_named(
        &self,
        q: &FlowQuery,
        asked: crate::names::regroup::Asked,
        mut notices: Vec<String>,
        deadline: Deadline,
    ) -> Result<Vec<Frame>, QueryError> {
        let (answers, text, more) = self.answer_named(q, &asked, deadline).await?;
        notices.extend(more);
        crate::frames::shape_noted(q, &self.settings, answers, &text, &notices)
    }

    /// The answers to a query of names, the text sent, and the notices.
    async fn answer_named(
        &self,
        q: &FlowQuery,
        asked: &crate::names::regroup::Asked,
        deadline: Deadline,
    ) -> Result<(Answers, String, Vec<String>), QueryError> {
        // The names' sources do not depend on the addresses' answer: both at once.
        let dims = asked.dims();
        let (answer, mut resolver) =
            tokio::join!(self.run(&asked.inner, &asked.step, deadline), self.names.resolver(&dims, q.range, deadline));
        let (text, output, mut notices) = answer?;
        let answers = asked.answers(q, output, |d, addr, t| resolver.name(d, addr, t))?;
        notices.append(&mut resolver.notices);
        Ok((answers, text, notices))
    }

    /// The groups of a table query ranked, at most `limit` (a variable's
    /// values): by names too.
    pub async fn ranking(&self, q: &FlowQuery, limit: usize) -> Result<Vec<(crate::plan::Key, u64)>, QueryError> {
        let deadline = Deadline::after(self.settings.timeout);
        let q = self.resolve(q, deadline).await?;
        match crate::names::regroup::ask(&q, self.names.resolution_ms())? {
            Some(asked) => {
                let (mut answers, _, _) = self.answer_named(&q, &asked, deadline).await?;
                Ok(answers.take_ranking().unwrap_or_default())
            }
            None => match self.run(&q, &crate::plan::Step::Rank { limit }, deadline).await?.1 {
                StepOutput::Ranked(ranked) => Ok(ranked),
                _ => Ok(Vec::new()),
            },
        }
    }

    /// Whether settled buckets of this backend may be kept: `Err` says why
    /// not. The backend's last settled hour inside the query's range (or
    /// its settled whole 5 minutes) is checked once ([`consistency::quick`]:
    /// a total against its buckets) and the verdict reused for
    /// [`TRUST_TTL`]; a window without records proves nothing, so nothing
    /// is kept until one with records agrees.
    /// An error of the check itself is no verdict: the query goes on uncached.
    async fn trusted(&self, q: &FlowQuery, deadline: Deadline) -> Result<(), String> {
        let mut trust = self.trust.lock().await;
        if let Some((at, verdict)) = trust.as_ref() {
            if at.elapsed() < TRUST_TTL {
                return verdict.clone();
            }
        }
        let settled = (chrono::Utc::now().timestamp_millis() - self.settings.cache_settle_ms).min(q.range.to_ms);
        let hour_end = settled.div_euclid(3_600_000) * 3_600_000;
        let window = if hour_end - 3_600_000 >= q.range.from_ms {
            TimeRange { from_ms: hour_end - 3_600_000, to_ms: hour_end }
        } else {
            let from = (q.range.from_ms + 299_999).div_euclid(300_000) * 300_000;
            TimeRange { from_ms: from, to_ms: settled.div_euclid(300_000) * 300_000 }
        };
        if window.to_ms <= window.from_ms {
            return Err(String::new());
        }
        let check = tokio::time::timeout(deadline.remaining(), crate::consistency::quick_once(self, window)).await;
        let verdict = match check {
            Ok(Ok(v)) if v.expected == 0 => return Err(String::new()),
            Ok(Ok(v)) if v.ok() => Ok(()),
            Ok(Ok(v)) => Err(format!(
                "{} failed flowlens' self-check, so none of its answers are cached: {}. Likely cause: {}",
                self.backend().product(),
                v.describe(),
                crate::consistency::likely_cause(self, std::slice::from_ref(&v))
            )),
            Ok(Err(e)) => {
                return Err(format!(
                    "flowlens' self-check of the backend could not run ({}), so this answer was not cached",
                    e.message
                ))
            }
            Err(_) => {
                return Err(
                    "flowlens' self-check of the backend did not finish in time, so this answer was not cached".into()
                )
            }
        };
        *trust = Some((Instant::now(), verdict.clone()));
        verdict
    }
}
