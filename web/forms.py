"""Forms with Chinese labels and messages. Domain rules are checked again by the domain itself."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from domain.catalogue import CATEGORIES, CHANNELS, URGENCIES

PHONE_PATTERN = r"^\+?[0-9][0-9 \-]{2,19}$"


class ChineseForm(FlaskForm):
    """WTForms' own Chinese messages for the checks it makes (e.g. an invalid choice)."""

    class Meta:
        locales = ["zh"]


class CallForm(ChineseForm):
    channel = SelectField("来电渠道", choices=list(CHANNELS.items()), default="phone")
    caller_phone = StringField(
        "联系电话",
        validators=[Optional(), Regexp(PHONE_PATTERN, message="联系电话格式不正确，只能包含数字、空格和短横线")],
    )
    caller_name = StringField("来电人", validators=[Optional(), Length(max=50, message="姓名不能超过 50 个字")])
    category = SelectField("诉求类别", choices=list(CATEGORIES.items()), default="complaint")
    urgency = SelectField("紧急程度", choices=list(URGENCIES.items()), default="normal")
    service_code = SelectField("服务事项", validators=[DataRequired(message="请选择服务事项")])
    district = SelectField("所在区县", choices=[("", "（不确定）"), ("城东区", "城东区"), ("城西区", "城西区"), ("高新区", "高新区")], default="")
    address = StringField("事发地址", validators=[Optional(), Length(max=200, message="地址不能超过 200 个字")])
    description = TextAreaField(
        "诉求内容",
        validators=[DataRequired(message="请填写诉求内容"), Length(max=4000, message="诉求内容不能超过 4000 个字")],
    )
