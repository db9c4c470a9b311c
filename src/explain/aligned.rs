//! Equation chains laid out for LaTeX's `align*` (and Markdown's
//! `aligned`): one line per chain while it fits the page; otherwise each
//! `= …` on a line of its own, and sums broken between terms.

/// The width of an `article` page's text, in digit widths (345pt / 5pt).
const PAGE: f64 = 69.0;

/// Equation chains `lhs = a = b …` as the lines of an `aligned` or
/// `align*` environment, aligned on the first `=`.
pub(crate) fn aligned(lines: &[Vec<String>]) -> String {
    let rows: Vec<String> = lines.iter().map(|line| chain(line)).collect();
    rows.join(" \\\\\n")
}

fn chain(line: &[String]) -> String {
    let (lhs, parts) = (&line[0], &line[1..]);
    let one_line = parts.join(" = ");
    // What is left of the page right of `lhs =`.
    let room = PAGE - set_width(lhs) - 2.0;
    if set_width(&one_line) <= room {
        return format!("{lhs} &= {one_line}");
    }
    let broken: Vec<String> = parts.iter().map(|part| sum_lines(part, room)).collect();
    format!("{lhs} &= {}", broken.join(" \\\\\n&= "))
}

/// A sum broken into lines of at most `room` (the first term of a line is
/// kept even if it alone is wider); continuation lines start `\quad +`.
fn sum_lines(sum: &str, room: f64) -> String {
    let mut lines: Vec<Vec<&str>> = Vec::new();
    let mut width = f64::INFINITY;
    for term in top_level_terms(sum) {
        let term_width = set_width(term) + 2.0;
        match lines.last_mut() {
            Some(line) if width + term_width <= room => {
                line.push(term);
                width += term_width;
            }
            _ => {
                lines.push(vec![term]);
                // A continuation line starts with `\quad +`.
                width = term_width + if lines.len() > 1 { 2.0 } else { 0.0 };
            }
        }
    }
    let lines: Vec<String> = lines.iter().map(|terms| terms.join(" + ")).collect();
    lines.join(" \\\\\n&\\quad + ")
}

/// The terms of a sum `a + b + c`, split at the outermost ` + ` signs:
/// those inside the fewest parentheses, so that `½·(a + b)` splits into
/// `½·(a` and `b)` (LaTeX's plain parentheses may span lines), and never
/// inside braces (a fraction's parts).
fn top_level_terms(formula: &str) -> Vec<&str> {
    let mut pluses = Vec::new();
    let (mut parentheses, mut braces) = (0i32, 0i32);
    for (i, c) in formula.char_indices() {
        match c {
            '(' => parentheses += 1,
            ')' => parentheses -= 1,
            '{' => braces += 1,
            '}' => braces -= 1,
            ' ' if braces == 0 && formula[i..].starts_with(" + ") => pluses.push((parentheses, i)),
            _ => {}
        }
    }
    let outermost = pluses.iter().map(|&(depth, _)| depth).min();
    let mut terms = Vec::new();
    let mut start = 0;
    for &(depth, i) in &pluses {
        if Some(depth) == outermost {
            terms.push(&formula[start..i]);
            start = i + 3;
        }
    }
    terms.push(&formula[start..]);
    terms
}

/// Roughly how wide LaTeX sets a formula, in digit widths: a command is
/// one symbol (a named function its name), scripts count 0.7, a fraction
/// is as wide as its wider part, and `+ - =` take their spacing.
fn set_width(formula: &str) -> f64 {
    let chars: Vec<char> = formula.chars().collect();
    width_of(&chars)
}

fn width_of(chars: &[char]) -> f64 {
    let mut width = 0.0;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let name: String = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .collect();
                i += 1 + name.len().max(1);
                match name.as_str() {
                    "frac" | "tfrac" => {
                        let (num, after) = group(chars, i);
                        let (den, after) = group(chars, after);
                        let scale = if name == "tfrac" { 0.7 } else { 1.0 };
                        width += scale * width_of(num).max(width_of(den));
                        i = after;
                    }
                    // Its argument, the operator's name, follows as a group.
                    "operatorname" => {}
                    "tanh" | "ln" | "sum" | "quad" | "cdot" => width += name.len().min(4) as f64,
                    _ => width += 1.0,
                }
            }
            '^' | '_' => {
                let (script, after) = group(chars, i + 1);
                width += 0.7 * width_of(script);
                i = after;
            }
            '{' | '}' | ' ' => i += 1,
            '+' | '-' | '=' => {
                width += 2.0;
                i += 1;
            }
            _ => {
                width += 1.0;
                i += 1;
            }
        }
    }
    width
}

/// The group starting at `start` (the inside of `{…}`, or one character)
/// and the index after it.
fn group(chars: &[char], start: usize) -> (&[char], usize) {
    if chars.get(start) != Some(&'{') {
        let end = (start + 1).min(chars.len());
        return (&chars[start.min(end)..end], end);
    }
    let mut depth = 0;
    for (k, &c) in chars.iter().enumerate().skip(start) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return (&chars[start + 1..k], k + 1);
                }
            }
            _ => {}
        }
    }
    (&chars[start + 1..], chars.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_split_at_their_outermost_plus() {
        assert_eq!(
            top_level_terms("a + (b + c) + \\frac{d + e}{f}"),
            ["a", "(b + c)", "\\frac{d + e}{f}"]
        );
        assert_eq!(top_level_terms("h(a^{2} + b^{2})"), ["h(a^{2}", "b^{2})"]);
    }

    #[test]
    fn widths_are_estimated_as_set() {
        assert_eq!(set_width("0.25"), 4.0);
        assert_eq!(set_width("x_{1}"), 1.7);
        assert_eq!(set_width("\\frac{\\partial L}{\\partial w}"), 2.0);
        assert_eq!(set_width("a + b"), 4.0);
    }

    #[test]
    fn chains_break_only_when_they_do_not_fit() {
        assert_eq!(aligned(&[vec!["L".into(), "1".into()]]), "L &= 1");
        let sum = ["1234567890"; 8].join(" + ");
        let written = aligned(&[vec!["s".into(), sum, "80".into()]]);
        let expected = [
            "s &= 1234567890 + 1234567890 + 1234567890 + 1234567890 + 1234567890",
            "&\\quad + 1234567890 + 1234567890 + 1234567890",
            "&= 80",
        ];
        assert_eq!(written, expected.join(" \\\\\n"));
    }
}
