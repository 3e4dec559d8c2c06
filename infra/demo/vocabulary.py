"""The demo's vocabulary: names, streets, what callers say, per service. The demo cases, the
synthetic intake calls and the benchmarks' data set all draw from here."""

from __future__ import annotations

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
    "平",
    "刚",
    "桂英",
    "建国",
    "晓东",
    "海燕",
]
DISTRICTS = ["城东区", "城西区", "高新区"]
STREETS = {
    "城东区": ["解放路", "人民路", "东风街道", "朝阳小区", "滨河花园"],
    "城西区": ["建设路", "西湖路", "和平街道", "锦绣家园", "梧桐苑"],
    "高新区": ["科技大道", "创业路", "软件园", "高新一路", "未来城"],
}
DESCRIPTIONS = {
    "noise": ["楼下商铺每天晚上十点后还在用大喇叭促销，严重影响休息", "小区广场舞音响声音太大，晚上九点半以后仍未停止"],
    "construction_noise": ["附近工地夜间十一点后仍在施工打桩，噪声很大", "地铁施工现场凌晨运渣车作业，噪音扰民"],
    "street_vending": ["学校门口流动摊贩占道经营，上下学时段交通拥堵", "夜市摊位占用人行道，行人只能走机动车道"],
    "illegal_building": ["顶楼住户私自搭建阳光房，存在安全隐患", "小区一楼住户圈占公共绿地搭建围墙"],
    "garbage": ["小区垃圾桶已满三天无人清运，气味很大", "路边建筑垃圾堆放多日无人处理"],
    "property_mgmt": ["小区电梯频繁故障，物业维修不及时", "物业公司擅自提高停车费，业主不认可"],
    "water_supply": ["家中自来水发黄有异味，已持续两天", "小区高层水压不足，早晚高峰基本没水"],
    "power_outage": ["小区突然停电，没有任何通知，已停了四个小时", "家中电压不稳，电器频繁跳闸"],
    "road_damage": ["路口路面塌陷出现大坑，夜间容易发生事故", "人行道井盖缺失，存在安全隐患"],
    "bus_route": ["建议增加早高峰公交班次，车厢过于拥挤", "公交站台迁移后没有任何提示，乘客找不到站点"],
    "food_safety": ["在某餐馆就餐后腹泻，怀疑食材不新鲜", "超市销售过期酸奶，要求查处"],
    "consumer_rights": ["健身房突然关门，预付卡余额无法退还", "网购家电质量问题，商家拒绝退换"],
    "unpaid_wages": ["在工地干了三个月，老板拖欠工资一万二未付", "公司以经营困难为由拖欠两个月工资"],
    "social_security": ["咨询灵活就业人员社保如何缴纳", "养老金领取资格认证一直办不下来"],
    "medical_insurance": ["异地就医备案后报销比例与规定不符", "咨询门诊慢特病医保报销流程"],
    "school_enrollment": ["咨询孩子幼升小需要准备哪些材料", "非户籍子女入学积分如何计算"],
    "medical_service": ["医院挂号难，网上号源一放出就没有", "医院收费清单与实际治疗项目不符"],
    "household_registration": ["咨询人才引进落户需要哪些条件", "身份证丢失补办需要多长时间"],
    "housing_fund": ["公积金提取申请提交一个月仍未到账", "咨询异地购房能否使用本市公积金贷款"],
    "pollution": ["附近工厂夜间排放刺鼻废气", "河道有黑臭污水排放"],
    "other": ["反映小区周边缺少停车位，希望统筹解决", "建议在公园增设无障碍设施"],
}
CATEGORY_BY_SERVICE = {
    "social_security": "consult",
    "medical_insurance": "consult",
    "school_enrollment": "consult",
    "household_registration": "consult",
    "housing_fund": "consult",
    "bus_route": "suggestion",
    "other": "suggestion",
    "food_safety": "report",
    "pollution": "report",
    "unpaid_wages": "help",
    "water_supply": "help",
    "power_outage": "help",
}
CHANNEL_WEIGHTS = {"phone": 70, "web": 8, "wechat": 12, "app": 6, "letter": 2, "open311": 2}
ENDINGS = [
    # (final state, weight)
    ("opened", 4),
    ("answered", 8),
    ("dispatched", 10),
    ("signed", 16),
    ("returned", 3),
    ("replied", 10),
    ("called_back", 5),
    ("closed", 34),
    ("reopened", 3),
    ("merged", 3),
    ("extension", 4),
]
PATHS = {
    "opened": [],
    "answered": ["answer"],
    "dispatched": ["dispatch"],
    "signed": ["dispatch", "sign"],
    "extension": ["dispatch", "sign", "extend"],
    "returned": ["dispatch", "return"],
    "replied": ["dispatch", "sign", "reply"],
    "called_back": ["dispatch", "sign", "reply", "callback"],
    "closed": ["dispatch", "sign", "reply", "callback", "close"],
    "reopened": ["dispatch", "sign", "reply", "callback", "reopen"],
    "merged": ["merge"],
}
