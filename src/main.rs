//! `rural-collateral`: the command line that migrates the database and serves the API.

use anyhow::Context;
use api::{Application, Settings, db, telemetry};
use clap::{Parser, Subcommand};

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
    Serve,
    /// Apply migrations and exit.
    Migrate,
    /// Print the OpenAPI document (JSON) to stdout.
    Openapi,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        println!("{}", api::openapi::document().to_pretty_json()?);
        return Ok(());
    }
    let settings = Settings::load()?;
    telemetry::init(settings.log_format);
    match cli.command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "listening");
            app.run_until_stopped().await.context("server failed")?;
        }
        Command::Migrate => {
            let db = db::connect(&settings.database_url()).await?;
            db::migrate(&db).await?;
            tracing::info!("migrations applied");
        }
        Command::Openapi => {}
    }
    Ok(())
}
