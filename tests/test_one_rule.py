"""One helper per rule (issue 15 item 5): a validation location as a field name, the worst trust state."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from provenance.model.catalogue import Catalogue
from provenance.model.locations import TOP_LEVEL, field_name
from provenance.model.problems import ProblemCode, TrustState, VerificationReport, worst_state


@pytest.mark.parametrize(
    ("loc", "empty", "expected"),
    [
        (("state", "files", 0, "path"), TOP_LEVEL, "state.files.0.path"),
        (("copies", 1, "count"), TOP_LEVEL, "copies.1.count"),
        ((), TOP_LEVEL, "(top level)"),
        ((), "(state)", "(state)"),
    ],
)
def test_a_location_is_one_dotted_field_name(loc: tuple[str | int, ...], empty: str, expected: str) -> None:
    assert field_name(loc, empty) == expected


def test_a_refused_catalogue_value_is_named_by_its_field() -> None:
    from provenance.errors import validation_detail

    with pytest.raises(ValidationError) as caught:
        Catalogue.model_validate({"copies": [{"recipient": "Stalin", "count": 0}]})
    assert validation_detail(caught.value)[0] == "copies.0.count"


T, V, INV = TrustState.TRUSTED, TrustState.VALID, TrustState.INVALID


@pytest.mark.parametrize(
    ("states", "worst"),
    [((), T), ((T,), T), ((T, V), V), ((V, T), V), ((V, INV, T), INV), ((INV, V), INV), ((T, T), T)],
)
def test_the_worst_state_is_invalid_over_valid_over_trusted(states: tuple[TrustState, ...], worst: TrustState) -> None:
    assert worst_state(states) is worst
    assert worst_state(iter(states)) is worst


def test_a_report_state_is_the_worst_of_its_problems() -> None:
    report = VerificationReport(record="r", path="r")
    assert report.state is T
    report.add(ProblemCode.EVENT_SIGNATURE_INVALID, "bad")
    assert report.state is INV
