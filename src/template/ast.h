// Syntax tree of a parsed Go text/template. Every node remembers its byte offset in the source so
// execution errors can name "LINE:COL" the way Go's ErrorContext does.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace corral::tmpl {

enum class NodeKind {
  kText,
  kAction,
  kIf,
  kRange,
  kWith,
  kTemplate,
  kBreak,
  kContinue,
  kList,
  kPipe,
  kCommand,
  kField,     // .A.B
  kVariable,  // $x.A.B
  kDot,
  kNil,
  kBool,
  kNumber,
  kString,
  kFunction,  // identifier naming a function
  kChain,     // (pipeline).A.B
};

struct Node {
  Node(NodeKind kind, int pos) : kind(kind), pos(pos) {}
  virtual ~Node() = default;
  // Source-like rendering used in error messages ("at <.Messages.Foo>").
  virtual std::string String() const = 0;

  NodeKind kind;
  int pos;  // byte offset in the template text
};

using NodePtr = std::unique_ptr<Node>;

struct ListNode : Node {
  explicit ListNode(int pos) : Node(NodeKind::kList, pos) {}
  std::string String() const override;
  std::vector<NodePtr> nodes;
};

struct TextNode : Node {
  TextNode(int pos, std::string text) : Node(NodeKind::kText, pos), text(std::move(text)) {}
  std::string String() const override { return text; }
  std::string text;
};

struct PipeNode;

struct CommandNode : Node {
  explicit CommandNode(int pos) : Node(NodeKind::kCommand, pos) {}
  std::string String() const override;
  std::vector<NodePtr> args;  // operands; the first decides what the command is
};

struct PipeNode : Node {
  explicit PipeNode(int pos) : Node(NodeKind::kPipe, pos) {}
  std::string String() const override;
  bool is_assign = false;         // "=" rather than ":="
  std::vector<std::string> decl;  // declared or assigned variables, with "$"
  std::vector<std::unique_ptr<CommandNode>> cmds;
};

struct ActionNode : Node {
  ActionNode(int pos, std::unique_ptr<PipeNode> pipe)
      : Node(NodeKind::kAction, pos), pipe(std::move(pipe)) {}
  std::string String() const override { return "{{" + pipe->String() + "}}"; }
  std::unique_ptr<PipeNode> pipe;
};

// if / range / with share one shape, as in Go.
struct BranchNode : Node {
  BranchNode(NodeKind kind, int pos) : Node(kind, pos) {}
  std::string String() const override;
  std::unique_ptr<PipeNode> pipe;
  std::unique_ptr<ListNode> list;
  std::unique_ptr<ListNode> else_list;  // may be null
};

struct TemplateNode : Node {
  TemplateNode(int pos, std::string name) : Node(NodeKind::kTemplate, pos), name(std::move(name)) {}
  std::string String() const override;
  std::string name;
  std::unique_ptr<PipeNode> pipe;  // may be null: dot becomes nil
};

struct LoopControlNode : Node {  // {{break}} or {{continue}}
  LoopControlNode(NodeKind kind, int pos) : Node(kind, pos) {}
  std::string String() const override {
    return kind == NodeKind::kBreak ? "{{break}}" : "{{continue}}";
  }
};

struct FieldNode : Node {  // .A.B
  FieldNode(int pos, std::vector<std::string> idents)
      : Node(NodeKind::kField, pos), idents(std::move(idents)) {}
  std::string String() const override;
  std::vector<std::string> idents;
};

struct VariableNode : Node {  // $x.A.B; idents[0] is the variable name with "$"
  VariableNode(int pos, std::vector<std::string> idents)
      : Node(NodeKind::kVariable, pos), idents(std::move(idents)) {}
  std::string String() const override;
  std::vector<std::string> idents;
};

struct ChainNode : Node {  // (pipe).A.B
  ChainNode(int pos, NodePtr operand) : Node(NodeKind::kChain, pos), operand(std::move(operand)) {}
  std::string String() const override;
  NodePtr operand;
  std::vector<std::string> fields;
};

struct SimpleNode : Node {  // dot and nil
  SimpleNode(NodeKind kind, int pos) : Node(kind, pos) {}
  std::string String() const override { return kind == NodeKind::kDot ? "." : "nil"; }
};

struct BoolNode : Node {
  BoolNode(int pos, bool value) : Node(NodeKind::kBool, pos), value(value) {}
  std::string String() const override { return value ? "true" : "false"; }
  bool value;
};

// Number constants stay "ideal" until used, as in Go: an integer that fits int64 is an int,
// otherwise a float64. Characters ('a') are ints.
struct NumberNode : Node {
  NumberNode(int pos, std::string text) : Node(NodeKind::kNumber, pos), text(std::move(text)) {}
  std::string String() const override { return text; }
  std::string text;
  bool is_int = false;
  bool is_float = false;
  int64_t int_value = 0;
  double float_value = 0;
};

struct StringNode : Node {
  StringNode(int pos, std::string quoted, std::string value)
      : Node(NodeKind::kString, pos), quoted(std::move(quoted)), value(std::move(value)) {}
  std::string String() const override { return quoted; }
  std::string quoted;
  std::string value;
};

struct FunctionNode : Node {
  FunctionNode(int pos, std::string name) : Node(NodeKind::kFunction, pos), name(std::move(name)) {}
  std::string String() const override { return name; }
  std::string name;
};

// All templates of one Parse: the top-level one (named like the call) and every define/block.
struct TemplateSet {
  std::string parse_name;  // the name given to Parse; Go prints it in every error
  std::string text;        // the source, for LINE:COL of execution errors
  std::map<std::string, std::unique_ptr<ListNode>> trees;
};

}  // namespace corral::tmpl
