//! Dashboard authentication: sign-in/sign-out handlers, the session layer, the guard that enforces
//! the absolute timeout and keeps signed-out visitors on the sign-in page, the cross-origin check,
//! and the failed-sign-in limiter.

mod login;
mod origin;
mod sessions;
mod throttle;

pub use login::{login, logout};
pub use origin::refuse_cross_origin;
pub use sessions::{forget_ended_sign_ins, session_guard, session_layer, sign_in_retention};
pub use throttle::LoginThrottle;
