//! Computation graphs drawn as SVG without Graphviz: the DOT text of
//! [`Graph::to_dot`] laid out and rendered by the pure-Rust `layout-rs`
//! crate, so the picture shows exactly what the DOT says.

use std::path::Path;

use layout::backends::svg::SVGWriter;
use layout::gv::{DotParser, GraphBuilder};

use crate::autograd::Graph;

impl Graph {
    /// The graph drawn as an SVG document (layout-rs's layered layout, top
    /// to bottom). Layout time grows faster than the number of nodes: it is
    /// meant for graphs of up to a few hundred.
    pub fn to_svg(&self) -> String {
        let dot = self.to_dot();
        let ast = DotParser::new(&dot).process().unwrap_or_else(|error| {
            panic!("to_svg: layout-rs cannot read the DOT written by to_dot: {error}")
        });
        let mut builder = GraphBuilder::new();
        builder.visit_graph(&ast);
        let mut svg = SVGWriter::new();
        builder.get().do_it(false, false, false, &mut svg);
        svg.finalize()
    }

    /// Writes [`Graph::to_svg`] to `path`; the file appears complete or not
    /// at all.
    pub fn save_svg(&self, path: impl AsRef<Path>) -> Result<(), crate::io::Error> {
        crate::io::write_atomically(path.as_ref(), self.to_svg().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use crate::Tensor;
    use crate::autograd::Graph;

    #[test]
    fn every_box_and_gradient_is_drawn() {
        let w = Tensor::from_slice(&[0.5, -1.5], &[2]).with_requires_grad(true);
        let x = Tensor::from_slice(&[2.0, 3.0], &[2]);
        let loss = (&w * &x).square().sum_all(); // a tensor used twice: two arrows
        let names = HashMap::from([(w.id(), "w \"<weights>\" & co".to_string())]);
        let svg = Graph::trace(&loss, &loss.backward_retaining(), &names).to_svg();
        assert!(svg.starts_with("<?xml"), "{svg}");
        assert!(svg.trim_end().ends_with("</svg>"), "{svg}");
        for text in [
            "w &quot;&lt;weights&gt;&quot; &amp; co [2]",
            "grad: [4, -27]",
            "sum []",
            "grad: 1",
        ] {
            assert!(svg.contains(text), "{text} missing from\n{svg}");
        }
    }

    #[test]
    fn a_graph_of_one_leaf_is_drawn() {
        let x = Tensor::from_slice(&[1.0], &[1]);
        let graph = Graph::trace(&x, &Default::default(), &HashMap::new());
        assert!(graph.to_svg().contains("input [1]"));
    }
}
