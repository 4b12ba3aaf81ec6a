"""The README is the contract with users: every CLI verb, option and setting must be documented."""
from __future__ import annotations

import argparse
from pathlib import Path

from eval.cli import build_parser
from search_api.config import ENVIRONMENT

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _verbs() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_first_screen_shows_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:40])
    assert "make serve" in first_screen and "make test" in first_screen


def test_every_cli_verb_and_option_is_documented():
    verbs = _verbs()
    assert set(verbs) >= {"index", "serve", "search", "ask", "eval"}
    for verb, parser in verbs.items():
        assert f"tracuu {verb}" in README, f"README does not document `tracuu {verb}`"
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in README, f"README does not document `tracuu {verb} {flag}`"


def test_every_setting_is_documented():
    for variable in ENVIRONMENT:
        assert f"`{variable}`" in README, f"README does not document the setting {variable}"


def test_every_eval_option_is_documented():
    from eval.runner import build_parser as eval_parser

    for action in eval_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert flag in README, f"README does not document `tracuu eval {flag}`"


def test_every_bench_scale_option_is_documented():
    from eval.scale import build_parser as scale_parser

    for action in scale_parser()._actions:
        for flag in action.option_strings:
            if flag.startswith("--") and flag != "--help":
                assert flag in README, f"README does not document `tracuu bench-scale {flag}`"
