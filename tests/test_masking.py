"""Personal data in free text is masked, however people type it; ordinary text is left alone."""

from __future__ import annotations

import re

import pytest

from data_access.security.masking import mask_text

# (written, shown) — each expectation worked out by hand from the rules in data_access/security/masking.py.
CASES = [
    # mobile numbers
    ("联系电话：13812345678。", "联系电话：138****5678。"),
    ("电话 138 1234 5678 谢谢", "电话 138 **** 5678 谢谢"),
    ("电话138-1234-5678", "电话138-****-5678"),
    ("手机+86 13912345678", "手机+86 139****5678"),
    ("手机+8613912345678", "手机+86139****5678"),
    ("手机008613912345678", "手机0086139****5678"),
    ("电话１３８１２３４５６７８", "电话１３８****５６７８"),
    # landlines
    ("座机0571-88886666", "座机0571-****6666"),
    ("座机(010)62345678", "座机(010)****5678"),
    ("座机（0571）8888 6666", "座机（0571）**** 6666"),
    # resident ID numbers
    ("身份证号330106199001011234", "身份证号330106************"),
    ("身份证号33010619900101123X。", "身份证号330106************。"),
    ("身份证号33010619900101123x", "身份证号330106************"),
    ("身份证号３３０１０６１９９００１０１１２３Ｘ", "身份证号３３０１０６************"),
    ("身份证 330106 19900101 1234", "身份证 330106 ******** ****"),
    ("老身份证330106900101123", "老身份证330106*********"),
    # names after a marker; honorifics stay
    ("来电人王建国，家住某处", "来电人王**，家住某处"),
    ("来电人王建国反映路灯坏了", "来电人王**反映路灯坏了"),
    ("联系人：李明", "联系人：李*"),
    ("姓名 张小红 电话无", "姓名 张** 电话无"),
    ("市民张先生反映噪音", "市民张先生反映噪音"),
    ("市民反映路灯不亮", "市民反映路灯不亮"),
    # exact addresses
    ("家住西湖区文一路118号12幢3单元1502室。", "家住西湖区文一路***号**幢*单元****室。"),
    ("住在5号楼2单元", "住在*号楼*单元"),
    # nothing to mask
    ("已持续15天，2026-11-01 反映过", "已持续15天，2026-11-01 反映过"),
    ("工单C2026110100012已转办", "工单C2026110100012已转办"),
]


@pytest.mark.parametrize(("written", "shown"), CASES)
def test_mask_text(written: str, shown: str) -> None:
    assert mask_text(written) == shown


def test_empty_and_missing_text_pass_through() -> None:
    assert mask_text(None) is None
    assert mask_text("") == ""


def test_everything_at_once_keeps_the_text_around_it() -> None:
    written = "来电人刘德华，身份证号330106199001011234，电话13812345678。家住文三路90号7幢2单元301室，反映漏水。"
    assert mask_text(written) == (
        "来电人刘**，身份证号330106************，电话138****5678。家住文三路**号*幢*单元***室，反映漏水。"
    )


def test_demo_personal_data_never_survives_masking() -> None:
    """The demo generator's own sentences (every kind) lose every full number and given name."""
    import numpy as np

    from data_access.demo.people import personal_data

    rng = np.random.default_rng(7)
    for _ in range(200):
        for kind in range(4):
            sentence = personal_data(kind, "330106", "西湖区文一路118号", rng)
            masked = mask_text(sentence)
            assert masked is not None
            for number in re.findall(r"[0-9Xx]{11,18}", sentence):
                assert number not in masked, (sentence, masked)
            assert not re.search(r"1[3-9][0-9]{9}", masked), masked
            assert not re.search(r"[0-9]{17}[0-9X]", masked), masked
