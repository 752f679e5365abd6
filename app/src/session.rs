//! Session keys and the signed-in admin, shared by the server's sign-in handler, its auth
//! middleware and the server functions (server only).

use lifeboat_domain::model::SignedInAdmin;
use lifeboat_domain::service::{identity, Backend};
use tower_sessions::Session;

use crate::error::AppError;

/// The signed-in admin's id.
pub const ADMIN_ID: &str = "admin_id";
/// The sign-in's id on the server (`identity::start_sign_in`): the session is signed in only while
/// that record stands and is younger than the absolute timeout, which the server's session guard
/// checks on every request.
pub const SIGN_IN_ID: &str = "sign_in_id";

pub fn unauthenticated() -> AppError {
    crate::error::answer_with_status(401);
    AppError::new("UNAUTHENTICATED", "Your session has ended. Sign in again.")
}

/// The backend handed to server functions by the server's router.
pub fn backend() -> Result<Backend, AppError> {
    leptos::prelude::use_context::<Backend>()
        .ok_or_else(|| AppError::new("INTERNAL_ERROR", "the server is missing its backend context"))
}

/// The admin of the current request's session, or UNAUTHENTICATED.
pub async fn current_admin() -> Result<(Backend, SignedInAdmin), AppError> {
    let backend = backend()?;
    let session: Session = leptos_axum::extract().await.map_err(|_| unauthenticated())?;
    let admin_id: Option<String> = session.get(ADMIN_ID).await.map_err(|_| unauthenticated())?;
    let admin_id = admin_id.ok_or_else(unauthenticated)?;
    let admin = identity::signed_in_admin(&backend.db, &admin_id).await?.ok_or_else(unauthenticated)?;
    Ok((backend, admin))
}
