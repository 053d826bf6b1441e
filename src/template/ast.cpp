#include "template/ast.h"

namespace corral::tmpl {
namespace {

std::string ArgString(const Node& node) {
  if (node.kind == NodeKind::kPipe) return "(" + node.String() + ")";
  return node.String();
}

std::string JoinFields(const std::vector<std::string>& idents, size_t from) {
  std::string out;
  for (size_t i = from; i < idents.size(); ++i) out += "." + idents[i];
  return out;
}

}  // namespace

std::string ListNode::String() const {
  std::string out;
  for (const NodePtr& node : nodes) out += node->String();
  return out;
}

std::string CommandNode::String() const {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += " ";
    out += ArgString(*args[i]);
  }
  return out;
}

std::string PipeNode::String() const {
  std::string out;
  for (size_t i = 0; i < decl.size(); ++i) {
    if (i > 0) out += ", ";
    out += decl[i];
  }
  if (!decl.empty()) out += is_assign ? " = " : " := ";
  for (size_t i = 0; i < cmds.size(); ++i) {
    if (i > 0) out += " | ";
    out += cmds[i]->String();
  }
  return out;
}

std::string BranchNode::String() const {
  std::string name = kind == NodeKind::kIf ? "if" : kind == NodeKind::kRange ? "range" : "with";
  std::string out = "{{" + name + " " + pipe->String() + "}}" + list->String();
  if (else_list) out += "{{else}}" + else_list->String();
  return out + "{{end}}";
}

std::string TemplateNode::String() const {
  std::string out = "{{template \"" + name + "\"";
  if (pipe) out += " " + pipe->String();
  return out + "}}";
}

std::string FieldNode::String() const { return JoinFields(idents, 0); }

std::string VariableNode::String() const { return idents[0] + JoinFields(idents, 1); }

std::string ChainNode::String() const { return ArgString(*operand) + JoinFields(fields, 0); }

}  // namespace corral::tmpl
