// Executes a parsed TemplateSet the way Go's text/template/exec.go does, over JSON data.
#include <algorithm>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "template/ast.h"
#include "template/format.h"
#include "template/functions.h"
#include "template/parser.h"
#include "template/template.h"
#include "template/value.h"

namespace corral::tmpl {
namespace {

using Kind = Value::Kind;

// Execution errors unwind to Template::Execute (Go panics and recovers the same way); they
// never leave this file.
struct ExecError {
  Status status;
};

enum class Flow { kNormal, kBreak, kContinue };

class Executor {
 public:
  // `deleted`: top-level nodes to skip (Ollama's legacy cut after {{ .Response }}); may be null.
  Executor(const TemplateSet& set, const ExecOptions& options,
           const std::unordered_set<const Node*>* deleted = nullptr)
      : set_(set), options_(options), deleted_(deleted) {
    now_ = options.clock ? options.clock() : std::chrono::system_clock::now();
  }

  std::string Run(const std::string& name, const nlohmann::json& data) {
    auto it = set_.trees.find(name);
    if (it == set_.trees.end()) {
      throw ExecError{InvalidArgumentError("template: " + name + ": \"" + name +
                                           "\" is an incomplete or empty template")};
    }
    current_name_ = name;
    Value dot = Value::FromJson(data, nullptr);
    vars_.push_back({"$", dot});
    Walk(dot, *it->second);
    return std::move(out_);
  }

 private:
  struct Variable {
    std::string name;
    Value value;
  };

  [[noreturn]] void Errorf(const std::string& message,
                           StatusCode code = StatusCode::kInvalidArgument) {
    std::string text;
    if (at_ == nullptr) {
      text = "template: " + current_name_ + ": " + message;
    } else {
      int line = 0;
      int column = 0;
      LineAndColumn(set_.text, at_->pos, &line, &column);
      std::string context = at_->String();
      if (context.size() > 20) context = context.substr(0, 20) + "...";
      text = "template: " + set_.parse_name + ":" + std::to_string(line) + ":" +
             std::to_string(column) + ": executing \"" + current_name_ + "\" at <" + context +
             ">: " + message;
    }
    throw ExecError{Status(code, text)};
  }

  void At(const Node& node) { at_ = &node; }

  void Step() {
    if (++steps_ > options_.max_steps) {
      Errorf("execution exceeds " + std::to_string(options_.max_steps) + " steps",
             StatusCode::kResourceExhausted);
    }
  }

  void Write(std::string_view text) {
    if (out_.size() + text.size() > options_.max_output_bytes) {
      Errorf("output exceeds " + std::to_string(options_.max_output_bytes) + " bytes",
             StatusCode::kResourceExhausted);
    }
    out_.append(text);
  }

  // Go turns a nil interface that ends a command into "no value".
  static Value Unwrap(Value v) { return v.kind() == Kind::kNil ? Value() : v; }

  Value VariableValue(const std::string& name) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) return vars_[i].value;
    }
    Errorf("undefined variable: " + name);
  }

  void SetVariable(const std::string& name, Value value) {
    for (size_t i = vars_.size(); i-- > 0;) {
      if (vars_[i].name == name) {
        vars_[i].value = std::move(value);
        return;
      }
    }
    Errorf("undefined variable: " + name);
  }

  Flow Walk(const Value& dot, const Node& node) {
    Step();
    At(node);
    switch (node.kind) {
      case NodeKind::kText:
        Write(static_cast<const TextNode&>(node).text);
        return Flow::kNormal;
      case NodeKind::kAction: {
        const auto& action = static_cast<const ActionNode&>(node);
        Value value = EvalPipeline(dot, *action.pipe);
        if (action.pipe->decl.empty()) {
          At(node);
          Write(FormatValue(value, /*top_level=*/true));
        }
        return Flow::kNormal;
      }
      case NodeKind::kList:
        for (const NodePtr& child : static_cast<const ListNode&>(node).nodes) {
          if (deleted_ != nullptr && deleted_->count(child.get()) != 0) continue;
          Flow flow = Walk(dot, *child);
          if (flow != Flow::kNormal) return flow;
        }
        return Flow::kNormal;
      case NodeKind::kIf:
      case NodeKind::kWith:
        return WalkIfOrWith(dot, static_cast<const BranchNode&>(node));
      case NodeKind::kRange:
        return WalkRange(dot, static_cast<const BranchNode&>(node));
      case NodeKind::kTemplate:
        WalkTemplate(dot, static_cast<const TemplateNode&>(node));
        return Flow::kNormal;
      case NodeKind::kBreak:
        return Flow::kBreak;
      case NodeKind::kContinue:
        return Flow::kContinue;
      default:
        Errorf("unknown node: " + node.String());
    }
  }

  Flow WalkIfOrWith(const Value& dot, const BranchNode& node) {
    size_t mark = vars_.size();
    Value value = EvalPipeline(dot, *node.pipe);
    Flow flow = Flow::kNormal;
    if (IsTrue(value)) {
      flow = Walk(node.kind == NodeKind::kWith ? value : dot, *node.list);
    } else if (node.else_list) {
      flow = Walk(dot, *node.else_list);
    }
    vars_.resize(mark);
    return flow;
  }

  // One iteration: bind the range variables, run the body, drop what the body declared.
  Flow RangeIteration(const BranchNode& node, const Value& index, const Value& element) {
    if (++range_iterations_ > options_.max_range_iterations) {
      At(node);
      Errorf("range iterations exceed " + std::to_string(options_.max_range_iterations),
             StatusCode::kResourceExhausted);
    }
    const PipeNode& pipe = *node.pipe;
    if (!pipe.decl.empty()) {
      if (pipe.is_assign) {
        if (pipe.decl.size() > 1) {
          SetVariable(pipe.decl[0], index);
          SetVariable(pipe.decl[1], element);
        } else {
          SetVariable(pipe.decl[0], element);
        }
      } else {
        // EvalPipeline pushed the declared variables; the element is the last of them.
        vars_[vars_.size() - 1].value = element;
        if (pipe.decl.size() > 1) vars_[vars_.size() - 2].value = index;
      }
    }
    size_t mark = vars_.size();
    Flow flow = Walk(element, *node.list);
    vars_.resize(mark);
    return flow;
  }

  Flow WalkRange(const Value& dot, const BranchNode& node) {
    At(node);
    size_t mark = vars_.size();
    Value value = EvalPipeline(dot, *node.pipe);
    bool ran = false;
    switch (value.kind()) {
      case Kind::kArray: {
        const nlohmann::json& array = value.json();
        for (size_t i = 0; i < array.size(); ++i) {
          ran = true;
          if (RangeIteration(node, Value::Int(static_cast<int64_t>(i)), value.Child(array[i])) ==
              Flow::kBreak) {
            break;
          }
        }
        break;
      }
      case Kind::kObject:
        for (const auto& item : value.json().items()) {
          ran = true;
          if (RangeIteration(node, Value::String(item.key()), value.Child(item.value())) ==
              Flow::kBreak) {
            break;
          }
        }
        break;
      case Kind::kInt:
        if (node.pipe->decl.size() > 1) {
          Errorf("can't use " + FormatValue(value, false) +
                 " to iterate over more than one variable");
        }
        for (int64_t i = 0; i < value.as_int(); ++i) {
          ran = true;
          if (RangeIteration(node, Value::Int(i), Value::Int(i)) == Flow::kBreak) break;
        }
        break;
      case Kind::kInvalid:
      case Kind::kNil:
        break;  // Go: a nil map or slice is not an error
      default:
        Errorf("range can't iterate over " + FormatValue(value, false));
    }
    Flow flow = Flow::kNormal;
    if (!ran && node.else_list) flow = Walk(dot, *node.else_list);
    vars_.resize(mark);
    // Go recovers a break anywhere under the range, else list included, while a continue in
    // the else list belongs to the enclosing range.
    return flow == Flow::kContinue ? Flow::kContinue : Flow::kNormal;
  }

  void WalkTemplate(const Value& dot, const TemplateNode& node) {
    At(node);
    auto it = set_.trees.find(node.name);
    if (it == set_.trees.end()) Errorf("template \"" + node.name + "\" not defined");
    if (depth_ >= options_.max_template_depth) {
      Errorf(
          "exceeded maximum template depth (" + std::to_string(options_.max_template_depth) + ")",
          StatusCode::kResourceExhausted);
    }
    Value new_dot = node.pipe ? EvalPipeline(dot, *node.pipe) : Value();
    // The called template sees only $ (its dot), as Go starts it with a fresh state.
    std::vector<Variable> saved_vars = std::move(vars_);
    vars_ = {{"$", new_dot}};
    std::string saved_name = std::move(current_name_);
    current_name_ = node.name;
    ++depth_;
    Walk(new_dot, *it->second);
    --depth_;
    current_name_ = std::move(saved_name);
    vars_ = std::move(saved_vars);
  }

  Value EvalPipeline(const Value& dot, const PipeNode& pipe) {
    At(pipe);
    std::optional<Value> value;
    for (const auto& cmd : pipe.cmds) {
      value = Unwrap(EvalCommand(dot, *cmd, value));
    }
    Value result = value.value_or(Value());
    for (const std::string& name : pipe.decl) {
      if (pipe.is_assign) {
        SetVariable(name, result);
      } else {
        vars_.push_back({name, result});
      }
    }
    return result;
  }

  void NotAFunction(const CommandNode& cmd, const std::optional<Value>& final) {
    if (cmd.args.size() > 1 || final.has_value()) {
      Errorf("can't give argument to non-function " + cmd.args[0]->String());
    }
  }

  Value EvalCommand(const Value& dot, const CommandNode& cmd, const std::optional<Value>& final) {
    Step();
    const Node& first = *cmd.args[0];
    switch (first.kind) {
      case NodeKind::kField: {
        const auto& field = static_cast<const FieldNode&>(first);
        At(field);
        return EvalFieldChain(dot, field.idents, cmd, final);
      }
      case NodeKind::kVariable: {
        const auto& variable = static_cast<const VariableNode&>(first);
        At(variable);
        Value value = VariableValue(variable.idents[0]);
        if (variable.idents.size() == 1) {
          NotAFunction(cmd, final);
          return value;
        }
        std::vector<std::string> fields(variable.idents.begin() + 1, variable.idents.end());
        return EvalFieldChain(value, fields, cmd, final);
      }
      case NodeKind::kChain: {
        const auto& chain = static_cast<const ChainNode&>(first);
        At(chain);
        Value value = EvalArgument(dot, *chain.operand);
        return EvalFieldChain(value, chain.fields, cmd, final);
      }
      case NodeKind::kFunction:
        return EvalFunction(dot, static_cast<const FunctionNode&>(first), cmd, final);
      case NodeKind::kPipe:
        NotAFunction(cmd, final);
        return EvalPipeline(dot, static_cast<const PipeNode&>(first));
      default:
        break;
    }
    At(first);
    NotAFunction(cmd, final);
    switch (first.kind) {
      case NodeKind::kBool:
        return Value::Bool(static_cast<const BoolNode&>(first).value);
      case NodeKind::kDot:
        return dot;
      case NodeKind::kNil:
        Errorf("nil is not a command");
      case NodeKind::kNumber:
        return NumberValue(static_cast<const NumberNode&>(first));
      case NodeKind::kString:
        return Value::String(static_cast<const StringNode&>(first).value);
      default:
        Errorf("can't evaluate command " + first.String());
    }
  }

  // Go's idealConstant: a literal with '.', 'e' or 'p' is a float64, any other an int.
  static Value NumberValue(const NumberNode& number) {
    bool looks_float = number.text.find_first_of(".eEpP") != std::string::npos &&
                       number.text.find_first_of("xX") == std::string::npos;
    if (number.is_int && !looks_float) return Value::Int(number.int_value);
    if (number.is_float && !looks_float && !number.is_int) {
      return Value::Float(number.float_value);  // an integer too large for int64
    }
    return Value::Float(number.is_float ? number.float_value
                                        : static_cast<double>(number.int_value));
  }

  // Reads .A.B.C from `receiver`; a field with arguments is an error since maps have no methods.
  Value EvalFieldChain(Value receiver, const std::vector<std::string>& fields,
                       const CommandNode& cmd, const std::optional<Value>& final) {
    for (size_t i = 0; i < fields.size(); ++i) {
      bool is_last = i + 1 == fields.size();
      bool has_args = is_last && (cmd.args.size() > 1 || final.has_value());
      receiver = EvalField(receiver, fields[i], has_args);
    }
    return receiver;
  }

  Value EvalField(const Value& receiver, const std::string& field, bool has_args) {
    switch (receiver.kind()) {
      case Kind::kInvalid:
        return Value();  // Go: a field of no value is no value
      case Kind::kNil:
        Errorf("nil pointer evaluating interface {}." + field);
      case Kind::kObject: {
        if (has_args) Errorf(field + " is not a method but has arguments");
        auto it = receiver.json().find(field);
        // missingkey=zero: the zero value of interface{}, a nil.
        return it == receiver.json().end() ? Value::Nil() : receiver.Child(*it);
      }
      default:
        Errorf("can't evaluate field " + field + " in type " + receiver.TypeName());
    }
  }

  // An argument to a function or the operand of a chain.
  Value EvalArgument(const Value& dot, const Node& node) {
    At(node);
    switch (node.kind) {
      case NodeKind::kDot:
        return dot;
      case NodeKind::kNil:
        return Value::Nil();
      case NodeKind::kField: {
        CommandNode lone(node.pos);
        return EvalFieldChain(dot, static_cast<const FieldNode&>(node).idents, lone, std::nullopt);
      }
      case NodeKind::kVariable: {
        const auto& variable = static_cast<const VariableNode&>(node);
        Value value = VariableValue(variable.idents[0]);
        CommandNode lone(node.pos);
        std::vector<std::string> fields(variable.idents.begin() + 1, variable.idents.end());
        return EvalFieldChain(value, fields, lone, std::nullopt);
      }
      case NodeKind::kPipe:
        return EvalPipeline(dot, static_cast<const PipeNode&>(node));
      case NodeKind::kChain: {
        const auto& chain = static_cast<const ChainNode&>(node);
        Value value = EvalArgument(dot, *chain.operand);
        CommandNode lone(node.pos);
        return EvalFieldChain(value, chain.fields, lone, std::nullopt);
      }
      case NodeKind::kFunction: {
        CommandNode lone(node.pos);
        return Unwrap(
            EvalFunction(dot, static_cast<const FunctionNode&>(node), lone, std::nullopt));
      }
      case NodeKind::kBool:
        return Value::Bool(static_cast<const BoolNode&>(node).value);
      case NodeKind::kNumber:
        return NumberValue(static_cast<const NumberNode&>(node));
      case NodeKind::kString:
        return Value::String(static_cast<const StringNode&>(node).value);
      default:
        Errorf("can't handle " + node.String() + " as an argument");
    }
  }

  // `cmd` holds the function name followed by its arguments (a lone name when the function is
  // itself an argument).
  Value EvalFunction(const Value& dot, const FunctionNode& function, const CommandNode& cmd,
                     const std::optional<Value>& final) {
    At(function);
    const std::string& name = function.name;
    FunctionSignature signature = SignatureOf(name);
    int explicit_args = cmd.args.empty() ? 0 : static_cast<int>(cmd.args.size()) - 1;
    int total_args = explicit_args + (final.has_value() ? 1 : 0);
    if (signature.variadic) {
      if (total_args < signature.fixed) {
        Errorf("wrong number of args for " + name + ": want at least " +
               std::to_string(signature.fixed) + " got " + std::to_string(explicit_args));
      }
    } else if (total_args != signature.fixed) {
      Errorf("wrong number of args for " + name + ": want " + std::to_string(signature.fixed) +
             " got " + std::to_string(total_args));
    }
    if (name == "and" || name == "or") {
      // Short-circuit: the result is the first argument that decides, itself.
      bool stop_on = name == "or";
      Value value;
      for (size_t i = 1; i < cmd.args.size(); ++i) {
        value = EvalArgument(dot, *cmd.args[i]);
        if (IsTrue(value) == stop_on) return value;
      }
      if (final.has_value()) value = *final;
      return value;
    }
    std::vector<Value> args;
    for (size_t i = 1; i < cmd.args.size(); ++i) {
      Value arg = EvalArgument(dot, *cmd.args[i]);
      args.push_back(arg.kind() == Kind::kNil ? Value() : std::move(arg));
    }
    if (final.has_value()) args.push_back(*final);
    if (signature.first_is_string && args[0].kind() != Kind::kString) {
      At(*(cmd.args.size() > 1 ? cmd.args[1].get() : static_cast<const Node*>(&function)));
      Errorf("wrong type for value; expected string; got " +
             (args[0].is_missing() ? std::string("<nil>") : args[0].TypeName()));
    }
    try {
      return CallFunction(name, args, now_);
    } catch (const FunctionError& error) {
      At(cmd.args.empty() ? static_cast<const Node&>(function) : static_cast<const Node&>(cmd));
      Errorf("error calling " + name + ": " + error.message);
    }
  }

  const TemplateSet& set_;
  const ExecOptions& options_;
  const std::unordered_set<const Node*>* deleted_;
  std::chrono::system_clock::time_point now_;
  std::string out_;
  std::vector<Variable> vars_;
  std::string current_name_;
  const Node* at_ = nullptr;
  int depth_ = 0;
  int64_t steps_ = 0;
  int64_t range_iterations_ = 0;
};

void CollectIdentifiers(const Node* node, std::vector<std::string>* names) {
  if (node == nullptr) return;
  switch (node->kind) {
    case NodeKind::kList:
      for (const NodePtr& child : static_cast<const ListNode*>(node)->nodes) {
        CollectIdentifiers(child.get(), names);
      }
      break;
    case NodeKind::kAction:
      CollectIdentifiers(static_cast<const ActionNode*>(node)->pipe.get(), names);
      break;
    case NodeKind::kTemplate:
      CollectIdentifiers(static_cast<const TemplateNode*>(node)->pipe.get(), names);
      break;
    case NodeKind::kIf:
    case NodeKind::kRange:
    case NodeKind::kWith: {
      const auto* branch = static_cast<const BranchNode*>(node);
      CollectIdentifiers(branch->pipe.get(), names);
      CollectIdentifiers(branch->list.get(), names);
      CollectIdentifiers(branch->else_list.get(), names);
      break;
    }
    case NodeKind::kPipe:
      for (const auto& cmd : static_cast<const PipeNode*>(node)->cmds) {
        for (const NodePtr& arg : cmd->args) CollectIdentifiers(arg.get(), names);
      }
      break;
    case NodeKind::kField:
      for (const auto& ident : static_cast<const FieldNode*>(node)->idents) names->push_back(ident);
      break;
    case NodeKind::kVariable:
      for (const auto& ident : static_cast<const VariableNode*>(node)->idents) {
        names->push_back(ident);
      }
      break;
    default:
      break;
  }
}

// Iterative so that the check itself cannot overflow the stack on hostile data.
bool NestedDeeperThan(const nlohmann::json& root, int limit) {
  std::vector<std::pair<const nlohmann::json*, int>> pending = {{&root, 0}};
  while (!pending.empty()) {
    auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    if (depth >= limit) return true;
    for (const auto& child : *node) pending.push_back({&child, depth + 1});
  }
  return false;
}

// Ollama's deleteNode (template/template.go) over our tree: nodes are visited in source order,
// descending into lists, the bodies of if/with/range (not their pipelines) and the arguments of
// actions; the first field node naming Response is kept and every node visited after it is
// deleted. Deletions always remove a child of some list, so the result is a set of list
// children the executor skips.
class ResponseCut {
 public:
  Status Visit(const Node& node) {
    if (cut_) {
      deleted_.insert(&node);
      return Status::Ok();
    }
    switch (node.kind) {
      case NodeKind::kList:
        for (const NodePtr& child : static_cast<const ListNode&>(node).nodes) {
          RETURN_IF_ERROR(Visit(*child));
        }
        return Status::Ok();
      case NodeKind::kIf:
      case NodeKind::kWith:
      case NodeKind::kRange: {
        const auto& branch = static_cast<const BranchNode&>(node);
        RETURN_IF_ERROR(Visit(*branch.list));
        if (branch.else_list != nullptr) {
          // Go asserts the deleted else list back to *ListNode and panics.
          if (cut_) {
            return UnsupportedError("template: {{ .Response }} inside a branch that has an else");
          }
          RETURN_IF_ERROR(Visit(*branch.else_list));
        }
        return Status::Ok();
      }
      case NodeKind::kAction:
        return VisitPipe(*static_cast<const ActionNode&>(node).pipe);
      default:
        return Status::Ok();
    }
  }

  std::unordered_set<const Node*> deleted() && { return std::move(deleted_); }

 private:
  Status VisitPipe(const PipeNode& pipe) {
    for (size_t c = 0; c < pipe.cmds.size(); ++c) {
      const auto& args = pipe.cmds[c]->args;
      for (size_t a = 0; a < args.size(); ++a) {
        if (args[a]->kind != NodeKind::kField) continue;
        const auto& idents = static_cast<const FieldNode&>(*args[a]).idents;
        if (std::find(idents.begin(), idents.end(), "Response") == idents.end()) continue;
        // Go drops the operands after it, which changes the command; no real template does it.
        if (a + 1 != args.size() || c + 1 != pipe.cmds.size()) {
          return UnsupportedError("template: {{ .Response }} in the middle of a pipeline");
        }
        cut_ = true;
      }
    }
    return Status::Ok();
  }

  bool cut_ = false;
  std::unordered_set<const Node*> deleted_;
};

}  // namespace

Result<Template> Template::Parse(std::string_view name, std::string_view text) {
  ASSIGN_OR_RETURN(std::shared_ptr<const TemplateSet> set, ParseTemplateSet(name, text));
  return Template(std::move(set));
}

const std::string& Template::name() const { return set_->parse_name; }

namespace {

// One execution; `deleted` (may be null) are nodes the executor skips.
Result<std::string> ExecuteSet(const TemplateSet& set, const nlohmann::json& data,
                               const ExecOptions& options,
                               const std::unordered_set<const Node*>* deleted) {
  // Formatting, json and slice recurse over the data, so its depth is capped up front.
  if (NestedDeeperThan(data, options.max_data_depth)) {
    return ResourceExhaustedError("template: " + set.parse_name + ": data nested deeper than " +
                                  std::to_string(options.max_data_depth) + " levels");
  }
  ScopedGoStrings go_strings(options.go_strings);
  try {
    return Executor(set, options, deleted).Run(set.parse_name, data);
  } catch (const ExecError& error) {
    return error.status;
  } catch (const nlohmann::json::exception& error) {
    return InternalError(std::string("template: ") + set.parse_name + ": " + error.what());
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("template: " + set.parse_name + ": out of memory");
  }
}

}  // namespace

Result<std::string> Template::Execute(const nlohmann::json& data,
                                      const ExecOptions& options) const {
  return ExecuteSet(*set_, data, options, /*deleted=*/nullptr);
}

Result<std::string> Template::ExecuteUntilResponse(const nlohmann::json& data,
                                                   const ExecOptions& options) const {
  auto root = set_->trees.find(set_->parse_name);
  if (root == set_->trees.end()) return Execute(data, options);  // reports the empty template
  ResponseCut cut;
  RETURN_IF_ERROR(cut.Visit(*root->second));
  std::unordered_set<const Node*> deleted = std::move(cut).deleted();
  return ExecuteSet(*set_, data, options, &deleted);
}

std::vector<std::string> Template::Vars() const {
  std::vector<std::string> names;
  for (const auto& [tree_name, tree] : set_->trees) CollectIdentifiers(tree.get(), &names);
  for (std::string& name : names) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace corral::tmpl
