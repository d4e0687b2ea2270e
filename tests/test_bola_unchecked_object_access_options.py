"""AL302's options really reach the rule (fixtures run with defaults only)."""

from __future__ import annotations

import pytest

from authlint.config import Config, ConfigError, file_settings, link_settings, project_rule_settings, validate_rule_options
from authlint.engine import analyze_text
from authlint.link import link

APP = """\
from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Column, Integer
from sqlalchemy.orm import declarative_base

from .auth import guard
from .db import get_db
from .models import Order

Base = declarative_base()


class Shipment(Base):
    __tablename__ = "shipments"
    id = Column(Integer, primary_key=True)
    holder_id = Column(Integer)


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/token")
app = FastAPI()
router = APIRouter(dependencies=[Depends(oauth2_scheme)])


@router.get("/orders/{order_id}")
def read_order(order_id: int, db=Depends(get_db), user=Depends(oauth2_scheme)):
    order = db.get(Order, order_id)
    guard.gatekeep(user, order)
    return order


@router.get("/shipments/{shipment_id}")
def read_shipment(shipment_id: int, db=Depends(get_db)):
    return db.get(Shipment, shipment_id)


app.include_router(router)
"""


READ_ORDER = APP.splitlines().index("def read_order(order_id: int, db=Depends(get_db), user=Depends(oauth2_scheme)):") + 1
READ_SHIPMENT = APP.splitlines().index("def read_shipment(shipment_id: int, db=Depends(get_db)):") + 1


def al302_lines(config: Config) -> list[int]:
    result = analyze_text(APP, "app/main.py", file_settings(config, collect_facts=True), module_path="app/main.py")
    assert not result.errors and result.facts is not None
    linked = link([result.facts], link_settings(config), project_rule_settings(config))
    assert not linked.errors
    return sorted(f.span.line for f in linked.findings if f.code == "AL302")


def test_by_default_an_unknown_helper_is_no_check_and_shipments_belong_to_no_one() -> None:
    assert al302_lines(Config()) == [READ_ORDER]


def test_a_configured_ownership_helper_counts_as_a_check() -> None:
    assert al302_lines(Config(rules={"AL302": {"ownership-checks": ["*.gatekeep"]}})) == []
    assert al302_lines(Config(rules={"AL302": {"ownership-checks": ["gatekeep"]}})) == []
    assert al302_lines(Config(rules={"AL302": {"ownership-checks": ["app.other.gatekeep"]}})) == [READ_ORDER]


def test_owner_fields_say_which_models_belong_to_someone() -> None:
    lines = al302_lines(Config(rules={"AL302": {"owner-fields": ["holder_id"]}}))
    assert lines == [READ_ORDER, READ_SHIPMENT]


def test_the_options_must_be_lists_of_strings() -> None:
    with pytest.raises(ConfigError, match="ownership-checks"):
        validate_rule_options("pyproject.toml", "AL302", {"ownership-checks": "check_access"})
