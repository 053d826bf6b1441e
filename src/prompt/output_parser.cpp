#include "prompt/output_parser.h"

#include <cstdint>
#include <random>
#include <type_traits>
#include <utility>

#include <nlohmann/json.hpp>

#include "template/ast.h"
#include "template/parser.h"

namespace corral::prompt {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Deeper JSON is not taken for a call (and the scan, the parse and the call search stay
// shallow however hostile the output is).
constexpr int kMaxJsonDepth = 256;
// How deep the search for a {"name", "arguments"} object goes inside a value, as Ollama's
// findObject does for wrappers like {"function": {...}}.
constexpr int kMaxCallSearchDepth = 8;

// Go's unicode.IsSpace for the code point starting at s[i] (its byte length in *len). Ollama
// trims with it around the thinking tags and the tool tag.
bool SpaceAt(std::string_view s, size_t i, size_t* len) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  *len = 1;
  if (c == ' ' || (c >= '\t' && c <= '\r')) return true;
  if (c < 0x80) return false;
  if (c == 0xC2 && i + 1 < s.size()) {
    *len = 2;
    return b(1) == 0x85 || b(1) == 0xA0;  // NEL, NBSP
  }
  if ((c == 0xE1 || c == 0xE2 || c == 0xE3) && i + 2 < s.size()) {
    *len = 3;
    uint32_t cp = ((c & 0x0Fu) << 12) | ((b(1) & 0x3Fu) << 6) | (b(2) & 0x3Fu);
    return cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x202F || cp == 0x205F || cp == 0x3000;
  }
  return false;
}

size_t SkipSpace(std::string_view s, size_t pos) {
  size_t len = 1;
  while (pos < s.size() && SpaceAt(s, pos, &len)) pos += len;
  return pos;
}

// Go's strings.TrimSpace.
std::string_view TrimSpace(std::string_view s) {
  size_t start = SkipSpace(s, 0);
  size_t end = start;
  for (size_t i = start, len = 1; i < s.size(); i += len) {
    if (!SpaceAt(s, i, &len)) end = i + len;
  }
  return s.substr(start, end - start);
}

// Bytes at the end of s that start a UTF-8 sequence without all of its continuation bytes.
size_t IncompleteUtf8Tail(std::string_view s) {
  for (size_t k = 1; k <= 3 && k <= s.size(); ++k) {
    unsigned char c = static_cast<unsigned char>(s[s.size() - k]);
    if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
    size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    return need > k ? k : 0;
  }
  return 0;
}

// Length of the longest suffix of s that is a proper prefix of tag: text that may still become
// the tag once more arrives.
size_t PartialSuffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n) {
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  }
  return 0;
}

bool IsJsonStart(char c) { return c == '{' || c == '['; }

std::string NewCallId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, 35);
  std::string id = "call_";
  for (int i = 0; i < 8; ++i) id += kAlphabet[pick(rng)];
  return id;
}

// The arguments of a call object: "arguments" or else "parameters", an object or a string
// holding one (Ollama's findMap).
bool ArgumentsOf(const OrderedJson& call, OrderedJson* args) {
  for (const char* key : {"arguments", "parameters"}) {
    auto it = call.find(key);
    if (it == call.end()) continue;
    if (it->is_object()) {
      *args = *it;
      return true;
    }
    if (it->is_string()) {
      OrderedJson parsed = OrderedJson::parse(it->get_ref<const std::string&>(), nullptr, false);
      if (!parsed.is_discarded() && parsed.is_object()) {
        *args = std::move(parsed);
        return true;
      }
    }
  }
  return false;
}

// Ollama's findObject without the tool names: an object with "name" is the call (or, lacking
// arguments, no call at all); otherwise its object and array members are searched in order.
// "tool_name" stands for "name" too: command-r's template asks for it.
bool FindCall(const OrderedJson& value, int depth, std::string* name, OrderedJson* args) {
  if (!value.is_object() || depth > kMaxCallSearchDepth) return false;
  auto it = value.find("name");
  if (it == value.end()) it = value.find("tool_name");
  if (it != value.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().empty()) return false;
    if (!ArgumentsOf(value, args)) return false;
    *name = it->get<std::string>();
    return true;
  }
  for (const auto& member : value.items()) {
    const OrderedJson& child = member.value();
    if (child.is_object() && FindCall(child, depth + 1, name, args)) return true;
    if (child.is_array()) {
      for (const OrderedJson& item : child) {
        if (FindCall(item, depth + 1, name, args)) return true;
      }
    }
  }
  return false;
}

struct ParsedCall {
  std::string name;
  OrderedJson args;
};

// A JSON value that is a call, or a non-empty array of calls; false for anything else.
bool CallsFromJson(std::string_view text, std::vector<ParsedCall>* calls) {
  OrderedJson value = OrderedJson::parse(text, nullptr, false);
  if (value.is_discarded()) return false;
  if (value.is_array()) {
    if (value.empty()) return false;
    for (const OrderedJson& item : value) {
      ParsedCall call;
      if (!FindCall(item, 0, &call.name, &call.args)) return false;
      calls->push_back(std::move(call));
    }
    return true;
  }
  ParsedCall call;
  if (!FindCall(value, 0, &call.name, &call.args)) return false;
  calls->push_back(std::move(call));
  return true;
}

// --- Go template inspection ---

using tmpl::BranchNode;
using tmpl::ListNode;
using tmpl::Node;
using tmpl::NodeKind;

bool IsBranch(NodeKind k) {
  return k == NodeKind::kIf || k == NodeKind::kRange || k == NodeKind::kWith;
}

// Calls f on the children of n in the order Go's parse tree holds them (thinking/template.go's
// templateVisit: branches visit pipe, list, else list; chains are leaves).
template <typename F>
void ForEachChild(const Node& n, F&& f) {
  switch (n.kind) {
    case NodeKind::kList:
      for (const auto& c : static_cast<const ListNode&>(n).nodes) f(*c);
      break;
    case NodeKind::kIf:
    case NodeKind::kRange:
    case NodeKind::kWith: {
      const auto& b = static_cast<const BranchNode&>(n);
      if (b.pipe) f(*b.pipe);
      if (b.list) f(*b.list);
      if (b.else_list) f(*b.else_list);
      break;
    }
    case NodeKind::kAction:
      f(*static_cast<const tmpl::ActionNode&>(n).pipe);
      break;
    case NodeKind::kTemplate:
      if (const auto& p = static_cast<const tmpl::TemplateNode&>(n).pipe) f(*p);
      break;
    case NodeKind::kPipe:
      for (const auto& c : static_cast<const tmpl::PipeNode&>(n).cmds) f(*c);
      break;
    case NodeKind::kCommand:
      for (const auto& c : static_cast<const tmpl::CommandNode&>(n).args) f(*c);
      break;
    default:
      break;
  }
}

bool IsFieldNamed(const Node& n, std::string_view first) {
  if (n.kind != NodeKind::kField) return false;
  const auto& idents = static_cast<const tmpl::FieldNode&>(n).idents;
  return !idents.empty() && idents[0] == first;
}

// rangeUsesField: a .Field in the range's pipeline (at any depth).
bool PipeMentionsField(const Node& n, std::string_view field, int depth = 0) {
  if (IsFieldNamed(n, field)) return true;
  if (depth > 200) return false;
  bool found = false;
  ForEachChild(n, [&](const Node& c) { found = found || PipeMentionsField(c, field, depth + 1); });
  return found;
}

std::string TextOf(const Node& n) {
  return n.kind == NodeKind::kText ? std::string(static_cast<const tmpl::TextNode&>(n).text) : "";
}

// thinking.InferTags: at each .Thinking inside a `range .Messages`, the nearest enclosing list
// gives the opening tag (its first node, when text) and closing tag (its last node, when text).
// Later matches overwrite earlier ones, as in Ollama.
void InferThinkTags(const Node& n, std::vector<const Node*>* ancestors, std::string* open,
                    std::string* close) {
  if (ancestors->size() > 500) return;  // the parser caps nesting well below this
  ancestors->push_back(&n);
  if (IsFieldNamed(n, "Thinking")) {
    const BranchNode* range = nullptr;
    for (auto it = ancestors->rbegin(); it != ancestors->rend(); ++it) {
      if ((*it)->kind == NodeKind::kRange) {
        range = static_cast<const BranchNode*>(*it);
        break;
      }
    }
    if (range != nullptr && range->pipe && PipeMentionsField(*range->pipe, "Messages")) {
      for (auto it = ancestors->rbegin(); it != ancestors->rend(); ++it) {
        if ((*it)->kind != NodeKind::kList) continue;
        const auto& nodes = static_cast<const ListNode*>(*it)->nodes;
        if (!nodes.empty() && nodes.front()->kind == NodeKind::kText) {
          *open = std::string(TrimSpace(TextOf(*nodes.front())));
        }
        if (!nodes.empty() && nodes.back()->kind == NodeKind::kText) {
          *close = std::string(TrimSpace(TextOf(*nodes.back())));
        }
        break;
      }
    }
  }
  ForEachChild(n, [&](const Node& c) { InferThinkTags(c, ancestors, open, close); });
  ancestors->pop_back();
}

// tools.findToolCallNode: the first {{ if }} whose pipeline names .ToolCalls.
const BranchNode* FindToolCallsIf(const std::vector<tmpl::NodePtr>& nodes, int depth = 0) {
  if (depth > 500) return nullptr;
  for (const auto& node : nodes) {
    if (!IsBranch(node->kind)) continue;
    const auto& b = static_cast<const BranchNode&>(*node);
    if (node->kind == NodeKind::kIf && b.pipe) {
      for (const auto& cmd : b.pipe->cmds) {
        for (const auto& arg : cmd->args) {
          if (arg->kind != NodeKind::kField) continue;
          for (const std::string& ident : static_cast<const tmpl::FieldNode&>(*arg).idents) {
            if (ident == "ToolCalls") return &b;
          }
        }
      }
    }
    if (b.list) {
      if (const BranchNode* found = FindToolCallsIf(b.list->nodes, depth + 1)) return found;
    }
    if (b.else_list) {
      if (const BranchNode* found = FindToolCallsIf(b.else_list->nodes, depth + 1)) return found;
    }
  }
  return nullptr;
}

// tools.findTextNode: depth-first first text; an action, or a branch without text, ends it.
const tmpl::TextNode* FindFirstText(const std::vector<tmpl::NodePtr>& nodes, int depth = 0) {
  if (depth > 500) return nullptr;
  for (const auto& node : nodes) {
    switch (node->kind) {
      case NodeKind::kText:
        return static_cast<const tmpl::TextNode*>(node.get());
      case NodeKind::kAction:
        return nullptr;
      case NodeKind::kList:
        if (auto* t = FindFirstText(static_cast<const ListNode&>(*node).nodes, depth + 1)) return t;
        break;
      case NodeKind::kIf:
      case NodeKind::kRange:
      case NodeKind::kWith: {
        const auto& b = static_cast<const BranchNode&>(*node);
        if (b.list) {
          if (auto* t = FindFirstText(b.list->nodes, depth + 1)) return t;
        }
        if (b.else_list) {
          if (auto* t = FindFirstText(b.else_list->nodes, depth + 1)) return t;
        }
        return nullptr;
      }
      default:
        break;
    }
  }
  return nullptr;
}

std::string ReplaceAll(std::string s, std::string_view from, std::string_view to) {
  for (size_t i = s.find(from); i != std::string::npos; i = s.find(from, i + to.size())) {
    s.replace(i, from.size(), to);
  }
  return s;
}

// "</x>" for "<x>", "[/X]" for "[X]", the fence for a "```json" tag; empty for anything else.
std::string ClosingFormOf(std::string_view open) {
  if (open.find("```") != std::string_view::npos) return "```";
  if (open.size() < 3 || open[1] == '/') return "";
  if (open.front() == '<' && open.back() == '>') return "</" + std::string(open.substr(1));
  if (open.front() == '[' && open.back() == ']') return "[/" + std::string(open.substr(1));
  return "";
}

}  // namespace

OutputFormat OutputFormatForGoTemplate(std::string_view template_text) {
  OutputFormat format;
  format.tool_open = "{";
  auto set = tmpl::ParseTemplateSet("output", template_text);
  if (!set.ok()) return format;
  auto root_it = (*set)->trees.find((*set)->parse_name);
  if (root_it == (*set)->trees.end() || !root_it->second) return format;
  const ListNode& root = *root_it->second;

  std::vector<const Node*> ancestors;
  std::string open, close;
  InferThinkTags(root, &ancestors, &open, &close);
  // Ollama enables the thinking parser only when both tags are non-empty.
  if (!open.empty() && !close.empty()) {
    format.think_open = std::move(open);
    format.think_close = std::move(close);
  }

  if (const BranchNode* tool_if = FindToolCallsIf(root.nodes)) {
    if (const tmpl::TextNode* text =
            tool_if->list ? FindFirstText(tool_if->list->nodes) : nullptr) {
      std::string tag = ReplaceAll(std::string(TrimSpace(text->text)), "\r\n", "\n");
      tag = tag.substr(0, tag.find('{'));
      if (!tag.empty()) format.tool_open = std::move(tag);
    }
  }
  std::string closing = ClosingFormOf(format.tool_open);
  if (!closing.empty() && template_text.find(closing) != std::string_view::npos) {
    format.tool_close = std::move(closing);
  }
  return format;
}

OutputFormat OutputFormatForJinja(std::string_view chat_template) {
  OutputFormat format;
  auto has = [&](std::string_view s) { return chat_template.find(s) != std::string_view::npos; };
  if (has("<think>") && has("</think>")) {
    format.think_open = "<think>";
    format.think_close = "</think>";
  }
  if (has("<tool_call>")) {
    format.tool_open = "<tool_call>";
    format.tool_close = "</tool_call>";
  } else if (has("[TOOL_CALLS]")) {
    format.tool_open = "[TOOL_CALLS]";
  } else {
    format.tool_open = "{";
  }
  return format;
}

bool PromptOpensThinking(std::string_view prompt, const OutputFormat& format) {
  if (format.think_open.empty()) return false;
  std::string_view trimmed = TrimSpace(prompt);
  return trimmed.size() >= format.think_open.size() &&
         trimmed.substr(trimmed.size() - format.think_open.size()) == format.think_open;
}

OutputParser::OutputParser(OutputFormat format, bool thinking, bool tools)
    : format_(std::move(format)) {
  if (thinking && !format_.think_open.empty() && !format_.think_close.empty()) {
    think_state_ =
        format_.starts_in_thinking ? ThinkState::kStartEatingSpace : ThinkState::kLookingForOpen;
  }
  if (tools && !format_.tool_open.empty()) {
    // A trailing "{" or "[" is where the JSON starts ("[TOOL_CALLS] [", or the bare "{").
    std::string marker = format_.tool_open;
    if (IsJsonStart(marker.back())) marker.pop_back();
    marker = std::string(TrimSpace(marker));
    bare_ = marker.empty();
    tool_marker_ = std::move(marker);
    tool_state_ = bare_ ? ToolState::kBareStart : ToolState::kScan;
  }
}

OutputDelta OutputParser::Push(std::string_view text) {
  OutputDelta out;
  std::string input = std::move(utf8_pending_);
  utf8_pending_.clear();
  input.append(text);
  size_t tail = IncompleteUtf8Tail(input);
  utf8_pending_.assign(input, input.size() - tail, tail);
  input.resize(input.size() - tail);
  if (!input.empty()) ThinkFeed(input, false, &out);
  return out;
}

OutputDelta OutputParser::Finish() {
  OutputDelta out;
  std::string input = std::move(utf8_pending_);
  utf8_pending_.clear();
  ThinkFeed(input, true, &out);
  return out;
}

// Ollama's thinking parser: spaces before the opening tag are dropped, as are those right after
// it and right after the closing tag; the thinking keeps its trailing spaces. Output that does
// not start with the opening tag is content, untouched.
void OutputParser::ThinkFeed(std::string_view text, bool final, OutputDelta* out) {
  if (think_state_ == ThinkState::kOff || think_state_ == ThinkState::kDone) {
    ToolFeed(text, final, out);
    return;
  }
  think_buf_.append(text);
  std::string content;  // for the tool stage
  const std::string& open = format_.think_open;
  const std::string& close = format_.think_close;
  bool more = true;
  while (more) {
    more = false;
    switch (think_state_) {
      case ThinkState::kLookingForOpen: {
        think_spaces_ = SkipSpace(think_buf_, think_spaces_);  // resumes: spaces stay spaces
        std::string_view rest = std::string_view(think_buf_).substr(think_spaces_);
        if (rest.substr(0, open.size()) == open) {
          think_buf_.erase(0, think_buf_.size() - rest.size() + open.size());
          think_state_ = ThinkState::kStartEatingSpace;
          more = true;
        } else if (final || std::string_view(open).substr(0, rest.size()) != rest) {
          think_state_ = ThinkState::kDone;
          content = std::move(think_buf_);
          think_buf_.clear();
        }
        break;
      }
      case ThinkState::kStartEatingSpace:
        think_buf_.erase(0, SkipSpace(think_buf_, 0));
        if (!think_buf_.empty()) {
          think_state_ = ThinkState::kThinking;
          more = true;
        }
        break;
      case ThinkState::kThinking: {
        size_t at = think_buf_.find(close);
        if (at != std::string::npos) {
          out->thinking.append(think_buf_, 0, at);
          think_buf_.erase(0, at + close.size());
          think_state_ = ThinkState::kDoneEatingSpace;
          more = true;
        } else {
          size_t keep = final ? 0 : PartialSuffix(think_buf_, close);
          out->thinking.append(think_buf_, 0, think_buf_.size() - keep);
          think_buf_.erase(0, think_buf_.size() - keep);
        }
        break;
      }
      case ThinkState::kDoneEatingSpace:
        think_buf_.erase(0, SkipSpace(think_buf_, 0));
        if (!think_buf_.empty()) {
          think_state_ = ThinkState::kDone;
          content = std::move(think_buf_);
          think_buf_.clear();
        }
        break;
      case ThinkState::kOff:
      case ThinkState::kDone:
        break;
    }
  }
  ToolFeed(content, final, out);
}

void OutputParser::ResetJsonScan() {
  scan_pos_ = 0;
  scan_depth_ = 0;
  scan_in_string_ = false;
  scan_escaped_ = false;
  scan_invalid_ = false;
}

// Finds the end of the JSON value starting at tool_buf_[0] by bracket counting outside
// strings; the parse itself comes once it is complete. Resumes where the last call stopped.
bool OutputParser::ScanJson() {
  for (; scan_pos_ < tool_buf_.size(); ++scan_pos_) {
    char c = tool_buf_[scan_pos_];
    if (scan_in_string_) {
      if (scan_escaped_) {
        scan_escaped_ = false;
      } else if (c == '\\') {
        scan_escaped_ = true;
      } else if (c == '"') {
        scan_in_string_ = false;
      }
    } else if (c == '"') {
      scan_in_string_ = true;
    } else if (c == '{' || c == '[') {
      if (++scan_depth_ > kMaxJsonDepth) {
        scan_invalid_ = true;
        ++scan_pos_;
        return true;
      }
    } else if (c == '}' || c == ']') {
      if (--scan_depth_ <= 0) {
        ++scan_pos_;
        return true;
      }
    }
  }
  return false;
}

void OutputParser::FinishJson(size_t end, OutputDelta* out) {
  std::vector<ParsedCall> calls;
  std::string_view value = std::string_view(tool_buf_).substr(0, end);
  if (!scan_invalid_ && CallsFromJson(value, &calls)) {
    for (ParsedCall& call : calls) {
      ToolCall tc;
      tc.id = NewCallId();
      tc.index = calls_++;
      tc.name = std::move(call.name);
      tc.arguments = std::move(call.args);
      out->tool_calls.push_back(std::move(tc));
    }
    tool_state_ = ToolState::kAfterCall;
  } else {
    // Not a call: the tag, the spaces and the JSON are plain text after all.
    out->content += tool_pending_;
    out->content.append(value);
    tool_state_ = bare_ ? ToolState::kPassthrough : ToolState::kScan;
  }
  tool_pending_.clear();
  tool_buf_.erase(0, end);
  ResetJsonScan();
}

// Tool calls after Ollama's tools.Parser: with a tag, the text before it is content and JSON
// calls follow it; with bare JSON ("{"), only output whose first non-space character opens
// JSON can be a call, and anything else makes the whole output content.
void OutputParser::ToolFeed(std::string_view text, bool final, OutputDelta* out) {
  if (tool_state_ == ToolState::kOff || tool_state_ == ToolState::kPassthrough) {
    out->content.append(text);
    return;
  }
  tool_buf_.append(text);
  // Held text that will not be a call: everything goes out as content.
  auto release_all = [&](ToolState next) {
    out->content += tool_pending_;
    out->content += tool_buf_;
    tool_pending_.clear();
    tool_buf_.clear();
    ResetJsonScan();
    tool_state_ = next;
  };
  for (;;) {
    switch (tool_state_) {
      case ToolState::kOff:
      case ToolState::kPassthrough:
        release_all(tool_state_);
        return;
      case ToolState::kBareStart: {
        // Leading spaces travel with the JSON: content only if it is not a call.
        size_t start = SkipSpace(tool_buf_, 0);
        tool_pending_.append(tool_buf_, 0, start);
        tool_buf_.erase(0, start);
        if (tool_buf_.empty()) {
          if (final) release_all(ToolState::kPassthrough);
          return;
        }
        if (!IsJsonStart(tool_buf_[0])) {
          release_all(ToolState::kPassthrough);
          return;
        }
        ResetJsonScan();
        tool_state_ = ToolState::kInJson;
        break;
      }
      case ToolState::kScan: {
        size_t at = tool_buf_.find(tool_marker_);
        if (at == std::string::npos) {
          size_t keep = final ? 0 : PartialSuffix(tool_buf_, tool_marker_);
          out->content.append(tool_buf_, 0, tool_buf_.size() - keep);
          tool_buf_.erase(0, tool_buf_.size() - keep);
          return;
        }
        out->content.append(tool_buf_, 0, at);
        tool_pending_ = tool_marker_;
        tool_buf_.erase(0, at + tool_marker_.size());
        tool_state_ = ToolState::kAfterTag;
        break;
      }
      case ToolState::kAfterTag: {
        size_t start = SkipSpace(tool_buf_, 0);
        tool_pending_.append(tool_buf_, 0, start);
        tool_buf_.erase(0, start);
        if (tool_buf_.empty()) {
          if (final) release_all(ToolState::kScan);
          return;
        }
        if (IsJsonStart(tool_buf_[0])) {
          ResetJsonScan();
          tool_state_ = ToolState::kInJson;
        } else {
          // The tag is plain text; what follows it is scanned again (the spaces cannot start
          // a tag, so they go out with it).
          out->content += tool_pending_;
          tool_pending_.clear();
          tool_state_ = ToolState::kScan;
        }
        break;
      }
      case ToolState::kInJson:
        if (!ScanJson()) {
          if (final) release_all(bare_ ? ToolState::kPassthrough : ToolState::kScan);
          return;
        }
        FinishJson(scan_pos_, out);
        break;
      case ToolState::kAfterCall: {
        // Spaces between calls (and ";" between bare calls, as llama3.1 writes) are dropped.
        size_t start = 0;
        for (size_t len = 1; start < tool_buf_.size();) {
          if (SpaceAt(tool_buf_, start, &len)) {
            start += len;
          } else if (bare_ && tool_buf_[start] == ';') {
            ++start;
          } else {
            break;
          }
        }
        tool_buf_.erase(0, start);
        if (tool_buf_.empty()) return;
        if (IsJsonStart(tool_buf_[0])) {
          ResetJsonScan();
          tool_state_ = ToolState::kInJson;
          break;
        }
        if (bare_) {
          tool_state_ = ToolState::kPassthrough;
          break;
        }
        const std::string& close = format_.tool_close;
        if (!close.empty()) {
          std::string_view head = std::string_view(tool_buf_).substr(0, close.size());
          if (head == close) {
            tool_buf_.erase(0, close.size());
            break;
          }
          if (std::string_view(close).substr(0, head.size()) == head) {
            if (final) release_all(ToolState::kScan);
            return;
          }
        }
        tool_state_ = ToolState::kScan;
        break;
      }
    }
  }
}

}  // namespace corral::prompt
