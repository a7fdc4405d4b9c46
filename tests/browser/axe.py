"""axe-core, served by the app itself under /static, run inside a Playwright page: the serious and
critical accessibility violations of what the page shows at that moment."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

AXE_PATH = "/static/axe-core/axe.min.js"
BLOCKING = ("serious", "critical")
SHOWN_TARGETS = 3


def axe_violations(page: Page, base_url: str) -> list[dict[str, Any]]:
    """The serious or critical violations axe finds in the page's current document."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=base_url + AXE_PATH)
    violations: list[dict[str, Any]] = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)"
    )
    return [v for v in violations if v.get("impact") in BLOCKING]


def summary(violations: list[dict[str, Any]]) -> str:
    """One readable block per violation: rule, impact, help and the first target selectors."""
    lines = []
    for v in violations:
        nodes = v.get("nodes", [])
        targets = [" ".join(map(str, node.get("target", []))) for node in nodes[:SHOWN_TARGETS]]
        more = f" (+{len(nodes) - SHOWN_TARGETS})" if len(nodes) > SHOWN_TARGETS else ""
        why = nodes[0].get("failureSummary", "").replace("\n", " ") if nodes else ""
        lines.append(
            f"- {v['id']} [{v.get('impact')}] {v.get('help')} — {v.get('helpUrl', '')}\n"
            f"    {len(nodes)} élément(s) / element(s): {', '.join(targets)}{more}\n"
            f"    {why}"
        )
    return "\n".join(lines)


def assert_accessible(page: Page, base_url: str, name: str) -> None:
    """Fail with the list of the page's serious / critical axe violations, if any."""
    violations = axe_violations(page, base_url)
    assert not violations, (
        f"{name} : {len(violations)} règle(s) axe non respectée(s) (serious/critical) / "
        f"axe violations:\n{summary(violations)}"
    )
