//! The demo county and the income statistics it must reproduce exactly.

use crate::helpers::*;

async fn with_demo() -> (TestApp, String) {
    let app = spawn_app().await;
    let loaded = api::demo::load(&app.db, &app.store(), Some(ADMIN_MOBILE))
        .await
        .unwrap();
    assert_eq!(loaded.organizations, 133);
    let admin = app.admin_token().await;
    (app, admin)
}

#[tokio::test]
async fn the_demo_reproduces_the_published_2021_figures() {
    let (app, admin) = with_demo().await;
    let reply = app
        .get("/api/v1/stats/income?year=2021")
        .bearer(&admin)
        .send()
        .await;
    let stats = reply.assert_status(200);
    assert_eq!(stats["organization_count"], 133);
    assert_eq!(stats["total"], "23276500.00");
    assert_eq!(stats["count_at_least_50000"], 133);
    assert_eq!(stats["share_at_least_50000"], "100.00");
    assert_eq!(stats["count_at_least_100000"], 113);
    assert_eq!(stats["share_at_least_100000"], "84.96");
    assert_eq!(
        stats["organizations_without_income"], 2,
        "the fixture's two have none"
    );
    let townships = stats["townships"].as_array().unwrap();
    assert_eq!(townships.len(), 10);
    assert_eq!(townships[0]["name"], "古绛镇");
    let per_township: u64 = townships
        .iter()
        .map(|t| t["organization_count"].as_u64().unwrap())
        .sum();
    assert_eq!(per_township, 133);

    let county = app
        .get(&format!(
            "/api/v1/stats/income?year=2021&region_code={COUNTY}"
        ))
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(county.body["total"], "23276500.00");
    let township = app
        .get("/api/v1/stats/income?year=2021&region_code=140826201000")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(township.body["organization_count"], 9);
    assert_eq!(township.body["townships"].as_array().unwrap().len(), 1);

    let csv = app
        .get("/api/v1/stats/income?year=2021")
        .bearer(&admin)
        .header("accept", "text/csv")
        .send()
        .await;
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    let lines: Vec<&str> = csv.text.lines().collect();
    assert_eq!(lines.len(), 12);
    assert!(lines[0].starts_with("code,name,organization_count,total"));
    let total: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(
        &total[..5],
        &["", "total", "133", "23276500.00", "175011.28"]
    );
    assert_eq!(&total[6..], &["133", "100.00", "113", "84.96"]);
}

#[tokio::test]
async fn loading_the_demo_twice_changes_nothing_and_every_role_signs_in() {
    let (app, _) = with_demo().await;
    let again = api::demo::load(&app.db, &app.store(), Some(ADMIN_MOBILE))
        .await
        .unwrap();
    assert_eq!(
        (
            again.regions,
            again.organizations,
            again.incomes,
            again.banks,
            again.users
        ),
        (0, 0, 0, 0, 0)
    );
    for mobile in [
        "13800138000",
        "13800138001",
        "13800138010",
        "13800138020",
        "13800138030",
    ] {
        let login = app.sign_in(mobile, api::demo::DEMO_PASSWORD).await;
        assert!(login["user"]["role"].is_string());
    }
    let operator = app.sign_in("13800138010", api::demo::DEMO_PASSWORD).await;
    let own = app
        .get("/api/v1/organizations")
        .bearer(&token_of(&operator))
        .send()
        .await;
    assert_eq!(own.body["items"][0]["name"], "北庄村股份经济合作社");
}

#[tokio::test]
async fn the_demo_never_takes_the_configured_admins_mobile() {
    let app = spawn_app().await;
    api::demo::load(&app.db, &app.store(), Some("13800138000"))
        .await
        .unwrap();
    app.login("13800138000", api::demo::DEMO_PASSWORD)
        .await
        .assert_problem(401, "invalid_credentials");
}

#[tokio::test]
async fn statistics_are_for_the_county_and_supervisors_only() {
    let app = spawn_app().await;
    let supervisor = app.token_for("supervisor").await;
    let empty = app
        .get("/api/v1/stats/income?year=2021")
        .bearer(&supervisor)
        .send()
        .await;
    let empty = empty.assert_status(200);
    assert_eq!(empty["organization_count"], 0);
    assert_eq!(empty["share_at_least_100000"], "0.00");
    assert!(empty["mean"].is_null());
    app.get("/api/v1/stats/income")
        .bearer(&supervisor)
        .send()
        .await
        .assert_problem(400, "invalid_query");
    let operator = app.token_for("org_operator").await;
    app.get("/api/v1/stats/income?year=2021")
        .bearer(&operator)
        .send()
        .await
        .assert_problem(403, "forbidden");
}

#[tokio::test]
async fn the_documented_example_file_imports_on_the_demo_county() {
    let (app, admin) = with_demo().await;
    let file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/organizations.csv"
    ))
    .unwrap();
    let reply = app
        .post("/api/v1/organizations/import")
        .bearer(&admin)
        .body("text/csv", file)
        .send()
        .await;
    let summary = reply.assert_status(201);
    assert_eq!(summary["organizations"], 3);
    assert_eq!(summary["villages_created"], 3);
    assert_eq!(summary["incomes"], 2);
}

#[tokio::test]
async fn the_demo_villages_have_assets_in_every_state() {
    let (app, admin) = with_demo().await;
    let all = app
        .get("/api/v1/assets?limit=100")
        .bearer(&admin)
        .send()
        .await;
    let items = all.assert_status(200)["items"].as_array().unwrap().clone();
    for state in ["verified", "pending", "rejected"] {
        assert!(items.iter().any(|a| a["verification"] == state), "{state}");
    }
    let valued = items
        .iter()
        .filter(|a| a["current_value"].is_object())
        .count();
    let expired = items
        .iter()
        .filter(|a| a["verification"] == "verified" && a["current_value"].is_null())
        .count();
    assert!(
        valued > items.len() / 2,
        "most have a valid valuation: {valued} of {}",
        items.len()
    );
    assert!(expired > 0, "some valuations have expired");

    let beizhuang = app.sign_in("13800138010", api::demo::DEMO_PASSWORD).await;
    let own = app
        .get("/api/v1/assets")
        .bearer(&token_of(&beizhuang))
        .send()
        .await;
    let chives = own.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "北庄村韭菜种植基地土地经营权")
        .cloned()
        .unwrap();
    assert_eq!(chives["quantity"], "50.00");
    assert_eq!(chives["current_value"]["value"], "400000.00");

    let projects = app
        .get("/api/v1/equity-entities")
        .bearer(&admin)
        .send()
        .await;
    let project = projects.body["items"][0].clone();
    assert_eq!(project["allocated_percentage"], "100.00");
    let shares = app
        .get(&format!(
            "/api/v1/equity-entities/{}/shareholdings",
            project["id"].as_str().unwrap()
        ))
        .bearer(&admin)
        .send()
        .await;
    let percentages: Vec<&str> = shares.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["percentage"].as_str().unwrap())
        .collect();
    assert_eq!(percentages, vec!["30.00", "60.00", "10.00"]);
}

#[tokio::test]
async fn the_demo_banks_offer_products_and_villages_have_applications() {
    let (app, admin) = with_demo().await;
    let active = app
        .get("/api/v1/products?status=active")
        .bearer(&admin)
        .send()
        .await;
    assert_eq!(
        active.assert_status(200)["items"].as_array().unwrap().len(),
        5
    );
    // Every state of the lifecycle, each reached through the operations.
    let mut by_status = std::collections::BTreeMap::new();
    let all = app
        .get("/api/v1/applications?limit=100")
        .bearer(&admin)
        .send()
        .await;
    for item in all.assert_status(200)["items"].as_array().unwrap() {
        *by_status
            .entry(item["status"].as_str().unwrap().to_owned())
            .or_insert(0) += 1;
    }
    let expected: std::collections::BTreeMap<String, i32> = [
        ("approved", 1),
        ("disbursed", 2),
        ("draft", 1),
        ("info_requested", 1),
        ("recommended", 1),
        ("rejected", 1),
        ("settled", 1),
        ("submitted", 1),
        ("under_review", 1),
        ("withdrawn", 1),
    ]
    .into_iter()
    .map(|(s, n)| (s.to_owned(), n))
    .collect();
    assert_eq!(by_status, expected);

    // The rural commercial bank's officer: 北庄 under review with him, and the queue.
    let officer = app.sign_in("13800138020", api::demo::DEMO_PASSWORD).await;
    let officer = token_of(&officer);
    let mine = app
        .get("/api/v1/applications?assigned_to=me&status=under_review")
        .bearer(&officer)
        .send()
        .await;
    let mine = mine.assert_status(200)["items"].as_array().unwrap().clone();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["organization_name"], "北庄村股份经济合作社");
    let asset = mine[0]["asset_ids"][0].as_str().unwrap();
    let pledged = app
        .get(&format!("/api/v1/assets/{asset}"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(pledged.assert_status(200)["encumbered"], true);
    let document = mine[0]["resolution_document_id"].as_str().unwrap();
    let pdf = app
        .get(&format!("/api/v1/documents/{document}/content"))
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(pdf.status, 200);
    assert!(pdf.bytes.starts_with(b"%PDF-"));

    // 郭家庄's greenhouse loan: two periods repaid, the third overdue.
    let disbursed = app
        .get("/api/v1/applications?status=disbursed&shortfall=false")
        .bearer(&officer)
        .send()
        .await;
    let greenhouse = disbursed.body["items"].as_array().unwrap()[0].clone();
    assert_eq!(greenhouse["product_name"], "设施农业抵押贷款");
    let schedule = app
        .get(&format!(
            "/api/v1/applications/{}/schedule",
            greenhouse["id"].as_str().unwrap()
        ))
        .bearer(&officer)
        .send()
        .await;
    let statuses: Vec<&str> = schedule.assert_status(200)["periods"]
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["paid", "paid", "overdue"]);
    // The sweep tells 郭家庄 of its overdue period, once however often it runs.
    for _ in 0..2 {
        api::applications::ops::sweep_shortfalls(&app.db)
            .await
            .unwrap();
    }
    let village = app.sign_in("13800138012", api::demo::DEMO_PASSWORD).await;
    let told = app
        .get("/api/v1/notifications")
        .bearer(&token_of(&village))
        .header("accept-language", "zh-CN")
        .send()
        .await;
    let overdue: Vec<&serde_json::Value> = told.assert_status(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["code"] == "application.repayment_overdue")
        .collect();
    assert_eq!(overdue.len(), 1);
    assert_eq!(overdue[0]["title"], "还款已逾期");

    // One loan is short of cover after the bank's lower re-appraisal.
    let short = app
        .get("/api/v1/applications?shortfall=true")
        .bearer(&officer)
        .send()
        .await;
    assert_eq!(short.body["items"].as_array().unwrap().len(), 1);
    assert!(short.body["items"][0]["shortfall"]["since"].is_string());
    let queue = mine;

    // 北庄's operator quotes its chives land against every active product.
    let operator = app.sign_in("13800138010", api::demo::DEMO_PASSWORD).await;
    let draft_matches = app
        .get(&format!(
            "/api/v1/applications/{}/matches",
            queue[0]["id"].as_str().unwrap()
        ))
        .bearer(&token_of(&operator))
        .send()
        .await;
    let matches = draft_matches.assert_status(200)["matches"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(matches.len(), 5);
    assert_eq!(matches[0]["eligible"], true, "{:?}", matches[0]);
}
