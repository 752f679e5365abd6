//! Wire types shared by the dashboard, the REST API and the CLI (serde only; compiles to wasm).

mod audit;
mod backup;
mod content;
mod identity;
mod platform;
mod restore;

pub use audit::*;
pub use backup::*;
pub use content::*;
pub use identity::*;
pub use platform::*;
pub use restore::*;
