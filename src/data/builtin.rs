//! Datasets by name: two real ones embedded in the library, the logic
//! gates, and seeded generators of toy problems (listed at [`builtin`]).
//!
//! `data/README.md` in the repository lists the files' sources. Generated
//! sets depend only on their settings and the seed: the same seed gives the
//! same rows on every machine ([`Rng`] is portable).
//!
//! ```
//! use nabla::data::{builtin, BuiltinOptions};
//! let moons = builtin("moons", &BuiltinOptions { samples: Some(50), ..Default::default() }).unwrap();
//! assert_eq!((moons.len(), moons.width()), (50, 2));
//! assert!(builtin("mnist", &BuiltinOptions::default()).unwrap_err().to_string().contains("digits, iris"));
//! ```

use std::f64::consts::{PI, TAU};

use super::csv::{CsvOptions, parse_csv};
use super::error::DataError;
use super::{Dataset, Targets};
use crate::tensor::Rng;

/// The dataset used when none is named.
pub const DEFAULT_BUILTIN: &str = "digits";

/// A built-in dataset's name and a one-line description.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltinInfo {
    /// The name [`builtin`] takes.
    pub name: &'static str,
    /// What it is, in one line.
    pub description: &'static str,
}

/// Every built-in dataset, the default first.
pub const BUILTINS: &[BuiltinInfo] = &[
    BuiltinInfo {
        name: "digits",
        description: "handwritten digits, 8×8 grey levels 0–16: 1797 rows, 64 features, 10 classes (UCI; the default)",
    },
    BuiltinInfo {
        name: "iris",
        description: "Fisher's iris flowers: 150 rows, 4 measurements in cm, 3 species (UCI)",
    },
    BuiltinInfo {
        name: "xor",
        description: "the XOR truth table: 4 rows, 2 inputs, classes 0 and 1",
    },
    BuiltinInfo {
        name: "not",
        description: "the NOT gate: inputs 0 and 1, classes 1 and 0",
    },
    BuiltinInfo {
        name: "moons",
        description: "two interleaving half circles in 2-D, 2 classes (samples 200, noise 0.1)",
    },
    BuiltinInfo {
        name: "circles",
        description: "a circle inside a circle in 2-D, 2 classes (samples 200, noise 0.1, factor 0.5)",
    },
    BuiltinInfo {
        name: "spirals",
        description: "interleaved spiral arms in 2-D, one class per arm (samples 300, arms 3, noise 0.2)",
    },
    BuiltinInfo {
        name: "linear",
        description: "y = W x + b + noise with seeded W and b, regression (samples 200, inputs 1, outputs 1, noise 0.1)",
    },
];

/// Settings of the generated datasets; `None` takes the dataset's default.
/// A setting given to a dataset it does not apply to is an error.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuiltinOptions {
    /// Rows (`moons`, `circles`, `spirals`, `linear`).
    pub samples: Option<usize>,
    /// Standard deviation of the Gaussian noise: on each coordinate for
    /// `moons` and `circles`, on each arm's angle (radians) for `spirals`,
    /// on each target for `linear`.
    pub noise: Option<f64>,
    /// Seed of the generator.
    pub seed: u64,
    /// Inner circle's radius relative to the outer one, in `[0, 1)` (`circles`).
    pub factor: Option<f64>,
    /// Number of arms and classes, ≥ 2 (`spirals`).
    pub arms: Option<usize>,
    /// Features per row (`linear`).
    pub inputs: Option<usize>,
    /// Targets per row (`linear`).
    pub outputs: Option<usize>,
}

const DIGITS: &str = include_str!("../../data/digits.csv");
const IRIS: &str = include_str!("../../data/iris.csv");

/// Most rows × columns a generator makes, to keep a typo from filling memory.
const MAX_CELLS: usize = 100_000_000;

/// The built-in dataset `name`:
///
/// | name | what |
/// |---|---|
/// | `digits` (default) | 1797 8×8 handwritten digits, 64 grey levels 0–16, 10 classes: the test part of the UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak, 1998) as in scikit-learn's `load_digits`; CC BY 4.0 |
/// | `iris` | 150 iris flowers, 4 measurements in cm, 3 species: R. A. Fisher (1936), UCI Machine Learning Repository, as in scikit-learn's `load_iris`; CC BY 4.0 |
/// | `xor`, `not` | the truth tables of XOR (4 rows) and NOT (2 rows), as classes `0` and `1` |
/// | `moons`, `circles` | scikit-learn's `make_moons` and `make_circles`, same geometry and defaults (200 rows, noise 0.1, factor 0.5) |
/// | `spirals` | interleaved spiral arms, one class per arm, after the CS231n "Minimal neural network case study" |
/// | `linear` | `y = W x + b + noise` with seeded `W` and `b`, for regression |
///
/// [`BuiltinOptions`] sets the generators' sizes and noise; a setting given
/// to a dataset it does not apply to is an error, as is an unknown name.
pub fn builtin(name: &str, options: &BuiltinOptions) -> Result<Dataset, DataError> {
    let o = options;
    let allowed = builtin_settings(name);
    if !BUILTINS.iter().any(|b| b.name == name) {
        return Err(DataError::UnknownDataset {
            name: name.to_string(),
            names: BUILTINS
                .iter()
                .map(|b| b.name)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let given = [
        ("samples", o.samples.map(|v| v.to_string())),
        ("noise", o.noise.map(|v| v.to_string())),
        ("factor", o.factor.map(|v| v.to_string())),
        ("arms", o.arms.map(|v| v.to_string())),
        ("inputs", o.inputs.map(|v| v.to_string())),
        ("outputs", o.outputs.map(|v| v.to_string())),
    ];
    for (setting, value) in given {
        if let Some(value) = value
            && !allowed.contains(&setting)
        {
            let takers: Vec<&str> = ["moons", "circles", "spirals", "linear"]
                .into_iter()
                .filter(|n| builtin_settings(n).contains(&setting))
                .collect();
            return Err(DataError::setting(
                setting,
                value,
                format!(
                    "the {name} dataset does not take it; it applies to {}",
                    takers.join(", ")
                ),
            ));
        }
    }
    let noise = match o.noise {
        Some(v) if !(v.is_finite() && v >= 0.0) => {
            return Err(DataError::setting(
                "noise",
                v,
                "give a standard deviation ≥ 0",
            ));
        }
        v => v,
    };
    let samples = |default: usize, min: usize| match o.samples.unwrap_or(default) {
        n if n < min => Err(DataError::setting(
            "samples",
            n,
            format!("the {name} dataset needs at least {min} rows"),
        )),
        n => Ok(n),
    };
    let mut rng = Rng::seed(o.seed);
    match name {
        "digits" => Ok(parse_csv(
            DIGITS.as_bytes(),
            "digits.csv (built in)",
            &CsvOptions::default(),
        )?
        .dataset),
        "iris" => Ok(parse_csv(
            IRIS.as_bytes(),
            "iris.csv (built in)",
            &CsvOptions::default(),
        )?
        .dataset),
        "xor" => Ok(classes(
            vec![0., 0., 0., 1., 1., 0., 1., 1.],
            2,
            vec![0, 1, 1, 0],
            2,
        )),
        "not" => Ok(classes(vec![0., 1.], 1, vec![1, 0], 2)),
        "moons" => {
            let n = cap(samples(200, 2)?, 2)?;
            Ok(moons(n, noise.unwrap_or(0.1), &mut rng))
        }
        "circles" => {
            let n = cap(samples(200, 2)?, 2)?;
            let factor = match o.factor.unwrap_or(0.5) {
                f if (0.0..1.0).contains(&f) => f,
                f => {
                    return Err(DataError::setting(
                        "factor",
                        f,
                        "give the inner radius as a fraction in [0, 1)",
                    ));
                }
            };
            Ok(circles(n, noise.unwrap_or(0.1), factor, &mut rng))
        }
        "spirals" => {
            let arms = match o.arms.unwrap_or(3) {
                k if k >= 2 => k,
                k => {
                    return Err(DataError::setting(
                        "arms",
                        k,
                        "give 2 or more arms (one class each)",
                    ));
                }
            };
            let n = cap(samples(300, arms)?, 2)?;
            Ok(spirals(n, arms, noise.unwrap_or(0.2), &mut rng))
        }
        "linear" => {
            let (n, inputs, outputs) = linear_sizes(o)?;
            let (weight, bias) = draw_truth(inputs, outputs, &mut rng);
            Ok(linear(n, &weight, &bias, noise.unwrap_or(0.1), &mut rng))
        }
        _ => unreachable!("every listed name is handled"),
    }
}

/// The `W` (`[outputs, inputs]`, row-major) and `b` (`[outputs]`) that the
/// `linear` dataset with these options was generated from.
pub fn linear_truth(options: &BuiltinOptions) -> Result<(Vec<f64>, Vec<f64>), DataError> {
    let (_, inputs, outputs) = linear_sizes(options)?;
    Ok(draw_truth(inputs, outputs, &mut Rng::seed(options.seed)))
}

fn builtin_settings(name: &str) -> &'static [&'static str] {
    match name {
        "moons" => &["samples", "noise"],
        "circles" => &["samples", "noise", "factor"],
        "spirals" => &["samples", "noise", "arms"],
        "linear" => &["samples", "noise", "inputs", "outputs"],
        _ => &[],
    }
}

fn linear_sizes(o: &BuiltinOptions) -> Result<(usize, usize, usize), DataError> {
    let at_least_one = |setting, v: Option<usize>, default| match v.unwrap_or(default) {
        0 => Err(DataError::setting(setting, 0, "give 1 or more")),
        v => Ok(v),
    };
    let n = at_least_one("samples", o.samples, 200)?;
    let inputs = at_least_one("inputs", o.inputs, 1)?;
    let outputs = at_least_one("outputs", o.outputs, 1)?;
    cap(n, inputs.saturating_add(outputs))?;
    Ok((n, inputs, outputs))
}

fn cap(samples: usize, width: usize) -> Result<usize, DataError> {
    if samples.saturating_mul(width) > MAX_CELLS {
        return Err(DataError::setting(
            "samples",
            samples,
            format!(
                "{samples} rows of {width} numbers is more than the {MAX_CELLS} a generated dataset may hold"
            ),
        ));
    }
    Ok(samples)
}

fn classes(features: Vec<f64>, width: usize, indices: Vec<usize>, count: usize) -> Dataset {
    Dataset {
        features: features.into(),
        feature_names: (0..width).map(|j| format!("x{j}")).collect(),
        target_name: "y".into(),
        targets: Targets::Classes {
            indices,
            names: (0..count).map(|c| c.to_string()).collect(),
        },
    }
}

/// `num` evenly spaced points from `start` to `stop` (included when
/// `endpoint`), as NumPy's `linspace`.
fn linspace(start: f64, stop: f64, num: usize, endpoint: bool) -> impl Iterator<Item = f64> {
    let steps = if endpoint { num.saturating_sub(1) } else { num };
    let step = if steps == 0 {
        0.0
    } else {
        (stop - start) / steps as f64
    };
    (0..num).map(move |i| start + step * i as f64)
}

/// Shuffles the rows of 2-D points (as scikit-learn's `shuffle=True`), then
/// adds Gaussian noise of standard deviation `noise` to every coordinate.
fn shuffled_with_noise(
    points: Vec<[f64; 2]>,
    labels: Vec<usize>,
    count: usize,
    noise: f64,
    rng: &mut Rng,
) -> Dataset {
    let mut order: Vec<usize> = (0..points.len()).collect();
    rng.shuffle(&mut order);
    let mut features = Vec::with_capacity(2 * points.len());
    for &i in &order {
        features.extend(points[i]);
    }
    if noise > 0.0 {
        for v in &mut features {
            *v += noise * rng.normal();
        }
    }
    classes(
        features,
        2,
        order.iter().map(|&i| labels[i]).collect(),
        count,
    )
}

/// scikit-learn's `make_moons`: the upper half of the unit circle (class 0)
/// and a lower half circle shifted by (1, −0.5) (class 1).
fn moons(n: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let (outer, inner) = (n / 2, n - n / 2);
    let mut points: Vec<[f64; 2]> = linspace(0.0, PI, outer, true)
        .map(|t| [t.cos(), t.sin()])
        .collect();
    points.extend(linspace(0.0, PI, inner, true).map(|t| [1.0 - t.cos(), 1.0 - t.sin() - 0.5]));
    let labels = [vec![0; outer], vec![1; inner]].concat();
    shuffled_with_noise(points, labels, 2, noise, rng)
}

/// scikit-learn's `make_circles`: the unit circle (class 0) around a circle
/// of radius `factor` (class 1).
fn circles(n: usize, noise: f64, factor: f64, rng: &mut Rng) -> Dataset {
    let (outer, inner) = (n / 2, n - n / 2);
    let mut points: Vec<[f64; 2]> = linspace(0.0, TAU, outer, false)
        .map(|t| [t.cos(), t.sin()])
        .collect();
    points.extend(linspace(0.0, TAU, inner, false).map(|t| [factor * t.cos(), factor * t.sin()]));
    let labels = [vec![0; outer], vec![1; inner]].concat();
    shuffled_with_noise(points, labels, 2, noise, rng)
}

/// Spiral arms after CS231n's case study: along arm `j` the radius grows
/// from 0 to 1 while the angle turns 4 radians, plus Gaussian noise of
/// standard deviation `noise` on the angle. CS231n starts arm `j` at `4j`
/// radians; here arm `j` starts at `2πj/k`, so any number of arms is evenly
/// interleaved. Rows are shuffled; the first `n mod k` arms get one extra.
fn spirals(n: usize, arms: usize, noise: f64, rng: &mut Rng) -> Dataset {
    let mut points = Vec::with_capacity(n);
    let mut labels = Vec::with_capacity(n);
    for arm in 0..arms {
        let count = n / arms + usize::from(arm < n % arms);
        let start = TAU * arm as f64 / arms as f64;
        for r in linspace(0.0, 1.0, count, true) {
            let t = start + 4.0 * r + noise * rng.normal();
            points.push([r * t.sin(), r * t.cos()]);
            labels.push(arm);
        }
    }
    shuffled_with_noise(points, labels, arms, 0.0, rng)
}

/// `W` (`[outputs, inputs]`) and `b` (`[outputs]`), standard normal.
fn draw_truth(inputs: usize, outputs: usize, rng: &mut Rng) -> (Vec<f64>, Vec<f64>) {
    let weight = (0..inputs * outputs).map(|_| rng.normal()).collect();
    let bias = (0..outputs).map(|_| rng.normal()).collect();
    (weight, bias)
}

/// Rows `x ~ N(0, I)` with targets `W x + b + noise·ε`, `ε ~ N(0, I)`.
fn linear(n: usize, weight: &[f64], bias: &[f64], noise: f64, rng: &mut Rng) -> Dataset {
    let outputs = bias.len();
    let inputs = weight.len() / outputs;
    let mut features = Vec::with_capacity(n * inputs);
    let mut values = Vec::with_capacity(n * outputs);
    for _ in 0..n {
        let x: Vec<f64> = (0..inputs).map(|_| rng.normal()).collect();
        for (w, b) in weight.chunks_exact(inputs).zip(bias) {
            let wx: f64 = w.iter().zip(&x).map(|(w, x)| w * x).sum();
            values.push(wx + b + noise * rng.normal());
        }
        features.extend(x);
    }
    Dataset {
        features: features.into(),
        feature_names: (0..inputs).map(|j| format!("x{j}")).collect(),
        target_name: "y".into(),
        targets: Targets::Values { values, outputs },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(name: &str, options: BuiltinOptions) -> Dataset {
        builtin(name, &options).unwrap()
    }

    fn class_counts(d: &Dataset) -> Vec<usize> {
        let Targets::Classes { indices, names } = &d.targets else {
            panic!("classes")
        };
        let mut counts = vec![0; names.len()];
        for &i in indices {
            counts[i] += 1;
        }
        counts
    }

    #[test]
    fn every_listed_name_loads_and_the_default_is_first() {
        assert_eq!(BUILTINS[0].name, DEFAULT_BUILTIN);
        for info in BUILTINS {
            let d = get(info.name, BuiltinOptions::default());
            assert!(
                !d.is_empty() && d.features.len() == d.len() * d.width(),
                "{}",
                info.name
            );
        }
    }

    #[test]
    fn embedded_files() {
        let digits = get("digits", BuiltinOptions::default());
        assert_eq!((digits.len(), digits.width()), (1797, 64));
        assert_eq!(class_counts(&digits).len(), 10);
        let iris = get("iris", BuiltinOptions::default());
        assert_eq!((iris.len(), iris.width()), (150, 4));
        assert_eq!(class_counts(&iris), [50, 50, 50]);
    }

    #[test]
    fn gates() {
        let xor = get("xor", BuiltinOptions::default());
        assert_eq!(xor.features, [0., 0., 0., 1., 1., 0., 1., 1.]);
        assert_eq!(
            xor.targets,
            Targets::Classes {
                indices: vec![0, 1, 1, 0],
                names: vec!["0".into(), "1".into()]
            }
        );
        let not = get("not", BuiltinOptions::default());
        assert_eq!((&*not.features.as_f64(), not.width()), (&[0.0, 1.0][..], 1));
        assert!(matches!(not.targets, Targets::Classes { ref indices, .. } if indices == &[1, 0]));
    }

    #[test]
    fn moons_and_circles_follow_scikit_learn() {
        let exact = BuiltinOptions {
            samples: Some(7),
            noise: Some(0.0),
            ..BuiltinOptions::default()
        };
        let moons = get("moons", exact.clone());
        assert_eq!(class_counts(&moons), [3, 4]);
        let mut rows: Vec<[f64; 2]> = moons
            .features
            .as_f64()
            .chunks(2)
            .map(|r| [r[0], r[1]])
            .collect();
        rows.sort_by(|a, b| a.partial_cmp(b).unwrap());
        // outer: t = 0, π/2, π → (1,0), (0,1), (−1,0); inner: t = 0, π/3, 2π/3, π → (0, .5), …, (2, .5).
        for want in [[-1.0, 0.0], [0.0, 0.5], [1.0, 0.0], [2.0, 0.5]] {
            assert!(
                rows.iter()
                    .any(|r| (r[0] - want[0]).abs() < 1e-12 && (r[1] - want[1]).abs() < 1e-12),
                "{want:?}"
            );
        }
        let circles = get("circles", exact);
        let Targets::Classes { indices, .. } = &circles.targets else {
            panic!()
        };
        for (row, &class) in circles.features.as_f64().chunks(2).zip(indices) {
            let radius = row[0].hypot(row[1]);
            assert!((radius - [1.0, 0.5][class]).abs() < 1e-12);
        }
        let noisy = get("circles", BuiltinOptions::default());
        assert_eq!((noisy.len(), class_counts(&noisy)), (200, vec![100, 100]));
    }

    #[test]
    fn generators_are_seeded() {
        let seeded = |seed| BuiltinOptions {
            seed,
            ..BuiltinOptions::default()
        };
        for name in ["moons", "circles", "spirals", "linear"] {
            assert_eq!(get(name, seeded(3)), get(name, seeded(3)));
            assert_ne!(get(name, seeded(3)), get(name, seeded(4)));
        }
    }

    #[test]
    fn spirals_have_one_class_per_arm() {
        let d = get(
            "spirals",
            BuiltinOptions {
                samples: Some(10),
                arms: Some(4),
                ..BuiltinOptions::default()
            },
        );
        assert_eq!(class_counts(&d), [3, 3, 2, 2]);
        assert!(d.features.iter().all(|v| v.abs() <= 1.0));
    }

    #[test]
    fn linear_targets_follow_the_truth() {
        let options = BuiltinOptions {
            samples: Some(5),
            inputs: Some(3),
            outputs: Some(2),
            noise: Some(0.0),
            seed: 9,
            ..BuiltinOptions::default()
        };
        let d = get("linear", options.clone());
        let (w, b) = linear_truth(&options).unwrap();
        let Targets::Values { values, outputs: 2 } = &d.targets else {
            panic!()
        };
        for (x, y) in d.features.as_f64().chunks(3).zip(values.chunks(2)) {
            for o in 0..2 {
                let want: f64 = (0..3).map(|i| w[o * 3 + i] * x[i]).sum::<f64>() + b[o];
                assert!((y[o] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn bad_names_and_settings() {
        let err =
            |name: &str, options: BuiltinOptions| builtin(name, &options).unwrap_err().to_string();
        assert_eq!(
            err("mnist", BuiltinOptions::default()),
            r#"unknown dataset "mnist"; the built-in datasets are digits, iris, xor, not, moons, circles, spirals, linear"#
        );
        let samples = BuiltinOptions {
            samples: Some(10),
            ..BuiltinOptions::default()
        };
        assert_eq!(
            err("iris", samples),
            "samples = 10: the iris dataset does not take it; it applies to moons, circles, spirals, linear"
        );
        let factor = BuiltinOptions {
            factor: Some(1.0),
            ..BuiltinOptions::default()
        };
        assert!(err("circles", factor.clone()).starts_with("factor = 1: give the inner radius"));
        assert!(err("moons", factor).contains("it applies to circles"));
        let noise = BuiltinOptions {
            noise: Some(-1.0),
            ..BuiltinOptions::default()
        };
        assert!(err("moons", noise).starts_with("noise = -1: "));
        let arms = BuiltinOptions {
            arms: Some(1),
            ..BuiltinOptions::default()
        };
        assert!(err("spirals", arms).starts_with("arms = 1: "));
        let one = BuiltinOptions {
            samples: Some(1),
            ..BuiltinOptions::default()
        };
        assert!(err("moons", one).contains("needs at least 2 rows"));
        let huge = BuiltinOptions {
            samples: Some(usize::MAX),
            inputs: Some(usize::MAX),
            ..BuiltinOptions::default()
        };
        assert!(err("linear", huge).contains("more than the"));
    }
}
