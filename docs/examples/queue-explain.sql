-- The officer queue's statements at a million applications (docs/officer-queue.md).
-- psql -d <db> -v bank="'<bank uuid>'" -v officer="'<officer uuid>'" \
--      -v at="'<submitted_at of a row deep in the queue>'" -v after="'<its id>'" -f queue-explain.sql
\echo '-- 1. The queue, first page: every application submitted to the bank, oldest first'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM loan_applications
 WHERE bank_id = :bank AND submitted_at IS NOT NULL ORDER BY submitted_at, id LIMIT 21;
\echo '-- 2. status=submitted'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM loan_applications
 WHERE bank_id = :bank AND submitted_at IS NOT NULL AND status = 'submitted'
 ORDER BY submitted_at, id LIMIT 21;
\echo '-- 3. assigned_to=me&status=under_review'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM loan_applications
 WHERE bank_id = :bank AND submitted_at IS NOT NULL AND assigned_to = :officer
   AND status = 'under_review' ORDER BY submitted_at, id LIMIT 21;
\echo '-- 4. shortfall=true'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM loan_applications
 WHERE bank_id = :bank AND submitted_at IS NOT NULL AND shortfall_since IS NOT NULL
 ORDER BY submitted_at, id LIMIT 21;
\echo '-- 5. A deep page (keyset cursor)'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM loan_applications
 WHERE bank_id = :bank AND submitted_at IS NOT NULL AND submitted_at >= :at
   AND (submitted_at > :at OR id > :after) ORDER BY submitted_at, id LIMIT 21;
\echo '-- 6. submitted_from/submitted_to: one month'
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM loan_applications
 WHERE bank_id = :bank AND submitted_at IS NOT NULL
   AND submitted_at >= '2025-02-28T16:00:00Z' AND submitted_at < '2025-03-31T16:00:00Z'
 ORDER BY submitted_at, id LIMIT 21;
