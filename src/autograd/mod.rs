//! The reverse-mode engine: ops record themselves on the output tensor,
//! and [`Tensor::backward`] walks the recorded graph from a scalar back to
//! every leaf that requires a gradient.
//!
//! ```
//! use nabla::Tensor;
//! let x = Tensor::from_vec(vec![3.0f64], &[1]).with_requires_grad(true);
//! let y = (&x * &x).sum_all(); // y = x², dy/dx = 2x
//! let grads = y.backward();
//! assert_eq!(grads[&x].to_vec::<f64>(), vec![6.0]);
//! ```
//!
//! How it works, in one sitting:
//! - An op computes its output, then calls `record` with its inputs and a
//!   *rule* mapping the output's gradient to its inputs' gradients. Nothing
//!   is recorded when no input requires a gradient or inside [`no_grad`].
//! - Rules return gradients; only the engine adds them up, so a tensor used
//!   twice gets the sum. Rules run with recording off (first-order only) and
//!   capture the output's data, never the output node, so graphs hold no
//!   reference cycles.
//! - `backward` orders the graph with an explicit stack (a 100,000-op chain
//!   does not overflow the call stack), visits only recorded nodes (each
//!   lies on a path to a parameter), and drops each interior gradient as
//!   soon as its rule has used it.

mod gradcheck;
mod graph;

use std::cell::Cell;
use std::ops::Index;
use std::sync::Arc;

use smallvec::SmallVec;

pub(crate) use gradcheck::compare_with_differences;
pub use gradcheck::{GradcheckOptions, GradcheckReport, InputErrors, Worst, gradcheck};
pub use graph::{Edge, Graph, GraphNode, NodeKind, Values};

use crate::tensor::{IdMap, Storage, Tensor, TensorId, zip_storage};

/// One gradient (or `None`) per input of an op; inline for up to two inputs.
pub(crate) type InputGrads = SmallVec<[Option<Tensor>; 2]>;

/// Builds an [`InputGrads`], like `vec!`.
macro_rules! grads {
    ($($grad:expr),* $(,)?) => {
        smallvec::smallvec![$($grad),*]
    };
}
pub(crate) use grads;

/// A backward rule: given the output's gradient and which inputs need a
/// gradient, returns one gradient (or `None`) per input.
pub(crate) type Rule = Box<dyn Fn(&Tensor, &[bool]) -> InputGrads + Send + Sync>;

/// How a tensor was computed: the op's name, its inputs and its rule.
pub(crate) struct Node {
    pub(crate) op: &'static str,
    inputs: SmallVec<[Tensor; 2]>,
    rule: Rule,
}

impl Node {
    pub(crate) fn inputs(&self) -> &[Tensor] {
        &self.inputs
    }

    pub(crate) fn into_inputs(self) -> SmallVec<[Tensor; 2]> {
        self.inputs
    }
}

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Whether ops on this thread currently record themselves.
pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(Cell::get)
}

/// Restores the previous recording mode when dropped; see [`no_grad_guard`].
#[must_use = "recording resumes as soon as the guard is dropped"]
pub struct NoGradGuard {
    previous: bool,
    /// The mode is per thread, so the guard must be dropped where it was
    /// made: this marker keeps it from being sent to another thread.
    _same_thread: std::marker::PhantomData<*const ()>,
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        GRAD_ENABLED.with(|enabled| enabled.set(self.previous));
    }
}

/// Turns recording off on this thread until the returned guard is dropped.
pub fn no_grad_guard() -> NoGradGuard {
    let previous = GRAD_ENABLED.with(|enabled| enabled.replace(false));
    NoGradGuard {
        previous,
        _same_thread: std::marker::PhantomData,
    }
}

/// Runs `f` with recording off: for inference and optimizer updates.
///
/// ```
/// use nabla::{Tensor, no_grad};
/// let w = Tensor::from_vec(vec![1.0f32], &[1]).with_requires_grad(true);
/// let y = no_grad(|| &w * 2.0);
/// assert!(!y.requires_grad());
/// ```
pub fn no_grad<R>(f: impl FnOnce() -> R) -> R {
    let _guard = no_grad_guard();
    f()
}

/// The output of an op being recorded, for rules that reuse it (`exp`'s
/// derivative is its output): [`OpOutput::detached`] gives it as a tensor
/// outside the graph, so the rule holds no reference to its own node.
pub(crate) struct OpOutput<'a> {
    data: &'a Arc<Storage>,
    shape: &'a [usize],
}

impl OpOutput<'_> {
    /// The output's elements as a new leaf (sharing them, not copying).
    pub(crate) fn detached(&self) -> Tensor {
        Tensor::leaf(self.data.clone(), self.shape)
    }

    /// The output's elements alone, shared: the cheapest thing a rule can keep.
    pub(crate) fn data(&self) -> Arc<Storage> {
        self.data.clone()
    }
}

/// Builds an op's output and, when recording and an input requires a
/// gradient, attaches the node. `make_rule` is called only when the node is
/// recorded.
pub(crate) fn record<R>(
    op: &'static str,
    data: impl Into<Arc<Storage>>,
    shape: &[usize],
    inputs: &[&Tensor],
    make_rule: impl FnOnce(OpOutput<'_>) -> R,
) -> Tensor
where
    R: Fn(&Tensor, &[bool]) -> InputGrads + Send + Sync + 'static,
{
    let data = data.into();
    debug_assert_eq!(
        data.len(),
        crate::tensor::shape::numel(shape),
        "{op}: kernel output size"
    );
    if !(is_grad_enabled() && inputs.iter().any(|t| t.requires_grad())) {
        return Tensor::leaf(data, shape);
    }
    let rule: Rule = Box::new(make_rule(OpOutput { data: &data, shape }));
    let node = Node {
        op,
        inputs: inputs.iter().map(|&t| t.clone()).collect(),
        rule,
    };
    Tensor::recorded(data, shape, node)
}

/// The gradients of one backward pass, by tensor.
///
/// Index it with a tensor (`grads[&w]`) or use [`Gradients::get`].
pub struct Gradients {
    store: GradientStore,
}

/// Up to this many gradients computed outside the tape are kept in a list
/// searched in order, which beats hashing.
const FEW_GRADIENTS: usize = 8;

/// Up to this many of those are held inline, allocating nothing (a fused
/// step on joined parameters has one gradient). More would make every
/// `Gradients` larger, and each move of one a call to `memcpy`: on a tiny
/// network's step, several percent.
type FewGradients = SmallVec<[(TensorId, Tensor); 4]>;

/// Where [`Gradients`] keeps its tensors.
enum GradientStore {
    /// A few, by the id of their tensor, searched in order.
    Few(FewGradients),
    /// Any number (a backward pass), hashed by tensor id.
    Many(IdMap<Tensor>),
}

impl Default for Gradients {
    fn default() -> Self {
        Gradients {
            store: GradientStore::Few(SmallVec::new()),
        }
    }
}

impl Gradients {
    /// The gradient of `tensor`, if it is a leaf that requires a gradient
    /// and lies on a path from the output (or, after
    /// [`Tensor::backward_retaining`], any recorded tensor on such a path).
    pub fn get(&self, tensor: &Tensor) -> Option<&Tensor> {
        let id = tensor.id();
        match &self.store {
            GradientStore::Few(few) => few.iter().find(|(i, _)| *i == id).map(|(_, g)| g),
            GradientStore::Many(many) => many.get(&id),
        }
    }

    /// The gradient of `tensor`, mutably (for clipping in place).
    pub fn get_mut(&mut self, tensor: &Tensor) -> Option<&mut Tensor> {
        let id = tensor.id();
        match &mut self.store {
            GradientStore::Few(few) => few.iter_mut().find(|(i, _)| *i == id).map(|(_, g)| g),
            GradientStore::Many(many) => many.get_mut(&id),
        }
    }

    /// Removes and returns the gradient of `tensor`.
    pub fn remove(&mut self, tensor: &Tensor) -> Option<Tensor> {
        let id = tensor.id();
        match &mut self.store {
            GradientStore::Few(few) => {
                let index = few.iter().position(|(i, _)| *i == id)?;
                Some(few.remove(index).1)
            }
            GradientStore::Many(many) => many.remove(&id),
        }
    }

    /// Number of gradients held.
    pub fn len(&self) -> usize {
        match &self.store {
            GradientStore::Few(few) => few.len(),
            GradientStore::Many(many) => many.len(),
        }
    }

    /// Whether no gradient is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Gradients computed outside the tape, by the id of their tensor
    /// (each id once).
    pub(crate) fn from_pairs(pairs: impl IntoIterator<Item = (TensorId, Tensor)>) -> Gradients {
        let few: FewGradients = pairs.into_iter().collect();
        let store = if few.len() <= FEW_GRADIENTS {
            GradientStore::Few(few)
        } else {
            GradientStore::Many(few.into_iter().collect())
        };
        Gradients { store }
    }

    /// Every (tensor id, gradient) pair, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (TensorId, &Tensor)> {
        let (few, many) = match &self.store {
            GradientStore::Few(few) => (Some(few.iter()), None),
            GradientStore::Many(many) => (None, Some(many.iter())),
        };
        let few = few.into_iter().flatten().map(|(id, g)| (*id, g));
        few.chain(many.into_iter().flatten().map(|(&id, g)| (id, g)))
    }
}

impl Index<&Tensor> for Gradients {
    type Output = Tensor;

    /// Panics, naming the tensor, if it has no gradient.
    fn index(&self, tensor: &Tensor) -> &Tensor {
        self.get(tensor)
            .unwrap_or_else(|| panic!("no gradient for {tensor:?}: does it require a gradient, and does the output depend on it?"))
    }
}

impl Tensor {
    /// Backpropagates from this one-element tensor and returns the gradient
    /// of every leaf that requires one (parameters), each the sum over all
    /// paths.
    ///
    /// Panics if the tensor has more than one element.
    pub fn backward(&self) -> Gradients {
        assert_eq!(
            self.numel(),
            1,
            "backward: the output has shape {:?}; reduce it to one element first (e.g. sum_all or mean_all)",
            self.shape()
        );
        self.backward_with(self.ones_like())
    }

    /// As [`Tensor::backward`], but keeps the gradient of every recorded
    /// tensor on the way too, not only the leaves' (PyTorch's `retain_grad`
    /// on all of them): for looking at one pass, as [`Graph`] does. It holds
    /// one gradient per node, so training uses `backward`.
    pub fn backward_retaining(&self) -> Gradients {
        assert_eq!(
            self.numel(),
            1,
            "backward_retaining: the output has shape {:?}; reduce it to one element first",
            self.shape()
        );
        self.backpropagate(self.ones_like(), true)
    }

    /// Backpropagates `grad` (the gradient of some scalar with respect to
    /// this tensor, of this tensor's shape): a vector–Jacobian product.
    pub fn backward_with(&self, grad: Tensor) -> Gradients {
        assert_eq!(
            grad.shape(),
            self.shape(),
            "backward_with: gradient shape {:?} differs from output shape {:?}",
            grad.shape(),
            self.shape()
        );
        self.backpropagate(grad, false)
    }

    /// The backward pass; `retain` keeps interior gradients instead of
    /// dropping each once its rule has used it.
    fn backpropagate(&self, grad: Tensor, retain: bool) -> Gradients {
        let _guard = no_grad_guard();
        if !self.requires_grad() {
            return Gradients::default();
        }
        let order = topological_order(self);
        let mut grads: IdMap<Tensor> =
            IdMap::with_capacity_and_hasher(2 * order.len(), Default::default());
        grads.insert(self.id(), grad);
        for tensor in order.into_iter().rev() {
            let node = tensor
                .0
                .node
                .as_ref()
                .expect("the order holds recorded nodes only");
            // An interior gradient is used once, here, then dropped (unless kept).
            let grad = if retain {
                grads.get(&tensor.id()).cloned()
            } else {
                grads.remove(&tensor.id())
            };
            let Some(grad) = grad else {
                continue;
            };
            let needs: SmallVec<[bool; 4]> =
                node.inputs.iter().map(Tensor::requires_grad).collect();
            let input_grads = (node.rule)(&grad, &needs);
            debug_assert_eq!(
                input_grads.len(),
                node.inputs.len(),
                "{}: rule arity",
                node.op
            );
            for ((input, need), input_grad) in node.inputs.iter().zip(&needs).zip(input_grads) {
                let Some(input_grad) = input_grad.filter(|_| *need) else {
                    continue;
                };
                assert_eq!(
                    input_grad.shape(),
                    input.shape(),
                    "{}: backward rule returned a gradient of shape {:?} for an input of shape {:?}",
                    node.op,
                    input_grad.shape(),
                    input.shape()
                );
                match grads.remove(&input.id()) {
                    None => grads.insert(input.id(), input_grad),
                    Some(sum) => grads.insert(input.id(), accumulate(sum, &input_grad)),
                };
            }
        }
        Gradients {
            store: GradientStore::Many(grads),
        }
    }
}

/// `sum + addend`, in place when `sum` is not shared.
fn accumulate(mut sum: Tensor, addend: &Tensor) -> Tensor {
    if let Some(inner) = Arc::get_mut(&mut sum.0)
        && let Some(data) = Arc::get_mut(&mut inner.data)
    {
        match (data, addend.storage()) {
            (Storage::F32(s), Storage::F32(a)) => s.iter_mut().zip(a).for_each(|(s, a)| *s += a),
            (Storage::F64(s), Storage::F64(a)) => s.iter_mut().zip(a).for_each(|(s, a)| *s += a),
            (s, a) => panic!(
                "backward: gradients of dtypes {} and {} meet",
                s.dtype(),
                a.dtype()
            ),
        }
        return sum;
    }
    let data = zip_storage!("backward", sum.storage(), addend.storage(), (s, a) => {
        s.iter().zip(a).map(|(&s, &a)| s + a).collect()
    });
    Tensor::from_storage(data, sum.shape())
}

/// The recorded nodes reachable from `root`, each after all of its inputs.
fn topological_order(root: &Tensor) -> Vec<Tensor> {
    let mut order = Vec::new();
    let mut visited = IdMap::with_capacity_and_hasher(64, Default::default());
    // (tensor, index of the next input to visit)
    let mut stack: Vec<(Tensor, usize)> = Vec::new();
    if root.0.node.is_some() {
        visited.insert(root.id(), ());
        stack.push((root.clone(), 0));
    }
    while let Some((tensor, next)) = stack.last_mut() {
        let inputs = tensor.inputs();
        if let Some(input) = inputs.get(*next) {
            *next += 1;
            if input.0.node.is_some() && visited.insert(input.id(), ()).is_none() {
                let input = input.clone();
                stack.push((input, 0));
            }
        } else {
            let (tensor, _) = stack
                .pop()
                .expect("the loop checked the stack is not empty");
            order.push(tensor);
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    fn param(values: &[f64]) -> Tensor {
        Tensor::from_slice(values, &[values.len()]).with_requires_grad(true)
    }

    #[test]
    fn a_tensor_used_twice_gets_the_sum() {
        let x = param(&[2.0]);
        let y = (&x * &x + &x).sum_all(); // dy/dx = 2x + 1
        assert_eq!(y.backward()[&x].to_vec::<f64>(), vec![5.0]);
    }

    #[test]
    fn nothing_is_recorded_without_a_parameter_or_under_no_grad() {
        let x = Tensor::ones(&[2], DType::F64);
        assert!((&x * 2.0).is_leaf());
        let w = param(&[1.0, 2.0]);
        assert!(no_grad(|| (&w * 2.0).is_leaf()));
        assert!(!(&w * 2.0).is_leaf());
        assert!(is_grad_enabled());
    }

    #[test]
    fn retaining_keeps_interior_gradients_and_changes_no_leaf_gradient() {
        let x = param(&[2.0]);
        let hidden = &x * &x;
        let y = (&hidden + &hidden).sum_all(); // y = 2x², dy/dhidden = 2, dy/dx = 4x
        let kept = y.backward_retaining();
        assert_eq!(kept[&hidden].to_vec::<f64>(), vec![2.0]);
        assert_eq!(kept[&y].to_vec::<f64>(), vec![1.0]);
        assert_eq!(kept[&x].to_vec::<f64>(), y.backward()[&x].to_vec::<f64>());
        assert_eq!(kept[&x].to_vec::<f64>(), vec![8.0]);
    }

    #[test]
    fn detached_tensors_stop_the_gradient() {
        let x = param(&[3.0]);
        let y = (&x * &x.detach()).sum_all(); // d/dx of x·c = c
        assert_eq!(y.backward()[&x].to_vec::<f64>(), vec![3.0]);
    }

    #[test]
    fn only_leaves_that_require_grad_get_gradients() {
        let w = param(&[1.0]);
        let c = Tensor::from_slice(&[4.0], &[1]);
        let hidden = &w * &c;
        let grads = (&hidden * &hidden).sum_all().backward();
        assert_eq!(grads.len(), 1);
        assert!(grads.get(&c).is_none());
        assert!(grads.get(&hidden).is_none(), "interior gradients are freed");
        assert_eq!(grads[&w].to_vec::<f64>(), vec![32.0]);
    }

    #[test]
    fn a_long_chain_neither_overflows_the_stack_nor_leaks() {
        let x = param(&[1.0]);
        let mut y = x.clone();
        for _ in 0..100_000 {
            y = &y * 1.0;
        }
        let grads = y.sum_all().backward();
        assert_eq!(grads[&x].to_vec::<f64>(), vec![1.0]);
        drop(y);
        assert_eq!(Arc::strong_count(&x.0), 1, "the graph released x");
    }

    #[test]
    fn updating_a_parameter_keeps_its_id() {
        let mut w = param(&[1.0, 2.0]);
        let id = w.id();
        let loss = (&w * &w).sum_all();
        let grad = loss.backward()[&w].clone();
        w.update_data::<f64>(|data| {
            for (x, g) in data.iter_mut().zip(grad.as_slice::<f64>()) {
                *x -= 0.5 * g;
            }
        });
        assert_eq!(w.id(), id);
        assert_eq!(w.to_vec::<f64>(), vec![0.0, 0.0]);
        assert!(w.requires_grad());
    }
}
