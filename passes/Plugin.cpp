// Loading pass plugins.
#include "passes/Plugin.h"

#include "passes/PassRegistry.h"

#include "absl/strings/str_cat.h"

#include <dlfcn.h>

namespace onnxopt {

absl::Status loadPassPlugin(const std::string &path) {
  auto usage = [&](const std::string &why) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot load pass plugin '", path, "': ", why));
  };
  // RTLD_NOW: a plugin with unresolved symbols fails here, not mid-pipeline.
  void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return usage(::dlerror());
  using GetInfo = OnnxOptPluginInfo (*)();
  auto getInfo =
      reinterpret_cast<GetInfo>(::dlsym(handle, "onnxoptGetPluginInfo"));
  if (!getInfo)
    return usage("it does not export onnxoptGetPluginInfo");
  OnnxOptPluginInfo info = getInfo();
  if (info.apiVersion != ONNXOPT_PLUGIN_API_VERSION)
    return usage(absl::StrCat("it was built for plugin API version ",
                              info.apiVersion, ", this onnx-opt has version ",
                              ONNXOPT_PLUGIN_API_VERSION));
  if (!info.registerPasses)
    return usage("it has no registration callback");
  // The library stays loaded for the life of the process: its passes live
  // there.
  (void)takeRegistrationError();
  info.registerPasses();
  if (absl::Status st = takeRegistrationError(); !st.ok())
    return usage(std::string(st.message()));
  return absl::OkStatus();
}

} // namespace onnxopt
