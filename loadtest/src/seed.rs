//! Seeds a synthetic province (or county) straight into PostgreSQL with set-based SQL
//! (`INSERT … SELECT … FROM generate_series`) and the audit record with `COPY`: no API, so a
//! million rows take seconds. Every id is derived from its row number (`md5(...)::uuid`), so
//! the steps join without lookups and a rerun builds the same data.

use std::time::Instant;

use anyhow::Context;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use uuid::Uuid;

/// The password of every seeded user.
pub const PASSWORD: &str = "Load-test-2026";

#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Scale {
    pub cities: u32,
    pub counties_per_city: u32,
    pub townships_per_county: u32,
    pub villages_per_township: u32,
    /// The first `large_villages` organizations hold `large_village_assets` assets each.
    pub large_villages: u32,
    pub large_village_assets: u32,
    pub assets: u32,
    /// Application g pledges asset g: at most as many as assets.
    pub applications: u32,
    pub banks: u32,
    pub products_per_bank: u32,
    pub audit_events: u32,
    pub notifications: u32,
}

impl Scale {
    /// 100 counties, 13,000 organizations, a million assets and applications.
    pub const PROVINCE: Scale = Scale {
        cities: 10,
        counties_per_city: 10,
        townships_per_county: 10,
        villages_per_township: 13,
        large_villages: 20,
        large_village_assets: 10_000,
        assets: 1_000_000,
        applications: 1_000_000,
        banks: 20,
        products_per_bank: 10,
        audit_events: 1_000_000,
        notifications: 1_000_000,
    };

    /// One county of 130 organizations and 10,000 applications: the small end.
    pub const COUNTY: Scale = Scale {
        cities: 1,
        counties_per_city: 1,
        townships_per_county: 10,
        villages_per_township: 13,
        large_villages: 2,
        large_village_assets: 1_000,
        assets: 10_000,
        applications: 10_000,
        banks: 20,
        products_per_bank: 10,
        audit_events: 10_000,
        notifications: 10_000,
    };

    pub fn villages(&self) -> u32 {
        self.cities
            * self.counties_per_city
            * self.townships_per_county
            * self.villages_per_township
    }
}

/// Builds the whole data set; returns the seconds each step took.
pub async fn seed(db: &DatabaseConnection, scale: Scale) -> anyhow::Result<Vec<(String, f64)>> {
    let password_hash = api::auth::password::hash(PASSWORD.to_owned().into()).await?;
    let mut timings = Vec::new();
    for (name, sql) in steps(&scale, &password_hash) {
        let started = Instant::now();
        db.execute_unprepared(&sql)
            .await
            .with_context(|| format!("seeding {name}"))?;
        timings.push((name.to_owned(), started.elapsed().as_secs_f64()));
    }
    let started = Instant::now();
    audit_events(db, scale.audit_events).await?;
    timings.push(("audit_events".into(), started.elapsed().as_secs_f64()));
    let started = Instant::now();
    db.execute_unprepared("ANALYZE").await?;
    timings.push(("analyze".into(), started.elapsed().as_secs_f64()));
    Ok(timings)
}

/// The set-based steps, in foreign-key order.
fn steps(s: &Scale, password_hash: &str) -> Vec<(&'static str, String)> {
    let villages = s.villages();
    let per_county = s.townships_per_county * s.villages_per_township;
    let per_city = s.counties_per_city * per_county;
    let w = s.villages_per_township;
    let large = s.large_villages;
    let large_assets = s.large_villages * s.large_village_assets;
    let products = s.banks * s.products_per_bank;
    let n_apps = s.applications;
    let n_assets = s.assets;
    // The code of village n (0-based), and the organization of asset or application g.
    let village_code = format!(
        "'15' || lpad((n / {per_city} + 1)::text, 2, '0') \
         || lpad((n / {per_county} % {cpc} + 1)::text, 2, '0') \
         || lpad((n / {w} % {tpc} + 1)::text, 3, '0') || lpad((n % {w} + 1)::text, 3, '0')",
        cpc = s.counties_per_city,
        tpc = s.townships_per_county,
    );
    let org_of = format!(
        "(CASE WHEN g <= {large_assets} THEN (g - 1) % {large} \
         ELSE {large} + g % {rest} END)",
        rest = villages - large,
    );
    let uuid = |tag: &str, expr: &str| format!("md5('{tag}' || ({expr}))::uuid");
    let org_id = uuid("org", &org_of);
    let operator_id = uuid("operator", &org_of);
    // A block of a hundred consecutive applications shares a product (and bank): every bank gets
    // every state of the skew below.
    let product_of = format!("((g / 100) % {products})");
    let bank_of = format!("({product_of} / {})", s.products_per_bank);
    let admin = uuid("user", "'admin'");
    // A realistic skew: most settled, withdrawn or rejected; 2 % still drafts.
    let status = "(CASE WHEN g % 100 < 40 THEN 'settled' WHEN g % 100 < 60 THEN 'withdrawn' \
         WHEN g % 100 < 72 THEN 'rejected' WHEN g % 100 < 85 THEN 'disbursed' \
         WHEN g % 100 < 88 THEN 'approved' WHEN g % 100 < 91 THEN 'recommended' \
         WHEN g % 100 < 93 THEN 'info_requested' WHEN g % 100 < 96 THEN 'under_review' \
         WHEN g % 100 < 98 THEN 'submitted' ELSE 'draft' END)";
    vec![
        (
            "regions",
            format!(
                "INSERT INTO regions (code, name, level, parent_code, created_at) \
                 VALUES ('150000000000', '合成省', 'province', NULL, now()); \
                 INSERT INTO regions (code, name, level, parent_code, created_at) \
                 SELECT '15' || lpad(c::text, 2, '0') || '00000000', '合成市' || c, 'city', \
                        '150000000000', now() FROM generate_series(1, {cities}) c; \
                 INSERT INTO regions (code, name, level, parent_code, created_at) \
                 SELECT '15' || lpad(c::text, 2, '0') || lpad(k::text, 2, '0') || '000000', \
                        '合成县' || c || '-' || k, 'county', \
                        '15' || lpad(c::text, 2, '0') || '00000000', now() \
                 FROM generate_series(1, {cities}) c, generate_series(1, {cpc}) k; \
                 INSERT INTO regions (code, name, level, parent_code, created_at) \
                 SELECT left(v, 9) || '000', '合成镇' || left(v, 9), 'township', \
                        left(v, 6) || '000000', now() \
                 FROM (SELECT DISTINCT left({village_code}, 9) || '000' AS v \
                       FROM generate_series(0, {last_village}) n) t; \
                 INSERT INTO regions (code, name, level, parent_code, created_at) \
                 SELECT {village_code}, '合成村' || n, 'village', \
                        left({village_code}, 9) || '000', now() \
                 FROM generate_series(0, {last_village}) n",
                cities = s.cities,
                cpc = s.counties_per_city,
                last_village = villages - 1,
            ),
        ),
        (
            "organizations",
            format!(
                "INSERT INTO organizations (id, name, uscc, region_code, legal_rep_name, \
                   legal_rep_mobile, member_households, status, shares_village, version, \
                   created_at, updated_at) \
                 SELECT md5('org' || n)::uuid, '合成村' || n || '股份经济合作社', \
                        '91' || lpad(n::text, 16, '0'), {village_code}, '法人' || n, \
                        '139' || lpad(n::text, 8, '0'), 100 + n % 400, 'active', false, 1, \
                        now(), now() \
                 FROM generate_series(0, {last_village}) n",
                last_village = villages - 1,
            ),
        ),
        (
            "banks",
            format!(
                "INSERT INTO banks (id, name, code, version, created_at, updated_at) \
                 SELECT md5('bank' || b)::uuid, '合成银行' || b, 'B' || lpad(b::text, 3, '0'), \
                        1, now(), now() FROM generate_series(0, {last}) b; \
                 INSERT INTO bank_regions (bank_id, region_code) \
                 SELECT md5('bank' || b)::uuid, '150000000000' FROM generate_series(0, {last}) b",
                last = s.banks - 1,
            ),
        ),
        (
            "users",
            format!(
                "INSERT INTO users (id, mobile, display_name, password_hash, role, \
                   organization_id, bank_id, approval_limit, status, version, created_at, \
                   updated_at, must_change_password) \
                 VALUES ({admin}, '13000000000', '管理员', '{password_hash}', 'admin', NULL, NULL, \
                         NULL, 'active', 1, now(), now(), false), \
                        ({supervisor}, '13000000001', '监督员', '{password_hash}', 'supervisor', \
                         NULL, NULL, NULL, 'active', 1, now(), now(), false); \
                 INSERT INTO users (id, mobile, display_name, password_hash, role, \
                   organization_id, bank_id, approval_limit, status, version, created_at, \
                   updated_at, must_change_password) \
                 SELECT md5('officer' || b || '-' || o)::uuid, \
                        '131' || lpad((b * 10 + o)::text, 8, '0'), '客户经理' || b || '-' || o, \
                        '{password_hash}', 'bank_officer', NULL, md5('bank' || b)::uuid, NULL, \
                        'active', 1, now(), now(), false \
                 FROM generate_series(0, {last_bank}) b, generate_series(0, 4) o; \
                 INSERT INTO users (id, mobile, display_name, password_hash, role, \
                   organization_id, bank_id, approval_limit, status, version, created_at, \
                   updated_at, must_change_password) \
                 SELECT md5('approver' || b)::uuid, '132' || lpad(b::text, 8, '0'), \
                        '行长' || b, '{password_hash}', 'bank_approver', NULL, \
                        md5('bank' || b)::uuid, 100000000000, 'active', 1, now(), now(), false \
                 FROM generate_series(0, {last_bank}) b; \
                 INSERT INTO users (id, mobile, display_name, password_hash, role, \
                   organization_id, bank_id, approval_limit, status, version, created_at, \
                   updated_at, must_change_password) \
                 SELECT md5('operator' || n)::uuid, '133' || lpad(n::text, 8, '0'), \
                        '会计' || n, '{password_hash}', 'org_operator', md5('org' || n)::uuid, \
                        NULL, NULL, 'active', 1, now(), now(), false \
                 FROM generate_series(0, {last_village}) n",
                supervisor = uuid("user", "'supervisor'"),
                last_bank = s.banks - 1,
                last_village = villages - 1,
            ),
        ),
        (
            "products",
            format!(
                "INSERT INTO loan_products (id, bank_id, name, amount_min, amount_max, term_min, \
                   term_max, annual_rate, repayment_methods, purposes, status, version, \
                   created_at, updated_at) \
                 SELECT md5('product' || p)::uuid, md5('bank' || (p / {ppb}))::uuid, \
                        '合成抵押贷' || p, 1000000, 500000000, 6, 60, 40000 + (p % 10) * 500, \
                        '[\"annuity\",\"equal_principal\"]', \
                        '[\"planting\",\"working_capital\",\"facility_construction\"]', \
                        'active', 1, now(), now() \
                 FROM generate_series(0, {last}) p; \
                 INSERT INTO product_collateral (product_id, kind, max_ltv) \
                 SELECT md5('product' || p)::uuid, k, 5000 + (p % 5) * 500 \
                 FROM generate_series(0, {last}) p, \
                      unnest(ARRAY['land_management_right', 'forest_right', \
                             'construction_land_use_right', 'production_facility', 'machinery', \
                             'building']) k",
                ppb = s.products_per_bank,
                last = products - 1,
            ),
        ),
        (
            "assets",
            format!(
                "INSERT INTO assets (id, organization_id, kind, name, region_code, address, \
                   quantity, unit, certificate_no, right_start, right_end, description, \
                   verification, verified_by, verified_at, version, created_at, updated_at) \
                 SELECT md5('asset' || g)::uuid, {org_id}, \
                        (ARRAY['land_management_right', 'forest_right', \
                               'construction_land_use_right', 'production_facility', \
                               'machinery', 'building'])[g % 6 + 1], \
                        '资产' || g, o.region_code, '合成路' || g || '号', 1000 + g % 9000, '亩', \
                        'CERT-' || g, date '2020-01-01', date '2060-12-31', '', 'verified', \
                        {admin}, now(), 1, now(), now() \
                 FROM generate_series(1, {n_assets}) g \
                 JOIN organizations o ON o.id = {org_id}; \
                 INSERT INTO asset_valuations (id, asset_id, value, method, appraiser, \
                   appraisal_date, valid_until, created_by, created_at) \
                 SELECT md5('valuation' || g)::uuid, md5('asset' || g)::uuid, \
                        (100000 + (g::bigint * 7919) % 900000) * 100, 'market', '合成评估', \
                        current_date - 30, current_date + 335, {admin}, now() \
                 FROM generate_series(1, {n_assets}) g"
            ),
        ),
        (
            "applications",
            format!(
                "INSERT INTO asset_documents (id, asset_id, kind, file_name, content_type, size, \
                   sha256, storage_key, uploaded_by, created_at) \
                 SELECT md5('document' || g)::uuid, md5('asset' || g)::uuid, \
                        'assembly_resolution', 'resolution.pdf', 'application/pdf', 100, \
                        repeat('0', 64), 'assets/' || md5('asset' || g)::uuid || '/' \
                        || md5('document' || g)::uuid, {operator_id}, now() \
                 FROM generate_series(1, {n_apps}) g WHERE g % 100 >= 98; \
                 INSERT INTO loan_applications (id, reference, organization_id, product_id, \
                   bank_id, amount, term_months, purpose, repayment_method, status, \
                   resolution_date, resolution_document_id, created_by, version, submitted_at, \
                   created_at, updated_at, assigned_to, info_request, recommended_by, \
                   recommended_amount, recommended_rate, recommended_term, recommended_method, \
                   approved_by, approved_amount, decided_at, reject_reason, reject_text, \
                   contract_no, lien_registration_no, disbursed_amount, disbursed_on, \
                   outstanding_principal, shortfall_since, settled_at) \
                 SELECT md5('application' || g)::uuid, 'LT-' || g, {org_id}, \
                        md5('product' || {product_of})::uuid, md5('bank' || {bank_of})::uuid, \
                        amount, 24, 'planting', 'annuity', st, current_date - 10, \
                        CASE WHEN st = 'draft' THEN md5('document' || g)::uuid END, \
                        {operator_id}, 1, \
                        CASE WHEN st <> 'draft' THEN submitted END, submitted - interval '1 day', \
                        now(), \
                        CASE WHEN st NOT IN ('draft', 'submitted', 'withdrawn') \
                             THEN md5('officer' || {bank_of} || '-' || g % 5)::uuid END, \
                        CASE WHEN st = 'info_requested' THEN '请补充土地流转合同' END, \
                        CASE WHEN approved OR st = 'recommended' \
                             THEN md5('officer' || {bank_of} || '-' || g % 5)::uuid END, \
                        CASE WHEN approved OR st = 'recommended' THEN amount END, \
                        CASE WHEN approved OR st = 'recommended' THEN 43500 END, \
                        CASE WHEN approved OR st = 'recommended' THEN 24 END, \
                        CASE WHEN approved OR st = 'recommended' THEN 'annuity' END, \
                        CASE WHEN approved THEN md5('approver' || {bank_of})::uuid END, \
                        CASE WHEN approved THEN amount END, \
                        CASE WHEN approved OR st = 'rejected' THEN decided END, \
                        CASE WHEN st = 'rejected' THEN 'repayment_capacity' END, \
                        CASE WHEN st = 'rejected' THEN '还款能力不足' END, \
                        CASE WHEN st IN ('disbursed', 'settled') THEN 'HT-' || g END, \
                        CASE WHEN st IN ('disbursed', 'settled') THEN 'REG-' || g END, \
                        CASE WHEN st IN ('disbursed', 'settled') THEN amount END, \
                        CASE WHEN st IN ('disbursed', 'settled') \
                             THEN (decided + (g % 10) * interval '1 day')::date END, \
                        CASE WHEN st = 'disbursed' THEN amount \
                             WHEN st = 'settled' THEN 0 END, \
                        CASE WHEN st = 'disbursed' AND g % 1000 = 780 THEN now() END, \
                        CASE WHEN st = 'settled' THEN decided + interval '400 days' END \
                 FROM (SELECT g, {status} AS st, \
                              {status} IN ('approved', 'disbursed', 'settled') AS approved, \
                              (1000000 + (g::bigint * 7919) % 4000000) AS amount, \
                              now() - interval '40 days' \
                                - ({n_apps} - g) * interval '60 seconds' AS submitted, \
                              now() - interval '40 days' \
                                - ({n_apps} - g) * interval '60 seconds' \
                                + (g % 20) * interval '1 day' AS decided \
                       FROM generate_series(1, {n_apps}) g) a; \
                 INSERT INTO application_assets (application_id, asset_id) \
                 SELECT md5('application' || g)::uuid, md5('asset' || g)::uuid \
                 FROM generate_series(1, {n_apps}) g; \
                 INSERT INTO liens (id, asset_id, application_id, status, created_at, updated_at) \
                 SELECT md5('lien' || g)::uuid, md5('asset' || g)::uuid, \
                        md5('application' || g)::uuid, \
                        CASE WHEN st = 'disbursed' THEN 'active' \
                             WHEN st IN ('submitted', 'under_review', 'info_requested', \
                                         'recommended', 'approved') THEN 'reserved' \
                             ELSE 'released' END, now(), now() \
                 FROM (SELECT g, {status} AS st FROM generate_series(1, {n_apps}) g) a \
                 WHERE st <> 'draft'"
            ),
        ),
        (
            "installments",
            // 24 annuity-like periods per disbursed loan; every period due before today is paid,
            // except the latest one of every fiftieth loan (overdue).
            "INSERT INTO loan_installments (application_id, period, due_date, principal, \
               interest, paid_principal, paid_interest) \
             SELECT a.id, k, due, principal, interest, \
                    CASE WHEN due < current_date AND NOT late THEN principal ELSE 0 END, \
                    CASE WHEN due < current_date AND NOT late THEN interest ELSE 0 END \
             FROM (SELECT id, disbursed_on, amount, \
                          ('x' || left(id::text, 2))::bit(8)::int % 50 = 7 AS overdue_loan \
                   FROM loan_applications WHERE status = 'disbursed') a, \
                  generate_series(1, 24) k, \
                  LATERAL (SELECT (a.disbursed_on + k * interval '1 month')::date AS due, \
                                  CASE WHEN k = 24 THEN a.amount - 23 * (a.amount / 24) \
                                       ELSE a.amount / 24 END AS principal, \
                                  a.amount * 435 / 120000 AS interest) p, \
                  LATERAL (SELECT a.overdue_loan AND p.due < current_date \
                                  AND p.due >= current_date - interval '1 month' AS late) l; \
             UPDATE loan_applications a SET outstanding_principal = owed.principal \
             FROM (SELECT application_id, SUM(principal - paid_principal) AS principal \
                   FROM loan_installments GROUP BY application_id) owed \
             WHERE owed.application_id = a.id"
                .to_owned(),
        ),
        (
            "notifications",
            format!(
                "INSERT INTO notifications (id, user_id, code, params, application_id, \
                   created_at, read_at) \
                 SELECT md5('notification' || g)::uuid, md5('operator' || (g % {villages}))::uuid, \
                        'application.submitted', '{{\"reference\":\"LT-' || g || '\"}}', NULL, \
                        now() - g * interval '1 second', \
                        CASE WHEN g % 3 = 0 THEN now() END \
                 FROM generate_series(1, {n}) g",
                n = s.notifications,
            ),
        ),
    ]
}

/// `events` audit events in chains of ten, each hashed as `api::audit` would, written by COPY
/// with their chains' head rows.
async fn audit_events(db: &DatabaseConnection, events: u32) -> anyhow::Result<()> {
    use sea_orm::sqlx::postgres::PgPoolCopyExt;
    let pool = db.get_postgres_connection_pool();
    let at = api::db::now();
    let mut event_rows = String::new();
    let mut head_rows = String::new();
    for _ in 0..events / 10 {
        let (chain, head) = api::audit::chain::synthetic_chain(Uuid::now_v7(), at, 10);
        for event in chain {
            event_rows.push_str(&format!(
                "{}\t\\N\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
                event.id,
                event.action,
                event.object_type,
                event.object_id,
                event.summary.replace('\\', "\\\\"),
                event.at.to_rfc3339(),
                event.seq,
                event.prev_hash,
                event.hash
            ));
        }
        head_rows.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            head.object_type, head.object_id, head.head_seq, head.head_hash
        ));
    }
    let mut copy = pool
        .copy_in_raw(
            "COPY audit_events (id, actor_id, action, object_type, object_id, summary, at, seq, \
             prev_hash, hash) FROM STDIN",
        )
        .await?;
    copy.send(event_rows.as_bytes()).await?;
    copy.finish().await?;
    let mut copy = pool
        .copy_in_raw("COPY audit_chains (object_type, object_id, head_seq, head_hash) FROM STDIN")
        .await?;
    copy.send(head_rows.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}
