//! The browser entry point: hydrate the server-rendered `App`.

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    native_clicks_until_hydrated();
    // Asynchronous: the page's lazy route chunk (see `lifeboat_app`'s `lazy_pages!`) is fetched
    // before the page hydrates.
    wasm_bindgen_futures::spawn_local(async {
        let app = leptos::mount::hydrate_from_async(leptos::prelude::document().body().expect("a <body>"), lifeboat_app::App).await;
        app.forget();
        // A marker for end-to-end tests (and anyone debugging) that the page is now interactive.
        if let Some(root) = leptos::prelude::document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });
}

/// Until the page has hydrated, a click works as it does without JavaScript (a link loads its page,
/// a form posts). The router listens for clicks from the start, but while a lazy page is still
/// hydrating, a client-side navigation would leave the old page's view under the new address; a
/// listener that runs before the router's (window, capture phase) keeps such clicks from it.
#[cfg(feature = "hydrate")]
fn native_clicks_until_hydrated() {
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else { return };
    let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::Event)>::new(|event: web_sys::Event| {
        let hydrated = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .is_some_and(|root| root.get_attribute("data-hydrated").as_deref() == Some("true"));
        if !hydrated {
            event.stop_immediate_propagation();
        }
    });
    let _ = window.add_event_listener_with_callback_and_bool("click", listener.as_ref().unchecked_ref(), true);
    // Lives as long as the page.
    listener.forget();
}
