"""Forms with Chinese labels and messages. The domain checks its rules again on every command."""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from hotline.domain.catalogue import CATEGORIES, CHANNELS, SATISFACTION, URGENCIES
from hotline.domain.formats import PHONE, TICKET_EXAMPLE, TICKET_NO
from hotline.domain.text import MAX_TEXT


class ChineseForm(FlaskForm):
    """WTForms' own Chinese messages for the checks it makes (e.g. an invalid choice)."""

    class Meta:
        locales = ("zh",)


def text(label: str, limit: int = MAX_TEXT, required: bool = True, area: bool = True):
    checks = [DataRequired(message=f"请填写{label}")] if required else [Optional()]
    checks.append(Length(max=limit, message=f"{label}不能超过 {limit} 个字"))
    return (TextAreaField if area else StringField)(label, validators=checks)


class LoginForm(ChineseForm):
    username = StringField("用户名", validators=[DataRequired(message="请输入用户名"), Length(max=32)])
    password = PasswordField("密码", validators=[DataRequired(message="请输入密码"), Length(max=256)])


class CallForm(ChineseForm):
    channel = SelectField("来电渠道", choices=list(CHANNELS.items()), default="phone")
    caller_phone = StringField(
        "联系电话",
        validators=[Optional(), Regexp(PHONE.pattern, message="联系电话格式不正确，只能包含数字、空格和短横线")],
    )
    caller_name = StringField("来电人", validators=[Optional(), Length(max=50, message="姓名不能超过 50 个字")])
    category = SelectField("诉求类别", choices=list(CATEGORIES.items()), default="complaint")
    urgency = SelectField("紧急程度", choices=list(URGENCIES.items()), default="normal")
    service_code = SelectField("服务事项", validators=[DataRequired(message="请选择服务事项")])
    district = SelectField("所在区县", default="")  # choices: rules/districts.csv
    address = StringField("事发地址", validators=[Optional(), Length(max=200, message="地址不能超过 200 个字")])
    description = text("诉求内容")
    # No preset answer: left empty, the category decides (rules/privacy.toml: 举报 is 保密).
    confidential = SelectField(
        "来电人信息保密",
        choices=[
            ("", "按诉求类别（举报默认保密）"),
            ("yes", "保密：承办单位只见 王** / 139****5678"),
            ("no", "不保密"),
        ],
        default="",
    )
    # Set by the knowledge-base suggestion the operator clicked: open the case and answer from it.
    answer_article = HiddenField(validators=[Optional(), Length(max=20)])
    # Made when the form is shown: sending the same form twice (again after a 503, or a double
    # click) logs one call (it is the call's id), never two.
    submission = HiddenField(default=lambda: uuid.uuid4().hex, validators=[Optional(), Regexp(r"^[0-9a-f]{32}$")])


class ActionForm(ChineseForm):
    """Every action on a case carries the version the user was looking at."""

    version = HiddenField(validators=[InputRequired(message="页面已过期，请刷新后重试"), Regexp(r"^\d{1,9}$")])


class PlainActionForm(ActionForm):
    pass


class AnswerForm(ActionForm):
    answer = text("答复内容")


class DispatchForm(ActionForm):
    # choices: a blank first, then rules/departments.csv; the routing suggestion is preselected, or nothing
    department = SelectField("承办单位", validators=[DataRequired(message="请选择承办单位")])
    note = text("派单说明", limit=500, required=False)


class ClassifyForm(ActionForm):
    """分类 a 待分类 case: the service from the catalogue (choices: rules/services.csv), the category.
    The page gives the service a search box (web/static/service_picker.js, web/views/cases.py)."""

    service_code = SelectField("服务事项", validators=[DataRequired(message="请选择服务事项")])
    category = SelectField(
        "诉求类别",
        choices=[("", "（请选择诉求类别）"), *CATEGORIES.items()],
        validators=[DataRequired(message="请选择诉求类别")],
    )
    note = text("分类说明", limit=500, required=False)


class RedispatchForm(ActionForm):
    department = SelectField("改派给", validators=[DataRequired(message="请选择改派的承办单位")])
    note = text("改派理由", limit=500)


class ReasonForm(ActionForm):
    reason = text("理由", limit=1000)


class ReturnForm(ActionForm):
    reason = text("退单理由", limit=1000)
    basis = text("退单依据（三定方案、权责清单或法规条款）", limit=500)


class NoteForm(ActionForm):
    note = text("说明", limit=1000, required=False)


class ExtensionForm(ActionForm):
    working_days = IntegerField(
        "延期工作日数",
        # The most a case may ask for is the rule of its category (rules/time_limits.csv): the command checks it.
        validators=[InputRequired(message="请填写延期天数"), NumberRange(min=1, message="延期天数至少 1 个工作日")],
    )
    reason = text("延期理由", limit=1000)


class ReplyForm(ActionForm):
    result = text("办理结果")
    resolved = RadioField(
        "诉求是否已解决",
        choices=[("yes", "已解决"), ("no", "未解决")],
        validators=[InputRequired(message="请选择诉求是否已解决")],
    )


def moment_typed(label: str, description: str = "留空为现在") -> StringField:
    """When something was done, as typed (14:05 or 2025-10-09 14:05): kept as the reported time
    beside the moment the hotline records it (rules/time_plausibility.toml)."""
    return StringField(
        label,
        validators=[
            Optional(),
            Regexp(
                r"^\s*(\d{4}-\d{2}-\d{2}[ T])?\d{1,2}:\d{2}(:\d{2})?\s*$",
                message="时间格式应为 14:05 或 2025-10-09 14:05",
            ),
        ],
        description=description,
    )


def answer(label: str, choices: list[tuple[str, str]], required: bool = False) -> RadioField:
    """A question put to the caller: nothing is chosen until the operator records the answer."""
    checks = [InputRequired(message=f"请选择{label}")] if required else [Optional()]
    values = [value for value, _ in choices]
    return RadioField(
        label,
        choices=choices,
        validate_choice=False,
        validators=[*checks, AnyOf(values, message=f"{label}的选项无效")],
    )


class CallbackForm(ActionForm):
    """回访: the caller's own answers; none is preset (the form records what the caller said)."""

    reached = answer("是否联系上来电人", [("yes", "已联系上"), ("no", "未联系上")], required=True)
    contacted_first = answer("承办单位是否先行联系过来电人", [("yes", "是"), ("no", "否")])
    resolved = answer("来电人认为问题是否解决", [("yes", "已解决"), ("no", "未解决")])
    satisfaction = answer("满意度", list(SATISFACTION.items()))
    note = text("回访记录", limit=1000, required=False)
    called_at = moment_typed("回访时间", "电话回访后补录时填写；留空为现在")


class CooperationForm(ActionForm):
    # choices: rules/departments.csv without the lead; one 协办单位 at a time (repeat to add another)
    department = SelectField("协办单位", validators=[DataRequired(message="请选择协办单位")])
    note = text("协办事项", limit=500, required=False)


class PartReportForm(ActionForm):
    content = text("协办办理情况", limit=2000)


class MergeForm(ActionForm):
    target = StringField(
        "并入工单编号",
        validators=[
            DataRequired(message="请填写要并入的工单编号"),
            Regexp(TICKET_NO.pattern, message=f"工单编号格式应为 {TICKET_EXAMPLE}"),
        ],
    )


class ArticleAnswerForm(ActionForm):
    article = StringField(
        "知识库条目编号",
        validators=[DataRequired(message="请选择要引用的知识库条目"), Length(max=20, message="条目编号不正确")],
    )


class HandOffForm(ActionForm):
    desk = SelectField("转接对象", validators=[DataRequired(message="请选择转接对象")])  # rules/emergency.toml
    receiver = StringField(
        "接警席位或人员",
        validators=[DataRequired(message="请填写接警席位或人员"), Length(max=100, message="不能超过 100 个字")],
    )
    outcome = SelectField("转接结果", validators=[DataRequired(message="请选择转接结果")])
    handed_off_at = moment_typed("转接时间")
    note = text("转接说明", limit=500, required=False)


class InterimFeedbackForm(ActionForm):
    content = text("阶段性反馈", limit=2000)


class RevealContactForm(ActionForm):
    reason = text("查看理由", limit=500, area=False)


class SearchForm(ChineseForm):
    class Meta:
        csrf = False  # a GET search changes nothing
        locales = ("zh",)

    q = StringField("关键词", validators=[Optional(), Length(max=100)])
    ticket = StringField("工单编号", validators=[Optional(), Length(max=20)])
    phone = StringField("来电号码", validators=[Optional(), Regexp(PHONE.pattern, message="号码格式不正确")])
    status = SelectField("状态", validators=[Optional()])
    department = SelectField("承办单位", validators=[Optional()])
    opened_from = DateField("受理日期起", validators=[Optional()])
    opened_to = DateField("受理日期止", validators=[Optional()])
    category = SelectField("诉求类别", validators=[Optional()], choices=[("", "全部类别"), *CATEGORIES.items()])
    service = SelectField("服务事项", validators=[Optional()])
    district = SelectField("区县", validators=[Optional()])
    overdue = BooleanField("仅超期")
    urgent = BooleanField("仅紧急")
    confidential = BooleanField("仅保密")
