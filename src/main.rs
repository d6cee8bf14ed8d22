//! The `livemall` command: parses the command line and calls the library.

use clap::{Parser, Subcommand};
use livemall::db::Db;
use livemall::settings::Settings;
use livemall::startup::Application;

#[derive(Parser)]
#[command(name = "livemall", version, about = "Live-streaming mall backend")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Platform administration.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Plug-in authoring: run a module locally, scaffold a new plug-in.
    #[command(subcommand)]
    Plugin(livemall::plugin_host::cli::PluginCommand),
    /// Billing: invoice ended periods, collect, chase unpaid invoices.
    #[command(subcommand)]
    Billing(livemall::billing::cli::BillingCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a platform administrator; the password is read from stdin or
    /// LIVEMALL_ADMIN_PASSWORD.
    Create {
        #[arg(long)]
        email: String,
    },
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        // Plug-in commands are for authors' machines: no settings, no database.
        Command::Plugin(cmd) => livemall::plugin_host::cli::run_cli(cmd)?,
        Command::Serve => {
            let settings = load_settings()?;
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "livemall listening");
            app.run_until_stopped().await?;
        }
        Command::Migrate => {
            let settings = load_settings()?;
            Db::connect(&settings).await?.migrate().await?;
            println!("migrations applied");
        }
        Command::Billing(cmd) => livemall::billing::cli::run_cli(load_settings()?, cmd).await?,
        Command::Admin(AdminCommand::Create { email }) => {
            let settings = load_settings()?;
            let password = livemall::admin::read_password()?;
            let db = Db::connect(&settings).await?;
            db.migrate().await?;
            let id = livemall::admin::create_admin(&db, &email, password).await?;
            println!("administrator {email} created ({id})");
        }
    }
    Ok(())
}

fn load_settings() -> anyhow::Result<Settings> {
    let settings = Settings::load()?;
    livemall::telemetry::init(&settings.log);
    Ok(settings)
}
