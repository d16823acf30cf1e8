//! The backend executable Grafana starts (`gpx_flowlens_linux_amd64` in
//! dist/). Logs go to stderr, which Grafana collects; stdout carries only
//! the go-plugin handshake line.

fn main() {
    tune_malloc();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("the tokio runtime");
    runtime.block_on(async {
        tracing_subscriber::fmt()
            .json()
            .with_writer(std::io::stderr)
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_env("FLOWLENS_LOG").unwrap_or_else(|_| "info".into()),
            )
            .init();
        if let Err(e) = flowlens::plugin::serve().await {
            tracing::error!(error = %e, "plugin stopped");
            std::process::exit(1);
        }
    });
}

/// glibc's malloc, set for a small peak (docs/performance.md, "Memory"):
/// one arena, so memory one worker thread frees is reused by the others;
/// every block from 128 KiB up (the columns, IPC bytes, answers) its own
/// mapping, returned on free and grown in place, instead of glibc's
/// threshold that rises with each large block freed and leaves them in
/// the heap. Before any thread starts; the `MALLOC_*` variables still win
/// when set. Other libcs are left as they are.
fn tune_malloc() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        use libc::{mallopt, M_ARENA_MAX, M_MMAP_THRESHOLD};
        for (param, value, env) in
            [(M_ARENA_MAX, 1, "MALLOC_ARENA_MAX"), (M_MMAP_THRESHOLD, 128 * 1024, "MALLOC_MMAP_THRESHOLD_")]
        {
            if std::env::var_os(env).is_none() {
                // SAFETY: mallopt only sets allocator parameters; called
                // before any other thread exists.
                unsafe { mallopt(param, value) };
            }
        }
    }
}
