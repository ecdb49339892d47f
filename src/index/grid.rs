//! A cell grid over polygon pieces that answers most point-in-polygon questions in a few nanoseconds.
//!
//! Each populated region (the metropole, each overseas département) gets a grid of cells about a
//! kilometre wide. A cell is empty, wholly inside one polygon, or *mixed*: it then lists the polygons
//! that reach it, each with the edges crossing the cell and whether the cell's centre is inside. A point
//! in a mixed cell is inside a polygon when the centre is and the segment from the point to the centre
//! crosses the polygon's edges an even number of times (or the reverse), which only needs the edges of
//! that one cell. Every test is an exact orientation predicate (`geo`'s robust kernel), so answers are
//! the same as `geo::Intersects` on the whole polygon, boundary included. Cells whose centre lies on an
//! edge are marked for the caller's slow path.

use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::{BoundingRect, Coord, Polygon};
use std::borrow::Cow;

use smallvec::SmallVec;

/// Cell height in degrees of latitude (about 1.1 km); widths are scaled so cells are near square.
const CELL_DEG: f64 = 0.01;
/// Cells are widened by this much (about 0.1 mm) when collecting edges, so that a point rounded into a
/// neighbouring cell still has every edge between it and the centre.
const MARGIN: f64 = 1e-9;
/// Scanline crossings closer than this to a centre are decided by an exact predicate.
const TIE: f64 = 1e-9;

const EMPTY: u32 = u32::MAX;
const FALLBACK: u32 = u32::MAX - 1;
const MIXED: u32 = 1 << 31;
/// A coarse block whose cells differ: the point's own cell decides.
const DESCEND: u32 = u32::MAX - 2;
/// Cells per side of a coarse block. The coarse array of the metropole (16,000 blocks, 64 kB) stays in
/// a core's L2 cache, while its million cells (4 MB) do not: a point in the sea, abroad or well inside
/// a large commune is answered without a cache miss. Blocks of 4 × 4 cells answered no faster.
const COARSE: usize = 8;

/// Polygons covering a point (geometry indexes), usually one.
pub type Hits = SmallVec<[u32; 2]>;

/// The grids of every populated region.
///
/// A mixed cell is one contiguous block of `blocks`, so answering it touches one place in memory: the
/// number of candidates, then for each a header (geometry, centre inside, vertex count) and the
/// vertices of the edges it has in the cell, as runs separated by a NaN vertex.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct CellGrid {
    zones: Vec<Zone>,
    /// The blocks' words, little-endian: built here, or read in place from a snapshot, which stores them
    /// apart ([`CellGrid::words`], [`CellGrid::attach_words`]).
    #[serde(skip)]
    blocks: Cow<'static, [u8]>,
    /// Cells, mixed cells and stored edges, for reports.
    stats: (usize, usize, usize),
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct Zone {
    /// Bounding box of the pieces: `[west, south, east, north]`.
    bbox: [f64; 4],
    dx: f64,
    dy: f64,
    nx: usize,
    ny: usize,
    /// `EMPTY`, `FALLBACK`, `MIXED | offset of the block`, or the one geometry wholly covering the cell.
    #[serde(with = "words")]
    cells: Vec<u32>,
    /// Per block of `COARSE` × `COARSE` cells: `EMPTY` or the geometry when every cell of the block
    /// says the same, else `DESCEND`. Derived from `cells`, so never stored.
    #[serde(skip)]
    coarse: Vec<u32>,
    /// Blocks per row of `coarse`.
    #[serde(skip)]
    coarse_nx: usize,
}

impl Zone {
    fn new(bbox: [f64; 4]) -> Self {
        let mid = f64::midpoint(bbox[1], bbox[3]).to_radians().cos().max(0.2);
        let (dx, dy) = (CELL_DEG / mid, CELL_DEG);
        let nx = (((bbox[2] - bbox[0]) / dx).ceil() as usize).max(1);
        let ny = (((bbox[3] - bbox[1]) / dy).ceil() as usize).max(1);
        Self { bbox, dx, dy, nx, ny, cells: vec![EMPTY; nx * ny], coarse: Vec::new(), coarse_nx: 0 }
    }

    /// Fills `coarse` from `cells`.
    fn summarise(&mut self) {
        let (cnx, cny) = (self.nx.div_ceil(COARSE), self.ny.div_ceil(COARSE));
        let mut coarse = vec![DESCEND; cnx * cny];
        for (cj, row) in coarse.chunks_exact_mut(cnx).enumerate() {
            for (ci, block) in row.iter_mut().enumerate() {
                let mut cells = (cj * COARSE..((cj + 1) * COARSE).min(self.ny)).flat_map(|j| {
                    let i0 = j * self.nx + ci * COARSE;
                    &self.cells[i0..i0 + COARSE.min(self.nx - ci * COARSE)]
                });
                let first = cells.next().copied().unwrap_or(DESCEND);
                let plain = first == EMPTY || first & MIXED == 0;
                if plain && cells.all(|&v| v == first) {
                    *block = first;
                }
            }
        }
        self.coarse = coarse;
        self.coarse_nx = cnx;
    }

    /// The value of the cell `(i, j)`: its block's when the block is uniform.
    #[inline]
    fn value(&self, i: usize, j: usize) -> u32 {
        match self.coarse.get((j / COARSE) * self.coarse_nx + i / COARSE) {
            Some(&v) if v != DESCEND => v,
            _ => self.cells[j * self.nx + i],
        }
    }

    fn contains(&self, p: Coord<f64>) -> bool {
        let b = self.bbox;
        p.x >= b[0] && p.x <= b[2] && p.y >= b[1] && p.y <= b[3]
    }

    fn cell_of(&self, p: Coord<f64>) -> (usize, usize) {
        // Truncation after a non-negative offset is floor; the last row and column are closed.
        let i = (((p.x - self.bbox[0]) / self.dx) as usize).min(self.nx - 1);
        let j = (((p.y - self.bbox[1]) / self.dy) as usize).min(self.ny - 1);
        (i, j)
    }

    /// The centre of a cell, computed the same way at build and at query time.
    fn centre(&self, i: usize, j: usize) -> Coord<f64> {
        Coord { x: self.bbox[0] + (i as f64 + 0.5) * self.dx, y: self.bbox[1] + (j as f64 + 0.5) * self.dy }
    }

    fn cell_rect(&self, i: usize, j: usize) -> [f64; 4] {
        let x = self.bbox[0] + i as f64 * self.dx;
        let y = self.bbox[1] + j as f64 * self.dy;
        [x - MARGIN, y - MARGIN, x + self.dx + MARGIN, y + self.dy + MARGIN]
    }

    /// Cells `(i0..=i1, j0..=j1)` touched by a box widened by the margin.
    fn cell_range(&self, b: [f64; 4]) -> (usize, usize, usize, usize) {
        let col = |x: f64| (((x - self.bbox[0]) / self.dx).floor().max(0.0) as usize).min(self.nx - 1);
        let row = |y: f64| (((y - self.bbox[1]) / self.dy).floor().max(0.0) as usize).min(self.ny - 1);
        (col(b[0] - MARGIN), col(b[2] + MARGIN), row(b[1] - MARGIN), row(b[3] + MARGIN))
    }
}

/// What one piece contributes to one cell.
struct Part {
    cell: u32,
    centre_inside: bool,
    /// The centre is on the piece's boundary: the cell must use the slow path.
    ambiguous: bool,
    /// Range of the piece's run vertices.
    verts: (u32, u32),
}

/// Everything one piece contributes, computed independently of the other pieces.
struct PieceParts {
    zone: usize,
    geometry: u32,
    parts: Vec<Part>,
    /// Runs of vertices per part, each run ended by a NaN vertex.
    verts: Vec<Coord<f64>>,
}

fn orient(p: Coord<f64>, q: Coord<f64>, r: Coord<f64>) -> Orientation {
    RobustKernel::orient2d(p, q, r)
}

fn bbox_of(a: Coord<f64>, b: Coord<f64>) -> [f64; 4] {
    [a.x.min(b.x), a.y.min(b.y), a.x.max(b.x), a.y.max(b.y)]
}

/// Conservative segment–rectangle overlap: false only when the segment surely misses the rectangle.
fn segment_meets_rect(a: Coord<f64>, b: Coord<f64>, r: [f64; 4]) -> bool {
    let e = bbox_of(a, b);
    if e[2] < r[0] || e[0] > r[2] || e[3] < r[1] || e[1] > r[3] {
        return false;
    }
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let tol = 1e-12 * (dx.abs() + dy.abs());
    let side = |x: f64, y: f64| dx * (y - a.y) - dy * (x - a.x);
    let s = [side(r[0], r[1]), side(r[2], r[1]), side(r[2], r[3]), side(r[0], r[3])];
    !(s.iter().all(|&v| v > tol) || s.iter().all(|&v| v < -tol))
}

/// Groups piece bounding boxes into regions: boxes whose whole-degree cells touch share a region.
fn regions(bboxes: &[[f64; 4]]) -> (Vec<[f64; 4]>, Vec<usize>) {
    use std::collections::HashMap;
    let degree = |v: f64| v.floor() as i32;
    let mut occupied: HashMap<(i32, i32), usize> = HashMap::new();
    for b in bboxes {
        for x in degree(b[0])..=degree(b[2]) {
            for y in degree(b[1])..=degree(b[3]) {
                occupied.insert((x, y), usize::MAX);
            }
        }
    }
    let mut cells: Vec<(i32, i32)> = occupied.keys().copied().collect();
    cells.sort_unstable();
    let mut count = 0;
    for start in cells {
        if occupied[&start] != usize::MAX {
            continue;
        }
        let mut stack = vec![start];
        occupied.insert(start, count);
        while let Some((x, y)) = stack.pop() {
            for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)] {
                if occupied.get(&(nx, ny)) == Some(&usize::MAX) {
                    occupied.insert((nx, ny), count);
                    stack.push((nx, ny));
                }
            }
        }
        count += 1;
    }
    let mut boxes = vec![[f64::INFINITY, f64::INFINITY, f64::NEG_INFINITY, f64::NEG_INFINITY]; count];
    let region_of: Vec<usize> = bboxes
        .iter()
        .map(|b| {
            let r = occupied[&(degree(b[0]), degree(b[1]))];
            let z = &mut boxes[r];
            *z = [z[0].min(b[0]), z[1].min(b[1]), z[2].max(b[2]), z[3].max(b[3])];
            r
        })
        .collect();
    (boxes, region_of)
}

/// Rasterises one piece over its zone: the edges it has in each cell (as vertex runs) and, by
/// scanline, whether each cell centre in its box is inside.
fn piece_parts(zone: &Zone, z: usize, geometry: u32, poly: &Polygon<f64>, bbox: [f64; 4]) -> PieceParts {
    let (i0, i1, j0, j1) = zone.cell_range(bbox);
    let (w, h) = (i1 - i0 + 1, j1 - j0 + 1);
    let coords: Vec<Coord<f64>> = std::iter::once(poly.exterior())
        .chain(poly.interiors())
        .flat_map(|ring| ring.0.iter().copied().chain(std::iter::once(Coord { x: f64::NAN, y: f64::NAN })))
        .collect();
    // (cell within the piece box, edge k from coords[k] to coords[k + 1]).
    let mut cell_edges: Vec<(u32, u32)> = Vec::new();
    // Scanline crossings per row of the piece box: (x, edge).
    let mut rows: Vec<Vec<(f64, u32)>> = vec![Vec::new(); h];
    for k in 0..coords.len().saturating_sub(1) {
        let (a, b) = (coords[k], coords[k + 1]);
        if a.x.is_nan() || b.x.is_nan() || a == b {
            continue;
        }
        let k = k as u32;
        let (ei0, ei1, ej0, ej1) = zone.cell_range(bbox_of(a, b));
        for j in ej0..=ej1 {
            for i in ei0..=ei1 {
                if segment_meets_rect(a, b, zone.cell_rect(i, j)) {
                    cell_edges.push((((j - j0) * w + (i - i0)) as u32, k));
                }
            }
            // Half-open rule: a vertex on the scanline counts on the upper side.
            let cy = zone.centre(0, j).y;
            if (a.y > cy) != (b.y > cy) {
                let x = a.x + (cy - a.y) * (b.x - a.x) / (b.y - a.y);
                rows[j - j0].push((x, k));
            }
        }
    }
    cell_edges.sort_unstable();
    for row in &mut rows {
        row.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    }
    let mut out = PieceParts { zone: z, geometry, parts: Vec::new(), verts: Vec::new() };
    let mut next_edge = cell_edges.iter().peekable();
    for (r, row) in rows.iter().enumerate() {
        for c in 0..w {
            let local = (r * w + c) as u32;
            let (i, j) = (i0 + c, j0 + r);
            let centre = zone.centre(i, j);
            let mut ambiguous = false;
            // Crossings surely right of the centre, then the near ones decided exactly.
            let lo = row.partition_point(|&(x, _)| x < centre.x - TIE);
            let hi = row.partition_point(|&(x, _)| x <= centre.x + TIE);
            let mut crossings = row.len() - hi;
            for &(_, k) in &row[lo..hi] {
                let (a, b) = (coords[k as usize], coords[k as usize + 1]);
                let (low, high) = if a.y < b.y { (a, b) } else { (b, a) };
                match orient(low, high, centre) {
                    Orientation::CounterClockwise => crossings += 1,
                    Orientation::Clockwise => {}
                    Orientation::Collinear => ambiguous = true,
                }
            }
            let centre_inside = crossings % 2 == 1;
            let start = out.verts.len() as u32;
            let mut last: Option<u32> = None;
            while let Some(&(_, k)) = next_edge.next_if(|(cell, _)| *cell == local) {
                let (a, b) = (coords[k as usize], coords[k as usize + 1]);
                let e = bbox_of(a, b);
                ambiguous |= orient(a, b, centre) == Orientation::Collinear
                    && (e[0]..=e[2]).contains(&centre.x)
                    && (e[1]..=e[3]).contains(&centre.y);
                // Consecutive edges share a vertex and extend the current run.
                if last != Some(k.wrapping_sub(1)) {
                    if last.is_some() {
                        out.verts.push(Coord { x: f64::NAN, y: f64::NAN });
                    }
                    out.verts.push(a);
                }
                out.verts.push(b);
                last = Some(k);
            }
            if last.is_some() || centre_inside || ambiguous {
                out.parts.push(Part {
                    cell: (j * zone.nx + i) as u32,
                    centre_inside,
                    ambiguous,
                    verts: (start, out.verts.len() as u32),
                });
            }
        }
    }
    out
}

impl CellGrid {
    /// Builds the grids over `pieces`, each a polygon with the geometry index it answers as.
    #[must_use]
    pub fn build(pieces: &[(u32, &Polygon<f64>)]) -> Self {
        use rayon::prelude::*;
        let pieces: Vec<(u32, &Polygon<f64>, [f64; 4])> = pieces
            .iter()
            .filter_map(|&(g, poly)| {
                let r = poly.bounding_rect()?;
                Some((g, poly, [r.min().x, r.min().y, r.max().x, r.max().y]))
            })
            .collect();
        let (boxes, region_of) = regions(&pieces.iter().map(|p| p.2).collect::<Vec<_>>());
        let mut zones: Vec<Zone> = boxes.into_iter().map(Zone::new).collect();
        let all: Vec<PieceParts> = pieces
            .par_iter()
            .zip(&region_of)
            .map(|(&(g, poly, bbox), &z)| piece_parts(&zones[z], z, g, poly, bbox))
            .collect();
        // Group the parts by cell with a counting sort over every zone's cells.
        let bases: Vec<usize> = zones
            .iter()
            .scan(0, |acc, z| {
                let base = *acc;
                *acc += z.cells.len();
                Some(base)
            })
            .collect();
        let total = bases.last().map_or(0, |b| b + zones.last().map_or(0, |z| z.cells.len()));
        let mut first = vec![0u32; total + 1];
        for pp in &all {
            for part in &pp.parts {
                first[bases[pp.zone] + part.cell as usize + 1] += 1;
            }
        }
        for c in 1..first.len() {
            first[c] += first[c - 1];
        }
        let mut slot = first.clone();
        let mut order = vec![(0u32, 0u32); first[total] as usize];
        for (p, pp) in all.iter().enumerate() {
            for (q, part) in pp.parts.iter().enumerate() {
                let cell = bases[pp.zone] + part.cell as usize;
                order[slot[cell] as usize] = (p as u32, q as u32);
                slot[cell] += 1;
            }
        }
        let mut blocks: Vec<u64> = Vec::new();
        let (mut mixed, mut edges) = (0, 0);
        for (z, zone) in zones.iter_mut().enumerate() {
            for cell in 0..zone.cells.len() {
                let g = bases[z] + cell;
                let group = &order[first[g] as usize..first[g + 1] as usize];
                if group.is_empty() {
                    continue;
                }
                let part = |&(p, q): &(u32, u32)| (&all[p as usize], &all[p as usize].parts[q as usize]);
                zone.cells[cell] = if group.iter().any(|pq| part(pq).1.ambiguous) {
                    FALLBACK
                } else if let [only] = group
                    && part(only).1.verts.0 == part(only).1.verts.1
                {
                    part(only).0.geometry
                } else {
                    mixed += 1;
                    let offset = u32::try_from(blocks.len()).ok().filter(|o| o & MIXED == 0);
                    let offset = offset.expect("cell blocks fit in 2^31 words");
                    blocks.push(group.len() as u64);
                    for pq in group {
                        let (pp, part) = part(pq);
                        let verts = &pp.verts[part.verts.0 as usize..part.verts.1 as usize];
                        edges += verts.len().saturating_sub(1);
                        blocks.push(
                            u64::from(pp.geometry)
                                | (u64::from(part.centre_inside) << 32)
                                | ((verts.len() as u64) << 33),
                        );
                        blocks.extend(verts.iter().flat_map(|v| [v.x.to_bits(), v.y.to_bits()]));
                    }
                    MIXED | offset
                };
            }
        }
        let blocks: Vec<u8> = blocks.iter().flat_map(|w| w.to_le_bytes()).collect();
        zones.iter_mut().for_each(Zone::summarise);
        let cells = zones.iter().map(|z| z.cells.len()).sum();
        Self { zones, blocks: Cow::Owned(blocks), stats: (cells, mixed, edges) }
    }

    /// The geometries whose closed polygons contain `p`, ascending, or `None` when the point falls in a
    /// cell the grid cannot decide (its centre lies on an edge) and the caller must test polygons.
    #[must_use]
    pub fn covering(&self, p: Coord<f64>) -> Option<Hits> {
        let mut hits = Hits::new();
        for zone in self.zones.iter().filter(|z| z.contains(p)) {
            let (i, j) = zone.cell_of(p);
            match zone.value(i, j) {
                EMPTY => {}
                FALLBACK => return None,
                v if v & MIXED == 0 => hits.push(v),
                v => self.block_covering(v & !MIXED, p, zone.centre(i, j), &mut hits),
            }
        }
        hits.sort_unstable();
        hits.dedup();
        Some(hits)
    }

    /// The blocks' words as little-endian bytes.
    #[must_use]
    pub fn words(&self) -> &[u8] {
        &self.blocks
    }

    /// Gives a grid read back without its words (a snapshot's) the words [`CellGrid::words`] gave.
    ///
    /// # Errors
    /// When a mixed cell points beyond them.
    pub fn attach_words(&mut self, words: Cow<'static, [u8]>) -> Result<(), String> {
        let count = words.len() / 8;
        let beyond = self
            .zones
            .iter()
            .flat_map(|z| &z.cells)
            .any(|&v| v != EMPTY && v != FALLBACK && v & MIXED != 0 && (v & !MIXED) as usize >= count);
        if !words.len().is_multiple_of(8) || beyond {
            return Err(format!("{} bytes of grid words do not fit the grid's cells", words.len()));
        }
        self.blocks = words;
        self.zones.iter_mut().for_each(Zone::summarise);
        Ok(())
    }

    /// Word `i` of the blocks.
    #[inline]
    fn word(&self, i: usize) -> u64 {
        u64::from_le_bytes(self.blocks[8 * i..8 * i + 8].try_into().unwrap_or_default())
    }

    /// Tests each candidate of a mixed cell: the centre's state, flipped at each crossing of the
    /// segment from `p` to the centre; on an edge counts as inside.
    fn block_covering(&self, offset: u32, p: Coord<f64>, centre: Coord<f64>, hits: &mut Hits) {
        let mut at = offset as usize;
        let count = self.word(at);
        at += 1;
        let seg = bbox_of(p, centre);
        for _ in 0..count {
            let header = self.word(at);
            let n = (header >> 33) as usize;
            let first = at + 1;
            at += 1 + 2 * n;
            let vertex = |v: usize| Coord {
                x: f64::from_bits(self.word(first + 2 * v)),
                y: f64::from_bits(self.word(first + 2 * v + 1)),
            };
            let mut inside = header & (1 << 32) != 0;
            for v in 1..n {
                let (a, b) = (vertex(v - 1), vertex(v));
                if a.x.is_nan() || b.x.is_nan() {
                    continue;
                }
                let e = bbox_of(a, b);
                if e[2] < seg[0] || e[0] > seg[2] || e[3] < seg[1] || e[1] > seg[3] {
                    continue;
                }
                let abp = orient(a, b, p);
                if abp == Orientation::Collinear && p.x >= e[0] && p.x <= e[2] && p.y >= e[1] && p.y <= e[3] {
                    inside = true;
                    break;
                }
                // Half-open on the line through p and the centre, as in ray casting, so a vertex on
                // that line is counted once.
                let a_up = orient(p, centre, a) != Orientation::Clockwise;
                let b_up = orient(p, centre, b) != Orientation::Clockwise;
                if a_up != b_up {
                    let abc = orient(a, b, centre);
                    if abp != Orientation::Collinear && abc != Orientation::Collinear && abp != abc {
                        inside = !inside;
                    }
                }
            }
            if inside {
                hits.push(header as u32);
            }
        }
    }

    /// Cells, mixed cells and stored edges, for reports.
    #[must_use]
    pub fn stats(&self) -> (usize, usize, usize) {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Intersects, Point, polygon};

    fn assert_same_as_geo(polys: &[Polygon<f64>], points: impl Iterator<Item = Coord<f64>>) {
        let pieces: Vec<(u32, &Polygon<f64>)> =
            polys.iter().enumerate().map(|(i, p)| (i as u32, p)).collect();
        let grid = CellGrid::build(&pieces);
        for p in points {
            let expected: Vec<u32> = polys
                .iter()
                .enumerate()
                .filter(|(_, poly)| poly.intersects(&Point::from(p)))
                .map(|(i, _)| i as u32)
                .collect();
            if let Some(hits) = grid.covering(p) {
                assert_eq!(hits.to_vec(), expected, "at {p:?}");
            }
        }
    }

    #[test]
    fn agrees_with_geo_inside_outside_and_on_edges_and_vertices() {
        // Two neighbours sharing a slanted border, one with a hole, small enough to span a few cells.
        let a = polygon![(x: 2.0, y: 48.0), (x: 2.031, y: 48.0), (x: 2.027, y: 48.043), (x: 2.0, y: 48.04)];
        let b = Polygon::new(
            polygon![(x: 2.031, y: 48.0), (x: 2.07, y: 48.0), (x: 2.07, y: 48.05), (x: 2.027, y: 48.043)]
                .exterior()
                .clone(),
            vec![polygon![(x: 2.04, y: 48.01), (x: 2.05, y: 48.01), (x: 2.045, y: 48.02)].exterior().clone()],
        );
        let polys = [a, b];
        let mut points: Vec<Coord<f64>> = Vec::new();
        for i in 0..=140 {
            for j in 0..=120 {
                points.push(Coord { x: 1.995 + f64::from(i) * 0.0005, y: 47.995 + f64::from(j) * 0.0005 });
            }
        }
        // Every vertex, and points on the shared border.
        for poly in &polys {
            points.extend(poly.exterior().0.iter().copied());
            points.extend(poly.interiors().iter().flat_map(|r| r.0.iter().copied()));
        }
        for t in 0..=50 {
            let t = f64::from(t) / 50.0;
            points.push(Coord { x: 2.031 + t * (2.027 - 2.031), y: 48.0 + t * 0.043 });
            points.push(Coord { x: 2.0 + t * 0.07, y: 48.0 });
        }
        assert_same_as_geo(&polys, points.into_iter());
    }

    #[test]
    fn wholly_covered_cells_answer_without_edges() {
        let big = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
        let grid = CellGrid::build(&[(7, &big)]);
        let (cells, mixed, _) = grid.stats();
        assert!(cells > 5000 && mixed < cells / 10, "{cells} cells, {mixed} mixed");
        assert_eq!(grid.covering(Coord { x: 0.5, y: 0.5 }).map(|h| h.to_vec()), Some(vec![7]));
        assert_eq!(grid.covering(Coord { x: 1.5, y: 0.5 }).map(|h| h.to_vec()), Some(vec![]));
        assert_eq!(grid.covering(Coord { x: 1.0, y: 0.3 }).map(|h| h.to_vec()), Some(vec![7]));
    }

    #[test]
    fn coarse_blocks_say_what_each_of_their_cells_says() {
        // A square with a notch, so some blocks are uniform and some are not.
        let notched = polygon![(x: 0.0, y: 0.0), (x: 0.5, y: 0.0), (x: 0.5, y: 0.3), (x: 0.53, y: 0.3),
            (x: 0.53, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
        let grid = CellGrid::build(&[(3, &notched)]);
        let zone = &grid.zones[0];
        let uniform = zone.coarse.iter().filter(|&&v| v != DESCEND).count();
        assert!(uniform > zone.coarse.len() / 2 && uniform < zone.coarse.len(), "{uniform} uniform blocks");
        for j in 0..zone.ny {
            for i in 0..zone.nx {
                assert_eq!(zone.value(i, j), zone.cells[j * zone.nx + i], "cell {i}, {j}");
            }
        }
        // Read back without its words, a grid has no coarse level until they are attached.
        let bytes = postcard::to_stdvec(&grid).expect("encodes");
        let mut read: CellGrid = postcard::from_bytes(&bytes).expect("decodes");
        assert!(read.zones[0].coarse.is_empty());
        read.attach_words(Cow::Owned(grid.words().to_vec())).expect("the words fit");
        assert_eq!(read.zones[0].coarse, zone.coarse);
        assert_same_as_geo(
            &[notched],
            (0..=200).flat_map(|i| {
                (0..=200).map(move |j| Coord { x: f64::from(i) * 0.0051, y: f64::from(j) * 0.0051 })
            }),
        );
    }
}

/// Serde for the grid's cell array: little-endian bytes in one piece, which a compact binary format (the
/// snapshot's) copies, instead of one variable-length integer per cell.
mod words {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    /// A fixed-width integer read and written as little-endian bytes.
    pub trait Word: Copy {
        const BYTES: usize;
        fn put(self, out: &mut Vec<u8>);
        fn get(bytes: &[u8]) -> Self;
    }

    macro_rules! word {
        ($t:ty) => {
            impl Word for $t {
                const BYTES: usize = std::mem::size_of::<$t>();
                fn put(self, out: &mut Vec<u8>) {
                    out.extend_from_slice(&self.to_le_bytes());
                }
                fn get(bytes: &[u8]) -> Self {
                    let mut a = [0; std::mem::size_of::<$t>()];
                    a.copy_from_slice(bytes);
                    <$t>::from_le_bytes(a)
                }
            }
        };
    }
    word!(u32);

    pub fn serialize<T: Word, S: Serializer>(words: &[T], serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = Vec::with_capacity(words.len() * T::BYTES);
        for w in words {
            w.put(&mut out);
        }
        serializer.serialize_bytes(&out)
    }

    pub fn deserialize<'de, T: Word, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        struct Words<T>(std::marker::PhantomData<T>);
        impl<T: Word> Visitor<'_> for Words<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "a multiple of {} bytes", T::BYTES)
            }
            fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<T>, E> {
                if !bytes.len().is_multiple_of(T::BYTES) {
                    return Err(E::invalid_length(bytes.len(), &self));
                }
                Ok(bytes.chunks_exact(T::BYTES).map(T::get).collect())
            }
        }
        deserializer.deserialize_bytes(Words(std::marker::PhantomData))
    }
}
