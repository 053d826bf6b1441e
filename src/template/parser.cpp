#include "template/parser.h"
#include "base/strings.h"

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "template/lexer.h"

namespace corral::tmpl {
namespace {

// Parse errors unwind the recursive descent to ParseTemplateSet, which turns them into a
// Status (Go does the same with panic/recover). They never leave this file.
constexpr int kMaxParseDepth = 1000;

// {{end}} and {{else}} come back from Action as empty ListNodes whose position is one of these
// markers; an "else if"/"else with" comes back wrapped in a ListNode marked kElseChain.
constexpr int kEndMarker = -1;
constexpr int kElseMarker = -2;
constexpr int kElseChainMarker = -3;

struct ParseError {
  int pos;
  std::string message;
};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Go's strconv.Unquote for "..." and '...' literals (quotes included in `quoted`).
bool Unquote(std::string_view quoted, std::string* out) {
  char quote = quoted.front();
  std::string_view body = quoted.substr(1, quoted.size() - 2);
  for (size_t i = 0; i < body.size();) {
    char c = body[i++];
    if (c == quote) return false;
    if (c != '\\') {
      out->push_back(c);
      continue;
    }
    if (i >= body.size()) return false;
    char e = body[i++];
    switch (e) {
      case 'a':
        out->push_back('\a');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'v':
        out->push_back('\v');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '\'':
      case '"':
        if (e != quote) return false;
        out->push_back(e);
        break;
      case 'x':
      case 'u':
      case 'U': {
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + digits > body.size()) return false;
        uint32_t value = 0;
        for (int k = 0; k < digits; ++k) {
          int d = HexDigit(body[i + k]);
          if (d < 0) return false;
          value = value * 16 + static_cast<uint32_t>(d);
        }
        i += digits;
        if (e == 'x') {
          out->push_back(static_cast<char>(value));
        } else {
          if (value > 0x10FFFF || (value >= 0xD800 && value < 0xE000)) return false;
          AppendUtf8(value, out);
        }
        break;
      }
      default: {
        if (e < '0' || e > '7' || i + 2 > body.size()) return false;
        int value = e - '0';
        for (int k = 0; k < 2; ++k) {
          char d = body[i + k];
          if (d < '0' || d > '7') return false;
          value = value * 8 + (d - '0');
        }
        if (value > 255) return false;
        i += 2;
        out->push_back(static_cast<char>(value));
      }
    }
  }
  return true;
}

// Decodes the first UTF-8 sequence of `s` (for character constants).
uint32_t DecodeRune(std::string_view s, size_t* length) {
  unsigned char b0 = static_cast<unsigned char>(s[0]);
  int n = b0 < 0x80 ? 1 : (b0 >> 5) == 6 ? 2 : (b0 >> 4) == 14 ? 3 : (b0 >> 3) == 30 ? 4 : 1;
  if (static_cast<size_t>(n) > s.size()) n = 1;
  uint32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[k]) & 0x3F);
  *length = static_cast<size_t>(n);
  return cp;
}

// Fills a NumberNode from Go number syntax; false when the text is not a number.
bool ParseNumber(NumberNode* node) {
  std::string text;
  for (char c : node->text) {
    if (c != '_') text.push_back(c);
  }
  bool negative = !text.empty() && text[0] == '-';
  std::string digits =
      (!text.empty() && (text[0] == '-' || text[0] == '+')) ? text.substr(1) : text;
  if (digits.empty()) return false;
  int base = 10;
  std::string body = digits;
  if (digits.size() > 1 && digits[0] == '0') {
    char p = static_cast<char>(std::tolower(static_cast<unsigned char>(digits[1])));
    if (p == 'x')
      base = 16, body = digits.substr(2);
    else if (p == 'o')
      base = 8, body = digits.substr(2);
    else if (p == 'b')
      base = 2, body = digits.substr(2);
    else if (digits.find_first_of(".eE") == std::string::npos)
      base = 8, body = digits.substr(1);
  }
  if (base != 10 || digits.find_first_of(".eE") == std::string::npos) {
    if (body.empty()) return false;
    errno = 0;
    char* end = nullptr;
    unsigned long long magnitude = std::strtoull(body.c_str(), &end, base);
    if (*end != '\0') return false;
    if (errno == 0 && magnitude <= (negative ? 9223372036854775808ULL : 9223372036854775807ULL)) {
      node->is_int = true;
      node->int_value =
          negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
      node->float_value = static_cast<double>(node->int_value);
      return true;
    }
    if (base != 10) return false;
  }
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(text.c_str(), &end);
  if (*end != '\0' || text.find_first_of("xXpPiI") != std::string::npos) return false;
  node->is_float = true;
  node->float_value = value;
  return true;
}

class Parser {
 public:
  Parser(std::string_view name, std::string_view text)
      : name_(name), text_(text), tokens_(Lex(text)) {}

  std::shared_ptr<TemplateSet> Run() {
    auto set = std::make_shared<TemplateSet>();
    set_ = set.get();
    set->parse_name = std::string(name_);
    set->text = std::string(text_);
    auto root = std::make_unique<ListNode>(0);
    while (Peek().kind != TokenKind::kEof) {
      if (Peek().kind == TokenKind::kLeftDelim && PeekKeywordAfterDelim() == "define") {
        Next();  // {{
        Next();  // define
        ParseDefinition();
        continue;
      }
      NodePtr node = TextOrAction("input");
      if (node->kind == NodeKind::kList) {
        Fail(node->pos == kEndMarker ? "unexpected {{end}}" : "unexpected {{else}}");
      }
      root->nodes.push_back(std::move(node));
    }
    AddTree(std::string(name_), std::move(root));
    return set;
  }

 private:
  [[noreturn]] void Fail(std::string message) { throw ParseError{Peek().pos, std::move(message)}; }
  [[noreturn]] void FailAt(const Token& token, std::string message) {
    throw ParseError{token.pos, std::move(message)};
  }

  const Token& Peek() {
    if (tokens_[index_].kind == TokenKind::kError) FailAt(tokens_[index_], tokens_[index_].text);
    return tokens_[index_];
  }
  const Token& Next() {
    const Token& token = Peek();
    if (index_ + 1 < tokens_.size()) ++index_;
    return token;
  }
  const Token& PeekNonSpace() {
    while (Peek().kind == TokenKind::kSpace) Next();
    return Peek();
  }
  const Token& NextNonSpace() {
    PeekNonSpace();
    return Next();
  }
  std::string PeekKeywordAfterDelim() {
    size_t i = index_ + 1;
    while (i < tokens_.size() && tokens_[i].kind == TokenKind::kSpace) ++i;
    if (i < tokens_.size() && tokens_[i].kind == TokenKind::kKeyword) return tokens_[i].text;
    return "";
  }

  static std::string Describe(const Token& token) {
    if (token.kind == TokenKind::kEof) return "EOF";
    if (token.kind == TokenKind::kKeyword) return "<" + token.text + ">";
    if (token.kind == TokenKind::kSpace) return "space";
    return "\"" + token.text + "\"";
  }
  [[noreturn]] void Unexpected(const Token& token, std::string_view context) {
    FailAt(token, "unexpected " + Describe(token) + " in " + std::string(context));
  }

  void ExpectRightDelim(std::string_view context) {
    const Token& token = NextNonSpace();
    if (token.kind != TokenKind::kRightDelim) Unexpected(token, context);
  }

  static bool IsEmptyTree(const ListNode& list) {
    for (const NodePtr& node : list.nodes) {
      if (node->kind != NodeKind::kText) return false;
      for (char c : static_cast<const TextNode&>(*node).text) {
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
      }
    }
    return true;
  }

  void AddTree(const std::string& tree_name, std::unique_ptr<ListNode> root) {
    auto it = set_->trees.find(tree_name);
    if (it == set_->trees.end() || IsEmptyTree(*it->second)) {
      set_->trees[tree_name] = std::move(root);
    } else if (!IsEmptyTree(*root)) {
      Fail("template: multiple definition of template \"" + tree_name + "\"");
    }
  }

  std::string ParseTemplateName(std::string_view context) {
    const Token& token = NextNonSpace();
    std::string value;
    if (token.kind == TokenKind::kString) {
      if (!Unquote(token.text, &value)) FailAt(token, "invalid syntax: " + token.text);
    } else if (token.kind == TokenKind::kRawString) {
      value = token.text.substr(1, token.text.size() - 2);
    } else {
      Unexpected(token, context);
    }
    return value;
  }

  // {{define "name"}} ... {{end}}; the "{{define" tokens are consumed.
  void ParseDefinition() {
    std::string tree_name = ParseTemplateName("define clause");
    ExpectRightDelim("define clause");
    std::vector<std::string> saved_vars = std::move(vars_);
    vars_ = {"$"};
    NodePtr end;
    std::unique_ptr<ListNode> body = ItemList(&end);
    if (end->kind != NodeKind::kList || end->pos != kEndMarker) {
      Fail("unexpected {{else}} in define clause");
    }
    vars_ = std::move(saved_vars);
    AddTree(tree_name, std::move(body));
  }

  // Parses until {{end}} or {{else}}; `end` receives the end or else marker, or the branch node
  // of an "else if"/"else with".
  std::unique_ptr<ListNode> ItemList(NodePtr* end) {
    auto list = std::make_unique<ListNode>(Peek().pos);
    while (Peek().kind != TokenKind::kEof) {
      NodePtr node = TextOrAction("input");
      if (node->kind == NodeKind::kList && node->pos == kElseChainMarker) {
        *end = std::move(static_cast<ListNode&>(*node).nodes[0]);
        return list;
      }
      if (node->kind == NodeKind::kList && node->pos < 0) {
        *end = std::move(node);
        return list;
      }
      list->nodes.push_back(std::move(node));
    }
    Fail("unexpected EOF");
  }

  NodePtr TextOrAction(std::string_view context) {
    const Token& token = Next();
    if (token.kind == TokenKind::kText) return std::make_unique<TextNode>(token.pos, token.text);
    if (token.kind == TokenKind::kLeftDelim) return Action();
    Unexpected(token, context);
  }

  NodePtr Action() {
    const Token& token = PeekNonSpace();
    if (token.kind == TokenKind::kKeyword) {
      const std::string& word = token.text;
      int pos = token.pos;
      if (word == "if") return Next(), Control(NodeKind::kIf, pos, "if");
      if (word == "range") return Next(), Control(NodeKind::kRange, pos, "range");
      if (word == "with") return Next(), Control(NodeKind::kWith, pos, "with");
      if (word == "template") return Next(), TemplateControl(pos, "template clause");
      if (word == "block") return Next(), BlockControl(pos);
      if (word == "end") {
        Next();
        ExpectRightDelim("end");
        return std::make_unique<ListNode>(kEndMarker);
      }
      if (word == "else") {
        Next();
        return ElseControl();
      }
      if (word == "break" || word == "continue") {
        Next();
        if (range_depth_ == 0) FailAt(token, "{{" + word + "}} outside {{range}}");
        ExpectRightDelim(word);
        return std::make_unique<LoopControlNode>(
            word == "break" ? NodeKind::kBreak : NodeKind::kContinue, pos);
      }
      if (word == "define") FailAt(token, "unexpected <define> in command");
    }
    int pos = PeekNonSpace().pos;
    return std::make_unique<ActionNode>(pos, Pipeline("command", TokenKind::kRightDelim));
  }

  NodePtr ElseControl() {
    const Token& next = PeekNonSpace();
    if (next.kind == TokenKind::kKeyword && (next.text == "if" || next.text == "with")) {
      bool chains = (next.text == "if" && current_control_ == NodeKind::kIf) ||
                    (next.text == "with" && current_control_ == NodeKind::kWith);
      if (!chains) Unexpected(next, "input");
      // "{{else if x}}" is an if nested in the else branch that shares the outer {{end}}.
      NodeKind kind = next.text == "if" ? NodeKind::kIf : NodeKind::kWith;
      std::string context = next.text;
      int inner_pos = next.pos;
      Next();
      auto wrapper = std::make_unique<ListNode>(kElseChainMarker);
      wrapper->nodes.push_back(Control(kind, inner_pos, context));
      return wrapper;
    }
    ExpectRightDelim("else");
    return std::make_unique<ListNode>(kElseMarker);
  }

  NodePtr Control(NodeKind kind, int pos, const std::string& context) {
    DepthGuard guard(this);
    size_t vars_before = vars_.size();
    NodeKind saved_control = current_control_;
    current_control_ = kind;
    auto branch = std::make_unique<BranchNode>(kind, pos);
    branch->pipe = Pipeline(context, TokenKind::kRightDelim);
    if (branch->pipe->cmds.empty()) Fail("missing value for " + context);
    if (kind == NodeKind::kRange) ++range_depth_;
    NodePtr end;
    branch->list = ItemList(&end);
    if (kind == NodeKind::kRange) --range_depth_;
    if (end->kind == NodeKind::kList && end->pos == kElseMarker) {
      // Plain {{else}}: the else list runs to {{end}}.
      NodePtr else_end;
      branch->else_list = ItemList(&else_end);
      if (!(else_end->kind == NodeKind::kList && else_end->pos == kEndMarker)) {
        Fail("expected end; found {{else}}");
      }
    } else if (end->kind != NodeKind::kList) {
      // "else if"/"else with": the nested branch already consumed the shared {{end}}.
      branch->else_list = std::make_unique<ListNode>(end->pos);
      branch->else_list->nodes.push_back(std::move(end));
    }
    vars_.resize(vars_before);
    current_control_ = saved_control;
    return branch;
  }

  NodePtr TemplateControl(int pos, std::string_view context) {
    auto node = std::make_unique<TemplateNode>(pos, ParseTemplateName(context));
    if (PeekNonSpace().kind != TokenKind::kRightDelim) {
      node->pipe = Pipeline(context, TokenKind::kRightDelim);
    } else {
      Next();
    }
    return node;
  }

  // {{block "name" pipeline}} body {{end}} defines "name" and executes it in place.
  NodePtr BlockControl(int pos) {
    auto node = std::make_unique<TemplateNode>(pos, ParseTemplateName("block clause"));
    node->pipe = Pipeline("block clause", TokenKind::kRightDelim);
    std::vector<std::string> saved_vars = std::move(vars_);
    vars_ = {"$"};
    NodePtr end;
    std::unique_ptr<ListNode> body = ItemList(&end);
    if (!(end->kind == NodeKind::kList && end->pos == kEndMarker))
      Fail("unexpected {{else}} in block clause");
    vars_ = std::move(saved_vars);
    AddTree(node->name, std::move(body));
    return node;
  }

  // Bounds recursion (nested parentheses and control structures) so a hostile template cannot
  // overflow the stack here, in execution or in the tree's destructor.
  class DepthGuard {
   public:
    explicit DepthGuard(Parser* parser) : parser_(parser) {
      if (++parser_->depth_ > kMaxParseDepth) parser_->Fail("max expression depth exceeded");
    }
    ~DepthGuard() { --parser_->depth_; }

   private:
    Parser* parser_;
  };

  std::unique_ptr<PipeNode> Pipeline(std::string_view context, TokenKind end) {
    DepthGuard guard(this);
    auto pipe = std::make_unique<PipeNode>(PeekNonSpace().pos);
    // Declarations: "$x :=", "$x =", or "$i, $v :=" in range.
    if (PeekNonSpace().kind == TokenKind::kVariable) {
      size_t saved = index_;
      const Token& variable = Next();
      const Token& after = PeekNonSpace();
      if (after.kind == TokenKind::kDeclare || after.kind == TokenKind::kAssign) {
        pipe->is_assign = after.kind == TokenKind::kAssign;
        Next();
        pipe->decl.push_back(variable.text);
        vars_.push_back(variable.text);
      } else if (after.kind == TokenKind::kComma && context == "range") {
        Next();
        pipe->decl.push_back(variable.text);
        vars_.push_back(variable.text);
        const Token& second = NextNonSpace();
        if (second.kind != TokenKind::kVariable)
          FailAt(second, "range can only initialize variables");
        const Token& op = NextNonSpace();
        if (op.kind != TokenKind::kDeclare && op.kind != TokenKind::kAssign) {
          FailAt(op, "range can only initialize variables");
        }
        pipe->is_assign = op.kind == TokenKind::kAssign;
        pipe->decl.push_back(second.text);
        vars_.push_back(second.text);
      } else if (after.kind == TokenKind::kComma) {
        FailAt(after, "too many declarations in " + std::string(context));
      } else {
        index_ = saved;
      }
    }
    while (true) {
      const Token& token = PeekNonSpace();
      if (token.kind == end) {
        Next();
        if (pipe->cmds.empty()) FailAt(token, "missing value for " + std::string(context));
        return pipe;
      }
      if (token.kind == TokenKind::kEof || token.kind == TokenKind::kRightDelim ||
          token.kind == TokenKind::kRightParen) {
        Unexpected(token, context);
      }
      pipe->cmds.push_back(Command());
    }
  }

  std::unique_ptr<CommandNode> Command() {
    auto cmd = std::make_unique<CommandNode>(PeekNonSpace().pos);
    while (true) {
      PeekNonSpace();
      NodePtr operand = Operand();
      if (operand) cmd->args.push_back(std::move(operand));
      const Token& token = Peek();
      if (token.kind == TokenKind::kSpace) {
        Next();
        const Token& after = Peek();
        if (after.kind == TokenKind::kRightDelim || after.kind == TokenKind::kRightParen) break;
        if (after.kind == TokenKind::kPipe) {
          Next();
          break;
        }
        continue;
      }
      if (token.kind == TokenKind::kRightDelim || token.kind == TokenKind::kRightParen) break;
      if (token.kind == TokenKind::kPipe) {
        Next();
        break;
      }
      Unexpected(token, "operand");
    }
    if (cmd->args.empty()) Fail("empty command");
    return cmd;
  }

  NodePtr Operand() {
    NodePtr node = Term();
    if (!node) return nullptr;
    if (Peek().kind != TokenKind::kField) return node;
    std::vector<std::string> fields;
    while (Peek().kind == TokenKind::kField) fields.push_back(Next().text.substr(1));
    switch (node->kind) {
      case NodeKind::kField: {
        auto& field = static_cast<FieldNode&>(*node);
        field.idents.insert(field.idents.end(), fields.begin(), fields.end());
        return node;
      }
      case NodeKind::kVariable: {
        auto& variable = static_cast<VariableNode&>(*node);
        variable.idents.insert(variable.idents.end(), fields.begin(), fields.end());
        return node;
      }
      case NodeKind::kBool:
      case NodeKind::kString:
      case NodeKind::kNumber:
      case NodeKind::kNil:
      case NodeKind::kDot:
        Fail("unexpected . after term \"" + node->String() + "\"");
      default: {
        auto chain = std::make_unique<ChainNode>(node->pos, std::move(node));
        chain->fields = std::move(fields);
        return chain;
      }
    }
  }

  NodePtr Term() {
    const Token& token = NextNonSpace();
    switch (token.kind) {
      case TokenKind::kIdentifier:
        if (!IsKnownFunction(token.text)) {
          FailAt(token, "function \"" + token.text + "\" not defined");
        }
        return std::make_unique<FunctionNode>(token.pos, token.text);
      case TokenKind::kDot:
        return std::make_unique<SimpleNode>(NodeKind::kDot, token.pos);
      case TokenKind::kNil:
        return std::make_unique<SimpleNode>(NodeKind::kNil, token.pos);
      case TokenKind::kVariable: {
        bool defined = false;
        for (const std::string& v : vars_) defined = defined || v == token.text;
        if (!defined) FailAt(token, "undefined variable \"" + token.text + "\"");
        return std::make_unique<VariableNode>(token.pos, std::vector<std::string>{token.text});
      }
      case TokenKind::kField:
        return std::make_unique<FieldNode>(token.pos,
                                           std::vector<std::string>{token.text.substr(1)});
      case TokenKind::kBool:
        return std::make_unique<BoolNode>(token.pos, token.text == "true");
      case TokenKind::kNumber: {
        auto number = std::make_unique<NumberNode>(token.pos, token.text);
        if (!ParseNumber(number.get()))
          FailAt(token, "illegal number syntax: \"" + token.text + "\"");
        return number;
      }
      case TokenKind::kChar: {
        std::string value;
        if (!Unquote(token.text, &value) || value.empty()) {
          FailAt(token, "malformed character constant: " + token.text);
        }
        size_t length = 0;
        uint32_t rune = DecodeRune(value, &length);
        if (length != value.size()) FailAt(token, "malformed character constant: " + token.text);
        auto number = std::make_unique<NumberNode>(token.pos, token.text);
        number->is_int = true;
        number->int_value = rune;
        number->float_value = rune;
        return number;
      }
      case TokenKind::kString: {
        std::string value;
        if (!Unquote(token.text, &value)) FailAt(token, "invalid syntax: " + token.text);
        return std::make_unique<StringNode>(token.pos, token.text, std::move(value));
      }
      case TokenKind::kRawString: {
        std::string value = token.text.substr(1, token.text.size() - 2);
        std::string cleaned;
        for (char c : value) {
          if (c != '\r') cleaned.push_back(c);  // Go drops carriage returns from raw strings
        }
        return std::make_unique<StringNode>(token.pos, token.text, std::move(cleaned));
      }
      case TokenKind::kLeftParen: {
        auto pipe = Pipeline("parenthesized pipeline", TokenKind::kRightParen);
        return pipe;
      }
      default:
        Unexpected(token, "operand");
    }
  }

  std::string_view name_;
  std::string_view text_;
  std::vector<Token> tokens_;
  size_t index_ = 0;
  TemplateSet* set_ = nullptr;
  std::vector<std::string> vars_ = {"$"};
  int range_depth_ = 0;
  int depth_ = 0;
  NodeKind current_control_ = NodeKind::kList;  // innermost if/range/with being parsed
};

}  // namespace

bool IsKnownFunction(std::string_view name) {
  static constexpr std::string_view kNames[] = {"and",
                                                "or",
                                                "not",
                                                "len",
                                                "index",
                                                "slice",
                                                "print",
                                                "printf",
                                                "println",
                                                "eq",
                                                "ne",
                                                "lt",
                                                "le",
                                                "gt",
                                                "ge",
                                                "html",
                                                "js",
                                                "urlquery",
                                                "json",
                                                "currentDate",
                                                "yesterdayDate",
                                                "toTypeScriptType"};
  for (std::string_view known : kNames) {
    if (known == name) return true;
  }
  return false;
}

void LineAndColumn(std::string_view text, int pos, int* line, int* column) {
  size_t end = std::min(static_cast<size_t>(std::max(pos, 0)), text.size());
  *line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++*line;
      line_start = i + 1;
    }
  }
  *column = static_cast<int>(end - line_start);
}

Result<std::shared_ptr<const TemplateSet>> ParseTemplateSet(std::string_view name,
                                                            std::string_view text) {
  try {
    return std::shared_ptr<const TemplateSet>(Parser(name, text).Run());
  } catch (const ParseError& error) {
    int line = 0;
    int column = 0;
    LineAndColumn(text, error.pos, &line, &column);
    return InvalidArgumentError("template: " + std::string(name) + ":" + std::to_string(line) +
                                ": " + error.message);
  }
}

}  // namespace corral::tmpl
