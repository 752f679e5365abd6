//! Server functions, grouped by resource. They authenticate, then call one domain service.

pub mod api_reference;
pub mod audit;
pub mod backup;
pub mod restore;
pub mod session;
pub mod content;
