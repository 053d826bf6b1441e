// Renders a corpus of templates with our interpreter and with Python's Jinja2 (the behaviour
// GGUF chat templates are written against) and asserts identical output, errors included.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jinja/template.h"
#include "testing/subprocess.h"

namespace corral::jinja {
namespace {

using nlohmann::json;

constexpr int64_t kFixedTime = 1722470400;  // 2024-08-01, for strftime_now on both sides

// Jinja2 configured as HuggingFace's chat-template renderer: trim_blocks, lstrip_blocks,
// loopcontrols, raise_exception, strftime_now, its own tojson, and the generation tag.
constexpr char kReferenceScript[] = R"PY(
import datetime, json, sys
try:
    import jinja2
    from jinja2 import nodes
    from jinja2.ext import Extension
except ImportError:
    print("python3-jinja2 is missing: run scripts/install-deps.sh", file=sys.stderr)
    sys.exit(3)

class Generation(Extension):
    tags = {"generation"}
    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)
    def _render(self, caller):
        return caller()

def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)

request = json.load(sys.stdin)
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True,
                         extensions=["jinja2.ext.loopcontrols", Generation])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
now = datetime.datetime.fromtimestamp(request["now"])
env.globals["strftime_now"] = lambda fmt: now.strftime(fmt)
results = []
for case in request["cases"]:
    try:
        text = env.from_string(case["template"]).render(**case["context"])
        results.append({"ok": True, "text": text})
    except Exception as e:
        results.append({"ok": False, "error": type(e).__name__ + ": " + str(e)})
print(json.dumps(results))
)PY";

struct Case {
  std::string name;
  std::string source;
  json context;
};

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

std::vector<Case> FeatureCases() {
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
  std::vector<Case> cases;
  for (size_t i = 0; i < sources.size(); ++i) {
    cases.push_back({"feature_" + std::to_string(i), sources[i], ctx});
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
  std::vector<Case> cases = FeatureCases();
  json conversations = Conversations();
  for (const auto& [name, source] : ChatTemplates()) {
    for (size_t i = 0; i < conversations.size(); ++i) {
      cases.push_back({name + "/conversation_" + std::to_string(i), source, conversations[i]});
    }
  }
  json request = {{"now", kFixedTime}, {"cases", json::array()}};
  for (const Case& c : cases) {
    request["cases"].push_back({{"template", c.source}, {"context", c.context}});
  }
  Result<testing::ProcessResult> run =
      testing::RunProcess({"/usr/bin/python3", "-c", kReferenceScript}, {}, request.dump());
  ASSERT_TRUE(run.ok()) << run.status().ToString()
                        << " (python3-jinja2 missing? run scripts/install-deps.sh)";
  ASSERT_EQ(run->exit_code, 0) << run->err
                               << "\nJinja2 reference failed: run scripts/install-deps.sh";
  json expected = json::parse(run->out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(expected.is_array()) << run->out;
  ASSERT_EQ(expected.size(), cases.size());

  Options options;
  options.clock = [] { return std::chrono::system_clock::from_time_t(kFixedTime); };
  int matched = 0;
  int rendered_by_jinja2 = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name + "\n" + cases[i].source);
    Result<Template> t = Template::Parse(cases[i].source, options);
    Result<std::string> ours =
        t.ok() ? t->Render(cases[i].context) : Result<std::string>(t.status());
    const json& want = expected[i];
    if (want["ok"].get<bool>()) {
      ++rendered_by_jinja2;
      ASSERT_TRUE(ours.ok()) << ours.status().ToString();
      EXPECT_EQ(*ours, want["text"].get<std::string>());
      if (ours.ok() && *ours == want["text"].get<std::string>()) ++matched;
    } else {
      EXPECT_FALSE(ours.ok()) << "Jinja2 failed with " << want["error"] << " but we rendered:\n"
                              << *ours;
      if (!ours.ok()) ++matched;
    }
  }
  std::printf("%d of %zu templates/contexts matched Jinja2 (%d rendered, the rest errors)\n",
              matched, cases.size(), rendered_by_jinja2);
  // Error cases are few and deliberate; a reference that fails everything proves nothing.
  EXPECT_GT(rendered_by_jinja2, static_cast<int>(cases.size()) * 3 / 4);
}

}  // namespace
}  // namespace corral::jinja
