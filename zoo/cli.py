"""The `zoo` command line.

    zoo list [PATTERN]
    zoo info NAME
    zoo predict NAME [TEXT ...]          (lines on stdin when no TEXT is given)
    zoo eval NAME [--split test] [--limit N]
    zoo export NAME --format saved_model|tflite --out DIR
    zoo train NAME [recipe options ...]
    zoo download NAME ... | --all [--to DIR]   (fetch checkpoints now, into the cache or DIR)
    zoo cache [NAME ...] [--clear [--all]]     (list the cached checkpoints and their size, or remove them)
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import subprocess
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zoo", description="Pretrained recurrent networks for Keras 3.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("list", help="list registered models")
    p.add_argument("pattern", nargs="?", default="*", help="shell-style filter, e.g. 'imdb-*'")

    p = sub.add_parser("info", help="show a model card")
    p.add_argument("name")

    p = sub.add_parser("predict", help="predict on inputs (texts, or file paths for image models) given as "
                                       "arguments or lines on stdin")
    p.add_argument("name")
    p.add_argument("texts", nargs="*", metavar="INPUT")
    p.add_argument("--json", action="store_true", help="one JSON object per input line")
    p.add_argument("--plot", metavar="PNG", default=None, help="forecasters, anomaly detector, composer: also draw the result here")
    p.add_argument("--seed-chorale", type=int, default=None, metavar="N",
                   help="jsb-chorales-lstm: continue the first chords of test chorale N")
    p.add_argument("--out", metavar="MID", default=None, help="jsb-chorales-lstm: write the chorale as a MIDI file here")
    p.add_argument("--max-chars", type=int, default=None, metavar="N",
                   help="shakespeare-char-lstm: characters to write after each prompt (default 300)")
    p.add_argument("--max-words", type=int, default=None, metavar="N",
                   help="imdb-lm-lstm: words to write at most after each prompt (default 50)")
    p.add_argument("--temperature", type=float, default=None, help="generators: sampling temperature")
    p.add_argument("--seed", type=int, default=None, help="generators: random seed (the same seed, the same output)")

    p = sub.add_parser("eval", help="score the pretrained model on its dataset")
    p.add_argument("name")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, default=None, help="only the first N examples of the split")

    p = sub.add_parser("export", help="export for serving (SavedModel) or mobile (TFLite)")
    p.add_argument("name")
    p.add_argument("--format", choices=("saved_model", "tflite"), default="saved_model")
    p.add_argument("--out", required=True, help="output folder")

    p = sub.add_parser("download", help="fetch checkpoints now, for offline use: into the cache, or --to DIR")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--all", action="store_true", help="every model with a pretrained checkpoint")
    p.add_argument("--to", metavar="DIR", default=None,
                   help="fill this folder (to serve with ZOO_HUB_URL or copy to another machine) instead of the cache")

    p = sub.add_parser("cache", help="list the cached checkpoints and their size; --clear NAME removes one")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these models")
    p.add_argument("--clear", action="store_true", help="remove the named models' checkpoints (or --all) from the cache")
    p.add_argument("--all", action="store_true", help="with --clear: everything in the cache")

    p = sub.add_parser("train", help="train a model with its recipe (options after NAME go to the recipe)")
    p.add_argument("name")
    p.add_argument("recipe_args", nargs=argparse.REMAINDER)
    for command in sub.choices.values():
        if command.prog.split()[-1] != "train":
            command.add_argument("--verbose", action="store_true", help="show TensorFlow's start-up and log lines")
    return parser


def _parse(argv: list[str] | None) -> argparse.Namespace:
    """Options may stand anywhere among the positional arguments (``zoo predict NAME --json TEXT``)."""
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # everything after NAME belongs to the recipe
        return parser.parse_args(argv)
    args, rest = parser.parse_known_args(argv)
    if not rest:
        return args
    command = _subparsers(parser)[args.command]
    return argparse.Namespace(command=args.command, **vars(command.parse_intermixed_args(argv[1:])))


def _subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def _quiet_tensorflow() -> None:
    """Keeps TensorFlow's C++ start-up lines (oneDNN notices, absl warnings) off the terminal."""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # errors too: e.g. oneDNN notes that it falls back to Eigen
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    # Some lines are written by C++ before any log level applies: silence file descriptor 2 while
    # TensorFlow loads, then restore it so the CLI's own errors are still seen.
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import tensorflow as tf  # noqa: F401

            tf.get_logger().setLevel("ERROR")
            import absl.logging

            absl.logging.set_verbosity(absl.logging.ERROR)
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.command in ("predict", "eval", "export") and not getattr(args, "verbose", False):
        _quiet_tensorflow()
    import warnings

    import zoo

    if not getattr(args, "verbose", False):
        warnings.filterwarnings("ignore", module="keras.*")

    try:
        return _COMMANDS[args.command](args, zoo)
    except (zoo.UnknownModelError, zoo.CheckpointError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2


def _list(args, zoo) -> int:
    from zoo.metrics import get_metric

    cards = [zoo.info(name) for name in zoo.list_models(args.pattern)]
    name_width = max((len(c["name"]) for c in cards), default=0)
    task_width = max((len(c["task"]) for c in cards), default=0)
    for card in cards:
        score = card["metrics"].get(card["metric"]) if card["metrics"] else None
        shown = f"{card['metric']} {get_metric(card['metric']).format(score)}" if score is not None else "no checkpoint"
        print(f"{card['name']:<{name_width}}  {card['structure']:<12}  {card['task']:<{task_width}}  {shown}")
    return 0


def _info(args, zoo) -> int:
    print(json.dumps(zoo.info(args.name), indent=2))
    return 0


def _predict(args, zoo) -> int:
    options = {k: v for k, v in (("seed_chorale", args.seed_chorale), ("out", args.out), ("plot", args.plot),
                                 ("max_chars", args.max_chars), ("max_words", args.max_words),
                                 ("temperature", args.temperature), ("seed", args.seed))
               if v is not None}
    # Inputs come from the arguments, else from stdin, unless a family option stands in for them (--seed-chorale,
    # --out): generation settings (--max-chars, --max-words, --temperature, --seed) do not, prompts may still come on stdin.
    stand_ins = set(options) - {"max_chars", "max_words", "temperature", "seed"}
    texts = args.texts or ([] if stand_ins else [line.rstrip("\n") for line in sys.stdin if line.strip()])
    if not texts and not stand_ins:
        raise ValueError("give texts as arguments or as lines on stdin.")
    pipe = zoo.pipeline(args.name, batch_size=64)
    # A family whose output is not a line per input (forecasts as CSV, a chorale as MIDI) prints it itself,
    # and takes only the options its predict_command names.
    command = getattr(pipe, "predict_command", None)
    accepted = set(inspect.signature(command).parameters) if command is not None else set()
    refused = sorted(set(options) - accepted)
    if refused:
        flags = ", ".join("--" + name.replace("_", "-") for name in refused)
        raise ValueError(f"{args.name} does not take {flags}.")
    if command is not None:
        return command(texts, as_json=args.json, **options)
    for text, result in zip(texts, pipe(texts)):
        if args.json:
            print(json.dumps({"text": text, "result": result}, ensure_ascii=False))
        else:
            print(pipe.format(text, result))
    return 0


def _eval(args, zoo) -> int:
    metrics = zoo.evaluate(args.name, split=args.split, limit=args.limit)
    print(json.dumps(metrics))
    return 0


def _export(args, zoo) -> int:
    path = zoo.export(args.name, args.out, format=args.format)
    print(path)
    return 0


def _train(args, zoo) -> int:
    spec = zoo._registry.get_spec(args.name)
    root = os.path.dirname(os.path.dirname(os.path.abspath(zoo.__file__)))
    recipe = os.path.join(root, spec.recipe)
    if not os.path.exists(recipe):
        raise FileNotFoundError(
            f"The recipe {spec.recipe} is not installed with this copy of zoo (looked in {root}); "
            "run `zoo train` from a checkout of the rnn-zoo repository."
        )
    return subprocess.call([sys.executable, recipe, args.name, *args.recipe_args])


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _chosen(args, zoo) -> list[str]:
    """The models named on the command line (all checked first), or every pretrained one with ``--all``."""
    if args.all and args.names:
        raise ValueError("give model names or --all, not both.")
    if args.all:
        return zoo.list_models(pretrained=True)
    if not args.names:
        raise ValueError("name at least one model (see `zoo list`), or give --all.")
    return [zoo._registry.get_spec(name).name for name in args.names]


def _download(args, zoo) -> int:
    """Each checkpoint into the cache (as `zoo.load` would), or into ``--to DIR``; one line per model."""
    from zoo import _hub

    failed = 0
    for name in _chosen(args, zoo):
        try:
            card = zoo._registry.get_spec(name).card()
            if card is None:
                raise zoo.CheckpointError(f"{name!r} has no pretrained checkpoint yet.")
            if args.to:
                path, how = _hub.fetch_to(card["file"], card["sha256"], args.to, shipped_dir=zoo._api.CHECKPOINT_DIR)
            else:
                cached = _hub.cached_path(card["file"])
                was_cached = os.path.isfile(cached)
                path = zoo._api.checkpoint_path(name)
                how = "in this checkout" if path != cached else "already cached" if was_cached else "downloaded"
        except (_hub.HubError, zoo.CheckpointError) as error:
            print(f"zoo download: error: {name}: {error}", file=sys.stderr)
            failed += 1
            continue
        print(f"{name}  {_mib(os.path.getsize(path))}  {path}  ({how}, sha256 verified)", flush=True)
    return 2 if failed else 0


def _checkpoint_file(entry: str) -> str:
    """The checkpoint a cache entry belongs to: ``imdb-gru.keras.x1y2.part`` (a download under way) -> ``imdb-gru.keras``."""
    return entry.split(".keras.")[0] + ".keras" if entry.endswith(".part") and ".keras." in entry else entry


def _cache(args, zoo) -> int:
    from zoo import _hub

    cards = {card["file"]: card for card in map(zoo.info, zoo.list_models(pretrained=True))}
    if args.clear:
        if args.all and args.names:
            raise ValueError("give model names or --all, not both.")
        if args.all:
            files = sorted({_checkpoint_file(os.path.basename(path)) for path, _ in _hub.cache_entries()})
        elif args.names:
            files = [zoo.info(name)["file"] or f"{name}.keras" for name in args.names]
        else:
            raise ValueError("--clear needs model names, or --all.")
        sizes = dict(_hub.cache_entries())
        for filename in files:
            try:
                removed = _hub.remove_cached(filename)
            except _hub.HubError as error:
                print(f"zoo cache: error: {error}", file=sys.stderr)
                return 2
            for path in removed:
                print(f"removed {path} ({_mib(sizes.get(path, 0))})")
            if not removed:
                print(f"{filename}: not cached")
        return 0
    if args.all:
        raise ValueError("--all goes with --clear; `zoo cache` lists everything by default.")
    wanted = {zoo.info(name)["file"] for name in args.names}
    entries = [(p, size) for p, size in _hub.cache_entries() if not wanted or _checkpoint_file(os.path.basename(p)) in wanted]
    folder = os.path.join(_hub.cache_dir(), "checkpoints")
    if not entries:
        print(f"{folder}: nothing cached")
        return 0
    print(folder)
    width = max(len(os.path.basename(p)) for p, _ in entries)
    for path, size in entries:
        filename = os.path.basename(path)
        card = cards.get(filename)
        if filename != _checkpoint_file(filename):
            note = "unfinished download"
        elif card is None:
            note = "not a checkpoint of this zoo"
        elif card["size_bytes"] != size:
            note = f"{card['name']}: not the size on its card (stale or corrupt; it is fetched again on use)"
        else:
            note = card["name"]
        print(f"{filename:<{width}}  {_mib(size):>10}  {note}")
    print(f"{len(entries)} file{'s' if len(entries) != 1 else ''}, {_mib(sum(size for _, size in entries))}")
    return 0


_COMMANDS = {"list": _list, "info": _info, "predict": _predict, "eval": _eval, "export": _export, "train": _train,
             "download": _download, "cache": _cache}

if __name__ == "__main__":
    sys.exit(main())
