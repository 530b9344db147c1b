"""Letters as email: plain text and escaped HTML, who is named, Message-ID, header checks."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from pathlib import Path

import pytest

from campaign.core.errors import LetterError
from campaign.data import dataset, letter
from campaign.data.models import Campaign, Mission, Signature
from campaign.dispatch import compose as mime
from campaign.mail import header_problem


@pytest.fixture
def ctx(repo: Path) -> tuple[Campaign, str, dict[str, Mission]]:
    ds = dataset.load(repo)
    assert ds.campaign is not None
    return ds.campaign, ds.letters["en"], ds.mission_by_id


def sig(name: str, country: str = "PT", consent: bool = True, kind: str = "individual") -> Signature:
    return Signature.model_validate({"type": kind, "name": name, "country": country, "mission": "pt-lisbon",
                                     "signed": "2026-11-20", "publish": consent, "letter": consent, "source": "form"})


def compose(ctx: tuple[Campaign, str, dict[str, Mission]], sigs: list[Signature], mission: str = "pt-lisbon", **kw: object):  # type: ignore[no-untyped-def]
    campaign, template, missions = ctx
    return mime.compose(campaign, template, missions[mission], sigs, "s-0123456789abcdef",
                          letter.version(template, campaign.dispatch.subject), **kw)  # type: ignore[arg-type]


def test_signer_lines() -> None:
    assert letter.signer_line(sig("Ana Pereira")) == "Ana Pereira, Portugal"
    assert letter.signer_line(sig("Ana Pereira", consent=False)) == "A resident of Portugal"
    assert letter.signer_line(sig("Press Org", consent=False, kind="organisation")) == "An organisation based in Portugal"


def test_a_hostile_name_is_plain_text_and_escaped_in_html(ctx) -> None:  # type: ignore[no-untyped-def]
    name = '<script>alert(1)</script> **Bold** [x](https://evil.example) & "Q"'
    msg = compose(ctx, [sig(name)])
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    assert name in plain
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "**Bold** [x](https://evil.example) &amp; &#34;Q&#34;" in html  # as letter.as_html escapes it
    assert "<a " not in html and "<strong>" not in html


def test_html_keeps_paragraphs_and_the_numbered_list(ctx) -> None:  # type: ignore[no-untyped-def]
    html = compose(ctx, [sig("Ana Pereira")]).get_body(("html",)).get_content()
    assert html.count("<li>") == 4 and "<ol>" in html and html.count("<p>") > 5
    assert '<html lang="en">' in html


def test_the_message_round_trips_through_bytes(ctx) -> None:  # type: ignore[no-untyped-def]
    msg = compose(ctx, [sig("Zoë Ørsted-Łukasz 明")], when=dt.datetime(2026, 12, 10, 9, tzinfo=dt.timezone.utc))
    back = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    assert back["Date"] == "Thu, 10 Dec 2026 09:00:00 +0000"
    assert back.get_content_type() == "multipart/alternative"
    assert "Zoë Ørsted-Łukasz 明, Portugal" in back.get_body(("plain",)).get_content()
    assert back.get_body(("plain",))["Content-Transfer-Encoding"] == "quoted-printable"
    assert header_problem(msg) is None


def test_message_id_is_deterministic_and_changes_with_the_letter_version(ctx) -> None:  # type: ignore[no-untyped-def]
    campaign, template, _ = ctx
    v1 = letter.version(template, campaign.dispatch.subject)
    assert mime.message_id(campaign, "s-1", v1) == mime.message_id(campaign, "s-1", v1)
    assert mime.message_id(campaign, "s-1", v1) == f"<free-assange.20261210.s-1.{v1}@free-assange.example.org>"
    v2 = letter.version(template + "P.S.\n", campaign.dispatch.subject)
    assert v1 != v2
    assert compose(ctx, [sig("A")])["Message-ID"] == compose(ctx, [sig("B")])["Message-ID"]  # same key


def test_a_given_message_id_is_kept(ctx) -> None:  # type: ignore[no-untyped-def]
    assert compose(ctx, [sig("A")], msgid="<old.1@free-assange.example.org>")["Message-ID"] == "<old.1@free-assange.example.org>"
    with pytest.raises(LetterError):
        compose(ctx, [sig("A")], msgid="<two@at@signs>\r\nBcc: x@y")


def test_per_mission_letter_lists_named_signatories_first_organisations(ctx) -> None:  # type: ignore[no-untyped-def]
    sigs = [sig("Zed"), sig("Anna"), sig("Hidden", consent=False), sig("Press", kind="organisation")]
    text = compose(ctx, sigs).get_body(("plain",)).get_content()
    assert "The 4 signatories listed below" in text
    listing = text[text.index("Signatories (4):"):]
    assert listing.splitlines()[2:] == ["- Press (organisation), Portugal", "- Anna (individual), Portugal",
                                         "- Zed (individual), Portugal",
                                         "- and 1 more signatory who asked not to be named in the letter"]
    assert "Hidden" not in text


@pytest.mark.parametrize(("field", "value"), [("subject", "Open\u202eletter"), ("subject", "Open\x1bletter"),
                                              ("mission", "British\nEmbassy")])
def test_control_characters_in_headers_are_refused(ctx, field: str, value: str) -> None:  # type: ignore[no-untyped-def]
    campaign, template, missions = ctx
    mission = missions["pt-lisbon"]
    if field == "subject":
        campaign = campaign.model_copy(update={"dispatch": campaign.dispatch.model_copy(update={"subject": value})})
    else:
        mission = mission.model_copy(update={"name": value})
    with pytest.raises(LetterError, match="control character|linefeed"):
        mime.compose(campaign, template, mission, [sig("A")], "s-1", "v")


def test_no_email_no_letter(ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LetterError, match="no email"):
        compose(ctx, [sig("A")], mission="no-oslo")


def test_the_opening_names_the_city_once(ctx) -> None:  # type: ignore[no-untyped-def]
    campaign, _, missions = ctx
    text = compose(ctx, [sig("Ana Pereira")], mission="no-oslo", to="oslo@example.org").get_body(("plain",)).get_content()
    assert text.startswith("To the British Embassy Oslo,\n") and "Oslo, Oslo" not in text
    washington = missions["us-washington"]
    assert letter.addressee(washington) == "British Embassy Washington"  # "Washington DC": not twice either
    office = washington.model_copy(update={"name": "British Embassy Office", "city": "Banja Luka"})
    assert letter.addressee(office) == "British Embassy Office, Banja Luka"
    nukualofa = missions["to-nukualofa"]
    assert letter.addressee(nukualofa) == "British High Commission Nuku'alofa"


def test_the_real_directory_opens_no_letter_with_a_doubled_city() -> None:
    from support.builders import ROOT

    ds = dataset.load(ROOT, use_cache=False)
    doubled = [m.id for m in (r.model for r in ds.missions) if f"{m.city}, {m.city}" in letter.addressee(m)
               or letter.addressee(m).count(m.city) > 1]
    assert not doubled


def test_html_paragraphs_join_lines_and_names_are_isolated(ctx) -> None:  # type: ignore[no-untyped-def]
    html = compose(ctx, [sig("\u05e9\u05e8\u05d4 \u05db\u05d4\u05df")]).get_body(("html",)).get_content()
    assert "<br>" not in html  # a paragraph, not hard line breaks in mid-sentence
    assert "<p>On this International Human Rights Day, the anniversary of the Universal Declaration of Human Rights, I ask" in html
    assert "<bdi>\u05e9\u05e8\u05d4 \u05db\u05d4\u05df</bdi>, Portugal" in html
    plain = compose(ctx, [sig("\u05e9\u05e8\u05d4 \u05db\u05d4\u05df")]).get_body(("plain",)).get_content()
    assert "\ue000" not in plain and "\u05e9\u05e8\u05d4 \u05db\u05d4\u05df, Portugal" in plain
    campaign, template, missions = ctx
    many = mime.compose(campaign, template, missions["pt-lisbon"], [sig("Ana Pereira"), sig("\u0639\u0644\u064a")], "m-pt-lisbon",
                        "v1").get_body(("html",)).get_content()
    assert "<li><bdi>\u0639\u0644\u064a</bdi> (individual), Portugal</li>" in many


def test_an_internationalised_domain_is_punycode_in_headers(ctx) -> None:  # type: ignore[no-untyped-def]
    msg = compose(ctx, [sig("Ana Pereira")], to="info@b\u00fccher.example")
    raw = msg.as_bytes()
    assert b"To: British Embassy Lisbon <info@xn--bcher-kva.example>" in raw and b"=?utf-8?" not in raw.split(b"\n\n")[0]
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert back["To"].addresses[0].domain == "xn--bcher-kva.example"


def test_the_to_header_folds_without_a_doubled_space(ctx) -> None:  # type: ignore[no-untyped-def]
    campaign, template, missions = ctx
    long = missions["pt-lisbon"].model_copy(update={"name": "BritishEmbassyLisbonAndItsConsularSectionWithAVeryLongNameIndeed"})
    for mission in (long, missions["pt-lisbon"]):
        raw = mime.compose(campaign, template, mission, [sig("Ana Pereira")], "s-1", "v1").as_bytes()
        head = raw.split(b"\n\n")[0].decode()
        to = head[head.index("To:"):].split("\nFrom:")[0].split("\nReply-To:")[0]
        assert "  " not in to.replace("\n ", "\n") and not to.startswith("To:  ") and not to.startswith("To:\n")


def test_a_fallback_letter_names_the_mission_and_a_rehearsal_keeps_the_recipient(ctx) -> None:  # type: ignore[no-untyped-def]
    campaign, template, missions = ctx
    data = campaign.model_dump(mode="json")
    data["dispatch"] |= {"fallback": {"name": "Central Correspondence", "email": "central@example.org",
                                      "source": {"url": "https://example.org/published-here"}},
                         "envelope": "bounces+{key}@example.org"}
    data["dispatch"]["send_time"] = data["dispatch"]["send_time"][:5]
    with_fallback = Campaign.model_validate(data)
    msg = mime.compose(with_fallback, template, missions["no-oslo"], [sig("Ana Pereira")], "s-1", "v1",
                       to="central@example.org", fallback=True)
    assert str(msg["To"]) == "Central Correspondence <central@example.org>"
    assert msg.get_body(("plain",)).get_content().startswith("[This letter is for the British Embassy Oslo (Oslo, Norway)")
    assert str(msg["Return-Path"]) == "<bounces+s-1@example.org>"
    assert mime.key_from_envelope(with_fallback, "bounces+s-1@example.org") == "s-1"
    assert mime.key_from_envelope(with_fallback, "someone@example.org") is None
    rehearsal = compose(ctx, [sig("Ana Pereira")], redirect="test@example.net")
    assert str(rehearsal["To"]) == "British Embassy Lisbon <test@example.net>"
    assert str(rehearsal["X-Campaign-Original-To"]) == "British Embassy Lisbon <lisbon.test@example.org>"


def test_the_fast_wire_form_is_what_the_email_generator_writes(ctx) -> None:  # type: ignore[no-untyped-def]
    import io
    from email.generator import BytesGenerator

    from campaign.mail.smtp import SmtpBackend, _raw_wire

    campaign, template, missions = ctx
    letters = [compose(ctx, [sig(n)]) for n in ("Ana Pereira", "Zoë Ørsted-Łukasz 明", "\u05e9\u05e8\u05d4")]
    letters.append(mime.compose(campaign, template, missions["pt-lisbon"], [sig("A"), sig("B", consent=False)], "m-pt-lisbon", "v1"))
    for msg in letters:
        buffer = io.BytesIO()
        BytesGenerator(buffer, policy=msg.policy.clone(linesep="\r\n")).flatten(msg, linesep="\r\n")
        assert _raw_wire(msg) == buffer.getvalue()
        assert SmtpBackend._data(msg, utf8=False).endswith(b"\r\n.\r\n")
    idn = compose(ctx, [sig("Ana")], to="info@b\u00fccher.example")
    assert _raw_wire(idn) is not None  # the address is punycode: still plain ASCII headers
