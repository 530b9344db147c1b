"""GOV.UK's 2020-2024 data folded into the built directory (directory/later.py), with the real
files as fixtures; addresses in each country's order (directory/address.py); routes of the result."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from campaign.data.models import Mission
from campaign.directory import address, build, content
from campaign.records import routes
from support.builders import FIXTURES, run

LATER = FIXTURES / "later"


@pytest.fixture(scope="module")
def built() -> dict[str, dict]:
    text = build.build(LATER / "missions.yaml")
    return {m["id"]: m for m in yaml.safe_load(text)["missions"]}


def addresses(mission: dict) -> dict[str, str]:
    return {e["address"]: e["kind"] for e in mission.get("emails", [])}


def test_fco_addresses_become_fcdo_only_where_a_source_names_them(built: dict[str, dict]) -> None:
    ottawa = built["ca-ottawa"]
    assert addresses(ottawa) == {"ukincanada@fcdo.gov.uk": "general"}
    assert ottawa["emails"][0]["source"]["repo"] == "alphagov/smart-answers"
    moscow = addresses(built["ru-moscow"])
    assert moscow == {"ukinrussia@fcdo.gov.uk": "general", "RussiaConsular@fcdo.gov.uk": "consular",
                      "Media.Moscow@fcdo.gov.uk": "press"}
    lima = addresses(built["pe-lima"])
    assert lima["lima.escalations@fcdo.gov.uk"] == "consular"  # new, in a consular service's page
    assert lima["peru.consulate@fco.gov.uk"] == "consular"  # no source for its fcdo form: kept as published
    # nothing invented: every fcdo address of the result is in the 2020-2024 files
    published = "".join(p.read_text(encoding="utf-8") for p in (LATER / "govuk-2020-2024").iterdir())
    made = {a for m in built.values() for a in addresses(m) if a.endswith("@fcdo.gov.uk")}
    assert made and all(a in published for a in made)


def test_newer_contact_blocks_update_address_phones_form_and_date(built: dict[str, dict]) -> None:
    manila = built["ph-manila"]
    assert manila["address"] == "British Embassy Manila\n120 Upper McKinley Road, McKinley Hill\nTaguig City\n1634 Manila\nPhilippines"
    assert manila["verified"] == "2022-08-29" and manila["contact_form"] == "https://www.gov.uk/contact-consulate-manila"
    assert {"label": "Telephone", "number": "+63288582200"} in manila["phones"]  # the 8-digit Manila number of 2019
    assert manila["source"][-1]["path"] == "content_schemas/examples/worldwide_office/frontend/worldwide_office.json"
    assert addresses(manila) == {"ukinthephilippines@fco.gov.uk": "general"}  # the 2022 contact still says fco
    hyderabad = built["in-hyderabad"]
    assert addresses(hyderabad) == {"web.newdelhi@fcdo.gov.uk": "general"}  # from the contact's own description
    assert hyderabad["emails"][0]["source"]["url"].startswith(
        "https://github.com/alphagov/publishing-api/blob/f00928381c5c28cb8413326e32d375ebcba00f68/")
    assert hyderabad["address"] == "2nd Floor, Taj Deccan Hotel\nRoad No.1, Banjara Hills\nHyderabad 500 034\nIndia"
    assert built["om-muscat"]["contact_form"].endswith("post=British%20Embassy%20Muscat")
    assert built["es-madrid"]["verified"] == "2023-05-25"  # its 2023 contact is in the source already
    assert list(built["ph-manila"]) == [k for k in build.ORDER if k in built["ph-manila"]]


def test_routes_of_the_built_records(built: dict[str, dict]) -> None:
    found = {i: routes.route(Mission.model_validate(m)) for i, m in built.items()}
    assert found["ca-ottawa"] == routes.Route("email", "ukincanada@fcdo.gov.uk")
    assert found["in-hyderabad"].kind == "email"
    assert found["ph-manila"].kind == "form" and "retired fco.gov.uk" in found["ph-manila"].skipped[0]
    assert found["pe-lima"].kind == "email" and found["pe-lima"].consular
    assert not any(routes.retired_domain(r.address) for r in found.values() if r.address)


def test_the_repository_directory_is_the_build_of_its_sources(tmp_path: Path) -> None:
    """data/missions.yaml holds emails with kinds, never the old single `email` field."""
    data = yaml.safe_load((FIXTURES.parent.parent / "data/missions.yaml").read_text(encoding="utf-8"))["missions"]
    assert not any("email" in m for m in data)
    kinds = {e["kind"] for m in data for e in m.get("emails", [])}
    assert kinds == {"general", "consular", "press", "other"}
    assert all("source" in e for m in data for e in m.get("emails", []) if e["address"].endswith("@fcdo.gov.uk")
               and m["id"] not in ("in-new-delhi",))


@pytest.mark.parametrize(("country", "fields", "expected"), [
    ("ES", {"street": "Paseo de la Castellana 259D", "city": "Madrid", "postcode": "28046", "country_name": "Spain"},
     "Paseo de la Castellana 259D\n28046 Madrid\nSpain"),
    ("US", {"street": "3100 Massachusetts Ave NW", "city": "Washington", "region": "DC", "postcode": "20008"},
     "3100 Massachusetts Ave NW\nWashington, DC 20008"),
    ("GB", {"name": "FCDO", "street": "King Charles Street", "city": "London", "postcode": "SW1A 2AH"},
     "FCDO\nKing Charles Street\nLondon\nSW1A 2AH"),
    ("JP", {"street": "1 Ichiban-cho, Chiyoda-ku", "city": "Tokyo", "postcode": "102-8381", "country_name": "Japan"},
     "1 Ichiban-cho, Chiyoda-ku, Tokyo\n102-8381\nJapan"),
    ("ZZ", {"street": "Somewhere 1", "city": "Nowhere", "postcode": "123"}, "Somewhere 1\n123 Nowhere"),
    ("PT", {}, None),
])
def test_postal_addresses_follow_each_countrys_order(country: str, fields: dict[str, str], expected: str | None) -> None:
    assert address.postal(country, **fields) == expected


def test_a_real_content_item_reads_in_country_order() -> None:
    """GOV.UK's own example item (its real shape): the main office's contact, Spain's order."""
    raw = json.loads((LATER / "govuk-2020-2024/worldwide_organisation__frontend__worldwide_organisation.json").read_text())
    org = content.parse_organisation(raw, "uk-embassy-in-country", "https://www.gov.uk/api/content/world/organisations/x")
    assert org.contact is not None and org.contact.title == "British Embassy Madrid"
    assert org.contact.address is not None and re.search(r"\n28046 Madrid\nSpain$", org.contact.address)
    assert ("Telephone", "+34 91 714 6300 / +44 20 7008 5000") in org.contact.phones


def test_the_build_command_reads_the_later_folder_beside_its_source(tmp_path: Path) -> None:
    out = tmp_path / "missions.yaml"
    result = run(tmp_path, "missions", "build", str(LATER / "missions.yaml"), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "ukincanada@fcdo.gov.uk" in out.read_text(encoding="utf-8")


def test_consular_mailboxes_are_a_route_unless_the_campaign_leaves_them_out(built: dict[str, dict], repo: Path) -> None:
    from campaign.data import dataset

    dispatch = dataset.load(repo).campaign.dispatch  # type: ignore[union-attr]
    lima = Mission.model_validate(built["pe-lima"])
    assert routes.route(lima, dispatch) == routes.Route("email", "lima.escalations@fcdo.gov.uk", consular=True,
                                                        skipped=routes.route(lima, dispatch).skipped)
    strict = dispatch.model_copy(update={"consular": False})
    left_out = routes.route(lima, strict)
    assert left_out.kind != "email" and any("consular mailbox (dispatch.consular is off)" in s for s in left_out.skipped)
    assert routes.route(Mission.model_validate(built["ca-ottawa"]), strict).kind == "email"  # a general inbox
