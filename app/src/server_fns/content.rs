//! Sites, apps and the read-only content browser.

use leptos::prelude::*;
use lifeboat_domain::model::{Issue, Page, Paged, Project, Site, Space};

use crate::error::AppError;

#[server(prefix = "/sfn", endpoint = "sites", output = crate::server_fns::JsonAnswer)]
pub async fn list_sites(org_id: String) -> Result<Vec<Site>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    Ok(lifeboat_domain::service::platform::list_sites(&backend.db, &admin.admin_id, &org_id).await?)
}

#[server(prefix = "/sfn", endpoint = "site", output = crate::server_fns::JsonAnswer)]
pub async fn get_site(org_id: String, cloud_id: String) -> Result<Site, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    Ok(lifeboat_domain::service::platform::get_site(&backend.db, &admin.admin_id, &org_id, &cloud_id).await?)
}

#[server(prefix = "/sfn", endpoint = "projects", output = crate::server_fns::JsonAnswer)]
pub async fn list_projects(org_id: String, cloud_id: String, offset: u64) -> Result<Paged<Project>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let page = lifeboat_domain::model::PageRequest { limit: Some(PAGE_SIZE), offset: Some(offset) };
    Ok(lifeboat_domain::service::content::list_projects(&backend.db, &admin.admin_id, &org_id, &cloud_id, page).await?)
}

#[server(prefix = "/sfn", endpoint = "issues", output = crate::server_fns::JsonAnswer)]
pub async fn list_issues(org_id: String, cloud_id: String, project_key: String, offset: u64) -> Result<Paged<Issue>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let page = lifeboat_domain::model::PageRequest { limit: Some(PAGE_SIZE), offset: Some(offset) };
    Ok(lifeboat_domain::service::content::list_issues(&backend.db, &admin.admin_id, &org_id, &cloud_id, &project_key, page)
        .await?)
}

#[server(prefix = "/sfn", endpoint = "spaces", output = crate::server_fns::JsonAnswer)]
pub async fn list_spaces(org_id: String, cloud_id: String, offset: u64) -> Result<Paged<Space>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let page = lifeboat_domain::model::PageRequest { limit: Some(PAGE_SIZE), offset: Some(offset) };
    Ok(lifeboat_domain::service::content::list_spaces(&backend.db, &admin.admin_id, &org_id, &cloud_id, page).await?)
}

#[server(prefix = "/sfn", endpoint = "pages", output = crate::server_fns::JsonAnswer)]
pub async fn list_pages(org_id: String, cloud_id: String, space_key: String, offset: u64) -> Result<Paged<Page>, AppError> {
    let (backend, admin) = crate::session::current_admin().await?;
    let page = lifeboat_domain::model::PageRequest { limit: Some(PAGE_SIZE), offset: Some(offset) };
    Ok(lifeboat_domain::service::content::list_pages(&backend.db, &admin.admin_id, &org_id, &cloud_id, &space_key, page)
        .await?)
}

/// Rows per page in the dashboard's tables.
pub const PAGE_SIZE: u32 = 25;

/// The *Create site* form. Checkbox fields arrive only when ticked (HTML forms), hence the options.
#[server(prefix = "/sfn", endpoint = "create_site", output = crate::server_fns::JsonAnswer)]
pub async fn create_site(
    org_id: String,
    name: String,
    plan: String,
    shard: String,
    jira: Option<String>,
    confluence: Option<String>,
    free_trial: Option<String>,
) -> Result<Site, AppError> {
    use lifeboat_domain::model::{NewSite, Plan, Product};
    let (backend, admin) = crate::session::current_admin().await?;
    let plan = Plan::parse(&plan).ok_or_else(|| crate::error::invalid("INVALID_PLAN", "Choose a plan."))?;
    let products: Vec<Product> = [(jira.is_some(), Product::Jira), (confluence.is_some(), Product::Confluence)]
        .into_iter()
        .filter_map(|(on, p)| on.then_some(p))
        .collect();
    let req = NewSite { name, products, plan, shard, free_trial: free_trial.is_some() };
    Ok(lifeboat_domain::service::platform::create_site(&backend.db, &admin.admin_id, &org_id, req).await?)
}
