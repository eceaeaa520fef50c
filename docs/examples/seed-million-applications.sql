-- 1,000,000 applications across the demo county's organizations, both banks and their active
-- products, in every state with a realistic skew (most settled, withdrawn or rejected); a fifth
-- of the open ones assigned to one of 20 officers; about 1 % of disbursed loans in shortfall.
-- Load the demo county first (`rural-collateral demo`), then: psql -1 -f this file; ANALYZE.
CREATE TEMP TABLE o AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM organizations;
CREATE TEMP TABLE p AS SELECT id, bank_id, row_number() OVER (ORDER BY id) - 1 AS n
  FROM loan_products WHERE status = 'active';
CREATE TEMP TABLE officers AS SELECT gen_random_uuid() AS id, g - 1 AS n FROM generate_series(1, 20) g;
INSERT INTO users (id, mobile, display_name, password_hash, role, bank_id, status, must_change_password, version, created_at, updated_at)
  SELECT o.id, '1370000' || lpad(o.n::text, 4, '0'), '客户经理' || o.n, 'x', 'bank_officer',
         (SELECT id FROM banks ORDER BY code LIMIT 1 OFFSET (o.n % 2)), 'active', false, 1, now(), now()
  FROM officers o;
INSERT INTO loan_applications (id, reference, organization_id, product_id, bank_id, amount, term_months,
    purpose, repayment_method, status, created_by, version, submitted_at, created_at, updated_at,
    assigned_to, shortfall_since)
SELECT gen_random_uuid(),
       'BX-' || g,
       (SELECT id FROM o WHERE o.n = g % (SELECT count(*) FROM o)),
       p.id, p.bank_id,
       (10000 + (g::bigint * 7919) % 490000) * 100, 12 + g % 48, 'planting', 'annuity',
       s.status,
       (SELECT id FROM users WHERE role = 'admin' LIMIT 1), 1,
       CASE WHEN s.status = 'draft' THEN NULL
            ELSE timestamptz '2024-01-01' + (g * interval '90 seconds') END,
       timestamptz '2024-01-01' + (g * interval '90 seconds'),
       timestamptz '2024-01-01' + (g * interval '90 seconds'),
       CASE WHEN s.status IN ('under_review', 'info_requested', 'recommended') AND g % 5 = 0
            THEN (SELECT id FROM officers WHERE officers.n = g % 20) END,
       CASE WHEN s.status = 'disbursed' AND g % 1000 = 780 THEN now() END
FROM generate_series(1, 1000000) g
JOIN p ON p.n = g % (SELECT count(*) FROM p)
CROSS JOIN LATERAL (SELECT CASE
    WHEN g % 100 < 40 THEN 'settled'
    WHEN g % 100 < 60 THEN 'withdrawn'
    WHEN g % 100 < 72 THEN 'rejected'
    WHEN g % 100 < 85 THEN 'disbursed'
    WHEN g % 100 < 88 THEN 'approved'
    WHEN g % 100 < 91 THEN 'recommended'
    WHEN g % 100 < 93 THEN 'info_requested'
    WHEN g % 100 < 96 THEN 'under_review'
    WHEN g % 100 < 98 THEN 'submitted'
    ELSE 'draft' END AS status) s;
ANALYZE;
