//! Student's t distribution: the tail probabilities and quantiles the gate's paired test
//! needs, from the regularized incomplete beta function (Lentz's continued fraction and
//! Lanczos's log-gamma, as in Numerical Recipes §6.1–6.4).

/// P(T > t) for Student's t with `df` degrees of freedom.
pub fn upper_tail(t: f64, df: f64) -> f64 {
    if t.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t == f64::INFINITY {
        return 0.0;
    }
    if t == f64::NEG_INFINITY {
        return 1.0;
    }
    // P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
    let two_sided = incomplete_beta(df / (df + t * t), df / 2.0, 0.5);
    if t >= 0.0 {
        two_sided / 2.0
    } else {
        1.0 - two_sided / 2.0
    }
}

/// The t with P(T > t) = `p`, for 0 < p < 1: by bisection on [`upper_tail`], which is
/// monotone, to 1e-10.
pub fn upper_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (-1e6_f64, 1e6_f64);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if upper_tail(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    (lo + hi) / 2.0
}

fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 6] = [
        76.180_091_729_471_46,
        -86.505_320_329_416_77,
        24.014_098_240_830_91,
        -1.231_739_572_450_155,
        0.120_865_097_386_617_9e-2,
        -0.539_523_938_495_3e-5,
    ];
    let tmp = x + 5.5 - (x + 0.5) * (x + 5.5).ln();
    let mut ser = 1.000_000_000_190_015;
    for (j, g) in G.iter().enumerate() {
        ser += g / (x + 1.0 + j as f64);
    }
    -tmp + (2.506_628_274_631_000_5 * ser / x).ln()
}

/// I_x(a, b), the regularized incomplete beta function.
fn incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front =
        (ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln()).exp();
    // The continued fraction converges quickly on this side; the other by symmetry.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * continued_fraction(x, a, b) / a
    } else {
        1.0 - front * continued_fraction(1.0 - x, b, a) / b
    }
}

fn continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-14 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Textbook critical values: t(0.05, 5) = 2.015, t(0.025, 10) = 2.228,
    /// t(0.005, 3) = 5.841, t(0.025, 1) = 12.706.
    #[test]
    fn tails_and_quantiles_match_the_tables() {
        for (p, df, t) in [
            (0.05, 5.0, 2.015),
            (0.025, 10.0, 2.228),
            (0.005, 3.0, 5.841),
            (0.025, 1.0, 12.706),
        ] {
            assert!((upper_tail(t, df) - p).abs() < 2e-4, "P(T{df} > {t})");
            assert!((upper_quantile(p, df) - t).abs() < 2e-3, "t({p}, {df})");
        }
        assert!((upper_tail(0.0, 7.0) - 0.5).abs() < 1e-12);
        assert!((upper_tail(-2.015, 5.0) - 0.95).abs() < 2e-4);
    }
}
