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
        let Some(loss) = LossKind::from_name(&card.loss) else {
            return Err(bad(format!("unknown loss {:?}", card.loss)));
        };
        check_widths(&card, &layers, loss).map_err(bad)?;
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

/// Whether the card's lists fit the network it describes, as `nabla train`
/// writes them: one feature name, offset and scale per input; for a
/// classifier one label per output, or two labels for a single output
/// (the probability of the second) unless the loss is cross_entropy or
/// nll; class labels for a classification loss. If not, what is wrong and
/// what to do, in one line.
fn check_widths(card: &ModelCard, layers: &[LayerSpec], loss: LossKind) -> Result<(), String> {
    let inputs = card.inputs;
    if inputs == 0 {
        return Err("inputs is 0; a model takes at least one feature column".into());
    }
    if card.feature_names.len() != inputs {
        return Err(format!(
            "the number of feature_names ({}) does not match inputs ({inputs}); list the model's feature columns, one per input, in training order",
            card.feature_names.len()
        ));
    }
    let scaler = &card.preprocessing;
    if scaler.offset.len() != inputs || scaler.scale.len() != inputs {
        return Err(format!(
            "the preprocessing offsets ({}) and scales ({}) do not both match inputs ({inputs}); give one offset and one scale per feature column",
            scaler.offset.len(),
            scaler.scale.len()
        ));
    }
    if let Some(j) = scaler.scale.iter().position(|&s| s == 0.0) {
        return Err(format!(
            "the preprocessing scale of column {:?} is 0; use 1 for a column that is not scaled",
            card.feature_names[j]
        ));
    }
    let outputs = LayerSpec::last_linear_width(layers).unwrap_or(inputs);
    let Some(labels) = &card.labels else {
        return if loss.is_classification() {
            Err(format!(
                "loss {} trains a classifier, but the card lists no labels; list the class labels, one per output, or name a regression loss (mse, mae or huber)",
                loss.name()
            ))
        } else {
            Ok(())
        };
    };
    let one_output_per_class = matches!(loss, LossKind::CrossEntropy | LossKind::Nll);
    if outputs == 1 && one_output_per_class {
        return Err(format!(
            "loss {} needs one output per class, but the network has a single output (layers {}); name the loss the model was trained with (a single output is trained with bce_with_logits, bce, mse, mae or huber)",
            loss.name(),
            card.layers
        ));
    }
    if outputs == 1 && labels.len() != 2 {
        return Err(format!(
            "the number of labels ({}) does not fit the network's single output (layers {}), which tells two classes apart; list two labels (the second is predicted for an output above 0.5)",
            labels.len(),
            card.layers
        ));
    }
    if outputs > 1 && labels.len() != outputs {
        return Err(format!(
            "the number of labels ({}) does not match the network's {outputs} outputs (layers {}); list one label per output, in output order",
            labels.len(),
            card.layers
        ));
    }
    for (i, label) in labels.iter().enumerate() {
        if let Some(first) = labels[..i].iter().position(|l| l == label) {
            return Err(format!(
                "label {label:?} is listed twice (entries {} and {}); each class needs a label of its own",
                first + 1,
                i + 1
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Scaling;

    /// A card of an f32 network on two unscaled inputs `a` and `b`.
    fn card(layers: &str, loss: &str, labels: Option<&[&str]>) -> ModelCard {
        ModelCard {
            nabla_version: String::new(),
            inputs: 2,
            layers: layers.into(),
            architecture: String::new(),
            dtype: "f32".into(),
            loss: loss.into(),
            feature_names: vec!["a".into(), "b".into()],
            target: "y".into(),
            labels: labels.map(|l| l.iter().map(ToString::to_string).collect()),
            preprocessing: Scaler::fit(Scaling::None, &[0.0, 0.0], 2),
            metrics: serde_json::Value::Null,
            training: serde_json::Value::Null,
        }
    }

    /// [`check_widths`] on a card with its own layers and loss.
    fn check(card: &ModelCard) -> Result<(), String> {
        let layers = LayerSpec::parse_list(&card.layers).expect("a stack");
        let loss = LossKind::from_name(&card.loss).expect("a loss");
        check_widths(card, &layers, loss)
    }

    /// Asserts that `card` is refused with every one of `needles`.
    fn assert_refused(card: &ModelCard, needles: &[&str]) {
        let problem = check(card).expect_err("refused");
        for needle in needles {
            assert!(problem.contains(needle), "{needle:?} missing: {problem}");
        }
    }

    #[test]
    fn the_cards_nabla_train_writes_are_accepted() {
        let (three, two) = (&["a", "b", "c"][..], &["no", "yes"][..]);
        for (layers, loss, labels) in [
            ("8,relu,3", "cross_entropy", Some(three)),
            ("8,relu,3,dropout:0.5", "bce", Some(three)),
            ("8,relu,2,log_softmax", "nll", Some(two)),
            ("8,relu,1", "bce_with_logits", Some(two)),
            ("8,relu,1,sigmoid", "bce", Some(two)),
            ("1", "mse", Some(two)),
            ("8,relu,1", "mse", None),
            ("8,tanh,2,batchnorm", "huber", None),
        ] {
            assert_eq!(
                check(&card(layers, loss, labels)),
                Ok(()),
                "{layers} {loss}"
            );
        }
    }

    #[test]
    fn labels_that_do_not_fit_the_outputs_are_refused() {
        let refusals: [(&str, &str, &[&str], &[&str]); 7] = [
            (
                "8,relu,3",
                "cross_entropy",
                &["a", "b"],
                &[
                    "labels (2)",
                    "3 outputs (layers 8,relu,3)",
                    "one label per output",
                ],
            ),
            (
                "8,relu,3",
                "cross_entropy",
                &["a", "b", "c", "d"],
                &["labels (4)"],
            ),
            ("8,relu,3", "cross_entropy", &[], &["labels (0)"]),
            (
                "8,relu,1",
                "bce_with_logits",
                &["yes"],
                &["labels (1)", "single output", "list two labels"],
            ),
            ("8,relu,1,sigmoid", "bce", &["a", "b", "c"], &["labels (3)"]),
            (
                "8,relu,1",
                "cross_entropy",
                &["no", "yes"],
                &[
                    "loss cross_entropy needs one output per class",
                    "bce_with_logits",
                ],
            ),
            (
                "8,relu,3",
                "cross_entropy",
                &["a", "b", "a"],
                &["label \"a\" is listed twice (entries 1 and 3)"],
            ),
        ];
        for (layers, loss, labels, needles) in refusals {
            assert_refused(&card(layers, loss, Some(labels)), needles);
        }
    }

    #[test]
    fn a_classification_loss_without_labels_is_refused() {
        for loss in ["cross_entropy", "nll", "bce", "bce_with_logits"] {
            assert_refused(
                &card("8,relu,1", loss, None),
                &[
                    &format!("loss {loss} trains a classifier"),
                    "lists no labels",
                ],
            );
        }
    }

    #[test]
    fn lists_that_do_not_fit_the_inputs_are_refused() {
        let mut names = card("8,relu,1", "mse", None);
        names.feature_names.pop();
        assert_refused(&names, &["feature_names (1)", "inputs (2)"]);
        let mut offsets = card("8,relu,1", "mse", None);
        offsets.preprocessing.offset.clear();
        assert_refused(&offsets, &["offsets (0) and scales (2)", "inputs (2)"]);
        let mut scales = card("8,relu,1", "mse", None);
        scales.preprocessing.scale.push(1.0);
        assert_refused(&scales, &["offsets (2) and scales (3)"]);
        let mut zero = card("8,relu,1", "mse", None);
        zero.preprocessing.scale[1] = 0.0;
        assert_refused(&zero, &["scale of column \"b\" is 0"]);
        let mut none = card("8,relu,1", "mse", None);
        none.inputs = 0;
        assert_refused(&none, &["inputs is 0"]);
    }

    #[test]
    fn load_names_the_card_whose_labels_do_not_fit() {
        let dir = std::env::temp_dir().join(format!("nabla-model-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let layers = "4,relu,3";
        let network = build_sequential(
            2,
            &LayerSpec::parse_list(layers).expect("a stack"),
            Init::PyTorchDefault,
            DType::F32,
            &mut Rng::seed(1),
        );
        let mut model = Model {
            network,
            card: card(layers, "cross_entropy", Some(&["a", "b", "c"])),
        };
        model.save(&dir).expect("saved");
        let loaded = Model::load(&dir).map(|m| m.card);
        model.card.labels = Some(vec!["a".into(), "b".into()]);
        model.save(&dir).expect("saved");
        let refused = Model::load(&dir).map(|m| m.card);
        std::fs::remove_dir_all(&dir).expect("cleanup");
        assert!(loaded.is_ok_and(|c| c.labels.is_some_and(|l| l.len() == 3)));
        let message = refused.expect_err("refused").to_string();
        let path = dir.join("model.json");
        assert_eq!(
            message,
            format!(
                "{} is not a valid model card: the number of labels (2) does not match the network's 3 outputs (layers 4,relu,3); list one label per output, in output order",
                path.display()
            )
        );
    }

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
            card: card(layers, "mse", None),
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
