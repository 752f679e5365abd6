//! The server functions' JSON, read on the client from text.
//!
//! Leptos' own `Json` decodes an answer with `serde_json::from_slice`, while hydration decodes the
//! same types (the resources' values) with `serde_json::from_str`: two copies of every answer type's
//! deserializer in the WASM, one per input kind. Reading answers as text too leaves one. The bytes
//! on the wire are the same JSON.

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// JSON in a POST body or answer, decoded from UTF-8 text.
pub struct JsonText;

/// The answer encoding of every server function (`#[server(output = JsonAnswer, …)]`).
pub type JsonAnswer = Post<JsonText>;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        serde_json::from_str(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_round_trip_and_bad_text_is_an_error() {
        let bytes = <JsonText as Encodes<Vec<String>>>::encode(&vec!["a\u{e9}".to_owned()]).unwrap();
        let back: Vec<String> = <JsonText as Decodes<Vec<String>>>::decode(bytes).unwrap();
        assert_eq!(back, vec!["a\u{e9}".to_owned()]);
        assert!(<JsonText as Decodes<Vec<String>>>::decode(Bytes::from_static(b"[\"\xff\"]")).is_err());
    }
}
