//! Loss functions: values from their definitions (PyTorch's), gradients
//! by finite differences, and stability at extreme inputs.

use nabla::loss::{self, CrossEntropyOptions, Reduction};
use nabla::{DType, GradcheckOptions, Rng, Tensor, gradcheck};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * (1.0 + b.abs())
}

fn logits() -> Tensor {
    Tensor::from_vec(
        vec![2.0f64, 0.5, -1.0, 0.1, 0.2, 3.0, -0.3, 1.2, 0.0],
        &[3, 3],
    )
}

/// −log softmax(x)[class] by hand.
fn nll_by_hand(row: &[f64], class: usize) -> f64 {
    let lse = row.iter().map(|v| v.exp()).sum::<f64>().ln();
    lse - row[class]
}

#[test]
fn regression_losses_follow_their_definitions() {
    let p = Tensor::from_vec(vec![0.5f64, 2.0, -1.0, 4.0], &[2, 2]);
    let y = Tensor::from_vec(vec![0.0f64, 2.5, 1.0, 0.0], &[2, 2]);
    // differences 0.5, −0.5, −2, 4
    assert!(close(
        loss::mse(&p, &y, Reduction::Mean).item(),
        (0.25 + 0.25 + 4.0 + 16.0) / 4.0
    ));
    assert!(close(loss::mse(&p, &y, Reduction::Sum).item(), 20.5));
    assert_eq!(loss::mse(&p, &y, Reduction::None).shape(), &[2, 2]);
    assert!(close(loss::mae(&p, &y, Reduction::Mean).item(), 7.0 / 4.0));
    // Huber, delta 1: 0.125, 0.125, 1·(2 − 0.5), 1·(4 − 0.5)
    assert!(close(
        loss::huber(&p, &y, 1.0, Reduction::Sum).item(),
        0.125 + 0.125 + 1.5 + 3.5
    ));
    // Smooth L1, beta 2: 0.25/4, 0.25/4, 2 − 1 (|d| = 2 is not below beta), 4 − 1
    assert!(close(
        loss::smooth_l1(&p, &y, 2.0, Reduction::Sum).item(),
        0.0625 + 0.0625 + 1.0 + 3.0
    ));
}

#[test]
fn the_tutorials_half_squared_error_has_the_bare_residual_as_gradient() {
    let p = Tensor::from_vec(vec![0.8f64, 0.1], &[2]).with_requires_grad(true);
    let y = Tensor::from_vec(vec![1.0f64, 0.0], &[2]);
    let half = loss::mse(&p, &y, Reduction::Sum) * 0.5;
    let residual: Vec<f64> = vec![0.8 - 1.0, 0.1];
    let grad = half.backward()[&p].to_vec::<f64>();
    assert!(grad.iter().zip(&residual).all(|(g, r)| close(*g, *r)));
}

#[test]
fn binary_cross_entropy_matches_its_definition_and_is_stable() {
    let p = Tensor::from_vec(vec![0.9f64, 0.2, 0.6], &[3]);
    let y = Tensor::from_vec(vec![1.0f64, 0.0, 1.0], &[3]);
    let expected = -(0.9f64.ln() + 0.8f64.ln() + 0.6f64.ln()) / 3.0;
    assert!(close(loss::bce(&p, &y, Reduction::Mean).item(), expected));

    // The same from logits, where σ(logit) = p.
    let logits = Tensor::from_vec(vec![0.9f64, 0.2, 0.6], &[3]).log()
        - Tensor::from_vec(vec![0.1f64, 0.8, 0.4], &[3]).log();
    assert!(close(
        loss::bce_with_logits(&logits, &y, Reduction::Mean).item(),
        expected
    ));

    // Saturated probabilities: each log is floored at −100, as PyTorch does.
    let hard = Tensor::from_vec(vec![0.0f64, 1.0], &[2]).with_requires_grad(true);
    let wrong = Tensor::from_vec(vec![1.0f64, 0.0], &[2]);
    let bce = loss::bce(&hard, &wrong, Reduction::Mean);
    assert!(close(bce.item(), 100.0));
    assert!(
        bce.backward()[&hard]
            .to_vec::<f64>()
            .iter()
            .all(|g| g.is_finite())
    );

    // Logits of ±1000: finite loss and the exact gradient σ(x) − y.
    let extreme = Tensor::from_vec(vec![1000.0f32, -1000.0], &[2]).with_requires_grad(true);
    let l = loss::bce_with_logits(
        &extreme,
        &Tensor::from_vec(vec![0.0f32, 0.0], &[2]),
        Reduction::Sum,
    );
    assert_eq!(l.item(), 1000.0);
    assert_eq!(l.backward()[&extreme].to_vec::<f32>(), vec![1.0, 0.0]);
}

#[test]
fn cross_entropy_is_log_softmax_then_nll() {
    let x = logits();
    let rows = x.to_vec::<f64>();
    let classes = [0, 2, 1];
    let by_hand: Vec<f64> = classes
        .iter()
        .enumerate()
        .map(|(r, &c)| nll_by_hand(&rows[3 * r..3 * r + 3], c))
        .collect();
    let none = loss::cross_entropy(&x, &classes, Reduction::None).to_vec::<f64>();
    assert!(none.iter().zip(&by_hand).all(|(a, b)| close(*a, *b)));
    assert!(close(
        loss::cross_entropy(&x, &classes, Reduction::Mean).item(),
        by_hand.iter().sum::<f64>() / 3.0
    ));
    assert!(close(
        loss::nll(&x.log_softmax(1), &classes, Reduction::Sum).item(),
        by_hand.iter().sum()
    ));

    // Probability targets equal to one-hot rows give the same loss.
    let one_hot = loss::one_hot(&classes, 3, DType::F64);
    assert!(close(
        loss::cross_entropy_soft(&x, &one_hot, Reduction::Mean).item(),
        by_hand.iter().sum::<f64>() / 3.0
    ));

    // Stable for huge logits.
    let huge = Tensor::from_vec(vec![1000.0f32, 0.0, -1000.0], &[1, 3]);
    assert_eq!(
        loss::cross_entropy(&huge, &[1], Reduction::Mean).item(),
        1000.0
    );
}

/// PyTorch's weighted mean divides by the summed weights of the rows'
/// classes; label smoothing ε mixes in `ε/C · Σ_c −w_c log p_c`, reduced
/// the same way.
#[test]
fn class_weights_and_label_smoothing_follow_pytorch() {
    let x = logits();
    let rows = x.to_vec::<f64>();
    let classes = [0, 2, 1];
    let w = [0.2, 1.0, 3.0];
    let log_p = |r: usize, c: usize| -nll_by_hand(&rows[3 * r..3 * r + 3], c);
    let weighted_nll: f64 = classes
        .iter()
        .enumerate()
        .map(|(r, &c)| -w[c] * log_p(r, c))
        .sum();
    let weight_total: f64 = classes.iter().map(|&c| w[c]).sum();
    let smooth: f64 = (0..3)
        .map(|r| (0..3).map(|c| -w[c] * log_p(r, c)).sum::<f64>())
        .sum();
    let eps = 0.1;
    let expected = (1.0 - eps) * weighted_nll / weight_total + eps / 3.0 * smooth / weight_total;
    let options = CrossEntropyOptions {
        weight: Some(Tensor::from_vec(w.to_vec(), &[3])),
        label_smoothing: eps,
        reduction: Reduction::Mean,
    };
    assert!(close(
        loss::cross_entropy_with(&x, &classes, &options).item(),
        expected
    ));

    // Without weights, smoothing is cross-entropy against (1 − ε)·onehot + ε/C.
    let plain = CrossEntropyOptions {
        label_smoothing: eps,
        ..CrossEntropyOptions::default()
    };
    let target = loss::one_hot(&classes, 3, DType::F64) * (1.0 - eps) + eps / 3.0;
    assert!(close(
        loss::cross_entropy_with(&x, &classes, &plain).item(),
        loss::cross_entropy_soft(&x, &target, Reduction::Mean).item()
    ));
}

/// A loss as a function of the checked input.
type LossOf<'a> = Box<dyn Fn(&[Tensor]) -> Tensor + 'a>;

#[test]
fn every_loss_passes_gradcheck() {
    let mut rng = Rng::seed(3);
    let pred = Tensor::randn(&[4, 3], DType::F64, &mut rng);
    let target = Tensor::randn(&[4, 3], DType::F64, &mut rng) * 3.0;
    let probs = Tensor::uniform(&[4, 3], 0.05, 0.95, DType::F64, &mut rng);
    let bits = Tensor::from_vec((0..12).map(|i| f64::from(i % 2)).collect(), &[4, 3]);
    let classes = [2, 0, 1, 1];
    let weight = Tensor::from_vec(vec![0.5f64, 2.0, 1.0], &[3]);
    let cases: Vec<(&str, LossOf, Tensor)> = vec![
        (
            "mse",
            Box::new(|t| loss::mse(&t[0], &target, Reduction::Mean)),
            pred.clone(),
        ),
        (
            "mae",
            Box::new(|t| loss::mae(&t[0], &target, Reduction::Sum)),
            pred.clone(),
        ),
        (
            "huber",
            Box::new(|t| loss::huber(&t[0], &target, 1.5, Reduction::Mean)),
            pred.clone(),
        ),
        (
            "smooth_l1",
            Box::new(|t| loss::smooth_l1(&t[0], &target, 0.7, Reduction::None)),
            pred.clone(),
        ),
        (
            "bce",
            Box::new(|t| loss::bce(&t[0], &bits, Reduction::Mean)),
            probs.clone(),
        ),
        (
            "bce_with_logits",
            Box::new(|t| loss::bce_with_logits(&t[0], &bits, Reduction::Mean)),
            pred.clone(),
        ),
        (
            "cross_entropy",
            Box::new(|t| loss::cross_entropy(&t[0], &classes, Reduction::Mean)),
            pred.clone(),
        ),
        (
            "cross_entropy weighted, smoothed",
            Box::new(|t| {
                let options = CrossEntropyOptions {
                    weight: Some(weight.clone()),
                    label_smoothing: 0.2,
                    reduction: Reduction::Mean,
                };
                loss::cross_entropy_with(&t[0], &classes, &options)
            }),
            pred.clone(),
        ),
        (
            "cross_entropy_soft",
            Box::new(|t| loss::cross_entropy_soft(&t[0], &probs, Reduction::Sum)),
            pred.clone(),
        ),
        (
            "nll",
            Box::new(|t| loss::nll(&t[0].log_softmax(1), &classes, Reduction::Mean)),
            pred.clone(),
        ),
    ];
    for (name, f, input) in cases {
        let report = gradcheck(f, &[input], &GradcheckOptions::default());
        assert!(report.passed, "{name}: {report}");
    }
}

/// A confident right answer has a tiny but exact loss, not zero.
#[test]
fn bce_with_logits_keeps_tiny_losses() {
    let x = Tensor::from_vec(vec![25.0f64, -30.0], &[2]);
    let y = Tensor::from_vec(vec![1.0f64, 0.0], &[2]);
    let losses = loss::bce_with_logits(&x, &y, Reduction::None).to_vec::<f64>();
    assert!(close(losses[0], (-25.0f64).exp().ln_1p()), "{losses:?}");
    assert!(close(losses[1], (-30.0f64).exp().ln_1p()), "{losses:?}");
}
