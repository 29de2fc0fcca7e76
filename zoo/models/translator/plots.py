"""Plots and tables of the translators: attention heat maps, BLEU by source length."""

from __future__ import annotations

import textwrap

from zoo.models.translator.model import LENGTH_BUCKETS

def save_attention_heatmap(result: dict, path: str, *, title: str | None = None) -> str:
    """Draws ``pipeline.attention(text)`` as a heat map (target rows, source columns) into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    weights = result["weights"]
    source, target = result["source_tokens"], result["target_tokens"]
    fig, ax = plt.subplots(figsize=(max(3.0, 0.55 * len(source) + 1.5), max(2.5, 0.45 * len(target) + 1.2)))
    image = ax.imshow(weights, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(source)), source, rotation=60, ha="right")
    ax.set_yticks(range(len(target)), target)
    ax.set_xlabel("source (Spanish)")
    ax.set_ylabel("output (English)")
    title = title if title is not None else result.get("translation", "")
    ax.set_title(textwrap.shorten(title, 100, placeholder=" ..."), fontsize=9, wrap=True)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def bleu_by_length_table(results: dict[str, dict]) -> str:
    """A Markdown table of BLEU by source-length bucket: one column per model (``{name: metrics}``)."""
    names = list(results)
    lines = ["| Spanish words | " + " | ".join(f"`{n}`" for n in names) + " | sentences |",
             "|---|" + "---|" * (len(names) + 1)]
    for label, _, _ in LENGTH_BUCKETS:
        cells = [f"{results[n]['bleu_by_length'][label]['bleu']:.2f}" if label in results[n]["bleu_by_length"] else "-"
                 for n in names]
        count = next((results[n]["bleu_by_length"][label]["n"] for n in names if label in results[n]["bleu_by_length"]), 0)
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {count:,} |")
    lines.append("| all | " + " | ".join(f"**{results[n]['bleu']:.2f}**" for n in names)
                 + f" | {results[names[0]]['n']:,} |")
    return "\n".join(lines)


def plot_bleu_by_length(results: dict[str, dict], path: str) -> str:
    """Grouped bars of BLEU per source-length bucket, one colour per model (``{name: metrics}``); a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [label for label, _, _ in LENGTH_BUCKETS]
    width = 0.8 / max(len(results), 1)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (name, metrics) in enumerate(results.items()):
        values = [metrics["bleu_by_length"].get(label, {}).get("bleu", 0.0) for label in labels]
        bars = ax.bar([x + (i - (len(results) - 1) / 2) * width for x in range(len(labels))], values, width,
                      label=f"{name} (all: {metrics['bleu']:.1f})")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
    counts = next(iter(results.values()))["bleu_by_length"]
    ax.set_xticks(range(len(labels)), [f"{label}\n({counts.get(label, {}).get('n', 0):,} sent.)" for label in labels])
    ax.set_xlabel("source length (Spanish words)")
    ax.set_ylabel("BLEU (sacrebleu, test split)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def readme_section() -> tuple[str, str]:
    """The README's translators table (``<!-- translators:start -->``): test BLEU by source length, from the cards."""
    import zoo

    results = {name: zoo.info(name)["metrics"] for name in zoo.list_models(pretrained=True)
               if (zoo.info(name)["metrics"] or {}).get("bleu_by_length")}
    return "translators", bleu_by_length_table(results) if results else "(no translator checkpoint yet)"
