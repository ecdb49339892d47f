//! Nearest-boundary candidates per grid cell, for batches: every cell of a lon/lat grid laid over the
//! indexed boundaries keeps the few edge runs that can be nearest to some point of the cell (of each,
//! only the stretch of edges that can), so a distance query walks a short list instead of descending
//! the R-tree. The answer is the tree's, exactly: the same edges, the same arithmetic.
//!
//! Why the list is complete: let `c` be the cell's centre, `d` the distance from `c` to its nearest run
//! and `r` the farthest any point `p` of the cell is from `c` (chords on the unit sphere, a metric). The
//! run nearest to `p` is within `d + r` of `p` (the run nearest to `c` is), hence within `d + 2r` of `c`;
//! the list holds every run within `d + 2r` of `c`, and of each run the edges from its first to its last
//! within that reach.

use geo::Coord;
use rstar::{PointDistance, RTree};

use super::{EdgeRun, segment_distance_2, to_unit_sphere};

/// Side of the top cells, degrees (about 5-7 km in the metropole).
const CELL_DEG: f64 = 1.0 / 16.0;
/// Cells reach this far (degrees) around the boundaries; points farther out ask the tree.
const MARGIN_DEG: i32 = 1;
/// A top cell whose list would be longer is left to the tree (far from every boundary, where lists grow).
const MAX_CANDIDATES: usize = 512;
/// A cell with a longer list is cut in four, down to [`MAX_DEPTH`] times (cells of about 40-60 m).
const LEAF_CANDIDATES: usize = 6;
const MAX_DEPTH: u8 = 7;

/// Candidate runs per cell, over one zone per cluster of boundaries (the metropole, each DROM). A top
/// cell's quadtree is made the first time a point falls in it, by the worker that asks: a batch pays
/// only for the cells its sites touch, from its first row, on all its threads.
#[derive(Debug)]
pub(super) struct CandidateCells {
    zones: Vec<Zone>,
    /// Every run's points, run after run: a candidate names its edges by position here, so a query
    /// reads them from one array rather than through each run's own allocation.
    vertices: Vec<[f64; 3]>,
    /// Where each run's points start in `vertices`, by run id.
    run_starts: Vec<u32>,
}

/// A grid of top cells over one cluster of boundaries, each the root of a quadtree.
#[derive(Debug)]
struct Zone {
    west: f64,
    south: f64,
    nx: usize,
    ny: usize,
    /// Each top cell's quadtree (`iy * nx + ix`), once made.
    tops: Vec<std::sync::OnceLock<Tree>>,
}

/// A quadtree node: a leaf's candidates (`candidates[start..start + len]`; none: ask the tree), or the
/// position of the first of four children (south-west, south-east, north-west, north-east).
#[derive(Debug, Clone, Copy)]
enum Node {
    Leaf { start: u32, len: u32 },
    Split { first: u32 },
}

/// A stretch of one run's edges that can be nearest in a leaf, with a lower bound on its distance
/// (chord) from any point of the leaf. A leaf's candidates come by increasing bound.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    /// The position of the stretch's first vertex in [`CandidateCells::vertices`], shifted left by
    /// [`COUNT_BITS`], over its number of edges less one.
    edges: u32,
    /// No point of the leaf is nearer the stretch than this.
    bound: f32,
}

/// Bits of [`Candidate::edges`] that hold a stretch's number of edges less one (up to
/// [`super::EDGES_PER_RUN`]).
const COUNT_BITS: u32 = 4;
const _: () = assert!(super::EDGES_PER_RUN <= 1 << COUNT_BITS);

/// One top cell's quadtree: its root is node 0; candidates leaf after leaf.
#[derive(Debug)]
struct Tree {
    nodes: Vec<Node>,
    candidates: Vec<Candidate>,
}

impl CandidateCells {
    /// Lays the (empty) top cells over every cluster of runs.
    pub(super) fn new(runs: &[EdgeRun]) -> Self {
        let mut vertices = Vec::with_capacity(runs.iter().map(|r| r.points.len()).sum());
        let mut run_starts = Vec::with_capacity(runs.len());
        for run in runs {
            run_starts.push(u32::try_from(vertices.len()).expect("fewer than 2^32 vertices"));
            vertices.extend_from_slice(&run.points);
        }
        assert!(vertices.len() < 1 << (32 - COUNT_BITS), "too many vertices for the candidate cells");
        let zones = clusters(runs)
            .into_iter()
            .map(|[west, south, east, north]| {
                let nx = ((east - west) / CELL_DEG).ceil() as usize;
                let ny = ((north - south) / CELL_DEG).ceil() as usize;
                let tops = std::iter::repeat_with(std::sync::OnceLock::new).take(nx * ny).collect();
                Zone { west, south, nx, ny, tops }
            })
            .collect();
        Self { zones, vertices, run_starts }
    }

    /// The candidate stretches of the cell holding `c`, `None` when the tree must answer. Makes the
    /// top cell's quadtree from `tree` on first use.
    pub(super) fn candidates(
        &self,
        c: Coord<f64>,
        tree: &RTree<EdgeRun>,
        runs: &[EdgeRun],
    ) -> Option<&[Candidate]> {
        let zone = self.zones.iter().find(|z| {
            c.x >= z.west
                && c.y >= z.south
                && c.x < z.west + z.nx as f64 * CELL_DEG
                && c.y < z.south + z.ny as f64 * CELL_DEG
        })?;
        let ix = (((c.x - zone.west) / CELL_DEG) as usize).min(zone.nx - 1);
        let iy = (((c.y - zone.south) / CELL_DEG) as usize).min(zone.ny - 1);
        let (mut west, mut south, mut size) =
            (zone.west + ix as f64 * CELL_DEG, zone.south + iy as f64 * CELL_DEG, CELL_DEG);
        let top = zone.tops[iy * zone.nx + ix].get_or_init(|| top_cell(tree, runs, self, (west, south)));
        let mut node = top.nodes[0];
        loop {
            match node {
                Node::Leaf { start, len } => {
                    let list = &top.candidates[start as usize..(start + len) as usize];
                    return (!list.is_empty()).then_some(list);
                }
                Node::Split { first } => {
                    size /= 2.0;
                    let east = c.x >= west + size;
                    let north = c.y >= south + size;
                    if east {
                        west += size;
                    }
                    if north {
                        south += size;
                    }
                    node = top.nodes[first as usize + usize::from(east) + 2 * usize::from(north)];
                }
            }
        }
    }

    /// The squared chord distance from `q` to the nearest of a leaf's candidates (a point of the leaf).
    pub(super) fn nearest_of(&self, candidates: &[Candidate], q: [f64; 3]) -> f64 {
        let mut best = f64::INFINITY;
        for c in candidates {
            // Candidates come by increasing bound: once one cannot beat the best, none after it can.
            let bound = f64::from(c.bound);
            if bound * bound > best {
                break;
            }
            let (first, count) = unpack(c.edges);
            for w in self.vertices[first..=first + count].windows(2) {
                // A plain comparison rather than `f64::min`: the distances are never NaN, and
                // `min`'s NaN handling chained every edge to the one before.
                let d2 = segment_distance_2(w[0], w[1], q);
                if d2 < best {
                    best = d2;
                }
            }
        }
        best
    }
}

/// The quadtree of the top cell with this south-west corner: its candidates from the R-tree, then
/// cut while lists are long. An empty root leaf when the list would exceed [`MAX_CANDIDATES`].
fn top_cell(
    tree: &RTree<EdgeRun>,
    runs: &[EdgeRun],
    cells: &CandidateCells,
    (west, south): (f64, f64),
) -> Tree {
    let (centre, r) = centre_and_reach(west, south, CELL_DEG);
    let mut t = Tree { nodes: vec![Node::Leaf { start: 0, len: 0 }], candidates: Vec::new() };
    let Some(nearest) = tree.nearest_neighbor(&centre) else { return t };
    let reach = nearest.distance_2(&centre).sqrt() + 2.0 * r;
    // Each run found, whole, as a stretch of edges.
    let found: Vec<u32> = tree
        .locate_within_distance(centre, reach * reach)
        .map(|run| stretch(cells.run_starts[run.id as usize], runs[run.id as usize].points.len() - 1))
        .collect();
    if found.len() > MAX_CANDIDATES {
        return t;
    }
    t.nodes[0] = cell(&mut t, &cells.vertices, &found, (west, south, CELL_DEG), 0);
    t
}

/// A stretch of `count` edges (1 to [`super::EDGES_PER_RUN`]) from the vertex at `first`, as a
/// [`Candidate::edges`] holds it.
fn stretch(first: u32, count: usize) -> u32 {
    debug_assert!((1..=1 << COUNT_BITS).contains(&count));
    let less_one = (count - 1) as u32;
    first << COUNT_BITS | less_one
}

/// The first vertex and the number of edges of a stretch.
fn unpack(edges: u32) -> (usize, usize) {
    ((edges >> COUNT_BITS) as usize, (edges & ((1 << COUNT_BITS) - 1)) as usize + 1)
}

/// The node of a cell whose parent's list is `list` (complete for every point of the parent, so for the
/// cell's centre too): keeps, of each stretch, the edges from the first to the last that can be nearest
/// in the cell, and cuts the cell in four when the stretches are many. Only the parent's edges are
/// measured, so a cell costs less to make the deeper it is.
fn cell(
    t: &mut Tree,
    vertices: &[[f64; 3]],
    list: &[u32],
    (west, south, size): (f64, f64, f64),
    depth: u8,
) -> Node {
    let (centre, r) = centre_and_reach(west, south, size);
    // Every edge's distance from the centre, stretch after stretch.
    let mut distances = Vec::with_capacity(list.len() * super::EDGES_PER_RUN);
    for &edges in list {
        let (first, count) = unpack(edges);
        distances.extend(
            vertices[first..=first + count].windows(2).map(|w| segment_distance_2(w[0], w[1], centre)),
        );
    }
    let nearest = distances.iter().copied().fold(f64::INFINITY, f64::min);
    let reach = nearest.sqrt() + 2.0 * r;
    let mut kept: Vec<(f64, u32)> = Vec::with_capacity(list.len());
    let mut at = 0;
    for &edges in list {
        let (first, count) = unpack(edges);
        let measured = &distances[at..at + count];
        at += count;
        let within = |d2: &f64| *d2 <= reach * reach;
        if let (Some(a), Some(b)) = (measured.iter().position(within), measured.iter().rposition(within)) {
            let d2 = measured[a..=b].iter().copied().fold(f64::INFINITY, f64::min);
            let vertex = u32::try_from(first + a).expect("fewer than 2^28 vertices");
            kept.push((d2, stretch(vertex, b - a + 1)));
        }
    }
    kept.sort_by(|a, b| a.0.total_cmp(&b.0));
    if kept.len() > LEAF_CANDIDATES && depth < MAX_DEPTH {
        let kept: Vec<u32> = kept.into_iter().map(|(_, edges)| edges).collect();
        let first = t.nodes.len();
        t.nodes.extend([Node::Leaf { start: 0, len: 0 }; 4]);
        let half = size / 2.0;
        for (k, (dx, dy)) in [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)].into_iter().enumerate() {
            t.nodes[first + k] =
                cell(t, vertices, &kept, (west + dx * half, south + dy * half, half), depth + 1);
        }
        return Node::Split { first: u32::try_from(first).expect("fewer than 2^32 nodes") };
    }
    let start = u32::try_from(t.candidates.len()).expect("fewer than 2^32 candidates");
    // No point of the cell is nearer a stretch than its distance to the centre less `r`; rounded
    // down, so a query may stop at the first stretch whose bound exceeds its best distance.
    #[allow(clippy::cast_possible_truncation)]
    t.candidates.extend(kept.iter().map(|&(d2, edges)| Candidate {
        edges,
        bound: ((d2.sqrt() - r).max(0.0) as f32).next_down().max(0.0),
    }));
    Node::Leaf { start, len: u32::try_from(kept.len()).expect("fewer than 2^32 candidates") }
}

/// A cell's centre on the unit sphere and the farthest any of its points is from it (chord). The cell
/// is small enough for the farthest points to be corners; 1% spare.
fn centre_and_reach(west: f64, south: f64, size: f64) -> ([f64; 3], f64) {
    let centre = to_unit_sphere(Coord { x: west + size / 2.0, y: south + size / 2.0 });
    let corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0)];
    let r = corners
        .iter()
        .map(|&(a, b)| chord(centre, to_unit_sphere(Coord { x: west + a * size, y: south + b * size })))
        .fold(0.0, f64::max)
        * 1.01;
    (centre, r)
}

fn chord(a: [f64; 3], b: [f64; 3]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

/// The lon/lat boxes of the clusters of runs: whole degrees touched by a run, widened by
/// [`MARGIN_DEG`], joined where they touch.
fn clusters(runs: &[EdgeRun]) -> Vec<[f64; 4]> {
    const W: usize = 360;
    const H: usize = 180;
    let mut touched = vec![false; W * H];
    for run in runs {
        for p in run.points.iter() {
            let lon = p[1].atan2(p[0]).to_degrees();
            let lat = p[2].clamp(-1.0, 1.0).asin().to_degrees();
            let x = ((lon + 180.0).floor() as i32).clamp(0, W as i32 - 1);
            let y = ((lat + 90.0).floor() as i32).clamp(0, H as i32 - 1);
            for dy in -MARGIN_DEG..=MARGIN_DEG {
                for dx in -MARGIN_DEG..=MARGIN_DEG {
                    let (x, y) = (x + dx, y + dy);
                    if (0..W as i32).contains(&x) && (0..H as i32).contains(&y) {
                        touched[y as usize * W + x as usize] = true;
                    }
                }
            }
        }
    }
    // Connected components of touched degrees, each as its bounding box.
    let mut seen = vec![false; W * H];
    let mut boxes = Vec::new();
    for start in 0..W * H {
        if !touched[start] || seen[start] {
            continue;
        }
        let (mut x0, mut y0, mut x1, mut y1) = (W, H, 0, 0);
        let mut stack = vec![start];
        seen[start] = true;
        while let Some(i) = stack.pop() {
            let (x, y) = (i % W, i / W);
            (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            let neighbours = [
                (x > 0).then(|| i - 1),
                (x + 1 < W).then(|| i + 1),
                (y > 0).then(|| i - W),
                (y + 1 < H).then(|| i + W),
            ];
            for n in neighbours.into_iter().flatten() {
                if touched[n] && !seen[n] {
                    seen[n] = true;
                    stack.push(n);
                }
            }
        }
        boxes.push([x0 as f64 - 180.0, y0 as f64 - 90.0, x1 as f64 - 179.0, y1 as f64 - 89.0]);
    }
    boxes
}

#[cfg(test)]
mod tests {
    use super::super::{EdgeIndex, SpherePoint};
    use geo::{LineString, MultiPolygon, Point, Polygon};

    /// A wavy ring of `n` vertices around (`x`, `y`), so runs are many and short as on real outlines.
    fn wavy(x: f64, y: f64, radius: f64, n: usize) -> MultiPolygon<f64> {
        let ring: LineString<f64> = (0..=n)
            .map(|i| {
                let a = std::f64::consts::TAU * (i % n) as f64 / n as f64;
                let r = radius * (1.0 + 0.15 * (7.0 * a).sin() + 0.05 * (31.0 * a).cos());
                (x + r * a.cos(), y + r * a.sin())
            })
            .collect();
        MultiPolygon(vec![Polygon::new(ring, vec![])])
    }

    /// The cells give the tree's distance, to the bit, for points inside, around and far from two
    /// outlines an ocean apart, some outside every cell.
    #[test]
    fn cells_answer_as_the_tree_does() {
        let a = wavy(3.0, 49.0, 0.8, 900);
        let b = wavy(55.5, -21.1, 0.25, 300);
        let index = EdgeIndex::build(&[&a, &b]);
        let points: Vec<Point<f64>> = (0..80)
            .flat_map(|i| (0..80).map(move |j| (f64::from(i) / 80.0, f64::from(j) / 80.0)))
            .flat_map(|(u, v)| {
                [Point::new(-1.0 + 8.0 * u, 45.0 + 8.0 * v), Point::new(53.0 + 5.0 * u, -23.5 + 5.0 * v)]
            })
            .collect();
        let spheres: Vec<SpherePoint> = points.iter().map(|&p| SpherePoint::new(p)).collect();
        let by_tree: Vec<_> = spheres.iter().map(|p| index.distance_m(p)).collect();
        index.prepare_cells();
        let cells = index.cells.get().expect("prepared");
        let in_cells =
            points.iter().filter(|p| cells.candidates(p.0, &index.tree, &index.runs).is_some()).count();
        assert!(in_cells > points.len() / 4 && in_cells < points.len(), "{in_cells} of {}", points.len());
        let by_cells: Vec<_> = spheres.iter().map(|p| index.distance_m(p)).collect();
        assert_eq!(by_tree, by_cells);
    }
}
