"""Word lists for demo names. Made-up combinations; any likeness to a real place is the
ordinary Chinese naming stock."""

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏建国志文斌辉海燕晨晓东雪梅琳"
)

AREA_NAMES = ["东苑片区", "西城片区", "南关片区", "北园片区", "中心片区", "新区片区"]
COMPOUND_PREFIXES = [
    "阳光",
    "幸福",
    "锦绣",
    "祁连",
    "金泉",
    "泉湖",
    "富康",
    "安居",
    "和平",
    "育才",
    "春晖",
    "银河",
    "紫金",
    "丰泽",
    "怡景",
    "鑫苑",
    "康乐",
    "嘉禾",
    "瑞祥",
    "长城",
    "福源",
    "景泰",
    "盛世",
    "南湖",
    "北辰",
    "东方",
    "华府",
    "梧桐",
    "丽苑",
]
COMPOUND_SUFFIXES = ["小区", "家园", "花园", "苑", "楼院"]

PARTNER_UNITS = [
    ("肃州区人民医院党委", "institution"),
    ("肃州区税务局机关党委", "government"),
    ("酒泉市第一中学党总支", "institution"),
    ("国网肃州供电公司党委", "enterprise"),
    ("肃州区住房和城乡建设局党支部", "government"),
    ("中国移动肃州分公司党支部", "enterprise"),
]
OTHER_EMPLOYERS = ["酒泉职业技术学院", "肃州区农业农村局", "市公共交通公司", "酒泉日报社"]
