//! The bench points: one deterministic generator shared by the criterion bench and `examples/bench_data`,
//! so every contender (ours, shapely/GEOS, PostGIS, the HTTP load) answers the very same sites.
//!
//! Points are uniform inside the bounding boxes of the metropole (with Corsica and a margin of sea) and
//! of the five DROM, each box with a fixed share of the points, drawn with splitmix64 from a fixed seed;
//! the shares and the margin are set so that about 20% of the points fall inside a 2023 territory.

/// The seed every run uses.
pub const SEED: u64 = 0x7e22_170a_1e5d_2023;

/// Points in the default run.
pub const DEFAULT_POINTS: usize = 1_000_000;

/// `(name, share of the points, [west, south, east, north])`.
pub const BOXES: [(&str, f64, [f64; 4]); 6] = [
    ("metropole", 0.90, [-6.0, 41.0, 10.0, 51.5]),
    ("guadeloupe", 0.02, [-61.81, 15.83, -61.0, 16.52]),
    ("martinique", 0.02, [-61.23, 14.39, -60.81, 14.88]),
    ("guyane", 0.02, [-54.60, 2.11, -51.63, 5.75]),
    ("reunion", 0.02, [55.21, -21.39, 55.84, -20.87]),
    ("mayotte", 0.02, [44.98, -13.01, 45.30, -12.63]),
];

/// splitmix64: tiny, fast, good enough to scatter points, and the same on every machine.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let x = (self.next_u64() >> 11) as f64;
        x / (1u64 << 53) as f64
    }
}

/// `n` points `[lon, lat]`, the same for the same `n` and seed; the first `k` are the same whatever `n`.
pub fn points(n: usize, seed: u64) -> Vec<[f64; 2]> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let pick = rng.next_f64();
            let mut acc = 0.0;
            let mut bbox = BOXES[0].2;
            for (_, share, b) in BOXES {
                acc += share;
                if pick < acc {
                    bbox = b;
                    break;
                }
            }
            let (u, v) = (rng.next_f64(), rng.next_f64());
            // Rounded to 1e-6 degree (about 10 cm), the precision the CSV files carry, so every contender
            // reads exactly the coordinates the in-process bench uses.
            let lon = ((bbox[0] + u * (bbox[2] - bbox[0])) * 1e6).round() / 1e6;
            let lat = ((bbox[1] + v * (bbox[3] - bbox[1])) * 1e6).round() / 1e6;
            [lon, lat]
        })
        .collect()
}

/// The number of points from `TERRITOIRES_BENCH_POINTS`, or [`DEFAULT_POINTS`].
pub fn count_from_env() -> usize {
    std::env::var("TERRITOIRES_BENCH_POINTS").ok().and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_POINTS)
}
