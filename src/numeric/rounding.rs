//! Rigorous enclosures of floating-point computations (IEEE 754 binary64, round to nearest).
//!
//! The certificate's claims (`dual_objective ≤ optimum`, `rho.upper ≥ ρ(λ)`, the network's
//! objective in `objective_bounds`) must hold for the exact real numbers that the float inputs
//! stand for, not just for what the floating-point evaluation happened to produce. Two tools:
//!
//! - **Dot products** by the standard lemma (Higham, *Accuracy and Stability of Numerical
//!   Algorithms*, §3.1): summed in any order, the computed value of Σ_{i<k} a_i b_i differs from
//!   the exact one by at most γ_k Σ |a_i b_i| with γ_k = k u / (1 − k u), u = 2⁻⁵³, plus k η for
//!   underflow (η = 2⁻¹⁰⁷⁴ per product; we allow 2η). [`dot_radius`] turns the computed
//!   Σ |a_i b_i| into a bound on that error, itself rounded upward.
//! - **Intervals** [`Bounds`] for the few scalar operations after that: every +, −, ×, ÷ and √
//!   is correctly rounded in IEEE arithmetic, so the exact result of an operation on floats lies
//!   between the next float below and the next float above the computed one; each end of an
//!   interval is moved outward by one ulp after every operation. `ln`, `ln_1p` and `exp` are
//!   not correctly rounded: we assume the platform's versions are within 2 ulp (glibc documents
//!   at most 1 ulp for each on x86-64 and aarch64) and widen their results by 4 ulp.
//!
//! Everything here is a plain function of floats; nothing calls the solver.

/// The unit roundoff u = 2⁻⁵³ of binary64 round-to-nearest.
pub const UNIT_ROUNDOFF: f64 = f64::EPSILON / 2.0;

/// Allowance per product for underflow (twice the smallest subnormal, 2⁻¹⁰⁷³).
pub const UNDERFLOW: f64 = 2.0 * f64::from_bits(1);

/// Ulps by which results of `ln`, `ln_1p` and `exp` are widened (see the module docs).
pub const LIBM_ULPS: u32 = 4;

/// An upper bound on γ_k = k u / (1 − k u) (k u is exact for k < 2⁵³; the division is rounded
/// up, the denominator down).
pub fn gamma(k: usize) -> f64 {
    let ku = k as f64 * UNIT_ROUNDOFF;
    assert!(
        ku < 0.5,
        "gamma({k}): too many terms for the rounding lemma"
    );
    (ku / (1.0 - ku).next_down()).next_up()
}

/// A bound on |fl(Σ_{i<k} a_i b_i) − Σ a_i b_i| given `abs_sum` = fl(Σ |a_i b_i|) computed in
/// floating point. With p_i = |a_i b_i|, the computed sum of the rounded |products| satisfies
/// `abs_sum` ≥ (1 − u)^k Σ p_i − k η, so Σ p_i ≤ (abs_sum + k η)(1 + γ_k); the error is at most
/// γ_k Σ p_i + k η. Every operation of the bound is rounded up.
pub fn dot_radius(k: usize, abs_sum: f64) -> f64 {
    DotBound::of(k).radius(abs_sum)
}

/// [`dot_radius`] for a fixed k, with its factor computed once (the hot loops call it per entry).
#[derive(Debug, Clone, Copy)]
pub struct DotBound {
    factor: f64,
    tiny: f64,
}

impl DotBound {
    /// The bound for sums of k products.
    pub fn new(k: usize) -> DotBound {
        let g = gamma(k);
        DotBound {
            factor: (g * (1.0 + g).next_up()).next_up(),
            tiny: (k as f64 * UNDERFLOW).next_up(),
        }
    }

    /// [`DotBound::new`], from a table computed once for k < 64 (the hot loops' sizes).
    pub fn of(k: usize) -> DotBound {
        static TABLE: std::sync::OnceLock<Vec<DotBound>> = std::sync::OnceLock::new();
        let table = TABLE.get_or_init(|| (0..64).map(DotBound::new).collect());
        table.get(k).copied().unwrap_or_else(|| DotBound::new(k))
    }

    /// γ_k (1 + γ_k)(abs_sum + k η) + k η, rounded up.
    pub fn radius(self, abs_sum: f64) -> f64 {
        let total = (abs_sum + self.tiny).next_up();
        ((self.factor * total).next_up() + self.tiny).next_up()
    }
}

/// The exact value of a computed dot product lies in `value ± radius`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Enclosure {
    /// The computed value.
    pub value: f64,
    /// A rigorous bound on the distance to the exact value.
    pub radius: f64,
}

impl Enclosure {
    /// The interval [value − radius, value + radius], rounded outward.
    pub fn bounds(self) -> Bounds {
        Bounds {
            lo: (self.value - self.radius).next_down(),
            hi: (self.value + self.radius).next_up(),
        }
    }
}

/// Σ a_i b_i with a rigorous error radius.
pub fn dot(a: &[f64], b: &[f64]) -> Enclosure {
    let (mut value, mut abs) = (0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let p = x * y;
        value += p;
        abs += p.abs();
    }
    Enclosure {
        value,
        radius: dot_radius(a.len().min(b.len()), abs),
    }
}

/// A closed interval [lo, hi] of reals that contains an exact value. A NaN end means nothing
/// is known; [`Bounds::lower`] and [`Bounds::upper`] then give −∞ and +∞.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bounds {
    /// Lower end.
    pub lo: f64,
    /// Upper end.
    pub hi: f64,
}

fn down(x: f64) -> f64 {
    x.next_down()
}

fn up(x: f64) -> f64 {
    x.next_up()
}

fn widen_down(mut x: f64, ulps: u32) -> f64 {
    for _ in 0..ulps {
        x = x.next_down();
    }
    x
}

fn widen_up(mut x: f64, ulps: u32) -> f64 {
    for _ in 0..ulps {
        x = x.next_up();
    }
    x
}

impl Bounds {
    /// The exact float x.
    pub fn point(x: f64) -> Bounds {
        Bounds { lo: x, hi: x }
    }

    /// [lo, hi] (no rounding: both ends are taken as exact).
    pub fn new(lo: f64, hi: f64) -> Bounds {
        Bounds { lo, hi }
    }

    /// A rigorous lower end (−∞ when unknown).
    pub fn lower(self) -> f64 {
        if self.lo.is_nan() {
            f64::NEG_INFINITY
        } else {
            self.lo
        }
    }

    /// A rigorous upper end (+∞ when unknown).
    pub fn upper(self) -> f64 {
        if self.hi.is_nan() {
            f64::INFINITY
        } else {
            self.hi
        }
    }

    /// The sum.
    pub fn plus(self, o: Bounds) -> Bounds {
        Bounds {
            lo: down(self.lo + o.lo),
            hi: up(self.hi + o.hi),
        }
    }

    /// The difference.
    pub fn minus(self, o: Bounds) -> Bounds {
        Bounds {
            lo: down(self.lo - o.hi),
            hi: up(self.hi - o.lo),
        }
    }

    /// The product.
    pub fn times(self, o: Bounds) -> Bounds {
        let products = [
            self.lo * o.lo,
            self.lo * o.hi,
            self.hi * o.lo,
            self.hi * o.hi,
        ];
        let lo = products.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = products.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if products.iter().any(|p| p.is_nan()) {
            return Bounds {
                lo: f64::NAN,
                hi: f64::NAN,
            };
        }
        Bounds {
            lo: down(lo),
            hi: up(hi),
        }
    }

    /// Multiplication by a float known exactly.
    pub fn scale(self, s: f64) -> Bounds {
        self.times(Bounds::point(s))
    }

    /// x², which is never negative.
    pub fn square(self) -> Bounds {
        let (a, b) = (self.lo.abs(), self.hi.abs());
        let lo = if self.lo <= 0.0 && self.hi >= 0.0 {
            0.0
        } else {
            down(a.min(b) * a.min(b)).max(0.0)
        };
        Bounds {
            lo,
            hi: up(a.max(b) * a.max(b)),
        }
    }

    /// The quotient by an interval of positive numbers (NaN ends when it may contain 0).
    pub fn div_positive(self, o: Bounds) -> Bounds {
        if o.lo.is_nan() || o.lo <= 0.0 {
            return Bounds {
                lo: f64::NAN,
                hi: f64::NAN,
            };
        }
        let q = [
            self.lo / o.lo,
            self.lo / o.hi,
            self.hi / o.lo,
            self.hi / o.hi,
        ];
        Bounds {
            lo: down(q.iter().copied().fold(f64::INFINITY, f64::min)),
            hi: up(q.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        }
    }

    /// √x of the non-negative part.
    pub fn sqrt(self) -> Bounds {
        Bounds {
            lo: down(self.lo.max(0.0).sqrt()).max(0.0),
            hi: up(self.hi.max(0.0).sqrt()),
        }
    }

    /// max(x, 0).
    pub fn positive_part(self) -> Bounds {
        Bounds {
            lo: self.lo.max(0.0),
            hi: self.hi.max(0.0),
        }
    }

    /// |x|.
    pub fn abs(self) -> Bounds {
        if self.lo >= 0.0 {
            self
        } else if self.hi <= 0.0 {
            Bounds {
                lo: -self.hi,
                hi: -self.lo,
            }
        } else {
            Bounds {
                lo: 0.0,
                hi: (-self.lo).max(self.hi),
            }
        }
    }

    /// The intersection with [lo, hi] (valid when the exact value is known to lie there too).
    pub fn clamp(self, lo: f64, hi: f64) -> Bounds {
        Bounds {
            lo: self.lo.clamp(lo, hi),
            hi: self.hi.clamp(lo, hi),
        }
    }

    /// ln x for x > 0 (−∞ at the lower end when the interval reaches 0); monotone.
    pub fn ln(self) -> Bounds {
        let lo = if self.lo > 0.0 {
            widen_down(self.lo.ln(), LIBM_ULPS)
        } else {
            f64::NEG_INFINITY
        };
        Bounds {
            lo,
            hi: widen_up(self.hi.ln(), LIBM_ULPS),
        }
    }

    /// log(1 + exp(x)), the softplus; monotone. Evaluated as max(x, 0) + ln_1p(exp(−|x|)) at
    /// each end, the two libm calls widened by [`LIBM_ULPS`].
    pub fn softplus(self) -> Bounds {
        let at = |x: f64, upward: bool| -> f64 {
            let e = (-x.abs()).exp();
            if upward {
                let l = widen_up(widen_up(e, LIBM_ULPS).ln_1p(), LIBM_ULPS);
                up(x.max(0.0) + l)
            } else {
                let e = widen_down(e, LIBM_ULPS).max(0.0);
                let l = widen_down(e.ln_1p(), LIBM_ULPS).max(0.0);
                down(x.max(0.0) + l)
            }
        };
        Bounds {
            lo: at(self.lo, false),
            hi: at(self.hi, true),
        }
    }
}

/// A rigorous upper bound on the Euclidean norm of a vector of floats: Σ v_j² is a dot product
/// whose terms are all non-negative, so its computed value S̃ is also the Σ |terms| of the
/// lemma and the exact sum is at most S̃ + [`dot_radius`](k, S̃); the square root is rounded up.
pub fn norm_upper(v: &[f64]) -> f64 {
    let sum: f64 = v.iter().map(|x| x * x).sum();
    let bound = (sum + dot_radius(v.len(), sum)).next_up();
    bound.sqrt().next_up()
}

/// A rigorous lower bound on the binary entropy H(q) = −q ln q − (1 − q) ln(1 − q) over all
/// q in `q` ⊂ [0, 1]. H is concave, so its minimum over an interval is at an end.
pub fn entropy_lower(q: Bounds) -> f64 {
    let q = q.clamp(0.0, 1.0);
    let at = |p: f64| -> f64 {
        // −p ln p ≥ 0 and −(1 − p) ln(1 − p) ≥ 0, each bounded below.
        let term = |a: Bounds| -> f64 {
            if a.hi <= 0.0 || a.lo >= 1.0 {
                return 0.0;
            }
            let minus_ln = Bounds::point(0.0).minus(a.ln());
            a.times(minus_ln).lower().max(0.0)
        };
        let p = Bounds::point(p);
        let one_minus = Bounds::point(1.0).minus(p).clamp(0.0, 1.0);
        Bounds::point(term(p))
            .plus(Bounds::point(term(one_minus)))
            .lower()
    };
    at(q.lo).min(at(q.hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_bounds_the_definition() {
        for k in [1usize, 2, 10, 1000, 1 << 20] {
            let exact = k as f64 * UNIT_ROUNDOFF / (1.0 - k as f64 * UNIT_ROUNDOFF);
            assert!(gamma(k) >= exact);
            assert!(gamma(k) <= exact * (1.0 + 1e-12));
        }
    }

    #[test]
    fn intervals_contain_simple_exact_results() {
        // 0.1 + 0.2 in exact arithmetic of the two floats is not a float.
        let s = Bounds::point(0.1).plus(Bounds::point(0.2));
        assert!(s.lo < s.hi && s.lo <= 0.30000000000000004 && s.hi >= 0.3);
        let sq = Bounds::new(-2.0, 1.0).square();
        assert_eq!(sq.lo, 0.0);
        assert!(sq.hi >= 4.0);
        assert!(
            Bounds::new(0.0, 1.0)
                .div_positive(Bounds::new(0.0, 1.0))
                .lower()
                == f64::NEG_INFINITY
        );
    }

    #[test]
    fn entropy_bound_is_below_the_value() {
        for q in [0.0, 1e-300, 1e-8, 0.25, 0.5, 0.75, 1.0 - 1e-12, 1.0] {
            let h = if q == 0.0 || q == 1.0 {
                0.0
            } else {
                -q * f64::ln(q) - (1.0 - q) * f64::ln_1p(-q)
            };
            let l = entropy_lower(Bounds::point(q));
            assert!(l <= h && l >= h - 1e-14 * (1.0 + h), "q {q}: {l} vs {h}");
        }
    }
}
