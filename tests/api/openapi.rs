//! `docs/openapi.json` is the committed copy of the document the code generates.
//! Regenerate with `UPDATE_OPENAPI=1 cargo test --test api openapi`.

use serde_json::Value;

/// The generated document as plain JSON, for reading like a client would.
pub(crate) fn document_json() -> Value {
    serde_json::from_str(&api::openapi::document().to_json().expect("json")).expect("parses")
}

/// Every operation of an OpenAPI document: its method (upper case), path and object.
pub(crate) fn operations(document: &Value) -> Vec<(String, &str, &Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("path item") {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                found.push((method.to_uppercase(), path.as_str(), operation));
            }
        }
    }
    found
}

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
    let document = document_json();
    for (method, path, operation) in operations(&document) {
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

/// Generated clients learn every answer a secured call can give: 401 and 403 everywhere a token
/// is needed, 429 where sign-in is rate-limited.
#[test]
fn secured_operations_declare_401_and_403() {
    let document = document_json();
    let mut secured = 0;
    for (method, path, operation) in operations(&document) {
        if operation["security"]
            .as_array()
            .is_none_or(|s| s.is_empty())
        {
            continue;
        }
        secured += 1;
        for status in ["401", "403"] {
            assert!(
                operation["responses"].get(status).is_some(),
                "{method} {path} lacks {status}"
            );
        }
    }
    assert!(secured > 50, "{secured} secured operations");
    for path in ["/api/v1/auth/login", "/api/v1/auth/refresh"] {
        assert!(document["paths"][path]["post"]["responses"]["429"].is_object());
    }
    let income = &document["paths"]["/api/v1/stats/income"]["get"]["responses"]["200"]["content"];
    assert!(income["application/json"].is_object(), "{income}");
    assert!(income["text/csv"].is_object(), "{income}");
}

/// Every `$ref` names a schema the document holds: an unresolvable one leaves a client generator
/// (and the contract fuzzing) blind to that part.
#[test]
fn every_reference_resolves() {
    fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(target) = map.get("$ref").and_then(|r| r.as_str()) {
                    found.push(target);
                }
                map.values().for_each(|v| refs(v, found));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let document = document_json();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(found.len() > 100, "{} references", found.len());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {target}"));
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{target} is referenced but not defined"
        );
    }
}

/// Answers any operation of a kind can give are declared on every one of them.
#[test]
fn shared_answers_are_declared_everywhere() {
    let document = document_json();
    for (method, path, operation) in operations(&document) {
        let responses = &operation["responses"];
        assert!(responses["503"].is_object(), "{method} {path} lacks 503");
        if operation["requestBody"].is_object() {
            for status in ["400", "408", "413", "415", "422"] {
                assert!(
                    responses[status].is_object(),
                    "{method} {path} lacks {status}"
                );
            }
        }
    }
}

/// The patterns the document gives clients for mobiles, region codes and USCCs are where they
/// belong and agree with the parsers: every value the pattern admits parses, and samples it
/// refuses do not.
#[test]
fn documented_patterns_agree_with_the_parsers() {
    use api::domain::{Mobile, RegionCode, Uscc};
    let document = document_json();
    let schemas = &document["components"]["schemas"];
    let pattern_of = |schema: &str, field: &str| {
        let pattern = schemas[schema]["properties"][field]["pattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{schema}.{field} has no pattern"));
        regex::Regex::new(pattern).expect("a valid pattern")
    };
    /// A documented format: the fields that carry it, its parser, samples either side.
    struct Format {
        fields: &'static [(&'static str, &'static str)],
        parses: fn(&str) -> bool,
        valid: &'static [&'static str],
        invalid: &'static [&'static str],
    }
    let formats = [
        Format {
            fields: &[
                ("LoginRequest", "mobile"),
                ("CreateUserRequest", "mobile"),
                ("CreateOrganizationRequest", "legal_rep_mobile"),
                ("UpdateOrganizationRequest", "legal_rep_mobile"),
            ],
            parses: |s| Mobile::parse(s).is_ok(),
            valid: &["13800138000", "19912345678"],
            invalid: &["12800138000", "1380013800", "138001380001", "1380013800a"],
        },
        Format {
            fields: &[
                ("CreateOrganizationRequest", "region_code"),
                ("UpdateOrganizationRequest", "region_code"),
                ("CreateAssetRequest", "region_code"),
                ("UpdateAssetRequest", "region_code"),
                ("CreateBranchRequest", "region_code"),
                ("CreateRegionRequest", "code"),
                ("CreateRegionRequest", "parent_code"),
            ],
            parses: |s| RegionCode::parse(s).is_ok(),
            valid: &["140826100001"],
            invalid: &["14082610000", "1408261000011", "14082610000x"],
        },
        Format {
            fields: &[
                ("CreateOrganizationRequest", "uscc"),
                ("UpdateOrganizationRequest", "uscc"),
                ("CreateEntityRequest", "uscc"),
                ("UpdateEntityRequest", "uscc"),
            ],
            parses: |s| Uscc::parse(s).is_ok(),
            valid: &["91350100M000100Y43"],
            invalid: &[
                "91350100M000100Y4",
                "91350100M000100YI3",
                "91350100M000100Y433",
            ],
        },
    ];
    for format in formats {
        for (schema, field) in format.fields {
            let pattern = pattern_of(schema, field);
            for value in format.valid {
                assert!(pattern.is_match(value) && (format.parses)(value), "{value}");
            }
            for value in format.invalid {
                assert!(
                    !pattern.is_match(value) && !(format.parses)(value),
                    "{value}"
                );
            }
        }
    }
}
