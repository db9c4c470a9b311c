//! The passes of a narrow `f32` network compiled to machine code for its
//! shapes, with Cranelift: what the lane kernels compute, without their
//! loops over the widths, which are set up anew on every pass and layer.
//!
//! The rows go four at a time, one vector per unit holding that unit's
//! values for the four rows. Every layer's products, bias, activation and
//! derivative are written out unit by unit and input by input, so nothing
//! is left to decide at run time but the number of blocks of rows. The
//! arithmetic is the general kernels', operation for operation and in the
//! same order (each product summed from zero in the order of its terms,
//! each gradient summed in the order of the rows, the sigmoid's
//! exponential step for step as the library's inline one), so the results
//! are the same bits; the tests hold them to it. The rows that fill the
//! last block read as the last row, and are masked out of every sum and
//! count.
//!
//! The passes also do the step's small work around them: the forward pass
//! counts each activation's diagnostic (saturated outputs, dead units);
//! the backward pass leaves each layer's weight gradient norm and, for
//! the mean squared error, starts from the targets, computing the loss
//! and its gradient itself, again as the library's own functions do.
//!
//! Each distinct network (widths, activations, where its parameters sit)
//! is compiled once per process, in a few milliseconds, and its code kept
//! for the rest of the process.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Mutex, OnceLock};

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::{AbiParam, FuncRef, InstBuilder, MemFlagsData, Type, Value, types};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module};

use super::diagnostics::{
    DiagnosticKind, LayerDiagnostic, LayerDiagnostics, SQUARE_LANES, saturation_threshold,
};
use super::fused::StagePlan;
use super::kernels::Pointwise;
use super::lanes::narrow;
use crate::tensor::exp;

/// Rows in one vector.
const BLOCK: usize = 4;
/// The most layers compiled: the code grows with the layers, and its
/// compilation with the code (deeper networks take the lane kernels).
const DEEPEST: usize = 16;
/// Bytes of one vector of [`BLOCK`] `f32`.
const VECTOR: i32 = 16;
/// The vector type.
const F4: Type = types::F32X4;
/// The vector type of comparisons and counts.
const I4: Type = types::I32X4;

/// A constant of the compiled sigmoid, read from memory where it is used.
/// As values, the constants would be shared by every unit's sigmoid, hold
/// registers through the whole pass and go to the stack and back; each
/// sigmoid reads its own copy of them instead (loads of one address would
/// be merged into one), each loaded next to the instruction that uses it.
#[derive(Clone, Copy, PartialEq)]
enum Constant {
    Lowest,
    Highest,
    Log2E,
    Rounder,
    Ln2High,
    Ln2Low,
    One,
    /// The exponent bias of `f32`, 127, as an integer.
    ExponentBias,
    /// The exponential's polynomial's coefficient of this index.
    Coefficient(usize),
}

impl Constant {
    /// Every constant, in the order of a copy's vectors.
    const ALL: [Constant; 8 + exp::COEFFICIENTS.len()] = [
        Constant::Lowest,
        Constant::Highest,
        Constant::Log2E,
        Constant::Rounder,
        Constant::Ln2High,
        Constant::Ln2Low,
        Constant::One,
        Constant::ExponentBias,
        Constant::Coefficient(0),
        Constant::Coefficient(1),
        Constant::Coefficient(2),
        Constant::Coefficient(3),
        Constant::Coefficient(4),
        Constant::Coefficient(5),
    ];

    /// Its vector's index in a copy.
    fn slot(self) -> usize {
        Constant::ALL
            .iter()
            .position(|&c| c == self)
            .expect("every constant is in the list")
    }

    /// Its bits.
    fn bits(self) -> u32 {
        match self {
            Constant::Lowest => exp::LOWEST.to_bits(),
            Constant::Highest => exp::HIGHEST.to_bits(),
            Constant::Log2E => std::f32::consts::LOG2_E.to_bits(),
            Constant::Rounder => exp::ROUNDER.to_bits(),
            Constant::Ln2High => exp::LN2_HIGH.to_bits(),
            Constant::Ln2Low => exp::LN2_LOW.to_bits(),
            Constant::One => 1.0f32.to_bits(),
            Constant::ExponentBias => 127,
            Constant::Coefficient(i) => exp::COEFFICIENTS[i].to_bits(),
        }
    }
}

/// One vector of four lanes, aligned for vector loads.
#[derive(Clone, Copy)]
#[repr(C, align(16))]
struct Lanes([u32; BLOCK]);

/// `copies` copies of every [`Constant`], each in every lane, kept for the
/// rest of the process (as the code that reads them).
fn constant_copies(copies: usize) -> &'static [Lanes] {
    let one: Vec<Lanes> = Constant::ALL
        .iter()
        .map(|c| Lanes([c.bits(); BLOCK]))
        .collect();
    let all: Vec<Lanes> = std::iter::repeat_n(one, copies).flatten().collect();
    Box::leak(all.into_boxed_slice())
}

/// `x, values, weights, out, counts, blocks, rows`: see
/// [`CompiledNet::forward`].
type ForwardFn =
    unsafe extern "C" fn(*const f32, *mut f32, *const f32, *mut f32, *mut u64, i64, i64);
/// `x, values, start, weights, grads, norms, loss, blocks, rows`: see
/// [`CompiledNet::backward`].
type BackwardFn = unsafe extern "C" fn(
    *const f32,
    *const f32,
    *const f32,
    *const f32,
    *mut f32,
    *mut f64,
    *mut f64,
    i64,
    i64,
);

/// Where the compiled backward pass starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Start {
    /// From the loss's gradient with respect to the outputs, given.
    Delta,
    /// From the targets: the pass computes the mean squared error of the
    /// outputs and its gradient itself, as
    /// [`squared_error`](super::kernels::squared_error) does.
    SquaredError,
}

/// The two compiled passes of one network.
#[derive(Clone, Copy)]
struct Code {
    forward: ForwardFn,
    backward: BackwardFn,
}

/// A narrow network's compiled passes and their buffers, kept from one
/// step to the next.
pub(super) struct CompiledNet {
    layers: Vec<StagePlan>,
    start: Start,
    code: Code,
    /// Every layer's outputs, block by block: `units` vectors a block
    /// (each unit's values for the block's rows), the layers one after
    /// another.
    values: Vec<f32>,
    units: usize,
    /// Per layer, what the last forward pass counted for its diagnostic:
    /// the outputs beyond the saturation threshold (sigmoid and tanh), or
    /// the units that gave 0 on every row (ReLU).
    counts: Vec<u64>,
    /// The weights in the joined layout, when they come from the model's
    /// layers rather than from joined parameters.
    joined: Vec<f32>,
    /// Each layer's weight gradient 2-norm from the last backward pass.
    norms: Vec<f64>,
    /// The rows of the last forward pass.
    rows: usize,
    /// How many parameters the joined layout the layers read from holds
    /// (at least).
    parameters: usize,
}

impl std::fmt::Debug for CompiledNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledNet")
            .field("layers", &self.layers)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

impl CompiledNet {
    /// The compiled form of `layers`, with the backward pass starting as
    /// `start` says, if they are [`narrow`], at most [`DEEPEST`], and this
    /// machine has a code generator.
    pub(super) fn new(layers: &[StagePlan], start: Start) -> Option<CompiledNet> {
        if !narrow(layers) || layers.len() > DEEPEST {
            return None;
        }
        let code = code_for(layers, start)?;
        let parameters = layers
            .iter()
            .flat_map(|l| [Some(l.weight_range()), l.bias_range()])
            .flatten()
            .map(|r| r.end)
            .max()
            .unwrap_or(0);
        Some(CompiledNet {
            layers: layers.to_vec(),
            start,
            code,
            values: Vec::new(),
            units: outputs_at(layers)[layers.len()],
            counts: vec![0; layers.len()],
            joined: Vec::new(),
            norms: vec![0.0; layers.len()],
            rows: 0,
            parameters,
        })
    }

    /// A buffer for the weights in the joined layout, to be filled from
    /// the model's layers and passed to [`CompiledNet::forward`] and
    /// [`CompiledNet::backward`] (taken out, to be put back after).
    pub(super) fn take_joined(&mut self, len: usize) -> Vec<f32> {
        let mut joined = std::mem::take(&mut self.joined);
        joined.resize(len, 0.0);
        joined
    }

    /// Puts back the buffer [`CompiledNet::take_joined`] lent, if these
    /// weights are it.
    pub(super) fn put_joined(&mut self, joined: Cow<'_, [f32]>) {
        if let Cow::Owned(joined) = joined {
            self.joined = joined;
        }
    }

    /// The forward pass on the `rows` rows of `x` (row-major) with the
    /// weights `joined` (every parameter, in the joined layout): the last
    /// layer's outputs written row-major into `out`, each activation's
    /// diagnostic appended to `diagnostics` when asked, as the general
    /// forward pass measures it. The values are kept for
    /// [`CompiledNet::backward`].
    pub(super) fn forward(
        &mut self,
        joined: &[f32],
        x: &[f32],
        rows: usize,
        out: &mut [f32],
        diagnostics: Option<&mut LayerDiagnostics>,
    ) {
        let (first, last) = (&self.layers[0], &self.layers[self.layers.len() - 1]);
        assert_eq!(
            x.len(),
            rows * first.inputs,
            "compiled: inputs of the wrong size"
        );
        assert_eq!(
            out.len(),
            rows * last.outputs,
            "compiled: outputs of the wrong size"
        );
        self.check_joined(joined);
        self.rows = rows;
        let blocks = rows.div_ceil(BLOCK);
        self.values.resize(blocks * self.units * BLOCK, 0.0);
        // SAFETY: the code reads the `rows` rows of `x` and writes those of
        // `out` (their lengths checked above), reads and writes `blocks`
        // blocks of `units` vectors in `values` (its length, set above),
        // reads the weights at the joined offsets its layers were compiled
        // with (within `joined`, checked above) and writes `counts`, one
        // value per layer.
        unsafe {
            (self.code.forward)(
                x.as_ptr(),
                self.values.as_mut_ptr(),
                joined.as_ptr(),
                out.as_mut_ptr(),
                self.counts.as_mut_ptr(),
                blocks as i64,
                rows as i64,
            );
        }
        if let Some(found) = diagnostics.filter(|_| rows > 0) {
            self.measure(rows, found);
        }
    }

    /// The activation diagnostics of the last forward pass, from the
    /// counts its code left.
    fn measure(&self, rows: usize, found: &mut LayerDiagnostics) {
        for (layer, &count) in self.layers.iter().zip(&self.counts) {
            let count = count as f64;
            let measured = match layer.act {
                Pointwise::Sigmoid | Pointwise::Tanh => {
                    let share = count / (rows * layer.outputs) as f64;
                    Some((DiagnosticKind::Saturated, share))
                }
                Pointwise::ReLU => Some((DiagnosticKind::DeadRelu, count / layer.outputs as f64)),
                Pointwise::Identity => None,
            };
            if let (Some(layer), Some((kind, value))) = (layer.act_layer, measured) {
                found.push(LayerDiagnostic { layer, kind, value });
            }
        }
    }

    /// How the backward pass starts.
    pub(super) fn start(&self) -> Start {
        self.start
    }

    /// The backward pass from `start`, for the outputs of the last forward
    /// pass (on the rows `x`, with the weights `joined`; all row-major):
    /// every layer's gradients written into `grads` (the joined layout),
    /// and the 2-norm of each layer's weight gradient kept for
    /// [`CompiledNet::weight_grad_norms`]. `start` is the loss's gradient
    /// with respect to the outputs ([`Start::Delta`]), or the targets
    /// ([`Start::SquaredError`]), and then the mean squared error is
    /// returned (`NaN` otherwise).
    pub(super) fn backward(
        &mut self,
        joined: &[f32],
        x: &[f32],
        start: &[f32],
        grads: &mut [f32],
    ) -> f64 {
        let rows = self.rows;
        let (first, last) = (&self.layers[0], &self.layers[self.layers.len() - 1]);
        assert_eq!(
            x.len(),
            rows * first.inputs,
            "compiled: other inputs than the forward pass's"
        );
        assert_eq!(
            start.len(),
            rows * last.outputs,
            "compiled: a start for other rows than the last forward pass's"
        );
        self.check_joined(joined);
        assert!(
            grads.len() >= self.parameters,
            "compiled: gradients in the joined layout"
        );
        let mut total = f64::NAN;
        // SAFETY: as in `forward`; `values` holds the blocks of the last
        // forward pass on `rows` rows, `start` its rows (checked above),
        // `grads` the joined layout, `norms` one value per layer, and
        // `total` one value.
        unsafe {
            (self.code.backward)(
                x.as_ptr(),
                self.values.as_ptr(),
                start.as_ptr(),
                joined.as_ptr(),
                grads.as_mut_ptr(),
                self.norms.as_mut_ptr(),
                &mut total,
                rows.div_ceil(BLOCK) as i64,
                rows as i64,
            );
        }
        // The sum of the squared errors, as `squared_error` divides it.
        total / start.len() as f64
    }

    /// Each layer's weight gradient 2-norm from the last backward pass,
    /// as [`sum_of_squares`](super::diagnostics::sum_of_squares) and a
    /// square root make it from the gradients.
    pub(super) fn weight_grad_norms(&self) -> &[f64] {
        &self.norms
    }

    /// Panics unless `joined` holds every parameter the layers read.
    fn check_joined(&self, joined: &[f32]) {
        assert!(
            joined.len() >= self.parameters,
            "compiled: the joined parameters are too short"
        );
    }
}

/// The compiled code of `layers` with the backward pass starting at
/// `start`, compiled on first use.
fn code_for(layers: &[StagePlan], start: Start) -> Option<Code> {
    type Key = (Vec<(usize, usize, Pointwise, usize, Option<usize>)>, Start);
    static COMPILED: OnceLock<Mutex<HashMap<Key, Code>>> = OnceLock::new();
    let shapes = layers
        .iter()
        .map(|l| (l.inputs, l.outputs, l.act, l.weight_at, l.bias_at))
        .collect();
    let key: Key = (shapes, start);
    let compiled = COMPILED.get_or_init(Default::default);
    let mut compiled = compiled.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(code) = compiled.get(&key) {
        return Some(*code);
    }
    let code = compile(layers, start)?;
    compiled.insert(key, code);
    Some(code)
}

/// `tanh x`, called by the compiled code (the library's, as the general
/// kernels call it).
extern "C" fn tanh_f32(x: f32) -> f32 {
    x.tanh()
}

/// Compiles both passes of `layers`, the backward one starting at
/// `start`; `None` where this machine has no code generator.
fn compile(layers: &[StagePlan], start: Start) -> Option<Code> {
    let mut flags = settings::builder();
    flags.set("opt_level", "speed").ok()?;
    let isa = cranelift_native::builder()
        .ok()?
        .finish(settings::Flags::new(flags))
        .ok()?;
    let mut builder = JITBuilder::with_isa(isa, cranelift_module::default_libcall_names());
    builder.symbol("nabla_tanh_f32", tanh_f32 as *const u8);
    let mut module = JITModule::new(builder);
    let pointer = module.target_config().pointer_type();
    let mut tanh = module.make_signature();
    tanh.params.push(AbiParam::new(types::F32));
    tanh.returns.push(AbiParam::new(types::F32));
    let tanh = module
        .declare_function("nabla_tanh_f32", Linkage::Import, &tanh)
        .ok()?;
    let (p, n) = (pointer, types::I64);
    let sigmoids = layers
        .iter()
        .filter(|l| l.act == Pointwise::Sigmoid)
        .map(|l| l.outputs)
        .sum();
    let constants = constant_copies(sigmoids);
    let forward = define(&mut module, "forward", &[p, p, p, p, p, n, n], tanh, |g| {
        g.constants = constants;
        g.forward(layers)
    })?;
    let backward = define(
        &mut module,
        "backward",
        &[p, p, p, p, p, p, p, n, n],
        tanh,
        |g| g.backward(layers, start),
    )?;
    module.finalize_definitions().ok()?;
    let forward = module.get_finalized_function(forward);
    let backward = module.get_finalized_function(backward);
    // The code lives as long as the module's memory: for the rest of the
    // process, as the cache that hands it out.
    std::mem::forget(module);
    // SAFETY: the functions were compiled with these signatures: five
    // pointers (seven for the backward pass), then `blocks` and `rows` as
    // i64.
    unsafe {
        Some(Code {
            forward: std::mem::transmute::<*const u8, ForwardFn>(forward),
            backward: std::mem::transmute::<*const u8, BackwardFn>(backward),
        })
    }
}

/// Declares and compiles one function with parameters of types `params`,
/// its body written by `body`.
fn define(
    module: &mut JITModule,
    name: &str,
    params: &[Type],
    tanh: FuncId,
    body: impl FnOnce(&mut Gen),
) -> Option<FuncId> {
    let pointer = module.target_config().pointer_type();
    let mut ctx = module.make_context();
    let signature = &mut ctx.func.signature;
    signature
        .params
        .extend(params.iter().map(|&t| AbiParam::new(t)));
    let id = module
        .declare_function(name, Linkage::Local, &ctx.func.signature)
        .ok()?;
    let tanh = module.declare_func_in_func(tanh, &mut ctx.func);
    let mut context = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut context);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    b.seal_block(entry);
    let params = b.block_params(entry).to_vec();
    let mut g = Gen {
        b,
        params,
        tanh,
        pointer,
        constants: &[],
        copy: 0,
    };
    body(&mut g);
    g.b.ins().return_(&[]);
    g.b.finalize(module.target_config());
    module.define_function(id, &mut ctx).ok()?;
    module.clear_context(&mut ctx);
    Some(id)
}

/// Writes one function's body.
struct Gen<'a> {
    b: FunctionBuilder<'a>,
    /// The function's parameters.
    params: Vec<Value>,
    tanh: FuncRef,
    pointer: Type,
    /// The copies of the constants, one per sigmoid unit of the network.
    constants: &'static [Lanes],
    /// The copy the next sigmoid reads.
    copy: usize,
}

/// One turn of the loop over blocks of rows.
struct Block {
    /// Where the current block starts in each buffer the loop walks.
    at: Vec<Value>,
    /// All ones in the lanes of real rows, zeros in the rest.
    rows: Value,
    /// The block's first row.
    first_row: Value,
}

impl Gen<'_> {
    /// `x` in every lane.
    fn splat(&mut self, x: f32) -> Value {
        let s = self.b.ins().f32const(x);
        self.b.ins().splat(F4, s)
    }

    /// The constant `c` of the current copy as a vector of type `ty`
    /// (`F4` or `I4`).
    fn constant(&mut self, c: Constant, ty: Type) -> Value {
        let at = (self.copy * Constant::ALL.len() + c.slot()) * size_of::<Lanes>();
        let at = i32::try_from(at).expect("a narrow network's constants");
        let table = self.constants.as_ptr() as i64;
        let table = self.b.ins().iconst(self.pointer, table);
        // Read-only and free to move: placed next to its use.
        let flags = MemFlagsData::trusted().with_readonly().with_can_move();
        self.b.ins().load(ty, flags, table, at)
    }

    /// The integer `x` in every lane.
    fn splat_int(&mut self, x: i32) -> Value {
        let s = self.b.ins().iconst(types::I32, i64::from(x));
        self.b.ins().splat(I4, s)
    }

    /// The scalar at `index` of the joined weights, in every lane.
    fn weight(&mut self, weights: Value, index: usize) -> Value {
        let offset = i32::try_from(index * 4).expect("a narrow network's weights");
        let s = self
            .b
            .ins()
            .load(types::F32, MemFlagsData::trusted(), weights, offset);
        self.b.ins().splat(F4, s)
    }

    /// The vector at `vector` vectors from `base`.
    fn load(&mut self, base: Value, vector: usize) -> Value {
        let offset = i32::try_from(vector).expect("a narrow network") * VECTOR;
        self.b.ins().load(F4, MemFlagsData::trusted(), base, offset)
    }

    /// Writes `value` at `vector` vectors from `base`.
    fn store(&mut self, base: Value, vector: usize, value: Value) {
        let offset = i32::try_from(vector).expect("a narrow network") * VECTOR;
        self.b
            .ins()
            .store(MemFlagsData::trusted(), value, base, offset);
    }

    /// `x` where `mask` is all ones, `+0` elsewhere.
    fn keep(&mut self, x: Value, mask: Value) -> Value {
        let mask = self.b.ins().bitcast(F4, MemFlagsData::new(), mask);
        self.b.ins().band(x, mask)
    }

    /// The library's inline `eˣ` for `f32` (`exp_f32`), step for step.
    fn exp(&mut self, x: Value) -> Value {
        // The clamp as two selections that keep a NaN, which the code
        // generators make one instruction each (`fmax` and `fmin` would
        // order signed zeros and pick NaNs too, in several).
        let lowest = self.constant(Constant::Lowest, F4);
        let highest = self.constant(Constant::Highest, F4);
        let below = self.b.ins().fcmp(FloatCC::LessThan, x, lowest);
        let below = self.b.ins().bitcast(F4, MemFlagsData::new(), below);
        let x = self.b.ins().bitselect(below, lowest, x);
        let above = self.b.ins().fcmp(FloatCC::LessThan, highest, x);
        let above = self.b.ins().bitcast(F4, MemFlagsData::new(), above);
        let x = self.b.ins().bitselect(above, highest, x);
        let log2e = self.constant(Constant::Log2E, F4);
        let rounder = self.constant(Constant::Rounder, F4);
        let scaled = self.b.ins().fmul(x, log2e);
        let rounded = self.b.ins().fadd(scaled, rounder);
        let n = self.b.ins().fsub(rounded, rounder);
        let high = self.constant(Constant::Ln2High, F4);
        let low = self.constant(Constant::Ln2Low, F4);
        let nh = self.b.ins().fmul(n, high);
        let r = self.b.ins().fsub(x, nh);
        let nl = self.b.ins().fmul(n, low);
        let r = self.b.ins().fsub(r, nl);
        let mut p = self.constant(Constant::Coefficient(0), F4);
        for i in 1..exp::COEFFICIENTS.len() {
            let pr = self.b.ins().fmul(p, r);
            let c = self.constant(Constant::Coefficient(i), F4);
            p = self.b.ins().fadd(pr, c);
        }
        let pr = self.b.ins().fmul(p, r);
        let prr = self.b.ins().fmul(pr, r);
        let s = self.b.ins().fadd(prr, r);
        let one = self.constant(Constant::One, F4);
        let er = self.b.ins().fadd(s, one);
        let bits = self.b.ins().bitcast(I4, MemFlagsData::new(), rounded);
        let rounder_bits = self.constant(Constant::Rounder, I4);
        let n = self.b.ins().isub(bits, rounder_bits);
        let half = self.b.ins().sshr_imm_s(n, 1);
        let rest = self.b.ins().isub(n, half);
        let (a, c) = (self.power_of_two(half), self.power_of_two(rest));
        let e = self.b.ins().fmul(er, a);
        self.b.ins().fmul(e, c)
    }

    /// `2ᵏ` from its exponent bits, as `exp_f32` makes it.
    fn power_of_two(&mut self, k: Value) -> Value {
        let bias = self.constant(Constant::ExponentBias, I4);
        let biased = self.b.ins().iadd(k, bias);
        let bits = self.b.ins().ishl_imm_s(biased, 23);
        self.b.ins().bitcast(F4, MemFlagsData::new(), bits)
    }

    /// The activation of `z`, as [`Pointwise::forward`] computes it.
    fn activate(&mut self, act: Pointwise, z: Value) -> Value {
        match act {
            Pointwise::Identity => z,
            Pointwise::ReLU => {
                let zero = self.splat(0.0);
                let positive = self.b.ins().fcmp(FloatCC::GreaterThan, z, zero);
                let nan = self.b.ins().fcmp(FloatCC::Unordered, z, z);
                let kept = self.b.ins().bor(positive, nan);
                self.keep(z, kept)
            }
            Pointwise::Sigmoid => {
                let minus = self.b.ins().fneg(z);
                let e = self.exp(minus);
                let one = self.constant(Constant::One, F4);
                let d = self.b.ins().fadd(one, e);
                let y = self.b.ins().fdiv(one, d);
                self.copy += 1;
                y
            }
            Pointwise::Tanh => {
                let mut y = z;
                for lane in 0..BLOCK as u8 {
                    let x = self.b.ins().extractlane(z, lane);
                    let call = self.b.ins().call(self.tanh, &[x]);
                    let t = self.b.inst_results(call)[0];
                    y = self.b.ins().insertlane(y, t, lane);
                }
                y
            }
        }
    }

    /// The gradient `g` through the activation whose output is `y`, as
    /// [`Pointwise::backward`] computes it.
    fn derivative(&mut self, act: Pointwise, g: Value, y: Value) -> Value {
        match act {
            Pointwise::Identity => g,
            Pointwise::ReLU => {
                let zero = self.splat(0.0);
                let positive = self.b.ins().fcmp(FloatCC::GreaterThan, y, zero);
                self.keep(g, positive)
            }
            Pointwise::Sigmoid => {
                let one = self.splat(1.0);
                let rest = self.b.ins().fsub(one, y);
                let slope = self.b.ins().fmul(y, rest);
                self.b.ins().fmul(g, slope)
            }
            Pointwise::Tanh => {
                let one = self.splat(1.0);
                let square = self.b.ins().fmul(y, y);
                let slope = self.b.ins().fsub(one, square);
                self.b.ins().fmul(g, slope)
            }
        }
    }

    /// The loop over the blocks of rows: `body` once per block, for
    /// `blocks` blocks of which the rows before `rows` are real, walking
    /// the buffers `streams` (each a pointer and its vectors a block);
    /// `carried` (initial values) is threaded through the turns and
    /// returned after the last.
    fn blocks(
        &mut self,
        (blocks, rows): (Value, Value),
        streams: &[(Value, usize)],
        carried: Vec<Value>,
        mut body: impl FnMut(&mut Self, &Block, Vec<Value>) -> Vec<Value>,
    ) -> Vec<Value> {
        let var = |g: &mut Self, ty: Type, value: Value| {
            let var = g.b.declare_var(ty);
            g.b.def_var(var, value);
            var
        };
        let carried: Vec<Variable> = carried
            .into_iter()
            .map(|v| {
                let ty = self.b.func.dfg.value_type(v);
                var(self, ty, v)
            })
            .collect();
        let pointer = self.pointer;
        let at: Vec<Variable> = streams
            .iter()
            .map(|&(p, _)| var(self, pointer, p))
            .collect();
        let zero = self.b.ins().iconst(types::I64, 0);
        let index = var(self, types::I64, zero);
        // Lane i holds i: the rows of a block, counted from its first.
        let mut lanes = self.splat_int(0);
        for lane in 1..BLOCK as u8 {
            let i = self.b.ins().iconst(types::I32, i64::from(lane));
            lanes = self.b.ins().insertlane(lanes, i, lane);
        }
        let rows = self.b.ins().ireduce(types::I32, rows);
        let rows = self.b.ins().splat(I4, rows);
        let (head, turn, exit) = (
            self.b.create_block(),
            self.b.create_block(),
            self.b.create_block(),
        );
        self.b.ins().jump(head, &[]);
        self.b.switch_to_block(head);
        let i = self.b.use_var(index);
        let more = self.b.ins().icmp(IntCC::SignedLessThan, i, blocks);
        self.b.ins().brif(more, turn, &[], exit, &[]);
        self.b.switch_to_block(turn);
        self.b.seal_block(turn);
        let first_row = self.b.ins().imul_imm_s(i, BLOCK as i64);
        let first = self.b.ins().ireduce(types::I32, first_row);
        let first = self.b.ins().splat(I4, first);
        let row = self.b.ins().iadd(first, lanes);
        let block = Block {
            at: at.iter().map(|&v| self.b.use_var(v)).collect(),
            rows: self.b.ins().icmp(IntCC::SignedLessThan, row, rows),
            first_row,
        };
        let current = carried.iter().map(|&v| self.b.use_var(v)).collect();
        let next = body(self, &block, current);
        for (&var, value) in carried.iter().zip(next) {
            self.b.def_var(var, value);
        }
        for ((&var, &(_, vectors)), &p) in at.iter().zip(streams).zip(&block.at) {
            let stride = i64::try_from(vectors * BLOCK * 4).expect("a narrow network");
            let p = self.b.ins().iadd_imm_s(p, stride);
            self.b.def_var(var, p);
        }
        let i = self.b.ins().iadd_imm_s(i, 1);
        self.b.def_var(index, i);
        self.b.ins().jump(head, &[]);
        self.b.seal_block(head);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        carried.iter().map(|&v| self.b.use_var(v)).collect()
    }

    /// Where the block's rows start in a row-major matrix at `base` of
    /// `width` values a row: one address per lane, the rows past the last
    /// (`rows`) read as the last.
    fn row_addresses(
        &mut self,
        base: Value,
        width: usize,
        block: &Block,
        rows: Value,
    ) -> [Value; BLOCK] {
        let last = self.b.ins().iadd_imm_s(rows, -1);
        let stride = i64::try_from(width * 4).expect("a narrow network");
        std::array::from_fn(|lane| {
            let row = self.b.ins().iadd_imm_s(block.first_row, lane as i64);
            let row = self.b.ins().smin(row, last);
            let offset = self.b.ins().imul_imm_s(row, stride);
            let offset = match self.pointer {
                types::I64 => offset,
                narrower => self.b.ins().ireduce(narrower, offset),
            };
            self.b.ins().iadd(base, offset)
        })
    }

    /// Column `column` of the block's rows (the rows past the last zeros).
    fn gather(&mut self, rows: &[Value; BLOCK], column: usize, block: &Block) -> Value {
        let offset = i32::try_from(column * 4).expect("a narrow network");
        let flags = MemFlagsData::trusted();
        let first = self.b.ins().load(types::F32, flags, rows[0], offset);
        let mut v = self.b.ins().splat(F4, first);
        for (lane, &row) in rows.iter().enumerate().skip(1) {
            let x = self.b.ins().load(types::F32, flags, row, offset);
            v = self.b.ins().insertlane(v, x, lane as u8);
        }
        self.keep(v, block.rows)
    }

    /// Writes `v` into column `column` of the block's rows: the last lane
    /// first, so that where the rows past the last stand for the last row,
    /// its own value is written after theirs.
    fn scatter(&mut self, rows: &[Value; BLOCK], column: usize, v: Value) {
        let offset = i32::try_from(column * 4).expect("a narrow network");
        for (lane, &row) in rows.iter().enumerate().rev() {
            let x = self.b.ins().extractlane(v, lane as u8);
            self.b.ins().store(MemFlagsData::trusted(), x, row, offset);
        }
    }

    /// The forward pass's body: parameters `x, values, weights, out,
    /// counts, blocks, rows`.
    fn forward(&mut self, layers: &[StagePlan]) {
        let [x, values, weights, out, counts, blocks, rows] = self.params[..] else {
            unreachable!("the forward pass's seven parameters");
        };
        let offsets = outputs_at(layers);
        let units = offsets[layers.len()];
        let (inputs, width) = (layers[0].inputs, layers[layers.len() - 1].outputs);
        // Per layer, what its diagnostic counts, carried from block to
        // block: the saturated outputs, or each unit's "not always 0".
        let zero = self.splat_int(0);
        let carried = vec![zero; layers.iter().map(tallies).sum()];
        let streams = [(values, units)];
        let counted = self.blocks((blocks, rows), &streams, carried, |g, block, mut acc| {
            let at = block.at[0];
            let x_rows = g.row_addresses(x, inputs, block, rows);
            let mut input: Vec<Value> = (0..inputs).map(|k| g.gather(&x_rows, k, block)).collect();
            let mut region = 0;
            for (l, layer) in layers.iter().enumerate() {
                let threshold = saturation_threshold(layer.act).map(|t| g.splat(t as f32));
                let mut output = Vec::with_capacity(layer.outputs);
                for j in 0..layer.outputs {
                    let mut sum = g.splat(0.0);
                    for (k, &x) in input.iter().enumerate() {
                        let w = g.weight(weights, layer.weight_at + j * layer.inputs + k);
                        let product = g.b.ins().fmul(x, w);
                        sum = g.b.ins().fadd(sum, product);
                    }
                    let bias = match layer.bias_at {
                        Some(at) => g.weight(weights, at + j),
                        None => g.splat(0.0),
                    };
                    let z = g.b.ins().fadd(bias, sum);
                    if let Some(threshold) = threshold {
                        let size = g.b.ins().fabs(z);
                        let beyond = g.b.ins().fcmp(FloatCC::GreaterThan, size, threshold);
                        let beyond = g.b.ins().band(beyond, block.rows);
                        acc[region] = g.b.ins().isub(acc[region], beyond);
                    }
                    let y = g.activate(layer.act, z);
                    if layer.act == Pointwise::ReLU {
                        let zero = g.splat(0.0);
                        let live = g.b.ins().fcmp(FloatCC::NotEqual, y, zero);
                        let live = g.b.ins().band(live, block.rows);
                        acc[region + j] = g.b.ins().bor(acc[region + j], live);
                    }
                    g.store(at, offsets[l] + j, y);
                    output.push(y);
                }
                region += tallies(layer);
                input = output;
            }
            let out_rows = g.row_addresses(out, width, block, rows);
            for (j, &y) in input.iter().enumerate() {
                g.scatter(&out_rows, j, y);
            }
            acc
        });
        // Each layer's count: its saturated outputs summed over the lanes,
        // or its units with no lane ever nonzero.
        let mut region = 0;
        for (l, layer) in layers.iter().enumerate() {
            let tallied = &counted[region..region + tallies(layer)];
            region += tallied.len();
            let count = if layer.act == Pointwise::ReLU {
                let mut dead = self.b.ins().iconst(types::I64, 0);
                for &live in tallied {
                    let any = self.b.ins().vany_true(live);
                    let any = self.b.ins().uextend(types::I64, any);
                    let none = self.b.ins().bxor_imm_s(any, 1);
                    dead = self.b.ins().iadd(dead, none);
                }
                dead
            } else {
                let mut sum = self.b.ins().iconst(types::I64, 0);
                for &saturated in tallied {
                    for lane in 0..BLOCK as u8 {
                        let count = self.b.ins().extractlane(saturated, lane);
                        let count = self.b.ins().uextend(types::I64, count);
                        sum = self.b.ins().iadd(sum, count);
                    }
                }
                sum
            };
            let offset = i32::try_from(l * 8).expect("a narrow network's layers");
            self.b
                .ins()
                .store(MemFlagsData::trusted(), count, counts, offset);
        }
    }

    /// The backward pass's body: parameters `x, values, start, weights,
    /// grads, norms, loss, blocks, rows`.
    fn backward(&mut self, layers: &[StagePlan], begin: Start) {
        let [x, values, start, weights, grads, norms, loss, blocks, rows] = self.params[..] else {
            unreachable!("the backward pass's nine parameters");
        };
        // Each gradient is a sum from zero.
        let zero = self.b.ins().f32const(0.0);
        for layer in layers {
            for index in layer
                .weight_range()
                .chain(layer.bias_range().unwrap_or(0..0))
            {
                let offset = i32::try_from(index * 4).expect("a narrow network's weights");
                self.b
                    .ins()
                    .store(MemFlagsData::trusted(), zero, grads, offset);
            }
        }
        let offsets = outputs_at(layers);
        let units = offsets[layers.len()];
        let (inputs, width) = (layers[0].inputs, layers[layers.len() - 1].outputs);
        // The number of predictions as `squared_error` makes it: an f64
        // rounded to f32 (the count, never negative, converted as a signed
        // integer, which takes one instruction).
        let predictions = self.b.ins().imul_imm_s(rows, width as i64);
        let predictions = self.b.ins().fcvt_from_sint(types::F64, predictions);
        let predictions = self.b.ins().fdemote(types::F32, predictions);
        let predictions = self.b.ins().splat(F4, predictions);
        let zero = self.b.ins().f64const(0.0);
        let total = self.blocks(
            (blocks, rows),
            &[(values, units)],
            vec![zero],
            |g, block, mut carried| {
                let at = block.at[0];
                let start_rows = g.row_addresses(start, width, block, rows);
                let given: Vec<Value> = (0..width)
                    .map(|j| g.gather(&start_rows, j, block))
                    .collect();
                let mut delta = match begin {
                    Start::Delta => given,
                    Start::SquaredError => {
                        let last = offsets[layers.len() - 1];
                        let diffs: Vec<Value> = given
                            .into_iter()
                            .enumerate()
                            .map(|(j, t)| {
                                let y = g.load(at, last + j);
                                g.b.ins().fsub(y, t)
                            })
                            .collect();
                        carried[0] = g.add_squares(carried[0], &diffs, block);
                        diffs
                            .into_iter()
                            .map(|diff| {
                                let twice = g.b.ins().fadd(diff, diff);
                                g.b.ins().fdiv(twice, predictions)
                            })
                            .collect()
                    }
                };
                let x_rows = g.row_addresses(x, inputs, block, rows);
                for (l, layer) in layers.iter().enumerate().rev() {
                    // The rows past the last kept out of every sum.
                    let input: Vec<Value> = (0..layer.inputs)
                        .map(|k| match l {
                            0 => g.gather(&x_rows, k, block),
                            _ => {
                                let x = g.load(at, offsets[l - 1] + k);
                                g.keep(x, block.rows)
                            }
                        })
                        .collect();
                    let slopes: Vec<Value> = (0..layer.outputs)
                        .map(|j| {
                            let y = g.load(at, offsets[l] + j);
                            let slope = g.derivative(layer.act, delta[j], y);
                            g.keep(slope, block.rows)
                        })
                        .collect();
                    for (j, &slope) in slopes.iter().enumerate() {
                        for (k, &x) in input.iter().enumerate() {
                            let product = g.b.ins().fmul(x, slope);
                            g.add_rows(grads, layer.weight_at + j * layer.inputs + k, product);
                        }
                        if let Some(at) = layer.bias_at {
                            g.add_rows(grads, at + j, slope);
                        }
                    }
                    if l > 0 {
                        delta = (0..layer.inputs)
                            .map(|k| {
                                let mut sum = g.splat(0.0);
                                for (j, &slope) in slopes.iter().enumerate() {
                                    let w =
                                        g.weight(weights, layer.weight_at + j * layer.inputs + k);
                                    let product = g.b.ins().fmul(slope, w);
                                    sum = g.b.ins().fadd(sum, product);
                                }
                                sum
                            })
                            .collect();
                    }
                }
                carried
            },
        );
        if begin == Start::SquaredError {
            self.b
                .ins()
                .store(MemFlagsData::trusted(), total[0], loss, 0);
        }
        for (l, layer) in layers.iter().enumerate() {
            let norm = self.norm(grads, layer.weight_range());
            let offset = i32::try_from(l * 8).expect("a narrow network's layers");
            self.b
                .ins()
                .store(MemFlagsData::trusted(), norm, norms, offset);
        }
    }

    /// `total` plus the squares of the block's `diffs` (one vector per
    /// output), each squared in `f32` and added in `f64`, row by row and
    /// in each row output by output, as `squared_error` adds them (the
    /// rows past the last add `+0`, which changes no sum of squares).
    fn add_squares(&mut self, total: Value, diffs: &[Value], block: &Block) -> Value {
        let squares: Vec<Value> = diffs
            .iter()
            .map(|&diff| {
                let square = self.b.ins().fmul(diff, diff);
                self.keep(square, block.rows)
            })
            .collect();
        let mut total = total;
        for lane in 0..BLOCK as u8 {
            for &square in &squares {
                let x = self.b.ins().extractlane(square, lane);
                let x = self.b.ins().fpromote(types::F64, x);
                total = self.b.ins().fadd(total, x);
            }
        }
        total
    }

    /// The 2-norm of the gradients at `range` of `grads`: their squares
    /// summed in `f64` as
    /// [`sum_of_squares`](super::diagnostics::sum_of_squares) sums them
    /// (in order, or for [`SQUARE_LANES`] values or more, interleaved over
    /// that many partial sums, then the rest in order), and the square
    /// root taken. Every sum starts from `+0`, where the library's may
    /// start from `−0`: a sum of squares is the same from either.
    fn norm(&mut self, grads: Value, range: Range<usize>) -> Value {
        let square = |g: &mut Self, index: usize| {
            let offset = i32::try_from(index * 4).expect("a narrow network's weights");
            let x =
                g.b.ins()
                    .load(types::F32, MemFlagsData::trusted(), grads, offset);
            let x = g.b.ins().fpromote(types::F64, x);
            g.b.ins().fmul(x, x)
        };
        let ordered = |g: &mut Self, indices: Range<usize>| {
            let mut sum = g.b.ins().f64const(0.0);
            for index in indices {
                let x = square(g, index);
                sum = g.b.ins().fadd(sum, x);
            }
            sum
        };
        let sum = if range.len() < SQUARE_LANES {
            ordered(self, range)
        } else {
            let whole = range.start + range.len() / SQUARE_LANES * SQUARE_LANES;
            let zero = self.b.ins().f64const(0.0);
            let mut partial = [zero; SQUARE_LANES];
            for (i, index) in (range.start..whole).enumerate() {
                let x = square(self, index);
                partial[i % SQUARE_LANES] = self.b.ins().fadd(partial[i % SQUARE_LANES], x);
            }
            let tail = ordered(self, whole..range.end);
            let mut sum = self.b.ins().f64const(0.0);
            for p in partial {
                sum = self.b.ins().fadd(sum, p);
            }
            self.b.ins().fadd(sum, tail)
        };
        self.b.ins().sqrt(sum)
    }

    /// Adds the lanes of `rows`, in order, to the scalar at `index` of
    /// `base`.
    fn add_rows(&mut self, base: Value, index: usize, rows: Value) {
        let offset = i32::try_from(index * 4).expect("a narrow network's weights");
        let flags = MemFlagsData::trusted();
        let mut sum = self.b.ins().load(types::F32, flags, base, offset);
        for lane in 0..BLOCK as u8 {
            let value = self.b.ins().extractlane(rows, lane);
            sum = self.b.ins().fadd(sum, value);
        }
        self.b.ins().store(flags, sum, base, offset);
    }
}

/// The vectors the forward pass counts `layer`'s diagnostic in: one for
/// the saturated outputs of a sigmoid or tanh, one per unit for whether a
/// ReLU's output was ever nonzero, none for the identity.
fn tallies(layer: &StagePlan) -> usize {
    match layer.act {
        Pointwise::Sigmoid | Pointwise::Tanh => 1,
        Pointwise::ReLU => layer.outputs,
        Pointwise::Identity => 0,
    }
}

/// Where each layer's outputs start in a block of the values (one vector
/// per unit, the layers one after another), and after the last layer the
/// vectors of a block in all.
fn outputs_at(layers: &[StagePlan]) -> Vec<usize> {
    let mut offsets = vec![0];
    for layer in layers {
        offsets.push(offsets[offsets.len() - 1] + layer.outputs);
    }
    offsets
}
