//! A trained model as files: `model.safetensors` (the weights, with
//! PyTorch `Sequential` names) and `model.json` (a card: the layer stack,
//! dtype, loss, preprocessing, feature and label names, metrics and the
//! training configuration), so `nabla predict` can rebuild it exactly.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::{Dataset, Scaler, Targets, load_features};
use crate::nn::{
    Init, LayerSpec, LoadError, Module, Sequential, build_sequential, load_state_dict,
    load_weights, save_weights, state_dict,
};
use crate::tensor::{DType, Rng, Tensor};
use crate::train::LossKind;

/// What `model.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// The nabla version that wrote it.
    pub nabla_version: String,
    /// Input features.
    pub inputs: usize,
    /// The layer stack after the input, as `--layers` takes it.
    pub layers: String,
    /// PyTorch's `repr` of the network, for people.
    pub architecture: String,
    /// `f32` or `f64`.
    pub dtype: String,
    /// The loss it was trained with.
    pub loss: String,
    /// The feature columns, in order.
    pub feature_names: Vec<String>,
    /// The target column.
    pub target: String,
    /// The class labels, by output index (absent for regression).
    pub labels: Option<Vec<String>>,
    /// The feature scaling fitted on the training split.
    pub preprocessing: Scaler,
    /// Metrics measured after training (test, validation, train).
    pub metrics: serde_json::Value,
    /// The training configuration and outcome.
    pub training: serde_json::Value,
}

/// A network with everything needed to use it on raw data.
pub struct Model {
    /// The network, in evaluation mode after loading.
    pub network: Sequential,
    /// Its card.
    pub card: ModelCard,
}

/// Why a model directory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// `model.json` is missing or unreadable.
    #[error("cannot read {path}: {source}; is it a directory written by `nabla train`?")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `model.json` is not a model card.
    #[error("{path} is not a valid model card: {problem}")]
    Card {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// The weights do not load.
    #[error(transparent)]
    Weights(#[from] LoadError),
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] crate::io::Error),
}

impl Model {
    /// The loss the model was trained with.
    pub fn loss(&self) -> LossKind {
        LossKind::from_name(&self.card.loss).expect("a loaded card names a known loss")
    }

    /// Writes `model.safetensors` and `model.json` into `dir` (which must
    /// exist), each atomically.
    pub fn save(&self, dir: &Path) -> Result<(), ModelError> {
        save_weights(&self.network, dir.join("model.safetensors"))?;
        let text = serde_json::to_string_pretty(&self.card).expect("a card serializes");
        crate::io::write_atomically(&dir.join("model.json"), text.as_bytes())?;
        Ok(())
    }

    /// Reads a model written by [`Model::save`].
    pub fn load(dir: &Path) -> Result<Model, ModelError> {
        let path = dir.join("model.json");
        let text = std::fs::read_to_string(&path).map_err(|source| ModelError::Read {
            path: path.clone(),
            source,
        })?;
        let bad = |problem: String| ModelError::Card {
            path: path.clone(),
            problem,
        };
        let card: ModelCard = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        let layers =
            LayerSpec::parse_list(&card.layers).map_err(|e| bad(format!("layers: {e}")))?;
        let dtype = match card.dtype.as_str() {
            "f32" => DType::F32,
            "f64" => DType::F64,
            other => return Err(bad(format!("unknown dtype {other:?}"))),
        };
        if LossKind::from_name(&card.loss).is_none() {
            return Err(bad(format!("unknown loss {:?}", card.loss)));
        }
        if card.preprocessing.width() != card.inputs && card.preprocessing.width() != 0 {
            return Err(bad(format!(
                "preprocessing has {} columns but the model takes {} inputs",
                card.preprocessing.width(),
                card.inputs
            )));
        }
        let mut network =
            build_sequential(card.inputs, &layers, Init::Zeros, dtype, &mut Rng::seed(0));
        load_weights(&mut network, dir.join("model.safetensors"))?;
        network.set_training(false);
        Ok(Model { network, card })
    }

    /// A labelled file read as the network takes it: the model's feature
    /// columns in its order, scaled as in training, and the target column
    /// as class indices of the model's labels (a label it never saw is an
    /// error naming the line) or as values. Errors are one line.
    pub fn labelled_dataset(&self, path: &Path, delimiter: u8) -> Result<Dataset, String> {
        let target = &self.card.target;
        let rows = load_features(path, &self.card.feature_names, Some(target), delimiter)
            .map_err(|e| e.to_string())?;
        let Some((labels, lines)) = rows.target else {
            return Err(format!(
                "{}: no target column {target:?}; the true values are needed (use predict for unlabelled data)",
                path.display()
            ));
        };
        let targets = match &self.card.labels {
            Some(known) => {
                let mut indices = Vec::with_capacity(labels.len());
                for (label, line) in labels.iter().zip(&lines) {
                    let index = known.iter().position(|k| k == label).ok_or_else(|| {
                        format!(
                            "{}: line {line}, column {target:?}: class {label:?} was not seen in training; the model knows: {}",
                            path.display(),
                            known.join(", ")
                        )
                    })?;
                    indices.push(index);
                }
                Targets::Classes {
                    indices,
                    names: known.clone(),
                }
            }
            None => Targets::Values {
                values: labels
                    .iter()
                    .map(|l| l.parse::<f64>())
                    .collect::<Result<_, _>>()
                    .map_err(|_| {
                        format!(
                            "{}: the target {target:?} must be numeric for this regression model",
                            path.display()
                        )
                    })?,
                outputs: 1,
            },
        };
        let mut features = rows.features;
        self.card.preprocessing.transform(&mut features);
        Ok(Dataset {
            features: features.into(),
            feature_names: self.card.feature_names.clone(),
            target_name: target.clone(),
            targets,
        })
    }

    /// A copy of the network in `dtype` (its weights and buffers
    /// converted), in evaluation mode: `network_in(DType::F64)` for a
    /// gradient check of an f32 model.
    pub fn network_in(&self, dtype: DType) -> Sequential {
        let layers =
            LayerSpec::parse_list(&self.card.layers).expect("a loaded card's layers parse");
        let mut network = build_sequential(
            self.card.inputs,
            &layers,
            Init::Zeros,
            dtype,
            &mut Rng::seed(0),
        );
        load_state_dict(&mut network, &state_dict(&self.network))
            .expect("the same layers take the same weights");
        network.set_training(false);
        network
    }

    /// The network's outputs for raw (unscaled) feature rows `n × inputs`.
    pub fn outputs(&self, features: &[f64]) -> Tensor {
        let mut scaled = features.to_vec();
        self.card.preprocessing.transform(&mut scaled);
        let rows = scaled.len() / self.card.inputs.max(1);
        let dtype = self
            .network
            .parameters()
            .first()
            .map_or(DType::F32, |(_, p)| p.dtype());
        let x = Tensor::from_vec(scaled, &[rows, self.card.inputs]).to_dtype(dtype);
        crate::no_grad(|| self.network.forward(&x))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Scaling;

    #[test]
    fn network_in_f64_holds_the_same_weights_and_buffers() {
        let layers = "3,tanh,batchnorm,2";
        let mut network = build_sequential(
            2,
            &LayerSpec::parse_list(layers).expect("a stack"),
            Init::PyTorchDefault,
            DType::F32,
            &mut Rng::seed(3),
        );
        let running_mean = Tensor::from_vec(vec![0.5f32, -0.25, 1.0], &[3]);
        assert!(network.set_buffer("2.running_mean", &running_mean));
        network.set_training(false);
        let model = Model {
            network,
            card: ModelCard {
                nabla_version: String::new(),
                inputs: 2,
                layers: layers.into(),
                architecture: String::new(),
                dtype: "f32".into(),
                loss: "mse".into(),
                feature_names: vec!["a".into(), "b".into()],
                target: "y".into(),
                labels: None,
                preprocessing: Scaler::fit(Scaling::None, &[0.0, 0.0], 2),
                metrics: serde_json::Value::Null,
                training: serde_json::Value::Null,
            },
        };
        let converted = model.network_in(DType::F64);
        let (before, after) = (state_dict(&model.network), state_dict(&converted));
        assert_eq!(
            before.keys().collect::<Vec<_>>(),
            after.keys().collect::<Vec<_>>()
        );
        for (name, tensor) in &after {
            if name.ends_with("num_batches_tracked") {
                continue;
            }
            assert_eq!(tensor.dtype(), DType::F64, "{name}");
            assert_eq!(
                tensor.to_vec::<f64>(),
                before[name].to_vec::<f64>(),
                "{name}"
            );
        }
        let x = Tensor::from_vec(vec![0.3, -1.2, 2.0, 0.1], &[2, 2]);
        let (y32, y64) = (model.outputs(&[0.3, -1.2, 2.0, 0.1]), converted.forward(&x));
        for (a, b) in y32.to_vec::<f64>().into_iter().zip(y64.to_vec::<f64>()) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
    }
}
