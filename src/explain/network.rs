//! The network being explained: Linear layers with their weights as plain
//! numbers, each followed by at most one elementwise activation.

use super::{ExplainError, MAX_LAYERS, MAX_WIDTH};
use crate::nn::{Activation, Init, LayerSpec, Linear, Sequential};
use crate::tensor::{DType, Rng, Tensor};

/// An elementwise activation whose derivative the explanation writes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `σ(s) = 1/(1 + e⁻ˢ)`, `σ′(s) = σ(s)·(1 − σ(s))`.
    Sigmoid,
    /// `tanh(s)`, `tanh′(s) = 1 − tanh²(s)`.
    Tanh,
    /// `max(s, 0)`, derivative 1 for `s > 0` and 0 otherwise (at 0 too, as
    /// PyTorch and the engine take it).
    ReLU,
    /// `s`, derivative 1.
    Identity,
}

impl Nonlinearity {
    /// The activation layer's counterpart, if it is one of these.
    pub fn from_activation(activation: Activation) -> Option<Nonlinearity> {
        match activation {
            Activation::Sigmoid => Some(Nonlinearity::Sigmoid),
            Activation::Tanh => Some(Nonlinearity::Tanh),
            Activation::ReLU => Some(Nonlinearity::ReLU),
            Activation::Identity => Some(Nonlinearity::Identity),
            _ => None,
        }
    }

    /// The engine's activation layer.
    pub fn activation(self) -> Activation {
        match self {
            Nonlinearity::Sigmoid => Activation::Sigmoid,
            Nonlinearity::Tanh => Activation::Tanh,
            Nonlinearity::ReLU => Activation::ReLU,
            Nonlinearity::Identity => Activation::Identity,
        }
    }

    /// `z` for a pre-activation `s`.
    pub fn apply(self, s: f64) -> f64 {
        match self {
            Nonlinearity::Sigmoid => 1.0 / (1.0 + (-s).exp()),
            Nonlinearity::Tanh => s.tanh(),
            Nonlinearity::ReLU => s.max(0.0),
            Nonlinearity::Identity => s,
        }
    }

    /// `∂z/∂s` at `s`, from `s` and `z` as the tutorials write it:
    /// `z·(1 − z)`, `1 − z²`, 1 or 0, 1.
    pub fn derivative(self, s: f64, z: f64) -> f64 {
        match self {
            Nonlinearity::Sigmoid => z * (1.0 - z),
            Nonlinearity::Tanh => 1.0 - z * z,
            Nonlinearity::ReLU => f64::from(u8::from(s > 0.0)),
            Nonlinearity::Identity => 1.0,
        }
    }
}

/// A Linear layer, `s = W·x + b`, and the activation after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// `W`, one row per unit (PyTorch's `[out, in]` layout).
    pub weight: Vec<Vec<f64>>,
    /// `b`, one per unit, if the layer has a bias.
    pub bias: Option<Vec<f64>>,
    /// The activation layer after it; `None` if there is none (`z = s`).
    pub activation: Option<Nonlinearity>,
}

impl Layer {
    /// Number of units (outputs).
    pub fn units(&self) -> usize {
        self.weight.len()
    }

    /// Number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        self.weight.iter().map(Vec::len).sum::<usize>() + self.bias.as_ref().map_or(0, Vec::len)
    }

    /// `z` for a pre-activation `s` of this layer.
    pub fn activate(&self, s: f64) -> f64 {
        self.activation.map_or(s, |a| a.apply(s))
    }

    /// `∂z/∂s` of this layer at `s` (1 without an activation).
    pub fn derivative(&self, s: f64, z: f64) -> f64 {
        self.activation.map_or(1.0, |a| a.derivative(s, z))
    }
}

/// Where the initial weights come from.
#[derive(Clone, Debug, PartialEq)]
pub enum Weights {
    /// Drawn with this seed from PyTorch's default for Linear,
    /// `U(±1/√fan_in)`, weight then bias layer by layer (what
    /// [`Linear::new`] draws from the same generator).
    Seeded(u64),
    /// Given in `state_dict` order: `0.weight` row by row, then `0.bias`
    /// (if the layers have biases), then the next Linear layer's.
    Given(Vec<f64>),
}

/// A stack of at most [`MAX_LAYERS`] Linear layers of at most [`MAX_WIDTH`]
/// units, after at most [`MAX_WIDTH`] inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    inputs: usize,
    layers: Vec<Layer>,
    seed: Option<u64>,
}

impl Network {
    /// A network of these layers after `inputs` inputs; checks the limits,
    /// that each layer fits the one below and that every weight is finite.
    pub fn new(inputs: usize, layers: Vec<Layer>) -> Result<Network, ExplainError> {
        check_sizes(inputs, layers.iter().map(Layer::units))?;
        let mut width = inputs;
        for (l, layer) in layers.iter().enumerate() {
            let shape = |reason: String| ExplainError::Shape {
                layer: l + 1,
                reason,
            };
            if let Some(row) = layer.weight.iter().find(|row| row.len() != width) {
                return Err(shape(format!(
                    "a weight row has {} entries but the layer takes {width} inputs",
                    row.len()
                )));
            }
            if let Some(bias) = layer.bias.as_ref().filter(|b| b.len() != layer.units()) {
                return Err(shape(format!(
                    "{} biases for {} units",
                    bias.len(),
                    layer.units()
                )));
            }
            let values = layer
                .weight
                .iter()
                .flatten()
                .chain(layer.bias.iter().flatten());
            if values.clone().any(|w| !w.is_finite()) {
                return Err(shape("a weight is not a finite number".into()));
            }
            width = layer.units();
        }
        Ok(Network {
            inputs,
            layers,
            seed: None,
        })
    }

    /// The network of a layer stack as the command line writes it
    /// (`2,tanh,1,tanh`), with or without biases, and its initial weights.
    pub fn from_specs(
        inputs: usize,
        specs: &[LayerSpec],
        bias: bool,
        weights: &Weights,
    ) -> Result<Network, ExplainError> {
        let shapes = shapes_of(specs)?;
        check_sizes(inputs, shapes.iter().map(|&(units, _)| units))?;
        let mut widths = vec![inputs];
        widths.extend(shapes.iter().map(|&(units, _)| units));
        let layers: Vec<Layer> = match weights {
            Weights::Seeded(seed) => {
                let mut rng = Rng::seed(*seed);
                shapes
                    .iter()
                    .zip(&widths)
                    .map(|(&(units, activation), &width)| {
                        let linear = Linear::with_init(
                            width,
                            units,
                            Init::PyTorchDefault,
                            bias,
                            DType::F64,
                            &mut rng,
                        );
                        Layer {
                            weight: rows(&linear.weight.to_vec::<f64>(), width),
                            bias: linear.bias.map(|b| b.to_vec::<f64>()),
                            activation,
                        }
                    })
                    .collect()
            }
            Weights::Given(values) => {
                let expected: usize = shapes
                    .iter()
                    .zip(&widths)
                    .map(|(&(units, _), &width)| units * (width + usize::from(bias)))
                    .sum();
                if values.len() != expected {
                    return Err(ExplainError::WeightCount {
                        expected,
                        got: values.len(),
                    });
                }
                let mut rest = values.as_slice();
                shapes
                    .iter()
                    .zip(&widths)
                    .map(|(&(units, activation), &width)| {
                        let (weight, after) = rest.split_at(units * width);
                        let (b, after) = after.split_at(if bias { units } else { 0 });
                        rest = after;
                        Layer {
                            weight: rows(weight, width),
                            bias: bias.then(|| b.to_vec()),
                            activation,
                        }
                    })
                    .collect()
            }
        };
        let mut network = Network::new(inputs, layers)?;
        if let Weights::Seeded(seed) = weights {
            network.seed = Some(*seed);
        }
        Ok(network)
    }

    /// Number of inputs.
    pub fn inputs(&self) -> usize {
        self.inputs
    }

    /// Number of outputs (units of the last layer).
    pub fn outputs(&self) -> usize {
        self.layers.last().map_or(self.inputs, Layer::units)
    }

    /// The layers, first to last.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// The seed the weights were drawn with, if they were drawn.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// The position of layer `l`'s Linear module in the [`Sequential`]
    /// (activation layers count too): the prefix of its PyTorch names.
    pub fn module_index(&self, l: usize) -> usize {
        self.layers[..l]
            .iter()
            .map(|layer| 1 + usize::from(layer.activation.is_some()))
            .sum()
    }

    /// Every weight and bias in `state_dict` order.
    pub fn parameters(&self) -> Vec<f64> {
        self.layers
            .iter()
            .flat_map(|layer| {
                let weights = layer.weight.iter().flatten();
                weights.chain(layer.bias.iter().flatten()).copied()
            })
            .collect()
    }

    /// The same network with `values`, in `state_dict` order, as its
    /// weights (the updated weights of a step).
    pub(crate) fn with_parameters(&self, values: &[f64]) -> Network {
        let mut network = self.clone();
        let slots = network.layers.iter_mut().flat_map(|layer| {
            let weights = layer.weight.iter_mut().flatten();
            weights.chain(layer.bias.iter_mut().flatten())
        });
        for (slot, &value) in slots.zip(values) {
            *slot = value;
        }
        network
    }

    /// The engine's model of this network, in `f64`, named as in PyTorch.
    pub fn to_sequential(&self) -> Sequential {
        let mut width = self.inputs;
        self.layers.iter().fold(Sequential::new(), |model, layer| {
            let flat: Vec<f64> = layer.weight.iter().flatten().copied().collect();
            let weight = Tensor::from_vec(flat, &[layer.units(), width]);
            width = layer.units();
            let bias = layer
                .bias
                .as_ref()
                .map(|b| Tensor::from_vec(b.clone(), &[b.len()]));
            let model = model.push(Linear::from_tensors(weight, bias));
            match layer.activation {
                Some(a) => model.push(a.activation()),
                None => model,
            }
        })
    }
}

fn rows(flat: &[f64], width: usize) -> Vec<Vec<f64>> {
    flat.chunks(width).map(<[f64]>::to_vec).collect()
}

/// Each Linear layer's width and the activation after it.
fn shapes_of(specs: &[LayerSpec]) -> Result<Vec<(usize, Option<Nonlinearity>)>, ExplainError> {
    let mut shapes: Vec<(usize, Option<Nonlinearity>)> = Vec::new();
    for spec in specs {
        match *spec {
            LayerSpec::Linear(units) => shapes.push((units, None)),
            LayerSpec::Activation(activation) => {
                let nonlinearity = Nonlinearity::from_activation(activation)
                    .ok_or_else(|| ExplainError::Unsupported(spec.to_string()))?;
                match shapes.last_mut() {
                    Some((_, slot @ None)) => *slot = Some(nonlinearity),
                    _ => return Err(ExplainError::Placement(spec.to_string())),
                }
            }
            LayerSpec::Dropout(_) | LayerSpec::BatchNorm => {
                return Err(ExplainError::Unsupported(spec.to_string()));
            }
        }
    }
    Ok(shapes)
}

fn check_sizes(
    inputs: usize,
    units: impl ExactSizeIterator<Item = usize>,
) -> Result<(), ExplainError> {
    let layers = units.len();
    if layers == 0 || layers > MAX_LAYERS {
        return Err(ExplainError::Limits(format!("{layers} Linear layers")));
    }
    if inputs == 0 || inputs > MAX_WIDTH {
        return Err(ExplainError::Limits(format!("{inputs} inputs")));
    }
    for (l, n) in units.enumerate() {
        if n == 0 || n > MAX_WIDTH {
            return Err(ExplainError::Limits(format!(
                "layer {} has {n} units",
                l + 1
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::Module;

    fn specs(text: &str) -> Vec<LayerSpec> {
        LayerSpec::parse_list(text).unwrap()
    }

    #[test]
    fn seeded_weights_are_those_linear_draws() {
        let network =
            Network::from_specs(2, &specs("3,sigmoid,1"), true, &Weights::Seeded(5)).unwrap();
        let mut rng = Rng::seed(5);
        let first = Linear::new(2, 3, DType::F64, &mut rng);
        let second = Linear::new(3, 1, DType::F64, &mut rng);
        let model = Sequential::new()
            .push(first)
            .push(Activation::Sigmoid)
            .push(second);
        let drawn: Vec<f64> = model
            .parameters()
            .iter()
            .flat_map(|(_, p)| p.to_vec::<f64>())
            .collect();
        assert_eq!(network.parameters(), drawn);
        assert_eq!(network.seed(), Some(5));
    }

    #[test]
    fn given_weights_fill_the_state_dict_in_order() {
        let values: Vec<f64> = (1..=9).map(f64::from).collect();
        let network =
            Network::from_specs(2, &specs("2,tanh,1"), true, &Weights::Given(values.clone()))
                .unwrap();
        let first = &network.layers()[0];
        assert_eq!(first.weight, [[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(first.bias, Some(vec![5.0, 6.0]));
        assert_eq!(network.layers()[1].weight, [[7.0, 8.0]]);
        assert_eq!(network.parameters(), values);
        let names: Vec<String> = network
            .to_sequential()
            .parameters()
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(names, ["0.weight", "0.bias", "2.weight", "2.bias"]);
        assert_eq!(network.module_index(1), 2);
    }

    #[test]
    fn stacks_outside_the_limits_are_refused() {
        let seeded = Weights::Seeded(0);
        for (stack, inputs, message) in [
            ("9", 2, "layer 1 has 9 units"),
            ("2", 9, "9 inputs"),
            ("2,2,2,2,2", 2, "5 Linear layers"),
            ("2,softmax", 2, "\"softmax\" cannot be explained"),
            ("2,dropout:0.5", 2, "\"dropout:0.5\" cannot be explained"),
            ("2,tanh,relu", 2, "\"relu\" must follow a Linear layer"),
            ("tanh,2", 2, "\"tanh\" must follow a Linear layer"),
        ] {
            let error = Network::from_specs(inputs, &specs(stack), false, &seeded).unwrap_err();
            assert!(error.to_string().contains(message), "{stack}: {error}");
        }
        let error = Network::from_specs(2, &specs("2,1"), false, &Weights::Given(vec![0.0; 5]))
            .unwrap_err();
        assert_eq!(
            error,
            ExplainError::WeightCount {
                expected: 6,
                got: 5
            }
        );
    }
}
