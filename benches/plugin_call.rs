//! The whole `cart.price` path for a 10-line cart: fresh Store, input in,
//! effects out and checked, fuel and deadline on, called synchronously and
//! as a future; the same pricing as a native Rust function; calls/s on 2 threads; loading from the artifact cache.
//!
//! `nice cargo bench --bench plugin_call`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use livemall::plugin_host::{ArtifactSource, CallRequest, Host, HostConfig, Limits, Plugin};
use livemall_abi::{Adjustment, Cart, CartLine, Effects, Hook, Input, InstallInfo, StoreInfo, ABI_VERSION};
use serde::Deserialize;

const HELLO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hello-plugin/hello_plugin.wasm");

/// examples/hello-plugin's configuration, mirrored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct Config {
    percent: u32,
    min_quantity: u32,
    order_threshold: i64,
    order_discount: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            percent: 10,
            min_quantity: 3,
            order_threshold: 10_000,
            order_discount: 500,
        }
    }
}

/// `amount * percent / 100` rounded half away from zero, negated (the SDK's `discount_percent`).
fn discount_percent(amount: i64, percent: u32) -> i64 {
    let product = i128::from(amount) * i128::from(percent);
    let (q, r) = (product / 100, product % 100);
    let rounded = if 2 * r.abs() >= 100 { q + product.signum() } else { q };
    -(rounded as i64)
}

fn adjustment(line: Option<u32>, amount: i64, label: &str) -> Adjustment {
    Adjustment {
        line,
        amount,
        label: label.to_string(),
        code: None,
        class: "discount".into(),
        priority: 100,
        exclusive: false,
        combines_with: vec![],
        valid_until_ms: None,
    }
}

/// hello-plugin's pricing as native Rust: the same JSON in, the same JSON out.
fn native_price(input: &[u8]) -> Vec<u8> {
    let input: Input<Cart> = serde_json::from_slice(input).unwrap();
    let config: Config = serde_json::from_value(input.install.config.clone()).unwrap();
    let label = format!("{}% off {}+", config.percent, config.min_quantity);
    let mut effects = Effects::default();
    for (i, line) in input.event.lines.iter().enumerate() {
        if line.quantity >= config.min_quantity {
            let amount = discount_percent(line.total(), config.percent);
            if amount != 0 {
                effects.adjustments.push(adjustment(Some(i as u32), amount, &label));
            }
        }
    }
    if input.event.subtotal >= config.order_threshold && config.order_discount > 0 {
        effects
            .adjustments
            .push(adjustment(None, -config.order_discount, "Order discount"));
    }
    serde_json::to_vec(&effects).unwrap()
}

fn cart_input() -> Vec<u8> {
    let lines: Vec<CartLine> = (0..10)
        .map(|i| CartLine {
            product_id: format!("0190a5e0-0000-7000-8000-0000000000{i:02}"),
            variant_id: format!("0190a5e0-0000-7000-9000-0000000000{i:02}"),
            sku: format!("SKU-{i}"),
            title: format!("Item {i}"),
            quantity: 1 + i % 4,
            unit_price: 199 + 350 * i64::from(i),
            tags: vec![],
        })
        .collect();
    let cart = Cart {
        currency: "EUR".into(),
        subtotal: lines.iter().map(CartLine::total).sum(),
        lines,
        codes: vec![],
        customer: None,
        stream: None,
        checkout: true,
    };
    serde_json::to_vec(&Input {
        abi: ABI_VERSION,
        hook: Hook::CartPrice,
        event_id: None,
        now_ms: 1_700_000_000_000,
        store: StoreInfo {
            id: "s".into(),
            currency: "EUR".into(),
            time_zone: "UTC".into(),
        },
        install: InstallInfo {
            id: "i".into(),
            config: serde_json::json!({"percent": 10}),
        },
        counters: vec![],
        event: cart,
    })
    .unwrap()
}

struct Setup {
    host: Arc<Host>,
    plugin: Arc<Plugin>,
    request: CallRequest<Vec<u8>>,
    limits: Limits,
    _cache: tempfile::TempDir,
}

fn setup() -> Setup {
    let cache = tempfile::tempdir().unwrap();
    let host = Arc::new(Host::new(HostConfig::small(Some(cache.path().to_path_buf()))).unwrap());
    let limits = Limits::default();
    let plugin = Arc::new(host.load(&std::fs::read(HELLO).unwrap(), &limits).unwrap());
    let input = cart_input();
    let request = CallRequest::new(Hook::CartPrice, input).with_cart_lines(10);
    // Both sides must compute the same thing for the comparison to mean anything.
    let wasm = host.call(&plugin, &request, &limits).unwrap();
    let native: Effects = serde_json::from_slice(&native_price(&request.input)).unwrap();
    assert_eq!(wasm.effects, native);
    assert!(!native.adjustments.is_empty());
    eprintln!(
        "input {} bytes, fuel {} per call, peak memory {} bytes",
        request.input.len(),
        wasm.usage.fuel_used,
        wasm.usage.peak_memory_bytes
    );
    Setup {
        host,
        plugin,
        request,
        limits,
        _cache: cache,
    }
}

fn per_call(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("cart_price");
    group.throughput(Throughput::Elements(1));
    group.bench_function("wasm_fresh_store", |b| {
        b.iter(|| s.host.call(&s.plugin, &s.request, &s.limits).unwrap())
    });
    // As the server calls it: a future on a single-threaded runtime, the
    // guest on a pooled stack of its own (the request's bytes are cloned
    // per call, as `call_async` takes them by value).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    group.bench_function("wasm_fresh_store_as_future", |b| {
        b.iter(|| {
            let call = Arc::clone(&s.host).call_async(Arc::clone(&s.plugin), s.request.clone(), s.limits);
            rt.block_on(call).unwrap()
        })
    });
    group.bench_function("native", |b| b.iter(|| native_price(&s.request.input)));
    group.finish();
}

fn two_threads(c: &mut Criterion) {
    let s = setup();
    let mut group = c.benchmark_group("cart_price_parallel");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("wasm_fresh_store", "2_threads"), |b| {
        b.iter_custom(|iters| {
            let started = Instant::now();
            std::thread::scope(|scope| {
                for _ in 0..2 {
                    scope.spawn(|| {
                        for _ in 0..iters.div_ceil(2) {
                            s.host.call(&s.plugin, &s.request, &s.limits).unwrap();
                        }
                    });
                }
            });
            started.elapsed()
        })
    });
    group.finish();
}

fn cache_load(c: &mut Criterion) {
    let s = setup();
    let bytes = std::fs::read(HELLO).unwrap();
    assert_eq!(s.host.load(&bytes, &s.limits).unwrap().source(), ArtifactSource::Cache);
    c.bench_function("load_from_artifact_cache", |b| {
        b.iter(|| s.host.load(&bytes, &s.limits).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = per_call, two_threads, cache_load
}
criterion_main!(benches);
