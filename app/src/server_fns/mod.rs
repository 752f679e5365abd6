//! Server functions, grouped by resource. They authenticate, then call one domain service.

pub mod api_reference;
pub mod audit;
pub mod backup;
pub mod restore;
pub mod session;
pub mod content;
mod json_text;

pub use json_text::{JsonAnswer, JsonText};

/// The path every server function is served under (each `#[server(prefix = "/sfn", …)]` spells it:
/// the macro takes no constant).
pub const SERVER_FN_PREFIX: &str = "/sfn/";
