"""The dashboard's HTML templates, kept as strings so that they ship inside the package.

Every page extends ``base.html``: inline CSS, no scripts, no fonts or images fetched from
anywhere, so the dashboard works offline and behind a firewall.
"""

from __future__ import annotations

__all__ = ["TEMPLATES"]

_BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{% block title %}labelwise monitor{% endblock %}</title>
<style>
  :root { --ink: #1f2933; --muted: #616e7c; --line: #d9e2ec; --accent: #1f5f99; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--ink); background: #f7f9fb; }
  header { background: #102a43; color: #fff; padding: 0.7rem 1.5rem; display: flex;
           gap: 1.5rem; align-items: baseline; }
  header a { color: #fff; text-decoration: none; }
  header .brand { font-weight: 700; }
  main { max-width: 1200px; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
  h1 { font-size: 1.5rem; margin: 0.8rem 0; }
  h2 { font-size: 1.15rem; margin: 1.6rem 0 0.6rem; }
  a { color: var(--accent); }
  table { border-collapse: collapse; width: 100%; background: #fff; margin: 0.4rem 0 1rem; }
  th, td { border-bottom: 1px solid var(--line); padding: 0.35rem 0.6rem; text-align: left;
           vertical-align: top; }
  th { background: #eef2f6; font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  td.nowrap, th.nowrap { white-space: nowrap; }
  .scroll { overflow-x: auto; }
  .muted { color: var(--muted); }
  .sev { display: inline-block; padding: 0 0.5rem; border-radius: 0.7rem; font-size: 0.85rem;
         font-weight: 600; }
  .sev-ok { background: #d3f0dd; color: #17603a; }
  .sev-watch { background: #fff3c4; color: #6b5300; }
  .sev-warn { background: #ffe0b2; color: #7a3e00; }
  .sev-alert { background: #ffcdd2; color: #8e1b1b; }
  .sev-critical { background: #b71c1c; color: #fff; }
  .sev-unknown { background: #e4e7eb; color: #3e4c59; }
  .fired { color: #b71c1c; font-weight: 600; }
  .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr));
            gap: 1rem; }
  figure.chart { margin: 0; background: #fff; border: 1px solid var(--line); padding: 0.5rem; }
  figure.chart figcaption { font-weight: 600; margin-bottom: 0.3rem; }
  figure.chart svg { display: block; width: 100%; height: auto; }
  .notice { background: #fff8e1; border-left: 4px solid #f0b429; padding: 0.6rem 0.9rem;
            margin: 1rem 0; }
  .cards { display: flex; flex-wrap: wrap; gap: 0.8rem; margin: 0.6rem 0 1rem; }
  .card { background: #fff; border: 1px solid var(--line); padding: 0.5rem 0.9rem;
          min-width: 9rem; }
  .card .k { color: var(--muted); font-size: 0.8rem; }
  .card .v { font-size: 1.2rem; font-weight: 600; }
  footer { color: var(--muted); font-size: 0.8rem; padding: 1rem 1.5rem; text-align: center; }
  code { font-size: 0.85em; }
  .band { display: block; color: var(--muted); font-size: 0.8rem; }
</style>
</head>
<body>
<header>
  <a class="brand" href="/">labelwise monitor</a>
  <a href="/">Models</a>
  <a href="/alerts">Alerts</a>
</header>
<main>
{% block content %}{% endblock %}
</main>
<footer>Read-only view of <code>{{ store_label }}</code>{% if head %}
  &middot; chain head <code title="{{ head }}">{{ head[:16] }}</code>{% endif %}</footer>
</body>
</html>
"""

_SEVERITY = """{% macro badge(severity) -%}
<span class="sev sev-{{ severity if severity in severities else 'unknown' }}">{{
  severity or 'none' }}</span>
{%- endmacro %}
"""

_INDEX = """{% extends "base.html" %}
{% from "macros.html" import badge %}
{% block title %}Models · labelwise monitor{% endblock %}
{% block content %}
<h1>Monitored models</h1>
<section id="models">
{% if models %}
<table>
  <thead><tr><th>Model</th><th>Kind</th><th>Versions</th><th>Windows</th><th>Last window</th>
    <th>Composite</th><th>Last severity</th></tr></thead>
  <tbody>
  {% for m in models %}
  <tr>
    <td><a href="{{ m.url }}">{{ m.model }}</a></td>
    <td>{{ m.kind }}</td>
    <td>{{ m.versions | join(", ") }}</td>
    <td class="num">{{ m.n_windows }}</td>
    <td>{{ m.last_window or "—" }}</td>
    <td class="num">{{ fmt(m.last_composite) }}</td>
    <td>{{ badge(m.last_severity) }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="muted">No model has been checked yet. Run
<code>labelwise monitor check monitor.json WINDOW</code> to record a first window.</p>
{% endif %}
</section>
{% endblock %}
"""

_MODEL = """{% extends "base.html" %}
{% from "macros.html" import badge %}
{% block title %}{{ model }} · labelwise monitor{% endblock %}
{% block content %}
<h1>Model <code>{{ model }}</code></h1>
<div class="cards">
  <div class="card" id="kind"><div class="k">Kind</div><div class="v">{{ kind }}</div></div>
  {% if classes %}<div class="card" id="classes"><div class="k">Classes</div>
    <div class="v">{{ classes | length }}</div>
    <div class="muted">{{ classes | join(", ") }}</div></div>{% endif %}
  <div class="card"><div class="k">Windows</div><div class="v">{{ windows | length }}</div></div>
  <div class="card"><div class="k">Last severity</div>
    <div class="v">{{ badge(last.severity if last else None) }}</div></div>
  <div class="card"><div class="k">Last composite</div>
    <div class="v">{{ fmt(last.composite if last else None) }}</div></div>
  <div class="card"><div class="k">Alerts</div>
    <div class="v"><a href="{{ alerts_link }}">{{ n_alerts }}</a></div></div>
</div>

<section id="composite">
<h2>Composite score</h2>
<figure class="chart">
  <figcaption>Composite over windows, on the severity bands</figcaption>
  {{ composite_chart }}
</figure>
</section>

<section id="monitors">
<h2>Monitors</h2>
<p class="muted">Each line is a statistic per window; the dashed line of the same colour is its
alert threshold, and a shaded area its sampling band where one is recorded.</p>
<div class="charts">
{% for chart in monitor_charts %}
<figure class="chart" id="{{ chart.id }}">
  <figcaption>{{ chart.title }}</figcaption>
  {{ chart.svg }}
</figure>
{% endfor %}
</div>
</section>

<section id="windows">
<h2>Windows</h2>
<table>
  <thead><tr><th>Window</th><th>Start</th><th>End</th><th>Rows</th><th>Composite</th>
    <th>Severity</th><th>Fired</th></tr></thead>
  <tbody>
  {% for w in windows | reverse %}
  <tr>
    <td class="nowrap"><a href="{{ w.url }}">{{ w.window }}</a></td>
    <td class="nowrap">{{ w.start or "—" }}</td>
    <td class="nowrap">{{ w.end or "—" }}</td>
    <td class="num">{{ w.n_rows if w.n_rows is not none else "—" }}</td>
    <td class="num">{{ fmt(w.composite) }}</td>
    <td>{{ badge(w.severity) }}</td>
    <td>{{ w.fired | join(", ") if w.fired else "—" }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
</section>

<section id="reconciliations">
<h2>Late-label reconciliations</h2>
{% if reconciliations %}
<table>
  <thead><tr>{% for c in reconciliation_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for row in reconciliations %}
  <tr>{% for c in reconciliation_columns %}
    <td class="nowrap">{{ fmt(row[c]) }}</td>{% endfor %}</tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="muted">No labels have been reconciled for this model yet.</p>
{% endif %}
<p class="notice">{{ blind_spot }}</p>
</section>
{% endblock %}
"""

_WINDOW = """{% extends "base.html" %}
{% from "macros.html" import badge %}
{% block title %}{{ window }} · {{ model }} · labelwise monitor{% endblock %}
{% block content %}
<p><a href="{{ model_url }}">&larr; {{ model }}</a></p>
<h1>Window <code>{{ window }}</code> of <code>{{ model }}</code></h1>
<div class="cards">
  <div class="card" id="kind"><div class="k">Kind</div><div class="v">{{ kind }}</div></div>
  <div class="card"><div class="k">Severity</div><div class="v">{{ badge(severity) }}</div></div>
  <div class="card"><div class="k">Composite</div><div class="v">{{ fmt(composite) }}</div></div>
  <div class="card"><div class="k">Rows</div>
    <div class="v">{{ n_rows if n_rows is not none else "—" }}</div></div>
  <div class="card"><div class="k">Period</div>
    <div class="v">{{ start or "—" }} &rarr; {{ end or "—" }}</div></div>
</div>

{% macro fired_cell(fired) -%}
{% if fired %}<span class="fired">fired</span>{% elif fired is none %}—{% else %}no{% endif %}
{%- endmacro %}
{% if estimates %}
<section id="estimates">
<h2>{{ "Error estimates" if kind == "regression" else "Performance estimates" }}</h2>
<p class="muted">Estimated without labels, with the band the estimate is expected within.</p>
<table>
  <thead><tr><th>Estimate</th><th>Value</th><th>Low</th><th>High</th><th>Fired</th></tr></thead>
  <tbody>
  {% for m in estimates %}
  <tr>
    <td>{{ m.metric }}</td><td class="num">{{ fmt(m.value) }}</td>
    <td class="num">{{ fmt(m.low) }}</td><td class="num">{{ fmt(m.high) }}</td>
    <td>{{ fired_cell(m.fired) }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
</section>
{% endif %}

{% if per_class.rows %}
<section id="per-class">
<h2>Per class</h2>
<p class="muted">Each estimate with its band below it; a statistic over its threshold is marked.</p>
<div class="scroll">
<table>
  <thead><tr><th>Class</th>{% for c in per_class.columns %}<th>{{ c.label }}</th>{%
    endfor %}</tr></thead>
  <tbody>
  {% for row in per_class.rows %}
  <tr>
    <th scope="row">{{ row["class"] }}</th>
    {% for c in per_class.columns %}{% set cell = row.cells.get(c.metric) %}
    <td class="num">{% if cell %}<span{% if cell.fired %} class="fired"{% endif %}>{{
      fmt(cell.value) }}</span>{% if cell.low is not none or cell.high is not none %}
      <span class="band">{{ fmt(cell.low) }} – {{ fmt(cell.high) }}</span>{% endif %}{%
      if cell.threshold is not none %}
      <span class="band">threshold {{ fmt(cell.threshold) }}</span>{% endif %}{%
      else %}—{% endif %}</td>
    {% endfor %}
  </tr>
  {% endfor %}
  </tbody>
</table>
</div>
</section>
{% endif %}

<section id="metrics">
<h2>Metrics</h2>
{% if per_class.rows %}<p class="muted">Per-class statistics are in the table above.</p>{% endif %}
<table>
  <thead><tr><th>Monitor</th><th>Metric</th><th>Value</th><th>Threshold</th><th>Low</th>
    <th>High</th><th>Fired</th></tr></thead>
  <tbody>
  {% for m in metrics %}
  <tr>
    <td>{{ m.monitor }}</td><td>{{ m.metric }}</td>
    <td class="num">{{ fmt(m.value) }}</td><td class="num">{{ fmt(m.threshold) }}</td>
    <td class="num">{{ fmt(m.low) }}</td><td class="num">{{ fmt(m.high) }}</td>
    <td>{{ fired_cell(m.fired) }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
</section>

{% if score_chart %}
<section id="score-bins">
<h2>Score shift by bin</h2>
<figure class="chart">
  <figcaption>PSI contribution of each reference-decile score bin (red: more cases than in
  the reference)</figcaption>
  {{ score_chart }}
</figure>
</section>
{% endif %}

<section id="features">
<h2>Features</h2>
{% if features %}
<div class="scroll">
<table>
  <thead><tr>{% for c in feature_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for row in features %}
  <tr>{% for c in feature_columns %}<td{% if row[c] is number and row[c] is not boolean %}
    class="num"{% endif %}>{{ fmt(row[c]) }}</td>{% endfor %}</tr>
  {% endfor %}
  </tbody>
</table>
</div>
{% else %}
<p class="muted">This window recorded no per-feature statistics.</p>
{% endif %}
</section>

{% if notes %}
<section id="notes">
<h2>Notes</h2>
<ul>{% for note in notes %}<li>{{ note }}</li>{% endfor %}</ul>
</section>
{% endif %}

<section id="reconciliation">
<h2>Reconciliation with late labels</h2>
{% if reconciliation %}
<table>
  <thead><tr>{% for c in reconciliation_columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
  <tbody>
  {% for row in reconciliation %}
  <tr>{% for c in reconciliation_columns %}
    <td class="nowrap">{{ fmt(row[c]) }}</td>{% endfor %}</tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="muted">Labels for this window have not been reconciled yet
(<code>labelwise monitor reconcile monitor.json {{ window }} LABELS</code>).</p>
{% endif %}
<p class="notice" id="blind-spot">{{ blind_spot }}</p>
</section>
{% endblock %}
"""

_ALERTS = """{% extends "base.html" %}
{% from "macros.html" import badge %}
{% block title %}Alerts · labelwise monitor{% endblock %}
{% block content %}
<h1>Alerts{% if model %} for <code>{{ model }}</code>{% endif %}</h1>
<section id="alerts">
{% if alerts %}
<table>
  <thead><tr><th>Model</th><th>Window</th><th>Severity</th><th>Composite</th>
    <th>Details</th></tr></thead>
  <tbody>
  {% for a in alerts %}
  <tr>
    <td>{% if a.model_url %}<a href="{{ a.model_url }}">{{ a.model }}</a>{%
      else %}{{ a.model or "—" }}{% endif %}</td>
    <td>{% if a.window_url %}<a href="{{ a.window_url }}">{{ a.window }}</a>{%
      else %}{{ a.window or "—" }}{% endif %}</td>
    <td>{{ badge(a.severity) }}</td>
    <td class="num">{{ fmt(a.composite) }}</td>
    <td>{{ a.summary or "—" }}</td>
  </tr>
  {% endfor %}
  </tbody>
</table>
{% else %}
<p class="muted">No alerts recorded.</p>
{% endif %}
</section>
{% endblock %}
"""

_NOT_FOUND = """{% extends "base.html" %}
{% block title %}Not found · labelwise monitor{% endblock %}
{% block content %}
<h1>Not found</h1>
<section id="not-found">
<p>{{ message }}</p>
<p><a href="/">Back to the list of models</a></p>
</section>
{% endblock %}
"""

#: Template name -> source, for a :class:`jinja2.DictLoader`.
TEMPLATES: dict[str, str] = {
    "base.html": _BASE,
    "macros.html": _SEVERITY,
    "index.html": _INDEX,
    "model.html": _MODEL,
    "window.html": _WINDOW,
    "alerts.html": _ALERTS,
    "not_found.html": _NOT_FOUND,
}
