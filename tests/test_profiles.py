"""Partner profiles: channels as a tagged list, and one bad file reported by name and field without hiding
the others."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Literal

import dagster as dg
import pytest

from canonical.errors import ConfigurationError
from hub.cli import main
from mappings.profiles import (
    ChannelSettings,
    PartnerDirectory,
    PartnerProfile,
    ShopifyProfile,
    X12SftpChannel,
    register_channel_kind,
)

REPO = Path(__file__).resolve().parent.parent
PARTNERS = REPO / "mappings" / "partners"
SAMPLES = REPO / "sandbox" / "samples"


@pytest.fixture
def partners(tmp_path) -> Path:
    folder = tmp_path / "partners"
    shutil.copytree(PARTNERS, folder)
    return folder


def break_field(path: Path, line_start: str, replacement: str) -> None:
    lines = path.read_text().splitlines()
    (index,) = [i for i, line in enumerate(lines) if line.startswith(line_start)]
    lines[index] = replacement
    path.write_text("\n".join(lines) + "\n")


def test_every_partner_lists_its_channels_by_kind():
    directory = PartnerDirectory.load(PARTNERS)
    assert directory.problems == []
    kinds = {p.id: [c.kind for c in p.channels] for p in directory}
    assert kinds["acme"] == ["x12_sftp"] and kinds["trailhead"] == ["shopify"] and kinds["marketplace_us"] == ["amazon"]
    acme = directory.get("acme")
    assert isinstance(acme.channel("x12_sftp"), X12SftpChannel) and acme.sftp.inbox == "acme/inbox"
    assert acme.shopify is None and directory.get("trailhead").x12 is None
    assert PartnerProfile.model_validate(acme.model_dump()) == acme, "a profile dumps and loads back whole"


def test_a_name_that_yaml_reads_as_a_number_is_reported_and_the_others_load(partners, caplog):
    break_field(partners / "bluebird.yaml", "name:", "name: 2024")
    with caplog.at_level(logging.ERROR):
        directory = PartnerDirectory.load(partners)
    assert "bluebird" not in {p.id for p in directory} and "acme" in {p.id for p in directory}
    (problem,) = directory.problems
    assert (problem.file, problem.field, problem.partner_id) == ("bluebird.yaml", "name", "bluebird")
    assert "partner profile bluebird.yaml, field name: Input should be a valid string" in caplog.text
    with pytest.raises(ConfigurationError, match=r"partner 'bluebird' is not loaded: .*bluebird\.yaml, field name"):
        directory.get("bluebird")
    with pytest.raises(ConfigurationError, match=r"bluebird\.yaml"):
        directory.check()


def test_hub_map_works_for_the_other_partners_when_one_profile_is_bad(partners, monkeypatch, capsys, caplog):
    break_field(partners / "bluebird.yaml", "name:", "name: 2024")
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(partners))
    with caplog.at_level(logging.ERROR):
        assert main(["map", "--source", "x12", str(SAMPLES / "acme_po_4500012345.x12")]) == 0
    (printed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed["outcome"] == "accepted"
    assert "bluebird.yaml, field name" in caplog.text, "the bad file is named, with its field"


def test_the_dagster_definitions_load_the_good_partners_and_list_the_bad_file(partners, monkeypatch):
    break_field(partners / "bluebird.yaml", "name:", "name: 2024")
    for key, value in {"HUB_DATABASE_URL": "sqlite:///:memory:", "HUB_ERP_URL": "http://127.0.0.1:9"}.items():
        monkeypatch.setenv(key, value)
    from hub.defs import build_definitions

    defs = build_definitions(partners)
    sensors = {s.name for s in defs.get_repository_def().sensor_defs}
    assert "sftp_inbox_acme" in sensors and "sftp_inbox_bluebird" not in sensors
    assert "shopify_trailhead_sync" in {j.name for j in defs.get_repository_def().get_all_jobs()}
    assert defs.metadata["partner_profile_problems"] == dg.MetadataValue.json(
        ["partner profile bluebird.yaml, field name: Input should be a valid string"])


@pytest.mark.parametrize(("channel", "field", "message"), [
    ("  - kind: shopifyy", "channels[0].kind", "unknown channel kind 'shopifyy'; known kinds: "),
    ("  - kind:", "channels[0].kind", "unknown channel kind None"),
    ("  - kind: amazon", "channels[0].seller_id", "Field required"),
])
def test_a_channel_is_checked_by_its_kind_first_then_by_that_kinds_settings(partners, channel, field, message):
    break_field(partners / "trailhead.yaml", "  - kind: shopify", channel)
    directory = PartnerDirectory.load(partners)
    problems = [p for p in directory.problems if p.file == "trailhead.yaml"]
    assert problems and problems[0].field == field and problems[0].message.startswith(message), problems
    assert len(directory) == len(list(PARTNERS.glob("*.yaml"))) - 1, "every other profile loads"


def test_a_file_that_clashes_with_another_is_left_out_and_named(partners):
    data = (partners / "acme.yaml").read_text().replace("id: acme", "id: acme2")
    (partners / "zz_acme_copy.yaml").write_text(data)  # same ISA sender and SFTP folders as acme
    directory = PartnerDirectory.load(partners)
    (problem,) = directory.problems
    assert problem.file == "zz_acme_copy.yaml" and "share SFTP folders" in problem.message
    assert directory.get("acme").id == "acme"


def test_one_channel_of_each_kind_per_profile():
    shop = {"kind": "shopify", "shop_domain": "a.myshopify.com", "access_token_env": "T", "webhook_secret_env": "W"}
    with pytest.raises(ValueError, match="shopify is listed twice"):
        PartnerProfile(id="p", name="P", channels=[shop, {**shop, "shop_domain": "b.myshopify.com"}])


def test_a_new_channel_kind_brings_its_own_settings_model():
    class Mailbox(ChannelSettings):
        kind: Literal["test_mailbox"] = "test_mailbox"
        address: str

    register_channel_kind(Mailbox)
    profile = PartnerProfile(id="m", name="M", channels=[{"kind": "test_mailbox", "address": "orders@example.com"}])
    assert isinstance(profile.channel("test_mailbox"), Mailbox)
    with pytest.raises(ValueError, match=r"channels\.0\.address"):
        PartnerProfile(id="m", name="M", channels=[{"kind": "test_mailbox"}])

    class Impostor(ChannelSettings):
        kind: Literal["shopify"] = "shopify"

    with pytest.raises(ConfigurationError, match="registered already"):
        register_channel_kind(Impostor)
    assert register_channel_kind(ShopifyProfile) is ShopifyProfile, "registering the same model again is harmless"


def test_a_file_that_is_not_yaml_is_named_in_one_line(partners):
    (partners / "broken.yaml").write_text("id: broken\nchannels:\n  - {}\n    kind: x\n")
    directory = PartnerDirectory.load(partners)
    (problem,) = directory.problems
    assert problem.file == "broken.yaml" and "\n" not in str(problem) and "line 4" in problem.message
    assert len(directory) == len(list(PARTNERS.glob("*.yaml"))), "every sandbox profile still loads"


def test_hub_map_says_why_the_only_account_of_a_source_is_missing(partners, monkeypatch):
    break_field(partners / "trailhead.yaml", "name:", "name: 2024")
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(partners))
    page = REPO / "tests" / "data" / "shopify" / "orders_page_multicurrency.json"
    with pytest.raises(SystemExit, match=r"profiles: none\); not loaded: partner profile trailhead\.yaml, field name"):
        main(["map", "--source", "shopify", str(page)])


def test_a_profile_with_the_old_sections_says_where_they_moved(partners):
    (partners / "old.yaml").write_text("id: old\nname: Old\nshopify: {shop_domain: old.myshopify.com}\n")
    (problem,) = PartnerDirectory.load(partners).problems
    assert (problem.file, problem.field) == ("old.yaml", "shopify")
    assert problem.message == "move it into the channels list: channels: [{kind: shopify, ...}]"


def test_a_channel_kind_without_a_source_is_skipped_by_the_definitions_not_fatal(caplog):
    from hub.sources import accounts

    class Fax(ChannelSettings):
        kind: Literal["test_fax"] = "test_fax"

    register_channel_kind(Fax)
    shop = {"kind": "shopify", "shop_domain": "a.myshopify.com", "access_token_env": "T", "webhook_secret_env": "W"}
    profile = PartnerProfile(id="p", name="P", channels=[{"kind": "test_fax"}, shop])
    with caplog.at_level(logging.ERROR):
        found = [(source.kind, settings.kind) for source, _, settings in accounts(PartnerDirectory([profile]))]
    assert found == [("shopify", "shopify")]
    assert "no source reads channels of kind 'test_fax'" in caplog.text
