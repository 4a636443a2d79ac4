"""Tests for the telegram profile's pure parsing functions and for editorial-insertion finding."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.ingest.insertions import Insertion, find_editorial_insertions
from provenance.ingest.telegram import looks_like_telegram, parse_telegram
from provenance.notes import make_target

CORPUS = Path(__file__).parent / "data" / "corpus"
ENGLISH_TELEGRAMS = ["telegram-23256", "synthetic-telegram-4471"]


def read_corpus(name: str) -> str:
    """Return a corpus file decoded from UTF-8 with its line endings exactly as stored (CR LF kept)."""
    return (CORPUS / name).read_bytes().decode("utf-8")


def load_expected(stem: str) -> dict[str, Any]:
    """Return the expected catalogue metadata for a corpus telegram."""
    data: dict[str, Any] = json.loads(read_corpus(f"{stem}.expected.json"))
    return data


def assert_insertions_consistent(text: str, found: list[Insertion]) -> None:
    """Check the invariants every insertion list must satisfy."""
    previous_end = -1
    for insertion in found:
        assert text[insertion.start : insertion.end] == insertion.exact
        assert insertion.exact.startswith("[")
        assert insertion.exact.endswith("]")
        assert insertion.start >= previous_end  # in order, never overlapping
        previous_end = insertion.end


# --- corpus telegrams -------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", ENGLISH_TELEGRAMS)
def test_english_corpus_telegram_matches_expected(stem: str) -> None:
    text = read_corpus(f"{stem}.txt")
    expected = load_expected(stem)
    parsed = parse_telegram(text)

    expected_keys = set(expected) - {"editorial_insertions"}
    assert set(parsed) == expected_keys | {"language"}
    for key in expected_keys - {"sent"}:
        assert parsed[key] == expected[key], key
    assert isinstance(parsed["sent"], str)
    assert dt.datetime.fromisoformat(parsed["sent"]) == dt.datetime.fromisoformat(expected["sent"])
    assert parsed["sent"].count(":") == 1  # no seconds invented
    assert parsed["language"] == "en"
    assert looks_like_telegram(text)


@pytest.mark.parametrize("stem", ENGLISH_TELEGRAMS)
def test_english_corpus_insertions_match_expected(stem: str) -> None:
    text = read_corpus(f"{stem}.txt")
    found = find_editorial_insertions(text)
    assert [insertion.exact for insertion in found] == load_expected(stem)["editorial_insertions"]
    assert_insertions_consistent(text, found)


def test_russian_corpus_telegram() -> None:
    text = read_corpus("synthetic-telegram-7702-ru.txt")
    parsed = parse_telegram(text)
    assert parsed["document_type"] == "шифротелеграмма"
    assert parsed["telegram_number"] == "7702"
    assert parsed["series"] == "Г"
    assert parsed["copies"] == [
        {"recipient": "Сталину", "count": 2},
        {"recipient": "Молотову", "count": 1},
        {"recipient": "Булганину", "count": 1},
    ]
    assert parsed["origin"] == "Пекина"
    assert parsed["sent"] == "1951-09-02T14:05"
    assert parsed["sent_as_written"] == "14:05 2.9.1951"
    assert parsed["addressee"] == "Филиппову"
    assert parsed["addressee_identified_as"] == "Сталину"
    assert parsed["author"] == "Мао Цзэдун"
    assert parsed["language"] == "ru"
    issuing_body = parsed["issuing_body"]
    assert isinstance(issuing_body, str)
    assert issuing_body.casefold() == "второе главное управление генерального штаба советской армии"
    assert looks_like_telegram(text)


def test_russian_corpus_insertions() -> None:
    text = read_corpus("synthetic-telegram-7702-ru.txt")
    found = find_editorial_insertions(text)
    assert [insertion.exact for insertion in found] == [
        "[Сталину]",
        "[Синтетический тестовый документ, написанный для тестов этого проекта; это не исторический текст.]",
        "[Кесоне]",
    ]
    assert_insertions_consistent(text, found)


def test_crlf_memo_is_not_a_telegram() -> None:
    text = read_corpus("synthetic-memo-crlf.txt")
    assert "\r\n" in text
    assert not looks_like_telegram(text)
    assert parse_telegram(text) == {}


def test_crlf_memo_insertion_offsets_count_each_cr() -> None:
    text = read_corpus("synthetic-memo-crlf.txt")
    found = find_editorial_insertions(text)
    # The memo has one insertion in its text, "[взаимной]", after the synthetic-document note (which is
    # itself a bracketed note, recorded like the one in synthetic-telegram-4471).
    assert [insertion.exact for insertion in found] == [
        "[Synthetic test document written for this project's tests; not a historical text. "
        "Its lines end in CR LF.]",
        "[взаимной]",
    ]
    assert_insertions_consistent(text, found)
    word = found[1]
    assert (word.start, word.end) == (414, 424)  # code points, CR LF counted as two
    assert text[word.start : word.end] == "[взаимной]"

    # In an LF-only copy the same insertion starts one code point earlier per CR before it.
    normalised = text.replace("\r\n", "\n")
    lf_word = find_editorial_insertions(normalised)[1]
    assert word.start - lf_word.start == text[: word.start].count("\r")
    assert normalised[lf_word.start : lf_word.end] == "[взаимной]"


def test_quote_context_around_an_insertion() -> None:
    text = read_corpus("telegram-23256.txt")
    kaesong = find_editorial_insertions(text)[1]
    quote = make_target(text, "telegram-23256.txt", kaesong.start, kaesong.end).quote
    prefix, suffix = quote.prefix, quote.suffix
    assert prefix == text[kaesong.start - 32 : kaesong.start]
    assert prefix.endswith("neutral zone in Gaeseong ")
    assert suffix == text[kaesong.end : kaesong.end + 32]
    assert suffix.startswith(", as a result")
    assert len(prefix) == len(suffix) == 32


def test_quote_context_is_shorter_at_the_ends() -> None:
    text = "[a] middle [b]"
    start = make_target(text, "t.txt", 0, 3).quote
    end = make_target(text, "t.txt", 11, 14).quote
    assert (start.prefix, start.suffix, end.prefix, end.suffix) == ("", " middle [b]", "[a] middle ", "")


# --- insertion rules --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no brackets here", []),
        ("one [a] two [b c]", ["[a]", "[b c]"]),
        ("nested [a [b] c] counts once", ["[a [b] c]"]),
        ("unclosed [a [b] c and nothing more", ["[b]"]),
        ("two unclosed [x [y [z] w", ["[z]"]),
        ("stray ] closer [a]] ]", ["[a]"]),
        ("[outer [inner] [second]]", ["[outer [inner] [second]]"]),
        ("empty [] and blank [  ] are not notes, [x] is", ["[x]"]),
        ("[spans\none line break]", ["[spans\none line break]"]),
        ("[does not\n\ncross a paragraph] but [this] does not either", ["[this]"]),
        ("[nor\r\n \t\r\na blank line of spaces] [ok]", ["[ok]"]),
        ("[nor a\u2029paragraph separator]", []),
        ("[a [b\n\nc] d]", []),
        ("[a [b] c\n\n[d]", ["[b]", "[d]"]),
        ("[[a]]", ["[[a]]"]),
    ],
)
def test_insertion_rules(text: str, expected: list[str]) -> None:
    found = find_editorial_insertions(text)
    assert [insertion.exact for insertion in found] == expected
    assert_insertions_consistent(text, found)


def test_insertion_offsets_are_code_points() -> None:
    text = "Sinŭiju 🇰🇵 [Sinŭiju] — [x]"
    found = find_editorial_insertions(text)
    assert found[0] == Insertion("[Sinŭiju]", 11, 20)
    assert found[1] == Insertion("[x]", 23, 26)


def test_insertion_is_frozen() -> None:
    insertion = Insertion("[a]", 0, 3)
    with pytest.raises(AttributeError):
        insertion.start = 1  # type: ignore[misc]


# --- generalisation ---------------------------------------------------------------------------------------

INLINE_TELEGRAM = """\ufeffSECOND MAIN ADMINISTRATION OF THE GENERAL STAFF OF THE SOVIET ARMY

CIPHERED TELEGRAM No. 908/sh

Copies: Vasilevsky, Shtemenko (4), Gromyko,
Zakharov (2)

From PORT ARTHUR 7:05 9.1.1952

SERIES "VV"

To Comrades ŠTEFAN JURÁŠEK-NOVÁK [Malinovsky]

Comrade Jurášek-Novák!

The transport left on 8 January [1952] with 1,200 tons of cargo.

With greetings.

[Signature illegible]
ZHOU ENLAI.
"""


def test_generalises_to_another_telegram_of_the_same_layout() -> None:
    parsed = parse_telegram(INLINE_TELEGRAM.replace("\n", "\r\n"))
    assert parsed == {
        "document_type": "ciphered telegram",
        "issuing_body": "Second Main Administration of the General Staff of the Soviet Army",
        "telegram_number": "908/sh",
        "series": "VV",
        "copies": [
            {"recipient": "Vasilevsky", "count": 1},
            {"recipient": "Shtemenko", "count": 4},
            {"recipient": "Gromyko", "count": 1},
            {"recipient": "Zakharov", "count": 2},
        ],
        "origin": "Port Arthur",
        "sent": "1952-01-09T07:05",
        "sent_as_written": "7:05 9.1.1952",
        "addressee": "Štefan Jurášek-Novák",
        "addressee_identified_as": "Malinovsky",
        "author": "Zhou Enlai",
        "language": "en",
    }
    assert [i.exact for i in find_editorial_insertions(INLINE_TELEGRAM)] == [
        "[Malinovsky]",
        "[1952]",
        "[Signature illegible]",
    ]


def test_header_variants() -> None:
    text = (
        "TOP SECRET\n"
        "Second Main Administration of the General Staff\n\n"
        "INCOMING CIPHERED TELEGRAM № 12\n"
        "Copies: MOLOTOV (1), BERIA (10)\n"
        "From: MOSCOW 31.12.1949, 23:59\n"
        "Series: «A»\n"
        "To FILIPPOV [i.e. Stalin].\n"
        "Text.\n"
    )
    parsed = parse_telegram(text)
    assert parsed["issuing_body"] == "Second Main Administration of the General Staff"
    assert parsed["document_type"] == "incoming ciphered telegram"
    assert parsed["telegram_number"] == "12"
    assert parsed["copies"] == [{"recipient": "Molotov", "count": 1}, {"recipient": "Beria", "count": 10}]
    assert parsed["origin"] == "Moscow"
    assert parsed["sent"] == "1949-12-31T23:59"
    assert parsed["sent_as_written"] == "31.12.1949, 23:59"
    assert parsed["series"] == "A"
    assert parsed["addressee"] == "Filippov"
    assert parsed["addressee_identified_as"] == "Stalin"
    assert "author" not in parsed  # "Text." is the whole body, not a signature after it


@pytest.mark.parametrize(
    ("when", "sent"),
    [
        ("01:30 27.8.1951", "1951-08-27T01:30"),
        ("9:00 1.1.1950", "1950-01-01T09:00"),
        ("23:15 29.2.1952", "1952-02-29T23:15"),
        ("12.6.1950", "1950-06-12"),
        ("25:00 1.1.1950", None),
        ("10:00 29.2.1951", None),
        ("10:00 31.4.1951", None),
        ("10:00 1.13.1951", None),
    ],
)
def test_sent_time_validation(when: str, sent: str | None) -> None:
    parsed = parse_telegram(f"CIPHERED TELEGRAM No. 1\n\nFrom HANOI {when}\n")
    assert parsed["origin"] == "Hanoi"
    assert parsed["sent_as_written"] == when
    assert parsed.get("sent") == sent


@pytest.mark.parametrize(
    ("line", "addressee", "identified"),
    [
        ("To Comrade FILIPPOV [Stalin]", "Filippov", "Stalin"),
        ("To Comrade FILIPPOV [i.e. Stalin]", "Filippov", "Stalin"),
        ("To Comrade KIM CH'AEK [Marie Stalin]", "Kim Ch'aek", "Marie Stalin"),
        ("To Comrades MOLOTOV, VYSHINSKY", "Molotov, Vyshinsky", None),
        ("To Comrade O'BRIEN-SMITH", "O'Brien-Smith", None),
        ("To Comrade I.V. STALIN.", "I.V. Stalin", None),
        ("TO COMRADE FILIPPOV [STALIN]", "Filippov", "Stalin"),
        ("Товарищу ФИЛИППОВУ [т. е. Сталину]", "Филиппову", "Сталину"),
        ("To Comrade Filippov [Stalin]", "Filippov", "Stalin"),
    ],
)
def test_addressee_variants(line: str, addressee: str, identified: str | None) -> None:
    parsed = parse_telegram(f"CIPHERED TELEGRAM No. 3\n\n{line}\n\nBody.\n")
    assert parsed["addressee"] == addressee
    assert parsed.get("addressee_identified_as") == identified


def test_header_only_and_missing_fields() -> None:
    parsed = parse_telegram("CIPHERED TELEGRAM No. 77\n")
    assert parsed == {"document_type": "ciphered telegram", "telegram_number": "77", "language": "en"}
    assert looks_like_telegram("CIPHERED TELEGRAM No. 77")


def test_author_rules() -> None:
    header = "CIPHERED TELEGRAM No. 5\n\nTo Comrade FILIPPOV\n\nBody text here.\n\n"
    assert parse_telegram(header + "With greetings.\n\nKIM IL SUNG.\n")["author"] == "Kim Il Sung"
    assert "author" not in parse_telegram(header + "With greetings.\n")
    assert "author" not in parse_telegram(header + "Greetings.\n")
    assert "author" not in parse_telegram(header + "We await your answer.\n")
    signed = parse_telegram(header + "Mao Zedong [Chairman].\n\nNo. 4471\n27.8.51\n")
    assert signed["author"] == "Mao Zedong"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n\n\n",
        "Comrade Filippov!\n\nFrom the beginning, we said so.\n",
        "From 1 to 5 September the enemy attacked.\n",
        "To be or not to be.\n",
        "MEMORANDUM\n\nSome text.\n",
        "Series of events followed.\n",
    ],
)
def test_non_telegrams_give_no_fields(text: str) -> None:
    assert parse_telegram(text) == {}
    assert not looks_like_telegram(text)


def test_body_lines_are_not_read_as_header_fields() -> None:
    text = read_corpus("telegram-23256.txt") + '\nFrom LONDON 10:00 1.1.1960\nSERIES "Z"\n'
    parsed = parse_telegram(text)
    assert parsed["origin"] == "Beijing"
    assert parsed["series"] == "G"


# --- generated telegrams ----------------------------------------------------------------------------------

UPPER = "ABCDEFGHIJKLMNOPRSTUVYZÉÜÖŬÇ"


@st.composite
def name_words(draw: st.DrawFn, max_words: int = 3) -> list[str]:
    """Draw one to ``max_words`` capitalised words such as ``["Fyn", "Si"]``."""
    words = draw(st.lists(st.text(alphabet=UPPER, min_size=2, max_size=10), min_size=1, max_size=max_words))
    return [word[0] + word[1:].lower() for word in words]


@given(
    number=st.integers(min_value=1, max_value=999_999),
    series=st.text(alphabet="ABVGDEZ", min_size=1, max_size=2),
    copies=st.lists(
        st.tuples(name_words(max_words=2), st.one_of(st.none(), st.integers(min_value=1, max_value=20))),
        min_size=1,
        max_size=5,
    ),
    origin=name_words(),
    sent=st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2099, 12, 31)),
    addressee=name_words(),
    identified=name_words(),
    author=name_words(),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_generated_telegrams_round_trip(
    number: int,
    series: str,
    copies: list[tuple[list[str], int | None]],
    origin: list[str],
    sent: dt.datetime,
    addressee: list[str],
    identified: list[str],
    author: list[str],
) -> None:
    copy_list = ", ".join(
        " ".join(words) + ("" if count is None else f" ({count})") for words, count in copies
    )
    when = f"{sent.hour:02d}:{sent.minute:02d} {sent.day}.{sent.month}.{sent.year}"
    text = (
        "SECOND MAIN ADMINISTRATION OF THE GENERAL STAFF OF THE SOVIET ARMY\n\n"
        f"CIPHERED TELEGRAM No. {number}\n\n"
        f"Copies: {copy_list}\n\n"
        f"From {' '.join(origin).upper()} {when}\n\n"
        f'SERIES "{series}"\n\n'
        f"To Comrade {' '.join(addressee).upper()} [{' '.join(identified)}]\n\n"
        f"Comrade {' '.join(addressee)}!\n\nSome text [with a note].\n\nWith greetings.\n\n"
        f"{' '.join(author)}.\n"
    )
    parsed = parse_telegram(text)
    assert parsed["telegram_number"] == str(number)
    assert parsed["series"] == series
    assert parsed["copies"] == [
        {"recipient": " ".join(words), "count": 1 if count is None else count} for words, count in copies
    ]
    assert parsed["origin"] == " ".join(origin)
    assert parsed["sent"] == sent.strftime("%Y-%m-%dT%H:%M")
    assert parsed["sent_as_written"] == when
    assert parsed["addressee"] == " ".join(addressee)
    assert parsed["addressee_identified_as"] == " ".join(identified)
    assert parsed["author"] == " ".join(author)
    assert parsed["language"] == "en"


# --- robustness -------------------------------------------------------------------------------------------

HEADERISH = st.sampled_from(
    [
        "[",
        "]",
        "\n",
        "\r\n",
        "\n\n",
        " ",
        "CIPHERED TELEGRAM No. ",
        "Copies: ",
        "From ",
        "SERIES ",
        "To Comrade ",
        "Товарищу ",
        "ШИФРОТЕЛЕГРАММА № ",
        "(",
        ")",
        ",",
        "1",
        "27.8.1951",
        "01:30",
        "A",
        "Б",
        "\u2029",
        "\ufeff",
        "\u0306",
        "«",
        '"',
        ".",
    ]
)


@given(st.one_of(st.text(), st.lists(HEADERISH, max_size=80).map("".join)))
@settings(max_examples=400)
def test_parsers_never_raise(text: str) -> None:
    parsed = parse_telegram(text)
    assert isinstance(parsed, dict)
    assert looks_like_telegram(text) == ("telegram_number" in parsed)
    found = find_editorial_insertions(text)
    assert_insertions_consistent(text, found)
    for insertion in found:
        quote = make_target(text, "t.txt", insertion.start, insertion.end).quote
        prefix, suffix = quote.prefix, quote.suffix
        assert text[insertion.start - len(prefix) : insertion.start] == prefix
        assert text[insertion.end : insertion.end + len(suffix)] == suffix


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200_000,
        "]" * 200_000,
        "[a " * 100_000,
        "To Comrade " + "A " * 100_000,
        ("CIPHERED TELEGRAM No. 1\n" + "a" * 299 + "\n") * 2_000,
        "From " + "A" * 290 + " 1.1.1" + "9" * 5,
        "To Comrade " + "A-" * 140 + "!",
        "x\n" * 200_000 + "A" * 5_000 + ".",
        "Kim" + "-a" * 3_000 + ".",
    ],
)
def test_adversarial_input_is_fast(text: str) -> None:
    """A quadratic or backtracking pattern would spend minutes here; linear work takes a fraction of a second.

    CPU time of this process, not wall time: a loaded machine must not fail a bound on work done."""
    began = time.process_time()
    parse_telegram(text)
    find_editorial_insertions(text)
    assert time.process_time() - began < 3.0
