//! Hostile input: control characters, spreadsheet formulas, stalled bodies, unreadable queries.

use std::time::{Duration, Instant};

use base64::Engine;
use sea_orm::ConnectionTrait;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::*;

#[tokio::test]
async fn a_nul_in_a_login_is_a_field_error_not_a_crash() {
    let app = spawn_app().await;
    let reply = app
        .post("/api/v1/auth/login")
        .body("application/json", r#"{"mobile":"1\u0000","password":"x"}"#)
        .send()
        .await;
    reply.assert_fields(&[("mobile", "control_characters")]);
}

#[tokio::test]
async fn control_characters_are_refused_in_bodies_queries_cursors_and_files() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;

    // Names are one line: no NUL, no line break. Nothing is stored.
    for name in ["郭家\u{0}庄村", "郭家庄村\n", "\u{7}"] {
        app.post("/api/v1/regions")
            .bearer(&admin)
            .json(&json!({"code": "140826100002", "name": name}))
            .send()
            .await
            .assert_fields(&[("name", "control_characters")]);
    }
    app.get("/api/v1/regions/140826100002")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(404, "not_found");
    // Nor in a path.
    app.get("/api/v1/regions/%00")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(404, "not_found");

    // A multi-line note may hold line breaks, but not a NUL.
    let asset = app
        .post("/api/v1/assets")
        .bearer(&app.admin_token().await)
        .json(&json!({
            "organization_id": app.fixture.org,
            "kind": "production_facility", "name": "蔬菜大棚", "region_code": VILLAGE,
            "address": "北庄村", "quantity": "1", "unit": "座",
            "description": "日光温室\n2019 年建成\t完好",
        }))
        .send()
        .await;
    let asset_id = asset.created_id();
    app.post(&format!("/api/v1/assets/{asset_id}/verification"))
        .bearer(&admin)
        .json(&json!({"decision": "rejected", "note": "证书缺失\u{0}"}))
        .send()
        .await
        .assert_fields(&[("note", "control_characters")]);

    // Query parameters and cursors.
    let reply = app
        .get("/api/v1/organizations?q=%00")
        .bearer(&admin)
        .send()
        .await;
    let body = reply.assert_problem(400, "invalid_query");
    assert_eq!(body["errors"][0]["field"], "q");
    assert_eq!(body["errors"][0]["code"], "control_characters");
    let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#""1408\u0000""#);
    app.get(&format!("/api/v1/regions?cursor={forged}"))
        .bearer(&admin)
        .send()
        .await
        .assert_problem(400, "invalid_cursor");

    // A CSV cell.
    let village = "140826101150";
    let row = format!(
        "村\u{0}股份经济合作社,{},{village},村,李四,13900000002,50,2021,60000.00",
        uscc_for(village)
    );
    import_row(&app, &admin, &row)
        .await
        .assert_fields(&[("rows[2].name", "control_characters")]);
}

/// Imports a CSV file of one organization row.
async fn import_row(app: &TestApp, admin: &str, row: &str) -> Reply {
    let header = "name,uscc,village_code,village_name,legal_rep_name,legal_rep_mobile,member_households,income_year,income";
    app.post("/api/v1/organizations/import")
        .bearer(admin)
        .body("text/csv", format!("{header}\n{row}\n"))
        .send()
        .await
}

#[tokio::test]
async fn csv_exports_neutralize_formulas_and_storage_keeps_them_literal() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let formula = "=cmd|' /C calc'!A0";
    app.post("/api/v1/regions")
        .bearer(&admin)
        .json(&json!({"code": "140826102000", "name": formula}))
        .send()
        .await
        .assert_status(201);
    let stored = app
        .get("/api/v1/regions/140826102000")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(stored.assert_status(200)["name"], formula);

    // An organization in that township with a 2021 income, so the township has a row.
    let village = "140826102001";
    let row = format!(
        "\"=HYPERLINK(\"\"http://evil.example\"\")\",{},{village},@SUM(A1),+1+cmd,13900000003,50,2021,60000.00",
        uscc_for(village)
    );
    import_row(&app, &admin, &row).await.assert_status(201);
    let listed = app
        .get(&format!("/api/v1/organizations?region_code={village}"))
        .bearer(&admin)
        .send()
        .await;
    let org = &listed.assert_status(200)["items"][0];
    assert_eq!(org["name"], "=HYPERLINK(\"http://evil.example\")");
    assert_eq!(org["legal_rep_name"], "+1+cmd");

    let csv = app
        .get("/api/v1/stats/income?year=2021")
        .bearer(&admin)
        .header("accept", "text/csv")
        .send()
        .await;
    assert_eq!(csv.status, 200);
    let mut reader = csv::Reader::from_reader(csv.bytes.as_slice());
    let names: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(1).unwrap().to_owned())
        .collect();
    assert!(names.contains(&format!("'{formula}")), "{names:?}");
    for name in &names {
        assert!(
            !name.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{name:?} would run as a formula"
        );
    }

    // A township with an application in it, named like a formula (written straight into the
    // table: the API has no renaming of regions), so the portfolio has a row to defuse.
    let desk = crate::review::desk(&app).await;
    crate::review::submitted(&app, &desk, "100000.00").await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE regions SET name = '@SUM(A1)' WHERE code = '{TOWNSHIP}'"
        ))
        .await
        .unwrap();

    // Every CSV the API writes: no cell a spreadsheet would run (a negative number is data).
    // The audit export holds the names inside its JSON summaries, never at a cell's start.
    for (path, names_lead_cells) in [
        ("/api/v1/stats/income?year=2021", true),
        (
            &format!("/api/v1/stats/portfolio?region_code={COUNTY}"),
            true,
        ),
        ("/api/v1/audit-events?limit=100", false),
    ] {
        let csv = app
            .get(path)
            .bearer(&admin)
            .header("accept", "text/csv")
            .send()
            .await;
        assert_eq!(csv.status, 200, "{path}: {}", csv.text);
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(csv.bytes.as_slice());
        let mut cells = 0;
        let mut defused = 0;
        for record in reader.records() {
            for cell in record.unwrap().iter() {
                cells += 1;
                defused += usize::from(cell.starts_with('\''));
                let number = cell.parse::<f64>().is_ok();
                assert!(
                    number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{path}: {cell:?} would run as a formula"
                );
            }
        }
        assert!(cells > 10, "{path}: {cells} cells");
        assert_eq!(defused > 0, names_lead_cells, "{path}: {defused} defused");
    }
}

/// Sends the head of a request and only part of its body, then waits for the answer.
async fn stall_body(address: &str, path: &str, extra_headers: &str) -> (String, Duration) {
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\n{extra_headers}Content-Length: 1000\r\n\r\n0123456789"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(20), stream.read(&mut answer))
        .await
        .expect("the server answers a stalled body")
        .unwrap();
    // Then the connection ends: the rest of the body will never be read.
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut rest))
        .await
        .expect("the server closes the connection after answering")
        .ok();
    (
        String::from_utf8_lossy(&answer[..read]).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_body_that_never_arrives_gets_408() {
    let app = spawn_app_with(|s| s.body_timeout_secs = 1).await;
    let (answer, waited) = stall_body(
        &app.address,
        "/api/v1/auth/login",
        "Content-Type: application/json\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    assert!(waited < Duration::from_secs(10), "{waited:?}");

    // An upload as well.
    let token = app.admin_token().await;
    let asset = app
        .post("/api/v1/assets")
        .bearer(&token)
        .json(&json!({
            "organization_id": app.fixture.org,
            "kind": "production_facility", "name": "冷库", "region_code": VILLAGE,
            "address": "北庄村", "quantity": "1", "unit": "座",
        }))
        .send()
        .await;
    let asset_id = asset.created_id();
    let (answer, _) = stall_body(
        &app.address,
        &format!("/api/v1/assets/{asset_id}/documents"),
        &format!(
            "Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=x\r\n"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test]
async fn unreadable_query_parameters_are_named_and_localized() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let reply = app
        .get("/api/v1/users?role=king")
        .bearer(&admin)
        .header("accept-language", "zh-CN")
        .send()
        .await;
    let body = reply.assert_problem(400, "invalid_query");
    assert_eq!(body["errors"][0]["field"], "role");
    assert_eq!(body["errors"][0]["code"], "unknown_value");
    assert_eq!(body["errors"][0]["message"], "取值不在允许范围内");
    assert!(!reply.text.contains("deserialize"), "{}", reply.text);
    assert!(body.get("detail").is_none());

    let reply = app
        .get("/api/v1/users?limit=1000")
        .bearer(&admin)
        .send()
        .await;
    let body = reply.assert_problem(400, "invalid_query");
    assert_eq!(body["errors"][0]["field"], "limit");
    assert_eq!(body["errors"][0]["code"], "limit_out_of_range");
    let reply = app
        .get("/api/v1/users?limit=-5")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(
        reply.assert_problem(400, "invalid_query")["errors"][0]["field"],
        "limit"
    );
}

#[tokio::test]
async fn metrics_can_be_switched_off_or_moved_to_an_address_of_their_own() {
    let off = spawn_app_with(|s| s.metrics = api::config::MetricsEndpoint::Off).await;
    off.get("/metrics")
        .send()
        .await
        .assert_problem(404, "not_found");

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let separate = format!("127.0.0.1:{port}");
    let app = spawn_app_with(|s| {
        s.metrics = api::config::MetricsEndpoint::Separate(separate.clone());
    })
    .await;
    app.get("/health/live").send().await.assert_status(200);
    app.get("/metrics")
        .send()
        .await
        .assert_problem(404, "not_found");
    let scraped = reqwest::get(format!("http://{separate}/metrics"))
        .await
        .unwrap();
    assert_eq!(scraped.status().as_u16(), 200);
    let text = scraped.text().await.unwrap();
    assert!(
        text.contains("api_http_requests_total{endpoint=\"/health/live\""),
        "{text}"
    );
}

/// Sends raw bytes on a fresh connection and reads until the server answers or closes; `None`
/// when nothing came back within `wait`.
async fn raw_exchange(address: &str, bytes: &[u8], wait: Duration) -> Option<(String, Duration)> {
    let host = address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let started = Instant::now();
    stream.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(wait, async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    answer.extend_from_slice(&buf[..n]);
                    if answer.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    read.ok().map(|()| {
        (
            String::from_utf8_lossy(&answer).into_owned(),
            started.elapsed(),
        )
    })
}

#[tokio::test]
async fn deeply_nested_json_is_refused_and_the_server_lives_on() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for depth in [200, 100_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for body in [
            nested.clone(),
            format!(r#"{{"code": "140826102000", "name": {nested}}}"#),
        ] {
            let reply = app
                .post("/api/v1/regions")
                .bearer(&admin)
                .body("application/json", body)
                .send()
                .await;
            let status = reply.status.as_u16();
            assert!(
                [400, 413, 422].contains(&status),
                "depth {depth}: {status} {}",
                reply.text
            );
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json")
            );
        }
    }
    app.get("/health/ready").send().await.assert_status(200);
    let regions = app
        .get("/api/v1/regions?limit=100")
        .bearer(&admin)
        .send()
        .await;
    assert!(
        !regions.text.contains("140826102000"),
        "a refused body stored something"
    );
}

#[tokio::test]
async fn page_sizes_and_cursors_out_of_range_are_400_problems() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    for limit in [
        "-1",
        "0",
        "101",
        "1000000",
        "99999999999999999999999",
        "1e3",
        "ten",
    ] {
        let reply = app
            .get(&format!("/api/v1/users?limit={limit}"))
            .bearer(&admin)
            .send()
            .await;
        reply.assert_problem(400, "invalid_query");
        assert_eq!(reply.body["errors"][0]["field"], "limit", "{}", reply.text);
    }
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    for cursor in [
        "%%%".to_owned(),
        b64(b"not json"),
        b64(br#""a string where an id belongs""#),
        b64(br#"{"id": "' OR 1=1 --"}"#),
        b64(&[0xff, 0xfe, 0x00]),
        "A".repeat(10_000),
    ] {
        app.get(&format!("/api/v1/users?cursor={cursor}"))
            .bearer(&admin)
            .send()
            .await
            .assert_problem(400, "invalid_cursor");
    }
}

#[tokio::test]
async fn bodies_and_queries_that_are_not_utf8_are_400_problems() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let mut body = br#"{"code": "140826102000", "name": "#.to_vec();
    body.extend_from_slice(&[b'"', 0xff, 0xfe, b'"', b'}']);
    app.post("/api/v1/regions")
        .bearer(&admin)
        .body("application/json", body)
        .send()
        .await
        .assert_problem(400, "malformed_json");
    let reply = app
        .get("/api/v1/organizations?region_code=%FF%FE")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    app.get("/api/v1/regions/140826102000")
        .bearer(&admin)
        .send()
        .await
        .assert_problem(404, "not_found");
}

#[tokio::test]
async fn sql_and_markup_are_stored_and_returned_literally() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let hostile = [
        ("140826102000", "'; DROP TABLE users; --"),
        ("140826103000", "<script>alert(document.cookie)</script>"),
        ("140826104000", "\" OR \"1\"=\"1"),
        ("140826105000", "镇'); DELETE FROM regions WHERE ('1'='1"),
    ];
    for (code, name) in hostile {
        app.post("/api/v1/regions")
            .bearer(&admin)
            .json(&json!({"code": code, "name": name}))
            .send()
            .await
            .assert_status(201);
        let read = app
            .get(&format!("/api/v1/regions/{code}"))
            .bearer(&admin)
            .send()
            .await;
        assert_eq!(read.assert_status(200)["name"], name);
        assert_eq!(read.header("content-type"), Some("application/json"));
    }
    // The tables those strings name are all still there, and a filter made of SQL is refused.
    app.get("/api/v1/me")
        .bearer(&admin)
        .send()
        .await
        .assert_status(200);
    let listed = app
        .get("/api/v1/regions?parent_code=140826000000&limit=100")
        .bearer(&admin)
        .send()
        .await;
    let townships = listed.assert_status(200)["items"].as_array().unwrap();
    for (code, name) in hostile {
        assert!(
            townships
                .iter()
                .any(|r| r["code"] == code && r["name"] == name),
            "{code} is not listed as {name}"
        );
    }
    let injected = app
        .get("/api/v1/organizations?region_code=140826'%20OR%20'1'='1")
        .bearer(&admin)
        .send()
        .await;
    injected.assert_problem(400, "invalid_query");
}

#[tokio::test]
async fn a_huge_content_length_is_refused_before_any_body_arrives() {
    let app = spawn_app().await;
    let request = "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                   Content-Length: 999999999999\r\n\r\n";
    let (answer, took) = raw_exchange(&app.address, request.as_bytes(), Duration::from_secs(10))
        .await
        .expect("an answer without waiting for the body");
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

/// A connection that sends nothing, and one that sends its head a byte at a time (slowloris):
/// both are closed by the server's request-head timeout instead of being held open.
#[tokio::test]
async fn idle_and_slow_connections_are_closed_by_the_server() {
    let app = spawn_app().await;
    let idle = raw_exchange(&app.address, b"", Duration::from_secs(15));
    let host = app.address.trim_start_matches("http://").to_owned();
    let slow = async move {
        let mut stream = tokio::net::TcpStream::connect(&host).await.unwrap();
        let started = Instant::now();
        let head = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ";
        stream.write_all(head).await.unwrap();
        // One more byte a second, for up to 20 s, unless the server hangs up.
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if stream.write_all(b"a").await.is_err() {
                return started.elapsed();
            }
            let mut buf = [0u8; 256];
            // An answer (408) or a close.
            if let Ok(Ok(_)) =
                tokio::time::timeout(Duration::from_millis(10), stream.read(&mut buf)).await
            {
                return started.elapsed();
            }
        }
        panic!("a slow client held its connection for 20 s");
    };
    let (idle, slow) = tokio::join!(idle, slow);
    let (_, idle_for) = idle.expect("the idle connection was not closed within 15 s");
    assert!(idle_for < Duration::from_secs(10), "idle held {idle_for:?}");
    assert!(slow < Duration::from_secs(10), "slow client held {slow:?}");
}
