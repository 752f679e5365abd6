// `sqlx::migrate!` embeds migrations/ at compile time, but cargo does not know the macro read that
// directory: without this line a new or edited migration was left out of the build until some Rust
// file of the crate changed (measured: adding a migration file rebuilt nothing). sqlx's documentation
// recommends this build script.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
