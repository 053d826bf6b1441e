#include "server/native_bridge.h"

#include <httplib.h>

#include <string_view>
#include <utility>

#include "server/json_request.h"

namespace corral::server {
namespace {

using ojson = nlohmann::ordered_json;

// A native reply body as JSON; text that is not JSON (never expected from the native
// handlers) becomes {"error": text} so the translator still sees Ollama's error shape.
ojson ParseNative(std::string_view body) {
  ojson parsed = ojson::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return ojson{{"error", std::string(body)}};
  return parsed;
}

// The translated stream around the native one: native NDJSON bytes in, translated bytes out.
struct StreamBridge {
  httplib::ContentProvider native;
  httplib::ContentProviderResourceReleaser native_releaser;
  std::shared_ptr<ReplyTranslator> translator;
  std::string pending;  // a native line not yet ended by '\n'
};

}  // namespace

void CallNative(ServerState& state, const httplib::Request& req, const Handler& native,
                const std::string& native_body, std::shared_ptr<ReplyTranslator> translator,
                httplib::Response& res) {
  RequestBody body([&native_body](const RequestBody::Chunk& sink) {
    return native_body.empty() || sink(native_body.data(), native_body.size());
  });
  native(state, req, body, res);
  if (res.status == -1) res.status = 200;

  if (!res.is_chunked_content_provider_ || !res.content_provider_) {
    const int status = res.status;
    const ojson parsed = ParseNative(res.body);
    res.body.clear();
    res.headers.erase("Content-Type");
    translator->Whole(status, parsed, res);
    return;
  }

  auto bridge = std::make_shared<StreamBridge>();
  bridge->native = std::move(res.content_provider_);
  bridge->native_releaser = std::move(res.content_provider_resource_releaser_);
  bridge->translator = std::move(translator);
  res.content_provider_resource_releaser_ = nullptr;
  res.headers.erase("Content-Type");
  res.set_chunked_content_provider(
      bridge->translator->StreamContentType(),
      [bridge](size_t offset, httplib::DataSink& sink) {
        httplib::DataSink inner;
        inner.is_writable = [&sink] { return sink.is_writable ? sink.is_writable() : true; };
        inner.write = [&](const char* data, size_t size) {
          bridge->pending.append(data, size);
          std::string out;
          size_t start = 0;
          for (size_t nl; (nl = bridge->pending.find('\n', start)) != std::string::npos;
               start = nl + 1) {
            std::string_view line(bridge->pending.data() + start, nl - start);
            if (line.empty()) continue;
            bridge->translator->StreamObject(ParseNative(line), &out);
          }
          bridge->pending.erase(0, start);
          return out.empty() || sink.write(out.data(), out.size());
        };
        inner.done = [&] {
          std::string out;
          if (!bridge->pending.empty()) {
            bridge->translator->StreamObject(ParseNative(bridge->pending), &out);
            bridge->pending.clear();
          }
          bridge->translator->StreamEnd(&out);
          if (!out.empty()) sink.write(out.data(), out.size());
          sink.done();
        };
        return bridge->native(offset, 0, inner);
      },
      [bridge](bool success) {
        if (bridge->native_releaser) bridge->native_releaser(success);
      });
}

}  // namespace corral::server
