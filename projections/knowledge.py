"""The knowledge base's read side (view ``knowledge``): articles, their Chinese full-text index, and
how often each was cited in a direct answer and how many of those answers were later reopened.

The text is cut into words here (``projections/text_search.py``) and the index stores the words,
so both stores search the same way: SQLite with an FTS5 table (``hv_article_search``, ranked by
bm25 with the title weighted most), PostgreSQL with a ``tsvector`` column built from the same
words (ranked by ``ts_rank``, the title as weight A). Only the live revision of a published
article is indexed; validity dates are applied when searching, so an article past its
valid-until date leaves the results the day after, without any event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hotline.domain.case import Case
from hotline.domain.knowledge import (
    CONTENT_FIELDS,
    DRAFT,
    IN_REVIEW,
    LIVE,
    NUMBER_PREFIX,
    PUBLISHED,
    REVISING,
    REVISION_IN_REVIEW,
    STATUS_NAMES,
    WITHDRAWN,
    Article,
)
from hotline.projections.base import IN_CHUNK, Row, RowView, Table, stamp, unstamp
from hotline.projections.store import ViewRecorder
from hotline.projections.text_search import QueryWord, Segmenter

SEARCH_TABLE = "hv_article_search"  # SQLite: the FTS5 index (rowid = the article's sequence number)
WEIGHTS = (10.0, 5.0, 1.0)  # title, question, the rest (answer, basis, services): SQLite bm25 weights
COLUMNS = (
    "id",
    "number",
    "seq",
    "department",
    "status",
    "revision",
    "title",
    "question",
    "answer",
    "basis",
    "basis_no",
    "services",
    "valid_from",
    "valid_until",
    "published_at",
    "draft",
    "draft_title",
    "drafted_at",
    "updated_at",
    "version",
)
DDL = (
    "id TEXT PRIMARY KEY, number TEXT NOT NULL UNIQUE, seq INTEGER NOT NULL, department TEXT NOT NULL, "
    "status TEXT NOT NULL, revision INTEGER NOT NULL, title TEXT, question TEXT, answer TEXT, basis TEXT, "
    "basis_no TEXT, services TEXT, valid_from TEXT, valid_until TEXT, published_at TEXT, draft TEXT, "
    "draft_title TEXT, drafted_at TEXT, updated_at TEXT, version INTEGER"
)
INDEXES = ("seq: seq", "department: department, status", "status: status, valid_until")
ARTICLES = Table("hv_articles", COLUMNS, DDL, INDEXES)
# PostgreSQL keeps the index beside the row: a tsvector written from the same words, GIN-indexed.
ARTICLES_PG = Table("hv_articles", (*COLUMNS, "search"), DDL + ", search TSVECTOR", (*INDEXES, "search: search"))
USES = Table(
    "hv_article_uses",
    ("key", "case_id", "article_id", "revision", "answered_at", "reopened"),
    "key TEXT PRIMARY KEY, case_id TEXT NOT NULL, article_id TEXT NOT NULL, revision INTEGER NOT NULL, "
    "answered_at TEXT NOT NULL, reopened INTEGER NOT NULL",
    ("article: article_id", "case: case_id"),
)


@dataclass(frozen=True)
class ArticleRow:
    number: str
    department: str
    status: str
    revision: int  # the published revision (0: never published)
    title: str  # the live title, or the draft's while never published
    question: str
    answer: str
    basis: str
    basis_no: str
    services: tuple[str, ...]
    valid_from: date | None
    valid_until: date | None
    published_at: datetime | None
    draft_title: str  # the draft or revision under work ("" if none)
    updated_at: datetime | None
    version: int
    uses: int = 0  # direct answers that cited it
    reopened: int = 0  # of those, answers later reopened
    score: float = 0.0  # how well it matched a search

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, self.status)

    @property
    def reopened_share(self) -> float | None:
        """Percent of its direct answers later reopened (None: never cited)."""
        return round(100 * self.reopened / self.uses, 1) if self.uses else None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )

    def expired_on(self, day: date) -> bool:
        return self.valid_until is not None and self.valid_until < day


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def article_row(row: Row, uses: tuple[int, int] = (0, 0), score: float = 0.0) -> ArticleRow:
    return ArticleRow(
        number=row["number"],
        department=row["department"],
        status=row["status"],
        revision=int(row["revision"] or 0),
        title=row["title"] or row["draft_title"] or "",
        question=row["question"] or "",
        answer=row["answer"] or "",
        basis=row["basis"] or "",
        basis_no=row["basis_no"] or "",
        services=tuple((row["services"] or "").split()),
        valid_from=_day(row["valid_from"]),
        valid_until=_day(row["valid_until"]),
        published_at=unstamp(row["published_at"]),
        draft_title=(row["draft_title"] or "") if row["draft"] else "",
        updated_at=unstamp(row["updated_at"]),
        version=int(row["version"] or 0),
        uses=uses[0],
        reopened=uses[1],
        score=round(float(score), 4),
    )


def _tsvector(weighted: Sequence[tuple[str, list[str]]]) -> str:
    """A tsvector literal from words already cut (PostgreSQL's own parser never sees Chinese)."""
    positions: dict[str, list[str]] = {}
    position = 0
    for weight, words in weighted:
        for word in words:
            position = min(position + 1, 16383)
            places = positions.setdefault(word, [])
            if len(places) < 256:
                places.append(f"{position}{weight}")
    return " ".join(f"'{word}':{','.join(places)}" for word, places in positions.items())


EVENT_CLASSES = (
    Article.Drafted,
    Article.Edited,
    Article.Submitted,
    Article.ReturnedForChanges,
    Article.Published,
    Article.RevisionProposed,
    Article.Withdrawn,
    Case.AnsweredFromArticle,
    Case.Reopened,
    Case.Rehandled,
)


class KnowledgeIndex(RowView):
    name = "knowledge"

    def __init__(self, view: ViewRecorder, segmenter: Segmenter, service_names: dict[str, str]):
        self.segmenter = segmenter
        self.service_names = service_names
        self.postgres = view.dialect == "postgres"
        self.articles = ARTICLES_PG if self.postgres else ARTICLES
        self.tables = (self.articles, USES)
        super().__init__(view)
        self.topics = tuple(cls.TOPIC for cls in EVENT_CLASSES)

    # ---- schema -----------------------------------------------------------------------------

    def create_tables(self, indexes: bool = True) -> None:
        view = self.view
        with view.writing(None) as cursor:
            for table in self.tables:
                view.execute(cursor, f"CREATE TABLE IF NOT EXISTS {view.table(table.name)} ({table.ddl_columns})")
                for index in table.indexes if indexes else ():
                    label, columns = (part.strip() for part in index.split(":"))
                    using = " USING GIN" if columns == "search" else ""
                    target = f"{view.table(table.name)}{using} ({columns})"
                    view.execute(cursor, f"CREATE INDEX IF NOT EXISTS {table.name}_{label} ON {target}")
            if not self.postgres:
                view.execute(
                    cursor,
                    f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} "
                    "USING fts5(title, question, body, tokenize = 'unicode61')",
                )

    def drop(self, indexes: bool = True) -> None:
        if not self.postgres:
            with self.view.writing(None) as cursor:
                self.view.execute(cursor, f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
        super().drop(indexes)

    # ---- applying events ------------------------------------------------------------------

    def process_batch(self, events: Sequence[Any], tracking: Any) -> None:
        view = self.view
        mine = [event for event in events if isinstance(event, EVENT_CLASSES)]
        with view.writing(tracking) as cursor:
            if not mine:
                return
            wanted = {
                str(e.originator_id)
                for e in mine
                if isinstance(e, Article.Event) and not isinstance(e, Article.Drafted)
            }
            rows = self._load(cursor, self.articles, wanted)
            touched: dict[str, Row] = {}
            for event in mine:
                key = str(event.originator_id)
                if isinstance(event, Case.AnsweredFromArticle):
                    self._used(cursor, event)
                elif isinstance(event, (Case.Reopened, Case.Rehandled)):
                    view.execute(
                        cursor,
                        f"UPDATE {view.table(USES.name)} SET reopened = 1 WHERE case_id = ? AND reopened = 0",
                        (key,),
                    )
                else:
                    row = rows.get(key)
                    if isinstance(event, Article.Drafted):
                        row = rows[key] = dict.fromkeys(COLUMNS)
                        row.update(id=key, number=event.number, seq=_sequence(event.number))
                        row.update(department=event.department, revision=0, drafted_at=stamp(event.timestamp))
                    if row is None:
                        continue
                    _apply(row, event)
                    touched[key] = row
            if touched:
                values = list(touched.values())
                if self.postgres:
                    for row in values:
                        row["search"] = self._tsvector(row) if row["status"] in LIVE else None
                self._upsert(cursor, self.articles, values)
                if not self.postgres:
                    self._reindex(cursor, values)

    def _used(self, cursor: Any, event: Any) -> None:
        self.view.upsert(
            cursor,
            USES.name,
            USES.columns,
            [
                (
                    f"{event.originator_id}/{event.originator_version}",
                    str(event.originator_id),
                    event.article_id,
                    event.revision,
                    stamp(event.timestamp),
                    0,
                )
            ],
        )

    def _fields(self, row: Row) -> list[tuple[str, list[str]]]:
        cut = self.segmenter.index_words
        services = " ".join(self.service_names.get(code, code) for code in (row["services"] or "").split())
        return [
            ("A", cut(row["title"] or "")),
            ("B", cut(row["question"] or "")),
            ("D", cut(f"{row['answer'] or ''} {row['basis'] or ''} {services}")),
        ]

    def _tsvector(self, row: Row) -> str:
        return _tsvector(self._fields(row))

    def _reindex(self, cursor: Any, rows: list[Row]) -> None:
        view = self.view
        for row in rows:
            view.execute(cursor, f"DELETE FROM {SEARCH_TABLE} WHERE rowid = ?", (row["seq"],))
            if row["status"] in LIVE:
                title, question, rest = (" ".join(words) for _, words in self._fields(row))
                view.execute(
                    cursor,
                    f"INSERT INTO {SEARCH_TABLE} (rowid, title, question, body) VALUES (?, ?, ?, ?)",
                    (row["seq"], title, question, rest),
                )

    # ---- queries ----------------------------------------------------------------------------

    def _table(self) -> str:
        return self.view.table(self.articles.name)

    def search(self, text: str, today: date, *, limit: int = 5, typing: bool = False) -> list[ArticleRow]:
        """Published articles valid ``today`` that match ``text``, best first."""
        words = self.segmenter.query(text, typing=typing)
        if not words:
            return []
        day = today.isoformat()
        limit = max(1, min(int(limit), 50))
        valid = "a.valid_from <= ? AND (a.valid_until IS NULL OR a.valid_until >= ?)"
        listed = ", ".join(f"a.{column}" for column in COLUMNS)  # not the index itself: it is large
        if self.postgres:
            # Rank the matches by id alone, then fetch the few rows shown: the sort carries no tsvector.
            rows = self.view.query(
                f"SELECT {listed}, r.score FROM (SELECT a.id, a.seq, ts_rank(a.search, q.query) AS score "
                f"FROM {self._table()} a, (SELECT CAST(? AS tsquery) AS query) q WHERE a.search @@ q.query "
                f"AND {valid} ORDER BY score DESC, a.seq LIMIT ?) r JOIN {self._table()} a ON a.id = r.id "
                "ORDER BY r.score DESC, r.seq",
                [_tsquery(words), day, day, limit],
            )
        else:
            rank = f"bm25({SEARCH_TABLE}, {', '.join(map(str, WEIGHTS))})"
            rows = self.view.query(
                f"SELECT {listed}, -{rank} AS score FROM {SEARCH_TABLE} "
                f"JOIN {self._table()} a ON a.seq = {SEARCH_TABLE}.rowid "
                f"WHERE {SEARCH_TABLE} MATCH ? AND {valid} ORDER BY {rank}, a.seq LIMIT ?",
                [_fts_query(words), day, day, limit],
            )
        uses = self.uses([row["id"] for row in rows])
        return [article_row(row, uses.get(row["id"], (0, 0)), row["score"]) for row in rows]

    def get(self, number: str) -> ArticleRow | None:
        rows = self.view.query(f"SELECT * FROM {self._table()} WHERE number = ?", ((number or "").strip(),))
        if not rows:
            return None
        return article_row(rows[0], self.uses([rows[0]["id"]]).get(rows[0]["id"], (0, 0)))

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        department: str | None = None,
        text: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[ArticleRow], int]:
        where, params = [], []
        if status:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({','.join('?' * len(statuses))})")
            params.extend(statuses)
        if department:
            where.append("department = ?")
            params.append(department)
        if text and text.strip():
            like = f"%{text.strip().replace('!', '!!').replace('%', '!%').replace('_', '!_')}%"
            where.append("(title LIKE ? ESCAPE '!' OR draft_title LIKE ? ESCAPE '!' OR number LIKE ? ESCAPE '!')")
            params.extend([like, like, like])
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = self.view.query(f"SELECT COUNT(*) AS n FROM {self._table()}{clause}", params)[0]["n"]
        rows = self.view.query(
            f"SELECT * FROM {self._table()}{clause} ORDER BY seq DESC LIMIT ? OFFSET ?",
            [*params, max(0, min(int(limit), 500)), max(0, int(offset))],
        )
        uses = self.uses([row["id"] for row in rows])
        return [article_row(row, uses.get(row["id"], (0, 0))) for row in rows], int(total)

    def expired(self, department: str, today: date) -> list[ArticleRow]:
        """待更新: the department's published articles past their valid-until date."""
        rows = self.view.query(
            f"SELECT * FROM {self._table()} WHERE department = ? AND status IN (?, ?, ?) "
            "AND valid_until IS NOT NULL AND valid_until < ? ORDER BY valid_until, seq",
            [department, PUBLISHED, REVISING, REVISION_IN_REVIEW, today.isoformat()],
        )
        return [article_row(row) for row in rows]

    def covered_services(self, today: date) -> dict[str, int]:
        """Service code → how many published articles valid ``today`` apply to it."""
        counted: dict[str, int] = {}
        day = today.isoformat()
        for row in self.view.query(
            f"SELECT services FROM {self._table()} WHERE status IN (?, ?, ?) "
            "AND valid_from <= ? AND (valid_until IS NULL OR valid_until >= ?)",
            [*LIVE, day, day],
        ):
            for code in (row["services"] or "").split():
                counted[code] = counted.get(code, 0) + 1
        return counted

    def uses(self, article_ids: Sequence[str]) -> dict[str, tuple[int, int]]:
        """Article id → (direct answers citing it, of those later reopened)."""
        found: dict[str, tuple[int, int]] = {}
        ids = list(dict.fromkeys(article_ids))
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            for row in self.view.query(
                f"SELECT article_id, COUNT(*) AS uses, SUM(reopened) AS reopened FROM {self.view.table(USES.name)} "
                f"WHERE article_id IN ({','.join('?' * len(chunk))}) GROUP BY article_id",
                chunk,
            ):
                found[row["article_id"]] = (int(row["uses"]), int(row["reopened"] or 0))
        return found


def _sequence(number: str) -> int:
    digits = number[len(NUMBER_PREFIX) :] if number.startswith(NUMBER_PREFIX) else ""
    return int(digits) if digits.isdigit() else abs(hash(number)) % 10**12


def _apply(row: Row, event: Any) -> None:
    row["version"] = event.originator_version
    row["updated_at"] = stamp(event.timestamp)
    if isinstance(event, (Article.Drafted, Article.Edited, Article.RevisionProposed)):
        draft = {name: getattr(event, name) for name in CONTENT_FIELDS}
        row["draft"] = json.dumps(draft, ensure_ascii=False)
        row["draft_title"] = draft["title"]
        if isinstance(event, Article.RevisionProposed):
            row["status"] = REVISING
        elif isinstance(event, Article.Drafted):
            row["status"] = DRAFT
    elif isinstance(event, Article.Submitted):
        row["status"] = IN_REVIEW if row["status"] == DRAFT else REVISION_IN_REVIEW
    elif isinstance(event, Article.ReturnedForChanges):
        row["status"] = DRAFT if row["status"] == IN_REVIEW else REVISING
    elif isinstance(event, Article.Published):
        draft = json.loads(row["draft"] or "{}")
        row.update(
            status=PUBLISHED,
            revision=event.revision,
            published_at=stamp(event.timestamp),
            title=draft.get("title"),
            question=draft.get("question"),
            answer=draft.get("answer"),
            basis=draft.get("basis"),
            basis_no=draft.get("basis_no"),
            services=" ".join(draft.get("services") or []),
            valid_from=draft.get("valid_from"),
            valid_until=draft.get("valid_until"),
            draft=None,
            draft_title=None,
        )
    elif isinstance(event, Article.Withdrawn):
        row.update(status=WITHDRAWN, draft=None, draft_title=None)


def _fts_query(words: list[QueryWord]) -> str:
    """An FTS5 query: any of the words (each with its synonyms); bm25 ranks those matching more first."""

    def term(form: str, prefix: bool) -> str:
        return f'"{form}"' + ("*" if prefix else "")

    return " OR ".join(" OR ".join(term(form, word.prefix) for form in word.forms) for word in words)


def _tsquery(words: list[QueryWord]) -> str:
    def term(form: str, prefix: bool) -> str:
        return f"'{form}'" + (":*" if prefix else "")

    return " | ".join(" | ".join(term(form, word.prefix) for form in word.forms) for word in words)
