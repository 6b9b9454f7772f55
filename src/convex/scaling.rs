//! The exact rescaling of the data the solver sees (powers of two), and the refusal of data
//! whose column scales no double-precision solve can bridge.

use crate::error::{Error, InputError};
use crate::input::data::{largest_magnitude, power_of_two_near, Dataset};
use crate::input::spec::{Loss, Spec};

/// The exact rescaling the solver sees: X / s and (squared loss) y / c with powers of two s, c,
/// and β' = β / (s c). Then v = (c / s) v' maps the scaled program's blocks back and the
/// objective is c² times the scaled one; exact, because powers of two scale floats exactly (see
/// docs/models.md). Applied only when X or y is far from unit size.
pub(crate) struct Scaling {
    pub(crate) x: f64,
    pub(crate) y: f64,
}

/// Entries whose largest magnitude lies in [1/64, 64] are not rescaled.
const UNSCALED_RANGE: (f64, f64) = (1.0 / 64.0, 64.0);

impl Scaling {
    pub(crate) fn of(data: &Dataset, model: &crate::input::spec::Model) -> Scaling {
        let keep = UNSCALED_RANGE.0..=UNSCALED_RANGE.1;
        Scaling {
            x: power_of_two_near(data.x.largest_magnitude(), keep.clone()),
            y: if model.loss == Loss::Squared {
                power_of_two_near(largest_magnitude(&data.y), keep)
            } else {
                1.0
            },
        }
    }

    pub(crate) fn is_identity(&self) -> bool {
        self.x == 1.0 && self.y == 1.0
    }

    /// The data and spec the solver sees.
    pub(crate) fn apply(&self, data: &Dataset, spec: &Spec) -> (Dataset, Spec) {
        let scaled = Dataset {
            x: data.x.map(|v| v / self.x),
            y: data.y.iter().map(|v| v / self.y).collect(),
            ..data.clone()
        };
        let mut spec = spec.clone();
        spec.model.beta /= self.x * self.y;
        (scaled, spec)
    }

    /// Block weights of the scaled program → of the original one.
    pub(crate) fn weights_back(&self, weights: &mut [Vec<f64>]) {
        let factor = self.y / self.x;
        weights
            .iter_mut()
            .for_each(|u| u.iter_mut().for_each(|v| *v *= factor));
    }
}

/// Column scales (largest |entry| per non-zero column, the bias column included) that differ by
/// more than this cannot be solved in double precision: the weights of the small columns would
/// have to be that much larger, beyond any solver tolerance. Uniform scaling is exact
/// ([`Scaling`]), per-column scaling is not (every weight is penalized).
pub const MAX_COLUMN_SCALE_RATIO: f64 = 1e30;

pub(crate) fn refuse_hopeless_scales(spec: &Spec, data: &Dataset) -> Result<(), Error> {
    let d = data.x.cols();
    let mut largest = vec![0.0f64; d];
    for row in data.x.row_iter() {
        for (m, v) in largest.iter_mut().zip(row) {
            *m = m.max(v.abs());
        }
    }
    let nonzero: Vec<(usize, f64)> = largest
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, v)| *v > 0.0)
        .collect();
    let (Some(&(hi_col, hi)), Some(&(lo_col, lo))) = (
        nonzero.iter().max_by(|a, b| a.1.total_cmp(&b.1)),
        nonzero.iter().min_by(|a, b| a.1.total_cmp(&b.1)),
    ) else {
        return Ok(());
    };
    if hi / lo <= MAX_COLUMN_SCALE_RATIO {
        return Ok(());
    }
    let name = |c: usize| {
        if data.bias && c + 1 == d {
            "the bias column".to_string()
        } else {
            format!("column {}", c + 1)
        }
    };
    Err(Error::Input(InputError::new(
        &spec.path,
        "data.x",
        format!(
            "column scales differ by a factor {:.1e} ({} up to {hi:e}, {} up to {lo:e}): double \
             precision cannot solve this problem; rescale the features (the optimum depends on \
             the scale, since every weight is penalized)",
            hi / lo,
            name(hi_col),
            name(lo_col)
        ),
    )))
}
