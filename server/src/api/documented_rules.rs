//! The rules the domain checks on request fields, written into the OpenAPI document from the
//! domain's own constants: lengths, patterns, formats, allowed values and item counts.
//!
//! Why: API users read the rules where they read the fields, and the schema fuzzer
//! (`scripts/fuzz-api.sh`) generates requests that pass them, so it reaches the success paths instead
//! of spending its time on 400s. The domain stays the one place that enforces a rule; a rule is
//! documented here from the same constant. Where the domain is more lenient (it trims names and
//! keys, and upper-cases keys), the document describes the canonical form.

use serde_json::{json, Value};

use lifeboat_domain::model::{Product, StorageType};
use lifeboat_domain::rules::content::{NAME_MAX, PERSONAL_KEY_MAX, PROJECT_KEY_MAX, SHARD_MAX, SPACE_KEY_MAX, STATUS_MAX};
use lifeboat_domain::rules::credentials::EMAIL_MAX;
use lifeboat_domain::rules::restore::ALL_CONSENTS;
use lifeboat_domain::service::backup::transfer::MAX_ITEMS;
use lifeboat_domain::service::platform::SITE_NAME_MAX;

/// One line of text as `rules::content::normalize_name` accepts it: no control character (Unicode
/// Cc) and at least one character that is not white space.
const ONE_LINE: &str =
    r"^[^\u0000-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u001F\u007F-\u009F]*$";

/// `rules::schedule::validate`'s `HH:MM`, 00:00 to 23:59.
const TIME_OF_DAY: &str = "^([01][0-9]|2[0-3]):[0-5][0-9]$";

fn one_line(max: usize) -> Value {
    json!({ "minLength": 1, "maxLength": max, "pattern": ONE_LINE })
}

fn email() -> Value {
    json!({ "format": "email", "maxLength": EMAIL_MAX })
}

/// `rules::content::normalize_project_key`, upper or lower case.
fn project_key() -> String {
    format!("^[A-Za-z][A-Za-z0-9]{{1,{}}}$", PROJECT_KEY_MAX - 1)
}

/// `rules::content::normalize_space_key`: a global key, or a personal one (`~` and lower case).
fn space_key() -> String {
    format!("^([A-Za-z][A-Za-z0-9]{{1,{}}}|~[a-z0-9]{{1,{PERSONAL_KEY_MAX}}})$", SPACE_KEY_MAX - 1)
}

/// Adds the rules to the document; panics when one names a schema, property, path or parameter the
/// document lacks (a renamed field must not silently lose its documented rule — every test that
/// starts the server would fail).
pub fn document(doc: &mut Value) {
    let shard = format!("^[A-Za-z0-9_-]{{1,{SHARD_MAX}}}$");
    let storage_types: Vec<&str> = StorageType::ALL.iter().map(|t| t.as_str()).collect();
    let properties = [
        ("NewSite", "name", one_line(SITE_NAME_MAX)),
        ("NewSite", "shard", json!({ "pattern": shard })),
        ("NewUser", "email", email()),
        // Blank is allowed: the name then comes from the email.
        ("NewUser", "displayName", json!({ "maxLength": NAME_MAX })),
        ("NewGroup", "name", one_line(NAME_MAX)),
        ("NewGroup", "members", json!({ "items": email() })),
        ("AccessGrantRequest", "group", one_line(NAME_MAX)),
        ("NewProject", "key", json!({ "pattern": project_key() })),
        ("NewProject", "name", one_line(NAME_MAX)),
        ("NewIssue", "summary", one_line(NAME_MAX)),
        ("NewIssue", "status", one_line(STATUS_MAX)),
        // A comment must say something (`rules::content::check_comment`).
        ("NewComment", "body", json!({ "pattern": r"\S" })),
        ("NewSpace", "key", json!({ "pattern": space_key() })),
        ("NewSpace", "name", one_line(NAME_MAX)),
        ("NewSpace", "owner", email()),
        ("NewPage", "title", one_line(NAME_MAX)),
        ("NewStorage", "storageType", json!({ "enum": storage_types })),
        ("Schedule", "timeOfDay", json!({ "pattern": TIME_OF_DAY })),
        ("Revalidate", "consent", json!({ "items": { "enum": ALL_CONSENTS } })),
    ];
    for (schema, property, rules) in properties {
        let pointer = format!("/components/schemas/{schema}/properties/{property}");
        merge(doc.pointer_mut(&pointer).unwrap_or_else(|| panic!("the OpenAPI document has no {pointer}")), rules);
    }

    for path in ["/orgs/{org_id}/exports", "/orgs/{org_id}/imports"] {
        let pointer = format!("/paths/{}/post/requestBody/content/application~1json/schema", path.replace('/', "~1"));
        let body = doc.pointer_mut(&pointer).unwrap_or_else(|| panic!("the OpenAPI document has no {pointer}"));
        merge(body, json!({ "minItems": 1, "maxItems": MAX_ITEMS }));
    }

    // Path segments the handlers parse into a closed set (an unknown one is a 404).
    let products: Vec<&str> = Product::ALL.iter().map(|p| p.as_str()).collect();
    let mut documented = 0;
    for operation in doc["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()).flat_map(|item| {
        item.as_object_mut().into_iter().flat_map(|ops| ops.values_mut())
    }) {
        // `get_mut`, not indexing: indexing would add `"parameters": null` where there are none.
        for parameter in operation.get_mut("parameters").and_then(Value::as_array_mut).into_iter().flatten() {
            let values = match (parameter["in"].as_str(), parameter["name"].as_str()) {
                (Some("path"), Some("product")) => json!(products),
                (Some("path"), Some("decision")) => json!(["approve", "deny"]),
                _ => continue,
            };
            merge(&mut parameter["schema"], json!({ "enum": values }));
            documented += 1;
        }
    }
    assert!(documented > 0, "the OpenAPI document has no product or decision path parameter");
}

/// Merges `rules` into `target`, object by object (so `items` rules add to the items' type).
fn merge(target: &mut Value, rules: Value) {
    match (target, rules) {
        (Value::Object(target), Value::Object(rules)) => {
            for (key, value) in rules {
                merge(target.entry(key).or_insert(Value::Null), value);
            }
        }
        (target, rules) => *target = rules,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_merge_into_nested_objects_and_replace_leaves() {
        let mut doc = json!({ "type": "array", "items": { "type": "string" }, "maxItems": 3 });
        merge(&mut doc, json!({ "items": { "format": "email" }, "maxItems": 5 }));
        assert_eq!(doc, json!({ "type": "array", "items": { "type": "string", "format": "email" }, "maxItems": 5 }));
    }

    /// The documented patterns accept and refuse what the domain's rules do, on the cases that
    /// matter (regex crate syntax equals JSON Schema's here).
    #[test]
    fn documented_patterns_match_the_domain_rules() {
        use lifeboat_domain::rules::content::{normalize_name, normalize_project_key, normalize_space_key};
        let one_line = regex::Regex::new(ONE_LINE).unwrap();
        for name in ["Team", "  Team ", "é", "a b", "x\u{a0}"] {
            assert!(one_line.is_match(name), "{name:?}");
            assert!(normalize_name("name", name, NAME_MAX).is_ok(), "{name:?}");
        }
        for name in ["", "   ", "a\u{1e}b", "tab\tin", "x\u{85}y", "line\nbreak"] {
            assert!(!one_line.is_match(name), "{name:?}");
            assert!(normalize_name("name", name, NAME_MAX).is_err(), "{name:?}");
        }

        let time_of_day = regex::Regex::new(TIME_OF_DAY).unwrap();
        for hour in 0..=24 {
            for minute in [0, 7, 30, 59, 60] {
                let time = format!("{hour:02}:{minute:02}");
                let schedule = lifeboat_domain::model::Schedule {
                    interval: lifeboat_domain::model::Interval::Daily,
                    time_of_day: time.clone(),
                    day_of_week: None,
                };
                assert_eq!(time_of_day.is_match(&time), lifeboat_domain::rules::schedule::validate(&schedule).is_ok(), "{time}");
            }
        }

        let project_key = regex::Regex::new(&project_key()).unwrap();
        for (key, ok) in [("AB", true), ("ab2", true), ("A", false), ("2AB", false), ("ABCDEFGHIJ", true), ("ABCDEFGHIJK", false)] {
            assert_eq!(project_key.is_match(key), ok, "{key}");
            assert_eq!(normalize_project_key(key).is_ok(), ok, "{key}");
        }
        let space_key = regex::Regex::new(&space_key()).unwrap();
        for (key, ok) in [("DOCS", true), ("~ann", true), ("~", false), ("D", false), ("~a.b", false)] {
            assert_eq!(space_key.is_match(key), ok, "{key}");
            assert_eq!(normalize_space_key(key, true).is_ok(), ok, "{key}");
        }
    }
}
