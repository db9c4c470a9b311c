//! The step itself: the forward pass, the loss, the chain rule backward and
//! the update, in `f64` from the layer definitions, checked against the
//! engine.

use super::engine::engine_step;
use super::{ExplainError, Format, Loss, Network, TOLERANCE};

/// One layer's forward pass: `s = W·input + b`, `z = σ(s)`.
#[derive(Clone, Debug, PartialEq)]
pub struct ForwardLayer {
    /// What the layer reads: the inputs `x`, or the layer below's `z`.
    pub input: Vec<f64>,
    /// The pre-activations, one per unit.
    pub s: Vec<f64>,
    /// The activations, one per unit (`s` again without an activation).
    pub z: Vec<f64>,
}

/// One layer's backward pass, one entry per unit.
#[derive(Clone, Debug, PartialEq)]
pub struct BackwardLayer {
    /// `∂L/∂z`: the loss's gradient for the output layer, else
    /// `Σₖ ∂L/∂s⁽ˡ⁺¹⁾ₖ · w⁽ˡ⁺¹⁾ₖᵢ` from the layer above.
    pub dl_dz: Vec<f64>,
    /// `∂z/∂s`, the activation's derivative at `s`.
    pub dz_ds: Vec<f64>,
    /// `∂L/∂s = ∂L/∂z · ∂z/∂s`.
    pub dl_ds: Vec<f64>,
}

/// One weight or bias through the step.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient {
    /// Its layer, counted from 0.
    pub layer: usize,
    /// The unit it feeds (the row of `W`), counted from 0.
    pub unit: usize,
    /// The input it multiplies (the column of `W`), counted from 0;
    /// `None` for a bias.
    pub input: Option<usize>,
    /// PyTorch's name of the element, `0.weight[1,0]` or `2.bias[0]`.
    pub name: String,
    /// Its value before the step.
    pub value: f64,
    /// `∂L/∂z` of its unit.
    pub dl_dz: f64,
    /// `∂z/∂s` of its unit.
    pub dz_ds: f64,
    /// `∂s/∂w`: the input it multiplies (1 for a bias).
    pub ds_dw: f64,
    /// `∂L/∂w`, the product of the three factors.
    pub hand: f64,
    /// `∂L/∂w` as the engine's `backward()` computes it.
    pub engine: f64,
    /// Its value after the step, `w − lr·∂L/∂w`.
    pub updated: f64,
}

/// One gradient-descent step of one example, worked out by hand.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The network with its weights before the step.
    pub network: Network,
    /// The example's inputs `x`.
    pub inputs: Vec<f64>,
    /// The loss and its target.
    pub criterion: Loss,
    /// The learning rate `η`.
    pub lr: f64,
    /// The forward pass, first layer first.
    pub forward: Vec<ForwardLayer>,
    /// `L` before the step.
    pub loss: f64,
    /// `L` as the engine computes it.
    pub engine_loss: f64,
    /// `∂L/∂ŷ`, one per output.
    pub output_gradient: Vec<f64>,
    /// The backward pass, first layer first.
    pub backward: Vec<BackwardLayer>,
    /// Every weight and bias, in `state_dict` order.
    pub gradients: Vec<Gradient>,
    /// `L` after the step, with the updated weights.
    pub loss_after: f64,
}

impl Explanation {
    /// Works out the step of `network` on one example with learning rate
    /// `lr`, and runs it through the engine; an error if the example does
    /// not fit the network, a number is not finite, or the engine's loss or
    /// a gradient differs by more than [`TOLERANCE`].
    pub fn new(
        network: Network,
        inputs: Vec<f64>,
        criterion: Loss,
        lr: f64,
    ) -> Result<Explanation, ExplainError> {
        if inputs.len() != network.inputs() {
            return Err(ExplainError::InputCount {
                expected: network.inputs(),
                got: inputs.len(),
            });
        }
        if inputs.iter().any(|x| !x.is_finite()) {
            return Err(ExplainError::Number(
                "every input value must be a finite number".into(),
            ));
        }
        if !(lr.is_finite() && lr > 0.0) {
            return Err(ExplainError::Number(format!(
                "the learning rate must be a positive number, got {lr}"
            )));
        }
        criterion.check(network.outputs())?;

        let forward = forward_pass(&network, &inputs);
        let outputs = &forward.last().expect("a network has a layer").z;
        let loss = criterion.value(outputs);
        let output_gradient = criterion.gradient(outputs);
        let backward = backward_pass(&network, &forward, &output_gradient);
        let engine = engine_step(&network, &inputs, &criterion);
        let gradients = gradients(&network, &forward, &backward, &engine.gradients, lr);
        let updated: Vec<f64> = gradients.iter().map(|g| g.updated).collect();
        let after = forward_pass(&network.with_parameters(&updated), &inputs);
        let loss_after = criterion.value(&after.last().expect("a network has a layer").z);

        let explanation = Explanation {
            network,
            inputs,
            criterion,
            lr,
            forward,
            loss,
            engine_loss: engine.loss,
            output_gradient,
            backward,
            gradients,
            loss_after,
        };
        explanation.check_finite()?;
        explanation.check_engine()?;
        Ok(explanation)
    }

    /// The outputs `ŷ`, the last layer's `z`.
    pub fn outputs(&self) -> &[f64] {
        &self.forward.last().expect("a network has a layer").z
    }

    /// The largest difference between the hand-worked numbers (the loss
    /// and every gradient) and the engine's, each as
    /// `|hand − engine| / max(1, |engine|)`.
    pub fn disagreement(&self) -> f64 {
        self.comparisons()
            .map(|(_, hand, engine)| relative_difference(hand, engine))
            .fold(0.0, f64::max)
    }

    /// The explanation written out, numbers rounded to `digits` decimals.
    pub fn render(&self, format: Format, digits: usize) -> String {
        format.write(self, digits)
    }

    /// The loss and each gradient: (what, hand, engine).
    fn comparisons(&self) -> impl Iterator<Item = (&str, f64, f64)> {
        let loss = std::iter::once(("loss", self.loss, self.engine_loss));
        loss.chain(
            self.gradients
                .iter()
                .map(|g| (g.name.as_str(), g.hand, g.engine)),
        )
    }

    fn check_engine(&self) -> Result<(), ExplainError> {
        match self
            .comparisons()
            .find(|&(_, hand, engine)| relative_difference(hand, engine) > TOLERANCE)
        {
            Some((what, hand, engine)) => Err(ExplainError::Disagreement {
                what: what.to_string(),
                hand,
                engine,
            }),
            None => Ok(()),
        }
    }

    fn check_finite(&self) -> Result<(), ExplainError> {
        let forward = self.forward.iter().flat_map(|f| f.s.iter().chain(&f.z));
        let gradients = self
            .gradients
            .iter()
            .flat_map(|g| [g.hand, g.engine, g.updated]);
        let scalars = [self.loss, self.engine_loss, self.loss_after];
        if forward
            .copied()
            .chain(gradients)
            .chain(scalars)
            .all(f64::is_finite)
        {
            Ok(())
        } else {
            Err(ExplainError::Number(
                "the step overflows: a value or gradient is not finite in f64; use smaller weights or inputs".into(),
            ))
        }
    }
}

fn relative_difference(hand: f64, engine: f64) -> f64 {
    (hand - engine).abs() / engine.abs().max(1.0)
}

/// `s = W·input + b` and `z = σ(s)`, layer by layer.
fn forward_pass(network: &Network, inputs: &[f64]) -> Vec<ForwardLayer> {
    let mut input = inputs.to_vec();
    network
        .layers()
        .iter()
        .map(|layer| {
            let s: Vec<f64> = layer
                .weight
                .iter()
                .enumerate()
                .map(|(i, row)| {
                    let product: f64 = row.iter().zip(&input).map(|(w, x)| w * x).sum();
                    product + layer.bias.as_ref().map_or(0.0, |b| b[i])
                })
                .collect();
            let z: Vec<f64> = s.iter().map(|&s| layer.activate(s)).collect();
            ForwardLayer {
                input: std::mem::replace(&mut input, z.clone()),
                s,
                z,
            }
        })
        .collect()
}

/// The chain rule from the output back: `∂L/∂s = ∂L/∂z · ∂z/∂s`, and
/// `∂L/∂z` of the layer below as `Σₖ ∂L/∂sₖ · wₖᵢ`.
fn backward_pass(
    network: &Network,
    forward: &[ForwardLayer],
    output_gradient: &[f64],
) -> Vec<BackwardLayer> {
    let mut dl_dz = output_gradient.to_vec();
    let mut layers: Vec<BackwardLayer> = network
        .layers()
        .iter()
        .zip(forward)
        .rev()
        .map(|(layer, pass)| {
            let dz_ds: Vec<f64> = pass
                .s
                .iter()
                .zip(&pass.z)
                .map(|(&s, &z)| layer.derivative(s, z))
                .collect();
            let dl_ds: Vec<f64> = dl_dz.iter().zip(&dz_ds).map(|(a, b)| a * b).collect();
            let below = (0..pass.input.len())
                .map(|j| {
                    let terms = layer.weight.iter().zip(&dl_ds);
                    terms.map(|(row, d)| d * row[j]).sum()
                })
                .collect();
            BackwardLayer {
                dl_dz: std::mem::replace(&mut dl_dz, below),
                dz_ds,
                dl_ds,
            }
        })
        .collect();
    layers.reverse();
    layers
}

/// Every weight's three factors, their product and its update, with the
/// engine's gradient beside it (both in `state_dict` order).
fn gradients(
    network: &Network,
    forward: &[ForwardLayer],
    backward: &[BackwardLayer],
    engine: &[f64],
    lr: f64,
) -> Vec<Gradient> {
    let mut engine = engine.iter().copied();
    let mut all = Vec::with_capacity(network.parameters().len());
    for (l, layer) in network.layers().iter().enumerate() {
        let (pass, back) = (&forward[l], &backward[l]);
        let module = network.module_index(l);
        let mut gradient = |unit: usize, input: Option<usize>, value: f64, name: String| {
            let ds_dw = input.map_or(1.0, |j| pass.input[j]);
            let hand = back.dl_ds[unit] * ds_dw;
            all.push(Gradient {
                layer: l,
                unit,
                input,
                name,
                value,
                dl_dz: back.dl_dz[unit],
                dz_ds: back.dz_ds[unit],
                ds_dw,
                hand,
                engine: engine.next().expect("the engine has every gradient"),
                updated: value - lr * hand,
            });
        };
        for (i, row) in layer.weight.iter().enumerate() {
            for (j, &w) in row.iter().enumerate() {
                gradient(i, Some(j), w, format!("{module}.weight[{i},{j}]"));
            }
        }
        for (i, &b) in layer.bias.iter().flatten().enumerate() {
            gradient(i, None, b, format!("{module}.bias[{i}]"));
        }
    }
    all
}
