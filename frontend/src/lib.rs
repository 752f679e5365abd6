//! The browser entry point: hydrate the server-rendered `App`.

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(lifeboat_app::App);
    // A marker for end-to-end tests (and anyone debugging) that the page is now interactive.
    if let Some(root) = leptos::prelude::document().document_element() {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
