//! The shoppers: N tasks placing one-unit orders in a loop until the time is
//! up, over HTTP (the whole checkout) or straight into the orders module's
//! checkout transaction (the baseline: no HTTP, no pricing, no plug-ins).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use actix_web::ResponseError;
use livemall::db::Access;
use livemall::http::idempotency::IdempotencyKey;
use livemall::orders::cart::{self, CartRequest};
use livemall::orders::checkout::{self, Handover, Placing};
use livemall::orders::customers::Shopper;
use livemall::orders::pricing::{self, Priced};
use serde_json::json;
use uuid::Uuid;

use crate::mall::{Mall, Variant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Hot,
    Spread,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Hot => "hot",
            Target::Spread => "spread",
        }
    }

    fn pick(self, mall: &Mall) -> usize {
        match self {
            Target::Hot => usize::MAX,
            Target::Spread => rand::random_range(0..mall.spread.len()),
        }
    }
}

fn variant(mall: &Mall, index: usize) -> &Variant {
    mall.spread.get(index).unwrap_or(&mall.hot)
}

/// One cell's outcome.
#[derive(Debug, Default)]
pub struct Run {
    pub ok: u64,
    pub elapsed: Duration,
    /// Latencies of the successful checkouts.
    pub latencies: Vec<Duration>,
    /// Everything else, by status and code.
    pub failures: BTreeMap<String, u64>,
}

impl Run {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The `q`-quantile latency in milliseconds (nearest rank).
    pub fn ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * self.latencies.len() as f64).ceil() as usize).clamp(1, self.latencies.len());
        self.latencies[rank - 1].as_secs_f64() * 1000.0
    }

    pub fn failures_text(&self) -> String {
        if self.failures.is_empty() {
            return "0".into();
        }
        let parts: Vec<String> = self.failures.iter().map(|(k, n)| format!("{n} {k}")).collect();
        parts.join(", ")
    }

    fn merge(&mut self, other: Run) {
        self.ok += other.ok;
        self.latencies.extend(other.latencies);
        for (k, n) in other.failures {
            *self.failures.entry(k).or_default() += n;
        }
    }
}

/// One shopper: checkouts in a loop until `deadline`.
async fn shop<Fut>(deadline: Instant, mut one: impl FnMut() -> Fut) -> Run
where
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut run = Run::default();
    while Instant::now() < deadline {
        let t0 = Instant::now();
        match one().await {
            Ok(()) => {
                run.latencies.push(t0.elapsed());
                run.ok += 1;
            }
            Err(code) => *run.failures.entry(code).or_default() += 1,
        }
    }
    run
}

fn finish(mall: &Mall, runs: impl IntoIterator<Item = Run>, start: Instant) -> Run {
    let mut total = Run::default();
    for run in runs {
        total.merge(run);
    }
    total.elapsed = start.elapsed();
    total.latencies.sort_unstable();
    mall.placed.fetch_add(total.ok, Ordering::Relaxed);
    total
}

/// Runs `shoppers` copies of `one` on this runtime until `time` is up.
async fn drive<F, Fut>(mall: &Arc<Mall>, shoppers: usize, time: Duration, one: F) -> Run
where
    F: Fn(Arc<Mall>, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let start = Instant::now();
    let deadline = start + time;
    let tasks: Vec<_> = (0..shoppers)
        .map(|shopper| {
            let (mall, one) = (Arc::clone(mall), one.clone());
            tokio::spawn(async move { shop(deadline, || one(Arc::clone(&mall), shopper)).await })
        })
        .collect();
    let mut runs = Vec::with_capacity(tasks.len());
    for task in tasks {
        runs.extend(task.await.ok());
    }
    finish(mall, runs, start)
}

/// Work for a [`local_workers`] thread: builds its future there.
type LocalJob = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()>>> + Send>;

/// One thread per core, each with a single-threaded runtime kept for the
/// whole benchmark. A database connection belongs to the runtime it was
/// opened on, and the pool keeps it after the cell that opened it; a
/// runtime made for one cell and dropped after it would leave the pool a
/// connection that fails in the next cell.
fn local_workers() -> &'static [tokio::sync::mpsc::UnboundedSender<LocalJob>] {
    static WORKERS: OnceLock<Vec<tokio::sync::mpsc::UnboundedSender<LocalJob>>> = OnceLock::new();
    WORKERS.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        (0..threads)
            .map(|_| {
                let (jobs, mut queue) = tokio::sync::mpsc::unbounded_channel::<LocalJob>();
                std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    tokio::task::LocalSet::new().block_on(&rt, async move {
                        // Waiting here, not blocking, keeps the runtime
                        // serving the tasks a cell left (connections going
                        // back to the pool).
                        while let Some(job) = queue.recv().await {
                            job().await;
                        }
                    });
                });
                jobs
            })
            .collect()
    })
}

/// Like [`drive`], for futures that must stay on one thread (the checkout
/// function's, as under actix): the shoppers dealt out between the
/// [`local_workers`], as actix deals connections to its workers.
async fn drive_local<F, Fut>(mall: &Arc<Mall>, shoppers: usize, time: Duration, one: F) -> Run
where
    F: Fn(Arc<Mall>, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = Result<(), String>> + 'static,
{
    let workers = local_workers();
    let threads = workers.len();
    let start = Instant::now();
    let deadline = start + time;
    let mut answers = Vec::with_capacity(workers.len());
    for (t, worker) in workers.iter().enumerate() {
        let (mall, one) = (Arc::clone(mall), one.clone());
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: LocalJob = Box::new(move || {
            Box::pin(async move {
                let tasks: Vec<_> = (t..shoppers)
                    .step_by(threads)
                    .map(|shopper| {
                        let (mall, one) = (Arc::clone(&mall), one.clone());
                        tokio::task::spawn_local(
                            async move { shop(deadline, || one(Arc::clone(&mall), shopper)).await },
                        )
                    })
                    .collect();
                let mut runs = Vec::with_capacity(tasks.len());
                for task in tasks {
                    runs.extend(task.await.ok());
                }
                let _ = answer.send(runs);
            })
        });
        worker.send(job).unwrap();
        answers.push(answered);
    }
    let mut runs = Vec::new();
    for answered in answers {
        runs.extend(answered.await.unwrap());
    }
    finish(mall, runs, start)
}

/// The whole checkout over HTTP: a fresh Idempotency-Key, one unit, a guest.
pub async fn http(mall: &Arc<Mall>, shoppers: usize, target: Target, time: Duration) -> Run {
    let url = Arc::new(mall.orders_url());
    drive(mall, shoppers, time, move |mall, shopper| {
        let url = Arc::clone(&url);
        async move {
            let v = variant(&mall, target.pick(&mall));
            let body = json!({
                "lines": [{"variant_id": v.id, "quantity": 1}],
                "email": format!("shopper{shopper}@example.com"),
                "stream_id": mall.stream_id,
            });
            let sent = mall
                .client
                .post(url.as_str())
                .header("Idempotency-Key", Uuid::new_v4().to_string())
                .json(&body)
                .send()
                .await
                .map_err(|e| format!("transport ({e})"))?;
            let status = sent.status();
            let bytes = sent.bytes().await.map_err(|e| format!("transport ({e})"))?;
            if status == reqwest::StatusCode::CREATED {
                return Ok(());
            }
            let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|b| b["code"].as_str().map(str::to_string))
                .unwrap_or_default();
            Err(format!("{} {code}", status.as_u16()))
        }
    })
    .await
}

/// A priced one-unit cart for the hot variant, priced through the store
/// without installs; the baseline swaps the line's variant per checkout.
pub async fn template(mall: &Mall) -> anyhow::Result<Priced> {
    let txn = mall.state.db.tenant(mall.tenant_id, Access::Read).await?;
    let request: CartRequest = serde_json::from_value(json!({
        "lines": [{"variant_id": mall.hot.id, "quantity": 1}],
        "email": "baseline@example.com",
    }))?;
    let cart = cart::build(&txn, &mall.store, &request)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let prepared = pricing::prepare(&mall.state, &txn, &mall.bare_store, cart)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(txn);
    let mut priced = pricing::run(&mall.state, mall.tenant_id, prepared)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(priced.runs.is_empty(), "the bare store has installs");
    priced.store.id = mall.store.id.to_string();
    Ok(priced)
}

/// The checkout transaction alone (`orders::checkout::place`): idempotency
/// claim, stock, order number, order, line, outbox event, stored answer.
pub async fn baseline(mall: &Arc<Mall>, shoppers: usize, target: Target, time: Duration, template: Priced) -> Run {
    let template = Arc::new(template);
    drive_local(mall, shoppers, time, move |mall, shopper| {
        let template = Arc::clone(&template);
        async move {
            let v = variant(&mall, target.pick(&mall));
            let mut priced = (*template).clone();
            if let Some(line) = priced.cart.lines.first_mut() {
                line.variant_id = v.id.to_string();
                line.product_id = v.product_id.to_string();
                line.sku = v.sku.clone();
            }
            let email = format!("shopper{shopper}@example.com");
            let key = IdempotencyKey(Some(Uuid::new_v4().to_string()));
            let placing = Placing {
                handover: Handover::Nothing,
                tenant_id: mall.tenant_id,
                store: &mall.store,
                shopper: Shopper {
                    customer_id: None,
                    email: Some(email.clone()),
                    key: email,
                },
                stream_id: None,
                priced,
                key: &key,
                fingerprint: "baseline".into(),
            };
            match checkout::place(&mall.state, placing).await {
                Ok(r) if r.status().as_u16() == 201 => Ok(()),
                Ok(r) => Err(r.status().as_u16().to_string()),
                Err(e) => Err(format!("{} {}", e.status_code().as_u16(), e.code())),
            }
        }
    })
    .await
}
