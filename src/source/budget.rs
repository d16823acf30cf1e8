//! Memory held for one query step's backend answers, counted against the
//! datasource's `maxQueryMemoryMiB` and a process-wide cap.
//!
//! A panel query's steps may run at once (its ranking beside its buckets,
//! the parts of a range the bucket cache lacks, a count's parts): inside
//! [`for_query`] every step also counts against one account of the whole
//! query, so together they hold at most `maxQueryMemoryMiB`, not that much
//! each.
//!
//! What is counted is what a step holds of its backend's answers: bodies
//! as they are read, parsed answers until they are folded into the step's
//! output, the merged output itself, log lines and streamed rows. Counts
//! are estimates of heap bytes (text lengths plus a fixed overhead per
//! entry), not allocator measurements; they grow as data arrives, so a
//! step is stopped while it still holds about its budget, not after.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::QueryError;

/// Bytes every query step of the process holds at once.
static PROCESS_HELD: AtomicUsize = AtomicUsize::new(0);

/// Default of the process-wide cap: four queries at the default budget.
pub const DEFAULT_PROCESS_MIB: usize = 1_024;

/// The process-wide cap in bytes: `FLOWLENS_MAX_MEMORY_MIB` from the
/// environment when it is a whole number of MiB, else
/// [`DEFAULT_PROCESS_MIB`].
pub fn process_cap() -> usize {
    static CAP: OnceLock<usize> = OnceLock::new();
    *CAP.get_or_init(|| {
        std::env::var("FLOWLENS_MAX_MEMORY_MIB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&m| m > 0)
            .unwrap_or(DEFAULT_PROCESS_MIB)
            << 20
    })
}

/// Fixed overhead counted per held entry (a line, a point, a map node).
pub const ENTRY: usize = 48;

/// What the steps of one panel query hold together, and its limit.
#[derive(Debug)]
struct QueryAccount {
    limit: usize,
    held: AtomicUsize,
}

tokio::task_local! {
    static QUERY: Arc<QueryAccount>;
}

/// Runs one panel query: the [`Budget`]s its steps make count against one
/// account of `limit` bytes (`maxQueryMemoryMiB`) as well as their own.
pub async fn for_query<F: std::future::Future>(limit: usize, query: F) -> F::Output {
    QUERY.scope(Arc::new(QueryAccount { limit, held: AtomicUsize::new(0) }), query).await
}

/// One query step's budget. Dropping it gives back what it still holds.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    held: AtomicUsize,
    /// The query this step belongs to, when it runs inside [`for_query`].
    query: Option<Arc<QueryAccount>>,
}

impl Budget {
    /// A budget of `limit` bytes (`maxQueryMemoryMiB`), within the query's
    /// account when the step runs inside [`for_query`].
    pub fn new(limit: usize) -> Self {
        let query = QUERY.try_with(Arc::clone).ok();
        Self { limit, held: AtomicUsize::new(0), query }
    }

    /// The step's limit in bytes.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held now.
    pub fn held(&self) -> usize {
        self.held.load(Ordering::Relaxed)
    }

    /// Counts `n` more bytes, or refuses them (counting nothing) when the
    /// step or the process would hold more than its limit.
    pub fn take(&self, n: usize) -> Result<(), QueryError> {
        let held = self.held.fetch_add(n, Ordering::Relaxed) + n;
        let process = PROCESS_HELD.fetch_add(n, Ordering::Relaxed) + n;
        let query = self.query.as_ref().map(|q| (q.held.fetch_add(n, Ordering::Relaxed) + n, q.limit));
        if held > self.limit {
            self.give(n);
            return Err(self.exceeded());
        }
        if let Some((_, limit)) = query.filter(|(held, limit)| held > limit) {
            self.give(n);
            return Err(exceeded(limit));
        }
        if process > process_cap() {
            self.give(n);
            return Err(QueryError::downstream(
                503,
                format!(
                    "the plugin's queries in flight hold more answers than its process-wide cap ({} MiB, \
                     FLOWLENS_MAX_MEMORY_MIB): try again when fewer panels are loading, narrow the time range \
                     or add filters",
                    process_cap() >> 20
                ),
            ));
        }
        Ok(())
    }

    /// Gives back `n` bytes taken before.
    pub fn give(&self, n: usize) {
        let n = n.min(self.held.load(Ordering::Relaxed));
        self.held.fetch_sub(n, Ordering::Relaxed);
        PROCESS_HELD.fetch_sub(n, Ordering::Relaxed);
        if let Some(q) = &self.query {
            q.held.fetch_sub(n, Ordering::Relaxed);
        }
    }

    /// Moves what is held for something from `from` to `to` bytes.
    pub fn resize(&self, from: usize, to: usize) -> Result<(), QueryError> {
        if to > from {
            self.take(to - from)
        } else {
            self.give(from - to);
            Ok(())
        }
    }

    /// The error for a step over its limit: names the setting.
    pub fn exceeded(&self) -> QueryError {
        exceeded(self.limit)
    }
}

impl Drop for Budget {
    fn drop(&mut self) {
        let held = *self.held.get_mut();
        PROCESS_HELD.fetch_sub(held, Ordering::Relaxed);
        if let Some(q) = &self.query {
            q.held.fetch_sub(held, Ordering::Relaxed);
        }
    }
}

/// "this query's answers exceed maxQueryMemoryMiB (N MiB)…"
pub fn exceeded(limit: usize) -> QueryError {
    QueryError::downstream(
        422,
        format!(
            "this query's answers exceed maxQueryMemoryMiB ({} MiB): narrow the time range, add filters or raise \
             the setting",
            limit >> 20
        ),
    )
}

/// Estimated heap bytes of a group key held in a map (the formula of
/// `backends::loki::logql::Merger`'s count): each value's text and `String`
/// (allocations rounded up, with malloc's header), the key's `Vec` and its
/// slot (B-tree nodes and vectors are not full).
pub fn key_bytes(key: &[String]) -> usize {
    key.iter().map(|v| v.len().next_multiple_of(16) + 48).sum::<usize>() + 2 * ENTRY
}

/// Estimated heap bytes of a row of named text values.
pub fn text_bytes<'a>(values: impl IntoIterator<Item = (&'a str, usize)>) -> usize {
    values.into_iter().map(|(name, len)| name.len() + len.next_multiple_of(16) + ENTRY).sum::<usize>() + ENTRY
}

/// Bytes held by the process's query steps now (for tests).
pub fn process_held() -> usize {
    PROCESS_HELD.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_over_its_limit_is_refused_and_gives_back_on_drop() {
        let b = Budget::new(1000);
        b.take(600).unwrap();
        let e = b.take(500).unwrap_err();
        assert!(e.message.contains("maxQueryMemoryMiB (0 MiB)") && e.message.contains("raise the setting"), "{e:?}");
        assert_eq!(b.held(), 600);
        b.resize(600, 100).unwrap();
        assert_eq!(b.held(), 100);
    }

    #[tokio::test]
    async fn the_steps_of_one_query_share_its_limit() {
        for_query(1000, async {
            let (ranking, buckets) = (Budget::new(1000), Budget::new(1000));
            ranking.take(600).unwrap();
            let e = buckets.take(500).unwrap_err();
            assert!(e.message.contains("maxQueryMemoryMiB"), "{e:?}");
            assert_eq!((ranking.held(), buckets.held()), (600, 0));
            drop(ranking);
            // What a finished step held is the query's again.
            buckets.take(900).unwrap();
        })
        .await;
        // Outside a query, each step has its own limit.
        let (a, b) = (Budget::new(1000), Budget::new(1000));
        a.take(600).unwrap();
        b.take(600).unwrap();
    }
}
