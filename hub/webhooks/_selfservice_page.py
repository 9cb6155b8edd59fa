"""The self-service page's HTML: one Jinja2 template, every value autoescaped, no script at all.

Kept as a string here rather than a template file so it ships with the package without package-data rules.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from jinja2 import Environment, StrictUndefined

# autoescape=True for every template of this environment: nothing a partner sends (file name, segments,
# offending values) can become markup. StrictUndefined: a missing value is a bug, not an empty string.
_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)

_PAGE = _ENV.from_string("""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Check an X12 file - {{ partner_id }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1b1f24; }
pre { background: #f4f5f7; padding: 1rem; overflow-x: auto; white-space: pre; font-size: 0.85rem; }
.outcome { padding: 0.6rem 1rem; border-radius: 4px; font-weight: 600; }
.accepted { background: #dcf5e3; } .not-accepted { background: #fbe1e1; } .error { background: #fff1d6; }
label { display: block; margin: 0.6rem 0 0.2rem; } .note { color: #57606a; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>Check an X12 file</h1>
<p>Partner <strong id="partner">{{ partner_id }}</strong>. Upload an X12 file to see what our hub would make of it
and the acknowledgment (997, 999 or TA1) we would send back. Nothing is processed for real: no order is created,
no acknowledgment is sent, and the file is not kept.</p>
{% if error %}
<p class="outcome error" id="error" role="alert">{{ error }}</p>
{% endif %}
{% if report is not none %}
<section id="result">
<h2>Result for {{ report.file_label }}</h2>
<p class="outcome {{ 'accepted' if report.accepted else 'not-accepted' }}" id="outcome">
{{ report.headline }}</p>
<h3>Validation report</h3>
<pre id="report">{{ report.text }}</pre>
{% if report.truncated %}
<p class="note" id="truncated">The report was cut after {{ report.shown_chars }} characters
(of {{ report.total_chars }}).</p>
{% endif %}
{% if report.acks %}
<h3>What we would send you</h3>
{% for ack in report.acks %}
<h4>{{ ack.kind }} as {{ ack.file_name }}</h4>
<pre class="ack" id="ack-{{ loop.index }}">{{ ack.text }}</pre>
<p><a class="download" id="download-{{ loop.index }}" download="{{ ack.file_name }}"
href="{{ ack.data_url }}">Download {{ ack.file_name }}</a></p>
{% endfor %}
{% else %}
<p id="no-ack">We would send no acknowledgment for this file
{%- if report.not_x12 %}: it is not an X12 interchange{% endif %}.</p>
{% endif %}
</section>
{% endif %}
<h2>{{ 'Check another file' if report is not none else 'Upload a file' }}</h2>
<form method="post" enctype="multipart/form-data">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label for="file">X12 file (up to {{ limit }})</label>
<input type="file" id="file" name="file" required>
{% if token_required %}
<label for="token">Access token (from your contact at our company)</label>
<input type="password" id="token" name="token" autocomplete="current-password" required>
{% endif %}
<p><button type="submit" id="check">Check the file</button></p>
</form>
<p class="note">Files up to {{ limit }}. The report is the same as our command <code>hub edi validate</code> prints;
the acknowledgments show placeholder control numbers.</p>
</body>
</html>
""")


@dataclass
class AckView:
    """One acknowledgment we would send, as shown and offered for download."""

    kind: str
    file_name: str
    text: str

    @property
    def data_url(self) -> str:
        """The ack as a ``data:`` URL: downloadable without keeping anything on the server."""
        return "data:text/plain;charset=utf-8;base64," + base64.b64encode(self.text.encode()).decode("ascii")


@dataclass
class ReportView:
    """What the page shows about one upload."""

    file_label: str
    accepted: bool
    headline: str
    text: str
    not_x12: bool = False
    acks: list[AckView] = field(default_factory=list)
    truncated: bool = False
    shown_chars: int = 0
    total_chars: int = 0


def render_page(*, partner_id: str, csrf: str, limit: str, token_required: bool, report: ReportView | None = None,
                error: str | None = None) -> str:
    """The page: the upload form, with the last upload's report or an error above it."""
    return _PAGE.render(partner_id=partner_id, csrf=csrf, limit=limit, token_required=token_required,
                        report=report, error=error)
