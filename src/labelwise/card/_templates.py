"""The jinja2 template and stylesheet of the HTML card (kept as strings: no data files)."""

# ruff: noqa: E501
# (template lines follow the markup's structure; wrapping them would change the page's text)

CSS = """
:root { --ink:#1d1d1f; --muted:#5f6368; --line:#e3e3e6; --bg:#fafafa; --crit:#c5221f;
  --warn:#b06000; --info:#1a73e8; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
  background: var(--bg); margin: 0; }
h1, h2, h3, b, dd, p { overflow-wrap: anywhere; }
td, th { overflow-wrap: break-word; }
main { max-width: 1100px; margin: 0 auto; padding: 16px; }
h1 { font-size: 1.6rem; margin: .2rem 0; } h2 { font-size: 1.2rem; margin: 0 0 .6rem; }
h3 { font-size: 1rem; margin: .8rem 0 .3rem; }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 14px;
  margin: 14px 0; }
.muted, .note { color: var(--muted); font-size: .9rem; }
.caution { border-left: 4px solid #b26b00; background: #fff7e6; padding: 6px 10px; }
.facts { border: 3px solid var(--ink); padding: 8px 12px; max-width: 420px; background: #fff; }
.facts h2 { border-bottom: 8px solid var(--ink); margin-bottom: 4px; font-size: 1.5rem; }
.facts div { display: flex; justify-content: space-between; border-bottom: 1px solid var(--ink);
  padding: 2px 0; gap: 12px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line);
  vertical-align: top; }
th { background: #f3f3f5; font-weight: 600; }
td .n, .num { font-variant-numeric: tabular-nums; }
dl.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
dl.kv dt { color: var(--muted); } dl.kv dd { margin: 0; overflow-wrap: anywhere; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(320px, 1fr)); gap: 12px; }
.box { border: 1px solid var(--line); border-radius: 6px; padding: 10px; min-width: 0; }
svg.chart { max-width: 100%; height: auto; display: block; font-size: 11px; fill: var(--ink); }
svg.chart text { fill: inherit; }
.sev { font-weight: 600; text-transform: uppercase; font-size: .75rem; }
.sev-critical { color: var(--crit); } .sev-warning { color: var(--warn); }
.sev-info { color: var(--info); }
.big { font-size: 1.8rem; font-weight: 700; }
nav a { margin-right: 10px; font-size: .9rem; white-space: nowrap; }
@media (max-width: 600px) { main { padding: 8px; } section { padding: 10px; }
  dl.kv { grid-template-columns: 1fr; } .grid { grid-template-columns: 1fr; } }
"""

PAGE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ card.metadata.name }} – dataset nutrition label</title>
<style>{{ css }}</style></head>
<body><main>
{%- macro kv(name, value, kind=None) -%}
{%- if value is not none and value != [] -%}<dt>{{ name }}</dt><dd>
{%- if kind %}{{ value | num(kind) }}{% elif value is iterable and value is not string %}
{{ value | join(", ") }}{% else %}{{ value }}{% endif %}</dd>{%- endif -%}
{%- endmacro %}
{%- set meta = card.metadata %}{% set health = card.label_health %}{% set lab = card.label %}
<header>
<p class="muted">Dataset nutrition label · labelwise {{ version }}</p>
<h1>{{ meta.name }}</h1>
{% if meta.description %}<p>{{ meta.description }}</p>{% endif %}
<nav>{% for id, title in [("alerts","Alerts"),("metadata","Metadata"),("provenance","Provenance"),
("variables","Variables"),("statistics","Statistics"),("pair-plots","Pair plots"),
("model","Probabilistic model"),("ground-truth","Ground truth"),("label-health","Label health"),
("splits","Splits"),("duplicates","Duplicates"),("data-issues","Data issues"),
("annotators","Annotators")] %}
<a href="#{{ id }}">{{ title }}</a>{% endfor %}</nav>
</header>

<section id="facts" class="facts" aria-label="Label facts">
<h2>Label facts</h2>
<div><span>Rows</span><b>{{ meta.rows | num("int") }}</b></div>
<div><span>Columns</span><b>{{ meta.columns | num("int") }}</b></div>
<div><span>Missing cells</span><b>{{ meta.missing_cells_share | num("pct") }}</b></div>
<div><span>Label</span><b>{{ lab.column }}</b></div>
<div><span>Classes</span><b>{{ lab.classes | length }}</b></div>
<div><span>Largest / smallest class</span><b>{{ lab.balance.max_min_ratio | num }}</b></div>
<div><span>Duplicate rows</span><b>{{ card.duplicates.duplicate_rows | num("int") }}</b></div>
{% if health %}
<div><span>Estimated label noise</span><b>{{ health.noise_rate | num("pct") }}</b></div>
<div><span>Suspected label errors</span><b>{{ health.num_issues | num("int") }}</b></div>
{% endif %}
<div><span>Alerts</span><b>{{ card.alerts | length }}</b></div>
</section>

<section id="alerts"><h2>Alerts</h2>
{% if card.alerts %}<div class="scroll"><table><thead><tr><th>Severity</th><th>Column</th>
<th>Kind</th><th>Value</th><th>What it is</th><th>Mitigation</th></tr></thead><tbody>
{% for a in card.alerts %}<tr><td class="sev sev-{{ a.severity }}">{{ a.severity }}</td>
<td>{{ a.column if a.column is not none else "(table)" }}</td><td>{{ a.kind }}</td>
<td>{{ a.value | num("pct" if a.kind in ("missing", "zeros", "outliers", "label_noise", "class_quality")
else "float") }}</td><td>{{ a.message }}</td><td>{{ a.mitigation }}</td></tr>{% endfor %}
</tbody></table></div>{% else %}<p class="note">No alerts.</p>{% endif %}
</section>

<section id="metadata"><h2>1. Metadata</h2><dl class="kv">
{{ kv("Name", meta.name) }}{{ kv("File", meta.file_name) }}{{ kv("Format", meta.format) }}
{{ kv("URL", meta.url) }}{{ kv("Domain", meta.domain) }}{{ kv("Keywords", meta.keywords) }}
{{ kv("Rows", meta.rows, "int") }}{{ kv("Columns", meta.columns, "int") }}
{{ kv("Missing cells", meta.missing_cells, "int") }}
{{ kv("Missing cells (share)", meta.missing_cells_share, "pct") }}
{{ kv("License", meta.license) }}{{ kv("Release date", meta.release_date) }}
{{ kv("Version", meta.version) }}
{% if meta.date_range %}{{ kv("Date range", meta.date_range | join(" to ")) }}{% endif %}
{{ kv("Description", meta.description) }}
</dl></section>

<section id="provenance"><h2>2. Provenance and uses</h2>
{% set p = card.provenance %}{% set u = card.uses %}<dl class="kv">
{{ kv("Source", p.source) }}{{ kv("Creator", p.creator) }}{{ kv("Contact", p.contact) }}
{{ kv("URL", p.url) }}{{ kv("Citation", p.citation) }}{{ kv("Collection", p.collection) }}
{{ kv("Annotation protocol", p.annotation_protocol) }}{{ kv("Maintenance", p.maintenance) }}
{{ kv("Intended uses", u.intended_uses) }}{{ kv("Out-of-scope uses", u.out_of_scope_uses) }}
{{ kv("Sensitive information", u.sensitive_info) }}{{ kv("Known biases", u.biases) }}
{{ kv("Limitations", u.limitations) }}</dl>
{% if not (p.values() | select | list) %}<p class="note">No provenance given: add a metadata
file (docs/card.md).</p>{% endif %}
</section>

<section id="variables"><h2>3. Variables</h2><div class="scroll"><table>
<thead><tr><th>Column</th><th>Role</th><th>Kind</th><th>Type</th><th>Description</th></tr></thead>
<tbody>{% for v in card.variables %}<tr><td>{{ v.name }}</td><td>{{ v.role }}</td>
<td>{{ v.kind }}</td><td>{{ v.dtype }}</td><td>{{ v.description or "" }}</td></tr>{% endfor %}
</tbody></table></div></section>

<section id="statistics"><h2>4. Statistics</h2>
<h3>Label: {{ lab.column }}</h3>
{{ svg.hbars(lab.classes, lab.balance.counts, "int", "class counts") }}
<p class="note">Normalized entropy {{ lab.balance.normalized_entropy | num }}; largest / smallest
class {{ lab.balance.max_min_ratio | num }}.</p>
{% set numeric = card.variables | selectattr("kind", "equalto", "numeric") | list %}
{% if numeric %}<h3>Numeric columns</h3><div class="scroll"><table><thead><tr><th>Column</th>
<th>Min</th><th>Median</th><th>Max</th><th>Mean</th><th>Std</th><th>Missing</th><th>Zeros</th>
<th>Outliers</th><th>Unique</th></tr></thead><tbody>
{% for v in numeric %}{% set s = card.statistics[v.index] %}<tr><td>{{ v.name }}</td>
<td>{{ s.min | num }}</td><td>{{ s.median | num }}</td><td>{{ s.max | num }}</td>
<td>{{ s.mean | num }}</td><td>{{ s.std | num }}</td><td>{{ s.missing_share | num("pct") }}</td>
<td>{{ s.zeros_share | num("pct") }}</td><td>{{ s.outlier_share | num("pct") }}</td>
<td>{{ s.unique | num("int") }}</td></tr>{% endfor %}
</tbody></table></div>{% endif %}
{% set cats = card.variables | rejectattr("kind", "in", ["numeric", "datetime"]) | list %}
{% if cats %}<h3>Categorical columns</h3><div class="scroll"><table><thead><tr><th>Column</th>
<th>Count</th><th>Unique</th><th>Most frequent</th><th>Least frequent</th><th>Missing</th>
</tr></thead><tbody>
{% for v in cats %}{% set s = card.statistics[v.index] %}<tr><td>{{ v.name }}</td>
<td>{{ s.count | num("int") }}</td><td>{{ s.unique | num("int") }}</td>
<td>{{ s.top if s.top is defined else "" }}{% if s.top_count is defined %}
({{ s.top_count | num("int") }}){% endif %}</td>
<td>{{ s.least if s.least is defined else "" }}{% if s.least_count is defined %}
({{ s.least_count | num("int") }}){% endif %}</td>
<td>{{ s.missing_share | num("pct") }}</td></tr>{% endfor %}</tbody></table></div>{% endif %}
<h3>Distributions</h3><div class="grid">
{% for v in card.variables %}{% set s = card.statistics[v.index] %}
{% if "histogram" in s and s.histogram %}<div class="box"><b>{{ v.name }}</b>
{{ svg.histogram(s.histogram.edges, s.histogram.counts, "histogram of " ~ v.name) }}</div>
{% elif "values" in s and s["values"] %}<div class="box"><b>{{ v.name }}</b>
{{ svg.hbars(column(s["values"], "value"), column(s["values"], "count"), "int",
"top values of " ~ v.name) }}</div>{% endif %}{% endfor %}</div>
</section>

<section id="pair-plots"><h2>5. Pair plots</h2>
{% if card.pair_plots %}<div class="grid">{% for p in card.pair_plots %}<div class="box">
<b>{{ p.x }} × {{ p.y }}</b> <span class="note">Pearson r {{ p.r | num }}, {{ p.rows | num("int") }}
rows</span>{{ svg.pair(p, "pair plot of " ~ p.x ~ " and " ~ p.y) }}</div>{% endfor %}</div>
{% else %}<p class="note">Fewer than two numeric columns: no pair plots.</p>{% endif %}
{% set c = card.correlations %}{% if c.columns | length > 1 %}<h3>Correlations</h3>
<p class="note">{{ c.method | capitalize }} on {{ c.rows_used | num("int") }} rows
{%- if c.sampled %} (a seeded random sample){% endif %}; missing values mean-imputed.</p>
{{ svg.heatmap(c.matrix, c.columns, c.columns, "correlation matrix", show_values=c.columns|length <= 12) }}
{% endif %}
</section>

<section id="model"><h2>6. Probabilistic model</h2>
{% set m = card.model %}<p class="note">A {{ m.kind }}: P({{ lab.column }} | feature bin) for the
features carrying the most mutual information with the label.</p>
<div class="scroll"><table><thead><tr><th>Feature</th><th>Mutual information (nats)</th>
<th>Share of label entropy</th></tr></thead><tbody>{% for r in m.feature_ranking[:10] %}<tr>
<td>{{ r.column }}</td><td>{{ r.mutual_information | num }}</td>
<td>{{ r.share_of_label | num("pct") }}</td></tr>{% endfor %}</tbody></table></div>
{% for cond in m.conditionals %}<h3>P({{ lab.column }} | {{ cond.feature }})</h3>
{{ svg.stacked(cond.bins, cond.label_given_bin, m.classes, "conditional distribution of the label given " ~ cond.feature) }}
{% endfor %}
</section>

<section id="ground-truth"><h2>7. Ground-truth comparison</h2>
{% set g = card.ground_truth %}{% if g %}
<p>Row counts per <b>{{ g.key }}</b> against the reference ({{ g.keys_in_both | num("int") }}
values in both, {{ g.keys_only_in_reference | num("int") }} only in the reference,
{{ g.keys_only_in_data | num("int") }} only in the data).</p>
{% for cmp in g.comparisons %}<h3>{{ cmp.reference_column }}: Pearson {{ cmp.pearson | num }},
Spearman {{ cmp.spearman | num }}</h3><div class="scroll"><table><thead><tr><th>{{ g.key }}</th>
<th>Rows in data</th><th>Share of data</th><th>Reference</th></tr></thead><tbody>
{% for r in cmp.rows %}<tr><td>{{ r.key }}</td><td>{{ r.data_count | num("int") }}</td>
<td>{{ r.data_share | num("pct") }}</td><td>{{ r.reference | num }}</td></tr>{% endfor %}
</tbody></table></div>{% endfor %}<p class="note">{{ g.caveat }}</p>
{% else %}<p class="note">No reference table given (build(..., reference=table)).</p>{% endif %}
</section>

<section id="label-health"><h2>Label health</h2>
{% if health %}
<p><span class="big">{{ health.noise_rate | num("pct") }}</span> estimated wrong labels
({{ (health.confidence) | num("pct") }} interval {{ health.noise_rate_interval[0] | num("pct") }} –
{{ health.noise_rate_interval[1] | num("pct") }}); {{ health.num_issues | num("int") }} rows
flagged ({{ health.issue_share | num("pct") }}) by {{ health.method }}.</p>
<p class="note">From {{ health.source }}{% if health.model %}: {{ health.model }}{% endif %}
{%- if health.folds is defined %}, {{ health.folds | num("int") }} folds, seed
{{ health.seed | num("int") }}, cross-validation {{ health.cv_seconds | num("sec") }}{% endif %}.</p>
{% set mq = health.model_quality %}{% if mq %}
<h3>The model behind the estimate</h3>
<p>Out of sample, the model is {{ mq.accuracy | num("pct") }} accurate
({{ mq.clean_accuracy | num("pct") }} on the rows it calls clean), log loss
{{ mq.log_loss | num }} against {{ mq.baseline_log_loss | num }} for the class frequencies alone,
calibration error {{ mq.calibration_error | num }}.{% if mq.reason %} Chosen because: {{ mq.reason }}.{% endif %}</p>
{% for d in mq.doubts %}<p class="caution"><strong>Caution:</strong> {{ d }}</p>{% endfor %}
{% if mq.candidates %}<div class="scroll"><table><thead><tr><th>Candidate</th><th>Accuracy</th>
<th>Log loss</th><th>Calibration error</th><th>Noise rate</th></tr></thead><tbody>
{% for c in mq.candidates %}<tr><td>{{ c.name }}</td><td>{{ c.accuracy | num("pct") }}</td>
<td>{{ c.log_loss | num }}</td><td>{{ c.calibration_error | num }}</td>
<td>{{ c.noise_rate | num("pct") }}</td></tr>{% endfor %}</tbody></table></div>{% endif %}
{% endif %}
<h3>Noise matrix P(given | true)</h3>
{% if health.noise_matrix_classes | length < health.classes | length %}<p class="note">The
{{ health.noise_matrix_classes | length }} classes with the most labels, of
{{ health.classes | length }}.</p>{% endif %}
{{ svg.heatmap(health.noise_matrix, health.noise_matrix_classes, health.noise_matrix_classes,
"noise matrix", kind="pct",
row_title="given ↓", col_title="true →") }}
<div class="grid"><div class="box"><h3>Most confused pairs</h3><div class="scroll"><table>
<thead><tr><th>Given</th><th>True</th><th>Count</th><th>Share of given</th></tr></thead><tbody>
{% for r in health.confused_pairs %}<tr><td>{{ r.given }}</td><td>{{ r.true }}</td>
<td>{{ r.count | num("int") }}</td><td>{{ r.share_of_given | num("pct") }}</td></tr>{% endfor %}
</tbody></table></div></div>
<div class="box"><h3>Per-class label quality</h3>
{{ svg.hbars(column(health.class_quality, "class"), column(health.class_quality, "label_quality"),
"pct", "label quality per class") }}</div></div>
<div class="scroll"><table><thead><tr><th>Class</th><th>Given</th><th>Given share</th>
<th>Estimated true share</th><th>Label quality</th><th>Recall</th><th>Expected wrong</th></tr>
</thead><tbody>{% for r in health.class_quality %}<tr><td>{{ r["class"] }}</td>
<td>{{ r.n_given | num("int") }}</td><td>{{ r.given_share | num("pct") }}</td>
<td>{{ r.estimated_true_share | num("pct") }}</td><td>{{ r.label_quality | num("pct") }}</td>
<td>{{ r.recall | num("pct") }}</td><td>{{ r.expected_wrong | num("int") }}</td></tr>{% endfor %}
</tbody></table></div>
<h3>Top suspected label errors</h3><div class="scroll"><table><thead><tr><th>Rank</th>
<th>Row</th><th>Index</th><th>Given</th><th>Suggested</th><th>Score</th></tr></thead><tbody>
{% for r in health.top_errors %}<tr><td>{{ r.rank | num("int") }}</td><td>{{ r.row | num("int") }}</td>
<td>{{ r.index }}</td><td>{{ r.given }}</td><td>{{ r.suggested }}</td>
<td>{{ r.score | num }}</td></tr>{% endfor %}</tbody></table></div>
{% else %}<p class="note">Label health was not computed (label_health=False).</p>{% endif %}
</section>

<section id="splits"><h2>Splits and leakage</h2>
{% set sp = card.splits %}{% if sp %}
{{ svg.stacked(column(sp.splits, "split"), column(sp.splits, "shares"), lab.classes, "class mix per split") }}
<div class="scroll"><table><thead><tr><th>Split</th><th>Rows</th><th>Largest / smallest</th>
<th>Normalized entropy</th><th>TV distance to all</th><th>JS divergence to all</th></tr></thead>
<tbody>{% for s in sp.splits %}<tr><td>{{ s.split }}</td><td>{{ s.n | num("int") }}</td>
<td>{{ s.max_min_ratio | num }}</td><td>{{ s.normalized_entropy | num }}</td>
<td>{{ s.tv_distance_to_overall | num }}</td><td>{{ s.js_divergence_to_overall | num }}</td></tr>
{% endfor %}</tbody></table></div>
<p class="note">Label mix differs between splits: chi-square p = {{ sp.label_shift_chi2_pvalue | num }}.</p>
<h3>Leakage</h3><div class="scroll"><table><thead><tr><th>Split A</th><th>Split B</th>
<th>Rows of B identical to A</th><th>Near-identical</th><th>Rows in B</th></tr></thead><tbody>
{% for l in sp.leakage %}<tr><td>{{ l.a }}</td><td>{{ l.b }}</td><td>{{ l.identical_rows | num("int") }}</td>
<td>{{ l.near_identical_rows | num("int") }}</td><td>{{ l.rows_in_b | num("int") }}</td></tr>
{% endfor %}</tbody></table></div>
{% else %}<p class="note">No split column (name it with split= or split_column in the
metadata).</p>{% endif %}
</section>

<section id="duplicates"><h2>Duplicates and near-duplicates</h2>{% set d = card.duplicates %}
<dl class="kv">{{ kv("Duplicate rows", d.duplicate_rows, "int") }}
{{ kv("Duplicate share", d.duplicate_share, "pct") }}
{{ kv("Identical features, different label", d.conflicting_label_rows, "int") }}
{{ kv("Near-duplicate rows", d.near_duplicate_rows, "int") }}
{{ kv("Near-duplicate share", d.near_duplicate_share, "pct") }}</dl>
<p class="note">Method: {{ d.method }}.</p>
{% if d.example_groups %}<p class="note">Example groups (row positions):
{% for g in d.example_groups %}[{% for r in g %}{{ r | num("int") }}{{ ", " if not loop.last }}{% endfor %}] {% endfor %}</p>{% endif %}
</section>

<section id="data-issues"><h2>Data issues</h2>{% set di = card.data_issues %}
{% if di %}<div class="scroll"><table><thead><tr><th>Issue</th><th>Found</th><th>Score</th>
<th>Verdict</th></tr></thead><tbody>{% for t in di.types %}<tr><td>{{ t.issue }}</td>
{% if "skipped" in t %}<td></td><td></td><td>skipped: {{ t.skipped }}</td>
{% else %}<td>{{ t.count | num("int") }}</td><td>{{ t.score | num }}</td>
<td>{{ "issue" if t.is_issue else "no issue" }}{% if "p_value" in t %}
(p = {{ t.p_value | num }}){% endif %}</td>{% endif %}</tr>
{% endfor %}</tbody></table></div>
{% for t in di.types if t.get("examples") %}<h3>{{ t.issue }}</h3><ul>
{% for e in t.examples %}<li>{% if e.row is not none %}row {{ e.row | num("int") }}: {% endif %}
{% if e.column is not none %}column {{ e.column }}: {% endif %}{{ e.detail }}</li>{% endfor %}
</ul>{% endfor %}
<p class="note">Method: {{ di.method }}. Scores run from 0 (worst) to 1 (no sign of the
issue); row numbers are positions in the table.</p>
{% else %}<p class="note">Not computed.</p>{% endif %}
</section>

<section id="annotators"><h2>Annotator agreement</h2>{% set an = card.annotators %}
{% if an %}<p>Fleiss' kappa <b>{{ an.fleiss_kappa | num }}</b> over
{{ an.items_rated_twice | num("int") }} items rated at least twice.</p>
<div class="scroll"><table><thead><tr><th>Annotator A</th><th>Annotator B</th><th>Items</th>
<th>Agreement</th></tr></thead><tbody>{% for r in an.pairwise %}<tr><td>{{ r.a }}</td>
<td>{{ r.b }}</td><td>{{ r["items"] | num("int") }}</td><td>{{ r.agreement | num("pct") }}</td></tr>
{% endfor %}</tbody></table></div>
{{ svg.hbars(column(an.with_label, "annotator"), column(an.with_label, "agreement_with_label"), "pct",
"agreement of each annotator with the label") }}
{% else %}<p class="note">No annotator columns given (build(..., annotators=[...])).</p>{% endif %}
</section>
<p class="muted">Made with labelwise {{ version }}; every number on this page is in the card's
JSON.</p>
</main></body></html>
"""
