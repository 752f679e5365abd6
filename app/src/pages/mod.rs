//! One file per page.

pub mod access_reviews;
pub mod api_reference;
pub mod audit;
pub mod backup_and_restore;
pub mod backups;
pub mod content_browser;
pub mod login;
pub mod not_found;
pub mod restore_wizard;
pub mod restores;
pub mod sites;
pub mod storage;
