//! Wire types shared by the dashboard, the REST API and the CLI (serde only; compiles to wasm).

mod identity;

pub use identity::*;
