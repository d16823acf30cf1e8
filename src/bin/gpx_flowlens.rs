//! The backend executable Grafana starts (`gpx_flowlens_linux_amd64` in
//! dist/). Logs go to stderr, which Grafana collects; stdout carries only
//! the go-plugin handshake line.

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .json()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("FLOWLENS_LOG").unwrap_or_else(|_| "info".into()))
        .init();
    if let Err(e) = flowlens::plugin::serve().await {
        tracing::error!(error = %e, "plugin stopped");
        std::process::exit(1);
    }
}
