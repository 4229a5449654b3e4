"""Word pools for realistic after-sales paperwork: stations, people, vehicles, parts, faults.

Every generator takes a numpy Generator and returns a string; pools of short phrases are
combined into the longer texts of multiline fields.  Punctuation follows the sample records
(ASCII , and ; between clauses, 、 between list items).
"""

from __future__ import annotations

import numpy as np

from formdesk.templates.values.identifiers import PROVINCES
from formdesk.templates.values.vin import VIN_ALPHABET, with_check_digit


def pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


# word pools read better packed
# fmt: off
# -- places and organisations --------------------------------------------------------------
CITIES = [
    ("长沙", "湘", "A", "0731"),
    ("株洲", "湘", "B", "0731"),
    ("湘潭", "湘", "C", "0731"),
    ("衡阳", "湘", "D", "0734"),
    ("岳阳", "湘", "F", "0730"),
    ("常德", "湘", "J", "0736"),
    ("武汉", "鄂", "A", "027"),
    ("宜昌", "鄂", "E", "0717"),
    ("襄阳", "鄂", "F", "0710"),
    ("郑州", "豫", "A", "0371"),
    ("洛阳", "豫", "C", "0379"),
    ("南昌", "赣", "A", "0791"),
    ("合肥", "皖", "A", "0551"),
    ("成都", "川", "A", "028"),
    ("绵阳", "川", "B", "0816"),
    ("西安", "陕", "A", "029"),
    ("济南", "鲁", "A", "0531"),
    ("潍坊", "鲁", "G", "0536"),
    ("石家庄", "冀", "A", "0311"),
    ("南宁", "桂", "A", "0771"),
    ("柳州", "桂", "B", "0772"),
    ("贵阳", "贵", "A", "0851"),
    ("昆明", "云", "A", "0871"),
    ("广州", "粤", "A", "020"),
    ("十堰", "鄂", "C", "0719"),
    ("太原", "晋", "A", "0351"),
    ("兰州", "甘", "A", "0931"),
]
TRADE_NAMES = [
    "顺达", "宏远", "恒通", "鑫源", "永盛", "华驰", "通力", "安达", "众诚", "金桥", "瑞丰", "天成", "盛华", "汇通", "捷安",
    "广汇", "长运", "中兴", "利民", "新航"
]
STATION_SUFFIX = ["汽车维修站", "特约维修站", "汽车服务站", "汽车维修有限公司", "汽车服务有限公司"]
DEALER_SUFFIX = ["汽车销售服务有限公司", "汽车销售服务公司", "4S店"]
DISTRICTS = [
    "雨花区", "岳麓区", "开福区", "天心区", "芙蓉区", "高新区", "经开区", "城南区", "江北区"
]
ROADS = [
    "万家丽中路", "枫林三路", "麓谷大道", "人民东路", "韶山北路", "建设大道", "解放路", "工业大道", "汽车城路", "黄兴大道"
]
LOGISTICS = ["物流公司", "运输有限公司", "货运公司", "建材有限公司", "商贸有限公司", "公交公司"]
MAKERS = [
    "东风汽车售后服务部", "东风商用车售后服务部", "东风柳汽服务中心", "一汽解放售后服务部", "中国重汽服务部", "福田汽车售后服务部"
]
RIVAL_BRANDS = [
    "一汽解放", "中国重汽", "陕汽重卡", "福田欧曼", "江淮汽车", "上汽红岩", "北奔重汽", "大运汽车", "江铃汽车"
]
SUPPLIERS = [
    "湖南机油泵有限公司", "玉柴机器", "潍柴动力", "博世汽车部件", "法士特", "万向钱潮", "三环集团", "德尔福", "华域汽车", "东风零部件"
]


def city(rng):
    return pick(rng, CITIES)


def station_name(rng, c: str | None = None, dealer: bool = False) -> str:
    c = c or city(rng)[0]
    return c + pick(rng, TRADE_NAMES) + pick(rng, DEALER_SUFFIX if dealer else STATION_SUFFIX)


def address(rng, c: str | None = None) -> str:
    c = c or city(rng)[0]
    n = int(rng.integers(1, 999))
    road = pick(rng, ROADS) + (pick(rng, ["一段", "二段", "三段", ""]) if chance(rng, 0.3) else "")
    return f"{c}市{pick(rng, DISTRICTS)}{road}{n}号"


def company(rng) -> str:
    return city(rng)[0] + pick(rng, TRADE_NAMES) + pick(rng, LOGISTICS)


# -- people -----------------------------------------------------------------------------------
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建国文斌辉鹏飞海波宁红玉兰志立新春林峰宇浩凯俊翔亮成东晓燕丹琳婷雪梅松柏德江河山云龙虎彬健荣"
)


def person(rng) -> str:
    n = 1 if chance(rng, 0.35) else 2
    return pick(rng, SURNAMES) + "".join(pick(rng, GIVEN) for _ in range(n))


def customer(rng) -> str:
    return company(rng) if chance(rng, 0.2) else person(rng)


# -- vehicles -----------------------------------------------------------------------------------
TRUCK_MODELS = [
    "EQ1090TJ", "EQ1168GLJ", "EQ1180GZ", "EQ1090GSZ", "EQ3250GD5D", "EQ4250GD5N", "DFL1160BX",
    "EQ5041XXY", "DFH4180", "EQ1043S8"
]
CAR_MODELS = [
    "轩逸", "卡罗拉", "天籁", "途观L", "比亚迪汉", "雅阁", "思域", "朗逸", "速腾", "帕萨特", "凯美瑞", "CR-V", "宝来",
    "哈弗H6", "CS75", "瑞虎8", "博越", "英朗", "科鲁泽", "奕炫", "天籁2.0L", "轩逸1.6L", "AX7", "风神E70"
]
ENGINE_MODELS = [
    "YC4E140-30", "D310", "EA211", "4G15", "HR16DE", "K20C", "ISD180", "YC6J220", "CA4DF3",
    "WP10.336", "EA888", "DK4A", "MR20"
]
PRODUCTS = [
    "EQ1090载货车", "天锦中卡", "天龙牵引车", "多利卡轻卡", "D310柴油机", "EQ1168底盘", "风神AX7", "凯普特轻卡", "EQ3250自卸车"
]
COLORS = [
    "白色", "黑色", "珍珠白", "银灰色", "深灰色", "宝石蓝", "中国红", "香槟金", "棕色", "雅致银"
]


def vehicle_model(rng, trucks: float = 0.5) -> str:
    return pick(rng, TRUCK_MODELS) if chance(rng, trucks) else pick(rng, CAR_MODELS)


WMI = ["LGA", "LGB", "LGD", "LFV", "LSV", "LVG", "LGW", "LDC", "LZW", "LHG", "LBV", "LSG"]
YEAR_CODES = "LMNPRS"  # 2020-2025


def vin(rng) -> str:
    alpha = VIN_ALPHABET
    body = pick(rng, WMI) + "".join(pick(rng, alpha[:]) for _ in range(5))
    body += (
        "0" + pick(rng, YEAR_CODES) + pick(rng, alpha) + f"{int(rng.integers(0, 1_000_000)):06d}"
    )
    return with_check_digit(body)


def engine_no(rng) -> str:
    kind = int(rng.integers(4))
    if kind == 0:
        return f"{int(rng.integers(10_000_000, 99_999_999))}"
    if kind == 1:
        return pick(rng, ["YC", "HR", "DK", "CA", "WP"]) + f"{int(rng.integers(100000, 9999999))}"
    if kind == 2:
        return (
            pick(rng, ["4G15", "EA211", "MR20", "D310"])
            + "-"
            + f"{int(rng.integers(10000, 999999))}"
        )
    return pick(rng, "ABCDEFGHJK") + f"{int(rng.integers(1000000, 99999999))}" + pick(rng, "ABCDEF")


PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def plate(rng, prov: str | None = None, letter: str | None = None) -> str:
    p = prov or (
        pick(rng, ["湘", "湘", "湘", "鄂", "豫", "粤"])
        if chance(rng, 0.7)
        else pick(rng, PROVINCES)
    )
    city_letter = letter or pick(rng, PLATE_LETTERS[:12])
    if chance(rng, 0.2):  # new energy: 8 characters
        if chance(rng, 0.8):
            return (
                p
                + city_letter
                + pick(rng, "DF")
                + pick(rng, PLATE_LETTERS + "0123456789")
                + f"{int(rng.integers(0, 10000)):04d}"
            )
        return p + city_letter + f"{int(rng.integers(0, 100000)):05d}" + pick(rng, "DF")
    chars = "0123456789" * 3 + PLATE_LETTERS
    tail = "".join(pick(rng, chars) for _ in range(5))
    return p + city_letter + tail


def phone(rng, landline: str | None = None) -> str:
    if landline is not None:
        code = landline or city(rng)[3]
        n = 8 if len(code) == 3 or chance(rng, 0.7) else 7
        return f"{code}-{int(rng.integers(2, 9))}{''.join(str(int(rng.integers(10))) for _ in range(n - 1))}"
    return (
        pick(rng, ["13", "15", "18", "17", "19", "14"])
        + str(int(rng.integers(0, 10)))
        + "".join(str(int(rng.integers(10))) for _ in range(8))
    )


# -- parts, faults, work ----------------------------------------------------------------------
PARTS = [
    "机油泵总成", "水泵总成", "发电机总成", "起动机总成", "离合器压盘", "离合器从动盘", "制动总泵", "转向机总成", "喷油器", "节温器", "散热器",
    "空调压缩机", "涡轮增压器", "燃油泵", "前减震器", "后减震器", "刹车片", "轮毂轴承", "半轴", "传动轴", "氧传感器", "点火线圈", "雨刮电机",
    "玻璃升降器", "大灯总成", "组合仪表", "蓄电池", "曲轴油封", "气门室罩垫", "高压油泵", "中冷器", "EGR阀", "转向助力泵", "变速箱总成",
    "差速器", "空气滤清器", "燃油滤清器", "刹车盘", "制动分泵", "稳定杆连杆", "方向机拉杆", "风扇离合器"
]
FAULTS = [
    "漏油", "异响", "不工作", "渗水", "磨损严重", "断裂", "烧蚀", "无输出", "压力低", "卡滞", "泵体渗漏", "轴承异响", "密封不良",
    "电机烧毁", "发卡", "抖动", "过热", "漏气", "裂纹", "变形", "短路", "无法启动", "发电量不足", "齿轮磨损", "油封漏油", "制动跑偏",
    "间隙过大", "线圈烧坏", "阀芯卡死", "不制冷"
]
SYMPTOM_CLAUSES = [
    "行驶中机油压力报警灯亮", "冷车启动困难", "怠速抖动明显", "加速无力", "排气冒黑烟", "排气冒蓝烟", "发动机舱有异响", "制动时前轮有尖叫声",
    "方向盘抖动", "空调不制冷", "仪表故障灯常亮", "冷却液每日缺失", "底盘有漏油痕迹", "挂挡困难", "离合器打滑", "过坑有咯噔异响", "高速时风噪大",
    "车窗升降缓慢", "水温偏高", "油耗明显增加", "蓄电池亏电", "大灯不亮", "刹车踏板偏软", "转向沉重"
]
CAUSE_CLAUSES = [
    "拆检发现齿轮磨损严重", "油封老化失效", "轴承缺油烧蚀", "密封圈装配不当", "零件制造质量问题", "用户未按期保养", "线束插头腐蚀", "传感器信号失真",
    "技师未按力矩紧固", "诊断不彻底", "配件批次质量问题", "作业不规范", "消音片漏装", "冷却系统有气阻", "滤清器堵塞", "喷油器雾化不良", "油品不合格",
    "皮带张紧力不足", "制动盘端面跳动超差", "电路接触不良"
]
HANDLING_CLAUSES = [
    "按三包更换总成", "更换机油及机油滤清器", "试车故障排除", "重新紧固至标准力矩", "清洗节气门", "更换密封圈并复查", "路试20km无异响",
    "更换前刹车片一副", "补加冷却液并排空气", "重新编程匹配", "更换传感器后故障码消除", "调整间隙至标准值", "更换线束插头", "旧件已返厂", "通知用户回站复查"
]
MEASURE_CLAUSES = [
    "加强技师力矩规范培训", "交车前按检查表逐项确认", "班组长每日抽查", "每周技术例会通报返修案例", "制动作业后必须路试", "空调维修须做保压检测",
    "建立配件入库检验", "严格执行作业指导书", "质检增加路试项目", "对责任人批评教育", "纳入月度质量考核", "组织一次专项培训"
]
OPINION_CLAUSES = [
    "同意三包索赔", "建议厂家核查该批次产品", "请加快配件兑换", "建议增加周末预约工位", "同意按三包处理", "旧件已返厂待鉴定", "用户对处理结果满意",
    "请质量部跟踪", "建议延长保修期", "情况属实"
]
SUMMARY_CLAUSES = [
    "完成进站维修{n}台次", "较上月增长{p}%", "组织走访用户{m}户", "开展电喷系统培训{k}人次", "外出救援{k}次", "均在24小时内到达现场",
    "用户满意率{p}%以上", "三包旧件已全部返厂", "首保{m}台次"
]
PROBLEM_CLAUSES = [
    "EQ1090机油泵早期磨损较多", "三包件兑换周期偏长", "配件供应不及时", "保养等待时间较长", "部分用户反映油耗偏高", "驾驶室密封条老化较快",
    "索赔件返厂不及时", "技师流失较多", "新车型维修资料不全", "诊断设备不足"
]
JOBS = [
    "更换机油、机油滤清器", "更换空气滤清器", "更换空调滤清器", "检查发动机异响", "四轮定位", "更换前刹车片", "更换后刹车片", "更换火花塞", "清洗节气门",
    "更换正时皮带", "更换冷却液", "更换变速箱油", "检查制动系统", "空调系统检修", "更换蓄电池", "更换雨刮片", "轮胎换位", "钣金喷漆", "更换大灯总成",
    "底盘检查", "更换减震器", "5000km首保", "30000km保养", "清洗喷油嘴", "更换刹车油", "检查电路故障"
]
MATERIALS = [
    "机油4L", "机油滤清器", "空气滤清器", "空调滤清器", "火花塞", "刹车片", "冷却液", "刹车油", "正时皮带", "雨刮片", "蓄电池", "变速箱油",
    "密封圈", "油漆", "清洗剂"
]
REMARKS = [
    "附故障标签", "客户要求", "查明原因后报价", "无", "已通知客户", "待料", "加急", "保修", "自费", "已返厂", "旧件客户带走", "复查合格",
    "电话回访"
]
TEAMS = ["机电一组", "机电二组", "机电三组", "钣金组", "喷漆组", "快修组", "保养组", "电器组"]
TRADES = ["机修", "电工", "钣金", "喷漆", "保养"]
SKILLS = ["初级工", "中级工", "高级工", "技师", "高级技师"]
WORK_BAYS = ["A01", "A02", "A05", "B03", "B06", "1号工位", "2号工位", "5号工位", "快修1", "钣喷3"]
TOOLS = [
    "扭力扳手", "气门弹簧压缩器", "正时工具套装", "X431诊断仪", "活塞环压缩器", "三爪拉马", "卧式千斤顶", "冷媒回收机", "缸压表", "内窥镜",
    "万用表", "轮毂拆装工具", "喷油器测试仪"
]
PURPOSES = [
    "更换正时皮带", "拆装气门", "故障诊断", "更换轮毂轴承", "测量缸压", "空调加注", "拆装变速箱", "检查线路", "更换半轴"
]
AREAS = [
    "左前门", "右后门", "前保险杠", "后保险杠", "左前翼子板", "右后叶子板", "发动机盖", "后备箱盖", "车顶", "左侧裙边"
]
BELONGINGS = [
    "备胎", "千斤顶", "三角警示牌", "行车记录仪", "随车工具", "灭火器", "充电线", "雨伞", "脚垫", "儿童座椅"
]
EXTERIOR = [
    "右后门轻微划痕", "前保险杠左侧擦伤", "左前翼子板凹陷", "后视镜破损", "车顶有小凹坑", "外观完好", "前挡风玻璃有裂纹", "轮毂刮花"
]
WARRANTY_PERIODS = [
    "3个月或5000km", "90天或5000公里", "6个月或1万公里", "1年或2万公里", "30天或3000km"
]
POLICIES = [
    "整车3年10万公里三包", "首保免费", "免费救援", "三包期内免工时费", "保养套餐打折", "延保2年"
]
MARKET = [
    "价格下调5%", "新车型上市", "用户反映油耗低", "服务站增加", "促销力度大", "配件价格低", "二手车置换优惠"
]
CAUSE_CATS = ["技术原因", "配件质量", "工作疏忽", "诊断错误", "客户使用"]
RESPONSIBILITIES = ["维修质量", "配件质量", "诊断错误", "客户使用", "非本站责任"]
FEEDBACK = ["满意", "基本满意", "不满意", "无意见", "表扬"]


def part_no(rng) -> str:
    kind = int(rng.integers(4))
    a = int(rng.integers(1000, 9999))
    if kind == 0:
        return f"{a}0{int(rng.integers(10, 99))}-{pick(rng, ['E', 'K', 'KH', 'C', 'D'])}{int(rng.integers(1, 999)):02d}"
    if kind == 1:
        return f"{a}{int(rng.integers(100, 999))}-{pick(rng, ['KH400', 'E02', 'C1100', 'ZB', 'K0800'])}"
    if kind == 2:
        return f"{int(rng.integers(10, 99))}{pick(rng, 'ABCDEFGHK')}{int(rng.integers(100, 999))}-{int(rng.integers(10, 99))}"
    return f"{int(rng.integers(100000000, 999999999))}"


def fault(rng) -> str:
    """A short fault description (4-12 characters)."""
    if chance(rng, 0.5):
        s = pick(rng, PARTS).removesuffix("总成") + pick(rng, FAULTS)
    else:
        a, b = rng.choice(len(FAULTS), 2, replace=False)
        s = FAULTS[a] + "," + FAULTS[b]
    return s[:12]


def clauses(rng, pool, n_min: int, n_max: int) -> str:
    n = int(rng.integers(n_min, n_max + 1))
    idx = rng.choice(len(pool), min(n, len(pool)), replace=False)
    out = []
    for i in idx:
        out.append(
            pool[i].format(
                n=int(rng.integers(150, 600)),
                p=int(rng.integers(3, 98)),
                m=int(rng.integers(10, 120)),
                k=int(rng.integers(3, 30)),
            )
        )
    return ",".join(out) + ("。" if chance(rng, 0.4) else "")


def order_no(rng, prefix: str, day) -> str:
    kind = int(rng.integers(3))
    if kind == 0:
        return f"{prefix}{day:%Y%m%d}-{int(rng.integers(1, 99)):03d}"
    if kind == 1:
        return f"{day:%y%m}{int(rng.integers(100, 9999)):04d}"
    return f"{prefix}{day:%Y%m%d}{int(rng.integers(1, 99)):02d}"
# fmt: on
