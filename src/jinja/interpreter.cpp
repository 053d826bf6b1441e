#include "jinja/interpreter.h"

#include <algorithm>
#include <ctime>
#include <unordered_map>

#include "jinja/builtins.h"
#include "jinja/parser.h"

namespace corral::jinja {
namespace {

enum class Flow { kNormal, kBreak, kContinue };

// One variable scope. Loops open one per iteration and macros one per call, so assignments
// inside them do not leak out, as in Jinja2.
struct Frame {
  std::unordered_map<std::string, Value> variables;
  const Frame* parent = nullptr;

  const Value* Lookup(const std::string& name) const {
    for (const Frame* f = this; f != nullptr; f = f->parent) {
      auto it = f->variables.find(name);
      if (it != f->variables.end()) return &it->second;
    }
    return nullptr;
  }
};

class Interpreter {
 public:
  explicit Interpreter(const Options& options) : options_(options) {
    limits_.max_string_bytes = options.max_output_bytes;
    limits_.max_list_items = std::min<size_t>(options.max_output_bytes, size_t{1} << 20);
  }

  // Json is nlohmann::json or nlohmann::ordered_json (the latter keeps the caller's key order,
  // which tojson and items() then reproduce, as Python dicts do).
  template <typename Json>
  Result<std::string> Render(const Body& body, const Json& context) {
    // Declared first, so it ends last: it frees the reference cycles left once the frames go.
    ContainerRegistry registry;
    Frame globals;
    AddGlobals(globals);
    Frame root;
    root.parent = &globals;
    if (context.is_object()) {
      for (const auto& [key, item] : context.items()) root.variables[key] = FromJson(item);
    } else if (!context.is_null()) {
      return InvalidArgumentError("template context must be a JSON object");
    }
    root_ = &root;
    frame_ = &root;
    std::string output;
    out_ = &output;
    Result<Flow> flow = Exec(body);
    if (!flow.ok()) {
      if (raised_) return flow.status();
      return Status(flow.status().code(), "template error at line " + std::to_string(line_) + ": " +
                                              flow.status().message());
    }
    return output;
  }

 private:
  Status Step() {
    if (++steps_ > options_.max_steps) {
      return ResourceExhaustedError("template exceeded " + std::to_string(options_.max_steps) +
                                    " evaluation steps");
    }
    return Status::Ok();
  }

  Status Write(std::string_view text) {
    if (out_->size() + text.size() > options_.max_output_bytes) {
      return ResourceExhaustedError("template output exceeds " +
                                    std::to_string(options_.max_output_bytes) + " bytes");
    }
    out_->append(text);
    return Status::Ok();
  }

  void AddGlobals(Frame& globals) {
    globals.variables["range"] =
        Value::Function("range", [this](const CallArgs& args) { return Range(args); });
    globals.variables["dict"] = Value::Function("dict", [](const CallArgs& args) -> Result<Value> {
      DictData dict;
      if (!args.positional.empty()) {
        if (!args.positional[0].is_dict()) return InvalidArgumentError("dict() expects a dict");
        dict = args.positional[0].dict();
      }
      for (const auto& [k, v] : args.keyword) dict.Set(k, v);
      return Value::Dict(std::move(dict));
    });
    globals.variables["namespace"] =
        Value::Function("namespace", [](const CallArgs& args) -> Result<Value> {
          DictData attributes;
          if (!args.positional.empty()) {
            if (!args.positional[0].is_dict()) {
              return InvalidArgumentError("namespace() expects a dict or keyword arguments");
            }
            attributes = args.positional[0].dict();
          }
          for (const auto& [k, v] : args.keyword) attributes.Set(k, v);
          return Value::Namespace(std::move(attributes));
        });
    globals.variables["raise_exception"] =
        Value::Function("raise_exception", [this](const CallArgs& args) -> Result<Value> {
          raised_ = true;
          const Value* message = args.Get(0, "message");
          return InvalidArgumentError(message ? ToPythonString(*message) : "raise_exception");
        });
    globals.variables["strftime_now"] =
        Value::Function("strftime_now", [this](const CallArgs& args) -> Result<Value> {
          const Value* format = args.Get(0, "format");
          if (format == nullptr || !format->is_string()) {
            return InvalidArgumentError("strftime_now() expects a format string");
          }
          auto now = options_.clock ? options_.clock() : std::chrono::system_clock::now();
          std::time_t seconds = std::chrono::system_clock::to_time_t(now);
          std::tm local{};
          localtime_r(&seconds, &local);
          char buffer[512];
          size_t n = std::strftime(buffer, sizeof(buffer), format->as_string().c_str(), &local);
          return Value::String(std::string(buffer, n));
        });
  }

  Result<Value> Range(const CallArgs& args) {
    int64_t start = 0, stop = 0, step = 1;
    for (const Value& v : args.positional) {
      if (!v.is_int() && !v.is_bool()) {
        return InvalidArgumentError("'" + v.TypeName() +
                                    "' object cannot be interpreted as an integer");
      }
    }
    if (args.positional.size() == 1) {
      stop = args.positional[0].as_int();
    } else if (args.positional.size() == 2 || args.positional.size() == 3) {
      start = args.positional[0].as_int();
      stop = args.positional[1].as_int();
      if (args.positional.size() == 3) step = args.positional[2].as_int();
    } else {
      return InvalidArgumentError("range expected 1 to 3 arguments");
    }
    if (step == 0) return InvalidArgumentError("range() arg 3 must not be zero");
    // Python's len(range(...)), checked before anything is built.
    __int128 span =
        step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
    __int128 count =
        span <= 0 ? 0 : (span + (step > 0 ? step : -step) - 1) / (step > 0 ? step : -step);
    if (count > static_cast<__int128>(limits_.max_list_items)) {
      return ResourceExhaustedError("range() result too large");
    }
    std::vector<Value> items;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
      if (items.size() >= limits_.max_list_items) {
        return ResourceExhaustedError("range() result too large");
      }
      items.push_back(Value::Int(i));
      if ((step > 0 && i > INT64_MAX - step) || (step < 0 && i < INT64_MIN - step)) break;
    }
    return Value::List(std::move(items));
  }

  // ---- Statements ----

  Result<Flow> Exec(const Body& body) {
    for (const StmtPtr& stmt : body) {
      ASSIGN_OR_RETURN(Flow flow, ExecOne(*stmt));
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  Result<Flow> ExecOne(const Stmt& stmt) {
    if (eval_depth_ >= kMaxEvalDepth) {
      return ResourceExhaustedError("template evaluation nested too deeply");
    }
    ++eval_depth_;
    Result<Flow> flow = ExecStatement(stmt);
    --eval_depth_;
    return flow;
  }

  Result<Flow> ExecStatement(const Stmt& stmt) {
    RETURN_IF_ERROR(Step());
    if (stmt.line > 0) line_ = stmt.line;
    switch (stmt.kind) {
      case Stmt::Kind::kText:
        RETURN_IF_ERROR(Write(stmt.text));
        return Flow::kNormal;
      case Stmt::Kind::kOutput: {
        ASSIGN_OR_RETURN(Value value, Eval(*stmt.exprs[0]));
        RETURN_IF_ERROR(Write(ToPythonString(value)));
        return Flow::kNormal;
      }
      case Stmt::Kind::kIf:
        for (size_t i = 0; i < stmt.exprs.size(); ++i) {
          ASSIGN_OR_RETURN(Value condition, Eval(*stmt.exprs[i]));
          if (IsTruthy(condition)) return Exec(stmt.bodies[i]);
        }
        if (stmt.bodies.size() > stmt.exprs.size()) return Exec(stmt.bodies.back());
        return Flow::kNormal;
      case Stmt::Kind::kFor:
        RETURN_IF_ERROR(ExecFor(stmt));
        return Flow::kNormal;
      case Stmt::Kind::kSet:
        RETURN_IF_ERROR(ExecSet(stmt));
        return Flow::kNormal;
      case Stmt::Kind::kSetBlock: {
        ASSIGN_OR_RETURN(std::string text, Capture(stmt.bodies[0]));
        Value value = Value::String(std::move(text));
        if (!stmt.exprs.empty()) {
          ASSIGN_OR_RETURN(value, EvalWithFilterInput(*stmt.exprs[0], std::move(value)));
        }
        frame_->variables[stmt.targets[0]] = std::move(value);
        return Flow::kNormal;
      }
      case Stmt::Kind::kMacro:
        frame_->variables[stmt.name] = MakeMacro(stmt);
        return Flow::kNormal;
      case Stmt::Kind::kCallBlock:
        RETURN_IF_ERROR(ExecCallBlock(stmt));
        return Flow::kNormal;
      case Stmt::Kind::kFilterBlock: {
        ASSIGN_OR_RETURN(std::string text, Capture(stmt.bodies[0]));
        ASSIGN_OR_RETURN(Value value,
                         EvalWithFilterInput(*stmt.exprs[0], Value::String(std::move(text))));
        RETURN_IF_ERROR(Write(ToPythonString(value)));
        return Flow::kNormal;
      }
      case Stmt::Kind::kScope: {
        Frame scope;
        scope.parent = frame_;
        for (size_t i = 0; i < stmt.targets.size(); ++i) {
          ASSIGN_OR_RETURN(Value value, Eval(*stmt.exprs[i]));
          scope.variables[stmt.targets[i]] = std::move(value);
        }
        return ExecInFrame(stmt.bodies[0], scope);
      }
      case Stmt::Kind::kBreak:
        return Flow::kBreak;
      case Stmt::Kind::kContinue:
        return Flow::kContinue;
    }
    return InternalError("unknown statement");
  }

  Result<Flow> ExecInFrame(const Body& body, Frame& frame) {
    Frame* saved = frame_;
    frame_ = &frame;
    Result<Flow> flow = Exec(body);
    frame_ = saved;
    return flow;
  }

  // Renders `body` into a string instead of the output.
  Result<std::string> Capture(const Body& body) {
    std::string captured;
    std::string* saved = out_;
    out_ = &captured;
    Frame scope;
    scope.parent = frame_;
    Result<Flow> flow = ExecInFrame(body, scope);
    out_ = saved;
    if (!flow.ok()) return flow.status();
    return captured;
  }

  Result<Value> EvalWithFilterInput(const Expr& chain, Value input) {
    Frame scope;
    scope.parent = frame_;
    scope.variables[kFilterInputName] = std::move(input);
    Frame* saved = frame_;
    frame_ = &scope;
    Result<Value> value = Eval(chain);
    frame_ = saved;
    return value;
  }

  Status Assign(Frame& frame, const std::vector<std::string>& targets, const Value& value) {
    if (targets.size() == 1) {
      frame.variables[targets[0]] = value;
      return Status::Ok();
    }
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(value));
    if (items.size() != targets.size()) {
      return InvalidArgumentError("cannot unpack " + std::to_string(items.size()) +
                                  " values into " + std::to_string(targets.size()) + " names");
    }
    for (size_t i = 0; i < targets.size(); ++i) frame.variables[targets[i]] = items[i];
    return Status::Ok();
  }

  Status ExecSet(const Stmt& stmt) {
    ASSIGN_OR_RETURN(Value value, Eval(*stmt.exprs[0]));
    if (stmt.attribute.empty()) return Assign(*frame_, stmt.targets, value);
    const Value* target = frame_->Lookup(stmt.targets[0]);
    if (target == nullptr || !target->is_namespace()) {
      return InvalidArgumentError("cannot assign attribute on non-namespace object");
    }
    target->ns().attributes.Set(stmt.attribute, std::move(value));
    return Status::Ok();
  }

  Status ExecFor(const Stmt& stmt) {
    ASSIGN_OR_RETURN(Value iterable, Eval(*stmt.exprs[0]));
    ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(iterable));
    if (stmt.exprs.size() > 1) {  // `for x in xs if cond` filters before loop.* is computed
      std::vector<Value> kept;
      for (const Value& item : items) {
        RETURN_IF_ERROR(CountIteration());
        Frame scope;
        scope.parent = frame_;
        RETURN_IF_ERROR(Assign(scope, stmt.targets, item));
        Frame* saved = frame_;
        frame_ = &scope;
        Result<Value> keep = Eval(*stmt.exprs[1]);
        frame_ = saved;
        if (!keep.ok()) return keep.status();
        if (IsTruthy(*keep)) kept.push_back(item);
      }
      items = std::move(kept);
    }
    const int64_t length = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < length; ++i) {
      RETURN_IF_ERROR(CountIteration());
      Frame scope;
      scope.parent = frame_;
      RETURN_IF_ERROR(Assign(scope, stmt.targets, items[static_cast<size_t>(i)]));
      DictData loop;
      loop.Set("index", Value::Int(i + 1));
      loop.Set("index0", Value::Int(i));
      loop.Set("revindex", Value::Int(length - i));
      loop.Set("revindex0", Value::Int(length - i - 1));
      loop.Set("first", Value::Bool(i == 0));
      loop.Set("last", Value::Bool(i == length - 1));
      loop.Set("length", Value::Int(length));
      loop.Set("depth", Value::Int(1));
      loop.Set("depth0", Value::Int(0));
      loop.Set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)]
                                 : Value::Undefined("there is no previous item"));
      loop.Set("nextitem", i + 1 < length ? items[static_cast<size_t>(i + 1)]
                                          : Value::Undefined("there is no next item"));
      loop.Set("cycle", Value::Function("cycle", [i](const CallArgs& args) -> Result<Value> {
                 if (args.positional.empty())
                   return InvalidArgumentError("no items for cycling given");
                 return args.positional[static_cast<size_t>(i) % args.positional.size()];
               }));
      scope.variables["loop"] = Value::Dict(std::move(loop));
      ASSIGN_OR_RETURN(Flow flow, ExecInFrame(stmt.bodies[0], scope));
      if (flow == Flow::kBreak) break;
    }
    if (length == 0 && stmt.bodies.size() > 1) {
      Frame scope;
      scope.parent = frame_;
      RETURN_IF_ERROR(ExecInFrame(stmt.bodies[1], scope).status());
    }
    return Status::Ok();
  }

  Status CountIteration() {
    if (++iterations_ > options_.max_loop_iterations) {
      return ResourceExhaustedError(
          "template exceeded " + std::to_string(options_.max_loop_iterations) + " loop iterations");
    }
    return Status::Ok();
  }

  // ---- Macros ----

  Value MakeMacro(const Stmt& macro) {
    // Macros see the template's top-level variables, not the caller's locals.
    return Value::Function(
        macro.name, [this, &macro](const CallArgs& args) { return CallMacro(macro, args, root_); });
  }

  Result<Value> CallMacro(const Stmt& macro, const CallArgs& args, const Frame* parent) {
    std::shared_ptr<Value> caller = std::move(pending_caller_);
    pending_caller_.reset();
    if (call_depth_ >= options_.max_call_depth) {
      return ResourceExhaustedError("macro calls nested deeper than " +
                                    std::to_string(options_.max_call_depth));
    }
    if (args.positional.size() > macro.params.size()) {
      return InvalidArgumentError("macro '" + macro.name + "' takes not more than " +
                                  std::to_string(macro.params.size()) + " argument(s)");
    }
    for (const auto& [key, value] : args.keyword) {
      bool known = false;
      for (const MacroParam& param : macro.params) known = known || param.name == key;
      if (!known) {
        return InvalidArgumentError("macro '" + macro.name + "' takes no keyword argument '" + key +
                                    "'");
      }
    }
    Frame scope;
    scope.parent = parent;
    if (caller) scope.variables["caller"] = *caller;
    Frame* saved_frame = frame_;
    frame_ = &scope;
    std::string rendered;
    std::string* saved_out = out_;
    out_ = &rendered;
    ++call_depth_;
    Result<Flow> flow = BindParamsAndRun(macro, args, scope);
    --call_depth_;
    out_ = saved_out;
    frame_ = saved_frame;
    if (!flow.ok()) return flow.status();
    return Value::String(std::move(rendered));
  }

  Result<Flow> BindParamsAndRun(const Stmt& macro, const CallArgs& args, Frame& scope) {
    for (size_t i = 0; i < macro.params.size(); ++i) {
      const MacroParam& param = macro.params[i];
      const Value* given = args.Get(i, param.name);
      if (given != nullptr) {
        scope.variables[param.name] = *given;
      } else if (param.default_value) {
        ASSIGN_OR_RETURN(scope.variables[param.name], Eval(*param.default_value));
      } else {
        scope.variables[param.name] =
            Value::Undefined("parameter '" + param.name + "' was not provided");
      }
    }
    return Exec(macro.bodies[0]);
  }

  Status ExecCallBlock(const Stmt& stmt) {
    const Expr& call = *stmt.exprs[0];
    const Frame* defining_frame = frame_;
    Value caller = Value::Function("caller", [this, &stmt, defining_frame](const CallArgs& args) {
      return CallMacro(stmt, args, defining_frame);
    });
    ASSIGN_OR_RETURN(Value callee, Eval(*call.args[0]));
    if (!callee.is_callable()) return InvalidArgumentError("call block needs a macro");
    ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call, 1));
    pending_caller_ = std::make_shared<Value>(std::move(caller));
    Result<Value> result = callee.callable().function(args);
    pending_caller_.reset();
    if (!result.ok()) return result.status();
    return Write(ToPythonString(*result));
  }

  // ---- Expressions ----

  Result<CallArgs> EvalArgs(const Expr& e, size_t first) {
    CallArgs args;
    for (size_t i = first; i < e.args.size(); ++i) {
      ASSIGN_OR_RETURN(Value v, Eval(*e.args[i]));
      args.positional.push_back(std::move(v));
    }
    for (const auto& [key, expr] : e.kwargs) {
      ASSIGN_OR_RETURN(Value v, Eval(*expr));
      args.keyword.emplace_back(key, std::move(v));
    }
    return args;
  }

  Result<Value> Eval(const Expr& e) {
    RETURN_IF_ERROR(Step());
    // Macro calls nest evaluations across trees, so the parser's per-tree cap is not enough.
    if (eval_depth_ >= kMaxEvalDepth) {
      return ResourceExhaustedError("template evaluation nested too deeply");
    }
    ++eval_depth_;
    Result<Value> value = EvalNode(e);
    --eval_depth_;
    return value;
  }

  Result<Value> EvalNode(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.literal;
      case Expr::Kind::kName: {
        const Value* found = frame_->Lookup(e.name);
        if (found == nullptr) return Value::Undefined("'" + e.name + "' is undefined");
        return *found;
      }
      case Expr::Kind::kList:
      case Expr::Kind::kTuple: {
        std::vector<Value> items;
        for (const ExprPtr& item : e.args) {
          ASSIGN_OR_RETURN(Value v, Eval(*item));
          items.push_back(std::move(v));
        }
        return Value::List(std::move(items), e.kind == Expr::Kind::kTuple);
      }
      case Expr::Kind::kDict: {
        DictData dict;
        for (const auto& [key_expr, value_expr] : e.dict_items) {
          ASSIGN_OR_RETURN(Value key, Eval(*key_expr));
          if (!key.is_string()) return UnsupportedError("dict keys must be strings");
          ASSIGN_OR_RETURN(Value value, Eval(*value_expr));
          dict.Set(key.as_string(), std::move(value));
        }
        return Value::Dict(std::move(dict));
      }
      case Expr::Kind::kGetAttr: {
        ASSIGN_OR_RETURN(Value object, Eval(*e.args[0]));
        return GetAttribute(object, e.name, limits_);
      }
      case Expr::Kind::kGetItem: {
        ASSIGN_OR_RETURN(Value object, Eval(*e.args[0]));
        ASSIGN_OR_RETURN(Value key, Eval(*e.args[1]));
        return GetItem(object, key, limits_);
      }
      case Expr::Kind::kSlice: {
        ASSIGN_OR_RETURN(Value object, Eval(*e.args[0]));
        Value bounds[3];
        for (int i = 0; i < 3; ++i) {
          if (e.args[i + 1]) {
            ASSIGN_OR_RETURN(bounds[i], Eval(*e.args[i + 1]));
          }
        }
        return GetSlice(object, bounds[0], bounds[1], bounds[2]);
      }
      case Expr::Kind::kCall:
        return EvalCall(e);
      case Expr::Kind::kFilter: {
        ASSIGN_OR_RETURN(Value subject, Eval(*e.args[0]));
        ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
        return ApplyFilter(e.name, subject, args, limits_);
      }
      case Expr::Kind::kTest: {
        ASSIGN_OR_RETURN(Value subject, Eval(*e.args[0]));
        ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
        ASSIGN_OR_RETURN(bool passed, ApplyTest(e.name, subject, args));
        return Value::Bool(passed != e.negated);
      }
      case Expr::Kind::kNegate:
      case Expr::Kind::kPlus: {
        ASSIGN_OR_RETURN(Value operand, Eval(*e.args[0]));
        if (operand.is_undefined()) return UndefinedError(operand);
        if (!operand.is_number()) {
          return InvalidArgumentError("bad operand type for unary " +
                                      std::string(e.kind == Expr::Kind::kNegate ? "-" : "+") +
                                      ": '" + operand.TypeName() + "'");
        }
        if (e.kind == Expr::Kind::kPlus) {
          return operand.is_bool() ? Value::Int(operand.as_int()) : operand;
        }
        if (operand.is_float()) return Value::Float(-operand.as_double());
        if (operand.as_int() == INT64_MIN) return OutOfRangeError("integer overflow");
        return Value::Int(-operand.as_int());
      }
      case Expr::Kind::kNot: {
        ASSIGN_OR_RETURN(Value operand, Eval(*e.args[0]));
        return Value::Bool(!IsTruthy(operand));
      }
      case Expr::Kind::kBinary: {
        ASSIGN_OR_RETURN(Value left, Eval(*e.args[0]));
        ASSIGN_OR_RETURN(Value right, Eval(*e.args[1]));
        return BinaryOperation(e.name, left, right, limits_);
      }
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {  // Python returns the deciding operand, not a bool
        ASSIGN_OR_RETURN(Value left, Eval(*e.args[0]));
        if (IsTruthy(left) == (e.kind == Expr::Kind::kOr)) return left;
        return Eval(*e.args[1]);
      }
      case Expr::Kind::kCompare:
        return EvalCompare(e);
      case Expr::Kind::kConditional: {
        ASSIGN_OR_RETURN(Value condition, Eval(*e.args[1]));
        if (IsTruthy(condition)) return Eval(*e.args[0]);
        if (e.args[2]) return Eval(*e.args[2]);
        return Value::Undefined(
            "the inline if expression evaluated to false and no else section was defined");
      }
    }
    return InternalError("unknown expression");
  }

  Result<Value> EvalCall(const Expr& e) {
    ASSIGN_OR_RETURN(Value callee, Eval(*e.args[0]));
    if (callee.is_undefined()) return UndefinedError(callee);
    if (!callee.is_callable()) {
      return InvalidArgumentError("'" + callee.TypeName() + "' object is not callable");
    }
    ASSIGN_OR_RETURN(CallArgs args, EvalArgs(e, 1));
    return callee.callable().function(args);
  }

  Result<Value> EvalCompare(const Expr& e) {
    ASSIGN_OR_RETURN(Value left, Eval(*e.args[0]));
    for (size_t i = 0; i < e.ops.size(); ++i) {
      ASSIGN_OR_RETURN(Value right, Eval(*e.args[i + 1]));
      const std::string& op = e.ops[i];
      bool result = false;
      if (op == "==") {
        result = ValuesEqual(left, right);
      } else if (op == "!=") {
        result = !ValuesEqual(left, right);
      } else if (op == "<") {
        ASSIGN_OR_RETURN(result, ValueLess(left, right));
      } else if (op == ">") {
        ASSIGN_OR_RETURN(result, ValueLess(right, left));
      } else if (op == "<=") {
        ASSIGN_OR_RETURN(bool greater, ValueLess(right, left));
        result = !greater;
        if (!left.is_number() && !left.is_string() && !left.is_list()) result = false;
      } else if (op == ">=") {
        ASSIGN_OR_RETURN(bool less, ValueLess(left, right));
        result = !less;
        if (!left.is_number() && !left.is_string() && !left.is_list()) result = false;
      } else if (op == "in") {
        ASSIGN_OR_RETURN(result, Contains(right, left));
      } else {
        ASSIGN_OR_RETURN(bool inside, Contains(right, left));
        result = !inside;
      }
      if (!result) return Value::Bool(false);
      left = std::move(right);
    }
    return Value::Bool(true);
  }

  const Options& options_;
  BuiltinLimits limits_;
  Frame* frame_ = nullptr;
  Frame* root_ = nullptr;
  std::string* out_ = nullptr;
  std::shared_ptr<Value> pending_caller_;
  int64_t steps_ = 0;
  int64_t iterations_ = 0;
  int call_depth_ = 0;
  int eval_depth_ = 0;
  static constexpr int kMaxEvalDepth = 1500;
  int line_ = 0;
  bool raised_ = false;  // raise_exception's message goes out unchanged
};

}  // namespace

Result<std::string> RenderBody(const Body& body, const nlohmann::json& context,
                               const Options& options) {
  Interpreter interpreter(options);
  return interpreter.Render(body, context);
}

Result<std::string> RenderBody(const Body& body, const nlohmann::ordered_json& context,
                               const Options& options) {
  Interpreter interpreter(options);
  return interpreter.Render(body, context);
}

}  // namespace corral::jinja
