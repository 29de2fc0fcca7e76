"""The README's forecasting tables, generated from the cards (`make cards`)."""

from __future__ import annotations

# Published test figures on the same ETTh1 protocol (MSE/MAE per horizon), for the table beside ours.
PUBLISHED = {
    "repeat the last value (LTSF-Linear paper)": ((1.295, 0.713), (1.325, 0.733), (1.323, 0.744), (1.339, 0.756)),
    "DLinear, L=336 (Zeng et al. 2023)": ((0.375, 0.399), (0.405, 0.416), (0.439, 0.443), (0.472, 0.490)),
    "PatchTST/42, L=336 (Nie et al. 2023)": ((0.375, 0.399), (0.414, 0.421), (0.431, 0.436), (0.449, 0.466)),
    "SegRNN, L=720 (Lin et al. 2023)": ((0.351, 0.392), (0.392, 0.414), (0.423, 0.433), (0.466, 0.472)),
}
HORIZONS = (96, 192, 336, 720)


def readme_section() -> tuple[str, str]:
    """``("forecasting", markdown)``: ETTh1 test MSE/MAE per horizon of each shipped forecaster, to 4 places as
    its card has them (a bar can be closer than 0.001), beside the repeat baseline measured on the same
    windows and the published rows, then the PM2.5 table."""
    from zoo._registry import get_spec, list_models

    rows = ["| ETTh1, test MSE / MAE | 96 | 192 | 336 | 720 |", "|---|---|---|---|---|"]
    repeat = {}
    for arch, title in (("lstm", "`etth1-lstm-h*` (LSTM, direct head)"), ("segrnn", "`etth1-segrnn-h*` (SegRNN)")):
        cells = []
        shipped = {h: get_spec(f"etth1-{arch}-h{h}").builder_args
                   for h in HORIZONS if f"etth1-{arch}-h{h}" in list_models()}
        for what, at in (("networks averaged",
                          [f"{h} h: {a['ensemble']}" for h, a in shipped.items() if a.get("ensemble", 1) > 1]),
                         ("beside a level-free linear highway",
                          [f"{h} h" for h, a in shipped.items() if a.get("highway_input") == "normalized"])):
            if at:
                title = title[:-1] + f"; {what} at " + ", ".join(at) + ")"
        for horizon in HORIZONS:
            name = f"etth1-{arch}-h{horizon}"
            card = get_spec(name).card() if name in list_models() else None
            if card is None:
                cells.append("-")
                continue
            m = card["metrics"]
            repeat[horizon] = (m["repeat_mse"], m["repeat_mae"])
            cells.append(f"{m['mse']:.4f} / {m['mae']:.4f}")
        rows.append(f"| {title} | " + " | ".join(cells) + " |")
    rows.append("| repeat the last value (measured, same windows) | "
                + " | ".join(f"{repeat[h][0]:.3f} / {repeat[h][1]:.3f}" if h in repeat else "-" for h in HORIZONS) + " |")
    for title, figures in PUBLISHED.items():
        rows.append(f"| {title} | " + " | ".join(f"{mse:.3f} / {mae:.3f}" for mse, mae in figures) + " |")

    name = "beijing-pm25-lstm"
    card = get_spec(name).card() if name in list_models() else None
    if card is not None:
        m = card["metrics"]
        rows += ["", f"| Beijing PM2.5, 2014 ({m['n']:,} windows, {m['windows_dropped']:,} with a missing target hour "
                     "not scored) | RMSE, mean of 24 h | MAE | RMSE +1 h | +6 h | +12 h | +24 h |",
                 "|---|---|---|---|---|---|---|"]
        rows.append(f"| `{name}` | {m['rmse']:.2f} | {m['mae']:.2f} | "
                    + " | ".join(f"{v:.2f}" for v in m["rmse_by_hour"].values()) + " |")
        for baseline, b in m["baselines"].items():
            rows.append(f"| {baseline.replace('_', ' ')} | {b['rmse']:.2f} | {b['mae']:.2f} | "
                        + " | ".join(f"{b[f'rmse +{h}h']:.2f}" for h in (1, 6, 12, 24)) + " |")
    return "forecasting", "\n".join(rows)
