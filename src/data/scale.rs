//! Feature scaling, fitted on the training rows only and then applied
//! unchanged to validation, test and new data (fitting on all rows would
//! leak the held-out rows' statistics into training).
//!
//! A [`Scaler`] maps each column `x ↦ (x − offset) / scale`:
//! - [`Scaling::Standard`]: `offset` the mean, `scale` the population
//!   standard deviation (divisor `n`), as scikit-learn's `StandardScaler`;
//! - [`Scaling::MinMax`]: `offset` the minimum, `scale` `max − min`, so the
//!   training rows land in `[0, 1]`, as scikit-learn's `MinMaxScaler`;
//! - [`Scaling::None`]: `offset` 0, `scale` 1.
//!
//! A constant column gets `scale` 1, so it becomes 0 under either method
//! rather than NaN. The parameters are plain vectors, serializable with
//! serde, to be saved beside a model.
//!
//! Fitting and scaling compute in f64 whatever precision the features are
//! kept in; [`Scaler::transform_in_place`] scales a dataset without a copy,
//! keeping f32 features f32 when the model reads them as f32.
//!
//! ```
//! use nabla::data::{Scaler, Scaling};
//! let train = [1.0, 10.0, 3.0, 10.0]; // two rows, two columns; the second is constant
//! let scaler = Scaler::fit(Scaling::Standard, &train, 2);
//! assert_eq!((scaler.offset.as_slice(), scaler.scale.as_slice()), (&[2.0, 10.0][..], &[1.0, 1.0][..]));
//! let mut new = [5.0, 10.0];
//! scaler.transform(&mut new);
//! assert_eq!(new, [3.0, 0.0]);
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::error::DataError;
use super::{Dataset, Features};
use crate::tensor::DType;

/// How to scale features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scaling {
    /// Zero mean and unit (population) standard deviation per column.
    Standard,
    /// The training range of each column to `[0, 1]`.
    MinMax,
    /// Unchanged.
    None,
}

impl Scaling {
    /// The names [`FromStr`] takes.
    pub const NAMES: [&'static str; 3] = ["standard", "minmax", "none"];
}

impl fmt::Display for Scaling {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scaling::Standard => "standard",
            Scaling::MinMax => "minmax",
            Scaling::None => "none",
        })
    }
}

impl FromStr for Scaling {
    type Err = DataError;

    fn from_str(s: &str) -> Result<Self, DataError> {
        match s {
            "standard" => Ok(Scaling::Standard),
            "minmax" | "min-max" => Ok(Scaling::MinMax),
            "none" => Ok(Scaling::None),
            _ => Err(DataError::setting(
                "scale",
                format!("{s:?}"),
                format!("use one of {}", Scaling::NAMES.join(", ")),
            )),
        }
    }
}

/// Per-column `offset` and `scale`: `x ↦ (x − offset) / scale`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaler {
    /// How the parameters were fitted.
    pub method: Scaling,
    /// Subtracted from each column.
    pub offset: Vec<f64>,
    /// Each column is then divided by this (never 0).
    pub scale: Vec<f64>,
}

impl Scaler {
    /// Fits `method` on `features`, `width` columns, row-major. With no rows
    /// every column gets offset 0 and scale 1.
    ///
    /// # Panics
    /// If `width` is 0 or does not divide `features.len()`.
    pub fn fit(method: Scaling, features: &[f64], width: usize) -> Scaler {
        Scaler::fit_values(method, features, width)
    }

    /// [`fit`](Self::fit) on values of either precision, each read as f64
    /// where it is used (f32 values are widened one at a time, never as a
    /// whole f64 copy), so the sums and results are those of `fit` on the
    /// widened values, bit for bit.
    fn fit_values<T: Copy + Into<f64>>(method: Scaling, features: &[T], width: usize) -> Scaler {
        assert!(
            width > 0 && features.len().is_multiple_of(width),
            "Scaler::fit: {} values are not rows of {width}",
            features.len()
        );
        let n = features.len() / width;
        let column = |j: usize| features.iter().skip(j).step_by(width).map(|&v| v.into());
        let mut offset = vec![0.0; width];
        let mut scale = vec![1.0; width];
        if n > 0 && method != Scaling::None {
            for j in 0..width {
                let (min, max) = column(j)
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                        (lo.min(v), hi.max(v))
                    });
                match method {
                    Scaling::Standard => {
                        let mean = column(j).sum::<f64>() / n as f64;
                        let variance =
                            column(j).map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
                        offset[j] = mean;
                        scale[j] = if max > min && variance > 0.0 {
                            variance.sqrt()
                        } else {
                            1.0
                        };
                    }
                    Scaling::MinMax => {
                        offset[j] = min;
                        scale[j] = if max > min { max - min } else { 1.0 };
                    }
                    Scaling::None => unreachable!(),
                }
            }
        }
        Scaler {
            method,
            offset,
            scale,
        }
    }

    /// Fits `method` on a dataset's features, in f64 whatever precision
    /// they are kept in.
    pub fn fit_dataset(method: Scaling, data: &Dataset) -> Scaler {
        let width = data.width().max(1);
        match &data.features {
            Features::F64(v) => Scaler::fit_values(method, v, width),
            Features::F32(v) => Scaler::fit_values(method, v, width),
        }
    }

    /// Columns the scaler was fitted on.
    pub fn width(&self) -> usize {
        self.offset.len()
    }

    /// Scales rows of features in place.
    ///
    /// # Panics
    /// If the length is not a whole number of rows of [`width`](Self::width).
    pub fn transform(&self, features: &mut [f64]) {
        self.transform_values(features, |v| v, |v| v);
    }

    /// Scales rows of values in place: each value is widened to f64 by
    /// `wide`, scaled there as [`transform`](Self::transform) does, and
    /// stored back by `narrow`.
    fn transform_values<T: Copy>(
        &self,
        features: &mut [T],
        wide: impl Fn(T) -> f64,
        narrow: impl Fn(f64) -> T,
    ) {
        let width = self.width();
        assert!(
            width > 0 && features.len().is_multiple_of(width),
            "Scaler::transform: {} values are not rows of {width}",
            features.len()
        );
        for row in features.chunks_exact_mut(width) {
            for ((v, o), s) in row.iter_mut().zip(&self.offset).zip(&self.scale) {
                *v = narrow((wide(*v) - o) / s);
            }
        }
    }

    /// Whether the scaler leaves every value as it is (offsets 0, scales
    /// 1, as [`Scaling::None`] fits): `(x − 0) / 1` is `x` exactly, in
    /// either precision.
    pub fn is_identity(&self) -> bool {
        self.offset.iter().all(|&o| o == 0.0) && self.scale.iter().all(|&s| s == 1.0)
    }

    /// Undoes [`transform`](Self::transform) in place.
    ///
    /// # Panics
    /// As [`transform`](Self::transform).
    pub fn inverse_transform(&self, features: &mut [f64]) {
        let width = self.width();
        assert!(
            width > 0 && features.len().is_multiple_of(width),
            "Scaler::inverse_transform: {} values are not rows of {width}",
            features.len()
        );
        for row in features.chunks_exact_mut(width) {
            for ((v, o), s) in row.iter_mut().zip(&self.offset).zip(&self.scale) {
                *v = *v * s + o;
            }
        }
    }

    /// A copy of `data` with its features scaled (as f64); an error if its
    /// width is not the one the scaler was fitted on.
    pub fn transform_dataset(&self, data: &Dataset) -> Result<Dataset, DataError> {
        self.check_width(data)?;
        let mut scaled = data.clone();
        self.transform(scaled.features.make_f64());
        Ok(scaled)
    }

    /// Scales `data`'s features in place, for a model that reads them as
    /// `read_as`; an error if its width is not the one the scaler was
    /// fitted on.
    ///
    /// Every value is scaled in f64, as [`transform`](Self::transform)
    /// does. f64 features stay f64. f32 features stay f32 when they will be
    /// read as f32: each scaled value is rounded to f32 once, as reading
    /// the f64 result as f32 would round it, so the model sees the same
    /// numbers at half the memory; read as f64 they are widened to f64
    /// first. A scaler that [`is_identity`](Self::is_identity) leaves the
    /// features untouched.
    pub fn transform_in_place(&self, data: &mut Dataset, read_as: DType) -> Result<(), DataError> {
        self.check_width(data)?;
        if self.is_identity() {
            return Ok(());
        }
        match (&mut data.features, read_as) {
            (Features::F32(v), DType::F32) => {
                self.transform_values(v, f64::from, |x| x as f32);
            }
            (features, _) => self.transform(features.make_f64()),
        }
        Ok(())
    }

    /// An error unless `data` has the columns the scaler was fitted on.
    fn check_width(&self, data: &Dataset) -> Result<(), DataError> {
        if data.width() == self.width() {
            return Ok(());
        }
        Err(DataError::setting(
            "features",
            data.width(),
            format!(
                "the scaler was fitted on {} features; give data with the training data's columns",
                self.width()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const X: [f64; 8] = [1.0, 5.0, 2.0, 5.0, 3.0, 5.0, 6.0, 5.0];

    #[test]
    fn standard_uses_the_population_deviation() {
        let s = Scaler::fit(Scaling::Standard, &X, 2);
        // column 0: mean 3, deviations −2 −1 0 3, variance 14/4.
        assert_eq!(s.offset, [3.0, 5.0]);
        assert!((s.scale[0] - 3.5f64.sqrt()).abs() < 1e-15);
        assert_eq!(s.scale[1], 1.0);
        let mut x = X;
        s.transform(&mut x);
        let col0: Vec<f64> = x.iter().step_by(2).copied().collect();
        assert!(col0.iter().sum::<f64>().abs() < 1e-12);
        assert!((col0.iter().map(|v| v * v).sum::<f64>() / 4.0 - 1.0).abs() < 1e-12);
        assert!(x.iter().skip(1).step_by(2).all(|&v| v == 0.0));
        s.inverse_transform(&mut x);
        assert!(x.iter().zip(&X).all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn minmax_maps_training_rows_to_the_unit_interval() {
        let s = Scaler::fit(Scaling::MinMax, &X, 2);
        let mut x = X;
        s.transform(&mut x);
        assert_eq!(x, [0.0, 0.0, 0.2, 0.0, 0.4, 0.0, 1.0, 0.0]);
        let mut outside = [11.0, 4.0];
        s.transform(&mut outside);
        assert_eq!(outside, [2.0, -1.0]);
    }

    #[test]
    fn none_and_empty_are_the_identity() {
        for (method, data) in [(Scaling::None, &X[..]), (Scaling::Standard, &[][..])] {
            let s = Scaler::fit(method, data, 2);
            assert_eq!((s.offset, s.scale), (vec![0.0; 2], vec![1.0; 2]));
        }
    }

    #[test]
    fn names_and_json() {
        for name in Scaling::NAMES {
            assert_eq!(name.parse::<Scaling>().unwrap().to_string(), name);
        }
        assert_eq!(
            "z".parse::<Scaling>().unwrap_err().to_string(),
            r#"scale = "z": use one of standard, minmax, none"#
        );
        let s = Scaler::fit(Scaling::MinMax, &X, 2);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(
            json,
            r#"{"method":"minmax","offset":[1.0,5.0],"scale":[5.0,1.0]}"#
        );
        assert_eq!(serde_json::from_str::<Scaler>(&json).unwrap(), s);
    }

    #[test]
    fn datasets_of_another_width_are_refused() {
        let data = crate::data::builtin("xor", &Default::default()).unwrap();
        let s = Scaler::fit_dataset(Scaling::Standard, &data);
        assert_eq!(
            s.transform_dataset(&data).unwrap().features,
            [-1., -1., -1., 1., 1., -1., 1., 1.]
        );
        let wide = Scaler::fit(Scaling::Standard, &[1.0, 2.0, 3.0], 3);
        assert!(
            wide.transform_dataset(&data)
                .unwrap_err()
                .to_string()
                .contains("fitted on 3 features")
        );
    }

    #[test]
    fn f32_features_fit_and_scale_as_their_f64_widening_does() {
        let narrow: Vec<f32> = (0..60)
            .map(|i| (i as f32 * 0.37).sin() * 3.1 + 0.2)
            .collect();
        let wide: Vec<f64> = narrow.iter().map(|&x| f64::from(x)).collect();
        let dataset = |features: Features| Dataset {
            features,
            feature_names: vec!["a".into(), "b".into(), "c".into()],
            target_name: "y".into(),
            targets: crate::data::Targets::Values {
                values: vec![0.0; 20],
                outputs: 1,
            },
        };
        for method in [Scaling::Standard, Scaling::MinMax] {
            let s = Scaler::fit_dataset(method, &dataset(narrow.clone().into()));
            assert_eq!(s, Scaler::fit(method, &wide, 3), "{method}");
            let mut expected = wide.clone();
            s.transform(&mut expected);
            // Read as f32: kept f32, each value the f32 rounding of the f64 result.
            let mut data = dataset(narrow.clone().into());
            s.transform_in_place(&mut data, DType::F32).unwrap();
            let rounded: Vec<f32> = expected.iter().map(|&x| x as f32).collect();
            assert_eq!(data.features, Features::F32(rounded));
            // Read as f64: widened, exactly `transform`'s values.
            let mut data = dataset(narrow.clone().into());
            s.transform_in_place(&mut data, DType::F64).unwrap();
            assert_eq!(data.features, Features::F64(expected.clone()));
            let mut data = dataset(wide.clone().into());
            s.transform_in_place(&mut data, DType::F32).unwrap();
            assert_eq!(data.features, Features::F64(expected));
        }
        let none = Scaler::fit_dataset(Scaling::None, &dataset(narrow.clone().into()));
        assert!(none.is_identity());
        let mut data = dataset(narrow.clone().into());
        none.transform_in_place(&mut data, DType::F64).unwrap();
        assert_eq!(data.features, Features::F32(narrow));
        let wrong = Scaler::fit(Scaling::None, &[0.0; 4], 2);
        assert!(wrong.transform_in_place(&mut data, DType::F32).is_err());
    }
}
