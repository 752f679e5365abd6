use leptos::prelude::*;
use lifeboat_domain::model::SignedInAdmin;

use crate::error::AppError;

/// The signed-in admin and their organizations (for the header and the org switcher).
#[server(prefix = "/sfn", endpoint = "me", output = crate::server_fns::JsonAnswer)]
pub async fn get_me() -> Result<SignedInAdmin, AppError> {
    let (_, admin) = crate::session::current_admin().await?;
    Ok(admin)
}
