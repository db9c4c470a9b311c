//! [`Sequential`]: layers applied in order, numbered like `torch.nn.Sequential`.

use super::{Module, Param};
use crate::tensor::{RngState, Tensor};

/// Layers applied in order. Children are numbered from 0, activation
/// layers included, so the second `Linear` after an activation owns
/// `2.weight` and `2.bias`, exactly as in PyTorch's `state_dict`.
#[derive(Default)]
pub struct Sequential {
    layers: Vec<Box<dyn Module>>,
}

impl Sequential {
    /// No layers yet.
    pub fn new() -> Sequential {
        Sequential::default()
    }

    /// Appends a layer.
    pub fn push(mut self, layer: impl Module + 'static) -> Sequential {
        self.layers.push(Box::new(layer));
        self
    }

    /// Appends a boxed layer.
    pub fn push_boxed(mut self, layer: Box<dyn Module>) -> Sequential {
        self.layers.push(layer);
        self
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Box<dyn Module>] {
        &self.layers
    }

    /// Number of layers.
    pub fn len(&self) -> usize {
        self.layers.len()
    }

    /// Whether there are no layers.
    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }
}

impl Module for Sequential {
    fn forward(&self, input: &Tensor) -> Tensor {
        self.layers
            .iter()
            .fold(input.clone(), |h, layer| layer.forward(&h))
    }

    fn parameters(&self) -> Vec<(String, &Param)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                layer
                    .parameters()
                    .into_iter()
                    .map(move |(name, p)| (format!("{i}.{name}"), p))
            })
            .collect()
    }

    fn parameters_mut(&mut self) -> Vec<(String, &mut Param)> {
        self.layers
            .iter_mut()
            .enumerate()
            .flat_map(|(i, layer)| {
                layer
                    .parameters_mut()
                    .into_iter()
                    .map(move |(name, p)| (format!("{i}.{name}"), p))
            })
            .collect()
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        // Without names, into one presized list: an optimizer asks for
        // them every step.
        let mut params = Vec::with_capacity(2 * self.layers.len());
        self.extend_params_mut(&mut params);
        params
    }

    fn extend_params_mut<'a>(&'a mut self, params: &mut Vec<&'a mut Param>) {
        for layer in &mut self.layers {
            layer.extend_params_mut(params);
        }
    }

    fn buffers(&self) -> Vec<(String, Tensor)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                layer
                    .buffers()
                    .into_iter()
                    .map(move |(name, b)| (format!("{i}.{name}"), b))
            })
            .collect()
    }

    fn set_buffer(&mut self, name: &str, value: &Tensor) -> bool {
        let Some((index, rest)) = name.split_once('.') else {
            return false;
        };
        match index
            .parse::<usize>()
            .ok()
            .and_then(|i| self.layers.get_mut(i))
        {
            Some(layer) => layer.set_buffer(rest, value),
            None => false,
        }
    }

    fn rng_states(&self) -> Vec<(String, RngState)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, layer)| {
                layer
                    .rng_states()
                    .into_iter()
                    .map(move |(name, state)| (format!("{i}.{name}"), state))
            })
            .collect()
    }

    fn set_rng_state(&mut self, name: &str, state: &RngState) -> bool {
        let Some((index, rest)) = name.split_once('.') else {
            return false;
        };
        match index
            .parse::<usize>()
            .ok()
            .and_then(|i| self.layers.get_mut(i))
        {
            Some(layer) => layer.set_rng_state(rest, state),
            None => false,
        }
    }

    fn set_training(&mut self, training: bool) {
        for layer in &mut self.layers {
            layer.set_training(training);
        }
    }

    fn describe(&self) -> String {
        let mut text = String::from("Sequential(\n");
        for (i, layer) in self.layers.iter().enumerate() {
            let inner = layer.describe().replace('\n', "\n  ");
            text.push_str(&format!("  ({i}): {inner}\n"));
        }
        text.push(')');
        text
    }
}
