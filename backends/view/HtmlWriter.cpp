// One self-contained HTML page of a model's graph (see HtmlWriter.h).
#include "backends/view/HtmlWriter.h"

#include "absl/strings/str_cat.h"

namespace onnxopt {

namespace {

std::string htmlEscaped(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// Graphviz's SVG without its XML prologue (it is inlined in HTML).
std::string_view svgElement(std::string_view svg) {
  size_t at = svg.find("<svg");
  return at == std::string_view::npos ? svg : svg.substr(at);
}

constexpr const char *kStyle = R"(
body { margin: 0; font: 13px Helvetica, Arial, sans-serif; color: #1d2733; }
header { position: sticky; top: 0; z-index: 2; background: #fff; padding: 8px 12px;
         border-bottom: 1px solid #d6dde5; display: flex; gap: 12px; align-items: center; }
header h1 { font-size: 15px; margin: 0; }
#search { width: 260px; padding: 4px 6px; }
#pipeline { color: #5c6b7a; font-family: monospace; overflow: hidden; text-overflow: ellipsis;
            white-space: nowrap; max-width: 50vw; }
main { display: flex; gap: 8px; padding: 8px; }
section { flex: 1; overflow: auto; border: 1px solid #d6dde5; max-height: 80vh; }
section h2 { font-size: 13px; margin: 0; padding: 4px 8px; background: #f0f3f6;
             position: sticky; top: 0; left: 0; }
#info { width: 300px; flex: none; border: 1px solid #d6dde5; padding: 8px; max-height: 80vh;
        overflow: auto; font-family: monospace; font-size: 12px; white-space: pre-wrap; }
g.node.op { cursor: pointer; }
g.node.hit polygon, g.node.hit path, g.node.hit ellipse { stroke: #e8590c; stroke-width: 3px; }
table { border-collapse: collapse; margin: 8px; }
td, th { border: 1px solid #d6dde5; padding: 2px 8px; text-align: right; }
td:first-child, th:first-child { text-align: left; }
.legend span { padding: 0 6px; border-radius: 3px; margin-right: 4px; }
)";

constexpr const char *kScript = R"(
const info = document.getElementById('info');
const matches = document.getElementById('matches');
function show(id) {
  const d = NODES[id];
  if (!d) return;
  info.textContent = d.op + (d.name ? '  ' + d.name : '') + (d.mark ? '  [' + d.mark + ']' : '') +
    '\n\nattributes:\n  ' + (d.attrs.join('\n  ') || '-') +
    '\n\ninputs:\n  ' + (d.inputs.join('\n  ') || '-') +
    '\n\noutputs:\n  ' + (d.outputs.join('\n  ') || '-');
}
function search(text) {
  const q = text.trim().toLowerCase();
  let hits = 0, first = null;
  for (const g of document.querySelectorAll('g.node.op')) {
    const d = NODES[g.id];
    const hit = q !== '' && !!d && (d.op.toLowerCase().includes(q) ||
      d.name.toLowerCase().includes(q) || d.outputs.some(o => o.toLowerCase().startsWith(q)));
    g.classList.toggle('hit', hit);
    if (hit) { hits++; if (!first) first = g; }
  }
  matches.dataset.count = hits;
  matches.textContent = q === '' ? '' : hits + (hits === 1 ? ' match' : ' matches');
  if (first) { first.scrollIntoView({block: 'center', inline: 'center'}); show(first.id); }
}
document.getElementById('search').addEventListener('input', e => search(e.target.value));
document.addEventListener('click', e => {
  const g = e.target.closest && e.target.closest('g.node.op');
  if (g) show(g.id);
});
document.addEventListener('mouseover', e => {
  const g = e.target.closest && e.target.closest('g.node.op');
  if (g) show(g.id);
});
if (location.hash.startsWith('#search=')) {
  const q = decodeURIComponent(location.hash.slice(8));
  document.getElementById('search').value = q;
  search(q);
}
document.body.dataset.nodes = document.querySelectorAll('g.node.op').length;
)";

} // namespace

std::string writeHtml(const HtmlPage &page) {
  std::string out = absl::StrCat(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<title>",
      htmlEscaped(page.title), "</title>\n<style>", kStyle,
      "</style>\n</head>\n<body>\n<header><h1>", htmlEscaped(page.title),
      "</h1><input id=\"search\" type=\"search\" placeholder=\"search a node, "
      "op or value\"><span id=\"matches\" data-count=\"0\"></span>");
  if (!page.pipeline.empty())
    absl::StrAppend(&out,
                    "<span class=\"legend\"><span style=\"background:"
                    "#f8c9c4\">removed</span><span style=\"background:"
                    "#c9ecc9\">created</span></span><span id=\"pipeline\""
                    " title=\"",
                    htmlEscaped(page.pipeline), "\">",
                    htmlEscaped(page.pipeline), "</span>");
  out += "</header>\n<main>\n";
  for (size_t i = 0; i < page.panes.size(); ++i) {
    const HtmlPane &p = page.panes[i];
    absl::StrAppend(&out, "<section id=\"pane", i, "\"><h2>",
                    htmlEscaped(p.title), " (", p.numNodes, " nodes)</h2>\n",
                    std::string(svgElement(p.svg)), "\n</section>\n");
  }
  out += "<aside id=\"info\">Hover or click a node.</aside>\n</main>\n";
  if (!page.opCounts.empty()) {
    out += "<table id=\"ops\"><tr><th>op</th><th>before</th><th>after</th>"
           "<th>delta</th></tr>\n";
    for (const HtmlOpCount &c : page.opCounts) {
      int64_t d = int64_t(c.after) - int64_t(c.before);
      absl::StrAppend(&out, "<tr><td>", htmlEscaped(c.op), "</td><td>",
                      c.before, "</td><td>", c.after, "</td><td>",
                      d > 0 ? "+" : "", d, "</td></tr>\n");
    }
    out += "</table>\n";
  }
  out += "<script>\nconst NODES = Object.assign({}";
  for (const HtmlPane &p : page.panes)
    absl::StrAppend(&out, ",\n", p.nodesJson);
  absl::StrAppend(&out, ");\n", kScript, "</script>\n</body>\n</html>\n");
  return out;
}

} // namespace onnxopt
