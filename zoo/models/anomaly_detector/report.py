"""The README's NAB tables (``<!-- nab:start -->``), generated from the anomaly detectors' cards by `make cards`."""

from __future__ import annotations

PROFILE_COLUMNS = (("standard", "standard"), ("reward_low_FP_rate", "reward low FP"),
                   ("reward_low_FN_rate", "reward low FN"))
REFERENCE_NAMES = {"htm": "HTM (NAB's published output)",
                   "windowed_gaussian": "windowed Gaussian (NAB's published output)"}


def nab_tables(name: str, metrics: dict) -> str:
    """Markdown: the three profiles beside HTM's and the windowed Gaussian's, then the categories (standard)."""
    rows = ["| detector | " + " | ".join(label for _, label in PROFILE_COLUMNS) + " |", "|---|---|---|---|"]
    rows.append(f"| `{name}` | " + " | ".join(f"**{metrics[f'nab_{p}']:.2f}**" for p, _ in PROFILE_COLUMNS) + " |")
    if "without_adaptation" in metrics:
        rows.append(f"| `{name}` without the per-series fine-tuning (as exported) | "
                    + " | ".join(f"{metrics['without_adaptation'][p]:.2f}" for p, _ in PROFILE_COLUMNS) + " |")
    for key, label in REFERENCE_NAMES.items():
        if key in metrics.get("references", {}):
            rows.append(f"| {label} | " + " | ".join(f"{metrics['references'][key][p]:.2f}" for p, _ in PROFILE_COLUMNS)
                        + " |")
    thresholds = ", ".join(f"{label} {metrics['thresholds'][p]:.4f}" for p, label in PROFILE_COLUMNS)
    rows += ["", f"Thresholds from NAB's sweep over the corpus: {thresholds}.", "",
             f"| category (standard profile) | `{name}` | HTM | windowed Gaussian |", "|---|---|---|---|"]
    for category, entry in metrics["by_category"].items():
        if "score" not in entry:  # no labelled window: only false positives can count
            rows.append(f"| {category} (no window; raw score) | {entry['raw']:.2f} | | |")
            continue
        cells = [f"{entry['score']:.2f}"] + [f"{entry[k]:.2f}" if k in entry else "-" for k in REFERENCE_NAMES]
        rows.append(f"| {category} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def readme_section() -> tuple[str, str]:
    """``("nab", markdown)`` for the README, from the first anomaly detector with a card."""
    import zoo

    for name in zoo.list_models(pretrained=True):
        info = zoo.info(name)
        if info["family"] == "anomaly_detector" and (info["metrics"] or {}).get("by_category"):
            return "nab", nab_tables(name, info["metrics"])
    return "nab", "(no anomaly detector checkpoint yet)"
