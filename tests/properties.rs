//! Property tests: broadcasting and its un-broadcasting in the backward
//! pass, gradient accumulation for a tensor used more than once, reshape /
//! permute / transpose round trips, normalisation of `log_softmax` at large
//! magnitudes, and agreement of f32 with f64.

use nabla::{DType, GradcheckOptions, Rng, Tensor, gradcheck};
use proptest::prelude::*;

/// Small shapes (rank ≤ 4, each dimension 1..=5), so a case costs little.
fn shape(ranks: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..=5, ranks)
}

fn normal(shape: &[usize], seed: u64) -> Tensor {
    Tensor::randn(shape, DType::F64, &mut Rng::seed(seed))
}

fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Row-major multi-index of a flat position.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        index[i] = flat % d;
        flat /= d;
    }
    index
}

fn ravel(index: &[usize], shape: &[usize]) -> usize {
    index
        .iter()
        .zip(shape)
        .fold(0, |flat, (&i, &d)| flat * d + i)
}

/// The flat position in a tensor of `shape` that broadcasting reads for
/// output element `out_index` (trailing axes aligned, size-1 axes repeated):
/// an oracle written without the library's broadcasting code.
fn broadcast_source(out_index: &[usize], shape: &[usize]) -> usize {
    let lead = out_index.len() - shape.len();
    let index: Vec<usize> = shape
        .iter()
        .enumerate()
        .map(|(i, &d)| if d == 1 { 0 } else { out_index[lead + i] })
        .collect();
    ravel(&index, shape)
}

/// Two shapes that broadcast together, and the shape they broadcast to,
/// built from a common target so they are compatible by construction: each
/// takes a suffix of the target's axes and may replace any of them by 1.
fn broadcast_pair() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    let axis = (
        1usize..=5,
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.3),
    );
    prop::collection::vec(axis, 1..=4)
        .prop_flat_map(|axes| {
            // One operand reaches every axis (else the leading ones would be
            // wasted); the other may have fewer.
            let rank = axes.len();
            (Just(axes), 0..=rank, any::<bool>())
        })
        .prop_map(|(axes, shorter, a_is_shorter)| {
            let rank = axes.len();
            let (rank_a, rank_b) = if a_is_shorter {
                (shorter, rank)
            } else {
                (rank, shorter)
            };
            let (from_a, from_b) = (rank - rank_a, rank - rank_b);
            let a = axes[from_a..]
                .iter()
                .map(|&(d, one, _)| if one { 1 } else { d })
                .collect();
            let b = axes[from_b..]
                .iter()
                .map(|&(d, _, one)| if one { 1 } else { d })
                .collect();
            // An axis of the result is 1 unless an operand that reaches it
            // keeps it.
            let out = axes
                .iter()
                .enumerate()
                .map(|(i, &(d, one_a, one_b))| {
                    let kept_by_a = i >= from_a && !one_a;
                    let kept_by_b = i >= from_b && !one_b;
                    if kept_by_a || kept_by_b { d } else { 1 }
                })
                .collect();
            (a, b, out)
        })
}

fn assert_close(actual: &[f64], expected: &[f64], tolerance: f64) -> Result<(), TestCaseError> {
    prop_assert_eq!(actual.len(), expected.len());
    for (i, (a, e)) in actual.iter().zip(expected).enumerate() {
        prop_assert!(
            (a - e).abs() <= tolerance * (1.0 + e.abs()),
            "element {}: {} vs expected {}",
            i,
            a,
            e
        );
    }
    Ok(())
}

proptest! {
    // No regression files: a failure prints its minimal input instead.
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(64)
    })]

    #[test]
    fn addition_broadcasts_and_its_gradient_counts_repeats(
        (sa, sb, out) in broadcast_pair(),
        seed in any::<u64>(),
    ) {
        let a = normal(&sa, seed).with_requires_grad(true);
        let b = normal(&sb, seed ^ 1).with_requires_grad(true);
        let c = &a + &b;
        prop_assert_eq!(c.shape(), &out[..]);
        let (av, bv, cv) = (a.to_vec::<f64>(), b.to_vec::<f64>(), c.to_vec::<f64>());
        for (flat, &value) in cv.iter().enumerate() {
            let index = unravel(flat, &out);
            let expected = av[broadcast_source(&index, &sa)] + bv[broadcast_source(&index, &sb)];
            prop_assert_eq!(value, expected, "element {:?}", index);
        }
        // Broadcasting repeats every element of an operand equally often.
        let grads = c.sum_all().backward();
        for (input, shape) in [(&a, &sa), (&b, &sb)] {
            let grad = &grads[input];
            prop_assert_eq!(grad.shape(), &shape[..]);
            let repeats = (numel(&out) / numel(shape)) as f64;
            prop_assert!(
                grad.to_vec::<f64>().iter().all(|&g| g == repeats),
                "gradient {:?} for shape {:?}, expected all {}", grad, shape, repeats
            );
        }
    }

    #[test]
    fn multiplication_unbroadcasts_a_random_upstream_gradient(
        (sa, sb, out) in broadcast_pair(),
        seed in any::<u64>(),
    ) {
        let a = normal(&sa, seed).with_requires_grad(true);
        let b = normal(&sb, seed ^ 1).with_requires_grad(true);
        let u = normal(&out, seed ^ 2);
        let grads = (&a * &b).backward_with(u.clone());
        // The vector–Jacobian product by hand, element by element.
        let (av, bv, uv) = (a.to_vec::<f64>(), b.to_vec::<f64>(), u.to_vec::<f64>());
        let (mut ga, mut gb) = (vec![0.0; av.len()], vec![0.0; bv.len()]);
        for (flat, &g) in uv.iter().enumerate() {
            let index = unravel(flat, &out);
            let (ia, ib) = (broadcast_source(&index, &sa), broadcast_source(&index, &sb));
            ga[ia] += g * bv[ib];
            gb[ib] += g * av[ia];
        }
        prop_assert_eq!(grads[&a].shape(), &sa[..]);
        prop_assert_eq!(grads[&b].shape(), &sb[..]);
        assert_close(&grads[&a].to_vec::<f64>(), &ga, 1e-12)?;
        assert_close(&grads[&b].to_vec::<f64>(), &gb, 1e-12)?;
        let options = GradcheckOptions { seed, ..GradcheckOptions::default() };
        let report = gradcheck(|t| &t[0] * &t[1], &[a.detach(), b.detach()], &options);
        prop_assert!(report.passed, "{:?} * {:?}: {}", sa, sb, report);
    }

    #[test]
    fn a_tensor_used_twice_gets_the_sum_of_its_gradients(
        shape in shape(0..=4),
        seed in any::<u64>(),
    ) {
        let x = normal(&shape, seed).with_requires_grad(true);
        let grad = (&x * &x + &x).sum_all().backward()[&x].to_vec::<f64>();
        let expected: Vec<f64> = x.to_vec::<f64>().iter().map(|x| 2.0 * x + 1.0).collect();
        assert_close(&grad, &expected, 1e-14)?;
    }

    #[test]
    fn two_branches_from_one_tensor_add_up(
        shape in shape(0..=4),
        seed in any::<u64>(),
    ) {
        let x = normal(&shape, seed).with_requires_grad(true);
        let w = normal(&shape, seed ^ 1);
        let left = || (&x.tanh() * &w).sum_all();
        let right = || x.square().mean_all();
        let both = (left() + right()).backward()[&x].to_vec::<f64>();
        let separately: Vec<f64> = left().backward()[&x]
            .to_vec::<f64>()
            .iter()
            .zip(right().backward()[&x].to_vec::<f64>())
            .map(|(l, r)| l + r)
            .collect();
        assert_close(&both, &separately, 1e-14)?;
        // And the closed form: (1 − tanh²x)·w + 2x/n.
        let n = numel(&shape) as f64;
        let closed: Vec<f64> = x
            .to_vec::<f64>()
            .iter()
            .zip(w.to_vec::<f64>())
            .map(|(&x, w)| (1.0 - x.tanh().powi(2)) * w + 2.0 * x / n)
            .collect();
        assert_close(&both, &closed, 1e-12)?;
    }

    #[test]
    fn reshape_round_trips(
        (original, target, merge, insert_at) in shape(0..=4).prop_flat_map(|s| {
            let rank = s.len();
            (Just(s.clone()), Just(s).prop_shuffle(), any::<bool>(), 0..=rank)
        }),
        seed in any::<u64>(),
    ) {
        // Same element count, different shape: shuffled axes, maybe the
        // first two merged, and a size-1 axis inserted.
        let mut target = target;
        if merge && target.len() >= 2 {
            let merged = target[0] * target[1];
            target.splice(0..2, [merged]);
        }
        target.insert(insert_at.min(target.len()), 1);
        let x = normal(&original, seed).with_requires_grad(true);
        let y = x.reshape(&target);
        prop_assert_eq!(y.shape(), &target[..]);
        prop_assert_eq!(y.to_vec::<f64>(), x.to_vec::<f64>());
        let back = y.reshape(&original);
        prop_assert_eq!(back.shape(), &original[..]);
        prop_assert_eq!(back.to_vec::<f64>(), x.to_vec::<f64>());
        let u = normal(&original, seed ^ 1);
        let grads = back.backward_with(u.clone());
        prop_assert_eq!(grads[&x].shape(), &original[..]);
        prop_assert_eq!(grads[&x].to_vec::<f64>(), u.to_vec::<f64>());
    }

    #[test]
    fn permute_then_its_inverse_is_the_identity(
        (shape, dims) in shape(1..=4).prop_flat_map(|s| {
            let axes: Vec<usize> = (0..s.len()).collect();
            (Just(s), Just(axes).prop_shuffle())
        }),
        seed in any::<u64>(),
    ) {
        let x = normal(&shape, seed).with_requires_grad(true);
        let y = x.permute(&dims);
        let permuted: Vec<usize> = dims.iter().map(|&d| shape[d]).collect();
        prop_assert_eq!(y.shape(), &permuted[..]);
        // Output axis i is input axis dims[i].
        let (xv, yv) = (x.to_vec::<f64>(), y.to_vec::<f64>());
        for (flat, &value) in yv.iter().enumerate() {
            let out_index = unravel(flat, &permuted);
            let mut in_index = vec![0; shape.len()];
            for (i, &d) in dims.iter().enumerate() {
                in_index[d] = out_index[i];
            }
            prop_assert_eq!(value, xv[ravel(&in_index, &shape)]);
        }
        let mut inverse = vec![0; dims.len()];
        for (i, &d) in dims.iter().enumerate() {
            inverse[d] = i;
        }
        let back = y.permute(&inverse);
        prop_assert_eq!(back.shape(), &shape[..]);
        prop_assert_eq!(back.to_vec::<f64>(), xv);
        let u = normal(&shape, seed ^ 1);
        let grads = back.backward_with(u.clone());
        prop_assert_eq!(grads[&x].to_vec::<f64>(), u.to_vec::<f64>());
    }

    #[test]
    fn transposing_a_matrix_twice_is_the_identity(
        rows in 1usize..=5,
        cols in 1usize..=5,
        seed in any::<u64>(),
    ) {
        let x = normal(&[rows, cols], seed);
        let t = x.t();
        prop_assert_eq!(t.shape(), &[cols, rows][..]);
        let (xv, tv) = (x.to_vec::<f64>(), t.to_vec::<f64>());
        for i in 0..rows {
            for j in 0..cols {
                prop_assert_eq!(tv[j * rows + i], xv[i * cols + j]);
            }
        }
        let back = t.t();
        prop_assert_eq!(back.shape(), x.shape());
        prop_assert_eq!(back.to_vec::<f64>(), xv);
    }

    #[test]
    fn log_softmax_rows_exponentiate_to_probabilities(
        (rows, cols, logits) in (1usize..=5, 1usize..=5).prop_flat_map(|(rows, cols)| {
            // Mostly huge logits, where a naive exp overflows, with some of
            // ordinary size mixed in.
            let logit = prop_oneof![3 => -1e3..1e3f64, 1 => -10.0..10.0f64];
            (Just(rows), Just(cols), prop::collection::vec(logit, rows * cols))
        }),
    ) {
        let x = Tensor::from_vec(logits, &[rows, cols]);
        let values = x.log_softmax(-1).to_vec::<f64>();
        prop_assert!(values.iter().all(|v| v.is_finite() && *v <= 0.0), "{:?}", values);
        for row in values.chunks(cols) {
            let total: f64 = row.iter().map(|v| v.exp()).sum();
            prop_assert!((total - 1.0).abs() <= 1e-12, "row {:?} sums to {}", row, total);
        }
    }

    #[test]
    fn f32_and_f64_forward_passes_agree(
        batch in shape(0..=1),
        (m, k, n) in (1usize..=5, 1usize..=5, 1usize..=5),
        seed in any::<u64>(),
    ) {
        let x_shape = [&batch[..], &[m, k]].concat();
        let x32 = normal(&x_shape, seed).to_dtype(DType::F32);
        let w32 = normal(&[k, n], seed ^ 1).to_dtype(DType::F32);
        // f64 from the same (rounded) inputs, so only arithmetic differs.
        let (x64, w64) = (x32.to_dtype(DType::F64), w32.to_dtype(DType::F64));
        let y32 = x32.matmul(&w32).tanh();
        let y64 = x64.matmul(&w64).tanh();
        prop_assert_eq!(y32.dtype(), DType::F32);
        prop_assert_eq!(y32.shape(), y64.shape());
        let (xv, wv) = (x64.to_vec::<f64>(), w64.to_vec::<f64>());
        let y32 = y32.to_vec::<f64>();
        for (flat, &exact) in y64.to_vec::<f64>().iter().enumerate() {
            let (row, j) = (flat / n, flat % n);
            // Relative to the output, or, where the dot product cancels to
            // near zero, to the rounding it can suffer: Σ|x·w| scaled by
            // tanh's slope there.
            let magnitude: f64 = (0..k).map(|l| (xv[row * k + l] * wv[l * n + j]).abs()).sum();
            let scale = exact.abs().max((1.0 - exact * exact) * magnitude);
            prop_assert!(
                (y32[flat] - exact).abs() <= 1e-5 * scale,
                "element {}: f32 {} vs f64 {}", flat, y32[flat], exact
            );
        }
    }
}
