//! The JSON REST API under `/api/v1` (SPEC §5). Handlers are thin: authenticate, parse, call one
//! domain service, map the result.

mod audit;
mod auth;
mod backup;
mod content;
mod documented_rules;
mod error;
mod extract;
mod orgs;
mod platform;
mod rate_limit;
mod restore;

use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::ApiAdmin;
pub use error::ApiError;
pub use rate_limit::ApiLimits;

use crate::startup::AppState;

/// A list that is not paginated: `{"items": [...]}` (paginated lists add `total`, `offset`, `limit`,
/// `nextOffset`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

impl<T> From<Vec<T>> for Items<T> {
    fn from(items: Vec<T>) -> Self {
        Items { items }
    }
}

/// The API's routes and its OpenAPI document, both from the handlers' `#[utoipa::path]`
/// annotations: a route cannot exist without being documented.
pub fn router() -> Router<AppState> {
    let (router, openapi) = parts();
    let openapi = std::sync::Arc::new(openapi);
    router
        .route("/openapi.json", get(move || std::future::ready(Json(openapi.as_ref().clone()))))
        .fallback(|| async { ApiError::not_found("NOT_FOUND", "no such API endpoint") })
}

/// The OpenAPI document alone (for `lifeboat openapi` and tests).
pub fn openapi() -> serde_json::Value {
    parts().1
}

/// The routes and the document, with the domain's rules on request fields added to the document
/// (`documented_rules`: utoipa's attributes take only literals, the rules are the domain's constants).
fn parts() -> (Router<AppState>, serde_json::Value) {
    let (router, doc) = routes().split_for_parts();
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document is JSON");
    documented_rules::document(&mut doc);
    (router, doc)
}

/// The operations for the dashboard's API reference page, read from the same document.
pub fn reference() -> Vec<lifeboat_app::server_fns::api_reference::ApiOperation> {
    use lifeboat_app::server_fns::api_reference::ApiOperation;
    let doc = openapi();
    // `#/components/schemas/Backup` → `Backup`; arrays and generic wrappers keep their names.
    fn schema_name(schema: &serde_json::Value) -> String {
        if let Some(r) = schema["$ref"].as_str() {
            return r.rsplit('/').next().unwrap_or(r).to_owned();
        }
        if schema["type"] == "array" {
            return format!("[{}]", schema_name(&schema["items"]));
        }
        schema["type"].as_str().unwrap_or("object").to_owned()
    }
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let content = op["requestBody"]["content"].as_object();
            let body = content.and_then(|c| c.iter().next()).map(|(media, c)| match media.as_str() {
                "application/json" => schema_name(&c["schema"]),
                other => other.to_owned(),
            });
            let answers = op["responses"]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(status, _)| status.starts_with('2'))
                .map(|(status, r)| {
                    let schema = r["content"].as_object().and_then(|c| c.values().next()).map(|c| schema_name(&c["schema"]));
                    (status.clone(), schema.unwrap_or_default())
                })
                .collect();
            let query = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect();
            ops.push(ApiOperation {
                tag: op["tags"][0].as_str().unwrap_or("Other").to_owned(),
                method: method.to_uppercase(),
                path: path.clone(),
                summary: op["summary"].as_str().unwrap_or_default().to_owned(),
                query,
                body,
                answers,
            });
        }
    }
    ops
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Lifeboat API", description = "Backup and restore of Jira and Confluence sites (SPEC §5). \
        Authenticate with HTTP Basic: your email address and an API token."),
    servers((url = "/api/v1")),
    components(schemas(error::ErrorBody)),
    modifiers(&BasicAuth),
    security(("basic" = []))
)]
struct ApiDoc;

struct BasicAuth;

impl Modify for BasicAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(orgs::list_orgs))
        .routes(routes!(orgs::get_org))
        .routes(routes!(platform::list_sites, platform::create_site))
        .routes(routes!(platform::list_users, platform::create_user))
        .routes(routes!(platform::list_groups, platform::create_group))
        .routes(routes!(platform::list_access_reviews))
        .routes(routes!(platform::decide_access_review))
        .routes(routes!(backup::regions))
        .routes(routes!(backup::list_storages, backup::create_storage))
        .routes(routes!(backup::get_storage))
        .routes(routes!(backup::create_policy))
        .routes(routes!(backup::list_policies))
        .routes(routes!(backup::get_policy, backup::update_policy))
        .routes(routes!(backup::list_backups))
        .routes(routes!(backup::create_backup))
        .routes(routes!(backup::get_backup))
        .routes(routes!(backup::cancel_backup))
        .routes(routes!(backup::list_exports, backup::create_exports))
        .routes(routes!(backup::get_export))
        .routes(routes!(backup::list_imports, backup::create_imports))
        .routes(routes!(backup::get_import))
        .routes(routes!(restore::create_restore))
        .routes(routes!(restore::revalidate))
        .routes(routes!(restore::list_restores))
        .routes(routes!(restore::get_restore))
        .routes(routes!(restore::post_op_report))
        .routes(routes!(platform::list_apps))
        .routes(routes!(platform::grant_access, platform::list_access))
        .routes(routes!(platform::app_digest))
        .routes(routes!(content::list_projects, content::create_project))
        .routes(routes!(content::list_issues, content::create_issue))
        .routes(routes!(content::get_issue))
        .routes(routes!(content::upload_issue_attachment))
        .routes(routes!(content::list_spaces, content::create_space))
        .routes(routes!(content::delete_space))
        .routes(routes!(content::list_pages, content::create_page))
        .routes(routes!(content::get_page))
        .routes(routes!(content::upload_page_attachment))
        .routes(routes!(content::download_attachment))
        .routes(routes!(audit::list_audit))
}
