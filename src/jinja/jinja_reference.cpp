#include "jinja/jinja_reference.h"

#include <gtest/gtest.h>

#include <chrono>

#include "testing/subprocess.h"

namespace corral::jinja::reference {
namespace {

using nlohmann::ordered_json;

// Jinja2 configured as HuggingFace's chat-template renderer: trim_blocks, lstrip_blocks,
// loopcontrols, raise_exception, strftime_now, its own tojson (ensure_ascii off, key order
// kept), and the generation tag. (HF also sandboxes the environment; templates in the corpus
// stay inside what the sandbox allows.)
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
        results.append({"ok": False, "type": type(e).__name__, "error": str(e)})
print(json.dumps(results))
)PY";

}  // namespace

Result<std::vector<Expected>> RenderWithJinja2(const std::vector<Case>& cases) {
  ordered_json request = {{"now", kFixedTime}, {"cases", ordered_json::array()}};
  for (const Case& c : cases) {
    request["cases"].push_back({{"template", c.source}, {"context", c.context}});
  }
  // Python inherits our TZ, so strftime_now's local time agrees on both sides.
  ASSIGN_OR_RETURN(
      testing::ProcessResult run,
      testing::RunProcess({"/usr/bin/python3", "-c", kReferenceScript}, {}, request.dump()));
  if (run.exit_code != 0) {
    return InternalError(
        "Jinja2 reference failed (python3-jinja2 missing? run "
        "scripts/install-deps.sh): " +
        run.err);
  }
  nlohmann::json results = nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  if (!results.is_array() || results.size() != cases.size()) {
    return InternalError("Jinja2 reference gave unexpected output: " + run.out.substr(0, 500));
  }
  std::vector<Expected> expected;
  for (const auto& r : results) {
    Expected e;
    e.ok = r.at("ok").get<bool>();
    if (e.ok) {
      e.text = r.at("text").get<std::string>();
    } else {
      e.error = r.at("type").get<std::string>() + ": " + r.at("error").get<std::string>();
    }
    expected.push_back(std::move(e));
  }
  return expected;
}

Options ReferenceOptions() {
  Options options;
  options.clock = [] { return std::chrono::system_clock::from_time_t(kFixedTime); };
  return options;
}

Tally ExpectSameAsJinja2(const std::vector<Case>& cases) {
  Tally tally;
  tally.cases = static_cast<int>(cases.size());
  Result<std::vector<Expected>> expected = RenderWithJinja2(cases);
  if (!expected.ok()) {
    ADD_FAILURE() << expected.status().ToString();
    return tally;
  }
  const Options options = ReferenceOptions();
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name + "\n" + cases[i].source);
    Result<Template> t = Template::Parse(cases[i].source, options);
    Result<std::string> ours =
        t.ok() ? t->RenderOrdered(cases[i].context) : Result<std::string>(t.status());
    const Expected& want = (*expected)[i];
    if (want.ok) {
      ++tally.rendered_by_jinja2;
      if (!ours.ok()) {
        ADD_FAILURE() << "Jinja2 rendered but we failed: " << ours.status().ToString()
                      << "\nJinja2 rendered:\n"
                      << want.text;
        continue;
      }
      EXPECT_EQ(*ours, want.text);
      if (*ours == want.text) ++tally.matched;
      continue;
    }
    if (ours.ok()) {
      ADD_FAILURE() << "Jinja2 failed with " << want.error << " but we rendered:\n" << *ours;
      continue;
    }
    // A template's own raise_exception must reach the caller word for word.
    const std::string raised = "TemplateError: ";
    if (want.error.rfind(raised, 0) == 0) {
      EXPECT_EQ(ours.status().message(), want.error.substr(raised.size()));
      if (ours.status().message() != want.error.substr(raised.size())) continue;
    }
    ++tally.matched;
  }
  return tally;
}

}  // namespace corral::jinja::reference
