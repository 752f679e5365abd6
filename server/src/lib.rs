//! The `lifeboat` server: configuration, CLI, HTTP wiring, REST API and authentication.
//! The domain lives in `lifeboat-domain`; the dashboard in `lifeboat-app`.

pub mod api;
pub mod auth;
pub mod benchmark;
pub mod cli;
pub mod config;
pub mod demo;
pub mod startup;
pub mod verify;
