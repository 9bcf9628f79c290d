"""Bandit versus A/B: replies lost against always sending the best variant (simulation).

Method (seeded, numpy only; every run is one campaign):

1. A campaign is `--sends` sends (default 10,000) of an email with K variants, K = 2, 3 or 4
   in turn. Each variant's true reply rate is drawn uniformly from 2-5 % (realistic B2B reply
   rates). A send's reply is a Bernoulli draw with its variant's rate.
2. Replies arrive in batches: the policies see the results of the sends before each batch of
   `--batch` sends (default 100, about a day of a mid-size program), not of every send.
3. Thompson sampling is the product's policy (`tools.bandit.thompson`): Beta(1, 1) priors, one
   posterior draw per arm per send, the floor of exploration (2 % of the sends per arm).
4. The A/B test splits the first half of the sends equally between the variants
   (explore-then-commit, 50/50 for two variants), then sends the variant with the most
   replies per send for the rest. A second A/B with a 20 % test phase is reported too.
5. Replies lost = expected replies of always sending the best variant minus the policy's
   expected replies (sum over sends of best rate - chosen rate, which removes reply noise).
   Averaged over `--runs` runs per K (default 200, so 600 campaigns); the headline is
   1 - lost(Thompson) / lost(A/B 50 %) over all of them.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import numpy as np

from tools.bandit.thompson import DEFAULT_FLOOR

SEED = 10
RATE_LOW, RATE_HIGH = 0.02, 0.05


def thompson_lost(
    rates: np.ndarray, sends: int, batch: int, floor: float, rng: np.random.Generator
) -> np.ndarray:
    """Replies lost by Thompson sampling in each of the runs (rows of `rates`)."""
    runs, k = rates.shape
    successes = np.zeros((runs, k))
    trials = np.zeros((runs, k))
    best = rates.max(axis=1)
    lost = np.zeros(runs)
    rows = np.arange(runs)[:, None]
    for start in range(0, sends, batch):
        n = min(batch, sends - start)
        draws = rng.beta(1 + successes[:, None, :], 1 + trials[:, None, :] - successes[:, None, :],
                         size=(runs, n, k))  # fmt: skip
        chosen = draws.argmax(axis=2)
        explore = rng.random((runs, n)) < floor * k
        chosen = np.where(explore, rng.integers(0, k, size=(runs, n)), chosen)
        picked_rates = rates[rows, chosen]
        replies = rng.random((runs, n)) < picked_rates
        lost += (best[:, None] - picked_rates).sum(axis=1)
        for arm in range(k):
            mask = chosen == arm
            trials[:, arm] += mask.sum(axis=1)
            successes[:, arm] += (mask & replies).sum(axis=1)
    return lost


def ab_lost(
    rates: np.ndarray, sends: int, test_share: float, rng: np.random.Generator
) -> np.ndarray:
    """Replies lost by an equal-split test on `test_share` of the sends, then the winner."""
    runs, k = rates.shape
    per_arm = int(sends * test_share) // k
    replies = rng.binomial(per_arm, rates)
    # Ties go to a random arm among the tied ones, as a person would flip a coin.
    noise = rng.random((runs, k)) * 1e-6
    winner = (replies + noise).argmax(axis=1)
    best = rates.max(axis=1)
    rest = sends - per_arm * k
    test_lost = per_arm * (best[:, None] - rates).sum(axis=1)
    return test_lost + rest * (best - rates[np.arange(runs), winner])


def run(
    *, sends: int = 10_000, runs: int = 200, batch: int = 100, seed: int = SEED
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    by_k: dict[str, Any] = {}
    totals = {"thompson": 0.0, "ab_50": 0.0, "ab_20": 0.0, "best_replies": 0.0}
    for k in (2, 3, 4):
        rates = rng.uniform(RATE_LOW, RATE_HIGH, size=(runs, k))
        ts = thompson_lost(rates, sends, batch, DEFAULT_FLOOR, rng)
        ab50 = ab_lost(rates, sends, 0.5, rng)
        ab20 = ab_lost(rates, sends, 0.2, rng)
        best = float(rates.max(axis=1).mean() * sends)
        by_k[str(k)] = {
            "best_variant_replies": round(best, 1),
            "thompson_lost_replies": round(float(ts.mean()), 2),
            "ab_50_lost_replies": round(float(ab50.mean()), 2),
            "ab_20_lost_replies": round(float(ab20.mean()), 2),
            "reduction_vs_ab_50": round(1 - float(ts.mean()) / float(ab50.mean()), 3),
            "reduction_vs_ab_20": round(1 - float(ts.mean()) / float(ab20.mean()), 3),
        }
        totals["thompson"] += float(ts.sum())
        totals["ab_50"] += float(ab50.sum())
        totals["ab_20"] += float(ab20.sum())
        totals["best_replies"] += best * runs
    campaigns = 3 * runs
    return {
        "lost_replies_reduction_vs_ab": round(1 - totals["thompson"] / totals["ab_50"], 3),
        "lost_replies_reduction_vs_ab_20": round(1 - totals["thompson"] / totals["ab_20"], 3),
        "thompson_lost_replies": round(totals["thompson"] / campaigns, 2),
        "ab_lost_replies": round(totals["ab_50"] / campaigns, 2),
        "ab_20_lost_replies": round(totals["ab_20"] / campaigns, 2),
        "best_variant_replies": round(totals["best_replies"] / campaigns, 1),
        "by_variants": by_k,
        "sends": sends,
        "runs_per_variant_count": runs,
        "campaigns": campaigns,
        "batch": batch,
        "floor": DEFAULT_FLOOR,
        "reply_rates": [RATE_LOW, RATE_HIGH],
        "seed": seed,
        "seconds": round(time.perf_counter() - started, 2),
        "method": (__doc__ or "").strip(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sends", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(run(sends=args.sends, runs=args.runs, batch=args.batch), indent=2))


if __name__ == "__main__":
    main()
