//! `livemall admin create`: the platform owner's first administrator. There
//! is no default password anywhere; it comes from stdin or an env variable.

use std::io::BufRead;

use anyhow::{bail, Context};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, Set};
use uuid::Uuid;

use crate::auth::{normalize_email, password, routes::ensure_email_free};
use crate::db::{Access, Db};

/// Environment variable read when stdin gives no password.
pub const PASSWORD_ENV: &str = "LIVEMALL_ADMIN_PASSWORD";

pub fn read_password() -> anyhow::Result<String> {
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        if !p.is_empty() {
            return Ok(p);
        }
    }
    eprintln!("password (one line on stdin):");
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password given: pipe it on stdin or set {PASSWORD_ENV}");
    }
    Ok(password)
}

pub async fn create_admin(db: &Db, email: &str, password_plain: String) -> anyhow::Result<Uuid> {
    let email = normalize_email(email);
    if !validator::ValidateEmail::validate_email(&email) {
        bail!("`{email}` is not a valid email address");
    }
    password::check_policy(&password_plain, &email).map_err(|e| anyhow::anyhow!("password {e}"))?;
    let hash = password::hash(password_plain).await?;
    let txn = db.platform(Access::Write).await?;
    ensure_email_free(&txn, &email)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id = Uuid::now_v7();
    crate::entities::platform_admins::ActiveModel {
        id: Set(id),
        email: Set(email),
        password_hash: Set(hash),
        created_at: Set(Utc::now()),
    }
    .insert(&txn)
    .await
    .context("creating the administrator")?;
    txn.commit().await.context("committing")?;
    Ok(id)
}
