//! Coalescing: questions of one refresh that read the same records over the
//! same range (totals, and series summed over every group, whatever their
//! direction, filters or metric) are answered by one backend scan where the
//! backend computes several aggregates at once ([`Backend::coalesce_key`]:
//! VictoriaLogs). The first question waits the datasource's
//! `coalesceWindowMs` for others to join, then one query answers them all; each caller still gets its own
//! answer. If that query fails, each question is asked alone, so each gets
//! its own answer or error; if the caller that sent it is cancelled, the
//! others ask alone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::oneshot;

use super::{timed_out, Answer};
use crate::dialect::Target;
use crate::error::QueryError;
use crate::model::FlowQuery;
use crate::plan::Step;
use crate::source::{Backend, Deadline};

/// At most this many questions share one scan (one aggregate each).
pub const MAX_QUESTIONS: usize = 16;

type Reply = oneshot::Sender<Result<Answer, QueryError>>;

/// The scans being gathered, by coalesce key.
#[derive(Debug)]
pub struct Gather {
    /// How long the first question of a scan waits for others (zero: no
    /// coalescing).
    window: Duration,
    open: Mutex<HashMap<String, Vec<(FlowQuery, Reply)>>>,
}

/// Closes a gathering scan if its first caller is cancelled while it waits:
/// the others' replies are dropped, and they ask alone.
struct Open<'a> {
    gather: &'a Gather,
    key: &'a str,
    armed: bool,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.gather.open.lock().expect("gather lock").remove(self.key);
        }
    }
}

enum Joined {
    First,
    Later,
    Full,
}

impl Gather {
    /// Scans gathered for `window`.
    pub fn new(window: Duration) -> Self {
        Self { window, open: Mutex::default() }
    }

    /// Answers one step, in a scan shared with the questions that arrive
    /// within the window when the backend can; else alone.
    pub async fn run(
        &self,
        backend: &Backend,
        target: &Target<'_>,
        q: &FlowQuery,
        step: &Step,
        deadline: Deadline,
    ) -> Result<Answer, QueryError> {
        let key = if self.window.is_zero() { None } else { backend.coalesce_key(target, q, step) };
        let Some(key) = key else {
            return backend.run(target, q, step, deadline).await;
        };
        let (reply, answer) = oneshot::channel();
        let joined = {
            let mut open = self.open.lock().expect("gather lock");
            match open.get_mut(&key) {
                None => {
                    open.insert(key.clone(), vec![(q.clone(), reply)]);
                    Joined::First
                }
                Some(scan) if scan.len() < MAX_QUESTIONS => {
                    scan.push((q.clone(), reply));
                    Joined::Later
                }
                Some(_) => Joined::Full,
            }
        };
        match joined {
            Joined::Full => return backend.run(target, q, step, deadline).await,
            Joined::Later => {}
            Joined::First => {
                let mut guard = Open { gather: self, key: &key, armed: true };
                tokio::time::sleep(self.window.min(deadline.remaining())).await;
                let scan = self.open.lock().expect("gather lock").remove(&key).unwrap_or_default();
                guard.armed = false;
                answer_all(backend, target, step, deadline, scan).await;
            }
        }
        match tokio::time::timeout(deadline.remaining(), answer).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => backend.run(target, q, step, deadline).await, // the scan was cancelled
            Err(_) => Err(timed_out(backend, deadline)),
        }
    }
}

/// Sends every question of a scan its answer.
async fn answer_all(
    backend: &Backend,
    target: &Target<'_>,
    step: &Step,
    deadline: Deadline,
    mut scan: Vec<(FlowQuery, Reply)>,
) {
    if scan.len() == 1 {
        let (q, reply) = scan.pop().expect("one question");
        let _ = reply.send(backend.run(target, &q, step, deadline).await);
        return;
    }
    let qs: Vec<FlowQuery> = scan.iter().map(|(q, _)| q.clone()).collect();
    match backend.run_coalesced(target, &qs, step, deadline).await {
        Ok(answers) => {
            for ((_, reply), answer) in scan.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
        }
        Err(_) => {
            // One question may be at fault (a value the backend rejects, a
            // query too long together): each asked alone.
            let alone = scan.into_iter().map(|(q, reply)| async move {
                let _ = reply.send(backend.run(target, &q, step, deadline).await);
            });
            futures_util::future::join_all(alone).await;
        }
    }
}
