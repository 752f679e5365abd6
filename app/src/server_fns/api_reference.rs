//! The API reference page: the server's OpenAPI document, summarized for people.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One operation of the REST API, as the reference page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiOperation {
    pub tag: String,
    pub method: String,
    /// Relative to `/api/v1`.
    pub path: String,
    pub summary: String,
    /// Query parameters by name.
    pub query: Vec<String>,
    /// The request body's schema name (or media type for raw bodies).
    pub body: Option<String>,
    /// `status → schema name` of the success answers.
    pub answers: Vec<(String, String)>,
}

/// The operations, built once at start from the same OpenAPI document `/api/v1/openapi.json`
/// serves (the server provides it as context).
#[derive(Clone, Debug, Default)]
pub struct ApiDocument(pub std::sync::Arc<Vec<ApiOperation>>);

#[server(prefix = "/sfn", endpoint = "api_reference", output = crate::server_fns::JsonAnswer)]
pub async fn api_reference() -> Result<Vec<ApiOperation>, AppError> {
    crate::session::current_admin().await?;
    Ok(use_context::<ApiDocument>().map(|r| r.0.as_ref().clone()).unwrap_or_default())
}
