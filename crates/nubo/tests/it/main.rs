//! The one integration target, in three tiers:
//! - `http_*`: in-process HTTP tests through `Router::oneshot`;
//! - `catalog_backends`: the catalog and blob conformance suites on every adapter;
//! - `blackbox`: the real binary driven by the official Python and Node SDKs.

mod blackbox;
mod blackbox_jobs;
mod catalog_backends;
mod harness;
mod http_admin;
mod http_chunked;
mod http_delivery;
mod http_layers;
mod http_manage;
mod http_smart;
mod http_transform;
mod http_tus;
mod http_upload;
mod http_webhooks;
