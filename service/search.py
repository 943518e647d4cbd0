"""The words of a search (``GET /image?q=``, CONTRACT.md §6 "Search").

An image matches when, for every word of ``q``, its prompt has a word starting with
it, case-insensitively. Words are runs of letters and digits. Words shorter than
:data:`MIN_WORD_LENGTH` and the stop words below are ignored, because the database
indexes neither: InnoDB's ``innodb_ft_min_token_size`` is 3 by default and these are
its default stop words (``INFORMATION_SCHEMA.INNODB_FT_DEFAULT_STOPWORD``); SQLite's
FTS5 index is queried with the same words, so both backends answer alike. (One known
difference: InnoDB keeps ``_`` inside a word, FTS5 splits on it, so ``q=cub`` finds the
prompt "fox_cub" on SQLite only.)
"""

from __future__ import annotations

import re

from core.exceptions import ValidationFailedError

MIN_WORD_LENGTH = 3
MAX_QUERY_LENGTH = 200
MAX_WORDS = 16  # more words narrow nothing in practice and only cost the index time
STOP_WORDS = frozenset(
    (
        "a", "about", "an", "are", "as", "at", "be", "by", "com", "de", "en", "for",
        "from", "how", "i", "in", "is", "it", "la", "of", "on", "or", "that", "the",
        "this", "to", "was", "what", "when", "where", "who", "will", "with", "und", "www",
    )
)  # fmt: skip
_WORD = re.compile(r"[^\W_]+")


def search_words(q: str) -> list[str]:
    """The lower-case words of ``q`` a search looks for, in order, without repeats.

    ``ValidationFailedError`` (422) when ``q`` is empty or too long, or nothing is left
    once short words and stop words are dropped.
    """
    if not 1 <= len(q) <= MAX_QUERY_LENGTH:
        raise _invalid(f"q must be 1 to {MAX_QUERY_LENGTH} characters.", "string_too_long")
    words = [
        word
        for word in dict.fromkeys(match.casefold() for match in _WORD.findall(q))
        if len(word) >= MIN_WORD_LENGTH and word not in STOP_WORDS
    ]
    if not words:
        raise _invalid(
            f"q has no word to search for: words of at least {MIN_WORD_LENGTH} letters "
            "or digits that are not common stop words.",
            "no_search_words",
        )
    return words[:MAX_WORDS]


def _invalid(message: str, kind: str) -> ValidationFailedError:
    return ValidationFailedError(
        message, details=[{"loc": ["query", "q"], "msg": message, "type": kind}]
    )
