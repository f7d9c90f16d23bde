"""Accessibility checks for browser tests: axe-core (vendored in tests/browser/static/axe, served to
the page under test on its own origin, so the site's CSP of 'self' stays on) plus the ARIA id
references axe does not check strictly: every id named by aria-describedby/-labelledby exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE_FILE = Path(__file__).parent / "static" / "axe" / "axe.min.js"
AXE_PATH = "/__tests__/axe.min.js"  # never a route of the product: the test's browser answers it

RUN_AXE = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary)
  }));
}"""

MISSING_REFERENCES = """() => {
  const missing = [];
  for (const attr of ["aria-describedby", "aria-labelledby", "aria-controls"]) {
    for (const el of document.querySelectorAll("[" + attr + "]")) {
      for (const id of el.getAttribute(attr).split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) missing.push(attr + "=" + id + " on #" + (el.id || el.tagName));
      }
    }
  }
  for (const list of document.querySelectorAll("ul.errorlist")) {
    if (list.getAttribute("role") === "alert") missing.push("ul.errorlist with role=alert");
    if (!list.id) missing.push("ul.errorlist without an id");
  }
  return missing;
}"""


def serve_axe(context: Any) -> None:
    """Answer AXE_PATH on any origin from the vendored file (call once per browser context)."""
    body = AXE_FILE.read_bytes()
    context.route(
        f"**{AXE_PATH}",
        lambda route: route.fulfill(status=200, body=body, content_type="application/javascript"),
    )


def check_accessibility(page: Any, state: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation, no dangling ARIA ids."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        origin = page.evaluate("() => location.origin")
        page.add_script_tag(url=origin + AXE_PATH)
    violations = page.evaluate(RUN_AXE)
    serious = [v for v in violations if v["impact"] in {"serious", "critical"}]
    assert not serious, f"axe-core, {state}: " + "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n    " + "\n    ".join(v["nodes"]) for v in serious
    )
    missing = page.evaluate(MISSING_REFERENCES)
    assert not missing, f"ARIA references, {state}: {missing}"


def wider_than_the_page(page: Any) -> list[str]:
    """Elements that stick out past the right edge (what makes a page scroll sideways); [] if none."""
    return list(
        page.evaluate(
            """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  const out = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    let clipped = false;
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      const style = getComputedStyle(p);
      if (style.overflowX !== "visible") { clipped = true; break; }
    }
    const name = el.tagName + (el.id ? "#" + el.id : "") + "." + el.className;
    if (!clipped && box.right > width + 1) out.push(name + " right=" + Math.round(box.right));
  }
  if (!out.length) out.push("document scrollWidth " + document.documentElement.scrollWidth + " > " + width);
  return out.slice(0, 8);
}"""
        )
    )


def no_sideways_scroll(page: Any) -> bool:
    offenders = wider_than_the_page(page)
    assert not offenders, f"scrolls sideways at {page.viewport_size}: {offenders}"
    return True
