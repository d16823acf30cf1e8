//! Grafana's backend plugin protocol: messages, servers and clients generated
//! by tonic-build from `proto/pluginv2/backend.proto`, pinned from the Go
//! plugin SDK (see `proto/pluginv2/README.md`). The generated file is
//! committed; `tests/pluginv2_generated.rs` fails when it is stale and
//! rewrites it with `UPDATE_PLUGINV2=1`. Never edit `pluginv2.rs` by hand.

#![allow(missing_docs, clippy::all, clippy::pedantic)]

include!("pluginv2.rs");
