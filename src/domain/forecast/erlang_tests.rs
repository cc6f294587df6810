//! Tests of the Erlang C formulas: exact small cases, the classic call-centre example checked
//! against an independent computation, large loads, the edge cases, and properties (proptest):
//! the probability of waiting stays in `[0, 1]` and falls as operators are added, the service
//! level rises, the recursion agrees with the textbook sum, and [`agents_needed`] is minimal.
//!
//! Reference values were computed independently of this code, with Python's `fractions` on the
//! textbook definition `C = (Aᴺ/N!·N/(N−A)) / (Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + Aᴺ/N!·N/(N−A))` in exact rational
//! arithmetic (then `math.exp` for the service level), and cross-checked by a 400 000-call M/M/N
//! simulation (A = 10: simulated SL(20 s) 0.386, 0.642, 0.799, 0.891 for N = 11..14).

use proptest::prelude::*;

use super::erlang::*;

fn close(actual: f64, expected: f64, tol: f64) {
    assert!(
        (actual - expected).abs() <= tol,
        "{actual} is not within {tol} of {expected}"
    );
}

#[test]
fn small_exact_cases() {
    // C(3, 2) = 4/9 exactly: with 2³/3!·3/(3−2) = 4, C = 4 / (1 + 2 + 2 + 4).
    close(erlang_c(3, 2.0), 4.0 / 9.0, 1e-12);
    // C(1, A) = A (M/M/1: P(wait) = ρ); C(2, 1) = 1/3.
    close(erlang_c(1, 0.5), 0.5, 1e-12);
    close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12);
    // Erlang B: B(1, 1) = 1/2, B(2, 1) = 1/5.
    close(erlang_b(1, 1.0), 0.5, 1e-12);
    close(erlang_b(2, 1.0), 0.2, 1e-12);
}

/// The classic example: 200 calls an hour (100 per half hour), AHT 180 s, so A = 10 Erlangs,
/// target 80 % answered within 20 s. Exact-fraction values (see the file header):
/// N = 11: C = 0.6821182047, SL = 0.3896138117, ASA = 122.78 s
/// N = 12: C = 0.4493882243, SL = 0.6401580404, ASA = 40.44 s
/// N = 13: C = 0.2852704530, SL = 0.7955947884, ASA = 17.12 s
/// N = 14: C = 0.1741319336, SL = 0.8883500192, ASA = 7.84 s
/// So 80/20 needs 14 operators: 13 falls just short (79.6 %), and 11 is far off (39 %).
#[test]
fn classic_ten_erlang_example() {
    let a = traffic_erlangs(200.0, 180.0);
    close(a, 10.0, 1e-12);
    let expected = [
        (11, 0.6821182047, 0.3896138117, 122.781277),
        (12, 0.4493882243, 0.6401580404, 40.444940),
        (13, 0.2852704530, 0.7955947884, 17.116227),
        (14, 0.1741319336, 0.8883500192, 7.835937),
    ];
    for (n, c, sl, asa) in expected {
        close(erlang_c(n, a), c, 1e-9);
        close(service_level(n, a, 180.0, 20.0), sl, 1e-9);
        close(asa_secs(n, a, 180.0), asa, 1e-5);
    }
    // Ten operators for ten Erlangs: the queue never empties.
    assert_eq!(erlang_c(10, a), 1.0);
    assert_eq!(service_level(10, a, 180.0, 20.0), 0.0);
    assert_eq!(asa_secs(10, a, 180.0), f64::INFINITY);
    assert_eq!(agents_needed(200.0, 180.0, 0.8, 20.0, None), 14);
    // A target of 79 % is met by 13; an 85 % occupancy cap needs ceil(10 / 0.85) = 12 (< 14).
    assert_eq!(agents_needed(200.0, 180.0, 0.79, 20.0, None), 13);
    assert_eq!(agents_needed(200.0, 180.0, 0.8, 20.0, Some(0.85)), 14);
    // A 65 % occupancy cap needs ceil(10 / 0.65) = 16; an exact 80 % cap is met by 12.5 → 13.
    assert_eq!(agents_needed(200.0, 180.0, 0.8, 20.0, Some(0.65)), 16);
    assert_eq!(agents_needed(200.0, 180.0, 0.0, 20.0, Some(0.8)), 13);
    close(occupancy(14, a), 10.0 / 14.0, 1e-12);
}

/// Westbay's worked example: 360 calls per half hour, 4-minute calls, 55 agents, 15 s threshold:
/// A = 48, C = 0.2387009364, SL(15 s) = 0.8458830922, ASA = 8.184 s (exact fractions). For 80/20
/// at that load, 54 agents give SL 0.8172 and 53 give 0.7518.
#[test]
fn westbay_example() {
    let a = traffic_erlangs(720.0, 240.0);
    close(a, 48.0, 1e-12);
    close(erlang_c(55, a), 0.2387009364, 1e-9);
    close(service_level(55, a, 240.0, 15.0), 0.8458830922, 1e-9);
    close(asa_secs(55, a, 240.0), 8.184032104, 1e-6);
    assert_eq!(agents_needed(720.0, 240.0, 0.8, 20.0, None), 54);
}

#[test]
fn large_loads_stay_finite() {
    // Exact fractions: C(1000, 950) = 0.06825341537714143. The textbook sum overflows f64 here.
    close(erlang_c(1000, 950.0), 0.06825341537714143, 1e-10);
    let c = erlang_c(20_000, 19_800.0);
    assert!(c.is_finite() && c > 0.0 && c < 1.0, "{c}");
    let n = agents_needed(200_000.0, 360.0, 0.9, 15.0, None);
    assert!(n > 20_000 && n < 21_000, "{n}");
}

#[test]
fn edge_cases() {
    // No traffic: nobody waits, everyone is answered at once, nobody is needed.
    assert_eq!(erlang_c(0, 0.0), 0.0);
    assert_eq!(erlang_c(5, -3.0), 0.0);
    assert_eq!(erlang_c(5, f64::NAN), 0.0);
    assert_eq!(service_level(0, 0.0, 180.0, 20.0), 1.0);
    assert_eq!(asa_secs(3, 0.0, 180.0), 0.0);
    assert_eq!(occupancy(0, 0.0), 0.0);
    assert_eq!(occupancy(0, 1.0), f64::INFINITY);
    assert_eq!(agents_needed(0.0, 180.0, 0.8, 20.0, None), 0);
    assert_eq!(agents_needed(f64::NAN, 180.0, 0.8, 20.0, None), 0);
    // Infinite traffic: the queue never empties.
    assert_eq!(erlang_c(100, f64::INFINITY), 1.0);
    // Calls of no length still need someone to pick them up.
    assert_eq!(agents_needed(50.0, 0.0, 0.8, 20.0, None), 1);
    // A threshold of zero: the service level is the share not waiting at all, 1 − C.
    close(
        service_level(13, 10.0, 180.0, 0.0),
        1.0 - 0.2852704530,
        1e-9,
    );
    // A target above 1 is clamped, and still terminates.
    let n = agents_needed(200.0, 180.0, 2.0, 20.0, None);
    assert_eq!(service_level(n, 10.0, 180.0, 20.0), 1.0);
    // One call an hour of 3 minutes: A = 0.05; one operator answers 80 % within 20 s.
    assert_eq!(agents_needed(1.0, 180.0, 0.8, 20.0, None), 1);
}

/// The textbook definition, summed in log space, for small N.
fn erlang_c_by_sum(n: u32, a: f64) -> f64 {
    let mut term = 1.0; // A^k / k!
    let mut sum = 0.0;
    for k in 0..n {
        sum += term;
        term *= a / f64::from(k + 1);
    }
    let top = term * f64::from(n) / (f64::from(n) - a);
    top / (sum + top)
}

proptest! {
    #[test]
    fn probability_in_unit_interval_and_monotone(n in 0u32..300, a in 0.0f64..250.0) {
        let c = erlang_c(n, a);
        let c_next = erlang_c(n + 1, a);
        prop_assert!((0.0..=1.0).contains(&c), "C({n}, {a}) = {c}");
        prop_assert!(c_next <= c + 1e-12, "C({}, {a}) = {c_next} > C({n}, {a}) = {c}", n + 1);
        let sl = service_level(n, a, 180.0, 20.0);
        let sl_next = service_level(n + 1, a, 180.0, 20.0);
        prop_assert!((0.0..=1.0).contains(&sl));
        prop_assert!(sl_next + 1e-12 >= sl, "SL falls from {sl} to {sl_next} at N = {n}");
        let b = erlang_b(n, a);
        prop_assert!((0.0..=1.0).contains(&b));
    }

    #[test]
    fn recursion_matches_textbook_sum(n in 1u32..60, frac in 0.01f64..0.99) {
        let a = f64::from(n) * frac;
        let expected = erlang_c_by_sum(n, a);
        prop_assert!((erlang_c(n, a) - expected).abs() < 1e-9, "C({n}, {a})");
    }

    #[test]
    fn agents_needed_is_minimal(
        calls in 1.0f64..2000.0,
        aht in 30.0f64..900.0,
        target in 0.5f64..0.99,
        threshold in 0.0f64..120.0,
    ) {
        let n = agents_needed(calls, aht, target, threshold, None);
        let a = traffic_erlangs(calls, aht);
        prop_assert!(f64::from(n) > a);
        prop_assert!(service_level(n, a, aht, threshold) >= target);
        if f64::from(n - 1) > a {
            prop_assert!(service_level(n - 1, a, aht, threshold) < target);
        }
    }
}
