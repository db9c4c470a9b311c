//! Optimizers with PyTorch's update rules, hyperparameter names and
//! defaults, checked step by step against `torch.optim` trajectories.
//!
//! Every optimizer keeps per-parameter state (a step count and buffers
//! shaped like the parameter) keyed by the parameter's id, and updates each
//! parameter in place with a small kernel over slices. The loop over
//! parameters is shared (`ParamStates::apply`).
//!
//! ```
//! use nabla::nn::Param;
//! use nabla::optim::{Optimizer, Sgd};
//! use nabla::Tensor;
//! // Minimize (x − 3)² from x = 0.
//! let mut x = Param::new(Tensor::from_vec(vec![0.0f64], &[1]));
//! let mut sgd = Sgd::new(0.1);
//! for _ in 0..100 {
//!     let grads = (&*x - 3.0).square().sum_all().backward();
//!     sgd.step(&mut [&mut x], &grads);
//! }
//! assert!((x.item() - 3.0).abs() < 1e-6);
//! ```

/// The [`Optimizer`] methods every first-order optimizer implements the
/// same way, from its `lr` and `states` fields and its [`UpdateRule`]:
/// `optimizer_accessors!(|this| this)` when the optimizer is its own rule,
/// `optimizer_accessors!(|this| this.rule())` when it builds one.
macro_rules! optimizer_accessors {
    (|$this:ident| $rule:expr) => {
        fn lr(&self) -> f64 {
            self.lr
        }

        fn set_lr(&mut self, lr: f64) {
            self.lr = lr;
        }

        fn buffers_per_param(&self) -> usize {
            // `self` written at the call site would not name this method's
            // receiver (macro hygiene), so the rule gets it as `$this`.
            use $crate::optim::UpdateRule as _;
            let $this = self;
            ($rule).buffers()
        }

        fn states(&self) -> &$crate::optim::ParamStates {
            &self.states
        }

        fn states_mut(&mut self) -> &mut $crate::optim::ParamStates {
            &mut self.states
        }

        fn updates_elementwise(&self) -> bool {
            true
        }
    };
}

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
mod catalog;
mod checkpoint;
mod clip;
mod lbfgs;
mod lbfgs_state;
mod minimizer;
mod nadam;
mod newton;
mod regularize;
mod rmsprop;
mod schedule;
mod sgd;
mod spec;

pub use adadelta::*;
pub use adagrad::*;
pub use adam::*;
pub use adamax::*;
pub use catalog::{Hyperparameter, OptimizerInfo, describe_optimizer, optimizer_catalog};
pub use checkpoint::{OptimizerStateError, load_optimizer_state, optimizer_state_dict};
pub use clip::{clip_grad_norm, clip_grad_value};
#[cfg(feature = "plot")]
pub(crate) use lbfgs::set_flat_params;
pub use lbfgs::*;
pub use minimizer::{Minimizer, Objective, StepError};
pub use nadam::*;
pub use newton::*;
pub use regularize::{apply_max_norm, l1_penalty, l2_penalty};
pub use rmsprop::*;
pub use schedule::{ReduceOnPlateau, Schedule};
pub use sgd::Sgd;
pub use spec::OptimizerSpec;

use smallvec::SmallVec;

use crate::autograd::Gradients;
use crate::nn::Param;
use crate::tensor::{DType, Element, IdMap, Storage, Tensor};

/// Updates parameters from their gradients.
pub trait Optimizer {
    /// One update of every parameter that has a gradient in `grads`
    /// (parameters without one are left alone, as in PyTorch).
    fn step(&mut self, params: &mut [&mut Param], grads: &Gradients);

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Changes the learning rate (what a schedule does between steps).
    fn set_lr(&mut self, lr: f64);

    /// How many buffers a parameter's state gets with the current settings
    /// (Adam: 2, or 3 with AMSGrad); each optimizer documents their order.
    /// Loading a checkpoint checks the saved states against it.
    fn buffers_per_param(&self) -> usize;

    /// Whether a state holding `count` buffers can be stepped with the
    /// current settings: exactly [`Optimizer::buffers_per_param`], unless
    /// the optimizer documents otherwise (SGD, which like PyTorch creates
    /// its momentum buffer when momentum is first used and keeps it when
    /// momentum is switched off, accepts 0 or 1).
    fn accepts_buffer_count(&self, count: usize) -> bool {
        count == self.buffers_per_param()
    }

    /// How many entries of [`ParamState::scalars`] a parameter's state has
    /// once it has been updated (NAdam: 1; the others: 0).
    fn scalars_per_param(&self) -> usize {
        0
    }

    /// The per-parameter state.
    fn states(&self) -> &ParamStates;

    /// The per-parameter state, mutably.
    fn states_mut(&mut self) -> &mut ParamStates;

    /// Whether each element's update depends only on that element's value,
    /// gradient and state, the step count and the hyperparameters (true of
    /// every optimizer here; the default is false). Parameters laid end to
    /// end in one buffer can then be stepped as one parameter, with the
    /// same result: what training does with a fused network.
    fn updates_elementwise(&self) -> bool {
        false
    }
}

/// Hyperparameter checks as PyTorch makes them, panicking with a message
/// that names the optimizer, the hyperparameter and the value.
pub(crate) struct Checks<'a>(pub(crate) &'a str);

impl Checks<'_> {
    /// `lr ≥ 0`.
    pub(crate) fn lr(&self, lr: f64) -> &Self {
        assert!(
            lr >= 0.0,
            "{}: invalid learning rate lr = {lr} (must be ≥ 0)",
            self.0
        );
        self
    }

    /// `value ≥ 0`.
    pub(crate) fn non_negative(&self, name: &str, value: f64) -> &Self {
        assert!(
            value >= 0.0,
            "{}: invalid {name} = {value} (must be ≥ 0)",
            self.0
        );
        self
    }

    /// `0 ≤ value ≤ 1`.
    pub(crate) fn unit_interval(&self, name: &str, value: f64) -> &Self {
        assert!(
            (0.0..=1.0).contains(&value),
            "{}: invalid {name} = {value} (must be in [0, 1])",
            self.0
        );
        self
    }

    /// Both betas in `[0, 1)`.
    pub(crate) fn betas(&self, (beta1, beta2): (f64, f64)) -> &Self {
        for (i, beta) in [beta1, beta2].into_iter().enumerate() {
            assert!(
                (0.0..1.0).contains(&beta),
                "{}: invalid betas.{i} = {beta} (must be in [0, 1))",
                self.0
            );
        }
        self
    }
}

/// What an optimizer remembers about one parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamState {
    /// Updates applied so far.
    pub step: u64,
    /// Buffers shaped like the parameter (momentum, running averages, …),
    /// in the order the optimizer documents.
    pub buffers: Vec<Storage>,
    /// Scalars some optimizers keep (NAdam's running momentum product).
    pub scalars: Vec<f64>,
}

/// An optimizer's update of one parameter, written once for f32 and f64.
pub(crate) trait UpdateRule {
    /// How many buffers each parameter needs with these settings.
    fn buffers(&self) -> usize;

    /// The value buffer `index` starts at (0 unless documented otherwise).
    fn initial_value(&self, _index: usize) -> f64 {
        0.0
    }

    /// Whether the buffers an existing state lacks are created when first
    /// needed, as PyTorch's SGD creates its momentum buffer the first time
    /// momentum is used. Otherwise (the default) the state keeps the
    /// buffers it was created with, and `update` rejects a mismatch.
    fn creates_buffers_lazily(&self) -> bool {
        false
    }

    /// Updates `param` in place. `step` counts from 1 at the first update;
    /// the last `new_buffers` of `buffers` were created (at their initial
    /// values) for this update: all of them at a parameter's first update,
    /// and lazily created ones later.
    fn update<T: Element>(
        &self,
        step: u64,
        param: &mut [T],
        grad: &[T],
        buffers: &mut [&mut [T]],
        new_buffers: usize,
        scalars: &mut Vec<f64>,
    );
}

/// The per-parameter state of an optimizer, by parameter id.
#[derive(Clone, Debug, Default)]
pub struct ParamStates {
    by_id: IdMap<ParamState>,
}

impl ParamStates {
    /// The state of a parameter, if it has been updated.
    pub fn get(&self, param: &Param) -> Option<&ParamState> {
        self.by_id.get(&param.id())
    }

    /// Replaces the state of a parameter (restoring a checkpoint); the
    /// buffers must match its element count and dtype.
    pub fn set(&mut self, param: &Param, state: ParamState) {
        for buffer in &state.buffers {
            assert!(
                buffer.len() == param.numel() && buffer.dtype() == param.dtype(),
                "optimizer state: a buffer of {} {} elements does not fit a parameter of {} {}",
                buffer.len(),
                buffer.dtype(),
                param.numel(),
                param.dtype()
            );
        }
        self.by_id.insert(param.id(), state);
    }

    /// Moves the states of `parts` into one state for `whole`, whose values
    /// are theirs laid end to end, so that an elementwise update of `whole`
    /// is that of every part ([`ParamStates::split`] gives them back).
    /// Returns false, changing nothing, when the states cannot be joined:
    /// some parts have state and others none, or their step counts,
    /// buffers, dtypes or scalars differ.
    pub(crate) fn join(&mut self, parts: &[&Param], whole: &Param) -> bool {
        let states: Vec<Option<&ParamState>> = parts.iter().map(|p| self.get(p)).collect();
        let Some(first) = states.first().copied().flatten() else {
            return states.iter().all(Option::is_none);
        };
        let alike = states.iter().zip(parts).all(|(state, part)| {
            state.is_some_and(|s| {
                s.step == first.step
                    && s.scalars == first.scalars
                    && s.buffers.len() == first.buffers.len()
                    && s.buffers.iter().all(|b| b.dtype() == whole.dtype())
                    && part.dtype() == whole.dtype()
            })
        });
        if !alike {
            return false;
        }
        let buffers = (0..first.buffers.len())
            .map(|index| {
                Storage::concatenate(
                    whole.dtype(),
                    states.iter().flatten().map(|s| &s.buffers[index]),
                )
            })
            .collect();
        let joined = ParamState {
            step: first.step,
            buffers,
            scalars: first.scalars.clone(),
        };
        for part in parts {
            self.forget(part);
        }
        self.set(whole, joined);
        true
    }

    /// Writes the state of `whole` into `parts`, split as
    /// [`ParamStates::join`] joined them, keeping `whole`'s (nothing if
    /// `whole` has not been stepped).
    pub(crate) fn split(&mut self, whole: &Param, parts: &[&Param]) {
        // Taken out while the parts are written (not copied), then put back.
        let Some(joined) = self.by_id.remove(&whole.id()) else {
            return;
        };
        let mut start = 0;
        for param in parts {
            let range = start..start + param.numel();
            let state = ParamState {
                step: joined.step,
                buffers: joined
                    .buffers
                    .iter()
                    .map(|b| b.range(range.clone()))
                    .collect(),
                scalars: joined.scalars.clone(),
            };
            self.by_id.insert(param.id(), state);
            start = range.end;
        }
        self.by_id.insert(whole.id(), joined);
    }

    /// Forgets the state of a parameter.
    pub(crate) fn forget(&mut self, param: &Param) {
        self.by_id.remove(&param.id());
    }

    /// Applies `rule` to every parameter with a gradient. A parameter's
    /// step count is advanced once its update has run, so an update that
    /// panics (a setting changed after the first step) leaves it as it was.
    pub(crate) fn apply<R: UpdateRule>(
        &mut self,
        rule: &R,
        params: &mut [&mut Param],
        grads: &Gradients,
    ) {
        for param in params.iter_mut() {
            let Some(grad) = grads.get(param) else {
                continue;
            };
            assert!(
                grad.dtype() == param.dtype() && same_shape(grad.shape(), param.shape()),
                "optimizer: gradient {:?} {} does not fit parameter {:?} {}",
                grad.shape(),
                grad.dtype(),
                param.shape(),
                param.dtype()
            );
            let (numel, dtype, wanted) = (param.numel(), param.dtype(), rule.buffers());
            let new_buffer = |index| filled(numel, rule.initial_value(index), dtype);
            let mut new_buffers = 0;
            let state = self.by_id.entry(param.id()).or_insert_with(|| {
                new_buffers = wanted;
                ParamState {
                    step: 0,
                    buffers: (0..wanted).map(new_buffer).collect(),
                    scalars: Vec::new(),
                }
            });
            if rule.creates_buffers_lazily() {
                while state.buffers.len() < wanted {
                    state.buffers.push(new_buffer(state.buffers.len()));
                    new_buffers += 1;
                }
            }
            let step = state.step + 1;
            match dtype {
                DType::F32 => update_typed::<f32, R>(rule, step, new_buffers, param, grad, state),
                DType::F64 => update_typed::<f64, R>(rule, step, new_buffers, param, grad, state),
            }
            state.step = step;
        }
    }

    /// [`ParamStates::apply`] for an optimizer that is its own update rule.
    /// The rule borrows the optimizer, so its states are taken out for the
    /// update, and put back even if the update panics.
    pub(crate) fn apply_own_rule<O: Optimizer + UpdateRule>(
        optimizer: &mut O,
        params: &mut [&mut Param],
        grads: &Gradients,
    ) {
        let mut states = std::mem::take(optimizer.states_mut());
        // Unwind safety: on a panic the states are put back as the
        // interrupted loop left them, which is what an optimizer holding a
        // separate rule (Adam) keeps too.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            states.apply(&*optimizer, params, grads);
        }));
        *optimizer.states_mut() = states;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

fn update_typed<T: Element, R: UpdateRule>(
    rule: &R,
    step: u64,
    new_buffers: usize,
    param: &mut Param,
    grad: &Tensor,
    state: &mut ParamState,
) {
    let grad = grad.as_slice::<T>();
    // Inline: the rules keep at most three buffers (Adam with AMSGrad), and
    // a list on the heap would be an allocation per parameter and step.
    // Pushed one by one: SmallVec's `collect` costs more than the pushes.
    let mut buffers: SmallVec<[&mut [T]; 3]> = SmallVec::new();
    for buffer in &mut state.buffers {
        buffers.push(T::slice_mut(buffer).expect("buffers have the parameter's dtype"));
    }
    let scalars = &mut state.scalars;
    param.update::<T>(|p| rule.update(step, p, grad, &mut buffers, new_buffers, scalars));
}

/// Whether two shapes are the same, compared in line (comparing the
/// slices calls `memcmp`, out of line, on every step).
fn same_shape(a: &[usize], b: &[usize]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// max |vᵢ| (0 for no values), NaN if any value is NaN, as PyTorch's
/// `v.abs().max()`; `f64::max` would drop the NaN. So a NaN gradient never
/// passes a "small enough" test, and a NaN norm propagates.
pub(crate) fn max_abs(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, |m: f64, x| {
        if m.is_nan() || x.is_nan() {
            f64::NAN
        } else {
            m.max(x.abs())
        }
    })
}

fn filled(len: usize, value: f64, dtype: DType) -> Storage {
    match dtype {
        DType::F32 => Storage::F32(vec![value as f32; len]),
        DType::F64 => Storage::F64(vec![value; len]),
    }
}

#[cfg(test)]
pub(crate) mod test_support {
    use crate::autograd::Gradients;
    use crate::nn::Param;
    use crate::tensor::Tensor;

    /// A parameter at `x` and the gradients of `Σ cᵢ·xᵢ` (so `grad = c`).
    pub(crate) fn linear(x: &[f64], c: &[f64]) -> (Param, Gradients) {
        let p = Param::new(Tensor::from_vec(x.to_vec(), &[x.len()]));
        let grads = (&*p * &Tensor::from_vec(c.to_vec(), &[c.len()]))
            .sum_all()
            .backward();
        (p, grads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::autograd::Gradients;

    fn param(values: &[f64]) -> Param {
        Param::new(Tensor::from_vec(values.to_vec(), &[values.len()]))
    }

    /// Adam steps `params` once with the gradient of Σ 2·xᵢ.
    fn step(adam: &mut Adam, params: &mut [&mut Param]) {
        let grads = Gradients::from_pairs(params.iter().map(|p| {
            let twos = Tensor::from_vec(vec![2.0; p.numel()], p.shape());
            (p.id(), twos)
        }));
        adam.step(params, &grads);
    }

    #[test]
    fn joined_states_are_the_parts_states_end_to_end_and_split_back() {
        let (mut a, mut b) = (param(&[1.0, 2.0]), param(&[3.0]));
        let mut adam = Adam::new(0.1);
        let whole = param(&[1.0, 2.0, 3.0]);
        assert!(
            adam.states_mut().join(&[&a, &b], &whole),
            "fresh parts join"
        );
        assert!(adam.states_mut().get(&whole).is_none());
        step(&mut adam, &mut [&mut a, &mut b]);
        let part_buffers =
            |adam: &Adam, p: &Param, i: usize| adam.states().get(p).unwrap().buffers[i].clone();
        let expected: Vec<Storage> = (0..2)
            .map(|i| {
                let parts = [part_buffers(&adam, &a, i), part_buffers(&adam, &b, i)];
                Storage::concatenate(DType::F64, &parts)
            })
            .collect();
        assert!(adam.states_mut().join(&[&a, &b], &whole));
        let joined = adam.states_mut().get(&whole).expect("joined").clone();
        assert_eq!(joined.step, 1);
        assert_eq!(joined.buffers, expected);
        assert!(adam.states().get(&a).is_none(), "the parts' states moved");
        // A state changed on the whole is what each part gets back.
        let mut changed = joined.clone();
        changed.step = 7;
        changed.buffers[0] = Storage::F64(vec![0.5, 0.25, 0.125]);
        adam.states_mut().set(&whole, changed);
        adam.states_mut().split(&whole, &[&a, &b]);
        assert_eq!(adam.states_mut().get(&a).unwrap().step, 7);
        assert_eq!(part_buffers(&adam, &a, 0), Storage::F64(vec![0.5, 0.25]));
        assert_eq!(part_buffers(&adam, &b, 0), Storage::F64(vec![0.125]));
        adam.states_mut().forget(&whole);
        assert!(adam.states_mut().get(&whole).is_none());
    }

    #[test]
    fn states_of_parts_stepped_differently_do_not_join() {
        let (mut a, b) = (param(&[1.0]), param(&[2.0]));
        let mut adam = Adam::new(0.1);
        step(&mut adam, &mut [&mut a]);
        let whole = param(&[1.0, 2.0]);
        assert!(
            !adam.states_mut().join(&[&a, &b], &whole),
            "one part has no state"
        );
        assert!(adam.states_mut().get(&whole).is_none());
    }
}
