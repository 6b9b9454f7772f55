//! Pricing of a searched pool (`method = "search"`): the known patterns by their cone support,
//! then local searches (crate::geometry::search) for violated cells outside them; what the
//! searches did is counted for the report.

use rayon::prelude::*;
use serde::Serialize;

use crate::convex::pricing::{choose, side_index, side_of, violated, Known, MuCache, Priced};
use crate::geometry::arrangement::Pattern;
use crate::geometry::search::{ascend, starts, Found};
use crate::input::data::Dataset;
use crate::input::spec::{SearchPlan, Spec};

/// What the searches of a `Searched` pool did over the whole loop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SearchCounts {
    /// Pricing steps that searched.
    pub passes: usize,
    /// Local searches run (each from one start, for one output sign).
    pub searches: usize,
    /// Searches that ended below the pricing threshold (found nothing violated).
    pub fruitless: usize,
    /// Distinct patterns the searches added to the pool.
    pub found: usize,
    /// Local searches of the last pricing step, and how many of them found nothing.
    pub last_searches: usize,
    /// See `last_searches`.
    pub last_fruitless: usize,
}

impl SearchCounts {
    /// Add another loop's totals (passes, searches, fruitless, found); the last step's figures
    /// stay this one's.
    pub fn add_totals(&mut self, other: &SearchCounts) {
        self.passes += other.passes;
        self.searches += other.searches;
        self.fruitless += other.fruitless;
        self.found += other.found;
    }
}

impl Known<'_> {
    /// Pricing of a `Searched` pool: every known pattern (sampled and found) by its cone
    /// support, then local searches from fresh starts (Gaussian and vertex gates, and the
    /// maximizers of the violated known patterns) in batches, until a batch brings `count`
    /// violated patterns, `plan.searches` searches ran or `plan.seconds` passed. The cells the
    /// searches end in are priced like the known ones and join the pool.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn price_searched(
        &mut self,
        data: &Dataset,
        spec: &Spec,
        base: &[Pattern],
        plan: SearchPlan,
        seed: u64,
        in_set: &[[bool; 2]],
        lambda: &[f64],
        threshold: f64,
        count: usize,
    ) -> Priced {
        // One cache over base and found patterns: the found ones' entries follow the base's.
        let mut cache = std::mem::take(&mut self.mu);
        cache.resize_with(base.len().max(cache.len()), Default::default);
        let mut found_cache = cache.split_off(base.len());
        let mut v = violated(
            data,
            spec,
            base,
            &in_set[..base.len()],
            lambda,
            threshold,
            &mut cache,
        );
        let mut more = violated(
            data,
            spec,
            &self.found,
            &in_set[base.len()..],
            lambda,
            threshold,
            &mut found_cache,
        );
        cache.append(&mut found_cache);
        self.mu = cache;
        more.iter_mut().for_each(|x| x.pattern += base.len());
        v.append(&mut more);
        let pass = self.counts.passes as u64;
        self.counts.passes += 1;
        // Starts: the maximizers of the violated known patterns first, then fresh gates.
        let mut seeds: Vec<(Vec<f64>, f64)> = v
            .iter()
            .take(count)
            .filter(|x| x.direction.iter().any(|&d| d != 0.0))
            .map(|x| (x.direction.clone(), x.sign))
            .collect();
        let fresh = starts(
            data,
            plan.searches.div_ceil(4),
            plan.searches.div_ceil(4),
            seed ^ (pass + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        for g in fresh {
            seeds.push((g.clone(), 1.0));
            seeds.push((g, -1.0));
        }
        seeds.truncate(plan.searches.max(1));
        let mut searches = 0;
        let mut fruitless = 0;
        let mut found_now: Vec<Found> = Vec::new();
        let batch = 64usize;
        // The searches' own clock: the pricing of the known patterns above does not count.
        let start = std::time::Instant::now();
        for chunk in seeds.chunks(batch) {
            let ends: Vec<Option<Found>> = chunk
                .par_iter()
                .map(|(u, sign)| ascend(data, &spec.model, lambda, u, *sign))
                .collect();
            searches += ends.len();
            for end in ends {
                match end {
                    Some(f) if f.value > threshold => found_now.push(f),
                    _ => fruitless += 1,
                }
            }
            // Enough for a round, or the budget is spent. (Stopping at the first find, or
            // once the search took as long as the last solve, made the rounds many and small:
            // diabetes with 1,000 sampled gates, 97 rounds and 422 s against 42 and 263 s.)
            if found_now.len() + v.len() >= count || start.elapsed().as_secs_f64() >= plan.seconds {
                break;
            }
        }
        self.counts.searches += searches;
        self.counts.fruitless += fruitless;
        self.counts.last_searches = searches;
        self.counts.last_fruitless = fruitless;
        // The cells found, each once, priced by their cone support like the known ones.
        let mut fresh_patterns: Vec<Pattern> = Vec::new();
        let mut seen: std::collections::HashSet<Vec<bool>> = std::collections::HashSet::new();
        for f in found_now {
            let s = side_index(side_of(f.sign));
            let known = self.index.get(&f.pattern.active).copied();
            if known.is_some_and(|i| in_set.get(i).is_some_and(|pair| pair[s])) {
                continue;
            }
            if known.is_none() && seen.insert(f.pattern.active.clone()) {
                fresh_patterns.push(f.pattern);
            }
        }
        let skip = vec![[false; 2]; fresh_patterns.len()];
        let mut fresh_cache = MuCache::new();
        let priced_fresh = violated(
            data,
            spec,
            &fresh_patterns,
            &skip,
            lambda,
            threshold,
            &mut fresh_cache,
        );
        let offset = self.len();
        let added = fresh_patterns.len();
        for p in fresh_patterns {
            self.insert(p);
        }
        self.mu.truncate(offset);
        self.mu.resize_with(offset, Default::default);
        self.mu.append(&mut fresh_cache);
        self.counts.found += added;
        v.extend(priced_fresh.into_iter().map(|mut x| {
            x.pattern += offset;
            x
        }));
        v.sort_by(|a, b| b.value.total_cmp(&a.value));
        Priced {
            chosen: choose(&v, count),
            violated: v.len(),
            worst: v.first().map_or(0.0, |v| v.value),
            walked: self.len(),
        }
    }
}
