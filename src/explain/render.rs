//! The output formats: aligned Unicode text for a terminal, Markdown with
//! LaTeX math, and a LaTeX document.

use super::Explanation;
use super::aligned::aligned;
use super::derivation::document;
use super::document::{Block, Document, Span};
use super::notation::Notation;

/// How an explanation is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Plain text with Unicode symbols (`∂L/∂w⁽¹⁾₁₂`), equations aligned
    /// on their `=`, paragraphs wrapped at 100 columns.
    Text,
    /// Markdown: headings, `$…$` and `$$\begin{aligned}…$$` math (as GitHub
    /// renders it) and tables.
    Markdown,
    /// A LaTeX document (`article` with `amsmath` and `longtable`):
    /// `align*` blocks, long ones broken over lines and pages, and tables;
    /// it compiles as it is.
    Latex,
}

impl Format {
    /// Every format's command-line name.
    pub const NAMES: &[&str] = &["text", "markdown", "latex"];

    /// Every format, in the order of [`Format::NAMES`].
    pub const ALL: &[Format] = &[Format::Text, Format::Markdown, Format::Latex];

    /// The format of a command-line name.
    pub fn from_name(name: &str) -> Option<Format> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| Self::ALL[i])
    }

    /// The explanation in this format, numbers rounded to `digits` decimals.
    pub(crate) fn write(self, step: &Explanation, digits: usize) -> String {
        let notation = Notation::new(self != Format::Text, digits);
        let document = document(step, &notation);
        match self {
            Format::Text => text(&document),
            Format::Markdown => markdown(&document),
            Format::Latex => latex(&document),
        }
    }
}

/// Where text paragraphs wrap.
const WIDTH: usize = 100;

fn width(s: &str) -> usize {
    s.chars().count()
}

fn text(document: &Document) -> String {
    let mut out = format!(
        "{}\n{}\n\n",
        document.title,
        "=".repeat(width(&document.title))
    );
    for section in &document.sections {
        out.push_str(&format!(
            "{}\n{}\n",
            section.title,
            "-".repeat(width(&section.title))
        ));
        for block in &section.blocks {
            match block {
                Block::Paragraph(spans) => out.push_str(&wrap(spans)),
                Block::Equations(lines) => {
                    let lhs = lines.iter().map(|l| width(&l[0])).max().unwrap_or(0);
                    for line in lines {
                        let pad = " ".repeat(lhs - width(&line[0]));
                        out.push_str(&format!("  {}{pad} = {}\n", line[0], line[1..].join(" = ")));
                    }
                }
                Block::Table {
                    header,
                    rows,
                    numeric,
                } => {
                    let cells = |row: &[Span]| -> Vec<String> {
                        row.iter().map(|s| plain(s).to_string()).collect()
                    };
                    let header = cells(header);
                    let rows: Vec<Vec<String>> = rows.iter().map(|r| cells(r)).collect();
                    let widths: Vec<usize> = (0..header.len())
                        .map(|c| {
                            rows.iter()
                                .chain([&header])
                                .map(|r| width(&r[c]))
                                .max()
                                .unwrap_or(0)
                        })
                        .collect();
                    let line = |row: &[String]| {
                        let cells: Vec<String> = row
                            .iter()
                            .zip(&widths)
                            .zip(numeric)
                            .map(|((cell, &w), &right)| {
                                let pad = " ".repeat(w - width(cell));
                                if right {
                                    format!("{pad}{cell}")
                                } else {
                                    format!("{cell}{pad}")
                                }
                            })
                            .collect();
                        format!("  {}\n", cells.join("   ").trim_end())
                    };
                    out.push_str(&line(&header));
                    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
                    out.push_str(&line(&rule));
                    for row in &rows {
                        out.push_str(&line(row));
                    }
                }
            }
            out.push('\n');
        }
    }
    out.pop();
    out
}

fn plain(span: &Span) -> &str {
    match span {
        Span::Text(s) | Span::Math(s) | Span::Code(s) => s,
    }
}

/// A paragraph wrapped at [`WIDTH`] columns, never inside a formula or a name.
fn wrap(spans: &[Span]) -> String {
    const KEEP: char = '\u{a0}';
    let joined: String = spans
        .iter()
        .map(|span| match span {
            Span::Text(s) => s.clone(),
            Span::Math(s) | Span::Code(s) => s.replace(' ', &KEEP.to_string()),
        })
        .collect();
    let mut lines: Vec<String> = vec![String::new()];
    for word in joined.split(' ').filter(|w| !w.is_empty()) {
        let line = lines.last_mut().expect("one line at least");
        if !line.is_empty() && width(line) + 1 + width(word) > WIDTH {
            lines.push(word.to_string());
        } else {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines
        .iter()
        .map(|l| format!("{}\n", l.replace(KEEP, " ")))
        .collect()
}

fn markdown(document: &Document) -> String {
    let inline = |span: &Span| match span {
        Span::Text(s) => s.clone(),
        Span::Math(s) => format!("${s}$"),
        Span::Code(s) => format!("`{s}`"),
    };
    let mut out = format!("# {}\n", document.title);
    for section in &document.sections {
        out.push_str(&format!("\n## {}\n", section.title));
        for block in &section.blocks {
            out.push('\n');
            match block {
                Block::Paragraph(spans) => {
                    out.push_str(&spans.iter().map(inline).collect::<String>());
                    out.push('\n');
                }
                Block::Equations(lines) => {
                    out.push_str("$$\n\\begin{aligned}\n");
                    out.push_str(&aligned(lines));
                    out.push_str("\n\\end{aligned}\n$$\n");
                }
                Block::Table {
                    header,
                    rows,
                    numeric,
                } => {
                    let row = |cells: &[Span]| {
                        let cells: Vec<String> = cells.iter().map(inline).collect();
                        format!("| {} |\n", cells.join(" | "))
                    };
                    out.push_str(&row(header));
                    let rule: Vec<&str> = numeric
                        .iter()
                        .map(|&right| if right { "--:" } else { "---" })
                        .collect();
                    out.push_str(&format!("|{}|\n", rule.join("|")));
                    for cells in rows {
                        out.push_str(&row(cells));
                    }
                }
            }
        }
    }
    out
}

/// Text for LaTeX's text mode, its special characters escaped.
fn latex_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\\' => "\\textbackslash{}".to_string(),
            '_' | '%' | '&' | '#' | '$' | '{' | '}' => format!("\\{c}"),
            '~' => "\\textasciitilde{}".to_string(),
            '^' => "\\textasciicircum{}".to_string(),
            other => other.to_string(),
        })
        .collect()
}

fn latex(document: &Document) -> String {
    let inline = |span: &Span| match span {
        Span::Text(s) => latex_escape(s),
        Span::Math(s) => format!("${s}$"),
        Span::Code(s) => format!("\\texttt{{{}}}", latex_escape(s)),
    };
    let mut out = String::from(
        "\\documentclass{article}\n\\usepackage{amsmath}\n\\usepackage{longtable}\n\\allowdisplaybreaks\n\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{0.5em}\n\\sloppy\n\\begin{document}\n",
    );
    out.push_str(&format!(
        "\\section*{{{}}}\n",
        latex_escape(&document.title)
    ));
    for section in &document.sections {
        out.push_str(&format!(
            "\n\\subsection*{{{}}}\n",
            latex_escape(&section.title)
        ));
        for block in &section.blocks {
            match block {
                Block::Paragraph(spans) => {
                    out.push_str(&spans.iter().map(inline).collect::<String>());
                    out.push_str("\n\n");
                }
                Block::Equations(lines) => {
                    out.push_str("\\begin{align*}\n");
                    out.push_str(&aligned(lines));
                    out.push_str("\n\\end{align*}\n\n");
                }
                Block::Table {
                    header,
                    rows,
                    numeric,
                } => {
                    let columns: String = numeric
                        .iter()
                        .map(|&right| if right { 'r' } else { 'l' })
                        .collect();
                    let row = |cells: &[Span]| {
                        let cells: Vec<String> = cells.iter().map(inline).collect();
                        format!("{} \\\\\n", cells.join(" & "))
                    };
                    out.push_str(&format!("\\begin{{longtable}}{{{columns}}}\n\\hline\n"));
                    out.push_str(&row(header));
                    out.push_str("\\hline\n");
                    for cells in rows {
                        out.push_str(&row(cells));
                    }
                    out.push_str("\\hline\n\\end{longtable}\n");
                }
            }
        }
    }
    out.push_str("\\end{document}\n");
    out
}
