//! Property tests over random plan changes and usage (a seeded generator:
//! every failure names its seed and replays exactly).

use chrono::{Duration, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use uuid::Uuid;

use super::*;

fn plan(rng: &mut StdRng, n: usize) -> PlanCharge {
    PlanCharge {
        id: Uuid::from_u128(n as u128 + 1),
        name: format!("P{n}"),
        price: rng.random_range(0..1_000_000),
    }
}

/// A period, a random walk of plan changes through it, rentals and usage.
fn scenario(seed: u64) -> (Inputs, Vec<(i64, i64)>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let start = Utc
        .with_ymd_and_hms(
            2026,
            rng.random_range(1..=12),
            rng.random_range(1..=31).min(28),
            0,
            0,
            0,
        )
        .single()
        .unwrap_or_default();
    let period = Period::month_from(start);
    let mut current = plan(&mut rng, 0);
    let first = current.clone();
    let mut at = start;
    let mut pending = Vec::new();
    // (price, seconds) for each stretch of the period on one plan.
    let mut stretches = Vec::new();
    for n in 1..rng.random_range(1..8) {
        let step = rng.random_range(0..period.seconds() / 4);
        let next_at = (at + Duration::seconds(step)).min(period.end);
        let next = plan(&mut rng, n);
        stretches.push((current.price, (next_at - at).num_seconds()));
        pending.extend(plan_change(&current, &next, period, next_at));
        current = next;
        at = next_at;
    }
    stretches.push((current.price, (period.end - at).num_seconds()));
    let rentals = (0..rng.random_range(0..4))
        .map(|i| Rental {
            install_id: Uuid::from_u128(100 + i),
            plugin_id: Uuid::from_u128(200 + i),
            plugin_name: format!("R{i}"),
            monthly_price: rng.random_range(0..50_000),
            from: start + Duration::seconds(rng.random_range(-100_000..period.seconds())),
            to: rng
                .random_bool(0.5)
                .then(|| start + Duration::seconds(rng.random_range(0..period.seconds() * 2))),
        })
        .collect();
    let metered = (0..rng.random_range(0..4))
        .map(|i| Metered {
            install_id: Uuid::from_u128(300 + i),
            plugin_id: Uuid::from_u128(400 + i),
            plugin_name: format!("M{i}"),
            calls: rng.random_range(0..5_000_000),
            per_thousand: rng.random_range(0..500),
        })
        .collect();
    let input = Inputs {
        period,
        plan: Some(first),
        pending,
        rentals,
        metered,
    };
    (input, stretches)
}

#[test]
fn the_total_is_the_sum_of_the_lines_for_random_changes_and_usage() {
    for seed in 0..2_000 {
        let (input, _) = scenario(seed);
        let lines = lines(&input);
        let by_hand: i64 = lines.iter().map(|l| l.amount).sum();
        assert_eq!(total(&lines), by_hand, "seed {seed}");
        assert!(
            lines.iter().all(|l| l.kind != LineKind::Rental || l.amount >= 0),
            "seed {seed}: rentals never credit"
        );
    }
}

#[test]
fn plan_lines_add_up_to_the_time_spent_on_each_plan() {
    for seed in 0..2_000 {
        let (input, stretches) = scenario(seed);
        let whole = input.period.seconds();
        let plan_total: i64 = lines(&input)
            .iter()
            .filter(|l| matches!(l.kind, LineKind::Plan | LineKind::Proration))
            .map(|l| l.amount)
            .sum();
        let exact: f64 = stretches
            .iter()
            .map(|(price, secs)| *price as f64 * *secs as f64 / whole as f64)
            .sum();
        // Each change rounds two amounts, each by at most half a unit.
        let changes = input.pending.len() as f64;
        assert!(
            (plan_total as f64 - exact).abs() <= changes * 0.5 + 0.5,
            "seed {seed}: {plan_total} vs {exact}"
        );
    }
}

#[test]
fn a_rental_for_the_whole_month_costs_its_monthly_price() {
    let start = Utc.with_ymd_and_hms(2026, 2, 1, 0, 0, 0).single().unwrap_or_default();
    let input = Inputs {
        period: Period::month_from(start),
        plan: None,
        pending: Vec::new(),
        rentals: vec![Rental {
            install_id: Uuid::nil(),
            plugin_id: Uuid::nil(),
            plugin_name: "x".into(),
            monthly_price: 900,
            from: start - Duration::days(3),
            to: None,
        }],
        metered: Vec::new(),
    };
    assert_eq!(total(&lines(&input)), 900);
}
