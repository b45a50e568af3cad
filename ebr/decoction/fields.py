"""The fields of seed 001 annex 1 (附件1 中药饮片生产企业追溯信息), kept as data.

Validation, the command line and later the HMI and the batch report all read these
definitions, so a field's Chinese and English name, whether it is basic (基本追溯信息, 必填)
or extended (扩展追溯信息, 选填), its type and its format are written down once. `requirement`
repeats the annex's 要求 column verbatim.

Sections follow the annex: 一、1 self-grown herbs (自建中药材种植基地), 一、2 purchased herbs
(外购中药材), 二 production and quality (生产质量), 三 distribution (流通使用). The process
steps, the inspection conclusion and the recall are kept as records of their own; their
sections below say which parts come from the annex and which the gateway adds.

Where the annex is ambiguous, this is how it is read:
- It gives no lengths: the limits below are the gateway's, generous for the content named.
- A composite field (合作社信息, 客户档案…) lists its parts without saying which are needed:
  when the field is given, every part it names is required (a part the annex adds under 等,
  "etc.", is not invented).
- "具体到省、市、县、乡（镇）" is read as four parts, all required: province, city, county,
  township; 地址（省市县区） as province, city, county/district.
- The self-grown table also lists supplier, arrival, stock-entry and handler fields (供应商名称,
  药材到货日期, 入库日期, 经办人信息); they are transcribed as listed, all extended.
- The body text (§二.1②) names 是否道地药材 and 药材产地 for purchased herbs where the table
  says 是否道地产区 and 产地地理坐标: the table is followed.
- "WORD" is taken as DOCX (Office Open XML); a legacy .doc is refused with a hint to save it as
  DOCX or PDF. "10M" and "3M" are MiB: 10 × 1024 × 1024 and 3 × 1024 × 1024 bytes.
- 经营/生产范围 and 生产经营范围 in 客户档案 name the same thing and are one part here.
- 入库单 (finished-goods receipt) is recorded as the receipt's number; a scan of it may be
  attached to the production record as a document.
- 炮制 methods end with 等: `other` (其他) is accepted with a description of the method.
- 召回信息 is an extended field of the distribution table; a recall, once recorded, needs all
  five parts the annex names. The recalled quantity is the gateway's addition, optional.
- 检验结论 "符合2020版药典一部、部颁标准、省规范" is recorded as qualified or unqualified against
  one of those three standards, with the report number, the inspector (质检负责人: name and
  telephone) and the date, so a conclusion can be traced to its report.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class FieldKind(StrEnum):
    TEXT = "text"
    CHOICE = "choice"
    YES_NO = "yes_no"
    DATE = "date"
    DATE_RANGE = "date_range"
    DATETIME = "datetime"
    DECIMAL = "decimal"
    DECIMAL_RANGE = "decimal_range"
    QUANTITY = "quantity"
    PARAMETERS = "parameters"
    GROUP = "group"
    LIST = "list"
    ATTACHMENT = "attachment"
    RECORDS = "records"
    """Kept in records of their own (process steps, inspections), not in this record."""


class TextFormat(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    USCC = "uscc"


class MediaType(StrEnum):
    JPEG = "image/jpeg"
    DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    PDF = "application/pdf"


MEDIA_NAMES = {MediaType.JPEG: "JPG", MediaType.DOCX: "DOCX (Word)", MediaType.PDF: "PDF"}
MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class AttachmentRule:
    media: tuple[MediaType, ...]
    max_bytes: int


DOCUMENT = AttachmentRule((MediaType.JPEG, MediaType.DOCX, MediaType.PDF), 10 * MIB)
"""支持JPG、WORD、PDF格式，不超过10M."""
PHOTO = AttachmentRule((MediaType.JPEG,), 3 * MIB)
"""支持JPG格式，每张图片大小不超过3M."""
SCAN = AttachmentRule((MediaType.JPEG, MediaType.PDF), 10 * MIB)
"""支持JPG、PDF格式，不超过10M (辅料信息)."""


@dataclass(frozen=True, slots=True)
class Choice:
    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.en})"


@dataclass(frozen=True, slots=True)
class Condition:
    """A sibling field's value (a choice key) among `values`."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Field:
    key: str
    zh: str
    en: str
    kind: FieldKind
    required: bool = False
    """Basic (必填) when True, extended (选填) when False."""
    requirement: str = ""
    max_length: int | None = None
    text_format: TextFormat | None = None
    choices: tuple[Choice, ...] = ()
    suggestions: tuple[str, ...] = ()
    """Usual values of an open list (one the annex ends with 等); others are accepted."""
    unit: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    parts: tuple[Field, ...] = ()
    """A group's parts; a list's item parts."""
    attachment: AttachmentRule | None = None
    kept_in: str | None = None
    """Where a RECORDS field lives (`process-step`, `inspection`, `recall`), or `batch` for a
    value the batch already holds (the production batch number is its lot)."""
    required_when: Condition | None = None
    """A required field is needed only when this holds."""
    allowed_when: Condition | None = None
    """The field may be given only when this holds."""

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.en})"

    @property
    def entered(self) -> bool:
        """Whether the field is written in the record's own data (not a file, not another
        record, not the batch)."""
        return self.kind not in (FieldKind.ATTACHMENT, FieldKind.RECORDS) and self.kept_in is None


@dataclass(frozen=True, slots=True)
class Section:
    key: str
    zh: str
    en: str
    origin: str
    fields: tuple[Field, ...]

    @property
    def label(self) -> str:
        return f"{self.zh} ({self.en})"

    def field(self, key: str) -> Field:
        for field in self.fields:
            if field.key == key:
                return field
        raise KeyError(key)

    @property
    def attachment_fields(self) -> tuple[Field, ...]:
        return tuple(field for field in self.fields if field.kind is FieldKind.ATTACHMENT)


def _text(
    key: str,
    zh: str,
    en: str,
    requirement: str,
    *,
    required: bool = False,
    max_length: int = 100,
    text_format: TextFormat | None = None,
    suggestions: tuple[str, ...] = (),
) -> Field:
    return Field(
        key,
        zh,
        en,
        FieldKind.TEXT,
        required,
        requirement,
        max_length=max_length,
        text_format=text_format,
        suggestions=suggestions,
    )


def _date(key: str, zh: str, en: str, *, required: bool = False) -> Field:
    return Field(key, zh, en, FieldKind.DATE, required, "具体到年、月、日")


def _group(
    key: str, zh: str, en: str, requirement: str, parts: tuple[Field, ...], *, required: bool
) -> Field:
    return Field(key, zh, en, FieldKind.GROUP, required, requirement, parts=parts)


def _attachment(key: str, zh: str, en: str, requirement: str, rule: AttachmentRule) -> Field:
    return Field(key, zh, en, FieldKind.ATTACHMENT, False, requirement, attachment=rule)


def _name() -> Field:
    return _text("name", "姓名", "name", "", required=True)


ID_TYPES = ("居民身份证", "护照", "港澳居民来往内地通行证", "台湾居民来往大陆通行证")


def _phone(key: str = "phone", zh: str = "联系电话", en: str = "telephone") -> Field:
    return _text(key, zh, en, "", required=True, max_length=32, text_format=TextFormat.PHONE)


def _id_document() -> tuple[Field, Field]:
    return (
        _text("id_type", "证件类型", "ID document type", "", required=True, suggestions=ID_TYPES),
        _text("id_number", "证件号码", "ID document number", "", required=True, max_length=64),
    )


def _place_parts(*, township: bool = True) -> tuple[Field, ...]:
    parts = (
        _text("province", "省", "province", "", required=True, max_length=50),
        _text("city", "市", "city", "", required=True, max_length=50),
        _text("county", "县（区）", "county or district", "", required=True, max_length=50),
    )
    if not township:
        return parts
    return (*parts, _text("township", "乡（镇）", "township", "", required=True, max_length=50))


def _place(key: str, zh: str, en: str, *, required: bool) -> Field:
    return _group(key, zh, en, "具体到省、市、县、乡（镇）", _place_parts(), required=required)


def _coordinate(key: str, zh: str, en: str, limit: int) -> Field:
    return Field(
        key,
        zh,
        en,
        FieldKind.DECIMAL,
        True,
        "",
        unit="°",
        minimum=Decimal(-limit),
        maximum=Decimal(limit),
    )


def _quantity(key: str, zh: str, en: str, requirement: str, *, required: bool) -> Field:
    return Field(key, zh, en, FieldKind.QUANTITY, required, requirement)


HERB_CATEGORIES = (
    Choice("plant", "植物", "plant"),
    Choice("animal", "动物", "animal"),
    Choice("mineral", "矿物", "mineral"),
    Choice("other", "其他", "other"),
)

HERB_NAME = _text("herb_name", "药材名称", "herb name", "药材名称", required=True)
HERB_CATEGORY = Field(
    "herb_category",
    "药材种类",
    "herb category",
    FieldKind.CHOICE,
    True,
    "植物、动物、矿物、其他",
    choices=HERB_CATEGORIES,
)
HERB_SPECIFICATION = _text(
    "herb_specification", "药材规格", "herb specification", "根据实际规格填写", required=True
)
ORIGIN_COORDINATES = _group(
    "origin_coordinates",
    "产地地理坐标",
    "geographic coordinates of origin",
    "具体到省、市、县、乡（镇）经纬度",
    (
        *_place_parts(),
        _coordinate("longitude", "经度", "longitude", 180),
        _coordinate("latitude", "纬度", "latitude", 90),
    ),
    required=False,
)
HARVEST_DATE = _date("harvest_date", "采收时间", "harvest date")
PROCESSING_DATE = _date("processing_date", "加工日期", "processing date")

AGROCHEMICAL_ACTIVITIES = (
    Choice("sowing", "播种", "sowing"),
    Choice("irrigation", "灌溉", "irrigation"),
    Choice("pesticide_application", "施药", "pesticide application"),
    Choice("medication", "用药", "medication"),
    Choice("other", "其他", "other"),
)
_INPUT_USED = Condition("activity", ("pesticide_application", "medication"))


def _input_part(key: str, zh: str, en: str, max_length: int = 100) -> Field:
    return Field(
        key,
        zh,
        en,
        FieldKind.TEXT,
        True,
        "",
        max_length=max_length,
        required_when=_INPUT_USED,
    )


SELF_GROWN = Section(
    "self_grown",
    "自建中药材种植基地企业追溯信息",
    "herbs from the company's own planting base",
    "seed 001 annex 1 一、1",
    (
        HERB_NAME,
        HERB_CATEGORY,
        HERB_SPECIFICATION,
        _text(
            "planting_batch_number",
            "种植批号",
            "planting batch number",
            "按照种植批号填写",
            required=True,
            max_length=64,
        ),
        _group(
            "cooperative",
            "合作社信息",
            "cooperative",
            "合作社账号、合作社类型、地址（省市县区）、联系电话、邮箱",
            (
                _text("account", "合作社账号", "cooperative account", "", required=True),
                _text("type", "合作社类型", "cooperative type", "", required=True),
                _group(
                    "address",
                    "地址",
                    "address",
                    "省市县区",
                    _place_parts(township=False),
                    required=True,
                ),
                _phone(),
                _text(
                    "email",
                    "邮箱",
                    "email",
                    "",
                    required=True,
                    text_format=TextFormat.EMAIL,
                ),
            ),
            required=True,
        ),
        ORIGIN_COORDINATES,
        Field(
            "cultivation_period",
            "种养殖时间",
            "cultivation period",
            FieldKind.DATE_RANGE,
            False,
            "区间段，具体到年、月、日",
        ),
        HARVEST_DATE,
        PROCESSING_DATE,
        _group(
            "farmer",
            "农户信息",
            "farmer",
            "农户姓名、证件类型、证件号码、地址",
            (
                _name(),
                *_id_document(),
                _text("address", "地址", "address", "", required=True, max_length=200),
            ),
            required=False,
        ),
        _attachment(
            "pesticide_residue_result",
            "农残检测结果",
            "pesticide residue test result",
            "支持JPG、WORD、PDF格式，不超过10M",
            DOCUMENT,
        ),
        _text(
            "seed_source_type",
            "种源类型",
            "seed source type",
            "种子、种苗、籽粒、果实、根、茎、苗、芽、叶、花、子实体、菌丝体等",
            suggestions=(
                "种子",
                "种苗",
                "籽粒",
                "果实",
                "根",
                "茎",
                "苗",
                "芽",
                "叶",
                "花",
                "子实体",
                "菌丝体",
            ),
        ),
        Field(
            "planting_area",
            "种植面积",
            "planting area",
            FieldKind.DECIMAL,
            False,
            "单位：亩",
            unit="亩",
            minimum=Decimal(0),
        ),
        _text(
            "planting_contract_number",
            "种植合同号",
            "planting contract number",
            "按照种植合同号填写",
            max_length=64,
        ),
        _attachment(
            "origin_photos",
            "产地图片",
            "photos of the origin",
            "景观图片，支持JPG格式，每张图片大小不超过3M",
            PHOTO,
        ),
        _group(
            "sowing_transplanting",
            "播种移栽",
            "sowing and transplanting",
            "播种移栽时间、播种移栽方式、播种量、移栽量",
            (
                _date("date", "播种移栽时间", "date", required=True),
                _text("method", "播种移栽方式", "method", "", required=True),
                _quantity("sowing_quantity", "播种量", "quantity sown", "", required=True),
                _quantity(
                    "transplant_quantity", "移栽量", "quantity transplanted", "", required=True
                ),
            ),
            required=False,
        ),
        _group(
            "plot_status",
            "地块状态",
            "plot status",
            "地块适宜性、安全性评估",
            (
                _text(
                    "suitability",
                    "地块适宜性评估",
                    "suitability assessment",
                    "",
                    required=True,
                    max_length=1000,
                ),
                _text(
                    "safety",
                    "安全性评估",
                    "safety assessment",
                    "",
                    required=True,
                    max_length=1000,
                ),
            ),
            required=False,
        ),
        _group(
            "yield_per_mu",
            "亩产数量",
            "yield per mu",
            "Kg/亩或株/亩",
            (
                Field(
                    "value",
                    "数量",
                    "quantity",
                    FieldKind.DECIMAL,
                    True,
                    "",
                    minimum=Decimal(0),
                ),
                Field(
                    "unit",
                    "单位",
                    "unit",
                    FieldKind.CHOICE,
                    True,
                    "",
                    choices=(
                        Choice("kg_per_mu", "Kg/亩", "kg per mu", ("kg/亩",)),
                        Choice("plants_per_mu", "株/亩", "plants per mu"),
                    ),
                ),
            ),
            required=False,
        ),
        Field(
            "agrochemical_records",
            "农药化肥的使用记录",
            "use of pesticides and fertilisers",
            FieldKind.LIST,
            False,
            "包括播种、灌溉、施药、用药、其他，其中施药用药需包括药品名称、类别、计量单位、"
            "主要成分、投入品描述",
            parts=(
                Field(
                    "activity",
                    "作业",
                    "activity",
                    FieldKind.CHOICE,
                    True,
                    "播种、灌溉、施药、用药、其他",
                    choices=AGROCHEMICAL_ACTIVITIES,
                ),
                _input_part("product_name", "药品名称", "product name"),
                _input_part("category", "类别", "category"),
                _input_part("unit", "计量单位", "unit of measure", 16),
                _input_part("main_ingredient", "主要成分", "main ingredient", 200),
                _input_part("description", "投入品描述", "description of the input", 1000),
            ),
        ),
        _attachment(
            "farming_photos",
            "重要农事图片",
            "photos of key farming work",
            "支持JPG格式，每张图片大小不超过3M",
            PHOTO,
        ),
        _text(
            "supplier_name", "供应商名称", "supplier name", "根据实际供应商情况填写", max_length=200
        ),
        _date("arrival_date", "药材到货日期", "herb arrival date"),
        _date("stock_entry_date", "入库日期", "stock entry date"),
        _group(
            "handler",
            "经办人信息",
            "person handling the receipt",
            "姓名、单位、证件类型、证件号码、联系电话",
            (
                _name(),
                _text("organisation", "单位", "organisation", "", required=True, max_length=200),
                *_id_document(),
                _phone(),
            ),
            required=False,
        ),
        _text(
            "harvest_batch_number",
            "采收批号",
            "harvest batch number",
            "根据具体采收批号填写",
            max_length=64,
        ),
        _text(
            "harvest_method",
            "采收方式",
            "harvest method",
            "人工采收、机械采收等",
            suggestions=("人工采收", "机械采收"),
        ),
        Field(
            "harvest_area",
            "采收面积",
            "harvested area",
            FieldKind.DECIMAL,
            False,
            "单位：亩",
            unit="亩",
            minimum=Decimal(0),
        ),
        _group(
            "harvest_manager",
            "采收负责人",
            "person responsible for the harvest",
            "姓名、证件类型、证件号码、联系电话",
            (_name(), *_id_document(), _phone()),
            required=False,
        ),
        _attachment(
            "harvest_photos",
            "采收图片",
            "harvest photos",
            "支持JPG格式，每张图片大小不超过3M",
            PHOTO,
        ),
        _text("processing_grade", "加工等级", "processing grade", "根据实际等级填写"),
        _quantity(
            "processing_output",
            "加工产量",
            "processing output",
            "根据实际加工产量填写",
            required=False,
        ),
        _text(
            "storage_condition",
            "储存条件",
            "storage condition",
            "常温、阴凉、沙埋等",
            suggestions=("常温", "阴凉", "沙埋"),
        ),
        _date("storage_date", "储存时间", "storage date"),
        _text(
            "storage_location",
            "储存地点",
            "storage location",
            "室外、室内常温、室内冷藏等",
            suggestions=("室外", "室内常温", "室内冷藏"),
        ),
        Field(
            "storage_temperature",
            "储存温度",
            "storage temperature",
            FieldKind.DECIMAL_RANGE,
            False,
            "区间值，据实填写",
            unit="℃",
        ),
        _attachment(
            "storage_photos",
            "储存图片",
            "storage photos",
            "支持JPG格式，每张图片大小不超过3M",
            PHOTO,
        ),
    ),
)

PURCHASED = Section(
    "purchased",
    "外购中药材企业追溯信息",
    "purchased herbs",
    "seed 001 annex 1 一、2",
    (
        _text(
            "supplier_name",
            "供应商名称",
            "supplier name",
            "根据实际供应商情况填写",
            required=True,
            max_length=200,
        ),
        HERB_NAME,
        HERB_CATEGORY,
        HERB_SPECIFICATION,
        Field(
            "genuine_region",
            "是否道地产区",
            "from a genuine (daodi) region",
            FieldKind.YES_NO,
            True,
            "根据实际填写",
        ),
        Field(
            "gap_managed", "是否GAP管理", "managed to GAP", FieldKind.YES_NO, True, "根据实际填写"
        ),
        Field("traceable", "是否实现追溯", "traceable", FieldKind.YES_NO, True, "根据实际填写"),
        _place("supplier_address", "供应商地址", "supplier address", required=True),
        _text(
            "planting_batch_number",
            "种植批号",
            "planting batch number",
            "按照种植批号填写",
            max_length=64,
        ),
        PROCESSING_DATE,
        ORIGIN_COORDINATES,
        HARVEST_DATE,
    ),
)

SOURCE_KINDS = (
    Choice("self_grown", "自种", "self-grown", ("自建", "自建中药材种植基地")),
    Choice("purchased", "购进", "purchased", ("外购", "购买")),
)
SOURCE_SECTIONS = {"self_grown": SELF_GROWN, "purchased": PURCHASED}
SOURCE_FIELD = Field(
    "source",
    "药材来源",
    "herb source",
    FieldKind.CHOICE,
    True,
    "自种或购进",
    choices=SOURCE_KINDS,
)

STEP_KINDS = (
    Choice("cleaning", "净选", "cleaning", ("拣选", "净选（拣选）")),
    Choice("washing", "水洗", "washing"),
    Choice("moistening", "润制", "moistening"),
    Choice("cutting", "切制", "cutting"),
    Choice("drying", "干燥", "drying"),
    Choice("processing", "炮制", "processing"),
)
PROCESSING = "processing"
PROCESSING_METHODS = (
    Choice("steaming", "蒸", "steaming"),
    Choice("stir_frying", "炒", "stir-frying"),
    Choice("stir_frying_with_liquid", "炙", "stir-frying with a liquid adjuvant"),
    Choice("calcining", "煅", "calcining"),
    Choice("boiling", "煮", "boiling"),
    Choice("scalding", "燀", "scalding"),
    Choice("water_grinding", "水飞", "levigation"),
    Choice("fermenting", "发酵", "fermenting"),
    Choice("other", "其他", "other"),
)
_IS_PROCESSING = Condition("kind", (PROCESSING,))

PROCESS_STEP = Section(
    "process_step",
    "生产工艺",
    "process step",
    "seed 001 annex 1 二 生产工艺 and §二.2②; operator and times added by the gateway",
    (
        Field(
            "kind",
            "工序",
            "step",
            FieldKind.CHOICE,
            True,
            "净选（拣选）、水洗、润制、切制、干燥、炮制",
            choices=STEP_KINDS,
        ),
        Field(
            "method",
            "炮制方法",
            "processing method",
            FieldKind.CHOICE,
            True,
            "蒸、炒、炙、煅、煮、燀、水飞、发酵等",
            choices=PROCESSING_METHODS,
            required_when=_IS_PROCESSING,
            allowed_when=_IS_PROCESSING,
        ),
        Field(
            "method_detail",
            "方法说明",
            "method detail",
            FieldKind.TEXT,
            True,
            "",
            max_length=200,
            required_when=Condition("method", ("other",)),
        ),
        Field("parameters", "工艺参数", "parameters", FieldKind.PARAMETERS, False, ""),
        _text("operator", "操作人", "operator", "", required=True),
        Field("started_at", "开始时间", "started at", FieldKind.DATETIME, True, ""),
        Field("finished_at", "结束时间", "finished at", FieldKind.DATETIME, True, ""),
    ),
)

CONCLUSIONS = (
    Choice("qualified", "合格", "qualified", ("符合规定",)),
    Choice("unqualified", "不合格", "unqualified", ("不符合规定",)),
)
STANDARDS = (
    Choice(
        "chp_2020_part1",
        "2020版药典一部",
        "Chinese Pharmacopoeia 2020, volume I",
        ("中国药典2020年版一部", "药典"),
    ),
    Choice("ministry_standard", "部颁标准", "ministry standard"),
    Choice("provincial_norm", "省规范", "provincial processing norm", ("省炮制规范",)),
)

INSPECTION = Section(
    "inspection",
    "检验结论",
    "inspection conclusion",
    "seed 001 annex 1 二 检验结论 and 质检负责人信息; report number and date added by the gateway",
    (
        Field(
            "conclusion",
            "检验结论",
            "conclusion",
            FieldKind.CHOICE,
            True,
            "符合2020版药典一部、部颁标准、省规范",
            choices=CONCLUSIONS,
        ),
        Field(
            "standard",
            "检验依据",
            "standard",
            FieldKind.CHOICE,
            True,
            "2020版药典一部、部颁标准、省规范",
            choices=STANDARDS,
        ),
        _text("report_number", "检验报告编号", "report number", "", required=True, max_length=64),
        _group(
            "inspector",
            "质检负责人信息",
            "person responsible for quality inspection",
            "姓名、联系电话",
            (_name(), _phone()),
            required=True,
        ),
        _date("inspected_on", "检验日期", "inspection date", required=True),
    ),
)

PRODUCTION = Section(
    "production",
    "中药饮片生产质量追溯信息",
    "production and quality",
    "seed 001 annex 1 二",
    (
        _text(
            "product_name",
            "中药饮片名称",
            "decoction pieces name",
            "中药饮片产品名称",
            required=True,
            max_length=200,
        ),
        _place("origin", "产地", "origin", required=True),
        _date("production_date", "生产日期", "production date", required=True),
        Field(
            "production_batch_number",
            "生产批号",
            "production batch number",
            FieldKind.TEXT,
            True,
            "根据实际生产批号填写",
            max_length=20,
            kept_in="batch",
        ),
        _place("production_address", "生产地址", "production address", required=True),
        _text(
            "packaging_specification",
            "包装规格",
            "packaging specification",
            "根据实际包装规格填写",
            required=True,
        ),
        Field(
            "quality_manager",
            "质检负责人信息",
            "person responsible for quality inspection",
            FieldKind.RECORDS,
            True,
            "姓名、联系电话",
            kept_in="inspection",
        ),
        Field(
            "process",
            "生产工艺",
            "production process",
            FieldKind.RECORDS,
            True,
            "根据实际生产工艺填写",
            kept_in="process-step",
        ),
        Field(
            "inspection_conclusion",
            "检验结论",
            "inspection conclusion",
            FieldKind.RECORDS,
            True,
            "符合2020版药典一部、部颁标准、省规范",
            kept_in="inspection",
        ),
        _attachment(
            "raw_herb_inspection_report",
            "原药材检验报告",
            "raw herb inspection report",
            "支持JPG、WORD、PDF格式，不超过10M",
            DOCUMENT,
        ),
        _attachment(
            "product_inspection_report",
            "中药饮片检验报告",
            "decoction pieces inspection report",
            "支持JPG、WORD、PDF格式，不超过10M",
            DOCUMENT,
        ),
        _attachment(
            "intermediate_inspection_report",
            "半成品检验报告",
            "intermediate product inspection report",
            "支持JPG、WORD、PDF格式，不超过10M",
            DOCUMENT,
        ),
        Field(
            "excipients",
            "辅料信息",
            "excipients",
            FieldKind.LIST,
            False,
            "包括辅料名称、批号、用量、规格、检验报告、质量标准等。支持JPG、PDF格式，不超过10M",
            parts=(
                _text("name", "辅料名称", "excipient name", "", required=True),
                _text("batch_number", "批号", "batch number", "", required=True, max_length=64),
                _quantity("amount", "用量", "amount used", "", required=True),
                _text("specification", "规格", "specification", "", required=True),
                _text("quality_standard", "质量标准", "quality standard", "", required=True),
            ),
        ),
        _attachment(
            "excipient_reports",
            "辅料检验报告",
            "excipient inspection reports",
            "支持JPG、PDF格式，不超过10M",
            SCAN,
        ),
        _group(
            "finished_goods_receipt",
            "成品入库信息",
            "finished goods receipt",
            "数量、日期（年月日）、入库单",
            (
                _quantity("quantity", "数量", "quantity", "", required=True),
                _date("date", "日期", "date", required=True),
                _text(
                    "receipt_number", "入库单", "receipt number", "", required=True, max_length=64
                ),
            ),
            required=False,
        ),
        _group(
            "storage_conditions",
            "储存条件",
            "storage conditions",
            "时间、温度、湿度、光照等",
            (
                _text("duration", "时间", "duration", "", required=True),
                Field(
                    "temperature",
                    "温度",
                    "temperature",
                    FieldKind.DECIMAL_RANGE,
                    True,
                    "",
                    unit="℃",
                ),
                Field(
                    "humidity",
                    "湿度",
                    "relative humidity",
                    FieldKind.DECIMAL_RANGE,
                    True,
                    "",
                    unit="%",
                    minimum=Decimal(0),
                    maximum=Decimal(100),
                ),
                _text("light", "光照", "light", "", required=True),
            ),
            required=False,
        ),
        _text("manufacturer", "生产厂商", "manufacturer", "厂商名称", max_length=200),
        _date("retest_date", "复验期", "retest date"),
        _date("packaging_date", "包装时间", "packaging date"),
        _text("packaging_material", "包装材料", "packaging material", "根据实际包装材料材质填写"),
        _text("standard", "执行标准", "standard applied", "根据执行生产标准填写", max_length=200),
    ),
)

DESTINATIONS = (
    Choice("medical_institution", "医疗机构", "medical institution"),
    Choice("wholesaler", "药品批发单位", "pharmaceutical wholesaler"),
    Choice("retailer", "零售单位", "retailer"),
)

SALE = Section(
    "sale",
    "中药饮片生产企业流通使用追溯信息",
    "sale",
    "seed 001 annex 1 三 (召回信息 is kept as recall records)",
    (
        _date("sold_on", "销售日期", "sale date", required=True),
        Field(
            "destination",
            "销售去向",
            "destination",
            FieldKind.CHOICE,
            True,
            "医疗机构、药品批发单位、零售单位",
            choices=DESTINATIONS,
        ),
        _quantity(
            "quantity", "销售数量", "quantity sold", "根据实际销售数量据实填写", required=True
        ),
        _group(
            "customer",
            "客户档案",
            "customer",
            "企业名称、注册地址、企业负责人、经营/生产范围、企业邮箱、社会信用代码、生产经营范围、"
            "销售负责人等",
            (
                _text("name", "企业名称", "company name", "", required=True, max_length=200),
                _text(
                    "registered_address",
                    "注册地址",
                    "registered address",
                    "",
                    required=True,
                    max_length=200,
                ),
                _text("principal", "企业负责人", "person in charge", "", required=True),
                _text(
                    "business_scope",
                    "经营/生产范围",
                    "business or production scope",
                    "",
                    required=True,
                    max_length=1000,
                ),
                _text(
                    "email",
                    "企业邮箱",
                    "company email",
                    "",
                    required=True,
                    text_format=TextFormat.EMAIL,
                ),
                _text(
                    "uscc",
                    "社会信用代码",
                    "unified social credit code",
                    "",
                    required=True,
                    max_length=18,
                    text_format=TextFormat.USCC,
                ),
                _text("sales_contact", "销售负责人", "sales contact", "", required=True),
            ),
            required=True,
        ),
        _text(
            "piece_batch_number",
            "饮片批号",
            "decoction pieces batch number",
            "按照包装批号填写",
            required=True,
            max_length=64,
        ),
        _text("sales_channel", "销售渠道", "sales channel", "根据实际销售渠道情况填写"),
        _text(
            "delivery_method",
            "配送方式",
            "delivery method",
            "物流、自行配送等",
            suggestions=("物流", "自行配送"),
        ),
        _text("logistics", "物流信息", "logistics", "根据实际物流信息填写", max_length=1000),
        _group(
            "outbound_operator",
            "出库操作员",
            "outbound operator",
            "操作员编号、操作员名称、证件类型、证件号码、联系电话",
            (
                _text("number", "操作员编号", "operator number", "", required=True, max_length=64),
                _text("name", "操作员名称", "operator name", "", required=True),
                *_id_document(),
                _phone(),
            ),
            required=False,
        ),
        _text(
            "company_profile",
            "公司介绍",
            "company profile",
            "根据公司实际情况填写",
            max_length=4000,
        ),
        _text(
            "product_profile",
            "产品介绍",
            "product profile",
            "根据产品实际情况填写",
            max_length=4000,
        ),
        Field(
            "recall",
            "召回信息",
            "recall",
            FieldKind.RECORDS,
            False,
            "召回企业、召回产品、召回范围、召回原因、召回日期",
            kept_in="recall",
        ),
    ),
)

RECALL = Section(
    "recall",
    "召回信息",
    "recall",
    "seed 001 annex 1 三 召回信息; the recalled quantity added by the gateway",
    (
        _text("company", "召回企业", "recalling company", "", required=True, max_length=200),
        _text("product", "召回产品", "recalled product", "", required=True, max_length=200),
        _text("scope", "召回范围", "recall scope", "", required=True, max_length=2000),
        _text("reason", "召回原因", "recall reason", "", required=True, max_length=2000),
        _date("recalled_on", "召回日期", "recall date", required=True),
        _quantity("quantity", "召回数量", "quantity recalled", "", required=False),
    ),
)

SECTIONS = {
    section.key: section
    for section in (SELF_GROWN, PURCHASED, PRODUCTION, PROCESS_STEP, INSPECTION, SALE, RECALL)
}


def attachment_field(key: str) -> tuple[Section, Field] | None:
    """The section and field an attachment documents, by the field's key."""
    for section in SECTIONS.values():
        for field in section.attachment_fields:
            if field.key == key:
                return section, field
    return None
