//! Characters to tokens, each with its 1-based character column.

use super::ExprError;

/// What a token is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kind {
    /// A number, already converted (finite and non-negative).
    Number(f64),
    /// A variable or function name (its text is the name).
    Name,
    /// One of `+ - * / ^`.
    Operator(char),
    /// `(`.
    Open,
    /// `)`.
    Close,
    /// Past the last character (always the last token).
    End,
}

/// A token, its text in the source and where it starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Token<'a> {
    pub(super) kind: Kind,
    pub(super) text: &'a str,
    pub(super) column: usize,
}

impl Token<'_> {
    /// The token as an error message names it: `'x'`, `'*'`, or `the end`.
    pub(super) fn describe(&self) -> String {
        match self.kind {
            Kind::End => "the end".to_string(),
            _ => format!("'{}'", self.text),
        }
    }
}

/// Splits `text` into tokens, ending with [`Kind::End`]; whitespace only
/// separates them.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token<'_>>, ExprError> {
    let mut tokens = Vec::new();
    // (byte offset, character) pairs with the column of each.
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let byte_at = |i: usize| chars.get(i).map_or(text.len(), |&(at, _)| at);
    let char_at = |i: usize| chars.get(i).map(|&(_, c)| c);
    let mut i = 0;
    while let Some(c) = char_at(i) {
        let start = i;
        let column = start + 1;
        let kind = match c {
            _ if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '0'..='9' | '.' => {
                while char_at(i).is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    i += 1;
                }
                if char_at(i).is_some_and(|c| c == 'e' || c == 'E') {
                    i += 1;
                    if char_at(i).is_some_and(|c| c == '+' || c == '-') {
                        i += 1;
                    }
                    while char_at(i).is_some_and(|c| c.is_ascii_digit()) {
                        i += 1;
                    }
                }
                Kind::Number(number(&text[byte_at(start)..byte_at(i)], column)?)
            }
            'A'..='Z' | 'a'..='z' | '_' => {
                while char_at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                    i += 1;
                }
                Kind::Name
            }
            '+' | '-' | '*' | '/' | '^' => {
                i += 1;
                Kind::Operator(c)
            }
            '(' => {
                i += 1;
                Kind::Open
            }
            ')' => {
                i += 1;
                Kind::Close
            }
            _ => {
                return Err(ExprError {
                    column,
                    message: format!("unexpected character '{c}'"),
                });
            }
        };
        tokens.push(Token {
            kind,
            text: &text[byte_at(start)..byte_at(i)],
            column,
        });
    }
    tokens.push(Token {
        kind: Kind::End,
        text: "",
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// The value of a number's text (digits, at most one point, an optional
/// exponent), which must be finite.
fn number(text: &str, column: usize) -> Result<f64, ExprError> {
    let error = |why: &str| ExprError {
        column,
        message: format!("'{text}' {why}"),
    };
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    if !mantissa.bytes().any(|b| b.is_ascii_digit()) {
        return Err(error("is not a number"));
    }
    let value: f64 = text.parse().map_err(|_| error("is not a number"))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(error("is too large for a 64-bit float"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(Kind, &str, usize)> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text, t.column))
            .collect()
    }

    #[test]
    fn tokens_carry_their_text_and_column() {
        assert_eq!(
            kinds(" x_1*(2.5E+4 - .5)"),
            vec![
                (Kind::Name, "x_1", 2),
                (Kind::Operator('*'), "*", 5),
                (Kind::Open, "(", 6),
                (Kind::Number(2.5e4), "2.5E+4", 7),
                (Kind::Operator('-'), "-", 14),
                (Kind::Number(0.5), ".5", 16),
                (Kind::Close, ")", 18),
                (Kind::End, "", 19),
            ]
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        // Two no-break spaces, two bytes each.
        let error = tokenize("x\u{a0}\u{a0}$").unwrap_err();
        assert_eq!(error.to_string(), "column 4: unexpected character '$'");
    }

    #[test]
    fn numbers_in_every_form() {
        for (text, value) in [("2", 2.0), ("2.", 2.0), (".5", 0.5), ("1e-3", 1e-3)] {
            assert_eq!(kinds(text)[0].0, Kind::Number(value), "{text}");
        }
    }

    #[test]
    fn malformed_numbers_are_errors_at_their_column() {
        for (text, message) in [
            ("x + 1.2.3", "'1.2.3' is not a number"),
            ("x + 1e", "'1e' is not a number"),
            ("x + 1e+", "'1e+' is not a number"),
            ("x + .", "'.' is not a number"),
            ("x + .e5", "'.e5' is not a number"),
            ("x + 1e999", "'1e999' is too large for a 64-bit float"),
        ] {
            let error = tokenize(text).unwrap_err();
            assert_eq!(
                (error.column, error.message.as_str()),
                (5, message),
                "{text}"
            );
        }
    }
}
