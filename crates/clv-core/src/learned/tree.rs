//! One regression tree grown on gradient histograms, level by level to a depth (Chen & Guestrin
//! 2016, §2.2, eq. 6–7: leaf weight −G/(H + λ), split gain G_L²/(H_L + λ) + G_R²/(H_R + λ) −
//! G²/(H + λ)). A child's histogram is its parent's minus its sibling's (built over the smaller of
//! the two), as LightGBM does.

use serde::{Deserialize, Serialize};

use super::bins::{BinnedMatrix, Cuts};

/// Which way a split sends a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Rule {
    /// Numeric: bins up to `bin` go left — missing values and values ≤ `threshold` (none: only
    /// the missing ones).
    AtMost {
        /// The last bin that goes left.
        bin: u8,
        /// The value at the bin's upper edge (what a person reads).
        threshold: Option<f64>,
    },
    /// Categorical: the bins whose bit is set go left (bit b of the 256-bit mask).
    InSet {
        /// Bins going left.
        mask: [u64; 4],
    },
}

impl Rule {
    fn left(&self, bin: u8) -> bool {
        match self {
            Rule::AtMost { bin: b, .. } => bin <= *b,
            Rule::InSet { mask } => mask[usize::from(bin / 64)] >> (bin % 64) & 1 == 1,
        }
    }
}

/// A node of a tree: a split or a leaf's value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Node {
    /// Rows go to `left` or `right` by `rule` on column `feature`.
    Split {
        /// The column.
        feature: u32,
        /// The test.
        rule: Rule,
        /// Node index of the left child.
        left: u32,
        /// Node index of the right child.
        right: u32,
    },
    /// The value a row reaching here adds to its score.
    Leaf {
        /// The value (learning rate applied).
        value: f64,
    },
}

/// A regression tree: node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// The nodes.
    pub nodes: Vec<Node>,
}

impl Tree {
    /// The leaf (node index) row `row` of `m` reaches.
    pub fn leaf(&self, m: &BinnedMatrix, row: usize) -> usize {
        let mut at = 0;
        while let Node::Split { feature, rule, left, right } = &self.nodes[at] {
            at = if rule.left(m.bins[*feature as usize][row]) { *left } else { *right } as usize;
        }
        at
    }

    /// The value the tree adds to row `row`'s score.
    pub fn value(&self, m: &BinnedMatrix, row: usize) -> f64 {
        match self.nodes[self.leaf(m, row)] {
            Node::Leaf { value } => value,
            Node::Split { .. } => unreachable!("leaf() ends at a leaf"),
        }
    }

    /// Levels of splits on the longest path.
    pub fn depth(&self) -> usize {
        fn below(nodes: &[Node], at: usize) -> usize {
            match &nodes[at] {
                Node::Leaf { .. } => 0,
                Node::Split { left, right, .. } => 1 + below(nodes, *left as usize).max(below(nodes, *right as usize)),
            }
        }
        below(&self.nodes, 0)
    }

    /// The leaf each of the rows `first..first + at.len()` of `m` reaches, into `at`: level by level
    /// over the whole block (one tight loop a level, a row at a leaf staying there), which scores a
    /// million customers several times faster than walking each row down alone.
    pub fn leaves_of_block(&self, m: &BinnedMatrix, first: usize, depth: usize, at: &mut [u32]) {
        at.fill(0);
        for _ in 0..depth {
            for (k, node) in at.iter_mut().enumerate() {
                if let Node::Split { feature, rule, left, right } = &self.nodes[*node as usize] {
                    *node = if rule.left(m.bins[*feature as usize][first + k]) { *left } else { *right };
                }
            }
        }
    }

    /// The value of leaf `node`.
    pub fn leaf_value(&self, node: usize) -> f64 {
        match self.nodes[node] {
            Node::Leaf { value } => value,
            Node::Split { .. } => unreachable!("leaves_of_block ends every row at a leaf"),
        }
    }

    /// Add the tree's value to every row's score (`scores[i]` is row i of `m`), blocks in parallel
    /// natively (each row's sum is the same whatever the threads).
    pub fn add_to(&self, m: &BinnedMatrix, scores: &mut [f64]) {
        use rayon::prelude::*;
        let depth = self.depth();
        scores.par_chunks_mut(BLOCK).enumerate().for_each(|(b, out)| {
            let mut at = vec![0u32; out.len()];
            self.leaves_of_block(m, b * BLOCK, depth, &mut at);
            out.iter_mut().zip(&at).for_each(|(f, node)| *f += self.leaf_value(*node as usize));
        });
    }

    /// Multiply every leaf's value (the learning rate).
    pub(crate) fn scale(&mut self, by: f64) {
        for n in &mut self.nodes {
            if let Node::Leaf { value } = n {
                *value *= by;
            }
        }
    }

    /// Set a leaf's value.
    pub(crate) fn set_leaf(&mut self, node: usize, v: f64) {
        self.nodes[node] = Node::Leaf { value: v };
    }
}

/// Rows walked through a tree together ([`Tree::leaves_of_block`]): a block's bins and a tree's
/// nodes stay in cache.
pub(crate) const BLOCK: usize = 2048;

/// What limits a tree's growth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// Levels of splits (1: a stump).
    pub max_depth: usize,
    /// Fewest rows in a leaf.
    pub min_leaf: usize,
    /// Smallest sum of Hessians in a leaf.
    pub min_leaf_hessian: f64,
    /// L2 penalty on leaf values (λ).
    pub lambda: f64,
}

#[derive(Clone, Copy, Default)]
struct Cell {
    g: f64,
    h: f64,
    n: u32,
}

impl Cell {
    fn add(&mut self, o: &Cell) {
        self.g += o.g;
        self.h += o.h;
        self.n += o.n;
    }
    fn minus(&self, o: &Cell) -> Cell {
        Cell { g: self.g - o.g, h: self.h - o.h, n: self.n - o.n }
    }
}

type Histogram = Vec<Vec<Cell>>;

struct Candidate {
    feature: usize,
    rule: Rule,
    gain: f64,
}

/// A grown tree (leaf values −G/(H + λ), no learning rate yet), the rows in each leaf (node index,
/// rows), and the gain each split added, by feature.
pub struct Grown {
    /// The tree.
    pub tree: Tree,
    /// Each leaf's node index and rows.
    pub leaves: Vec<(usize, Vec<u32>)>,
    /// Summed split gain per feature (index for index with the matrix's columns).
    pub gain: Vec<f64>,
}

/// Grow a tree on `rows` of `m`, splitting only on `features`, from gradients `g` and Hessians `h`
/// (indexed by row of `m`).
pub fn grow(m: &BinnedMatrix, rows: Vec<u32>, features: &[usize], g: &[f64], h: &[f64], p: &Growth) -> Grown {
    let mut nodes = vec![Node::Leaf { value: 0.0 }];
    let mut gain = vec![0.0; m.cuts.len()];
    let mut leaves = Vec::new();
    let root_hist = histogram(m, &rows, features, g, h);
    // (node, rows, depth, histogram)
    let mut level = vec![(0usize, rows, 0usize, root_hist)];
    while !level.is_empty() {
        let mut next = Vec::new();
        for (node, rows, depth, hist) in level {
            let total = total_of(&hist, features);
            let split = if depth < p.max_depth { best_split(m, &hist, features, &total, p) } else { None };
            let Some(split) = split else {
                nodes[node] = Node::Leaf { value: -total.g / (total.h + p.lambda) };
                leaves.push((node, rows));
                continue;
            };
            gain[split.feature] += split.gain;
            let column = &m.bins[split.feature];
            let (left_rows, right_rows): (Vec<u32>, Vec<u32>) =
                rows.into_iter().partition(|r| split.rule.left(column[*r as usize]));
            let (small, large_is_left) =
                if left_rows.len() <= right_rows.len() { (&left_rows, false) } else { (&right_rows, true) };
            let small_hist = histogram(m, small, features, g, h);
            let large_hist = subtract(&hist, &small_hist, features);
            let (left_hist, right_hist) =
                if large_is_left { (large_hist, small_hist) } else { (small_hist, large_hist) };
            let (left, right) = (nodes.len(), nodes.len() + 1);
            nodes.push(Node::Leaf { value: 0.0 });
            nodes.push(Node::Leaf { value: 0.0 });
            nodes[node] =
                Node::Split { feature: split.feature as u32, rule: split.rule, left: left as u32, right: right as u32 };
            next.push((left, left_rows, depth + 1, left_hist));
            next.push((right, right_rows, depth + 1, right_hist));
        }
        level = next;
    }
    Grown { tree: Tree { nodes }, leaves, gain }
}

fn histogram(m: &BinnedMatrix, rows: &[u32], features: &[usize], g: &[f64], h: &[f64]) -> Histogram {
    let mut hist: Histogram = m.cuts.iter().map(|_| Vec::new()).collect();
    for &f in features {
        let mut cells = vec![Cell::default(); m.cuts[f].bins()];
        let column = &m.bins[f];
        for &r in rows {
            let c = &mut cells[usize::from(column[r as usize])];
            c.g += g[r as usize];
            c.h += h[r as usize];
            c.n += 1;
        }
        hist[f] = cells;
    }
    hist
}

fn subtract(parent: &Histogram, child: &Histogram, features: &[usize]) -> Histogram {
    let mut out: Histogram = parent.iter().map(|_| Vec::new()).collect();
    for &f in features {
        out[f] = parent[f].iter().zip(&child[f]).map(|(p, c)| p.minus(c)).collect();
    }
    out
}

fn total_of(hist: &Histogram, features: &[usize]) -> Cell {
    let mut t = Cell::default();
    if let Some(&f) = features.first() {
        hist[f].iter().for_each(|c| t.add(c));
    }
    t
}

fn score(c: &Cell, lambda: f64) -> f64 {
    c.g * c.g / (c.h + lambda)
}

fn allowed(c: &Cell, p: &Growth) -> bool {
    c.n as usize >= p.min_leaf && c.h >= p.min_leaf_hessian
}

/// The split of largest positive gain over every feature and bin boundary (ties: the first found,
/// features in order, bins ascending).
fn best_split(m: &BinnedMatrix, hist: &Histogram, features: &[usize], total: &Cell, p: &Growth) -> Option<Candidate> {
    let parent = score(total, p.lambda);
    let mut best: Option<Candidate> = None;
    let mut consider = |feature: usize, left: &Cell, rule: &dyn Fn() -> Rule| {
        let right = total.minus(left);
        if !(allowed(left, p) && allowed(&right, p)) {
            return;
        }
        let gain = score(left, p.lambda) + score(&right, p.lambda) - parent;
        if gain > 1e-12 * parent.abs().max(1e-300) && best.as_ref().is_none_or(|b| gain > b.gain) {
            best = Some(Candidate { feature, rule: rule(), gain });
        }
    };
    for &f in features {
        let cells = &hist[f];
        let mut left = Cell::default();
        match &m.cuts[f] {
            Cuts::Numeric(edges) => {
                for (b, cell) in cells.iter().enumerate().take(cells.len() - 1) {
                    left.add(cell);
                    let threshold = b.checked_sub(1).map(|e| edges[e]);
                    consider(f, &left, &|| Rule::AtMost { bin: b as u8, threshold });
                }
            }
            Cuts::Categorical(_) => {
                // Categories in order of their mean gradient: the best subset split is a prefix
                // of that order for these losses (Fisher 1958; LightGBM's categorical split).
                let mut order: Vec<usize> = (0..cells.len()).filter(|b| cells[*b].n > 0).collect();
                order.sort_by(|a, b| {
                    let key = |c: &Cell| c.g / (c.h + p.lambda);
                    key(&cells[*a]).total_cmp(&key(&cells[*b])).then(a.cmp(b))
                });
                let mut mask = [0u64; 4];
                for &b in order.iter().take(order.len().saturating_sub(1)) {
                    left.add(&cells[b]);
                    mask[b / 64] |= 1 << (b % 64);
                    consider(f, &left, &|| Rule::InSet { mask });
                }
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learned::{Column, FeatureMatrix};

    fn matrix(columns: Vec<Column>) -> BinnedMatrix {
        let names = (0..columns.len()).map(|i| format!("x{i}")).collect();
        BinnedMatrix::fit(&FeatureMatrix::new(names, columns).unwrap(), 255)
    }

    const STUMP: Growth = Growth { max_depth: 1, min_leaf: 1, min_leaf_hessian: 0.0, lambda: 0.0 };

    /// Squared error from a constant 0: g = −y, h = 1. Targets 1, 1, 3, 3 at x = 1..4: the best
    /// cut is between 2 and 3, leaves −G/H = 1 and 3, gain 2²/2 + 6²/2 − 8²/4 = 4.
    #[test]
    fn a_stump_by_hand() {
        let m = matrix(vec![Column::Numeric(vec![1.0, 2.0, 3.0, 4.0])]);
        let (g, h) = (vec![-1.0, -1.0, -3.0, -3.0], vec![1.0; 4]);
        let grown = grow(&m, vec![0, 1, 2, 3], &[0], &g, &h, &STUMP);
        let Node::Split { rule: Rule::AtMost { threshold, .. }, .. } = &grown.tree.nodes[0] else { panic!() };
        assert_eq!(*threshold, Some(2.5));
        assert_eq!((0..4).map(|r| grown.tree.value(&m, r)).collect::<Vec<_>>(), vec![1.0, 1.0, 3.0, 3.0]);
        assert_eq!(grown.gain, vec![4.0]);
        // λ = 1 shrinks the leaves to −G/(H + 1): 2/3 and 2.
        let grown = grow(&m, vec![0, 1, 2, 3], &[0], &g, &h, &Growth { lambda: 1.0, ..STUMP });
        assert_eq!(grown.tree.value(&m, 0), 2.0 / 3.0);
        assert_eq!(grown.tree.value(&m, 3), 2.0);
    }

    /// Depth 2 on y = 10·[x0 > 0] + [x1 > 0]: the first split is on x0 (gain 100 against 1), the
    /// second on x1 on both sides; every row gets its own target back. A leaf with fewer rows than
    /// `min_leaf` is not made; a feature left out is never split on.
    #[test]
    fn depth_two_finds_both_effects_and_respects_its_limits() {
        let x0 = vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        let x1 = vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0];
        let y: Vec<f64> = x0.iter().zip(&x1).map(|(a, b)| 10.0 * a + b).collect();
        let m = matrix(vec![Column::Numeric(x0), Column::Numeric(x1)]);
        let g: Vec<f64> = y.iter().map(|y| -y).collect();
        let h = vec![1.0; 8];
        let p = Growth { max_depth: 2, ..STUMP };
        let grown = grow(&m, (0..8).collect(), &[0, 1], &g, &h, &p);
        assert!(matches!(grown.tree.nodes[0], Node::Split { feature: 0, .. }));
        assert_eq!((0..8).map(|r| grown.tree.value(&m, r)).collect::<Vec<_>>(), y);
        assert_eq!(grown.leaves.len(), 4);
        assert_eq!(grown.leaves.iter().map(|(_, r)| r.len()).sum::<usize>(), 8);
        // Leaves of at least 3 rows: the x1 splits (2 rows a side) are refused.
        let grown = grow(&m, (0..8).collect(), &[0, 1], &g, &h, &Growth { min_leaf: 3, ..p });
        assert_eq!(grown.leaves.len(), 2);
        let grown = grow(&m, (0..8).collect(), &[1], &g, &h, &p);
        assert!(grown.tree.nodes.iter().all(|n| !matches!(n, Node::Split { feature: 0, .. })));
    }

    /// Categories a, b, c, d with targets 5, 0, 5, 0: one split sends {a, c} one way and {b, d}
    /// the other (no ordering of the codes could with a threshold).
    #[test]
    fn a_categorical_split_groups_categories() {
        let codes = vec![Some(0), Some(1), Some(2), Some(3), Some(0), Some(1), Some(2), Some(3)];
        let levels = vec!["a".into(), "b".into(), "c".into(), "d".into()];
        let m = matrix(vec![Column::Categorical { codes: codes.clone(), levels }]);
        let y: Vec<f64> = codes.iter().map(|c| if c.unwrap() % 2 == 0 { 5.0 } else { 0.0 }).collect();
        let g: Vec<f64> = y.iter().map(|y| -y).collect();
        let grown = grow(&m, (0..8).collect(), &[0], &g, &[1.0; 8], &STUMP);
        assert_eq!((0..8).map(|r| grown.tree.value(&m, r)).collect::<Vec<_>>(), y);
    }

    /// Nothing to gain (every target equal): the root stays a leaf.
    #[test]
    fn no_split_without_gain() {
        let m = matrix(vec![Column::Numeric(vec![1.0, 2.0, 3.0])]);
        let grown = grow(&m, vec![0, 1, 2], &[0], &[-2.0; 3], &[1.0; 3], &STUMP);
        assert_eq!(grown.tree.nodes, vec![Node::Leaf { value: 2.0 }]);
    }
}
