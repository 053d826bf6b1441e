// `corral create NAME [-f Modelfile] [-q TYPE]`, Ollama's create flow (ollama-api.md §4.2):
// parse the Modelfile, hash every local file its FROM/ADAPTER/DRAFT lines name (relative to the
// Modelfile's folder), upload the blobs the server lacks, then POST /api/create and show its
// status stream (spinners, and a bar for uploads and quantization) ending in "success".
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "base/strings.h"
#include "cli/cli.h"
#include "cli/client_common.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "modelfile/modelfile.h"
#include "store/digest.h"

namespace corral::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct CreateFlags {
  std::string name;
  std::string file;  // empty: ./Modelfile, or "FROM ." when there is none
  std::string quantize;
};

// Ollama's expandPath: "~" and "~/x" from $HOME, absolute paths as they are, the rest relative
// to the Modelfile's folder.
std::string ExpandPath(const std::string& argument, const fs::path& base) {
  if (argument == "~" || StartsWith(argument, "~/")) {
    const char* home = std::getenv("HOME");
    if (home != nullptr)
      return (fs::path(home) / argument.substr(std::min<size_t>(2, argument.size()))).string();
  }
  fs::path p(argument);
  return p.is_absolute() ? p.string() : (base / p).string();
}

// The files of a model folder Ollama uploads (filesForModel): weights, configs, tokenizers.
bool IsModelFolderFile(const std::string& name) {
  return EndsWith(name, ".gguf") || EndsWith(name, ".safetensors") || EndsWith(name, ".bin") ||
         EndsWith(name, ".json") || EndsWith(name, ".pth") || name == "tokenizer.model" ||
         name == "chat_template.jinja";
}

// Resolves FROM/ADAPTER/DRAFT arguments to local files, hashing each and remembering where it
// is, so the upload step can find the bytes of every digest.
class LocalFiles {
 public:
  explicit LocalFiles(fs::path base) : base_(std::move(base)) {}

  Result<std::optional<std::map<std::string, std::string>>> Resolve(const std::string& argument) {
    const std::string path = ExpandPath(argument, base_);
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return std::optional<std::map<std::string, std::string>>();
    std::map<std::string, std::string> files;
    if (fs::is_directory(status)) {
      std::vector<fs::path> found;
      // The error_code forms throughout: a folder that changes or cannot be read is an error
      // message, not an exception.
      for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code type_error;
        if (it->is_regular_file(type_error) && IsModelFolderFile(it->path().filename().string())) {
          found.push_back(it->path());
        }
      }
      if (ec) return IoError("read " + path + ": " + ec.message());
      std::sort(found.begin(), found.end());
      if (found.empty()) return InvalidArgumentError("no model files found in " + path);
      for (const fs::path& file : found) RETURN_IF_ERROR(Add(file, &files));
    } else {
      RETURN_IF_ERROR(Add(path, &files));
    }
    return std::optional<std::map<std::string, std::string>>(std::move(files));
  }

  const std::map<std::string, std::string>& paths_by_digest() const { return paths_by_digest_; }

 private:
  Status Add(const fs::path& file, std::map<std::string, std::string>* files) {
    ASSIGN_OR_RETURN(store::Digest digest, store::Sha256OfFile(file.string()));
    // Ollama keys the files by their base name (the server sees no folders).
    (*files)[file.filename().string()] = digest.String();
    paths_by_digest_[digest.String()] = file.string();
    return Status::Ok();
  }

  fs::path base_;
  std::map<std::string, std::string> paths_by_digest_;
};

Result<std::string> ReadModelfileText(const CreateFlags& flags, fs::path* folder) {
  std::string file = flags.file.empty() ? "Modelfile" : flags.file;
  std::error_code ec;
  fs::path absolute = fs::absolute(file, ec);
  if (ec) return IoError(file + ": " + ec.message());
  *folder = absolute.parent_path();
  if (!fs::exists(absolute, ec)) {
    // Without -f and without ./Modelfile, Ollama creates from the current folder.
    if (flags.file.empty()) return std::string("FROM .\n");
    return NotFoundError("specified Modelfile wasn't found");
  }
  std::ifstream in(absolute, std::ios::binary);
  if (!in) return IoError("open " + absolute.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("read " + absolute.string() + ": read error");
  return text.str();
}

// HEAD /api/blobs/<digest>, and the upload when the server does not have it, shown as Ollama's
// createBlob does: a spinner "copying file <digest> <pct>%".
Status UploadBlob(ApiClient& client, const std::string& digest, const std::string& path,
                  ProgressDisplay& display) {
  const std::string url = "/api/blobs/" + digest;
  ASSIGN_OR_RETURN(int status, client.Head(url));
  if (status == 200) return Status::Ok();
  if (status != 404)
    return Status(StatusCodeForHttp(status),
                  "checking blob " + digest + ": HTTP " + std::to_string(status));
  const std::string message = "copying file " + digest + " ";
  display.AddSpinner(message + "0%");
  Status sent = client.PostFile(url, path, [&](uint64_t done, uint64_t total) {
    if (total > 0) display.SetSpinnerMessage(message + std::to_string(100 * done / total) + "%");
  });
  if (sent.ok()) display.SetSpinnerMessage(message + "100%");
  display.StopSpinner();
  return sent;
}

int Create(const CreateFlags& flags, CommandIo& io) {
  fs::path folder;
  Result<std::string> text = ReadModelfileText(flags, &folder);
  if (!text.ok()) return PrintError(io, text.status());
  Result<modelfile::Modelfile> parsed = modelfile::ParseModelfile(*text);
  if (!parsed.ok()) return PrintError(io, parsed.status());

  Result<ApiClient> client = ConnectToServer();
  if (!client.ok()) return PrintError(io, client.status());

  ProgressDisplay display(io.err);
  const std::string gathering = "gathering model components";
  display.AddSpinner(gathering);
  LocalFiles local(folder);
  Result<modelfile::CreateRequest> request = modelfile::ToCreateRequest(
      *parsed,
      [&](modelfile::Instruction, const std::string& argument) { return local.Resolve(argument); });
  if (!request.ok()) {
    display.Stop();
    return PrintError(io, request.status());
  }
  display.StopSpinner();
  for (const std::string& warning : request->warnings) io.err << warning << "\n";

  for (const auto& [digest, path] : local.paths_by_digest()) {
    if (Status s = UploadBlob(*client, digest, path, display); !s.ok()) {
      display.Stop();
      return PrintError(io, s);
    }
  }

  json body = request->body;
  body["model"] = flags.name;
  if (!flags.quantize.empty()) body["quantize"] = flags.quantize;
  Status created =
      ShowProgressStream(*client, "/api/create", body, ProgressKind::kCreate, display, gathering);
  display.Stop();
  if (!created.ok()) return PrintError(io, created);
  return kExitOk;
}

}  // namespace

Command CreateCommand() {
  return Command{
      .name = "create",
      .aliases = {},
      .summary = "Create a model",
      .setup = [](CLI::App& app) -> CommandAction {
        auto flags = std::make_shared<CreateFlags>();
        app.add_option("name", flags->name, "The new model's name")->required();
        app.add_option("-f,--file", flags->file, "Name of the Modelfile (default \"Modelfile\")");
        app.add_option("-q,--quantize", flags->quantize,
                       "Quantize model to this level (e.g. q4_K_M)");
        return [flags](CommandIo& io) { return Create(*flags, io); };
      },
  };
}

}  // namespace corral::cli
