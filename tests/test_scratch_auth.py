from tests.app_driver import *
from tests.conftest import PASSWORD

def test_smoke(secured_city):
    engine, extra = secured_city
    at = start()
    at = sign_in(at, "head_d1", PASSWORD)
    print("errors", [e.value for e in at.error])
    print("on login", on_login_page(at))
    text = rendered(at)
    print("西湖区" in text, "上城区" in text, len(text))
    for page in DATA_PAGES[1:]:
        go(at, page)
        text = rendered(at)
        print(page, "西湖区" in text, "330106" in text, "北山" in text, kpis(at))
    for row in audit_rows(engine)[7:]:
        print(row["action"], row["user_name"], row["page"], row["row_count"], row["filters"])
