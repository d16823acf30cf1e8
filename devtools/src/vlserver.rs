//! Start and stop throwaway local VictoriaLogs processes (single node or a
//! small cluster) for `flowlens demo` and the tests. Each process listens on
//! a free loopback port, keeps its data and log under a fresh directory in
//! the system temp dir, and is killed and cleaned up when dropped. A single
//! node can be stopped, killed, frozen and restarted (same port, same data)
//! for fault tests.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a process may take to answer `/health`.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a graceful stop may take before the process is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts to start a process when another one takes its port first.
const PORT_ATTEMPTS: usize = 3;

/// Data older or newer than this is still accepted: fixtures may be far
/// from today.
const RETENTION_ARGS: [&str; 2] = ["-retentionPeriod=100y", "-futureRetention=100y"];

/// Where the VictoriaLogs binary is: `$VICTORIALOGS_BIN`, else
/// `victoria-logs` on `PATH`, else `$HOME/.cache/flowlens/bin/victoria-logs`
/// (where `scripts/victorialogs.sh` builds it).
pub fn find_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("VICTORIALOGS_BIN") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("VICTORIALOGS_BIN={} is not a file", path.display()))
        };
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join("victoria-logs"));
    let cached = std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/flowlens/bin/victoria-logs"));
    on_path.chain(cached).find(|path| path.is_file()).ok_or_else(|| {
        "no victoria-logs binary: set VICTORIALOGS_BIN, put victoria-logs on PATH, \
         or run scripts/victorialogs.sh to build it into ~/.cache/flowlens/bin"
            .to_string()
    })
}

/// How to start VictoriaLogs.
#[derive(Debug, Clone, Default)]
pub struct VlOptions {
    /// `-httpAuth.username` and `-httpAuth.password` (on a cluster: the
    /// insert/select node only).
    pub basic_auth: Option<(String, String)>,
    /// More command-line flags (on a cluster: the insert/select node only).
    pub extra_args: Vec<String>,
}

/// A single-node VictoriaLogs; killed and its data removed on drop.
pub struct VlServer {
    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub url: String,
    _process: Process,
}

/// A VictoriaLogs cluster: two storage nodes and one node that both inserts
/// and selects (`-storageNode`); everything is stopped and removed on drop.
pub struct VlCluster {
    /// Where to push logs.
    pub insert_url: String,
    /// Where to query (the same node as `insert_url`).
    pub select_url: String,
    /// The storage nodes' base URLs (each answers queries for its share).
    pub storage_urls: Vec<String>,
    // Dropped in field order: the front node first, then its storage.
    _front: Process,
    _storage: Vec<Process>,
}

impl VlServer {
    /// Start a single node and wait until it is healthy; on failure the error
    /// carries the tail of the process's log.
    pub async fn start(opts: VlOptions) -> Result<VlServer, String> {
        let binary = find_binary()?;
        let process = Process::launch(&binary, "single", &[], &opts).await?;
        Ok(VlServer { url: process.url.clone(), _process: process })
    }

    /// The server's process id (for memory measurements).
    pub fn pid(&self) -> u32 {
        self._process.child.id()
    }

    /// Stops the server gracefully (SIGTERM: it flushes its data and exits),
    /// or kills it after [`STOP_TIMEOUT`]; the data directory and the port
    /// stay for [`Self::restart`].
    pub async fn stop(&mut self) -> Result<(), String> {
        self._process.signal("TERM")?;
        let started = Instant::now();
        while self._process.child.try_wait().map_err(|e| e.to_string())?.is_none() {
            if started.elapsed() > STOP_TIMEOUT {
                self.kill();
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(())
    }

    /// Kills the server at once (SIGKILL), as a crash would; the data
    /// directory and the port stay for [`Self::restart`].
    pub fn kill(&mut self) {
        let _ = self._process.child.kill();
        let _ = self._process.child.wait();
    }

    /// Suspends the server (SIGSTOP): the kernel still accepts connections
    /// and requests on its port, but nothing answers them.
    pub fn freeze(&self) -> Result<(), String> {
        self._process.signal("STOP")
    }

    /// Resumes a frozen server (SIGCONT).
    pub fn thaw(&self) -> Result<(), String> {
        self._process.signal("CONT")
    }

    /// Starts the stopped or killed server again on the same port with the
    /// same data and flags, and waits until it is healthy.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self._process.respawn().await
    }

    /// Start two storage nodes and an insert+select node in front of them.
    pub async fn start_cluster(opts: VlOptions) -> Result<VlCluster, String> {
        let binary = find_binary()?;
        let mut storage = Vec::new();
        for role in ["storage1", "storage2"] {
            storage.push(Process::launch(&binary, role, &[], &VlOptions::default()).await?);
        }
        let nodes: Vec<String> = storage.iter().map(|p| format!("127.0.0.1:{}", p.port)).collect();
        let front_args = [format!("-storageNode={}", nodes.join(","))];
        let front = Process::launch(&binary, "front", &front_args, &opts).await?;
        Ok(VlCluster {
            insert_url: front.url.clone(),
            select_url: front.url.clone(),
            storage_urls: storage.iter().map(|p| p.url.clone()).collect(),
            _front: front,
            _storage: storage,
        })
    }
}

impl VlCluster {
    /// Where to call `/internal/force_flush`, in order, to make everything
    /// pushed so far searchable: the insert node buffers for about two
    /// seconds before forwarding, so it comes first, then the storage nodes.
    pub fn flush_urls(&self) -> Vec<String> {
        std::iter::once(self.insert_url.clone()).chain(self.storage_urls.iter().cloned()).collect()
    }
}

/// One running victoria-logs process, its directory, and how it was started.
struct Process {
    child: Child,
    dir: PathBuf,
    port: u16,
    url: String,
    binary: PathBuf,
    args: Vec<String>,
    opts: VlOptions,
}

impl Process {
    /// Start `binary` on a free port and wait for `/health`, retrying when
    /// another process grabbed the port between probing and binding.
    async fn launch(binary: &Path, role: &str, args: &[String], opts: &VlOptions) -> Result<Process, String> {
        let mut last_error = String::new();
        for _ in 0..PORT_ATTEMPTS {
            let mut process = Process::spawn(binary, role, args, opts)?;
            match process.wait_healthy(opts).await {
                Ok(()) => return Ok(process),
                Err(error) if error.contains("address already in use") => last_error = error,
                Err(error) => return Err(error),
            }
        }
        Err(last_error)
    }

    fn spawn(binary: &Path, role: &str, args: &[String], opts: &VlOptions) -> Result<Process, String> {
        let port = free_port()?;
        let dir = fresh_dir(role)?;
        let child = Self::run(binary, &dir, port, args, opts).inspect_err(|_| {
            let _ = fs::remove_dir_all(&dir);
        })?;
        Ok(Process {
            child,
            dir,
            port,
            url: format!("http://127.0.0.1:{port}"),
            binary: binary.to_path_buf(),
            args: args.to_vec(),
            opts: opts.clone(),
        })
    }

    /// Starts the (exited) process again with its port, directory and flags.
    async fn respawn(&mut self) -> Result<(), String> {
        self.child = Self::run(&self.binary, &self.dir, self.port, &self.args, &self.opts)?;
        let opts = self.opts.clone();
        self.wait_healthy(&opts).await
    }

    fn run(binary: &Path, dir: &Path, port: u16, args: &[String], opts: &VlOptions) -> Result<Child, String> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(dir.join("victoria-logs.log"))
            .map_err(|e| format!("cannot create log file: {e}"))?;
        let log_err = log.try_clone().map_err(|e| format!("cannot share log file: {e}"))?;
        let mut command = Command::new(binary);
        command
            .arg(format!("-storageDataPath={}", dir.join("data").display()))
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .args(RETENTION_ARGS)
            .args(args)
            .args(&opts.extra_args)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        if let Some((user, password)) = &opts.basic_auth {
            command.arg(format!("-httpAuth.username={user}")).arg(format!("-httpAuth.password={password}"));
        }
        command.spawn().map_err(|e| format!("cannot run {}: {e}", binary.display()))
    }

    /// Sends a signal by name (`TERM`, `STOP`, `CONT`) with kill(1).
    fn signal(&self, name: &str) -> Result<(), String> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args([format!("-{name}"), pid.clone()])
            .status()
            .map_err(|e| format!("cannot run kill -{name} {pid}: {e}"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("kill -{name} {pid} failed: {status}"))
        }
    }

    /// Poll `/health` until it answers 200, the process exits, or
    /// [`STARTUP_TIMEOUT`] passes.
    async fn wait_healthy(&mut self, opts: &VlOptions) -> Result<(), String> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| format!("cannot build HTTP client: {e}"))?;
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("victoria-logs exited ({status}) during startup:\n{}", self.log_tail()));
            }
            let mut request = client.get(format!("{}/health", self.url));
            if let Some((user, password)) = &opts.basic_auth {
                request = request.basic_auth(user, Some(password));
            }
            if request.send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if started.elapsed() > STARTUP_TIMEOUT {
                return Err(format!(
                    "victoria-logs at {} not healthy after {STARTUP_TIMEOUT:?}:\n{}",
                    self.url,
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last lines the process logged.
    fn log_tail(&self) -> String {
        let log = fs::read_to_string(self.dir.join("victoria-logs.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A loopback port nobody listens on right now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot find a free loopback port: {e}"))
}

/// A new empty directory under the system temp dir, unique per process and call.
fn fresh_dir(role: &str) -> Result<PathBuf, String> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("flowlens-vl-{}-{n}-{role}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
