//! The committed protocol code (`src/pluginv2/pluginv2.rs`) is exactly what
//! the pinned `proto/pluginv2/backend.proto` generates. Run with
//! `UPDATE_PLUGINV2=1` to regenerate it, then read the diff.

use std::path::{Path, PathBuf};

const PROTO_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/proto/pluginv2");
const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src/pluginv2/pluginv2.rs");

/// Messages whose `bytes` fields are `bytes::Bytes` (large bodies, no copy),
/// as Grafana's Rust SDK configured them.
const BYTES_MESSAGES: [&str; 4] = [
    ".pluginv2.CallResourceRequest",
    ".pluginv2.CallResourceResponse",
    ".pluginv2.RunStreamRequest",
    ".pluginv2.SubscribeStreamRequest",
];

/// Compiles the proto with protox and generates servers and clients with
/// tonic-build into `out_dir`; returns the generated file.
fn generate(out_dir: &Path) -> PathBuf {
    let descriptors = protox::compile(["backend.proto"], [PROTO_DIR])
        .unwrap_or_else(|e| panic!("{PROTO_DIR}/backend.proto does not compile: {e}"));
    let mut config = tonic_build::Config::new();
    config.bytes(BYTES_MESSAGES);
    tonic_build::configure()
        .build_server(true)
        .build_client(true)
        .emit_rerun_if_changed(false)
        .out_dir(out_dir)
        .compile_fds_with_config(config, descriptors)
        .expect("tonic-build generates the pluginv2 code");
    out_dir.join("pluginv2.rs")
}

#[test]
fn committed_pluginv2_code_is_what_the_pinned_proto_generates() {
    let out_dir = std::env::temp_dir().join(format!("flowlens-pluginv2-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).unwrap();
    let fresh = std::fs::read_to_string(generate(&out_dir)).unwrap();
    std::fs::remove_dir_all(&out_dir).unwrap();
    assert!(
        fresh.contains("pub error_source: ::prost::alloc::string::String"),
        "DataResponse.errorSource is generated"
    );
    if std::env::var_os("UPDATE_PLUGINV2").is_some() {
        refuse_update_in_ci();
        std::fs::write(COMMITTED, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == fresh,
        "{COMMITTED} is stale: it is not what {PROTO_DIR}/backend.proto generates; \
         run `UPDATE_PLUGINV2=1 cargo test --test pluginv2_generated` and commit the result"
    );
}

/// `UPDATE_PLUGINV2` rewrites the expected files and so cannot fail: refused in CI
/// (`CI` set, as every CI service sets it), where it would pass whatever
/// the code produces.
fn refuse_update_in_ci() {
    if let Some(ci) = std::env::var_os("CI").filter(|v| !v.is_empty() && v != "false" && v != "0") {
        panic!(
            "UPDATE_PLUGINV2 is set in CI (CI={}): it rewrites the expected files and passes whatever the code produces; \
             run it locally, read the diff and commit it",
            ci.to_string_lossy()
        );
    }
}
