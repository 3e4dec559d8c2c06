"""Callers' personal information: how a name or a phone number is shown to someone who may not see
it in full, and how personal details are taken out of free text before the public sees it.

One place for every page, export and message that shows a caller to someone other than the hotline
(a department handling a confidential case, another department, the public): 王** / 139****5678.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from hotline.domain.errors import InvalidInput

# What the scrubber recognises in free text (descriptions, replies) before it is published.
MOBILE = re.compile(r"(?<!\d)(?:\+?86[ \-]?)?1[3-9]\d(?:[ \-]?\d){8}(?!\d)")
LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[ \-]?\d{7,8}(?!\d)")
ID_CARD = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
HONORIFIC = re.compile(r"[\u4e00-\u9fff](?=先生|女士|小姐|师傅|阿姨|大爷|大妈)")
# "我叫张三", "本人李四", "姓王", "联系人：赵六" and the like: a name the caller gave about themself.
SELF_NAMED = re.compile(r"(我叫|本人|联系人[:：]?|姓名[:：]?|我姓)([\u4e00-\u9fff]{1,3})")

HIDDEN = "＊＊"
# What an erased caller's name, phone, description and address read as, everywhere (个人信息保护法
# 第四十七条): the case's per-case key is destroyed, or the case records ``PersonalDataErased``.
ERASED = "已删除（个人信息已依法删除）"
# The fields of a new case that hold the caller's personal information: sealed with the case's own
# key inside the stored event (infra/store/personal_keys.py), erased together.
PERSONAL_FIELDS = ("caller_name", "caller_phone", "description", "address")


def mask_name(name: str) -> str:
    """王** for 王小明; a one-character or empty name becomes **."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 2) if len(name) > 1 else "**"


def mask_phone(phone: str) -> str:
    """139****5678: the first three and last four digits, or **** for a number too short to keep any."""
    digits = re.sub(r"\D", "", phone or "")
    if not digits:
        return ""
    if len(digits) < 8:
        return "****"
    return f"{digits[:3]}****{digits[-4:]}"


def scrub_contacts(text: str) -> str:
    """The text without phone numbers, ID-card numbers and e-mail addresses: what the read models
    keep of a caller's words (they never hold a number in clear)."""
    if not text:
        return text or ""
    text = ID_CARD.sub(HIDDEN, text)
    text = EMAIL.sub(HIDDEN, text)
    text = MOBILE.sub(HIDDEN, text)
    return LANDLINE.sub(HIDDEN, text)


def scrub(text: str, names: tuple[str, ...] = ()) -> str:
    """What the public may read of a text: no phone numbers, ID-card numbers or e-mail addresses,
    none of the given names, no name the caller gave about themself ("我叫张三" → "我叫＊＊"), and
    no surname before 先生/女士 ("王先生" → "＊先生")."""
    if not text:
        return ""
    given = {n.strip() for n in names if n and len(n.strip()) >= 2 and n != ERASED}  # an erased name is no name
    for name in sorted(given, key=len, reverse=True):
        text = text.replace(name, HIDDEN)
    text = scrub_contacts(text)
    text = SELF_NAMED.sub(lambda m: m.group(1) + HIDDEN, text)
    return HONORIFIC.sub("＊", text)


# ---- the city's policy (rules/privacy.toml) ----------------------------------------------------

NEVER_PUBLIC = frozenset({"report"})  # 举报: the informant must stay unknown, whatever the table says
ADDRESS_LEVELS = ("district", "street")
_STREET = re.compile(r"^.*?(?:路|街|道|巷|大道|胡同|镇|乡|村)")


@dataclass(frozen=True)
class PrivacyRules:
    """What the public sees, who is confidential by default, how long personal data is kept."""

    public_categories: frozenset[str]  # categories whose cases anonymous Open311 reads may list
    withheld_services: frozenset[str]  # services never shown to the public (they name a person)
    address_level: str  # "district" or "street": how far an address is coarsened for the public
    coordinate_decimals: int  # coordinates rounded to this many decimals (2: about 1 km)
    confidential_categories: frozenset[str]  # categories whose callers are 保密 unless the form says not
    retention_years: int  # personal data erased this many years after a case is closed
    basis: str = ""

    def __post_init__(self) -> None:
        if self.public_categories & NEVER_PUBLIC:
            raise InvalidInput("举报（report）类工单不能公开")
        if self.address_level not in ADDRESS_LEVELS:
            raise InvalidInput(f"地址公开粒度只能是 {'、'.join(ADDRESS_LEVELS)} 之一")
        if not 0 <= self.coordinate_decimals <= 4:
            raise InvalidInput("坐标保留小数位数应在 0 到 4 之间（3 位约 100 米，2 位约 1 公里）")
        if self.retention_years < 1:
            raise InvalidInput("保存年限至少 1 年")

    def is_public(self, category: str, service_code: str) -> bool:
        return category in self.public_categories and service_code not in self.withheld_services

    def confidential_by_default(self, category: str) -> bool:
        return category in self.confidential_categories

    def public_address(self, address: str, district: str) -> str:
        """The address as the public sees it: the district, or the street without house numbers."""
        if self.address_level == "street":
            match = _STREET.match(address or "")
            if match:
                street = scrub(match.group(0))
                return street if not district or street.startswith(district) else f"{district}{street}"
        return district or ""

    def retention_cutoff(self, now: datetime) -> datetime:
        """Cases finished at or before this moment are past their retention period: ``now`` less
        ``retention_years`` calendar years (29 February counts from 28 February)."""
        try:
            return now.replace(year=now.year - self.retention_years)
        except ValueError:
            return now.replace(year=now.year - self.retention_years, day=28)

    def retention_reason(self) -> str:
        years = self.retention_years
        return f"保存期限届满：办结后 {years} 年（rules/privacy.toml，个人信息保护法第十九条、第四十七条）"

    def public_coordinate(self, value: float | None) -> float | None:
        return None if value is None else round(value, self.coordinate_decimals)
