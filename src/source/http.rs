//! The HTTP client every backend shares: base URL, auth, headers, TLS,
//! request slots, one deadline per query, retries of overload answers,
//! bounded reading of answers, and errors that say who is at fault.

use std::error::Error as _;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::answer::{Answer, ReadFailures};
use super::deadline::Deadline;
use super::secrets::{cut_text, Secrets};
use crate::error::QueryError;
use crate::settings::{Auth, Settings};

/// Longest backend error text passed on (and read: the rest of an error body
/// is never read).
pub const MAX_ERROR_TEXT: usize = 2_000;

/// The first wait before asking an overloaded backend again; it doubles per
/// attempt up to [`RETRY_MAX_DELAY`], each wait drawn from its upper half.
const RETRY_FIRST_DELAY: Duration = Duration::from_millis(250);

/// The longest wait between two attempts (also the cap on `Retry-After`).
const RETRY_MAX_DELAY: Duration = Duration::from_secs(4);

/// How long connecting may take at most (within the deadline).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP client bound to one datasource's URL and credentials. Clones
/// share the connection pool and the request slots.
#[derive(Debug, Clone)]
pub struct HttpClient {
    http: reqwest::Client,
    base: url::Url,
    auth: Auth,
    headers: Vec<(String, crate::settings::Secret)>,
    knobs: Product,
    timeout: Duration,
    slots: Arc<Semaphore>,
    max_concurrent: usize,
    /// The secrets this client sends, to take out of backend text.
    secrets: Secrets,
}

/// One attempt's failure: worth another attempt or not.
enum Failure {
    /// 503 or 429: the backend is busy; `retry_after` when it said.
    Overloaded {
        error: QueryError,
        retry_after: Option<Duration>,
    },
    Final(QueryError),
}

impl HttpClient {
    /// Builds the client for a datasource.
    pub fn new(settings: &Settings, knobs: Product) -> Result<Self, QueryError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(settings.timeout.min(CONNECT_TIMEOUT))
            // A redirect is an error naming where to: followed, it would
            // carry the custom headers (secrets) and the query to any origin.
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(settings.tls_skip_verify)
            .user_agent(concat!("flowlens/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &settings.tls_ca_cert {
            let cert = reqwest::Certificate::from_pem(pem.expose().as_bytes())
                .map_err(|_| QueryError::plugin("datasource settings: the TLS CA certificate is not valid PEM"))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder.build().map_err(|e| match settings.tls_ca_cert {
            // reqwest reads the certificate only here.
            Some(_) => QueryError::plugin(
                "datasource settings: the TLS CA certificate (tlsCACert) is not valid PEM; paste the CA's -----BEGIN CERTIFICATE----- block",
            ),
            None => QueryError::plugin(format!("cannot create the HTTP client: {e}")),
        })?;
        let max_concurrent = settings.max_concurrent_requests.max(1);
        Ok(Self {
            http,
            base: settings.url.clone(),
            auth: settings.auth.clone(),
            headers: settings.headers.clone(),
            knobs,
            timeout: settings.timeout,
            slots: Arc::new(Semaphore::new(max_concurrent)),
            max_concurrent,
            secrets: Secrets::of(settings),
        })
    }

    /// The start of an error body, at most [`MAX_ERROR_TEXT`] bytes, without
    /// secrets: read as far as the longest secret's longest form past the
    /// limit, so that one beginning before the cut is taken out whole, never
    /// kept in part.
    async fn error_text(&self, response: reqwest::Response) -> String {
        let (head, more) = error_head(response, MAX_ERROR_TEXT + self.secrets.reach() + 1).await;
        cut_text(self.scrub(String::from_utf8_lossy(&head).trim()), MAX_ERROR_TEXT, more)
    }

    /// `text` with every secret of this datasource, in any form
    /// ([`Secrets::scrub`]), replaced by `<redacted>`.
    pub fn scrub(&self, text: &str) -> String {
        self.secrets.scrub(text)
    }

    /// The datasource's secrets, to scrub text from this backend with.
    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// A deadline of the datasource's timeout from now.
    pub fn deadline(&self) -> Deadline {
        Deadline::after(self.timeout)
    }

    /// The full URL of an API path under the base URL (which may carry a
    /// path prefix of a proxy).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// POSTs a form; returns the answer once its status is a success.
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, String)],
        deadline: Deadline,
    ) -> Result<Answer<'_>, QueryError> {
        self.send(|| self.http.post(self.url(path)).form(form), deadline, true).await
    }

    /// GETs a path with query parameters.
    pub async fn get(
        &self,
        path: &str,
        params: &[(&str, String)],
        deadline: Deadline,
    ) -> Result<Answer<'_>, QueryError> {
        self.send(|| self.http.get(self.url(path)).query(params), deadline, true).await
    }

    /// [`Self::get`] without asking again when the backend answers 503 or
    /// 429 (for a status question, where that answer is the answer).
    pub async fn get_once(
        &self,
        path: &str,
        params: &[(&str, String)],
        deadline: Deadline,
    ) -> Result<Answer<'_>, QueryError> {
        self.send(|| self.http.get(self.url(path)).query(params), deadline, false).await
    }

    /// Waits for a request slot, then sends, asking again (if `retry`) while
    /// the backend is overloaded and the deadline leaves time for the next
    /// wait.
    async fn send(
        &self,
        request: impl Fn() -> reqwest::RequestBuilder,
        deadline: Deadline,
        retry: bool,
    ) -> Result<Answer<'_>, QueryError> {
        let queued = Instant::now();
        let slot = self.slot(deadline).await?;
        let waited = queued.elapsed();
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            // The deadline bounds sending, the status and an error body; the
            // answer's body is bounded by the same deadline in [`Answer`].
            let failure = match tokio::time::timeout_at(deadline.at, self.send_once(request())).await {
                Err(_) => return Err(self.timed_out(deadline, waited)),
                Ok(Ok(response)) => return Ok(Answer { client: self, response, deadline, waited, _slot: slot }),
                Ok(Err(failure)) => failure,
            };
            let (error, retry_after) = match failure {
                Failure::Final(error) => return Err(error),
                Failure::Overloaded { error, .. } if !retry => return Err(error),
                Failure::Overloaded { error, retry_after } => (error, retry_after),
            };
            let wait = retry_after.unwrap_or_else(|| backoff(attempt)).min(RETRY_MAX_DELAY);
            if wait >= deadline.remaining() {
                return Err(self.still_overloaded(error, attempt + 1, started.elapsed(), deadline));
            }
            tracing::info!(attempt = attempt + 1, wait_ms = wait.as_millis() as u64, error = %error.message,
                "backend overloaded; asking again");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    /// One of the datasource's request slots, waiting at most until the
    /// deadline. Dropping the future (a cancelled query) leaves the queue.
    async fn slot(&self, deadline: Deadline) -> Result<OwnedSemaphorePermit, QueryError> {
        match tokio::time::timeout_at(deadline.at, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            Ok(Err(_)) => Err(QueryError::plugin("internal error: the request slots were closed")),
            Err(_) => Err(QueryError::downstream(
                504,
                format!(
                    "no request slot became free within {}s: this datasource sends at most {} requests to {} at once \
                     (maxConcurrentRequests) and all of them were busy; open fewer panels at once, raise \
                     timeoutSeconds, or raise maxConcurrentRequests if {} has capacity for more \
                     (its {})",
                    secs(deadline.budget()),
                    self.max_concurrent,
                    self.knobs.name,
                    self.knobs.name,
                    self.knobs.concurrency
                ),
            )),
        }
    }

    async fn send_once(&self, mut request: reqwest::RequestBuilder) -> Result<reqwest::Response, Failure> {
        request = match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password.expose())),
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
        };
        for (name, value) in &self.headers {
            request = request.header(name, value.expose());
        }
        let response = request.send().await.map_err(|e| Failure::Final(self.transport_error(&e)))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let product = self.knobs.name;
        let code = status.as_u16();
        if status.is_redirection() {
            return Err(Failure::Final(QueryError::downstream(
                502,
                format!(
                    "{product} answered a redirect (HTTP {code}) to {}; set the datasource URL to the final address",
                    redirect_origin(&response)
                ),
            )));
        }
        let text = self.error_text(response).await;
        let error = match code {
            401 | 403 => QueryError::downstream(
                code,
                format!("{product} refused the credentials (HTTP {code}): check the basic auth user and password or the bearer token. {text}"),
            ),
            // VictoriaLogs answers an unknown path with 400 "unsupported path requested".
            400 | 422 if !text.contains("unsupported path requested") => {
                QueryError::downstream(code, format!("{product} rejected the query (HTTP {code}): {text}"))
            }
            400 | 404 => QueryError::downstream(
                code,
                format!("{product} has no API at {} (HTTP {code}): is the URL the {product} address? {text}", self.url("")),
            ),
            // VictoriaLogs' own query timeout (-search.maxQueryDuration) is a
            // 503 too, but asking again would only repeat the work.
            503 if text.contains("couldn't be executed in") => QueryError::downstream(
                code,
                format!("{product} gave up on the query (HTTP {code}): narrow the time range or simplify the query. {text}"),
            ),
            429 | 503 => {
                let error = QueryError::downstream(code, format!("{product} is overloaded (HTTP {code}): {text}"));
                return Err(Failure::Overloaded { error, retry_after });
            }
            _ => QueryError::downstream(code, format!("{product} failed (HTTP {code}): {text}")),
        };
        Err(Failure::Final(error))
    }

    /// The final error of an overloaded backend: its text, how long it was
    /// asked, and what to change.
    fn still_overloaded(&self, last: QueryError, attempts: u32, asked: Duration, deadline: Deadline) -> QueryError {
        let product = self.knobs.name;
        QueryError::downstream(
            last.status,
            format!(
                "{} (asked {attempts} times in {:.1}s; the query's timeout is {}s). {product} has more queries \
                 than it runs at once: open fewer panels at once or narrow their time range, raise {}, lower this \
                 datasource's maxConcurrentRequests (now {}) below the server's, or raise timeoutSeconds",
                last.message,
                asked.as_secs_f64(),
                secs(deadline.budget()),
                self.knobs.queueing,
                self.max_concurrent
            ),
        )
    }

    /// The error for a query that ran out of time, saying how much of it
    /// went to waiting for a request slot when that was a noticeable part.
    fn timed_out(&self, deadline: Deadline, waited: Duration) -> QueryError {
        let queued = if waited >= deadline.budget() / 20 {
            format!(
                " ({:.1}s of it waiting for a request slot: this datasource sends at most {} requests at once, \
                 maxConcurrentRequests)",
                waited.as_secs_f64(),
                self.max_concurrent
            )
        } else {
            String::new()
        };
        QueryError::downstream(
            504,
            format!(
                "{} did not answer within {}s{queued}; narrow the time range or raise timeoutSeconds",
                self.knobs.name,
                secs(deadline.budget())
            ),
        )
    }

    /// Maps a transport failure to a downstream error naming the cause.
    pub fn transport_error(&self, e: &reqwest::Error) -> QueryError {
        let product = self.knobs.name;
        if e.is_timeout() {
            return QueryError::downstream(
                504,
                format!(
                    "{product} did not answer within {}s; narrow the time range or raise timeoutSeconds",
                    secs(self.timeout)
                ),
            );
        }
        let cause = self.scrub(&root_cause(e));
        if e.is_connect() {
            return QueryError::downstream(502, format!("cannot connect to {product} at {}: {cause}", self.base));
        }
        let what =
            if e.is_body() || e.is_decode() { "broke off while sending its answer" } else { "connection failed" };
        QueryError::downstream(
            502,
            format!("{product} {what}: {}", if cause.is_empty() { self.scrub(&e.to_string()) } else { cause }),
        )
    }
}

impl ReadFailures for HttpClient {
    fn product(&self) -> &'static str {
        self.knobs.name
    }

    fn transport_error(&self, e: &reqwest::Error) -> QueryError {
        HttpClient::transport_error(self, e)
    }

    fn timed_out(&self, deadline: Deadline, waited: Duration) -> QueryError {
        HttpClient::timed_out(self, deadline, waited)
    }
}

/// Where a redirect points, as its origin only (scheme, host, port: no
/// credentials, path or query, which may hold secrets).
fn redirect_origin(response: &reqwest::Response) -> String {
    let location = response.headers().get(reqwest::header::LOCATION).and_then(|v| v.to_str().ok());
    match location.map(|l| response.url().join(l)) {
        Some(Ok(url)) if url.has_host() => url.origin().ascii_serialization(),
        Some(_) => "an address that is not a valid URL".to_string(),
        None => "an address it did not give (no Location header)".to_string(),
    }
}

/// The start of an error body: at most `limit` bytes are read, the rest
/// never; whether more was there.
async fn error_head(response: reqwest::Response, limit: usize) -> (Vec<u8>, bool) {
    let mut body = std::pin::pin!(response.bytes_stream());
    let mut head = Vec::new();
    while let Some(Ok(chunk)) = body.next().await {
        let room = limit - head.len();
        head.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if chunk.len() >= room {
            return (head, true);
        }
    }
    (head, false)
}

/// The wait before attempt `attempt + 1`: doubling from
/// [`RETRY_FIRST_DELAY`], capped at [`RETRY_MAX_DELAY`], drawn uniformly from
/// its upper half so that queries that failed together do not return together.
fn backoff(attempt: u32) -> Duration {
    let full = RETRY_FIRST_DELAY.saturating_mul(1 << attempt.min(16)).min(RETRY_MAX_DELAY);
    full / 2 + full.mul_f64(jitter() / 2.0)
}

/// A number in `[0, 1)`, different per call (the std library's random hash
/// keys; no cryptographic need here).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The innermost cause of an error chain ("Connection refused (os error 111)").
fn root_cause(e: &reqwest::Error) -> String {
    let mut cause = String::new();
    let mut source = e.source();
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    cause
}

/// A backend's name and the server settings that bound its concurrent
/// queries, for messages.
#[derive(Debug, Clone, Copy)]
pub struct Product {
    /// The product's name ("VictoriaLogs").
    pub name: &'static str,
    /// The server setting a request slot mirrors.
    pub concurrency: &'static str,
    /// The server settings that make an overloaded server queue more.
    pub queueing: &'static str,
}

/// Seconds for messages: `60`, `1.5`.
fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_within_its_bounds() {
        for attempt in 0..20 {
            let full = RETRY_FIRST_DELAY.saturating_mul(1 << attempt.min(16)).min(RETRY_MAX_DELAY);
            let wait = backoff(attempt);
            assert!(wait >= full / 2 && wait <= full, "attempt {attempt}: {wait:?} outside {:?}..={full:?}", full / 2);
        }
        assert_eq!(RETRY_FIRST_DELAY.saturating_mul(1 << 16).min(RETRY_MAX_DELAY), RETRY_MAX_DELAY);
    }

    #[test]
    fn jitter_is_in_the_unit_interval_and_varies() {
        let draws: Vec<f64> = (0..100).map(|_| jitter()).collect();
        assert!(draws.iter().all(|j| (0.0..1.0).contains(j)), "{draws:?}");
        assert!(draws.windows(2).any(|p| p[0] != p[1]), "{draws:?}");
    }

    const TEST_PRODUCT: Product = Product { name: "Store", concurrency: "-max", queueing: "-queue" };

    #[test]
    fn a_secret_across_the_cut_is_taken_out_whole() {
        let json = br#"{"bearerAuth": true}"#;
        let secure = std::collections::HashMap::from([("bearerToken".to_string(), "tok-0123456789".to_string())]);
        let settings = Settings::from_instance(&crate::settings::InstanceSettings {
            url: "http://127.0.0.1:9428",
            json_data: json,
            secure: Some(&secure),
            ..Default::default()
        })
        .unwrap();
        let client = HttpClient::new(&settings, TEST_PRODUCT).unwrap();
        // The token starts 4 bytes before the cut: its first 4 bytes would stay.
        let body = format!("{}tok-0123456789 and more", "x".repeat(MAX_ERROR_TEXT - 4));
        let text = cut_text(client.scrub(&body), MAX_ERROR_TEXT, true);
        assert!(!text.contains("tok-"), "{}", &text[text.len() - 40..]);
        assert!(text.len() <= MAX_ERROR_TEXT + " …".len() && text.ends_with(" …"));
    }

    #[test]
    fn seconds_print_plainly() {
        assert_eq!(secs(Duration::from_secs(60)), "60");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5");
    }
}
