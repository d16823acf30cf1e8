//! The shipped frontend's interpolation, run under Node: targets and
//! dashboard variables go to `frontend/scripts/interpolate-targets.ts`
//! (vite-node, from the frontend's devDependencies) as JSON, and come back as
//! the datasource's `applyTemplateVariables` would send them to the backend.
//! Needs Node 20+ and `frontend/node_modules` (`npm ci` in `frontend/`); fails,
//! never skips, without them.
#![allow(dead_code)] // each test crate uses a different part

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::Value;

fn frontend_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("frontend")
}

/// One target as the datasource would send it, or the error it answers instead.
#[derive(Debug, Clone)]
pub enum Interpolated {
    Target(Value),
    Error { ref_id: String, message: String },
}

impl Interpolated {
    /// The target; panics with the error if the frontend refused it.
    pub fn target(self) -> Value {
        match self {
            Interpolated::Target(t) => t,
            Interpolated::Error { ref_id, message } => panic!("the frontend refused target {ref_id}: {message}"),
        }
    }
}

/// Interpolates `targets` with dashboard `variables` (Grafana's dashboard
/// model, or the short form `{"name", "type", "value", "options": [...]}`)
/// and optional ad-hoc filters, with the shipped TypeScript code.
pub fn interpolate(variables: &Value, targets: &[Value], ad_hoc_filters: Option<&Value>) -> Vec<Interpolated> {
    let dir = frontend_dir();
    let vite_node = dir.join("node_modules/vite-node/vite-node.mjs");
    assert!(
        vite_node.is_file() && dir.join("node_modules/@grafana/data/package.json").is_file(),
        "{} is missing: run `npm ci` in frontend/ (the Rust tests interpolate variables with the shipped \
         frontend code under Node)",
        vite_node.display()
    );
    let mut request = serde_json::json!({ "variables": variables, "targets": targets });
    if let Some(filters) = ad_hoc_filters {
        request["adHocFilters"] = filters.clone();
    }
    let mut child = Command::new("node")
        .arg(&vite_node)
        .arg("scripts/interpolate-targets.ts")
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("`node` could not be started ({e}): install Node.js 20 or newer"));
    let mut stdin = child.stdin.take().unwrap();
    let body = serde_json::to_vec(&request).unwrap();
    // Written from a thread so a large answer cannot block on a full pipe while we write.
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let out = child.wait_with_output().expect("run scripts/interpolate-targets.ts");
    let written = writer.join().unwrap();
    assert!(
        out.status.success(),
        "scripts/interpolate-targets.ts failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    written.expect("write the request to node");
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("scripts/interpolate-targets.ts printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
    });
    let answered = answer["targets"].as_array().expect("an answer with targets").clone();
    assert_eq!(answered.len(), targets.len(), "one answer per target");
    answered
        .into_iter()
        .map(|t| match t.get("error").and_then(Value::as_str) {
            Some(message) => Interpolated::Error {
                ref_id: t["refId"].as_str().unwrap_or_default().to_string(),
                message: message.to_string(),
            },
            None => Interpolated::Target(t),
        })
        .collect()
}
