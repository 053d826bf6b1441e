// `corral gguf FILE [--json]`: what a GGUF file holds: header, metadata, tensors.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "cli/commands.h"
#include "gguf/gguf_reader.h"

namespace corral::cli {
namespace {

nlohmann::json ValueToJson(const gguf::Value& v) {
  using gguf::ValueType;
  switch (v.type()) {
    case ValueType::kString:
      return std::string(*v.AsString());
    case ValueType::kBool:
      return *v.AsBool();
    case ValueType::kFloat32:
    case ValueType::kFloat64:
      return *v.AsFloat();
    case ValueType::kUint64:
      return *v.AsUint();
    case ValueType::kArray: {
      nlohmann::json out = nlohmann::json::array();
      for (uint64_t i = 0; i < v.array_size(); ++i) out.push_back(ValueToJson(v.Element(i)));
      return out;
    }
    default:
      return *v.AsInt();
  }
}

std::string HumanBytes(uint64_t n) {
  char buf[32];
  if (n < 1000) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else if (n < 1000ull * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f KB", n / 1e3);
  } else if (n < 1000ull * 1000 * 1000) {
    std::snprintf(buf, sizeof buf, "%.1f MB", n / 1e6);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f GB", n / 1e9);
  }
  return buf;
}

void PrintText(const gguf::GgufFile& f, std::ostream& out) {
  uint64_t tensor_bytes = 0;
  for (const gguf::TensorInfo& t : f.tensors()) tensor_bytes += t.n_bytes;
  out << "file:       " << f.path() << "\n"
      << "version:    " << f.version() << "\n"
      << "alignment:  " << f.alignment() << "\n"
      << "metadata:   " << f.metadata().size() << " keys\n"
      << "tensors:    " << f.tensors().size() << " (" << HumanBytes(tensor_bytes) << ")\n";

  size_t key_width = 10;
  for (const gguf::KeyValue& kv : f.metadata()) key_width = std::max(key_width, kv.key.size());
  out << "\nMetadata\n";
  for (const gguf::KeyValue& kv : f.metadata()) {
    std::string type(gguf::ValueTypeName(kv.value.type()));
    out << "  " << kv.key << std::string(key_width - kv.key.size() + 2, ' ') << type
        << std::string(8 - std::min<size_t>(type.size(), 7), ' ') << kv.value.ToDisplayString()
        << "\n";
  }

  if (f.tensors().empty()) return;
  size_t name_width = 4;
  for (const gguf::TensorInfo& t : f.tensors()) name_width = std::max(name_width, t.name.size());
  out << "\nTensors\n";
  auto row = [&](std::string_view name, std::string_view type, const std::string& shape,
                 const std::string& bytes) {
    out << "  " << name << std::string(name_width - name.size() + 2, ' ') << type
        << std::string(9 - std::min<size_t>(type.size(), 8), ' ') << shape
        << std::string(22 - std::min<size_t>(shape.size(), 21), ' ') << bytes << "\n";
  };
  row("NAME", "TYPE", "SHAPE", "BYTES");
  for (const gguf::TensorInfo& t : f.tensors()) {
    row(t.name, gguf::TypeInfo(t.type).name, t.ShapeString(), std::to_string(t.n_bytes));
  }
}

nlohmann::json ToJson(const gguf::GgufFile& f) {
  nlohmann::json metadata = nlohmann::json::object();
  for (const gguf::KeyValue& kv : f.metadata()) {
    metadata[std::string(kv.key)] = ValueToJson(kv.value);
  }
  nlohmann::json tensors = nlohmann::json::array();
  for (const gguf::TensorInfo& t : f.tensors()) {
    nlohmann::json shape = nlohmann::json::array();
    for (uint32_t d = 0; d < std::max<uint32_t>(t.n_dims, 1); ++d) shape.push_back(t.ne[d]);
    tensors.push_back({{"name", std::string(t.name)},
                       {"type", std::string(gguf::TypeInfo(t.type).name)},
                       {"shape", shape},
                       {"offset", t.offset},
                       {"bytes", t.n_bytes}});
  }
  return {{"path", f.path()},           {"version", f.version()},
          {"alignment", f.alignment()}, {"data_offset", f.data_offset()},
          {"metadata", metadata},       {"tensors", tensors}};
}

}  // namespace

Command GgufCommand() {
  return Command{
      .name = "gguf",
      .aliases = {},
      .summary = "Show the metadata and tensors of a GGUF file",
      .setup = [](CLI::App& app) -> CommandAction {
        auto path = std::make_shared<std::string>();
        auto json = std::make_shared<bool>(false);
        app.add_option("FILE", *path, "GGUF file")->required();
        app.add_flag("--json", *json, "print JSON for scripts");
        return [path, json](CommandIo& io) {
          auto file = gguf::GgufFile::Open(*path);
          if (!file.ok()) {
            io.err << "Error: " << file.status().message() << "\n";
            return kExitFailure;
          }
          if (*json) {
            // Strings in a file need not be valid UTF-8; replace bad bytes rather than fail.
            io.out << ToJson(**file).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                   << "\n";
          } else {
            PrintText(**file, io.out);
          }
          return kExitOk;
        };
      },
  };
}

}  // namespace corral::cli
