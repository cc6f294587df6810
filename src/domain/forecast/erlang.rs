//! Erlang C, the queueing formula behind the staffing forecast: calls arrive at random (Poisson),
//! `N` operators answer them, a caller who finds everyone busy waits in one queue, and handling
//! times are exponential with mean `AHT`. The offered load is `A = arrivals per hour × AHT / 3600`
//! Erlangs. From `N` and `A` follow the probability of waiting ([`erlang_c`]), the share answered
//! within a threshold ([`service_level`]), the average wait ([`asa_secs`]), the operators' load
//! ([`occupancy`]), and the smallest staffing that meets a target ([`agents_needed`]).
//!
//! The textbook formula divides `Aᴺ/N!` by a sum of such terms, which overflows `f64` long before
//! the loads of a big contact centre. Here Erlang C is derived from Erlang B, computed by the
//! recursion `B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1))`, whose every step stays in `[0, 1]`:
//! `C = N·B / (N − A·(1 − B))`. With `N ≤ A` the queue grows without bound: every caller waits
//! (`C = 1`), nobody is answered in time (service level 0) and the average wait is infinite.
//!
//! Inputs are sanitised rather than rejected: a negative or NaN load or arrival rate counts as no
//! traffic, and with no traffic nobody waits (`C = 0`, service level 1) whatever the staffing.

/// Seconds in an hour, to turn arrivals per hour and a handling time in seconds into Erlangs.
const SECS_PER_HOUR: f64 = 3600.0;

/// A load or rate as used here: negative or NaN counts as zero; `+∞` stays.
fn load(x: f64) -> f64 {
    if x > 0.0 { x } else { 0.0 }
}

/// The offered load in Erlangs of `arrivals_per_hour` calls each lasting `aht_secs` on average.
pub fn traffic_erlangs(arrivals_per_hour: f64, aht_secs: f64) -> f64 {
    load(arrivals_per_hour) * load(aht_secs) / SECS_PER_HOUR
}

/// One step of the Erlang B recursion: `B(n)` from `B(n − 1)`.
fn b_step(n: u32, a: f64, b_prev: f64) -> f64 {
    let ab = a * b_prev;
    ab / (f64::from(n) + ab)
}

/// Erlang B, the probability that a call is blocked when `agents` lines carry `traffic` Erlangs
/// and blocked calls are lost. `1` with no agents (and some traffic), `0` with no traffic.
pub fn erlang_b(agents: u32, traffic: f64) -> f64 {
    let a = load(traffic);
    if a == 0.0 {
        return if agents == 0 { 1.0 } else { 0.0 };
    }
    if a.is_infinite() {
        return 1.0;
    }
    let mut b = 1.0;
    for n in 1..=agents {
        b = b_step(n, a, b);
        if b == 0.0 {
            // Underflowed: every later step stays at zero.
            break;
        }
    }
    b
}

/// Erlang C from Erlang B, for `n > a > 0`.
fn c_from_b(n: f64, a: f64, b: f64) -> f64 {
    (n * b / (n - a * (1.0 - b))).clamp(0.0, 1.0)
}

/// The share answered within `t` seconds, given the probability of waiting `c`, for `n > a > 0`.
fn sl_from_c(n: f64, a: f64, c: f64, aht_secs: f64, t: f64) -> f64 {
    let t = load(t);
    let decay = if t == 0.0 {
        1.0
    } else if aht_secs > 0.0 {
        (-(n - a) * t / aht_secs).exp()
    } else {
        // Calls of no length: a waiting caller is reached at once.
        0.0
    };
    (1.0 - c * decay).clamp(0.0, 1.0)
}

/// Erlang C, the probability that a call has to wait: `agents` operators, `traffic` Erlangs.
/// `1` when `agents ≤ traffic` (the queue never empties); `0` when there is no traffic.
pub fn erlang_c(agents: u32, traffic: f64) -> f64 {
    let a = load(traffic);
    if a == 0.0 {
        return 0.0;
    }
    let n = f64::from(agents);
    if n <= a {
        return 1.0;
    }
    c_from_b(n, a, erlang_b(agents, a))
}

/// The service level: the share of calls answered within `threshold_secs`,
/// `1 − C·exp(−(N − A)·T / AHT)`. `0` when `agents ≤ traffic`; `1` when there is no traffic.
pub fn service_level(agents: u32, traffic: f64, aht_secs: f64, threshold_secs: f64) -> f64 {
    let a = load(traffic);
    if a == 0.0 {
        return 1.0;
    }
    let n = f64::from(agents);
    if n <= a {
        return 0.0;
    }
    sl_from_c(n, a, erlang_c(agents, a), aht_secs, threshold_secs)
}

/// The average speed of answer in seconds, over all calls (those answered at once count as 0):
/// `C·AHT / (N − A)`. Infinite when `agents ≤ traffic`; `0` when there is no traffic.
pub fn asa_secs(agents: u32, traffic: f64, aht_secs: f64) -> f64 {
    let a = load(traffic);
    if a == 0.0 {
        return 0.0;
    }
    let n = f64::from(agents);
    if n <= a {
        return f64::INFINITY;
    }
    erlang_c(agents, a) * load(aht_secs) / (n - a)
}

/// The offered load per operator, `A / N`; above 1 the operators cannot keep up. `0` with no
/// traffic; infinite with traffic and no operators.
pub fn occupancy(agents: u32, traffic: f64) -> f64 {
    let a = load(traffic);
    if a == 0.0 {
        0.0
    } else if agents == 0 {
        f64::INFINITY
    } else {
        a / f64::from(agents)
    }
}

/// The fewest operators `N > A` for which at least `target_sl` of the calls are answered within
/// `threshold_secs` and, if `max_occupancy` is given, `A / N` does not exceed it. `0` when there
/// are no arrivals. `target_sl` is clamped to `[0, 1]`; a `max_occupancy` above 1 has no effect
/// and one at or below 0 (or NaN) is ignored. Saturates at `u32::MAX` for absurd loads.
pub fn agents_needed(
    arrivals_per_hour: f64,
    aht_secs: f64,
    target_sl: f64,
    threshold_secs: f64,
    max_occupancy: Option<f64>,
) -> u32 {
    if load(arrivals_per_hour) == 0.0 {
        return 0;
    }
    let a = traffic_erlangs(arrivals_per_hour, aht_secs);
    if a >= f64::from(u32::MAX - 1) {
        return u32::MAX;
    }
    let target = if target_sl.is_nan() {
        0.0
    } else {
        target_sl.clamp(0.0, 1.0)
    };
    // The smallest integer above A (the queue must be stable), raised to meet the occupancy cap;
    // the tolerance keeps 8 / 0.8 from becoming 11 through rounding.
    let mut n = a.floor() as u32 + 1;
    if let Some(cap) = max_occupancy.filter(|c| *c > 0.0) {
        n = n.max((a / cap.min(1.0) - 1e-9).ceil() as u32);
    }
    if a == 0.0 {
        // Calls of no length: one operator answers them all at once.
        return n;
    }
    // Walk up from n, carrying Erlang B forward one step at a time.
    let mut b = erlang_b(n, a);
    loop {
        let nf = f64::from(n);
        let sl = sl_from_c(nf, a, c_from_b(nf, a, b), aht_secs, threshold_secs);
        if sl >= target || n == u32::MAX {
            return n;
        }
        n += 1;
        b = b_step(n, a, b);
    }
}
