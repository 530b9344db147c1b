"""The doctor's `letters` check: the letter renders for every mission in every language the
campaign declares; anything that does not render blocks.

English is the letter every mission reads first; a signer's own language follows it
(`letter.parts`, when `dispatch.translations` is on). So for each mission, and each language
with a translation (a stub falls back to English), the check renders that language's text for
the mission, then the letter as dispatch makes it for a sample signer who signed in that
language: an email where the route is mailed (`dispatch.compose`), its text otherwise.
Validation renders one sample mission only; a branch of a template that another mission takes
is caught here. A declared language without its letter is the `data` check's (validation
reports it).
"""

from __future__ import annotations

from types import TracebackType

from campaign.core.errors import CampaignError, Problem
from campaign.data import letter
from campaign.data.dataset import MISSIONS
from campaign.data.models import Mission, Signature
from campaign.data.translations import LetterFile, translated
from campaign.dispatch import compose
from campaign.launch.context import BLOCK, Context, Found
from campaign.records.routes import Route

SIGNER = "A. Sample Signer"


def _sample(ctx: Context, mission: Mission, lang: str) -> Signature:
    return Signature.model_validate({
        "type": "individual", "name": SIGNER, "country": mission.country, "mission": mission.id,
        "signed": ctx.campaign.dispatch.date, "publish": False, "letter": True, "source": "form",
        **({"language": lang} if lang != ctx.campaign.languages[0] else {})})


def _template_line(exc: BaseException) -> int:
    """The template line an error was raised at (Jinja puts the template's frames in the traceback)."""
    line = getattr(exc, "lineno", None) or 1
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render(ctx: Context, lf: LetterFile, mission: Mission, way: Route) -> None:
    """`lf`'s text for `mission`, then the letter as dispatch makes it for a signer in `lf`'s language."""
    c, ds = ctx.campaign, ctx.ds
    english, template = letter.template_for(ds.letters, c)
    if lf.lang != english:
        letter.part(lf, c, mission, SIGNER)
    sample = (_sample(ctx, mission, lf.lang),)
    if way.mailed:
        compose.compose(c, template, mission, sample, "doctor", letter.version(template, c.dispatch.subject), lang=english,
                        to=way.address, fallback=way.kind == "fallback", files=ds.letter_files, words=ctx.words)
    else:
        letter.text(letter.parts(ds.letter_files, c, mission, sample, ctx.words))


def letters(ctx: Context) -> Found:
    """The letter renders for every mission in every declared language that has its letter."""
    files = [ctx.ds.letter_files[lang] for lang in ctx.campaign.languages if lang in ctx.ds.letter_files]
    found: Found = []
    failed: dict[tuple[str, int, str], list[str]] = {}
    for rec, way in ctx.routes:
        for lf in files:
            if lf is not files[0] and not translated(lf):
                continue  # a stub: its signers read the English letter
            try:
                _render(ctx, lf, rec.model, way)
            except CampaignError as exc:  # a header that cannot be built for this mission
                found.append((BLOCK, Problem(MISSIONS, rec.line(""), f"{rec.model.id}: its letter cannot be composed: "
                                                                       f"{exc.message}")))
                break
            except Exception as exc:  # noqa: BLE001 - a template is data: whatever it raises is its problem
                said = f"{type(exc).__name__}: {exc}"
                failed.setdefault((lf.path, lf.offset + _template_line(exc), said), []).append(rec.model.id)
                if lf is files[0]:
                    break  # every other language starts with the English letter
    for (path, line, said), missions in failed.items():
        shown = ", ".join(missions[:5]) + (f" and {len(missions) - 5} more" if len(missions) > 5 else "")
        found.append((BLOCK, Problem(path, line, f"the letter does not render for {len(missions)} of {len(ctx.routes)} "
                                                 f"missions ({shown}): {said}; fix the template (`campaign letter "
                                                 f"--mission {missions[0]}` previews that mission's letter)")))
    return found
