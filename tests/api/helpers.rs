//! `spawn_app()` and the helpers every test module uses.

use std::sync::LazyLock;

use api::{Application, Settings};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, DatabaseConnection, EntityTrait, QueryFilter,
};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

pub const ADMIN_MOBILE: &str = "13800000001";
pub const ADMIN_PASSWORD: &str = "Admin-pass-2026";
pub const TEST_JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789abcdef";
/// The password every user made by `create_user` gets.
pub const USER_PASSWORD: &str = "Village-2026";

static CLIENT: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client")
});

pub struct TestApp {
    pub address: String,
    /// A separate connection to the app's database, for asserting its state.
    pub db: DatabaseConnection,
    pub fixture: Fixture,
    /// The compiled binary serving this app when the suite runs with `TEST_SERVER=binary`;
    /// held so that the process lives as long as the app.
    pub _server: Option<crate::binary::Server>,
    pub database: TestDatabase,
}

/// Two villages in two townships of Jiang County, an organization in each, and two banks:
/// `bank` serves the first township only, `other_bank` serves nothing yet.
pub struct Fixture {
    pub org: Uuid,
    pub other_org: Uuid,
    pub bank: Uuid,
    pub other_bank: Uuid,
    pub branch: Uuid,
}

pub const PROVINCE: &str = "140000000000";
pub const CITY: &str = "140800000000";
pub const COUNTY: &str = "140826000000";
pub const TOWNSHIP: &str = "140826100000";
pub const OTHER_TOWNSHIP: &str = "140826101000";
pub const VILLAGE: &str = "140826100001";
pub const OTHER_VILLAGE: &str = "140826101001";

pub(crate) async fn seed(db: &DatabaseConnection) -> Fixture {
    use api::domain::{Mobile, RegionCode, Uscc};
    use api::organizations::NewOrganization;
    use sea_orm::EntityTrait;
    for (code, name) in [
        (PROVINCE, "山西省"),
        (CITY, "运城市"),
        (COUNTY, "绛县"),
        (TOWNSHIP, "古绛镇"),
        (OTHER_TOWNSHIP, "横水镇"),
        (VILLAGE, "北庄村"),
        (OTHER_VILLAGE, "南庄村"),
    ] {
        api::regions::insert(db, &RegionCode::parse(code).unwrap(), name)
            .await
            .unwrap();
    }
    let mut orgs = Vec::new();
    for (village, name) in [
        (VILLAGE, "北庄村股份经济合作社"),
        (OTHER_VILLAGE, "南庄村股份经济合作社"),
    ] {
        let model = NewOrganization {
            name: name.into(),
            uscc: Uscc::parse(&uscc_for(village)).unwrap(),
            region_code: RegionCode::parse(village).unwrap(),
            legal_rep_name: "张三".into(),
            legal_rep_mobile: Mobile::parse("13900000001").unwrap(),
            member_households: 120,
            status: entity::OrganizationStatus::Active,
            shares_village: false,
        }
        .into_model();
        entity::organization::Entity::insert(entity::organization::ActiveModel::from(
            model.clone(),
        ))
        .exec_without_returning(db)
        .await
        .unwrap();
        orgs.push(model.id);
    }
    // Raw rows: a fixture, not a change anybody made (the API's operations would audit it).
    let now = chrono::Utc::now();
    let bank = |name: &str, code: &str| entity::bank::Model {
        id: uuid::Uuid::now_v7(),
        name: name.into(),
        code: code.into(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let (bank, other) = (
        bank("绛县农商银行", "JXRCB"),
        bank("农业银行绛县支行", "ABCJX"),
    );
    entity::bank::Entity::insert_many(
        [bank.clone(), other.clone()].map(entity::bank::ActiveModel::from),
    )
    .exec_without_returning(db)
    .await
    .unwrap();
    let branch = entity::bank_branch::Model {
        id: uuid::Uuid::now_v7(),
        bank_id: bank.id,
        name: "古绛支行".into(),
        region_code: None,
        created_at: now,
    };
    entity::bank_branch::Entity::insert(entity::bank_branch::ActiveModel::from(branch.clone()))
        .exec_without_returning(db)
        .await
        .unwrap();
    entity::bank_region::Entity::insert(entity::bank_region::ActiveModel {
        bank_id: sea_orm::ActiveValue::Set(bank.id),
        region_code: sea_orm::ActiveValue::Set(TOWNSHIP.into()),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    Fixture {
        org: orgs[0],
        other_org: orgs[1],
        bank: bank.id,
        other_bank: other.id,
        branch: branch.id,
    }
}

/// A valid village-collective USCC (`N2` + county code + an id from the village code).
pub fn uscc_for(village: &str) -> String {
    let body = format!("N2{}{}", &village[..6], &village[3..12]);
    let check = api::domain::Uscc::check_character(&body).unwrap();
    format!("{body}{check}")
}

/// The settings every test instance runs with. The per-address limits are raised (every test
/// calls from 127.0.0.1); the tests of those limits lower them again.
pub fn test_settings(database: &TestDatabase) -> Settings {
    settings_for(&database.url, database.data_dir.path())
}

/// [`test_settings`] for any database and data directory.
pub fn settings_for(database_url: &str, data_dir: &std::path::Path) -> Settings {
    Settings {
        bind: "127.0.0.1:0".into(),
        database_url: Some(SecretString::from(database_url.to_owned())),
        data_dir: data_dir.to_path_buf(),
        jwt_secret: Some(SecretString::from(TEST_JWT_SECRET)),
        admin_mobile: Some(ADMIN_MOBILE.into()),
        admin_password: Some(SecretString::from(ADMIN_PASSWORD)),
        login_rate_per_address: 100_000,
        refresh_rate_per_address: 100_000,
        ..Settings::default()
    }
}

/// Starts the real application on a random port with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with some settings changed first.
///
/// With `TEST_SERVER=binary` the app is the compiled `rural-collateral` binary in a process of
/// its own, configured from the environment with the same settings: the whole suite then runs
/// against the real start-up path (`.ci/run` does this once, on PostgreSQL).
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database = TestDatabase::create().await;
    let mut settings = test_settings(&database);
    adjust(&mut settings);
    let (address, process) = if std::env::var("TEST_SERVER").is_ok_and(|s| s == "binary") {
        let server = crate::binary::Server::start(
            &crate::binary::settings_environment(&settings),
            database.data_dir.path(),
        )
        .await;
        (server.address.clone(), Some(server))
    } else {
        if std::env::var("TEST_LOG").is_ok() {
            api::telemetry::init(settings.log_format);
        }
        let app = Application::build(settings).await.expect("app builds");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        (format!("http://127.0.0.1:{port}"), None)
    };
    let db = Database::connect(&database.url)
        .await
        .expect("test connection");
    let fixture = seed(&db).await;
    TestApp {
        address,
        db,
        fixture,
        _server: process,
        database,
    }
}

/// A second instance of the application on the first one's database; returns its address.
pub async fn spawn_second_instance(first: &TestApp) -> String {
    spawn_instance(test_settings(&first.database)).await
}

/// Starts an instance with these settings; returns its address.
pub async fn spawn_instance(settings: Settings) -> String {
    let app = Application::build(settings)
        .await
        .expect("second instance builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    address
}

/// One test's own database: a temporary SQLite file, or a new PostgreSQL database.
pub struct TestDatabase {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        match std::env::var("TEST_DATABASE_URL") {
            Ok(admin_url) if !admin_url.is_empty() => {
                let name = format!("rc_test_{}", Uuid::now_v7().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("postgres reachable");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    data_dir,
                    postgres: Some((admin_url, name)),
                }
            }
            _ => {
                let url = format!("sqlite://{}/test.db?mode=rwc", data_dir.path().display());
                TestDatabase {
                    url,
                    data_dir,
                    postgres: None,
                }
            }
        }
    }
}

impl TestDatabase {
    /// The PostgreSQL database's name; `None` on SQLite.
    pub fn postgres_name(&self) -> Option<&str> {
        self.postgres.as_ref().map(|(_, name)| name.as_str())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop cannot await; a short-lived runtime on its own thread drops the database.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("postgres reachable");
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await
                    .expect("drop test database");
                admin.close().await.ok();
            });
        })
        .join();
        if dropped.is_err() && !std::thread::panicking() {
            panic!("could not drop the test database");
        }
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
    pub bytes: Vec<u8>,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a problem+json response with this status and code, and returns its body.
    #[track_caller]
    pub fn assert_problem(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "status; body: {}", self.text);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type; body: {}",
            self.text
        );
        assert_eq!(self.body["code"], code, "code; body: {}", self.text);
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].as_str().is_some_and(|t| !t.is_empty()));
        &self.body
    }

    /// Asserts a 422 naming exactly these fields with these codes.
    #[track_caller]
    pub fn assert_fields(&self, expected: &[(&str, &str)]) {
        self.assert_problem(422, "validation_failed");
        let got: Vec<(String, String)> = self.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .map(|e| {
                (
                    e["field"].as_str().unwrap_or_default().to_owned(),
                    e["code"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
            .collect();
        assert_eq!(got, expected, "body: {}", self.text);
    }

    /// Asserts a 201 and returns the created object's id.
    #[track_caller]
    pub fn created_id(&self) -> String {
        self.assert_status(201)["id"]
            .as_str()
            .expect("an id")
            .to_owned()
    }

    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text);
        &self.body
    }
}

/// A request being built against the test app.
pub struct Call {
    request: reqwest::RequestBuilder,
}

impl Call {
    pub fn bearer(mut self, token: &str) -> Self {
        self.request = self.request.bearer_auth(token);
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn json(mut self, body: &Value) -> Self {
        self.request = self.request.json(body);
        self
    }

    pub fn multipart(mut self, form: reqwest::multipart::Form) -> Self {
        self.request = self.request.multipart(form);
        self
    }

    pub fn body(mut self, content_type: &str, body: impl Into<reqwest::Body>) -> Self {
        self.request = self.request.header("content-type", content_type).body(body);
        self
    }

    pub async fn send(self) -> Reply {
        let response = self.request.send().await.expect("request sent");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body read").to_vec();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
            text,
            bytes,
        }
    }
}

impl TestApp {
    pub fn call(&self, method: Method, path: &str) -> Call {
        Call {
            request: CLIENT.request(method, format!("{}{}", self.address, path)),
        }
    }

    pub fn get(&self, path: &str) -> Call {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str) -> Call {
        self.call(Method::POST, path)
    }

    pub fn patch(&self, path: &str) -> Call {
        self.call(Method::PATCH, path)
    }

    pub fn delete(&self, path: &str) -> Call {
        self.call(Method::DELETE, path)
    }

    /// The app's document store (the same directory the server writes to).
    pub fn store(&self) -> api::storage::Store {
        let settings = Settings {
            data_dir: self.database.data_dir.path().to_path_buf(),
            ..Settings::default()
        };
        api::storage::open(&settings).expect("document store")
    }

    /// The number a single-value SQL query (a count, a sum) returns from the app's database.
    pub async fn sql_number(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                sql,
            ))
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .expect("one row");
        row.try_get_by_index(0).expect("a number")
    }

    pub async fn login(&self, mobile: &str, password: &str) -> Reply {
        self.post("/api/v1/auth/login")
            .json(&json!({"mobile": mobile, "password": password}))
            .send()
            .await
    }

    /// Signs in and returns the whole login response.
    pub async fn sign_in(&self, mobile: &str, password: &str) -> Value {
        let reply = self.login(mobile, password).await;
        reply.assert_status(200).clone()
    }

    pub async fn admin_token(&self) -> String {
        token_of(&self.sign_in(ADMIN_MOBILE, ADMIN_PASSWORD).await)
    }

    /// Creates a user of `role` with `USER_PASSWORD`, bound to the fixture's first organization
    /// or bank as the role needs.
    pub async fn create_user(&self, role: &str) -> Value {
        let body = self.user_body(&unique_mobile(), role);
        self.create_user_with(&body).await
    }

    /// Creates a user through the API, then marks its password as changed (in the database, as
    /// if the user had done so), so that the user can work at once. `tests/api/auth.rs` covers
    /// the first sign-in of a user an admin created.
    pub async fn create_user_with(&self, body: &Value) -> Value {
        let mut user = self.create_user_unchanged(body).await;
        let id: Uuid = user["id"].as_str().unwrap().parse().unwrap();
        entity::user::Entity::update_many()
            .col_expr(
                entity::user::Column::MustChangePassword,
                sea_orm::sea_query::Expr::value(false),
            )
            .filter(entity::user::Column::Id.eq(id))
            .exec(&self.db)
            .await
            .unwrap();
        user["must_change_password"] = json!(false);
        user
    }

    /// Creates a user through the API, who must change the password at first sign-in.
    pub async fn create_user_unchanged(&self, body: &Value) -> Value {
        let admin = self.admin_token().await;
        let reply = self
            .post("/api/v1/users")
            .bearer(&admin)
            .json(body)
            .send()
            .await;
        reply.assert_status(201).clone()
    }

    /// A request body creating a valid user of `role`, bound to the fixture's tenants.
    pub fn user_body(&self, mobile: &str, role: &str) -> Value {
        let mut body = json!({
            "mobile": mobile,
            "display_name": format!("测试 {role}"),
            "role": role,
            "password": USER_PASSWORD,
        });
        match role {
            "org_operator" => body["organization_id"] = json!(self.fixture.org),
            "bank_officer" => body["bank_id"] = json!(self.fixture.bank),
            "bank_approver" => {
                body["bank_id"] = json!(self.fixture.bank);
                body["approval_limit"] = json!("5000000.00");
            }
            _ => {}
        }
        body
    }

    /// Signs in a new user of `role` bound to exactly these tenants.
    pub async fn token_bound(&self, role: &str, org: Option<Uuid>, bank: Option<Uuid>) -> String {
        let mut body = self.user_body(&unique_mobile(), role);
        if let Some(org) = org {
            body["organization_id"] = json!(org);
        }
        if let Some(bank) = bank {
            body["bank_id"] = json!(bank);
        }
        let user = self.create_user_with(&body).await;
        token_of(
            &self
                .sign_in(user["mobile"].as_str().unwrap(), USER_PASSWORD)
                .await,
        )
    }

    /// A fresh access token of a new user with `role`.
    pub async fn token_for(&self, role: &str) -> String {
        let user = self.create_user(role).await;
        let mobile = user["mobile"].as_str().expect("mobile");
        token_of(&self.sign_in(mobile, USER_PASSWORD).await)
    }
}

pub fn token_of(login: &Value) -> String {
    login["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

/// A valid mobile number no other test user has.
pub fn unique_mobile() -> String {
    let n = Uuid::now_v7().as_u128() % 1_000_000_000;
    format!("13{n:09}")
}

pub const ROLES: [&str; 5] = [
    "admin",
    "supervisor",
    "org_operator",
    "bank_officer",
    "bank_approver",
];
