"""The knowledge base's as-you-type suggestion at 5,000 articles, on SQLite and PostgreSQL.

The articles are the 64 demo articles written out in variants (district, office, year, wording),
all published. Each query is a consultation typed two characters at a time, as the operator's
console asks while the description is typed. Measured per request: ``POST /operator/kb-suggestions``
through the Flask app (session, catch-up, segmentation, the full-text query, the use counts, the
fragment rendered), and the read model's ``suggest_articles`` alone. The baseline, in the same run
on the same rows, is the search done without the index: every word a ``LIKE '%word%'`` over title,
question and answer, ranked in Python.
"""

from __future__ import annotations

import re
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.harness import Progress, Result, fresh_schema, median, no_progress, percentile, target
from hotline.domain.actors import EDITOR, Actor
from hotline.domain.knowledge import Article, ArticleContent, article_number
from hotline.infra.bootstrap import bootstrap
from hotline.infra.config import Config
from hotline.infra.demo import DEMO_USERS, department_actor, ensure_demo_users
from hotline.infra.demo.knowledge import ARTICLES
from hotline.web import create_app

SIZES = {"full": 5000, "quick": 1000, "smoke": 200}
SAVE_EVERY = 250
EDITOR_ACTOR = Actor("kb-bench", EDITOR)
VARIANTS = ["城东区", "城西区", "高新区", "市本级", "开发区", "经开区", "新区", "老城区"]
CONSULTATIONS = [
    "来电人咨询公积金怎么提取",
    "想问一下社保怎么转到外地",
    "孩子明年上小学怎么报名",
    "外地人在江州怎么办居住证",
    "去外地看病医保怎么备案",
    "新房交房了房产证多久能拿到",
    "健身卡店铺关门了钱怎么退",
    "公司拖欠工资两个月了找谁",
    "身份证丢了在外地能补办吗",
    "楼下饭店油烟直排没人管",
    "家里停水了什么时候来水",
    "老人坐公交免费吗怎么办卡",
]


def typed(text: str, step: int = 2) -> list[str]:
    return [text[:n] for n in range(step, len(text) + 1, step)]


def contents(count: int) -> list[tuple[str, ArticleContent]]:
    found = []
    for n in range(count):
        demo = ARTICLES[n % len(ARTICLES)]
        variant = VARIANTS[(n // len(ARTICLES)) % len(VARIANTS)]
        round_ = n // (len(ARTICLES) * len(VARIANTS))
        title = demo.title if n < len(ARTICLES) else f"{demo.title}（{variant}{'' if round_ == 0 else f'·{round_}'}）"
        found.append(
            (
                demo.department,
                ArticleContent(
                    title=title,
                    question=demo.question,
                    answer=f"{variant}：{demo.answer}",
                    basis=demo.basis,
                    basis_no=demo.basis_no,
                    services=demo.services,
                    valid_from=date(2020, 1, 1),
                ),
            )
        )
    return found


def load(services: Any, count: int, progress: Progress) -> None:
    """Draft, submit and publish ``count`` articles, saved in batches (the application's own events)."""
    batch: list[Article] = []
    for n, (department, content) in enumerate(contents(count), 1):
        article = Article.draft(article_number(n), department, content, department_actor(department))
        article.submit(department_actor(department))
        article.publish(EDITOR_ACTOR)
        batch.append(article)
        if len(batch) >= SAVE_EVERY:
            services.app.save(*batch)
            progress(len(batch))
            batch = []
    if batch:
        services.app.save(*batch)
        progress(len(batch))
    services.read_models.catch_up()


def like_scan(services: Any, text: str) -> list[str]:
    """The baseline: every word a LIKE over the articles' text, ranked by how many words each has."""
    models = services.read_models
    words = [w.forms[0] for w in models.segmenter.query(text, typing=True)]
    if not words:
        return []
    view = models.recorder
    table = view.table("hv_articles")
    clauses = " OR ".join("(title LIKE ? OR question LIKE ? OR answer LIKE ?)" for _ in words)
    params = [f"%{w}%" for w in words for _ in range(3)]
    rows = view.query(
        f"SELECT number, title, question, answer FROM {table} WHERE status = 'published' AND ({clauses})", params
    )
    scored = sorted(
        rows,
        key=lambda r: -sum(3 * (w in r["title"]) + 2 * (w in r["question"]) + (w in r["answer"]) for w in words),
    )
    return [row["number"] for row in scored[:5]]


def measure(services: Any, queries: list[str]) -> dict[str, Any]:
    app = create_app(services, testing=True)
    app.config["SESSION_COOKIE_SECURE"] = False
    ensure_demo_users(services.app, services.passwords)
    client = app.test_client()
    login = client.get("/login").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login).group(1)
    password = next(p for user, p, *_ in DEMO_USERS if user == "operator")
    assert (
        client.post("/login", data={"csrf_token": token, "username": "operator", "password": password}).status_code
        == 302
    )
    console = client.get("/operator").text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', console).group(1)
    http, direct, scan, empty = [], [], [], 0
    for _ in range(2):  # warm: the dictionary, the statement caches, the pages
        client.post("/operator/kb-suggestions", data={"csrf_token": token, "q": queries[-1]})
    for text in queries:  # interleaved, so that the machine's load falls on all three alike
        start = time.perf_counter()
        response = client.post("/operator/kb-suggestions", data={"csrf_token": token, "q": text})
        http.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        empty += "kb-article" not in response.text
        start = time.perf_counter()
        services.read_models.suggest_articles(text)
        direct.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        like_scan(services, text)
        scan.append((time.perf_counter() - start) * 1000)
    first = services.read_models.search_articles("公积金怎么提取")[0].title
    return {
        "http": {"p50_ms": median(http), "p95_ms": percentile(http, 0.95), "max_ms": max(http)},
        "read_model": {"p50_ms": median(direct), "p95_ms": percentile(direct, 0.95), "max_ms": max(direct)},
        "like_scan": {"p50_ms": median(scan), "p95_ms": percentile(scan, 0.95), "max_ms": max(scan)},
        "queries": len(queries),
        "queries_without_suggestion": empty,
        "first_for_公积金怎么提取": first,
    }


def run(size: str, progress: Progress = no_progress) -> Result:
    count = SIZES[size]
    queries = [prefix for text in CONSULTATIONS for prefix in typed(text)]
    result = Result(
        "kb_search", quick=size != "full", parameters={"articles": count, "queries_per_store": len(queries)}
    )
    with tempfile.TemporaryDirectory() as directory:
        services = bootstrap(Config(data_dir=Path(directory)))
        try:
            load(services, count, progress)
            result.figures["sqlite"] = measure(services, queries)
        finally:
            services.close()
    with fresh_schema() as url, tempfile.TemporaryDirectory() as directory:
        services = bootstrap(Config(database_url=url, data_dir=Path(directory)))
        try:
            load(services, count, progress)
            result.figures["postgres"] = measure(services, queries)
        finally:
            services.close()
    for store in ("sqlite", "postgres"):
        result.baseline[store] = result.figures[store].pop("like_scan")
        result.targets.append(
            target(f"{store}_suggestion_http_p95", result.figures[store]["http"]["p95_ms"], "ms", 100, at_most=True)
        )
    result.notes.append(
        "http: POST /operator/kb-suggestions through the Flask app in-process (no network); read_model: "
        "suggest_articles alone; baseline: LIKE '%word%' over title, question and answer, ranked in Python."
    )
    return result
