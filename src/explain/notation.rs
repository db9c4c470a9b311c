//! How symbols and numbers are written: Unicode for a terminal
//! (`∂L/∂w⁽¹⁾₁₂`, `0.5·(-0.25)`) or LaTeX math for Markdown and LaTeX
//! (`\frac{\partial L}{\partial w^{(1)}_{12}}`).

/// A function written by name in the derivation.
#[derive(Clone, Copy)]
pub(crate) enum Function {
    Tanh,
    Sigmoid,
    Relu,
    /// relu′, the step function.
    ReluPrime,
    Exp,
    Ln,
}

/// Writes symbols and numbers in one style.
pub(crate) struct Notation {
    latex: bool,
    digits: usize,
}

impl Notation {
    /// Unicode text, or LaTeX math; numbers rounded to `digits` decimals.
    pub(crate) fn new(latex: bool, digits: usize) -> Notation {
        Notation { latex, digits }
    }

    /// `base` with a layer superscript `(layer)` and a subscript, both as
    /// written (`"1"`, `"l"`, `"12"`, `"ij"`).
    pub(crate) fn indexed(&self, base: &str, layer: Option<&str>, sub: &str) -> String {
        if self.latex {
            let layer = layer.map_or(String::new(), |l| format!("^{{({l})}}"));
            let sub = if sub.is_empty() {
                String::new()
            } else {
                format!("_{{{sub}}}")
            };
            format!("{base}{layer}{sub}")
        } else {
            let layer = layer.map_or(String::new(), |l| {
                format!("({l})").chars().map(superscript).collect()
            });
            let sub: String = sub.chars().map(subscript).collect();
            format!("{base}{layer}{sub}")
        }
    }

    /// Input `j` (from 0), written from 1: `x₁`.
    pub(crate) fn x(&self, j: usize) -> String {
        self.indexed("x", None, &(j + 1).to_string())
    }

    /// The weight of layer `l` into unit `i` from input `j` (all from 0): `w⁽¹⁾₁₂`.
    pub(crate) fn w(&self, l: usize, i: usize, j: usize) -> String {
        self.indexed(
            "w",
            Some(&(l + 1).to_string()),
            &format!("{}{}", i + 1, j + 1),
        )
    }

    /// The bias of unit `i` of layer `l`: `b⁽¹⁾₁`.
    pub(crate) fn b(&self, l: usize, i: usize) -> String {
        self.unit("b", l, i)
    }

    /// The pre-activation of unit `i` of layer `l`: `s⁽¹⁾₁`.
    pub(crate) fn s(&self, l: usize, i: usize) -> String {
        self.unit("s", l, i)
    }

    /// The activation of unit `i` of layer `l`: `z⁽¹⁾₁`.
    pub(crate) fn z(&self, l: usize, i: usize) -> String {
        self.unit("z", l, i)
    }

    fn unit(&self, base: &str, l: usize, i: usize) -> String {
        self.indexed(base, Some(&(l + 1).to_string()), &(i + 1).to_string())
    }

    /// The symbol of the outputs, `ŷ`.
    pub(crate) fn y_base(&self) -> &'static str {
        if self.latex { "\\hat{y}" } else { "ŷ" }
    }

    /// Output `k`: `ŷ₁`.
    pub(crate) fn y(&self, k: usize) -> String {
        self.indexed(self.y_base(), None, &(k + 1).to_string())
    }

    /// A plain symbol with subscript `k + 1`: `t₁`, `p₂`.
    pub(crate) fn sub(&self, base: &str, k: usize) -> String {
        self.indexed(base, None, &(k + 1).to_string())
    }

    /// `∂num/∂den`.
    pub(crate) fn d(&self, num: &str, den: &str) -> String {
        if self.latex {
            format!("\\frac{{\\partial {num}}}{{\\partial {den}}}")
        } else {
            format!("∂{num}/∂{den}")
        }
    }

    /// A product of factors: `a·b·c`.
    pub(crate) fn product(&self, factors: &[String]) -> String {
        factors.join(if self.latex { " \\cdot " } else { "·" })
    }

    /// The binary minus: `a − b`.
    pub(crate) fn minus(&self) -> &'static str {
        if self.latex { " - " } else { " − " }
    }

    /// `base²`.
    pub(crate) fn squared(&self, base: &str) -> String {
        if self.latex {
            format!("{base}^{{2}}")
        } else {
            format!("{base}²")
        }
    }

    /// `num/den`.
    pub(crate) fn fraction(&self, num: &str, den: &str) -> String {
        if self.latex {
            format!("\\frac{{{num}}}{{{den}}}")
        } else {
            let group = |part: &str| {
                if spaced_outside_parentheses(part) {
                    format!("({part})")
                } else {
                    part.to_string()
                }
            };
            format!("{}/{}", group(num), group(den))
        }
    }

    /// `f(argument)`.
    pub(crate) fn call(&self, f: Function, argument: &str) -> String {
        let name = match (f, self.latex) {
            (Function::Exp, true) => return format!("e^{{{argument}}}"),
            (Function::Tanh, true) => "\\tanh",
            (Function::Tanh, false) => "tanh",
            (Function::Sigmoid, true) => "\\sigma",
            (Function::Sigmoid, false) => "σ",
            (Function::Relu, true) => "\\operatorname{relu}",
            (Function::Relu, false) => "relu",
            (Function::ReluPrime, true) => "\\operatorname{relu}'",
            (Function::ReluPrime, false) => "relu′",
            (Function::Exp, false) => "exp",
            (Function::Ln, true) => "\\ln",
            (Function::Ln, false) => "ln",
        };
        format!("{name}({argument})")
    }

    /// A sum over `index`: `Σₖ`.
    pub(crate) fn sum(&self, index: &str) -> String {
        if self.latex {
            format!("\\sum_{{{index}}} ")
        } else {
            format!("Σ{} ", index.chars().map(subscript).collect::<String>())
        }
    }

    /// A symbol without arguments.
    pub(crate) fn symbol(&self, name: Symbol) -> &'static str {
        match (name, self.latex) {
            (Symbol::Half, true) => "\\tfrac{1}{2}",
            (Symbol::Half, false) => "½",
            (Symbol::Eta, true) => "\\eta",
            (Symbol::Eta, false) => "η",
            (Symbol::LeftArrow, true) => "\\leftarrow",
            (Symbol::LeftArrow, false) => "←",
            (Symbol::Neg, true) => "-",
            (Symbol::Neg, false) => "−",
        }
    }

    /// A number, rounded to the notation's decimals with trailing zeros
    /// dropped (`0.25`, `1`, `-0.7616`); magnitudes that would round to 0
    /// or reach a million in scientific notation (`3.2e-6`, `3.2 \times 10^{-6}`).
    pub(crate) fn number(&self, x: f64) -> String {
        if x == 0.0 {
            return "0".into();
        }
        let fixed = trim_zeros(format!("{x:.*}", self.digits));
        if x.abs() < 1e6 && fixed.trim_start_matches('-') != "0" {
            return fixed;
        }
        let scientific = format!("{x:.*e}", self.digits.saturating_sub(1));
        let (mantissa, exponent) = scientific
            .split_once('e')
            .expect("`e` formatting writes an exponent");
        let mantissa = trim_zeros(mantissa.to_string());
        if self.latex {
            format!("{mantissa} \\times 10^{{{exponent}}}")
        } else {
            format!("{mantissa}e{exponent}")
        }
    }

    /// A number for a table column: always `digits` decimals, so that the
    /// points line up (`0.0700`), unless it needs scientific notation.
    pub(crate) fn fixed(&self, x: f64) -> String {
        let written = self.number(x);
        if x == 0.0 || written.contains('e') || written.contains("times") {
            written
        } else {
            format!("{x:.*}", self.digits)
        }
    }

    /// A number as a factor of a product or a base of a power:
    /// in parentheses if it is negative or written with an exponent.
    pub(crate) fn factor(&self, x: f64) -> String {
        let written = self.number(x);
        if x < 0.0 || written.contains('e') || written.contains("times") {
            format!("({written})")
        } else {
            written
        }
    }

    /// Numbers as a tuple: `(1, 0.5)`.
    pub(crate) fn tuple(&self, values: &[f64]) -> String {
        let numbers: Vec<String> = values.iter().map(|&v| self.number(v)).collect();
        format!("({})", numbers.join(", "))
    }
}

/// Symbols without arguments.
#[derive(Clone, Copy)]
pub(crate) enum Symbol {
    /// ½.
    Half,
    /// η, the learning rate.
    Eta,
    /// ←.
    LeftArrow,
    /// The unary minus.
    Neg,
}

/// Whether `formula` has a space outside parentheses, as a sum has.
fn spaced_outside_parentheses(formula: &str) -> bool {
    let mut depth = 0i32;
    formula.chars().any(|c| {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        c == ' ' && depth == 0
    })
}

fn trim_zeros(number: String) -> String {
    if number.contains('.') {
        number
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        number
    }
}

fn superscript(c: char) -> char {
    match c {
        '0' => '⁰',
        '1' => '¹',
        '2' => '²',
        '3' => '³',
        '4' => '⁴',
        '5' => '⁵',
        '6' => '⁶',
        '7' => '⁷',
        '8' => '⁸',
        '9' => '⁹',
        '(' => '⁽',
        ')' => '⁾',
        '+' => '⁺',
        '-' => '⁻',
        'l' => 'ˡ',
        other => other,
    }
}

fn subscript(c: char) -> char {
    match c {
        '0' => '₀',
        '1' => '₁',
        '2' => '₂',
        '3' => '₃',
        '4' => '₄',
        '5' => '₅',
        '6' => '₆',
        '7' => '₇',
        '8' => '₈',
        '9' => '₉',
        'i' => 'ᵢ',
        'j' => 'ⱼ',
        'k' => 'ₖ',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_in_both_styles() {
        let (text, latex) = (Notation::new(false, 4), Notation::new(true, 4));
        assert_eq!(text.w(0, 0, 1), "w⁽¹⁾₁₂");
        assert_eq!(latex.w(0, 0, 1), "w^{(1)}_{12}");
        assert_eq!(text.d("L", &text.s(1, 0)), "∂L/∂s⁽²⁾₁");
        assert_eq!(
            latex.d("L", &latex.y(0)),
            "\\frac{\\partial L}{\\partial \\hat{y}_{1}}"
        );
        assert_eq!(text.indexed("w", Some("l"), "ij"), "w⁽ˡ⁾ᵢⱼ");
        assert_eq!(text.fraction("2·(a − b)", "2"), "2·(a − b)/2");
        assert_eq!(
            text.fraction("exp(a)", "exp(a) + exp(b)"),
            "exp(a)/(exp(a) + exp(b))"
        );
    }

    #[test]
    fn numbers_are_rounded_and_trimmed() {
        let text = Notation::new(false, 4);
        assert_eq!(text.number(1.0), "1");
        assert_eq!(text.number(-0.761_594_155), "-0.7616");
        assert_eq!(text.number(0.25), "0.25");
        assert_eq!(text.number(3.21e-6), "3.21e-6");
        assert_eq!(text.number(-2.5e7), "-2.5e7");
        assert_eq!(text.factor(-0.5), "(-0.5)");
        assert_eq!(text.factor(0.5), "0.5");
        assert_eq!(Notation::new(true, 2).number(1.5e-5), "1.5 \\times 10^{-5}");
        assert_eq!(text.tuple(&[1.0, 0.5]), "(1, 0.5)");
        assert_eq!(text.fixed(0.07), "0.0700");
        assert_eq!(text.fixed(0.0), "0");
    }
}
