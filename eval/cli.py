"""The `tracuu` console command: search_api's verbs plus `eval` and `bench-scale`, which this top layer registers itself.

Imports point down (indexer <- ui <- search_api <- eval): search_api.cli knows nothing of eval, and this
module, the composition root of the command line, hands it the extra verb.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from search_api import cli

EVAL_HELP = "run the evaluation (see tracuu eval --help)"


def _eval(args: list[str]) -> int:
    from eval import runner  # ranx and matplotlib load only when evaluating

    return runner.main(args)


def _bench_scale(args: list[str]) -> int:
    from eval import scale

    return scale.main(args)


VERBS = {
    "eval": cli.Verb(EVAL_HELP, _eval),
    "bench-scale": cli.Verb("build 10k/100k/1M-passage archives and measure them (see tracuu bench-scale --help)",
                            _bench_scale),
}


def build_parser() -> argparse.ArgumentParser:
    """The full `tracuu` parser, as users see it in `tracuu --help`."""
    return cli.build_parser(VERBS)


def main(argv: Sequence[str] | None = None) -> int:
    return cli.main(argv, VERBS)


if __name__ == "__main__":
    sys.exit(main())
