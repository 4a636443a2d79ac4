"""The shortcuts the verifier takes for speed give the answers of the full checks (issue 15's speed targets).

A plain ASCII payload path is accepted by one pattern; anything it accepts passes every check of
``check_relative_path``, and the answer for any path is the same with or without the shortcut.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import provenance.model.manifest as manifest_model

paths = st.text(alphabet="aZ09._-/ \\:\t", max_size=14) | st.sampled_from(
    ["a", "a/b", ".a", "a/.", "a/..", "..", "a//b", "/a", "a/", "C:/x", "a" * 255, "a" * 256, "a/" + "b" * 300]
)


@settings(max_examples=800)
@given(paths)
def test_plain_path_pattern_accepts_only_valid_paths(path: str) -> None:
    fast = len(path) <= 1024 and manifest_model._PLAIN_PATH.fullmatch(path) is not None
    original = manifest_model._PLAIN_PATH
    try:
        manifest_model._PLAIN_PATH = re.compile("(?!)")  # the full checks alone
        try:
            manifest_model.check_relative_path(path)
            valid = True
        except ValueError:
            valid = False
    finally:
        manifest_model._PLAIN_PATH = original
    if fast:
        assert valid, path
    # and with the shortcut in place the answer is the same
    try:
        manifest_model.check_relative_path(path)
        assert valid
    except ValueError:
        assert not valid


@pytest.mark.parametrize("path", ["pages/page-00001.bin", "a.b/c_d-e", "x" * 255])
def test_plain_paths_take_the_shortcut(path: str) -> None:
    assert manifest_model._PLAIN_PATH.fullmatch(path)
