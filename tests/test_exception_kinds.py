"""The exception kinds are one catalogue: ExceptionKind, each member documented, the documentation naming each."""

from __future__ import annotations

import ast
from pathlib import Path

from hub import store as st
from hub.delivery._acks import ACK_NOT_SENT
from hub.intake import INTAKE_NOT_FINISHED, QUARANTINED_FILE, QUARANTINED_FOLDER, REJECTED_ORDER, UNREADABLE_PAGE

REPO = Path(__file__).resolve().parent.parent


def test_the_modules_kind_constants_are_the_members():
    assert REJECTED_ORDER is st.ExceptionKind.REJECTED_ORDER
    assert UNREADABLE_PAGE is st.ExceptionKind.UNREADABLE_PAGE
    assert QUARANTINED_FILE is st.ExceptionKind.QUARANTINED_FILE
    assert QUARANTINED_FOLDER is st.ExceptionKind.QUARANTINED_FOLDER
    assert INTAKE_NOT_FINISHED is st.ExceptionKind.INTAKE_NOT_FINISHED
    assert ACK_NOT_SENT is st.ExceptionKind.ACK_NOT_SENT


def _documented_members() -> dict[str, bool]:
    """Member name -> whether a docstring follows its assignment in ``class ExceptionKind``."""
    tree = ast.parse((REPO / "hub" / "store" / "_exceptions.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ExceptionKind"]
    documented: dict[str, bool] = {}
    for statement, following in zip(cls.body, [*cls.body[1:], None], strict=True):
        if isinstance(statement, ast.Assign):
            (target,) = statement.targets
            assert isinstance(target, ast.Name)
            documented[target.id] = (isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                                     and isinstance(following.value.value, str))
    return documented


def test_every_kind_has_its_docstring():
    documented = _documented_members()
    assert set(documented) == {member.name for member in st.ExceptionKind}
    assert [name for name, has_doc in documented.items() if not has_doc] == []


def test_the_data_model_names_every_kind():
    text = (REPO / "docs" / "data-model.md").read_text()
    catalogue = text[text.index("Exception kinds ("):].split("\n\n")[0]  # its paragraph
    assert [kind.value for kind in st.ExceptionKind if f"`{kind.value}`" not in catalogue] == []
