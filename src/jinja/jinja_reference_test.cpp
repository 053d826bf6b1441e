// Renders a corpus of templates with our interpreter and with Python's Jinja2 (the behaviour
// GGUF chat templates are written against) and asserts identical output, errors included.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jinja/jinja_reference.h"
#include "jinja/template.h"

namespace corral::jinja {
namespace {

using nlohmann::json;

json Conversations() {
  json tool = {{"type", "function"},
               {"function",
                {{"name", "get_weather"},
                 {"description", "Weather for a city"},
                 {"parameters",
                  {{"type", "object"},
                   {"properties", {{"city", {{"type", "string"}, {"description", "City"}}}}},
                   {"required", {"city"}}}}}}};
  json tool_call = {{"type", "function"},
                    {"function", {{"name", "get_weather"}, {"arguments", {{"city", "Paris"}}}}}};
  json simple = {{"messages", {{{"role", "user"}, {"content", "Hello!"}}}},
                 {"add_generation_prompt", true}};
  json with_system = {{"messages",
                       {{{"role", "system"}, {"content", "You are terse."}},
                        {{"role", "user"}, {"content", "  What is 2+2?  "}},
                        {{"role", "assistant"}, {"content", "4"}},
                        {{"role", "user"}, {"content", "And 3+3? Ünïcödé ✓"}}}},
                      {"add_generation_prompt", true}};
  json tools = {{"messages",
                 {{{"role", "system"}, {"content", "Use tools."}},
                  {{"role", "user"}, {"content", "Weather in Paris?"}},
                  {{"role", "assistant"}, {"content", ""}, {"tool_calls", {tool_call}}},
                  {{"role", "tool"}, {"content", "{\"temp\": 21}"}, {"name", "get_weather"}},
                  {{"role", "assistant"}, {"content", "It is 21 degrees."}}}},
                {"tools", {tool}},
                {"add_generation_prompt", false}};
  json thinking = {{"messages",
                    {{{"role", "user"}, {"content", "Think first."}},
                     {{"role", "assistant"}, {"content", "<think>\nhmm\n</think>\n\nDone."}},
                     {{"role", "user"}, {"content", "Again"}}}},
                   {"add_generation_prompt", true}};
  json bad_roles = {
      {"messages", {{{"role", "user"}, {"content", "a"}}, {{"role", "user"}, {"content", "b"}}}},
      {"add_generation_prompt", true}};
  json out = json::array({simple, with_system, tools, thinking, bad_roles});
  for (json& c : out) {
    c["bos_token"] = "<s>";
    c["eos_token"] = "</s>";
  }
  return out;
}

std::vector<reference::Case> FeatureCases() {
  json ctx = {{"xs", {3, 1, 2}},
              {"words", {"b", "A", "c", "a"}},
              {"d", {{"k", "v"}, {"n", 2}, {"f", 1.5}, {"nested", {{"x", {1, 2}}}}}},
              {"msgs",
               {{{"role", "user"}, {"content", "hi"}},
                {{"role", "assistant"}, {"content", "yo"}, {"extra", nullptr}}}},
              {"s", "  Hello, World  "},
              {"empty", ""},
              {"t", true},
              {"nothing", nullptr}};
  std::vector<std::string> sources = {
      "{{ 1 + 2 * 3 - 4 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ 2 ** 8 }} {{ 2 ** -1 }}",
      "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1.5e-7 }} {{ 100.0 }} {{ 1/3 }}",
      "{{ 'a' ~ 1 ~ 2.0 ~ none ~ true ~ nope }}|{{ 'ab' * 2 }}|{{ [1] + [2] }}",
      "{{ xs }} {{ d }} {{ (1, 'a') }} {{ msgs[1] }} {{ \"it's\" }} {{ ['it\\'s', \"q\\\"\"] }}",
      "{{ xs[0] }}{{ xs[-1] }}{{ xs[1:] }}{{ xs[:1] }}{{ xs[::-1] }}{{ s[2:7] }}{{ s[::3] }}",
      "{{ d.k }}{{ d['n'] }}{{ d.nested.x[1] }}{{ d.missing }}|{{ d.missing is defined }}",
      "{{ 1 < 2 <= 2 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ true == 1 }}",
      "{{ 'ell' in s }} {{ 2 in xs }} {{ 'k' in d }} {{ 9 not in xs }} {{ 'x' in nope }}",
      "{{ t and 'yes' }} {{ nothing or 'fallback' }} {{ not empty }} {{ 'a' if t else 'b' }}",
      "{{ 'x' if false }}|{{ nope }}|{{ nope is undefined }}|{{ nothing is none }}",
      "{% if xs|length > 2 %}long{% elif xs %}short{% else %}none{% endif %}",
      "{% for x in xs %}{{ loop.index }}:{{ x }}{% if not loop.last %}, {% endif %}{% endfor %}",
      "{% for x in xs %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}"
      "{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }};{% endfor %}",
      "{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% else %}none{% endfor %}",
      "{% for x in [] %}x{% else %}empty{% endfor %}",
      "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
      "{% for x in xs %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% if x == 2 %}"
      "{% break %}{% endif %}{% endfor %}",
      "{% for a in [1, 2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }}{% endfor %}"
      "{{ loop.index }}{% endfor %}",
      "{% set x = 1 %}{% for i in xs %}[{{ x }}]{% set x = i %}[{{ x }}]{% endfor %}{{ x }}",
      "{% set ns = namespace(found=false, n=0) %}{% for m in msgs %}{% if m.role == 'user' %}"
      "{% set ns.found = true %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }}"
      "{{ ns.n }}",
      "{% set a, b = 'xy' %}{{ b }}{{ a }}{% set c = (1, 2) %}{{ c }}",
      "{% set body %}\n  indented {{ 1 }}\n{% endset %}[{{ body }}]",
      "{% macro m(a, b=2, c='z') %}{{ a }}{{ b }}{{ c }}{{ xs|length }}{% endmacro %}"
      "{{ m(1) }} {{ m(1, 3) }} {{ m(1, c='q') }}",
      "{% macro box() %}<{{ caller() }}>{% endmacro %}{% call box() %}in{{ xs[0] }}{% endcall %}",
      "{% filter upper %}abc{{ s }}{% endfilter %}",
      "{% raw %}{{ x }}{% if %}{% endraw %}",
      "{{ s|trim }}|{{ s|upper }}|{{ s|lower }}|{{ 'hello big-world (x)'|title }}|"
      "{{ 'hELLO'|capitalize }}",
      "{{ xs|length }}{{ s|count }}{{ xs|first }}{{ xs|last }}{{ xs|join(', ') }}{{ words|join }}",
      "{{ nope|default('d') }}{{ nothing|default('d') }}{{ empty|d('e', true) }}",
      "{{ s|replace('l', 'L') }}{{ s|replace('l', 'L', 1) }}{{ 'ab'|replace('', '-') }}",
      "{{ d|tojson }}|{{ msgs|tojson(indent=2) }}|{{ 'é\"\\n'|tojson }}|{{ "
      "d|tojson(sort_keys=true) }}",
      "{{ xs|list }}{{ 'ab'|list }}{{ d|list }}{{ d|items|list }}",
      "{{ 3|string }}{{ '42'|int + 1 }}{{ ' 7 '|int }}{{ '3.9'|int }}{{ 'x'|int(5) }}{{ 2.7|int }}",
      "{{ '1.5'|float }}{{ 'x'|float }}{{ 3|float }}{{ -2|abs }}{{ -2.5|abs }}",
      "{{ 2.5|round }}{{ 3.5|round }}{{ 2.675|round(2) }}{{ 7|round }}{{ 2.1|round(0, 'ceil') }}"
      "{{ 2.9|round(method='floor') }}",
      "{{ 'x'|safe }}{{ xs|sort }}{{ xs|sort(reverse=true) }}{{ words|sort }}"
      "{{ words|sort(case_sensitive=true) }}{{ words|unique|list }}",
      "{{ msgs|selectattr('role', 'equalto', 'user')|list }}"
      "{{ msgs|rejectattr('role', 'eq', 'user')|map(attribute='content')|list }}"
      "{{ msgs|selectattr('extra')|list }}{{ msgs|map(attribute='missing', default='m')|list }}",
      "{{ xs|select('odd')|list }}{{ xs|reject('odd')|list }}{{ words|map('upper')|join }}"
      "{{ xs|select('divisibleby', 3)|list }}",
      "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ xs|reverse|list }}",
      "{{ s.strip() }}|{{ s.lstrip() }}|{{ s.rstrip() }}|{{ 'xxhixx'.strip('x') }}|"
      "{{ s.split(',') }}{{ 'a b  c'.split() }}{{ 'a,b,c'.split(',', 1) }}",
      "{{ s.startswith('  H') }}{{ s.endswith(('x', '  ')) }}{{ s.upper() }}{{ s.lower() }}"
      "{{ 'hi there'.title() }}{{ s.replace('o', '0') }}{{ s.find('W') }}",
      "{{ d.get('k') }}{{ d.get('zz') }}{{ d.get('zz', 1) }}{{ d.keys()|list }}"
      "{{ d.values()|list|length }}",
      "{% set l = [] %}{{ l.append(1) }}{{ l.append(2) or '' }}{{ l }}",
      "{{ 1 is number }}{{ 1.0 is integer }}{{ 1 is integer }}{{ 'a' is string }}"
      "{{ d is mapping }}{{ xs is iterable }}{{ xs is sequence }}{{ t is boolean }}"
      "{{ t is true }}{{ t is false }}{{ 2 is even }}{{ 2 is odd }}{{ 6 is divisibleby(4) }}"
      "{{ 1 is eq 1 }}{{ 1 is in xs }}{{ nope is iterable }}{{ nothing is not none }}",
      "{{ range(5)|list }}{{ range(2, 8, 3)|list }}{{ range(5, 0, -2)|list }}"
      "{{ dict(a=1, b='x') }}{{ namespace(a=1).a }}",
      "{{ strftime_now('%Y-%m-%d %d %b %Y') }}",
      "  {% if t %}\n    yes\n  {% endif %}\n  {# comment #}\nend\n",
      "a  {{- 'b' -}}  c {%- if t -%}  d  {%- endif %}  e\n\n",
      "{%+ if t %}x{% endif +%}\n  {%+ if t %}y{% endif %}\n",
      "{{ raise_exception('boom') }}",
      "{{ nope.attr }}",
      "{{ 1 + 'a' }}",
      "{{ d.k.missing.deeper }}",
      "{% generation %}gen {{ xs[0] }}{% set inner = 1 %}{% endgeneration %}{{ inner }}",
      "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}",
      "{{ 'a' 'b' }}{{ \"\\x41\\u00e9\\t|\" }}{{ '\\d' }}",
      "{{ xs.0 }}{{ (xs|first) + 1 }}{{ -xs[0] }}{{ (1, 2)[1] }}{{ [1, [2, 3]][1][0] }}",
      "{{ loop }}|{{ 10 / 4 }}{{ 10 / 5 }}{{ -0.0 }}{{ 1e300 * 1e10 }}",
  };
  std::vector<reference::Case> cases;
  for (size_t i = 0; i < sources.size(); ++i) {
    cases.push_back({"feature_" + std::to_string(i), sources[i], ctx});
  }
  return cases;
}

// Less common filters, methods and operators (dictsort, sum/min/max, printf-style % and
// |format, str.format, splitlines/rsplit, Unicode upper/lower, negative round, ...), each once
// a difference from Jinja2 we fixed, and the edge cases around them.
std::vector<reference::Case> MoreFeatureCases() {
  json ctx = json::parse(R"({"xs": [3, 1, 2], "words": ["b", "A", "c", "a"],
    "d": {"k": "v", "n": 2, "f": 1.5, "nested": {"x": [1, 2]}},
    "msgs": [{"role": "user", "content": "hi", "n": 1},
             {"role": "assistant", "content": "yo", "extra": null, "n": 2},
             {"role": "system", "content": ["x"], "n": 3}],
    "s": "  Hello, World  ", "empty": "", "t": true, "nothing": null,
    "messages": [{"role": "user", "content": "é"}]})");
  std::vector<std::string> sources = {
      "{{ d|dictsort }}{% for k, v in d|dictsort %}{{ k }}{% endfor %}{{ "
      "d|dictsort(reverse=true)|first }}",
      "{{ xs|sum }}{{ xs|min }}{{ xs|max }}{{ [1.5, 2]|sum }}{{ msgs|sum(attribute='n', start=10) "
      "}}",
      "{{ '%s-%d'|format('a', 3) }}|{{ '%s' % 'x' }}|{{ '%s and %s' % ('a', 'b') }}|{{ '%05.1f' % "
      "3.14159 }}",
      "{{ msgs|join(', ', attribute='role') }}|{{ msgs|map(attribute='role')|join('/') }}",
      "{{ 'a\\nb\\r\\nc\\n'.splitlines() }}{{ 'a,b,c'.rsplit(',', 1) }}{{ 'a b'.rsplit() }}",
      "{% for x in xs %}{{ loop.cycle('a', 'b') }}{{ loop.depth }}{{ loop.depth0 }}{% endfor %}",
      "{{ 'ABC'|lower is lower }}{{ 'ABC' is upper }}{{ 'Ünï ß'|upper }}{{ 'ÜNÏ ΣΑΣ Жж'|lower }}{{ "
      "'é✓'|length }}{{ 'ωя ÿ'.upper() }}",
      "{{ {'b': 1, 'a': 2}|tojson }}{{ {'b': 1, 'a': {}}|tojson(indent=2) }}{{ []|tojson(indent=2) "
      "}}{{ [[]]|tojson(indent=1) }}",
      "{{ 1.0|tojson }}{{ 1e16|tojson }}{{ none|tojson }}{{ true|tojson }}{{ 'x'|tojson }}{{ "
      "0.1|tojson }}{{ -0.0|tojson }}",
      "{{ d|string }}{{ xs|string }}{{ none|string }}{{ (1,'a')|string }}{{ [none, true, 1.5, "
      "'q\\'s']|string }}",
      "{{ d.items()|list }}{{ d.keys()|first }}",
      "{{ s[:5] }}{{ s[-3:] }}{{ s[100:] }}{{ xs[-10:] }}{{ xs[::2] }}",
      "{{ 1 / 0 }}",
      "{{ 1 // 0 }}",
      "{{ 1 % 0 }}",
      "{{ none < 1 }}",
      "{{ 'a' < 1 }}",
      "{% include 'x' %}",
      "{% extends 'x' %}",
      "{{ xs|map('string')|join('-') }}{{ xs|map('int')|list }}{{ words|map('length')|list }}",
      "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
      "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, b=2) }}",
      "{% macro m(a, b) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(b=1, a=2) }}{{ m(1) }}",
      "{{ 'abc'|replace('b', '') }}|{{ '  xx y xx '|trim('x ') }}|{{ xs|length if xs else 0 }}",
      "{{ 'a' in ['a', 'b'] and not 'c' in ['a'] }}{{ not 1 == 2 }}{{ not none is none }}",
      "{{ -1 ** 2 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ (-2) ** 2 }} {{ 2 * -1 }}",
      "{{ 'abc'.upper().lower() }}{{ 3 is divisibleby 3 }}{{ xs|first is number }}",
      "{{ (xs|selectattr('x', 'defined')|list)|length }}{{ \"{{\" }}{{ "
      "'\\u00e9'|tojson(ensure_ascii=true) }}",
      "{{ d|tojson(separators=(',', ':')) }}{{ d|tojson(indent=0) }}",
      "{% for a, b in [[1, 2], [3, 4]] %}{{ a }}{{ b }}{% endfor %}{% for a, b in d.items() %}{{ a "
      "}}{% endfor %}",
      "{% for a, b in [[1, 2, 3]] %}{{ a }}{% endfor %}",
      "{{ 'x'.zfill(3) }}{{ 'abcabc'.rfind('c') }}{{ 'abc'.removeprefix('a') }}{{ "
      "'abc'.removesuffix('c') }}",
      "{{ '{} and {}'.format('a', 'b') }}{{ '{0}{name}'.format(1, name='n') }}",
      "{{ \"abc\" * 0 }}{{ [] * 3 }}{{ 'a' ~ [1, 2] }}{{ true + 1 }}{{ d.get('k', 'x')|upper }}",
      "{% if not nothing is none %}a{% else %}b{% endif %}",
      "{{ msgs|rejectattr('role', 'in', ['system', 'tool'])|list|length }}{{ "
      "msgs|selectattr('content', 'string')|list|length }}",
      "{{ 'a\\n\\nb\\n c'|indent(4, first=true, blank=true) }}|{{ 'a\\n\\nb'|indent('> ') }}|{{ "
      "'a\\nb'|indent(width=2) }}",
      "{{ 'A-B'.split('-')|map('lower')|join }}{% set a = [1, 2] %}{% set b = a + [3] %}{{ a }}{{ "
      "b }}",
      "{{ xs[10] }}|{{ xs[10] is defined }}|{{ d['missing'] is defined }}",
      "{{ xs[10].foo }}",
      "{{ d['missing']['x'] }}",
      "{{ 'x' if none is none }}{{ (1 if true else 2) + 1 }}{{ {'a': 1}.a }}{{ {'a': 1}['a'] }}",
      "{%- if true -%}\n\n  x  \n\n{%- endif -%}",
      "{{ 1e-5 }} {{ 123456789.0 }} {{ 1.5e300 }} {{ 0.000123 }} {{ 12345678901234567.0 }} {{ 1e15 "
      "}} {{ 1e-4 }} {{ 3.0e0 }}",
      "{{ [3, 1]|sort|first }}{{ msgs|sort(attribute='role')|map(attribute='role')|list }}{{ [[2, "
      "'b'], [1, 'a']]|sort|list }}",
      "{{ xs|unique|list }}{{ ['a', 'A', 'b']|unique|list }}{{ ['a', "
      "'A']|unique(case_sensitive=true)|list }}",
      "{{ 'Hello'[0] }}{{ 'Hello'[-1] }}{{ 'Hello'|first }}{{ 'Hello'|last }}{{ 'héllo'|reverse "
      "}}{{ 'héllo'[1] }}",
      "{{ 'a' == 'a' == 'a' }}{{ 1 < 2 > 1 }}{{ 1 != 1.0 }}{{ [1, 2] == [1, 2] }}{{ {'a': 1} == "
      "{'a': 1} }}{{ none == none }}",
      "{{ xs|select('gt', 1)|list }}{{ xs|select('>', 1)|list }}{{ xs|reject('==', 1)|list }}{{ "
      "words|select('in', ['a', 'b'])|list }}",
      "{{ msgs|selectattr('role', '==', 'user')|list|length }}{{ "
      "msgs|map(attribute='role')|select('equalto', 'user')|list }}",
      "{% set x = 1 %}{% macro f() %}{{ x }}{% set x = 2 %}{{ x }}{% endmacro %}{{ f() }}{{ x }}",
      "{% for i in range(3) %}{% set outer = i %}{% endfor %}{{ outer }}",
      "{% set ns = namespace(items=[]) %}{% set ns.items = ns.items + [1] %}{{ ns.items }}{{ ns }}",
      "{{ dict(a=1)|tojson }}{{ dict(xs=[1])|items|list }}{{ dict() }}",
      "{{ '3.5e2'|float }}{{ 'inf'|float }}{{ 'nan'|float }}{{ none|float }}{{ true|float }}",
      "{{ 2.5|round(0) }}{{ -2.5|round }}{{ 1234.5678|round(-2) }}{{ 0.5|round }}{{ 1.5|round }}",
      "{{ 'x'|default }}{{ nope|default }}{{ nope|default(none) }}|{{ false|default('f', true) "
      "}}{{ 0|d('z', boolean=true) }}",
      "{{ msgs[0].role|capitalize }}{{ 'hello WORLD'|capitalize }}{{ \"it's a test-case "
      "o'neil\"|title }}",
      "{% set t %}{{ xs|length }}{% endset %}{{ t|int + 1 }}{{ t is string }}",
      "{% filter trim %}   padded   {% endfilter %}|{% filter replace('a', 'b') %}aaa{% endfilter "
      "%}",
      "{{ caller }}",
      "{% macro outer() %}{{ caller('x') }}{% endmacro %}{% call(v) outer() %}[{{ v }}]{% endcall "
      "%}",
      "{{ 'a' + none }}",
      "{{ xs + 'a' }}",
      "{{ nope + 1 }}",
      "{{ nope ~ 'x' }}|{{ nope|length }}|{{ nope|list }}|{{ nope is string }}|{% for x in nope "
      "%}y{% endfor %}",
      "{{ nope.foo }}",
      "{{ nope() }}",
      "{{ xs.nope() }}",
      "{{ raise_exception() }}",
      "{{ raise_exception('a', 'b') }}",
      "{{ strftime_now('%A %a %B %j %H:%M:%S %p %y %%') }}",
      "{{ messages }}",
      "{{ 'a' is sameas 'a' }}{{ none is sameas none }}{{ 1 is sameas 1.0 }}{{ true is sameas 1 }}",
      "{{ xs is callable }}{{ range is callable }}{{ 'upper' is filter }}{{ 'odd' is test }}{{ "
      "'nope' is filter }}",
      "{{ '%(a)s=%(b)05d' % {'a': 'x', 'b': 42} }}|{{ '%x %X %o %#x %+d % d %-5s| %.2s %c %r' % "
      "(255, 255, 8, 255, 3, 4, 'ab', 'xyz', 65, 'q') }}",
      "{{ '%e %g %G %.3g %10.2f|%-8.1f|%%' % (12345.678, 0.00001234, 1e20, 3.14159, -2.5, 2.25) }}",
      "{{ '%d' % 3.99 }}{{ '%s %s' % [1, 2] }}{{ '%s' % none }}{{ '%5s|%-5s|' % ('é', 'é') }}",
      "{{ '%d' % 'x' }}",
      "{{ '[%s]' % nope }}{{ '%c%c' % (233, 'x') }}",
      "{{ '%d' % nope }}",
      "{{ '%c' % -1 }}",
      "{{ '%s %s' % ('a',) }}",
      "{{ '%s' % ('a', 'b') }}",
      "{{ d|dictsort(by='value') }}",
      "{{ {'b': 2, 'A': 1, 'a': 3}|dictsort }}{{ {'b': 2, 'A': 1, 'c': 3}|dictsort(true) }}"
      "{{ {'x': 2, 'y': 1}|dictsort(by='value') }}",
      "{{ msgs|max(attribute='n') }}{{ msgs|min(attribute='role') }}{{ words|max }}{{ words|min }}"
      "{{ words|max(case_sensitive=true) }}{{ []|max }}",
      "{{ 2.5|round(-1) }}{{ 15.0|round(-1) }}{{ 25|round(-1) }}{{ 1234.5|round(-5) }}",
      "{{ '{}-{}'.format(1) }}",
      "{{ '{:>5}|{:<4}|{:^7}|{:*^7}|{:05d}|{:+.2f}|{:x}|{:#o}|{:e}|{:.3}|{}|{:10}|'.format("
      "'ab', 'cd', 'mid', 'é', -42, 3.14159, 255, 8, 1234.5, 2.71828, 0.1, true) }}",
      "{{ '{:d}'.format('x') }}",
      "{{ '{:s}'.format(1) }}",
      "{{ '{0}{1}{0}'.format('a', 'b') }}{{ '{{x}}'.format() }}",
      "{% set l = [] %}{{ l.append(l) }}{{ l }}{{ l == l }}{{ [l] == [l] }}",
      "{% set d = {'a': 1} %}{% set l = [d, (1,)] %}{{ l.append(l) }}{{ l }}{{ l|length }}",
      "{% set l = [] %}{{ l.append(l) }}{{ l|tojson }}",
      "{{ 'aXbXc'.rsplit('X') }}{{ 'aXbXc'.rsplit('X', 0) }}{{ '  a  b  c  '.rsplit(None, 1) }}"
      "{{ 'a\\n\\nb'.splitlines(true) }}{{ ''.splitlines() }}{{ '-5'.zfill(4) }}",
  };
  std::vector<reference::Case> cases;
  for (size_t i = 0; i < sources.size(); ++i) {
    cases.push_back({"more_feature_" + std::to_string(i), sources[i], ctx});
  }
  return cases;
}

// Chat templates written in the style of the popular model families.
std::vector<std::pair<std::string, std::string>> ChatTemplates() {
  return {
      {"chatml_qwen25_tools",
       "{%- if tools %}\n"
       "    {{- '<|im_start|>system\\n' }}\n"
       "    {%- if messages[0]['role'] == 'system' %}\n"
       "        {{- messages[0]['content'] }}\n"
       "    {%- else %}\n"
       "        {{- 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.' }}\n"
       "    {%- endif %}\n"
       "    {{- \"\\n\\n# Tools\\n\\nYou may call one or more functions.\\n\\n<tools>\" }}\n"
       "    {%- for tool in tools %}\n"
       "        {{- \"\\n\" }}\n"
       "        {{- tool | tojson }}\n"
       "    {%- endfor %}\n"
       "    {{- \"\\n</tools>\\n\\nFor each function call, return a json object:\\n<tool_call>\\n"
       "{\\\"name\\\": <function-name>, \\\"arguments\\\": <args-json-object>}\\n</tool_call>"
       "<|im_end|>\\n\" }}\n"
       "{%- else %}\n"
       "    {%- if messages[0]['role'] == 'system' %}\n"
       "        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
       "    {%- else %}\n"
       "        {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a "
       "helpful assistant.<|im_end|>\\n' }}\n"
       "    {%- endif %}\n"
       "{%- endif %}\n"
       "{%- for message in messages %}\n"
       "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) "
       "or "
       "(message.role == \"assistant\" and not message.tool_calls) %}\n"
       "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + "
       "'\\n' }}\n"
       "    {%- elif message.role == \"assistant\" %}\n"
       "        {{- '<|im_start|>' + message.role }}\n"
       "        {%- if message.content %}\n"
       "            {{- '\\n' + message.content }}\n"
       "        {%- endif %}\n"
       "        {%- for tool_call in message.tool_calls %}\n"
       "            {%- if tool_call.function is defined %}\n"
       "                {%- set tool_call = tool_call.function %}\n"
       "            {%- endif %}\n"
       "            {{- '\\n<tool_call>\\n{\"name\": \"' }}\n"
       "            {{- tool_call.name }}\n"
       "            {{- '\", \"arguments\": ' }}\n"
       "            {{- tool_call.arguments | tojson }}\n"
       "            {{- '}\\n</tool_call>' }}\n"
       "        {%- endfor %}\n"
       "        {{- '<|im_end|>\\n' }}\n"
       "    {%- elif message.role == \"tool\" %}\n"
       "        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != \"tool\") %}\n"
       "            {{- '<|im_start|>user' }}\n"
       "        {%- endif %}\n"
       "        {{- '\\n<tool_response>\\n' }}\n"
       "        {{- message.content }}\n"
       "        {{- '\\n</tool_response>' }}\n"
       "        {%- if loop.last or (messages[loop.index0 + 1].role != \"tool\") %}\n"
       "            {{- '<|im_end|>\\n' }}\n"
       "        {%- endif %}\n"
       "    {%- endif %}\n"
       "{%- endfor %}\n"
       "{%- if add_generation_prompt %}\n"
       "    {{- '<|im_start|>assistant\\n' }}\n"
       "{%- endif %}\n"},
      {"llama31_tools",
       "{{- bos_token }}\n"
       "{%- if not date_string is defined %}\n"
       "    {%- set date_string = strftime_now(\"%d %b %Y\") %}\n"
       "{%- endif %}\n"
       "{%- if messages[0]['role'] == 'system' %}\n"
       "    {%- set system_message = messages[0]['content']|trim %}\n"
       "    {%- set messages = messages[1:] %}\n"
       "{%- else %}\n"
       "    {%- set system_message = \"\" %}\n"
       "{%- endif %}\n"
       "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n"
       "{%- if tools is not none and tools is defined %}\n"
       "    {{- \"Environment: ipython\\n\" }}\n"
       "{%- endif %}\n"
       "{{- \"Cutting Knowledge Date: December 2023\\n\" }}\n"
       "{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
       "{{- system_message }}\n"
       "{{- \"<|eot_id|>\" }}\n"
       "{%- if tools is defined and tools is not none and messages|length > 0 %}\n"
       "    {%- set first_user_message = messages[0]['content']|trim %}\n"
       "    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}\n"
       "    {{- \"Given the following functions, respond with a JSON function call.\\n\\n\" }}\n"
       "    {%- for t in tools %}\n"
       "        {{- t | tojson(indent=4) }}\n"
       "        {{- \"\\n\\n\" }}\n"
       "    {%- endfor %}\n"
       "    {{- first_user_message + \"<|eot_id|>\"}}\n"
       "    {%- set messages = messages[1:] %}\n"
       "{%- endif %}\n"
       "{%- for message in messages %}\n"
       "    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in "
       "message) %}\n"
       "        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ "
       "message['content'] | trim + '<|eot_id|>' }}\n"
       "    {%- elif 'tool_calls' in message %}\n"
       "        {%- if not message.tool_calls|length == 1 %}\n"
       "            {{- raise_exception(\"This model only supports single tool-calls at once!\") "
       "}}\n"
       "        {%- endif %}\n"
       "        {%- set tool_call = message.tool_calls[0].function %}\n"
       "        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}\n"
       "        {{- '{\"name\": \"' + tool_call.name + '\", ' }}\n"
       "        {{- '\"parameters\": ' }}\n"
       "        {{- tool_call.arguments | tojson }}\n"
       "        {{- \"}\" }}\n"
       "        {{- \"<|eot_id|>\" }}\n"
       "    {%- elif message.role == \"tool\" or message.role == \"ipython\" %}\n"
       "        {{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}\n"
       "        {%- if message.content is mapping or message.content is iterable %}\n"
       "            {{- message.content | tojson }}\n"
       "        {%- else %}\n"
       "            {{- message.content }}\n"
       "        {%- endif %}\n"
       "        {{- \"<|eot_id|>\" }}\n"
       "    {%- endif %}\n"
       "{%- endfor %}\n"
       "{%- if add_generation_prompt %}\n"
       "    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n"
       "{%- endif %}\n"},
      {"mistral",
       "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != "
       "(loop.index0 % 2 == 0) and message['role'] != 'system' and message['role'] != 'tool' "
       "and not message.tool_calls %}{{ raise_exception('Conversation roles must alternate "
       "user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}"
       "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' "
       "%}{{ message['content'] + eos_token}}{% endif %}{% endfor %}"},
      {"gemma",
       "{{ bos_token }}\n"
       "{%- if messages[0]['role'] == 'system' -%}\n"
       "    {%- set first_user_prefix = messages[0]['content'] + '\\n\\n' -%}\n"
       "    {%- set loop_messages = messages[1:] -%}\n"
       "{%- else -%}\n"
       "    {%- set first_user_prefix = \"\" -%}\n"
       "    {%- set loop_messages = messages -%}\n"
       "{%- endif -%}\n"
       "{%- for message in loop_messages -%}\n"
       "    {%- if (message['role'] == 'assistant') -%}\n"
       "        {%- set role = \"model\" -%}\n"
       "    {%- else -%}\n"
       "        {%- set role = message['role'] -%}\n"
       "    {%- endif -%}\n"
       "    {{ '<start_of_turn>' + role + '\\n' + (first_user_prefix if loop.first else \"\") }}\n"
       "    {%- if message['content'] is string -%}\n"
       "        {{ message['content'] | trim }}\n"
       "    {%- endif -%}\n"
       "    {{ '<end_of_turn>\\n' }}\n"
       "{%- endfor -%}\n"
       "{%- if add_generation_prompt -%}\n"
       "    {{'<start_of_turn>model\\n'}}\n"
       "{%- endif -%}\n"},
      {"phi3",
       "{% for message in messages %}{% if message['role'] == 'system' %}"
       "{{'<|system|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == 'user' "
       "%}{{'<|user|>\\n' + message['content'] + '<|end|>\\n'}}{% elif message['role'] == "
       "'assistant' %}{{'<|assistant|>\\n' + message['content'] + '<|end|>\\n'}}{% endif %}"
       "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% else %}"
       "{{ eos_token }}{% endif %}"},
      {"deepseek_r1",
       "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}"
       "{% endif %}{% set ns = namespace(is_first=false, is_tool=false, system_prompt='') %}"
       "{%- for message in messages %}{%- if message['role'] == 'system' %}"
       "{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}"
       "{{ bos_token }}{{ ns.system_prompt }}"
       "{%- for message in messages %}"
       "{%- if message['role'] == 'user' %}{%- set ns.is_tool = false -%}"
       "{{'<｜User｜>' + message['content']}}{%- endif %}"
       "{%- if message['role'] == 'assistant' and message['content'] is not none and "
       "not message.tool_calls %}"
       "{% set content = message['content'] %}{% if '</think>' in content %}"
       "{% set content = content.split('</think>')[-1] %}{% endif %}"
       "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}"
       "{%- if message['role'] == 'assistant' and message.tool_calls %}"
       "{%- for tool in message['tool_calls'] %}"
       "{{'<｜tool▁call▁begin｜>' + tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + "
       "'\\n```json\\n' + tool['function']['arguments']|tojson + '\\n```<｜tool▁call▁end｜>'}}"
       "{%- endfor %}{%- endif %}"
       "{%- if message['role'] == 'tool' %}{%- set ns.is_tool = true -%}"
       "{{'<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}{%- endif %}"
       "{%- endfor -%}"
       "{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜><think>\\n'}}"
       "{% endif %}"},
  };
}

TEST(JinjaReferenceTest, MatchesPythonJinja2) {
  std::vector<reference::Case> cases = FeatureCases();
  for (reference::Case& c : MoreFeatureCases()) cases.push_back(std::move(c));
  json conversations = Conversations();
  for (const auto& [name, source] : ChatTemplates()) {
    for (size_t i = 0; i < conversations.size(); ++i) {
      cases.push_back({name + "/conversation_" + std::to_string(i), source, conversations[i]});
    }
  }
  reference::Tally tally = reference::ExpectSameAsJinja2(cases);
  std::printf("%d of %d templates/contexts matched Jinja2 (%d rendered, the rest errors)\n",
              tally.matched, tally.cases, tally.rendered_by_jinja2);
  EXPECT_EQ(tally.matched, tally.cases);
  // Error cases are few and deliberate; a reference that fails everything proves nothing.
  EXPECT_GT(tally.rendered_by_jinja2, tally.cases * 3 / 4);
}

}  // namespace
}  // namespace corral::jinja
