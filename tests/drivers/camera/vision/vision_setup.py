"""The product, rule and batch the vision tests verify against."""

from datetime import date

from serialization.codes import SchemeName
from serialization.coding import CodeFactory
from serialization.rules import Carrier, CodingRule, LotData, ProductMaster

RULE = CodingRule(
    "unit", SchemeName.GS1, Carrier.DATAMATRIX, None, gs1_ais=("01", "17", "10", "21")
)
PRODUCT = ProductMaster("p1", "Product", gtin="09501101530003")
LOT = LotData("AB-123", expiry=date(2027, 5, 31))


def make_factory() -> CodeFactory:
    return CodeFactory(RULE, PRODUCT, LOT)
