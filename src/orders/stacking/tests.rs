#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;

fn adj(line: Option<u32>, amount: i64, class: &str) -> Adjustment {
    Adjustment {
        line,
        amount,
        label: format!("{class} {amount}"),
        code: None,
        class: class.into(),
        priority: 100,
        exclusive: false,
        combines_with: vec![],
        valid_until_ms: None,
    }
}

fn amounts(stacked: &Stacked) -> Vec<Option<i64>> {
    stacked
        .decisions
        .iter()
        .map(|d| match d {
            Decision::Applied { amount } => Some(*amount),
            Decision::Skipped(_) => None,
        })
        .collect()
}

#[test]
fn adjustments_that_accept_anything_all_apply() {
    let s = stack(&[1000, 500], &[adj(Some(0), -100, "coupon"), adj(None, -50, "loyalty")]);
    assert_eq!(amounts(&s), vec![Some(-100), Some(-50)]);
    assert_eq!((s.subtotal, s.adjustments_total, s.total), (1500, -150, 1350));
    assert_eq!(s.lines, vec![900, 500]);
}

#[test]
fn the_first_exclusive_by_priority_replaces_the_others_on_its_target_only() {
    let mut a = adj(Some(0), -300, "flash_deal");
    a.exclusive = true;
    a.priority = 50;
    let mut b = adj(Some(0), -900, "coupon");
    b.exclusive = true;
    let proposals = [adj(Some(0), -100, "coupon"), b, a, adj(Some(1), -10, "coupon")];
    let s = stack(&[1000, 100], &proposals);
    assert_eq!(amounts(&s), vec![None, None, Some(-300), Some(-10)]);
    assert_eq!(s.decisions[0], Decision::Skipped(Skip::Excluded { by: 2 }));
    assert_eq!(s.decisions[1], Decision::Skipped(Skip::Excluded { by: 2 }));
    assert_eq!(s.total, 790);
}

#[test]
fn combines_with_must_be_accepted_both_ways() {
    let mut picky = adj(None, -100, "coupon");
    picky.combines_with = vec!["loyalty".into()];
    let proposals = [picky, adj(None, -10, "loyalty"), adj(None, -20, "flash_deal")];
    let s = stack(&[1000], &proposals);
    assert_eq!(amounts(&s), vec![Some(-100), Some(-10), None]);
    assert_eq!(s.decisions[2], Decision::Skipped(Skip::Incompatible { with: 0 }));
    let reason = match &s.decisions[2] {
        Decision::Skipped(skip) => skip.reason(&proposals),
        Decision::Applied { .. } => unreachable!(),
    };
    assert!(reason.contains("coupon -100"), "{reason}");
}

#[test]
fn lower_priority_runs_first_so_it_wins_a_clash() {
    let mut early = adj(None, -5, "live_price");
    early.priority = 10;
    early.combines_with = vec!["live_price".into()];
    let s = stack(&[100], &[adj(None, -50, "coupon"), early]);
    assert_eq!(amounts(&s), vec![None, Some(-5)]);
}

#[test]
fn discounts_are_capped_at_the_line_and_then_at_the_order() {
    let proposals = [
        adj(Some(0), -700, "a"),
        adj(Some(0), -700, "b"),
        adj(None, -5000, "c"),
        adj(None, -1, "d"),
    ];
    let s = stack(&[1000, 300], &proposals);
    assert_eq!(amounts(&s), vec![Some(-700), Some(-300), Some(-300), None]);
    assert_eq!(s.decisions[3], Decision::Skipped(Skip::NothingLeft));
    assert_eq!((s.lines.clone(), s.total), (vec![0, 300], 0));
}

#[test]
fn surcharges_apply_but_not_past_the_largest_total() {
    let s = stack(&[100], &[adj(None, 250, "fee"), adj(Some(0), MAX_TOTAL, "fee")]);
    assert_eq!(amounts(&s), vec![Some(250), None]);
    assert_eq!(s.decisions[1], Decision::Skipped(Skip::OutOfRange));
    assert_eq!(s.total, 350);
}

#[test]
fn an_adjustment_on_a_missing_line_is_skipped() {
    let s = stack(&[100], &[adj(Some(3), -10, "x")]);
    assert_eq!(s.decisions, vec![Decision::Skipped(Skip::UnknownLine)]);
    assert_eq!(s.total, 100);
}

fn random_adjustment(rng: &mut StdRng, lines: usize) -> Adjustment {
    const CLASSES: [&str; 3] = ["coupon", "flash_deal", "loyalty"];
    let class = CLASSES[rng.random_range(0..CLASSES.len())];
    let mut a = adj(
        rng.random_bool(0.6).then(|| rng.random_range(0..lines as u32 + 1)),
        if rng.random_bool(0.8) {
            -rng.random_range(0..5_000)
        } else {
            rng.random_range(0..MAX_TOTAL / 2)
        },
        class,
    );
    a.priority = rng.random_range(0..4);
    a.exclusive = rng.random_bool(0.1);
    if rng.random_bool(0.4) {
        a.combines_with = (0..rng.random_range(1..3))
            .map(|_| CLASSES[rng.random_range(0..CLASSES.len())].to_string())
            .collect();
    }
    a
}

#[test]
fn random_carts_never_go_below_zero_and_add_up() {
    for seed in 0..2_000u64 {
        let mut rng = StdRng::seed_from_u64(seed);
        let lines: Vec<i64> = (0..rng.random_range(1..6))
            .map(|_| rng.random_range(0..3_000))
            .collect();
        let proposals: Vec<Adjustment> = (0..rng.random_range(0..10))
            .map(|_| random_adjustment(&mut rng, lines.len()))
            .collect();
        let s = stack(&lines, &proposals);
        let applied: i64 = amounts(&s).into_iter().flatten().sum();
        assert!(s.total >= 0 && s.total <= MAX_TOTAL, "seed {seed}: {s:?}");
        assert!(s.lines.iter().all(|l| *l >= 0), "seed {seed}: {s:?}");
        assert_eq!(s.subtotal, lines.iter().sum::<i64>(), "seed {seed}");
        assert_eq!(s.adjustments_total, applied, "seed {seed}");
        assert_eq!(s.total, s.subtotal + applied, "seed {seed}: {s:?}");
        // Per target: an applied exclusive stands alone; applied ones accept each other.
        for target in (0..lines.len() as u32).map(Some).chain([None]) {
            let here: Vec<&Adjustment> = proposals
                .iter()
                .zip(&s.decisions)
                .filter(|(a, d)| a.line == target && matches!(d, Decision::Applied { .. }))
                .map(|(a, _)| a)
                .collect();
            if here.iter().any(|a| a.exclusive) {
                assert_eq!(here.len(), 1, "seed {seed}: exclusive not alone");
            }
            for (i, a) in here.iter().enumerate() {
                for b in &here[i + 1..] {
                    assert!(compatible(a, b), "seed {seed}: {a:?} with {b:?}");
                }
            }
        }
    }
}
