#include "jinja/parser.h"

#include <set>
#include <string_view>
#include <utility>

namespace corral::jinja {
namespace {

class Parser {
 public:
  Parser(std::vector<Token> tokens, int max_depth)
      : tokens_(std::move(tokens)), max_depth_(max_depth) {}

  Result<Body> ParseTemplate() {
    ASSIGN_OR_RETURN(Body body, ParseBody({}));
    if (!AtEnd()) return Error("unexpected '" + Peek().text + "'");
    return body;
  }

 private:
  // RAII depth counter; checked by Enter().
  struct DepthGuard {
    explicit DepthGuard(int* depth) : depth_(depth) { ++*depth_; }
    ~DepthGuard() { --*depth_; }
    int* depth_;
  };

  // Each link of a left-associative chain (a + b + c, x|f|g, a.b.c) deepens the tree the
  // evaluator walks, so links count as nesting too; the depth is restored when the chain ends.
  struct ChainGuard {
    explicit ChainGuard(int* depth) : depth_(depth), saved_(*depth) {}
    ~ChainGuard() { *depth_ = saved_; }
    int* depth_;
    int saved_;
  };
  Status AddLink() {
    ++depth_;
    return Enter();
  }

  const Token& Peek(size_t ahead = 0) const {
    size_t i = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[i];
  }
  bool AtEnd() const { return Peek().kind == TokenKind::kEnd; }
  const Token& Next() {
    const Token& t = Peek();
    if (pos_ < tokens_.size() - 1) ++pos_;
    return t;
  }
  bool IsOp(std::string_view op, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kOperator && Peek(ahead).text == op;
  }
  bool IsName(std::string_view name, size_t ahead = 0) const {
    return Peek(ahead).kind == TokenKind::kName && Peek(ahead).text == name;
  }
  bool AcceptOp(std::string_view op) {
    if (!IsOp(op)) return false;
    Next();
    return true;
  }
  bool AcceptName(std::string_view name) {
    if (!IsName(name)) return false;
    Next();
    return true;
  }
  Status ExpectOp(std::string_view op) {
    if (!AcceptOp(op)) return Error("expected '" + std::string(op) + "'");
    return Status::Ok();
  }
  Status ExpectBlockEnd() {
    if (Peek().kind != TokenKind::kBlockEnd) return Error("expected end of statement block");
    Next();
    return Status::Ok();
  }
  Result<std::string> ExpectIdentifier() {
    if (Peek().kind != TokenKind::kName) return Error("expected a name");
    return Next().text;
  }
  Status Error(const std::string& message) const {
    std::string found = Peek().kind == TokenKind::kEnd ? "end of template" : Peek().text;
    return InvalidArgumentError("template syntax error at line " + std::to_string(Peek().line) +
                                ": " + message + " (found '" + found + "')");
  }
  Status Enter() const {
    if (depth_ > max_depth_) {
      return ResourceExhaustedError("template nesting deeper than " + std::to_string(max_depth_) +
                                    " levels");
    }
    return Status::Ok();
  }

  ExprPtr MakeExpr(Expr::Kind kind) const {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = Peek().line;
    return e;
  }
  ExprPtr Wrap(Expr::Kind kind, ExprPtr operand) const {
    ExprPtr e = MakeExpr(kind);
    e->args.push_back(std::move(operand));
    return e;
  }

  // Parses statements until a block whose first word is one of `end_words`; leaves the parser
  // on that word (after `{%`).
  Result<Body> ParseBody(const std::set<std::string_view>& end_words) {
    DepthGuard guard(&depth_);
    RETURN_IF_ERROR(Enter());
    Body body;
    while (!AtEnd()) {
      const Token& t = Peek();
      if (t.kind == TokenKind::kText) {
        auto stmt = std::make_unique<Stmt>();
        stmt->kind = Stmt::Kind::kText;
        stmt->text = Next().text;
        body.push_back(std::move(stmt));
      } else if (t.kind == TokenKind::kVariableBegin) {
        Next();
        auto stmt = std::make_unique<Stmt>();
        stmt->kind = Stmt::Kind::kOutput;
        stmt->line = Peek().line;
        ASSIGN_OR_RETURN(ExprPtr e, ParseTupleOrExpression());
        stmt->exprs.push_back(std::move(e));
        if (Peek().kind != TokenKind::kVariableEnd) return Error("expected '}}'");
        Next();
        body.push_back(std::move(stmt));
      } else if (t.kind == TokenKind::kBlockBegin) {
        if (Peek(1).kind == TokenKind::kName && end_words.count(Peek(1).text)) {
          Next();
          return body;
        }
        Next();
        ASSIGN_OR_RETURN(StmtPtr stmt, ParseStatement());
        body.push_back(std::move(stmt));
      } else {
        return Error("unexpected token");
      }
    }
    if (!end_words.empty()) {
      std::string expected;
      for (std::string_view w : end_words)
        expected += (expected.empty() ? "" : "' or '") + std::string(w);
      return Error("unexpected end of template, expected '" + expected + "'");
    }
    return body;
  }

  Result<StmtPtr> ParseStatement() {
    auto stmt = std::make_unique<Stmt>();
    stmt->line = Peek().line;
    ASSIGN_OR_RETURN(std::string keyword, ExpectIdentifier());
    if (keyword == "if") return ParseIf(std::move(stmt));
    if (keyword == "for") return ParseFor(std::move(stmt));
    if (keyword == "set") return ParseSet(std::move(stmt));
    if (keyword == "macro") return ParseMacro(std::move(stmt));
    if (keyword == "call") return ParseCallBlock(std::move(stmt));
    if (keyword == "filter") {
      stmt->kind = Stmt::Kind::kFilterBlock;
      ASSIGN_OR_RETURN(ExprPtr chain, ParseFilterChain());
      stmt->exprs.push_back(std::move(chain));
      RETURN_IF_ERROR(ExpectBlockEnd());
      return ParseBlockBody(std::move(stmt), "endfilter");
    }
    if (keyword == "generation") {
      stmt->kind = Stmt::Kind::kScope;
      RETURN_IF_ERROR(ExpectBlockEnd());
      return ParseBlockBody(std::move(stmt), "endgeneration");
    }
    if (keyword == "with") {
      stmt->kind = Stmt::Kind::kScope;
      while (Peek().kind != TokenKind::kBlockEnd) {
        if (!stmt->targets.empty()) RETURN_IF_ERROR(ExpectOp(","));
        ASSIGN_OR_RETURN(std::string target, ExpectIdentifier());
        RETURN_IF_ERROR(ExpectOp("="));
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
        stmt->targets.push_back(std::move(target));
        stmt->exprs.push_back(std::move(value));
      }
      Next();
      return ParseBlockBody(std::move(stmt), "endwith");
    }
    if (keyword == "break" || keyword == "continue") {
      if (loop_depth_ == 0) return Error("'" + keyword + "' outside a loop");
      stmt->kind = keyword == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
      RETURN_IF_ERROR(ExpectBlockEnd());
      return stmt;
    }
    pos_--;  // point the error at the keyword
    return Error("unknown or unsupported statement '" + keyword + "'");
  }

  Result<StmtPtr> ParseBlockBody(StmtPtr stmt, std::string_view end_word) {
    ASSIGN_OR_RETURN(Body body, ParseBody({end_word}));
    Next();
    RETURN_IF_ERROR(ExpectBlockEnd());
    stmt->bodies.push_back(std::move(body));
    return stmt;
  }

  Result<StmtPtr> ParseIf(StmtPtr stmt) {
    stmt->kind = Stmt::Kind::kIf;
    while (true) {
      ASSIGN_OR_RETURN(ExprPtr condition, ParseTupleOrExpression());
      RETURN_IF_ERROR(ExpectBlockEnd());
      ASSIGN_OR_RETURN(Body body, ParseBody({"elif", "else", "endif"}));
      stmt->exprs.push_back(std::move(condition));
      stmt->bodies.push_back(std::move(body));
      std::string word = Next().text;
      if (word == "elif") continue;
      RETURN_IF_ERROR(ExpectBlockEnd());
      if (word == "else") {
        ASSIGN_OR_RETURN(Body else_body, ParseBody({"endif"}));
        stmt->bodies.push_back(std::move(else_body));
        Next();
        RETURN_IF_ERROR(ExpectBlockEnd());
      }
      return stmt;
    }
  }

  Result<StmtPtr> ParseFor(StmtPtr stmt) {
    stmt->kind = Stmt::Kind::kFor;
    do {
      ASSIGN_OR_RETURN(std::string target, ExpectIdentifier());
      stmt->targets.push_back(std::move(target));
    } while (AcceptOp(","));
    if (!AcceptName("in")) return Error("expected 'in'");
    // The iterable is parsed without conditional expressions so `if` starts the loop filter.
    ASSIGN_OR_RETURN(ExprPtr iterable, ParseOr());
    stmt->exprs.push_back(std::move(iterable));
    if (AcceptName("if")) {
      ASSIGN_OR_RETURN(ExprPtr filter, ParseExpression());
      stmt->exprs.push_back(std::move(filter));
    }
    if (AcceptName("recursive")) return Error("recursive loops are not supported");
    RETURN_IF_ERROR(ExpectBlockEnd());
    ++loop_depth_;
    Result<Body> body = ParseBody({"else", "endfor"});
    --loop_depth_;
    if (!body.ok()) return body.status();
    stmt->bodies.push_back(std::move(body).value());
    if (Next().text == "else") {
      RETURN_IF_ERROR(ExpectBlockEnd());
      // Jinja2 allows loop controls only in the loop body, not in its else branch.
      int saved = loop_depth_;
      loop_depth_ = 0;
      Result<Body> else_body = ParseBody({"endfor"});
      loop_depth_ = saved;
      if (!else_body.ok()) return else_body.status();
      stmt->bodies.push_back(std::move(else_body).value());
      Next();
    }
    RETURN_IF_ERROR(ExpectBlockEnd());
    return stmt;
  }

  Result<StmtPtr> ParseSet(StmtPtr stmt) {
    ASSIGN_OR_RETURN(std::string target, ExpectIdentifier());
    if (AcceptOp(".")) {
      ASSIGN_OR_RETURN(stmt->attribute, ExpectIdentifier());
    }
    stmt->targets.push_back(std::move(target));
    while (stmt->attribute.empty() && AcceptOp(",")) {
      ASSIGN_OR_RETURN(std::string more, ExpectIdentifier());
      stmt->targets.push_back(std::move(more));
    }
    if (AcceptOp("=")) {
      stmt->kind = Stmt::Kind::kSet;
      ASSIGN_OR_RETURN(ExprPtr value, ParseTupleOrExpression());
      stmt->exprs.push_back(std::move(value));
      RETURN_IF_ERROR(ExpectBlockEnd());
      return stmt;
    }
    if (stmt->targets.size() != 1 || !stmt->attribute.empty()) return Error("expected '='");
    stmt->kind = Stmt::Kind::kSetBlock;
    if (IsOp("|")) {
      ASSIGN_OR_RETURN(ExprPtr chain, ParseFilterChain());
      stmt->exprs.push_back(std::move(chain));
    }
    RETURN_IF_ERROR(ExpectBlockEnd());
    return ParseBlockBody(std::move(stmt), "endset");
  }

  Result<StmtPtr> ParseMacroParams(Stmt& stmt) {
    RETURN_IF_ERROR(ExpectOp("("));
    while (!AcceptOp(")")) {
      if (!stmt.params.empty()) RETURN_IF_ERROR(ExpectOp(","));
      MacroParam param;
      ASSIGN_OR_RETURN(param.name, ExpectIdentifier());
      if (AcceptOp("=")) {
        ASSIGN_OR_RETURN(param.default_value, ParseExpression());
      }
      stmt.params.push_back(std::move(param));
    }
    return StmtPtr();
  }

  Result<StmtPtr> ParseMacro(StmtPtr stmt) {
    stmt->kind = Stmt::Kind::kMacro;
    ASSIGN_OR_RETURN(stmt->name, ExpectIdentifier());
    RETURN_IF_ERROR(ParseMacroParams(*stmt).status());
    RETURN_IF_ERROR(ExpectBlockEnd());
    int saved = loop_depth_;
    loop_depth_ = 0;
    Result<StmtPtr> result = ParseBlockBody(std::move(stmt), "endmacro");
    loop_depth_ = saved;
    return result;
  }

  Result<StmtPtr> ParseCallBlock(StmtPtr stmt) {
    stmt->kind = Stmt::Kind::kCallBlock;
    if (IsOp("(")) RETURN_IF_ERROR(ParseMacroParams(*stmt).status());
    ASSIGN_OR_RETURN(ExprPtr call, ParseExpression());
    if (call->kind != Expr::Kind::kCall) return Error("expected a call");
    stmt->exprs.push_back(std::move(call));
    RETURN_IF_ERROR(ExpectBlockEnd());
    int saved = loop_depth_;
    loop_depth_ = 0;
    Result<StmtPtr> result = ParseBlockBody(std::move(stmt), "endcall");
    loop_depth_ = saved;
    return result;
  }

  // `| f(x) | g` applied to the filter-input placeholder (filter blocks, set blocks).
  Result<ExprPtr> ParseFilterChain() {
    ExprPtr node = MakeExpr(Expr::Kind::kName);
    node->name = kFilterInputName;
    bool first = true;
    ChainGuard chain(&depth_);
    while (first || IsOp("|")) {
      RETURN_IF_ERROR(AddLink());
      if (!first || IsOp("|")) Next();
      first = false;
      ASSIGN_OR_RETURN(node, ParseFilter(std::move(node)));
    }
    return node;
  }

  // ---- Expressions, lowest precedence first ----

  // `a, b` without brackets makes a tuple where a whole expression is expected.
  Result<ExprPtr> ParseTupleOrExpression() {
    ASSIGN_OR_RETURN(ExprPtr first, ParseExpression());
    if (!IsOp(",")) return first;
    ExprPtr tuple = MakeExpr(Expr::Kind::kTuple);
    tuple->args.push_back(std::move(first));
    while (AcceptOp(",")) {
      if (Peek().kind == TokenKind::kBlockEnd || Peek().kind == TokenKind::kVariableEnd) break;
      ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
      tuple->args.push_back(std::move(item));
    }
    return tuple;
  }

  Result<ExprPtr> ParseExpression() {
    DepthGuard guard(&depth_);
    RETURN_IF_ERROR(Enter());
    ASSIGN_OR_RETURN(ExprPtr value, ParseOr());
    ChainGuard chain(&depth_);
    while (IsName("if")) {
      Next();
      RETURN_IF_ERROR(AddLink());
      ExprPtr cond_expr = MakeExpr(Expr::Kind::kConditional);
      ASSIGN_OR_RETURN(ExprPtr condition, ParseOr());
      ExprPtr otherwise;
      if (AcceptName("else")) {
        ASSIGN_OR_RETURN(otherwise, ParseExpression());
      }
      cond_expr->args.push_back(std::move(value));
      cond_expr->args.push_back(std::move(condition));
      cond_expr->args.push_back(std::move(otherwise));
      value = std::move(cond_expr);
    }
    return value;
  }

  Result<ExprPtr> ParseOr() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
    ChainGuard chain(&depth_);
    while (AcceptName("or")) {
      RETURN_IF_ERROR(AddLink());
      ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
      ExprPtr e = Wrap(Expr::Kind::kOr, std::move(left));
      e->args.push_back(std::move(right));
      left = std::move(e);
    }
    return left;
  }

  Result<ExprPtr> ParseAnd() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
    ChainGuard chain(&depth_);
    while (AcceptName("and")) {
      RETURN_IF_ERROR(AddLink());
      ASSIGN_OR_RETURN(ExprPtr right, ParseNot());
      ExprPtr e = Wrap(Expr::Kind::kAnd, std::move(left));
      e->args.push_back(std::move(right));
      left = std::move(e);
    }
    return left;
  }

  Result<ExprPtr> ParseNot() {
    if (IsName("not")) {
      Next();
      DepthGuard guard(&depth_);
      RETURN_IF_ERROR(Enter());
      ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
      return Wrap(Expr::Kind::kNot, std::move(operand));
    }
    return ParseCompare();
  }

  Result<ExprPtr> ParseCompare() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseMath1());
    ExprPtr compare;
    ChainGuard chain(&depth_);
    while (true) {
      RETURN_IF_ERROR(AddLink());
      std::string op;
      if (Peek().kind == TokenKind::kOperator &&
          (Peek().text == "==" || Peek().text == "!=" || Peek().text == "<" || Peek().text == ">" ||
           Peek().text == "<=" || Peek().text == ">=")) {
        op = Next().text;
      } else if (IsName("in")) {
        Next();
        op = "in";
      } else if (IsName("not") && IsName("in", 1)) {
        Next();
        Next();
        op = "not in";
      } else {
        break;
      }
      ASSIGN_OR_RETURN(ExprPtr right, ParseMath1());
      if (!compare) compare = Wrap(Expr::Kind::kCompare, std::move(left));
      compare->ops.push_back(op);
      compare->args.push_back(std::move(right));
    }
    return compare ? std::move(compare) : std::move(left);
  }

  ExprPtr Binary(std::string op, ExprPtr left, ExprPtr right) const {
    ExprPtr e = Wrap(Expr::Kind::kBinary, std::move(left));
    e->name = std::move(op);
    e->args.push_back(std::move(right));
    return e;
  }

  Result<ExprPtr> ParseMath1() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseConcat());
    ChainGuard chain(&depth_);
    while (IsOp("+") || IsOp("-")) {
      RETURN_IF_ERROR(AddLink());
      std::string op = Next().text;
      ASSIGN_OR_RETURN(ExprPtr right, ParseConcat());
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> ParseConcat() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseMath2());
    ChainGuard chain(&depth_);
    while (AcceptOp("~")) {
      RETURN_IF_ERROR(AddLink());
      ASSIGN_OR_RETURN(ExprPtr right, ParseMath2());
      left = Binary("~", std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> ParseMath2() {
    ASSIGN_OR_RETURN(ExprPtr left, ParsePow());
    ChainGuard chain(&depth_);
    while (IsOp("*") || IsOp("/") || IsOp("//") || IsOp("%")) {
      RETURN_IF_ERROR(AddLink());
      std::string op = Next().text;
      ASSIGN_OR_RETURN(ExprPtr right, ParsePow());
      left = Binary(op, std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> ParsePow() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseUnary(true));
    ChainGuard chain(&depth_);
    while (AcceptOp("**")) {
      RETURN_IF_ERROR(AddLink());
      ASSIGN_OR_RETURN(ExprPtr right, ParseUnary(true));
      left = Binary("**", std::move(left), std::move(right));
    }
    return left;
  }

  Result<ExprPtr> ParseUnary(bool with_filter) {
    DepthGuard guard(&depth_);
    RETURN_IF_ERROR(Enter());
    ExprPtr node;
    if (IsOp("-") || IsOp("+")) {
      bool negate = Next().text == "-";
      ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary(false));
      node = Wrap(negate ? Expr::Kind::kNegate : Expr::Kind::kPlus, std::move(operand));
    } else {
      ASSIGN_OR_RETURN(node, ParsePrimary());
      ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
    }
    if (!with_filter) return node;
    // Filters, tests and calls on their results, left to right.
    ChainGuard chain(&depth_);
    while (true) {
      RETURN_IF_ERROR(AddLink());
      if (AcceptOp("|")) {
        ASSIGN_OR_RETURN(node, ParseFilter(std::move(node)));
      } else if (AcceptName("is")) {
        ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
      } else if (IsOp("(")) {
        ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  Result<ExprPtr> ParseFilter(ExprPtr subject) {
    ExprPtr e = Wrap(Expr::Kind::kFilter, std::move(subject));
    ASSIGN_OR_RETURN(e->name, ExpectIdentifier());
    if (IsOp("(")) RETURN_IF_ERROR(ParseCallArgs(*e));
    return e;
  }

  Result<ExprPtr> ParseTest(ExprPtr subject) {
    ExprPtr e = Wrap(Expr::Kind::kTest, std::move(subject));
    e->negated = AcceptName("not");
    ASSIGN_OR_RETURN(e->name, ExpectIdentifier());
    if (IsOp("(")) {
      RETURN_IF_ERROR(ParseCallArgs(*e));
    } else if ((Peek().kind == TokenKind::kName || Peek().kind == TokenKind::kString ||
                Peek().kind == TokenKind::kInteger || Peek().kind == TokenKind::kFloat ||
                IsOp("[") || IsOp("{")) &&
               !IsName("else") && !IsName("or") && !IsName("and")) {
      // A single argument without parentheses: `x is divisibleby 3`.
      if (IsName("is")) return Error("'is' cannot follow a test name");
      ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary());
      ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
      e->args.push_back(std::move(arg));
    }
    return e;
  }

  Result<ExprPtr> ParseCall(ExprPtr callee) {
    ExprPtr e = Wrap(Expr::Kind::kCall, std::move(callee));
    RETURN_IF_ERROR(ParseCallArgs(*e));
    return e;
  }

  Status ParseCallArgs(Expr& e) {
    RETURN_IF_ERROR(ExpectOp("("));
    bool first = true;
    while (!AcceptOp(")")) {
      if (!first) RETURN_IF_ERROR(ExpectOp(","));
      first = false;
      if (IsOp(")")) continue;  // trailing comma
      if (Peek().kind == TokenKind::kName && IsOp("=", 1)) {
        std::string key = Next().text;
        Next();
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
        e.kwargs.emplace_back(std::move(key), std::move(value));
      } else {
        if (!e.kwargs.empty()) return Error("positional argument after keyword argument");
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
        e.args.push_back(std::move(value));
      }
    }
    return Status::Ok();
  }

  Result<ExprPtr> ParsePostfix(ExprPtr node) {
    ChainGuard chain(&depth_);
    while (true) {
      RETURN_IF_ERROR(AddLink());
      if (AcceptOp(".")) {
        if (Peek().kind == TokenKind::kInteger) {
          ExprPtr index = MakeExpr(Expr::Kind::kLiteral);
          index->literal = Value::Int(Next().int_value);
          ExprPtr e = Wrap(Expr::Kind::kGetItem, std::move(node));
          e->args.push_back(std::move(index));
          node = std::move(e);
          continue;
        }
        ExprPtr e = Wrap(Expr::Kind::kGetAttr, std::move(node));
        ASSIGN_OR_RETURN(e->name, ExpectIdentifier());
        node = std::move(e);
      } else if (AcceptOp("[")) {
        ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
      } else if (IsOp("(")) {
        ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  Result<ExprPtr> ParseSubscript(ExprPtr object) {
    ExprPtr parts[3];
    int part = 0;
    bool is_slice = false;
    while (!AcceptOp("]")) {
      if (AcceptOp(":")) {
        is_slice = true;
        if (++part > 2) return Error("too many ':' in slice");
        continue;
      }
      if (parts[part]) return Error("expected ']'");
      ASSIGN_OR_RETURN(parts[part], ParseExpression());
    }
    if (!is_slice) {
      if (!parts[0]) return Error("expected a subscript");
      ExprPtr e = Wrap(Expr::Kind::kGetItem, std::move(object));
      e->args.push_back(std::move(parts[0]));
      return e;
    }
    ExprPtr e = Wrap(Expr::Kind::kSlice, std::move(object));
    for (auto& p : parts) e->args.push_back(std::move(p));
    return e;
  }

  Result<ExprPtr> ParsePrimary() {
    DepthGuard guard(&depth_);
    RETURN_IF_ERROR(Enter());
    const Token& t = Peek();
    ExprPtr e = MakeExpr(Expr::Kind::kLiteral);
    switch (t.kind) {
      case TokenKind::kName: {
        std::string name = Next().text;
        if (name == "true" || name == "True") {
          e->literal = Value::Bool(true);
        } else if (name == "false" || name == "False") {
          e->literal = Value::Bool(false);
        } else if (name == "none" || name == "None") {
          e->literal = Value::None();
        } else {
          e->kind = Expr::Kind::kName;
          e->name = std::move(name);
        }
        return e;
      }
      case TokenKind::kString: {
        std::string text = Next().text;
        while (Peek().kind == TokenKind::kString) text += Next().text;  // "a" "b" joins
        e->literal = Value::String(std::move(text));
        return e;
      }
      case TokenKind::kInteger:
        e->literal = Value::Int(Next().int_value);
        return e;
      case TokenKind::kFloat:
        e->literal = Value::Float(Next().float_value);
        return e;
      default:
        break;
    }
    if (AcceptOp("(")) {
      if (AcceptOp(")")) {
        e->kind = Expr::Kind::kTuple;
        return e;
      }
      ASSIGN_OR_RETURN(ExprPtr first, ParseExpression());
      if (AcceptOp(")")) return first;
      e->kind = Expr::Kind::kTuple;
      e->args.push_back(std::move(first));
      while (AcceptOp(",")) {
        if (IsOp(")")) break;
        ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
        e->args.push_back(std::move(item));
      }
      RETURN_IF_ERROR(ExpectOp(")"));
      return e;
    }
    if (AcceptOp("[")) {
      e->kind = Expr::Kind::kList;
      while (!AcceptOp("]")) {
        if (!e->args.empty()) RETURN_IF_ERROR(ExpectOp(","));
        if (AcceptOp("]")) break;
        ASSIGN_OR_RETURN(ExprPtr item, ParseExpression());
        e->args.push_back(std::move(item));
      }
      return e;
    }
    if (AcceptOp("{")) {
      e->kind = Expr::Kind::kDict;
      while (!AcceptOp("}")) {
        if (!e->dict_items.empty()) RETURN_IF_ERROR(ExpectOp(","));
        if (AcceptOp("}")) break;
        ASSIGN_OR_RETURN(ExprPtr key, ParseExpression());
        RETURN_IF_ERROR(ExpectOp(":"));
        ASSIGN_OR_RETURN(ExprPtr value, ParseExpression());
        e->dict_items.emplace_back(std::move(key), std::move(value));
      }
      return e;
    }
    return Error("unexpected token in expression");
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int max_depth_;
  int depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Result<Body> Parse(std::vector<Token> tokens, int max_depth) {
  if (tokens.empty() || tokens.back().kind != TokenKind::kEnd) {
    Token end;
    tokens.push_back(end);
  }
  return Parser(std::move(tokens), max_depth).ParseTemplate();
}

}  // namespace corral::jinja
