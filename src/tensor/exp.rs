//! `eˣ` for `f32` without a library call, so that a loop over it (the
//! sigmoid's) compiles to vector instructions.
//!
//! The method is the classic one: `x = n·ln 2 + r` with `n` an integer and
//! `|r| ≤ ln 2 / 2`, `eʳ` from a polynomial, then `2ⁿ` put into the
//! exponent bits. The polynomial's coefficients are the minimax ones
//! Cephes' `expf` uses; the tests hold the result within 1 ulp of the
//! correctly rounded value over the whole range.

/// Below this, `eˣ` rounds to 0 in f32 (the smallest subnormal is
/// e^−103.28).
pub(crate) const LOWEST: f32 = -104.0;
/// Above this, `eˣ` overflows to infinity in f32 (the largest finite
/// value is e^88.72).
pub(crate) const HIGHEST: f32 = 89.0;
/// ln 2 in two parts: the first exact in few bits, so that `n·LN2_HIGH`
/// is exact for every `n` in range, and the rest.
pub(crate) const LN2_HIGH: f32 = 0.693_359_4;
pub(crate) const LN2_LOW: f32 = -2.121_944_4e-4;
/// 1.5·2²³: added to a float of magnitude below 2²², it leaves the
/// integer nearest to that float in the low bits of the mantissa.
pub(crate) const ROUNDER: f32 = 12_582_912.0;
/// The polynomial for `(eʳ − 1 − r)/r²`, highest degree first.
pub(crate) const COEFFICIENTS: [f32; 6] = [
    1.987_569_2e-4,
    1.398_2e-3,
    8.333_452e-3,
    4.166_579_6e-2,
    1.666_666_5e-1,
    0.5,
];

/// `eˣ` within 1 ulp; NaN stays NaN, `−∞` gives 0 and `+∞` gives `+∞`.
#[inline(always)]
pub(crate) fn exp_f32(x: f32) -> f32 {
    // NaN passes the clamp; the infinities become the ends of the range,
    // whose results round to 0 and to infinity.
    let x = x.clamp(LOWEST, HIGHEST);
    let rounded = x * std::f32::consts::LOG2_E + ROUNDER;
    let n = rounded - ROUNDER;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let mut p = COEFFICIENTS[0];
    for c in &COEFFICIENTS[1..] {
        p = p * r + c;
    }
    let er = p * r * r + r + 1.0;
    // 2ⁿ in two factors, each a normal float even where 2ⁿ is not (n
    // runs from −150 to 129): the result is then rounded once, also where
    // it is subnormal or overflows. The integer n is read from the low
    // mantissa bits of `rounded` and halved by a shift: a saturating
    // conversion to an integer and a division would each be done one lane
    // at a time, even in a loop compiled for AVX-512.
    let n = (rounded.to_bits() as i32).wrapping_sub(ROUNDER.to_bits() as i32);
    let half = n >> 1;
    er * power_of_two(half) * power_of_two(n - half)
}

/// `2ᵏ` for `k` in −126..=127, from its exponent bits (for the meaningless
/// `k` of a NaN, whatever they make: the NaN is in `er` already).
#[inline(always)]
fn power_of_two(k: i32) -> f32 {
    f32::from_bits((k.wrapping_add(127) as u32) << 23)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The distance in ulps between two finite f32 of the same sign.
    fn ulps(a: f32, b: f32) -> u32 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn within_one_ulp_of_the_correctly_rounded_exp_over_the_whole_range() {
        let mut worst = (0, 0.0f32);
        let mut x = LOWEST;
        while x <= HIGHEST {
            let expected = (x as f64).exp() as f32;
            let error = ulps(exp_f32(x), expected);
            if error > worst.0 {
                worst = (error, x);
            }
            // About 2²¹ points per unit, relative to x away from 0 and
            // denser within 10⁻³ of it.
            x += x.abs().clamp(1e-3, 1.0).max(x.abs()) * 4.7e-7;
        }
        assert!(worst.0 <= 1, "{} ulps at x = {}", worst.0, worst.1);
    }

    #[test]
    fn reading_n_from_the_bits_gives_the_converted_integer() {
        // n as the rounding leaves it in the mantissa, against n converted
        // and halved by a division, on every 251st f32 of the clamped range.
        for bits in (0..=u32::MAX).step_by(251) {
            let x = f32::from_bits(bits).clamp(LOWEST, HIGHEST);
            if x.is_nan() {
                continue;
            }
            let rounded = x * std::f32::consts::LOG2_E + ROUNDER;
            let n = (rounded.to_bits() as i32).wrapping_sub(ROUNDER.to_bits() as i32);
            let converted = (rounded - ROUNDER) as i32;
            assert_eq!(n, converted, "x = {x}");
            assert_eq!(
                power_of_two(n >> 1) * power_of_two(n - (n >> 1)),
                power_of_two(converted / 2) * power_of_two(converted - converted / 2),
                "x = {x}"
            );
        }
    }

    #[test]
    fn the_ends_of_the_range_and_the_special_values() {
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(1.0), std::f32::consts::E);
        assert!(exp_f32(f32::NAN).is_nan());
        assert_eq!(exp_f32(f32::NEG_INFINITY), 0.0);
        assert_eq!(exp_f32(f32::INFINITY), f32::INFINITY);
        assert_eq!(exp_f32(88.8), f32::INFINITY);
        assert_eq!(exp_f32(-200.0), 0.0);
        // Subnormal results, each within 1 ulp.
        for x in [-88.0f32, -90.0, -95.5, -100.0, -103.0] {
            let expected = (x as f64).exp() as f32;
            assert!(expected.is_subnormal());
            assert!(ulps(exp_f32(x), expected) <= 1, "x = {x}");
        }
        assert!(ulps(exp_f32(88.7), (88.7f32 as f64).exp() as f32) <= 1);
        for x in [1e-10f32, -1e-10, 1e-7, -1e-7] {
            assert!(ulps(exp_f32(x), (x as f64).exp() as f32) <= 1, "x = {x}");
        }
    }
}
