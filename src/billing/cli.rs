//! `livemall billing run --at <time>`: the billing run for an instant, as
//! a scheduler (cron) or an operator starts it.

use chrono::{DateTime, Utc};
use clap::Subcommand;

use crate::billing::{run, Billing};
use crate::db::Db;
use crate::settings::Settings;

#[derive(Subcommand)]
pub enum BillingCommand {
    /// Invoice every period that ended by `--at`, collect open invoices,
    /// suspend overdue accounts. Running one instant twice changes nothing.
    Run {
        /// RFC 3339, e.g. 2026-12-01T00:00:00Z; defaults to now.
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
}

pub async fn run_cli(settings: Settings, cmd: BillingCommand) -> anyhow::Result<()> {
    match cmd {
        BillingCommand::Run { at } => {
            let db = Db::connect(&settings).await?;
            db.migrate().await?;
            let billing = Billing::from_settings(&settings.billing)?;
            let at = at.unwrap_or_else(Utc::now);
            let report = run::run(&db, &settings.billing, billing.gateway.as_ref(), at).await?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
    }
    Ok(())
}
