//! Backend clients (I/O). [`HttpClient`] carries what every backend shares:
//! base URL, auth, extra headers, TLS, timeout, and errors that say whether
//! the backend, the network or the credentials are at fault, with the
//! backend's own text and never a secret.

pub mod victorialogs;

use std::error::Error as _;

use crate::error::QueryError;
use crate::settings::{Auth, Settings};

/// Longest backend error text passed on.
const MAX_ERROR_TEXT: usize = 2_000;

/// An HTTP client bound to one datasource's URL and credentials.
#[derive(Debug, Clone)]
pub struct HttpClient {
    http: reqwest::Client,
    base: url::Url,
    auth: Auth,
    headers: Vec<(String, crate::settings::Secret)>,
    product: &'static str,
    timeout_s: f64,
    /// Every form in which this client sends a secret, longest first, to
    /// take out of backend text (see [`secret_forms`]).
    secrets: Vec<String>,
}

/// The forms in which a datasource's secrets go on the wire: the password,
/// the basic-auth header's base64 `user:password`, the bearer token, the
/// custom header values. A proxy may quote them back in an error body (for
/// example vmauth's `cannot authorize request with auth tokens
/// ["http_auth:Basic ..."]`), which would put them in a panel's error and in
/// the logs. Values under 4 characters (tenant ids like `7`) are left: taking
/// them out would garble every message.
fn secret_forms(settings: &Settings) -> Vec<String> {
    use base64::Engine;
    let mut forms: Vec<String> = settings.headers.iter().map(|(_, v)| v.expose().to_string()).collect();
    match &settings.auth {
        Auth::None => {}
        Auth::Basic { user, password } => {
            forms.push(password.expose().to_string());
            let pair = format!("{user}:{}", password.expose());
            forms.push(base64::engine::general_purpose::STANDARD.encode(pair));
        }
        Auth::Bearer(token) => forms.push(token.expose().to_string()),
    }
    forms.retain(|f| f.chars().count() >= 4);
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

impl HttpClient {
    /// Builds the client for a datasource.
    pub fn new(settings: &Settings, product: &'static str) -> Result<Self, QueryError> {
        let mut builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(std::time::Duration::from_secs(10)))
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
        Ok(Self {
            http,
            base: settings.url.clone(),
            auth: settings.auth.clone(),
            headers: settings.headers.clone(),
            product,
            timeout_s: settings.timeout.as_secs_f64(),
            secrets: secret_forms(settings),
        })
    }

    /// `text` with every secret of this datasource replaced by `<redacted>`.
    fn scrub(&self, mut text: String) -> String {
        for secret in &self.secrets {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "<redacted>");
            }
        }
        text
    }

    /// The full URL of an API path under the base URL (which may carry a
    /// path prefix of a proxy).
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base.as_str().trim_end_matches('/'), path)
    }

    /// POSTs a form and returns the response if its status is a success.
    pub async fn post_form(&self, path: &str, form: &[(&str, String)]) -> Result<reqwest::Response, QueryError> {
        self.send(self.http.post(self.url(path)).form(form)).await
    }

    /// GETs a path with query parameters.
    pub async fn get(&self, path: &str, params: &[(&str, String)]) -> Result<reqwest::Response, QueryError> {
        self.send(self.http.get(self.url(path)).query(params)).await
    }

    async fn send(&self, mut request: reqwest::RequestBuilder) -> Result<reqwest::Response, QueryError> {
        request = match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password.expose())),
            Auth::Bearer(token) => request.bearer_auth(token.expose()),
        };
        for (name, value) in &self.headers {
            request = request.header(name, value.expose());
        }
        let response = request.send().await.map_err(|e| self.transport_error(&e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let mut text = self.scrub(response.text().await.unwrap_or_default().trim().to_string());
        if text.len() > MAX_ERROR_TEXT {
            let mut cut = MAX_ERROR_TEXT;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            text.push_str(" …");
        }
        let product = self.product;
        let code = status.as_u16();
        Err(match code {
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
            _ => QueryError::downstream(code, format!("{product} failed (HTTP {code}): {text}")),
        })
    }

    /// Maps a transport failure to a downstream error naming the cause.
    pub fn transport_error(&self, e: &reqwest::Error) -> QueryError {
        let product = self.product;
        if e.is_timeout() {
            return QueryError::downstream(
                504,
                format!(
                    "{product} did not answer within {}s; narrow the time range or raise the timeout",
                    self.timeout_s
                ),
            );
        }
        let mut cause = String::new();
        let mut source = e.source();
        while let Some(s) = source {
            cause = self.scrub(s.to_string());
            source = s.source();
        }
        if e.is_connect() {
            return QueryError::downstream(502, format!("cannot connect to {product} at {}: {cause}", self.base));
        }
        QueryError::downstream(
            502,
            format!(
                "{product} connection failed: {}",
                if cause.is_empty() { self.scrub(e.to_string()) } else { cause }
            ),
        )
    }
}
