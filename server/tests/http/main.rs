//! Integration tests: each test starts the real server on port 0 with its own data directory and
//! speaks HTTP to it.

mod helpers;

mod api_contract;
mod api_tokens;
mod backups;
mod storages;
mod content;
mod digest;
mod platform;
mod recovery;
mod restores;
mod dashboard;
mod sign_in;
