"""The `zoo` command line.

    zoo list [PATTERN]
    zoo info NAME
    zoo predict NAME [TEXT ...]          (lines on stdin when no TEXT is given)
    zoo eval NAME [--split test] [--limit N]
    zoo export NAME --format saved_model|tflite --out DIR
    zoo train NAME [recipe options ...]
"""

from __future__ import annotations

import argparse
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

    p = sub.add_parser("eval", help="score the pretrained model on its dataset")
    p.add_argument("name")
    p.add_argument("--split", default="test")
    p.add_argument("--limit", type=int, default=None, help="only the first N examples of the split")

    p = sub.add_parser("export", help="export for serving (SavedModel) or mobile (TFLite)")
    p.add_argument("name")
    p.add_argument("--format", choices=("saved_model", "tflite"), default="saved_model")
    p.add_argument("--out", required=True, help="output folder")

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
    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise ValueError("give texts as arguments or as lines on stdin.")
    pipe = zoo.pipeline(args.name, batch_size=64)
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


_COMMANDS = {"list": _list, "info": _info, "predict": _predict, "eval": _eval, "export": _export, "train": _train}

if __name__ == "__main__":
    sys.exit(main())
