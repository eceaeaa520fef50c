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

mod portfolio {
    use std::collections::BTreeMap;

    use chrono::{DateTime, NaiveDate, Utc};
    use sea_orm::{ConnectionTrait, QueryResult, Statement};

    use super::with_demo;
    use crate::helpers::*;

    async fn sql(app: &TestApp, text: &str) -> Vec<QueryResult> {
        let backend = app.db.get_database_backend();
        app.db
            .query_all_raw(Statement::from_string(backend, text.to_owned()))
            .await
            .unwrap()
    }

    fn fen(row: &QueryResult, index: usize) -> String {
        let value: Option<i64> = row.try_get_by_index(index).unwrap();
        entity::Money::from_fen(value.unwrap_or(0)).to_string()
    }

    fn count(row: &QueryResult, index: usize) -> u64 {
        let value: i64 = row.try_get_by_index(index).unwrap();
        value as u64
    }

    fn median(mut days: Vec<i64>) -> Option<String> {
        days.sort_unstable();
        let n = days.len();
        (n > 0).then(|| {
            let twice = if n % 2 == 1 {
                2 * days[n / 2]
            } else {
                days[n / 2 - 1] + days[n / 2]
            };
            format!("{}.{}", twice / 2, if twice % 2 == 1 { 5 } else { 0 })
        })
    }

    fn county_day(at: DateTime<Utc>) -> NaiveDate {
        (at + chrono::TimeDelta::hours(8)).date_naive()
    }

    /// Every figure of the whole portfolio, recounted with plain SQL (the same text on both
    /// backends) and compared to the fen.
    async fn assert_recounted(app: &TestApp, stats: &serde_json::Value) {
        let today = api::db::today();
        let by_status: BTreeMap<String, u64> = sql(
            app,
            "SELECT status, COUNT(*) FROM loan_applications WHERE submitted_at IS NOT NULL \
             GROUP BY status",
        )
        .await
        .iter()
        .map(|r| (r.try_get_by_index::<String>(0).unwrap(), count(r, 1)))
        .collect();
        for entry in stats["by_status"].as_array().unwrap() {
            let status = entry["status"].as_str().unwrap();
            assert_ne!(status, "draft");
            assert_eq!(
                entry["count"].as_u64().unwrap(),
                by_status.get(status).copied().unwrap_or(0),
                "{status}"
            );
        }
        assert_eq!(
            stats["applications"].as_u64().unwrap(),
            by_status.values().sum::<u64>()
        );

        let sums = &sql(
            app,
            "SELECT CAST(SUM(amount) AS BIGINT), CAST(SUM(approved_amount) AS BIGINT), \
             CAST(SUM(disbursed_amount) AS BIGINT), \
             CAST(SUM(CASE WHEN status = 'disbursed' THEN outstanding_principal ELSE 0 END) AS BIGINT), \
             COUNT(decided_at), COUNT(CASE WHEN decided_at IS NOT NULL THEN approved_amount END) \
             FROM loan_applications WHERE submitted_at IS NOT NULL",
        )
        .await[0];
        assert_eq!(stats["requested"], fen(sums, 0));
        assert_eq!(stats["approved"], fen(sums, 1));
        assert_eq!(stats["disbursed"], fen(sums, 2));
        assert_eq!(stats["outstanding"], fen(sums, 3));
        let (decisions, approvals) = (count(sums, 4), count(sums, 5));
        assert_eq!(stats["decisions"], decisions);
        assert_eq!(stats["approvals"], approvals);
        let rate =
            rust_decimal::Decimal::from(approvals * 100) / rust_decimal::Decimal::from(decisions);
        assert_eq!(stats["approval_rate"], format!("{:.2}", rate));

        let shortfall = &sql(
            app,
            "SELECT COUNT(*), CAST(SUM(outstanding_principal) AS BIGINT) FROM loan_applications \
             WHERE status = 'disbursed' AND shortfall_since IS NOT NULL",
        )
        .await[0];
        assert_eq!(stats["shortfall"]["loans"], count(shortfall, 0));
        assert_eq!(stats["shortfall"]["outstanding"], fen(shortfall, 1));
        let overdue = &sql(
            app,
            &format!(
                "SELECT COUNT(*), CAST(SUM(outstanding_principal) AS BIGINT) FROM loan_applications a \
                 WHERE status = 'disbursed' AND EXISTS (SELECT 1 FROM loan_installments i \
                 WHERE i.application_id = a.id AND i.due_date < '{today}' \
                 AND i.paid_principal + i.paid_interest < i.principal + i.interest)"
            ),
        )
        .await[0];
        assert_eq!(stats["overdue"]["loans"], count(overdue, 0));
        assert_eq!(stats["overdue"]["outstanding"], fen(overdue, 1));

        let collateral: Vec<(String, u64, String)> = sql(
            app,
            &format!(
                "SELECT kind, COUNT(*), CAST(SUM(value) AS BIGINT) FROM (\
                 SELECT s.kind AS kind, (SELECT v.value FROM asset_valuations v \
                 WHERE v.asset_id = s.id AND v.appraisal_date <= '{today}' \
                 AND v.valid_until >= '{today}' \
                 ORDER BY v.appraisal_date DESC, v.id DESC LIMIT 1) AS value \
                 FROM liens l JOIN assets s ON s.id = l.asset_id \
                 JOIN loan_applications a ON a.id = l.application_id \
                 WHERE l.status IN ('reserved', 'active') AND a.submitted_at IS NOT NULL) pledged \
                 GROUP BY kind ORDER BY kind"
            ),
        )
        .await
        .iter()
        .map(|r| (r.try_get_by_index(0).unwrap(), count(r, 1), fen(r, 2)))
        .collect();
        let mut reported: Vec<(String, u64, String)> = stats["collateral"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["kind"].as_str().unwrap().to_owned(),
                    p["count"].as_u64().unwrap(),
                    p["current_value"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        reported.sort();
        assert!(!collateral.is_empty());
        assert_eq!(reported, collateral);

        // Medians from the raw instants, in Beijing calendar days.
        let decided = sql(
            app,
            "SELECT submitted_at, decided_at, disbursed_on FROM loan_applications \
             WHERE submitted_at IS NOT NULL AND decided_at IS NOT NULL",
        )
        .await;
        let mut to_decision = Vec::new();
        let mut to_disbursement = Vec::new();
        for row in &decided {
            let submitted: DateTime<Utc> = row.try_get_by_index(0).unwrap();
            let at: DateTime<Utc> = row.try_get_by_index(1).unwrap();
            to_decision.push((county_day(at) - county_day(submitted)).num_days());
            if let Some(on) = row.try_get_by_index::<Option<NaiveDate>>(2).unwrap() {
                to_disbursement.push((on - county_day(at)).num_days().max(0));
            }
        }
        assert_eq!(
            stats["median_days_to_decision"].as_str().map(str::to_owned),
            median(to_decision)
        );
        assert_eq!(
            stats["median_days_to_disbursement"]
                .as_str()
                .map(str::to_owned),
            median(to_disbursement)
        );
    }

    #[tokio::test]
    async fn the_county_portfolio_matches_a_recount_in_sql_to_the_fen() {
        let (app, admin) = with_demo().await;
        let reply = app
            .get(&format!("/api/v1/stats/portfolio?region_code={COUNTY}"))
            .bearer(&admin)
            .send()
            .await;
        let stats = reply.assert_status(200).clone();
        assert!(stats["applications"].as_u64().unwrap() >= 8, "{stats}");
        assert_eq!(
            stats["shortfall"]["loans"], 1,
            "the demo's re-appraised loan"
        );
        assert_eq!(stats["overdue"]["loans"], 1, "郭家庄's late period");
        assert_recounted(&app, &stats).await;

        // Per township: the regions add up to the whole, and each recounts in SQL.
        let per_township: BTreeMap<String, (u64, String)> = sql(
            &app,
            "SELECT SUBSTR(o.region_code, 1, 9), COUNT(*), CAST(SUM(a.amount) AS BIGINT) \
             FROM loan_applications a JOIN organizations o ON o.id = a.organization_id \
             WHERE a.submitted_at IS NOT NULL GROUP BY SUBSTR(o.region_code, 1, 9)",
        )
        .await
        .iter()
        .map(|r| {
            let prefix: String = r.try_get_by_index(0).unwrap();
            (format!("{prefix:0<12}"), (count(r, 1), fen(r, 2)))
        })
        .collect();
        let regions = stats["regions"].as_array().unwrap();
        assert_eq!(regions.len(), per_township.len());
        for region in regions {
            let code = region["code"].as_str().unwrap();
            assert!(!region["name"].as_str().unwrap().is_empty());
            let (applications, requested) = &per_township[code];
            assert_eq!(region["applications"], *applications);
            assert_eq!(region["requested"], *requested);
        }

        // The supervisor sees the same; without a region the breakdown is per province.
        let supervisor = app.sign_in("13800138001", api::demo::DEMO_PASSWORD).await;
        let everything = app
            .get("/api/v1/stats/portfolio")
            .bearer(&token_of(&supervisor))
            .send()
            .await;
        let everything = everything.assert_status(200);
        assert_eq!(everything["requested"], stats["requested"]);
        assert_eq!(everything["regions"][0]["code"], PROVINCE);
    }

    #[tokio::test]
    async fn a_bank_sees_its_own_book_and_nobody_else_sees_a_bank_they_may_not() {
        let (app, admin) = with_demo().await;
        let officer = app.sign_in("13800138020", api::demo::DEMO_PASSWORD).await;
        let officer = token_of(&officer);
        let own = app
            .get("/api/v1/stats/portfolio")
            .bearer(&officer)
            .send()
            .await;
        let own = own.assert_status(200).clone();
        let bank = own["bank_id"].as_str().unwrap().to_owned();
        let by_bank: BTreeMap<String, (u64, String)> = sql(
            &app,
            "SELECT bank_id, COUNT(*), CAST(SUM(amount) AS BIGINT) FROM loan_applications \
             WHERE submitted_at IS NOT NULL GROUP BY bank_id",
        )
        .await
        .iter()
        .map(|r| {
            let id: uuid::Uuid = r.try_get_by_index(0).unwrap();
            (id.to_string(), (count(r, 1), fen(r, 2)))
        })
        .collect();
        assert!(by_bank.len() >= 2, "the demo lends from two banks");
        assert_eq!(own["applications"], by_bank[&bank].0);
        assert_eq!(own["requested"], by_bank[&bank].1);
        let same = app
            .get(&format!("/api/v1/stats/portfolio?bank_id={bank}"))
            .bearer(&admin)
            .send()
            .await;
        assert_eq!(same.assert_status(200)["requested"], own["requested"]);

        let other = by_bank.keys().find(|b| **b != bank).unwrap();
        app.get(&format!("/api/v1/stats/portfolio?bank_id={other}"))
            .bearer(&officer)
            .send()
            .await
            .assert_problem(403, "forbidden");
        let operator = app.sign_in("13800138010", api::demo::DEMO_PASSWORD).await;
        app.get("/api/v1/stats/portfolio")
            .bearer(&token_of(&operator))
            .send()
            .await
            .assert_problem(403, "forbidden");
        app.get("/api/v1/stats/portfolio?region_code=12")
            .bearer(&admin)
            .send()
            .await
            .assert_problem(400, "invalid_query");
        app.get("/api/v1/stats/portfolio?from=2026-02-01&to=2026-01-01")
            .bearer(&admin)
            .send()
            .await
            .assert_problem(400, "invalid_query");

        // A period before anything was submitted is empty, not an error.
        let empty = app
            .get("/api/v1/stats/portfolio?from=2000-01-01&to=2000-12-31")
            .bearer(&admin)
            .send()
            .await;
        let empty = empty.assert_status(200);
        assert_eq!(empty["applications"], 0);
        assert_eq!(empty["approval_rate"], "0.00");
        assert!(empty["median_days_to_decision"].is_null());
        assert_eq!(empty["regions"].as_array().unwrap().len(), 0);

        let csv = app
            .get(&format!("/api/v1/stats/portfolio?region_code={COUNTY}"))
            .bearer(&officer)
            .header("accept", "text/csv")
            .send()
            .await;
        assert_eq!(csv.status, 200);
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        let mut reader = csv::Reader::from_reader(csv.text.as_bytes());
        let header = reader.headers().unwrap().clone();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let column = |name: &str| header.iter().position(|h| h == name).unwrap();
        assert_eq!(&rows[0][column("name")], "total");
        assert_eq!(
            &rows[0][column("requested")],
            own["requested"].as_str().unwrap()
        );
        let county = app
            .get(&format!("/api/v1/stats/portfolio?region_code={COUNTY}"))
            .bearer(&officer)
            .send()
            .await;
        let townships = county.assert_status(200)["regions"].as_array().unwrap();
        assert_eq!(rows.len(), 1 + townships.len());
        assert_eq!(
            &rows[1][column("code")],
            townships[0]["code"].as_str().unwrap()
        );
        assert!(
            header
                .iter()
                .any(|h| h == "pledged_land_management_right_value")
        );
    }
}
