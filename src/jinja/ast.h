// Syntax tree of a parsed template: expressions and statements.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace corral::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,      // literal
    kName,         // name
    kList,         // args = items
    kTuple,        // args = items
    kDict,         // keyword-style pairs in dict_items
    kGetAttr,      // args[0].name
    kGetItem,      // args[0][args[1]]
    kSlice,        // args[0][args[1]:args[2]:args[3]], absent parts are null
    kCall,         // args[0](args[1..], kwargs)
    kFilter,       // args[0] | name(args[1..], kwargs)
    kTest,         // args[0] is [not] name(args[1..], kwargs)
    kNegate,       // -args[0]
    kPlus,         // +args[0]
    kNot,          // not args[0]
    kBinary,       // args[0] name args[1], name one of + - * / // % ** ~
    kAnd,          // args[0] and args[1]
    kOr,           // args[0] or args[1]
    kCompare,      // args[0] ops[0] args[1] ops[1] args[2] ... (chained like Python)
    kConditional,  // args[0] if args[1] else args[2] (args[2] may be null)
  };
  Kind kind = Kind::kLiteral;
  int line = 0;
  Value literal;
  std::string name;
  bool negated = false;  // `is not`
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::pair<ExprPtr, ExprPtr>> dict_items;
  std::vector<std::string> ops;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // null when required
};

struct Stmt {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ exprs[0] }}
    kIf,           // exprs = conditions, bodies = branches (+ else branch if longer)
    kFor,          // targets in exprs[0] [if exprs[1]]; bodies[0] body, bodies[1] else
    kSet,          // targets (or targets[0].attribute) = exprs[0]
    kSetBlock,     // targets[0] = rendered bodies[0], through filter exprs[0] if any
    kMacro,        // name(params) bodies[0]
    kCallBlock,    // exprs[0] is a call; bodies[0] is caller(params)
    kFilterBlock,  // bodies[0] rendered then filtered by exprs[0] (a filter on a placeholder)
    kScope,        // bodies[0] in its own scope (with, generation); with: targets = exprs
    kBreak,
    kContinue,
  };
  Kind kind = Kind::kText;
  int line = 0;
  std::string text;
  std::string name;
  std::string attribute;
  std::vector<std::string> targets;
  std::vector<ExprPtr> exprs;
  std::vector<Body> bodies;
  std::vector<MacroParam> params;
};

}  // namespace corral::jinja
