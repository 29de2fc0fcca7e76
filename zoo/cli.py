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

    p = sub.add_parser("predict", help="predict on texts given as arguments or lines on stdin")
    p.add_argument("name")
    p.add_argument("texts", nargs="*", metavar="TEXT")
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
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import zoo

    try:
        return _COMMANDS[args.command](args, zoo)
    except (zoo.UnknownModelError, zoo.CheckpointError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"zoo {args.command}: error: {error}", file=sys.stderr)
        return 2


def _list(args, zoo) -> int:
    cards = [zoo.info(name) for name in zoo.list_models(args.pattern)]
    name_width = max((len(c["name"]) for c in cards), default=0)
    task_width = max((len(c["task"]) for c in cards), default=0)
    for card in cards:
        score = card["metrics"].get(card["metric"]) if card["metrics"] else None
        shown = f"{card['metric']} {score:.4f}" if score is not None else "no checkpoint"
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
