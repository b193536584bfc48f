// Loads the TorchScript frontend module (libonnxopt_torchscript.so, built
// against libtorch) on first use: onnx-opt itself does not link libtorch, so
// ONNX input pays nothing for it (libtorch takes most of a second to load).
#include "frontends/torchscript/TorchScriptImporter.h"

#include "absl/strings/str_cat.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>

namespace onnxopt {

namespace {

using ImportFn = int (*)(const std::string *, const std::vector<TorchInput> *,
                         absl::StatusOr<std::unique_ptr<Model>> *);

constexpr const char *kModule = "libonnxopt_torchscript.so";

/// The directory of the running executable.
std::string exeDir() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0)
    return ".";
  std::string path(buf, size_t(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

/// The entry point, or why it cannot be had. Looked for beside the
/// executable (the build tree) and in ../lib/onnx-opt (an install).
ImportFn entry(std::string &why) {
  static ImportFn fn = nullptr;
  static std::string error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string dir = exeDir();
    for (const std::string &candidate :
         {dir + "/" + kModule, dir + "/../lib/onnx-opt/" + kModule}) {
      if (::access(candidate.c_str(), F_OK) != 0)
        continue;
      void *h = ::dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!h) {
        error = absl::StrCat("cannot load ", candidate, ": ", ::dlerror());
        break;
      }
      fn = reinterpret_cast<ImportFn>(::dlsym(h, "onnxoptTorchScriptImport"));
      if (!fn)
        error = absl::StrCat(candidate, " has no onnxoptTorchScriptImport");
      break;
    }
    if (!fn && error.empty())
      error = absl::StrCat(
          "this onnx-opt has no TorchScript frontend (", kModule,
          " not found beside it: build with libtorch-dev installed and "
          "-DONNXOPT_TORCHSCRIPT=ON)");
  }
  why = error;
  return fn;
}

} // namespace

bool haveTorchScript() {
  std::string why;
  return entry(why) != nullptr;
}

absl::StatusOr<std::unique_ptr<Model>>
importTorchScript(const std::string &path,
                  const std::vector<TorchInput> &inputs) {
  std::string why;
  ImportFn fn = entry(why);
  if (!fn)
    return absl::UnimplementedError(
        absl::StrCat(path, ": a TorchScript archive; ", why));
  absl::StatusOr<std::unique_ptr<Model>> out =
      absl::InternalError("the TorchScript frontend returned nothing");
  fn(&path, &inputs, &out);
  return out;
}

} // namespace onnxopt
