//! A backend's answer as the shared HTTP client reads it: a bounded stream
//! of lines (JSON lines, as they arrive) or one bounded document, within the
//! query's deadline, holding its request slot until read; and what went
//! wrong while reading, said plainly.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::sync::OwnedSemaphorePermit;
use tokio_util::codec::{FramedRead, LinesCodec, LinesCodecError};
use tokio_util::io::StreamReader;

use super::deadline::Deadline;
use crate::error::QueryError;

/// Longest line of a JSON-lines answer. A flow record is a few hundred
/// bytes; a line this long is not one.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Most bytes read from one answer. The largest answers the builder asks for
/// (10,000 records, or 10 series of 11,000 buckets) are under 10 MiB.
pub const MAX_RESPONSE_BYTES: u64 = 64 << 20;

/// A successful response, holding its request slot until it is read or
/// dropped.
#[derive(Debug)]
pub struct Answer<'a> {
    pub(super) client: &'a dyn ReadFailures,
    pub(super) response: reqwest::Response,
    pub(super) deadline: Deadline,
    /// How long the request waited for its slot.
    pub(super) waited: Duration,
    pub(super) _slot: OwnedSemaphorePermit,
}

/// Why reading a body stopped early.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("transport: {0}")]
    Transport(reqwest::Error),
    #[error("the answer is larger than the limit")]
    TooLarge,
}

impl Answer<'_> {
    /// Hands each line of a JSON-lines answer to `on_line` as it arrives
    /// (the last line may lack its newline); `on_line` returns `false` to stop
    /// reading. Linear in the answer's size, memory bounded by one line.
    pub async fn for_each_line(
        self,
        mut on_line: impl FnMut(&str) -> Result<bool, QueryError>,
    ) -> Result<(), QueryError> {
        let Answer { client, response, deadline, waited, _slot } = self;
        let read = async move {
            let body = StreamReader::new(bounded(response.bytes_stream(), MAX_RESPONSE_BYTES));
            let mut lines = FramedRead::new(body, LinesCodec::new_with_max_length(MAX_LINE_BYTES));
            while let Some(line) = lines.next().await {
                let line = line.map_err(|e| client.line_error(e))?;
                if !on_line(&line)? {
                    break;
                }
            }
            drop(_slot);
            Ok(())
        };
        tokio::time::timeout_at(deadline.at, read).await.unwrap_or_else(|_| Err(client.timed_out(deadline, waited)))
    }

    /// The whole answer, for the one endpoint that answers a single JSON
    /// document; at most [`MAX_RESPONSE_BYTES`].
    pub async fn bytes(self) -> Result<Vec<u8>, QueryError> {
        self.bytes_within(None).await
    }

    /// [`Self::bytes`], with the body's buffer counted against `budget` as
    /// it grows (the caller gives back its capacity once done with it).
    pub async fn bytes_within(self, budget: Option<&super::budget::Budget>) -> Result<Vec<u8>, QueryError> {
        let Answer { client, response, deadline, waited, _slot } = self;
        let read = async move {
            let mut body = std::pin::pin!(bounded(response.bytes_stream(), MAX_RESPONSE_BYTES));
            let mut all: Vec<u8> = Vec::new();
            let give_back = |all: &Vec<u8>| {
                if let Some(budget) = budget {
                    budget.give(all.capacity());
                }
            };
            while let Some(chunk) = body.next().await {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) => {
                        give_back(&all);
                        return Err(client.io_error(e));
                    }
                };
                let before = all.capacity();
                all.reserve(chunk.len());
                if let Some(budget) = budget {
                    if let Err(e) = budget.resize(before, all.capacity()) {
                        budget.give(before);
                        return Err(e);
                    }
                }
                all.extend_from_slice(&chunk);
            }
            Ok(all)
        };
        tokio::time::timeout_at(deadline.at, read).await.unwrap_or_else(|_| Err(client.timed_out(deadline, waited)))
    }
}

/// A body stream that fails once more than `limit` bytes arrived.
fn bounded(body: impl Stream<Item = reqwest::Result<Bytes>>, limit: u64) -> impl Stream<Item = std::io::Result<Bytes>> {
    let mut total = 0u64;
    body.map(move |chunk| {
        let chunk = chunk.map_err(|e| std::io::Error::other(BodyError::Transport(e)))?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(std::io::Error::other(BodyError::TooLarge));
        }
        Ok(chunk)
    })
}

/// What reading an answer needs of the client that asked, to say what went
/// wrong: the backend's name, its transport errors worded, and the
/// deadline's message.
pub trait ReadFailures: std::fmt::Debug + Sync {
    /// The backend's name, for messages.
    fn product(&self) -> &'static str;
    /// A transport failure as a downstream error naming the cause.
    fn transport_error(&self, e: &reqwest::Error) -> QueryError;
    /// The query's deadline passed.
    fn timed_out(&self, deadline: Deadline, waited: Duration) -> QueryError;
}

impl dyn ReadFailures + '_ {
    /// Maps a failure while reading an answer's lines.
    fn line_error(&self, e: LinesCodecError) -> QueryError {
        let product = self.product();
        match e {
            LinesCodecError::MaxLineLengthExceeded => QueryError::downstream(
                502,
                format!(
                    "{product} sent a line longer than {} MiB, the plugin's limit per line: that is not a flow \
                     record or an aggregate row; check the stream selector, or select fewer fields in a raw query",
                    MAX_LINE_BYTES >> 20
                ),
            ),
            LinesCodecError::Io(e) => self.io_error(e),
        }
    }

    fn io_error(&self, e: std::io::Error) -> QueryError {
        match e.get_ref().and_then(|inner| inner.downcast_ref::<BodyError>()) {
            Some(BodyError::Transport(e)) => self.transport_error(e),
            Some(BodyError::TooLarge) => self.too_large(),
            None if e.kind() == std::io::ErrorKind::InvalidData => {
                QueryError::downstream(502, format!("{} sent an answer that is not UTF-8 text", self.product()))
            }
            None => QueryError::downstream(502, format!("reading the answer from {} failed: {e}", self.product())),
        }
    }

    fn too_large(&self) -> QueryError {
        QueryError::downstream(
            422,
            format!(
                "the answer from {} is larger than {} MiB, the plugin's limit for one query: narrow the time range, \
                 lower the limit or group by fewer fields; a raw query should aggregate (`stats`) or end in `limit`",
                self.product(),
                MAX_RESPONSE_BYTES >> 20
            ),
        )
    }
}
