//! `rural-collateral`: the command line that migrates the database and serves the API.

use std::process::ExitCode;

use anyhow::Context;
use api::startup::prepare;
use api::{Application, Settings, db, demo, telemetry};
use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;

/// glibc's allocator kept every sign-in's 19 MiB argon2 block in a per-thread arena (the
/// process grew by that much per blocking thread that ever hashed); mimalloc returns it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "rural-collateral",
    version,
    about = "Rural asset collateral and loan-matching platform API"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply migrations, make sure an admin exists, and serve the API.
    Serve {
        /// Load the demo county first (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Load the demo county into the database (idempotent), then exit.
    Demo,
    /// Apply migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) to stdout.
    Openapi,
    /// The audit record.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Verify every audit chain and seal with database access only; prints the report (JSON)
    /// and fails when anything is broken.
    Verify,
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The cause chain, outermost first, one per line; never a backtrace before it.
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Openapi = cli.command {
        println!("{}", api::openapi::document().to_pretty_json()?);
        return Ok(());
    }
    let settings = Settings::load()?;
    telemetry::init(settings.log_format);
    match cli.command {
        Command::Serve { demo } => {
            let db = prepare(&settings).await?;
            if demo {
                load_demo(&db, &settings).await?;
            }
            let app = Application::build_with_db(settings, db).await?;
            tracing::info!(port = app.port(), "listening");
            app.run_until_stopped().await.context("server failed")?;
        }
        Command::Migrate => {
            let db = db::connect(settings.database_url().expose_secret()).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
        }
        Command::Demo => {
            let db = prepare(&settings).await?;
            load_demo(&db, &settings).await?;
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = db::connect(settings.database_url().expose_secret()).await?;
            let report = api::audit::chain::verify(&db).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            if !report.ok {
                anyhow::bail!("the audit record does not verify");
            }
        }
        Command::Openapi => {}
    }
    Ok(())
}

async fn load_demo(db: &sea_orm::DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    let loaded = demo::load(
        db,
        &api::storage::open(settings)?,
        settings.admin_mobile.as_deref(),
    )
    .await
    .context("loading the demo county failed")?;
    tracing::info!(
        regions = loaded.regions,
        organizations = loaded.organizations,
        incomes = loaded.incomes,
        banks = loaded.banks,
        users = loaded.users,
        assets = loaded.assets,
        products = loaded.products,
        applications = loaded.applications,
        "demo county loaded (users sign in with password {})",
        demo::DEMO_PASSWORD
    );
    Ok(())
}
