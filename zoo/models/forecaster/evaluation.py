"""Scoring a forecaster: the figures written on the cards (`zoo eval etth1-...`, `zoo eval beijing-pm25-...`).

ETTh1 (the published protocol): MSE and MAE on the train-scaler's normalized scale, averaged over every
window of the split (stride 1, none dropped), every horizon step and every channel; also in original units,
and the repeat-the-last-value baseline on the same windows.

Beijing PM2.5 (the zoo's protocol, see `zoo.data.beijing_pm25`): RMSE and MAE in µg/m³ over the scored
windows, overall and at +1, +6, +12 and +24 hours, with persistence, the same hour yesterday and a ridge
regression on the same windows, all measured in the same run. The headline ``rmse`` is the RMSE of each
of the 24 horizon hours, averaged over the hours.
"""

from __future__ import annotations

import functools

import numpy as np

PM25_HOURS = (1, 6, 12, 24)
PM25_RIDGE_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)


def forecast(model, inputs: np.ndarray, *, batch_size: int = 256, progress: bool | None = None,
             desc: str = "forecast") -> np.ndarray:
    """The model's forecasts for ``inputs`` (``[n, L, C]``, original units), batched: ``[n, H, outputs]``."""
    import tensorflow as tf

    from zoo._inference import per_model
    from zoo._predict import predict_batched

    run = per_model(model, "forecast", forecast_function)
    inputs = np.asarray(inputs, np.float32)
    rows = predict_batched(list(range(len(inputs))),
                           lambda idx: list(np.asarray(run(tf.constant(inputs[idx[0]: idx[-1] + 1])))),
                           batch_size=batch_size, progress=progress, desc=desc, unit="window")
    return np.stack(rows) if rows else np.zeros((0, *model.output_shape[1:]), np.float32)


def forecast_function(model):
    """A ``tf.function`` of the model traced once for any batch of its fixed ``[L, C]`` windows."""
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([None, *model.input_shape[1:]], tf.float32)])
    def forward(history):
        return model(history, training=False)

    return forward


def evaluate(model, *, split: str = "test", limit: int | None = None, batch_size: int = 256, progress: bool = True):
    """Scores a forecaster on a split of its dataset (found from the model's registered name).

    Returns:
        ETTh1: ``{"mse", "mae", "mse_original_units", "mae_original_units", "repeat_mse", "repeat_mae", "n"}``.
        Beijing PM2.5: ``{"rmse", "mae", "rmse_by_hour", "mae_by_hour", "baselines", "n", "windows_dropped"}``.
    """
    from zoo._registry import get_spec

    spec = get_spec(model.name)
    if spec.dataset == "ett":
        return evaluate_ett(model, split=split, limit=limit, batch_size=batch_size, progress=progress)
    if spec.dataset == "beijing_pm25":
        return evaluate_pm25(model, split=split, limit=limit, batch_size=batch_size, progress=progress)
    raise ValueError(f"No forecasting evaluation for dataset {spec.dataset!r}.")


def ett_scores(predictions: np.ndarray, targets: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> dict:
    """MSE and MAE on the normalized scale (``(x - mean) / scale``) and in original units."""
    error = np.asarray(predictions, np.float64) - np.asarray(targets, np.float64)
    scaled = error / np.asarray(scale, np.float64)
    return {"mse": float(np.mean(scaled**2)), "mae": float(np.mean(np.abs(scaled))),
            "mse_original_units": float(np.mean(error**2)), "mae_original_units": float(np.mean(np.abs(error)))}


def evaluate_ett(model, *, split: str = "test", limit: int | None = None, batch_size: int = 256,
                 progress: bool = True) -> dict:
    """ETTh1 windows of ``split`` (stride 1, none dropped; ``limit``: the first ``limit`` of them)."""
    from zoo.data import ett
    from zoo.models.forecaster.baselines import repeat_last
    from zoo.models.forecaster.model import shapes

    input_length, _, horizon, _ = shapes(model)
    windows = ett.windows(split, input_length=input_length, horizon=horizon, limit=limit)
    mean, scale = ett.scaler()
    predictions = forecast(model, windows.inputs, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    scores = ett_scores(predictions, windows.targets, mean, scale)
    repeat = ett_scores(repeat_last(windows.inputs, horizon), windows.targets, mean, scale)
    out = {key: round(value, 4) for key, value in scores.items()}
    out.update(repeat_mse=round(repeat["mse"], 4), repeat_mae=round(repeat["mae"], 4), n=len(windows))
    return out


def pm25_scores(predictions: np.ndarray, targets: np.ndarray) -> dict:
    """RMSE (per horizon hour, then averaged over the hours) and MAE in µg/m³, overall and at +1/+6/+12/+24 h."""
    error = np.asarray(predictions, np.float64) - np.asarray(targets, np.float64)  # [n, 24]
    rmse_by_hour = np.sqrt(np.mean(error**2, axis=0))
    mae_by_hour = np.mean(np.abs(error), axis=0)
    return {
        "rmse": round(float(rmse_by_hour.mean()), 2),
        "mae": round(float(np.mean(np.abs(error))), 2),
        "rmse_by_hour": {f"+{h}h": round(float(rmse_by_hour[h - 1]), 2) for h in PM25_HOURS},
        "mae_by_hour": {f"+{h}h": round(float(mae_by_hour[h - 1]), 2) for h in PM25_HOURS},
    }


@functools.lru_cache(maxsize=1)
def pm25_ridge():
    """The ridge baseline on the model's own inputs (72 hours x 14 features, z-scored with the train
    statistics, flattened): fit on the train windows, its penalty chosen on the validation windows.

    Returns ``(model, ridge)``.
    """
    from zoo.data import beijing_pm25
    from zoo.models.forecaster.baselines import LinearForecaster

    mean, scale = beijing_pm25.scaler()
    train, validation = beijing_pm25.windows("train"), beijing_pm25.windows("validation")
    gram, cross = LinearForecaster.moments((train.inputs - mean) / scale, train.targets)
    best = None
    for ridge in PM25_RIDGE_GRID:
        linear = LinearForecaster.solve(gram, cross, ridge=ridge)
        error = linear.predict((validation.inputs - mean) / scale) - validation.targets
        score = float(np.sqrt(np.mean(error**2, axis=0)).mean())
        if best is None or score < best[0]:
            best = (score, linear, ridge)
    return best[1], best[2]


def pm25_baselines(inputs: np.ndarray, targets: np.ndarray) -> dict:
    """Persistence, same hour yesterday and ridge regression on the same windows, scored like the model."""
    from zoo.data import beijing_pm25
    from zoo.models.forecaster.baselines import repeat_last, same_hour_yesterday

    mean, scale = beijing_pm25.scaler()
    ridge, _ = pm25_ridge()
    horizon = targets.shape[1]
    return {
        "persistence": pm25_scores(repeat_last(inputs, horizon, columns=[0])[..., 0], targets),
        "same_hour_yesterday": pm25_scores(same_hour_yesterday(inputs, horizon, columns=[0])[..., 0], targets),
        "ridge": pm25_scores(ridge.predict((inputs - mean) / scale), targets),
    }


def evaluate_pm25(model, *, split: str = "test", limit: int | None = None, batch_size: int = 256,
                  progress: bool = True) -> dict:
    """Beijing PM2.5 windows of ``split`` whose 24 target hours are all known (``limit``: the first ones)."""
    from zoo.data import beijing_pm25

    windows = beijing_pm25.windows(split, limit=limit)
    predictions = forecast(model, windows.inputs, batch_size=batch_size, progress=progress, desc=f"eval {split}")
    out = pm25_scores(predictions[..., 0], windows.targets)
    baselines = pm25_baselines(windows.inputs, windows.targets)
    out["baselines"] = {
        name: {"rmse": s["rmse"], "mae": s["mae"], **{f"rmse {h}": v for h, v in s["rmse_by_hour"].items()}}
        for name, s in baselines.items()
    }
    out.update(n=len(windows), windows_dropped=windows.dropped)
    return out
