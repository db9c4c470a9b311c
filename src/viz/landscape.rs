//! The loss of a trained model over a plane of weight space: along two
//! chosen weights (all others fixed), or along two random filter-normalized
//! directions through the trained weights (Li, Xu, Taylor, Studer and
//! Goldstein, "Visualizing the Loss Landscape of Neural Nets", 2018), with
//! a training path projected onto that plane.

use std::collections::BTreeMap;
use std::str::FromStr;

use super::Grid;
use crate::data::Dataset;
use crate::nn::{Module, Sequential};
use crate::optim::set_flat_params;
use crate::tensor::{Rng, Tensor};
use crate::train::{LossKind, evaluate};

/// One element of a model's weights, by `state_dict` name and index:
/// `0.weight[1,0]`, `2.bias[0]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightRef {
    /// The tensor's name.
    pub tensor: String,
    /// The element's index, one number per dimension.
    pub index: Vec<usize>,
}

impl FromStr for WeightRef {
    type Err = String;

    fn from_str(text: &str) -> Result<WeightRef, String> {
        let bad = || format!("{text:?} is not a weight like 0.weight[1,0] or 2.bias[0]");
        let (tensor, rest) = text.trim().split_once('[').ok_or_else(bad)?;
        let inside = rest.strip_suffix(']').ok_or_else(bad)?;
        let index = inside
            .split(',')
            .map(|i| i.trim().parse::<usize>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| bad())?;
        if tensor.is_empty() {
            return Err(bad());
        }
        Ok(WeightRef {
            tensor: tensor.to_string(),
            index,
        })
    }
}

impl std::fmt::Display for WeightRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let index: Vec<String> = self.index.iter().map(usize::to_string).collect();
        write!(f, "{}[{}]", self.tensor, index.join(","))
    }
}

/// The model's parameters as one flat f64 vector, in `parameters()` order.
fn flat_weights(model: &Sequential) -> Vec<f64> {
    model
        .parameters()
        .iter()
        .flat_map(|(_, p)| p.to_vec::<f64>())
        .collect()
}

/// Writes a flat vector back into the model's parameters.
fn set_flat_weights(model: &mut Sequential, flat: &[f64]) {
    set_flat_params(&mut model.params_mut(), flat);
}

/// Where a weight sits in the flat vector, or why it is not there.
fn flat_position(model: &Sequential, weight: &WeightRef) -> Result<usize, String> {
    let mut offset = 0;
    for (name, param) in model.parameters() {
        if name == weight.tensor {
            let shape = param.shape();
            if weight.index.len() != shape.len()
                || weight.index.iter().zip(shape).any(|(i, n)| i >= n)
            {
                return Err(format!(
                    "{weight}: {name} has shape {shape:?}; give one index per dimension, each below its size"
                ));
            }
            let within = weight
                .index
                .iter()
                .zip(shape)
                .fold(0, |flat, (i, n)| flat * n + i);
            return Ok(offset + within);
        }
        offset += param.numel();
    }
    let names: Vec<String> = model.parameters().into_iter().map(|(n, _)| n).collect();
    Err(format!(
        "{weight}: the model has no weight tensor {:?}; it has {}",
        weight.tensor,
        names.join(", ")
    ))
}

/// The current value of one weight of the model.
pub fn weight_value(model: &Sequential, weight: &WeightRef) -> Result<f64, String> {
    let position = flat_position(model, weight)?;
    Ok(flat_weights(model)[position])
}

/// The loss over `n × n` points as weight `a` runs over `range_a` and `b`
/// over `range_b`, every other weight as it is; the model is left as it
/// was. Errors name a weight the model does not have.
pub fn loss_over_weights(
    model: &mut Sequential,
    loss: LossKind,
    data: &Dataset,
    (a, range_a): (&WeightRef, (f64, f64)),
    (b, range_b): (&WeightRef, (f64, f64)),
    n: usize,
) -> Result<Grid, String> {
    let (ia, ib) = (flat_position(model, a)?, flat_position(model, b)?);
    if ia == ib {
        return Err(format!("{a} is given twice; choose two different weights"));
    }
    let center = flat_weights(model);
    let mut point = center.clone();
    let grid = Grid::sample(range_a, range_b, n, |va, vb| {
        point[ia] = va;
        point[ib] = vb;
        set_flat_weights(model, &point);
        evaluate(model, loss, data).0
    });
    set_flat_weights(model, &center);
    Ok(grid)
}

/// Two random directions in weight space, each filter-normalized: every
/// row of a weight matrix (one unit's incoming weights) is scaled to the
/// norm of the same row of the model's weights, and vectors (biases,
/// normalization parameters) are left out (zero), as Li et al. do, so that
/// a step of 1 along a direction changes every unit by its own scale.
pub fn random_directions(model: &Sequential, rng: &mut Rng) -> [Vec<f64>; 2] {
    let mut direction = || {
        let mut flat = Vec::new();
        for (_, param) in model.parameters() {
            let weights = param.to_vec::<f64>();
            if param.rank() < 2 {
                flat.extend(std::iter::repeat_n(0.0, weights.len()));
                continue;
            }
            let row = param.numel() / param.shape()[0];
            for filter in weights.chunks(row) {
                let random: Vec<f64> = filter.iter().map(|_| rng.normal()).collect();
                let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
                let scale = norm(filter) / norm(&random).max(f64::MIN_POSITIVE);
                flat.extend(random.iter().map(|r| r * scale));
            }
        }
        flat
    };
    [direction(), direction()]
}

/// The loss over `n × n` points θ* + α·d₁ + β·d₂ for α, β in
/// [−span, span], θ* the model's weights; the model is left as it was.
pub fn loss_over_directions(
    model: &mut Sequential,
    loss: LossKind,
    data: &Dataset,
    directions: &[Vec<f64>; 2],
    span: f64,
    n: usize,
) -> Grid {
    let center = flat_weights(model);
    let mut point = center.clone();
    let grid = Grid::sample((-span, span), (-span, span), n, |alpha, beta| {
        for (k, p) in point.iter_mut().enumerate() {
            *p = center[k] + alpha * directions[0][k] + beta * directions[1][k];
        }
        set_flat_weights(model, &point);
        evaluate(model, loss, data).0
    });
    set_flat_weights(model, &center);
    grid
}

/// Each of `history`'s weights (by `state_dict` name, as a checkpoint or
/// `model.safetensors` holds them) projected onto the plane of
/// [`loss_over_directions`]: the (α, β) nearest to θ − θ* in the least
/// squares sense. Errors name a missing or misshapen tensor.
pub fn project_path(
    model: &Sequential,
    directions: &[Vec<f64>; 2],
    history: &[BTreeMap<String, Tensor>],
) -> Result<Vec<(f64, f64)>, String> {
    let center = flat_weights(model);
    let [d1, d2] = directions;
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (a11, a12, a22) = (dot(d1, d1), dot(d1, d2), dot(d2, d2));
    let det = a11 * a22 - a12 * a12;
    if det.abs() < f64::MIN_POSITIVE {
        return Err("the two directions are parallel; use another --seed".into());
    }
    history
        .iter()
        .map(|weights| {
            let mut flat = Vec::with_capacity(center.len());
            for (name, param) in model.parameters() {
                let tensor = weights
                    .get(&name)
                    .ok_or_else(|| format!("the weights have no tensor {name:?}"))?;
                if tensor.shape() != param.shape() {
                    return Err(format!(
                        "tensor {name:?} has shape {:?}, but the model's is {:?}",
                        tensor.shape(),
                        param.shape()
                    ));
                }
                flat.extend(tensor.to_vec::<f64>());
            }
            let offset: Vec<f64> = flat.iter().zip(&center).map(|(t, c)| t - c).collect();
            let (b1, b2) = (dot(d1, &offset), dot(d2, &offset));
            Ok(((a22 * b1 - a12 * b2) / det, (a11 * b2 - a12 * b1) / det))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{BuiltinOptions, builtin};
    use crate::nn::{Init, LayerSpec, build_sequential, state_dict};
    use crate::tensor::DType;

    fn not_gate() -> Dataset {
        builtin("not", &BuiltinOptions::default()).expect("built in")
    }

    fn model() -> Sequential {
        let layers = LayerSpec::parse_list("3,tanh,2").expect("a stack");
        build_sequential(
            1,
            &layers,
            Init::PyTorchDefault,
            DType::F64,
            &mut Rng::seed(1),
        )
    }

    #[test]
    fn weights_are_named_like_pytorch_and_checked() {
        let w: WeightRef = "0.weight[2,0]".parse().expect("parses");
        assert_eq!(
            (w.tensor.as_str(), w.index.as_slice()),
            ("0.weight", &[2, 0][..])
        );
        assert_eq!(w.to_string(), "0.weight[2,0]");
        assert!("0.weight".parse::<WeightRef>().is_err());
        let m = model();
        assert_eq!(flat_position(&m, &w), Ok(2));
        assert_eq!(
            flat_position(&m, &"0.bias[1]".parse().expect("parses")),
            Ok(4)
        );
        assert!(flat_position(&m, &"0.weight[3,0]".parse().expect("parses")).is_err());
        assert!(
            flat_position(&m, &"5.weight[0,0]".parse().expect("parses"))
                .unwrap_err()
                .contains("2.bias")
        );
    }

    #[test]
    fn the_grid_passes_through_the_trained_loss_and_the_model_is_restored() {
        let data = not_gate();
        let mut m = model();
        let before = state_dict(&m);
        let trained = evaluate(&m, LossKind::CrossEntropy, &data).0;
        let w: WeightRef = "2.weight[0,1]".parse().expect("parses");
        let b: WeightRef = "0.bias[2]".parse().expect("parses");
        let (wv, bv) = (
            m.parameters()[2].1.to_vec::<f64>()[1],
            m.parameters()[1].1.to_vec::<f64>()[2],
        );
        let grid = loss_over_weights(
            &mut m,
            LossKind::CrossEntropy,
            &data,
            (&w, (wv - 1.0, wv + 1.0)),
            (&b, (bv - 1.0, bv + 1.0)),
            3,
        )
        .expect("a grid");
        // The middle of a 3 × 3 grid is the trained point.
        assert!((grid.values[4] - trained).abs() < 1e-12);
        assert_eq!(state_dict(&m).len(), before.len());
        for (name, t) in state_dict(&m) {
            assert_eq!(t.to_vec::<f64>(), before[&name].to_vec::<f64>(), "{name}");
        }
    }

    #[test]
    fn directions_are_filter_normalized_and_paths_project_back() {
        let mut m = model();
        let data = not_gate();
        let directions = random_directions(&m, &mut Rng::seed(3));
        // Row 0 of 0.weight has one element: the direction's row has its norm.
        let w0 = m.parameters()[0].1.to_vec::<f64>()[0];
        assert!((directions[0][0].abs() - w0.abs()).abs() < 1e-12);
        // Biases are not perturbed.
        assert_eq!(&directions[0][3..6], &[0.0; 3]);
        let grid = loss_over_directions(&mut m, LossKind::CrossEntropy, &data, &directions, 1.0, 3);
        assert!((grid.values[4] - evaluate(&m, LossKind::CrossEntropy, &data).0).abs() < 1e-12);
        // A point built from the directions projects to its coefficients.
        let center = flat_weights(&m);
        let moved: Vec<f64> = (0..center.len())
            .map(|k| center[k] + 0.3 * directions[0][k] - 0.7 * directions[1][k])
            .collect();
        set_flat_weights(&mut m, &moved);
        let snapshot = state_dict(&m);
        set_flat_weights(&mut m, &center);
        let path = project_path(&m, &directions, &[snapshot]).expect("projects");
        assert!(
            (path[0].0 - 0.3).abs() < 1e-9 && (path[0].1 + 0.7).abs() < 1e-9,
            "{path:?}"
        );
    }
}
