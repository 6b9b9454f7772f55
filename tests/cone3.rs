//! The face-based projection onto three-dimensional cones (cvxnn::cone3) against the
//! active-set method and the projection's optimality conditions.

use cvxnn::arrangement::Xoshiro;
use cvxnn::cone::multipliers;
use cvxnn::cone3::{multipliers_3d, Cone3};
use cvxnn::data::dot;

/// p = c + Gᵀμ.
fn projected(c: &[f64], g: &[&[f64]], mu: &[f64]) -> [f64; 3] {
    let mut p = [c[0], c[1], c[2]];
    for (row, &m) in g.iter().zip(mu) {
        for (pi, gi) in p.iter_mut().zip(row.iter()) {
            *pi += m * gi;
        }
    }
    p
}

/// Rows of a cone with a known interior point: random normals flipped to contain `inside`
/// (like a swept cell's facet rows), or unconstrained normals when `inside` is None.
fn random_cone(rng: &mut Xoshiro, m: usize, inside: Option<[f64; 3]>) -> Vec<Vec<f64>> {
    (0..m)
        .map(|_| {
            let g: Vec<f64> = (0..3).map(|_| rng.gaussian()).collect();
            match inside {
                Some(u) if dot(&g, &u) < 0.0 => g.iter().map(|v| -v).collect(),
                _ => g,
            }
        })
        .collect()
}

#[test]
fn the_face_projection_is_the_projection() {
    let mut rng = Xoshiro::new(29);
    let mut checked = [0usize; 3];
    for trial in 0..20_000 {
        let m = 1 + (rng.next_u64() % 8) as usize;
        let inside = (trial % 4 != 0).then(|| [rng.gaussian(), rng.gaussian(), rng.gaussian()]);
        let rows = random_cone(&mut rng, m, inside);
        let g: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
        let c: Vec<f64> = (0..3).map(|_| rng.gaussian()).collect();
        let mu = Cone3::new(&g).multipliers(&c);
        assert_eq!(mu.as_slice(), multipliers_3d(&c, &g).as_slice());
        let p = projected(&c, &g, &mu);
        let reference = projected(&c, &g, &multipliers(&c, &g));
        let size = dot(&c, &c).sqrt();
        // Every ‖c + Gᵀμ‖ with μ ≥ 0 bounds ‖Π c‖ from above: never longer than Lawson–Hanson's,
        // an independent method (which stops within about 1e-8 of the projection).
        let excess = dot(&p, &p).sqrt() - dot(&reference, &reference).sqrt();
        assert!(
            excess <= 1e-9 * size,
            "trial {trial}: ‖Π c‖ {} against {} (m = {m})",
            dot(&p, &p).sqrt(),
            dot(&reference, &reference).sqrt()
        );
        // Optimality: μ ≥ 0, p in the cone, μ_j g_jᵀp = 0 (up to the rounding of p, whose
        // terms are as large as μ_j ‖g_j‖ when c is a near-degenerate polar combination).
        let terms = size
            + g.iter()
                .zip(&mu)
                .map(|(r, m)| m * dot(r, r).sqrt())
                .sum::<f64>();
        for (row, &m_j) in g.iter().zip(&mu) {
            let norm = dot(row, row).sqrt();
            assert!(m_j >= 0.0, "trial {trial}: negative multiplier");
            assert!(
                dot(row, &p) >= -1e-9 * norm * terms,
                "trial {trial}: p outside"
            );
            assert!(
                (m_j * dot(row, &p)).abs() <= 1e-9 * terms * terms,
                "trial {trial}: complementarity"
            );
        }
        let kind = match mu.iter().filter(|&&v| v > 0.0).count() {
            0 => 0,
            1 => 1,
            _ => 2,
        };
        checked[kind] += 1;
    }
    // Interior, facet and edge (or polar) projections all occurred.
    assert!(checked.iter().all(|&k| k > 1000), "{checked:?}");
}

#[test]
fn cones_beyond_the_face_method_fall_back_to_the_active_set() {
    let mut rng = Xoshiro::new(31);
    let rows = random_cone(&mut rng, 12, Some([1.0, 0.5, 0.25]));
    let g: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    let c = [-0.3, 1.2, -2.0];
    let mu = multipliers_3d(&c, &g);
    assert_eq!(mu.as_slice(), multipliers(&c, &g).as_slice());
    assert_eq!(Cone3::new(&g).multipliers(&c).as_slice(), mu.as_slice());
}
