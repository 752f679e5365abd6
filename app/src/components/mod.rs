//! Shared widgets, written once.

pub mod empty_state;
pub mod error_panel;
pub mod layout;
pub mod pager;
pub mod status;
