//! The pricing pipeline. The cart goes to `cart.price` of every enabled
//! install of the store, in pipeline order (install priority ascending, then
//! install id), each call on a fresh sandbox under the ABI limits. Their
//! adjustments are stacked (see [`crate::orders::stacking`]), their
//! rejections and claims collected. A call that fails is skipped (fail open):
//! checkout goes on without that plug-in, and the failure is recorded on its
//! install, as successes are, so the circuit breaker can act.

use std::sync::Arc;

use livemall_abi::{
    Adjustment, Cart, Claim, Counter, CounterScope, Hook, Input, InstallInfo, Rejection, StoreInfo, ABI_VERSION,
};
use serde::Serialize;
use uuid::Uuid;

use crate::billing::account::Account;
use crate::db::{Access, ReadOn};
use crate::entities::stores;
use crate::error::ApiResult;
use crate::marketplace::pipeline::{installs_with_counters, record_calls, ActiveInstall, CallRecord};
use crate::orders::counters;
use crate::orders::stacking::{stack, Decision, Stacked};
use crate::plugin_host::{CallRequest, Limits};
use crate::state::AppState;

/// One install as it took part in pricing: what it saw, and whether it answered.
/// Kept with the order so its price can be replayed.
#[derive(Debug, Clone, Serialize)]
pub struct InstallRun {
    pub install_id: Uuid,
    pub plugin_id: Uuid,
    pub plugin_slug: String,
    pub version_id: Uuid,
    pub version: String,
    pub config: serde_json::Value,
    pub counters: Vec<Counter>,
    /// `None` when the call succeeded, else the failure code (the plug-in was skipped).
    pub failure: Option<String>,
}

/// The pipeline's inputs, read in one transaction before any plug-in runs.
pub struct Prepared {
    pub cart: Cart,
    pub store: StoreInfo,
    pub now_ms: i64,
    installs: Vec<(ActiveInstall, Vec<Counter>)>,
    /// The tenant's account, when it was read with the installs (see
    /// [`crate::marketplace::pipeline::WithCounters`]).
    pub account: Option<Option<Account>>,
}

/// What pricing found: the cart, each install's run, and the stacked result.
#[derive(Clone)]
pub struct Priced {
    pub cart: Cart,
    pub store: StoreInfo,
    pub now_ms: i64,
    pub runs: Vec<InstallRun>,
    /// Every adjustment proposed, in pipeline order, with the run that proposed it.
    pub proposals: Vec<Adjustment>,
    pub proposed_by: Vec<usize>,
    pub stacked: Stacked,
    pub rejections: Vec<(usize, Rejection)>,
    /// Claims to take at checkout (see [`Priced::claims`] for which).
    claims: Vec<(usize, Claim)>,
}

/// The pricing input kept with an order, enough to rebuild every call's envelope.
#[derive(Debug, Serialize)]
pub struct PricingRecord<'a> {
    pub now_ms: i64,
    pub store: &'a StoreInfo,
    pub cart: &'a Cart,
    pub installs: &'a [InstallRun],
}

/// Reads the installs and their counters (`on` a transaction, which takes
/// no lock here: a checkout on PostgreSQL keeps it through [`run`] to place
/// its order in it; or on SQLite a reader of the application's own).
pub async fn prepare<'a>(
    state: &AppState,
    on: impl Into<ReadOn<'a>>,
    store: &stores::Model,
    cart: Cart,
) -> ApiResult<Prepared> {
    let customer_key = cart.customer.as_ref().map(|c| c.key.as_str());
    let read = installs_with_counters(state, on.into(), store.id, Hook::CartPrice, customer_key).await?;
    Ok(Prepared {
        store: StoreInfo {
            id: store.id.to_string(),
            currency: store.currency.clone(),
            time_zone: store.time_zone.clone(),
        },
        now_ms: chrono::Utc::now().timestamp_millis(),
        installs: read.installs,
        account: read.account,
        cart,
    })
}

fn envelope(prepared: &Prepared, install: &ActiveInstall, counters: &[Counter]) -> ApiResult<Vec<u8>> {
    let input = Input {
        abi: ABI_VERSION,
        hook: Hook::CartPrice,
        event_id: None,
        now_ms: prepared.now_ms,
        store: prepared.store.clone(),
        install: InstallInfo {
            id: install.install_id.to_string(),
            config: install.config.clone(),
        },
        counters: counters.to_vec(),
        event: &prepared.cart,
    };
    Ok(serde_json::to_vec(&input).map_err(anyhow::Error::from)?)
}

/// Calls every install (concurrently; no lock is held), records each
/// call on its install, and stacks the adjustments.
pub async fn run(state: &AppState, tenant_id: Uuid, prepared: Prepared) -> ApiResult<Priced> {
    let lines = prepared.cart.lines.len();
    let mut calls = Vec::with_capacity(prepared.installs.len());
    for (install, counters) in &prepared.installs {
        let request = CallRequest::new(Hook::CartPrice, envelope(&prepared, install, counters)?).with_cart_lines(lines);
        let host = Arc::clone(&state.host);
        calls.push(host.call_async(Arc::clone(&install.plugin), request, Limits::default()));
    }
    let results = futures_util::future::join_all(calls).await;
    let records: Vec<CallRecord<'_>> = prepared
        .installs
        .iter()
        .zip(&results)
        .map(|((install, _), result)| CallRecord {
            install,
            hook: Hook::CartPrice,
            result,
        })
        .collect();
    // Keeping the record must not cost the shopper the order.
    if let Err(error) = record_calls(state, tenant_id, &records).await {
        tracing::warn!(store = %prepared.store.id, error = %error, "recording cart.price calls failed");
    }
    drop(records);

    let mut runs = Vec::with_capacity(results.len());
    let (mut proposals, mut proposed_by, mut rejections, mut claims) = (vec![], vec![], vec![], vec![]);
    for (index, ((install, counters), result)) in prepared.installs.into_iter().zip(results).enumerate() {
        let failure = match result {
            Ok(outcome) => {
                let effects = outcome.effects;
                proposed_by.extend(std::iter::repeat_n(index, effects.adjustments.len()));
                proposals.extend(effects.adjustments);
                rejections.extend(effects.reject.map(|r| (index, r)));
                claims.extend(effects.claims.into_iter().map(|c| (index, c)));
                None
            }
            Err(failure) => {
                tracing::warn!(install_id = %install.install_id, code = failure.code(), "cart.price failed; skipped");
                Some(failure.code().to_string())
            }
        };
        runs.push(InstallRun {
            install_id: install.install_id,
            plugin_id: install.plugin_id,
            plugin_slug: install.plugin_slug,
            version_id: install.version_id,
            version: install.version,
            config: install.config,
            counters,
            failure,
        });
    }
    let totals: Vec<i64> = prepared.cart.lines.iter().map(|l| l.total()).collect();
    let stacked = stack(&totals, &proposals);
    Ok(Priced {
        cart: prepared.cart,
        store: prepared.store,
        now_ms: prepared.now_ms,
        runs,
        proposals,
        proposed_by,
        stacked,
        rejections,
        claims,
    })
}

impl Priced {
    /// Claims to take with the order. A claim made alongside adjustments
    /// counts only if one of them was applied (a coupon whose discount lost
    /// to an exclusive deal is not used up); a plug-in that proposed no
    /// adjustment (a pure limit) always has its claims taken.
    pub fn claims(&self) -> impl Iterator<Item = &(usize, Claim)> {
        self.claims.iter().filter(move |(run, _)| {
            let mut mine = self
                .proposed_by
                .iter()
                .zip(&self.stacked.decisions)
                .filter(|(by, _)| *by == run)
                .peekable();
            mine.peek().is_none() || mine.any(|(_, d)| matches!(d, Decision::Applied { .. }))
        })
    }

    /// The earliest `valid_until_ms` of the applied adjustments: an order
    /// placed at or after it does not get this price.
    pub fn valid_until_ms(&self) -> Option<i64> {
        self.proposals
            .iter()
            .zip(&self.stacked.decisions)
            .filter(|(_, d)| matches!(d, Decision::Applied { .. }))
            .filter_map(|(a, _)| a.valid_until_ms)
            .min()
    }

    /// Each claim to take, with its run and its counter; a per-customer
    /// claim is left out when there is no customer.
    pub fn claim_targets(&self, customer_key: Option<&str>) -> Vec<(usize, counters::Target<'_>)> {
        self.claims()
            .filter(|(_, c)| c.scope == CounterScope::Install || customer_key.is_some())
            .map(|(run, claim)| {
                let target = counters::Target {
                    install_id: self.runs[*run].install_id,
                    claim,
                    scope_key: counters::scope_key(claim.scope, customer_key.unwrap_or("")),
                };
                (*run, target)
            })
            .collect()
    }

    /// For a quote: each claim checkout would refuse now (its counter is at
    /// its limit) shows as a rejection `claim_refused` with the claim's
    /// message, so the shopper hears it before ordering. Plug-ins do not see
    /// unlisted counters (one per single-use code, say), so only the host can tell.
    pub async fn flag_refused_claims(&mut self, state: &AppState, tenant_id: Uuid) -> ApiResult<()> {
        let customer_key = self.cart.customer.as_ref().map(|c| c.key.clone());
        let (runs, targets): (Vec<usize>, Vec<_>) = self.claim_targets(customer_key.as_deref()).into_iter().unzip();
        if targets.is_empty() {
            return Ok(());
        }
        let txn = state.db.tenant(tenant_id, Access::Read).await?;
        let refused = counters::refused_now(&txn, &targets).await?;
        drop(txn);
        let rejections: Vec<_> = refused
            .into_iter()
            .map(|i| {
                let message = targets[i].claim.message.clone();
                (
                    runs[i],
                    Rejection {
                        code: "claim_refused".into(),
                        message,
                    },
                )
            })
            .collect();
        drop(targets);
        self.rejections.extend(rejections);
        Ok(())
    }

    /// The pricing input, for the order.
    pub fn record(&self) -> PricingRecord<'_> {
        PricingRecord {
            now_ms: self.now_ms,
            store: &self.store,
            cart: &self.cart,
            installs: &self.runs,
        }
    }
}
