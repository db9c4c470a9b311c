//! The derivation as a document independent of the output format:
//! sections of paragraphs, chains of equations and tables.

/// A run of a paragraph or a table cell.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Span {
    /// Plain words, in ASCII (LaTeX's special characters are escaped).
    Text(String),
    /// A formula in the notation's style.
    Math(String),
    /// A name as code would write it (`0.weight[1,0]`, `Tanh()`).
    Code(String),
}

/// A part of a section.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Block {
    /// A paragraph.
    Paragraph(Vec<Span>),
    /// Chains `lhs = a = b = …`, one per line, aligned on the first `=`.
    Equations(Vec<Vec<String>>),
    /// A table; numeric columns are aligned right.
    Table {
        header: Vec<Span>,
        rows: Vec<Vec<Span>>,
        numeric: Vec<bool>,
    },
}

/// A titled section.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Section {
    pub(crate) title: String,
    pub(crate) blocks: Vec<Block>,
}

/// The whole derivation.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Document {
    pub(crate) title: String,
    pub(crate) sections: Vec<Section>,
}

/// Shorthands for building paragraphs.
pub(crate) fn text(words: impl Into<String>) -> Span {
    Span::Text(words.into())
}

/// A formula span.
pub(crate) fn math(formula: impl Into<String>) -> Span {
    Span::Math(formula.into())
}

/// A code span.
pub(crate) fn code(name: impl Into<String>) -> Span {
    Span::Code(name.into())
}
