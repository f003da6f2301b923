"""The report's inline stylesheet and script (no external resource of any kind)."""

from __future__ import annotations

__all__ = ["CSS", "JS"]

CSS = """
:root{--fg:#1d2733;--muted:#5b6775;--line:#d8dee6;--bg:#f5f7fa;--card:#fff;--accent:#3b6ea5;
--critical:#b00020;--high:#d9480f;--medium:#b7791f;--low:#4a7bb7}
*{box-sizing:border-box}
html{font-family:"Segoe UI","Helvetica Neue",Arial,"Liberation Sans","Yu Gothic UI","Yu Gothic","Meiryo","Hiragino Sans","Hiragino Kaku Gothic ProN",
"Noto Sans CJK JP","Noto Sans JP","IPAexGothic","IPAGothic","IPAPGothic",system-ui,sans-serif;
color:var(--fg);background:var(--bg);font-size:14px;line-height:1.5}
body{margin:0}
body.lang-ja .en,body.lang-en .ja{display:none !important}
header{background:#1f3b5a;color:#fff;padding:14px 24px;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:baseline}
header h1{font-size:20px;margin:0;flex:1 1 auto}
header .meta{font-size:13px;opacity:.9}
header button{font:inherit;padding:4px 12px;border-radius:4px;border:1px solid #fff;background:transparent;color:#fff;cursor:pointer}
main{padding:16px 24px;max-width:1400px;margin:0 auto}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px 16px;margin:0 0 16px}
h2{font-size:16px;margin:0 0 10px;border-left:4px solid var(--accent);padding-left:8px}
h3{font-size:14px;margin:8px 0 6px;color:var(--muted)}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:130px;background:#fbfcfe}
.card .num{font-size:24px;font-weight:bold;font-variant-numeric:tabular-nums}
.card .label{font-size:12px;color:var(--muted)}
.card.sev-critical{border-top:4px solid var(--critical)}.card.sev-high{border-top:4px solid var(--high)}
.card.sev-medium{border-top:4px solid var(--medium)}.card.sev-low{border-top:4px solid var(--low)}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:12px 24px}
.chart{max-width:100%;height:auto;font-size:12px}
figure{margin:0 0 8px}
.chart .grid{stroke:#e6eaf0}.chart .axisline{stroke:#9aa5b1}
.chart text{fill:#39424e;font-size:11px}.chart .value{font-size:11px}.chart .empty{fill:#8a96a3;font-size:13px}
.chart rect.bar:hover{opacity:.75}
.todo li{margin:3px 0}
.alert{background:#fdecee;border:1px solid #f3b5bd;color:#7a0016;padding:8px 12px;border-radius:4px;margin-bottom:8px;font-weight:bold}
.ok{background:#eaf6ec;border:1px solid #b7dfbf;color:#1d5a2a;padding:8px 12px;border-radius:4px}
.filters{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:end;margin-bottom:8px}
.filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted)}
.filters select,.filters input,.filters button{font:inherit;padding:3px 6px;min-width:120px;max-width:300px}
.count-shown{font-size:12px;color:var(--muted);margin-left:auto}
table{border-collapse:collapse;width:100%}
.tablewrap{overflow-x:auto;max-height:80vh;overflow-y:auto}
table.kv{width:auto;min-width:320px}
.kv td{padding-right:24px}
th,td{border-bottom:1px solid var(--line);padding:5px 6px;text-align:left;vertical-align:top;font-size:13px}
th{background:#eef2f7;position:sticky;top:0;white-space:nowrap}
table.findings th[data-sort-key]{cursor:pointer}
table.findings th[data-sort-key]::after{content:" \\2195";color:#9aa5b1}
table.findings th.asc::after{content:" \\2191";color:var(--fg)}table.findings th.desc::after{content:" \\2193";color:var(--fg)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.basis,td.action{min-width:180px;max-width:320px}
td.date{white-space:nowrap;font-size:12px}
td.nowrap{white-space:nowrap}
.sev{display:inline-block;border-radius:3px;color:#fff;padding:0 6px;font-size:12px;white-space:nowrap}
.sev-critical .sev,.sev.sev-critical{background:var(--critical)}.sev.sev-high{background:var(--high)}
.sev.sev-medium{background:var(--medium)}.sev.sev-low{background:var(--low)}
.rule-id{display:block;font-size:11px;color:var(--muted);font-family:ui-monospace,Consolas,monospace}
code,.mono{font-family:ui-monospace,Consolas,"DejaVu Sans Mono",monospace;font-size:12px}
details summary{cursor:pointer}
details ul{margin:4px 0;padding-left:18px;font-size:12px}
.kv td:first-child{color:var(--muted);white-space:nowrap}
footer{color:var(--muted);font-size:12px;padding:8px 24px 24px;max-width:1400px;margin:0 auto}
tr.hidden{display:none}
@media print{header button,.filters,.noprint{display:none !important}body{background:#fff}
section{break-inside:avoid-page;border:none}th{position:static}}
"""

JS = r"""
(function(){
  "use strict";
  var body = document.body;
  function setLang(lang){
    body.classList.remove("lang-ja","lang-en");
    body.classList.add("lang-" + lang);
    document.documentElement.setAttribute("lang", lang);
    var nodes = document.querySelectorAll("[data-ja][data-en]");
    for (var i = 0; i < nodes.length; i++){
      var n = nodes[i];
      var t = n.getAttribute("data-" + lang);
      if (n.tagName === "OPTION" || n.tagName === "TITLE"){ n.textContent = t; }
      else if (n.hasAttribute("placeholder")){ n.setAttribute("placeholder", t); }
      else if (n.hasAttribute("title")){ n.setAttribute("title", t); }
    }
    try { window.localStorage.setItem("pia-report-lang", lang); } catch (e) { /* file:// may forbid storage */ }
  }
  var start = body.getAttribute("data-default-lang") || "ja";
  try {
    var q = /[?&#]lang=(ja|en)/.exec(window.location.search + window.location.hash);
    var saved = window.localStorage.getItem("pia-report-lang");
    if (q) { start = q[1]; } else if (saved === "ja" || saved === "en") { start = saved; }
  } catch (e) { /* ignore */ }
  setLang(start);
  var toggle = document.getElementById("lang-toggle");
  if (toggle){ toggle.addEventListener("click", function(){ setLang(body.classList.contains("lang-en") ? "ja" : "en"); }); }
  var printer = document.getElementById("print-button");
  if (printer){ printer.addEventListener("click", function(){ window.print(); }); }

  var table = document.getElementById("findings-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var shown = document.getElementById("shown-count");
  var fields = ["rule","severity","department","system"];
  function apply(){
    var want = {};
    fields.forEach(function(f){ var s = document.getElementById("filter-" + f); want[f] = s ? s.value : ""; });
    var text = (document.getElementById("filter-text").value || "").trim().toLowerCase();
    var n = 0;
    rows.forEach(function(r){
      var ok = fields.every(function(f){ return !want[f] || r.getAttribute("data-" + f) === want[f]; });
      if (ok && text){ ok = r.textContent.toLowerCase().indexOf(text) >= 0; }
      r.classList.toggle("hidden", !ok);
      if (ok) { n++; }
    });
    if (shown){ shown.textContent = String(n); shown.setAttribute("data-value", String(n)); }
  }
  fields.concat(["text"]).forEach(function(f){
    var el = document.getElementById("filter-" + f);
    if (el){ el.addEventListener(f === "text" ? "input" : "change", apply); }
  });
  var reset = document.getElementById("filter-reset");
  if (reset){ reset.addEventListener("click", function(){
    fields.forEach(function(f){ var s = document.getElementById("filter-" + f); if (s) { s.value = ""; } });
    document.getElementById("filter-text").value = ""; apply(); }); }
  var links = document.querySelectorAll("[data-filter-severity]");
  for (var i = 0; i < links.length; i++){
    links[i].addEventListener("click", function(ev){
      var s = document.getElementById("filter-severity");
      if (s){ s.value = this.getAttribute("data-filter-severity"); apply(); }
    });
  }
  var heads = table.tHead.rows[0].cells;
  for (var h = 0; h < heads.length; h++){
    (function(th, col){
      if (!th.hasAttribute("data-sort-key")) { return; }
      th.addEventListener("click", function(){
        var asc = !th.classList.contains("asc");
        for (var k = 0; k < heads.length; k++){ heads[k].classList.remove("asc","desc"); }
        th.classList.add(asc ? "asc" : "desc");
        var numeric = th.getAttribute("data-type") === "num";
        rows.sort(function(a, b){
          var x = a.cells[col].getAttribute("data-sort") || a.cells[col].textContent;
          var y = b.cells[col].getAttribute("data-sort") || b.cells[col].textContent;
          var c = numeric ? (Number(x) - Number(y)) : (x < y ? -1 : (x > y ? 1 : 0));
          return asc ? c : -c;
        });
        rows.forEach(function(r){ tbody.appendChild(r); });
      });
    })(heads[h], h);
  }
  apply();
})();
"""
