//! Backpropagation through whole networks against PyTorch: for every case
//! in `tests/fixtures/net` (written by PyTorch in float64), load the
//! PyTorch-written initial weights, rebuild the `torch.nn.Sequential` from
//! plain ops, and reproduce its output and every parameter's gradient.

mod common;

use common::floats;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use nabla::nn::{Activation, Linear, Module, Sequential, load_state_dict, state_dict};
use nabla::optim::{Adam, Optimizer, Sgd};
use nabla::{DType, Rng, Tensor, io};
use serde_json::Value;

const RELATIVE_TOLERANCE: f64 = 1e-10;
/// Gradients that are exactly zero in PyTorch (dead ReLUs) may come out as
/// a rounding-level residue here; below this they count as equal.
const ABSOLUTE_FLOOR: f64 = 1e-15;

fn assert_close(what: &str, actual: &[f64], expected: &[f64]) -> f64 {
    common::assert_close(what, actual, expected, RELATIVE_TOLERANCE, ABSOLUTE_FLOOR)
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/net")
}

fn dims(value: &Value) -> Vec<usize> {
    match value {
        Value::Array(items) => {
            let mut shape = vec![items.len()];
            if let Some(first) = items.first() {
                shape.extend(dims(first));
            }
            shape
        }
        _ => vec![],
    }
}

fn tensor(value: &Value) -> Tensor {
    Tensor::from_vec(floats(value), &dims(value))
}

/// The forward pass of the fixture's `Sequential`, from its layer strings.
fn forward(architecture: &[Value], params: &BTreeMap<String, Tensor>, x: &Tensor) -> Tensor {
    let mut h = x.clone();
    for (index, layer) in architecture.iter().enumerate() {
        let layer = layer.as_str().expect("a layer description");
        h = match layer.split('(').next() {
            // PyTorch's Linear: x·Wᵀ + b with W stored [out, in].
            Some("Linear") => {
                let w = &params[&format!("{index}.weight")];
                let b = &params[&format!("{index}.bias")];
                &h.matmul_t(w, false, true) + b
            }
            Some("Sigmoid") => h.sigmoid(),
            Some("Tanh") => h.tanh(),
            Some("ReLU") => h.relu(),
            _ => panic!("layer {layer} is not used by the fixtures"),
        };
    }
    h
}

fn loss(kind: &str, output: &Tensor, y: &Value) -> Tensor {
    match kind {
        "mse" => (output - &tensor(y)).square().mean_all(),
        // Cross-entropy from logits with class indices, mean over rows.
        "cross_entropy" => {
            let classes: Vec<usize> = floats(y).iter().map(|&c| c as usize).collect();
            -output.log_softmax(1).gather(1, &classes).mean_all()
        }
        other => panic!("loss {other} is not used by the fixtures"),
    }
}

#[test]
fn outputs_and_gradients_at_init_match_pytorch() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixture_dir())
        .expect("the fixtures are in the repository")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 3, "every network fixture is replayed");
    for case in cases {
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&case).expect("readable"))
                .expect("valid JSON");
        let name = fixture["name"].as_str().expect("a name");
        let weights_file =
            fixture_dir().join(fixture["init_safetensors"].as_str().expect("a file name"));
        let params: BTreeMap<String, Tensor> = io::load_safetensors(&weights_file)
            .expect("PyTorch-written weights load")
            .into_iter()
            .map(|(k, t)| (k, t.with_requires_grad(true)))
            .collect();
        for (param_name, value) in fixture["init"].as_object().expect("named init tensors") {
            assert_eq!(
                params[param_name].to_vec::<f64>(),
                floats(value),
                "{name}: {param_name} as loaded"
            );
        }

        let architecture = fixture["architecture"].as_array().expect("layers");
        let output = forward(architecture, &params, &tensor(&fixture["X"]));
        assert_close(
            &format!("{name}: output_at_init"),
            &output.to_vec::<f64>(),
            &floats(&fixture["output_at_init"]),
        );

        let loss = loss(
            fixture["loss"].as_str().expect("a loss"),
            &output,
            &fixture["y"],
        );
        let loss_value = fixture["loss_before_step"][0]
            .as_f64()
            .expect("the first loss");
        assert_close(&format!("{name}: loss"), &[loss.item()], &[loss_value]);

        let grads = loss.backward();
        let expected = fixture["grad_at_init"]
            .as_object()
            .expect("named gradients");
        assert_eq!(
            expected.len(),
            params.len(),
            "{name}: one gradient per parameter"
        );
        for (param_name, value) in expected {
            let grad = &grads[&params[param_name]];
            assert_eq!(
                grad.shape(),
                params[param_name].shape(),
                "{name}: {param_name} gradient shape"
            );
            assert_close(
                &format!("{name}: grad {param_name}"),
                &grad.to_vec::<f64>(),
                &floats(value),
            );
        }
    }
}

/// The fixture's network as a `Sequential` of nabla layers.
fn sequential(architecture: &[Value]) -> Sequential {
    let mut rng = Rng::seed(0);
    architecture.iter().fold(Sequential::new(), |model, layer| {
        let layer = layer.as_str().expect("a layer description");
        let layer: Box<dyn Module> = match layer.split('(').next() {
            Some("Linear") => {
                let number = |key: &str| -> usize {
                    let start = layer.find(key).expect("a Linear argument") + key.len();
                    layer[start..]
                        .split([',', ')'])
                        .next()
                        .expect("a number")
                        .parse()
                        .expect("an integer")
                };
                Box::new(Linear::new(
                    number("in_features="),
                    number("out_features="),
                    DType::F64,
                    &mut rng,
                ))
            }
            Some("Sigmoid") => Box::new(Activation::Sigmoid),
            Some("Tanh") => Box::new(Activation::Tanh),
            Some("ReLU") => Box::new(Activation::ReLU),
            _ => panic!("layer {layer} is not used by the fixtures"),
        };
        model.push_boxed(layer)
    })
}

fn optimizer(kind: &str, options: &Value) -> Box<dyn Optimizer> {
    let get = |name: &str| options.get(name).and_then(Value::as_f64);
    let lr = get("lr").expect("an lr");
    match kind {
        "sgd" => Box::new(Sgd::new(lr).momentum(get("momentum").unwrap_or(0.0))),
        "adam" => Box::new(Adam::new(lr)),
        other => panic!("optimizer {other} is not used by the fixtures"),
    }
}

/// The same networks through the layer API: built as a `Sequential`,
/// loaded from the PyTorch-written safetensors by name, and trained
/// full-batch with the fixture's optimizer, step for step.
#[test]
fn sequential_models_load_pytorch_weights_and_train_like_pytorch() {
    let mut trained = 0;
    for entry in std::fs::read_dir(fixture_dir()).expect("the fixtures are in the repository") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("readable"))
                .expect("valid JSON");
        let name = fixture["name"].as_str().expect("a name");
        let mut model = sequential(fixture["architecture"].as_array().expect("layers"));
        let weights = io::load_safetensors(
            fixture_dir().join(fixture["init_safetensors"].as_str().expect("a file")),
        )
        .expect("PyTorch-written weights load");
        load_state_dict(&mut model, &weights).expect("the names and shapes match");

        let x = tensor(&fixture["X"]);
        assert_close(
            &format!("{name}: output_at_init"),
            &model.forward(&x).to_vec::<f64>(),
            &floats(&fixture["output_at_init"]),
        );

        let mut opt = optimizer(
            fixture["optimizer"].as_str().expect("an optimizer"),
            &fixture["options"],
        );
        let loss_kind = fixture["loss"].as_str().expect("a loss");
        let steps = fixture["steps"].as_u64().expect("steps") as usize;
        for k in 0..steps {
            let loss = loss(loss_kind, &model.forward(&x), &fixture["y"]);
            assert_close(
                &format!("{name}: loss before step {k}"),
                &[loss.item()],
                &[fixture["loss_before_step"][k].as_f64().expect("a loss")],
            );
            let grads = loss.backward();
            opt.step(&mut model.params_mut(), &grads);
        }
        for (param_name, param) in model.parameters() {
            assert_close(
                &format!("{name}: final {param_name}"),
                &param.to_vec::<f64>(),
                &floats(&fixture["final"][&param_name]),
            );
        }
        assert_close(
            &format!("{name}: output_after_training"),
            &model.forward(&x).to_vec::<f64>(),
            &floats(&fixture["output_after_training"]),
        );
        trained += 1;
    }
    assert_eq!(trained, 3, "every network fixture is trained");
}

#[test]
fn loading_names_what_does_not_fit() {
    let architecture: Vec<Value> = [
        "Linear(in_features=2, out_features=3, bias=True)",
        "Sigmoid()",
    ]
    .iter()
    .map(|s| Value::String(s.to_string()))
    .collect();
    let mut model = sequential(&architecture);
    let mut weights = state_dict(&model);
    weights.insert("1.weight".into(), Tensor::zeros(&[1], DType::F64));
    assert_eq!(
        load_state_dict(&mut model, &weights)
            .expect_err("an extra name")
            .to_string(),
        "the weights have a tensor named \"1.weight\", which the model does not have"
    );
    weights.remove("1.weight");
    weights.insert("0.bias".into(), Tensor::zeros(&[4], DType::F64));
    assert_eq!(
        load_state_dict(&mut model, &weights)
            .expect_err("a wrong shape")
            .to_string(),
        "tensor \"0.bias\" has shape [4], but the model needs [3]"
    );
    weights.remove("0.bias");
    assert_eq!(
        load_state_dict(&mut model, &weights)
            .expect_err("a missing name")
            .to_string(),
        "the weights have no tensor named \"0.bias\", which the model needs"
    );
}
