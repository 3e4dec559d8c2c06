"""The knowledge base in the browser: the list, one article with its lifecycle actions, drafting,
and the supervisor's view of coverage (services with calls but no article)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms import DateField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from hotline.application.failures import retrying
from hotline.domain.actors import DEPARTMENT, EDITOR, OPERATOR, SUPERVISOR
from hotline.domain.errors import DomainError
from hotline.domain.knowledge import EVENT_NAMES, STATUS_NAMES, Article, ArticleContent, ArticleNotFound
from hotline.web import forms
from hotline.web.actions import Action, keep_typed, take_action
from hotline.web.auth import current_actor, roles_required
from hotline.web.pagination import page_of, requested_page
from hotline.web.services import clock, fresh_read_models, hotline, rules
from hotline.web.timeline import entries

bp = Blueprint("knowledge", __name__)
READERS = (OPERATOR, DEPARTMENT, SUPERVISOR, EDITOR)
WRITERS = (DEPARTMENT, EDITOR)


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ContentFields(forms.ChineseForm):
    title = StringField("标题", validators=[DataRequired(message="请填写标题"), Length(max=100)])
    question = forms.text("问题（来电人通常怎么问）", limit=500)
    answer = forms.text("答复口径")
    basis = forms.text("政策依据", limit=500)
    basis_no = StringField("依据文号", validators=[DataRequired(message="请填写依据文号"), Length(max=100)])
    services = MultiCheckbox("适用服务事项", validators=[DataRequired(message="请至少选择一个服务事项")])
    valid_from = DateField("生效日期", validators=[InputRequired(message="请选择生效日期（年-月-日）")])
    valid_until = DateField("失效日期", validators=[Optional()], description="留空为长期有效")

    def content(self) -> ArticleContent:
        return ArticleContent(
            title=self.title.data,
            question=self.question.data,
            answer=self.answer.data,
            basis=self.basis.data,
            basis_no=self.basis_no.data,
            services=tuple(self.services.data or ()),
            valid_from=self.valid_from.data,
            valid_until=self.valid_until.data,
        )


class ContentForm(forms.ActionForm, ContentFields):
    """The content of an existing article, with the version the user was looking at."""


class NewArticleForm(ContentFields):
    department = forms.SelectField("所属单位", validators=[DataRequired(message="请选择所属单位")])


class RevisionForm(ContentForm):
    reason = forms.text("修订理由", limit=1000)


ARTICLE_ACTIONS: dict[str, Action] = {
    "edit": Action(
        "修改草稿",
        ("edit",),
        ContentForm,
        lambda app, n, a, f, v: app.edit_article(n, a, f.content(), expected_version=v),
        "已保存",
    ),
    "submit": Action(
        "提交审核",
        ("submit",),
        forms.PlainActionForm,
        lambda app, n, a, f, v: app.submit_article(n, a, expected_version=v),
        "已提交审核",
        primary=True,
    ),
    "publish": Action(
        "审核发布",
        ("publish",),
        forms.PlainActionForm,
        lambda app, n, a, f, v: app.publish_article(n, a, expected_version=v),
        "已发布，话务员现在可以检索和引用",
        primary=True,
    ),
    "return": Action(
        "退回修改",
        ("return",),
        forms.ReasonForm,
        lambda app, n, a, f, v: app.return_article(n, a, f.reason.data, expected_version=v),
        "已退回修改",
    ),
    "revise": Action(
        "提出修订",
        ("revise",),
        RevisionForm,
        lambda app, n, a, f, v: app.revise_article(n, a, f.content(), f.reason.data, expected_version=v),
        "已提出修订，审核发布前话务员仍使用现行版本",
    ),
    "withdraw": Action(
        "下线",
        ("withdraw",),
        forms.ReasonForm,
        lambda app, n, a, f, v: app.withdraw_article(n, a, f.reason.data, expected_version=v),
        "已下线",
    ),
}


def _service_choices(department: str | None) -> list[tuple[str, str]]:
    codes = rules().services_of(department) if current_user.role == DEPARTMENT and department else rules().services
    return [(code, rules().service_name(code)) for code in rules().services if code in codes]


def _fill(form: ContentFields, content: ArticleContent) -> None:
    form.title.data, form.question.data, form.answer.data = content.title, content.question, content.answer
    form.basis.data, form.basis_no.data = content.basis, content.basis_no
    form.services.data = list(content.services)
    form.valid_from.data, form.valid_until.data = content.valid_from, content.valid_until


def _article_form(name: str, article: Article | None = None, data=None) -> forms.ActionForm:
    form = ARTICLE_ACTIONS[name].form(formdata=data, prefix=name)
    if isinstance(form, ContentForm):
        department = article.department if article is not None else current_user.department
        form.services.choices = _service_choices(department)
        if article is not None and data is None:
            _fill(form, article.shown)
    if article is not None and data is None:
        form.version.data = str(article.version)
    return form


def visible_article(number: str) -> Article:
    try:
        return hotline().get_article(number)
    except (ArticleNotFound, ValueError):
        abort(404)


@bp.route("/kb")
@roles_required(*READERS)
def index():
    number, offset = requested_page()
    q = (request.args.get("q") or "").strip()[:100]
    status = request.args.get("status") if request.args.get("status") in STATUS_NAMES else None
    models = fresh_read_models()
    department = current_user.department if current_user.role == DEPARTMENT else None
    if q and status is None and department is None:
        rows, total = models.search_articles(q, limit=30), None  # ranked full-text search
    else:
        rows, total = models.knowledge.list(
            status=status, department=department, text=q or None, limit=30, offset=offset
        )
    return render_template(
        "knowledge/index.html",
        rows=rows,
        page=page_of(number, total) if total is not None else None,
        q=q,
        status=status,
        statuses=STATUS_NAMES,
        today=clock().now().date(),
        may_write=current_user.has_role(*WRITERS),
    )


@bp.route("/kb/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new():
    form = NewArticleForm(prefix="new")
    departments = [(c, d.name) for c, d in rules().departments.items()]
    if current_user.role == DEPARTMENT:
        departments = [(c, n) for c, n in departments if c == current_user.department]
    form.department.choices = departments
    form.services.choices = _service_choices(current_user.department)
    if request.method == "GET":
        form.valid_from.data = clock().now().date()
    if form.validate_on_submit():
        try:
            article = retrying(lambda: hotline().draft_article(current_actor(), form.department.data, form.content()))
        except DomainError as error:
            flash(str(error), "error")
        else:
            flash(f"已起草知识库条目 {article.number}，请检查后提交审核。", "success")
            return redirect(url_for("knowledge.article", number=article.number))
    elif request.method == "POST":
        flash("请检查标红的内容后重新提交。", "error")
    status = 400 if request.method == "POST" else 200
    return render_template("knowledge/new.html", form=form), status


@bp.route("/kb/coverage")
@roles_required(SUPERVISOR, EDITOR)
def coverage():
    models = fresh_read_models()
    rows = models.knowledge_coverage()
    return render_template("knowledge/coverage.html", rows=rows, missing=sum(1 for _, _, n in rows if n == 0))


@bp.route("/kb/<number>")
@roles_required(*READERS)
def article(number: str, kept: dict[str, forms.ActionForm] | None = None):
    """The article's page; ``kept``: a refused form, shown again with what the user typed."""
    article = visible_article(number)
    models = fresh_read_models()
    actor, moment = current_actor(), clock().now()
    names = [name for name, action in ARTICLE_ACTIONS.items() if action.offered(article, actor, moment)]
    return render_template(
        "knowledge/article.html",
        article=article,
        row=models.knowledge.get(article.number),
        today=moment.date(),
        actions={
            name: (ARTICLE_ACTIONS[name], form)
            for name, form in keep_typed({n: _article_form(n, article) for n in names}, kept, article.version).items()
        },
        entries=entries(hotline().article_events(article.number), EVENT_NAMES, lambda e, r: _describe(e), rules()),
    )


@bp.route("/kb/<number>/<name>", methods=["POST"])
@roles_required(*READERS)
def act(number: str, name: str):
    found = visible_article(number)
    done = take_action(ARTICLE_ACTIONS, name, found, found.number, _article_form, f"知识库条目 {number}")
    if done is None and (refused := g.get("refused_form")) is not None:
        return article(number, kept={name: refused}), 400  # nothing typed is lost
    return redirect(url_for("knowledge.article", number=number))


def _describe(event: Article.Event) -> str:
    if isinstance(event, (Article.Drafted, Article.Edited, Article.RevisionProposed)):
        until = event.valid_until or "长期"
        reason = f"{event.reason}；" if isinstance(event, Article.RevisionProposed) else ""
        return f"{reason}{event.title}（{event.valid_from} 至 {until}）"
    if isinstance(event, Article.Published):
        return f"第 {event.revision} 版"
    if isinstance(event, (Article.ReturnedForChanges, Article.Withdrawn)):
        return event.reason
    return ""
