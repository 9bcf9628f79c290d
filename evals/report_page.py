"""The eval report's page: one self-contained HTML file (inline CSS, no scripts, no fetches)."""

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Eval run {{ run.run_id }}{% if base %} vs {{ base.run_id }}{% endif %}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1d2433; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { border: 1px solid #d5d9e0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f2f4f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #116329; } .fail { color: #b42318; font-weight: 600; } .skip { color: #8a94a6; }
.regressed { background: #fde8e7; } .improved { background: #e6f4ea; }
.down { color: #b42318; font-weight: 600; } .up { color: #116329; font-weight: 600; }
.gate-ok { background: #e6f4ea; padding: 8px 12px; border-radius: 6px; }
.gate-fail { background: #fde8e7; padding: 8px 12px; border-radius: 6px; }
.muted { color: #5b6475; } .small { font-size: 12px; }
pre { white-space: pre-wrap; margin: 0; font: 12px/1.4 ui-monospace, monospace; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; margin-bottom: 18px; }
.pair > div { border: 1px solid #d5d9e0; border-radius: 6px; padding: 8px 10px; }
.legend span { margin-right: 14px; }
</style>
</head>
<body>
<h1>Eval run {{ run.run_id }}</h1>
<div class="muted">model {{ run.model }}
{%- if run.judge_model %} · judge {{ run.judge_model }}{% endif %}
 · started {{ run.started_at.strftime("%Y-%m-%d %H:%M UTC") }}
{%- if base %} · compared with {{ base.run_id }} (model {{ base.model }}){% endif %}</div>

<h2>Gate</h2>
{% if gate.get("passed") %}
<div class="gate-ok">Passed: no must-pass case failed
{%- if base %} and no pass rate dropped more than {{ max_drop_points }} points{% endif %}.</div>
{% else %}
<div class="gate-fail"><b>Failed.</b><ul>
{% for reason in gate.get("reasons", []) %}<li>{{ reason }}</li>
{% endfor %}</ul></div>
{% endif %}

<h2>Summary</h2>
<table>
<tr><th></th><th>this run</th>{% if base %}<th>baseline</th><th>change</th>{% endif %}</tr>
{% for row in summary %}
<tr><td>{{ row.label }}</td><td class="num">{{ row.mine }}</td>
{%- if base %}<td class="num">{{ row.theirs }}</td>{{ row.change }}{% endif %}</tr>
{% endfor %}
</table>

<h2>Prompts</h2>
<table><tr><th>prompt</th><th>this run</th>{% if base %}<th>baseline</th>{% endif %}</tr>
{% for row in prompt_rows %}
<tr{% if row.changed %} class="regressed"{% endif %}><td>{{ row.name }}</td>
<td>{{ row.mine }}</td>{% if base %}<td>{{ row.theirs }}</td>{% endif %}</tr>
{% endfor %}
</table>
{% if run.prompts_dir %}<div class="muted small">prompts from {{ run.prompts_dir }}</div>{% endif %}

<h2>Pass rate by evaluator</h2>
<table><tr><th>evaluator</th><th>pass rate</th><th>pass / fail / skip</th>
{%- if base %}<th>baseline</th><th>change</th>{% endif %}</tr>
{% for row in evaluator_rows %}
<tr class="{{ row.css }}"><td title="{{ row.description }}">{{ row.name }}</td>
<td class="num">{{ pct(row.rate) }}</td><td class="num">{{ row.counts }}</td>
{%- if base %}<td class="num">{{ pct(row.base_rate) }}</td>{{ row.change }}{% endif %}</tr>
{% endfor %}
</table>
{% for note in notes %}<div class="muted small">{{ note }}</div>{% endfor %}

{% if base %}
<h2>Regressions ({{ regressed|length }})</h2>
{% if regressed %}<ul>
{% for item in regressed %}
<li><b>{{ item.case }}</b>{% if item.must_pass %} (must pass){% endif %}:
{% for name, reason in item.failures %}<span class="fail">{{ name }}</span>: {{ reason }}
{%- if not loop.last %}; {% endif %}{% endfor %}</li>
{% endfor %}</ul>{% else %}<div class="muted">none</div>{% endif %}

<h2>Improvements ({{ improved|length }})</h2>
{% if improved %}<ul>
{% for case_id, names in improved %}
<li><b>{{ case_id }}</b>: {{ names|join(", ") }} now pass</li>
{% endfor %}</ul>{% else %}<div class="muted">none</div>{% endif %}
{% endif %}

<h2>Cases</h2>
<div class="legend small"><span class="pass">✓ pass</span><span class="fail">✗ fail</span>
<span class="skip">– skipped</span>
{%- if base %}<span class="regressed">&nbsp;worse than the baseline&nbsp;</span>
<span class="improved">&nbsp;better than the baseline&nbsp;</span>{% endif %}</div>
<table><tr><th>case</th><th>segment</th><th>outcome</th>
{% for name in run.evaluators %}<th class="small">{{ name }}</th>{% endfor %}
{%- if base %}<th>baseline</th>{% endif %}</tr>
{% for row in case_rows %}
<tr class="{{ row.css }}">
<td><b>{{ row.case }}</b>
{%- if row.must_pass %} <span class="small muted">must pass</span>{% endif %}</td>
<td class="small">{{ row.segment }}</td><td class="small">{{ row.outcome }}</td>
{% for cell in row.cells %}
<td class="{{ cell.status }}" title="{{ cell.reason }}">{{ cell.mark }}
{%- if cell.status == "fail" %}<div class="small">{{ cell.reason|truncate(160) }}</div>
{%- endif %}</td>
{% endfor %}
{%- if base %}<td class="small">{{ row.baseline }}</td>{% endif %}
</tr>
{% endfor %}
</table>

{% if base %}
<h2>Changed drafts ({{ changed|length }})</h2>
{% for pair in changed %}
<h3>{{ pair.case }} <span class="{{ pair.css }}">{{ pair.verdict }}</span></h3>
<div class="pair">
{% for side in pair.sides %}
<div><div class="muted small">{{ side.label }}</div>
<b>{{ side.subject }}</b><pre>{{ side.body }}</pre></div>
{% endfor %}
</div>
{% else %}
<div class="muted">no draft changed</div>
{% endfor %}
{% endif %}
</body>
</html>
"""
