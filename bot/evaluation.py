"""``newsbot eval``: run the live matcher and grouper over labelled items and score them.

Items are processed in ``published`` order against a throw-away SQLite database, exactly as
the bot would see them. The figures are the reference scorer's own (``bot/reference_scorer.py``,
shared/eval/score.py kept verbatim):
relevance P/R/F1 of the positive class; topic micro/macro-F1 over items relevant in gold or
prediction; story pairwise and B-cubed P/R/F1 over gold-relevant items; 0/0 is 0.0.
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import Session

from bot import reference_scorer
from bot.config import AppConfig
from bot.core.matching import Matcher
from bot.core.models import Item, Match
from bot.core.stories import Assignment, StoryGrouper
from bot.progress import Steps, bar_of
from bot.storage.db import Database
from bot.storage.items import item_from_row
from bot.storage.stories import save_match
from bot.storage.tables import ItemRow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class EvalItem:
    """One input line: what the bot reads, plus the gold labels when present."""

    line: int
    id: str
    title: str
    summary: str
    url: str | None
    source: str
    published: datetime
    gold_relevant: bool | None = None
    gold_topics: tuple[str, ...] = ()
    gold_story: str | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    id: str
    relevant: bool
    topics: tuple[str, ...]
    story: str | None
    score: float
    why: str

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "relevant": self.relevant,
            "topics": list(self.topics),
            "story": self.story,
            "score": self.score,
            "why": self.why,
        }


@dataclass
class ReadResult:
    items: list[EvalItem] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------ reading


def parse_published(value: object) -> datetime:
    """``2025-10-31`` or an ISO date-time → an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError("'published' is missing; give an ISO date such as 2025-10-31")
    text = value.strip().replace("Z", "+00:00")
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'published' {value!r} is not an ISO date or date-time") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _parse_line(n: int, obj: object) -> EvalItem:
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    item_id, title = obj.get("id"), obj.get("title")
    if not isinstance(item_id, str) or not item_id:
        raise ValueError("'id' must be a non-empty string")
    if not isinstance(title, str) or not title.strip():
        raise ValueError("'title' must be a non-empty string")
    summary = obj.get("summary") or ""
    if not isinstance(summary, str):
        raise ValueError("'summary' must be a string")
    relevant = obj.get("relevant")
    if relevant is not None and not isinstance(relevant, bool):
        raise ValueError("'relevant' must be true or false")
    topics = obj.get("topics") or []
    if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
        raise ValueError("'topics' must be a list of topic ids")
    story = obj.get("story")
    url = obj.get("url")
    return EvalItem(
        line=n,
        id=item_id,
        title=title,
        summary=summary,
        url=url if isinstance(url, str) else None,
        source=str(obj.get("source") or ""),
        published=parse_published(obj.get("published")),
        gold_relevant=relevant,
        gold_topics=tuple(topics),
        gold_story=str(story) if story not in (None, "") else None,
    )


def read_items(lines: Iterable[str], name: str) -> ReadResult:
    """Parse JSONL; a bad line is reported by number and skipped, the rest still count."""
    out = ReadResult()
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = _parse_line(n, json.loads(line))
            if item.id in seen:
                raise ValueError(f"id {item.id!r} appeared on an earlier line")
        except json.JSONDecodeError as exc:
            out.problems.append(f"{name}:{n}: not valid JSON ({exc.msg}); line skipped")
            continue
        except ValueError as exc:
            out.problems.append(f"{name}:{n}: {exc}; line skipped")
            continue
        seen.add(item.id)
        out.items.append(item)
    return out


# ------------------------------------------------------------------------ running


def read_items_file(path: Path, err: TextIO) -> ReadResult | None:
    """``read_items`` of a file, its problems told on ``err``; None when it cannot be read."""
    try:
        with path.open(encoding="utf-8") as fh:
            read = read_items(fh, str(path))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"newsbot eval: cannot read {path} ({exc.__class__.__name__}: {exc}); "
              "give a JSONL file of items", file=err)  # fmt: skip
        return None
    for problem in read.problems:
        print(f"newsbot eval: {problem}", file=err)
    return read


def predict(
    items: list[EvalItem],
    cfg: AppConfig,
    db: Database,
    *,
    steps: Steps[EvalItem] | None = None,
    matcher: Matcher | None = None,
) -> list[Prediction]:
    """Match and group the items in published order, as the live bot does; input order out.
    ``steps`` walks the items (a progress bar on a terminal); ``matcher``, when given, is the
    one ``cfg`` makes, built once by a caller that varies only the grouping settings."""
    matcher = matcher or Matcher.from_config(cfg)
    grouper = StoryGrouper(cfg)
    ordered = sorted(items, key=lambda i: (i.published, i.line))

    def run(session: Session) -> dict[str, Prediction]:
        out: dict[str, Prediction] = {}
        links: set[str] = set()
        for ev in steps(ordered) if steps else ordered:
            item = _store(session, ev, links)
            match = matcher.match(item)
            save_match(session, match, now=ev.published)
            assignment: Assignment | None = None
            if match.relevant:
                assignment = grouper.assign(session, item, match)
            out[ev.id] = _prediction(ev, match, assignment)
        return out

    by_id = db.transaction(run)
    return [by_id[i.id] for i in items]


def _store(session: Session, ev: EvalItem, links: set[str]) -> Item:
    # A link is unique in the items table, but a labelled set may list one article twice;
    # each copy is still judged on its own, the later one stored without its link.
    url = ev.url if ev.url and ev.url not in links else None
    if url:
        links.add(url)
    row = ItemRow(
        key=ev.id[:64],
        url=url,
        title=ev.title,
        summary=ev.summary,
        source=ev.source,
        published_at=ev.published,
        first_seen_at=ev.published,
        alertable=True,
    )
    session.add(row)
    session.flush()
    return item_from_row(row)


def _prediction(ev: EvalItem, match: Match, assignment: Assignment | None) -> Prediction:
    return Prediction(
        id=ev.id,
        relevant=match.relevant,
        topics=match.topics,
        story=assignment.story_key if assignment else None,
        score=match.score,
        why=match.why,
    )


def run_predictions(
    items: list[EvalItem], cfg: AppConfig, *, steps: Steps[EvalItem] | None = None
) -> list[Prediction]:
    """Predict against a throw-away SQLite database in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as tmp:
        db = Database.open(f"sqlite:///{Path(tmp) / 'eval.db'}")
        try:
            return predict(items, cfg, db, steps=steps)
        finally:
            db.close()


# ------------------------------------------------------------------------ metrics


def score(items: list[EvalItem], predictions: list[Prediction]) -> dict[str, Any]:
    """All figures for the items that carry gold labels, by the reference scorer's own code."""
    gold = [
        {"id": i.id, "relevant": bool(i.gold_relevant), "topics": list(i.gold_topics),
         "story": i.gold_story}
        for i in items
        if i.gold_relevant is not None
    ]  # fmt: skip
    pred = [p.as_json() for p in predictions]
    result: dict[str, Any] = reference_scorer.score(gold, pred)
    return result


def format_table(res: dict[str, Any]) -> str:
    r, t, s = res["relevance"], res["topics"], res["story"]
    rows = [
        ("relevance", r["precision"], r["recall"], r["f1"],
         f"tp={r['tp']} fp={r['fp']} fn={r['fn']} tn={r['tn']}"),
        ("topics (micro)", t["micro_precision"], t["micro_recall"], t["micro_f1"],
         f"items={t['items']}"),
        ("topics (macro)", None, None, t["macro_f1"], f"topics={len(t['per_topic'])}"),
        ("story pairwise", s["pairwise_precision"], s["pairwise_recall"], s["pairwise_f1"],
         f"pairs gold={s['gold_pairs']} pred={s['pred_pairs']} ok={s['correct_pairs']}"),
        ("story B-cubed", s["bcubed_precision"], s["bcubed_recall"], s["bcubed_f1"],
         f"items={s['items']} clusters gold={s['gold_clusters']} pred={s['pred_clusters']}"),
    ]  # fmt: skip
    lines = [f"{'figure':<16} {'P':>6} {'R':>6} {'F1':>6}  counts"]
    for name, p, rec, f1, counts in rows:
        ps = f"{p:6.3f}" if p is not None else f"{'':>6}"
        rs = f"{rec:6.3f}" if rec is not None else f"{'':>6}"
        lines.append(f"{name:<16} {ps} {rs} {f1:6.3f}  {counts}")
    return "\n".join(lines)


# ------------------------------------------------------------------------ command


def run_eval(
    path: Path,
    predictions: Path | None,
    as_json: bool,
    cfg: AppConfig,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """The ``newsbot eval`` command; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    read = read_items_file(path, err)
    if read is None:
        return 2
    if not read.items:
        print(f"newsbot eval: {path} has no usable items", file=err)
        return 2
    preds = run_predictions(read.items, cfg, steps=bar_of("eval", unit="item", stream=err))
    if predictions is not None:
        try:
            with predictions.open("w", encoding="utf-8") as fh:
                for p in preds:
                    fh.write(json.dumps(p.as_json(), ensure_ascii=False) + "\n")
        except OSError as exc:
            print(f"newsbot eval: cannot write {predictions} ({exc.strerror or exc}); "
                  "give a path in an existing, writable folder", file=err)  # fmt: skip
            return 2
    labelled = any(i.gold_relevant is not None for i in read.items)
    if not labelled:
        relevant = sum(p.relevant for p in preds)
        summary = {"items": len(preds), "relevant": relevant, "skipped_lines": len(read.problems)}
        plain = f"{len(preds)} items, {relevant} relevant (no gold labels to score)"
        print(json.dumps(summary) if as_json else plain, file=out)
        return 0
    res = score(read.items, preds)
    res["skipped_lines"] = len(read.problems)
    if as_json:
        print(json.dumps(res), file=out)
    else:
        print(format_table(res), file=out)
        if read.problems:
            print(f"{len(read.problems)} line(s) skipped; see the messages above", file=out)
    return 0
