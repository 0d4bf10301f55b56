"""Bilingual word lists of the generated demo shop: category tree, brands, phrases, names.

Everything here is fictional: brand names are invented, people's names are common given
names and surnames combined at random, addresses and phone numbers are visibly fake.
Category labels read ``"<中文> <English>"`` at every level; :mod:`.demo` joins the levels
with :data:`shopmind.data.schema.CATEGORY_SEPARATOR`.
"""

from __future__ import annotations

from dataclasses import dataclass

Pair = tuple[str, str]  # (中文, English)


@dataclass(frozen=True)
class Leaf:
    """A leaf category: its names and the median price of its items (CNY)."""

    zh: str
    en: str
    singular: str
    median_price: float


@dataclass(frozen=True)
class Sub:
    """A second-level category."""

    zh: str
    en: str
    leaves: tuple[Leaf, ...]


@dataclass(frozen=True)
class Top:
    """A top-level category with the vocabulary its items are written from.

    ``weight`` is its share of shoppers' interest; ``lift`` multiplies it for
    (female, male) shoppers; ``sized`` items get "size" remarks in reviews; ``consumable``
    items are bought more than one at a time; ``attributes`` are (key, values) pairs.
    """

    zh: str
    en: str
    weight: float
    subs: tuple[Sub, ...]
    brands: tuple[str, ...]
    adjectives: tuple[Pair, ...]
    selling_points: tuple[Pair, ...]
    attributes: tuple[tuple[str, tuple[str | int, ...]], ...]
    lift: tuple[float, float] = (1.0, 1.0)
    sized: bool = False
    consumable: bool = False


_COLOURS = ("black", "white", "grey", "navy", "red", "beige", "green", "pink")
_TECH_COLOURS = ("black", "white", "silver", "blue")

CATALOG: tuple[Top, ...] = (
    Top("服装", "Clothing", 0.17, (
        Sub("女装", "Women", (
            Leaf("连衣裙", "Dresses", "Dress", 199), Leaf("T恤", "T-Shirts", "T-Shirt", 79),
            Leaf("半身裙", "Skirts", "Skirt", 129), Leaf("大衣", "Coats", "Coat", 459))),
        Sub("男装", "Men", (
            Leaf("衬衫", "Shirts", "Shirt", 149), Leaf("夹克", "Jackets", "Jacket", 359),
            Leaf("牛仔裤", "Jeans", "Jeans", 199))),
        Sub("童装", "Kids", (
            Leaf("儿童T恤", "Kids' T-Shirts", "Kids' T-Shirt", 59),
            Leaf("儿童外套", "Kids' Coats", "Kids' Coat", 189),
            Leaf("睡衣", "Pajamas", "Pajama Set", 89))),
        ),
        brands=("Lumora", "青禾", "Northwind", "素衣", "Vela & Co", "Urban Thread", "云裳"),
        adjectives=(("法式", "French-Style"), ("修身", "Slim-Fit"), ("宽松", "Relaxed"),
                    ("复古", "Vintage"), ("通勤", "Office"), ("纯棉", "Pure Cotton"),
                    ("简约", "Minimalist"), ("百搭", "Versatile")),
        selling_points=(("透气舒适", "Breathable and comfortable"),
                        ("不易起球", "Resists pilling"), ("版型显瘦", "Flattering cut"),
                        ("四季可穿", "Wearable all year"), ("机洗不变形", "Machine washable")),
        attributes=(("colour", _COLOURS), ("size", ("S", "M", "L", "XL")),
                    ("material", ("cotton", "linen", "polyester", "wool", "silk"))),
        lift=(1.5, 0.7), sized=True),
    Top("鞋靴", "Shoes", 0.10, (
        Sub("运动鞋", "Sneakers", (
            Leaf("跑步鞋", "Running Shoes", "Running Shoe", 399),
            Leaf("篮球鞋", "Basketball Shoes", "Basketball Shoe", 499),
            Leaf("休闲鞋", "Casual Sneakers", "Casual Sneaker", 299))),
        Sub("女鞋", "Women's Shoes", (
            Leaf("高跟鞋", "Heels", "Heel", 259), Leaf("平底鞋", "Flats", "Flat", 179),
            Leaf("靴子", "Boots", "Boot", 359))),
        Sub("男鞋", "Men's Shoes", (
            Leaf("皮鞋", "Leather Shoes", "Leather Shoe", 399),
            Leaf("凉鞋", "Sandals", "Sandal", 129), Leaf("拖鞋", "Slippers", "Slipper", 49))),
        ),
        brands=("Stride", "踏云", "Pacelab", "步履", "Kestrel", "Summit Sole", "轻羽"),
        adjectives=(("轻便", "Lightweight"), ("减震", "Cushioned"), ("防滑", "Non-Slip"),
                    ("透气", "Breathable"), ("经典", "Classic"), ("真皮", "Genuine Leather")),
        selling_points=(("鞋底耐磨", "Hard-wearing sole"), ("久穿不累", "Comfortable all day"),
                        ("包裹性好", "Snug, supportive fit"), ("轻盈回弹", "Light and springy")),
        attributes=(("colour", _COLOURS), ("size", ("36", "37", "38", "39", "40", "41", "42",
                                                    "43", "44")),
                    ("material", ("leather", "mesh", "canvas", "suede"))),
        lift=(1.1, 1.1), sized=True),
    Top("美妆", "Beauty", 0.11, (
        Sub("护肤", "Skincare", (
            Leaf("面霜", "Face Creams", "Face Cream", 259), Leaf("精华", "Serums", "Serum", 329),
            Leaf("洁面", "Cleansers", "Cleanser", 89),
            Leaf("面膜", "Face Masks", "Face Mask Set", 99))),
        Sub("彩妆", "Makeup", (
            Leaf("口红", "Lipsticks", "Lipstick", 169),
            Leaf("粉底", "Foundations", "Foundation", 239),
            Leaf("眼影", "Eyeshadows", "Eyeshadow Palette", 149))),
        Sub("个护", "Personal Care", (
            Leaf("洗发水", "Shampoos", "Shampoo", 69),
            Leaf("沐浴露", "Body Washes", "Body Wash", 49),
            Leaf("香水", "Perfumes", "Perfume", 459))),
        ),
        brands=("Aurelle", "花语", "Dewlab", "雪颜", "Maison Lys", "Pure Botanica", "润之"),
        adjectives=(("保湿", "Hydrating"), ("温和", "Gentle"), ("持久", "Long-Lasting"),
                    ("清爽", "Refreshing"), ("植物", "Botanical"), ("修护", "Repairing")),
        selling_points=(("温和不刺激", "Gentle on sensitive skin"), ("深层补水", "Deep hydration"),
                        ("持久留香", "Lasting fragrance"), ("无添加", "Free of harsh additives")),
        attributes=(("volume_ml", (30, 50, 100, 200)),
                    ("skin_type", ("all", "dry", "oily", "sensitive"))),
        lift=(1.8, 0.5), consumable=True),
    Top("数码", "Electronics", 0.12, (
        Sub("手机", "Phones", (
            Leaf("智能手机", "Smartphones", "Smartphone", 2999),
            Leaf("手机壳", "Phone Cases", "Phone Case", 39),
            Leaf("充电器", "Chargers", "Charger", 79))),
        Sub("电脑", "Computers", (
            Leaf("笔记本电脑", "Laptops", "Laptop", 5999),
            Leaf("键盘", "Keyboards", "Keyboard", 299),
            Leaf("鼠标", "Mice", "Mouse", 129))),
        Sub("影音", "Audio", (
            Leaf("耳机", "Headphones", "Headphones", 599),
            Leaf("蓝牙音箱", "Bluetooth Speakers", "Bluetooth Speaker", 349),
            Leaf("麦克风", "Microphones", "Microphone", 399))),
        ),
        brands=("Voltix", "极光", "Nexon", "星驰", "Auralis", "Pixelon", "墨子科技"),
        adjectives=(("旗舰", "Flagship"), ("无线", "Wireless"), ("快充", "Fast-Charging"),
                    ("轻薄", "Ultra-Slim"), ("降噪", "Noise-Cancelling"), ("高清", "HD")),
        selling_points=(("续航持久", "Long battery life"), ("连接稳定", "Stable connection"),
                        ("做工精致", "Premium build"), ("即插即用", "Plug and play")),
        attributes=(("colour", _TECH_COLOURS), ("warranty_months", (12, 24))),
        lift=(0.6, 1.7)),
    Top("家居", "Home", 0.10, (
        Sub("床上用品", "Bedding", (
            Leaf("四件套", "Bedding Sets", "Bedding Set", 299),
            Leaf("枕头", "Pillows", "Pillow", 129),
            Leaf("被子", "Duvets", "Duvet", 399))),
        Sub("厨具", "Kitchenware", (
            Leaf("炒锅", "Woks", "Wok", 259), Leaf("刀具", "Knives", "Knife Set", 199),
            Leaf("保温杯", "Vacuum Flasks", "Vacuum Flask", 129))),
        Sub("家装", "Decor", (
            Leaf("台灯", "Desk Lamps", "Desk Lamp", 189),
            Leaf("收纳盒", "Storage Boxes", "Storage Box", 59), Leaf("地毯", "Rugs", "Rug", 299))),
        ),
        brands=("Hearthly", "悦家", "Oakmere", "木语", "Nestwell", "Casa Clara", "简居"),
        adjectives=(("北欧", "Nordic"), ("简约", "Minimalist"), ("加厚", "Extra-Thick"),
                    ("日式", "Japanese-Style"), ("不粘", "Non-Stick"), ("大容量", "Large")),
        selling_points=(("易清洗", "Easy to clean"), ("经久耐用", "Built to last"),
                        ("安全无味", "Safe and odourless"), ("节省空间", "Saves space")),
        attributes=(("colour", _COLOURS[:6]),
                    ("material", ("cotton", "ceramic", "stainless steel", "wood"))),
        lift=(1.2, 0.8)),
    Top("食品", "Food", 0.11, (
        Sub("零食", "Snacks", (
            Leaf("坚果", "Nuts", "Mixed Nuts", 69), Leaf("饼干", "Biscuits", "Biscuits", 39),
            Leaf("巧克力", "Chocolate", "Chocolate Box", 79))),
        Sub("饮料", "Drinks", (
            Leaf("茶叶", "Tea", "Tea", 159), Leaf("咖啡", "Coffee", "Coffee Beans", 119),
            Leaf("果汁", "Juice", "Juice Pack", 49))),
        Sub("生鲜", "Fresh", (
            Leaf("水果", "Fruit", "Fruit Box", 89), Leaf("牛排", "Steak", "Steak Pack", 199),
            Leaf("海鲜", "Seafood", "Seafood Box", 259))),
        ),
        brands=("Harvest Table", "山野", "Goldleaf", "味觉", "Tidewater", "Orchard Lane", "田园"),
        adjectives=(("有机", "Organic"), ("低糖", "Low-Sugar"), ("新鲜", "Fresh"),
                    ("原味", "Classic"), ("进口", "Imported"), ("手工", "Handmade")),
        selling_points=(("产地直发", "Shipped from the farm"), ("口感醇厚", "Rich flavour"),
                        ("独立包装", "Individually wrapped"), ("冷链配送", "Cold-chain delivery")),
        attributes=(("weight_g", (250, 500, 1000)),
                    ("origin", ("Yunnan", "Xinjiang", "Fujian", "New Zealand", "Chile"))),
        consumable=True),
    Top("母婴", "Baby", 0.07, (
        Sub("喂养", "Feeding", (
            Leaf("奶粉", "Formula", "Infant Formula", 299),
            Leaf("奶瓶", "Baby Bottles", "Baby Bottle", 129),
            Leaf("辅食", "Baby Food", "Baby Food Pack", 59))),
        Sub("尿裤湿巾", "Diapers & Wipes", (
            Leaf("纸尿裤", "Diapers", "Diaper Pack", 139),
            Leaf("湿巾", "Baby Wipes", "Baby Wipes", 39))),
        Sub("玩具", "Toys", (
            Leaf("积木", "Building Blocks", "Building Block Set", 199),
            Leaf("毛绒玩具", "Plush Toys", "Plush Toy", 89),
            Leaf("益智玩具", "Educational Toys", "Educational Toy", 149))),
        ),
        brands=("Little Sprout", "贝贝乐", "Cubby", "宝之初", "Dandelion Kids", "Tinytots", "童趣"),
        adjectives=(("安全", "Safe"), ("柔软", "Soft"), ("益智", "Brain-Building"),
                    ("防胀气", "Anti-Colic"), ("超薄", "Ultra-Thin"), ("可爱", "Cute")),
        selling_points=(("材质安全", "Made from safe materials"), ("宝宝喜欢", "Babies love it"),
                        ("妈妈放心", "Parent-approved"), ("柔软亲肤", "Soft on skin")),
        attributes=(("age_range", ("0-6m", "6-12m", "1-3y", "3-6y")),),
        lift=(1.6, 0.6), consumable=True),
    Top("运动户外", "Sports & Outdoors", 0.08, (
        Sub("健身", "Fitness", (
            Leaf("瑜伽垫", "Yoga Mats", "Yoga Mat", 99),
            Leaf("哑铃", "Dumbbells", "Dumbbell Set", 159),
            Leaf("跳绳", "Jump Ropes", "Jump Rope", 29))),
        Sub("户外", "Outdoor", (
            Leaf("帐篷", "Tents", "Tent", 599),
            Leaf("登山包", "Hiking Backpacks", "Hiking Backpack", 399),
            Leaf("冲锋衣", "Shell Jackets", "Shell Jacket", 699))),
        Sub("骑行", "Cycling", (
            Leaf("自行车", "Bicycles", "Bicycle", 1899), Leaf("头盔", "Helmets", "Helmet", 259),
            Leaf("骑行服", "Cycling Jerseys", "Cycling Jersey", 219))),
        ),
        brands=("Peakline", "行者", "Trailforge", "野径", "Apex Motion", "Blue Ridge", "跃动"),
        adjectives=(("专业", "Pro"), ("防水", "Waterproof"), ("便携", "Portable"),
                    ("耐磨", "Rugged"), ("速干", "Quick-Dry"), ("加宽", "Wide")),
        selling_points=(("户外必备", "An outdoor essential"), ("结实耐用", "Tough and durable"),
                        ("收纳方便", "Packs down small"), ("专业级性能", "Pro-level performance")),
        attributes=(("colour", _COLOURS[:5]), ("size", ("S", "M", "L", "XL"))),
        lift=(0.8, 1.4)),
    Top("图书", "Books", 0.05, (
        Sub("文学", "Literature", (
            Leaf("小说", "Novels", "Novel", 49), Leaf("诗歌", "Poetry", "Poetry Collection", 39),
            Leaf("散文", "Essays", "Essay Collection", 45))),
        Sub("教育", "Education", (
            Leaf("教材", "Textbooks", "Textbook", 59),
            Leaf("外语学习", "Language Learning", "Language Course Book", 69),
            Leaf("考试", "Exam Prep", "Exam Prep Guide", 79))),
        Sub("童书", "Children's Books", (
            Leaf("绘本", "Picture Books", "Picture Book", 49),
            Leaf("科普", "Popular Science", "Science Book for Kids", 59))),
        ),
        brands=("星河出版", "Maple Leaf Books", "青灯书局", "Inkwell Press", "Lantern House",
                "明德文化"),
        adjectives=(("畅销", "Bestselling"), ("经典", "Classic"), ("精装", "Hardcover"),
                    ("插图", "Illustrated"), ("新版", "New Edition"), ("获奖", "Award-Winning")),
        selling_points=(("值得一读再读", "Worth rereading"), ("装帧精美", "Beautifully bound"),
                        ("内容扎实", "Rich, solid content"), ("适合全家", "For the whole family")),
        attributes=(("format", ("paperback", "hardcover", "ebook")),
                    ("language", ("zh", "en"))),
        lift=(1.1, 0.9)),
    Top("家电", "Appliances", 0.09, (
        Sub("厨房电器", "Kitchen Appliances", (
            Leaf("电饭煲", "Rice Cookers", "Rice Cooker", 499),
            Leaf("空气炸锅", "Air Fryers", "Air Fryer", 399),
            Leaf("咖啡机", "Coffee Machines", "Coffee Machine", 1299))),
        Sub("清洁电器", "Cleaning", (
            Leaf("吸尘器", "Vacuum Cleaners", "Vacuum Cleaner", 1499),
            Leaf("扫地机器人", "Robot Vacuums", "Robot Vacuum", 2499))),
        Sub("个护电器", "Personal Care Appliances", (
            Leaf("吹风机", "Hair Dryers", "Hair Dryer", 299),
            Leaf("电动牙刷", "Electric Toothbrushes", "Electric Toothbrush", 259),
            Leaf("剃须刀", "Shavers", "Shaver", 399))),
        ),
        brands=("Kitchora", "美厨", "Brightway", "净界", "Solenne", "Homewave", "智家"),
        adjectives=(("智能", "Smart"), ("静音", "Quiet"), ("多功能", "Multi-Function"),
                    ("大功率", "High-Power"), ("迷你", "Mini"), ("节能", "Energy-Saving")),
        selling_points=(("一键操作", "One-touch operation"), ("省时省力", "Saves time and effort"),
                        ("安全防护", "Built-in safety protection"), ("低噪运行", "Runs quietly")),
        attributes=(("colour", _TECH_COLOURS), ("power_w", (800, 1200, 1800, 2000)),
                    ("warranty_months", (12, 24))),
        lift=(1.0, 1.0)),
)

#: Tops a shopper's new interest most often comes from, by top index (drift is not random).
RELATED_TOPS: tuple[tuple[int, ...], ...] = (
    (1, 2), (0, 7), (0, 9), (9, 7), (9, 5), (4, 6), (8, 5), (1, 3), (6, 0), (4, 3),
)

COLOUR_ZH: dict[str, str] = {
    "black": "黑色", "white": "白色", "grey": "灰色", "navy": "藏青色", "red": "红色",
    "beige": "米色", "green": "绿色", "pink": "粉色", "silver": "银色", "blue": "蓝色",
}

#: By price band (budget, mid-range, premium).
PRICE_BAND_PHRASES: tuple[Pair, ...] = (
    ("高性价比，日常好物", "Great value for everyday use"),
    ("品质之选，值得信赖", "Dependable everyday quality"),
    ("高端精选，匠心之作", "A premium, carefully crafted pick"),
)

#: Query templates; ``{leaf}`` is the leaf name, ``{word}`` a brand or adjective.
QUERY_WORDS: dict[str, tuple[str, ...]] = {
    "zh_cheap": ("便宜", "平价", "学生党"),
    "zh_premium": ("高端", "大牌", "正品"),
    "zh_plain": ("推荐", "新款", "热卖", "好用的"),
    "en_cheap": ("cheap", "budget", "affordable"),
    "en_premium": ("premium", "luxury", "best"),
    "en_plain": ("new", "popular", "top rated", "best selling"),
}

REVIEW_ASPECTS: tuple[str, ...] = ("quality", "price", "delivery", "size", "packaging")

#: ``REVIEW_PHRASES[language][aspect][polarity]``, polarity 1 = positive, 0 = negative.
REVIEW_PHRASES: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "zh": {
        "quality": (("质量很差，用了几天就坏了", "做工粗糙，有明显瑕疵", "质量和描述不符"),
                    ("质量很好，做工精细", "用料扎实，品质不错", "质感很好，超出预期")),
        "price": (("价格偏贵，不太值", "性价比低，有点后悔", "比别家贵不少"),
                  ("价格实惠，性价比很高", "这个价位非常值", "活动价入手，很划算")),
        "delivery": (("物流太慢，等了一个星期", "发货拖延，催了好几次", "快递送错地址，体验很差"),
                     ("物流很快，第二天就到了", "发货迅速，配送及时", "快递小哥服务很好")),
        "size": (("尺码偏小，建议拍大一码", "尺码不准，只能退换", "版型不合身"),
                 ("尺码标准，穿着合身", "大小合适，按平时尺码买就行", "版型很正")),
        "packaging": (("包装简陋，外盒都压坏了", "包装破损，里面有划痕", "包装太随便"),
                      ("包装精美，送人很合适", "包装严实，没有破损", "包装很用心")),
    },
    "en": {
        "quality": (("poor quality, it broke after a few days", "cheaply made with visible flaws",
                     "the quality is not as described"),
                    ("great quality, well made", "solid build and a nice finish",
                     "the quality exceeded my expectations")),
        "price": (("overpriced for what it is", "poor value, I regret buying it",
                   "much more expensive than elsewhere"),
                  ("good value for money", "worth every yuan", "got it on sale, a great deal")),
        "delivery": (("delivery was very slow, it took a week",
                      "shipping was delayed again and again",
                      "it was delivered to the wrong address"),
                     ("fast delivery, it arrived the next day", "shipped quickly and on time",
                      "the courier was very friendly")),
        "size": (("it runs small, order one size up", "the sizing is off, I had to exchange it",
                  "the fit is awkward"),
                 ("true to size, fits well", "the size is just right",
                  "the cut is very flattering")),
        "packaging": (("flimsy packaging, the box was crushed", "the parcel arrived damaged",
                       "careless packaging"),
                      ("nicely packaged, good as a gift", "packed securely, no damage",
                       "thoughtful packaging")),
    },
}

#: Openers by star rating (index 0 = 1 star), per language.
REVIEW_OPENERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "zh": (("非常失望！", "不推荐购买！"), ("不太满意，", "有点失望，"), ("一般般，", "还行吧，"),
           ("挺好的，", "整体满意，"), ("非常满意！", "强烈推荐！")),
    "en": (("Very disappointed!", "Would not recommend!"),
           ("Not very happy:", "A bit disappointed:"),
           ("It's okay:", "Average:"), ("Pretty good:", "Happy overall:"),
           ("Absolutely love it!", "Highly recommended!")),
}

#: Joins two review remarks: same polarity, then opposite polarity.
REVIEW_JOINERS: dict[str, Pair] = {"zh": ("，", "，但是"), "en": ("; ", ", but ")}

ZH_SURNAMES: tuple[Pair, ...] = (
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"), ("杨", "yang"),
    ("赵", "zhao"), ("黄", "huang"), ("周", "zhou"), ("吴", "wu"), ("徐", "xu"), ("孙", "sun"),
    ("胡", "hu"), ("朱", "zhu"), ("高", "gao"), ("林", "lin"), ("何", "he"), ("郭", "guo"),
)
ZH_GIVEN: tuple[Pair, ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("杰", "jie"), ("涛", "tao"),
    ("秀英", "xiuying"), ("晓东", "xiaodong"), ("雨桐", "yutong"), ("子涵", "zihan"),
    ("浩然", "haoran"), ("思琪", "siqi"), ("欣怡", "xinyi"), ("明", "ming"),
)
EN_FIRST: tuple[str, ...] = (
    "Alex", "Sam", "Jordan", "Taylor", "Morgan", "Casey", "Jamie", "Riley", "Avery", "Quinn",
    "Emma", "Olivia", "Liam", "Noah", "Ava", "Mia", "Lucas", "Ethan", "Grace", "Chloe",
)
EN_LAST: tuple[str, ...] = (
    "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Davies", "Evans", "Thomas", "Roberts",
    "Walker", "Wright", "Green", "Hall", "Wood", "Clarke", "Hughes", "Turner", "Hill",
)
ZH_DISTRICTS: tuple[str, ...] = ("东城区", "西城区", "南山区", "北湖区", "新港区", "高新区")
ZH_ROADS: tuple[str, ...] = ("示例路", "样本街", "测试大道", "演示巷", "虚构路")
EN_STREETS: tuple[str, ...] = (
    "Example Street", "Sample Road", "Test Avenue", "Demo Lane", "Placeholder Way",
)

AGE_BANDS: tuple[str, ...] = ("18-24", "25-34", "35-44", "45-54", "55+")
AGE_BAND_SHARES: tuple[float, ...] = (0.22, 0.34, 0.22, 0.13, 0.09)
GENDERS: tuple[str, ...] = ("female", "male", "unknown")
GENDER_SHARES: tuple[float, ...] = (0.52, 0.44, 0.04)
CITY_TIER_SHARES: tuple[float, ...] = (0.22, 0.33, 0.27, 0.18)  # tiers 1..4

#: Relative traffic by local hour (0–23): quiet nights, a lunch bump, an evening peak.
HOUR_WEIGHTS: tuple[float, ...] = (
    0.9, 0.5, 0.3, 0.2, 0.15, 0.2, 0.4, 0.8, 1.2, 1.4, 1.5, 1.5,
    1.9, 1.7, 1.4, 1.4, 1.5, 1.6, 1.9, 2.5, 3.0, 3.2, 2.8, 1.8,
)
