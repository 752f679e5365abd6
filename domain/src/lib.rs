//! Lifeboat's domain backend.
//!
//! `model` and `rules` compile everywhere (including the browser bundle); everything that touches the
//! database, the file system or secrets sits behind the `backend` feature. Data flows one way:
//! the server and the dashboard call `service`, `service` calls `store` and `rules`.

#[cfg(feature = "backend")]
pub mod archive;
#[cfg(feature = "backend")]
pub mod blobs;
#[cfg(feature = "backend")]
pub mod jobs;
pub mod model;
pub mod rules;

#[cfg(feature = "backend")]
pub mod service;
#[cfg(feature = "backend")]
pub mod storage;
#[cfg(feature = "backend")]
pub mod store;
