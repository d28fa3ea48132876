"""A seeded GSM8K-shaped corpus with every oddity the gsm8k reader meets, as raw JSONL lines.

Used to pin ``prepare-data --source gsm8k`` output byte for byte (the block fast path against the
per-record path, and both against digests of the implementation before the fast path existed).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

from bedrock_rft_provider.data.synthetic import generate

# One raw line each, dropped into the clean stream at seeded positions (some valid, most not).
ODD_LINES: tuple[bytes, ...] = (
    b"",  # blank line
    b"   \t",  # whitespace only
    b"[1, 2]",  # not an object
    b'{"question": "unterminated',  # invalid JSON
    b'{"question": "a", "answer": "b #### 1"}, {"question": "c", "answer": "d #### 2"}',  # two on one line
    b'{"question": "  ", "answer": "x #### 1"}',  # blank question
    b'{"question": "Lost answer?"}',  # answer missing
    b'{"question": "No marker?", "answer": "just words"}',
    b'{"question": "Bad final?", "answer": "steps #### twelve"}',
    b'{"question": "Money? <<kept in the question>>", "answer": "<<2*3=6>>6 #### $1,200"}',
    b'{"question": "Negative decimal?", "answer": "it is #### -3.75"}',
    b'{"question": "Escaped notes?", "answer": "a \\u003c\\u003c1+1=2\\u003e\\u003e2 #### 2"}',
    b'{"id": null, "question": "Null id?", "answer": "x #### 4"}',
    b'{"id": 12345, "question": "Integer id?", "answer": "x #### 5"}',
    b'{"id": "", "question": "Empty id?", "answer": "x #### 6"}',
    b'{"id": "   ", "question": "Blank id?", "answer": "x #### 7"}',
    b'{"question": "Extra field?", "answer": "x #### 8", "difficulty": 3, "source": {"page": 2}}',
    b'{"question": "Bad tools?", "answer": "x #### 9", "tools": [{"type": "function"}]}',
    b'{"question": "Duplicate key?", "question": "Second wins?", "answer": "x #### 10"}',
    b'{"question": "Caf\xc3\xa9 \xe2\x80\xa8 emoji \xf0\x9f\x98\x80?", "answer": "\xc3\xa9 #### 11"}',
    b'{"question": "Escaped caf\\u00e9?", "answer": "x #### 12"}',
    b'{"question": "Lone surrogate \\ud800?", "answer": "x #### 13"}',
    b'{"question": "Bad UTF-8 \xff?", "answer": "x #### 14"}',
    b'{"question": "Huge number?", "answer": "x #### 15", "n": 1e400}',
    b'{"question": "NaN?", "answer": "x #### 16", "n": NaN}',
    b'{"question": "CRLF line?", "answer": "x #### 17"}\r',
    b'  {"question": "Padded line?", "answer": "x #### 18"}  ',
    b'{"question": "Slash \\/ and tab\\t?", "answer": "x #### 19"}',
)


def corpus_lines(count: int, seed: int = 0, odd: bool = True) -> list[bytes]:
    """``count`` GSM8K raw lines (generated problems, every third without an id, some repeated
    prompts and ids), plus every :data:`ODD_LINES` entry three times at seeded positions when ``odd``."""
    rng = random.Random(seed)
    lines: list[bytes] = []
    questions: list[str] = []
    for index, raw in enumerate(generate(count, seed)):
        questions.append(raw["question"])
        record: dict[str, object] = {"question": raw["question"], "answer": raw["answer"]}
        if index % 3:
            record = {"id": f"c-{index}", **record}
        roll = rng.random()
        if roll < 0.01 and index:  # a repeated prompt under a new id
            earlier = questions[rng.randrange(index)]
            record = {"id": f"again-{index}", "question": earlier, "answer": raw["answer"]}
        elif roll < 0.015 and index > 3:  # a repeated id
            record["id"] = "c-1"
        lines.append(json.dumps(record, ensure_ascii=rng.random() < 0.5).encode())
    if odd:
        for line in ODD_LINES * 3:
            lines.insert(rng.randrange(len(lines) + 1), line)
    return lines


def write_corpus(path: Path, lines: list[bytes], bom: bool = False) -> Path:
    """The lines joined by LF (with a UTF-8 BOM first when ``bom``)."""
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + b"\n")
    return path
