//! Pure decisions used by the dashboard, the REST API and the jobs alike. No I/O here.

pub mod content;
pub mod credentials;
pub mod paging;
pub mod rate_limit;
pub mod schedule;
pub mod restore;
