"""The public holidays fixed by law, for a year whose arrangement the State Council has not published.

《全国年节及纪念日放假办法》 as revised in 2024 (国务院令第 795 号, in force from 2025-01-01) gives
every citizen 13 days: 元旦 1 (1 January), 春节 4 (农历除夕 and 正月初一 to 初三), 清明节 1 (the
day of the solar term), 劳动节 2 (1 and 2 May), 端午节 1 (农历五月初五), 中秋节 1 (农历八月十五),
国庆节 3 (1 to 3 October). The yearly arrangement adds make-up workdays and moves days next to
weekends; nobody can know those in advance, so this fallback adds none, and a deadline counted on
such a year stays provisional (暂定) until the city adds the published arrangement to
rules/calendar.toml. The lunar and solar-term dates come from the ``lunar-python`` package.
"""

from __future__ import annotations

from datetime import date, timedelta

from lunar_python import Lunar

# The years the fallback covers: the built-in data starts in 2004; no time limit reaches past 2099.
FIRST_YEAR, LAST_YEAR = 2004, 2099


def statutory_holidays(year: int) -> dict[date, str]:
    """The 13 statutory holiday dates of ``year`` by their names (two may fall on one day)."""
    new_year = Lunar.fromYmd(year, 1, 1).getSolar()
    spring = date(new_year.getYear(), new_year.getMonth(), new_year.getDay())
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    for offset in range(-1, 3):  # 除夕, 初一, 初二, 初三
        days[spring + timedelta(days=offset)] = "春节"
    qingming = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    days[date(qingming.getYear(), qingming.getMonth(), qingming.getDay())] = "清明节"
    days[date(year, 5, 1)] = days[date(year, 5, 2)] = "劳动节"
    for month, day, name in ((5, 5, "端午节"), (8, 15, "中秋节")):
        solar = Lunar.fromYmd(year, month, day).getSolar()
        days[date(solar.getYear(), solar.getMonth(), solar.getDay())] = name
    for day in (1, 2, 3):
        days.setdefault(date(year, 10, day), "国庆节")  # 中秋 on 1–3 October keeps its own name
    return days
