"""Balanced spatial clustering of weighted points, used to cut NRO areas into PM zones."""

from __future__ import annotations

import numpy as np


def bisect(xy: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Labels 0..k-1 from recursive weighted bisection along the principal axis."""
    labels = np.zeros(len(xy), dtype=np.int64)
    stack = [(np.arange(len(xy)), k, 0)]
    while stack:
        idx, parts, first = stack.pop()
        if parts == 1 or idx.size <= 1:
            labels[idx] = first
            continue
        left_parts = parts // 2
        pts = xy[idx] - xy[idx].mean(axis=0)
        cov = np.cov(pts.T) if idx.size > 2 else np.eye(2)
        axis = np.linalg.eigh(cov)[1][:, -1]
        order = np.argsort(pts @ axis, kind="stable")
        cum = np.cumsum(weight[idx][order])
        cut = int(np.searchsorted(cum, cum[-1] * left_parts / parts))
        cut = min(max(cut, 1), idx.size - 1)
        stack.append((idx[order[:cut]], left_parts, first))
        stack.append((idx[order[cut:]], parts - left_parts, first + left_parts))
    return labels


def _centroids(
    xy: np.ndarray, weight: np.ndarray, labels: np.ndarray, k: int, old: np.ndarray
) -> np.ndarray:
    """Weighted centroid of each cluster (the old centre for an empty one)."""
    w = np.bincount(labels, weights=weight, minlength=k)
    cx = np.bincount(labels, weights=weight * xy[:, 0], minlength=k)
    cy = np.bincount(labels, weights=weight * xy[:, 1], minlength=k)
    out = old.copy()
    ok = w > 0
    out[ok, 0], out[ok, 1] = cx[ok] / w[ok], cy[ok] / w[ok]
    return out


def capacity_centres(
    xy: np.ndarray, weight: np.ndarray, k: int, iterations: int = 6, slack: float = 0.08
) -> np.ndarray:
    """Cluster centres from Lloyd steps with a capacity-constrained greedy assignment."""
    w = weight.astype(float)
    w_pos = np.maximum(w, 0.05)
    labels = bisect(xy, w_pos, k)
    centres = _centroids(xy, w_pos, labels, k, np.zeros((k, 2)))
    capacity = w.sum() / k * (1 + slack) + w.max()
    for _ in range(iterations):
        d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        prefs = np.argsort(d2, axis=1, kind="stable")
        best = np.take_along_axis(d2, prefs[:, :2], axis=1)
        order = np.lexsort((np.arange(len(xy)), -(best[:, 1] - best[:, 0])))
        loads = [0.0] * k
        labels = np.empty(len(xy), dtype=np.int64)
        w_list, pref_list = w.tolist(), prefs.tolist()
        for i in order.tolist():
            wi = w_list[i]
            for c in pref_list[i]:
                if loads[c] + wi <= capacity:
                    break
            else:
                c = pref_list[i][0]
            labels[i] = c
            loads[c] += wi
        centres = _centroids(xy, w_pos, labels, k, centres)
    return centres


def _power_labels(
    xy: np.ndarray, w: np.ndarray, centres: np.ndarray, iterations: int = 300
) -> np.ndarray:
    """Most balanced power-diagram assignment (fixed centres, tuned additive weights)."""
    k = len(centres)
    target = w.sum() / k
    d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    step = 2.0 * float(np.median(d2.min(axis=1)))
    bias = np.zeros(k)
    best, best_err = np.argmin(d2, axis=1), np.inf
    for _ in range(iterations):
        labels = np.argmin(d2 - bias, axis=1)
        loads = np.bincount(labels, weights=w, minlength=k)
        err = float(np.abs(loads / target - 1).max())
        if err < best_err:
            best, best_err = labels, err
        bias += step * np.clip((target - loads) / target, -1, 1)
        step *= 0.985
    return best


def _repair(
    xy: np.ndarray, w: np.ndarray, labels: np.ndarray, centres: np.ndarray, k: int
) -> np.ndarray:
    """Grow under-filled clusters by taking the cheapest border points of fuller ones."""
    target = w.sum() / k
    lower = 0.88 * target
    loads = np.bincount(labels, weights=w, minlength=k)
    rows = np.arange(len(xy))
    d2 = ((xy[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    for _ in range(3 * k):
        light = int(np.argmin(loads))
        if loads[light] >= lower:
            break
        cost = d2[:, light] - d2[rows, labels]
        candidates = np.flatnonzero(labels != light)
        candidates = candidates[np.argsort(cost[candidates], kind="stable")]
        moved = False
        for i in candidates[:2000].tolist():
            donor = labels[i]
            if loads[donor] - w[i] < lower:
                continue
            labels[i] = light
            loads[donor] -= w[i]
            loads[light] += w[i]
            moved = True
            if loads[light] >= target:
                break
        if not moved:
            break
    return labels


def balanced_partition(xy: np.ndarray, weight: np.ndarray, k: int) -> np.ndarray:
    """Compact, non-interleaved clusters of near-equal weight (power diagram, k-means centres)."""
    if k <= 1:
        return np.zeros(len(xy), dtype=np.int64)
    w = weight.astype(float)
    centres = capacity_centres(xy, w, k)
    labels = _power_labels(xy, w, centres)
    return _repair(xy, w, labels, centres, k)
