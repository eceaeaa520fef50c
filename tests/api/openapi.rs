//! `docs/openapi.json` is the committed copy of the document the code generates.
//! Regenerate with `UPDATE_OPENAPI=1 cargo test --test api openapi`.

#[test]
fn committed_document_matches_the_code() {
    let generated = api::openapi::document()
        .to_pretty_json()
        .expect("document serialises")
        + "\n";
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(path, &generated).expect("write docs/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/openapi.json is out of date: run `UPDATE_OPENAPI=1 cargo test --test api openapi`"
    );
}

/// OpenAPI 3.1 requires a description on every response object; validators reject the
/// document otherwise.
#[test]
fn every_response_has_a_description() {
    let document: serde_json::Value =
        serde_json::from_str(&api::openapi::document().to_json().expect("json")).expect("parses");
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            for (status, response) in operation["responses"].as_object().expect("responses") {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status}"
                );
            }
        }
    }
}
