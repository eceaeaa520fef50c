//! The database dropping every connection of the API (a restart, a failover): requests answer
//! 503 with `Retry-After`, never 500, and the API recovers by itself. PostgreSQL only: an
//! embedded SQLite file has no connections to drop.

use sea_orm::ConnectionTrait;

use crate::helpers::*;

#[tokio::test]
async fn dropped_connections_answer_503_and_the_api_recovers_by_itself() {
    let app = spawn_app().await;
    let Some(database) = app.database.postgres_name() else {
        return;
    };
    let admin = app.admin_token().await;
    // Several connections in the pool, all recently used (so none is pinged before use).
    let warm = (0..8).map(|_| app.get("/api/v1/me").bearer(&admin).send());
    for reply in futures_util::future::join_all(warm).await {
        reply.assert_status(200);
    }
    let killed = app
        .db
        .query_one_raw(sea_orm::Statement::from_string(
            app.db.get_database_backend(),
            format!(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            ),
        ))
        .await
        .unwrap()
        .unwrap();
    let killed: i64 = killed.try_get_by_index(0).unwrap();
    assert!(killed > 0, "the API's connections were dropped");

    let mut unavailable = 0;
    let mut recovered = false;
    for _ in 0..40 {
        let reply = app.get("/api/v1/me").bearer(&admin).send().await;
        match reply.status.as_u16() {
            200 => {
                recovered = true;
                break;
            }
            503 => {
                reply.assert_problem(503, "service_unavailable");
                assert_eq!(reply.header("retry-after"), Some("1"));
                unavailable += 1;
            }
            other => panic!("a dropped connection answered {other}: {}", reply.text),
        }
    }
    println!("{unavailable} requests refused with 503 for {killed} dropped connections");
    assert!(recovered, "still unavailable after {unavailable} tries");
    // Every connection that was dropped fails at most one request, then it is replaced.
    assert!(
        unavailable <= killed,
        "{unavailable} refusals for {killed} connections"
    );
}
