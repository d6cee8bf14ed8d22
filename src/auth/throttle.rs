//! Failed-login throttling per email, kept in the database so every server
//! process sees it, and applied to unknown emails too (no account probing).

use chrono::{Duration, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use crate::entities::login_attempts;
use crate::error::{ApiError, ApiResult};
use crate::settings::AuthSettings;

pub async fn check(db: &impl ConnectionTrait, email: &str) -> ApiResult<()> {
    let Some(row) = login_attempts::Entity::find_by_id(email.to_string()).one(db).await? else {
        return Ok(());
    };
    match row.locked_until {
        Some(until) if until > Utc::now() => Err(ApiError::TooManyRequests {
            code: "login_locked",
            detail: "too many failed sign-in attempts; try again later".into(),
            retry_after: (until - Utc::now()).num_seconds().max(1) as u64,
        }),
        _ => Ok(()),
    }
}

pub async fn record_failure(db: &impl ConnectionTrait, email: &str, auth: &AuthSettings) -> ApiResult<()> {
    let now = Utc::now();
    let window = Duration::minutes(auth.lockout_minutes);
    let existing = login_attempts::Entity::find_by_id(email.to_string()).one(db).await?;
    let fresh = existing.as_ref().is_none_or(|r| now - r.window_started_at > window);
    let failures = if fresh {
        1
    } else {
        existing.as_ref().map_or(1, |r| r.failures + 1)
    };
    let locked_until = (failures >= auth.max_failed_logins).then(|| now + window);
    let row = login_attempts::ActiveModel {
        email: Set(email.to_string()),
        failures: Set(failures),
        window_started_at: Set(if fresh {
            now
        } else {
            existing.as_ref().map_or(now, |r| r.window_started_at)
        }),
        locked_until: Set(locked_until),
    };
    use login_attempts::Column as C;
    // Upsert: two failures racing for a new email must not collide.
    login_attempts::Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::Email)
                .update_columns([C::Failures, C::WindowStartedAt, C::LockedUntil])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn clear(db: &impl ConnectionTrait, email: &str) -> ApiResult<()> {
    login_attempts::Entity::delete_by_id(email.to_string()).exec(db).await?;
    Ok(())
}
