"""Key templates: declaring them, the checks at class creation, and reading keys back."""

from __future__ import annotations

import itertools
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from restmachine_orm import F, Field, IndexKeys, Keys, Model, ModelDefinitionError, QueryError
from restmachine_orm.keys import Template, key_text
from restmachine_orm.keys import _overlap as overlap


class KtOrder(Model):
    model_keys = Keys(
        pk="KTCUST#{customer}",
        sk="KTORDER#{order_id}",
        indexes={"ktgsi": IndexKeys(pk="KTSTATUS#{status}", sk="KTNO#{number}")},
    )
    customer: str = Field(partition_key=True)
    order_id: str = Field(sort_key=True)
    status: str = "new"
    number: int = 0
    note: str | None = None


def define(keys: Keys, *, name: str = "KtProbe", **annotations: object) -> type[Model]:
    """A model class with these keys and fields ``a`` (partition) and ``b`` (sort)."""
    namespace = {
        "__module__": __name__,
        "__qualname__": name,
        "model_keys": keys,
        "__annotations__": {"a": str, "b": str, "c": "str | None", **annotations},
        "a": Field(partition_key=True),
        "b": Field(sort_key=True),
        "c": None,
    }
    return type(name, (Model,), namespace)


# -- the checks at class creation ----------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (Keys(pk="KTP#{a}", sk="KTS#{nope}"), r"\{nope\} in 'KTS#\{nope\}' is not a field of"),
        (Keys(pk="KTP#{a}{b}", sk="KTS"), r"need literal text between them"),
        (Keys(pk="KTP#{a", sk="KTS#{b}"), r"unbalanced or nested braces"),
        (Keys(pk="KTP#{a}", sk="KTS#{a}"), r"built from the key fields \(a, b\), each once"),
        (Keys(pk="KTP#{a}", sk="KTS#{c}"), r"built from the key fields"),
        (Keys(pk="KTP#{a}#{a}", sk="KTS#{b}"), r"appears twice"),
        (Keys(pk="KTP#{a}", sk="KTS#{b}", indexes={"g": IndexKeys(pk="X#{c}")}), r"3 to 255"),
        (
            Keys(
                pk="KTP#{a}",
                sk="KTS#{b}",
                indexes={"gsi9": IndexKeys(pk="X#{c}", pk_attribute="c")},
            ),
            r"index attribute 'c' is also a field",
        ),
        (Keys(pk="KTP#{a}", sk="{b}"), r"can build the sort key '#unique'"),
        (Keys(pk="KTP#{1a}", sk="KTS#{b}"), r"is not a field placeholder"),
    ],
)
def test_a_bad_template_is_refused_at_class_creation(keys: Keys, message: str) -> None:
    with pytest.raises(ModelDefinitionError, match=message):
        define(keys)


def test_model_keys_must_be_keys() -> None:
    with pytest.raises(ModelDefinitionError, match=r"model_keys must be a Keys"):
        define({"pk": "x"})  # type: ignore[arg-type]


def test_a_field_that_cannot_be_in_a_key_is_refused() -> None:
    with pytest.raises(ModelDefinitionError, match=r"\{flag\} holds"):
        define(
            Keys(pk="KTP#{a}", sk="KTS#{b}", indexes={"gsi9": IndexKeys(pk="F#{flag}")}), flag=bool
        )


def test_two_models_whose_keys_can_be_the_same_collide() -> None:
    # The same shape, other field names: KtOrder's rows would be overwritten.
    with pytest.raises(ModelDefinitionError, match=r"can be the same as KtOrder's"):
        define(Keys(pk="KTCUST#{a}", sk="KTORDER#{b}"))


def test_a_value_can_make_keys_collide_without_a_separator() -> None:
    # "KTORDER#{b}" takes any text, "x#LINE#1" included: the other template is inside it.
    with pytest.raises(ModelDefinitionError, match=r"can be the same as KtOrder's"):
        define(Keys(pk="KTCUST#{a}", sk="KTORDER#{b}#LINE"))


def test_a_distinct_literal_prefix_does_not_collide() -> None:
    define(Keys(pk="KTCUST#{a}", sk="KTLINE#{b}"), name="KtLine")


def test_the_default_layout_is_part_of_the_collision_check() -> None:
    class KtPlain(Model):
        id: str = Field(primary_key=True)

    with pytest.raises(ModelDefinitionError, match=r"can be the same as KtPlain's"):
        type(
            "KtImpostor",
            (Model,),
            {
                "__module__": __name__,
                "model_keys": Keys(pk="KtPlain#{id}", sk="KtPlain"),
                "__annotations__": {"id": str},
                "id": Field(primary_key=True),
            },
        )


def test_a_class_defined_again_replaces_itself() -> None:
    for _ in range(2):
        define(Keys(pk="KTAGAIN#{a}", sk="KTAGAIN#{b}"), name="KtAgain")


def test_models_sharing_an_index_agree_on_its_attributes() -> None:
    with pytest.raises(ModelDefinitionError, match=r"index 'ktgsi' is keyed on \(other, "):
        define(
            Keys(
                pk="KTELSE#{a}",
                sk="KTELSE#{b}",
                indexes={"ktgsi": IndexKeys(pk="E#{c}", sk="{b}", pk_attribute="other")},
            ),
            name="KtElse",
        )


# -- templates: render, prefix, split ------------------------------------------------------


def test_render_prefix_and_split() -> None:
    template = Template.parse("ORG#{org}#USER#{user}", "t")
    assert template.render({"org": "o1", "user": 7}) == "ORG#o1#USER#7"
    assert template.prefix({}) == "ORG#"
    assert template.prefix({"org": "o1"}) == "ORG#o1#USER#"
    assert template.prefix({"org": "o1"}, {"user": "a"}) == "ORG#o1#USER#a"
    assert template.prefix({}, {"user": "a"}) == "ORG#"  # only the first missing field's
    assert template.split("ORG#o1#USER#7") == {"org": "o1", "user": "7"}
    assert template.split("ORG#o1#GROUP#7") is None
    assert template.separators == {"org": "#"}


_TEXT = st.text(alphabet=string.ascii_letters + "#:-_ é", min_size=1, max_size=8)


@given(org=_TEXT.filter(lambda t: "#" not in t), user=_TEXT)
def test_a_key_splits_back_into_the_values_that_built_it(org: str, user: str) -> None:
    template = Template.parse("ORG#{org}#USER#{user}", "t")
    assert template.split(template.render({"org": org, "user": user})) == {
        "org": org,
        "user": user,
    }


_PIECES = st.lists(st.sampled_from(["A", "#", "B", "{x}", "{y}"]), min_size=1, max_size=3)
# Every text of up to 7 characters over the templates' letters and one they do not use.
_TEXTS = ["".join(chars) for n in range(1, 8) for chars in itertools.product("A#BC", repeat=n)]


def _template(pieces: list[str]) -> Template | None:
    try:
        return Template.parse("".join(pieces), "t")
    except ModelDefinitionError:
        return None


def _pattern(template: Template) -> re.Pattern[str]:
    """The texts a template builds, as a regular expression: the oracle's own reading."""
    regex = ""
    for i, part in enumerate(template.parts):
        if i % 2 == 0:
            regex += re.escape(part)
        else:
            separator = template.separators.get(part)
            regex += ".+" if separator is None else f"[^{re.escape(separator)}]+"
    return re.compile(regex, re.DOTALL)


@settings(deadline=None)
@given(_PIECES, _PIECES)
def test_overlap_agrees_with_the_texts_templates_build(first: list[str], second: list[str]) -> None:
    # The oracle tries every short text against both templates' regular expressions,
    # independently of the search ``overlap`` runs; templates of up to 3 pieces always
    # share a text of up to 7 characters when they share any.
    one, two = _template(first), _template(second)
    if one is None or two is None:
        return
    a, b = _pattern(one), _pattern(two)
    shared = any(a.fullmatch(text) and b.fullmatch(text) for text in _TEXTS)
    assert overlap(one, two) == shared


def test_key_text_is_one_text_per_value() -> None:
    from decimal import Decimal

    assert key_text(Decimal("1.0")) == key_text(Decimal("1")) == "1"
    assert key_text(-0.0) == key_text(0.0)


# -- separators in values ------------------------------------------------------------------


def test_a_value_holding_its_separator_is_refused_on_write() -> None:
    with pytest.raises(ValidationError, match=r"contains '#', which separates"):
        define(Keys(pk="KTSEP#{a}#X", sk="KTSEP#{b}"), name="KtSep").create(a="x#y", b="1")


def test_a_trailing_value_may_hold_anything() -> None:
    made = define(Keys(pk="KTTRAIL#{a}", sk="KTTRAIL#{b}"), name="KtTrail").create(a="x#y", b="#")
    assert (made.a, made.b) == ("x#y", "#")


# -- index keys: partial changes -------------------------------------------------------------


@pytest.fixture
def order() -> KtOrder:
    KtOrder.model_backend.clear()
    return KtOrder.create(customer="c1", order_id="o1", status="new", number=3)


def test_changing_part_of_an_index_key_is_refused(order: KtOrder) -> None:
    with pytest.raises(
        QueryError,
        match=r"index 'ktgsi' is keyed on status, number; changing status without number",
    ):
        order.update(status="paid")
    with pytest.raises(QueryError, match=r"; computing number from the stored value would"):
        KtOrder.update_by_key(
            {"customer": "c1", "order_id": "o1"}, status="x", number=F("number") + 1
        )
    assert KtOrder.get(customer="c1", order_id="o1") == order


def test_changing_the_whole_index_key_is_allowed(order: KtOrder) -> None:
    order.update(status="paid", number=4)
    assert KtOrder.where(status="paid", number=4).first() == order


def test_save_rebuilds_the_index_key_whole(order: KtOrder) -> None:
    order.status = "sent"
    order.save()
    assert [found.order_id for found in KtOrder.where(status="sent", number=3)] == ["o1"]


def test_fields_outside_index_keys_change_freely(order: KtOrder) -> None:
    order.update(note="hello")
    assert KtOrder.get(customer="c1", order_id="o1").note == "hello"  # type: ignore[union-attr]


def test_the_error_names_the_model_and_index() -> None:
    with pytest.raises(QueryError) as raised:
        KtOrder.update_by_key({"customer": "c", "order_id": "o"}, number=1)
    assert re.search(r"^KtOrder\.update_by_key\(\): index 'ktgsi'", str(raised.value))
